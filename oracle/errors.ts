/**
 * The oracle service's one error class. Codes are stable (HTTP clients and
 * tests match on them; messages may change) and each maps to one HTTP status
 * in `http.ts`'s error middleware. Programmer mistakes stay TypeError /
 * RangeError; protocol/ errors (`DlcError`) and chain errors (`ChainError`)
 * are mapped there too, with their cause kept.
 *
 * This module does NOT log, format HTTP responses or do I/O.
 */

/** Stable error codes of oracle/. Add new ones; never rename. */
export type OracleErrorCode =
  /** Request body, query or path does not match the schema. */
  | 'INVALID_REQUEST'
  /** Body is not JSON. */
  | 'INVALID_JSON'
  /** Well-formed request breaking an oracle rule (`reason` names it). */
  | 'INVALID_PARAMS'
  /** Operator-only action without a valid operator token. */
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  /** The event exists but has no attestation yet. */
  | 'NOT_ATTESTED'
  /** An event with this id exists with other parameters. */
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'TOO_MANY_PENDING'
  /** A bounded resource of the oracle is full (`reason` names it, e.g. `watched-addresses`). */
  | 'CAPACITY'
  /** The node is unreachable or the index is not ready. */
  | 'ORACLE_UNAVAILABLE'
  /** Configuration file or environment is invalid. */
  | 'CONFIG_INVALID'
  /** Key file missing, malformed, or readable by group/others. */
  | 'KEY_FILE'
  /** The store is inconsistent with this key, node or configuration. */
  | 'STORAGE_MISMATCH'
  /** A stored record is corrupt. */
  | 'STORAGE_CORRUPT'
  | 'INTERNAL';

const STATUS: Record<OracleErrorCode, number> = {
  INVALID_REQUEST: 400,
  INVALID_JSON: 400,
  INVALID_PARAMS: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  NOT_ATTESTED: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  TOO_MANY_PENDING: 429,
  CAPACITY: 503,
  ORACLE_UNAVAILABLE: 503,
  CONFIG_INVALID: 500,
  KEY_FILE: 500,
  STORAGE_MISMATCH: 500,
  STORAGE_CORRUPT: 500,
  INTERNAL: 500,
};

export class OracleError extends Error {
  readonly code: OracleErrorCode;
  /** Machine-readable detail: the rule or field that failed. */
  readonly reason: string | undefined;
  /** Extra fields for the HTTP error body (e.g. `attestHeight`). */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: OracleErrorCode,
    message: string,
    options?: { reason?: string; cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OracleError';
    this.code = code;
    this.reason = options?.reason;
    this.details = options?.details;
  }

  /** The HTTP status this code maps to. */
  get status(): number {
    return STATUS[this.code];
  }
}

/** True when `err` is an `OracleError` (with `code`, when given). */
export function isOracleError(err: unknown, code?: OracleErrorCode): err is OracleError {
  return err instanceof OracleError && (code === undefined || err.code === code);
}
