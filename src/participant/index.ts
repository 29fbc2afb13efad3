/**
 * The participant library's one entry (src/participant/README.md): the
 * `Participant` and the use cases. Each helper area appends its exports in
 * its own block.
 *
 * This module does NOT re-export internals with `export *`.
 */

// ------------------------------------------------------------------ after funding (status, settle, refund, close, cancel)
export { listContracts, contractStatus, followCoordinator } from './status.js';
export type { ContractSummary, StatusInput, StatusResult } from './status.js';
export { settleContract, refundContract, completeAttestedCet, openSignedContract, broadcastClosing } from './settle.js';
export type {
  Broadcast,
  CompletedCet,
  ContractRole,
  IndexedAttestation,
  OpenedContract,
  Payouts,
  RefundInput,
  RefundResult,
  SettleInput,
  SettleResult,
  SighashSigner,
} from './settle.js';
export { closeContract } from './close.js';
export type { CloseInput, CloseResult } from './close.js';
export { cancelContract, buildCancelPsbt, fundingSignaturesMayBeOut } from './cancel.js';
export type { CancelInput, CancelPsbtResult, CancelledResult, CancelTransaction } from './cancel.js';
