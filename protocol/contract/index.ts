/**
 * protocol/contract: the two-party DLC set-up over the other protocol modules,
 * and the message flow builders (offer -> accept -> sign) over it.
 * Named exports only.
 */
export type {
  AttestedSlot,
  ContractAttestation,
  ContractSetup,
  ContractSetupOptions,
  SignaturePairing,
} from './setup.js';
export type { CetSigner, FundingSigner } from './signer.js';
export { keyFundingSigner, signCloseWith, signContractWith, signerParty, signRefundWith, signSighashWith, syncCetSigner } from './signer.js';
export type { CompletedCet, IndexedAttestation, SighashSigner } from './completion.js';
export { attestedSlotOf, completeAttestedCet, completeAttestedCetAsParty } from './completion.js';
export {
  badAdaptorSignature,
  cetLockTimes,
  completeCet,
  contractAnnouncements,
  findAttestedSlot,
  packAdaptorSignatures,
  setupContract,
  signCets,
  signedCet,
  signedRefundTransaction,
  signRefund,
  unpackAdaptorSignatures,
  unsignedCet,
  verifyCetSignatures,
  verifyRefundSignature,
} from './setup.js';
export type {
  AcceptFields,
  AcceptParams,
  BuiltAccept,
  BuiltSign,
  CetVerifier,
  ContractSignatures,
  ExpectedOfferTerms,
  FlowNetwork,
  FlowOptions,
  FundingSummary,
  OfferContract,
  OfferParams,
  FundingKey,
  SignFields,
  SignParams,
  VerifiedSign,
} from './flow.js';
export {
  REFUND_GRACE_BLOCKS,
  REFUND_MAX_GRACE_BLOCKS,
  FUNDING_DEADLINE_MARGIN_BLOCKS,
  defaultFundingDeadline,
  assembleSign,
  buildAccept,
  buildAcceptAsync,
  buildOffer,
  buildSign,
  buildSignAsync,
  closeTransaction,
  completeClose,
  defaultLocktimes,
  firstDifference,
  fundingPsbtOf,
  offerAnnouncements,
  signClose,
  signContract,
  signContractAsync,
  syncCetVerifier,
  totalCollateralOf,
  verifyAccept,
  verifyAcceptAsync,
  verifyFundingPsbt,
  verifyOfferTerms,
  verifySign,
  verifySignAsync,
} from './flow.js';
export { checkBatchAccepts, checkBatchOffers, checkBatchSigns } from './batch.js';
export { fundingOptionsOf } from './setup.js';
export type { TransferBuyerFields, TransferredFrom, TransferTermsJson } from './transfer.js';
export {
  checkTransferOpen,
  checkTransferredContract,
  setupTransferredContract,
  TRANSFER_MARGIN_BLOCKS,
  transferBuyerFieldsOf,
  transferDeadline,
  transferredMessages,
  transferSetupOptions,
  transferSign,
  transferTermsFromJson,
  transferTermsToJson,
  verifyTransferSign,
  verifyTransferSignatures,
} from './transfer.js';
