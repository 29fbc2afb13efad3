/**
 * Binary codec of the dlcspecs messages, protocol version 1 (Messaging.md,
 * Protocol.md), byte-compatible with `dlcspecs/test/test_vectors/*.json` and
 * rust-dlc, which produced them.
 *
 * Layout facts taken from the vectors where the spec text differs or is silent
 * (see also dlc-vectors/README.md):
 * - offer/accept/sign are wire messages: u16 type, no length, no trailing TLV
 *   stream (trailing bytes are rejected).
 * - oracle_announcement, oracle_event and the event descriptors are TLV records
 *   (BigSize type + BigSize length) wherever they appear; a standalone
 *   announcement/attestation is encoded in that TLV form too (how oracles
 *   publish them). The decoder also accepts the u16-typed wire form.
 * - `digit_decomposition_event_descriptor.base` is a u16, not a BigSize.
 * - nonce lists and enum outcome lists have u16 counts; every other list has
 *   a BigSize count.
 * - oracle_attestation carries a u16 count before the outcomes as well as before
 *   the signatures (rust-dlc `write_strings_u16`); Oracle.md's text has no
 *   second count.
 * - hyperbola parameters are `bool sign (1 = positive) | u64 whole | u16
 *   extra_precision` (value = whole + extra / 2^16).
 * - the refund signature is 64 bytes compact (r | s); the JSON form shows DER.
 *
 * This module does NOT validate contract rules (validate.ts does), verify any
 * signature (oracle.ts, protocol/crypto) or normalise strings; it does no I/O.
 */
import { DlcError } from '../errors.js';
import { WireReader, WireWriter } from './wire.js';
import { MessageType } from './types.js';
import type {
  AcceptDlc,
  Bytes,
  CetAdaptorSignatures,
  ContractDescriptor,
  ContractInfo,
  ContractInfoInner,
  DlcMessage,
  EventDescriptor,
  FundingInput,
  FundingSignatures,
  HyperbolaPayoutCurvePiece,
  OfferDlc,
  OracleAnnouncement,
  OracleAttestation,
  OracleEvent,
  OracleInfo,
  OracleParams,
  PayoutCurvePiece,
  PayoutFunction,
  PayoutPoint,
  RoundingIntervals,
  SignDlc,
} from './types.js';

/** TLV types of the records nested in messages (Messaging.md, Oracle.md). */
export const TlvType = {
  enumEventDescriptor: 55302,
  digitDecompositionEventDescriptor: 55306,
  oracleEvent: 55330,
  oracleAnnouncement: MessageType.oracle_announcement,
  oracleAttestation: MessageType.oracle_attestation,
} as const;

/** Size of an ECDSA adaptor signature with its DLEQ proof (ECDSA-adaptor.md). */
export const ADAPTOR_SIGNATURE_SIZE = 162;

// ------------------------------------------------------------------ helpers

function decodeError(message: string, reason: string): DlcError {
  return new DlcError('DECODE_ERROR', message, { reason });
}

function fixed(bytes: Bytes, size: number, what: string): Bytes {
  if (!(bytes instanceof Uint8Array) || bytes.length !== size) {
    throw new DlcError('INVALID_LENGTH', `${what} must be ${size} bytes, got ${bytes?.length}`, {
      reason: 'fixed-length-field',
    });
  }
  return bytes;
}

function unknownType(what: string, type: bigint | number): DlcError {
  return decodeError(`${what}: unknown type ${type}`, 'unknown-type');
}

// ------------------------------------------------------------------ oracle

function writeEventDescriptor(w: WireWriter, d: EventDescriptor): void {
  const body = new WireWriter();
  if ('enumEvent' in d) {
    const outcomes = d.enumEvent.outcomes;
    body.writeU16(outcomes.length);
    for (const o of outcomes) body.writeString(o);
    w.writeTlv(TlvType.enumEventDescriptor, body.toBytes());
  } else {
    const e = d.digitDecompositionEvent;
    body.writeU16(e.base).writeBool(e.isSigned).writeString(e.unit).writeI32(e.precision).writeU16(e.nbDigits);
    w.writeTlv(TlvType.digitDecompositionEventDescriptor, body.toBytes());
  }
}

function readEventDescriptor(r: WireReader): EventDescriptor {
  const { type, value } = r.readTlv('event_descriptor');
  let out: EventDescriptor;
  if (type === BigInt(TlvType.enumEventDescriptor)) {
    const n = value.readU16Count('enum_event_descriptor.num_outcomes', 1);
    const outcomes: string[] = [];
    for (let i = 0; i < n; i++) outcomes.push(value.readString('enum outcome'));
    out = { enumEvent: { outcomes } };
  } else if (type === BigInt(TlvType.digitDecompositionEventDescriptor)) {
    out = {
      digitDecompositionEvent: {
        base: value.readU16('base'),
        isSigned: value.readBool('is_signed'),
        unit: value.readString('unit'),
        precision: value.readI32('precision'),
        nbDigits: value.readU16('nb_digits'),
      },
    };
  } else {
    throw unknownType('event_descriptor', type);
  }
  value.expectEnd('event_descriptor');
  return out;
}

function writeOracleEventBody(w: WireWriter, ev: OracleEvent): void {
  w.writeU16(ev.oracleNonces.length);
  for (const n of ev.oracleNonces) w.writeBytes(fixed(n, 32, 'oracle nonce'));
  w.writeU32(ev.eventMaturityEpoch);
  writeEventDescriptor(w, ev.eventDescriptor);
  w.writeString(ev.eventId);
}

function readOracleEventBody(r: WireReader): OracleEvent {
  const n = r.readU16Count('oracle_event.nb_nonces', 32);
  const oracleNonces: Bytes[] = [];
  for (let i = 0; i < n; i++) oracleNonces.push(r.readBytes(32, 'oracle nonce'));
  const eventMaturityEpoch = r.readU32('event_maturity_epoch');
  const eventDescriptor = readEventDescriptor(r);
  const eventId = r.readString('event_id');
  return { oracleNonces, eventMaturityEpoch, eventDescriptor, eventId };
}

/**
 * The serialized `oracle_event` body, without its TLV type and length: the
 * bytes whose plain SHA256 the announcement signature covers in the dlcspecs
 * vectors, rust-dlc and dlcdevkit ('sha256' profile).
 * @throws {DlcError} INVALID_LENGTH when a nonce is not 32 bytes.
 * @throws {RangeError} when an integer field is out of range.
 */
export function encodeOracleEvent(ev: OracleEvent): Uint8Array {
  const w = new WireWriter();
  writeOracleEventBody(w, ev);
  return w.toBytes();
}

/**
 * The `oracle_event` as a full TLV record (type 55330, length, body), as it
 * appears inside an announcement; bitcoin-s style oracles sign these bytes.
 * @throws {DlcError} INVALID_LENGTH when a nonce is not 32 bytes.
 * @throws {RangeError} when an integer field is out of range.
 */
export function encodeOracleEventTlv(ev: OracleEvent): Uint8Array {
  return new WireWriter().writeTlv(TlvType.oracleEvent, encodeOracleEvent(ev)).toBytes();
}

/**
 * Decodes an `oracle_event` body (no TLV header).
 * @throws {DlcError} DECODE_ERROR on malformed or trailing bytes.
 */
export function decodeOracleEvent(bytes: Uint8Array): OracleEvent {
  const r = new WireReader(bytes);
  const ev = readOracleEventBody(r);
  r.expectEnd('oracle_event');
  return ev;
}

function writeAnnouncementBody(w: WireWriter, a: OracleAnnouncement): void {
  w.writeBytes(fixed(a.announcementSignature, 64, 'announcement signature'));
  w.writeBytes(fixed(a.oraclePublicKey, 32, 'oracle public key'));
  w.writeTlv(TlvType.oracleEvent, encodeOracleEvent(a.oracleEvent));
}

function readAnnouncementBody(r: WireReader): OracleAnnouncement {
  const announcementSignature = r.readBytes(64, 'announcement signature');
  const oraclePublicKey = r.readBytes(32, 'oracle public key');
  const { type, value } = r.readTlv('oracle_event');
  if (type !== BigInt(TlvType.oracleEvent)) throw unknownType('oracle_event', type);
  const oracleEvent = readOracleEventBody(value);
  value.expectEnd('oracle_event');
  return { announcementSignature, oraclePublicKey, oracleEvent };
}

function writeAnnouncementTlv(w: WireWriter, a: OracleAnnouncement): void {
  const body = new WireWriter();
  writeAnnouncementBody(body, a);
  w.writeTlv(TlvType.oracleAnnouncement, body.toBytes());
}

function readAnnouncementTlv(r: WireReader): OracleAnnouncement {
  const { type, value } = r.readTlv('oracle_announcement');
  if (type !== BigInt(TlvType.oracleAnnouncement)) throw unknownType('oracle_announcement', type);
  const a = readAnnouncementBody(value);
  value.expectEnd('oracle_announcement');
  return a;
}

function writeAttestationBody(w: WireWriter, a: OracleAttestation): void {
  w.writeString(a.eventId);
  w.writeBytes(fixed(a.oraclePublicKey, 32, 'oracle public key'));
  w.writeU16(a.signatures.length);
  for (const s of a.signatures) w.writeBytes(fixed(s, 64, 'attestation signature'));
  w.writeU16(a.outcomes.length);
  for (const o of a.outcomes) w.writeString(o);
}

function readAttestationBody(r: WireReader): OracleAttestation {
  const eventId = r.readString('event_id');
  const oraclePublicKey = r.readBytes(32, 'oracle public key');
  const ns = r.readU16Count('nb_signatures', 64);
  const signatures: Bytes[] = [];
  for (let i = 0; i < ns; i++) signatures.push(r.readBytes(64, 'attestation signature'));
  const no = r.readU16Count('nb_outcomes', 1);
  const outcomes: string[] = [];
  for (let i = 0; i < no; i++) outcomes.push(r.readString('outcome'));
  return { eventId, oraclePublicKey, signatures, outcomes };
}

/**
 * Reads a standalone oracle message in either TLV form (BigSize type + length,
 * how oracles publish them) or u16-typed wire form (no length).
 */
function readStandaloneOracleMessage<T>(
  bytes: Uint8Array,
  type: number,
  what: string,
  body: (r: WireReader) => T,
): T {
  const r = new WireReader(bytes);
  let value: WireReader;
  if (bytes[0] === 0xfd) {
    const tlv = r.readTlv(what);
    if (tlv.type !== BigInt(type)) throw unknownType(what, tlv.type);
    r.expectEnd(what);
    value = tlv.value;
  } else {
    const t = r.readU16(`${what} type`);
    if (t !== type) throw unknownType(what, t);
    value = r;
  }
  const out = body(value);
  value.expectEnd(what);
  return out;
}

/**
 * Encodes an announcement as a TLV record (`fdd824` + length + body).
 * @throws {DlcError} INVALID_LENGTH on a wrong-size key, nonce or signature.
 * @throws {RangeError} when an integer field is out of range.
 */
export function encodeOracleAnnouncement(a: OracleAnnouncement): Uint8Array {
  const w = new WireWriter();
  writeAnnouncementTlv(w, a);
  return w.toBytes();
}

/**
 * Decodes an announcement in TLV form (`fdd824...`) or u16 wire form (`d824...`).
 * @throws {DlcError} DECODE_ERROR on malformed, unknown-type or trailing bytes.
 */
export function decodeOracleAnnouncement(bytes: Uint8Array): OracleAnnouncement {
  return readStandaloneOracleMessage(bytes, TlvType.oracleAnnouncement, 'oracle_announcement', readAnnouncementBody);
}

/**
 * Encodes an attestation as a TLV record (`fdd868` + length + body).
 * @throws {DlcError} INVALID_LENGTH on a wrong-size key or signature.
 * @throws {RangeError} when a list is longer than 65535.
 */
export function encodeOracleAttestation(a: OracleAttestation): Uint8Array {
  const body = new WireWriter();
  writeAttestationBody(body, a);
  return new WireWriter().writeTlv(TlvType.oracleAttestation, body.toBytes()).toBytes();
}

/**
 * Decodes an attestation in TLV form (`fdd868...`) or u16 wire form (`d868...`).
 * @throws {DlcError} DECODE_ERROR on malformed, unknown-type or trailing bytes.
 */
export function decodeOracleAttestation(bytes: Uint8Array): OracleAttestation {
  return readStandaloneOracleMessage(bytes, TlvType.oracleAttestation, 'oracle_attestation', readAttestationBody);
}

// ------------------------------------------------------------------ payout

function writePayoutPoint(w: WireWriter, p: PayoutPoint): void {
  w.writeU64(p.eventOutcome).writeU64(p.outcomePayout).writeU16(p.extraPrecision);
}

function readPayoutPoint(r: WireReader): PayoutPoint {
  return {
    eventOutcome: r.readU64('event_outcome'),
    outcomePayout: r.readU64('outcome_payout'),
    extraPrecision: r.readU16('extra_precision'),
  };
}

const PAYOUT_POINT_SIZE = 18;
const HYPERBOLA_FIELDS = ['translateOutcome', 'translatePayout', 'a', 'b', 'c', 'd'] as const;
type HyperbolaField = (typeof HYPERBOLA_FIELDS)[number];
const TWO_POW_64 = 2 ** 64;

/**
 * Splits a hyperbola parameter into the wire triple (sign, whole, extra
 * precision). Only values that are exact multiples of 2^-16 below 2^64 in
 * magnitude can be sent; anything else would be silently rounded, so it throws.
 * @throws {DlcError} INVALID_PARAMS when `x` cannot be represented exactly.
 */
export function splitHyperbolaParameter(x: number, what = 'hyperbola parameter'): {
  positive: boolean;
  whole: bigint;
  extraPrecision: number;
} {
  if (typeof x !== 'number' || !Number.isFinite(x)) {
    throw new DlcError('INVALID_PARAMS', `${what} must be a finite number`, { reason: 'hyperbola-parameter' });
  }
  const abs = Math.abs(x);
  const wholeNum = Math.floor(abs);
  const extra = (abs - wholeNum) * 65536;
  if (wholeNum >= TWO_POW_64 || !Number.isInteger(extra)) {
    throw new DlcError('INVALID_PARAMS', `${what} ${x} is not a multiple of 2^-16 below 2^64`, {
      reason: 'hyperbola-parameter-not-representable',
    });
  }
  // -0 keeps its sign so that a decoded negative zero re-encodes byte for byte.
  const positive = !(x < 0 || Object.is(x, -0));
  return { positive, whole: BigInt(wholeNum), extraPrecision: extra };
}

/**
 * Joins a wire triple back into a number.
 * @throws {DlcError} DECODE_ERROR when the value has no exact double (whole
 *   part too large for its fraction): we refuse to round silently.
 */
export function joinHyperbolaParameter(positive: boolean, whole: bigint, extraPrecision: number, what = 'hyperbola parameter'): number {
  const magnitude = Number(whole) + extraPrecision / 65536;
  const back = Math.floor(magnitude);
  if (BigInt(back) !== whole || (magnitude - back) * 65536 !== extraPrecision) {
    throw decodeError(`${what}: ${whole} + ${extraPrecision}/65536 has no exact double`, 'hyperbola-parameter-not-exact');
  }
  return positive ? magnitude : -magnitude;
}

function writeCurvePiece(w: WireWriter, c: PayoutCurvePiece): void {
  if ('polynomialPayoutCurvePiece' in c) {
    const pts = c.polynomialPayoutCurvePiece.payoutPoints;
    w.writeBigSize(0).writeBigSize(pts.length);
    for (const p of pts) writePayoutPoint(w, p);
  } else {
    const h = c.hyperbolaPayoutCurvePiece;
    w.writeBigSize(1).writeBool(h.usePositivePiece);
    for (const f of HYPERBOLA_FIELDS) {
      const s = splitHyperbolaParameter(h[f], `hyperbola ${f}`);
      w.writeBool(s.positive).writeU64(s.whole).writeU16(s.extraPrecision);
    }
  }
}

function readCurvePiece(r: WireReader): PayoutCurvePiece {
  const type = r.readBigSize('payout_curve_piece type');
  if (type === 0n) {
    const n = r.readBigSizeCount('payout_points', PAYOUT_POINT_SIZE);
    const payoutPoints: PayoutPoint[] = [];
    for (let i = 0; i < n; i++) payoutPoints.push(readPayoutPoint(r));
    return { polynomialPayoutCurvePiece: { payoutPoints } };
  }
  if (type === 1n) {
    const usePositivePiece = r.readBool('use_positive_piece');
    const values = {} as Record<HyperbolaField, number>;
    for (const f of HYPERBOLA_FIELDS) {
      const positive = r.readBool(`${f} sign`);
      const whole = r.readU64(f);
      const extra = r.readU16(`${f} extra_precision`);
      values[f] = joinHyperbolaParameter(positive, whole, extra, `hyperbola ${f}`);
    }
    const piece: HyperbolaPayoutCurvePiece = { hyperbolaPayoutCurvePiece: { usePositivePiece, ...values } };
    return piece;
  }
  throw unknownType('payout_curve_piece', type);
}

function writePayoutFunction(w: WireWriter, f: PayoutFunction): void {
  w.writeBigSize(f.payoutFunctionPieces.length);
  for (const piece of f.payoutFunctionPieces) {
    writePayoutPoint(w, piece.endPoint);
    writeCurvePiece(w, piece.payoutCurvePiece);
  }
  writePayoutPoint(w, f.lastEndpoint);
}

function readPayoutFunction(r: WireReader): PayoutFunction {
  const n = r.readBigSizeCount('payout_function_pieces', PAYOUT_POINT_SIZE + 2);
  const payoutFunctionPieces = [];
  for (let i = 0; i < n; i++) {
    const endPoint = readPayoutPoint(r);
    const payoutCurvePiece = readCurvePiece(r);
    payoutFunctionPieces.push({ endPoint, payoutCurvePiece });
  }
  const lastEndpoint = readPayoutPoint(r);
  return { payoutFunctionPieces, lastEndpoint };
}

function writeRoundingIntervals(w: WireWriter, ri: RoundingIntervals): void {
  w.writeBigSize(ri.intervals.length);
  for (const i of ri.intervals) w.writeU64(i.beginInterval).writeU64(i.roundingMod);
}

function readRoundingIntervals(r: WireReader): RoundingIntervals {
  const n = r.readBigSizeCount('rounding_intervals', 16);
  const intervals = [];
  for (let i = 0; i < n; i++) {
    intervals.push({ beginInterval: r.readU64('begin_interval'), roundingMod: r.readU64('rounding_mod') });
  }
  return { intervals };
}

// ------------------------------------------------------------------ contract

function writeContractDescriptor(w: WireWriter, d: ContractDescriptor): void {
  if ('enumeratedContractDescriptor' in d) {
    const payouts = d.enumeratedContractDescriptor.payouts;
    w.writeBigSize(0).writeBigSize(payouts.length);
    for (const p of payouts) w.writeString(p.outcome).writeU64(p.localPayout);
  } else {
    const n = d.numericOutcomeContractDescriptor;
    w.writeBigSize(1).writeU16(n.numDigits);
    writePayoutFunction(w, n.payoutFunction);
    writeRoundingIntervals(w, n.roundingIntervals);
  }
}

function readContractDescriptor(r: WireReader): ContractDescriptor {
  const type = r.readBigSize('contract_descriptor type');
  if (type === 0n) {
    const n = r.readBigSizeCount('enum payouts', 9);
    const payouts = [];
    for (let i = 0; i < n; i++) {
      const outcome = r.readString('outcome');
      payouts.push({ outcome, localPayout: r.readU64('payout') });
    }
    return { enumeratedContractDescriptor: { payouts } };
  }
  if (type === 1n) {
    const numDigits = r.readU16('num_digits');
    const payoutFunction = readPayoutFunction(r);
    const roundingIntervals = readRoundingIntervals(r);
    return { numericOutcomeContractDescriptor: { numDigits, payoutFunction, roundingIntervals } };
  }
  throw unknownType('contract_descriptor', type);
}

function writeOracleParams(w: WireWriter, p: OracleParams | null): void {
  // Messaging.md "Optional sub-type": 0x00 absent, 0x01 present.
  if (p === null) {
    w.writeU8(0);
    return;
  }
  w.writeU8(1).writeU16(p.maxErrorExp).writeU16(p.minFailExp).writeBool(p.maximizeCoverage);
}

function readOracleParams(r: WireReader): OracleParams | null {
  if (!r.readBool('oracle_params present')) return null;
  return {
    maxErrorExp: r.readU16('max_error_exp'),
    minFailExp: r.readU16('min_fail_exp'),
    maximizeCoverage: r.readBool('maximize_coverage'),
  };
}

function writeOracleInfo(w: WireWriter, o: OracleInfo): void {
  if ('single' in o) {
    w.writeBigSize(0);
    writeAnnouncementTlv(w, o.single.oracleAnnouncement);
  } else {
    const m = o.multi;
    w.writeBigSize(1).writeU16(m.threshold).writeBigSize(m.oracleAnnouncements.length);
    for (const a of m.oracleAnnouncements) writeAnnouncementTlv(w, a);
    writeOracleParams(w, m.oracleParams);
  }
}

function readOracleInfo(r: WireReader): OracleInfo {
  const type = r.readBigSize('oracle_info type');
  if (type === 0n) return { single: { oracleAnnouncement: readAnnouncementTlv(r) } };
  if (type === 1n) {
    const threshold = r.readU16('threshold');
    const n = r.readBigSizeCount('oracle_announcements', 2);
    const oracleAnnouncements: OracleAnnouncement[] = [];
    for (let i = 0; i < n; i++) oracleAnnouncements.push(readAnnouncementTlv(r));
    const oracleParams = readOracleParams(r);
    return { multi: { threshold, oracleAnnouncements, oracleParams } };
  }
  throw unknownType('oracle_info', type);
}

function writeContractInfoInner(w: WireWriter, c: ContractInfoInner): void {
  writeContractDescriptor(w, c.contractDescriptor);
  writeOracleInfo(w, c.oracleInfo);
}

function readContractInfoInner(r: WireReader): ContractInfoInner {
  const contractDescriptor = readContractDescriptor(r);
  const oracleInfo = readOracleInfo(r);
  return { contractDescriptor, oracleInfo };
}

function writeContractInfo(w: WireWriter, c: ContractInfo): void {
  if ('singleContractInfo' in c) {
    w.writeBigSize(0).writeU64(c.singleContractInfo.totalCollateral);
    writeContractInfoInner(w, c.singleContractInfo.contractInfo);
  } else {
    const d = c.disjointContractInfo;
    w.writeBigSize(1).writeU64(d.totalCollateral).writeBigSize(d.contractInfos.length);
    for (const ci of d.contractInfos) writeContractInfoInner(w, ci);
  }
}

function readContractInfo(r: WireReader): ContractInfo {
  const type = r.readBigSize('contract_info type');
  if (type === 0n) {
    const totalCollateral = r.readU64('total_collateral');
    return { singleContractInfo: { totalCollateral, contractInfo: readContractInfoInner(r) } };
  }
  if (type === 1n) {
    const totalCollateral = r.readU64('total_collateral');
    const n = r.readBigSizeCount('num_disjoint_events', 2);
    const contractInfos: ContractInfoInner[] = [];
    for (let i = 0; i < n; i++) contractInfos.push(readContractInfoInner(r));
    return { disjointContractInfo: { totalCollateral, contractInfos } };
  }
  throw unknownType('contract_info', type);
}

// ------------------------------------------------------------------ funding

function writeFundingInput(w: WireWriter, f: FundingInput): void {
  w.writeU64(f.inputSerialId).writeVarBytes(f.prevTx).writeU32(f.prevTxVout).writeU32(f.sequence);
  w.writeU16(f.maxWitnessLen).writeU16Bytes(f.redeemScript);
}

function readFundingInput(r: WireReader): FundingInput {
  return {
    inputSerialId: r.readU64('input_serial_id'),
    prevTx: r.readVarBytes('prevtx'),
    prevTxVout: r.readU32('prevtx_vout'),
    sequence: r.readU32('sequence'),
    maxWitnessLen: r.readU16('max_witness_len'),
    redeemScript: r.readU16Bytes('redeemscript'),
  };
}

const FUNDING_INPUT_MIN_SIZE = 8 + 1 + 4 + 4 + 2 + 2;

function writeFundingInputs(w: WireWriter, inputs: FundingInput[]): void {
  w.writeBigSize(inputs.length);
  for (const i of inputs) writeFundingInput(w, i);
}

function readFundingInputs(r: WireReader): FundingInput[] {
  const n = r.readBigSizeCount('funding_inputs', FUNDING_INPUT_MIN_SIZE);
  const out: FundingInput[] = [];
  for (let i = 0; i < n; i++) out.push(readFundingInput(r));
  return out;
}

function writeCetAdaptorSignatures(w: WireWriter, c: CetAdaptorSignatures): void {
  w.writeBigSize(c.ecdsaAdaptorSignatures.length);
  for (const s of c.ecdsaAdaptorSignatures) w.writeBytes(fixed(s.signature, ADAPTOR_SIGNATURE_SIZE, 'adaptor signature'));
}

function readCetAdaptorSignatures(r: WireReader): CetAdaptorSignatures {
  const n = r.readBigSizeCount('cet_adaptor_signatures', ADAPTOR_SIGNATURE_SIZE);
  const ecdsaAdaptorSignatures = [];
  for (let i = 0; i < n; i++) ecdsaAdaptorSignatures.push({ signature: r.readBytes(ADAPTOR_SIGNATURE_SIZE, 'adaptor signature') });
  return { ecdsaAdaptorSignatures };
}

function writeFundingSignatures(w: WireWriter, f: FundingSignatures): void {
  w.writeBigSize(f.fundingSignatures.length);
  for (const sig of f.fundingSignatures) {
    w.writeBigSize(sig.witnessElements.length);
    for (const e of sig.witnessElements) w.writeVarBytes(e.witness);
  }
}

function readFundingSignatures(r: WireReader): FundingSignatures {
  const n = r.readBigSizeCount('funding_signatures', 1);
  const fundingSignatures = [];
  for (let i = 0; i < n; i++) {
    const m = r.readBigSizeCount('witness_elements', 1);
    const witnessElements = [];
    for (let j = 0; j < m; j++) witnessElements.push({ witness: r.readVarBytes('witness') });
    fundingSignatures.push({ witnessElements });
  }
  return { fundingSignatures };
}

// ------------------------------------------------------------------ messages

function readMessageType(r: WireReader, expected: number, what: string): void {
  const t = r.readU16(`${what} type`);
  if (t !== expected) throw unknownType(what, t);
}

/**
 * Encodes offer_dlc (type 42778, Protocol.md).
 * @throws {DlcError} INVALID_LENGTH on a wrong-size fixed field; INVALID_PARAMS on
 *   an unrepresentable hyperbola parameter.
 * @throws {RangeError} when an integer field is out of range.
 */
export function encodeOfferDlc(m: OfferDlc): Uint8Array {
  const w = new WireWriter();
  w.writeU16(MessageType.offer_dlc).writeU32(m.protocolVersion).writeU8(m.contractFlags);
  w.writeBytes(fixed(m.chainHash, 32, 'chain hash')).writeBytes(fixed(m.temporaryContractId, 32, 'temporary contract id'));
  writeContractInfo(w, m.contractInfo);
  w.writeBytes(fixed(m.fundingPubkey, 33, 'funding pubkey')).writeU16Bytes(m.payoutSpk).writeU64(m.payoutSerialId);
  w.writeU64(m.offerCollateral);
  writeFundingInputs(w, m.fundingInputs);
  w.writeU16Bytes(m.changeSpk).writeU64(m.changeSerialId).writeU64(m.fundOutputSerialId).writeU64(m.feeRatePerVb);
  w.writeU32(m.cetLocktime).writeU32(m.refundLocktime);
  return w.toBytes();
}

/**
 * Decodes offer_dlc. Structural only: see validateOffer for contract rules.
 * @throws {DlcError} DECODE_ERROR on malformed, unknown-type or trailing bytes.
 */
export function decodeOfferDlc(bytes: Uint8Array): OfferDlc {
  const r = new WireReader(bytes);
  readMessageType(r, MessageType.offer_dlc, 'offer_dlc');
  const m: OfferDlc = {
    protocolVersion: r.readU32('protocol_version'),
    contractFlags: r.readU8('contract_flags'),
    chainHash: r.readBytes(32, 'chain_hash'),
    temporaryContractId: r.readBytes(32, 'temporary_contract_id'),
    contractInfo: readContractInfo(r),
    fundingPubkey: r.readBytes(33, 'funding_pubkey'),
    payoutSpk: r.readU16Bytes('payout_spk'),
    payoutSerialId: r.readU64('payout_serial_id'),
    offerCollateral: r.readU64('offer_collateral'),
    fundingInputs: readFundingInputs(r),
    changeSpk: r.readU16Bytes('change_spk'),
    changeSerialId: r.readU64('change_serial_id'),
    fundOutputSerialId: r.readU64('fund_output_serial_id'),
    feeRatePerVb: r.readU64('fee_rate_per_vb'),
    cetLocktime: r.readU32('cet_locktime'),
    refundLocktime: r.readU32('refund_locktime'),
  };
  r.expectEnd('offer_dlc');
  return m;
}

/**
 * Encodes accept_dlc (type 42780). Negotiation fields are always written absent.
 * @throws {DlcError} INVALID_LENGTH on a wrong-size fixed field.
 * @throws {RangeError} when an integer field is out of range.
 */
export function encodeAcceptDlc(m: AcceptDlc): Uint8Array {
  const w = new WireWriter();
  w.writeU16(MessageType.accept_dlc).writeU32(m.protocolVersion);
  w.writeBytes(fixed(m.temporaryContractId, 32, 'temporary contract id')).writeU64(m.acceptCollateral);
  w.writeBytes(fixed(m.fundingPubkey, 33, 'funding pubkey')).writeU16Bytes(m.payoutSpk).writeU64(m.payoutSerialId);
  writeFundingInputs(w, m.fundingInputs);
  w.writeU16Bytes(m.changeSpk).writeU64(m.changeSerialId);
  writeCetAdaptorSignatures(w, m.cetAdaptorSignatures);
  w.writeBytes(fixed(m.refundSignature, 64, 'refund signature'));
  w.writeU8(0); // Optional(negotiation_fields): absent
  return w.toBytes();
}

/**
 * Decodes accept_dlc.
 * @throws {DlcError} DECODE_ERROR on malformed, unknown-type or trailing bytes,
 *   and (reason `unsupported-negotiation-fields`) when negotiation fields are present.
 */
export function decodeAcceptDlc(bytes: Uint8Array): AcceptDlc {
  const r = new WireReader(bytes);
  readMessageType(r, MessageType.accept_dlc, 'accept_dlc');
  const m: AcceptDlc = {
    protocolVersion: r.readU32('protocol_version'),
    temporaryContractId: r.readBytes(32, 'temporary_contract_id'),
    acceptCollateral: r.readU64('accept_collateral'),
    fundingPubkey: r.readBytes(33, 'funding_pubkey'),
    payoutSpk: r.readU16Bytes('payout_spk'),
    payoutSerialId: r.readU64('payout_serial_id'),
    fundingInputs: readFundingInputs(r),
    changeSpk: r.readU16Bytes('change_spk'),
    changeSerialId: r.readU64('change_serial_id'),
    cetAdaptorSignatures: readCetAdaptorSignatures(r),
    refundSignature: r.readBytes(64, 'refund_signature'),
    negotiationFields: null,
  };
  if (r.readBool('negotiation_fields present')) {
    throw decodeError('accept_dlc: negotiation fields are not supported', 'unsupported-negotiation-fields');
  }
  r.expectEnd('accept_dlc');
  return m;
}

/**
 * Encodes sign_dlc (type 42782).
 * @throws {DlcError} INVALID_LENGTH on a wrong-size fixed field.
 */
export function encodeSignDlc(m: SignDlc): Uint8Array {
  const w = new WireWriter();
  w.writeU16(MessageType.sign_dlc).writeU32(m.protocolVersion).writeBytes(fixed(m.contractId, 32, 'contract id'));
  writeCetAdaptorSignatures(w, m.cetAdaptorSignatures);
  w.writeBytes(fixed(m.refundSignature, 64, 'refund signature'));
  writeFundingSignatures(w, m.fundingSignatures);
  return w.toBytes();
}

/**
 * Decodes sign_dlc.
 * @throws {DlcError} DECODE_ERROR on malformed, unknown-type or trailing bytes.
 */
export function decodeSignDlc(bytes: Uint8Array): SignDlc {
  const r = new WireReader(bytes);
  readMessageType(r, MessageType.sign_dlc, 'sign_dlc');
  const m: SignDlc = {
    protocolVersion: r.readU32('protocol_version'),
    contractId: r.readBytes(32, 'contract_id'),
    cetAdaptorSignatures: readCetAdaptorSignatures(r),
    refundSignature: r.readBytes(64, 'refund_signature'),
    fundingSignatures: readFundingSignatures(r),
  };
  r.expectEnd('sign_dlc');
  return m;
}

/**
 * Encodes any message: offer/accept/sign as u16-typed wire messages, oracle
 * announcement/attestation as TLV records.
 * @throws {DlcError} INVALID_LENGTH / INVALID_PARAMS as the per-type encoders.
 * @throws {RangeError} when an integer field is out of range.
 */
export function encodeMessage(msg: DlcMessage): Uint8Array {
  switch (msg.type) {
    case 'offer_dlc':
      return encodeOfferDlc(msg.message);
    case 'accept_dlc':
      return encodeAcceptDlc(msg.message);
    case 'sign_dlc':
      return encodeSignDlc(msg.message);
    case 'oracle_announcement':
      return encodeOracleAnnouncement(msg.message);
    case 'oracle_attestation':
      return encodeOracleAttestation(msg.message);
  }
}

/**
 * The message type of wire bytes, from their first bytes, without decoding.
 * @throws {DlcError} DECODE_ERROR when the type is not one of ours.
 */
export function peekMessageType(bytes: Uint8Array): DlcMessage['type'] {
  const r = new WireReader(bytes);
  const t = bytes[0] === 0xfd ? r.readBigSize('message type') : BigInt(r.readU16('message type'));
  for (const [name, num] of Object.entries(MessageType)) {
    if (BigInt(num) === t) return name as DlcMessage['type'];
  }
  throw unknownType('message', t);
}

/**
 * Decodes wire bytes of any supported message, dispatching on the type.
 * @throws {DlcError} DECODE_ERROR on unknown type, malformed or trailing bytes.
 */
export function decodeMessage(bytes: Uint8Array): DlcMessage {
  const type = peekMessageType(bytes);
  if ((type === 'offer_dlc' || type === 'accept_dlc' || type === 'sign_dlc') && bytes[0] === 0xfd) {
    throw decodeError(`${type} must be a u16-typed wire message, not a TLV`, 'unknown-type');
  }
  switch (type) {
    case 'offer_dlc':
      return { type, message: decodeOfferDlc(bytes) };
    case 'accept_dlc':
      return { type, message: decodeAcceptDlc(bytes) };
    case 'sign_dlc':
      return { type, message: decodeSignDlc(bytes) };
    case 'oracle_announcement':
      return { type, message: decodeOracleAnnouncement(bytes) };
    case 'oracle_attestation':
      return { type, message: decodeOracleAttestation(bytes) };
  }
}
