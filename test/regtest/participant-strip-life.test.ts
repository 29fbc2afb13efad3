/**
 * A strip after funding (issue 12), through the participant library against
 * a real coordinator, the test oracle and the regtest node: a 3-period
 * hashpower sale strip is offered, accepted, signed and funded (ONE funding
 * transaction, 3 DLC outputs); the pool delivers in full in period 1 and a
 * quarter of the hashrate in period 3; period 2's oracle stays silent (a
 * real HTTP proxy in front of the oracle, which both wallets use as their
 * oracle, answers NOT_ATTESTED for period 2's attestation alone).
 *
 * - `settleStrip` (the buyer, `hashdlc settle <strip-id>`) settles periods 1
 *   and 3, each CET over its own funding output, paying exactly the sale's
 *   curve at the attested outcome; period 2 waits, its error naming it;
 * - before period 2's refund locktime `refundStrip` refunds nothing (period 2
 *   waits, named); at it, the miner's `refundStrip` refunds period 2 (each
 *   side its collateral) and reports periods 1 and 3 ended (their outputs
 *   spent by the buyer's CETs, which the miner's records had not seen);
 * - `stripStatus` shows the three periods settled, refunded, settled, and the
 *   three closing transactions spend the three distinct funding outputs;
 * - a second strip, signed by the miner but never funded: `cancelContract`
 *   with any period's id double-spends the miner's shared funding inputs ONCE,
 *   records every period cancelled and cancels the strip at the coordinator;
 *   a repeat is reported done;
 * - a third strip, signed and funded by the parties' agents (one sign, one
 *   fund: the strip's steps are taken once, from period 1): period 2 is closed cooperatively on its own, then
 *   `closeStrip` (`close <strip-id> --remaining`) by both parties (each after
 *   `stripStatus`, which brings the records up to date) closes periods 1 and 3
 *   at one split, shared by collateral: two close transactions over their
 *   own funding outputs, paying exactly the shares, which sum to the split.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transaction } from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payoutAt } from '../../protocol/numeric/index.js';
import { AgentJournal, AgentLoop, DEFAULT_POLICY, ParticipantObserver, decide, participantActions, type AgentLogLine } from '../../src/agent/index.js';
import {
  Participant,
  ParticipantError,
  acceptOffer,
  cancelContract,
  closeContract,
  closeStrip,
  fundContract,
  makeOffer,
  refundStrip,
  settleStrip,
  signContract,
  stripRecords,
  stripStatus,
  type ParticipantConfig,
} from '../../src/participant/index.js';
import { loadContract } from '../../src/participant/contract.js';
import { Wallet } from '../../src/wallet/index.js';
import { useRegtest } from '../../regtest/context.js';
import { mineAsPool, mineBlocks, mineToHeight } from '../../regtest/helpers.js';
import { TestKey } from '../../regtest/wallet.js';
import { startLibraryServices, type LibraryServices } from './participant-fixture.js';
import { attestationOf } from './oracle-fixture.js';

const { rpc, faucet } = useRegtest();
const tmp = mkdtempSync(join(tmpdir(), 'hashdlc-participant-strip-life-'));
const minerDir = join(tmp, 'miner');
const buyerDir = join(tmp, 'buyer');

let services: LibraryServices;
let silencer: { url: string; server: Server };
/** The event whose attestation the proxy hides (period 2's), set once the strip is offered. */
let silentEvent: string | undefined;
let window: { start: number; end: number };
let stripId: string;
let fundingTxid: string;

/**
 * A real HTTP proxy in front of the oracle: forwards every request, but
 * answers the oracle's own NOT_ATTESTED error for the silent event's attestation.
 */
async function silencingOracle(upstream: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    void (async () => {
      const path = req.url ?? '/';
      const m = /^\/v1\/events\/([^?]+)\/attestation$/.exec(path);
      if (m !== null && silentEvent !== undefined && decodeURIComponent(m[1]!) === silentEvent) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'NOT_ATTESTED', message: `event ${silentEvent} is not attested yet` } }));
        return;
      }
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length' && k !== 'connection') headers[k] = v;
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      const answer = await fetch(`${upstream}${path}`, { method: req.method ?? 'GET', headers, ...(body !== undefined && body.length > 0 ? { body } : {}) });
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(await answer.text());
    })().catch(() => res.writeHead(502).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { url: `http://127.0.0.1:${address.port}`, server };
}

/** The participant config of a wallet, its one oracle the silencing proxy (same key). */
function config(dir: string): ParticipantConfig {
  return { ...services.config(dir), oracles: [silencer.url] };
}

async function step<T>(dir: string, fn: (p: Participant) => Promise<T>): Promise<T> {
  const p = new Participant(config(dir), { note: () => undefined });
  try {
    return await fn(p);
  } finally {
    await p.close();
  }
}

/** The outpoint a transaction spends (one input: a CET or a refund). */
async function spentOutpoint(txid: string): Promise<string> {
  const tx = Transaction.fromHex(await rpc.getRawTransactionHex(txid));
  expect(tx.ins).toHaveLength(1);
  return `${Buffer.from(tx.ins[0]!.hash).reverse().toString('hex')}:${tx.ins[0]!.index}`;
}

beforeAll(async () => {
  const tip = await rpc.getBlockCount();
  window = { start: tip + 40, end: tip + 46 };
  services = await startLibraryServices(rpc, tmp);
  silencer = await silencingOracle(services.oracle.oracle.url);
  Wallet.init(minerDir, 'regtest');
  Wallet.init(buyerDir, 'regtest');
  await faucet.fund(Wallet.open(minerDir).newReceiveAddress().address, 1_000_000n);
  await faucet.fund(Wallet.open(buyerDir).newReceiveAddress().address, 1_000_000n);
}, 180_000);

afterAll(async () => {
  await new Promise<void>((resolve) => (silencer === undefined ? resolve() : silencer.server.close(() => resolve())));
  await services?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('a funded 3-period strip, period 2\'s oracle silent', () => {
  it('is funded by one transaction', async () => {
    const offered = await step(minerDir, (p) => makeOffer(p, {
      template: 'hashpower',
      window,
      periods: 3,
      hashrateThs: 100n,
      deliveryAddress: Wallet.open(buyerDir).newReceiveAddress().address,
      escrow: 300_000n,
      collateral: 150_000n,
      upfront: 30_000n,
    }));
    if (offered.dryRun) throw new Error('posted strip expected');
    stripId = offered.id;
    silentEvent = offered.strip!.periods[1]!.eventId;
    await step(buyerDir, (p) => acceptOffer(p, { id: stripId }));
    await step(minerDir, (p) => signContract(p, { id: stripId }));
    const funded = await step(buyerDir, (p) => fundContract(p, { id: stripId }));
    if (funded.psbtOut) throw new Error('funding expected');
    fundingTxid = funded.fundingTxid;
    await mineBlocks(rpc, 1);
    expect((await rpc.getRawTransaction(fundingTxid)).confirmations).toBe(1);
    expect(stripRecords(Wallet.open(buyerDir), stripId)!.map((r) => r.strip!.batch.index)).toEqual([0, 1, 2]);
  });

  it('settleStrip settles the attested periods 1 and 3 on their curve; period 2 waits, named', async () => {
    const periods = stripRecords(Wallet.open(buyerDir), stripId)!;
    const delivery = periods[0]!.terms.deliveryAddress as string;
    const rest = TestKey.random().address;
    await mineToHeight(rpc, window.start - 1);
    // Period 1 [start, start+2): the full 100 TH/s (half of each coinbase); period 2: the same (never attested);
    // period 3: a quarter of the hashrate.
    await mineAsPool(rpc, { blocks: 4, shares: [{ address: delivery, shareBps: 5_000 }], restAddress: rest });
    await mineAsPool(rpc, { blocks: 2, shares: [{ address: delivery, shareBps: 1_250 }], restAddress: rest });
    await mineBlocks(rpc, 1);
    // The oracle attests every period; the proxy hides period 2's.
    const events = periods.map((r) => loadContract(Wallet.open(buyerDir), r.id).offer);
    const eventIds = events.map((o) => ('singleContractInfo' in o.contractInfo && 'single' in o.contractInfo.singleContractInfo.contractInfo.oracleInfo
      ? o.contractInfo.singleContractInfo.contractInfo.oracleInfo.single.oracleAnnouncement.oracleEvent.eventId
      : ''));
    expect(eventIds[1]).toBe(silentEvent);
    const outcomes = await Promise.all([0, 1, 2].map(async (i) => String((await attestationOf(services.oracle, eventIds[i]!)).outcome)));

    const r = await step(buyerDir, (p) => settleStrip(p, { id: stripId }));
    expect(r.strip).toBe(stripId);
    // A failed period shows its error (the assertion's diff then says why).
    expect(r.periods.map((s) => (s.status === 'failed' ? `failed: ${String(s.error)}` : s.status))).toEqual(['done', 'waiting', 'done']);
    const waiting = r.periods[1]!.error as ParticipantError;
    expect(waiting).toBeInstanceOf(ParticipantError);
    expect(waiting.code).toBe('NOT_READY');
    expect(waiting.message).toMatch(/^period 2: /);

    for (const i of [0, 2]) {
      const s = r.periods[i]!.result!;
      expect(s.outcome).toBe(outcomes[i]);
      // The payout is the sale's curve at the attested outcome, from the period's own template.
      const t = loadContract(Wallet.open(buyerDir), periods[i]!.id).template;
      const offerPayout = payoutAt(t.contractDescriptor.numericOutcomeContractDescriptor, t.totalCollateral, 2, BigInt(s.outcome));
      expect(s.payouts).toEqual({ offer: offerPayout, accept: t.totalCollateral - offerPayout });
      // On chain: the CET pays those amounts.
      const cet = Transaction.fromHex(await rpc.getRawTransactionHex(s.txid));
      const paid = cet.outs.map((o) => BigInt(o.value)).sort((a, b) => (a < b ? -1 : 1));
      expect(paid).toEqual([s.payouts.offer, s.payouts.accept].filter((v) => v > 0n).sort((a, b) => (a < b ? -1 : 1)));
    }
    // Full delivery pays the miner everything; a quarter pays it about a quarter.
    expect(r.periods[0]!.result!.payouts.accept).toBe(0n);
    expect(r.periods[2]!.result!.payouts.offer).toBeGreaterThan(0n);
    expect(r.periods[2]!.result!.payouts.accept).toBeGreaterThan(0n);
    await mineBlocks(rpc, 1);

    // The agent's observer: period 2's own funding output is unspent (periods 1 and 3, which pay the same
    // script, are spent), so it waits for its refund locktime instead of counting as closed.
    const obs = await step(buyerDir, (p) => new ParticipantObserver(p, { bump: false }).observe({ bumpedTo: () => undefined }));
    expect(obs.errors).toEqual([]);
    const f2 = obs.facts.find((f) => f.id === periods[1]!.id)!;
    expect(obs.facts.map((f) => f.id)).toEqual([periods[1]!.id]); // the settled periods are terminal here
    expect(f2).toMatchObject({ strip: { id: stripId, index: 1, periods: 3 }, funding: { txid: fundingTxid, spent: false }, attested: false });
    expect(decide(f2, DEFAULT_POLICY)).toBeNull();
  });

  it('refundStrip: nothing before period 2\'s refund locktime; at it, the miner refunds period 2 alone', async () => {
    const before = await step(buyerDir, (p) => refundStrip(p, { id: stripId }));
    expect(before.periods.map((s) => s.status)).toEqual(['ended', 'waiting', 'ended']);
    expect((before.periods[1]!.error as Error).message).toMatch(/^period 2: refund locktime \d+ not reached/);

    const period2 = stripRecords(Wallet.open(minerDir), stripId)![1]!;
    const c = loadContract(Wallet.open(minerDir), period2.id);
    await mineToHeight(rpc, c.offer.refundLocktime);
    // The miner's records never saw the buyer's CETs: periods 1 and 3 are found spent, not failed.
    const r = await step(minerDir, (p) => refundStrip(p, { id: stripId }));
    expect(r.periods.map((s) => s.status)).toEqual(['ended', 'done', 'ended']);
    expect(r.periods[0]!.error).toMatchObject({ code: 'STATE', reason: 'funding-spent' });
    const refund = r.periods[1]!.result!;
    expect(refund.payouts).toEqual({ offer: c.template.offerCollateral, accept: c.template.acceptCollateral });
    await mineBlocks(rpc, 1);
    expect((await rpc.getRawTransaction(refund.txid)).confirmations).toBe(1);

    // Three closing transactions over the three distinct funding outputs of the one funding transaction.
    const settled = (await step(buyerDir, (p) => settleStrip(p, { id: stripId }))).periods;
    expect(settled.map((s) => s.status)).toEqual(['ended', 'ended', 'ended']);
    const buyerRecords = stripRecords(Wallet.open(buyerDir), stripId)!;
    const spends = [await spentOutpoint(buyerRecords[0]!.closingTxid!), await spentOutpoint(refund.txid), await spentOutpoint(buyerRecords[2]!.closingTxid!)];
    expect(spends.every((o) => o.startsWith(`${fundingTxid}:`))).toBe(true);
    expect(new Set(spends).size).toBe(3);
  });

  it('stripStatus shows each period: settled, refunded, settled', async () => {
    const miner = await step(minerDir, (p) => stripStatus(p, { id: stripRecords(Wallet.open(minerDir), stripId)![2]!.id, local: true }));
    expect(miner!.id).toBe(stripId);
    expect(miner!.periods.map((s) => s.period)).toEqual([1, 2, 3]);
    expect(miner!.periods[1]!.record.state).toBe('refunded');
    const buyer = await step(buyerDir, (p) => stripStatus(p, { id: stripId, local: true }));
    expect(buyer!.periods.map((s) => s.record.state)).toEqual(['settled', 'funding-broadcast', 'settled']);
    expect(buyer!.periods.map((s) => s.window)).toEqual([0, 2, 4].map((d) => ({ start: window.start + d, end: window.start + d + 2 })));
  });
});

describe('an unfunded strip, cancelled', () => {
  it('double-spends the shared inputs once, every period cancelled, the coordinator told once', async () => {
    const dirs = { miner: join(tmp, 'miner2'), buyer: join(tmp, 'buyer2') };
    Wallet.init(dirs.miner, 'regtest');
    Wallet.init(dirs.buyer, 'regtest');
    await faucet.fund(Wallet.open(dirs.miner).newReceiveAddress().address, 1_000_000n);
    await faucet.fund(Wallet.open(dirs.buyer).newReceiveAddress().address, 1_000_000n);
    const tip = await rpc.getBlockCount();
    const offered = await step(dirs.miner, (p) => makeOffer(p, {
      template: 'hashpower',
      window: { start: tip + 40, end: tip + 46 },
      periods: 3,
      hashrateThs: 100n,
      deliveryAddress: Wallet.open(dirs.buyer).newReceiveAddress().address,
      escrow: 300_000n,
      collateral: 150_000n,
    }));
    if (offered.dryRun) throw new Error('posted strip expected');
    const id = offered.id;
    await step(dirs.buyer, (p) => acceptOffer(p, { id }));
    await step(dirs.miner, (p) => signContract(p, { id }));
    const mempoolBefore = new Set(await rpc.getRawMempool());

    // Period 3's id names the whole strip: the inputs are shared.
    const period3 = stripRecords(Wallet.open(dirs.miner), id)![2]!.id;
    const r = await step(dirs.miner, (p) => cancelContract(p, { id: period3 }));
    if (r.kind !== 'cancelled') throw new Error('cancelled expected');
    expect(r).toMatchObject({ id, state: 'cancelled', periods: 3, coordinator: 'cancelled', already: false });
    const added = (await rpc.getRawMempool()).filter((t) => !mempoolBefore.has(t));
    expect(added).toEqual([r.onChain!.txid]);
    // It spends exactly the miner's funding inputs (the same in every period's offer).
    const reserved = stripRecords(Wallet.open(dirs.miner), id)![0]!.reservedOutpoints;
    expect([...r.onChain!.spends].sort()).toEqual([...reserved].sort());
    expect(stripRecords(Wallet.open(dirs.miner), id)!.map((x) => x.state)).toEqual(['cancelled', 'cancelled', 'cancelled']);

    const again = await step(dirs.miner, (p) => cancelContract(p, { id, doneIfCancelled: true }));
    expect(again).toMatchObject({ kind: 'cancelled', already: true, periods: 3 });
    expect((await rpc.getRawMempool()).filter((t) => !mempoolBefore.has(t))).toEqual([r.onChain!.txid]);
  });
});

/** Two new wallets with one confirmed 1,000,000-sat coin each. */
async function pair(name: string): Promise<{ miner: string; buyer: string }> {
  const dirs = { miner: join(tmp, `${name}-miner`), buyer: join(tmp, `${name}-buyer`) };
  Wallet.init(dirs.miner, 'regtest');
  Wallet.init(dirs.buyer, 'regtest');
  await faucet.fund(Wallet.open(dirs.miner).newReceiveAddress().address, 1_000_000n);
  await faucet.fund(Wallet.open(dirs.buyer).newReceiveAddress().address, 1_000_000n);
  return dirs;
}

/** One pass of the agent (src/agent) on a wallet: its log lines. */
async function agentPass(dir: string): Promise<AgentLogLine[]> {
  const p = new Participant(config(dir), { note: () => undefined });
  try {
    const lines: AgentLogLine[] = [];
    const loop = new AgentLoop({ observer: new ParticipantObserver(p, { bump: false }), actions: participantActions(p), journal: new AgentJournal(dir), policy: DEFAULT_POLICY, log: (l) => lines.push(l) });
    await loop.pass();
    return lines;
  } finally {
    await p.close();
  }
}

describe('a funded strip, closed cooperatively', () => {
  it('the agents sign and fund it once; period 2 is closed alone, then the remaining periods at one split shared by collateral', async () => {
    const dirs = await pair('close');
    const tip = await rpc.getBlockCount();
    const offered = await step(dirs.miner, (p) => makeOffer(p, {
      template: 'hashpower',
      window: { start: tip + 40, end: tip + 47 },
      periods: 3,
      hashrateThs: 100n,
      deliveryAddress: Wallet.open(dirs.buyer).newReceiveAddress().address,
      escrow: 300_000n,
      collateral: 150_000n,
    }));
    if (offered.dryRun) throw new Error('posted strip expected');
    const id = offered.id;
    await step(dirs.buyer, (p) => acceptOffer(p, { id }));
    // The agents take the strip's steps once (from period 1, with the strip id), not once per period.
    const signed = await agentPass(dirs.miner);
    expect(signed.map((l) => [l.action, l.id, l.ok])).toEqual([['sign', id, true]]);
    const funding = await agentPass(dirs.buyer);
    expect(funding.map((l) => [l.action, l.id, l.ok])).toEqual([['fund', id, true]]);
    const funded = { fundingTxid: funding[0]!.result!.txid! };
    expect(await rpc.getRawMempool()).toContain(funded.fundingTxid);
    await mineBlocks(rpc, 1);
    const ids = stripRecords(Wallet.open(dirs.miner), id)!.map((r) => r.id);

    // Period 2 on its own: the buyer signs first, the miner's signature makes the coordinator broadcast.
    const own = await step(dirs.buyer, (p) => closeContract(p, { id: ids[1]!, offerPayout: 100_000n }));
    expect(own.broadcast).toBe(false);
    const p2 = await step(dirs.miner, (p) => closeContract(p, { id: ids[1]!, offerPayout: 100_000n }));
    expect(p2.broadcast).toBe(true);

    // Both bring their records up to date (the buyer learns that period 2 closed; the miner that the strip is funded).
    for (const dir of [dirs.miner, dirs.buyer]) {
      const st = await step(dir, (p) => stripStatus(p, { id }));
      expect(st!.periods.map((x) => x.record.state)).toEqual(['confirmed', 'closed', 'confirmed']);
    }
    const split = { offerPayout: 200_000n };
    const first = await step(dirs.buyer, (p) => closeStrip(p, { id, ...split }));
    expect(first.periods.map((x) => [x.period, x.result?.broadcast])).toEqual([[1, false], [3, false]]);
    expect(first.skipped).toEqual([{ period: 2, id: ids[1], state: 'closed' }]);
    const second = await step(dirs.miner, (p) => closeStrip(p, { id: ids[2]!, ...split }));
    expect(second.periods.map((x) => x.error === undefined ? x.result!.broadcast : String(x.error))).toEqual([true, true]);
    expect(second.periods.map((x) => x.payouts)).toEqual(first.periods.map((x) => x.payouts));

    // The live collateral (periods 1 and 3) shared: the offer shares sum to the split, the accepter takes the rest.
    const collaterals = [0, 2].map((i) => loadContract(Wallet.open(dirs.miner), ids[i]!).template.totalCollateral);
    expect(second.totalCollateral).toBe(collaterals[0]! + collaterals[1]!);
    expect(second.periods.reduce((a, x) => a + x.payouts.offer, 0n)).toBe(200_000n);
    second.periods.forEach((x, i) => expect(x.payouts.offer + x.payouts.accept).toBe(collaterals[i]));

    // Two close transactions (plus period 2's) over three distinct outputs of the one funding transaction, paying the shares.
    const closes = [second.periods[0]!.result!.closeTxid, p2.closeTxid, second.periods[1]!.result!.closeTxid];
    const spends = await Promise.all(closes.map((t) => spentOutpoint(t)));
    expect(spends.every((o) => o.startsWith(`${funded.fundingTxid}:`))).toBe(true);
    expect(new Set(spends).size).toBe(3);
    for (const x of second.periods) {
      const tx = Transaction.fromHex(await rpc.getRawTransactionHex(x.result!.closeTxid));
      expect(tx.outs.map((o) => BigInt(o.value)).sort((a, b) => (a < b ? -1 : 1))).toEqual([x.payouts.offer, x.payouts.accept].filter((v) => v > 0n).sort((a, b) => (a < b ? -1 : 1)));
    }
  });
});
