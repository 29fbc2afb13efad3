/**
 * The agent's loop (src/agent/loop.ts) and journal (src/agent/journal.ts)
 * with a fake observer and fake actions (the use cases are tested on their
 * own): one journalled action per decision, a crash between intent and
 * outcome replays the SAME action once at the next start and never a new
 * decision for that contract in the same pass, a torn journal line is
 * skipped, a failed action waits for the next block, `--once` exit codes,
 * and a stop signal honoured between actions, never inside one.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { participantActions, type AgentActions } from '../src/agent/actions.js';
import type { AgentAction } from '../src/agent/decide.js';
import type { ContractFacts } from '../src/agent/facts.js';
import { AgentJournal, JOURNAL_FILE, type ActionResult } from '../src/agent/journal.js';
import { AgentLoop, type AgentLogLine } from '../src/agent/loop.js';
import type { AgentObserver, JournalView, Observation } from '../src/agent/observe.js';
import { DEFAULT_POLICY, withOverrides, type AgentPolicy } from '../src/agent/policy.js';
import { ParticipantError } from '../src/participant/errors.js';
import { Participant } from '../src/participant/participant.js';
import { Wallet, type ContractRecord, type LocalState } from '../src/wallet/index.js';
import { TEST_MNEMONIC } from './helpers/mnemonic.js';

const root = mkdtempSync(join(tmpdir(), 'hashdlc-agent-loop-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => mkdtempSync(join(root, `w${n++}-`));

const A = 'aa'.repeat(32);
const B = 'bb'.repeat(32);
const TX = 'cc'.repeat(32);

function facts(id: string, over: Partial<ContractFacts> = {}): ContractFacts {
  return {
    id, role: 'offer', state: 'offered', tip: 50, coordinator: { reachable: true, state: 'accepted' },
    fundingDeadline: 100, cetLocktime: 200, refundLocktime: 220, contractFeeRatePerVb: 2n,
    funding: null, attested: null, pending: null, ...over,
  };
}

/** An observer whose facts the test sets; it sees the journal like the real one. */
class FakeObserver implements AgentObserver {
  facts: (j: JournalView) => ContractFacts[] = () => [];
  tip = 50;
  fail: Error | undefined;
  passes = 0;
  async observe(journal: JournalView): Promise<Observation> {
    this.passes++;
    if (this.fail !== undefined) throw this.fail;
    return { tip: this.tip, facts: this.facts(journal).map((f) => ({ ...f, tip: this.tip })), errors: [] };
  }
}

/** Actions that record each call; `behave` decides per call what happens. */
function fakeActions(behave: (call: string) => Promise<ActionResult> = async () => ({})): { actions: AgentActions; calls: string[] } {
  const calls: string[] = [];
  const one = (kind: string) => async (input: { id?: string; txid?: string; feeRatePerVb?: bigint; positionId?: string }): Promise<ActionResult> => {
    const call = `${kind}:${input.id ?? `${input.txid}@${input.feeRatePerVb}`}${input.positionId === undefined ? '' : `@${input.positionId}`}`;
    calls.push(call);
    return behave(call);
  };
  return {
    calls,
    actions: {
      sign: one('sign'), fund: one('fund'), settle: one('settle'), refund: one('refund'), cancel: one('cancel'), bump: one('bump'),
      consent: one('consent'), release: one('release'), fundTransfer: one('fundTransfer'), dropTransfer: one('dropTransfer'),
    },
  };
}

function loop(dir: string, observer: AgentObserver, actions: AgentActions, policy: AgentPolicy = DEFAULT_POLICY): { loop: AgentLoop; lines: AgentLogLine[]; journal: AgentJournal } {
  const lines: AgentLogLine[] = [];
  const journal = new AgentJournal(dir);
  const clock = new Date('2026-01-01T00:00:00Z');
  return { loop: new AgentLoop({ observer, actions, journal, policy, log: (l) => lines.push(l), now: () => clock }), lines, journal };
}

function journalLines(dir: string): Record<string, unknown>[] {
  return readFileSync(join(dir, JOURNAL_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

const never = new AbortController().signal;

describe('agent loop', () => {
  it('runs the decided action once per contract, journals intent then outcome, logs one line each', async () => {
    const dir = freshDir();
    const obs = new FakeObserver();
    obs.facts = () => [facts(A), facts(B, { role: 'accept', state: 'accepted', coordinator: { reachable: true, state: 'signed' } }), facts('dd'.repeat(32), { coordinator: { reachable: true, state: 'offered' } })];
    const { actions, calls } = fakeActions(async (c) => (c.startsWith('fund') ? { state: 'funding-broadcast', txid: TX } : { state: 'signed' }));
    const { loop: l, lines } = loop(dir, obs, actions);
    expect(await l.run({ once: true, signal: never })).toBe(0);
    expect(calls).toEqual([`sign:${A}`, `fund:${B}`]);
    expect(lines.map((x) => [x.id, x.action, x.ok])).toEqual([[A, 'sign', true], [B, 'fund', true]]);
    expect(lines[1]!.result).toEqual({ state: 'funding-broadcast', txid: TX });
    const j = journalLines(dir);
    expect(j.map((e) => [e.seq, e.type])).toEqual([[0, 'intent'], [0, 'outcome'], [1, 'intent'], [1, 'outcome']]);
    expect(j[2]!.action).toMatchObject({ kind: 'fund', id: B });
  });

  it('after a crash between intent and outcome, replays the same action once, not a new decision', async () => {
    const dir = freshDir();
    // The first run journalled "sign A" and was killed inside it (no outcome).
    new AgentJournal(dir).intent({ kind: 'sign', id: A, why: 'accepted by the buyer' }, '2026-01-01T00:00:00Z');
    // Meanwhile the deadline passed: a fresh decision would be `cancel`.
    const obs = new FakeObserver();
    obs.tip = 100;
    obs.facts = () => [facts(A, { state: 'signed', coordinator: { reachable: true, state: 'accepted' } })];
    const { actions, calls } = fakeActions(async () => {
      throw new ParticipantError('EXPIRED', 'funding deadline passed', { reason: 'funding-deadline-passed' });
    });
    const first = loop(dir, obs, actions);
    expect(await first.loop.run({ once: true, signal: never })).toBe(1);
    expect(calls).toEqual([`sign:${A}`]);
    expect(first.lines).toHaveLength(1);
    expect(first.lines[0]).toMatchObject({ id: A, action: 'sign', replay: true, ok: false, error: { code: 'EXPIRED (funding-deadline-passed)' } });
    const j = journalLines(dir);
    expect(j.map((e) => [e.seq, e.type])).toEqual([[0, 'intent'], [0, 'outcome']]);

    // Restarted again: the intent has its outcome, nothing is replayed; the decision now is cancel.
    calls.length = 0;
    const { actions: a2, calls: c2 } = fakeActions();
    const second = loop(dir, obs, a2);
    expect(second.journal.unfinished()).toEqual([]);
    expect(await second.loop.run({ once: true, signal: never })).toBe(0);
    expect(c2).toEqual([`cancel:${A}`]);
  });

  it('a successful replay is not run again at the next start', async () => {
    const dir = freshDir();
    new AgentJournal(dir).intent({ kind: 'settle', id: A, why: 'attested' }, '2026-01-01T00:00:00Z');
    const obs = new FakeObserver();
    obs.facts = () => [];
    const { actions, calls } = fakeActions(async () => ({ state: 'settled', txid: TX, alreadyDone: true }));
    expect(await loop(dir, obs, actions).loop.run({ once: true, signal: never })).toBe(0);
    expect(await loop(dir, obs, actions).loop.run({ once: true, signal: never })).toBe(0);
    expect(calls).toEqual([`settle:${A}`]);
  });

  it('replays a bump with its txid and rate, and remembers a successful bump across restarts', async () => {
    const dir = freshDir();
    const bump: AgentAction = { kind: 'bump', id: A, txid: TX, feeRatePerVb: 12n, why: 'stuck' };
    new AgentJournal(dir).intent(bump, '2026-01-01T00:00:00Z');
    const obs = new FakeObserver();
    const { actions, calls } = fakeActions(async () => ({ txid: 'ee'.repeat(32) }));
    const l = loop(dir, obs, actions);
    await l.loop.run({ once: true, signal: never });
    expect(calls).toEqual([`bump:${TX}@12`]);
    expect(new AgentJournal(dir).bumpedTo(TX)).toBe(12n);
  });

  it('skips a torn last line (a crash inside the write): its action never started', async () => {
    const dir = freshDir();
    const j = new AgentJournal(dir);
    const seq = j.intent({ kind: 'sign', id: A, why: 'x' }, '2026-01-01T00:00:00Z');
    j.outcome(seq, '2026-01-01T00:00:01Z', { ok: true, result: {} });
    appendFileSync(join(dir, JOURNAL_FILE), '{"seq":1,"at":"2026-01-01T00:00:02Z","type":"intent","act');
    const reopened = new AgentJournal(dir);
    expect(reopened.unfinished()).toEqual([]);
    // Numbering goes on after the last whole line.
    expect(reopened.intent({ kind: 'fund', id: B, why: 'y' }, '2026-01-01T00:00:03Z')).toBe(1);
  });

  it('a failed action is not retried at the same tip, and is at the next block', async () => {
    const dir = freshDir();
    const obs = new FakeObserver();
    obs.facts = () => [facts(A)];
    let fail = true;
    const { actions, calls } = fakeActions(async () => {
      if (fail) throw new ParticipantError('UNREACHABLE', 'coordinator at x is unreachable');
      return { state: 'signed' };
    });
    const { loop: l, lines } = loop(dir, obs, actions);
    expect(await l.pass(never)).toEqual({ acted: 1, failed: 1 });
    expect(await l.pass(never)).toEqual({ acted: 0, failed: 0 });
    obs.tip = 51;
    fail = false;
    expect(await l.pass(never)).toEqual({ acted: 1, failed: 0 });
    expect(calls).toEqual([`sign:${A}`, `sign:${A}`]);
    expect(lines.map((x) => x.ok)).toEqual([false, true]);
  });

  it('--once: exit 1 when the node cannot be read, logged as a failed observation', async () => {
    const obs = new FakeObserver();
    obs.fail = new ParticipantError('CONFIG', 'no Bitcoin node: pass --rpc-url URL or set HASHDLC_RPC_URL');
    const { actions, calls } = fakeActions();
    const { loop: l, lines } = loop(freshDir(), obs, actions);
    expect(await l.run({ once: true, signal: never })).toBe(1);
    expect(calls).toEqual([]);
    expect(lines).toEqual([{ at: '2026-01-01T00:00:00.000Z', id: null, action: 'observe', ok: false, error: { code: 'CONFIG', message: 'no Bitcoin node: pass --rpc-url URL or set HASHDLC_RPC_URL' } }]);
  });

  it('--once: exit 0 with nothing to do', async () => {
    const obs = new FakeObserver();
    obs.facts = () => [facts(A, { coordinator: { reachable: true, state: 'offered' } })];
    const { actions, calls } = fakeActions();
    expect(await loop(freshDir(), obs, actions).loop.run({ once: true, signal: never })).toBe(0);
    expect(calls).toEqual([]);
    expect(obs.passes).toBe(1);
  });

  it('a contract that cannot be observed is logged and fails --once, the others still act', async () => {
    const obs: AgentObserver = {
      observe: async () => ({ tip: 50, facts: [facts(A)], errors: [{ id: B, error: new Error('contract file is unreadable') }] }),
    };
    const { actions, calls } = fakeActions();
    const { loop: l, lines } = loop(freshDir(), obs, actions);
    expect(await l.run({ once: true, signal: never })).toBe(1);
    expect(calls).toEqual([`sign:${A}`]);
    expect(lines[0]).toMatchObject({ id: B, action: 'observe', ok: false, error: { code: 'Error' } });
  });

  it('a stop signal during an action lets it finish and journal its outcome, then stops (exit 0)', async () => {
    const dir = freshDir();
    const obs = new FakeObserver();
    obs.facts = () => [facts(A), facts(B)];
    const stop = new AbortController();
    const { actions, calls } = fakeActions(async () => {
      stop.abort(); // SIGTERM arrives while the first action runs
      await new Promise((r) => setTimeout(r, 20));
      return { state: 'signed' };
    });
    const { loop: l } = loop(dir, obs, actions, withOverrides(DEFAULT_POLICY, { intervalSeconds: 3600 }));
    expect(await l.run({ once: false, signal: stop.signal })).toBe(0);
    expect(calls).toEqual([`sign:${A}`]);
    expect(journalLines(dir).map((e) => e.type)).toEqual(['intent', 'outcome']);
  });

  it('runs passes every interval until stopped', async () => {
    const obs = new FakeObserver();
    const stop = new AbortController();
    obs.facts = () => {
      if (obs.passes >= 3) stop.abort();
      return [];
    };
    const { actions } = fakeActions();
    const { loop: l } = loop(freshDir(), obs, actions, withOverrides(DEFAULT_POLICY, { intervalSeconds: 0.05 }));
    expect(await l.run({ once: false, signal: stop.signal })).toBe(0);
    expect(obs.passes).toBe(3);
  });

  it('passes the journal to the observer (a bump that succeeded is a fact)', async () => {
    const dir = freshDir();
    const j = new AgentJournal(dir);
    const txid = 'dd'.repeat(32);
    j.outcome(j.intent({ kind: 'bump', id: A, txid, feeRatePerVb: 9n, why: 'stuck' }, 't'), 't', { ok: true, result: {} });
    const obs = new FakeObserver();
    let seen: bigint | undefined;
    obs.facts = (journal) => {
      seen = journal.bumpedTo(txid);
      return [];
    };
    await loop(dir, obs, fakeActions().actions).loop.run({ once: true, signal: never });
    expect(seen).toBe(9n);
  });
});

describe('participantActions: the binding to the use cases', () => {
  /** Runs `fn` with a participant on a fresh wallet (no coordinator, oracle or node), closed afterwards. */
  async function withParticipant(fn: (p: Participant) => Promise<void>): Promise<void> {
    const dir = freshDir();
    Wallet.init(dir, 'regtest', TEST_MNEMONIC);
    const p = new Participant({ network: 'regtest', networkGiven: false, walletDir: dir, coordinator: undefined, oracles: [], oraclePubkeys: [], oracleThreshold: undefined, rpc: undefined, feeRatePerVb: undefined, threads: 0 });
    try {
      await fn(p);
    } finally {
      await p.close();
    }
  }
  function record(state: LocalState, role: 'offer' | 'accept'): ContractRecord {
    return {
      version: 1, id: A, role, network: 'regtest', keyIndex: 0, state, history: [{ state, at: '2026-01-01T00:00:00.000Z' }],
      hashProfile: 'sha256', terms: {}, offer: '00', reservedOutpoints: [], fundingTxid: TX,
    } as ContractRecord;
  }

  it('an unknown contract: the use case\'s own error, as `hashdlc sign`/`fund` give it', () =>
    withParticipant(async (p) => {
      const a = participantActions(p);
      await expect(a.sign({ id: A })).rejects.toMatchObject({ code: 'WALLET_CONTRACT_NOT_FOUND' });
      await expect(a.fund({ id: A })).rejects.toMatchObject({ code: 'WALLET_CONTRACT_NOT_FOUND' });
      await expect(a.settle({ id: A })).rejects.toMatchObject({ code: 'WALLET_CONTRACT_NOT_FOUND' });
    }));

  it('a replayed sign or fund whose step the record shows done is reported done, nothing sent (no coordinator configured)', () =>
    withParticipant(async (p) => {
      p.wallet().contracts.save(record('signed', 'offer'));
      const a = participantActions(p);
      expect(await a.sign({ id: A })).toEqual({ state: 'signed', alreadyDone: true });
      p.wallet().contracts.save(record('funding-broadcast', 'accept'));
      expect(await a.fund({ id: A })).toEqual({ state: 'funding-broadcast', txid: TX, alreadyDone: true });
    }));

  it('a sign on a record not marked signed goes to the use case (here: it decodes the stored offer, a broken one is refused)', () =>
    withParticipant(async (p) => {
      p.wallet().contracts.save(record('accepted', 'accept'));
      // The binding does not shortcut it: the use case loads the contract and its offer_dlc ('00') is truncated.
      await expect(participantActions(p).sign({ id: A })).rejects.toThrow(/offer_dlc/);
    }));
});
