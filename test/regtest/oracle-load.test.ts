/**
 * Issue 9, holes 3 and 4, attacked on a real regtest node through the
 * oracle's HTTP API (in-process service, real HTTP on 127.0.0.1):
 * - a public request for a window that has started (or an event already
 *   attested) is refused with 400 INVALID_PARAMS `window-started`, and leaves
 *   nothing behind (no event, no watched address); the operator may still
 *   create past events;
 * - a flood of public requests (stale windows refused at once, fresh ones
 *   queued) does not delay an attestation: the attest pass runs after at most
 *   the one request step already running, and attests at the attest height;
 * - an operator's past event reads only its window's blocks (not up to the
 *   tip), in chunks, and the attest pass runs between the chunks.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { useRegtest } from '../../regtest/context.js';
import { mineAsPool, mineBlocks, payFromPoolWallet, strangerAddress, TestKey } from '../../regtest/index.js';
import { attestationOf, eventPath, OPERATOR_TOKEN, startTestOracle, type TestOracle } from './oracle-fixture.js';

const { rpc, faucet } = useRegtest();
const open: TestOracle[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});
afterAll(async () => {
  for (const t of open.splice(0)) await t.close();
});

function delivery(window: { start: number; end: number }, address: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { kind: 'hashpower-delivery', window, deliveryAddress: address, hashrateThs: '100', ...over };
}

async function tipOf(t: TestOracle): Promise<number> {
  return (await t.get('/v1/info')).body.tip.height as number;
}

describe('oracle: no public event over a window that has started (hole 3)', () => {
  it('refuses started windows and attested events with window-started, leaving nothing; the operator may create past events', async () => {
    const t = await startTestOracle(rpc, {}, (await rpc.getBlockCount()) - 20);
    open.push(t);
    const info = (await t.get('/v1/info')).body;
    expect(info.limits.startMarginBlocks).toBe(1);
    const tip = await tipOf(t);
    const D = TestKey.random().address;
    const watchedBefore = t.oracle.load().watchedAddresses;

    // An event the operator creates and the oracle attests: its window is over.
    const past = await t.post(delivery({ start: tip - 10, end: tip - 5 }, D), { token: OPERATOR_TOKEN });
    expect(past.status).toBe(201);
    const attested = await attestationOf(t, past.body.eventId);
    expect(attested.attestedAtHeight).toBeGreaterThanOrEqual(past.body.attestHeight);

    const E = TestKey.random().address;
    const refused: [string, { start: number; end: number }, string][] = [
      ['the attested event itself', { start: tip - 10, end: tip - 5 }, D],
      ['a past window, new address', { start: tip - 10, end: tip - 5 }, E],
      ['a window whose first block is the tip', { start: tip, end: tip + 5 }, E],
      ['a window starting within the margin (the next block)', { start: tip + 1, end: tip + 5 }, E],
    ];
    for (const [name, window, address] of refused) {
      const r = await t.post(delivery(window, address));
      expect([name, r.status, r.body.error.code, r.body.error.reason]).toEqual([name, 400, 'INVALID_PARAMS', 'window-started']);
    }
    // Nothing of the refused requests was stored or watched.
    expect((await t.get(`/v1/events?address=${E}`)).body.events).toEqual([]);
    expect(t.oracle.load().watchedAddresses).toBe(watchedBefore + 1);

    // Above the margin: accepted. The operator may still create a started window.
    const next = await t.post(delivery({ start: tip + 2, end: tip + 5 }, E));
    expect(next.status).toBe(201);
    const operator = await t.post(delivery({ start: tip, end: tip + 5 }, E), { token: OPERATOR_TOKEN });
    expect(operator.status).toBe(201);
    expect(operator.body.attested).toBeNull();
  });
});

describe('oracle: requests never delay attestations (hole 4)', () => {
  it('100 public requests (and 50 stale ones) in flight: the due event is attested at its attest height after at most one request step', async () => {
    const t = await startTestOracle(rpc, {
      // No background poll: the test runs each pass (tick) itself, at a known moment.
      pollIntervalMs: 60_000,
      limits: { requestsPerMinute: 10_000, maxPendingPerClient: 1_000 },
    }, (await rpc.getBlockCount()) - 30);
    open.push(t);
    const tip = await tipOf(t);
    const miner = TestKey.random();
    const due = await t.post(delivery({ start: tip + 2, end: tip + 4 }, miner.address));
    expect(due.status).toBe(201);
    // Mine up to the block before the attest height; the oracle indexes it.
    await mineAsPool(rpc, { blocks: due.body.attestHeight - 1 - tip, shares: [{ address: miner.address, shareBps: 5000 }], restAddress: strangerAddress() });
    await t.oracle.tick();
    expect(await tipOf(t)).toBe(due.body.attestHeight - 1);

    // The flood: stale windows (each a rescan to the tip before the fix) and fresh ones (64 digits: the heaviest announcement).
    const statuses: number[] = [];
    const send = (body: Record<string, unknown>): Promise<void> =>
      t.post(body).then(
        (r) => void statuses.push(r.status),
        () => void statuses.push(-1),
      );
    const flood: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) flood.push(send(delivery({ start: tip - 25, end: tip - 5 }, TestKey.random().address)));
    for (let i = 0; i < 100; i++) flood.push(send(delivery({ start: tip + 100 + i, end: tip + 110 + i }, TestKey.random().address, { nbDigits: 64 })));
    // Wait until requests are queued behind the one running.
    await t.until(async () => (t.oracle.load().requestsWaiting >= 20 ? true : undefined), 20_000);

    // The block that reaches the attest height arrives; the poll runs now.
    await mineBlocks(rpc, 1);
    const atPoll = t.oracle.load();
    await t.oracle.tick();
    const afterPoll = t.oracle.load();
    // The attestation is served while the flood is still queued.
    const att = await t.get(eventPath(due.body.eventId, true));
    expect(att.status).toBe(200);
    expect(att.body.attestedAtHeight).toBe(due.body.attestHeight);
    // At most the one request step that was running finished before the pass: the attest
    // path never waited behind the queue (a FIFO queue would have drained it first).
    // (Stale requests are refused without the lock, so they are not counted here.)
    expect(afterPoll.requestsDone - atPoll.requestsDone).toBeLessThanOrEqual(1);
    expect(afterPoll.requestsWaiting).toBeGreaterThanOrEqual(atPoll.requestsWaiting - 1);
    expect(afterPoll.requestsWaiting).toBeGreaterThan(0);

    await Promise.all(flood);
    const count = (s: number): number => statuses.filter((x) => x === s).length;
    expect([count(400), count(201)]).toEqual([50, 100]);
  });

  it('watched addresses are bounded: a public request for one more new address is refused with 503 CAPACITY', async () => {
    const t = await startTestOracle(rpc, { limits: { maxWatchedAddresses: 2 } });
    open.push(t);
    const tip = await tipOf(t);
    const [a, b, c] = [TestKey.random().address, TestKey.random().address, TestKey.random().address];
    expect((await t.post(delivery({ start: tip + 5, end: tip + 10 }, a))).status).toBe(201);
    expect((await t.post(delivery({ start: tip + 5, end: tip + 10 }, b))).status).toBe(201);
    const full = await t.post(delivery({ start: tip + 5, end: tip + 10 }, c));
    expect([full.status, full.body.error.code, full.body.error.reason]).toEqual([503, 'CAPACITY', 'watched-addresses']);
    expect((await t.get(`/v1/events?address=${c}`)).body.events).toEqual([]);
    // An address already watched costs nothing more; the operator is not bounded.
    expect((await t.post(delivery({ start: tip + 20, end: tip + 30 }, a))).status).toBe(201);
    expect((await t.post(delivery({ start: tip + 5, end: tip + 10 }, c), { token: OPERATOR_TOKEN })).status).toBe(201);
    expect(t.oracle.load().watchedAddresses).toBe(3);
  });

  it("an operator's past event reads only its window, in chunks, and the attest pass runs between them", async () => {
    const miner = TestKey.random();
    const pool = TestKey.random();
    await faucet.fund(pool.address, 3_000_000n);
    await mineBlocks(rpc, 2);
    const start = (await rpc.getBlockCount()) + 1;
    // The window: 20 blocks, a pool payout to the miner in its 5th; another after the window.
    await mineBlocks(rpc, 4);
    const inside = await payFromPoolWallet(rpc, pool, [{ address: miner.address, valueSats: 111_111n }]);
    await mineBlocks(rpc, start + 20 - (await rpc.getBlockCount()) - 1);
    const end = (await rpc.getBlockCount()) + 1;
    expect(end).toBe(start + 20);
    await payFromPoolWallet(rpc, pool, [{ address: miner.address, valueSats: 222_222n }]);
    await mineBlocks(rpc, 15);

    const lines: string[] = [];
    let polled: Promise<unknown> | undefined;
    let t: TestOracle | undefined;
    const log = (line: string): void => {
      if (!line.startsWith('rescanned')) return;
      lines.push(line);
      // After the first chunk: a poll is due (say a block arrived).
      if (polled === undefined && t !== undefined) polled = t.oracle.tick().then(() => lines.push('poll done'));
    };
    t = await startTestOracle(rpc, { pollIntervalMs: 60_000, index: { rpcBatch: 5, concurrency: 3, batchBlocks: 500 } }, start - 5, log);
    open.push(t);
    const tip = await tipOf(t);
    expect(tip).toBeGreaterThan(end + 10);

    const created = await t.post(
      { kind: 'pool-rewards', window: { start, end }, deliveryAddress: miner.address, poolPayoutAddresses: [pool.address] },
      { token: OPERATOR_TOKEN },
    );
    expect(created.status).toBe(201);
    await polled;
    const chunks = lines.filter((l) => l.startsWith('rescanned'));
    // Four chunks of 5 blocks covering exactly [start, end): nothing after the window was read.
    expect(chunks.map((l) => /\[(\d+), (\d+)\)/.exec(l)!.slice(1).map(Number))).toEqual([
      [start, start + 5], [start + 5, start + 10], [start + 10, start + 15], [start + 15, end],
    ]);
    // The poll that came due after the first chunk ran before the second.
    expect(lines.indexOf('poll done')).toBe(1);

    await t.oracle.tick();
    const att = await attestationOf(t, created.body.eventId);
    const pays = att.evidence.payouts.filter((p: { source: string }) => p.source === 'pool-payout');
    expect(pays.map((p: { txid: string; value: string }) => [p.txid, p.value])).toEqual([[inside.txid, '111111']]);

    // Asking again reads nothing: the window is covered.
    const again = await t.post(
      { kind: 'pool-rewards', window: { start, end }, deliveryAddress: miner.address, poolPayoutAddresses: [] },
      { token: OPERATOR_TOKEN },
    );
    expect(again.status).toBe(201);
    expect(lines.filter((l) => l.startsWith('rescanned'))).toHaveLength(4);
  });
});
