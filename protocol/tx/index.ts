/**
 * protocol/tx: the DLC's Bitcoin transactions (dlcspecs Transactions.md): fees,
 * the funding transaction and contract id, CETs, refund and close transactions
 * with their BIP143 sighashes and 2-of-2 witnesses, and the funding PSBT.
 * One entry point with explicit named exports.
 *
 * Nothing here holds keys, signs, creates adaptor signatures (protocol/crypto),
 * computes payouts (protocol/numeric) or talks to a node. No I/O anywhere below.
 */
export type { FeeInputShape, PartyFeeShape, PartyFees } from './fees.js';
export {
  BATCH_OUTPUT_PARTY_WEIGHT,
  DUST_LIMIT,
  fundingFees,
  partyClosingWeight,
  partyFees,
  partyFeeShape,
  partyFundingWeight,
  scriptSigLength,
  witnessStackSize,
} from './fees.js';
export type {
  BatchContract,
  ExtraFundingOutput,
  FundingBatch,
  FundingAcceptFields,
  FundingBuildOptions,
  FundingOfferFields,
  FundingTransaction,
  FundingTxInput,
  Party,
  PartyFunding,
} from './funding.js';
export {
  buildFundingTransaction,
  computeContractId,
  contractIdOf,
  FUNDING_TX_LOCKTIME,
  FUNDING_TX_VERSION,
  fundingInputScriptSig,
  MAX_BATCH_CONTRACTS,
} from './funding.js';
export type {
  CetOptions,
  CloseExtraInput,
  CloseOptions,
  CloseTransaction,
  ClosingContext,
  Payout,
  RefundOptions,
  RefundOutputOrder,
} from './closing.js';
export {
  applyFundingSpendWitness,
  buildCet,
  buildCets,
  buildCloseTransaction,
  buildRefundTransaction,
  cetSighashes,
  checkCloseSignature,
  CLOSING_TX_SEQUENCE,
  CLOSING_TX_VERSION,
  closePsbt,
  closeSignatureFromPsbt,
  closingContext,
  fundingSpendSighash,
  fundingSpendWitness,
  refundSighash,
  signedCloseTransaction,
  signedRefund,
  unsignedClose,
  verifyFundingSpendSignature,
} from './closing.js';
export type { FundingSignatureCheck } from './psbt.js';
export {
  addFundingSignaturesToPsbt,
  applyFundingSignatures,
  buildFundingPsbt,
  combinePsbts,
  decodeWitnessStack,
  encodeWitnessStack,
  extractFundingSignatures,
  finalizeFundingPsbt,
  parseFundingPsbt,
  partyFundingPsbt,
  partyInputIndexes,
  signedInputIndexes,
  verifyFundingSignatures,
} from './psbt.js';
export type { TransferPayment, TransferSource, TransferTerms, TransferTransaction } from './transfer.js';
export {
  buildTransferPsbt,
  buildTransferTransaction,
  checkTransferPayment,
  FUNDING_SPEND_WITNESS_LEN,
  signedTransferTransaction,
  transferSourceOf,
  transferSpendSighash,
  transferWeight,
} from './transfer.js';
export type { SighashInput, SighashOutput } from './sighash.js';
export { SIGHASH_ALL, segwitV0Sighash, serializeOutputs, singleInputSighasher } from './sighash.js';
export {
  fundingScript,
  isStandardScriptPubkey,
  p2wpkhScriptCode,
  p2wshScriptPubkey,
  witnessProgram,
} from './scripts.js';
