import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { schnorr } from '@noble/curves/secp256k1.js';
import { isDlcError } from '../protocol/errors.js';
import {
  announcementDigest, attest, attestationPoint, attestationSecret, digitPointTable, enumAdaptorPoint, eventNonces,
  numericAdaptorPoints, outcomeBytes, outcomeDigest, schnorrSign, schnorrSignWithNonce, schnorrVerify,
  signAnnouncement, verifyAnnouncement, verifyAttestation, xOnlyPublicKey, type HashProfile, type OracleNonces,
} from '../protocol/crypto/oracle.js';
import { secp } from '../protocol/crypto/secp.js';
import { encodeOracleEventTlv } from '../protocol/messages/codec.js';
import { messageFromJson, parseJson } from '../protocol/messages/json.js';

const VECTORS = new URL('../../shared/dlc-vectors/', import.meta.url);
const readJson = <T>(path: string): T => JSON.parse(readFileSync(new URL(path, VECTORS), 'utf8')) as T;
const h = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const rnd = (label: string, i: number): Uint8Array => sha256(new TextEncoder().encode(`${label}/${i}`));

function dlcErrorOf(run: () => unknown): { code: string; reason?: string } | undefined {
  try { run(); } catch (e) { if (isDlcError(e)) return { code: e.code, reason: e.reason }; throw e; }
  return undefined;
}

interface SchnorrVector {
  inputs: { privKey: string; privNonce: string; msgHash: string };
  pubKey: string;
  pubNonce: string;
  signature: string;
  sigPoint: string;
}
interface HashVector { Description: string; Variants: string[]; Expected: string; SHA256: string }

describe('dlcspecs dlc_schnorr_test.json', () => {
  const vectors = readJson<SchnorrVector[]>('dlcspecs/dlc_schnorr_test.json');
  it('has 5 cases', () => expect(vectors).toHaveLength(5));
  vectors.forEach((v, i) => {
    it(`case ${i}: key, nonce, signature with the committed nonce, signature point`, () => {
      const sk = h(v.inputs.privKey);
      const k = h(v.inputs.privNonce);
      const m = h(v.inputs.msgHash);
      expect(hex(xOnlyPublicKey(sk))).toBe(v.pubKey);
      expect(hex(xOnlyPublicKey(k))).toBe(v.pubNonce);
      const sig = schnorrSignWithNonce(sk, k, m);
      expect(hex(sig)).toBe(v.signature);
      expect(schnorrVerify(sig, m, h(v.pubKey))).toBe(true);
      expect(schnorr.verify(sig, m, h(v.pubKey))).toBe(true); // independent BIP340 implementation
      // the adaptor point is computable before the signature exists, and is s·G
      expect(hex(attestationPoint(h(v.pubKey), h(v.pubNonce), m))).toBe(v.sigPoint);
      expect(hex(secp().mulG(sig.subarray(32)))).toBe(v.sigPoint);
      const other = m.slice();
      other[0]! ^= 1;
      expect(schnorrVerify(sig, other, h(v.pubKey))).toBe(false);
    });
  });
});

describe('dlcspecs dlc_hash_test.json (NFC normalisation)', () => {
  const vectors = readJson<HashVector[]>('dlcspecs/dlc_hash_test.json');
  for (const v of vectors) {
    it(v.Description, () => {
      for (const variant of v.Variants) {
        expect(hex(outcomeBytes(variant))).toBe(v.Expected);
        expect(hex(outcomeDigest('sha256', variant))).toBe(v.SHA256);
        // the tagged profile normalises the same way, and differs from plain SHA256
        expect(hex(outcomeDigest('tagged', variant))).toBe(hex(outcomeDigest('tagged', v.Variants[0]!)));
        expect(hex(outcomeDigest('tagged', variant))).not.toBe(v.SHA256);
      }
    });
  }
});

// ---------------------------------------------------------------- dlcdevkit numeric oracle

interface DevkitAnnouncement {
  announcementSignature: string;
  oraclePublicKey: string;
  oracleEvent: {
    oracleNonces: string[];
    eventMaturityEpoch: number;
    eventDescriptor: { digitDecompositionEvent: { base: number; isSigned: boolean; unit: string; precision: number; nbDigits: number } };
    eventId: string;
  };
}
interface DevkitAttestation { eventId: string; oraclePublicKey: string; signatures: string[]; outcomes: string[] }

/**
 * A minimal oracle_event TLV encoder for this one vector (Oracle.md
 * §oracle_event, digit_decomposition_event_descriptor with a u16 base as the
 * vectors README notes), kept independent of protocol/messages on purpose.
 */
function encodeDevkitEventTlv(ev: DevkitAnnouncement['oracleEvent']): Uint8Array {
  const out: number[] = [];
  const u16 = (v: number): void => { out.push(v >> 8, v & 0xff); };
  const u32 = (v: number): void => { out.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff); };
  const bigsize = (v: number, to: number[]): void => { if (v < 0xfd) to.push(v); else to.push(0xfd, v >> 8, v & 0xff); };
  const str = (s: string, to: number[]): void => { const b = new TextEncoder().encode(s); bigsize(b.length, to); to.push(...b); };
  const d = ev.eventDescriptor.digitDecompositionEvent;
  const desc: number[] = [d.base >> 8, d.base & 0xff, d.isSigned ? 1 : 0];
  str(d.unit, desc);
  desc.push((d.precision >>> 24) & 0xff, (d.precision >>> 16) & 0xff, (d.precision >>> 8) & 0xff, d.precision & 0xff, d.nbDigits >> 8, d.nbDigits & 0xff);
  u16(ev.oracleNonces.length);
  for (const n of ev.oracleNonces) out.push(...h(n));
  u32(ev.eventMaturityEpoch);
  bigsize(55306, out);
  bigsize(desc.length, out);
  out.push(...desc);
  str(ev.eventId, out);
  const tlv: number[] = [];
  bigsize(55330, tlv);
  bigsize(out.length, tlv);
  return Uint8Array.from([...tlv, ...out]);
}

describe('dlcdevkit numeric announcement and attestation (20 binary digits)', () => {
  const ann = readJson<DevkitAnnouncement>('dlcdevkit/oracle/numeric-announcement.json');
  const att = readJson<DevkitAttestation>('dlcdevkit/oracle/numeric-attestation.json');
  const pub = h(att.oraclePublicKey);
  const nonces = ann.oracleEvent.oracleNonces.map(h);
  const sigs = att.signatures.map(h);

  it('the announcement signature covers SHA256(oracle_event value) (sha256 profile), not the tagged form', () => {
    const tlv = encodeDevkitEventTlv(ann.oracleEvent);
    expect(verifyAnnouncement('sha256', h(ann.oraclePublicKey), h(ann.announcementSignature), tlv)).toBe(true);
    expect(verifyAnnouncement('tagged', h(ann.oraclePublicKey), h(ann.announcementSignature), tlv)).toBe(false);
  });

  it('protocol/messages encodes the same oracle_event TLV, and its signature verifies through it', () => {
    const msg = messageFromJson('oracle_announcement', parseJson(readFileSync(new URL('dlcdevkit/oracle/numeric-announcement.json', VECTORS), 'utf8')));
    if (msg.type !== 'oracle_announcement') throw new Error('not an announcement');
    const tlv = encodeOracleEventTlv(msg.message.oracleEvent);
    expect(hex(tlv)).toBe(hex(encodeDevkitEventTlv(ann.oracleEvent)));
    expect(verifyAnnouncement('sha256', msg.message.oraclePublicKey, msg.message.announcementSignature, tlv)).toBe(true);
  });

  it('every digit signature verifies with the sha256 profile and the announced nonce; none with tagged', () => {
    expect(att.oraclePublicKey).toBe(ann.oraclePublicKey);
    verifyAttestation('sha256', pub, nonces, sigs, att.outcomes);
    expect(dlcErrorOf(() => verifyAttestation('tagged', pub, nonces, sigs, att.outcomes))).toEqual({ code: 'BAD_SIGNATURE', reason: 'signature' });
  });

  it('a wrong outcome, a swapped nonce or a missing signature is rejected', () => {
    const flipped = att.outcomes.map((o, i) => (i === 7 ? (o === '0' ? '1' : '0') : o));
    expect(dlcErrorOf(() => verifyAttestation('sha256', pub, nonces, sigs, flipped))?.reason).toBe('signature');
    const swapped = [nonces[1]!, nonces[0]!, ...nonces.slice(2)];
    expect(dlcErrorOf(() => verifyAttestation('sha256', pub, swapped, sigs, att.outcomes))?.reason).toBe('nonce-mismatch');
    expect(dlcErrorOf(() => verifyAttestation('sha256', pub, nonces, sigs.slice(1), att.outcomes))?.reason).toBe('count');
  });

  it('the adaptor point of the attested 20-digit prefix (and of its 12-digit prefix) is s·G of the summed signatures', () => {
    const digits = att.outcomes.map(Number);
    const oracle: OracleNonces = { publicKey: pub, nonces };
    const [full, short] = numericAdaptorPoints({ profile: 'sha256', base: 2, oracles: [oracle], prefixes: [[digits], [digits.slice(0, 12)]] });
    expect(hex(full!)).toBe(hex(secp().mulG(attestationSecret(sigs))));
    expect(hex(short!)).toBe(hex(secp().mulG(attestationSecret(sigs.slice(0, 12)))));
  });
});

// ---------------------------------------------------------------- our own oracle

describe.each<HashProfile>(['sha256', 'tagged'])('oracle round trip, profile %s', (profile) => {
  const sk = rnd('oracle', 1);
  const pub = xOnlyPublicKey(sk);

  it('announces nonces, attests a numeric outcome and the parties adaptor points match', () => {
    const eventId = 'pool-hashrate-2025-01';
    const nonces = eventNonces(sk, eventId, 8);
    expect(nonces.map(hex)).toEqual(eventNonces(sk, eventId, 8).map(hex)); // deterministic
    expect(hex(eventNonces(sk, 'other', 1)[0]!)).not.toBe(hex(nonces[0]!));
    const outcomes = ['1', '0', '1', '1', '0', '0', '1', '0'];
    const sigs = attest(profile, sk, eventId, outcomes);
    verifyAttestation(profile, pub, nonces, sigs, outcomes);
    const other: HashProfile = profile === 'sha256' ? 'tagged' : 'sha256';
    expect(dlcErrorOf(() => verifyAttestation(other, pub, nonces, sigs, outcomes))?.code).toBe('BAD_SIGNATURE');
    const [pt] = numericAdaptorPoints({ profile, base: 2, oracles: [{ publicKey: pub, nonces }], prefixes: [[outcomes.slice(0, 5).map(Number)]] });
    expect(hex(pt!)).toBe(hex(secp().mulG(attestationSecret(sigs.slice(0, 5)))));
  });

  it('signs and verifies announcements over the oracle_event TLV', () => {
    const tlv = Uint8Array.of(0xfd, 0xd8, 0x22, 3, 1, 2, 3);
    const sig = signAnnouncement(profile, sk, tlv, rnd('aux', 1));
    expect(verifyAnnouncement(profile, pub, sig, tlv)).toBe(true);
    expect(verifyAnnouncement(profile, pub, sig, Uint8Array.of(0xfd, 0xd8, 0x22, 3, 1, 2, 4))).toBe(false);
    expect(dlcErrorOf(() => announcementDigest(profile, Uint8Array.of(0xfd, 0xd8, 0x22, 4, 1, 2, 3)))?.code).toBe('DECODE_ERROR');
  });

  it('enum adaptor point of two oracles is s·G of their summed attestations', () => {
    const sk2 = rnd('oracle', 2);
    const o1: OracleNonces = { publicKey: pub, nonces: eventNonces(sk, 'match', 1) };
    const o2: OracleNonces = { publicKey: xOnlyPublicKey(sk2), nonces: eventNonces(sk2, 'match', 1) };
    const s1 = attest(profile, sk, 'match', ['home']);
    const s2 = attest(profile, sk2, 'match', ['home']);
    expect(hex(enumAdaptorPoint(profile, [o1, o2], ['home', 'home']))).toBe(hex(secp().mulG(attestationSecret([...s1, ...s2]))));
    expect(hex(enumAdaptorPoint(profile, [o1, o2], [null, 'home']))).toBe(hex(secp().mulG(attestationSecret(s2))));
  });
});

describe('BIP340 and adaptor point helpers', () => {
  it('schnorrSign equals the BIP340 reference derivation (noble) and verifies both ways', () => {
    for (let i = 0; i < 8; i++) {
      const sk = rnd('bsk', i);
      const m = rnd('bm', i);
      const aux = rnd('baux', i);
      const sig = schnorrSign(sk, m, aux);
      expect(hex(sig)).toBe(hex(schnorr.sign(m, sk, aux)));
      expect(schnorrVerify(sig, m, xOnlyPublicKey(sk))).toBe(true);
    }
    expect(schnorrVerify(new Uint8Array(64), new Uint8Array(32), new Uint8Array(32))).toBe(false);
  });

  it('numericAdaptorPoints equals naive per-digit sums, for 2 oracles with t-of-n gaps, in base 3', () => {
    const oracles: OracleNonces[] = [1, 2].map((j) => {
      const sk = rnd('nsk', j);
      return { publicKey: xOnlyPublicKey(sk), nonces: eventNonces(sk, 'ev', 6) };
    });
    const tables = oracles.map((o) => digitPointTable('tagged', o, 3));
    const prefixes: (number[] | null)[][] = [];
    for (let c = 0; c < 30; c++) {
      const r = rnd('p', c);
      const p1 = Array.from({ length: 1 + (r[0]! % 6) }, (_, i) => r[i + 2]! % 3);
      const p2 = Array.from({ length: 1 + (r[1]! % 6) }, (_, i) => r[i + 10]! % 3);
      prefixes.push(c % 5 === 0 ? [p1, null] : c % 7 === 0 ? [null, p2] : [p1, p2]);
      prefixes.push([p1.slice(0, 1), p2]); // shares trie nodes with the previous CET
    }
    const got = numericAdaptorPoints({ profile: 'tagged', base: 3, oracles, prefixes });
    prefixes.forEach((perOracle, c) => {
      const parts: Uint8Array[] = [];
      perOracle.forEach((digits, j) => digits?.forEach((d, i) => parts.push(tables[j]![i]![d]!)));
      expect(hex(got[c]!), `CET ${c}`).toBe(hex(secp().add(parts)));
    });
  });

  it('rejects bad prefixes and parameters with DlcError', () => {
    const sk = rnd('nsk', 1);
    const oracle: OracleNonces = { publicKey: xOnlyPublicKey(sk), nonces: eventNonces(sk, 'ev', 3) };
    const run = (prefixes: (number[] | null)[][], base = 2) => () => numericAdaptorPoints({ profile: 'sha256', base, oracles: [oracle], prefixes });
    expect(dlcErrorOf(run([[[]]]))).toEqual({ code: 'INVALID_PARAMS', reason: 'prefix' });
    expect(dlcErrorOf(run([[[0, 1, 0, 1]]]))).toEqual({ code: 'INVALID_PARAMS', reason: 'prefix' });
    expect(dlcErrorOf(run([[[2]]]))).toEqual({ code: 'INVALID_PARAMS', reason: 'prefix' });
    expect(dlcErrorOf(run([[null]]))).toEqual({ code: 'INVALID_PARAMS', reason: 'prefix' });
    expect(dlcErrorOf(run([[[0], [1]]]))).toEqual({ code: 'INVALID_PARAMS', reason: 'prefix' });
    expect(dlcErrorOf(run([[[0]]], 1))).toEqual({ code: 'INVALID_PARAMS', reason: 'base' });
    expect(dlcErrorOf(() => attestationPoint(new Uint8Array(32), oracle.nonces[0]!, new Uint8Array(32)))?.code).toBe('INVALID_POINT');
    expect(dlcErrorOf(() => outcomeDigest('plain' as HashProfile, 'x'))?.code).toBe('INVALID_PARAMS');
  });
});
