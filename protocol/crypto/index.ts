/**
 * Public entry of protocol/crypto: secp256k1 backend selection, ECDSA and
 * ECDSA adaptor signatures, oracle (BIP340) cryptography and adaptor points.
 * Explicit named re-exports only. Nothing here does I/O, reads the
 * environment or generates randomness.
 */
export {
  BACKEND_NAMES, assertPoint, availableBackends, backendName, getBackend, liftX, negatePoint, secp, selectBackend,
} from './secp.js';
export type { BackendName, SecpBackend } from './secp.js';
export {
  CURVE_ORDER, FIELD_PRIME, HALF_CURVE_ORDER, batchInvN, bigIntToBytes, bytesToBigInt, invN, isNonZeroScalar, modN,
  parseNonZeroScalar, taggedHash,
} from './scalar.js';
export { compactToDer, derToCompact, ecdsaSign, ecdsaVerify, normalizeLowS } from './ecdsa.js';
export {
  ADAPTOR_SIGNATURE_LENGTH, adaptorDecrypt, adaptorRecover, adaptorSign, adaptorSignBatch, adaptorVerify,
  adaptorVerifyBatch, isValidAdaptorSignature, parseAdaptorSignature, serializeAdaptorSignature,
} from './adaptor.js';
export type { AdaptorSignatureParts } from './adaptor.js';
export {
  ANNOUNCEMENT_TAG, ATTESTATION_TAG, announcementDigest, attest, attestationPoint, attestationSecret, deriveNonceSecret,
  digitPointTable, enumAdaptorPoint, eventNonces, numericAdaptorPoints, outcomeBytes, outcomeDigest, schnorrSign,
  schnorrSignWithNonce, schnorrVerify, signAnnouncement, verifyAnnouncement, verifyAttestation, xOnlyPublicKey,
} from './oracle.js';
export type { HashProfile, NumericAdaptorPointsParams, OracleNonces } from './oracle.js';
