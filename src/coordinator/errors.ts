/**
 * The coordinator's error class, `CoordinatorError`, with stable codes, and
 * the one mapping of every error the service can meet (its own, protocol/'s
 * `DlcError`, src/chain's `ChainError`) to an HTTP status and a JSON body.
 *
 * This module does NOT log and does not know express: src/http's error
 * middleware calls `errorResponse`.
 */
import { isDlcError } from '../../protocol/errors.js';
import { isChainError } from '../chain/index.js';

/** Stable codes of the coordinator. Add new ones; never rename. */
export type CoordinatorErrorCode =
  /** Request unsigned, signature wrong, key malformed or timestamp stale (HTTP 401). */
  | 'UNAUTHENTICATED'
  /** Correctly signed by a key that may not make this call (HTTP 403). */
  | 'FORBIDDEN'
  /** No such offer or contract, or no such route (HTTP 404). */
  | 'NOT_FOUND'
  /** The call is not allowed in the contract's current state (HTTP 409). */
  | 'INVALID_STATE'
  /** An offer with this id exists already (HTTP 409). */
  | 'CONFLICT'
  /** Body larger than the configured limit (HTTP 413). */
  | 'PAYLOAD_TOO_LARGE'
  /** Request shape is wrong (zod), or a value is out of the coordinator's limits (HTTP 400). */
  | 'INVALID_REQUEST'
  /** An offer's announcement differs from what the oracle publishes, or the oracle is not allowed (HTTP 400). */
  | 'ORACLE_MISMATCH'
  /** The offer's contract differs from the one its human terms describe (HTTP 400). */
  | 'TERMS_MISMATCH'
  /** A funding input is spent or unknown, or the node refused the funding transaction (HTTP 400). */
  | 'FUNDING_REJECTED'
  /** An allowed oracle could not be reached or answered nonsense (HTTP 502). */
  | 'ORACLE_UNAVAILABLE'
  /**
   * Too late (HTTP 409): the funding deadline has passed, the window has
   * started or the oracle has attested (issue 9, holes 2 and 3).
   */
  | 'EXPIRED'
  /** Storage failed (HTTP 500). */
  | 'STORAGE_ERROR'
  /** The database cannot be reached right now (HTTP 503): retry later; nothing was written (issue 13). */
  | 'STORAGE_UNAVAILABLE';

export class CoordinatorError extends Error {
  readonly code: CoordinatorErrorCode;
  /** Machine-readable detail (e.g. which rule or field). */
  readonly reason: string | undefined;
  /** Extra JSON-safe fields for the response body (e.g. `index` of a bad signature). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: CoordinatorErrorCode, message: string, options?: { reason?: string; cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CoordinatorError';
    this.code = code;
    this.reason = options?.reason;
    this.details = options?.details;
  }
}

export function isCoordinatorError(err: unknown, code?: CoordinatorErrorCode): err is CoordinatorError {
  return err instanceof CoordinatorError && (code === undefined || err.code === code);
}

const STATUS: Record<CoordinatorErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  INVALID_STATE: 409,
  CONFLICT: 409,
  EXPIRED: 409,
  PAYLOAD_TOO_LARGE: 413,
  INVALID_REQUEST: 400,
  ORACLE_MISMATCH: 400,
  TERMS_MISMATCH: 400,
  FUNDING_REJECTED: 400,
  ORACLE_UNAVAILABLE: 502,
  STORAGE_ERROR: 500,
  STORAGE_UNAVAILABLE: 503,
};

/** The JSON error body every failed request gets. */
export interface ErrorBody {
  error: { code: string; reason?: string; message: string; [extra: string]: unknown };
}

/**
 * HTTP status and body for any thrown value. Protocol errors (`DlcError`) are
 * the client's bad input (400); chain errors are the node's (502) unless the
 * caller already translated them; anything else is 500 with no internals.
 */
export function errorResponse(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof CoordinatorError) {
    const body: ErrorBody = { error: { ...(err.details ?? {}), code: err.code, message: err.message } };
    if (err.reason !== undefined) body.error.reason = err.reason;
    return { status: STATUS[err.code], body };
  }
  if (isDlcError(err)) {
    const body: ErrorBody = { error: { code: err.code, message: err.message } };
    if (err.reason !== undefined) {
      body.error.reason = err.reason;
      // protocol/contract names a bad adaptor signature `cet-adaptor-signature:<index>`.
      const m = /^cet-adaptor-signature:(\d+)$/.exec(err.reason);
      if (m) body.error.index = Number(m[1]);
    }
    // A strip's period (issue 12), 1-based, when the error is one period's.
    if (typeof err.details?.period === 'number') body.error.period = err.details.period;
    return { status: 400, body };
  }
  if (isChainError(err)) {
    return { status: 502, body: { error: { code: err.code, message: err.message } } };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } };
}
