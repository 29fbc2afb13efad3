/**
 * Payout schemes on regtest (issue 16), the real oracle against the shared
 * node, as scenarios:
 * - an FPPS pool (the simulator's `periodic` mode, `poolPreset('fpps')`) pays
 *   every 4 blocks, one block after each period, for the shares of the
 *   period before; a miner delivering in full over 4 consecutive windows (the
 *   pool's periods, so every payout falls inside a window, not on its edge)
 *   measures at or above a 95% tolerance in every window with the payout lag,
 *   and 0 in the first window without it (that window holds the payout for
 *   the period before the miner started);
 * - a luck pool (TIDES in the coinbase, seeded) finds 2 of 8 blocks: the
 *   oracle attests exactly what those blocks paid, far under what the miner
 *   delivered (no smoothing); the same pool paying by a transaction from its
 *   payout address in each found block is attested as paid too;
 * - requests with a bad payout scheme or lag are refused with named errors.
 * Every block carries one transaction paying a fixed fee, so the rewards (and
 * the pools' payouts, above dust) do not depend on how far the shared chain's
 * subsidy has halved when this file runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRegtest } from '../../regtest/context.js';
import { buildP2wpkhSpend, mineBlocks, PoolSimulator, poolFindsBlocks, poolPreset, regtestSubsidy, TestKey, type Utxo } from '../../regtest/index.js';
import {
  countedRewards,
  CURRENT_REWARD_RULE,
  deliveryOutcome,
  difficultyFromDecimal,
  subsidyHalvingInterval,
  type BlockReward,
} from '../../protocol/hashpower/index.js';
import { verifyOracleEvent } from '../../src/participant/index.js';
import { attestationOf, OPERATOR_TOKEN, SIMDIFF_100THS_AT_HALF, startTestOracle, type TestOracle } from './oracle-fixture.js';

const { rpc, faucet } = useRegtest();
const SIM = difficultyFromDecimal(SIMDIFF_100THS_AT_HALF);
const HALVING = 150;
/** 1% of the network: 2 TH/s at the simulated difficulty where 50% is 100 TH/s. */
const SHARE_BPS = 100;
const HASHRATE_THS = '2';
const TOLERANCE_BPS = 9_500n;

let t: TestOracle;
let feeKey: TestKey;
let feeUtxo: Utxo;
beforeAll(async () => {
  t = await startTestOracle(rpc, { simulatedDifficulty: SIMDIFF_100THS_AT_HALF });
  ({ key: feeKey, utxo: feeUtxo } = await faucet.fundedKey(50_000_000n));
});
afterAll(async () => {
  await t?.close();
});

/** Puts one self-payment paying about 22,000 sats of fee in the mempool (chained: no wallet scan). */
async function queueFee(): Promise<void> {
  const tx = buildP2wpkhSpend([{ utxo: feeUtxo, key: feeKey }], [], { feeRateSatPerVb: 200n });
  await rpc.sendRawTransaction(tx.hex);
  feeUtxo = { ...feeUtxo, txid: tx.txid, vout: 0, valueSats: feeUtxo.valueSats - tx.feeSats, confirmations: 0 };
}

/** Mines `n` blocks with `sim`, each with a fee transaction. */
async function mineWithFees(sim: PoolSimulator, n: number): Promise<Awaited<ReturnType<PoolSimulator['mine']>>> {
  const out = [];
  for (let i = 0; i < n; i++) {
    await queueFee();
    out.push(...(await sim.mine(1)));
  }
  return out;
}

/** Mines until `n` blocks starting at the next height stay in one subsidy era; returns that next height. */
async function nextHeightInOneEra(n: number): Promise<number> {
  const tip = await rpc.getBlockCount();
  const era = (h: number): number => Math.floor(h / HALVING);
  if (era(tip + 1) === era(tip + n)) return tip + 1;
  await mineBlocks(rpc, HALVING - ((tip + 1) % HALVING));
  return (await rpc.getBlockCount()) + 1;
}

/** The rewards of [start, end) as the oracle's current rule counts them. */
async function countedOf(start: number, end: number): Promise<bigint[]> {
  const out: BlockReward[] = [];
  for (let h = start; h < end; h++) {
    const b = await rpc.getBlockWithTxs(await rpc.getBlockHash(h));
    out.push({ height: h, reward: b.tx[0]!.vout.reduce((s, o) => s + o.valueSats, 0n) });
  }
  return countedRewards(out, CURRENT_REWARD_RULE, subsidyHalvingInterval('regtest')).rewards;
}

function bpsOf(paid: bigint, rewards: bigint[]): bigint {
  return deliveryOutcome(paid, BigInt(HASHRATE_THS), rewards.map((reward) => ({ reward, difficulty: SIM })), { nbDigits: 14, precision: 0 }).outcome;
}

async function createDelivery(body: Record<string, unknown>): Promise<{ eventId: string; attestHeight: number; params: Record<string, unknown> }> {
  const r = await t.post({ kind: 'hashpower-delivery', hashrateThs: HASHRATE_THS, ...body }, { token: OPERATOR_TOKEN });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

describe('payout schemes on regtest', () => {
  it('an FPPS pool paying every 4 blocks: with the lag every window measures >= 95%, without it the first measures 0', async () => {
    const P = 4;
    const miner = TestKey.random();
    const poolKey = TestKey.random();
    const start = await nextHeightInOneEra(4 * P + 4);
    // Enough for 4 periods of 1% of the reward (subsidy + fee) per block, and the payouts' fees.
    await faucet.fund(poolKey.address, (4n * BigInt(P) * (regtestSubsidy(start) + 30_000n)) / 100n + 1_000_000n);
    const a = await nextHeightInOneEra(4 * P + 4);
    const fpps = poolPreset('fpps', { periodBlocks: P, payoutDelayBlocks: 1, periodAnchor: a });
    expect(fpps).toMatchObject({ payoutScheme: 'periodic-payout', payoutLagBlocks: 2, needsPoolKey: true });

    const windows = [0, 1, 2, 3].map((i) => ({ start: a + i * P, end: a + (i + 1) * P }));
    const common = { deliveryAddress: miner.address, poolPayoutAddresses: [poolKey.address] };
    const lagged: Awaited<ReturnType<typeof createDelivery>>[] = [];
    const plain: Awaited<ReturnType<typeof createDelivery>>[] = [];
    for (const window of windows) {
      lagged.push(await createDelivery({ window, ...common, payoutScheme: fpps.payoutScheme, payoutLagBlocks: fpps.payoutLagBlocks }));
      plain.push(await createDelivery({ window, ...common }));
    }
    // The announcement states the scheme and lag (in the signed id and the GET), and the attestation waits for the lag.
    expect(lagged[0]!.eventId).toContain('/payout=periodic-payout/lag=2/');
    expect(lagged[0]!.params).toMatchObject({ payoutScheme: 'periodic-payout', payoutLagBlocks: 2 });
    expect(plain[0]!.params).toMatchObject({ payoutScheme: null, payoutLagBlocks: 0 });
    expect(plain[0]!.eventId).not.toContain('payout=');
    expect(lagged[3]!.attestHeight).toBe(windows[3]!.end + 2 - 1 + 1);
    expect(plain[3]!.attestHeight).toBe(windows[3]!.end - 1 + 1);

    // The miner delivers over the 4 windows; the pool goes on for the last period's payout and one confirmation.
    const sim = new PoolSimulator(rpc, { ...fpps.simulator, shares: [{ address: miner.address, shareBps: SHARE_BPS }], poolKey });
    const blocks = await mineWithFees(sim, 4 * P + fpps.payoutLagBlocks + 1);
    const payouts = blocks.filter((b) => b.paid.length > 0);
    // No payout at a + 1 (nothing owed from before the miner started); then one a block into each next period.
    expect(payouts.map((b) => b.height)).toEqual([a + P + 1, a + 2 * P + 1, a + 3 * P + 1, a + 4 * P + 1]);
    expect(payouts.every((b) => b.paid[0]!.source === 'pool-payout')).toBe(true);

    const withLag: bigint[] = [];
    const without: bigint[] = [];
    for (let i = 0; i < 4; i++) {
      const rewards = await countedOf(windows[i]!.start, windows[i]!.end);
      const att = await attestationOf(t, lagged[i]!.eventId);
      // The lagged window counts the payout for its own period: exactly the period's accrual.
      expect(BigInt(att.result.poolRewards)).toBe(payouts[i]!.paid[0]!.valueSats);
      expect(att.evidence).toMatchObject({ payoutScheme: 'periodic-payout', payoutLagBlocks: 2 });
      expect(att.evidence.payoutBlocks.map((b: { height: number }) => b.height)).toEqual([0, 1, 2, 3].map((k) => windows[i]!.start + 2 + k));
      expect(BigInt(att.outcome)).toBe(bpsOf(payouts[i]!.paid[0]!.valueSats, rewards));
      withLag.push(BigInt(att.outcome));
      without.push(BigInt((await attestationOf(t, plain[i]!.eventId)).outcome));
    }
    for (const bps of withLag) expect(bps).toBeGreaterThanOrEqual(TOLERANCE_BPS);
    // The progress of a lagged window reads the payouts as its attestation did.
    const progress = (await t.get(`/v1/events/${encodeURIComponent(lagged[3]!.eventId)}/progress`)).body;
    expect(progress).toMatchObject({ atHeight: windows[3]!.end - 1, blocks: P, rewardsSats: payouts[3]!.paid[0]!.valueSats.toString(), ratioBps: Number(withLag[3]) });
    // Without the lag the first window holds no payout of the miner's (only one for the period before).
    expect(without[0]).toBe(0n);

    // hashdlc oracle verify on a lagged event: the payouts are checked in the measured range's blocks.
    const verify = (f?: typeof fetch): ReturnType<typeof verifyOracleEvent> =>
      verifyOracleEvent({ oracleUrl: t.oracle.url, eventId: lagged[1]!.eventId, rpc, ...(f === undefined ? {} : { fetch: f }) });
    const good = await verify();
    expect(good.checks.filter((c) => !c.ok)).toEqual([]);
    expect(good.outcome).toBe(withLag[1]!.toString());
    // Evidence doctored by whoever serves it: another lag (or none, read over the window's own blocks) is refused by name.
    const doctored = (edit: (e: Record<string, unknown>) => void): typeof fetch => async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).endsWith('/attestation')) return res;
      const body = (await res.json()) as { evidence: Record<string, unknown> };
      edit(body.evidence);
      return new Response(JSON.stringify(body), { status: 200 });
    };
    const otherLag = await verify(doctored((e) => { e.payoutLagBlocks = 1; }));
    expect(otherLag.ok).toBe(false);
    expect(otherLag.checks.find((c) => c.name === 'outcome recomputed from evidence')?.detail).toMatch(/evidence payout lag 1 differs from the event's 2/);
    const noScheme = await verify(doctored((e) => { delete e.payoutScheme; delete e.payoutLagBlocks; delete e.payoutBlocks; }));
    expect(noScheme.checks.find((c) => c.name === 'outcome recomputed from evidence')?.detail).toMatch(/evidence payout scheme none differs from the event's periodic-payout/);
    // The lagged payout left out of the evidence is found on the node, in a block past the window.
    const dropped = await verify(doctored((e) => { e.payouts = []; }));
    expect(dropped.checks.find((c) => c.name === 'evidence against the node')?.detail).toContain(`sats to D in block ${payouts[1]!.height}) is missing from the evidence`);
  });

  it('a luck pool that finds 2 of 8 blocks: the oracle attests exactly what they paid, no smoothing', async () => {
    const miner = TestKey.random();
    const tides = poolPreset('tides', { poolShareBps: 4_000, seed: 5 });
    expect(tides).toMatchObject({ payoutScheme: 'per-block-coinbase', payoutLagBlocks: 0, needsPoolKey: false });
    const found = poolFindsBlocks(5, 4_000, 8);
    expect(found.filter(Boolean)).toHaveLength(2);

    const start = await nextHeightInOneEra(10);
    const window = { start, end: start + 8 };
    const ev = await createDelivery({ window, deliveryAddress: miner.address, payoutScheme: 'per-block-coinbase' });
    expect(ev.eventId).toContain('/payout=per-block-coinbase/');
    expect(ev.eventId).not.toContain('/lag=');

    const sim = new PoolSimulator(rpc, { ...tides.simulator, shares: [{ address: miner.address, shareBps: SHARE_BPS }] });
    const blocks = await mineWithFees(sim, 8);
    expect(blocks.map((b) => b.poolFound)).toEqual(found);
    // Each found block pays the miner its share of the pool (1% of 40%) of that block's reward, in the coinbase.
    for (const b of blocks) {
      expect(b.paid.map((p) => p.valueSats)).toEqual(b.poolFound ? [(b.rewardSats * 100n) / 4_000n] : []);
    }
    const paid = sim.paidTo(miner.address);
    await mineBlocks(rpc, 1);

    const att = await attestationOf(t, ev.eventId);
    expect(BigInt(att.result.poolRewards)).toBe(paid);
    const rewards = await countedOf(window.start, window.end);
    expect(BigInt(att.outcome)).toBe(bpsOf(paid, rewards));
    // 2 found blocks at 2.5% of their reward against 1% of 8 blocks: about 62.5%, not the 100% delivered.
    expect(BigInt(att.outcome)).toBeLessThan(6_300n);
    expect(BigInt(att.outcome)).toBeGreaterThan(6_000n);
  });

  it('a luck pool paying each found block by a transaction from its payout address: attested as paid', async () => {
    const miner = TestKey.random();
    const poolKey = TestKey.random();
    // Enough for every block found: a quarter of its reward (subsidy + fee) each, and the fees.
    const subsidy = regtestSubsidy((await rpc.getBlockCount()) + 1);
    await faucet.fund(poolKey.address, (8n * (subsidy + 30_000n)) / 4n + 1_000_000n);
    const start = await nextHeightInOneEra(10);
    const window = { start, end: start + 8 };
    const ev = await createDelivery({ window, deliveryAddress: miner.address, poolPayoutAddresses: [poolKey.address], payoutScheme: 'per-block-payout' });
    // Ten times the share of the pool, so each payout is above dust however small the subsidy.
    const sim = new PoolSimulator(rpc, { mode: 'luck', poolShareBps: 4_000, seed: 5, luckPayout: 'payout-tx', poolKey, shares: [{ address: miner.address, shareBps: 1_000 }] });
    const blocks = await mineWithFees(sim, 8);
    expect(blocks.map((b) => b.poolFound)).toEqual(poolFindsBlocks(5, 4_000, 8));
    // The payout transaction is in the found block itself.
    for (const b of blocks) expect(b.paid.map((p) => p.source)).toEqual(b.poolFound ? ['pool-payout'] : []);
    await mineBlocks(rpc, 1);
    const att = await attestationOf(t, ev.eventId);
    expect(BigInt(att.result.poolRewards)).toBe(sim.paidTo(miner.address));
    expect(att.evidence.payouts.map((p: { height: number }) => p.height)).toEqual(blocks.filter((b) => b.poolFound).map((b) => b.height));
  });

  it('refuses a lag on a hashprice event, a lag above four weeks and an unknown scheme, by name', async () => {
    const tip = await rpc.getBlockCount();
    const window = { start: tip + 10, end: tip + 14 };
    const miner = TestKey.random();
    const hashprice = await t.post({ kind: 'hashprice', window, payoutLagBlocks: 3 }, { token: OPERATOR_TOKEN });
    expect([hashprice.status, hashprice.body.error.reason]).toEqual([400, 'payout-params-not-allowed']);
    const long = await t.post({ kind: 'hashpower-delivery', window, deliveryAddress: miner.address, hashrateThs: '2', payoutLagBlocks: 4_033 });
    expect([long.status, long.body.error.reason]).toEqual([400, 'payout-lag-too-long']);
    const scheme = await t.post({ kind: 'hashpower-delivery', window, deliveryAddress: miner.address, hashrateThs: '2', payoutScheme: 'pplns' });
    expect([scheme.status, scheme.body.error.code]).toEqual([400, 'INVALID_REQUEST']);
    // Nothing was announced for these windows.
    expect((await t.get(`/v1/events?address=${miner.address}`)).body.events).toEqual([]);
  });
});
