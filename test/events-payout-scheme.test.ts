/**
 * Unit tests of the payout scheme and payout lag of oracle events (issue 16):
 * both are bound into the event id (an event without them keeps its old id,
 * golden values computed before they existed), `measuredRange` shifts the
 * payouts' blocks by the lag, the parameter and evidence checks fail with
 * named reasons, and `recomputeOutcome` counts payouts in the measured range
 * against the window's own blocks.
 */
import { describe, expect, it } from 'vitest';
import { recomputeOutcome, type BlockEvidence, type DeliveryEvidence } from '../protocol/hashpower/index.js';
import {
  canonicalParamsJson,
  checkPayoutParams,
  eventIdFor,
  eventMeasuredRange,
  eventParamsSchema,
  eventRules,
  evidenceFromJson,
  evidencePayoutFields,
  evidenceToJson,
  isLuckBased,
  MAX_PAYOUT_LAG_BLOCKS,
  measuredRange,
  PAYOUT_SCHEMES,
  payoutFieldsMismatch,
  type EventParams,
} from '../protocol/events/index.js';
import { expectDlcError } from './helpers/expect-dlc-error.js';
import { DELIVERY_EVENT_PARAMS } from './helpers/event-params.js';

const BASE: EventParams = DELIVERY_EVENT_PARAMS;
const POOL_REWARDS: EventParams = { ...BASE, kind: 'pool-rewards', hashrateThs: null, simulatedDifficulty: null, rewardRule: null };
// Computed by the code before payout schemes existed (commit 51a6b15) for these very parameters.
const GOLDEN_DELIVERY_ID = 'hashpower-delivery/300-400/100ths/simdiff=1e9/reward=subsidy+fees-capped-4x-median-v1/6672d9e9fa4d0573f14bb8c0a197cd68';
const GOLDEN_POOL_REWARDS_ID = 'pool-rewards/300-400/2658ce5248621f259e909a0f01e97fe5';

describe('event ids with a payout scheme and lag', () => {
  it('an event without them keeps its old id (null scheme and lag 0 are the same event)', () => {
    expect(eventIdFor(BASE)).toBe(GOLDEN_DELIVERY_ID);
    expect(eventIdFor(POOL_REWARDS)).toBe(GOLDEN_POOL_REWARDS_ID);
    expect(eventIdFor({ ...BASE, payoutScheme: null, payoutLagBlocks: 0 })).toBe(GOLDEN_DELIVERY_ID);
    expect(canonicalParamsJson({ ...BASE, payoutLagBlocks: null })).toBe(canonicalParamsJson(BASE));
    expect(evidencePayoutFields(BASE)).toEqual({});
  });

  it('the scheme and the lag are spelled out in the id and bound by its digest', () => {
    const id = eventIdFor({ ...BASE, payoutScheme: 'periodic-payout', payoutLagBlocks: 6 });
    expect(id).toMatch(/^hashpower-delivery\/300-400\/100ths\/simdiff=1e9\/reward=subsidy\+fees-capped-4x-median-v1\/payout=periodic-payout\/lag=6\/[0-9a-f]{32}$/);
    expect(eventIdFor(structuredClone({ ...BASE, payoutScheme: 'periodic-payout', payoutLagBlocks: 6 }))).toBe(id);
  });

  const variants: [string, Partial<EventParams>][] = [
    ['scheme per-block-coinbase', { payoutScheme: 'per-block-coinbase' }],
    ['scheme per-block-payout', { payoutScheme: 'per-block-payout' }],
    ['scheme periodic-payout', { payoutScheme: 'periodic-payout' }],
    ['lag 1', { payoutLagBlocks: 1 }],
    ['lag 144', { payoutLagBlocks: 144 }],
    ['lag 144 with periodic-payout', { payoutLagBlocks: 144, payoutScheme: 'periodic-payout' }],
    ['lag 145 with periodic-payout', { payoutLagBlocks: 145, payoutScheme: 'periodic-payout' }],
  ];
  it('every scheme and lag gives its own id', () => {
    const ids = new Set([GOLDEN_DELIVERY_ID, ...variants.map(([, v]) => eventIdFor({ ...BASE, ...v }))]);
    expect(ids.size).toBe(variants.length + 1);
    const poolIds = new Set([GOLDEN_POOL_REWARDS_ID, ...variants.map(([, v]) => eventIdFor({ ...POOL_REWARDS, ...v }))]);
    expect(poolIds.size).toBe(variants.length + 1);
  });

  it('the rules state the measured range and the attestation block; the params schema reads them back', () => {
    const p: EventParams = { ...BASE, payoutScheme: 'periodic-payout', payoutLagBlocks: 6 };
    expect(eventRules(p).join('\n')).toContain('payout scheme periodic-payout; payout lag 6 blocks: payouts in blocks [306, 406) count for the window');
    expect(eventRules(p).join('\n')).toContain('attested once block 405 is in');
    expect(eventRules(BASE).join('\n')).not.toContain('payout');
    const back = eventParamsSchema.parse(JSON.parse(JSON.stringify(p))) as EventParams;
    expect(eventIdFor(back)).toBe(eventIdFor(p));
    // As the oracle's GET prints an event that states neither: read as today's rule.
    expect(eventIdFor(eventParamsSchema.parse({ ...BASE, payoutScheme: null, payoutLagBlocks: 0 }) as EventParams)).toBe(GOLDEN_DELIVERY_ID);
    expect(() => eventParamsSchema.parse({ ...p, payoutLagBlocks: MAX_PAYOUT_LAG_BLOCKS + 1 })).toThrow();
    expect(() => eventParamsSchema.parse({ ...p, payoutScheme: 'pplns' })).toThrow();
  });
});

describe('measuredRange and the parameter checks', () => {
  it('shifts the window by the lag; no lag is the window', () => {
    expect(measuredRange({ start: 300, end: 400 }, 6)).toEqual({ start: 306, end: 406 });
    expect(measuredRange({ start: 300, end: 400 }, 0)).toEqual({ start: 300, end: 400 });
    expect(measuredRange({ start: 300, end: 400 })).toEqual({ start: 300, end: 400 });
    expect(measuredRange({ start: 0, end: 1 }, MAX_PAYOUT_LAG_BLOCKS)).toEqual({ start: 4032, end: 4033 });
    expect(eventMeasuredRange({ ...BASE, payoutLagBlocks: 10 })).toEqual({ start: 310, end: 410 });
    expect(eventMeasuredRange(BASE)).toEqual({ start: 300, end: 400 });
  });

  const badLags: [string, number][] = [
    ['negative', -1],
    ['fractional', 1.5],
    ['above four weeks of blocks', MAX_PAYOUT_LAG_BLOCKS + 1],
    ['not a number', Number.NaN],
  ];
  it.each(badLags)('refuses a %s lag: payout-lag-invalid', (_what, lag) => {
    expectDlcError(() => measuredRange({ start: 300, end: 400 }, lag), 'INVALID_PARAMS', 'payout-lag-invalid');
    expectDlcError(() => checkPayoutParams({ kind: 'hashpower-delivery', payoutLagBlocks: lag }), 'INVALID_PARAMS', 'payout-lag-invalid');
  });

  it('refuses an empty window, an unknown scheme, and a scheme or lag on a hashprice event', () => {
    expectDlcError(() => measuredRange({ start: 300, end: 300 }, 6), 'INVALID_PARAMS', 'window-empty');
    expectDlcError(() => checkPayoutParams({ kind: 'pool-rewards', payoutScheme: 'pplns' as never }), 'INVALID_PARAMS', 'payout-scheme-invalid');
    expectDlcError(() => checkPayoutParams({ kind: 'hashprice', payoutScheme: 'periodic-payout' }), 'INVALID_PARAMS', 'payout-params-not-allowed');
    expectDlcError(() => checkPayoutParams({ kind: 'hashprice', payoutLagBlocks: 1 }), 'INVALID_PARAMS', 'payout-params-not-allowed');
    expect(() => checkPayoutParams({ kind: 'hashprice', payoutScheme: null, payoutLagBlocks: 0 })).not.toThrow();
    for (const scheme of PAYOUT_SCHEMES) expect(() => checkPayoutParams({ kind: 'hashpower-delivery', payoutScheme: scheme, payoutLagBlocks: 144 })).not.toThrow();
  });

  it('evidence must state the event’s own scheme and lag (payoutFieldsMismatch, for oracle verify)', () => {
    const p: EventParams = { ...BASE, payoutScheme: 'periodic-payout', payoutLagBlocks: 6 };
    expect(payoutFieldsMismatch({ payoutScheme: 'periodic-payout', payoutLagBlocks: 6 }, p)).toBeUndefined();
    expect(payoutFieldsMismatch({}, BASE)).toBeUndefined();
    expect(payoutFieldsMismatch({}, { ...BASE, payoutLagBlocks: 0, payoutScheme: null })).toBeUndefined();
    expect(payoutFieldsMismatch({ payoutScheme: 'periodic-payout', payoutLagBlocks: 7 }, p)).toContain('payout lag 7 differs from the event\'s 6');
    expect(payoutFieldsMismatch({ payoutScheme: 'periodic-payout' }, p)).toContain('payout lag 0');
    expect(payoutFieldsMismatch({ payoutScheme: 'per-block-payout', payoutLagBlocks: 6 }, p)).toContain('payout scheme per-block-payout');
    expect(payoutFieldsMismatch({ payoutLagBlocks: 6 }, BASE)).toContain('payout lag 6 differs');
  });

  it('luck-based schemes are the per-block ones', () => {
    expect(PAYOUT_SCHEMES.filter(isLuckBased)).toEqual(['per-block-coinbase', 'per-block-payout']);
  });
});

describe('recomputeOutcome with a payout lag', () => {
  const hex = (n: number): string => n.toString(16).padStart(64, '0');
  const block = (height: number): BlockEvidence => ({ height, hash: hex(height), bits: '207fffff', reward: 1_000_000n, coinbaseTxid: hex(100_000 + height) });
  const blocks = (from: number, to: number): BlockEvidence[] => Array.from({ length: to - from }, (_, i) => block(from + i));
  const D = 'bcrt1qD';
  const POOL = 'bcrt1qPool';
  const payout = (height: number, value: bigint, n: number): DeliveryEvidence['payouts'][number] => ({
    source: 'pool-payout', height, blockHash: hex(height), txid: hex(200_000 + n), vout: 0, value, address: D, fromAddress: POOL,
  });
  // Window [10, 14) paid 4 x 500,000 sats in one payout 3 blocks after it ends: lag 4 measures [14, 18).
  const lagged: DeliveryEvidence = {
    kind: 'hashpower-delivery',
    window: { start: 10, end: 14 },
    event: { nbDigits: 14, precision: 0 },
    simulatedDifficulty: '1e9',
    hashrateThs: 1n,
    deliveryAddress: D,
    poolPayoutAddresses: [POOL],
    blocks: blocks(10, 14),
    payouts: [payout(17, 2_000_000n, 1)],
    payoutScheme: 'periodic-payout',
    payoutLagBlocks: 4,
    payoutBlocks: blocks(14, 18),
  };

  it('counts payouts of the measured range against the window’s own blocks; the JSON round trips', () => {
    const r = recomputeOutcome(lagged);
    expect(r.poolRewards).toBe(2_000_000n);
    expect(r.networkReward).toBe(4_000_000n);
    const back = evidenceFromJson(JSON.parse(JSON.stringify(evidenceToJson(lagged))));
    expect(back).toEqual(lagged);
    expect(recomputeOutcome(back)).toEqual(r);
    // The same payouts without the lag are outside the window.
    const { payoutLagBlocks: _l, payoutBlocks: _b, ...unlagged } = lagged;
    expectDlcError(() => recomputeOutcome(unlagged), 'INVALID_PARAMS', 'evidence-payout-outside-window');
  });

  const broken: [string, Partial<DeliveryEvidence>, string][] = [
    ['a payout in the window but before the measured range', { payouts: [payout(13, 1n, 2)], payoutBlocks: blocks(14, 18) }, 'evidence-payout-outside-window'],
    ['a lag without the measured range’s blocks', { payoutBlocks: undefined }, 'evidence-payout-blocks-missing'],
    ['measured blocks without a lag', { payoutLagBlocks: undefined, payouts: [] }, 'evidence-payout-blocks-unexpected'],
    ['a measured range one block short', { payoutBlocks: blocks(14, 17), payouts: [] }, 'evidence-blocks-count'],
    ['a stated lag of 0', { payoutLagBlocks: 0, payouts: [] }, 'evidence-payout-lag'],
    ['a lag above the bound', { payoutLagBlocks: MAX_PAYOUT_LAG_BLOCKS + 1, payouts: [] }, 'evidence-payout-lag'],
    ['an unknown scheme', { payoutScheme: 'pplns' as never }, 'evidence-payout-scheme'],
  ];
  it.each(broken)('refuses %s', (_what, change, reason) => {
    expectDlcError(() => recomputeOutcome({ ...lagged, ...change }), 'INVALID_PARAMS', reason);
  });

  it('refuses a block listed differently in the window and in an overlapping measured range', () => {
    // Lag 2: the measured range [12, 16) overlaps the window [10, 14) at 12 and 13.
    const overlap: DeliveryEvidence = { ...lagged, payoutLagBlocks: 2, payoutBlocks: blocks(12, 16), payouts: [payout(15, 2_000_000n, 1)] };
    expect(recomputeOutcome(overlap).poolRewards).toBe(2_000_000n);
    const forged = blocks(12, 16);
    forged[1] = { ...forged[1]!, reward: 9_000_000n };
    expectDlcError(() => recomputeOutcome({ ...overlap, payoutBlocks: forged }), 'INVALID_PARAMS', 'evidence-payout-blocks-mismatch');
  });
});
