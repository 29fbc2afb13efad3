/**
 * The CLI's own error class and the one place that turns any error (ours,
 * protocol/'s DlcError, src/wallet's WalletError, src/chain's ChainError, an
 * HTTP service's error answer) into the line printed on stderr and an exit
 * code: 2 for usage errors, 1 for everything else.
 *
 * This module does NOT print; main.ts does.
 */
import { isDlcError } from '../../protocol/errors.js';
import { isChainError } from '../chain/index.js';
import { isWalletError } from '../wallet/index.js';

export type CliErrorCode =
  /** Bad command line: unknown option, missing argument, bad value (exit 2). */
  | 'USAGE'
  /** A required setting (coordinator URL, RPC URL, ...) is missing or invalid (exit 2). */
  | 'CONFIG'
  /** A service (coordinator, oracle) answered with an error; `remoteCode` is its code. */
  | 'REMOTE'
  /** A service could not be reached or answered something that is not its API. */
  | 'UNREACHABLE'
  /** What a service sent does not match what we expect (terms, oracle parameters, PSBT). */
  | 'MISMATCH'
  /** The contract is not in a state where this command applies. */
  | 'STATE'
  /** The command cannot complete yet (e.g. the oracle has not attested). */
  | 'NOT_READY'
  /**
   * Too late: the contract's funding deadline has passed, its window has
   * started or its event is attested (issue 9, holes 2 and 3).
   */
  | 'EXPIRED';

export class CliError extends Error {
  readonly code: CliErrorCode;
  readonly remoteCode: string | undefined;
  readonly reason: string | undefined;

  constructor(code: CliErrorCode, message: string, options?: { remoteCode?: string; reason?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.code = code;
    this.remoteCode = options?.remoteCode;
    this.reason = options?.reason;
  }
}

export function usage(message: string): CliError {
  return new CliError('USAGE', message);
}

/** The stderr line and exit code for an error. */
export function describeError(err: unknown): { line: string; exitCode: number } {
  if (err instanceof CliError) {
    const code = err.remoteCode === undefined ? err.code : `${err.code} ${err.remoteCode}`;
    const reason = err.reason === undefined ? '' : ` (${err.reason})`;
    return { line: `${code}${reason}: ${err.message}`, exitCode: err.code === 'USAGE' || err.code === 'CONFIG' ? 2 : 1 };
  }
  if (isDlcError(err)) return { line: `${err.code}${err.reason === undefined ? '' : ` (${err.reason})`}: ${err.message}`, exitCode: 1 };
  if (isWalletError(err)) return { line: `${err.code}: ${err.message}`, exitCode: 1 };
  if (isChainError(err)) return { line: `${err.code}: ${err.message}`, exitCode: 1 };
  if (err instanceof Error) return { line: `${err.name}: ${err.message}`, exitCode: 1 };
  return { line: `error: ${String(err)}`, exitCode: 1 };
}
