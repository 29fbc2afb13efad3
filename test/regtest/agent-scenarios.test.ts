/**
 * `hashdlc agent` as real child processes (src/agent/process.ts) on the
 * stack of `npm start` (oracle and coordinator child processes, the shared
 * regtest node). Only `offer` and `accept` are typed (library calls, in
 * this process, before the agents start: an agent holds its wallet's lock);
 * everything after is the agents':
 *
 * - a sale: the miner's agent signs, the buyer's agent funds, the contract
 *   settles at the attested outcome (by the coordinator or an agent: the
 *   same CET), payouts checked on chain. Each agent is SIGKILLed inside its
 *   sign/fund (as soon as the journal has the intent) and after every step
 *   it logs, and restarted: the same outcome, one funding and one CET
 *   spending the contract's coins in the blocks, each step done once in the
 *   journal, the miner's stored signatures unchanged across restarts;
 * - the buyer never funds: at the funding deadline the miner's agent
 *   double-spends its own funding inputs (cancel) and the coins are back
 *   (balance before the offer minus the cancel's fee);
 * - the oracle silent (stopped) and the coordinator gone (killed) after
 *   funding: at the refund locktime an agent broadcasts the refund, each
 *   side gets its collateral back;
 * - one code path: `hashdlc sign` and the agent's sign action refuse the
 *   same contract past its funding deadline with the same code, reason and
 *   message.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Transaction } from 'bitcoinjs-lib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JOURNAL_FILE, failureOf, participantActions, startAgentProcess, type AgentLogLine, type AgentProcess, type JournalEntry } from '../../src/agent/index.js';
import type { BitcoinRpc } from '../../src/chain/index.js';
import { describeError } from '../../src/cli/errors.js';
import { Participant, acceptOffer, makeOffer, newAddress as libraryAddress, walletBalance, type ParticipantConfig } from '../../src/participant/index.js';
import {
  STACK_SIMULATED_DIFFICULTY,
  curvePayouts,
  offerHexOf,
  onChainPayouts,
  onChainValue,
  waitForAttestation,
  waitForContractState,
  type StackParticipant,
} from '../../src/stack/index.js';
import { loadContract } from '../../src/participant/contract.js';
import { ContractStore } from '../../src/wallet/index.js';
import { useRegtest } from '../../regtest/context.js';
import { mineBlocks, mineToHeight } from '../../regtest/index.js';
import { mineWindow, runCli, startExtraOracle, startWorld, type ExtraOracle, type World } from './scenario-helpers.js';

let w: World;
let silent: ExtraOracle;
const running: AgentProcess[] = [];

beforeAll(async () => {
  silent = await startExtraOracle(useRegtest().rpc, STACK_SIMULATED_DIFFICULTY);
  w = await startWorld({ extraOracleUrls: [silent.url] });
}, 180_000);

afterEach(async () => {
  // A failed test must not leave an agent holding a wallet lock for the next one.
  for (const a of running.splice(0)) await a.kill();
});

afterAll(async () => {
  await w?.close();
  await silent?.close();
});

/** The library participant of a stack participant's wallet, for one typed step (the wallet locked meanwhile). */
async function typed<T>(p: StackParticipant, fn: (lp: Participant) => Promise<T>, oracle = p.services.oracles[0]!): Promise<T> {
  const config: ParticipantConfig = {
    network: 'regtest', networkGiven: true, walletDir: p.walletDir, coordinator: p.services.coordinator, oracles: [oracle],
    oraclePubkeys: [], oracleThreshold: undefined, rpc: p.services.rpc, feeRatePerVb: 2n, threads: 1,
  };
  const lp = new Participant(config);
  try {
    return await fn(lp);
  } finally {
    await lp.close();
  }
}

/** Miner offers a 100 TH/s sale over a window `lead` blocks ahead, buyer accepts: the only typed steps. */
async function offerAndAccept(lead: number, oracle?: string): Promise<{ id: string; eventId: string; fundingDeadline: number; refundLocktime: number; window: { start: number; end: number }; delivery: string }> {
  const tip = await w.rpc.getBlockCount();
  const window = { start: tip + lead, end: tip + lead + 4 };
  const delivery = (await typed(w.buyer, libraryAddress, oracle)).address;
  const offer = await typed(w.miner, (lp) => makeOffer(lp, {
    template: 'hashpower', hashrateThs: 100n, deliveryAddress: delivery, upfront: 50_000n, escrow: 250_000n, collateral: 200_000n, toleranceBps: 9500, window,
  }), oracle);
  if (offer.dryRun) throw new Error('not a dry run');
  const accepted = await typed(w.buyer, (lp) => acceptOffer(lp, { id: offer.id }), oracle);
  expect(accepted).toMatchObject({ dryRun: false, state: 'accepted' });
  return { id: offer.id, eventId: offer.eventId, fundingDeadline: offer.fundingDeadline, refundLocktime: offer.refundLocktime, window, delivery };
}

/** Starts `hashdlc agent --json` on a participant's wallet, polling fast. */
function agent(p: StackParticipant, oracle = p.services.oracles[0]!, args: string[] = []): AgentProcess {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...p.env(), HASHDLC_ORACLE: oracle })) if (v !== undefined) env[k] = v;
  const a = startAgentProcess({ walletDir: p.walletDir, env, args: ['--interval', '0.3', '--threads', '1', ...args] });
  running.push(a);
  return a;
}

async function killed(a: AgentProcess): Promise<void> {
  await a.kill();
  running.splice(running.indexOf(a), 1);
}

async function stopped(a: AgentProcess): Promise<void> {
  await a.stop();
  running.splice(running.indexOf(a), 1);
}

function journal(walletDir: string): JournalEntry[] {
  const f = join(walletDir, JOURNAL_FILE);
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').split('\n').filter((l) => l.trim() !== '').flatMap((l) => {
    try {
      return [JSON.parse(l) as JournalEntry];
    } catch {
      return []; // a line torn by SIGKILL (the journal skips it too)
    }
  });
}

/** SIGKILLs the agent as soon as its journal holds a new intent of `kind` for `id` (a crash inside the step). */
async function killInside(a: AgentProcess, walletDir: string, kind: string, id: string, timeoutMs = 120_000): Promise<void> {
  const before = journal(walletDir).length;
  const end = Date.now() + timeoutMs;
  for (;;) {
    const fresh = journal(walletDir).slice(before);
    if (fresh.some((e) => e.type === 'intent' && e.action.kind === kind && e.action.id === id)) break;
    if (a.exit !== null) throw new Error(`agent exited before its ${kind} intent: ${JSON.stringify(a.notes.slice(-5))}`);
    if (Date.now() > end) throw new Error(`no ${kind} intent within ${timeoutMs} ms: ${JSON.stringify(a.lines.slice(-3))}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  await killed(a);
}

async function until(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const done = (kind: string, id: string) => (l: AgentLogLine): boolean => l.action === kind && l.id === id && l.ok;

/** Steps of `kind` on `id` that succeeded in the journal, and how many of them did the work (not "already done"). */
function succeeded(walletDir: string, kind: string, id: string): { ok: number; fresh: number } {
  const entries = journal(walletDir);
  const intents = new Map(entries.flatMap((e) => (e.type === 'intent' ? [[e.seq, e] as const] : [])));
  let ok = 0;
  let fresh = 0;
  for (const e of entries) {
    if (e.type !== 'outcome' || !e.ok) continue;
    const i = intents.get(e.seq);
    if (i?.action.kind !== kind || i.action.id !== id) continue;
    ok++;
    if (e.result?.alreadyDone !== true) fresh++;
  }
  return { ok, fresh };
}

/** Non-coinbase transactions in blocks from `from` to the tip that spend any of `outpoints`. */
async function spendersInBlocks(rpc: BitcoinRpc, from: number, outpoints: Set<string>): Promise<string[]> {
  const tip = await rpc.getBlockCount();
  const txids: string[] = [];
  for (let h = from; h <= tip; h++) {
    const block = await rpc.getBlockWithTxs(await rpc.getBlockHash(h));
    for (const tx of block.tx) if (tx.vin.some((i) => i.txid !== undefined && outpoints.has(`${i.txid}:${i.vout}`))) txids.push(tx.txid);
  }
  return txids;
}

/** The fee a confirmed transaction paid (its inputs' values from their transactions). */
async function feeOf(rpc: BitcoinRpc, txid: string): Promise<bigint> {
  const tx = Transaction.fromHex(await rpc.getRawTransactionHex(txid));
  let inputs = 0n;
  for (const i of tx.ins) {
    const prev = Transaction.fromHex(await rpc.getRawTransactionHex(Buffer.from(i.hash).reverse().toString('hex')));
    inputs += BigInt(prev.outs[i.index]!.value);
  }
  return inputs - tx.outs.reduce((s, o) => s + BigInt(o.value), 0n);
}

describe('agents on regtest (real processes)', { timeout: 420_000 }, () => {
  it('a sale settles with only offer and accept typed; each agent SIGKILLed inside and after every step, restarted: same outcome, nothing twice', async () => {
    const startHeight = (await w.rpc.getBlockCount()) + 1;
    const s = await offerAndAccept(14);
    const store = new ContractStore(w.miner.walletDir);

    // Miner: killed inside its sign, restarted (the intent replayed once, or found done), killed after it, restarted.
    let miner = agent(w.miner);
    await killInside(miner, w.miner.walletDir, 'sign', s.id);
    miner = agent(w.miner);
    await waitForContractState(w.coordinatorUrl, s.id, ['signed'], 120_000);
    await until(() => succeeded(w.miner.walletDir, 'sign', s.id).ok > 0, 'the sign outcome journalled');
    const signedRecord = store.get(s.id);
    expect(signedRecord.state).toBe('signed');
    expect(signedRecord.ownCetSignatures).toBeDefined();
    await killed(miner);
    miner = agent(w.miner);

    // Buyer: the same inside and after its fund.
    let buyer = agent(w.buyer);
    await killInside(buyer, w.buyer.walletDir, 'fund', s.id);
    buyer = agent(w.buyer);
    const view = await waitForContractState(w.coordinatorUrl, s.id, ['funding-broadcast', 'confirmed'], 120_000);
    await until(() => succeeded(w.buyer.walletDir, 'fund', s.id).ok > 0, 'the fund outcome journalled');
    expect(new ContractStore(w.buyer.walletDir).get(s.id)).toMatchObject({ state: 'funding-broadcast', fundingTxid: view.fundingTxid });
    await killed(buyer);
    buyer = agent(w.buyer);

    // The window delivers the full hashrate to the buyer's address; the oracle attests; the contract settles.
    await mineBlocks(w.rpc, 1);
    await mineWindow(w.rpc, s.window, [{ address: s.delivery, shareBps: 1_000 }]);
    const attestation = await waitForAttestation(w.oracleUrl, s.eventId, 60_000);
    const closing = await waitForContractState(w.coordinatorUrl, s.id, ['cet-broadcast', 'settled'], 60_000);
    await mineBlocks(w.rpc, 1);
    const settled = await waitForContractState(w.coordinatorUrl, s.id, ['settled'], 60_000);
    expect(settled.closingTxid).toBe(closing.closingTxid);
    const curve = curvePayouts(await offerHexOf(w.coordinatorUrl, s.id), settled.terms, BigInt(attestation.outcome));
    expect(await onChainPayouts(w.rpc, settled.closingTxid!, settled)).toEqual({ offer: onChainValue(curve.offer), accept: onChainValue(curve.accept) });

    // Killed once more after settlement; a pass of each (--once) finds nothing left to do and does nothing new.
    await killed(miner);
    await killed(buyer);
    for (const p of [w.miner, w.buyer]) {
      const once = agent(p, undefined, ['--once']);
      expect((await once.exited).code, JSON.stringify(once.notes.slice(-5))).toBe(0);
      running.splice(running.indexOf(once), 1);
      // Only the replay of a step the kill cut short may show, and it finds the step done.
      for (const l of once.lines.filter((x) => x.id === s.id)) expect(l).toMatchObject({ replay: true, ok: true, result: { alreadyDone: true } });
    }

    // Nothing twice: each step journalled done, at most once doing the work (a replay that found it done says so),
    // one funding and one CET spending the contract's coins on chain.
    for (const [dir, kind] of [[w.miner.walletDir, 'sign'], [w.buyer.walletDir, 'fund']] as const) {
      const n = succeeded(dir, kind, s.id);
      expect(n.ok, kind).toBeGreaterThanOrEqual(1);
      expect(n.fresh, kind).toBeLessThanOrEqual(1);
      expect(journal(dir).filter((e) => e.type === 'intent' && e.action.kind === kind && e.action.id === s.id).length, `${kind} intents: the first and at most one replay`).toBeLessThanOrEqual(2);
    }
    for (const [dir, kind] of [[w.miner.walletDir, 'fund'], [w.buyer.walletDir, 'sign'], [w.miner.walletDir, 'cancel'], [w.buyer.walletDir, 'cancel']] as const) {
      expect(succeeded(dir, kind, s.id).ok, `${kind} in ${dir}`).toBe(0);
    }
    const settles = succeeded(w.miner.walletDir, 'settle', s.id).fresh + succeeded(w.buyer.walletDir, 'settle', s.id).fresh;
    expect(settles).toBeLessThanOrEqual(1);
    const fundingTx = Transaction.fromHex(await w.rpc.getRawTransactionHex(view.fundingTxid!));
    const coins = new Set(fundingTx.ins.map((i) => `${Buffer.from(i.hash).reverse().toString('hex')}:${i.index}`));
    fundingTx.outs.forEach((_o, vout) => coins.add(`${view.fundingTxid}:${vout}`));
    expect((await spendersInBlocks(w.rpc, startHeight, coins)).sort()).toEqual([view.fundingTxid!, settled.closingTxid!].sort());
    // No index signed twice: the miner's stored signatures are those of its one sign.
    const last = store.get(s.id);
    expect(last.ownCetSignatures).toBe(signedRecord.ownCetSignatures);
    expect(last.ownRefundSignature).toBe(signedRecord.ownRefundSignature);
    expect(last.sign).toBe(signedRecord.sign);
  });

  it('the buyer never funds: at the funding deadline the miner\'s agent double-spends its own inputs, coins back', async () => {
    const before = (await typed(w.miner, walletBalance)).confirmedSats;
    const s = await offerAndAccept(10);
    const miner = agent(w.miner);
    await miner.waitFor(done('sign', s.id), 120_000);
    // No buyer agent, no fund. The deadline: the miner's agent cancels on chain.
    await mineToHeight(w.rpc, s.fundingDeadline);
    const cancel = await miner.waitFor((l) => l.action === 'cancel' && l.id === s.id, 120_000);
    expect(cancel).toMatchObject({ ok: true, result: { state: 'cancelled', alreadyDone: false } });
    const cancelTxid = cancel.result!.txid!;
    await mineBlocks(w.rpc, 1);
    await stopped(miner);
    expect((await w.rpc.getRawTransaction(cancelTxid)).confirmations ?? 0).toBeGreaterThanOrEqual(1);
    const after = await typed(w.miner, walletBalance);
    expect(after.confirmedSats).toBe(before - (await feeOf(w.rpc, cancelTxid)));
    expect(after.reservedSats).toBe(0n);
    expect(new ContractStore(w.miner.walletDir).get(s.id).state).toBe('cancelled');
  });

  it('oracle silent and coordinator gone: at the refund locktime an agent broadcasts the refund', async () => {
    const s = await offerAndAccept(10, silent.url);
    const miner = agent(w.miner, silent.url);
    const buyer = agent(w.buyer, silent.url);
    await miner.waitFor(done('sign', s.id), 120_000);
    await buyer.waitFor(done('fund', s.id), 120_000);
    await mineBlocks(w.rpc, 1);
    await waitForContractState(w.coordinatorUrl, s.id, ['confirmed'], 30_000);
    // Silence: the oracle stops before the window, the coordinator is killed.
    await silent.close();
    await w.stack.killCoordinator();
    try {
      await mineToHeight(w.rpc, s.refundLocktime - 1);
      await new Promise((r) => setTimeout(r, 1_500));
      expect([...miner.lines, ...buyer.lines].filter((l) => l.action === 'refund' || !l.ok)).toEqual([]);
      await mineToHeight(w.rpc, s.refundLocktime);
      const refund = await Promise.any([miner.waitFor(done('refund', s.id), 120_000), buyer.waitFor(done('refund', s.id), 120_000)]);
      const txid = refund.result!.txid!;
      await mineBlocks(w.rpc, 1);
      const tx = await w.rpc.getRawTransaction(txid);
      expect(tx.confirmations ?? 0).toBeGreaterThanOrEqual(1);
      expect(tx.locktime).toBe(s.refundLocktime);
      await stopped(miner);
      await stopped(buyer);
      // Both may have tried; at most one sent it, the other found it known.
      const fresh = succeeded(w.miner.walletDir, 'refund', s.id).fresh + succeeded(w.buyer.walletDir, 'refund', s.id).fresh;
      expect(fresh).toBe(1);
    } finally {
      await w.stack.restartCoordinator();
    }
    // Each side's collateral back to its payout script (from the stored offer_dlc and accept_dlc).
    const refunded = [...miner.lines, ...buyer.lines].find(done('refund', s.id))!;
    const c = await typed(w.buyer, async (lp) => loadContract(lp.wallet(), s.id));
    const tx = await w.rpc.getRawTransaction(refunded.result!.txid!);
    const paid = (spk: Uint8Array): bigint => tx.vout.filter((o) => o.scriptPubKey.hex === Buffer.from(spk).toString('hex')).reduce((t, o) => t + o.valueSats, 0n);
    expect({ offer: paid(c.offer.payoutSpk), accept: paid(c.accept!.payoutSpk) }).toEqual({ offer: 200_000n, accept: 250_000n });
  });

  it('one code path: `hashdlc sign` and the agent\'s sign action refuse a contract past its deadline alike', async () => {
    const s = await offerAndAccept(8);
    await mineToHeight(w.rpc, s.fundingDeadline);
    const cli = await runCli(w.miner, ['sign', s.id]);
    const err = await typed(w.miner, (lp) => participantActions(lp).sign({ id: s.id })).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'EXPIRED' });
    const { line, exitCode } = describeError(err);
    expect(cli.code).toBe(exitCode);
    expect(cli.stderr).toContain(line);
    // The agent's log line carries the same code and message.
    expect(failureOf(err)).toEqual({ code: line.slice(0, line.indexOf(': ')), message: (err as Error).message });
  });
});
