/**
 * protocol/messages: the dlcspecs messages (protocol version 1) in memory, on
 * the wire, as JSON; their validation; oracle message checks. One entry point
 * with explicit named exports. No I/O anywhere below.
 */
export type {
  AcceptDlc,
  Bytes,
  CetAdaptorSignatures,
  ContractDescriptor,
  ContractInfo,
  ContractInfoInner,
  DigitDecompositionEventDescriptor,
  DisjointContractInfo,
  DlcMessage,
  EnumEventDescriptor,
  EnumeratedContractDescriptor,
  EventDescriptor,
  FundingInput,
  FundingSignatures,
  HyperbolaPayoutCurvePiece,
  MultiOracleInfo,
  NumericOutcomeContractDescriptor,
  OfferDlc,
  OracleAnnouncement,
  OracleAttestation,
  OracleEvent,
  OracleInfo,
  OracleParams,
  PayoutCurvePiece,
  PayoutFunction,
  PayoutFunctionPiece,
  PayoutPoint,
  PolynomialPayoutCurvePiece,
  RoundingInterval,
  RoundingIntervals,
  SignDlc,
  SingleContractInfo,
  SingleOracleInfo,
  WitnessElement,
} from './types.js';
export { MessageType } from './types.js';
export { WireReader, WireWriter, fromHex, isHexText, toHex } from './wire.js';
export {
  ADAPTOR_SIGNATURE_SIZE,
  TlvType,
  decodeAcceptDlc,
  decodeMessage,
  decodeOfferDlc,
  decodeOracleAnnouncement,
  decodeOracleAttestation,
  decodeOracleEvent,
  decodeSignDlc,
  encodeAcceptDlc,
  encodeMessage,
  encodeOfferDlc,
  encodeOracleAnnouncement,
  encodeOracleAttestation,
  encodeOracleEvent,
  encodeOracleEventTlv,
  encodeSignDlc,
  joinHyperbolaParameter,
  peekMessageType,
  splitHyperbolaParameter,
} from './codec.js';
export type { JsonObject, JsonValue } from './json.js';
export {
  MESSAGE_TYPE_NAMES,
  envelopeFromJson,
  envelopeToJson,
  messageFromJson,
  messageToJson,
  parseJson,
  stringifyJson,
} from './json.js';
export type { ExplicitPayoutPiece } from './builders.js';
export { payoutFunctionFromPieces } from './builders.js';
export type { AcceptValidationOptions, SignValidationOptions, ValidationOptions } from './validate.js';
export { CHAIN_HASHES, PROTOCOL_VERSION, validateAccept, validateOffer, validateSign } from './validate.js';
export { verifyAnnouncement, verifyAttestation } from './oracle.js';
export type { BatchFundingGroup } from './batch.js';
export { BATCH_FUNDING_GROUP_TYPE, decodeBatchFundingGroup, encodeBatchFundingGroup } from './batch.js';
