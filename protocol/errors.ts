/**
 * The protocol layer's one error class. Codes are stable (tests and callers
 * match on them); messages may change. Programmer mistakes stay TypeError /
 * RangeError. This module does no I/O.
 */

/** Stable error codes of protocol/. Add new ones; never rename. */
export type DlcErrorCode =
  /** Malformed wire bytes: truncated, trailing data, bad bigsize, unknown type. */
  | 'DECODE_ERROR'
  /** A value has the wrong length (key, signature, hash, nonce). */
  | 'INVALID_LENGTH'
  /** A byte string is not a valid secp256k1 point. */
  | 'INVALID_POINT'
  /** A scalar is zero or not below the group order. */
  | 'INVALID_SCALAR'
  /** A signature (Schnorr, ECDSA, adaptor, DLEQ) does not verify or cannot be parsed. */
  | 'BAD_SIGNATURE'
  /** Parameters are inconsistent or out of range (a contract rule is broken). */
  | 'INVALID_PARAMS'
  /** JSON input does not have the shape of the message it claims to be. */
  | 'INVALID_JSON'
  /** An outcome is not one the event can have. */
  | 'INVALID_OUTCOME'
  /** A transaction cannot be built (insufficient funds, dust, bad input). */
  | 'INVALID_TRANSACTION'
  /**
   * An offer's contract, or the oracle event it names, is not what its human
   * terms describe (protocol/terms); `reason` names the field.
   */
  | 'TERMS_MISMATCH';

export class DlcError extends Error {
  readonly code: DlcErrorCode;
  /** A machine-readable detail, e.g. which validation rule failed. */
  readonly reason: string | undefined;
  /** Structured context, e.g. `{ period: 3 }` for a strip's period contract (1-based). */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: DlcErrorCode, message: string, options?: { reason?: string; cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DlcError';
    this.code = code;
    this.reason = options?.reason;
    this.details = options?.details;
  }
}

export function isDlcError(err: unknown, code?: DlcErrorCode): err is DlcError {
  return err instanceof DlcError && (code === undefined || err.code === code);
}
