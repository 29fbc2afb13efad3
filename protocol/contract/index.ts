/**
 * protocol/contract: the two-party DLC set-up over the other protocol modules.
 * Named exports only.
 */
export type {
  AttestedSlot,
  ContractAttestation,
  ContractSetup,
  ContractSetupOptions,
  SignaturePairing,
} from './setup.js';
export {
  badAdaptorSignature,
  cetLockTimes,
  completeCet,
  findAttestedSlot,
  packAdaptorSignatures,
  setupContract,
  signCets,
  signedRefundTransaction,
  signRefund,
  unpackAdaptorSignatures,
  unsignedCet,
  verifyCetSignatures,
  verifyRefundSignature,
} from './setup.js';
