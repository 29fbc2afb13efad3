/**
 * The hashpower oracle formulas (docs/PRODUCT.md "Oracle events and formulas"),
 * computed exactly with bigint rationals so that the oracle, the coordinator and
 * any third party get the same integer outcome from the same evidence.
 *
 * Definitions (all exact; nothing here uses floating point):
 *
 * - **Difficulty** of a block is Bitcoin Core's `getblock` "difficulty" as an
 *   exact rational, derived from the block's compact target `bits`
 *   (`difficultyFromBits`): `0xffff * 256^(29 - exponent) / mantissa`, which is
 *   what Core's `GetDifficulty` computes in floating point. The RPC's float is
 *   never used. A regtest oracle may instead use a *simulated difficulty* given
 *   as a decimal string (`difficultyFromDecimal`), stated in its announcements.
 * - **Work** of a block is `difficulty * 2^32` hashes (the product formula; not
 *   Core's chainwork `2^256 / (target + 1)`, which differs by < 0.002%).
 * - **Hashprice** over a window of blocks: `v = sum(reward_b) / sum(work_b)`
 *   sats per hash, published as sats per PH/s per day: `v * 1e15 * 86400`,
 *   with `reward_b` the reward the event's reward rule counts (below).
 * - **Delivery ratio** in basis points: `R / (H * 1e12 * T * v) * 10000`, with
 *   `R` the pool rewards paid to the delivery address, `H` the contracted TH/s,
 *   `T = n * 600` seconds for the `n` blocks of the window.
 *
 * **Outcome encoding.** A value `x` (in the event's unit) becomes the integer
 * outcome `floor(x / 10^precision)`, capped at `2^nbDigits - 1`, the largest
 * number the event's base-2 digits express (Oracle.md "Digit decomposition":
 * the maximum reads "max_value or more"). `precision` is the dlcspecs
 * `digit_decomposition_event_descriptor` field: the power of ten by which the
 * attested number is multiplied to get the value (so precision `-3` attests
 * thousandths). Oracle.md says "base exponent"; we follow bitcoin-s, which
 * reads it as a power of ten, and our oracle always states base 2 and the
 * unit. Flooring (not rounding) is deliberate: an outcome never claims more
 * than was measured, so "delivery >= tolerance" means what it says.
 *
 * **Reward rules** (`RewardRule`, stated by id in every hashprice and
 * delivery event and bound into its id): which part of each block's reward
 * counts towards `sum(reward_b)`. `full-reward-v0` counts the whole coinbase
 * (events announced before the rule existed; kept so their outcomes never
 * change). `subsidy+fees-capped-4x-median-v1` (`countedRewards`) counts
 * `min(reward_b, subsidy_b) + min(fees_b, 4 * m)` where `subsidy_b` follows
 * from the height and the network's halving interval, `fees_b = max(0,
 * reward_b - subsidy_b)` is what the coinbase claims above the subsidy, and
 * `m` is the lower median of the window's `fees_b` (sorted ascending, the
 * element at index `floor((n - 1) / 2)`; `m = 0` for a one-block window,
 * which has no other block to judge its fees by). A miner who puts a
 * transaction paying itself a huge fee into its own block of the window
 * (free to it: it collects the fee back) can therefore add at most `4 * m`
 * to `v`, not the fee: one block cannot move the median past a neighbouring
 * honest block's fees. Why 4: honest blocks of one window rarely differ from
 * the median by more than a small factor (block space is full and the fee
 * market moves slowly), so honest fees are practically never capped, while
 * an attacking block gains at most 3 medians over a typical block. When more
 * than half the blocks claim no fees, `m = 0` and no fee counts.
 *
 * **No reward at all.** If every block of the window has zero reward (regtest
 * past the last halving, or a fee-less chain), `v = 0` and the delivery ratio
 * divides by zero. The expected delivery is then zero, which any delivery
 * meets, so the ratio is deemed infinite and the outcome is the cap
 * (`NO_NETWORK_REWARD_RULE`). The hashprice is then simply 0.
 *
 * This module does NOT read the chain, check evidence, sign or choose digits:
 * see `evidence.ts` for checking published evidence. It does no I/O.
 */
import { DlcError } from '../errors.js';
import {
  add,
  div,
  floor,
  mul,
  parseDecimal,
  pow10,
  rational,
  ZERO,
  type Rational,
} from './rational.js';

/** Nominal seconds per block (`T = n * 600`). */
export const NOMINAL_BLOCK_SECONDS = 600n;
export const SECONDS_PER_DAY = 86_400n;
/** Hashes per second in one TH/s. */
export const HASHES_PER_TH = 10n ** 12n;
/** Hashes per second in one PH/s. */
export const HASHES_PER_PH = 10n ** 15n;
/** Expected hashes per unit of difficulty. */
export const WORK_PER_DIFFICULTY = 1n << 32n;
export const BPS_PER_UNIT = 10_000n;

/** Units the oracle states in its digit-decomposition announcements. */
export const DELIVERY_RATIO_UNIT = 'bps';
export const HASHPRICE_UNIT = 'sats/PH/day';
export const POOL_REWARDS_UNIT = 'sats';

/**
 * The rule for a window with no network reward, as stated in announcements of
 * `hashpower-delivery` events.
 */
export const NO_NETWORK_REWARD_RULE =
  'if the window has no reward at all (sum of block rewards = 0), the delivery ratio is the largest outcome (2^nbDigits - 1): the expected delivery is zero, which any delivery meets';

/** Largest value of u64 (payout points and rounding intervals are u64 / bigsize). */
const U64_MAX = (1n << 64n) - 1n;
/** Bitcoin's supply cap in sats: no reward or payout can exceed it. */
export const MAX_MONEY = 2_100_000_000_000_000n;

function invalid(reason: string, message: string): DlcError {
  return new DlcError('INVALID_PARAMS', message, { reason });
}

// ------------------------------------------------------------------ difficulty

/**
 * Exact difficulty of a compact target, as Bitcoin Core's `GetDifficulty`
 * defines it: `0xffff * 256^(29 - exponent) / mantissa` where `bits` is
 * `exponent (1 byte) | mantissa (3 bytes)`.
 *
 * @param bits the `bits` field as a u32 or as the 8 hex digits `getblock` prints.
 * @throws {DlcError} INVALID_PARAMS `bits-invalid` for a zero, negative
 *   (sign bit set) or overflowing compact target (Core's `SetCompact` rules).
 */
export function difficultyFromBits(bits: number | string): Rational {
  let value: number;
  if (typeof bits === 'string') {
    if (!/^[0-9a-fA-F]{8}$/.test(bits)) throw invalid('bits-invalid', `bits must be 8 hex digits, got ${JSON.stringify(bits)}`);
    value = Number.parseInt(bits, 16);
  } else {
    if (!Number.isInteger(bits) || bits < 0 || bits > 0xffffffff) throw invalid('bits-invalid', `bits must be a u32, got ${bits}`);
    value = bits;
  }
  const exponent = value >>> 24;
  const mantissa = value & 0x007fffff;
  if ((value & 0x00800000) !== 0) throw invalid('bits-invalid', 'bits encodes a negative target');
  if (mantissa === 0) throw invalid('bits-invalid', 'bits encodes a zero target');
  // Core's SetCompact overflow rule: the target must fit in 256 bits.
  if (exponent > 34 || (mantissa > 0xff && exponent > 33) || (mantissa > 0xffff && exponent > 32)) {
    throw invalid('bits-invalid', 'bits encodes a target above 2^256');
  }
  const shift = 29 - exponent;
  const m = BigInt(mantissa);
  return shift >= 0
    ? rational(0xffffn * 256n ** BigInt(shift), m)
    : rational(0xffffn, m * 256n ** BigInt(-shift));
}

/**
 * A difficulty stated as a decimal string (regtest's simulated difficulty),
 * e.g. `"83148355189239.77"` or `"1e9"`.
 * @throws {DlcError} INVALID_PARAMS `decimal-syntax` or `difficulty-zero`.
 */
export function difficultyFromDecimal(text: string): Rational {
  const d = parseDecimal(text);
  if (d.n === 0n) throw invalid('difficulty-zero', 'difficulty must be positive');
  return d;
}

// ------------------------------------------------------------------ windows

/** A half-open block window `[start, end)` by height. */
export interface BlockWindow {
  start: number;
  end: number;
}

/**
 * Number of blocks `n = end - start` of a window.
 * @throws {DlcError} INVALID_PARAMS `window-empty` or `window-invalid`.
 */
export function windowBlockCount(window: BlockWindow): number {
  const { start, end } = window;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < 0) {
    throw invalid('window-invalid', `window heights must be non-negative integers, got [${start}, ${end})`);
  }
  if (end <= start) throw invalid('window-empty', `window [${start}, ${end}) has no blocks`);
  return end - start;
}

// ------------------------------------------------------------------ payout schemes

/**
 * How the pool of a payout event pays the delivery address (issue 16), stated
 * in the event's parameters, id, announcement and evidence:
 * - `per-block-coinbase`: in the coinbase of each block the pool finds (TIDES, PPLNS);
 * - `per-block-payout`: a transaction from a declared payout address for each block the pool finds;
 * - `periodic-payout`: every period (a day, a threshold) from a declared payout
 *   address for the shares of the period before (FPPS, PPS+).
 * The scheme changes nothing in the arithmetic: payouts from the coinbase and
 * from declared addresses count under every scheme. It says how to read the
 * outcome (luck noise, `isLuckBased`) and goes with a payout lag.
 */
export const PAYOUT_SCHEMES = ['per-block-coinbase', 'per-block-payout', 'periodic-payout'] as const;
export type PayoutScheme = (typeof PAYOUT_SCHEMES)[number];

/**
 * Whether a scheme pays only when the pool finds a block, so a fully
 * delivering miner's measured delivery is noisy (about 1/sqrt(pool blocks)).
 */
export function isLuckBased(scheme: PayoutScheme): boolean {
  return scheme === 'per-block-coinbase' || scheme === 'per-block-payout';
}

/**
 * Largest payout lag an event may state: four weeks of blocks (4032). A lag
 * delays the attestation by as many blocks and keeps the delivery address
 * watched that much longer; a pool paying more than four weeks late is not
 * one a contract should measure.
 */
export const MAX_PAYOUT_LAG_BLOCKS = 4032;

/**
 * The blocks whose payouts count for the window `[start, end)` of an event
 * with payout lag `lag`: `[start + lag, end + lag)`, so a payout made `lag`
 * blocks after the shares it pays for is attributed to their window (a daily
 * FPPS payout to the day it pays for). The expected reward `v` is always the
 * window's own blocks'. Lag 0 (or none stated) is the window itself.
 * @throws {DlcError} INVALID_PARAMS `window-invalid`, `window-empty`, `payout-lag-invalid`.
 */
export function measuredRange(window: BlockWindow, lag: number = 0): BlockWindow {
  windowBlockCount(window);
  checkPayoutLag(lag);
  return { start: window.start + lag, end: window.end + lag };
}

/**
 * Checks a payout lag: an integer from 0 to `MAX_PAYOUT_LAG_BLOCKS`.
 * @throws {DlcError} INVALID_PARAMS `payout-lag-invalid`.
 */
export function checkPayoutLag(lag: number): void {
  if (!Number.isSafeInteger(lag) || lag < 0 || lag > MAX_PAYOUT_LAG_BLOCKS) {
    throw invalid('payout-lag-invalid', `payout lag must be an integer from 0 to ${MAX_PAYOUT_LAG_BLOCKS} blocks, got ${String(lag)}`);
  }
}

/**
 * Checks a payout scheme is one of `PAYOUT_SCHEMES`.
 * @throws {DlcError} INVALID_PARAMS `payout-scheme-invalid`.
 */
export function checkPayoutScheme(scheme: unknown): asserts scheme is PayoutScheme {
  if (!(PAYOUT_SCHEMES as readonly unknown[]).includes(scheme)) {
    throw invalid('payout-scheme-invalid', `payout scheme must be one of ${PAYOUT_SCHEMES.join(', ')}, got ${JSON.stringify(scheme)}`);
  }
}

/** Nominal duration `T = n * 600` seconds of a window of `n` blocks. */
export function nominalWindowSeconds(blockCount: number): bigint {
  return BigInt(blockCount) * NOMINAL_BLOCK_SECONDS;
}

// ------------------------------------------------------------------ reward rules

/** The whole coinbase counts (events announced before reward rules; never changed). */
export const FULL_REWARD_RULE = 'full-reward-v0';
/** Subsidy plus fees capped at 4x the window's lower median block fees. */
export const CAPPED_FEES_RULE = 'subsidy+fees-capped-4x-median-v1';
export const REWARD_RULES = [FULL_REWARD_RULE, CAPPED_FEES_RULE] as const;
/** Which part of each block's reward counts towards `v` (see the module header). */
export type RewardRule = (typeof REWARD_RULES)[number];
/** The rule new events are announced with. */
export const CURRENT_REWARD_RULE: RewardRule = CAPPED_FEES_RULE;
/** `CAPPED_FEES_RULE`'s multiple of the median block fees. */
export const FEE_CAP_MEDIAN_MULTIPLE = 4n;

/** How each rule is stated in announcements (`rules` of the oracle's events). */
export const REWARD_RULE_TEXT: Readonly<Record<RewardRule, string>> = {
  [FULL_REWARD_RULE]: `reward rule ${FULL_REWARD_RULE}: reward_b is the sum of block b's coinbase outputs`,
  [CAPPED_FEES_RULE]:
    `reward rule ${CAPPED_FEES_RULE}: reward_b = min(coinbase_b, subsidy_b) + min(fees_b, 4 * m), ` +
    'fees_b = max(0, coinbase_b - subsidy_b), subsidy_b from the height and the network halving interval, ' +
    'm = lower median of the window fees_b (index floor((n-1)/2) sorted ascending; 0 for a one-block window)',
};

/** First block subsidy, sats (50 BTC). */
export const INITIAL_SUBSIDY = 5_000_000_000n;

/** Blocks between subsidy halvings (Core's `nSubsidyHalvingInterval`) by network name. */
export const SUBSIDY_HALVING_INTERVALS: Readonly<Record<string, number>> = {
  mainnet: 210_000,
  testnet: 210_000,
  testnet4: 210_000,
  signet: 210_000,
  regtest: 150,
};

/**
 * The halving interval of a network (`SUBSIDY_HALVING_INTERVALS`).
 * @throws {DlcError} INVALID_PARAMS `network-unknown`.
 */
export function subsidyHalvingInterval(network: string): number {
  const interval = SUBSIDY_HALVING_INTERVALS[network];
  if (interval === undefined) throw invalid('network-unknown', `no subsidy halving interval known for network ${JSON.stringify(network)}`);
  return interval;
}

/**
 * Block subsidy at `height`: 50 BTC halved every `halvingInterval` blocks,
 * zero from the 64th halving on (Core's `GetBlockSubsidy`).
 * @throws {DlcError} INVALID_PARAMS `height-invalid` or `halving-interval-invalid`.
 */
export function blockSubsidy(height: number, halvingInterval: number): bigint {
  if (!Number.isSafeInteger(height) || height < 0) throw invalid('height-invalid', `height must be a non-negative integer, got ${height}`);
  if (!Number.isSafeInteger(halvingInterval) || halvingInterval < 1) {
    throw invalid('halving-interval-invalid', `halving interval must be a positive integer, got ${halvingInterval}`);
  }
  const halvings = Math.floor(height / halvingInterval);
  return halvings >= 64 ? 0n : INITIAL_SUBSIDY >> BigInt(halvings);
}

/**
 * Lower median: the element at index `floor((n - 1) / 2)` of the values
 * sorted ascending (for an even count the smaller of the two middle ones, so
 * one outlier above cannot raise it); 0 for no values.
 */
export function lowerMedian(values: readonly bigint[]): bigint {
  if (values.length === 0) return 0n;
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** A block's height and whole coinbase value, what a reward rule reads. */
export interface BlockReward {
  height: number;
  /** Sum of the coinbase outputs, sats. */
  reward: bigint;
}

/** The rewards a rule counts, per block, with the fee cap it used. */
export interface CountedRewards {
  /** Counted reward of each block, in the order given. */
  rewards: bigint[];
  /** `4 * m` under `CAPPED_FEES_RULE`; null under `FULL_REWARD_RULE`. */
  feeCap: bigint | null;
}

/**
 * The per-block rewards a reward rule counts towards `v` (module header).
 * @param halvingInterval required by `CAPPED_FEES_RULE` (subsidy from height).
 * @throws {DlcError} INVALID_PARAMS `reward-rule-unknown`, `halving-interval-invalid`,
 *   `height-invalid`, `reward-out-of-range`.
 */
export function countedRewards(blocks: readonly BlockReward[], rule: RewardRule, halvingInterval?: number): CountedRewards {
  for (const b of blocks) {
    if (b.reward < 0n || b.reward > MAX_MONEY) throw invalid('reward-out-of-range', `block reward ${b.reward} out of range`);
  }
  if (rule === FULL_REWARD_RULE) return { rewards: blocks.map((b) => b.reward), feeCap: null };
  if (rule !== CAPPED_FEES_RULE) throw invalid('reward-rule-unknown', `unknown reward rule ${JSON.stringify(rule as unknown)}`);
  if (halvingInterval === undefined) throw invalid('halving-interval-invalid', `${CAPPED_FEES_RULE} needs the network's halving interval`);
  const subsidies = blocks.map((b) => blockSubsidy(b.height, halvingInterval));
  const fees = blocks.map((b, i) => (b.reward > subsidies[i]! ? b.reward - subsidies[i]! : 0n));
  // A lone block is its own median: it would cap nothing, so it counts no fee at all.
  const feeCap = blocks.length < 2 ? 0n : FEE_CAP_MEDIAN_MULTIPLE * lowerMedian(fees);
  const rewards = blocks.map((b, i) => {
    const subsidyPart = b.reward < subsidies[i]! ? b.reward : subsidies[i]!;
    return subsidyPart + (fees[i]! < feeCap ? fees[i]! : feeCap);
  });
  return { rewards, feeCap };
}

// ------------------------------------------------------------------ formulas

/** What the formulas need of one block: its reward and its (exact) difficulty. */
export interface BlockRewardWork {
  /** The reward that counts towards `v` under the event's reward rule (`countedRewards`), sats. */
  reward: bigint;
  difficulty: Rational;
}

function checkBlocks(blocks: readonly BlockRewardWork[]): void {
  if (blocks.length === 0) throw invalid('window-empty', 'no blocks in the window');
  for (const b of blocks) {
    if (b.reward < 0n || b.reward > MAX_MONEY) throw invalid('reward-out-of-range', `block reward ${b.reward} out of range`);
    if (b.difficulty.n <= 0n) throw invalid('difficulty-zero', 'difficulty must be positive');
  }
}

/** `sum(reward_b)` in sats. */
export function totalReward(blocks: readonly BlockRewardWork[]): bigint {
  return blocks.reduce((s, b) => s + b.reward, 0n);
}

/** `sum(difficulty_b * 2^32)` in hashes. */
export function totalWork(blocks: readonly BlockRewardWork[]): Rational {
  return mul(
    blocks.reduce((s, b) => add(s, b.difficulty), ZERO),
    rational(WORK_PER_DIFFICULTY),
  );
}

/**
 * Reward per hash over the window, `v = sum(reward_b) / sum(difficulty_b * 2^32)`
 * in sats per hash.
 * @throws {DlcError} INVALID_PARAMS for an empty window, a negative reward or a zero difficulty.
 */
export function rewardPerHash(blocks: readonly BlockRewardWork[]): Rational {
  checkBlocks(blocks);
  return div(rational(totalReward(blocks)), totalWork(blocks));
}

/**
 * Hashprice in sats per PH/s per day, `v * 1e15 * 86400`, exact.
 * @throws {DlcError} INVALID_PARAMS as `rewardPerHash`.
 */
export function hashpriceSatsPerPhDay(blocks: readonly BlockRewardWork[]): Rational {
  return mul(rewardPerHash(blocks), rational(HASHES_PER_PH * SECONDS_PER_DAY));
}

/**
 * Sats that `hashrateThs` TH/s would have earned over the window at the
 * window's own reward per hash: `H * 1e12 * T * v`. This is the 100% delivery
 * mark (the regtest pool simulator pays `tolerance * expected` to deliver at
 * the tolerance).
 * @throws {DlcError} INVALID_PARAMS as `rewardPerHash`, or `hashrate-invalid` for H <= 0.
 */
export function expectedDeliverySats(hashrateThs: bigint, blocks: readonly BlockRewardWork[]): Rational {
  if (hashrateThs <= 0n) throw invalid('hashrate-invalid', 'hashrate must be positive');
  const v = rewardPerHash(blocks);
  return mul(v, rational(hashrateThs * HASHES_PER_TH * nominalWindowSeconds(blocks.length)));
}

/**
 * Delivery ratio in basis points, `R / (H * 1e12 * T * v) * 10000`, exact, or
 * `null` when the window has no reward at all (see `NO_NETWORK_REWARD_RULE`).
 * @throws {DlcError} INVALID_PARAMS as `expectedDeliverySats`, or
 *   `rewards-out-of-range` for a negative `poolRewards`.
 */
export function deliveryRatioBps(
  poolRewards: bigint,
  hashrateThs: bigint,
  blocks: readonly BlockRewardWork[],
): Rational | null {
  if (poolRewards < 0n) throw invalid('rewards-out-of-range', 'pool rewards must be non-negative');
  const expected = expectedDeliverySats(hashrateThs, blocks);
  if (expected.n === 0n) return null;
  return div(rational(poolRewards * BPS_PER_UNIT), expected);
}

// ------------------------------------------------------------------ outcomes

/** The numeric event facts the outcome encoding needs (base 2, unsigned). */
export interface NumericEventSpec {
  /** Number of base-2 digits the oracle signs. */
  nbDigits: number;
  /** dlcspecs `precision`: value = outcome * 10^precision. */
  precision: number;
}

/** An outcome with how it was obtained. */
export interface ScaledOutcome {
  /** The integer the oracle attests. */
  outcome: bigint;
  /** True when the value exceeded `2^nbDigits - 1` and was capped. */
  capped: boolean;
}

/**
 * Largest outcome `2^nbDigits - 1` of an unsigned base-2 event.
 * @throws {DlcError} INVALID_PARAMS `digits-invalid` unless 1 <= nbDigits <= 64
 *   (payout points and rounding intervals carry outcomes as u64).
 */
export function maxOutcome(nbDigits: number): bigint {
  if (!Number.isInteger(nbDigits) || nbDigits < 1 || nbDigits > 64) {
    throw invalid('digits-invalid', `nbDigits must be an integer in [1, 64], got ${nbDigits}`);
  }
  const max = (1n << BigInt(nbDigits)) - 1n;
  return max > U64_MAX ? U64_MAX : max;
}

/**
 * Encodes a non-negative value as the event's integer outcome:
 * `min(floor(value / 10^precision), 2^nbDigits - 1)`.
 * @throws {DlcError} INVALID_PARAMS `digits-invalid`, `precision-invalid`, or
 *   `value-negative`.
 */
export function encodeOutcome(value: Rational, event: NumericEventSpec): ScaledOutcome {
  const max = maxOutcome(event.nbDigits);
  if (!Number.isInteger(event.precision) || Math.abs(event.precision) > 30) {
    throw invalid('precision-invalid', `precision must be an integer in [-30, 30], got ${event.precision}`);
  }
  if (value.n < 0n) throw invalid('value-negative', 'an unsigned event cannot attest a negative value');
  const raw = floor(div(value, pow10(event.precision)));
  return raw > max ? { outcome: max, capped: true } : { outcome: raw, capped: false };
}

/**
 * The value an outcome stands for: `outcome * 10^precision` (in the event's unit).
 */
export function decodeOutcome(outcome: bigint, precision: number): Rational {
  return mul(rational(outcome), pow10(precision));
}

/**
 * Outcome of a `hashprice(window)` event.
 * @throws {DlcError} INVALID_PARAMS as `hashpriceSatsPerPhDay` and `encodeOutcome`.
 */
export function hashpriceOutcome(blocks: readonly BlockRewardWork[], event: NumericEventSpec): ScaledOutcome {
  return encodeOutcome(hashpriceSatsPerPhDay(blocks), event);
}

/**
 * Outcome of a `hashpower-delivery(D, window, sources, H)` event, applying
 * `NO_NETWORK_REWARD_RULE` when the window has no reward.
 * @throws {DlcError} INVALID_PARAMS as `deliveryRatioBps` and `encodeOutcome`.
 */
export function deliveryOutcome(
  poolRewards: bigint,
  hashrateThs: bigint,
  blocks: readonly BlockRewardWork[],
  event: NumericEventSpec,
): ScaledOutcome & { noNetworkReward: boolean } {
  const ratio = deliveryRatioBps(poolRewards, hashrateThs, blocks);
  if (ratio === null) {
    // Validate the event the same way before applying the rule.
    encodeOutcome(ZERO, event);
    return { outcome: maxOutcome(event.nbDigits), capped: true, noNetworkReward: true };
  }
  return { ...encodeOutcome(ratio, event), noNetworkReward: false };
}

/**
 * Outcome of a `pool-rewards(D, window, sources)` event: the sats paid.
 * @throws {DlcError} INVALID_PARAMS as `encodeOutcome`, or `rewards-out-of-range`.
 */
export function poolRewardsOutcome(poolRewards: bigint, event: NumericEventSpec): ScaledOutcome {
  if (poolRewards < 0n) throw invalid('rewards-out-of-range', 'pool rewards must be non-negative');
  return encodeOutcome(rational(poolRewards), event);
}
