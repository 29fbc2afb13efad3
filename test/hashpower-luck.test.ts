// Pool luck (issue 16): the chance that a fully delivering miner of a
// luck-based pool is measured under the sale's tolerance (protocol/hashpower
// luck.ts), and the risk a sale's terms state (protocol/terms saleLuckRisks:
// poolShareBps, payoutScheme). Reference values were computed independently with Python's
// decimal module at 80 digits (the CDF summed term by term from e^-λ).
// Attack/failure defended: an offer that understates the measurement risk
// (the buyer's payout curve pays the miner less than it delivered, or a
// seller signs a window too short for its pool).
import { describe, expect, it } from 'vitest';
import { isLuckBasedScheme, luckRisk, poissonCdf } from '../protocol/hashpower/index.js';
import { offerTermsSchema, saleLuckRisks } from '../protocol/terms/index.js';
import { seededRandom } from '../regtest/pool-schemes.js';

/** P(K <= k) summed directly from e^-λ (only for λ small enough that e^-λ does not underflow). */
function directCdf(k: number, lambda: number): number {
  let p = Math.exp(-lambda);
  let s = p;
  for (let j = 1; j <= k; j++) {
    p *= lambda / j;
    s += p;
  }
  return s;
}

/** A Poisson(λ) draw by Knuth's product of uniforms (λ below ~700). */
function poissonDraw(rand: () => number, lambda: number): number {
  const limit = Math.exp(-lambda);
  let k = 0;
  let prod = rand();
  while (prod > limit) {
    k++;
    prod *= rand();
  }
  return k;
}

describe('poissonCdf', () => {
  it('matches the direct sum from e^-λ over a grid of λ and k', () => {
    for (const lambda of [0.01, 0.5, 1, 3.7, 14.4, 43.2, 100, 403.2, 650]) {
      for (const frac of [0, 0.3, 0.8, 0.95, 1, 1.2, 2]) {
        const k = Math.floor(frac * lambda);
        expect(poissonCdf(k, lambda)).toBeCloseTo(directCdf(k, lambda), 12);
      }
    }
  });

  it('matches 80-digit reference values, a 1e-31 tail at λ = 52,560 included (relative 1e-9)', () => {
    const ref: [number, number, number][] = [
      [41, 43.2, 0.40719288918320179],
      [383, 403.2, 0.16332893582638319],
      [99, 100, 0.48670120172085135],
      [13, 14.4, 0.42272408551049168],
      [0, 0.0001, 0.99990000499983334],
      [49931, 52560, 3.2082637758021219e-31],
    ];
    for (const [k, lambda, want] of ref) expect(Math.abs(poissonCdf(k, lambda) - want) / want).toBeLessThan(1e-9);
  });

  it('refuses λ <= 0 and a fractional k (RangeError)', () => {
    expect(() => poissonCdf(1, 0)).toThrow(RangeError);
    expect(() => poissonCdf(1.5, 2)).toThrow(RangeError);
    expect(poissonCdf(-1, 2)).toBe(0);
  });
});

describe('luckRisk', () => {
  it('a day at 30% of the network, 95% tolerance: λ = 43.2, under the tolerance at 41 pool blocks or fewer', () => {
    const r = luckRisk({ windowBlocks: 144, poolShareBps: 3000, toleranceBps: 9500 });
    expect(r.expectedPoolBlocks).toBe(43.2);
    expect(r.underToleranceBlocks).toBe(41);
    expect(r.underToleranceChance).toBeCloseTo(0.40719288918320179, 12);
  });

  it('the boundary: K = tol·λ exactly is full delivery (λ = 20, tol 95%: K <= 18 is under)', () => {
    // tol·λ = 19 exactly: 19 blocks measure 9500 bps, at the tolerance.
    const r = luckRisk({ windowBlocks: 200, poolShareBps: 1000, toleranceBps: 9500 });
    expect(r.expectedPoolBlocks).toBe(20);
    expect(r.underToleranceBlocks).toBe(18);
    expect(r.underToleranceChance).toBeCloseTo(directCdf(18, 20), 14);
  });

  it('λ = 0 (no share or no window): no pool block, nothing paid, measured under the tolerance for sure', () => {
    expect(luckRisk({ windowBlocks: 0, poolShareBps: 3000, toleranceBps: 9500 })).toEqual({ expectedPoolBlocks: 0, underToleranceBlocks: 0, underToleranceChance: 1 });
    expect(luckRisk({ windowBlocks: 144, poolShareBps: 0, toleranceBps: 9500 }).underToleranceChance).toBe(1);
  });

  it('a 100% tolerance: under unless the pool finds at least λ blocks (λ = 100: P(K <= 99))', () => {
    const r = luckRisk({ windowBlocks: 100, poolShareBps: 10_000, toleranceBps: 10_000 });
    expect(r.underToleranceBlocks).toBe(99);
    expect(r.underToleranceChance).toBeCloseTo(0.48670120172085135, 12);
  });

  it('a year of a whole network (λ = 52,560) is practically certain to measure in full', () => {
    const r = luckRisk({ windowBlocks: 52_560, poolShareBps: 10_000, toleranceBps: 9500 });
    expect(r.underToleranceBlocks).toBe(49_931);
    expect(r.underToleranceChance).toBeLessThan(1e-30);
  });

  it('refuses out-of-range inputs (RangeError)', () => {
    expect(() => luckRisk({ windowBlocks: -1, poolShareBps: 1, toleranceBps: 9500 })).toThrow(RangeError);
    expect(() => luckRisk({ windowBlocks: 10, poolShareBps: 10_001, toleranceBps: 9500 })).toThrow(RangeError);
    expect(() => luckRisk({ windowBlocks: 10, poolShareBps: 1.5, toleranceBps: 9500 })).toThrow(RangeError);
    expect(() => luckRisk({ windowBlocks: 10, poolShareBps: 100, toleranceBps: 0 })).toThrow(RangeError);
  });

  it('names the luck-based schemes (per-block ones, and none stated: today\'s per-block rule); periodic payouts are not', () => {
    expect(isLuckBasedScheme('per-block-coinbase')).toBe(true);
    expect(isLuckBasedScheme('per-block-payout')).toBe(true);
    expect(isLuckBasedScheme('periodic-payout')).toBe(false);
    expect(isLuckBasedScheme(undefined)).toBe(true);
  });
});

describe('the printed risk against 200 seeded simulated windows', () => {
  // 200 windows; the simulated frequency must be within 3 binomial standard errors
  // sqrt(p(1-p)/200) of the printed chance (a false alarm about 0.3% of seeds; the seeds are fixed).
  const RUNS = 200;
  const within = (hits: number, p: number): void => {
    const se = Math.sqrt((p * (1 - p)) / RUNS);
    expect(Math.abs(hits / RUNS - p)).toBeLessThanOrEqual(3 * se);
  };
  const risk = luckRisk({ windowBlocks: 144, poolShareBps: 1000, toleranceBps: 9500 });

  it('Poisson draws of the pool blocks (the formula\'s own model)', () => {
    const rand = seededRandom(16);
    let under = 0;
    for (let i = 0; i < RUNS; i++) {
      const k = poissonDraw(rand, risk.expectedPoolBlocks);
      // The oracle's measured ratio K/λ against the tolerance, as the payout curve reads it.
      if (k / risk.expectedPoolBlocks < 0.95) under++;
    }
    within(under, risk.underToleranceChance);
  });

  it('a luck pool finding each block with probability equal to its share (the regtest simulator\'s model)', () => {
    const rand = seededRandom(0x16_16);
    let under = 0;
    for (let i = 0; i < RUNS; i++) {
      let k = 0;
      for (let b = 0; b < 144; b++) if (rand() < 0.1) k++;
      if (k / risk.expectedPoolBlocks < 0.95) under++;
    }
    within(under, risk.underToleranceChance);
  });
});

describe('saleLuckRisks: the risk a sale\'s terms state (protocol/terms)', () => {
  const sale = {
    template: 'hashpower-sale', hashrateThs: '100', window: { start: 1000, end: 1144 }, deliveryAddress: 'bcrt1qdelivery',
    upfront: '0', escrow: '300000', minerCollateral: '200000', toleranceBps: 9500, fundingDeadline: 990,
  } as const;

  it('terms without the new fields parse as before and state no risk (older offers read unchanged)', () => {
    const terms = offerTermsSchema.parse(sale);
    expect(terms).toEqual(sale);
    expect(saleLuckRisks(terms)).toEqual([]);
  });

  it('a share with a luck-based scheme, or none (today\'s per-block rule): the window\'s risk; periodic payouts: none', () => {
    for (const scheme of [undefined, 'per-block-coinbase', 'per-block-payout'] as const) {
      const [r, ...more] = saleLuckRisks(offerTermsSchema.parse({ ...sale, poolShareBps: 3000, ...(scheme ? { payoutScheme: scheme } : {}) }));
      expect(more).toEqual([]);
      expect(r).toMatchObject({ window: sale.window, poolShareBps: 3000, toleranceBps: 9500, expectedPoolBlocks: 43.2, underToleranceBlocks: 41 });
    }
    expect(saleLuckRisks(offerTermsSchema.parse({ ...sale, poolShareBps: 3000, payoutScheme: 'periodic-payout' }))).toEqual([]);
  });

  it('a strip: each period measured on its own window (4 x 36 blocks at 30%: λ = 10.8 each)', () => {
    const risks = saleLuckRisks(offerTermsSchema.parse({ ...sale, poolShareBps: 3000, periods: 4 }));
    expect(risks.map((r) => [r.period, r.window.start, r.window.end, r.expectedPoolBlocks])).toEqual([[0, 1000, 1036, 10.8], [1, 1036, 1072, 10.8], [2, 1072, 1108, 10.8], [3, 1108, 1144, 10.8]]);
    expect(risks[0]!.underToleranceChance).toBeGreaterThan(luckRisk({ windowBlocks: 144, poolShareBps: 3000, toleranceBps: 9500 }).underToleranceChance);
  });

  it('refuses a share outside 1..10000 bps and an unknown scheme (the terms schema)', () => {
    for (const bad of [{ poolShareBps: 0 }, { poolShareBps: 10_001 }, { poolShareBps: 12.5 }, { payoutScheme: 'pplns' }]) {
      expect(offerTermsSchema.safeParse({ ...sale, ...bad }).success).toBe(false);
    }
  });
});
