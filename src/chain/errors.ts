/**
 * The chain layer's one error class, `ChainError`, with stable codes.
 *
 * Codes are what callers match on; messages may change. When the node answered
 * with a JSON-RPC error, its numeric code (`rpcCode`) and message (`rpcMessage`)
 * are kept verbatim, so nothing Bitcoin Core said is lost.
 *
 * This module does NOT talk to a node and does not know which node implementation
 * produced an error: classification uses only Bitcoin Core's documented RPC error
 * codes (src/rpc/protocol.h) and reject reasons (src/validation.cpp).
 */

/** Stable error codes of src/chain/. Add new ones; never rename. */
export type ChainErrorCode =
  /** Any JSON-RPC error without a more specific code below (see `rpcCode`). */
  | 'CHAIN_RPC'
  /** -26 `non-final`: nLockTime not reached yet (BIP 65/113 rules in validation.cpp). */
  | 'CHAIN_NON_FINAL'
  /** -26 `non-BIP68-final`: a relative lock time (BIP 68 nSequence) not reached yet. */
  | 'CHAIN_NON_BIP68_FINAL'
  /** -26 script verification failed (`mandatory-script-verify-flag-failed (...)` etc.). */
  | 'CHAIN_SCRIPT_VERIFY_FAILED'
  /** -26 any other mempool rejection (`txn-mempool-conflict`, `dust`, fee too low, ...). */
  | 'CHAIN_VERIFY_REJECTED'
  /** -25 inputs missing or already spent (`bad-txns-inputs-missingorspent`). */
  | 'CHAIN_MISSING_INPUTS'
  /** -27 the transaction is already confirmed (its outputs are in the UTXO set). */
  | 'CHAIN_ALREADY_IN_CHAIN'
  /** -5 no such transaction, block or mempool entry. */
  | 'CHAIN_NOT_FOUND'
  /** -28 the node is still starting (loading block index, verifying blocks). */
  | 'CHAIN_WARMING_UP'
  /** submitblock answered with a reject reason (kept in `rpcMessage`). */
  | 'CHAIN_BLOCK_REJECTED'
  /** The node could not be reached (connection refused, reset, DNS). */
  | 'CHAIN_CONNECTION'
  /** No answer within the configured time. */
  | 'CHAIN_TIMEOUT'
  /** HTTP 401/403: wrong RPC credentials. */
  | 'CHAIN_AUTH'
  /** The answer was not JSON-RPC, or did not have the documented shape. */
  | 'CHAIN_BAD_RESPONSE';

/** Bitcoin Core's RPC error codes that the chain layer names (src/rpc/protocol.h). */
export const RPC_ERROR = {
  MISC_ERROR: -1,
  TYPE_ERROR: -3,
  INVALID_ADDRESS_OR_KEY: -5,
  INVALID_PARAMETER: -8,
  DESERIALIZATION_ERROR: -22,
  VERIFY_ERROR: -25,
  VERIFY_REJECTED: -26,
  VERIFY_ALREADY_IN_CHAIN: -27,
  IN_WARMUP: -28,
  METHOD_NOT_FOUND: -32601,
} as const;

export class ChainError extends Error {
  readonly code: ChainErrorCode;
  /** The RPC method that failed. */
  readonly method: string;
  /** Core's numeric JSON-RPC error code, when the node answered with one. */
  readonly rpcCode: number | undefined;
  /** Core's error message (or submitblock reason) verbatim, when there is one. */
  readonly rpcMessage: string | undefined;

  constructor(
    code: ChainErrorCode,
    method: string,
    message: string,
    options?: { rpcCode?: number; rpcMessage?: string; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ChainError';
    this.code = code;
    this.method = method;
    this.rpcCode = options?.rpcCode;
    this.rpcMessage = options?.rpcMessage;
  }
}

/** True when `err` is a ChainError (of `code`, if given). */
export function isChainError(err: unknown, code?: ChainErrorCode): err is ChainError {
  return err instanceof ChainError && (code === undefined || err.code === code);
}

/**
 * Names a JSON-RPC error by Core's code and reject reason.
 *
 * -26 (RPC_VERIFY_REJECTED) carries the mempool's reject reason as the message
 * (node/transaction.cpp HandleATMPError → state.ToString()), which is what tells
 * `non-final` from `non-BIP68-final` from a script failure. Older Core (< 0.21)
 * reported missing inputs as -25 "Missing inputs", newer as -25
 * "bad-txns-inputs-missingorspent"; both land on CHAIN_MISSING_INPUTS.
 */
export function classifyRpcError(rpcCode: number, rpcMessage: string): ChainErrorCode {
  switch (rpcCode) {
    case RPC_ERROR.VERIFY_ALREADY_IN_CHAIN:
      return 'CHAIN_ALREADY_IN_CHAIN';
    case RPC_ERROR.IN_WARMUP:
      return 'CHAIN_WARMING_UP';
    case RPC_ERROR.INVALID_ADDRESS_OR_KEY:
      return 'CHAIN_NOT_FOUND';
    case RPC_ERROR.VERIFY_ERROR:
      return /missing|missingorspent/i.test(rpcMessage) ? 'CHAIN_MISSING_INPUTS' : 'CHAIN_RPC';
    case RPC_ERROR.VERIFY_REJECTED: {
      const reason = rpcMessage.trim();
      // Exact reasons first: "non-BIP68-final" contains "final" too.
      if (/^non-BIP68-final\b/.test(reason)) return 'CHAIN_NON_BIP68_FINAL';
      if (/^non-final\b/.test(reason)) return 'CHAIN_NON_FINAL';
      if (/script-verify-flag/.test(reason)) return 'CHAIN_SCRIPT_VERIFY_FAILED';
      if (/^bad-txns-inputs-missingorspent\b|^missing-inputs\b/.test(reason)) return 'CHAIN_MISSING_INPUTS';
      return 'CHAIN_VERIFY_REJECTED';
    }
    default:
      return 'CHAIN_RPC';
  }
}
