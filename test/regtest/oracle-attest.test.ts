/**
 * The oracle on a real regtest node, as scenarios: a pool pays a miner in the
 * coinbase and from its payout wallet, and the oracle attests the rewards to
 * the sat; a 60% delivery attests 6000 bps; a reorg inside the window before
 * attestation changes the index and the outcome; the served messages decode
 * with `hashdlc msg decode`, verify with protocol/, and `hashdlc oracle
 * verify` recomputes them from the node (and rejects doctored evidence).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { useRegtest } from '../../regtest/context.js';
import { disconnectBlock, mineAsPool, mineBlocks, payFromPoolWallet, reorgOut, sendFromKey, strangerAddress, TestKey } from '../../regtest/index.js';
import type { BitcoinRpc } from '../../src/chain/index.js';
import {
  countedRewards,
  CURRENT_REWARD_RULE,
  deliveryOutcome,
  difficultyFromDecimal,
  hashpriceOutcome,
  subsidyHalvingInterval,
  type BlockReward,
} from '../../protocol/hashpower/index.js';
import {
  decodeMessage,
  fromHex,
  verifyAnnouncement,
  verifyAttestation,
  type OracleAnnouncement,
  type OracleAttestation,
} from '../../protocol/messages/index.js';
import { verifyOracleEvent } from '../../src/participant/index.js';
import { attestationOf, eventPath, OPERATOR_TOKEN, SIMDIFF_100THS_AT_HALF, startTestOracle, type TestOracle } from './oracle-fixture.js';

const run = promisify(execFile);
const { rpc, faucet } = useRegtest();
const SIM = difficultyFromDecimal(SIMDIFF_100THS_AT_HALF);
const HALVING = 150;

let t: TestOracle;
beforeAll(async () => {
  // Windows start at the node's next block, mined right after the request: no margin
  // above the indexed tip (a window that has started is still refused).
  t = await startTestOracle(rpc, { simulatedDifficulty: SIMDIFF_100THS_AT_HALF, limits: { startMarginBlocks: 0 } });
});
afterAll(async () => {
  await t?.close();
});

/** Mines until a window of `n` blocks starting at the next height stays within one subsidy era. */
async function windowInOneEra(n: number): Promise<{ start: number; end: number }> {
  let tip = await rpc.getBlockCount();
  const era = (h: number): number => Math.floor(h / HALVING);
  if (era(tip + 1) !== era(tip + n)) {
    await mineBlocks(rpc, HALVING - ((tip + 1) % HALVING));
    tip = await rpc.getBlockCount();
  }
  return { start: tip + 1, end: tip + 1 + n };
}

/**
 * Rewards of heights [start, end) read from the node, as the oracle's new
 * events count them (reward rule subsidy+fees-capped-4x-median-v1).
 */
async function rewards(node: BitcoinRpc, start: number, end: number): Promise<bigint[]> {
  const out: BlockReward[] = [];
  for (let h = start; h < end; h++) {
    const b = await node.getBlockWithTxs(await node.getBlockHash(h));
    out.push({ height: h, reward: b.tx[0]!.vout.reduce((s, o) => s + o.valueSats, 0n) });
  }
  return countedRewards(out, CURRENT_REWARD_RULE, subsidyHalvingInterval('regtest')).rewards;
}

function expectedBps(paid: bigint, rewardsOfWindow: bigint[]): bigint {
  return deliveryOutcome(paid, 100n, rewardsOfWindow.map((reward) => ({ reward, difficulty: SIM })), { nbDigits: 14, precision: 0 }).outcome;
}

function decodeAnnouncement(hex: string): OracleAnnouncement {
  const m = decodeMessage(fromHex(hex));
  if (m.type !== 'oracle_announcement') throw new Error(m.type);
  return m.message;
}
function decodeAttestation(hex: string): OracleAttestation {
  const m = decodeMessage(fromHex(hex));
  if (m.type !== 'oracle_attestation') throw new Error(m.type);
  return m.message;
}

function deliveryRequest(window: { start: number; end: number }, address: string, pools: string[] = []): Record<string, unknown> {
  return { kind: 'hashpower-delivery', window, deliveryAddress: address, poolPayoutAddresses: pools, hashrateThs: '100' };
}

describe('oracle attestation on regtest', () => {
  it('attests coinbase and pool-wallet payouts to the sat; messages decode, verify and recompute from the node', async () => {
    const miner = TestKey.random();
    const pool = TestKey.random();
    const outsider = TestKey.random();
    await faucet.fund(pool.address, 5_000_000n);
    await faucet.fund(outsider.address, 2_000_000n);
    const window = await windowInOneEra(6);

    const rewardsEvent = await t.post(
      { kind: 'pool-rewards', window, deliveryAddress: miner.address, poolPayoutAddresses: [pool.address] },
      { token: OPERATOR_TOKEN },
    );
    expect(rewardsEvent.status).toBe(201);
    const delivery = await t.post(deliveryRequest(window, miner.address, [pool.address]));
    expect(delivery.status).toBe(201);
    expect(delivery.body.eventId).toContain(`/simdiff=${SIMDIFF_100THS_AT_HALF}/`);

    // Window: 3 pool blocks paying the miner 30% in the coinbase, then a block
    // with the pool wallet's payout (counted) and an outsider's payment (not counted).
    const shares = [{ address: miner.address, shareBps: 3000 }];
    const first = await mineAsPool(rpc, { blocks: 3, shares, restAddress: strangerAddress() });
    const poolPay = await payFromPoolWallet(rpc, pool, [{ address: miner.address, valueSats: 1_234_567n }], { confirm: false });
    const outsiderPay = await sendFromKey(rpc, outsider, [{ address: miner.address, valueSats: 777_777n }]);
    const fourth = await mineAsPool(rpc, { blocks: 1, shares, restAddress: strangerAddress() });
    await mineBlocks(rpc, 2);
    expect(await rpc.getBlockCount()).toBe(window.end - 1);

    const coinbasePaid = [...first, ...fourth].flatMap((b) => b.payouts.filter((p) => p.address === miner.address));
    const R = coinbasePaid.reduce((s, p) => s + p.valueSats, 0n) + 1_234_567n;

    // Not yet: the window's last block needs its confirmation.
    await t.oracle.tick();
    expect((await t.get(eventPath(rewardsEvent.body.eventId, true))).body.error.code).toBe('NOT_ATTESTED');
    await mineBlocks(rpc, 1);

    const att = await attestationOf(t, rewardsEvent.body.eventId);
    expect(att.outcome).toBe(R.toString());
    expect(att.result.poolRewards).toBe(R.toString());
    expect(att.evidence.payouts).toHaveLength(5);
    const poolPayout = att.evidence.payouts.find((p: { source: string }) => p.source === 'pool-payout');
    expect(poolPayout).toMatchObject({ txid: poolPay.txid, value: '1234567', fromAddress: pool.address, height: window.start + 3 });
    expect(att.evidence.payouts.some((p: { txid: string }) => p.txid === outsiderPay.txid)).toBe(false);

    const deliveryAtt = await attestationOf(t, delivery.body.eventId);
    const bps = expectedBps(R, await rewards(rpc, window.start, window.end));
    expect(deliveryAtt.outcome).toBe(bps.toString());
    expect(deliveryAtt.outcomes.join('')).toBe(bps.toString(2).padStart(14, '0'));

    // protocol/ verifies what is served.
    const info = (await t.get('/v1/info')).body;
    const event = (await t.get(eventPath(delivery.body.eventId))).body;
    expect(event.state).toBe('attested');
    const ann = decodeAnnouncement(event.announcement.hex);
    verifyAnnouncement(ann, info.hashProfile);
    verifyAttestation(decodeAttestation(deliveryAtt.hex), ann, info.hashProfile);
    expect(ann.oracleEvent.eventDescriptor).toEqual({
      digitDecompositionEvent: { base: 2, isSigned: false, unit: 'bps', precision: 0, nbDigits: 14 },
    });

    // hashdlc msg decode reads both messages.
    const cli = ['--import', 'tsx', 'bin/hashdlc.js'];
    const decodedAnn = JSON.parse((await run(process.execPath, [...cli, 'msg', 'decode', event.announcement.hex])).stdout);
    expect(decodedAnn.type).toBe('oracle_announcement');
    expect(decodedAnn.message.oracleEvent.eventId).toBe(delivery.body.eventId);
    const decodedAtt = JSON.parse((await run(process.execPath, [...cli, 'msg', 'decode', deliveryAtt.hex])).stdout);
    expect(decodedAtt.message.outcomes).toEqual(deliveryAtt.outcomes);

    // hashdlc oracle verify recomputes it from the node.
    const node = inject('regtest').rpc;
    const verified = await run(process.execPath, [...cli, 'oracle', 'verify', t.oracle.url, delivery.body.eventId], {
      env: { ...process.env, BITCOIN_RPC_URL: node.url, BITCOIN_RPC_USER: node.username, BITCOIN_RPC_PASSWORD: node.password },
    });
    expect(verified.stdout).toContain(`HOLDS: outcome ${bps}`);
    const report = await verifyOracleEvent({ oracleUrl: t.oracle.url, eventId: rewardsEvent.body.eventId, rpc });
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);

    // Doctored evidence (a payout left out) does not hold.
    const dropPayout: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).endsWith('/attestation')) return res;
      const body = (await res.json()) as { evidence: { payouts: unknown[] } };
      body.evidence.payouts = body.evidence.payouts.slice(1);
      return new Response(JSON.stringify(body), { status: 200 });
    };
    const bad = await verifyOracleEvent({ oracleUrl: t.oracle.url, eventId: rewardsEvent.body.eventId, rpc, fetch: dropPayout });
    expect(bad.ok).toBe(false);
    expect(bad.checks.find((c) => c.name === 'outcome recomputed from evidence')?.ok).toBe(false);
    expect(bad.checks.find((c) => c.name === 'evidence against the node')?.detail).toMatch(/missing from the evidence/);
  });

  it('a delivery in 60% of the blocks attests 6000 bps', async () => {
    const miner = TestKey.random();
    const window = await windowInOneEra(10);
    const created = await t.post(deliveryRequest(window, miner.address));
    expect(created.status).toBe(201);
    const half = [{ address: miner.address, shareBps: 5000 }];
    const paid: bigint[] = [];
    for (const delivered of [true, true, false, true, true, false, true, false, true, false]) {
      if (!delivered) {
        await mineBlocks(rpc, 1);
        continue;
      }
      const [b] = await mineAsPool(rpc, { blocks: 1, shares: half, restAddress: strangerAddress() });
      paid.push(b!.payouts.find((p) => p.address === miner.address)!.valueSats);
    }
    await mineBlocks(rpc, 1);
    const att = await attestationOf(t, created.body.eventId);
    const R = paid.reduce((s, v) => s + v, 0n);
    const bps = expectedBps(R, await rewards(rpc, window.start, window.end));
    expect(bps).toBe(6000n);
    expect(att.outcome).toBe('6000');
    expect(att.result.poolRewards).toBe(R.toString());
  });

  it('a reorg inside the window before attestation changes the index and the outcome', async () => {
    const miner = TestKey.random();
    const window = await windowInOneEra(10);
    const created = await t.post(deliveryRequest(window, miner.address));
    const blocks = await mineAsPool(rpc, { blocks: 10, shares: [{ address: miner.address, shareBps: 5000 }], restAddress: strangerAddress() });
    await t.oracle.tick();
    const before = (await t.get('/v1/info')).body.tip;
    expect(before).toEqual({ height: window.end - 1, hash: blocks[9]!.hash });

    // Blocks 5..9 of the window are replaced by a longer branch paying someone else.
    const { orphaned, branch } = await reorgOut(rpc, blocks[5]!.hash);
    expect(orphaned).toHaveLength(5);
    expect(branch).toHaveLength(6);
    const att = await attestationOf(t, created.body.eventId);
    const hashes = att.evidence.blocks.map((b: { hash: string }) => b.hash);
    expect(hashes.slice(0, 5)).toEqual(blocks.slice(0, 5).map((b) => b.hash));
    expect(hashes.slice(5)).toEqual(branch.slice(0, 5));
    expect(att.evidence.payouts).toHaveLength(5);
    expect(att.outcome).toBe('5000');
    expect((await t.get('/v1/info')).body.tip.hash).toBe(branch[5]);
    const report = await verifyOracleEvent({ oracleUrl: t.oracle.url, eventId: created.body.eventId, rpc });
    expect(report.ok).toBe(true);

    // invalidateblock(branch[5]) leaves two equal-work chains ending at window.end - 1: the
    // branch and the original blocks. Which one the node activates is the node's rule (Core:
    // the one received first, the original; see node-compat.test.ts): ask it, and the index
    // follows it, then forward again.
    const reconsider = await disconnectBlock(rpc, branch[5]!);
    const chosen = await rpc.getBestBlockHash();
    expect([branch[4], blocks[9]!.hash]).toContain(chosen);
    expect((await rpc.getChainTips()).find((tip) => tip.status === 'active')?.hash).toBe(chosen);
    await t.oracle.tick();
    expect((await t.get('/v1/info')).body.tip).toEqual({ height: window.end - 1, hash: chosen });
    await reconsider();
    expect(await rpc.getBestBlockHash()).toBe(branch[5]);
    await t.oracle.tick();
    expect((await t.get('/v1/info')).body.tip.hash).toBe(branch[5]);
    // The attestation, once made, does not change.
    expect((await t.get(eventPath(created.body.eventId, true))).body.hex).toBe(att.hex);
  });
  it('enum and hashprice events; scheduled hashprice events are announced and attested', async () => {
    const miner = TestKey.random();
    const window = await windowInOneEra(6);
    const enumEvent = await t.post({ ...deliveryRequest(window, miner.address), thresholds: ['5000', '9500'] });
    expect(enumEvent.status).toBe(201);
    expect(enumEvent.body.params.descriptor.outcomes).toEqual(['<5000', '5000..9499', '>=9500']);
    const hashprice = await t.post({ kind: 'hashprice', window, nbDigits: 64 }, { token: OPERATOR_TOKEN });
    const cappedHashprice = await t.post({ kind: 'hashprice', window }, { token: OPERATOR_TOKEN });
    expect(hashprice.body.eventId).not.toBe(cappedHashprice.body.eventId);

    const schedule = await startTestOracle(rpc, { schedule: { hashpriceEveryBlocks: 4 } });
    try {
      const scheduled = (await schedule.get('/v1/events?kind=hashprice')).body.events;
      expect(scheduled).toHaveLength(1);
      const tip = (await schedule.get('/v1/info')).body.tip.height;
      const k = Math.floor(tip / 4) + 1;
      expect(scheduled[0].params.window).toEqual({ start: 4 * k, end: 4 * k + 4 });

      // Five of six blocks pay the miner half the coinbase: 8333 bps.
      for (let i = 0; i < 6; i++) {
        if (i === 2) await mineBlocks(rpc, 1);
        else await mineAsPool(rpc, { blocks: 1, shares: [{ address: miner.address, shareBps: 5000 }], restAddress: strangerAddress() });
      }
      await mineBlocks(rpc, Math.max(1, 4 * k + 4 - (await rpc.getBlockCount())));
      const enumAtt = await attestationOf(t, enumEvent.body.eventId);
      expect(enumAtt.outcome).toBe('5000..9499');
      expect(enumAtt.outcomes).toEqual(['5000..9499']);
      expect(enumAtt.result.outcome).toBe('8333');
      expect((await verifyOracleEvent({ oracleUrl: t.oracle.url, eventId: enumEvent.body.eventId, rpc })).ok).toBe(true);

      const blocks = (await rewards(rpc, window.start, window.end)).map((reward) => ({ reward, difficulty: SIM }));
      const exact = hashpriceOutcome(blocks, { nbDigits: 64, precision: 0 });
      expect((await attestationOf(t, hashprice.body.eventId)).outcome).toBe(exact.outcome.toString());
      const capped = await attestationOf(t, cappedHashprice.body.eventId);
      expect(capped.result.capped).toBe(exact.outcome > 1_048_575n);
      expect(capped.outcome).toBe((exact.outcome > 1_048_575n ? 1_048_575n : exact.outcome).toString());

      const scheduledAtt = await attestationOf(schedule, scheduled[0].eventId);
      expect(scheduledAtt.evidence.blocks).toHaveLength(4);
      expect((await verifyOracleEvent({ oracleUrl: schedule.oracle.url, eventId: scheduled[0].eventId, rpc })).ok).toBe(true);
    } finally {
      await schedule.close();
    }
  });
  it('an event for a past window rescans the indexed blocks for payouts to its new address', async () => {
    const miner = TestKey.random();
    const pool = TestKey.random();
    await faucet.fund(pool.address, 3_000_000n);
    const window = await windowInOneEra(3);
    const [cb] = await mineAsPool(rpc, { blocks: 1, shares: [{ address: miner.address, shareBps: 2500 }], restAddress: strangerAddress() });
    const pay = await payFromPoolWallet(rpc, pool, [{ address: miner.address, valueSats: 424_242n }]);
    await mineBlocks(rpc, 2);
    await t.oracle.tick();
    expect((await t.get('/v1/info')).body.tip.height).toBe(window.end);

    const created = await t.post(
      { kind: 'pool-rewards', window, deliveryAddress: miner.address, poolPayoutAddresses: [pool.address] },
      { token: OPERATOR_TOKEN },
    );
    expect(created.status).toBe(201);
    const att = await attestationOf(t, created.body.eventId);
    const coinbasePaid = cb!.payouts.find((p) => p.address === miner.address)!.valueSats;
    expect(att.outcome).toBe((coinbasePaid + 424_242n).toString());
    expect(att.evidence.payouts.map((p: { txid: string }) => p.txid)).toEqual([cb!.coinbaseTxid, pay.txid]);
  });
});
