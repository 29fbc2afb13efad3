import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { isDlcError } from '../protocol/errors.js';
import {
  availableBackends, backendName, getBackend, liftX, negatePoint, secp, selectBackend,
  type BackendName, type SecpBackend,
} from '../protocol/crypto/secp.js';
import { CURVE_ORDER, HALF_CURVE_ORDER, batchInvN, bigIntToBytes, bytesToBigInt, invN, modN } from '../protocol/crypto/scalar.js';

/** Deterministic "random" bytes, so a failure is reproducible. */
function rnd(label: string, i: number): Uint8Array {
  return sha256(new TextEncoder().encode(`${label}/${i}`));
}
function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

const names = availableBackends();
const backends: SecpBackend[] = names.map((n) => getBackend(n));

describe('backend selection', () => {
  it('prefers the native binding on linux-x64 and loads every backend here', () => {
    if (process.platform === 'linux' && process.arch === 'x64') {
      expect(names).toEqual(['native', 'wasm', 'noble']);
      expect(backendName()).toBe('native');
    }
    expect(names).toContain('noble');
  });

  it('selectBackend switches the active backend and rejects unknown names', () => {
    const before = backendName();
    for (const n of names) expect(selectBackend(n).name).toBe(n);
    selectBackend(before);
    expect(secp().name).toBe(before);
    expect(() => getBackend('nope' as BackendName)).toThrow(expect.objectContaining({ code: 'INVALID_PARAMS' }));
  });
});

describe('all backends agree on random inputs', () => {
  const N = 24;
  const ks = Array.from({ length: N }, (_, i) => rnd('k', i));
  const ref = backends[backends.length - 1]!; // noble: the independent pure-JS implementation

  it('mulG, mul, add, mulAddG give identical bytes', () => {
    for (let i = 0; i < N; i++) {
      const P = ref.mulG(ks[i]!);
      const k2 = ks[(i + 1) % N]!;
      const a = bytesToBigInt(ks[(i + 2) % N]!) % CURVE_ORDER;
      const b = bytesToBigInt(ks[(i + 3) % N]!) % CURVE_ORDER;
      const want = {
        mulG: hex(P),
        mul: hex(ref.mul(P, k2)),
        add: hex(ref.add([P, ref.mulG(k2), ref.mulG(ks[(i + 2) % N]!)])),
        mulAddG: hex(ref.mulAddG(P, a, b)),
        mulAddG0: hex(ref.mulAddG(P, 0n, b)),
        mulAddGb0: hex(ref.mulAddG(P, a, 0n)),
      };
      // a·P + b·G computed the long way
      expect(want.mulAddG).toBe(hex(ref.add([ref.mul(P, bigIntToBytes(a)), ref.mulG(bigIntToBytes(b))])));
      for (const be of backends) {
        expect({
          mulG: hex(be.mulG(ks[i]!)),
          mul: hex(be.mul(P, k2)),
          add: hex(be.add([P, be.mulG(k2), be.mulG(ks[(i + 2) % N]!)])),
          mulAddG: hex(be.mulAddG(P, a, b)),
          mulAddG0: hex(be.mulAddG(P, 0n, b)),
          mulAddGb0: hex(be.mulAddG(P, a, 0n)),
        }, be.name).toEqual(want);
      }
    }
  });

  it('ECDSA: identical RFC6979 low-S signatures, and cross-verification', () => {
    for (let i = 0; i < 8; i++) {
      const sk = ks[i]!;
      const msg = rnd('msg', i);
      const sigs = backends.map((be) => hex(be.ecdsaSign(msg, sk)));
      expect(new Set(sigs).size).toBe(1);
      const sig = Buffer.from(sigs[0]!, 'hex');
      expect(bytesToBigInt(sig.subarray(32)) <= HALF_CURVE_ORDER).toBe(true);
      const pub = ref.mulG(sk);
      // the same signature with s negated (high-S) must be rejected everywhere
      const high = new Uint8Array(sig);
      bigIntToBytes(CURVE_ORDER - bytesToBigInt(sig.subarray(32)), high, 32);
      const otherMsg = rnd('msg', i + 100);
      for (const be of backends) {
        expect(be.ecdsaVerify(sig, msg, pub), be.name).toBe(true);
        expect(be.ecdsaVerify(high, msg, pub), be.name).toBe(false);
        expect(be.ecdsaVerify(sig, otherMsg, pub), be.name).toBe(false);
      }
    }
  });

  it('isPoint agrees on valid, off-curve and malformed encodings', () => {
    const cases: Uint8Array[] = [];
    for (let i = 0; i < 16; i++) {
      const x = rnd('x', i);
      cases.push(Uint8Array.of(2, ...x), Uint8Array.of(3, ...x));
    }
    cases.push(new Uint8Array(33), Uint8Array.of(4, ...rnd('x', 0)), rnd('x', 1));
    const want = cases.map((c) => ref.isPoint(c));
    expect(want.filter(Boolean).length).toBeGreaterThan(4); // about half of random x are on the curve
    for (const be of backends) expect(cases.map((c) => be.isPoint(c)), be.name).toEqual(want);
  });
});

describe('bad inputs throw DlcError with stable codes, on every backend', () => {
  const P = getBackend('noble').mulG(rnd('k', 1));
  const Q = getBackend('noble').mulG(rnd('k', 2));
  const offCurve = Uint8Array.of(2, ...new Uint8Array(32).fill(0)); // x = 0: not on secp256k1
  const zero = new Uint8Array(32);
  const n = bigIntToBytes(CURVE_ORDER);
  const table: { name: string; run: (be: SecpBackend) => unknown; code: string; reason?: string }[] = [
    { name: 'mulG(0)', run: (be) => be.mulG(zero), code: 'INVALID_SCALAR' },
    { name: 'mulG(n)', run: (be) => be.mulG(n), code: 'INVALID_SCALAR' },
    { name: 'mulG(31 bytes)', run: (be) => be.mulG(new Uint8Array(31)), code: 'INVALID_LENGTH' },
    { name: 'mul(off-curve)', run: (be) => be.mul(offCurve, rnd('k', 3)), code: 'INVALID_POINT' },
    { name: 'mul(P, 0)', run: (be) => be.mul(P, zero), code: 'INVALID_SCALAR' },
    { name: 'add(P, -P)', run: (be) => be.add([P, negatePoint(P)]), code: 'INVALID_POINT', reason: 'infinity' },
    { name: 'add(off-curve)', run: (be) => be.add([P, offCurve]), code: 'INVALID_POINT', reason: 'not-on-curve' },
    { name: 'mulAddG(off-curve)', run: (be) => be.mulAddG(offCurve, 5n, 7n), code: 'INVALID_POINT' },
    { name: 'mulAddG to infinity', run: (be) => be.mulAddG(getBackend('noble').mulG(bigIntToBytes(1n)), CURVE_ORDER - 3n, 3n), code: 'INVALID_POINT', reason: 'infinity' },
  ];
  for (const be of backends) {
    for (const c of table) {
      it(`${be.name}: ${c.name} -> ${c.code}`, () => {
        let err: unknown;
        try { c.run(be); } catch (e) { err = e; }
        expect(isDlcError(err), String(err)).toBe(true);
        expect((err as { code: string }).code).toBe(c.code);
        if (c.reason !== undefined) expect((err as { reason: string }).reason).toBe(c.reason);
      });
    }
    it(`${be.name}: P + -P + Q = Q (an intermediate infinity is not an error)`, () => {
      expect(hex(be.add([P, negatePoint(P), Q]))).toBe(hex(Q));
    });
  }
});

describe('helpers', () => {
  it('liftX gives the even-Y point and rejects x off the curve', () => {
    const P = secp().mulG(rnd('k', 9));
    const lifted = liftX(P.subarray(1));
    expect(lifted[0]).toBe(2);
    expect(hex(lifted.subarray(1))).toBe(hex(P.subarray(1)));
    expect(() => liftX(new Uint8Array(32))).toThrow(expect.objectContaining({ code: 'INVALID_POINT' }));
  });

  it('scalar inversion, single and batched, and modN', () => {
    const xs = Array.from({ length: 10 }, (_, i) => bytesToBigInt(rnd('inv', i)) % CURVE_ORDER);
    const inv = batchInvN(xs);
    xs.forEach((x, i) => {
      expect(modN(x * inv[i]!)).toBe(1n);
      expect(invN(x)).toBe(inv[i]);
    });
    expect(modN(-1n)).toBe(CURVE_ORDER - 1n);
    expect(() => batchInvN([1n, CURVE_ORDER])).toThrow(expect.objectContaining({ code: 'INVALID_SCALAR' }));
  });
});
