/**
 * Payout curves of numeric-outcome contracts: evaluation of a `PayoutFunction`
 * (dlcspecs PayoutCurve.md), rounding intervals (NumericOutcome.md "Rounding
 * Intervals") and the split of the outcome domain into ranges of consecutive
 * outcomes with equal rounded payout (NumericOutcome.md "Contract Execution
 * Transaction Calculation"), one CET per range.
 *
 * Two conformance modes, chosen per call:
 * - `'vectors'` (default) reproduces what rust-dlc does and the dlcspecs test
 *   vectors were produced with, so CETs and adaptor signatures match theirs
 *   bit for bit: f64 arithmetic exactly as rust-dlc performs it, two-point
 *   pieces ignore extra precision, flat two-point pieces extend the current
 *   range without re-rounding, hyperbola pieces are evaluated at their
 *   endpoints, rounding intervals must be non-empty and start at 0, and a
 *   payout outside [0, totalCollateral] is an error (dlc-vectors README items
 *   5 and 6; rust-dlc `dlc-manager/src/payout_curve.rs` behaviour).
 * - `'spec'` follows the spec text: exact rational arithmetic (bigint) for
 *   polynomial pieces including extra precision, endpoint payouts at
 *   endpoints, every outcome rounded with its own modulus, rounding modulus 1
 *   where no interval applies, payouts clamped to [0, totalCollateral].
 * One deliberate departure from rust-dlc in `'vectors'` mode: a decreasing
 * two-point piece uses its true (negative) slope; rust-dlc subtracts u64
 * payouts there and overflows.
 *
 * This module does NOT build transactions, digit prefixes or adaptor points,
 * and does not look at oracles (see ./plan.ts for that).
 */

import { DlcError } from '../errors.js';
import type {
  NumericOutcomeContractDescriptor,
  PayoutFunction,
  PayoutPoint,
  RoundingIntervals,
} from '../messages/types.js';
import { maxOutcome } from './decomposition.js';

/** Which behaviour to follow where the dlcspecs vectors depart from the spec text. */
export type Conformance = 'vectors' | 'spec';

export interface PayoutOptions {
  /** Default `'vectors'` (what rust-dlc and the dlcspecs vectors do). */
  conformance?: Conformance;
  /**
   * Cap on point evaluations of non-monotone pieces (polynomials of degree 2
   * and more, hyperbolas), which are evaluated outcome by outcome. Lines are
   * never evaluated outcome by outcome. Default 2^22 (a few seconds at worst).
   */
  maxEvaluations?: number;
}

/** Consecutive outcomes `[start, start + count - 1]` whose rounded offerer payout is `offerPayout`. */
export interface OutcomeRange {
  start: bigint;
  count: bigint;
  offerPayout: bigint;
}

/** An exact rational number `num / den`, `den > 0`. */
export interface Rational {
  num: bigint;
  den: bigint;
}

const DEFAULT_MAX_EVALUATIONS = 1 << 22;
/** PayoutCurve.md: extra_precision is the first 16 bits after the binary point. */
const EXTRA_PRECISION_SCALE = 65536n;
const MIN_NORMAL_F64 = 2.2250738585072014e-308;

type Descriptor = NumericOutcomeContractDescriptor['numericOutcomeContractDescriptor'];

function invalid(message: string, reason: string): DlcError {
  return new DlcError('INVALID_PARAMS', message, { reason });
}

function floorDiv(a: bigint, b: bigint): bigint {
  // b > 0 here
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

function abs(a: bigint): bigint {
  return a < 0n ? -a : a;
}

function gcd(a: bigint, b: bigint): bigint {
  let x = abs(a);
  let y = abs(b);
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

/**
 * Rounds `value` to the nearer multiple of `roundingMod`, ties upward
 * (NumericOutcome.md "Rounding Intervals": the closer of `value - value % R`
 * and `value - value % R + R`, rounding up in the case of a tie). Exact.
 *
 * @throws {DlcError} INVALID_PARAMS if roundingMod < 1 or value.den <= 0.
 */
export function roundToModulus(value: Rational, roundingMod: bigint): bigint {
  if (roundingMod < 1n) throw invalid(`rounding modulus must be at least 1, got ${roundingMod}`, 'rounding-mod-zero');
  if (value.den <= 0n) throw invalid('rational denominator must be positive', 'bad-rational');
  // floor(v / R + 1/2) * R, with v = num / den
  return floorDiv(2n * value.num + roundingMod * value.den, 2n * roundingMod * value.den) * roundingMod;
}

/** Exact rational value of a finite double (every finite double is dyadic). */
function rationalFromF64(x: number): Rational {
  let den = 1n;
  let v = x;
  while (!Number.isInteger(v)) {
    v *= 2; // exact: scaling by 2 never rounds for finite doubles below the overflow bound
    den *= 2n;
  }
  return { num: BigInt(v), den };
}

// ---------------------------------------------------------------- rounding intervals

interface ModLookup {
  /** Rounding modulus at outcome x. */
  at(x: bigint): bigint;
  /** First outcome > x where the modulus may change, or null. */
  nextBoundary(x: bigint): bigint | null;
}

/**
 * Validates rounding intervals. NumericOutcome.md "Requirements": begin_interval
 * strictly increases. `'vectors'` also requires (rust-dlc
 * `RoundingIntervals::validate`, rust-dlc offer_numerical_*_rounding_interval
 * reject cases) at least one interval and the first beginning at 0. Both modes
 * reject a modulus of 0, which has no meaning.
 *
 * @throws {DlcError} INVALID_PARAMS naming the broken rule in `reason`.
 */
export function validateRoundingIntervals(intervals: RoundingIntervals, options: PayoutOptions = {}): void {
  const conformance = options.conformance ?? 'vectors';
  const list = intervals.intervals;
  if (conformance === 'vectors') {
    if (list.length === 0) throw invalid('rounding intervals are empty', 'rounding-intervals-empty');
    if (list[0]!.beginInterval !== 0n) {
      throw invalid('first rounding interval does not begin at 0', 'rounding-intervals-not-from-zero');
    }
  }
  for (let i = 0; i < list.length; i++) {
    const iv = list[i]!;
    if (iv.beginInterval < 0n) throw invalid('rounding interval begins below 0', 'rounding-interval-negative');
    if (iv.roundingMod < 1n) throw invalid('rounding modulus must be at least 1', 'rounding-mod-zero');
    if (i > 0 && iv.beginInterval <= list[i - 1]!.beginInterval) {
      throw invalid('rounding interval beginnings do not strictly increase', 'rounding-intervals-not-increasing');
    }
  }
}

function modLookup(intervals: RoundingIntervals): ModLookup {
  const list = intervals.intervals;
  // index of the last interval with beginInterval <= x, or -1
  const find = (x: bigint): number => {
    let lo = 0;
    let hi = list.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.beginInterval <= x) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  };
  return {
    // NumericOutcome.md: before the first interval (or with none), the modulus is 1.
    at: (x) => {
      const i = find(x);
      return i < 0 ? 1n : list[i]!.roundingMod;
    },
    nextBoundary: (x) => {
      const i = find(x) + 1;
      return i < list.length ? list[i]!.beginInterval : null;
    },
  };
}

// ---------------------------------------------------------------- pieces

type PieceShape = 'flat' | 'monotone' | 'curve';

interface Piece {
  from: bigint;
  to: bigint;
  shape: PieceShape;
  /** Rounded, checked (or clamped) offerer payout at outcome x with modulus `mod`. */
  payout(x: bigint, mod: bigint): bigint;
}

interface EvalContext {
  conformance: Conformance;
  total: bigint;
}

function pointValue(p: PayoutPoint): Rational {
  return { num: p.outcomePayout * EXTRA_PRECISION_SCALE + BigInt(p.extraPrecision), den: EXTRA_PRECISION_SCALE };
}

function pointValueF64(p: PayoutPoint): number {
  // rust-dlc PayoutPoint::get_outcome_payout
  return Number(p.outcomePayout) + p.extraPrecision / 65536;
}

/** 'vectors': the checks and rounding rust-dlc's `get_rounded_payout` applies to an f64 value. */
function roundF64Vectors(v: number, mod: bigint, total: bigint, x: bigint): bigint {
  if (v < 0 || Object.is(v, -0) || (v !== 0 && !(Number.isFinite(v) && Math.abs(v) >= MIN_NORMAL_F64))) {
    throw invalid(`payout curve cannot be evaluated at outcome ${x} (got ${v})`, 'payout-not-evaluable');
  }
  if (v > Number(total)) {
    throw invalid(`payout at outcome ${x} is above the total collateral`, 'payout-above-collateral');
  }
  const m = Number(mod);
  const r = v % m;
  const rounded = BigInt(r >= m / 2 ? Math.round(v + m - r) : Math.round(v - r));
  return rounded < total ? rounded : total;
}

/** 'spec': exact rounding, then NumericOutcome.md's clamp to [0, totalCollateral]. */
function roundExactSpec(v: Rational, mod: bigint, total: bigint): bigint {
  const r = roundToModulus(v, mod);
  return r < 0n ? 0n : r > total ? total : r;
}

/**
 * Exact Lagrange interpolation (PayoutCurve.md "Polynomial Evaluation") turned
 * into one polynomial with integer coefficients over a common denominator, so
 * that each evaluation is a Horner pass on bigints.
 */
function exactPolynomial(points: readonly PayoutPoint[]): (x: bigint) => Rational {
  const xs = points.map((p) => p.eventOutcome);
  const ys = points.map((p) => pointValue(p).num); // all over EXTRA_PRECISION_SCALE
  const n = points.length;
  const denoms: bigint[] = [];
  const numerPolys: bigint[][] = [];
  for (let i = 0; i < n; i++) {
    let d = 1n;
    let poly: bigint[] = [1n]; // coefficients, lowest degree first
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      d *= xs[i]! - xs[j]!;
      const next = new Array<bigint>(poly.length + 1).fill(0n);
      for (let k = 0; k < poly.length; k++) {
        next[k + 1]! += poly[k]!;
        next[k]! -= poly[k]! * xs[j]!;
      }
      poly = next;
    }
    denoms.push(d);
    numerPolys.push(poly);
  }
  let lcm = 1n;
  for (const d of denoms) lcm = (lcm / gcd(lcm, d)) * abs(d);
  const coeffs = new Array<bigint>(n).fill(0n);
  for (let i = 0; i < n; i++) {
    const w = ys[i]! * (lcm / denoms[i]!);
    const poly = numerPolys[i]!;
    for (let k = 0; k < poly.length; k++) coeffs[k]! += w * poly[k]!;
  }
  const den = lcm * EXTRA_PRECISION_SCALE;
  return (x) => {
    let acc = 0n;
    for (let k = n - 1; k >= 0; k--) acc = acc * x + coeffs[k]!;
    return { num: acc, den };
  };
}

/** rust-dlc `PolynomialPayoutCurvePiece::evaluate`, f64 step for step. */
function f64Polynomial(points: readonly PayoutPoint[]): (x: bigint) => number {
  if (points.length === 2) {
    const [l, r] = points as [PayoutPoint, PayoutPoint];
    if (l.outcomePayout === r.outcomePayout) {
      const flat = Number(r.outcomePayout);
      return () => flat;
    }
    // Signed difference: rust-dlc subtracts u64 here, which overflows for
    // decreasing lines; the intended slope is the signed one.
    const slope = Number(r.outcomePayout - l.outcomePayout) / Number(r.eventOutcome - l.eventOutcome);
    const left = Number(l.outcomePayout);
    return (x) => Number(x - l.eventOutcome) * slope + left;
  }
  const xs = points.map((p) => Number(p.eventOutcome));
  const ys = points.map(pointValueF64);
  const n = points.length;
  return (xb) => {
    const x = Number(xb);
    let result = 0;
    for (let i = 0; i < n; i++) {
      let l = ys[i]!;
      for (let j = 0; j < n; j++) {
        if (i === j) continue;
        l *= (x - xs[j]!) / (xs[i]! - xs[j]!);
      }
      result += l;
    }
    return result;
  };
}

interface HyperbolaParams {
  usePositivePiece: boolean;
  translateOutcome: number;
  translatePayout: number;
  a: number;
  b: number;
  c: number;
  d: number;
}

/** PayoutCurve.md "Hyperbola Evaluation" (y_1 / y_2), in f64 as rust-dlc computes it. */
function f64Hyperbola(h: HyperbolaParams): (x: bigint) => number {
  return (xb) => {
    const t = Number(xb) - h.translateOutcome;
    const root = Math.sqrt(t * t - 4 * h.a * h.b);
    const s = h.usePositivePiece ? root : -root;
    const first = (h.c * (t + s)) / (2 * h.a);
    const second = (2 * h.a * h.d) / (t + s);
    return first + second + h.translatePayout;
  };
}

function buildPieces(fn: PayoutFunction, ctx: EvalContext): Piece[] {
  const pieces: Piece[] = [];
  const fps = fn.payoutFunctionPieces;
  for (let i = 0; i < fps.length; i++) {
    const left = fps[i]!.endPoint;
    const right = i + 1 < fps.length ? fps[i + 1]!.endPoint : fn.lastEndpoint;
    const curve = fps[i]!.payoutCurvePiece;
    const from = left.eventOutcome;
    const to = right.eventOutcome;
    if ('polynomialPayoutCurvePiece' in curve) {
      const points = [left, ...curve.polynomialPayoutCurvePiece.payoutPoints, right];
      const isLine = points.length === 2;
      if (ctx.conformance === 'vectors') {
        const f = f64Polynomial(points);
        const shape: PieceShape = isLine ? (left.outcomePayout === right.outcomePayout ? 'flat' : 'monotone') : 'curve';
        pieces.push({ from, to, shape, payout: (x, mod) => roundF64Vectors(f(x), mod, ctx.total, x) });
      } else {
        const f = exactPolynomial(points);
        pieces.push({
          from,
          to,
          shape: isLine ? 'monotone' : 'curve',
          payout: (x, mod) => roundExactSpec(f(x), mod, ctx.total),
        });
      }
    } else {
      const h = curve.hyperbolaPayoutCurvePiece;
      const f = f64Hyperbola(h);
      if (ctx.conformance === 'vectors') {
        // dlc-vectors README item 5: evaluated at the endpoints too.
        pieces.push({ from, to, shape: 'curve', payout: (x, mod) => roundF64Vectors(f(x), mod, ctx.total, x) });
      } else {
        pieces.push({
          from,
          to,
          shape: 'curve',
          payout: (x, mod) => {
            // PayoutCurve.md "General Function Evaluation": at an endpoint, its payout.
            if (x === from) return roundExactSpec(pointValue(left), mod, ctx.total);
            if (x === to) return roundExactSpec(pointValue(right), mod, ctx.total);
            const v = f(x);
            if (!Number.isFinite(v)) {
              throw invalid(`hyperbola is undefined at outcome ${x}`, 'payout-not-evaluable');
            }
            return roundExactSpec(rationalFromF64(v), mod, ctx.total);
          },
        });
      }
    }
  }
  return pieces;
}

// ---------------------------------------------------------------- validation

/**
 * Validates a payout function against the numeric domain [0, maxOutcome]:
 * 1. at least one piece (PayoutCurve.md "Requirements": num_pieces >= 1);
 * 2. endpoints and every interpolation point strictly increase (ibid.);
 * 3. the function starts at outcome 0 and ends at `maxOutcome`, so every
 *    attestable outcome has a payout (rust-dlc offer_numerical_bad_first_payout /
 *    bad_last_payout reject cases);
 * 4. extra precision fits in a u16, payouts are non-negative;
 * 5. hyperbola pieces: finite parameters, `a != 0`, `a*d != b*c`
 *    (PayoutCurve.md hyperbola "Requirements").
 *
 * @throws {DlcError} INVALID_PARAMS naming the broken rule in `reason`.
 */
export function validatePayoutFunction(fn: PayoutFunction, domainMax: bigint): void {
  const fps = fn.payoutFunctionPieces;
  if (fps.length === 0) throw invalid('payout function has no piece', 'payout-function-empty');
  const checkPoint = (p: PayoutPoint): void => {
    if (!Number.isInteger(p.extraPrecision) || p.extraPrecision < 0 || p.extraPrecision > 0xffff) {
      throw invalid('extra precision must be a u16', 'extra-precision-range');
    }
    if (p.outcomePayout < 0n || p.eventOutcome < 0n) throw invalid('negative payout point', 'payout-point-negative');
  };
  let prev: bigint | null = null;
  const advance = (p: PayoutPoint): void => {
    checkPoint(p);
    if (prev !== null && p.eventOutcome <= prev) {
      throw invalid('payout points do not strictly increase', 'payout-points-not-increasing');
    }
    prev = p.eventOutcome;
  };
  for (const fp of fps) {
    advance(fp.endPoint);
    const curve = fp.payoutCurvePiece;
    if ('polynomialPayoutCurvePiece' in curve) {
      for (const p of curve.polynomialPayoutCurvePiece.payoutPoints) advance(p);
    } else {
      const h = curve.hyperbolaPayoutCurvePiece;
      const values = [h.translateOutcome, h.translatePayout, h.a, h.b, h.c, h.d];
      if (!values.every(Number.isFinite)) throw invalid('hyperbola parameter is not finite', 'hyperbola-not-finite');
      if (h.a === 0 || h.a * h.d === h.b * h.c) {
        throw invalid('hyperbola needs a != 0 and a*d != b*c', 'hyperbola-degenerate');
      }
    }
  }
  advance(fn.lastEndpoint);
  if (fps[0]!.endPoint.eventOutcome !== 0n) {
    throw invalid('payout function does not start at outcome 0', 'payout-function-domain-start');
  }
  if (fn.lastEndpoint.eventOutcome !== domainMax) {
    throw invalid(`payout function does not end at outcome ${domainMax}`, 'payout-function-domain-end');
  }
}

// ---------------------------------------------------------------- ranges

/**
 * Largest y in [x, end] with payout(y) === p, knowing payout(x) === p and that
 * payout is monotone on [x, end] (galloping, then bisection).
 */
function runEnd(payout: (y: bigint) => bigint, x: bigint, end: bigint, p: bigint, count: () => void): bigint {
  let lo = x;
  let step = 1n;
  let hi = end + 1n; // sentinel: not evaluated, beyond the segment
  while (lo < end) {
    const probe = lo + step > end ? end : lo + step;
    count();
    if (payout(probe) !== p) {
      hi = probe;
      break;
    }
    lo = probe;
    step *= 2n;
  }
  if (hi > end) return lo;
  while (hi - lo > 1n) {
    const mid: bigint = (lo + hi) / 2n;
    count();
    if (payout(mid) === p) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * Splits [0, base^numDigits - 1] into ranges of consecutive outcomes with
 * equal rounded offerer payout, in increasing outcome order: one CET per range
 * (NumericOutcome.md "Contract Execution Transaction Calculation"; rust-dlc
 * `PayoutFunction::to_range_payouts`). `base` is the oracles' digit base
 * (the descriptor only carries `numDigits`).
 *
 * Lines are split by galloping search (a few evaluations per range, so
 * millions of outcomes cost microseconds); other pieces are evaluated outcome
 * by outcome, up to `options.maxEvaluations`.
 *
 * @throws {DlcError} INVALID_PARAMS if the descriptor breaks a rule of
 *   {@link validatePayoutFunction} or {@link validateRoundingIntervals}, a payout
 *   cannot be evaluated, (`'vectors'`) a payout is outside [0, totalCollateral],
 *   or the evaluation cap is reached.
 */
export function outcomeRanges(
  descriptor: Descriptor,
  totalCollateral: bigint,
  base: number,
  options: PayoutOptions = {},
): OutcomeRange[] {
  const conformance = options.conformance ?? 'vectors';
  if (totalCollateral < 0n) throw invalid('total collateral is negative', 'total-collateral-negative');
  const domainMax = maxOutcome(base, descriptor.numDigits);
  validatePayoutFunction(descriptor.payoutFunction, domainMax);
  validateRoundingIntervals(descriptor.roundingIntervals, { conformance });
  const mods = modLookup(descriptor.roundingIntervals);
  const pieces = buildPieces(descriptor.payoutFunction, { conformance, total: totalCollateral });

  const maxEvaluations = options.maxEvaluations ?? DEFAULT_MAX_EVALUATIONS;
  let evaluations = 0;
  const count = (): void => {
    if (++evaluations > maxEvaluations) {
      throw invalid(`payout curve needs more than ${maxEvaluations} evaluations`, 'too-many-evaluations');
    }
  };

  const ranges: OutcomeRange[] = [];
  for (const piece of pieces) {
    // The piece's first outcome is the previous piece's last one, already in a
    // range (rust-dlc `get_cur_range`); only the very first piece evaluates it.
    let cur = ranges.pop();
    if (cur === undefined) {
      count();
      cur = { start: piece.from, count: 1n, offerPayout: piece.payout(piece.from, mods.at(piece.from)) };
    }
    if (piece.shape === 'flat') {
      // 'vectors' only (dlc-vectors README item 6): extend, no re-rounding.
      cur.count += piece.to - piece.from;
      ranges.push(cur);
      continue;
    }
    let x = piece.from + 1n;
    while (x <= piece.to) {
      const mod = mods.at(x);
      const boundary = mods.nextBoundary(x);
      const segEnd = boundary !== null && boundary - 1n < piece.to ? boundary - 1n : piece.to;
      const at = (y: bigint): bigint => piece.payout(y, mod);
      while (x <= segEnd) {
        count();
        const p = at(x);
        const y = piece.shape === 'monotone' ? runEnd(at, x, segEnd, p, count) : x;
        if (p === cur.offerPayout) {
          cur.count += y - x + 1n;
        } else {
          ranges.push(cur);
          cur = { start: x, count: y - x + 1n, offerPayout: p };
        }
        x = y + 1n;
      }
    }
    ranges.push(cur);
  }
  return ranges;
}

/**
 * The offerer payout of `outcome` in ranges from {@link outcomeRanges}.
 *
 * @throws {DlcError} INVALID_OUTCOME if no range contains the outcome.
 */
export function payoutInRanges(ranges: readonly OutcomeRange[], outcome: bigint): bigint {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid]!;
    if (outcome < r.start) hi = mid - 1;
    else if (outcome >= r.start + r.count) lo = mid + 1;
    else return r.offerPayout;
  }
  throw new DlcError('INVALID_OUTCOME', `outcome ${outcome} is outside the payout function's domain`, {
    reason: 'outcome-out-of-domain',
  });
}

/**
 * The rounded offerer payout at one outcome, consistent with
 * {@link outcomeRanges} (it computes them; call that once and
 * {@link payoutInRanges} when looking up many outcomes).
 *
 * @throws {DlcError} as {@link outcomeRanges} and {@link payoutInRanges}.
 */
export function payoutAt(
  descriptor: Descriptor,
  totalCollateral: bigint,
  base: number,
  outcome: bigint,
  options: PayoutOptions = {},
): bigint {
  return payoutInRanges(outcomeRanges(descriptor, totalCollateral, base, options), outcome);
}
