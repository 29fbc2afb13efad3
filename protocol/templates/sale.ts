/**
 * Hashpower sale (docs/PRODUCT.md "Contract templates" 1): the miner (offerer)
 * sells `H` TH/s over the block window `[start, end)`; the buyer (accepter)
 * pays `upfront` to the miner inside the funding transaction and puts
 * `escrow` in the DLC; the miner puts collateral `C` in the DLC. The oracle
 * attests the delivery ratio in basis points (protocol/hashpower formulas).
 *
 * Miner payout over the outcome `x` (bps): `escrow + C` for `x >= tolerance`,
 * 0 at `x = 0`, linear in between (`(escrow + C) * x / tolerance`), rounded
 * to multiples of the rounding modulus strictly between 0 and the tolerance.
 * The buyer receives the rest of `escrow + C`, on top of the rewards it was
 * paid directly at its delivery address.
 *
 * This module does NOT create the oracle event, check the delivery address
 * format (the oracle does, for its network), or build transactions. No I/O.
 */
import type { OracleInfo } from '../messages/types.js';
import { DELIVERY_RATIO_UNIT, maxOutcome, rational, toDecimalString, type BlockWindow } from '../hashpower/index.js';
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
  type TemplateResult,
} from './common.js';

export interface HashpowerSaleTerms {
  /** Contracted hashrate `H`, TH/s. */
  hashrateThs: bigint;
  /** Block window `[start, end)` by height. */
  window: BlockWindow;
  /** The buyer's delivery address `D` (as stated in the oracle event). */
  deliveryAddress: string;
  /** Sats paid to the miner in the funding transaction, from the buyer's inputs. 0 for none. */
  upfront: bigint;
  /** Sats of the price the buyer locks in the DLC. */
  escrow: bigint;
  /** Sats the miner locks in the DLC. */
  minerCollateral: bigint;
  /** Delivery ratio (bps, 1..10000) at and above which the sale counts as fully delivered. */
  toleranceBps: number;
  /** The miner's script that receives `upfront` (required when `upfront > 0`). */
  upfrontScript?: Uint8Array;
  /** Serial id of the upfront output (orders it among the funding outputs). */
  upfrontSerialId?: bigint;
  /** Payout grid on the sloped part; default `defaultRoundingMod(escrow + C)`. */
  roundingMod?: bigint;
  /** The oracle(s) of the `hashpower-delivery` event (unit `bps`, precision 0, base 2). */
  oracleInfo: OracleInfo;
}

/** Full delivery, in bps. */
const FULL_BPS = 10_000n;

/**
 * Builds the contract of a hashpower sale. Validation, in order:
 * 1. hashrate > 0, window non-empty, delivery address non-empty;
 * 2. amounts non-negative and at most 21M BTC; `escrow + C` at least the dust limit;
 * 3. tolerance an integer in [1, 10000] bps;
 * 4. the event: numeric, base 2, unsigned, unit `bps`, precision 0, enough
 *    digits to express 10000 (14 or more);
 * 5. the upfront output (dust limit, script, serial id) and the rounding modulus.
 * @throws {DlcError} INVALID_PARAMS whose `reason` names the failed rule
 *   (`hashrate-invalid`, `window-empty`, `address-empty`, `amount-negative`,
 *   `collateral-below-dust`, `tolerance-out-of-range`, `event-*`,
 *   `digits-too-few`, `extra-output-dust`, `script-empty`, `serial-id-invalid`,
 *   `rounding-mod-invalid`).
 */
export function hashpowerSale(terms: HashpowerSaleTerms): TemplateResult {
  // 1.
  const n = checkHashrateWindow(terms.hashrateThs, terms.window);
  if (typeof terms.deliveryAddress !== 'string' || terms.deliveryAddress.length === 0) {
    throw invalid('address-empty', 'the delivery address is empty');
  }
  // 2.
  checkSats(terms.upfront, 'upfront');
  checkSats(terms.escrow, 'escrow');
  checkSats(terms.minerCollateral, 'miner collateral');
  const total = terms.escrow + terms.minerCollateral;
  if (total < DUST_LIMIT) {
    throw invalid('collateral-below-dust', `escrow + miner collateral is ${total} sats, below the ${DUST_LIMIT}-sat dust limit`);
  }
  // 3.
  const tol = terms.toleranceBps;
  if (!Number.isInteger(tol) || tol < 1 || tol > 10_000) {
    throw invalid('tolerance-out-of-range', `tolerance must be an integer number of bps in [1, 10000], got ${tol}`);
  }
  const tolerance = BigInt(tol);
  // 4.
  const event = numericEventOf(terms.oracleInfo, { unit: DELIVERY_RATIO_UNIT, precision: 0 });
  const max = maxOutcome(event.nbDigits);
  if (max < FULL_BPS) {
    throw invalid('digits-too-few', `${event.nbDigits} digits reach ${max} bps; a sale needs 10000 (14 digits or more)`);
  }
  // 5.
  const extraOutputs = acceptPaidOutput(terms.upfront, terms.upfrontScript, terms.upfrontSerialId, 'upfront');
  const roundingMod = roundingModOrDefault(terms.roundingMod, total);

  const curve = clampedLineCurve({ alpha: rational(0n), beta: rational(total, tolerance), total, max });
  const descriptor = {
    numericOutcomeContractDescriptor: {
      numDigits: event.nbDigits,
      payoutFunction: curve.payoutFunction,
      roundingIntervals: { intervals: interiorRounding(curve.interior, roundingMod, max) },
    },
  };
  const lines = [
    `Hashpower sale: the miner (offerer) sells ${terms.hashrateThs} TH/s for blocks [${terms.window.start}, ${terms.window.end}) (${n} blocks, ~${toDecimalString(windowDays(n), 2)} days), rewards paid to ${terms.deliveryAddress}`,
    `Price ${terms.upfront + terms.escrow} sats: ${terms.upfront} upfront (paid to the miner in the funding transaction from the buyer's inputs) + ${terms.escrow} in escrow`,
    `Miner collateral ${terms.minerCollateral} sats; ${total} sats in the DLC`,
    `Outcome: delivery ratio in bps (${event.nbDigits} binary digits, ${max} means ${max} or more)`,
    `Miner receives ${total} sats at or above ${tol} bps (${toDecimalString(rational(tolerance, 100n), 2)}%), 0 at 0 bps, linear in between, rounded to multiples of ${roundingMod} sats; the buyer receives the rest`,
  ];
  return finishTemplate({
    template: 'hashpower-sale',
    descriptor,
    oracleInfo: terms.oracleInfo,
    offerCollateral: terms.minerCollateral,
    acceptCollateral: terms.escrow,
    extraOutputs,
    lines,
    keyOutcomes: [
      { label: 'nothing delivered', outcome: 0n },
      { label: 'half of the tolerance', outcome: tolerance / 2n },
      { label: 'half delivered', outcome: FULL_BPS / 2n },
      { label: 'tolerance', outcome: tolerance },
      { label: 'full delivery', outcome: FULL_BPS },
      { label: 'cap', outcome: max },
    ],
  });
}
