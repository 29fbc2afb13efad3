/**
 * The agent's part in position transfers (issue 14): `decide` for the
 * stayer's consent, the seller's release and the taker's funding (the
 * signing order, the policy switches, the window, a transferred contract
 * never cancelled at the old terms' deadline); the journal replaying a
 * consent with its position; `factsOf` carrying the position; and the
 * binding's "already done" answers read from a real HTTP coordinator
 * (127.0.0.1) whose position says the step was taken: nothing is posted.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { participantActions, type AgentActions } from '../src/agent/actions.js';
import { decide, type AgentAction } from '../src/agent/decide.js';
import type { ContractFacts, PositionFact } from '../src/agent/facts.js';
import { AgentJournal } from '../src/agent/journal.js';
import { AgentLoop } from '../src/agent/loop.js';
import { factsOf } from '../src/agent/observe.js';
import { DEFAULT_POLICY, parsePolicy, withOverrides, type AgentPolicy } from '../src/agent/policy.js';
import { policyOverrides } from '../src/cli/agent.js';
import { Participant } from '../src/participant/participant.js';
import { Wallet, type ContractRecord, type LocalState } from '../src/wallet/index.js';
import { TEST_MNEMONIC } from './helpers/mnemonic.js';

const root = mkdtempSync(join(tmpdir(), 'hashdlc-agent-position-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => mkdtempSync(join(root, `w${n++}-`));

const ID = 'ab'.repeat(32);
const FUNDING = 'cd'.repeat(32);
const POS = '0f'.repeat(16);
const TRANSFER = 'ee'.repeat(32);

/** CET locktime 200, transfer window open to 197; tip 150: mid-window. */
function facts(over: Partial<ContractFacts>): ContractFacts {
  return {
    id: ID, role: 'offer', state: 'confirmed', tip: 150, coordinator: { reachable: true, state: 'confirmed' },
    fundingDeadline: 100, cetLocktime: 200, refundLocktime: 220, contractFeeRatePerVb: 2n,
    funding: { txid: FUNDING, confirmations: 10, spent: false }, attested: null, pending: null, ...over,
  };
}
function position(part: PositionFact['part'], over: Partial<PositionFact> = {}): PositionFact {
  return { part, positionId: POS, state: 'taken', consented: false, released: false, funded: false, lastHeight: 197, ...over };
}
/** The taker's new contract before its transfer is broadcast: the coordinator does not know it yet, no funding seen. */
const takerNew = (p: Partial<PositionFact> = {}, over: Partial<ContractFacts> = {}): Partial<ContractFacts> => ({
  role: 'accept', state: 'accepted', coordinator: { reachable: true, state: null }, funding: null, transferred: true, position: position('taker', p), ...over,
});
const stayer = (p: Partial<PositionFact> = {}): Partial<ContractFacts> => ({ position: position('stayer', p) });
const seller = (p: Partial<PositionFact> = {}): Partial<ContractFacts> => ({ role: 'accept', position: position('seller', p) });
const off = (o: Parameters<typeof withOverrides>[1]): AgentPolicy => withOverrides(DEFAULT_POLICY, o);

type Row = [string, Partial<ContractFacts>, AgentPolicy, Partial<AgentAction> | null];

const ROWS: Row[] = [
  // ---- the stayer (our offered contract, its buyer side taken)
  ['stayer: taken, not consented -> consent', stayer(), DEFAULT_POLICY, { kind: 'consent', id: ID, positionId: POS }],
  ['stayer: consented already -> nothing', stayer({ consented: true }), DEFAULT_POLICY, null],
  ['stayer: autoConsentTransfer off -> nothing', stayer(), off({ autoConsentTransfer: false }), null],
  ['stayer: listed, nobody took it -> nothing', stayer({ state: 'listed' }), DEFAULT_POLICY, null],
  ['stayer: the window closed (tip past the last height) -> nothing', { ...stayer(), tip: 198 }, DEFAULT_POLICY, null],
  ['stayer: at the last height -> consent', { ...stayer(), tip: 197 }, DEFAULT_POLICY, { kind: 'consent' }],
  ['stayer: old funding output spent (a CET, or the transfer itself) -> nothing', { ...stayer(), funding: { txid: FUNDING, confirmations: 10, spent: true } }, DEFAULT_POLICY, null],
  ['stayer: funding not confirmed -> nothing', { ...stayer(), funding: { txid: FUNDING, confirmations: 0 } }, DEFAULT_POLICY, null],
  ['stayer: roles accept only -> nothing', stayer(), off({ roles: ['accept'] }), null],
  ['stayer: attested and CET locktime reached -> settle, not consent', { ...stayer(), tip: 200, attested: true }, DEFAULT_POLICY, { kind: 'settle' }],
  ['a stayer fact on an accepted contract (not ours to consent) -> nothing', { ...stayer(), role: 'accept' }, DEFAULT_POLICY, null],
  // ---- the seller (our accepted contract, listed)
  ['seller: taken and consented -> release', seller({ consented: true }), DEFAULT_POLICY, { kind: 'release', id: ID, positionId: POS }],
  ['seller: taken, not consented yet (the stayer signs first) -> nothing', seller(), DEFAULT_POLICY, null],
  ['seller: released already -> nothing', seller({ consented: true, released: true }), DEFAULT_POLICY, null],
  ['seller: autoRelease off -> nothing', seller({ consented: true }), off({ autoRelease: false }), null],
  ['seller: window closed -> nothing', { ...seller({ consented: true }), tip: 198 }, DEFAULT_POLICY, null],
  ['seller: cancelled position -> nothing', seller({ consented: true, state: 'cancelled' }), DEFAULT_POLICY, null],
  // ---- the taker (our new contract, funded by the transfer)
  ['taker: consented -> fundTransfer', takerNew({ consented: true }), DEFAULT_POLICY, { kind: 'fundTransfer', id: ID, positionId: POS }],
  ['taker: consented and released -> fundTransfer', takerNew({ consented: true, released: true }), DEFAULT_POLICY, { kind: 'fundTransfer' }],
  ['taker: not consented -> nothing (never a cancel at the old terms\' deadline)', takerNew(), DEFAULT_POLICY, null],
  ['taker: funded already -> nothing', takerNew({ consented: true, funded: true }), DEFAULT_POLICY, null],
  ['taker: autoFundTransfer off -> nothing', takerNew({ consented: true }), off({ autoFundTransfer: false }), null],
  ['taker: position expired -> dropTransfer (frees our coins; the use case checks our node first)', takerNew({ consented: true, state: 'expired' }), DEFAULT_POLICY, { kind: 'dropTransfer', id: ID, positionId: POS }],
  ['taker: position failed -> dropTransfer', takerNew({ consented: true, state: 'failed' }), DEFAULT_POLICY, { kind: 'dropTransfer', id: ID, positionId: POS }],
  ['taker: position back on the book (our take dropped) -> dropTransfer', takerNew({ state: 'listed' }), DEFAULT_POLICY, { kind: 'dropTransfer', id: ID, positionId: POS }],
  ['taker: position cancelled by the seller -> dropTransfer', takerNew({ state: 'cancelled' }), DEFAULT_POLICY, { kind: 'dropTransfer', id: ID, positionId: POS }],
  ['taker: the coordinator unreachable, no position fact -> nothing', takerNew({}, { position: undefined, coordinator: { reachable: false } }), DEFAULT_POLICY, null],
  ['taker: roles offer only -> nothing', takerNew({ consented: true }), off({ roles: ['offer'] }), null],
  // ---- a transferred contract once its transfer is out: the ordinary contract's rules
  ['new contract, transfer broadcast (coordinator funding-broadcast, mempool) -> nothing to do yet', takerNew({ state: 'broadcast', consented: true, released: true, funded: true }, { coordinator: { reachable: true, state: 'funding-broadcast' }, funding: { txid: TRANSFER, confirmations: 0 } }), DEFAULT_POLICY, null],
  ['new contract confirmed, attested, CET locktime reached -> settle', takerNew({ state: 'transferred' }, { state: 'funding-broadcast', coordinator: { reachable: true, state: 'confirmed' }, funding: { txid: TRANSFER, confirmations: 5, spent: false }, tip: 200, attested: true }), DEFAULT_POLICY, { kind: 'settle' }],
  ['the stayer\'s new contract (signed, not broadcast) -> nothing, not cancel', { role: 'offer', state: 'signed', coordinator: { reachable: true, state: null }, funding: null, transferred: true }, DEFAULT_POLICY, null],
];

describe('decide: position transfers (issue 14)', () => {
  it.each(ROWS)('%s', (_name, over, policy, expected) => {
    const got = decide(facts(over), policy);
    if (expected === null) expect(got).toBeNull();
    else expect(got).toMatchObject(expected);
  });

  it('the policy file and the flags switch each step off (defaults on)', () => {
    expect([DEFAULT_POLICY.autoConsentTransfer, DEFAULT_POLICY.autoRelease, DEFAULT_POLICY.autoFundTransfer]).toEqual([true, true, true]);
    const p = parsePolicy({ autoConsentTransfer: false, autoRelease: false, autoFundTransfer: false });
    expect([p.autoConsentTransfer, p.autoRelease, p.autoFundTransfer]).toEqual([false, false, false]);
    expect(() => parsePolicy({ autoConsent: false })).toThrow(/autoConsent/);
    expect(policyOverrides({ 'no-auto-consent': true, 'no-auto-release': true, 'no-auto-fund-transfer': true })).toEqual({ autoConsentTransfer: false, autoRelease: false, autoFundTransfer: false });
  });
});

describe('factsOf and the journal with a position', () => {
  it('factsOf marks a record set up by a transfer and carries the position fact', () => {
    const record = { id: ID, role: 'accept', state: 'accepted', transfer: { positionId: POS, terms: {}, from: FUNDING } } as unknown as ContractRecord;
    const c = { record, offer: { cetLocktime: 200, refundLocktime: 220, feeRatePerVb: 2n }, terms: { fundingDeadline: 100 } } as unknown as Parameters<typeof factsOf>[0];
    const f = factsOf(c, { tip: 150, coordinator: { reachable: true, state: null }, funding: null, attested: null, pending: null, position: position('taker', { consented: true }) }, { bumpedTo: () => undefined });
    expect(f.transferred).toBe(true);
    expect(f.position).toEqual(position('taker', { consented: true }));
    expect(decide(f, DEFAULT_POLICY)).toMatchObject({ kind: 'fundTransfer', positionId: POS });
  });

  it('a consent a crash left without an outcome is replayed with its position, once', async () => {
    const dir = freshDir();
    new AgentJournal(dir).intent({ kind: 'consent', id: ID, positionId: POS, why: 'taken' }, '2026-01-01T00:00:00Z');
    const calls: string[] = [];
    const rec = (kind: string) => async (input: { id?: string; positionId?: string }) => {
      calls.push(`${kind}:${input.id}:${input.positionId}`);
      return { state: 'taken', alreadyDone: true };
    };
    const actions = {
      sign: rec('sign'), fund: rec('fund'), settle: rec('settle'), refund: rec('refund'), cancel: rec('cancel'), bump: rec('bump'),
      consent: rec('consent'), release: rec('release'), fundTransfer: rec('fundTransfer'), dropTransfer: rec('dropTransfer'),
    } as AgentActions;
    const lines: unknown[] = [];
    const mk = (): AgentLoop => new AgentLoop({ observer: { observe: async () => ({ tip: 150, facts: [], errors: [] }) }, actions, journal: new AgentJournal(dir), policy: DEFAULT_POLICY, log: (l) => lines.push(l) });
    const never = new AbortController().signal;
    expect(await mk().run({ once: true, signal: never })).toBe(0);
    expect(await mk().run({ once: true, signal: never })).toBe(0);
    expect(calls).toEqual([`consent:${ID}:${POS}`]);
    expect(lines[0]).toMatchObject({ action: 'consent', positionId: POS, replay: true, ok: true, result: { alreadyDone: true } });
  });
});

describe('participantActions: a step the coordinator took already is done, not posted again', () => {
  let server: Server;
  let url = '';
  /** What the fake coordinator's position says; every request is recorded. */
  let flags = { consented: true, released: true, funded: true };
  const requests: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      if (req.method === 'GET' && req.url === `/v1/positions/${POS}`) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({
          id: POS, state: 'taken', contractId: ID, side: 'accept', price: '1000', sellerSpk: '0014' + '11'.repeat(20), terms: {},
          cetLocktime: 200, lastHeight: 197, createdAt: 1, updatedAt: 2, newContractId: FUNDING, takerIdentity: null, transferTxid: TRANSFER, ...flags,
        }));
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no such route' } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = server.address();
    url = `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  async function withParticipant(fn: (p: Participant) => Promise<void>): Promise<void> {
    const dir = freshDir();
    Wallet.init(dir, 'regtest', TEST_MNEMONIC);
    const p = new Participant({ network: 'regtest', networkGiven: false, walletDir: dir, coordinator: url, oracles: [], oraclePubkeys: [], oracleThreshold: undefined, rpc: undefined, feeRatePerVb: undefined, threads: 0 });
    try {
      await fn(p);
    } finally {
      await p.close();
    }
  }
  function record(state: LocalState, role: 'offer' | 'accept', over: Partial<ContractRecord> = {}): ContractRecord {
    return {
      version: 1, id: ID, role, network: 'regtest', keyIndex: 0, state, history: [{ state, at: '2026-01-01T00:00:00.000Z' }],
      hashProfile: 'sha256', terms: {}, offer: '00', reservedOutpoints: [], ...over,
    } as ContractRecord;
  }

  it('consent, release and fundTransfer read the position: consented, released, funded -> already done, only GETs sent', () =>
    withParticipant(async (p) => {
      flags = { consented: true, released: true, funded: true };
      requests.length = 0;
      const a = participantActions(p);
      p.wallet().contracts.save(record('confirmed', 'offer'));
      expect(await a.consent({ id: ID, positionId: POS })).toEqual({ state: 'taken', alreadyDone: true });
      p.wallet().contracts.save(record('confirmed', 'accept', { listing: { positionId: POS, price: '1000', sellerSpk: '00' } }));
      expect(await a.release({ id: ID, positionId: POS })).toEqual({ state: 'taken', alreadyDone: true });
      p.wallet().contracts.save(record('accepted', 'accept', { transfer: { positionId: POS, terms: {}, from: FUNDING } }));
      expect(await a.fundTransfer({ id: ID, positionId: POS })).toEqual({ state: 'taken', txid: TRANSFER, alreadyDone: true });
      expect(requests.every((r) => r.startsWith('GET '))).toBe(true);
    }));

  it('our own record says released (a crash after the post, the coordinator slow to show it) -> already done', () =>
    withParticipant(async (p) => {
      flags = { consented: true, released: false, funded: false };
      p.wallet().contracts.save(record('confirmed', 'accept', { listing: { positionId: POS, price: '1000', sellerSpk: '00', released: true } }));
      expect(await participantActions(p).release({ id: ID, positionId: POS })).toMatchObject({ alreadyDone: true });
    }));

  it('a step not taken yet goes to the use case, which makes its own checks (here: a broken stored offer is refused)', () =>
    withParticipant(async (p) => {
      flags = { consented: false, released: false, funded: false };
      requests.length = 0;
      p.wallet().contracts.save(record('confirmed', 'offer'));
      await expect(participantActions(p).consent({ id: ID, positionId: POS })).rejects.toThrow(/offer_dlc/);
      // The use case refused before posting anything.
      expect(requests.filter((r) => r.startsWith('POST '))).toEqual([]);
    }));
});
