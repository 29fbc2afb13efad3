// Reward rules (issue 9, hole 6): which part of each block's reward counts
// towards `v`. `subsidy+fees-capped-4x-median-v1` caps each block's fees at
// 4x the window's lower median block fees so that one block with a self-paid
// fee cannot move hashprice or delivery outcomes; `full-reward-v0` (events
// announced before rules) counts whole coinbases. Expected integers were
// computed independently with Python's fractions.Fraction.
import { describe, expect, it } from 'vitest';
import {
  blockSubsidy,
  CAPPED_FEES_RULE,
  countedRewards,
  CURRENT_REWARD_RULE,
  deliveryOutcome,
  difficultyFromDecimal,
  FULL_REWARD_RULE,
  hashpriceOutcome,
  lowerMedian,
  recomputeOutcome,
  subsidyHalvingInterval,
  type BlockReward,
  type DeliveryEvidence,
  type RewardRule,
} from '../protocol/hashpower/index.js';
import { expectDlcError } from './helpers/expect-dlc-error.js';

const expectReason = (fn: () => unknown, reason: string): void => expectDlcError(fn, 'INVALID_PARAMS', reason);

const REGTEST = 150;
const BTC = 100_000_000n;

describe('block subsidy', () => {
  it.each([
    [0, REGTEST, 5_000_000_000n],
    [149, REGTEST, 5_000_000_000n],
    [150, REGTEST, 2_500_000_000n],
    [2400, REGTEST, 76_293n], // 16 halvings: 5e9 >> 16
    [150 * 64, REGTEST, 0n],
    [840_000, 210_000, 312_500_000n],
    [209_999, 210_000, 5_000_000_000n],
  ])('height %i, interval %i: %i sats', (height, interval, sats) => {
    expect(blockSubsidy(height, interval)).toBe(sats);
  });

  it('knows the halving interval of each network and refuses others', () => {
    expect(subsidyHalvingInterval('regtest')).toBe(150);
    expect(subsidyHalvingInterval('mainnet')).toBe(210_000);
    expect(subsidyHalvingInterval('signet')).toBe(210_000);
    expectReason(() => subsidyHalvingInterval('litecoin'), 'network-unknown');
    expectReason(() => blockSubsidy(-1, 150), 'height-invalid');
    expectReason(() => blockSubsidy(1, 0), 'halving-interval-invalid');
  });
});

describe('lower median', () => {
  it.each([
    ['none', [], 0n],
    ['one', [5n], 5n],
    ['even count: the smaller middle value', [9n, 1n], 1n],
    ['odd count', [3n, 1n, 2n], 2n],
    ['four, unsorted', [4n, 1n, 3n, 2n], 2n],
    ['one huge outlier moves nothing', [0n, 0n, 0n, 10n ** 11n], 0n],
  ])('%s', (_name, values, median) => {
    const before = [...values];
    expect(lowerMedian(values)).toBe(median);
    expect(values).toEqual(before); // not sorted in place
  });
});

/** Blocks at consecutive regtest heights from `start` claiming subsidy + the given fees. */
function regtestBlocks(start: number, fees: bigint[]): BlockReward[] {
  return fees.map((f, i) => ({ height: start + i, reward: blockSubsidy(start + i, REGTEST) + f }));
}

describe('countedRewards under subsidy+fees-capped-4x-median-v1', () => {
  it('caps each block fees at 4x the lower median of the window fees', () => {
    // fees 100, 200, 300, 10000: lower median 200, cap 800; subsidy at 300..303 is 12.5 BTC
    const blocks = regtestBlocks(300, [100n, 200n, 300n, 10_000n]);
    const r = countedRewards(blocks, CAPPED_FEES_RULE, REGTEST);
    expect(r.feeCap).toBe(800n);
    expect(r.rewards).toEqual([1_250_000_100n, 1_250_000_200n, 1_250_000_300n, 1_250_000_800n]);
  });

  it('all fees zero: the cap is 0 and every block counts its subsidy (same as the whole reward)', () => {
    const blocks = regtestBlocks(300, [0n, 0n, 0n]);
    const r = countedRewards(blocks, CAPPED_FEES_RULE, REGTEST);
    expect(r).toEqual({ rewards: [1_250_000_000n, 1_250_000_000n, 1_250_000_000n], feeCap: 0n });
  });

  it('more than half the blocks without fees: no fee counts at all', () => {
    const r = countedRewards(regtestBlocks(300, [0n, 0n, 500n, 900n, 0n]), CAPPED_FEES_RULE, REGTEST);
    expect(r.feeCap).toBe(0n);
    expect(r.rewards.every((x) => x === 1_250_000_000n)).toBe(true);
  });

  it('a one-block window counts no fee: it has no other block to judge its fees by', () => {
    const r = countedRewards(regtestBlocks(300, [1000n * BTC]), CAPPED_FEES_RULE, REGTEST);
    expect(r).toEqual({ rewards: [1_250_000_000n], feeCap: 0n });
  });

  it('two blocks: the honest block bounds the other (lower median)', () => {
    const r = countedRewards(regtestBlocks(300, [1000n, 1000n * BTC]), CAPPED_FEES_RULE, REGTEST);
    expect(r).toEqual({ rewards: [1_250_001_000n, 1_250_004_000n], feeCap: 4000n });
  });

  it('a coinbase claiming less than the subsidy counts what it claims', () => {
    const r = countedRewards([{ height: 300, reward: 7n }, { height: 301, reward: 1_250_000_050n }, { height: 302, reward: 1_250_000_050n }], CAPPED_FEES_RULE, REGTEST);
    expect(r).toEqual({ rewards: [7n, 1_250_000_050n, 1_250_000_050n], feeCap: 200n });
  });

  it('past the last halving every reward is fee, still capped', () => {
    const r = countedRewards(regtestBlocks(150 * 64, [10n, 20n, 30n, 5000n]), CAPPED_FEES_RULE, REGTEST);
    expect(r).toEqual({ rewards: [10n, 20n, 30n, 80n], feeCap: 80n });
  });

  it('full-reward-v0 counts whole coinbases (events announced before rules)', () => {
    const blocks = regtestBlocks(300, [100n, 1000n * BTC]);
    expect(countedRewards(blocks, FULL_REWARD_RULE)).toEqual({ rewards: blocks.map((b) => b.reward), feeCap: null });
  });

  it('refuses what it cannot apply', () => {
    const blocks = regtestBlocks(300, [1n, 2n]);
    expectReason(() => countedRewards(blocks, CAPPED_FEES_RULE), 'halving-interval-invalid');
    expectReason(() => countedRewards(blocks, 'whole-reward-v9' as RewardRule, REGTEST), 'reward-rule-unknown');
    expectReason(() => countedRewards([{ height: 1, reward: -1n }], CAPPED_FEES_RULE, REGTEST), 'reward-out-of-range');
  });

  it('new events use the capped rule', () => {
    expect(CURRENT_REWARD_RULE).toBe('subsidy+fees-capped-4x-median-v1');
  });
});

// ------------------------------------------------------------------ the attack

/**
 * The numbers of the regtest attack (test/regtest/oracle-self-paid-fee.test.ts):
 * a 40-block window at regtest heights 2400..2439 (subsidy 76,293 sats) on the
 * stack's simulated 1 PH/s network, a 100 TH/s sale: the pool pays the
 * delivery address 10% of each of its 39 blocks (7,629 sats each, 297,531 in
 * all), and the buyer mines block 2420 itself with a transaction paying
 * itself a 1,000 BTC fee (and pays the delivery address nothing).
 */
const SIM = difficultyFromDecimal('139698386.19232177734375');
const SUBSIDY = 76_293n;
const PAID = 39n * 7_629n;
const attackWindow = (): BlockReward[] =>
  Array.from({ length: 40 }, (_, i) => ({ height: 2400 + i, reward: i === 20 ? SUBSIDY + 1000n * BTC : SUBSIDY }));
const work = (rule: RewardRule): { reward: bigint; difficulty: typeof SIM }[] =>
  countedRewards(attackWindow(), rule, rule === FULL_REWARD_RULE ? undefined : REGTEST).rewards.map((reward) => ({ reward, difficulty: SIM }));
const DELIVERY = { nbDigits: 14, precision: 0 };

describe('a 1,000 BTC self-paid fee in one block of the window', () => {
  it('under the old rule (full-reward-v0) pushes a fully delivered sale from 9749 bps to 0, far under the 9500 tolerance', () => {
    expect(blockSubsidy(2400, REGTEST)).toBe(SUBSIDY);
    expect(deliveryOutcome(PAID, 100n, work(FULL_REWARD_RULE), DELIVERY).outcome).toBe(0n);
  });

  it('under subsidy+fees-capped-4x-median-v1 leaves it at 9749 bps (39 of 40 blocks delivered), at or above the tolerance', () => {
    const outcome = deliveryOutcome(PAID, 100n, work(CAPPED_FEES_RULE), DELIVERY).outcome;
    expect(outcome).toBe(9749n);
    expect(outcome).toBeGreaterThanOrEqual(9500n);
  });

  it('moves the hashprice (a call into the money) only under the old rule', () => {
    const hp = { nbDigits: 64, precision: 0 };
    expect(hashpriceOutcome(work(CAPPED_FEES_RULE), hp).outcome).toBe(10_986_192n); // as if the fee were not there
    expect(hashpriceOutcome(work(FULL_REWARD_RULE), hp).outcome).toBe(360_010_986_192n);
  });

  it('recomputeOutcome applies the rule the evidence states, and the old one when it states none', () => {
    const hex = (n: number, tag: string): string => (tag + n.toString(16)).padStart(64, '0');
    const D = 'bcrt1qdelivery';
    const blocks = attackWindow().map((b) => ({ height: b.height, hash: hex(b.height, 'b'), bits: '207fffff', reward: b.reward, coinbaseTxid: hex(b.height, 'c') }));
    const evidence: DeliveryEvidence = {
      kind: 'hashpower-delivery',
      window: { start: 2400, end: 2440 },
      event: DELIVERY,
      blocks,
      deliveryAddress: D,
      poolPayoutAddresses: [],
      payouts: blocks.filter((b) => b.height !== 2420).map((b) => ({ source: 'coinbase' as const, height: b.height, blockHash: b.hash, txid: b.coinbaseTxid, vout: 0, value: 7_629n, address: D })),
      hashrateThs: 100n,
      simulatedDifficulty: '139698386.19232177734375',
      rewardRule: CAPPED_FEES_RULE,
      subsidyHalvingInterval: REGTEST,
    };
    expect(recomputeOutcome(evidence)).toEqual({
      outcome: 9749n, capped: false, noNetworkReward: false, poolRewards: PAID,
      networkReward: 40n * SUBSIDY + 1000n * BTC, countedReward: 40n * SUBSIDY, rewardRule: CAPPED_FEES_RULE, feeCap: 0n,
    });
    const { rewardRule: _r, subsidyHalvingInterval: _i, ...legacy } = evidence;
    expect(recomputeOutcome(legacy)).toMatchObject({ outcome: 0n, rewardRule: FULL_REWARD_RULE, feeCap: null });
    // A halving interval without the rule that uses it, a rule without the interval, an unknown rule: refused.
    expectReason(() => recomputeOutcome({ ...legacy, subsidyHalvingInterval: REGTEST }), 'evidence-reward-rule');
    expectReason(() => recomputeOutcome({ ...legacy, rewardRule: CAPPED_FEES_RULE }), 'halving-interval-invalid');
    expectReason(() => recomputeOutcome({ ...evidence, rewardRule: 'free-v2' as RewardRule }), 'evidence-reward-rule');
  });
});
