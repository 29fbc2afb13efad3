/**
 * Custom payout curves (docs/PRODUCT.md "Contract templates" 4): any dlcspecs
 * payout function (polynomial and hyperbola pieces) with rounding intervals,
 * given as data, over any base-2 unsigned numeric event.
 *
 * The JSON file shape is the `numericOutcomeContractDescriptor` of the
 * dlcspecs test vectors without the digits (taken from the event):
 *
 *     { "payoutFunction": { "payoutFunctionPieces": [...], "lastEndpoint": {...} },
 *       "roundingIntervals": { "intervals": [{ "beginInterval": 0, "roundingMod": 1 }] },
 *       "numDigits": 20 }            // optional; must match the event when present
 *
 * Integers are exact (parsed with lossless-json), hyperbola parameters are
 * floats, as in `dlcspecs/test_vectors/single_oracle_numerical_hyperbola_test.json`.
 *
 * Validation (`customCurve`):
 * 1. collaterals non-negative, total at least the dust limit;
 * 2. the event: numeric, base 2, unsigned (and the unit, when asked);
 * 3. the function covers the domain [0, 2^nbDigits - 1], points strictly
 *    increase, hyperbolas are non-degenerate (protocol/numeric `validatePayoutFunction`);
 * 4. rounding intervals start at 0 and strictly increase, moduli >= 1
 *    (protocol/numeric `validateRoundingIntervals`, rust-dlc's rules);
 * 5. every point's payout is at most the total collateral;
 * 6. continuity: each hyperbola piece passes within 1 sat of its two endpoint
 *    payouts. Polynomial pieces interpolate their endpoints, so they are
 *    continuous by construction. (rust-dlc evaluates hyperbolas at their
 *    endpoints and the spec takes the endpoint payout, dlc-vectors README
 *    item 5: continuity makes the two agree. The dlcspecs hyperbola vector is
 *    not continuous in this sense and is rejected.)
 * 7. the whole curve stays within [0, total] at every outcome: protocol/numeric
 *    evaluates it outcome by outcome (f64, as rust-dlc) when counting CETs and
 *    rejects values outside (`payout-above-collateral`, `payout-not-evaluable`).
 * 8. extra outputs: at least the dust limit, a script, a u64 serial id, a payer.
 *
 * This module does NOT read files (callers pass the text) and does no I/O.
 */
import { isLosslessNumber, parse as losslessParse } from 'lossless-json';
import { DlcError } from '../errors.js';
import type {
  HyperbolaPayoutCurvePiece,
  OracleInfo,
  PayoutCurvePiece,
  PayoutFunction,
  PayoutPoint,
  RoundingIntervals,
} from '../messages/types.js';
import { validatePayoutFunction, validateRoundingIntervals } from '../numeric/index.js';
import { maxOutcome } from '../hashpower/index.js';
import { DUST_LIMIT, type ExtraFundingOutput } from '../tx/index.js';
import { checkSats, finishTemplate, invalid, numericEventOf, type TemplateResult } from './common.js';

/** The JSON file's content, parsed. */
export interface CustomCurveSpec {
  payoutFunction: PayoutFunction;
  roundingIntervals: RoundingIntervals;
  /** When present, must equal the event's number of digits. */
  numDigits?: number;
}

export interface CustomCurveTerms extends CustomCurveSpec {
  offerCollateral: bigint;
  acceptCollateral: bigint;
  /** Extra funding outputs (e.g. a premium), each naming its payer. */
  extraOutputs?: ExtraFundingOutput[];
  oracleInfo: OracleInfo;
  /** When given, the event's unit must be this. */
  expectUnit?: string;
  /** Outcomes to report payouts at in the summary (besides 0 and the maximum). */
  keyOutcomes?: bigint[];
}

// ------------------------------------------------------------------ JSON

type Json = unknown;

function jsonError(path: string, what: string): DlcError {
  return new DlcError('INVALID_JSON', `${path}: ${what}`, { reason: path });
}

function obj(v: Json, path: string, keys: readonly string[], optional: readonly string[] = []): Record<string, Json> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw jsonError(path, 'expected an object');
  const o = v as Record<string, Json>;
  for (const k of Object.keys(o)) {
    if (!keys.includes(k) && !optional.includes(k)) throw jsonError(`${path}.${k}`, 'unknown field');
  }
  for (const k of keys) if (!(k in o)) throw jsonError(`${path}.${k}`, 'missing field');
  return o;
}

function arr(v: Json, path: string): Json[] {
  if (!Array.isArray(v)) throw jsonError(path, 'expected an array');
  return v;
}

function uint(v: Json, path: string, max: bigint): bigint {
  if (!isLosslessNumber(v) || !/^\d+$/.test(v.value)) throw jsonError(path, 'expected a non-negative integer');
  const n = BigInt(v.value);
  if (n > max) throw jsonError(path, `integer above ${max}`);
  return n;
}

function float(v: Json, path: string): number {
  if (!isLosslessNumber(v)) throw jsonError(path, 'expected a number');
  const x = Number(v.value);
  if (!Number.isFinite(x)) throw jsonError(path, 'expected a finite number');
  return x;
}

function bool(v: Json, path: string): boolean {
  if (typeof v !== 'boolean') throw jsonError(path, 'expected a boolean');
  return v;
}

const U64_MAX = (1n << 64n) - 1n;

function pointFromJson(v: Json, path: string): PayoutPoint {
  const o = obj(v, path, ['eventOutcome', 'outcomePayout', 'extraPrecision']);
  return {
    eventOutcome: uint(o.eventOutcome, `${path}.eventOutcome`, U64_MAX),
    outcomePayout: uint(o.outcomePayout, `${path}.outcomePayout`, U64_MAX),
    extraPrecision: Number(uint(o.extraPrecision, `${path}.extraPrecision`, 0xffffn)),
  };
}

function curvePieceFromJson(v: Json, path: string): PayoutCurvePiece {
  const o = obj(v, path, [], ['polynomialPayoutCurvePiece', 'hyperbolaPayoutCurvePiece']);
  const kinds = Object.keys(o);
  if (kinds.length !== 1) throw jsonError(path, 'expected exactly one of polynomialPayoutCurvePiece, hyperbolaPayoutCurvePiece');
  if ('polynomialPayoutCurvePiece' in o) {
    const p = `${path}.polynomialPayoutCurvePiece`;
    const poly = obj(o.polynomialPayoutCurvePiece, p, ['payoutPoints']);
    return {
      polynomialPayoutCurvePiece: {
        payoutPoints: arr(poly.payoutPoints, `${p}.payoutPoints`).map((x, i) => pointFromJson(x, `${p}.payoutPoints[${i}]`)),
      },
    };
  }
  const p = `${path}.hyperbolaPayoutCurvePiece`;
  const h = obj(o.hyperbolaPayoutCurvePiece, p, ['usePositivePiece', 'translateOutcome', 'translatePayout', 'a', 'b', 'c', 'd']);
  return {
    hyperbolaPayoutCurvePiece: {
      usePositivePiece: bool(h.usePositivePiece, `${p}.usePositivePiece`),
      translateOutcome: float(h.translateOutcome, `${p}.translateOutcome`),
      translatePayout: float(h.translatePayout, `${p}.translatePayout`),
      a: float(h.a, `${p}.a`),
      b: float(h.b, `${p}.b`),
      c: float(h.c, `${p}.c`),
      d: float(h.d, `${p}.d`),
    },
  };
}

/**
 * Reads a custom curve from its JSON form (see the module header). Checks the
 * shape only; `customCurve` checks the contract rules.
 * @throws {DlcError} INVALID_JSON whose `reason` is the JSON path of the bad field.
 */
export function parseCustomCurveJson(text: string): CustomCurveSpec {
  let root: Json;
  try {
    root = losslessParse(text);
  } catch (cause) {
    throw new DlcError('INVALID_JSON', 'custom curve is not valid JSON', { reason: '$', cause });
  }
  const o = obj(root, '$', ['payoutFunction', 'roundingIntervals'], ['numDigits']);
  const pf = obj(o.payoutFunction, '$.payoutFunction', ['payoutFunctionPieces', 'lastEndpoint']);
  const pieces = arr(pf.payoutFunctionPieces, '$.payoutFunction.payoutFunctionPieces').map((x, i) => {
    const path = `$.payoutFunction.payoutFunctionPieces[${i}]`;
    const piece = obj(x, path, ['endPoint', 'payoutCurvePiece']);
    return {
      endPoint: pointFromJson(piece.endPoint, `${path}.endPoint`),
      payoutCurvePiece: curvePieceFromJson(piece.payoutCurvePiece, `${path}.payoutCurvePiece`),
    };
  });
  const ri = obj(o.roundingIntervals, '$.roundingIntervals', ['intervals']);
  const intervals = arr(ri.intervals, '$.roundingIntervals.intervals').map((x, i) => {
    const path = `$.roundingIntervals.intervals[${i}]`;
    const iv = obj(x, path, ['beginInterval', 'roundingMod']);
    return {
      beginInterval: uint(iv.beginInterval, `${path}.beginInterval`, U64_MAX),
      roundingMod: uint(iv.roundingMod, `${path}.roundingMod`, U64_MAX),
    };
  });
  const spec: CustomCurveSpec = {
    payoutFunction: { payoutFunctionPieces: pieces, lastEndpoint: pointFromJson(pf.lastEndpoint, '$.payoutFunction.lastEndpoint') },
    roundingIntervals: { intervals },
  };
  if (o.numDigits !== undefined) spec.numDigits = Number(uint(o.numDigits, '$.numDigits', 0xffffn));
  return spec;
}

// ------------------------------------------------------------------ validation

/** PayoutCurve.md "Hyperbola Evaluation", y_1 (positive piece) or y_2, in f64. */
function hyperbolaAt(h: HyperbolaPayoutCurvePiece['hyperbolaPayoutCurvePiece'], x: bigint): number {
  const t = Number(x) - h.translateOutcome;
  const root = Math.sqrt(t * t - 4 * h.a * h.b);
  const s = t + (h.usePositivePiece ? root : -root);
  return (h.c * s) / (2 * h.a) + (2 * h.a * h.d) / s + h.translatePayout;
}

function pointPayout(p: PayoutPoint): number {
  return Number(p.outcomePayout) + p.extraPrecision / 65536;
}

function checkExtraOutput(o: ExtraFundingOutput, i: number): void {
  const name = `extra output ${i}`;
  checkSats(o.value, name);
  if (o.value < DUST_LIMIT) throw invalid('extra-output-dust', `${name} of ${o.value} sats is below the ${DUST_LIMIT}-sat dust limit`);
  if (!(o.script instanceof Uint8Array) || o.script.length === 0) throw invalid('script-empty', `${name} has no script`);
  if (typeof o.serialId !== 'bigint' || o.serialId < 0n || o.serialId > U64_MAX) throw invalid('serial-id-invalid', `${name} needs a u64 serial id`);
  if (o.payer !== 'offer' && o.payer !== 'accept') throw invalid('extra-output-payer', `${name} must name its payer`);
}

/**
 * Builds a contract from a custom payout curve (see the module header for the
 * rules, numbered as checked).
 * @throws {DlcError} INVALID_PARAMS whose `reason` names the failed rule
 *   (`amount-negative`, `collateral-below-dust`, `event-*`, `digits-mismatch`,
 *   protocol/numeric's `payout-function-*` / `payout-points-not-increasing` /
 *   `hyperbola-*` / `rounding-*`, `payout-above-collateral`,
 *   `curve-discontinuous`, `payout-not-evaluable`, `extra-output-*`).
 */
export function customCurve(terms: CustomCurveTerms): TemplateResult {
  // 1.
  checkSats(terms.offerCollateral, 'offer collateral');
  checkSats(terms.acceptCollateral, 'accept collateral');
  const total = terms.offerCollateral + terms.acceptCollateral;
  if (total < DUST_LIMIT) {
    throw invalid('collateral-below-dust', `total collateral ${total} sats is below the ${DUST_LIMIT}-sat dust limit`);
  }
  // 2.
  const event = numericEventOf(terms.oracleInfo, terms.expectUnit === undefined ? {} : { unit: terms.expectUnit });
  if (terms.numDigits !== undefined && terms.numDigits !== event.nbDigits) {
    throw invalid('digits-mismatch', `the curve is for ${terms.numDigits} digits, the event has ${event.nbDigits}`);
  }
  const max = maxOutcome(event.nbDigits);
  const fn = terms.payoutFunction;
  // 3., 4.
  validatePayoutFunction(fn, max);
  validateRoundingIntervals(terms.roundingIntervals);
  // 5.
  const pieces = fn.payoutFunctionPieces;
  const allPoints = [
    ...pieces.flatMap((p) => [
      p.endPoint,
      ...('polynomialPayoutCurvePiece' in p.payoutCurvePiece ? p.payoutCurvePiece.polynomialPayoutCurvePiece.payoutPoints : []),
    ]),
    fn.lastEndpoint,
  ];
  for (const p of allPoints) {
    if (p.outcomePayout > total || (p.outcomePayout === total && p.extraPrecision > 0)) {
      throw invalid('payout-above-collateral', `payout ${p.outcomePayout} at outcome ${p.eventOutcome} exceeds the total collateral ${total}`);
    }
  }
  // 6.
  pieces.forEach((p, i) => {
    const curve = p.payoutCurvePiece;
    if (!('hyperbolaPayoutCurvePiece' in curve)) return;
    const right = i + 1 < pieces.length ? pieces[i + 1]!.endPoint : fn.lastEndpoint;
    for (const end of [p.endPoint, right]) {
      const v = hyperbolaAt(curve.hyperbolaPayoutCurvePiece, end.eventOutcome);
      if (!Number.isFinite(v) || Math.abs(v - pointPayout(end)) >= 1) {
        throw invalid('curve-discontinuous', `hyperbola piece ${i} is ${v} at outcome ${end.eventOutcome}, its endpoint pays ${pointPayout(end)}`);
      }
    }
  });
  // 8.
  const extraOutputs = terms.extraOutputs ?? [];
  extraOutputs.forEach(checkExtraOutput);

  const descriptor = {
    numericOutcomeContractDescriptor: {
      numDigits: event.nbDigits,
      payoutFunction: fn,
      roundingIntervals: terms.roundingIntervals,
    },
  };
  const lines = [
    `Custom curve: ${pieces.length} piece(s) over outcomes [0, ${max}] (${event.nbDigits} binary digits, unit ${JSON.stringify(event.unit)}, precision ${event.precision})`,
    `Collateral: offerer ${terms.offerCollateral} sats, accepter ${terms.acceptCollateral} sats; ${total} sats in the DLC`,
    ...extraOutputs.map((o, i) => `Extra funding output ${i}: ${o.value} sats paid by the ${o.payer === 'offer' ? 'offerer' : 'accepter'}`),
  ];
  const keyOutcomes = [
    ...allPoints.map((p) => ({ label: 'curve point', outcome: p.eventOutcome })),
    ...(terms.keyOutcomes ?? []).map((outcome) => ({ label: 'requested', outcome })),
  ];
  // 7. (inside protocol/numeric, while counting CETs)
  return finishTemplate({
    template: 'custom-curve',
    descriptor,
    oracleInfo: terms.oracleInfo,
    offerCollateral: terms.offerCollateral,
    acceptCollateral: terms.acceptCollateral,
    extraOutputs: [...extraOutputs],
    lines,
    keyOutcomes,
  });
}
