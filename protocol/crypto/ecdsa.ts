/**
 * Plain ECDSA helpers for the signatures DLCs put on chain directly (refund
 * transaction, funding inputs): sign and verify over a 32-byte sighash, and
 * conversion between the 64-byte compact form (r||s, as in dlcspecs messages)
 * and strict DER (BIP66), which goes into witnesses.
 *
 * This module does NOT compute sighashes and does NOT append the sighash type
 * byte; signatures are always low-S (BIP62 rule 5, enforced by BIP146 policy).
 */
import { DlcError } from '../errors.js';
import { secp } from './secp.js';
import { CURVE_ORDER, HALF_CURVE_ORDER, bigIntToBytes, bytesToBigInt } from './scalar.js';

/**
 * Signs a 32-byte hash with an RFC6979 nonce; returns the 64-byte compact low-S signature.
 * @throws {DlcError} INVALID_LENGTH / INVALID_SCALAR for a bad hash or key.
 */
export function ecdsaSign(secretKey: Uint8Array, msg32: Uint8Array): Uint8Array {
  return secp().ecdsaSign(msg32, secretKey);
}

/**
 * Verifies a 64-byte compact signature; high-S signatures do not verify (BIP146).
 * @throws {DlcError} INVALID_LENGTH when `msg32` is not 32 bytes.
 */
export function ecdsaVerify(sig64: Uint8Array, msg32: Uint8Array, publicKey: Uint8Array): boolean {
  return secp().ecdsaVerify(sig64, msg32, publicKey);
}

/**
 * Returns the low-S form of a compact signature (s replaced by n − s when s > n/2).
 * @throws {DlcError} BAD_SIGNATURE when r or s is zero or not below n; INVALID_LENGTH when not 64 bytes.
 */
export function normalizeLowS(sig64: Uint8Array): Uint8Array {
  const { s } = parseCompact(sig64);
  if (s <= HALF_CURVE_ORDER) return sig64.slice();
  const out = sig64.slice();
  bigIntToBytes(CURVE_ORDER - s, out, 32);
  return out;
}

function parseCompact(sig64: Uint8Array): { r: bigint; s: bigint } {
  if (sig64.length !== 64) throw new DlcError('INVALID_LENGTH', `compact signature must be 64 bytes, got ${sig64.length}`, { reason: 'signature-length' });
  const r = bytesToBigInt(sig64.subarray(0, 32));
  const s = bytesToBigInt(sig64.subarray(32, 64));
  if (r === 0n || r >= CURVE_ORDER || s === 0n || s >= CURVE_ORDER) {
    throw new DlcError('BAD_SIGNATURE', 'signature r or s is zero or not below the group order', { reason: 'signature-range' });
  }
  return { r, s };
}

/** Minimal big-endian DER INTEGER content for a positive 32-byte value. */
function derInt(v: Uint8Array): Uint8Array {
  let i = 0;
  while (i < 31 && v[i] === 0) i++;
  const body = v.subarray(i);
  if (body[0]! & 0x80) {
    const out = new Uint8Array(body.length + 1);
    out.set(body, 1);
    return out;
  }
  return body;
}

/**
 * Encodes a compact signature as strict DER (BIP66), without a sighash byte.
 * @throws {DlcError} INVALID_LENGTH / BAD_SIGNATURE for a malformed compact signature.
 */
export function compactToDer(sig64: Uint8Array): Uint8Array {
  parseCompact(sig64);
  const r = derInt(sig64.subarray(0, 32));
  const s = derInt(sig64.subarray(32, 64));
  const out = new Uint8Array(6 + r.length + s.length);
  out[0] = 0x30;
  out[1] = 4 + r.length + s.length;
  out[2] = 0x02;
  out[3] = r.length;
  out.set(r, 4);
  out[4 + r.length] = 0x02;
  out[5 + r.length] = s.length;
  out.set(s, 6 + r.length);
  return out;
}

/**
 * Decodes a strict-DER signature (BIP66 `IsValidSignatureEncoding`, without
 * the trailing sighash byte) into the 64-byte compact form.
 * @throws {DlcError} BAD_SIGNATURE (reason `der`) for any encoding that BIP66 rejects, or r/s out of range.
 */
export function derToCompact(der: Uint8Array): Uint8Array {
  const bad = (why: string): DlcError => new DlcError('BAD_SIGNATURE', `invalid DER signature: ${why}`, { reason: 'der' });
  // BIP66: 0x30 [total-length] 0x02 [R-length] [R] 0x02 [S-length] [S]
  if (der.length < 8 || der.length > 72) throw bad('length');
  if (der[0] !== 0x30) throw bad('not a sequence');
  if (der[1] !== der.length - 2) throw bad('sequence length');
  const lenR = der[3]!;
  if (5 + lenR >= der.length) throw bad('R length');
  const lenS = der[5 + lenR]!;
  if (lenR + lenS + 6 !== der.length) throw bad('S length');
  if (der[2] !== 0x02 || der[4 + lenR] !== 0x02) throw bad('not integers');
  if (lenR === 0 || lenS === 0) throw bad('empty integer');
  const R = der.subarray(4, 4 + lenR);
  const S = der.subarray(6 + lenR, 6 + lenR + lenS);
  for (const v of [R, S]) {
    if (v[0]! & 0x80) throw bad('negative integer');
    if (v.length > 1 && v[0] === 0 && !(v[1]! & 0x80)) throw bad('non-minimal integer');
    if (v.length > 33 || (v.length === 33 && v[0] !== 0)) throw bad('integer too large');
  }
  const out = new Uint8Array(64);
  out.set(R.length === 33 ? R.subarray(1) : R, 32 - Math.min(R.length, 32));
  out.set(S.length === 33 ? S.subarray(1) : S, 64 - Math.min(S.length, 32));
  parseCompact(out);
  return out;
}
