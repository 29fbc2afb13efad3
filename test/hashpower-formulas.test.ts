// Exact hashpower formulas: difficulty from bits, hashprice, delivery ratio,
// outcome encoding, and evidence recomputation. Expected integers were
// computed independently with Python's fractions.Fraction.
import { describe, expect, it } from 'vitest';
import { isDlcError } from '../protocol/errors.js';
import {
  decodeOutcome,
  deliveryOutcome,
  deliveryRatioBps,
  difficultyFromBits,
  difficultyFromDecimal,
  encodeOutcome,
  expectedDeliverySats,
  hashpriceOutcome,
  hashpriceSatsPerPhDay,
  maxOutcome,
  parseDecimal,
  poolRewardsOutcome,
  rational,
  ratCmp,
  ratFloor,
  recomputeOutcome,
  toDecimalString,
  windowBlockCount,
  type BlockEvidence,
  type BlockRewardWork,
  type DeliveryEvidence,
  type OutcomeEvidence,
  type PayoutEvidence,
} from '../protocol/hashpower/index.js';

function expectReason(fn: () => unknown, reason: string): void {
  try {
    fn();
  } catch (err) {
    expect(isDlcError(err, 'INVALID_PARAMS')).toBe(true);
    expect((err as { reason?: string }).reason).toBe(reason);
    return;
  }
  throw new Error(`expected INVALID_PARAMS/${reason}, nothing was thrown`);
}

describe('difficultyFromBits', () => {
  it.each([
    // bits, Core's getblock "difficulty" (2 decimals)
    ['1d00ffff', '1.00'], // genesis
    // block 840000; Core prints 86388558925171.02 because a double's ULP there is
    // 1/64: the exact value is 86388558925171.0117...
    ['17034219', '86388558925171.01'],
    ['1b0404cb', '16307.42'], // block 100000
  ])('%s -> %s', (bits, want) => {
    expect(toDecimalString(difficultyFromBits(bits), 2)).toBe(want);
  });

  it('is exact: 17034219 is 0xffff * 256^6 / 0x034219', () => {
    expect(difficultyFromBits('17034219')).toEqual(rational(18446462598732840960n, 213529n));
    expect(difficultyFromBits(0x17034219)).toEqual(difficultyFromBits('17034219'));
  });

  it('regtest minimum difficulty 207fffff is about 4.66e-10', () => {
    const d = difficultyFromBits('207fffff');
    expect(d).toEqual(rational(65535n, 0x7fffffn * 256n ** 3n));
    expect(toDecimalString(rational(d.n * 10n ** 20n, d.d), 0)).toBe('46565423739');
  });

  it.each([
    ['00000000', 'zero'],
    ['1d800000', 'negative'],
    ['2300ffff', 'overflow'],
    ['1d00fff', 'short'],
    ['zz00ffff', 'non-hex'],
  ])('rejects %s (%s)', (bits) => {
    expectReason(() => difficultyFromBits(bits), 'bits-invalid');
  });
});

describe('decimals', () => {
  it.each([
    ['123', 123n, 1n],
    ['0.5', 1n, 2n],
    ['1.5e13', 15000000000000n, 1n],
    ['83148355189239.77', 8314835518923977n, 100n],
    ['2.5E-3', 1n, 400n],
  ])('parseDecimal(%s)', (text, n, d) => {
    expect(parseDecimal(text)).toEqual(rational(n, d));
  });

  it.each(['', '-1', '1.', '.5', '0x10', 'Infinity', '1e', ' 1'])('rejects %j', (text) => {
    expectReason(() => parseDecimal(text), 'decimal-syntax');
  });

  it('simulated difficulty must be positive', () => {
    expectReason(() => difficultyFromDecimal('0'), 'difficulty-zero');
  });
});

const D840000 = difficultyFromBits('17034219');

describe('hashprice', () => {
  // 144 blocks at block 840000's difficulty, rewards 3.125 BTC + 0, 0.01 or 0.02 BTC fees.
  const day: BlockRewardWork[] = Array.from({ length: 144 }, (_, i) => ({
    reward: 312_500_000n + BigInt(i % 3) * 1_000_000n,
    difficulty: D840000,
  }));

  it('sats per PH/s per day, exact', () => {
    const hp = hashpriceSatsPerPhDay(day);
    expect(ratFloor(hp)).toBe(73002n);
    expect(toDecimalString(hp, 3)).toBe('73002.074');
  });

  it.each([
    [0, 20, 73002n, false],
    [-3, 32, 73002073n, false], // thousandths of a sat
    [1, 20, 7300n, false], // tens of sats
    [0, 16, 65535n, true], // capped at 2^16 - 1
  ])('precision %i, %i digits -> %s', (precision, nbDigits, outcome, capped) => {
    expect(hashpriceOutcome(day, { nbDigits, precision })).toEqual({ outcome, capped });
  });

  it('mixes difficulties across a retarget exactly', () => {
    const blocks = Array.from({ length: 144 }, (_, i) => ({
      reward: 312_500_000n,
      difficulty: difficultyFromBits(i < 72 ? '17034219' : '1703a30c'),
    }));
    expect(hashpriceOutcome(blocks, { nbDigits: 32, precision: -2 }).outcome).toBe(7676600n);
  });

  it('a window with no reward has hashprice 0', () => {
    const blocks = [{ reward: 0n, difficulty: D840000 }];
    expect(hashpriceOutcome(blocks, { nbDigits: 20, precision: 0 })).toEqual({ outcome: 0n, capped: false });
  });
});

describe('delivery ratio', () => {
  // Regtest-like: 100 blocks of 50 BTC at a simulated difficulty of 1e14.
  const sim = difficultyFromDecimal('1e14');
  const blocks = Array.from({ length: 100 }, () => ({ reward: 5_000_000_000n, difficulty: sim }));
  const event = { nbDigits: 14, precision: 0 };

  it('100 TH/s over 100 blocks is expected to earn 18310546875/262144 sats', () => {
    expect(expectedDeliverySats(100n, blocks)).toEqual(rational(18310546875n, 262144n));
  });

  it.each([
    [0n, 0n],
    [66357n, 9500n], // ceil(0.95 * expected): exactly at tolerance
    [66356n, 9499n], // one sat less: floored below
    [69849n, 9999n],
    [69850n, 10000n],
    [100_000n, 14316n],
    [200_000n, 16383n], // capped at 2^14 - 1
  ])('R = %s sats -> %s bps', (R, bps) => {
    expect(deliveryOutcome(R, 100n, blocks, event).outcome).toBe(bps);
  });

  it('is R * W * 10000 / (H * 1e12 * T * sum(reward))', () => {
    const ratio = deliveryRatioBps(66357n, 100n, blocks);
    expect(ratio).not.toBeNull();
    // 66357 * 10000 * 262144 / 18310546875
    expect(ratCmp(ratio!, rational(66357n * 10000n * 262144n, 18310546875n))).toBe(0);
  });

  it('no network reward: the cap, by NO_NETWORK_REWARD_RULE', () => {
    const empty = blocks.map((b) => ({ ...b, reward: 0n }));
    expect(deliveryRatioBps(500n, 100n, empty)).toBeNull();
    expect(deliveryOutcome(0n, 100n, empty, event)).toEqual({ outcome: 16383n, capped: true, noNetworkReward: true });
  });

  it.each([
    [() => deliveryOutcome(1n, 0n, blocks, event), 'hashrate-invalid'],
    [() => deliveryOutcome(-1n, 100n, blocks, event), 'rewards-out-of-range'],
    [() => deliveryOutcome(1n, 100n, [], event), 'window-empty'],
    [() => deliveryOutcome(1n, 100n, blocks, { nbDigits: 0, precision: 0 }), 'digits-invalid'],
    [() => deliveryOutcome(1n, 100n, blocks, { nbDigits: 14, precision: 0.5 }), 'precision-invalid'],
  ])('rejects bad input %#', (fn, reason) => {
    expectReason(fn, reason);
  });
});

describe('outcome encoding', () => {
  it('maxOutcome is 2^n - 1', () => {
    expect(maxOutcome(1)).toBe(1n);
    expect(maxOutcome(20)).toBe(1048575n);
    expect(maxOutcome(64)).toBe((1n << 64n) - 1n);
    expectReason(() => maxOutcome(65), 'digits-invalid');
  });

  it('floors, scales by 10^precision, and decodes back', () => {
    expect(encodeOutcome(rational(12345n, 10n), { nbDigits: 20, precision: 0 }).outcome).toBe(1234n);
    expect(encodeOutcome(rational(12345n, 10n), { nbDigits: 20, precision: -1 }).outcome).toBe(12345n);
    expect(encodeOutcome(rational(12345n, 10n), { nbDigits: 20, precision: 2 }).outcome).toBe(12n);
    expect(decodeOutcome(12n, 2)).toEqual(rational(1200n));
    expectReason(() => encodeOutcome(rational(-1n), { nbDigits: 20, precision: 0 }), 'value-negative');
  });

  it('pool rewards are sats', () => {
    expect(poolRewardsOutcome(123_456n, { nbDigits: 32, precision: 0 })).toEqual({ outcome: 123456n, capped: false });
  });

  it('windows are half-open and non-empty', () => {
    expect(windowBlockCount({ start: 100, end: 200 })).toBe(100);
    expectReason(() => windowBlockCount({ start: 5, end: 5 }), 'window-empty');
    expectReason(() => windowBlockCount({ start: -1, end: 5 }), 'window-invalid');
  });
});

// ------------------------------------------------------------------ evidence

const hex = (n: number, tag: string): string => (tag + n.toString(16)).padStart(64, '0');
const D = 'bcrt1qdelivery';
const POOL = 'bcrt1qpool';

function window100(): { blocks: BlockEvidence[]; payouts: PayoutEvidence[] } {
  const blocks: BlockEvidence[] = [];
  const payouts: PayoutEvidence[] = [];
  for (let h = 1000; h < 1100; h++) {
    blocks.push({ height: h, hash: hex(h, 'b'), bits: '207fffff', reward: 5_000_000_000n, coinbaseTxid: hex(h, 'c') });
    // The pool pays 600 sats to D in every coinbase ...
    payouts.push({ source: 'coinbase', height: h, blockHash: hex(h, 'b'), txid: hex(h, 'c'), vout: 1, value: 600n, address: D });
  }
  // ... and 6357 sats once from its payout address.
  payouts.push({ source: 'pool-payout', height: 1099, blockHash: hex(1099, 'b'), txid: hex(1, 'f'), vout: 0, value: 6357n, address: D, fromAddress: POOL });
  return { blocks, payouts };
}

function deliveryEvidence(): DeliveryEvidence {
  const { blocks, payouts } = window100();
  return {
    kind: 'hashpower-delivery',
    window: { start: 1000, end: 1100 },
    blocks,
    payouts,
    deliveryAddress: D,
    poolPayoutAddresses: [POOL],
    hashrateThs: 100n,
    simulatedDifficulty: '1e14',
    event: { nbDigits: 14, precision: 0 },
  };
}

describe('recomputeOutcome', () => {
  it('delivery: 66357 sats of the expected 69849.19 is 9500 bps', () => {
    expect(recomputeOutcome(deliveryEvidence())).toEqual({
      outcome: 9500n,
      capped: false,
      noNetworkReward: false,
      networkReward: 500_000_000_000n,
      // No rule stated: evidence of an event from before reward rules, whole coinbases count.
      countedReward: 500_000_000_000n,
      rewardRule: 'full-reward-v0',
      feeCap: null,
      poolRewards: 66357n,
    });
  });

  it('delivery without simulated difficulty uses the blocks own (regtest: ratio ~ 0)', () => {
    const { simulatedDifficulty: _omit, ...real } = deliveryEvidence();
    expect(recomputeOutcome(real).outcome).toBe(0n);
  });

  it('pool-rewards sums the payouts', () => {
    const { blocks, payouts } = window100();
    const e: OutcomeEvidence = {
      kind: 'pool-rewards', window: { start: 1000, end: 1100 }, blocks, payouts,
      deliveryAddress: D, poolPayoutAddresses: [POOL], event: { nbDigits: 32, precision: 0 },
    };
    expect(recomputeOutcome(e).outcome).toBe(66357n);
  });

  it('hashprice from bits', () => {
    const blocks = Array.from({ length: 144 }, (_, i) => ({
      height: 840000 + i, hash: hex(i, 'b'), bits: '17034219',
      reward: 312_500_000n + BigInt(i % 3) * 1_000_000n, coinbaseTxid: hex(i, 'c'),
    }));
    const e: OutcomeEvidence = { kind: 'hashprice', window: { start: 840000, end: 840144 }, blocks, event: { nbDigits: 20, precision: 0 } };
    expect(recomputeOutcome(e)).toMatchObject({ outcome: 73002n, capped: false, networkReward: 45_144_000_000n });
  });

  it('no network reward applies the rule', () => {
    const e = deliveryEvidence();
    e.blocks.forEach((b) => { b.reward = 0n; });
    e.payouts = e.payouts.filter((p) => p.source === 'pool-payout');
    expect(recomputeOutcome(e)).toMatchObject({ outcome: 16383n, noNetworkReward: true });
  });

  type Mutation = (e: DeliveryEvidence) => void;
  const invalid: [string, Mutation][] = [
    ['evidence-blocks-count', (e) => { e.blocks.pop(); }],
    ['evidence-blocks-order', (e) => { const [a, b] = [e.blocks[3]!, e.blocks[4]!]; e.blocks[3] = b; e.blocks[4] = a; }],
    ['evidence-hex', (e) => { e.blocks[0]!.hash = 'XYZ'; }],
    ['evidence-duplicate-block', (e) => { e.blocks[1]!.hash = e.blocks[0]!.hash; }],
    ['reward-out-of-range', (e) => { e.blocks[0]!.reward = -1n; }],
    ['bits-invalid', (e) => { e.blocks[0]!.bits = '00000000'; }],
    ['evidence-duplicate-payout', (e) => { e.payouts.push({ ...e.payouts[0]! }); }],
    ['evidence-value', (e) => { e.payouts[0]!.value = 0n; }],
    ['evidence-vout', (e) => { e.payouts[0]!.vout = -1; }],
    ['evidence-payout-outside-window', (e) => { e.payouts[0]!.height = 1100; }],
    ['evidence-payout-block', (e) => { e.payouts[0]!.blockHash = hex(5, 'e'); }],
    ['evidence-payout-address', (e) => { e.payouts[0]!.address = 'bcrt1qsomeoneelse'; }],
    ['evidence-payout-not-coinbase', (e) => { e.payouts[0]!.txid = hex(9, 'a'); }],
    ['evidence-payout-exceeds-reward', (e) => { e.payouts[0]!.value = 5_000_000_001n; }],
    ['evidence-payout-source', (e) => { e.payouts.at(-1)!.fromAddress = 'bcrt1qnotdeclared'; }],
    ['window-empty', (e) => { e.window = { start: 1000, end: 1000 }; e.blocks = []; }],
    ['decimal-syntax', (e) => { e.simulatedDifficulty = '-5'; }],
    ['difficulty-zero', (e) => { e.simulatedDifficulty = '0.0'; }],
    ['hashrate-invalid', (e) => { e.hashrateThs = 0n; }],
    ['digits-invalid', (e) => { e.event = { nbDigits: 100, precision: 0 }; }],
  ];
  it.each(invalid)('rejects evidence: %s', (reason, mutate) => {
    const e = deliveryEvidence();
    mutate(e);
    expectReason(() => recomputeOutcome(e), reason);
  });
});
