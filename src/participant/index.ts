/**
 * src/participant: the participant library (use cases over ports; see
 * participant.ts). Each use case area appends its exports here.
 */
export { verifyOracleEvent } from './oracle-verify.js';
export type { VerifyCheck, VerifyOptions, VerifyReport } from './oracle-verify.js';
