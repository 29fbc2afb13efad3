/**
 * The agent's observer and decisions against the real stack (`npm start`'s
 * oracle and coordinator on the regtest node), contract negotiated with the
 * CLI: after the buyer's accept the miner's agent sees the coordinator say
 * `accepted` (a GET signed with the contract's identity key) and decides
 * `sign`; after the miner's sign the buyer's agent decides `fund`; after the
 * funding broadcast both see the funding transaction (mempool, then chain)
 * and wait; a coordinator that cannot be reached is a fact, not an error.
 * `hashdlc agent --once` on the miner's wallet takes the same decision,
 * journals it and signs (the use case signContract), in place of `hashdlc sign`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/agent/decide.js';
import type { ContractFacts } from '../../src/agent/facts.js';
import { AgentJournal, JOURNAL_FILE } from '../../src/agent/journal.js';
import { ParticipantObserver } from '../../src/agent/observe.js';
import { DEFAULT_POLICY } from '../../src/agent/policy.js';
import { Participant as LibraryParticipant } from '../../src/participant/participant.js';
import type { StackParticipant } from '../../src/stack/index.js';
import { mineBlocks } from '../../regtest/index.js';
import { newAddress, runCli, saleOffer, startWorld, type World } from './scenario-helpers.js';

let w: World;

beforeAll(async () => {
  w = await startWorld();
}, 180_000);

afterAll(async () => {
  await w?.close();
});

/** The library participant of a stack participant's wallet (read-only: the CLI runs beside it in this process). */
function library(p: StackParticipant, coordinator = p.services.coordinator): LibraryParticipant {
  return new LibraryParticipant(
    { network: 'regtest', networkGiven: true, walletDir: p.walletDir, coordinator, oracles: p.services.oracles, oraclePubkeys: [], oracleThreshold: undefined, rpc: p.services.rpc, feeRatePerVb: undefined, threads: 1 },
    { readOnly: true },
  );
}

async function factsOf(p: StackParticipant, id: string, coordinator?: string): Promise<ContractFacts> {
  const lp = library(p, coordinator);
  try {
    const obs = await new ParticipantObserver(lp, { bump: true }).observe({ bumpedTo: () => undefined });
    expect(obs.errors).toEqual([]);
    const f = obs.facts.find((x) => x.id === id);
    expect(f, `${p.name} observes ${id}`).toBeDefined();
    return f!;
  } finally {
    await lp.close();
  }
}

describe('the agent observes a sale negotiated with the CLI', () => {
  it('decides sign, then fund, then waits; without the coordinator it does not sign', async () => {
    const tip = await w.rpc.getBlockCount();
    const window = { start: tip + 30, end: tip + 34 };
    const offer = await w.miner.offer({ ...saleOffer({ window, deliveryAddress: await newAddress(w.buyer) }), feeRatePerVb: 2n });
    const id = offer.id;

    // Offered: nobody has anything to do.
    const offered = await factsOf(w.miner, id);
    expect(offered).toMatchObject({ role: 'offer', state: 'offered', coordinator: { reachable: true, state: 'offered' }, funding: null, fundingDeadline: offer.fundingDeadline });
    expect(decide(offered, DEFAULT_POLICY)).toBeNull();

    await w.buyer.accept(id);
    const accepted = await factsOf(w.miner, id);
    expect(accepted).toMatchObject({ coordinator: { reachable: true, state: 'accepted' }, attested: null, pending: null });
    expect(decide(accepted, DEFAULT_POLICY)).toMatchObject({ kind: 'sign', id });
    expect(decide(await factsOf(w.buyer, id), DEFAULT_POLICY)).toBeNull();

    // Coordinator gone: the same contract is not signed (signing follows the coordinator's state).
    const alone = await factsOf(w.miner, id, 'http://127.0.0.1:9');
    expect(alone.coordinator).toEqual({ reachable: false });
    expect(decide(alone, DEFAULT_POLICY)).toBeNull();

    // `hashdlc agent --once` takes the same decision and signs, journalled intent then outcome.
    const r = await runCli(w.miner, ['agent', '--once', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const line = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ id, action: 'sign', ok: true, result: { state: 'signed', alreadyDone: false } });
    const journal = readFileSync(join(w.miner.walletDir, JOURNAL_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; action?: { kind: string } });
    expect(journal.map((e) => e.type)).toEqual(['intent', 'outcome']);
    expect(journal[0]!.action?.kind).toBe('sign');
    expect(new AgentJournal(w.miner.walletDir).unfinished()).toEqual([]);

    const signedBuyer = await factsOf(w.buyer, id);
    expect(signedBuyer).toMatchObject({ role: 'accept', coordinator: { reachable: true, state: 'signed' }, funding: null });
    expect(decide(signedBuyer, DEFAULT_POLICY)).toMatchObject({ kind: 'fund', id });
    expect(decide(await factsOf(w.miner, id), DEFAULT_POLICY)).toBeNull();

    const funded = await w.buyer.fund(id);
    const inMempool = await factsOf(w.buyer, id);
    expect(inMempool.funding).toEqual({ txid: funded.fundingTxid, confirmations: 0 });
    expect(inMempool.pending).toMatchObject({ txid: funded.fundingTxid, kind: 'funding', waitedBlocks: 0 });
    expect(inMempool.pending!.feeRatePerVb).toBeGreaterThanOrEqual(1n);
    expect(decide(inMempool, DEFAULT_POLICY)).toBeNull();
    // The miner sees the funding too (the coordinator's view or its own funding PSBT), with no local record of the broadcast.
    expect((await factsOf(w.miner, id)).funding).toEqual({ txid: funded.fundingTxid, confirmations: 0 });

    await mineBlocks(w.rpc, 1);
    const confirmed = await factsOf(w.miner, id);
    expect(confirmed.funding).toEqual({ txid: funded.fundingTxid, confirmations: 1, spent: false });
    expect(confirmed.pending).toBeNull();
    // Before the CET locktime the oracle is not asked, and there is nothing to do.
    expect(confirmed.attested).toBeNull();
    expect(decide(confirmed, DEFAULT_POLICY)).toBeNull();
  });
});
