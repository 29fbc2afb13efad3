/**
 * protocol/auth: BIP340 request signatures for the coordinator's HTTP API
 * (see request.ts for the signed layout). Pure: no clock, no I/O.
 */
export type { AuthHeaders, RequestToSign, VerifiedRequest } from './request.js';
export {
  AUTH_HEADER_PUBKEY,
  AUTH_HEADER_SIGNATURE,
  AUTH_HEADER_TIMESTAMP,
  DEFAULT_MAX_SKEW_SEC,
  REQUEST_TAG,
  requestDigest,
  signRequest,
  verifyRequest,
} from './request.js';
export { DEFAULT_REPLAY_MAX_ENTRIES, ReplayGuard } from './replay.js';
export type { ReplayGuardOptions } from './replay.js';
