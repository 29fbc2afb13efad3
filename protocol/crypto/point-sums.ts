/**
 * Long chains of secp256k1 point additions, as the adaptor points of a CET plan
 * need (one per digit-prefix node, one per oracle of every t-of-n slot), kept
 * in projective coordinates and encoded together at the end with ONE batched
 * field inversion (Montgomery's trick).
 *
 * Why not `secp().add`: every backend call there takes and returns 33-byte
 * compressed points, so each addition pays a square root per input (parsing)
 * and an inversion (encoding); through the native binding that is ~17 µs per
 * two-point sum, against ~5 µs for a projective addition here, and 2-of-3 or
 * 3-of-5 plans make several additions per adaptor signature. Results are the
 * same points, encoded the same way (SEC1 §2.3.3 compressed), whichever
 * backend produced the inputs.
 *
 * This module does NOT multiply by scalars, handle secrets (every point here
 * is public: oracle keys, nonces, attestation points) or run in constant time.
 */
import { FpInvertBatch } from '@noble/curves/abstract/modular.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { DlcError } from '../errors.js';
import { bigIntToBytes } from './scalar.js';

const Point = secp256k1.Point;
const Fp = Point.Fp;

/** A point in projective coordinates (never the point at infinity when returned from here). */
export type SumPoint = ReturnType<typeof Point.fromBytes>;

function infinity(): DlcError {
  return new DlcError('INVALID_POINT', 'result is the point at infinity', { reason: 'infinity' });
}

/**
 * Parses a 33-byte compressed point.
 * @throws {DlcError} INVALID_LENGTH / INVALID_POINT for anything else.
 */
export function sumPointOf(p: Uint8Array): SumPoint {
  if (p.length !== 33) throw new DlcError('INVALID_LENGTH', `point must be 33 bytes, got ${p.length}`, { reason: 'point-length' });
  if (p[0] !== 2 && p[0] !== 3) throw new DlcError('INVALID_POINT', 'not a compressed secp256k1 point', { reason: 'not-on-curve' });
  try {
    return Point.fromBytes(p);
  } catch {
    throw new DlcError('INVALID_POINT', 'not a valid compressed secp256k1 point', { reason: 'not-on-curve' });
  }
}

/**
 * a + b, projective.
 * @throws {DlcError} INVALID_POINT (reason `infinity`) when the sum is the point at
 *   infinity, as `secp().add` does (negligible for oracle points, but never encoded).
 */
export function addSumPoints(a: SumPoint, b: SumPoint): SumPoint {
  const s = a.add(b);
  if (s.is0()) throw infinity();
  return s;
}

/**
 * Compressed encodings of many projective points, with one field inversion
 * for all of them (FpInvertBatch) instead of one each.
 * @returns one 33-byte point per input, in order.
 * @throws {DlcError} INVALID_POINT (reason `infinity`) for the point at infinity.
 */
export function encodeSumPoints(points: readonly SumPoint[]): Uint8Array[] {
  for (const p of points) if (p.is0()) throw infinity();
  const inverted = FpInvertBatch(Fp, points.map((p) => p.Z));
  return points.map((p, i) => {
    const iz = inverted[i]!;
    const x = Fp.mul(p.X, iz);
    const y = Fp.mul(p.Y, iz);
    const out = new Uint8Array(33);
    out[0] = (y & 1n) === 1n ? 3 : 2;
    bigIntToBytes(x, out, 1);
    return out;
  });
}
