/**
 * The participant library's error class: a stable code (the CLI prints it,
 * the agent logs it), an optional rule (`reason`) and, for an error answer
 * of a service, that service's own code (`remoteCode`).
 *
 * This module does NOT format errors for a terminal (src/cli/errors.ts does).
 */

export type ParticipantErrorCode =
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

export class ParticipantError extends Error {
  readonly code: ParticipantErrorCode;
  readonly remoteCode: string | undefined;
  readonly reason: string | undefined;

  constructor(code: ParticipantErrorCode, message: string, options?: { remoteCode?: string; reason?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ParticipantError';
    this.code = code;
    this.remoteCode = options?.remoteCode;
    this.reason = options?.reason;
  }
}

export function usage(message: string): ParticipantError {
  return new ParticipantError('USAGE', message);
}
