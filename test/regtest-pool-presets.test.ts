/**
 * Unit tests of the pool simulator's pure parts (regtest/pool-schemes.ts):
 * the seeded luck draw is repeatable and finds blocks at the pool's share of
 * the network, and the demo's named pools come with the event parameters
 * that measure them. The simulator on a node: test/regtest/pool-schemes.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { DEMO_POOL_NAMES, poolFindsBlocks, poolPreset, seededRandom } from '../regtest/pool-schemes.js';
import { isLuckBased } from '../protocol/events/index.js';

describe('the luck draw', () => {
  it('is the same for the same seed and differs between seeds', () => {
    expect(poolFindsBlocks(5, 4_000, 8)).toEqual(poolFindsBlocks(5, 4_000, 8));
    expect(poolFindsBlocks(5, 4_000, 64)).not.toEqual(poolFindsBlocks(6, 4_000, 64));
    const r = seededRandom(42);
    const xs = Array.from({ length: 1_000 }, r);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('finds blocks at the pool share over 200 seeded runs of 144 blocks (30%: 43.2 expected per run)', () => {
    let found = 0;
    for (let seed = 1; seed <= 200; seed++) found += poolFindsBlocks(seed, 3_000, 144).filter(Boolean).length;
    // 28,800 draws at p = 0.3: standard deviation 78 blocks; 4 of them either way.
    expect(Math.abs(found - 8_640)).toBeLessThan(312);
    expect(poolFindsBlocks(1, 10_000, 50).every(Boolean)).toBe(true);
  });

  it('refuses a pool share outside 1..10,000 bps', () => {
    expect(() => poolFindsBlocks(1, 0, 1)).toThrow(RangeError);
    expect(() => poolFindsBlocks(1, 10_001, 1)).toThrow(RangeError);
  });
});

describe('the demo pools', () => {
  it('fpps: periodic payouts from the pool key, measured with periodic-payout and lag = payout delay + 1', () => {
    expect(poolPreset('fpps', { periodBlocks: 6, payoutDelayBlocks: 2, periodAnchor: 300 })).toEqual({
      simulator: { mode: 'periodic', periodBlocks: 6, payoutDelayBlocks: 2, periodAnchor: 300 },
      payoutScheme: 'periodic-payout',
      payoutLagBlocks: 3,
      needsPoolKey: true,
    });
  });

  it('tides: a seeded luck pool paying in the coinbase (a luck-based scheme, no lag); coinbase: today’s pool, no scheme stated', () => {
    const tides = poolPreset('tides');
    expect(tides).toEqual({
      simulator: { mode: 'luck', poolShareBps: 3_000, seed: 1, luckPayout: 'coinbase' },
      payoutScheme: 'per-block-coinbase',
      payoutLagBlocks: 0,
      needsPoolKey: false,
    });
    expect(isLuckBased(tides.payoutScheme!)).toBe(true);
    expect(poolPreset('coinbase')).toEqual({ simulator: { mode: 'per-block' }, payoutScheme: null, payoutLagBlocks: 0, needsPoolKey: false });
    expect(DEMO_POOL_NAMES).toEqual(['fpps', 'tides', 'coinbase']);
    expect(() => poolPreset('pplns' as never)).toThrow(RangeError);
  });
});
