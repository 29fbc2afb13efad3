/**
 * One small interface over secp256k1 group operations, on 33-byte compressed
 * points (SEC1 §2.3.3) and 32-byte big-endian scalars, with three
 * interchangeable implementations chosen at load time, fastest first:
 *
 * 1. `native`: libsecp256k1 through the `secp256k1` npm package's N-API
 *    binding, loaded from `secp256k1/bindings` directly (the package index
 *    silently falls back to pure-JS elliptic, which we never use);
 * 2. `wasm`: libsecp256k1 compiled to WebAssembly (`tiny-secp256k1`);
 * 3. `noble`: pure JavaScript (`@noble/curves`).
 *
 * All three give bit-identical results (tested); callers may force one with
 * `selectBackend` (tests, benchmarks). This module does NOT read the
 * environment, does NOT generate randomness and does NOT know about
 * signatures schemes beyond plain ECDSA (RFC6979 nonces, low-S).
 */
import { createRequire } from 'node:module';
import { secp256k1 as nobleSecp } from '@noble/curves/secp256k1.js';
import { DlcError } from '../errors.js';
import { CURVE_ORDER, bigIntToBytes, bytesToBigInt, isNonZeroScalar } from './scalar.js';

/** The name of a backend implementation. */
export type BackendName = 'native' | 'wasm' | 'noble';

/** Backends in order of preference (fastest first). */
export const BACKEND_NAMES: readonly BackendName[] = ['native', 'wasm', 'noble'];

/**
 * Group operations. Points are 33-byte compressed encodings; scalars are 32
 * bytes big-endian in [1, n-1] unless stated. Every method validates its
 * inputs and throws `DlcError` (INVALID_POINT, INVALID_SCALAR) on bad ones;
 * a result at infinity throws INVALID_POINT with reason `infinity`.
 */
export interface SecpBackend {
  readonly name: BackendName;
  /** True for a valid 33-byte compressed point. */
  isPoint(p: Uint8Array): boolean;
  /** k·G. */
  mulG(k: Uint8Array): Uint8Array;
  /** k·P. */
  mul(p: Uint8Array, k: Uint8Array): Uint8Array;
  /**
   * a·P + b·G for scalars a, b in [0, n) as bigint (not both zero).
   * Variable-time in some backends: for PUBLIC scalars only (verification).
   */
  mulAddG(p: Uint8Array, a: bigint, b: bigint): Uint8Array;
  /** P1 + P2 + ... (at least one point). */
  add(points: readonly Uint8Array[]): Uint8Array;
  /** ECDSA over a 32-byte hash, RFC6979 nonce, low-S; 64-byte compact r||s. */
  ecdsaSign(msg32: Uint8Array, secretKey: Uint8Array): Uint8Array;
  /** ECDSA verification of a 64-byte compact signature; high-S is rejected (BIP146 LOW_S). */
  ecdsaVerify(sig64: Uint8Array, msg32: Uint8Array, publicKey: Uint8Array): boolean;
}

// ---------------------------------------------------------------- shared checks

function badPoint(what = 'point'): DlcError {
  return new DlcError('INVALID_POINT', `${what} is not a valid compressed secp256k1 point`, { reason: 'not-on-curve' });
}
function infinity(): DlcError {
  return new DlcError('INVALID_POINT', 'result is the point at infinity', { reason: 'infinity' });
}
function checkScalar(k: Uint8Array): void {
  if (k.length !== 32) throw new DlcError('INVALID_LENGTH', `scalar must be 32 bytes, got ${k.length}`, { reason: 'scalar-length' });
  if (!isNonZeroScalar(k)) throw new DlcError('INVALID_SCALAR', 'scalar is zero or not below the group order', { reason: 'scalar-range' });
}
function checkPointShape(p: Uint8Array): void {
  if (p.length !== 33) throw new DlcError('INVALID_LENGTH', `point must be 33 bytes, got ${p.length}`, { reason: 'point-length' });
  if (p[0] !== 2 && p[0] !== 3) throw badPoint();
}
function checkMulAddScalars(a: bigint, b: bigint): void {
  if (a < 0n || a >= CURVE_ORDER || b < 0n || b >= CURVE_ORDER) throw new RangeError('mulAddG scalars must be reduced mod n');
  if (a === 0n && b === 0n) throw infinity();
}

/**
 * a·P + b·G through ECDSA public-key recovery, which libsecp256k1 computes as
 * one Strauss double multiplication: recover((r, s), m) = r⁻¹(s·R − m·G) where
 * R is lifted from r and the recovery id. With R = P, r = x(P) mod n,
 * s = a·r and m = −b·r this is exactly a·P + b·G (SEC1 §4.1.6). It is about
 * 1.4x faster than separate mul + mulG + add and needs no inversion in JS.
 * Returns undefined when the trick does not apply (a = 0, r = 0).
 */
function mulAddViaRecover(
  p: Uint8Array, a: bigint, b: bigint,
  recover: (sig64: Uint8Array, recid: 0 | 1 | 2 | 3, msg32: Uint8Array) => Uint8Array | null,
): Uint8Array | undefined {
  if (a === 0n) return undefined;
  let r = bytesToBigInt(p.subarray(1));
  let recid = (p[0]! & 1) as 0 | 1 | 2 | 3;
  if (r >= CURVE_ORDER) { r -= CURVE_ORDER; recid = (recid | 2) as 0 | 1 | 2 | 3; }
  if (r === 0n) return undefined;
  const sig = new Uint8Array(64);
  bigIntToBytes(r, sig, 0);
  bigIntToBytes((a * r) % CURVE_ORDER, sig, 32);
  const m = (CURVE_ORDER - ((b * r) % CURVE_ORDER)) % CURVE_ORDER;
  const out = recover(sig, recid, bigIntToBytes(m));
  if (out === null) return undefined;
  return out;
}

// ---------------------------------------------------------------- native (libsecp256k1 N-API)

/** The subset of the `secp256k1` package's API (bindings entry) that we use. */
interface NativeLib {
  publicKeyVerify(p: Uint8Array): boolean;
  publicKeyCreate(k: Uint8Array, compressed?: boolean): Uint8Array;
  publicKeyCombine(ps: Uint8Array[], compressed?: boolean): Uint8Array;
  publicKeyTweakMul(p: Uint8Array, k: Uint8Array, compressed?: boolean): Uint8Array;
  ecdsaSign(msg32: Uint8Array, k: Uint8Array): { signature: Uint8Array; recid: number };
  ecdsaVerify(sig: Uint8Array, msg32: Uint8Array, p: Uint8Array): boolean;
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed?: boolean): Uint8Array;
}

function makeNative(lib: NativeLib): SecpBackend {
  const isPoint = (p: Uint8Array): boolean => p.length === 33 && (p[0] === 2 || p[0] === 3) && lib.publicKeyVerify(p);
  const recover = (sig: Uint8Array, recid: 0 | 1 | 2 | 3, msg: Uint8Array): Uint8Array | null => {
    try { return lib.ecdsaRecover(sig, recid, msg, true); } catch { return null; }
  };
  const mul = (p: Uint8Array, k: Uint8Array): Uint8Array => {
    checkPointShape(p);
    checkScalar(k);
    try { return lib.publicKeyTweakMul(p, k, true); } catch { throw badPoint(); }
  };
  const mulG = (k: Uint8Array): Uint8Array => {
    checkScalar(k);
    return lib.publicKeyCreate(k, true);
  };
  return {
    name: 'native',
    isPoint,
    mulG,
    mul,
    mulAddG(p, a, b) {
      checkPointShape(p);
      checkMulAddScalars(a, b);
      const fast = mulAddViaRecover(p, a, b, recover);
      if (fast !== undefined) return fast;
      return genericMulAdd(this, p, a, b);
    },
    add(points) {
      if (points.length === 0) throw new RangeError('add needs at least one point');
      for (const p of points) checkPointShape(p);
      try {
        return lib.publicKeyCombine(points as Uint8Array[], true);
      } catch {
        for (const p of points) if (!isPoint(p)) throw badPoint();
        throw infinity();
      }
    },
    ecdsaSign(msg32, sk) {
      checkHash(msg32);
      checkScalar(sk);
      return lib.ecdsaSign(msg32, sk).signature;
    },
    ecdsaVerify(sig, msg32, pub) {
      checkHash(msg32);
      if (sig.length !== 64 || !isPoint(pub)) return false;
      try { return lib.ecdsaVerify(sig, msg32, pub); } catch { return false; }
    },
  };
}

/** Fallback for the rare inputs where the recovery trick does not apply. */
function genericMulAdd(be: SecpBackend, p: Uint8Array, a: bigint, b: bigint): Uint8Array {
  if (!be.isPoint(p)) throw badPoint();
  const parts: Uint8Array[] = [];
  if (a !== 0n) parts.push(be.mul(p, bigIntToBytes(a)));
  if (b !== 0n) parts.push(be.mulG(bigIntToBytes(b)));
  return be.add(parts);
}

function checkHash(msg32: Uint8Array): void {
  if (msg32.length !== 32) throw new DlcError('INVALID_LENGTH', `message hash must be 32 bytes, got ${msg32.length}`, { reason: 'hash-length' });
}

// ---------------------------------------------------------------- wasm (tiny-secp256k1)

/** The subset of tiny-secp256k1 2.x that we use. */
interface TinyLib {
  isPoint(p: Uint8Array): boolean;
  pointFromScalar(k: Uint8Array, compressed?: boolean): Uint8Array | null;
  pointMultiply(p: Uint8Array, k: Uint8Array, compressed?: boolean): Uint8Array | null;
  pointAdd(a: Uint8Array, b: Uint8Array, compressed?: boolean): Uint8Array | null;
  sign(h: Uint8Array, d: Uint8Array): Uint8Array;
  verify(h: Uint8Array, q: Uint8Array, sig: Uint8Array, strict?: boolean): boolean;
  recover(h: Uint8Array, sig: Uint8Array, recid: 0 | 1 | 2 | 3, compressed?: boolean): Uint8Array | null;
}

function makeWasm(lib: TinyLib): SecpBackend {
  const isPoint = (p: Uint8Array): boolean => p.length === 33 && (p[0] === 2 || p[0] === 3) && lib.isPoint(p);
  const recover = (sig: Uint8Array, recid: 0 | 1 | 2 | 3, msg: Uint8Array): Uint8Array | null => {
    try { return lib.recover(msg, sig, recid, true); } catch { return null; }
  };
  return {
    name: 'wasm',
    isPoint,
    mulG(k) {
      checkScalar(k);
      const out = lib.pointFromScalar(k, true);
      if (out === null) throw infinity();
      return out;
    },
    mul(p, k) {
      checkPointShape(p);
      checkScalar(k);
      if (!isPoint(p)) throw badPoint();
      const out = lib.pointMultiply(p, k, true);
      if (out === null) throw infinity();
      return out;
    },
    mulAddG(p, a, b) {
      checkPointShape(p);
      checkMulAddScalars(a, b);
      const fast = mulAddViaRecover(p, a, b, recover);
      if (fast !== undefined) return fast;
      return genericMulAdd(this, p, a, b);
    },
    add(points) {
      if (points.length === 0) throw new RangeError('add needs at least one point');
      for (const p of points) { checkPointShape(p); if (!isPoint(p)) throw badPoint(); }
      // pointAdd returns null at infinity; an intermediate infinity (P + -P + Q)
      // is carried as `null` and the next point restarts the sum.
      let acc: Uint8Array | null = points[0]!;
      for (let i = 1; i < points.length; i++) acc = acc === null ? points[i]! : lib.pointAdd(acc, points[i]!, true);
      if (acc === null) throw infinity();
      return acc;
    },
    ecdsaSign(msg32, sk) {
      checkHash(msg32);
      checkScalar(sk);
      return lib.sign(msg32, sk);
    },
    ecdsaVerify(sig, msg32, pub) {
      checkHash(msg32);
      if (sig.length !== 64 || !isPoint(pub)) return false;
      try { return lib.verify(msg32, pub, sig, true); } catch { return false; }
    },
  };
}

// ---------------------------------------------------------------- noble (pure JS)

function makeNoble(): SecpBackend {
  const Point = nobleSecp.Point;
  type NoblePoint = InstanceType<typeof Point>;
  const parse = (p: Uint8Array): NoblePoint => {
    checkPointShape(p);
    try { return Point.fromBytes(p); } catch { throw badPoint(); }
  };
  const encode = (q: NoblePoint): Uint8Array => {
    if (q.is0()) throw infinity();
    return q.toBytes(true);
  };
  return {
    name: 'noble',
    isPoint(p) {
      if (p.length !== 33 || (p[0] !== 2 && p[0] !== 3)) return false;
      try { Point.fromBytes(p); return true; } catch { return false; }
    },
    mulG(k) {
      checkScalar(k);
      return encode(Point.BASE.multiply(bytesToBigInt(k)));
    },
    mul(p, k) {
      checkScalar(k);
      return encode(parse(p).multiply(bytesToBigInt(k)));
    },
    mulAddG(p, a, b) {
      checkMulAddScalars(a, b);
      return encode(parse(p).mulAddUnsafe(a, Point.BASE, b));
    },
    add(points) {
      if (points.length === 0) throw new RangeError('add needs at least one point');
      let acc = Point.ZERO;
      for (const p of points) acc = acc.add(parse(p));
      return encode(acc);
    },
    ecdsaSign(msg32, sk) {
      checkHash(msg32);
      checkScalar(sk);
      return nobleSecp.sign(msg32, sk, { prehash: false, lowS: true });
    },
    ecdsaVerify(sig, msg32, pub) {
      checkHash(msg32);
      if (sig.length !== 64 || pub.length !== 33) return false;
      try { return nobleSecp.verify(sig, msg32, pub, { prehash: false, lowS: true }); } catch { return false; }
    },
  };
}

// ---------------------------------------------------------------- selection

const requireCjs = createRequire(import.meta.url);
const loaded = new Map<BackendName, SecpBackend | null>();

function load(name: BackendName): SecpBackend | null {
  if (loaded.has(name)) return loaded.get(name)!;
  let be: SecpBackend | null = null;
  try {
    if (name === 'native') be = makeNative(requireCjs('secp256k1/bindings') as NativeLib);
    else if (name === 'wasm') be = makeWasm(requireCjs('tiny-secp256k1') as TinyLib);
    else be = makeNoble();
  } catch {
    be = null; // binding not built for this platform, WASM not loadable...
  }
  loaded.set(name, be);
  return be;
}

let active: SecpBackend | undefined;

/**
 * The active backend; on first use, the fastest one that loads.
 * @throws {Error} never in practice: `noble` is pure JS and always loads.
 */
export function secp(): SecpBackend {
  if (active !== undefined) return active;
  for (const name of BACKEND_NAMES) {
    const be = load(name);
    if (be !== null) { active = be; return be; }
  }
  throw new Error('no secp256k1 backend could be loaded');
}

/** Name of the active backend. */
export function backendName(): BackendName {
  return secp().name;
}

/** Backends that load on this machine, fastest first. */
export function availableBackends(): BackendName[] {
  return BACKEND_NAMES.filter((n) => load(n) !== null);
}

/**
 * A specific backend, without changing the active one (benchmarks, cross-checks).
 * @throws {DlcError} INVALID_PARAMS (reason `backend-unavailable`) when it cannot load here.
 */
export function getBackend(name: BackendName): SecpBackend {
  const be = BACKEND_NAMES.includes(name) ? load(name) : null;
  if (be === null) throw new DlcError('INVALID_PARAMS', `secp256k1 backend '${String(name)}' is not available`, { reason: 'backend-unavailable' });
  return be;
}

/**
 * Makes `name` the active backend for every later operation in this thread.
 * @throws {DlcError} INVALID_PARAMS (reason `backend-unavailable`) when it cannot load here.
 */
export function selectBackend(name: BackendName): SecpBackend {
  active = getBackend(name);
  return active;
}

/**
 * −P: the same x with the other y parity (flip the SEC1 prefix byte).
 * @throws {DlcError} INVALID_POINT / INVALID_LENGTH when `p` is not a valid point.
 */
export function negatePoint(p: Uint8Array): Uint8Array {
  checkPointShape(p);
  if (!secp().isPoint(p)) throw badPoint();
  const out = p.slice();
  out[0] = p[0] === 2 ? 3 : 2;
  return out;
}

/**
 * Lifts a BIP340 x-only key (32 bytes) to the compressed point with even Y.
 * @throws {DlcError} INVALID_LENGTH / INVALID_POINT when x is not on the curve.
 */
export function liftX(x32: Uint8Array): Uint8Array {
  if (x32.length !== 32) throw new DlcError('INVALID_LENGTH', `x-only key must be 32 bytes, got ${x32.length}`, { reason: 'xonly-length' });
  const p = new Uint8Array(33);
  p[0] = 2;
  p.set(x32, 1);
  if (!secp().isPoint(p)) throw badPoint('x-only key');
  return p;
}

/**
 * Throws unless `p` is a valid 33-byte compressed point.
 * @throws {DlcError} INVALID_LENGTH / INVALID_POINT.
 */
export function assertPoint(p: Uint8Array, what = 'point'): void {
  checkPointShape(p);
  if (!secp().isPoint(p)) throw badPoint(what);
}
