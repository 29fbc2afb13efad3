// Wire codec and JSON form against the vectors: the 14 dlcspecs test_vectors
// (offer/accept/sign as hex and JSON), rust-dlc's serde JSON messages and the
// dlcdevkit oracle JSON. Every vector is read verbatim from ../shared/dlc-vectors.
import { describe, expect, it } from 'vitest';
import { DlcError } from '../protocol/errors.js';
import {
  decodeMessage,
  decodeOracleAnnouncement,
  decodeOracleEvent,
  encodeMessage,
  encodeOracleAnnouncement,
  encodeOracleEvent,
  encodeOracleEventTlv,
  peekMessageType,
} from '../protocol/messages/codec.js';
import { messageFromJson, messageToJson, parseJson, stringifyJson } from '../protocol/messages/json.js';
import type { JsonObject, JsonValue } from '../protocol/messages/json.js';
import type { DlcMessage, OfferDlc, OracleAnnouncement } from '../protocol/messages/types.js';
import { fromHex, toHex } from '../protocol/messages/wire.js';
import { readVectorJson, specTestVectors } from './helpers/vectors.js';

const KINDS = [
  ['offer_message', 'offer_dlc'],
  ['accept_message', 'accept_dlc'],
  ['sign_message', 'sign_dlc'],
] as const;

/** Our JSON form, printed and re-read the way a consumer would see it. */
function asJson(msg: DlcMessage): JsonValue {
  return parseJson(stringifyJson(messageToJson(msg)));
}

function announcementsOf(offer: OfferDlc): OracleAnnouncement[] {
  const ci = offer.contractInfo;
  const inners = 'singleContractInfo' in ci ? [ci.singleContractInfo.contractInfo] : ci.disjointContractInfo.contractInfos;
  return inners.flatMap((i) => ('single' in i.oracleInfo ? [i.oracleInfo.single.oracleAnnouncement] : i.oracleInfo.multi.oracleAnnouncements));
}

const vectors = specTestVectors();

describe('dlcspecs test_vectors (current wire format, protocol version 1)', () => {
  it('has the 14 files the README lists', () => {
    expect(vectors).toHaveLength(14);
  });

  const cases = vectors.flatMap(([file, v]) => KINDS.map(([key, type]) => ({ file, key, type, vector: v[key] })));

  it.each(cases)('$file $key: hex decodes, re-encodes byte for byte, equals its JSON', ({ type, vector }) => {
    const bytes = fromHex(vector.serialized);
    expect(peekMessageType(bytes)).toBe(type);
    const msg = decodeMessage(bytes);
    expect(msg.type).toBe(type);
    expect(toHex(encodeMessage(msg))).toBe(vector.serialized);
    expect(asJson(msg)).toEqual(vector.message);
  });

  it.each(cases)('$file $key: JSON encodes to the serialized hex', ({ type, vector }) => {
    const msg = messageFromJson(type, vector.message);
    expect(toHex(encodeMessage(msg))).toBe(vector.serialized);
  });

  it('keeps u64 values above 2^53 exact (serial ids)', () => {
    const [, v] = vectors.find(([f]) => f === 'enum_single_oracle_test.json')!;
    const msg = decodeMessage(fromHex(v.offer_message.serialized));
    if (msg.type !== 'offer_dlc') throw new Error('not an offer');
    expect(msg.message.changeSerialId).toBe(15716098011649384884n);
    expect(stringifyJson(messageToJson(msg))).toContain('"changeSerialId":15716098011649384884');
  });

  it('prints hyperbola parameters as floats, like the vectors (50.0, -1.0)', () => {
    const [, v] = vectors.find(([f]) => f === 'single_oracle_numerical_hyperbola_test.json')!;
    const text = stringifyJson(messageToJson(decodeMessage(fromHex(v.offer_message.serialized))));
    expect(text).toContain('"usePositivePiece":true,"translateOutcome":50.0,"translatePayout":50.0,"a":5.0,"b":-1.0,"c":0.0,"d":1.0');
  });

  it('shows the refund signature as DER in JSON and carries r|s on the wire', () => {
    const [, v] = vectors.find(([f]) => f === 'enum_single_oracle_test.json')!;
    const msg = decodeMessage(fromHex(v.accept_message.serialized));
    if (msg.type !== 'accept_dlc') throw new Error('not an accept');
    const der = (v.accept_message.message as JsonObject).refundSignature as string;
    expect(der.startsWith('3044022')).toBe(true);
    // DER 30 44 02 20 <r> 02 20 <s>: the compact form is r | s.
    expect(toHex(msg.message.refundSignature)).toBe(der.slice(8, 72) + der.slice(76));
    expect(v.accept_message.serialized).toContain(toHex(msg.message.refundSignature));
  });

  it('encodeOracleEvent gives the oracle_event bytes embedded in each announcement (what it signs)', () => {
    let checked = 0;
    for (const [, v] of vectors) {
      const msg = decodeMessage(fromHex(v.offer_message.serialized));
      if (msg.type !== 'offer_dlc') throw new Error('not an offer');
      for (const ann of announcementsOf(msg.message)) {
        const tlv = encodeOracleEventTlv(ann.oracleEvent);
        const body = encodeOracleEvent(ann.oracleEvent);
        expect(toHex(tlv.subarray(0, 3))).toBe('fdd822');
        expect(toHex(tlv).endsWith(toHex(body))).toBe(true);
        expect(v.offer_message.serialized).toContain(toHex(tlv));
        expect(decodeOracleEvent(body)).toEqual(ann.oracleEvent);
        // A standalone announcement is the TLV record found inside the offer.
        const annBytes = encodeOracleAnnouncement(ann);
        expect(v.offer_message.serialized).toContain(toHex(annBytes));
        expect(decodeOracleAnnouncement(annBytes)).toEqual(ann);
        checked++;
      }
    }
    expect(checked).toBe(72);
  });
});

describe('rust-dlc dlc-messages serde JSON', () => {
  // These files are serde JSON of rust-dlc's current message structs; they map onto
  // our JSON form with two differences: accept_msg.json omits `negotiationFields`
  // (serde skips None) and offer_msg_disjoint.json names the enum payout
  // `offerPayout` (newer rust-dlc), which messageFromJson accepts as an alias.
  const renameOfferPayout = (v: JsonValue): JsonValue => {
    if (Array.isArray(v)) return v.map(renameOfferPayout);
    if (v !== null && typeof v === 'object' && !(typeof v === 'bigint')) {
      const out: JsonObject = {};
      for (const [k, x] of Object.entries(v as JsonObject)) out[k === 'offerPayout' ? 'localPayout' : k] = renameOfferPayout(x);
      return out;
    }
    return v;
  };
  const cases = [
    { file: 'offer_msg.json', type: 'offer_dlc', expected: (j: JsonObject): JsonValue => j },
    { file: 'offer_msg_disjoint.json', type: 'offer_dlc', expected: renameOfferPayout },
    { file: 'accept_msg.json', type: 'accept_dlc', expected: (j: JsonObject): JsonValue => ({ ...j, negotiationFields: null }) },
    { file: 'sign_msg.json', type: 'sign_dlc', expected: (j: JsonObject): JsonValue => j },
  ] as const;

  it.each(cases)('$file: JSON -> wire -> JSON round trip', ({ file, type, expected }) => {
    const json = readVectorJson<JsonObject>(`rust-dlc/dlc-messages/${file}`);
    const msg = messageFromJson(type, json);
    const bytes = encodeMessage(msg);
    const back = decodeMessage(bytes);
    expect(back).toEqual(msg);
    expect(toHex(encodeMessage(back))).toBe(toHex(bytes));
    expect(asJson(back)).toEqual(expected(json));
  });

  it('segment_start_msg + segment_chunk_msg reassemble into the wire bytes of accept_msg.json', () => {
    // rust-dlc splits messages above 65535 bytes into a start segment and chunks (transport framing).
    const start = readVectorJson<{ nbSegments: number; data: number[] }>('rust-dlc/dlc-messages/segment_start_msg.json');
    const chunk = readVectorJson<{ data: number[] }>('rust-dlc/dlc-messages/segment_chunk_msg.json');
    expect(start.nbSegments).toBe(2);
    const bytes = Uint8Array.from([...start.data, ...chunk.data]);
    const msg = decodeMessage(bytes);
    expect(msg.type).toBe('accept_dlc');
    expect(toHex(encodeMessage(msg))).toBe(toHex(bytes));
    const accept = readVectorJson<JsonObject>('rust-dlc/dlc-messages/accept_msg.json');
    expect(asJson(msg)).toEqual({ ...accept, negotiationFields: null });
  });

  it('dlc_test.json holds LEGACY (pre protocol-version-1) offers, which the current decoder rejects', () => {
    // Not a current-format vector (dlc-vectors README): its offers lack the protocol
    // version and wrap contract_info in a TLV. Checked here only to document the skip.
    const tests = readVectorJson<{ offer: string; accept: string; sign: string }[]>('rust-dlc/dlc-messages/dlc_test.json');
    expect(tests.length).toBe(21);
    for (const t of tests) {
      expect(t.offer.startsWith('a71a00')).toBe(true);
      expect(() => decodeMessage(fromHex(t.offer))).toThrow(DlcError);
    }
  });
});

describe('dlcdevkit oracle JSON', () => {
  it.each([
    ['numeric-announcement.json', 'oracle_announcement'],
    ['numeric-attestation.json', 'oracle_attestation'],
  ] as const)('%s: JSON -> TLV -> JSON round trip', (file, type) => {
    const json = readVectorJson<JsonObject>(`dlcdevkit/oracle/${file}`);
    const msg = messageFromJson(type, json);
    const bytes = encodeMessage(msg);
    expect(toHex(bytes.subarray(0, 3))).toBe(type === 'oracle_announcement' ? 'fdd824' : 'fdd868');
    const back = decodeMessage(bytes);
    expect(back).toEqual(msg);
    expect(asJson(back)).toEqual(json);
  });

  it('decodes the u16-typed wire form of an announcement as well as the TLV form', () => {
    const msg = messageFromJson('oracle_announcement', readVectorJson('dlcdevkit/oracle/numeric-announcement.json'));
    const tlv = encodeMessage(msg);
    // TLV: fd d824 <bigsize length> body; wire: d824 body.
    const lengthSize = tlv[3] === 0xfd ? 3 : 1;
    const wire = Uint8Array.from([0xd8, 0x24, ...tlv.subarray(3 + lengthSize)]);
    expect(decodeMessage(wire)).toEqual(msg);
  });
});
