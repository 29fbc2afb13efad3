/**
 * JSON form of the dlcspecs messages: exactly the `message` objects of
 * `dlcspecs/test/test_vectors/*.json` (camelCase names, byte strings as hex,
 * u64 as exact JSON integers, refund signatures as DER hex, hyperbola
 * parameters as floats). `stringifyJson` / `parseJson` keep u64 values > 2^53
 * exact (lossless-json); never pass this JSON through `JSON.parse`.
 *
 * Input is checked field by field: every problem throws
 * `DlcError('INVALID_JSON')` whose `reason` is the JSON path of the bad field
 * (e.g. `$.fundingInputs[0].prevTx`). Unknown keys are rejected, so typos do
 * not vanish silently. One alias is accepted: `offerPayout` for `localPayout`
 * in enumerated payouts (the name newer rust-dlc serde uses).
 *
 * This module does NOT check contract rules (validate.ts) or signatures, and
 * does no I/O.
 */
import { LosslessNumber, parse as losslessParse, stringify as losslessStringify } from 'lossless-json';
import { DlcError } from '../errors.js';
import { fromHex, toHex } from './wire.js';
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

/** A JSON value as produced by {@link messageToJson} and {@link parseJson}. */
export type JsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | LosslessNumber
  | JsonValue[]
  | { [key: string]: JsonValue };

export type JsonObject = { [key: string]: JsonValue };

const U64_MAX = (1n << 64n) - 1n;

// ------------------------------------------------------------------ text

/**
 * Parses JSON text keeping every integer exact: safe integers become
 * `number`, larger ones `bigint`; non-integers become `number`. Duplicate keys
 * are rejected.
 * @throws {DlcError} INVALID_JSON when the text is not JSON.
 */
export function parseJson(text: string): JsonValue {
  try {
    return losslessParse(text, null, parseJsonNumber) as JsonValue;
  } catch (cause) {
    throw new DlcError('INVALID_JSON', `not valid JSON: ${(cause as Error).message}`, { reason: '$', cause });
  }
}

function parseJsonNumber(s: string): number | bigint {
  if (/^-?\d+$/.test(s)) {
    const n = Number(s);
    return Number.isSafeInteger(n) ? n : BigInt(s);
  }
  return Number(s);
}

/**
 * Stringifies JSON with bigint and LosslessNumber values written exactly.
 * @throws {TypeError} when the value contains something JSON cannot hold.
 */
export function stringifyJson(value: JsonValue, indent?: number): string {
  const out = losslessStringify(value, null, indent);
  if (out === undefined) throw new TypeError('value has no JSON form');
  return out;
}

// ------------------------------------------------------------------ DER

// The JSON form shows refund signatures as DER and the wire carries r | s. These
// two converters only change the format and check no range, so that every
// decodable message has a JSON form (protocol/crypto/ecdsa.ts has the checking
// versions for signature work).

/** Strict DER (BIP66) of a 64-byte compact ECDSA signature `r | s`. */
function ecdsaCompactToDer(compact: Bytes): Bytes {
  if (compact.length !== 64) {
    throw new DlcError('INVALID_LENGTH', 'compact ECDSA signature must be 64 bytes', { reason: 'fixed-length-field' });
  }
  const int = (x: Bytes): number[] => {
    let i = 0;
    while (i < x.length - 1 && x[i] === 0) i++;
    const v = Array.from(x.subarray(i));
    if (v[0]! & 0x80) v.unshift(0);
    return [0x02, v.length, ...v];
  };
  const body = [...int(compact.subarray(0, 32)), ...int(compact.subarray(32))];
  return Uint8Array.from([0x30, body.length, ...body]);
}

/** Parses strict DER (BIP66 rules, no sighash byte) into `r | s`; BAD_SIGNATURE otherwise. */
function ecdsaDerToCompact(der: Bytes): Bytes {
  const bad = (why: string): DlcError => new DlcError('BAD_SIGNATURE', `not a strict DER signature: ${why}`, { reason: 'invalid-der' });
  if (der.length < 8 || der.length > 72) throw bad('length');
  if (der[0] !== 0x30 || der[1] !== der.length - 2) throw bad('sequence header');
  const out = new Uint8Array(64);
  let pos = 2;
  for (let k = 0; k < 2; k++) {
    if (der[pos] !== 0x02) throw bad('integer tag');
    const len = der[pos + 1]!;
    pos += 2;
    if (len === 0 || pos + len > der.length) throw bad('integer length');
    const v = der.subarray(pos, pos + len);
    if (v[0]! & 0x80) throw bad('negative integer');
    if (len > 1 && v[0] === 0 && !(v[1]! & 0x80)) throw bad('non-minimal integer');
    const stripped = v[0] === 0 && len > 1 ? v.subarray(1) : v;
    if (stripped.length > 32) throw bad('integer longer than 32 bytes');
    out.set(stripped, 32 * k + 32 - stripped.length);
    pos += len;
  }
  if (pos !== der.length) throw bad('trailing bytes');
  return out;
}

// ------------------------------------------------------------------ to JSON

function formatF64(x: number): LosslessNumber {
  // The vectors (rust serde_json) print every float with a fraction: 50.0, -1.0.
  if (Object.is(x, -0)) return new LosslessNumber('-0.0');
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return new LosslessNumber(x.toFixed(1));
  return new LosslessNumber(String(x));
}

function pointToJson(p: PayoutPoint): JsonObject {
  return { eventOutcome: p.eventOutcome, outcomePayout: p.outcomePayout, extraPrecision: p.extraPrecision };
}

function eventDescriptorToJson(d: EventDescriptor): JsonObject {
  if ('enumEvent' in d) return { enumEvent: { outcomes: [...d.enumEvent.outcomes] } };
  const e = d.digitDecompositionEvent;
  return {
    digitDecompositionEvent: { base: e.base, isSigned: e.isSigned, unit: e.unit, precision: e.precision, nbDigits: e.nbDigits },
  };
}

function oracleEventToJson(e: OracleEvent): JsonObject {
  return {
    oracleNonces: e.oracleNonces.map(toHex),
    eventMaturityEpoch: e.eventMaturityEpoch,
    eventDescriptor: eventDescriptorToJson(e.eventDescriptor),
    eventId: e.eventId,
  };
}

function announcementToJson(a: OracleAnnouncement): JsonObject {
  return {
    announcementSignature: toHex(a.announcementSignature),
    oraclePublicKey: toHex(a.oraclePublicKey),
    oracleEvent: oracleEventToJson(a.oracleEvent),
  };
}

function attestationToJson(a: OracleAttestation): JsonObject {
  return {
    eventId: a.eventId,
    oraclePublicKey: toHex(a.oraclePublicKey),
    signatures: a.signatures.map(toHex),
    outcomes: [...a.outcomes],
  };
}

function curvePieceToJson(c: PayoutCurvePiece): JsonObject {
  if ('polynomialPayoutCurvePiece' in c) {
    return { polynomialPayoutCurvePiece: { payoutPoints: c.polynomialPayoutCurvePiece.payoutPoints.map(pointToJson) } };
  }
  const h = c.hyperbolaPayoutCurvePiece;
  return {
    hyperbolaPayoutCurvePiece: {
      usePositivePiece: h.usePositivePiece,
      translateOutcome: formatF64(h.translateOutcome),
      translatePayout: formatF64(h.translatePayout),
      a: formatF64(h.a),
      b: formatF64(h.b),
      c: formatF64(h.c),
      d: formatF64(h.d),
    },
  };
}

function payoutFunctionToJson(f: PayoutFunction): JsonObject {
  return {
    payoutFunctionPieces: f.payoutFunctionPieces.map((p) => ({
      endPoint: pointToJson(p.endPoint),
      payoutCurvePiece: curvePieceToJson(p.payoutCurvePiece),
    })),
    lastEndpoint: pointToJson(f.lastEndpoint),
  };
}

function roundingToJson(r: RoundingIntervals): JsonObject {
  return { intervals: r.intervals.map((i) => ({ beginInterval: i.beginInterval, roundingMod: i.roundingMod })) };
}

function descriptorToJson(d: ContractDescriptor): JsonObject {
  if ('enumeratedContractDescriptor' in d) {
    return {
      enumeratedContractDescriptor: {
        payouts: d.enumeratedContractDescriptor.payouts.map((p) => ({ outcome: p.outcome, localPayout: p.localPayout })),
      },
    };
  }
  const n = d.numericOutcomeContractDescriptor;
  return {
    numericOutcomeContractDescriptor: {
      numDigits: n.numDigits,
      payoutFunction: payoutFunctionToJson(n.payoutFunction),
      roundingIntervals: roundingToJson(n.roundingIntervals),
    },
  };
}

function oracleInfoToJson(o: OracleInfo): JsonObject {
  if ('single' in o) return { single: { oracleAnnouncement: announcementToJson(o.single.oracleAnnouncement) } };
  const m = o.multi;
  const p = m.oracleParams;
  return {
    multi: {
      threshold: m.threshold,
      oracleAnnouncements: m.oracleAnnouncements.map(announcementToJson),
      oracleParams: p === null ? null : { maxErrorExp: p.maxErrorExp, minFailExp: p.minFailExp, maximizeCoverage: p.maximizeCoverage },
    },
  };
}

function innerToJson(c: ContractInfoInner): JsonObject {
  return { contractDescriptor: descriptorToJson(c.contractDescriptor), oracleInfo: oracleInfoToJson(c.oracleInfo) };
}

function contractInfoToJson(c: ContractInfo): JsonObject {
  if ('singleContractInfo' in c) {
    return {
      singleContractInfo: {
        totalCollateral: c.singleContractInfo.totalCollateral,
        contractInfo: innerToJson(c.singleContractInfo.contractInfo),
      },
    };
  }
  return {
    disjointContractInfo: {
      totalCollateral: c.disjointContractInfo.totalCollateral,
      contractInfos: c.disjointContractInfo.contractInfos.map(innerToJson),
    },
  };
}

function fundingInputToJson(f: FundingInput): JsonObject {
  return {
    inputSerialId: f.inputSerialId,
    prevTx: toHex(f.prevTx),
    prevTxVout: f.prevTxVout,
    sequence: f.sequence,
    maxWitnessLen: f.maxWitnessLen,
    redeemScript: toHex(f.redeemScript),
  };
}

function cetSigsToJson(c: CetAdaptorSignatures): JsonObject {
  return { ecdsaAdaptorSignatures: c.ecdsaAdaptorSignatures.map((s) => ({ signature: toHex(s.signature) })) };
}

function offerToJson(m: OfferDlc): JsonObject {
  return {
    protocolVersion: m.protocolVersion,
    contractFlags: m.contractFlags,
    chainHash: toHex(m.chainHash),
    temporaryContractId: toHex(m.temporaryContractId),
    contractInfo: contractInfoToJson(m.contractInfo),
    fundingPubkey: toHex(m.fundingPubkey),
    payoutSpk: toHex(m.payoutSpk),
    payoutSerialId: m.payoutSerialId,
    offerCollateral: m.offerCollateral,
    fundingInputs: m.fundingInputs.map(fundingInputToJson),
    changeSpk: toHex(m.changeSpk),
    changeSerialId: m.changeSerialId,
    fundOutputSerialId: m.fundOutputSerialId,
    feeRatePerVb: m.feeRatePerVb,
    cetLocktime: m.cetLocktime,
    refundLocktime: m.refundLocktime,
  };
}

function acceptToJson(m: AcceptDlc): JsonObject {
  return {
    protocolVersion: m.protocolVersion,
    temporaryContractId: toHex(m.temporaryContractId),
    acceptCollateral: m.acceptCollateral,
    fundingPubkey: toHex(m.fundingPubkey),
    payoutSpk: toHex(m.payoutSpk),
    payoutSerialId: m.payoutSerialId,
    fundingInputs: m.fundingInputs.map(fundingInputToJson),
    changeSpk: toHex(m.changeSpk),
    changeSerialId: m.changeSerialId,
    cetAdaptorSignatures: cetSigsToJson(m.cetAdaptorSignatures),
    refundSignature: toHex(ecdsaCompactToDer(m.refundSignature)),
    negotiationFields: null,
  };
}

function signToJson(m: SignDlc): JsonObject {
  return {
    protocolVersion: m.protocolVersion,
    contractId: toHex(m.contractId),
    cetAdaptorSignatures: cetSigsToJson(m.cetAdaptorSignatures),
    refundSignature: toHex(ecdsaCompactToDer(m.refundSignature)),
    fundingSignatures: {
      fundingSignatures: m.fundingSignatures.fundingSignatures.map((f) => ({
        witnessElements: f.witnessElements.map((e) => ({ witness: toHex(e.witness) })),
      })),
    },
  };
}

/**
 * The JSON form of a message's body (the vectors' `message` object). u64
 * values are `bigint`: print with {@link stringifyJson}.
 * @throws {DlcError} INVALID_LENGTH when a refund signature is not 64 bytes.
 */
export function messageToJson(msg: DlcMessage): JsonObject {
  switch (msg.type) {
    case 'offer_dlc':
      return offerToJson(msg.message);
    case 'accept_dlc':
      return acceptToJson(msg.message);
    case 'sign_dlc':
      return signToJson(msg.message);
    case 'oracle_announcement':
      return announcementToJson(msg.message);
    case 'oracle_attestation':
      return attestationToJson(msg.message);
  }
}

// ------------------------------------------------------------------ from JSON

function invalid(path: string, what: string, cause?: unknown): DlcError {
  return new DlcError('INVALID_JSON', `${path}: ${what}`, { reason: path, cause });
}

/** A JSON object being read: tracks its path and which keys were used. */
class Obj {
  private readonly used = new Set<string>();
  constructor(
    readonly value: { [key: string]: JsonValue },
    readonly path: string,
  ) {}

  static of(v: JsonValue | undefined, path: string): Obj {
    if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v) || v instanceof LosslessNumber) {
      throw invalid(path, 'expected an object');
    }
    return new Obj(v, path);
  }

  at(key: string): string {
    return `${this.path}.${key}`;
  }

  has(key: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.value, key);
  }

  get(key: string): JsonValue {
    this.used.add(key);
    if (!this.has(key)) throw invalid(this.at(key), 'missing field');
    return this.value[key]!;
  }

  optional(key: string): JsonValue | undefined {
    this.used.add(key);
    return this.has(key) ? this.value[key] : undefined;
  }

  /** Rejects keys that were never read. */
  done(): void {
    for (const key of Object.keys(this.value)) {
      if (!this.used.has(key)) throw invalid(this.at(key), 'unknown field');
    }
  }

  /** For a one-of union `{ variant: {...} }`: the single key present. */
  variant<K extends string>(variants: readonly K[]): K {
    const keys = Object.keys(this.value);
    if (keys.length !== 1 || !variants.includes(keys[0] as K)) {
      throw invalid(this.path, `expected exactly one of ${variants.join(', ')}`);
    }
    this.used.add(keys[0]!);
    return keys[0] as K;
  }
}

function arr(v: JsonValue, path: string): JsonValue[] {
  if (!Array.isArray(v)) throw invalid(path, 'expected an array');
  return v;
}

function integer(v: JsonValue, path: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw invalid(path, 'expected an integer');
    // A number above 2^53 has already lost digits: refuse rather than guess.
    if (!Number.isSafeInteger(v)) throw invalid(path, 'integer beyond 2^53 parsed as a float: parse with parseJson');
    return BigInt(v);
  }
  if (v instanceof LosslessNumber && /^-?\d+$/.test(v.value)) return BigInt(v.value);
  throw invalid(path, 'expected an integer');
}

function uint(v: JsonValue, path: string, max: bigint): bigint {
  const n = integer(v, path);
  if (n < 0n || n > max) throw invalid(path, `integer out of range [0, ${max}]`);
  return n;
}

const u64 = (v: JsonValue, path: string): bigint => uint(v, path, U64_MAX);
const u32 = (v: JsonValue, path: string): number => Number(uint(v, path, 0xffffffffn));
const u16 = (v: JsonValue, path: string): number => Number(uint(v, path, 0xffffn));
const u8 = (v: JsonValue, path: string): number => Number(uint(v, path, 0xffn));

function i32(v: JsonValue, path: string): number {
  const n = integer(v, path);
  if (n < -0x80000000n || n > 0x7fffffffn) throw invalid(path, 'integer out of i32 range');
  return Number(n);
}

function float(v: JsonValue, path: string): number {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'bigint') n = Number(v);
  else if (v instanceof LosslessNumber) n = Number(v.value);
  else throw invalid(path, 'expected a number');
  if (!Number.isFinite(n)) throw invalid(path, 'expected a finite number');
  if (typeof v === 'bigint' && BigInt(n) !== v) throw invalid(path, 'number has no exact double');
  return n;
}

function bool(v: JsonValue, path: string): boolean {
  if (typeof v !== 'boolean') throw invalid(path, 'expected a boolean');
  return v;
}

function str(v: JsonValue, path: string): string {
  if (typeof v !== 'string') throw invalid(path, 'expected a string');
  return v;
}

function hex(v: JsonValue, path: string, size?: number): Bytes {
  const s = str(v, path);
  let bytes: Bytes;
  try {
    bytes = fromHex(s);
  } catch (cause) {
    throw invalid(path, 'expected a hex string', cause);
  }
  if (size !== undefined && bytes.length !== size) throw invalid(path, `expected ${size} bytes, got ${bytes.length}`);
  return bytes;
}

function list<T>(v: JsonValue, path: string, item: (x: JsonValue, p: string) => T): T[] {
  return arr(v, path).map((x, i) => item(x, `${path}[${i}]`));
}

/** A list whose wire count is a u16 (nonces, enum outcomes, attestation lists). */
function list16<T>(v: JsonValue, path: string, item: (x: JsonValue, p: string) => T): T[] {
  const a = arr(v, path);
  if (a.length > 0xffff) throw invalid(path, 'more than 65535 entries (u16 count on the wire)');
  return list(a, path, item);
}

function readObj<T>(v: JsonValue, path: string, body: (o: Obj) => T): T {
  const o = Obj.of(v, path);
  const out = body(o);
  o.done();
  return out;
}

function pointFromJson(v: JsonValue, path: string): PayoutPoint {
  return readObj(v, path, (o) => ({
    eventOutcome: u64(o.get('eventOutcome'), o.at('eventOutcome')),
    outcomePayout: u64(o.get('outcomePayout'), o.at('outcomePayout')),
    extraPrecision: u16(o.get('extraPrecision'), o.at('extraPrecision')),
  }));
}

function eventDescriptorFromJson(v: JsonValue, path: string): EventDescriptor {
  return readObj(v, path, (o) => {
    const kind = o.variant(['enumEvent', 'digitDecompositionEvent'] as const);
    const inner = o.at(kind);
    if (kind === 'enumEvent') {
      return readObj(o.get(kind), inner, (e) => ({
        enumEvent: { outcomes: list16(e.get('outcomes'), e.at('outcomes'), str) },
      }));
    }
    return readObj(o.get(kind), inner, (e) => ({
      digitDecompositionEvent: {
        base: u16(e.get('base'), e.at('base')),
        isSigned: bool(e.get('isSigned'), e.at('isSigned')),
        unit: str(e.get('unit'), e.at('unit')),
        precision: i32(e.get('precision'), e.at('precision')),
        nbDigits: u16(e.get('nbDigits'), e.at('nbDigits')),
      },
    }));
  });
}

function oracleEventFromJson(v: JsonValue, path: string): OracleEvent {
  return readObj(v, path, (o) => ({
    oracleNonces: list16(o.get('oracleNonces'), o.at('oracleNonces'), (x, p) => hex(x, p, 32)),
    eventMaturityEpoch: u32(o.get('eventMaturityEpoch'), o.at('eventMaturityEpoch')),
    eventDescriptor: eventDescriptorFromJson(o.get('eventDescriptor'), o.at('eventDescriptor')),
    eventId: str(o.get('eventId'), o.at('eventId')),
  }));
}

function announcementFromJson(v: JsonValue, path: string): OracleAnnouncement {
  return readObj(v, path, (o) => ({
    announcementSignature: hex(o.get('announcementSignature'), o.at('announcementSignature'), 64),
    oraclePublicKey: hex(o.get('oraclePublicKey'), o.at('oraclePublicKey'), 32),
    oracleEvent: oracleEventFromJson(o.get('oracleEvent'), o.at('oracleEvent')),
  }));
}

function attestationFromJson(v: JsonValue, path: string): OracleAttestation {
  return readObj(v, path, (o) => ({
    eventId: str(o.get('eventId'), o.at('eventId')),
    oraclePublicKey: hex(o.get('oraclePublicKey'), o.at('oraclePublicKey'), 32),
    signatures: list16(o.get('signatures'), o.at('signatures'), (x, p) => hex(x, p, 64)),
    outcomes: list16(o.get('outcomes'), o.at('outcomes'), str),
  }));
}

function curvePieceFromJson(v: JsonValue, path: string): PayoutCurvePiece {
  return readObj(v, path, (o) => {
    const kind = o.variant(['polynomialPayoutCurvePiece', 'hyperbolaPayoutCurvePiece'] as const);
    if (kind === 'polynomialPayoutCurvePiece') {
      return readObj(o.get(kind), o.at(kind), (p) => ({
        polynomialPayoutCurvePiece: { payoutPoints: list(p.get('payoutPoints'), p.at('payoutPoints'), pointFromJson) },
      }));
    }
    return readObj(o.get(kind), o.at(kind), (h) => ({
      hyperbolaPayoutCurvePiece: {
        usePositivePiece: bool(h.get('usePositivePiece'), h.at('usePositivePiece')),
        translateOutcome: float(h.get('translateOutcome'), h.at('translateOutcome')),
        translatePayout: float(h.get('translatePayout'), h.at('translatePayout')),
        a: float(h.get('a'), h.at('a')),
        b: float(h.get('b'), h.at('b')),
        c: float(h.get('c'), h.at('c')),
        d: float(h.get('d'), h.at('d')),
      },
    }));
  });
}

function payoutFunctionFromJson(v: JsonValue, path: string): PayoutFunction {
  return readObj(v, path, (o) => ({
    payoutFunctionPieces: list(o.get('payoutFunctionPieces'), o.at('payoutFunctionPieces'), (x, p) =>
      readObj(x, p, (piece) => ({
        endPoint: pointFromJson(piece.get('endPoint'), piece.at('endPoint')),
        payoutCurvePiece: curvePieceFromJson(piece.get('payoutCurvePiece'), piece.at('payoutCurvePiece')),
      })),
    ),
    lastEndpoint: pointFromJson(o.get('lastEndpoint'), o.at('lastEndpoint')),
  }));
}

function roundingFromJson(v: JsonValue, path: string): RoundingIntervals {
  return readObj(v, path, (o) => ({
    intervals: list(o.get('intervals'), o.at('intervals'), (x, p) =>
      readObj(x, p, (i) => ({
        beginInterval: u64(i.get('beginInterval'), i.at('beginInterval')),
        roundingMod: u64(i.get('roundingMod'), i.at('roundingMod')),
      })),
    ),
  }));
}

function descriptorFromJson(v: JsonValue, path: string): ContractDescriptor {
  return readObj(v, path, (o) => {
    const kind = o.variant(['enumeratedContractDescriptor', 'numericOutcomeContractDescriptor'] as const);
    if (kind === 'enumeratedContractDescriptor') {
      return readObj(o.get(kind), o.at(kind), (e) => ({
        enumeratedContractDescriptor: {
          payouts: list(e.get('payouts'), e.at('payouts'), (x, p) =>
            readObj(x, p, (po) => {
              // `offerPayout` is rust-dlc's newer serde name of the same field.
              const key = po.has('offerPayout') && !po.has('localPayout') ? 'offerPayout' : 'localPayout';
              return { outcome: str(po.get('outcome'), po.at('outcome')), localPayout: u64(po.get(key), po.at(key)) };
            }),
          ),
        },
      }));
    }
    return readObj(o.get(kind), o.at(kind), (n) => ({
      numericOutcomeContractDescriptor: {
        numDigits: u16(n.get('numDigits'), n.at('numDigits')),
        payoutFunction: payoutFunctionFromJson(n.get('payoutFunction'), n.at('payoutFunction')),
        roundingIntervals: roundingFromJson(n.get('roundingIntervals'), n.at('roundingIntervals')),
      },
    }));
  });
}

function oracleParamsFromJson(v: JsonValue | undefined, path: string): OracleParams | null {
  if (v === null || v === undefined) return null;
  return readObj(v, path, (o) => ({
    maxErrorExp: u16(o.get('maxErrorExp'), o.at('maxErrorExp')),
    minFailExp: u16(o.get('minFailExp'), o.at('minFailExp')),
    maximizeCoverage: bool(o.get('maximizeCoverage'), o.at('maximizeCoverage')),
  }));
}

function oracleInfoFromJson(v: JsonValue, path: string): OracleInfo {
  return readObj(v, path, (o) => {
    const kind = o.variant(['single', 'multi'] as const);
    if (kind === 'single') {
      return readObj(o.get(kind), o.at(kind), (s) => ({
        single: { oracleAnnouncement: announcementFromJson(s.get('oracleAnnouncement'), s.at('oracleAnnouncement')) },
      }));
    }
    return readObj(o.get(kind), o.at(kind), (m) => ({
      multi: {
        threshold: u16(m.get('threshold'), m.at('threshold')),
        oracleAnnouncements: list(m.get('oracleAnnouncements'), m.at('oracleAnnouncements'), announcementFromJson),
        oracleParams: oracleParamsFromJson(m.optional('oracleParams'), m.at('oracleParams')),
      },
    }));
  });
}

function innerFromJson(v: JsonValue, path: string): ContractInfoInner {
  return readObj(v, path, (o) => ({
    contractDescriptor: descriptorFromJson(o.get('contractDescriptor'), o.at('contractDescriptor')),
    oracleInfo: oracleInfoFromJson(o.get('oracleInfo'), o.at('oracleInfo')),
  }));
}

function contractInfoFromJson(v: JsonValue, path: string): ContractInfo {
  return readObj(v, path, (o) => {
    const kind = o.variant(['singleContractInfo', 'disjointContractInfo'] as const);
    if (kind === 'singleContractInfo') {
      return readObj(o.get(kind), o.at(kind), (s) => ({
        singleContractInfo: {
          totalCollateral: u64(s.get('totalCollateral'), s.at('totalCollateral')),
          contractInfo: innerFromJson(s.get('contractInfo'), s.at('contractInfo')),
        },
      }));
    }
    return readObj(o.get(kind), o.at(kind), (d) => ({
      disjointContractInfo: {
        totalCollateral: u64(d.get('totalCollateral'), d.at('totalCollateral')),
        contractInfos: list(d.get('contractInfos'), d.at('contractInfos'), innerFromJson),
      },
    }));
  });
}

function fundingInputFromJson(v: JsonValue, path: string): FundingInput {
  return readObj(v, path, (o) => ({
    inputSerialId: u64(o.get('inputSerialId'), o.at('inputSerialId')),
    prevTx: hex(o.get('prevTx'), o.at('prevTx')),
    prevTxVout: u32(o.get('prevTxVout'), o.at('prevTxVout')),
    sequence: u32(o.get('sequence'), o.at('sequence')),
    maxWitnessLen: u16(o.get('maxWitnessLen'), o.at('maxWitnessLen')),
    redeemScript: spk(o.get('redeemScript'), o.at('redeemScript')),
  }));
}

/** A script with a u16 length on the wire. */
function spk(v: JsonValue, path: string): Bytes {
  const b = hex(v, path);
  if (b.length > 0xffff) throw invalid(path, 'script longer than 65535 bytes');
  return b;
}

function cetSigsFromJson(v: JsonValue, path: string): CetAdaptorSignatures {
  return readObj(v, path, (o) => ({
    ecdsaAdaptorSignatures: list(o.get('ecdsaAdaptorSignatures'), o.at('ecdsaAdaptorSignatures'), (x, p) =>
      readObj(x, p, (s) => ({ signature: hex(s.get('signature'), s.at('signature'), 162) })),
    ),
  }));
}

function refundSigFromJson(v: JsonValue, path: string): Bytes {
  const der = hex(v, path);
  try {
    return ecdsaDerToCompact(der);
  } catch (cause) {
    throw invalid(path, 'expected a strict DER ECDSA signature', cause);
  }
}

function fundingSigsFromJson(v: JsonValue, path: string): FundingSignatures {
  return readObj(v, path, (o) => ({
    fundingSignatures: list(o.get('fundingSignatures'), o.at('fundingSignatures'), (x, p) =>
      readObj(x, p, (f) => ({
        witnessElements: list(f.get('witnessElements'), f.at('witnessElements'), (y, q) =>
          readObj(y, q, (e) => ({ witness: hex(e.get('witness'), e.at('witness')) })),
        ),
      })),
    ),
  }));
}

function offerFromJson(v: JsonValue, path: string): OfferDlc {
  return readObj(v, path, (o) => ({
    protocolVersion: u32(o.get('protocolVersion'), o.at('protocolVersion')),
    contractFlags: u8(o.get('contractFlags'), o.at('contractFlags')),
    chainHash: hex(o.get('chainHash'), o.at('chainHash'), 32),
    temporaryContractId: hex(o.get('temporaryContractId'), o.at('temporaryContractId'), 32),
    contractInfo: contractInfoFromJson(o.get('contractInfo'), o.at('contractInfo')),
    fundingPubkey: hex(o.get('fundingPubkey'), o.at('fundingPubkey'), 33),
    payoutSpk: spk(o.get('payoutSpk'), o.at('payoutSpk')),
    payoutSerialId: u64(o.get('payoutSerialId'), o.at('payoutSerialId')),
    offerCollateral: u64(o.get('offerCollateral'), o.at('offerCollateral')),
    fundingInputs: list(o.get('fundingInputs'), o.at('fundingInputs'), fundingInputFromJson),
    changeSpk: spk(o.get('changeSpk'), o.at('changeSpk')),
    changeSerialId: u64(o.get('changeSerialId'), o.at('changeSerialId')),
    fundOutputSerialId: u64(o.get('fundOutputSerialId'), o.at('fundOutputSerialId')),
    feeRatePerVb: u64(o.get('feeRatePerVb'), o.at('feeRatePerVb')),
    cetLocktime: u32(o.get('cetLocktime'), o.at('cetLocktime')),
    refundLocktime: u32(o.get('refundLocktime'), o.at('refundLocktime')),
  }));
}

function acceptFromJson(v: JsonValue, path: string): AcceptDlc {
  return readObj(v, path, (o) => {
    const m: AcceptDlc = {
      protocolVersion: u32(o.get('protocolVersion'), o.at('protocolVersion')),
      temporaryContractId: hex(o.get('temporaryContractId'), o.at('temporaryContractId'), 32),
      acceptCollateral: u64(o.get('acceptCollateral'), o.at('acceptCollateral')),
      fundingPubkey: hex(o.get('fundingPubkey'), o.at('fundingPubkey'), 33),
      payoutSpk: spk(o.get('payoutSpk'), o.at('payoutSpk')),
      payoutSerialId: u64(o.get('payoutSerialId'), o.at('payoutSerialId')),
      fundingInputs: list(o.get('fundingInputs'), o.at('fundingInputs'), fundingInputFromJson),
      changeSpk: spk(o.get('changeSpk'), o.at('changeSpk')),
      changeSerialId: u64(o.get('changeSerialId'), o.at('changeSerialId')),
      cetAdaptorSignatures: cetSigsFromJson(o.get('cetAdaptorSignatures'), o.at('cetAdaptorSignatures')),
      refundSignature: refundSigFromJson(o.get('refundSignature'), o.at('refundSignature')),
      negotiationFields: null,
    };
    const nf = o.optional('negotiationFields');
    if (nf !== undefined && nf !== null) throw invalid(o.at('negotiationFields'), 'negotiation fields are not supported (must be null)');
    return m;
  });
}

function signFromJson(v: JsonValue, path: string): SignDlc {
  return readObj(v, path, (o) => ({
    protocolVersion: u32(o.get('protocolVersion'), o.at('protocolVersion')),
    contractId: hex(o.get('contractId'), o.at('contractId'), 32),
    cetAdaptorSignatures: cetSigsFromJson(o.get('cetAdaptorSignatures'), o.at('cetAdaptorSignatures')),
    refundSignature: refundSigFromJson(o.get('refundSignature'), o.at('refundSignature')),
    fundingSignatures: fundingSigsFromJson(o.get('fundingSignatures'), o.at('fundingSignatures')),
  }));
}

/** Message type names accepted by {@link messageFromJson}. */
export const MESSAGE_TYPE_NAMES = ['offer_dlc', 'accept_dlc', 'sign_dlc', 'oracle_announcement', 'oracle_attestation'] as const;

function bodyFromJson(type: DlcMessage['type'], json: JsonValue, path: string): DlcMessage {
  switch (type) {
    case 'offer_dlc':
      return { type, message: offerFromJson(json, path) };
    case 'accept_dlc':
      return { type, message: acceptFromJson(json, path) };
    case 'sign_dlc':
      return { type, message: signFromJson(json, path) };
    case 'oracle_announcement':
      return { type, message: announcementFromJson(json, path) };
    case 'oracle_attestation':
      return { type, message: attestationFromJson(json, path) };
  }
}

function isTypeName(t: string): t is DlcMessage['type'] {
  return (MESSAGE_TYPE_NAMES as readonly string[]).includes(t);
}

/**
 * Reads the JSON form of a message body (the vectors' `message` object).
 * Integers may be `number` (safe range only), `bigint` or `LosslessNumber`.
 * @throws {DlcError} INVALID_JSON with `reason` = JSON path of the first bad field
 *   (`type` when the type name is unknown).
 */
export function messageFromJson(type: string, json: JsonValue): DlcMessage {
  if (!isTypeName(type)) throw new DlcError('INVALID_JSON', `unknown message type '${type}'`, { reason: 'type' });
  return bodyFromJson(type, json, '$');
}

/**
 * Reads `{"type": "...", "message": {...}}` (the `hashdlc msg` JSON envelope).
 * @throws {DlcError} INVALID_JSON with `reason` = JSON path of the first bad field.
 */
export function envelopeFromJson(json: JsonValue): DlcMessage {
  return readObj(json, '$', (o) => {
    const type = str(o.get('type'), o.at('type'));
    if (!isTypeName(type)) throw invalid(o.at('type'), `unknown message type '${type}'`);
    return bodyFromJson(type, o.get('message'), o.at('message'));
  });
}

/** `{"type": ..., "message": ...}` for a message. @throws {DlcError} INVALID_LENGTH on a bad refund signature. */
export function envelopeToJson(msg: DlcMessage): JsonObject {
  return { type: msg.type, message: messageToJson(msg) };
}
