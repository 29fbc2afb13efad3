/**
 * The wallet layer's error class. Codes are stable; messages may change.
 * The original error is kept as `cause`. This module does no I/O.
 */

export type WalletErrorCode =
  /** No seed file where one was expected. */
  | 'WALLET_NOT_FOUND'
  /** `init` over an existing seed file. */
  | 'WALLET_EXISTS'
  /** The seed file may be read or written by group or others. */
  | 'WALLET_PERMISSIONS'
  /** The seed file is not a hashdlc seed file, or its mnemonic is invalid. */
  | 'WALLET_BAD_SEED'
  /** The wallet's node is on another network than the wallet. */
  | 'WALLET_NETWORK_MISMATCH'
  /** Not enough confirmed, unreserved coins for what was asked. */
  | 'WALLET_INSUFFICIENT_FUNDS'
  /** A wallet state or contract file is unreadable or inconsistent. */
  | 'WALLET_STATE'
  /** No locally stored contract with this id. */
  | 'WALLET_CONTRACT_NOT_FOUND'
  /** Another process uses this wallet directory (the message names its PID and the lock file). */
  | 'WALLET_LOCKED'
  /** A coin given to fund a contract is reserved by another live contract of this wallet. */
  | 'WALLET_COIN_RESERVED';

export class WalletError extends Error {
  readonly code: WalletErrorCode;

  constructor(code: WalletErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WalletError';
    this.code = code;
  }
}

export function isWalletError(err: unknown, code?: WalletErrorCode): err is WalletError {
  return err instanceof WalletError && (code === undefined || err.code === code);
}
