/**
 * The agent on a strip (issue 12): N period records funded by ONE
 * transaction. `decide` gives the strip's funding steps (sign, fund, cancel,
 * the bump of the shared funding transaction) to period 1 alone, whose id is
 * the strip id the use cases take, and settles/refunds each period on its
 * own facts (its own locktimes and attestation); the loop takes one action
 * once per pass even when several contracts decide it; `factsOf` carries the
 * period's place.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AgentActions } from '../src/agent/actions.js';
import { decide } from '../src/agent/decide.js';
import type { ContractFacts } from '../src/agent/facts.js';
import { AgentJournal } from '../src/agent/journal.js';
import { AgentLoop } from '../src/agent/loop.js';
import { factsOf, stripLeads, type AgentObserver, type Observation } from '../src/agent/observe.js';
import { DEFAULT_POLICY, withOverrides } from '../src/agent/policy.js';
import type { LoadedContract } from '../src/participant/contract.js';

const root = mkdtempSync(join(tmpdir(), 'hashdlc-agent-strip-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const STRIP = 'a1'.repeat(32);
const PERIOD_IDS = [STRIP, 'a2'.repeat(32), 'a3'.repeat(32)];
const FUNDING = 'cd'.repeat(32);

/**
 * Period i of a 3-period strip; deadline 100; period i's CET locktime 200 + 10i, refund 220 + 10i.
 * Before funding, every period sits in the same state (one round of negotiation).
 */
function period(i: number, over: Partial<ContractFacts> = {}): ContractFacts {
  return {
    id: PERIOD_IDS[i]!,
    role: 'offer',
    state: 'offered',
    tip: 50,
    coordinator: { reachable: true, state: 'offered' },
    fundingDeadline: 100,
    cetLocktime: 200 + 10 * i,
    refundLocktime: 220 + 10 * i,
    contractFeeRatePerVb: 2n,
    funding: null,
    attested: null,
    pending: null,
    strip: { id: STRIP, index: i, periods: 3 },
    ...over,
  };
}
const all = (over: Partial<ContractFacts>): ContractFacts[] => [0, 1, 2].map((i) => period(i, over));
const coord = (state: string) => ({ reachable: true as const, state });
const funded = { state: 'confirmed' as const, coordinator: coord('confirmed'), funding: { txid: FUNDING, confirmations: 3, spent: false } };
const bumpOn = withOverrides(DEFAULT_POLICY, { bumpAfterBlocks: 6, bumpFeeRatePerVb: 10n });

describe('decide on a strip', () => {
  it('signs once, from period 1, with the strip id', () => {
    const actions = all({ coordinator: coord('accepted') }).map((f) => decide(f, DEFAULT_POLICY));
    expect(actions[0]).toMatchObject({ kind: 'sign', id: STRIP });
    expect(actions[0]!.why).toContain("the strip's 3 periods at once");
    expect(actions.slice(1)).toEqual([null, null]);
  });

  it('funds once (accepter), from period 1', () => {
    const actions = all({ role: 'accept', state: 'accepted', coordinator: coord('signed') }).map((f) => decide(f, DEFAULT_POLICY));
    expect(actions.map((a) => a?.kind ?? null)).toEqual(['fund', null, null]);
    expect(actions[0]!.id).toBe(STRIP);
  });

  it('cancels once at the funding deadline (the shared inputs are double-spent once)', () => {
    const actions = all({ state: 'signed', coordinator: coord('signed'), tip: 100 }).map((f) => decide(f, DEFAULT_POLICY));
    expect(actions.map((a) => a?.kind ?? null)).toEqual(['cancel', null, null]);
    expect(actions[0]!.id).toBe(STRIP);
  });

  it('a crash that cancelled period 1 alone: the rest are cancelled once, from the first open period (its lead)', () => {
    // The records: period 1 cancelled (the crash came between two saves), 2 and 3 still signed.
    const records = [0, 1, 2].map((i) => ({ state: i === 0 ? 'cancelled' as const : 'signed' as const, strip: { id: STRIP, terms: {}, batch: { index: i, contracts: [] } } }));
    const leads = stripLeads(records);
    expect(leads.get(STRIP)).toBe(1);
    // The observer skips the ended period 1; periods 2 and 3 carry lead 1.
    const facts = [1, 2].map((i) => period(i, { state: 'signed', coordinator: coord('signed'), tip: 100, strip: { id: STRIP, index: i, periods: 3, lead: leads.get(STRIP)! } }));
    const actions = facts.map((f) => decide(f, DEFAULT_POLICY));
    expect(actions.map((a) => a && [a.kind, a.id])).toEqual([['cancel', PERIOD_IDS[1]], null]);
    // Every period open: period 1 leads.
    expect(stripLeads(records.map((r) => ({ ...r, state: 'signed' as const }))).get(STRIP)).toBe(0);
  });

  it('bumps the shared funding transaction once, from period 1', () => {
    const stuck = { txid: FUNDING, kind: 'funding' as const, feeRatePerVb: 1n, waitedBlocks: 6, bumpedToPerVb: undefined };
    const facts = all({ state: 'funding-broadcast', coordinator: coord('funding-broadcast'), funding: { txid: FUNDING, confirmations: 0 }, pending: stuck });
    expect(facts.map((f) => decide(f, bumpOn)?.kind ?? null)).toEqual(['bump', null, null]);
  });

  it('bumps each period\'s own closing transaction (they differ)', () => {
    const closing = (i: number) => ({ txid: `e${i}`.repeat(32), kind: 'closing' as const, feeRatePerVb: 1n, waitedBlocks: 6, bumpedToPerVb: undefined });
    const actions = [0, 1, 2].map((i) => decide(period(i, { state: 'settled', pending: closing(i) }), bumpOn));
    expect(actions.map((a) => (a?.kind === 'bump' ? a.txid : null))).toEqual([closing(0).txid, closing(1).txid, closing(2).txid]);
  });

  it('settles each attested period at its own CET locktime, refunds a silent one at its own refund locktime', () => {
    // Tip 235: every CET locktime (200, 210, 220) reached; period 2's oracle silent and its refund locktime 230 reached.
    const tip = 235;
    const actions = [
      decide(period(0, { ...funded, tip, attested: true }), DEFAULT_POLICY),
      decide(period(1, { ...funded, tip, attested: false }), DEFAULT_POLICY),
      decide(period(2, { ...funded, tip, attested: true }), DEFAULT_POLICY),
    ];
    expect(actions.map((a) => a && [a.kind, a.id])).toEqual([['settle', PERIOD_IDS[0]], ['refund', PERIOD_IDS[1]], ['settle', PERIOD_IDS[2]]]);
    expect(actions[1]!.why).toContain('period 2 of 3');
  });

  it('a silent period waits for its OWN refund locktime; a period someone closed is left alone', () => {
    // Period 3's refund locktime is 240 (period 2's, 230, does not count for it).
    expect(decide(period(2, { ...funded, tip: 239, attested: false }), DEFAULT_POLICY)).toBeNull();
    expect(decide(period(2, { ...funded, tip: 240, attested: false }), DEFAULT_POLICY)).toMatchObject({ kind: 'refund', id: PERIOD_IDS[2] });
    expect(decide(period(1, { ...funded, tip: 300, attested: true, funding: { txid: FUNDING, confirmations: 9, spent: true } }), DEFAULT_POLICY)).toBeNull();
  });
});

describe('the loop on a strip', () => {
  /** An observer serving fixed facts. */
  const observer = (facts: ContractFacts[], tip: number): AgentObserver => ({
    observe: async (): Promise<Observation> => ({ tip, facts: facts.map((f) => ({ ...f, tip })), errors: [] }),
  });
  function recording(): { actions: AgentActions; calls: string[] } {
    const calls: string[] = [];
    const one = (kind: string) => async (input: { id?: string; txid?: string }) => {
      calls.push(`${kind}:${input.id ?? input.txid}`);
      return {};
    };
    return {
      calls,
      actions: {
        sign: one('sign'), fund: one('fund'), settle: one('settle'), refund: one('refund'), cancel: one('cancel'), bump: one('bump'),
        consent: one('consent'), release: one('release'), fundTransfer: one('fundTransfer'), dropTransfer: one('dropTransfer'),
      },
    };
  }
  it('one pass: one sign for the strip, not three', async () => {
    const dir = mkdtempSync(join(root, 'w-'));
    const { actions, calls } = recording();
    const loop = new AgentLoop({ observer: observer(all({ coordinator: coord('accepted') }), 50), actions, journal: new AgentJournal(dir), policy: DEFAULT_POLICY, log: () => undefined });
    const r = await loop.pass();
    expect(r).toEqual({ acted: 1, failed: 0 });
    expect(calls).toEqual([`sign:${STRIP}`]);
  });

  it('one pass: each settleable period settles once, the silent one refunds', async () => {
    const dir = mkdtempSync(join(root, 'w-'));
    const { actions, calls } = recording();
    const facts = [period(0, { ...funded, attested: true }), period(1, { ...funded, attested: false }), period(2, { ...funded, attested: true })];
    const loop = new AgentLoop({ observer: observer(facts, 240), actions, journal: new AgentJournal(dir), policy: DEFAULT_POLICY, log: () => undefined });
    await loop.pass();
    expect(calls).toEqual([`settle:${PERIOD_IDS[0]}`, `refund:${PERIOD_IDS[1]}`, `settle:${PERIOD_IDS[2]}`]);
  });

  it('an action several contracts decide in one pass runs once (the same funding bump)', async () => {
    const dir = mkdtempSync(join(root, 'w-'));
    const { actions, calls } = recording();
    const stuck = { txid: FUNDING, kind: 'funding' as const, feeRatePerVb: 1n, waitedBlocks: 6, bumpedToPerVb: undefined };
    // Two single contracts (no strip place) over one stuck transaction: decide bumps for both; the loop once.
    const two = [0, 1].map((i) => ({ ...period(i, { state: 'funding-broadcast', coordinator: coord('funding-broadcast'), funding: { txid: FUNDING, confirmations: 0 }, pending: stuck }), strip: undefined }));
    const loop = new AgentLoop({ observer: observer(two, 60), actions, journal: new AgentJournal(dir), policy: bumpOn, log: () => undefined });
    const r = await loop.pass();
    expect(calls).toEqual([`bump:${FUNDING}`]);
    expect(r.acted).toBe(1);
  });
});

describe('factsOf on a strip period', () => {
  it('carries the period\'s place from the record', () => {
    const c = {
      record: { id: PERIOD_IDS[1]!, role: 'offer', state: 'confirmed', strip: { id: STRIP, terms: {}, batch: { index: 1, contracts: [{}, {}, {}] } } },
      offer: { cetLocktime: 210, refundLocktime: 230, feeRatePerVb: 2n },
      terms: { fundingDeadline: 100 },
    } as unknown as Pick<LoadedContract, 'record' | 'offer' | 'terms'>;
    const f = factsOf(c, { tip: 1, coordinator: { reachable: false }, funding: null, attested: null, pending: null }, { bumpedTo: () => undefined });
    expect(f.strip).toEqual({ id: STRIP, index: 1, periods: 3 });
    expect(f).toMatchObject({ cetLocktime: 210, refundLocktime: 230 });
  });
});
