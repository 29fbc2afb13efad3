/**
 * Scalar arithmetic modulo the secp256k1 group order n, on bigint, plus the
 * 32-byte big-endian encoding of scalars and BIP340 tagged hashes.
 *
 * This module does NOT touch curve points (see secp.ts), does NOT generate
 * randomness and is not constant-time: bigint arithmetic leaks timing, so
 * secret scalars handled here are a known, accepted trade-off of a pure-JS
 * library (the point multiplications themselves run in the backend).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { invert } from '@noble/curves/abstract/modular.js';
import { DlcError } from '../errors.js';

/** The secp256k1 group order n (SEC2 §2.4.1). */
export const CURVE_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
/** n / 2, the largest "low" S value (BIP62 low-S rule, BIP146). */
export const HALF_CURVE_ORDER = CURVE_ORDER >> 1n;
/** The secp256k1 field prime p. */
export const FIELD_PRIME = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;

const MASK64 = 0xffffffffffffffffn;

/**
 * Read 32 big-endian bytes as an unsigned integer (no reduction).
 * @throws {DlcError} INVALID_LENGTH when `bytes` is not 32 bytes long.
 */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  if (bytes.length !== 32) throw new DlcError('INVALID_LENGTH', `expected 32 bytes, got ${bytes.length}`, { reason: 'scalar-length' });
  const dv = new DataView(bytes.buffer, bytes.byteOffset, 32);
  return (dv.getBigUint64(0) << 192n) | (dv.getBigUint64(8) << 128n) | (dv.getBigUint64(16) << 64n) | dv.getBigUint64(24);
}

/**
 * Write an integer in [0, 2^256) as 32 big-endian bytes, into `out` at `offset` when given.
 * @throws {RangeError} when `x` does not fit in 256 bits (a programming error).
 */
export function bigIntToBytes(x: bigint, out?: Uint8Array, offset = 0): Uint8Array {
  if (x < 0n || x >> 256n !== 0n) throw new RangeError('scalar out of 256-bit range');
  const o = out ?? new Uint8Array(32);
  const dv = new DataView(o.buffer, o.byteOffset + offset, 32);
  dv.setBigUint64(0, x >> 192n);
  dv.setBigUint64(8, (x >> 128n) & MASK64);
  dv.setBigUint64(16, (x >> 64n) & MASK64);
  dv.setBigUint64(24, x & MASK64);
  return o;
}

/** x mod n, always non-negative. */
export function modN(x: bigint): bigint {
  const r = x % CURVE_ORDER;
  return r < 0n ? r + CURVE_ORDER : r;
}

/**
 * Multiplicative inverse modulo n.
 * @throws {DlcError} INVALID_SCALAR when `x` is 0 mod n.
 */
export function invN(x: bigint): bigint {
  const r = modN(x);
  if (r === 0n) throw new DlcError('INVALID_SCALAR', 'cannot invert zero', { reason: 'zero-scalar' });
  return invert(r, CURVE_ORDER);
}

/**
 * Inverts many scalars with one modular inversion (Montgomery's trick:
 * 3 multiplications per element instead of one extended-Euclid each).
 * @throws {DlcError} INVALID_SCALAR when any element is 0 mod n.
 */
export function batchInvN(xs: readonly bigint[]): bigint[] {
  const n = xs.length;
  const out = new Array<bigint>(n);
  if (n === 0) return out;
  let acc = 1n;
  for (let i = 0; i < n; i++) {
    const x = modN(xs[i]!);
    if (x === 0n) throw new DlcError('INVALID_SCALAR', 'cannot invert zero', { reason: 'zero-scalar' });
    out[i] = acc;
    acc = (acc * x) % CURVE_ORDER;
  }
  let inv = invert(acc, CURVE_ORDER);
  for (let i = n - 1; i >= 0; i--) {
    const x = modN(xs[i]!);
    out[i] = (out[i]! * inv) % CURVE_ORDER;
    inv = (inv * x) % CURVE_ORDER;
  }
  return out;
}

/**
 * Parses a 32-byte scalar that must lie in [1, n-1] (a secret key, a nonce, a tweak).
 * @throws {DlcError} INVALID_LENGTH when not 32 bytes; INVALID_SCALAR when 0 or >= n.
 */
export function parseNonZeroScalar(bytes: Uint8Array, what = 'scalar'): bigint {
  const x = bytesToBigInt(bytes);
  if (x === 0n || x >= CURVE_ORDER) throw new DlcError('INVALID_SCALAR', `${what} is zero or not below the group order`, { reason: 'scalar-range' });
  return x;
}

/** True when `bytes` is 32 bytes encoding a scalar in [1, n-1]. */
export function isNonZeroScalar(bytes: Uint8Array): boolean {
  if (bytes.length !== 32) return false;
  const x = bytesToBigInt(bytes);
  return x !== 0n && x < CURVE_ORDER;
}

// ---------------------------------------------------------------- hashing

const tagStates = new Map<string, ReturnType<typeof sha256.create>>();
const utf8 = new TextEncoder();

/**
 * BIP340 tagged hash: SHA256(SHA256(tag) || SHA256(tag) || m1 || m2 ...).
 * The 64-byte tag prefix is hashed once per tag and its midstate cloned.
 */
export function taggedHash(tag: string, ...messages: Uint8Array[]): Uint8Array {
  let state = tagStates.get(tag);
  if (state === undefined) {
    const t = sha256(utf8.encode(tag));
    state = sha256.create().update(t).update(t);
    tagStates.set(tag, state);
  }
  const h = state.clone();
  for (const m of messages) h.update(m);
  return h.digest();
}
