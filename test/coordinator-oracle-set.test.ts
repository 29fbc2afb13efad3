/**
 * Issue 11 at the coordinator: offers on a K-of-n oracle set and their
 * settlement, over HTTP on 127.0.0.1 (the coordinator with its dashboard,
 * five in-test oracle servers of which four are allowed, the node faked in
 * memory):
 * - a 2-of-3 offer is taken and its view lists the set;
 * - each refusal names its reason: an oracle the coordinator does not allow,
 *   an announcement other than the one its oracle publishes, announcements of
 *   different events, a threshold above n, one oracle twice, bounded
 *   differences, an allowed oracle that does not answer;
 * - the watcher settles a 2-of-4 contract from the two agreeing oracles while
 *   one is unreachable (its server closed, as a SIGKILLed oracle) and one
 *   attests another outcome; each oracle's outcome and agreement is recorded,
 *   served publicly, shown by the dashboard (DISSENT) and kept across a restart;
 * - an oracle attesting after the set settled is still asked and its dissent recorded;
 * - a 2-of-3 contract with two oracles silent is refunded at the locktime.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Transaction } from 'bitcoinjs-lib';
import type { OfferDlc, OracleAnnouncement, OracleInfo } from '../protocol/messages/index.js';
import { encodeOfferDlc, toHex } from '../protocol/messages/index.js';
import { startCoordinator, type RunningCoordinator } from '../src/coordinator/index.js';
import { dashboardRouter } from '../src/dashboard/index.js';
import { FakeChain, api, fakeChainCoordinatorConfig, identityOf, saleParties, startTestOracle, type SaleParties, type TestOracleServer } from './coordinator-fixtures.js';
import { testOracle } from './helpers/dlc-fixture.js';

const NB_DIGITS = 14;
/**
 * A, B, C, D: allowed; the outsider: not configured at the coordinator. Their announcements go into
 * maps the servers serve, so contracts are built (seconds of signing) at collection time, before any
 * server runs: signing between two requests would stall the in-process server's keep-alive timer and
 * the client could reuse a socket the server is closing (ECONNRESET).
 */
const members = ['set-a', 'set-b', 'set-c', 'set-d'].map((label) => ({ label, oracle: testOracle(label), events: new Map<string, OracleAnnouncement>() }));
const outsiderMember = { label: 'set-outsider', oracle: testOracle('set-outsider'), events: new Map<string, OracleAnnouncement>() };
type Member = typeof outsiderMember;
let dir: string;
let oracles: TestOracleServer[];
let outsider: TestOracleServer;
let chain: FakeChain;
let coord: RunningCoordinator;
let clock = Date.now();
const logs: { level: string; msg: string; fields: Record<string, unknown> }[] = [];

async function start(): Promise<RunningCoordinator> {
  return startCoordinator(fakeChainCoordinatorConfig(join(dir, 'db'), oracles.map((o) => o.url)), {
    chain, now: () => clock, watch: false, log: (level, msg, fields = {}) => { logs.push({ level, msg, fields }); }, mount: (q) => dashboardRouter(q),
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hashdlc-coord-set-'));
  oracles = await Promise.all(members.map((m) => startTestOracle(m.label, { events: m.events })));
  outsider = await startTestOracle(outsiderMember.label, { events: outsiderMember.events });
  chain = new FakeChain();
  coord = await start();
});

afterAll(async () => {
  await coord?.stop();
  await Promise.all([...(oracles ?? []), outsider].map((o) => o?.close()));
  rmSync(dir, { recursive: true, force: true });
});

/** A sale on the oracle set `set` (each announcing the same event, published at its own server) with threshold `k`. */
function setParties(label: string, set: readonly Member[], k: number, over: Partial<Parameters<typeof saleParties>[0]> = {}): SaleParties {
  const window = over.window ?? { start: 1000, end: 1100 };
  const eventId = `hashpower-delivery/${window.start}-${window.end}/100ths/${label}`;
  const anns = set.map((m) => {
    const ann = m.oracle.announce(eventId, NB_DIGITS);
    m.events.set(eventId, ann);
    return ann;
  });
  const oracleInfo: OracleInfo = anns.length === 1 && k === 1
    ? { single: { oracleAnnouncement: anns[0]! } }
    : { multi: { threshold: k, oracleAnnouncements: anns, oracleParams: null } };
  return saleParties({ label, oracleInfo, ...over });
}

/** The offer with its (single) contract's multi-oracle info changed: offer_dlc carries no signature, so any field can be forged. */
function withOracleInfo(offer: OfferDlc, change: (info: Extract<OracleInfo, { multi: unknown }>['multi']) => Extract<OracleInfo, { multi: unknown }>['multi']): string {
  const ci = offer.contractInfo;
  if (!('singleContractInfo' in ci) || !('multi' in ci.singleContractInfo.contractInfo.oracleInfo)) throw new TypeError('a multi-oracle offer');
  const inner = ci.singleContractInfo.contractInfo;
  const multi = change((inner.oracleInfo as Extract<OracleInfo, { multi: unknown }>).multi);
  const forged: OfferDlc = { ...offer, contractInfo: { singleContractInfo: { ...ci.singleContractInfo, contractInfo: { ...inner, oracleInfo: { multi } } } } };
  return toHex(encodeOfferDlc(forged));
}

const post = (path: string, body: unknown, key?: Uint8Array) => api(coord.url, 'POST', path, { body, ...(key ? { key } : {}), now: clock });
const get = (path: string, key?: Uint8Array) => api(coord.url, 'GET', path, { ...(key ? { key } : {}), now: clock });
const offerBody = (p: SaleParties, offer = p.offerHex) => ({ offer, identityPubkey: identityOf(p.offerIdentity), terms: p.terms });

/** Built at collection time (see `members`). */
function builtSetParties(...args: Parameters<typeof setParties>): SaleParties {
  const p = setParties(...args);
  p.accept();
  p.sign();
  return p;
}

async function funded(p: SaleParties): Promise<string> {
  const { acceptHex } = p.accept();
  const { signHex } = p.sign();
  const o = await post('/v1/offers', offerBody(p), p.offerIdentity);
  expect(o.status, JSON.stringify(o.body)).toBe(201);
  const id = o.body.id as string;
  const a = await post(`/v1/contracts/${id}/accept`, { accept: acceptHex, identityPubkey: identityOf(p.acceptIdentity) }, p.acceptIdentity);
  expect(a.status, JSON.stringify(a.body)).toBe(200);
  const s = await post(`/v1/contracts/${id}/sign`, { sign: signHex, fundingPsbt: p.signedFundingPsbt('offer') }, p.offerIdentity);
  expect(s.status, JSON.stringify(s.body)).toBe(200);
  const f = await post(`/v1/contracts/${id}/fund`, { fundingPsbt: p.signedFundingPsbt('accept') }, p.acceptIdentity);
  expect(f.status, JSON.stringify(f.body)).toBe(200);
  chain.confirmed.set(p.accept().setup.funding.txidHex, chain.height);
  return id;
}

async function tick(): Promise<void> {
  clock += 1000; // past the attestation poll interval
  await coord.watcher.tick();
}

interface OracleViewJson { url: string; publicKey: string; eventId: string; attested: boolean; outcome: string | null; agreed: boolean | null }

describe('offers on an oracle set', () => {
  it('takes a 2-of-3 offer whose every announcement is what an allowed oracle publishes; the book lists the set', async () => {
    const [a, b, c] = oracles;
    const p = setParties('two-of-three', members.slice(0, 3), 2);
    const r = await post('/v1/offers', offerBody(p), p.offerIdentity);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.oracleThreshold).toBe(2);
    expect(r.body.oracles).toEqual([a!, b!, c!].map((o) => ({
      url: o.url, publicKey: toHex(o.oracle.publicKey), eventId: p.eventId, attested: false, outcome: null, agreed: null,
    })));
  });

  const refusals: [string, () => { p: SaleParties; offer?: string; before?: () => void }, number, string, string][] = [
    ['an oracle the coordinator does not allow', () => ({ p: setParties('not-allowed', [members[0]!, outsiderMember, members[1]!], 2) }), 400, 'ORACLE_MISMATCH', 'oracle-not-allowed'],
    ['an announcement other than the one its oracle publishes', () => {
      const p = setParties('ann-differs', members.slice(0, 3), 2);
      // Oracle B publishes another announcement (other maturity, its own valid signature) of that event.
      members[1]!.events.set(p.eventId, members[1]!.oracle.announce(p.eventId, NB_DIGITS, 1_700_000_001));
      return { p };
    }, 400, 'ORACLE_MISMATCH', 'announcement-differs'],
    ['announcements of different events', () => {
      const p = setParties('event-differs', members.slice(0, 3), 2);
      const other: OracleAnnouncement = members[2]!.oracle.announce(`${p.eventId}-other`, NB_DIGITS);
      members[2]!.events.set(other.oracleEvent.eventId, other);
      return { p, offer: withOracleInfo(p.offer, (m) => ({ ...m, oracleAnnouncements: [m.oracleAnnouncements[0]!, m.oracleAnnouncements[1]!, other] })) };
    }, 400, 'ORACLE_MISMATCH', 'event-differs'],
    ['a threshold above the number of oracles', () => {
      const p = setParties('threshold-above-n', members.slice(0, 3), 2);
      return { p, offer: withOracleInfo(p.offer, (m) => ({ ...m, threshold: 4 })) };
    }, 400, 'INVALID_PARAMS', 'invalid-threshold'],
    ['one oracle twice', () => {
      const p = setParties('duplicate-oracle', members.slice(0, 3), 2);
      return { p, offer: withOracleInfo(p.offer, (m) => ({ ...m, oracleAnnouncements: [m.oracleAnnouncements[0]!, m.oracleAnnouncements[1]!, m.oracleAnnouncements[0]!] })) };
    }, 400, 'INVALID_PARAMS', 'duplicate-oracle'],
    ['bounded differences (oracle_params)', () => {
      const p = setParties('oracle-params', members.slice(0, 3), 2);
      return { p, offer: withOracleInfo(p.offer, (m) => ({ ...m, oracleParams: { maxErrorExp: 4, minFailExp: 2, maximizeCoverage: false } })) };
    }, 400, 'INVALID_REQUEST', 'oracle-params'],
  ];
  it.each(refusals)('refuses %s', async (_name, make, status, code, reason) => {
    const { p, offer } = make();
    const r = await post('/v1/offers', offerBody(p, offer), p.offerIdentity);
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    expect(r.body.error).toMatchObject({ code, reason });
    expect((await get(`/v1/offers/${toHex(p.offer.temporaryContractId)}`)).status).toBe(404);
  });
});

describe('the watcher on a 2-of-4 set: one oracle unreachable, one dissenting', () => {
  const p = builtSetParties('two-of-four', members, 2);
  const q = setParties('oracle-down', [members[0]!, members[1]!, members[3]!], 2, { window: { start: 1200, end: 1300 }, locktimes: { cetLocktime: 1300, refundLocktime: 1320 } });
  let id: string;
  const [A, B, C, D] = [0, 1, 2, 3];

  it('waits while the attestations gathered open no CET, recording what each oracle said', async () => {
    id = await funded(p);
    await tick();
    expect((await get(`/v1/contracts/${id}`)).body.state).toBe('confirmed');
    // D is gone (as a SIGKILLed oracle: nothing listens on its port); C attests another outcome than A and B will.
    await oracles[D]!.close();
    oracles[C]!.attest(p.eventId, 0n, NB_DIGITS);
    await tick();
    oracles[A]!.attest(p.eventId, 9600n, NB_DIGITS);
    await tick();
    const rec = (await get(`/v1/contracts/${id}`)).body;
    expect(rec.state).toBe('confirmed');
    expect((rec.oracles as OracleViewJson[]).map((o) => [o.attested, o.outcome, o.agreed])).toEqual([
      [true, '9600', null], [false, null, null], [true, '0', null], [false, null, null],
    ]);
    expect(logs.some((l) => l.msg === 'watcher: oracle not answering' && l.fields.oracle === oracles[D]!.url)).toBe(true);
  });

  it('completes the CET as soon as two agree, and records who agreed and who dissented', async () => {
    oracles[B]!.attest(p.eventId, 9600n, NB_DIGITS);
    await tick();
    const rec = (await get(`/v1/contracts/${id}`, p.offerIdentity)).body;
    // Above the tolerance: the miner gets escrow + collateral.
    expect(rec).toMatchObject({ state: 'cet-broadcast', closingKind: 'cet', outcome: '9600', payouts: { offer: '600000', accept: '0' }, oracleThreshold: 2 });
    expect(chain.sent).toContain(rec.closingTx);
    // The witness is what the node checks: the CET spends the funding output with both signatures.
    expect(Transaction.fromHex(rec.closingTx as string).ins[0]!.witness).toHaveLength(4);
    expect((rec.oracles as OracleViewJson[]).map((o) => [o.url, o.attested, o.outcome, o.agreed])).toEqual([
      [oracles[A]!.url, true, '9600', true], [oracles[B]!.url, true, '9600', true], [oracles[C]!.url, true, '0', false], [oracles[D]!.url, false, null, null],
    ]);
    expect(logs.some((l) => l.msg === 'oracle attested another outcome than the set that settled' && (l.fields.oracles as string[]).includes(oracles[C]!.url))).toBe(true);
  });

  it('serves the same per-oracle view publicly, and the dashboard flags the dissent', async () => {
    const pub = (await get(`/v1/contracts/${id}`)).body;
    expect(pub.public).toBe(true);
    expect((pub.oracles as OracleViewJson[]).map((o) => o.agreed)).toEqual([true, true, false, null]);
    const res = await fetch(`${coord.url}/dashboard/contracts/${id}`);
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('Oracles: 2 of 4');
    expect(page).toMatch(new RegExp(`<tr class="dissent" data-oracle="${oracles[C]!.url}">.*DISSENT`, 's'));
    expect((page.match(/data-agreed="true"/g) ?? []).length).toBe(2);
    const list = await (await fetch(`${coord.url}/dashboard/contracts?state=cet-broadcast`)).text();
    expect(list).toMatch(/2 of 4 <span class="badge failed" data-dissent="1">1 dissent<\/span>/);
  });

  it('keeps the record across a restart (stored, not recomputed)', async () => {
    await coord.stop();
    coord = await start();
    const rec = (await get(`/v1/contracts/${id}`)).body;
    expect((rec.oracles as OracleViewJson[]).map((o) => [o.outcome, o.agreed])).toEqual([['9600', true], ['9600', true], ['0', false], [null, null]]);
  });

  it('refuses an offer naming an allowed oracle that does not answer (502 ORACLE_UNAVAILABLE naming it)', async () => {
    const r = await post('/v1/offers', offerBody(q), q.offerIdentity);
    expect(r.status, JSON.stringify(r.body)).toBe(502);
    expect(r.body.error).toMatchObject({ code: 'ORACLE_UNAVAILABLE', reason: 'oracle-unreachable', oracle: oracles[D]!.url });
  });
});

describe('an oracle attesting after the set settled', () => {
  const p = builtSetParties('late-dissent', members.slice(0, 3), 2);
  it('is still asked, and its dissent recorded once it attests', async () => {
    const id = await funded(p);
    await tick();
    oracles[0]!.attest(p.eventId, 9600n, NB_DIGITS);
    oracles[1]!.attest(p.eventId, 9600n, NB_DIGITS);
    await tick();
    const settledBy = (await get(`/v1/contracts/${id}`)).body;
    expect(settledBy.state).toBe('cet-broadcast');
    expect((settledBy.oracles as OracleViewJson[]).map((o) => [o.outcome, o.agreed])).toEqual([['9600', true], ['9600', true], [null, null]]);
    oracles[2]!.attest(p.eventId, 0n, NB_DIGITS);
    await tick();
    const after = (await get(`/v1/contracts/${id}`)).body;
    expect(after.state).toBe('cet-broadcast');
    expect((after.oracles as OracleViewJson[]).map((o) => [o.outcome, o.agreed])).toEqual([['9600', true], ['9600', true], ['0', false]]);
    expect(logs.some((l) => l.msg === 'late oracle attestation recorded' && l.fields.id === id)).toBe(true);
  });
});

describe('two of three silent', () => {
  const p = builtSetParties('two-silent', members.slice(0, 3), 2, { window: { start: 1400, end: 1500 }, locktimes: { cetLocktime: 1500, refundLocktime: 1520 } });
  it('refunds at the refund locktime when only one oracle of a 2-of-3 set attested', async () => {
    const id = await funded(p);
    await tick();
    expect((await get(`/v1/contracts/${id}`)).body.state).toBe('confirmed');
    // One attests as the locktime is reached: the same poll records its outcome and refunds (the refund record keeps it).
    oracles[0]!.attest(p.eventId, 9600n, NB_DIGITS);
    chain.height = 1520;
    await tick();
    const rec = (await get(`/v1/contracts/${id}`, p.offerIdentity)).body;
    expect(rec).toMatchObject({ state: 'refund-broadcast', closingKind: 'refund', payouts: { offer: '200000', accept: '400000' } });
    expect((rec.oracles as OracleViewJson[]).map((o) => [o.outcome, o.agreed])).toEqual([['9600', null], [null, null], [null, null]]);
  });
});
