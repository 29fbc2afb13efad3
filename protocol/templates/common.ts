/**
 * Shared machinery of the contract templates: term validation, the oracle
 * event check, the clamped-line payout curve builder, rounding intervals, and
 * the final step that counts CETs and evaluates key payouts with the numeric
 * engine (protocol/numeric), so what a template reports is what the CETs pay.
 *
 * Curve construction rules (why the curves look the way they do):
 * - Every piece is a two-point polynomial (a line) between integer outcomes
 *   with whole-sat payouts and `extraPrecision` 0: rust-dlc ignores extra
 *   precision on lines (dlc-vectors README, departure 6), so using it would
 *   make the two conformance modes of protocol/numeric disagree.
 * - A sloped piece never ends (right end) on a payout of exactly 0 or
 *   `totalCollateral`. rust-dlc, and protocol/numeric's `'vectors'` mode,
 *   evaluate a line's right end in f64 as `(to - from) * slope + left`, which
 *   can land one ulp outside [0, total] and is then rejected. Where the true
 *   line reaches a bound, the curve takes a one-outcome step piece instead,
 *   which f64 evaluates exactly (integers below 2^53).
 * - Rounding (NumericOutcome.md "Rounding Intervals") applies only to the
 *   outcomes strictly inside the sloped part; flat parts and the points where
 *   the curve reaches 0 or the total use modulus 1, so full delivery pays
 *   exactly `escrow + C` even when the modulus does not divide it.
 *
 * This module does NOT create oracle announcements, transactions or
 * signatures, and does no I/O.
 */
import { DlcError } from '../errors.js';
import type {
  ContractInfo,
  DigitDecompositionEventDescriptor,
  NumericOutcomeContractDescriptor,
  OracleAnnouncement,
  OracleInfo,
  PayoutFunction,
  PayoutFunctionPiece,
  PayoutPoint,
  RoundingInterval,
} from '../messages/types.js';
import { cetCount as numericCetCount, outcomeRanges, payoutInRanges, type CetCount } from '../numeric/index.js';
import { DUST_LIMIT, type ExtraFundingOutput } from '../tx/index.js';
import {
  MAX_MONEY,
  maxOutcome,
  ratAdd as add,
  ratCeil as ceil,
  ratCmp as cmp,
  ratDiv as div,
  ratFloor as floor,
  ratMul as mul,
  ratRoundHalfUp as roundHalfUp,
  ratSub as sub,
  rational,
  windowBlockCount,
  type BlockWindow,
  type Rational,
} from '../hashpower/index.js';

export type TemplateKind = 'hashpower-sale' | 'hashprice-forward' | 'hashprice-call' | 'custom-curve';

/** A labelled outcome with what each side receives there (after rounding, as the CETs pay). */
export interface KeyPayout {
  label: string;
  outcome: bigint;
  offerPayout: bigint;
  acceptPayout: bigint;
}

export interface TemplateSummary {
  template: TemplateKind;
  /** Human-readable terms and curve, one statement per line. */
  lines: string[];
  keyPayouts: KeyPayout[];
}

/** What every template returns: everything an offer needs besides keys, inputs and serial ids of its own. */
export interface TemplateResult {
  contractDescriptor: NumericOutcomeContractDescriptor;
  /** `singleContractInfo` with the caller's oracle info, ready for `offer_dlc.contractInfo`. */
  contractInfo: ContractInfo;
  totalCollateral: bigint;
  offerCollateral: bigint;
  acceptCollateral: bigint;
  /** Extra funding-transaction outputs (upfront payment, premium); see protocol/tx/funding.ts. */
  extraOutputs: ExtraFundingOutput[];
  /** CETs (distinct payout ranges) and adaptor signatures per party, from protocol/numeric `cetCount`. */
  cetCount: CetCount;
  summary: TemplateSummary;
}

/**
 * Default number of payout steps across the total collateral on a sloped
 * part: the rounding modulus is `ceil(totalCollateral / DEFAULT_PAYOUT_STEPS)`.
 *
 * Trade-off: each step is one CET, and each CET's outcome range needs a few
 * digit prefixes (one adaptor signature each, about log2 of the range width).
 * 50 steps give a typical sale (tolerance 95%, 14 digits) 51 CETs and about
 * 430 adaptor signatures per party (~70 kB in accept/sign), and a forward
 * over 20 digits about 500; modulus 1 would give ~9,500 CETs and ~10,000+
 * signatures. The price: payouts move in steps of 2% of the total
 * collateral, so a CET pays at most 1% of the total away from the exact line
 * (and the delivery ratio is resolved in steps of tolerance/50, 190 bps at
 * 95%). Pass `roundingMod` for a finer (or coarser) grid.
 */
export const DEFAULT_PAYOUT_STEPS = 50n;

/** A payout grid that merges outcomes so a contract stays within a few hundred adaptor signatures. */
export function defaultRoundingMod(totalCollateral: bigint): bigint {
  const m = (totalCollateral + DEFAULT_PAYOUT_STEPS - 1n) / DEFAULT_PAYOUT_STEPS;
  return m < 1n ? 1n : m;
}

// ------------------------------------------------------------------ validation

export function invalid(reason: string, message: string): DlcError {
  return new DlcError('INVALID_PARAMS', message, { reason });
}

/**
 * Checks a sat amount: a bigint in [min, MAX_MONEY].
 * @throws {DlcError} INVALID_PARAMS `amount-negative` / `amount-too-small` / `amount-above-max-money`.
 */
export function checkSats(value: bigint, name: string, min = 0n): void {
  if (typeof value !== 'bigint') throw new TypeError(`${name} must be a bigint`);
  if (value < 0n) throw invalid('amount-negative', `${name} must not be negative, got ${value}`);
  if (value < min) throw invalid('amount-too-small', `${name} must be at least ${min}, got ${value}`);
  if (value > MAX_MONEY) throw invalid('amount-above-max-money', `${name} exceeds 21M BTC`);
}

/**
 * An extra funding output paid by the accepter, or none when `value` is 0.
 * @throws {DlcError} INVALID_PARAMS `extra-output-dust`, `script-empty`, `serial-id-invalid`.
 */
export function acceptPaidOutput(
  value: bigint,
  script: Uint8Array | undefined,
  serialId: bigint | undefined,
  name: string,
): ExtraFundingOutput[] {
  checkSats(value, name);
  if (value === 0n) return [];
  if (value < DUST_LIMIT) {
    throw invalid('extra-output-dust', `${name} of ${value} sats is below the ${DUST_LIMIT}-sat dust limit of funding outputs`);
  }
  if (script === undefined || script.length === 0) throw invalid('script-empty', `${name} needs the script it pays to`);
  if (typeof serialId !== 'bigint' || serialId < 0n || serialId >= 1n << 64n) {
    throw invalid('serial-id-invalid', `${name} needs a u64 serial id`);
  }
  return [{ script, value, serialId, payer: 'accept' }];
}

/**
 * Checks hashrate and window terms.
 * @throws {DlcError} INVALID_PARAMS `hashrate-invalid`, `window-empty`, `window-invalid`.
 */
export function checkHashrateWindow(hashrateThs: bigint, window: BlockWindow): number {
  if (typeof hashrateThs !== 'bigint' || hashrateThs <= 0n) {
    throw invalid('hashrate-invalid', `hashrate must be a positive number of TH/s, got ${String(hashrateThs)}`);
  }
  return windowBlockCount(window);
}

/** The digit-decomposition facts a template relies on. */
export type NumericEvent = DigitDecompositionEventDescriptor['digitDecompositionEvent'];

function announcementsOf(oracleInfo: OracleInfo): OracleAnnouncement[] {
  return 'single' in oracleInfo ? [oracleInfo.single.oracleAnnouncement] : oracleInfo.multi.oracleAnnouncements;
}

/**
 * The numeric event every announcement of `oracleInfo` describes, checked:
 * digit decomposition, base 2, unsigned, one nonce per digit, the same
 * digits/unit/precision across oracles, and (when given) the expected unit
 * and precision.
 * @throws {DlcError} INVALID_PARAMS `event-not-numeric`, `event-base`,
 *   `event-signed`, `event-mismatch`, `event-unit`, `event-precision`,
 *   `oracle-nonce-count`, `oracle-info-empty`.
 */
export function numericEventOf(
  oracleInfo: OracleInfo,
  expect: { unit?: string; precision?: number } = {},
): NumericEvent {
  const anns = announcementsOf(oracleInfo);
  if (anns.length === 0) throw invalid('oracle-info-empty', 'no oracle announcement');
  let first: NumericEvent | undefined;
  for (const a of anns) {
    const d = a.oracleEvent.eventDescriptor;
    if (!('digitDecompositionEvent' in d)) {
      throw invalid('event-not-numeric', `event ${a.oracleEvent.eventId} is not a digit-decomposition event`);
    }
    const e = d.digitDecompositionEvent;
    if (e.base !== 2) throw invalid('event-base', `templates need base-2 events, ${a.oracleEvent.eventId} has base ${e.base}`);
    if (e.isSigned) throw invalid('event-signed', `templates need unsigned events, ${a.oracleEvent.eventId} is signed`);
    if (a.oracleEvent.oracleNonces.length !== e.nbDigits) {
      throw invalid('oracle-nonce-count', `event ${a.oracleEvent.eventId} has ${a.oracleEvent.oracleNonces.length} nonces for ${e.nbDigits} digits`);
    }
    if (first === undefined) {
      first = e;
    } else if (e.nbDigits !== first.nbDigits || e.unit !== first.unit || e.precision !== first.precision) {
      throw invalid('event-mismatch', 'the oracles describe different events (digits, unit or precision)');
    }
  }
  const ev = first!;
  maxOutcome(ev.nbDigits); // digits-invalid beyond u64
  if (expect.unit !== undefined && ev.unit !== expect.unit) {
    throw invalid('event-unit', `event unit is ${JSON.stringify(ev.unit)}, this template needs ${JSON.stringify(expect.unit)}`);
  }
  if (expect.precision !== undefined && ev.precision !== expect.precision) {
    throw invalid('event-precision', `event precision is ${ev.precision}, this template needs ${expect.precision}`);
  }
  return ev;
}

/**
 * Checks a caller-chosen rounding modulus, or returns the default.
 * @throws {DlcError} INVALID_PARAMS `rounding-mod-invalid`.
 */
export function roundingModOrDefault(roundingMod: bigint | undefined, totalCollateral: bigint): bigint {
  if (roundingMod === undefined) return defaultRoundingMod(totalCollateral);
  if (typeof roundingMod !== 'bigint' || roundingMod < 1n || roundingMod > totalCollateral) {
    throw invalid('rounding-mod-invalid', `rounding modulus must be in [1, totalCollateral], got ${String(roundingMod)}`);
  }
  return roundingMod;
}

// ------------------------------------------------------------------ curves

/** An offerer payout `alpha + beta * outcome` (exact), clamped to [0, total]. */
export interface ClampedLine {
  alpha: Rational;
  beta: Rational;
  total: bigint;
  max: bigint;
}

/** The curve and the outcomes strictly inside its sloped part (where rounding applies), if any. */
export interface BuiltCurve {
  payoutFunction: PayoutFunction;
  /** First and last outcome whose exact payout is strictly between 0 and the total; null when none. */
  interior: { first: bigint; last: bigint } | null;
}

function at(line: ClampedLine, x: bigint): Rational {
  return add(line.alpha, mul(line.beta, rational(x)));
}

function point(x: bigint, y: bigint): PayoutPoint {
  return { eventOutcome: x, outcomePayout: y, extraPrecision: 0 };
}

/**
 * Builds the dlcspecs payout function of a clamped line over [0, max] (see the
 * module header for the construction rules).
 * @throws {RangeError} when total < 2 or max < 1 (callers validate terms first).
 */
export function clampedLineCurve(line: ClampedLine): BuiltCurve {
  const { total, max } = line;
  if (total < 2n || max < 1n) throw new RangeError('clampedLineCurve: total >= 2 and max >= 1 required');
  const T = rational(total);
  const flat = (y: bigint): BuiltCurve => ({ payoutFunction: fromPoints([point(0n, y), point(max, y)]), interior: null });

  if (line.beta.n === 0n) {
    const y = roundHalfUp(line.alpha);
    return flat(y < 0n ? 0n : y > total ? total : y);
  }

  // Outcomes where the line crosses 0 and the total, in increasing x order.
  const xZero = div(sub(ZERO_R, line.alpha), line.beta);
  const xTotal = div(sub(T, line.alpha), line.beta);
  const [xLo, xHi] = cmp(xZero, xTotal) < 0 ? [xZero, xTotal] : [xTotal, xZero];
  const leftValue = line.beta.n > 0n ? 0n : total; // value at and left of xLo
  const rightValue = line.beta.n > 0n ? total : 0n; // value at and right of xHi

  // Integers strictly inside (xLo, xHi), clipped to the domain.
  const first = floor(xLo) + 1n < 0n ? 0n : floor(xLo) + 1n;
  const last = ceil(xHi) - 1n > max ? max : ceil(xHi) - 1n;

  const pts: PayoutPoint[] = [];
  if (first > last) {
    // No integer strictly inside: outcomes below k = ceil(xHi) take the left
    // value, the others the right value; a one-outcome step joins them.
    const k = ceil(xHi);
    if (k <= 0n) return flat(rightValue);
    if (k > max) return flat(leftValue);
    pts.push(point(0n, leftValue));
    if (k - 1n > 0n) pts.push(point(k - 1n, leftValue));
    pts.push(point(k, rightValue));
    if (k < max) pts.push(point(max, rightValue));
    return { payoutFunction: fromPoints(pts), interior: null };
  }

  // Whole-sat payouts strictly inside (0, total): round, then keep off the bounds.
  const inner = (x: bigint): bigint => {
    const y = roundHalfUp(at(line, x));
    return y < 1n ? 1n : y > total - 1n ? total - 1n : y;
  };

  if (first > 0n) {
    const before = first - 1n;
    if (cmp(at(line, before), rational(leftValue)) === 0) {
      // The outcome before the sloped part lies exactly on the line (e.g. 0 bps
      // -> 0 sats, or the call's strike): the sloped piece starts there.
      if (before > 0n) pts.push(point(0n, leftValue));
      pts.push(point(before, leftValue));
      pts.push(point(last, inner(last)));
    } else {
      // Flat, then a one-outcome step onto the line.
      pts.push(point(0n, leftValue));
      if (before > 0n) pts.push(point(before, leftValue));
      pts.push(point(first, inner(first)));
      if (last > first) pts.push(point(last, inner(last)));
    }
  } else {
    pts.push(point(first, inner(first)));
    if (last > first) pts.push(point(last, inner(last)));
  }
  // Right of the sloped part: a one-outcome step to the clamp, then flat.
  if (last < max) {
    pts.push(point(last + 1n, rightValue));
    if (last + 1n < max) pts.push(point(max, rightValue));
  }
  return { payoutFunction: fromPoints(pts), interior: { first, last } };
}

const ZERO_R: Rational = rational(0n);

function fromPoints(pts: readonly PayoutPoint[]): PayoutFunction {
  const pieces: PayoutFunctionPiece[] = [];
  for (let i = 0; i + 1 < pts.length; i++) {
    pieces.push({ endPoint: pts[i]!, payoutCurvePiece: { polynomialPayoutCurvePiece: { payoutPoints: [] } } });
  }
  return { payoutFunctionPieces: pieces, lastEndpoint: pts[pts.length - 1]! };
}

/**
 * Rounding intervals: `roundingMod` on the interior outcomes, 1 elsewhere.
 * Always starts at 0 (rust-dlc rejects intervals that do not).
 */
export function interiorRounding(
  interior: BuiltCurve['interior'],
  roundingMod: bigint,
  max: bigint,
): RoundingInterval[] {
  if (interior === null || roundingMod === 1n) return [{ beginInterval: 0n, roundingMod: 1n }];
  const out: RoundingInterval[] = [];
  if (interior.first > 0n) out.push({ beginInterval: 0n, roundingMod: 1n });
  out.push({ beginInterval: interior.first, roundingMod });
  if (interior.last < max) out.push({ beginInterval: interior.last + 1n, roundingMod: 1n });
  return out;
}

// ------------------------------------------------------------------ result

/**
 * Assembles the result: counts CETs with protocol/numeric `cetCount` (which
 * also validates the descriptor against the oracle info) and evaluates the
 * key outcomes with protocol/numeric's rounded payouts.
 * @throws {DlcError} INVALID_PARAMS from protocol/numeric when the descriptor is invalid.
 */
export function finishTemplate(args: {
  template: TemplateKind;
  descriptor: NumericOutcomeContractDescriptor;
  oracleInfo: OracleInfo;
  offerCollateral: bigint;
  acceptCollateral: bigint;
  extraOutputs: ExtraFundingOutput[];
  lines: string[];
  keyOutcomes: { label: string; outcome: bigint }[];
}): TemplateResult {
  const totalCollateral = args.offerCollateral + args.acceptCollateral;
  const contractInfoInner = { contractDescriptor: args.descriptor, oracleInfo: args.oracleInfo };
  const count = numericCetCount(contractInfoInner, totalCollateral);
  const ranges = outcomeRanges(args.descriptor.numericOutcomeContractDescriptor, totalCollateral, 2);
  const max = maxOutcome(args.descriptor.numericOutcomeContractDescriptor.numDigits);
  const seen = new Set<bigint>();
  const keyPayouts: KeyPayout[] = [];
  for (const k of args.keyOutcomes) {
    if (k.outcome < 0n || k.outcome > max || seen.has(k.outcome)) continue;
    seen.add(k.outcome);
    const offerPayout = payoutInRanges(ranges, k.outcome);
    keyPayouts.push({ label: k.label, outcome: k.outcome, offerPayout, acceptPayout: totalCollateral - offerPayout });
  }
  keyPayouts.sort((a, b) => (a.outcome < b.outcome ? -1 : a.outcome > b.outcome ? 1 : 0));
  const lines = [
    ...args.lines,
    `${count.cets} CETs, ${count.adaptorSignatures} adaptor signatures per party`,
  ];
  return {
    contractDescriptor: args.descriptor,
    contractInfo: { singleContractInfo: { totalCollateral, contractInfo: contractInfoInner } },
    totalCollateral,
    offerCollateral: args.offerCollateral,
    acceptCollateral: args.acceptCollateral,
    extraOutputs: args.extraOutputs,
    cetCount: count,
    summary: { template: args.template, lines, keyPayouts },
  };
}

/** Days in `n` blocks at the nominal 600 s: `n / 144`. */
export function windowDays(blockCount: number): Rational {
  return rational(BigInt(blockCount), 144n);
}

