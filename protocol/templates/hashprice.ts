/**
 * Cash-settled hashprice contracts (docs/PRODUCT.md "Contract templates" 2
 * and 3) on a `hashprice(window)` event (unit `sats/PH/day`, base 2):
 *
 * - **Forward**: the miner (offerer) locks in `K` sats per PH/s per day on
 *   `Q` over a window of `n` blocks (`days = n * 600 / 86400 = n / 144`). At
 *   hashprice `h`, the miner receives `minerCollateral + Q * days * (K - h)`,
 *   clamped to [0, minerCollateral + buyerCollateral]: each side loses at
 *   most its own collateral.
 * - **Call**: the buyer (accepter) pays a premium to the miner inside the
 *   funding transaction; the miner posts collateral `C` (the whole DLC). The
 *   buyer receives `min(C, Q * days * max(0, h - K))`, the miner the rest.
 *
 * `Q` is given in TH/s (so fractions of a PH/s are expressible); `Q * days *
 * h` is `Q/1000 * n/144 * h` sats. With event precision `p` an outcome `o`
 * stands for `h = o * 10^p`, so the payout moves `Q * n * 10^p / 144000` sats
 * per outcome unit. `K` must be a whole number of outcome units.
 *
 * Both build clamped lines with protocol/templates/common.ts (see its header
 * for the curve and rounding rules).
 *
 * This module does NOT create the oracle event or build transactions. No I/O.
 */
import type { OracleInfo } from '../messages/types.js';
import {
  HASHPRICE_UNIT,
  maxOutcome,
  ratAdd as add,
  ratCeil as ceil,
  ratDiv as div,
  ratFloor as floor,
  ratMul as mul,
  ratPow10 as pow10,
  ratSub as sub,
  rational,
  toDecimalString,
  type BlockWindow,
  type Rational,
} from '../hashpower/index.js';
import { DUST_LIMIT } from '../tx/index.js';
import {
  acceptPaidOutput,
  checkHashrateWindow,
  checkSats,
  clampedLineCurve,
  finishTemplate,
  interiorRounding,
  invalid,
  numericEventOf,
  roundingModOrDefault,
  windowDays,
  type NumericEvent,
  type TemplateResult,
} from './common.js';

interface HashpriceTermsBase {
  /** Quantity `Q`, TH/s (1000 TH/s = 1 PH/s). */
  hashrateThs: bigint;
  /** Strike `K`, sats per PH/s per day. */
  strikeSatsPerPhDay: bigint;
  /** The window the hashprice is measured over, `[start, end)` by height. */
  window: BlockWindow;
  /** Payout grid on the sloped part; default `defaultRoundingMod(total collateral)`. */
  roundingMod?: bigint;
  /** The oracle(s) of the `hashprice(window)` event (unit `sats/PH/day`, base 2). */
  oracleInfo: OracleInfo;
}

export interface HashpriceForwardTerms extends HashpriceTermsBase {
  /** Sats the miner (offerer) locks: its largest loss when the hashprice rises. */
  minerCollateral: bigint;
  /** Sats the buyer (accepter) locks: its largest loss when the hashprice falls. */
  buyerCollateral: bigint;
}

export interface HashpriceCallTerms extends HashpriceTermsBase {
  /** Sats the miner (offerer) locks: the buyer's largest gain. */
  minerCollateral: bigint;
  /** Sats the buyer pays the miner in the funding transaction. 0 for none. */
  premium: bigint;
  /** The miner's script that receives the premium (required when `premium > 0`). */
  premiumScript?: Uint8Array;
  premiumSerialId?: bigint;
}

interface Common {
  n: number;
  event: NumericEvent;
  max: bigint;
  strikeOutcome: bigint;
  /** Sats per outcome unit: `Q * n * 10^p / 144000`. */
  slope: Rational;
}

function checkCommon(terms: HashpriceTermsBase): Common {
  const n = checkHashrateWindow(terms.hashrateThs, terms.window);
  checkSats(terms.strikeSatsPerPhDay, 'strike');
  const event = numericEventOf(terms.oracleInfo, { unit: HASHPRICE_UNIT });
  const max = maxOutcome(event.nbDigits);
  const strike = div(rational(terms.strikeSatsPerPhDay), pow10(event.precision));
  if (strike.d !== 1n) {
    throw invalid('strike-not-representable', `strike ${terms.strikeSatsPerPhDay} is not a whole number of outcome units (10^${event.precision} sats/PH/day)`);
  }
  if (strike.n >= max) {
    throw invalid('digits-too-few', `strike outcome ${strike.n} is not below the event's largest outcome ${max}: add digits`);
  }
  const slope = mul(rational(terms.hashrateThs * BigInt(n), 144_000n), pow10(event.precision));
  return { n, event, max, strikeOutcome: strike.n, slope };
}

function checkTotal(total: bigint): void {
  if (total < DUST_LIMIT) {
    throw invalid('collateral-below-dust', `total collateral ${total} sats is below the ${DUST_LIMIT}-sat dust limit`);
  }
}

function unitText(event: NumericEvent): string {
  return event.precision === 0 ? 'sats/PH/day' : `10^${event.precision} sats/PH/day`;
}

/**
 * Builds a hashprice forward. Validation: hashrate > 0, window non-empty,
 * amounts in range, total collateral at least the dust limit, the event
 * (numeric, base 2, unsigned, unit `sats/PH/day`), the strike a whole number
 * of outcome units below the largest outcome, the rounding modulus.
 * @throws {DlcError} INVALID_PARAMS (`hashrate-invalid`, `window-empty`,
 *   `amount-negative`, `collateral-below-dust`, `event-*`,
 *   `strike-not-representable`, `digits-too-few`, `rounding-mod-invalid`).
 */
export function hashpriceForward(terms: HashpriceForwardTerms): TemplateResult {
  const c = checkCommon(terms);
  checkSats(terms.minerCollateral, 'miner collateral');
  checkSats(terms.buyerCollateral, 'buyer collateral');
  const total = terms.minerCollateral + terms.buyerCollateral;
  checkTotal(total);
  const roundingMod = roundingModOrDefault(terms.roundingMod, total);

  // Miner payout: Cm + slope * (Ko - o) = (Cm + slope*Ko) - slope * o.
  const alpha = add(rational(terms.minerCollateral), mul(c.slope, rational(c.strikeOutcome)));
  const beta = sub(rational(0n), c.slope);
  const curve = clampedLineCurve({ alpha, beta, total, max: c.max });
  const descriptor = {
    numericOutcomeContractDescriptor: {
      numDigits: c.event.nbDigits,
      payoutFunction: curve.payoutFunction,
      roundingIntervals: { intervals: interiorRounding(curve.interior, roundingMod, c.max) },
    },
  };
  // Where each side has lost its whole collateral.
  const minerAll = floor(sub(rational(c.strikeOutcome), div(rational(terms.buyerCollateral), c.slope)));
  const buyerAll = ceil(add(rational(c.strikeOutcome), div(rational(terms.minerCollateral), c.slope)));
  const lines = [
    `Hashprice forward: the miner (offerer) sells ${terms.hashrateThs} TH/s of hashprice at ${terms.strikeSatsPerPhDay} sats/PH/day over blocks [${terms.window.start}, ${terms.window.end}) (${c.n} blocks, ~${toDecimalString(windowDays(c.n), 2)} days)`,
    `Collateral: miner ${terms.minerCollateral} sats, buyer ${terms.buyerCollateral} sats; ${total} sats in the DLC`,
    `Outcome: hashprice in ${unitText(c.event)} (${c.event.nbDigits} binary digits); strike = outcome ${c.strikeOutcome}`,
    `Miner receives ${terms.minerCollateral} + ${toDecimalString(c.slope, 6)} * (${c.strikeOutcome} - outcome) sats, between 0 and ${total}, rounded to multiples of ${roundingMod} sats on the slope; the buyer receives the rest`,
  ];
  return finishTemplate({
    template: 'hashprice-forward',
    descriptor,
    oracleInfo: terms.oracleInfo,
    offerCollateral: terms.minerCollateral,
    acceptCollateral: terms.buyerCollateral,
    extraOutputs: [],
    lines,
    keyOutcomes: [
      { label: 'zero hashprice', outcome: 0n },
      { label: 'buyer loses its whole collateral at or below', outcome: minerAll },
      { label: 'strike', outcome: c.strikeOutcome },
      { label: 'miner loses its whole collateral at or above', outcome: buyerAll },
      { label: 'cap', outcome: c.max },
    ],
  });
}

/**
 * Builds a hashprice call sold by the miner. Validation as
 * {@link hashpriceForward}, plus the premium output (dust limit, script,
 * serial id). The accepter's DLC collateral is 0.
 * @throws {DlcError} INVALID_PARAMS (as `hashpriceForward`, and
 *   `extra-output-dust`, `script-empty`, `serial-id-invalid`).
 */
export function hashpriceCall(terms: HashpriceCallTerms): TemplateResult {
  const c = checkCommon(terms);
  checkSats(terms.minerCollateral, 'miner collateral');
  const total = terms.minerCollateral;
  checkTotal(total);
  const extraOutputs = acceptPaidOutput(terms.premium, terms.premiumScript, terms.premiumSerialId, 'premium');
  const roundingMod = roundingModOrDefault(terms.roundingMod, total);

  // Miner payout: C - slope * max(0, o - Ko); the clamp at C covers o <= Ko.
  const alpha = add(rational(total), mul(c.slope, rational(c.strikeOutcome)));
  const beta = sub(rational(0n), c.slope);
  const curve = clampedLineCurve({ alpha, beta, total, max: c.max });
  const descriptor = {
    numericOutcomeContractDescriptor: {
      numDigits: c.event.nbDigits,
      payoutFunction: curve.payoutFunction,
      roundingIntervals: { intervals: interiorRounding(curve.interior, roundingMod, c.max) },
    },
  };
  const capOutcome = ceil(add(rational(c.strikeOutcome), div(rational(total), c.slope)));
  const lines = [
    `Hashprice call: the miner (offerer) sells a call on ${terms.hashrateThs} TH/s at strike ${terms.strikeSatsPerPhDay} sats/PH/day over blocks [${terms.window.start}, ${terms.window.end}) (${c.n} blocks, ~${toDecimalString(windowDays(c.n), 2)} days)`,
    `Premium ${terms.premium} sats, paid to the miner in the funding transaction from the buyer's inputs; miner collateral ${total} sats (the whole DLC)`,
    `Outcome: hashprice in ${unitText(c.event)} (${c.event.nbDigits} binary digits); strike = outcome ${c.strikeOutcome}`,
    `Buyer receives min(${total}, ${toDecimalString(c.slope, 6)} * max(0, outcome - ${c.strikeOutcome})) sats, rounded to multiples of ${roundingMod} sats on the slope; the miner receives the rest`,
  ];
  return finishTemplate({
    template: 'hashprice-call',
    descriptor,
    oracleInfo: terms.oracleInfo,
    offerCollateral: total,
    acceptCollateral: 0n,
    extraOutputs,
    lines,
    keyOutcomes: [
      { label: 'zero hashprice', outcome: 0n },
      { label: 'strike', outcome: c.strikeOutcome },
      { label: 'buyer receives the whole collateral at or above', outcome: capOutcome },
      { label: 'cap', outcome: c.max },
    ],
  });
}
