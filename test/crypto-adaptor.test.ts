import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { isDlcError } from '../protocol/errors.js';
import {
  ADAPTOR_SIGNATURE_LENGTH, adaptorDecrypt, adaptorRecover, adaptorSign, adaptorSignBatch, adaptorVerify,
  adaptorVerifyBatch, isValidAdaptorSignature, parseAdaptorSignature, serializeAdaptorSignature,
} from '../protocol/crypto/adaptor.js';
import { compactToDer, derToCompact, ecdsaSign, ecdsaVerify, normalizeLowS } from '../protocol/crypto/ecdsa.js';
import { CURVE_ORDER, HALF_CURVE_ORDER, bigIntToBytes, bytesToBigInt } from '../protocol/crypto/scalar.js';
import { availableBackends, backendName, secp, selectBackend } from '../protocol/crypto/secp.js';

const VECTORS = new URL('../../shared/dlc-vectors/', import.meta.url);

interface AdaptorVector {
  kind: 'verification' | 'recovery' | 'serialization';
  adaptor_sig: string;
  message_hash?: string;
  public_signing_key?: string;
  encryption_key?: string;
  decryption_key?: string | null;
  signature?: string;
  error?: string | null;
  comment?: string;
}

const vectors = JSON.parse(readFileSync(new URL('dlcspecs/ecdsa_adaptor.json', VECTORS), 'utf8')) as AdaptorVector[];
const h = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const rnd = (label: string, i: number): Uint8Array => sha256(new TextEncoder().encode(`${label}/${i}`));

function expectDlcError(run: () => unknown, code: string): void {
  let err: unknown;
  try { run(); } catch (e) { err = e; }
  expect(isDlcError(err), `expected DlcError ${code}, got ${String(err)}`).toBe(true);
  expect((err as { code: string }).code).toBe(code);
}

const initial = backendName();
afterAll(() => { selectBackend(initial); });

describe.each(availableBackends())('dlcspecs ecdsa_adaptor.json on backend %s', (name) => {
  it('has the 11 cases the README names', () => {
    expect(vectors).toHaveLength(11);
  });

  vectors.forEach((v, i) => {
    const label = `#${i} ${v.kind}: ${v.comment ?? v.error ?? 'valid'}`;
    it(label, () => {
      selectBackend(name);
      const sig = h(v.adaptor_sig);
      if (v.kind === 'verification') {
        const X = h(v.public_signing_key!);
        const Y = h(v.encryption_key!);
        const m = h(v.message_hash!);
        if (v.error) {
          expectDlcError(() => adaptorVerify(X, Y, m, sig), 'BAD_SIGNATURE');
          expect(isValidAdaptorSignature(X, Y, m, sig)).toBe(false);
          return;
        }
        adaptorVerify(X, Y, m, sig);
        const decrypted = adaptorDecrypt(sig, h(v.decryption_key!));
        expect(hex(decrypted)).toBe(v.signature);
        expect(ecdsaVerify(decrypted, m, X)).toBe(true);
        expect(hex(adaptorRecover(Y, sig, decrypted))).toBe(v.decryption_key);
      } else if (v.kind === 'recovery') {
        const Y = h(v.encryption_key!);
        if (v.error) {
          expectDlcError(() => adaptorRecover(Y, sig, h(v.signature!)), 'BAD_SIGNATURE');
          return;
        }
        expect(hex(adaptorRecover(Y, sig, h(v.signature!)))).toBe(v.decryption_key);
      } else {
        if (v.error) {
          expectDlcError(() => parseAdaptorSignature(sig), 'BAD_SIGNATURE');
          return;
        }
        expect(hex(serializeAdaptorSignature(parseAdaptorSignature(sig)))).toBe(v.adaptor_sig);
      }
    });
  });
});

describe.each(availableBackends())('sign / verify / decrypt / recover round trip on backend %s', (name) => {
  it('a fresh adaptor signature verifies, decrypts to a valid low-S ECDSA signature and leaks y', () => {
    selectBackend(name);
    const be = secp();
    for (let i = 0; i < 6; i++) {
      const x = rnd('x', i);
      const X = be.mulG(x);
      const y = rnd('y', i);
      const Y = be.mulG(y);
      const m = rnd('m', i);
      const a = adaptorSign(x, Y, m);
      expect(a).toHaveLength(ADAPTOR_SIGNATURE_LENGTH);
      expect(hex(adaptorSign(x, Y, m))).toBe(hex(a)); // deterministic
      expect(hex(adaptorSign(x, Y, m, rnd('aux', i)))).not.toBe(hex(a)); // aux changes the nonce
      adaptorVerify(X, Y, m, a);
      const sig = adaptorDecrypt(a, y);
      expect(bytesToBigInt(sig.subarray(32)) <= HALF_CURVE_ORDER).toBe(true);
      expect(ecdsaVerify(sig, m, X)).toBe(true);
      expect(hex(adaptorRecover(Y, a, sig))).toBe(hex(y));
    }
  });

  it('rejects wrong message, wrong keys and any flipped byte', () => {
    selectBackend(name);
    const be = secp();
    const x = rnd('x', 7);
    const X = be.mulG(x);
    const Y = be.mulG(rnd('y', 7));
    const m = rnd('m', 7);
    const a = adaptorSign(x, Y, m);
    expect(isValidAdaptorSignature(X, Y, rnd('m', 8), a)).toBe(false);
    expect(isValidAdaptorSignature(be.mulG(rnd('x', 8)), Y, m, a)).toBe(false);
    expect(isValidAdaptorSignature(X, be.mulG(rnd('y', 8)), m, a)).toBe(false);
    for (const pos of [1, 20, 34, 60, 70, 97, 100, 129, 140, 161]) {
      const bad = a.slice();
      bad[pos]! ^= 1;
      expect(isValidAdaptorSignature(X, Y, m, bad), `byte ${pos}`).toBe(false);
    }
  });
});

describe('batch API', () => {
  it('signs and verifies n items in one call, flagging exactly the bad ones', () => {
    const be = secp();
    const n = 12;
    const x = rnd('bx', 0);
    const X = be.mulG(x);
    const hashes = new Uint8Array(n * 32);
    const points = new Uint8Array(n * 33);
    for (let i = 0; i < n; i++) {
      hashes.set(rnd('bm', i), i * 32);
      points.set(be.mulG(rnd('by', i)), i * 33);
    }
    const sigs = adaptorSignBatch(x, hashes, points);
    expect(sigs).toHaveLength(n * ADAPTOR_SIGNATURE_LENGTH);
    // same bytes as one-by-one signing
    expect(hex(sigs.subarray(5 * 162, 6 * 162))).toBe(hex(adaptorSign(x, points.subarray(5 * 33, 6 * 33), hashes.subarray(5 * 32, 6 * 32))));
    expect([...adaptorVerifyBatch(X, hashes, points, sigs)]).toEqual(new Array(n).fill(1));
    const tampered = sigs.slice();
    tampered[3 * 162 + 70]! ^= 0xff; // s_a of #3
    tampered.fill(0, 7 * 162 + 66, 7 * 162 + 98); // #7: s_a = 0, unparseable
    const flags = adaptorVerifyBatch(X, hashes, points, tampered);
    expect([...flags]).toEqual([1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1]);
  });

  it('rejects mismatched buffer sizes and bad keys with DlcError', () => {
    const x = rnd('bx', 0);
    expectDlcError(() => adaptorSignBatch(x, new Uint8Array(64), new Uint8Array(33)), 'INVALID_LENGTH');
    expectDlcError(() => adaptorSignBatch(new Uint8Array(32), new Uint8Array(32), secp().mulG(x)), 'INVALID_SCALAR');
    expectDlcError(() => adaptorSign(x, Uint8Array.of(2, ...new Uint8Array(32)), new Uint8Array(32)), 'INVALID_POINT');
    expectDlcError(() => adaptorVerifyBatch(new Uint8Array(33), new Uint8Array(32), secp().mulG(x), new Uint8Array(162)), 'INVALID_POINT');
    expectDlcError(() => adaptorDecrypt(new Uint8Array(162), x), 'BAD_SIGNATURE');
    expectDlcError(() => adaptorDecrypt(h(vectors[0]!.adaptor_sig), bigIntToBytes(CURVE_ORDER)), 'INVALID_SCALAR');
  });
});

describe('plain ECDSA helpers', () => {
  it('compact <-> strict DER round trip, including short and high-bit integers', () => {
    for (let i = 0; i < 40; i++) {
      const sig = ecdsaSign(rnd('ek', i), rnd('em', i));
      const der = compactToDer(sig);
      expect(der[0]).toBe(0x30);
      expect(hex(derToCompact(der))).toBe(hex(sig));
    }
    // r with a high bit and s with leading zero bytes
    const sig = new Uint8Array(64);
    sig[0] = 0x80; sig[31] = 1; sig[62] = 0x7f; sig[63] = 5;
    const der = compactToDer(sig);
    expect(hex(der)).toBe('3027022100' + hex(sig.subarray(0, 32)) + '02027f05');
    expect(hex(derToCompact(der))).toBe(hex(sig));
  });

  it('derToCompact rejects non-BIP66 encodings', () => {
    const good = compactToDer(ecdsaSign(rnd('ek', 1), rnd('em', 1)));
    const cases: [string, Uint8Array][] = [
      ['not a sequence', Uint8Array.of(0x31, ...good.subarray(1))],
      ['wrong total length', Uint8Array.of(0x30, good[1]! + 1, ...good.subarray(2))],
      ['trailing byte (e.g. a sighash type)', Uint8Array.of(...good, 1)],
      ['negative r', h('3006020180020101')],
      ['non-minimal r', h('300702020001020101')],
      ['zero-length s', h('3006020201010200').subarray(0, 8)],
    ];
    for (const [why, der] of cases) {
      expect(() => derToCompact(der), why).toThrow(expect.objectContaining({ code: 'BAD_SIGNATURE' }));
    }
  });

  it('normalizeLowS flips a high s and keeps a low one', () => {
    const sig = ecdsaSign(rnd('ek', 2), rnd('em', 2));
    const high = sig.slice();
    bigIntToBytes(CURVE_ORDER - bytesToBigInt(sig.subarray(32)), high, 32);
    expect(hex(normalizeLowS(high))).toBe(hex(sig));
    expect(hex(normalizeLowS(sig))).toBe(hex(sig));
  });
});
