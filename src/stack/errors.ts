/**
 * The stack layer's error class (`npm start`, `npm run demo`, scenario
 * plumbing). Codes are stable; messages may change. The original error is
 * kept as `cause`. This module does no I/O.
 */

export type StackErrorCode =
  /** Bad flag or environment value. */
  | 'STACK_CONFIG'
  /** A file of the data directory is unreadable or malformed. */
  | 'STACK_DATA'
  /** Another stack already runs on this data directory. */
  | 'STACK_RUNNING'
  /** An explicitly requested port is taken. */
  | 'STACK_PORT_IN_USE'
  /** A service process exited or did not come up. */
  | 'STACK_SERVICE'
  /** A CLI command (run by a demo participant) failed. */
  | 'STACK_COMMAND'
  /** Something did not happen in time (attestation, settlement). */
  | 'STACK_TIMEOUT'
  /** The demo's on-chain check failed: payouts differ from the payout curve. */
  | 'STACK_CHECK';

export class StackError extends Error {
  readonly code: StackErrorCode;

  constructor(code: StackErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StackError';
    this.code = code;
  }
}

export function isStackError(err: unknown, code?: StackErrorCode): err is StackError {
  return err instanceof StackError && (code === undefined || err.code === code);
}
