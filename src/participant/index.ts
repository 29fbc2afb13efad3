/**
 * The participant library's entry: a `Participant` (configuration and
 * ports) and the use cases over it. Each use case takes `(p, input)` with a
 * typed input and returns a typed result; none prints, reads the
 * environment or exits (src/cli formats and prints, the agent logs).
 *
 * This module does NOT implement anything; it names what the library exports.
 */
export { Participant, type ParticipantOutput } from './participant.js';
export { majorityThreshold, needCoordinator, needOracles, needRpc, type ParticipantConfig } from './config.js';
export { ParticipantError, usage, type ParticipantErrorCode } from './errors.js';
export type { Progress } from './progress.js';
export { openContract, type OpenStep } from './open.js';
export {
  listOffers,
  makeOffer,
  showOffer,
  type BlockWindow,
  type OfferCommon,
  type OfferDetails,
  type OfferInput,
  type OfferQuery,
  type OfferResult,
  type OfferRow,
  type OfferTemplateName,
} from './offer.js';
export {
  acceptOffer,
  fundContract,
  oneExternalRun,
  signContract,
  type AcceptInput,
  type AcceptResult,
  type ExternalPsbtInput,
  type FundResult,
  type PsbtOutResult,
  type SignResult,
} from './negotiate.js';
// fees: wallet use cases, `wallet send`, `bump` (helper E)
export { initWallet, newAddress, walletBalance, sendFromWallet, chooseSendCoins } from './wallet.js';
export type { InitWalletInput, InitWalletResult, NewAddressResult, WalletBalanceResult, WalletCoin, SendInput, SendResult } from './wallet.js';
export { bumpTransaction } from './bump.js';
export type { BumpInput, BumpMethod, BumpResult } from './bump.js';
export { P2WPKH_SPK_LEN, cpfpChildFee, feeFor, isDust, p2wpkhSpendVsize, packageOf, ratePerVb, reachesRate, replacementFee } from './fees.js';
export type { FeeAndSize } from './fees.js';
// oracle verification (helper C)
export { verifyContractOracles, verifyOracleEvent } from './oracle-verify.js';
export type { ContractOracleVerdict, ContractOraclesReport, VerifyCheck, VerifyOptions, VerifyReport } from './oracle-verify.js';
// oracle sets (issue 11): K of n, the offerer's and the accepter's checks, every oracle's attestation
export { LUCK_RISK_WARN_CHANCE, LUCK_RISK_WARNING, measurementRisk } from './luck.js';
export type { MeasurementRisk } from './luck.js';
export { gatherAttestations, oracleInfoOf, offerThreshold, oracleSetOf } from './oracle-set.js';
export type { GatheredAttestations, OracleAttestationReport, SetOracle } from './oracle-set.js';

// ------------------------------------------------------------------ after funding (status, settle, refund, close, cancel)
export { listContracts, contractStatus, followCoordinator } from './status.js';
export type { ContractSummary, StatusInput, StatusResult } from './status.js';
export { settleContract, refundContract, openSignedContract, broadcastClosing } from './settle.js';
export type {
  Broadcast,
  ContractRole,
  OpenedContract,
  Payouts,
  RefundInput,
  RefundResult,
  SettleInput,
  SettleOracle,
  SettleResult,
} from './settle.js';
export { closeContract } from './close.js';
export type { CloseInput, CloseResult } from './close.js';
export { cancelContract, buildCancelPsbt, fundingSignaturesMayBeOut } from './cancel.js';
export type { CancelInput, CancelPsbtResult, CancelledResult, CancelTransaction } from './cancel.js';

// the ContractSigner port: what a use case signs for a contract, the wallet's implementation (helper H)
export { walletContractSigner, type ContractSigner } from './signer.js';
export type { ParticipantSigners } from './participant.js';

// strips (issue 12): a strip's period records
export { periodLabel, stripRecords } from './strip.js';
// strips after funding (issue 12): status, settle, refund, close and cancel per period
export { stripStatus } from './status.js';
export type { StripPeriodStatus, StripStatusResult } from './status.js';
export { settleStrip, refundStrip, checkSpendsOwnOutput } from './settle.js';
export type { StripStepInput, StripStepResult } from './settle.js';
export { closeStrip, splitByWeights } from './close.js';
export type { CloseStripInput, CloseStripResult, StripPeriodClose } from './close.js';
export { PERIOD_ENDED, eachPeriod, inPeriodError, periodOf, stripStepError, stripTargets } from './strip-steps.js';
export type { PeriodStep, PeriodStepStatus, StripTargets } from './strip-steps.js';

// transferable positions (issue 14): sell, list, buy, consent, release, fund, cancel (the agent calls these too)
export {
  buyPosition,
  cancelPosition,
  confirmedTransferOf,
  consentTransfer,
  dropDeadTransfer,
  fundTransfer,
  fundingSourceOf,
  listPositions,
  positionStatus,
  releaseTransfer,
  sellPosition,
} from './positions.js';
export type { BuyInput, BuyResult, ConsentResult, FundTransferResult, PositionQuery, ReleaseResult, SellInput } from './positions.js';
export { checkOldContractOffer, checkOldFundingOnNode, checkPriceAtMost, checkReleasePayment, ownListingOf } from './position-checks.js';
export type { CheckedOldContract, OwnListing } from './position-checks.js';
