/**
 * ECDSA adaptor signatures as specified by dlcspecs `ECDSA-adaptor.md` (the
 * scheme of secp256k1-zkp's `ecdsa_adaptor` module): encrypted signing with a
 * DLEQ proof, verification, decryption and decryption-key recovery, on the
 * 162-byte encoding `R(33) | R_a(33) | s_a(32) | proof b(32) | proof c(32)`.
 *
 * Batch forms (`adaptorSignBatch`, `adaptorVerifyBatch`) take flat buffers
 * (n×32 hashes, n×33 points) so that a worker pool can move CET batches
 * without per-item messages, and share one modular inversion per batch.
 *
 * Nonces are deterministic: `sample_nonce` (spec §Secure Nonce Generation) is
 * instantiated as a BIP340 tagged hash of the spec's input plus optional 32
 * bytes of caller-supplied auxiliary randomness. This module does NOT
 * generate randomness, does NOT compute sighashes or adaptor points, and does
 * NOT attach proofs of knowledge to encryption keys (the spec omits them: an
 * oracle necessarily knows its attestation scalar).
 */
import { DlcError } from '../errors.js';
import { secp } from './secp.js';
import {
  CURVE_ORDER, HALF_CURVE_ORDER, batchInvN, bigIntToBytes, bytesToBigInt, invN, parseNonZeroScalar, taggedHash,
} from './scalar.js';

/** Length of a serialized adaptor signature. */
export const ADAPTOR_SIGNATURE_LENGTH = 162;

/** Tag of the DLEQ challenge hash: spec §Proof of Discrete Logarithm Equality. */
const DLEQ_TAG = 'DLEQ';
/** Our instantiation of `sample_nonce` for the signing nonce k (not fixed by the spec). */
const NONCE_TAG = 'hashdlc/ecdsa-adaptor/nonce';
/** Our instantiation of `sample_nonce` for the DLEQ proof nonce a. */
const DLEQ_NONCE_TAG = 'hashdlc/ecdsa-adaptor/dleq-nonce';
const ZERO32 = new Uint8Array(32);

/** A parsed adaptor signature. Points are 33-byte compressed. */
export interface AdaptorSignatureParts {
  /** R = k·Y. */
  R: Uint8Array;
  /** R_a = k·G. */
  Ra: Uint8Array;
  /** s_a = k⁻¹(m + r·x). */
  sa: bigint;
  /** DLEQ proof challenge b. */
  b: bigint;
  /** DLEQ proof response c. */
  c: bigint;
}

function sigError(reason: string, message: string): DlcError {
  return new DlcError('BAD_SIGNATURE', message, { reason });
}

function checkLen(v: Uint8Array, len: number, what: string): void {
  if (v.length !== len) throw new DlcError('INVALID_LENGTH', `${what} must be ${len} bytes, got ${v.length}`, { reason: `${what}-length` });
}

/**
 * Parses the 162-byte encoding. R and R_a must be valid points (their x may
 * exceed n), s_a must be in [1, n-1], the proof scalars in [0, n-1].
 * @throws {DlcError} INVALID_LENGTH; BAD_SIGNATURE with reason `R-point`, `Ra-point`, `sa-zero`, `sa-range`, `proof-range`.
 */
export function parseAdaptorSignature(sig: Uint8Array): AdaptorSignatureParts {
  checkLen(sig, ADAPTOR_SIGNATURE_LENGTH, 'adaptor signature');
  const be = secp();
  const R = sig.subarray(0, 33);
  const Ra = sig.subarray(33, 66);
  if (!be.isPoint(R)) throw sigError('R-point', 'adaptor signature R is not a valid point');
  if (!be.isPoint(Ra)) throw sigError('Ra-point', 'adaptor signature R_a is not a valid point');
  const sa = bytesToBigInt(sig.subarray(66, 98));
  if (sa === 0n) throw sigError('sa-zero', 'adaptor signature s_a is zero');
  if (sa >= CURVE_ORDER) throw sigError('sa-range', 'adaptor signature s_a is not below the group order');
  const b = bytesToBigInt(sig.subarray(98, 130));
  const c = bytesToBigInt(sig.subarray(130, 162));
  if (b >= CURVE_ORDER || c >= CURVE_ORDER) throw sigError('proof-range', 'DLEQ proof scalar is not below the group order');
  return { R: R.slice(), Ra: Ra.slice(), sa, b, c };
}

/**
 * Encodes parts as the 162-byte form (the inverse of `parseAdaptorSignature`).
 * @throws {DlcError} INVALID_LENGTH when a point is not 33 bytes; {RangeError} for an unreduced scalar.
 */
export function serializeAdaptorSignature(parts: AdaptorSignatureParts, out?: Uint8Array, offset = 0): Uint8Array {
  checkLen(parts.R, 33, 'R');
  checkLen(parts.Ra, 33, 'Ra');
  for (const v of [parts.sa, parts.b, parts.c]) if (v < 0n || v >= CURVE_ORDER) throw new RangeError('adaptor scalar not reduced');
  const o = out ?? new Uint8Array(ADAPTOR_SIGNATURE_LENGTH);
  o.set(parts.R, offset);
  o.set(parts.Ra, offset + 33);
  bigIntToBytes(parts.sa, o, offset + 66);
  bigIntToBytes(parts.b, o, offset + 98);
  bigIntToBytes(parts.c, o, offset + 130);
  return o;
}

/** x(P) mod n for a compressed point. */
function xModN(p: Uint8Array): bigint {
  const x = bytesToBigInt(p.subarray(1, 33));
  return x >= CURVE_ORDER ? x - CURVE_ORDER : x;
}

/** H(X || Y || Z || A_G || A_Y) = scalar(SHA256(tag || ...)), spec §DLEQ. */
function dleqChallenge(X: Uint8Array, Y: Uint8Array, Z: Uint8Array, AG: Uint8Array, AY: Uint8Array): bigint {
  return bytesToBigInt(taggedHash(DLEQ_TAG, X, Y, Z, AG, AY)) % CURVE_ORDER;
}

function nonceScalar(h: Uint8Array): bigint {
  const k = bytesToBigInt(h) % CURVE_ORDER;
  if (k === 0n) throw new DlcError('INVALID_SCALAR', 'derived nonce is zero', { reason: 'nonce-zero' }); // probability 2^-256
  return k;
}

/**
 * Encrypted signing of many (sighash, encryption point) pairs under one key
 * (spec §Encrypted Signing, with `DLEQ_prove`).
 * @param secretKey 32-byte signing key x.
 * @param msgHashes n×32 bytes, the message hashes (CET sighashes).
 * @param encryptionKeys n×33 bytes, the encryption points Y (CET adaptor points).
 * @param aux optional 32 bytes of extra randomness mixed into every nonce.
 * @returns n×162 bytes, the adaptor signatures in input order.
 * @throws {DlcError} INVALID_LENGTH for bad buffer sizes, INVALID_SCALAR for a bad key, INVALID_POINT for a bad Y.
 */
export function adaptorSignBatch(secretKey: Uint8Array, msgHashes: Uint8Array, encryptionKeys: Uint8Array, aux?: Uint8Array): Uint8Array {
  const x = parseNonZeroScalar(secretKey, 'secret key');
  const n = batchLength(msgHashes, encryptionKeys);
  const auxBytes = aux ?? ZERO32;
  checkLen(auxBytes, 32, 'aux');
  const be = secp();
  const out = new Uint8Array(n * ADAPTOR_SIGNATURE_LENGTH);
  const ks = new Array<bigint>(n);
  const ms = new Array<bigint>(n);
  const rs = new Array<bigint>(n);
  for (let i = 0; i < n; i++) {
    const Y = encryptionKeys.subarray(i * 33, i * 33 + 33);
    const msg = msgHashes.subarray(i * 32, i * 32 + 32);
    // k = sample_nonce(Y || message_hash || x), plus aux
    const k = nonceScalar(taggedHash(NONCE_TAG, Y, msg, secretKey, auxBytes));
    const kb = bigIntToBytes(k);
    const Ra = be.mulG(kb);
    const R = be.mul(Y, kb);
    // DLEQ_prove(k, (R_a, Y, R)): a = sample_nonce(tag || X || Y || Z || x)
    const a = nonceScalar(taggedHash(DLEQ_NONCE_TAG, Ra, Y, R, kb, auxBytes));
    const ab = bigIntToBytes(a);
    const AG = be.mulG(ab);
    const AY = be.mul(Y, ab);
    const b = dleqChallenge(Ra, Y, R, AG, AY);
    const c = (a + b * k) % CURVE_ORDER;
    const o = i * ADAPTOR_SIGNATURE_LENGTH;
    out.set(R, o);
    out.set(Ra, o + 33);
    bigIntToBytes(b, out, o + 98);
    bigIntToBytes(c, out, o + 130);
    ks[i] = k;
    ms[i] = bytesToBigInt(msg) % CURVE_ORDER;
    rs[i] = xModN(R);
  }
  const kInv = batchInvN(ks);
  for (let i = 0; i < n; i++) {
    // s_a = k⁻¹ (m + r·x)
    const sa = (kInv[i]! * ((ms[i]! + rs[i]! * x) % CURVE_ORDER)) % CURVE_ORDER;
    if (sa === 0n) throw new DlcError('INVALID_SCALAR', 'adaptor s_a is zero', { reason: 'sa-zero' }); // negligible
    bigIntToBytes(sa, out, i * ADAPTOR_SIGNATURE_LENGTH + 66);
  }
  return out;
}

function batchLength(msgHashes: Uint8Array, encryptionKeys: Uint8Array): number {
  if (msgHashes.length % 32 !== 0) throw new DlcError('INVALID_LENGTH', 'message hashes must be n×32 bytes', { reason: 'batch-length' });
  const n = msgHashes.length / 32;
  if (encryptionKeys.length !== n * 33) throw new DlcError('INVALID_LENGTH', 'encryption keys must be n×33 bytes, one per hash', { reason: 'batch-length' });
  return n;
}

/**
 * Encrypted signing of one message hash under encryption key Y.
 * @returns the 162-byte adaptor signature.
 * @throws {DlcError} INVALID_LENGTH, INVALID_SCALAR, INVALID_POINT for bad inputs.
 */
export function adaptorSign(secretKey: Uint8Array, encryptionKey: Uint8Array, msgHash: Uint8Array, aux?: Uint8Array): Uint8Array {
  checkLen(msgHash, 32, 'message hash');
  checkLen(encryptionKey, 33, 'encryption key');
  return adaptorSignBatch(secretKey, msgHash, encryptionKey, aux);
}

/**
 * Checks one signature whose s_a⁻¹ is already known; returns the failure reason or undefined.
 * Spec §Encryption Verification: DLEQ_verify((R_a, Y, R), proof), then u1·G + u2·X == R_a.
 */
function verifyOne(X: Uint8Array, Y: Uint8Array, msg: Uint8Array, p: AdaptorSignatureParts, saInv: bigint): string | undefined {
  const be = secp();
  const negB = (CURVE_ORDER - p.b) % CURVE_ORDER;
  // A_G = c·G − b·R_a
  let AG: Uint8Array;
  let AY: Uint8Array;
  try {
    AG = be.mulAddG(p.Ra, negB, p.c);
    // A_Y = c·Y − b·R
    const parts: Uint8Array[] = [];
    if (p.c !== 0n) parts.push(be.mul(Y, bigIntToBytes(p.c)));
    if (negB !== 0n) parts.push(be.mul(p.R, bigIntToBytes(negB)));
    if (parts.length === 0) return 'dleq-proof';
    AY = be.add(parts);
  } catch (err) {
    if (err instanceof DlcError && err.reason === 'infinity') return 'dleq-proof';
    throw err;
  }
  if (dleqChallenge(p.Ra, Y, p.R, AG, AY) !== p.b) return 'dleq-proof';
  const m = bytesToBigInt(msg) % CURVE_ORDER;
  const r = xModN(p.R);
  const u1 = (m * saInv) % CURVE_ORDER;
  const u2 = (r * saInv) % CURVE_ORDER;
  let lhs: Uint8Array;
  try {
    lhs = be.mulAddG(X, u2, u1);
  } catch (err) {
    if (err instanceof DlcError && err.reason === 'infinity') return 'signature-equation';
    throw err;
  }
  for (let j = 0; j < 33; j++) if (lhs[j] !== p.Ra[j]) return 'signature-equation';
  return undefined;
}

/**
 * Verifies many adaptor signatures under one public key.
 * @param publicKey 33-byte signing key X.
 * @param msgHashes n×32 bytes; @param encryptionKeys n×33 bytes; @param sigs n×162 bytes.
 * @returns n bytes: 1 where the signature is valid, 0 where it is not (malformed included).
 * @throws {DlcError} INVALID_LENGTH for bad buffer sizes; INVALID_POINT when X is not a point.
 */
export function adaptorVerifyBatch(publicKey: Uint8Array, msgHashes: Uint8Array, encryptionKeys: Uint8Array, sigs: Uint8Array): Uint8Array {
  return verifyBatchReasons(publicKey, msgHashes, encryptionKeys, sigs).ok;
}

function verifyBatchReasons(publicKey: Uint8Array, msgHashes: Uint8Array, encryptionKeys: Uint8Array, sigs: Uint8Array): { ok: Uint8Array; reasons: (string | undefined)[] } {
  const n = batchLength(msgHashes, encryptionKeys);
  if (sigs.length !== n * ADAPTOR_SIGNATURE_LENGTH) throw new DlcError('INVALID_LENGTH', 'signatures must be n×162 bytes', { reason: 'batch-length' });
  checkLen(publicKey, 33, 'public key');
  const be = secp();
  if (!be.isPoint(publicKey)) throw new DlcError('INVALID_POINT', 'public key is not a valid point', { reason: 'not-on-curve' });
  const ok = new Uint8Array(n);
  const reasons = new Array<string | undefined>(n);
  const parsed = new Array<AdaptorSignatureParts | undefined>(n);
  const sas: bigint[] = [];
  for (let i = 0; i < n; i++) {
    try {
      const p = parseAdaptorSignature(sigs.subarray(i * ADAPTOR_SIGNATURE_LENGTH, (i + 1) * ADAPTOR_SIGNATURE_LENGTH));
      parsed[i] = p;
      sas.push(p.sa);
    } catch (err) {
      if (!(err instanceof DlcError)) throw err;
      reasons[i] = err.reason ?? 'malformed';
    }
  }
  const inv = batchInvN(sas);
  let j = 0;
  for (let i = 0; i < n; i++) {
    const p = parsed[i];
    if (p === undefined) continue;
    const Y = encryptionKeys.subarray(i * 33, i * 33 + 33);
    let why: string | undefined;
    if (!be.isPoint(Y)) why = 'encryption-key';
    else why = verifyOne(publicKey, Y, msgHashes.subarray(i * 32, i * 32 + 32), p, inv[j]!);
    j++;
    reasons[i] = why;
    ok[i] = why === undefined ? 1 : 0;
  }
  return { ok, reasons };
}

/**
 * Verifies one adaptor signature (spec §Encryption Verification).
 * @throws {DlcError} BAD_SIGNATURE with reason `dleq-proof`, `signature-equation`,
 *   `encryption-key` or a parse reason; INVALID_LENGTH / INVALID_POINT for a bad public key.
 */
export function adaptorVerify(publicKey: Uint8Array, encryptionKey: Uint8Array, msgHash: Uint8Array, adaptorSig: Uint8Array): void {
  checkLen(msgHash, 32, 'message hash');
  checkLen(encryptionKey, 33, 'encryption key');
  checkLen(adaptorSig, ADAPTOR_SIGNATURE_LENGTH, 'adaptor signature');
  const { reasons } = verifyBatchReasons(publicKey, msgHash, encryptionKey, adaptorSig);
  const why = reasons[0];
  if (why !== undefined) throw sigError(why, `adaptor signature does not verify (${why})`);
}

/**
 * Boolean form of `adaptorVerify`: false for any invalid or malformed signature.
 * @throws {DlcError} only for inputs of the wrong length or an invalid public key.
 */
export function isValidAdaptorSignature(publicKey: Uint8Array, encryptionKey: Uint8Array, msgHash: Uint8Array, adaptorSig: Uint8Array): boolean {
  try {
    adaptorVerify(publicKey, encryptionKey, msgHash, adaptorSig);
    return true;
  } catch (err) {
    if (err instanceof DlcError && err.code === 'BAD_SIGNATURE') return false;
    throw err;
  }
}

/**
 * Decrypts an adaptor signature with the decryption key y (the oracle
 * attestation scalar): s = s_a·y⁻¹, negated if high (BIP62 low-S).
 * @returns the 64-byte compact ECDSA signature r||s.
 * @throws {DlcError} BAD_SIGNATURE for a malformed adaptor signature; INVALID_SCALAR / INVALID_LENGTH for a bad key.
 */
export function adaptorDecrypt(adaptorSig: Uint8Array, decryptionKey: Uint8Array): Uint8Array {
  const y = parseNonZeroScalar(decryptionKey, 'decryption key');
  const p = parseAdaptorSignature(adaptorSig);
  let s = (p.sa * invN(y)) % CURVE_ORDER;
  if (s > HALF_CURVE_ORDER) s = CURVE_ORDER - s;
  const out = new Uint8Array(64);
  bigIntToBytes(xModN(p.R), out, 0);
  bigIntToBytes(s, out, 32);
  return out;
}

/**
 * Recovers the decryption key from an adaptor signature and the ECDSA
 * signature decrypted from it (spec §Key Recovery): y = s⁻¹·s_a, negated
 * when y·G = −Y.
 * @returns the 32-byte decryption key.
 * @throws {DlcError} BAD_SIGNATURE with reason `r-mismatch` (the signature's r is not x(R)),
 *   `not-encryption-key` (y·G is neither Y nor −Y), a parse reason, or `signature-range`.
 */
export function adaptorRecover(encryptionKey: Uint8Array, adaptorSig: Uint8Array, sig64: Uint8Array): Uint8Array {
  checkLen(encryptionKey, 33, 'encryption key');
  checkLen(sig64, 64, 'signature');
  const be = secp();
  if (!be.isPoint(encryptionKey)) throw new DlcError('INVALID_POINT', 'encryption key is not a valid point', { reason: 'not-on-curve' });
  const p = parseAdaptorSignature(adaptorSig);
  const r = bytesToBigInt(sig64.subarray(0, 32));
  const s = bytesToBigInt(sig64.subarray(32, 64));
  if (r === 0n || r >= CURVE_ORDER || s === 0n || s >= CURVE_ORDER) throw sigError('signature-range', 'signature r or s out of range');
  if (r !== xModN(p.R)) throw sigError('r-mismatch', 'the R value of the signature does not match the adaptor signature');
  const y = (invN(s) * p.sa) % CURVE_ORDER;
  const Yimplied = be.mulG(bigIntToBytes(y));
  if (Yimplied[0] === encryptionKey[0] && equalBytes(Yimplied, encryptionKey)) return bigIntToBytes(y);
  if (equalBytes(Yimplied.subarray(1), encryptionKey.subarray(1))) return bigIntToBytes(CURVE_ORDER - y); // −Y: same x, other parity
  throw sigError('not-encryption-key', 'recovered key does not match the encryption key');
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
