/**
 * In-memory shapes of the dlcspecs messages (protocol version 1).
 *
 * Field names follow the JSON form of the dlcspecs test vectors
 * (`dlc-vectors/dlcspecs/test_vectors/*.json`, their `message` objects), so the
 * JSON codec is a thin hex/bigint mapping. Differences from that JSON:
 * byte strings are `Uint8Array` (hex in JSON), u64 values are `bigint`.
 * This module only declares types; it does no encoding and no I/O.
 */

export type Bytes = Uint8Array;

// ---------------------------------------------------------------- oracle

export interface EnumEventDescriptor {
  enumEvent: { outcomes: string[] };
}

export interface DigitDecompositionEventDescriptor {
  digitDecompositionEvent: {
    /** u16 on the wire (every real message), though the spec text says bigsize. */
    base: number;
    isSigned: boolean;
    unit: string;
    /** i32 */
    precision: number;
    /** u16 */
    nbDigits: number;
  };
}

export type EventDescriptor = EnumEventDescriptor | DigitDecompositionEventDescriptor;

export interface OracleEvent {
  /** 32-byte x-only nonce points, one per digit (numeric) or one (enum). */
  oracleNonces: Bytes[];
  /** u32 */
  eventMaturityEpoch: number;
  eventDescriptor: EventDescriptor;
  eventId: string;
}

export interface OracleAnnouncement {
  /** 64-byte BIP340 signature over the oracle event. */
  announcementSignature: Bytes;
  /** 32-byte x-only key. */
  oraclePublicKey: Bytes;
  oracleEvent: OracleEvent;
}

export interface OracleAttestation {
  eventId: string;
  oraclePublicKey: Bytes;
  /** 64-byte BIP340 signatures, one per outcome (digit). */
  signatures: Bytes[];
  outcomes: string[];
}

// ---------------------------------------------------------------- payout

export interface PayoutPoint {
  eventOutcome: bigint;
  outcomePayout: bigint;
  /** u16: fractional part of the payout, in 1/2^16. */
  extraPrecision: number;
}

export interface PolynomialPayoutCurvePiece {
  polynomialPayoutCurvePiece: { payoutPoints: PayoutPoint[] };
}

export interface HyperbolaPayoutCurvePiece {
  hyperbolaPayoutCurvePiece: {
    usePositivePiece: boolean;
    translateOutcome: number;
    translatePayout: number;
    a: number;
    b: number;
    c: number;
    d: number;
  };
}

export type PayoutCurvePiece = PolynomialPayoutCurvePiece | HyperbolaPayoutCurvePiece;

export interface PayoutFunctionPiece {
  /** Left end point of the piece. */
  endPoint: PayoutPoint;
  payoutCurvePiece: PayoutCurvePiece;
}

export interface PayoutFunction {
  payoutFunctionPieces: PayoutFunctionPiece[];
  /** Right end point of the last piece. */
  lastEndpoint: PayoutPoint;
}

export interface RoundingInterval {
  beginInterval: bigint;
  roundingMod: bigint;
}

export interface RoundingIntervals {
  intervals: RoundingInterval[];
}

// ---------------------------------------------------------------- contract

export interface EnumeratedContractDescriptor {
  enumeratedContractDescriptor: {
    payouts: { outcome: string; localPayout: bigint }[];
  };
}

export interface NumericOutcomeContractDescriptor {
  numericOutcomeContractDescriptor: {
    /** u16 */
    numDigits: number;
    payoutFunction: PayoutFunction;
    roundingIntervals: RoundingIntervals;
  };
}

export type ContractDescriptor = EnumeratedContractDescriptor | NumericOutcomeContractDescriptor;

export interface OracleParams {
  /** u16 */
  maxErrorExp: number;
  /** u16 */
  minFailExp: number;
  maximizeCoverage: boolean;
}

export interface SingleOracleInfo {
  single: { oracleAnnouncement: OracleAnnouncement };
}

export interface MultiOracleInfo {
  multi: {
    /** u16 */
    threshold: number;
    oracleAnnouncements: OracleAnnouncement[];
    oracleParams: OracleParams | null;
  };
}

export type OracleInfo = SingleOracleInfo | MultiOracleInfo;

export interface ContractInfoInner {
  contractDescriptor: ContractDescriptor;
  oracleInfo: OracleInfo;
}

export interface SingleContractInfo {
  singleContractInfo: { totalCollateral: bigint; contractInfo: ContractInfoInner };
}

export interface DisjointContractInfo {
  disjointContractInfo: { totalCollateral: bigint; contractInfos: ContractInfoInner[] };
}

export type ContractInfo = SingleContractInfo | DisjointContractInfo;

// ---------------------------------------------------------------- funding

export interface FundingInput {
  inputSerialId: bigint;
  /** The whole previous transaction, serialized. */
  prevTx: Bytes;
  /** u32 */
  prevTxVout: number;
  /** u32 */
  sequence: number;
  /** u16 */
  maxWitnessLen: number;
  /** Empty for native segwit; the P2SH redeem script for wrapped segwit. */
  redeemScript: Bytes;
}

export interface CetAdaptorSignatures {
  /** 162-byte ECDSA adaptor signatures, in CET order. */
  ecdsaAdaptorSignatures: { signature: Bytes }[];
}

export interface WitnessElement {
  witness: Bytes;
}

export interface FundingSignatures {
  fundingSignatures: { witnessElements: WitnessElement[] }[];
}

// ---------------------------------------------------------------- messages

export interface OfferDlc {
  /** u32 */
  protocolVersion: number;
  /** u8 */
  contractFlags: number;
  chainHash: Bytes;
  temporaryContractId: Bytes;
  contractInfo: ContractInfo;
  /** 33-byte compressed key. */
  fundingPubkey: Bytes;
  payoutSpk: Bytes;
  payoutSerialId: bigint;
  offerCollateral: bigint;
  fundingInputs: FundingInput[];
  changeSpk: Bytes;
  changeSerialId: bigint;
  fundOutputSerialId: bigint;
  feeRatePerVb: bigint;
  /** u32 */
  cetLocktime: number;
  /** u32 */
  refundLocktime: number;
}

export interface AcceptDlc {
  protocolVersion: number;
  temporaryContractId: Bytes;
  acceptCollateral: bigint;
  fundingPubkey: Bytes;
  payoutSpk: Bytes;
  payoutSerialId: bigint;
  fundingInputs: FundingInput[];
  changeSpk: Bytes;
  changeSerialId: bigint;
  cetAdaptorSignatures: CetAdaptorSignatures;
  /** 64-byte compact ECDSA signature (r|s) on the wire; DER hex in the JSON form. */
  refundSignature: Bytes;
  /** Negotiation fields are not supported beyond "absent". */
  negotiationFields: null;
}

export interface SignDlc {
  protocolVersion: number;
  contractId: Bytes;
  cetAdaptorSignatures: CetAdaptorSignatures;
  refundSignature: Bytes;
  fundingSignatures: FundingSignatures;
}

/** TLV type numbers (dlcspecs Messaging.md). */
export const MessageType = {
  offer_dlc: 42778,
  accept_dlc: 42780,
  sign_dlc: 42782,
  oracle_announcement: 55332,
  oracle_attestation: 55400,
} as const;

export type DlcMessage =
  | { type: 'offer_dlc'; message: OfferDlc }
  | { type: 'accept_dlc'; message: AcceptDlc }
  | { type: 'sign_dlc'; message: SignDlc }
  | { type: 'oracle_announcement'; message: OracleAnnouncement }
  | { type: 'oracle_attestation'; message: OracleAttestation };
