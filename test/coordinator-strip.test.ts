/**
 * Strips at the coordinator (issue 12) over HTTP on 127.0.0.1, LevelDB in a temp
 * dir, the node faked in memory and an in-test oracle server: a 3-period strip
 * offered, listed once, read from any period's id, accepted, signed and funded
 * by ONE transaction; errors naming the period (an offer that is not its
 * period's contract, a bad adaptor signature in period 3's accept) with nothing
 * stored; a failing period leaves no record of the strip; the single-contract
 * steps refused on a period; cancel of every period freeing the coins. After
 * funding each period is its own contract: one closed cooperatively over its own
 * output, one refunded by the watcher, the others untouched; the shared funding
 * transaction re-sent once per poll, and every period failed when its inputs are
 * spent elsewhere; the periods expire together; the dashboard's strip query.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transaction } from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBatchFundingGroup, encodeAcceptDlc, encodeSignDlc, fromHex, toHex, type OracleAnnouncement } from '../protocol/messages/index.js';
import { signClose } from '../protocol/contract/index.js';
import { ChainError } from '../src/chain/index.js';
import { coordinatorQueries, startCoordinator, type RunningCoordinator } from '../src/coordinator/index.js';
import { cancelContract } from '../src/coordinator/lifecycle.js';
import { testOracle } from './helpers/dlc-fixture.js';
import { FakeChain, api, fakeChainCoordinatorConfig, identityOf, saleParties, stripParties, startTestOracle, type StripOptions, type StripParties, type TestOracleServer } from './coordinator-fixtures.js';

const ORACLE_LABEL = 'coord-strip-oracle';
const theOracle = testOracle(ORACLE_LABEL);
const published = new Map<string, OracleAnnouncement>();
let dir: string;
let oracle: TestOracleServer;
let chain: FakeChain;
let coord: RunningCoordinator;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hashdlc-coord-strip-'));
  oracle = await startTestOracle(ORACLE_LABEL, { events: published });
  chain = new FakeChain();
  coord = await startCoordinator(fakeChainCoordinatorConfig(join(dir, 'db'), oracle.url), { chain, watch: false, log: () => undefined });
});

afterAll(async () => {
  await coord?.stop();
  await oracle?.close();
  rmSync(dir, { recursive: true, force: true });
});

function strip(label: string, over: Partial<StripOptions> = {}, publish = true): StripParties {
  const s = stripParties({ label, periods: 3, oracle: theOracle, ...over });
  if (publish) s.announcements.forEach((a) => published.set(a.oracleEvent.eventId, a));
  return s;
}

const post = (path: string, body: unknown, key?: Uint8Array) => api(coord.url, 'POST', path, { body, ...(key ? { key } : {}) });
const get = (path: string, key?: Uint8Array) => api(coord.url, 'GET', path, key ? { key } : {});
const offerBody = (s: StripParties, offers = s.offerHexes) => ({ offers, identityPubkey: identityOf(s.offerIdentity), terms: s.terms });
const acceptBody = (s: StripParties, accepts = s.accepts().map((a) => a.acceptHex)) => ({ accepts, identityPubkey: identityOf(s.acceptIdentity) });

async function offered(s: StripParties): Promise<string[]> {
  const r = await post('/v1/strips', offerBody(s), s.offerIdentity);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return (r.body.contracts as { id: string }[]).map((c) => c.id);
}

describe('a strip offered, accepted, signed and funded by one transaction', () => {
  const s = strip('happy');
  let ids: string[];

  it('stores one record per period and serves the StripView from any period id', async () => {
    ids = await offered(s);
    expect(ids).toEqual(s.offers.map((o) => toHex(o.temporaryContractId)));
    const r = await get(`/v1/strips/${ids[1]}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: ids[0], periods: 3, state: 'offered', terms: { periods: 3, window: { start: 1000, end: 1100 } } });
    const contracts = r.body.contracts as { id: string; strip: unknown; terms: { window: unknown; escrow: string; upfront: string } }[];
    contracts.forEach((c, i) => {
      expect(c.strip).toEqual({ id: ids[0], index: i, periods: 3 });
      expect(c.terms).toMatchObject({ window: (s.periodTerms[i] as { window: unknown }).window, upfront: '0' });
    });
    expect(contracts.map((c) => BigInt(c.terms.escrow)).reduce((a, b) => a + b, 0n)).toBe(400_000n);
    const group = decodeBatchFundingGroup(fromHex(r.body.batchFundingGroup as string));
    expect(group.tempContractIds.map(toHex)).toEqual(ids);
    expect(group.contractIds).toEqual([]);
    expect(group.eventIds).toEqual(s.eventIds);
    expect(group.allocatedCollateral).toBe(600_000n);
    const one = await get(`/v1/contracts/${ids[2]}`);
    expect(one.body.strip).toEqual({ id: ids[0], index: 2, periods: 3 });
  });

  it('lists the strip once in the offer book (period 1) and serves its messages while offered', async () => {
    const book = await get('/v1/offers?limit=200');
    const listed = (book.body.offers as { id: string; strip?: unknown }[]).filter((o) => ids.includes(o.id));
    expect(listed.map((o) => o.id)).toEqual([ids[0]]);
    expect(listed[0]!.strip).toEqual({ id: ids[0], index: 0, periods: 3 });
    const m = await get(`/v1/strips/${ids[0]}/messages`);
    expect(m.body).toEqual({ offers: s.offerHexes, accepts: null, signs: null });
  });

  it('refuses the single-contract steps on a period (409 strip-period)', async () => {
    const r = await post(`/v1/contracts/${ids[1]}/accept`, { accept: s.accepts()[1]!.acceptHex, identityPubkey: identityOf(s.acceptIdentity) }, s.acceptIdentity);
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({ code: 'INVALID_STATE', reason: 'strip-period', period: 2 });
    const c = await post(`/v1/contracts/${ids[0]}/cancel`, {}, s.offerIdentity);
    expect(c.body.error).toMatchObject({ code: 'INVALID_STATE', reason: 'strip-period' });
  });

  it('refuses a bad adaptor signature in period 3\'s accept naming the period; nothing is stored', async () => {
    const accepts = s.accepts();
    const a3 = accepts[2]!.accept;
    const sigs = a3.cetAdaptorSignatures.ecdsaAdaptorSignatures.map((x, i) => (i === 5 ? a3.cetAdaptorSignatures.ecdsaAdaptorSignatures[6]! : x));
    const tampered = toHex(encodeAcceptDlc({ ...a3, cetAdaptorSignatures: { ecdsaAdaptorSignatures: sigs } }));
    const r = await post(`/v1/strips/${ids[0]}/accept`, acceptBody(s, [accepts[0]!.acceptHex, accepts[1]!.acceptHex, tampered]), s.acceptIdentity);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'BAD_SIGNATURE', reason: 'cet-adaptor-signature:5', index: 5, period: 3 });
    expect(r.body.error!.message).toMatch(/^period 3: /);
    const after = await get(`/v1/strips/${ids[0]}`);
    expect(after.body.state).toBe('offered');
    expect((await get(`/v1/strips/${ids[0]}/messages`)).body).toMatchObject({ accepts: null });
  });

  it('accepts, signs and funds every period with ONE funding transaction broadcast once', async () => {
    const acc = await post(`/v1/strips/${ids[2]}/accept`, acceptBody(s), s.acceptIdentity);
    expect(acc.status, JSON.stringify(acc.body)).toBe(200);
    expect(acc.body.state).toBe('accepted');
    const txid = s.accepts()[0]!.setup.funding.txidHex;
    expect(acc.body.fundingTxid).toBe(txid);
    expect(acc.body.fundingPsbt).toEqual(expect.any(String));
    const contracts = acc.body.contracts as { contractId: string; fundOutputIndex: number; fundingTxid: string }[];
    expect(contracts.map((c) => c.fundOutputIndex)).toEqual(s.accepts().map((a) => a.setup.funding.fundOutputIndex));
    expect(new Set(contracts.map((c) => c.fundingTxid))).toEqual(new Set([txid]));
    expect(decodeBatchFundingGroup(fromHex(acc.body.batchFundingGroup as string)).contractIds.map(toHex)).toEqual(contracts.map((c) => c.contractId));
    // Past offered: the public sees a summary, a stranger's signed read is refused.
    const pub = await get(`/v1/strips/${ids[0]}`);
    expect(pub.body.fundingPsbt).toBeUndefined();
    expect((pub.body.contracts as { public?: boolean }[]).every((c) => c.public === true)).toBe(true);
    // Contract ids are the parties' (privacy.ts): the public TLV names none; the party's names all.
    expect(decodeBatchFundingGroup(fromHex(pub.body.batchFundingGroup as string)).contractIds).toEqual([]);
    expect((await get(`/v1/strips/${ids[0]}/messages`)).status).toBe(401);
    expect((await get(`/v1/strips/${ids[0]}`, fromHex('77'.repeat(32)))).status).toBe(403);

    // The offerer's sign: a bad adaptor signature in period 2 is refused naming it; nothing moves.
    const s2 = s.signs()[1]!.sign;
    const badSigs = s2.cetAdaptorSignatures.ecdsaAdaptorSignatures.map((x, i) => (i === 0 ? s.accepts()[1]!.accept.cetAdaptorSignatures.ecdsaAdaptorSignatures[0]! : x));
    const badSign = toHex(encodeSignDlc({ ...s2, cetAdaptorSignatures: { ecdsaAdaptorSignatures: badSigs } }));
    const refused = await post(`/v1/strips/${ids[0]}/sign`, { signs: [s.signs()[0]!.signHex, badSign, s.signs()[2]!.signHex] }, s.offerIdentity);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'BAD_SIGNATURE', reason: 'cet-adaptor-signature:0', index: 0, period: 2 });
    expect((await get(`/v1/strips/${ids[0]}`, s.offerIdentity)).body.state).toBe('accepted');
    expect((await post(`/v1/strips/${ids[0]}/sign`, { signs: s.signs().map((x) => x.signHex) }, s.acceptIdentity)).status).toBe(403);
    const sign = await post(`/v1/strips/${ids[0]}/sign`, { signs: s.signs().map((x) => x.signHex), fundingPsbt: s.signedFundingPsbt('offer') }, s.offerIdentity);
    expect(sign.status, JSON.stringify(sign.body)).toBe(200);
    expect(sign.body.state).toBe('signed');
    const sentBefore = chain.sent.length;
    const fund = await post(`/v1/strips/${ids[0]}/fund`, { fundingPsbt: s.signedFundingPsbt('accept') }, s.acceptIdentity);
    expect(fund.status, JSON.stringify(fund.body)).toBe(200);
    expect(fund.body.state).toBe('funding-broadcast');
    expect(chain.sent.length).toBe(sentBefore + 1);
    const tx = Transaction.fromHex(chain.sent[chain.sent.length - 1]!);
    expect(tx.getId()).toBe(txid);
    // The upfront once, and each period's DLC funding output.
    const funding = s.accepts()[0]!.setup.funding;
    expect(funding.batchOutputs).toHaveLength(3);
    for (const o of funding.batchOutputs) expect(tx.outs[o.index]!.value).toBe(o.value);
    expect(tx.outs.filter((o) => o.value === 50_000n)).toHaveLength(1);
    const m = await get(`/v1/strips/${ids[0]}/messages`, s.offerIdentity);
    expect(m.body).toMatchObject({ accepts: s.accepts().map((a) => a.acceptHex), signs: s.signs().map((x) => x.signHex) });
    // Funded: each period is its own contract, and the strip can no longer be cancelled.
    expect((await get(`/v1/contracts/${ids[1]}`, s.acceptIdentity)).body).toMatchObject({ state: 'funding-broadcast', fundingTxid: txid, strip: { index: 1 } });
    // A cooperative close of period 2 alone: its own funding output, the other periods untouched.
    const setup2 = s.accepts()[1]!.setup;
    const total2 = BigInt((await get(`/v1/contracts/${ids[1]}`, s.offerIdentity)).body.totalCollateral as string);
    const payout = { offer: total2 / 2n, accept: total2 - total2 / 2n };
    const split = { offerPayout: String(payout.offer), acceptPayout: String(payout.accept) };
    expect((await post(`/v1/contracts/${ids[1]}/close`, { ...split, signature: toHex(signClose(setup2, payout, s.offerKey)) }, s.offerIdentity)).status).toBe(200);
    const closed = await post(`/v1/contracts/${ids[1]}/close`, { ...split, signature: toHex(signClose(setup2, payout, s.acceptKey)) }, s.acceptIdentity);
    expect(closed.status, JSON.stringify(closed.body)).toBe(200);
    expect(closed.body).toMatchObject({ state: 'close-broadcast', closingKind: 'close', payouts: { offer: split.offerPayout, accept: split.acceptPayout } });
    const closeTx = Transaction.fromHex(closed.body.closingTx as string);
    expect(Buffer.from(closeTx.ins[0]!.hash).reverse().toString('hex')).toBe(txid);
    expect(closeTx.ins[0]!.index).toBe(setup2.funding.fundOutputIndex);
    expect(chain.sent).toContain(closed.body.closingTx);
    expect(((await get(`/v1/strips/${ids[0]}`, s.offerIdentity)).body.contracts as { state: string }[]).map((c) => c.state))
      .toEqual(['funding-broadcast', 'close-broadcast', 'funding-broadcast']);
    const cancel = await post(`/v1/strips/${ids[0]}/cancel`, {}, s.offerIdentity);
    expect(cancel.status).toBe(409);
    expect(cancel.body.error).toMatchObject({ code: 'INVALID_STATE', period: 1 });
  });
});

/** The watcher's block cursor after the refund test: later ticks run at this height (the fake chain does not go back). */
let watchedHeight = 0;

describe('the watcher and a funded strip', () => {
  const s = strip('watched');

  it('re-sends the shared funding transaction once per poll, confirms every period, and refunds one period without touching the others', async () => {
    const ids = await offered(s);
    expect((await post(`/v1/strips/${ids[0]}/accept`, acceptBody(s), s.acceptIdentity)).status).toBe(200);
    expect((await post(`/v1/strips/${ids[0]}/sign`, { signs: s.signs().map((x) => x.signHex) }, s.offerIdentity)).status).toBe(200);
    const fund = await post(`/v1/strips/${ids[0]}/fund`, { fundingPsbt: s.signedFundingPsbt('accept') }, s.acceptIdentity);
    expect(fund.status, JSON.stringify(fund.body)).toBe(200);
    const fundingHex = chain.sent[chain.sent.length - 1]!;
    const txid = Transaction.fromHex(fundingHex).getId();
    // The transaction left the mempool: one poll sends it again ONCE for the three periods.
    chain.sent.splice(chain.sent.indexOf(fundingHex), 1);
    await coord.watcher.tick();
    expect(chain.sent.filter((h) => h === fundingHex)).toHaveLength(1);
    chain.confirmed.set(txid, chain.height);
    await coord.watcher.tick();
    const states = async (): Promise<string[]> => ((await get(`/v1/strips/${ids[0]}`, s.offerIdentity)).body.contracts as { state: string }[]).map((c) => c.state);
    expect(await states()).toEqual(['confirmed', 'confirmed', 'confirmed']);
    // Period 1's refund locktime (its window end + 20) comes first, with no attestation: period 1 alone is refunded.
    const refundLocktimes = s.offers.map((o) => o.refundLocktime);
    expect(refundLocktimes[0]).toBeLessThan(refundLocktimes[1]!);
    const before = chain.height;
    chain.height = refundLocktimes[0]!;
    watchedHeight = chain.height;
    try {
      await coord.watcher.tick();
      expect(await states()).toEqual(['refund-broadcast', 'confirmed', 'confirmed']);
      const p1 = (await get(`/v1/contracts/${ids[0]}`, s.offerIdentity)).body;
      const refund = Transaction.fromHex(p1.closingTx as string);
      expect(Buffer.from(refund.ins[0]!.hash).reverse().toString('hex')).toBe(txid);
      expect(refund.ins[0]!.index).toBe(s.accepts()[0]!.setup.funding.fundOutputIndex);
      expect(p1.payouts).toEqual({ offer: String(s.offers[0]!.offerCollateral), accept: String(BigInt(p1.acceptCollateral as string)) });
      expect((await get(`/v1/strips/${ids[0]}`)).body.state).toBe('mixed');
    } finally {
      chain.height = before;
    }
  });

  it('fails every period when the shared funding transaction\'s inputs were spent elsewhere', async () => {
    const f = strip('spent');
    const ids = await offered(f);
    expect((await post(`/v1/strips/${ids[0]}/accept`, acceptBody(f), f.acceptIdentity)).status).toBe(200);
    expect((await post(`/v1/strips/${ids[0]}/sign`, { signs: f.signs().map((x) => x.signHex) }, f.offerIdentity)).status).toBe(200);
    expect((await post(`/v1/strips/${ids[0]}/fund`, { fundingPsbt: f.signedFundingPsbt('accept') }, f.acceptIdentity)).status).toBe(200);
    const fundingHex = chain.sent[chain.sent.length - 1]!;
    const txid = Transaction.fromHex(fundingHex).getId();
    chain.sent.splice(chain.sent.indexOf(fundingHex), 1);
    chain.sendFailures.set(txid, new ChainError('CHAIN_MISSING_INPUTS', 'sendrawtransaction', 'bad-txns-inputs-missingorspent', { rpcCode: -25 }));
    for (const o of f.accepts()[0]!.setup.funding.batchOutputs) chain.spent.add(`${txid}:${o.index}`);
    const before = chain.height;
    chain.height = watchedHeight;
    try {
      await coord.watcher.tick();
    } finally {
      chain.height = before;
    }
    const view = (await get(`/v1/strips/${ids[0]}`, f.offerIdentity)).body;
    expect((view.contracts as { state: string }[]).map((c) => c.state)).toEqual(['failed', 'failed', 'failed']);
  });
});

describe('period-named refusals leave nothing stored', () => {
  it('refuses period 3\'s offer that is not its period\'s contract (TERMS_MISMATCH, period 3)', async () => {
    const s = strip('wrong-period');
    // Same parties and coins, other amounts: period 3's offer of another strip.
    const other = stripParties({ label: 'wrong-period', periods: 3, announcements: s.announcements, escrow: 500_000n });
    const r = await post('/v1/strips', offerBody(s, [s.offerHexes[0]!, s.offerHexes[1]!, other.offerHexes[2]!]), s.offerIdentity);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'TERMS_MISMATCH', period: 3 });
    expect((await get(`/v1/strips/${toHex(s.offers[0]!.temporaryContractId)}`)).status).toBe(404);
  });

  it('stores no period when one period fails a later check (period 3\'s event unknown to the oracle)', async () => {
    const s = strip('atomic', {}, false);
    s.announcements.slice(0, 2).forEach((a) => published.set(a.oracleEvent.eventId, a));
    const r = await post('/v1/strips', offerBody(s), s.offerIdentity);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'ORACLE_MISMATCH', reason: 'event-unknown', period: 3 });
    for (const o of s.offers) expect((await get(`/v1/contracts/${toHex(o.temporaryContractId)}`)).status).toBe(404);
    // The coins and the delivery address stay free: the same strip, once period 3 is announced, is taken.
    published.set(s.eventIds[2]!, s.announcements[2]!);
    expect((await post('/v1/strips', offerBody(s), s.offerIdentity)).status).toBe(201);
  });

  it('refuses a strip whose upfront output no accept could fund (dust, no script), as a single offer is refused; nothing stored', async () => {
    const s = strip('bad-upfront');
    // No period's terms carry the strip's upfront: it is checked on the strip's own terms.
    const { upfrontScript: _script, ...noScript } = s.terms as { upfrontScript: string };
    for (const [terms, reason] of [[{ ...s.terms, upfront: '500' }, 'extra-output-dust'], [noScript, 'script-empty']] as const) {
      const r = await post('/v1/strips', { ...offerBody(s), terms }, s.offerIdentity);
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'INVALID_PARAMS', reason });
    }
    for (const o of s.offers) expect((await get(`/v1/contracts/${toHex(o.temporaryContractId)}`)).status).toBe(404);
    expect((await post('/v1/strips', offerBody(s), s.offerIdentity)).status).toBe(201);
  });

  it('refuses one offer under a strip\'s terms at /v1/offers (it would be listed and settled as a strip it is not)', async () => {
    const p = saleParties({ label: 'single-with-periods', oracle: theOracle });
    published.set(p.eventId, p.announcement);
    const body = { offer: p.offerHex, identityPubkey: identityOf(p.offerIdentity) };
    const r = await post('/v1/offers', { ...body, terms: { ...p.terms, periods: 3 } }, p.offerIdentity);
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'TERMS_MISMATCH', reason: 'strip-terms' });
    expect((await get(`/v1/offers/${toHex(p.offer.temporaryContractId)}`)).status).toBe(404);
    expect((await post('/v1/offers', { ...body, terms: p.terms }, p.offerIdentity)).status).toBe(201);
  });

  it('refuses a batch whose offers do not share one funding transaction, naming the period', async () => {
    const s = strip('batch-rule');
    const other = stripParties({ label: 'batch-rule-other', periods: 3, announcements: s.announcements });
    const r = await post('/v1/strips', offerBody(s, [s.offerHexes[0]!, other.offerHexes[1]!, s.offerHexes[2]!]), s.offerIdentity);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'INVALID_PARAMS', period: 2 });
  });

  it('refuses single-contract terms at /v1/strips and more periods than the coordinator\'s limit', async () => {
    const s = strip('not-a-strip');
    const { periods: _p, ...single } = s.terms as { periods: number };
    const r = await post('/v1/strips', { ...offerBody(s), terms: single }, s.offerIdentity);
    expect(r.body.error).toMatchObject({ code: 'INVALID_REQUEST', reason: 'not-a-strip' });
    const many = await post('/v1/strips', { ...offerBody(s, Array.from({ length: 32 }, () => s.offerHexes[0]!)), terms: { ...s.terms, periods: 32 } }, s.offerIdentity);
    expect(many.status).toBe(400);
    expect(many.body.error).toMatchObject({ code: 'INVALID_REQUEST', reason: 'too-many-periods' });
  });

  it('cancels every period of an unfunded strip and frees its coins for another deal', async () => {
    const s = strip('cancel');
    const ids = await offered(s);
    // Another strip on the same coins is refused while this one is pending (period 1 holds them).
    const rival = strip('cancel-rival', { offerInputs: s.offers[0]!.fundingInputs });
    const taken = await post('/v1/strips', offerBody(rival), rival.offerIdentity);
    expect(taken.status).toBe(409);
    expect(taken.body.error).toMatchObject({ code: 'CONFLICT', reason: 'input-in-use' });
    expect((await post(`/v1/strips/${ids[0]}/cancel`, {}, s.acceptIdentity)).status).toBe(403);
    const r = await post(`/v1/strips/${ids[1]}/cancel`, {}, s.offerIdentity);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.state).toBe('cancelled');
    expect((r.body.contracts as { state: string }[]).map((c) => c.state)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect((await post('/v1/strips', offerBody(rival), rival.offerIdentity)).status).toBe(201);
  });

  it('expires every period together at the funding deadline, freeing the coins period 1 held', async () => {
    const s = strip('expire');
    const ids = await offered(s);
    // The offer book's clock as the watcher runs it each poll (its block cursor is past this height already).
    expect(await coord.service.expireDue(s.terms.fundingDeadline!)).toBeGreaterThanOrEqual(3);
    const view = (await get(`/v1/strips/${ids[2]}`)).body;
    expect(view.state).toBe('expired');
    expect((view.contracts as { state: string }[]).map((c) => c.state)).toEqual(['expired', 'expired', 'expired']);
    const rival = strip('expire-rival', { offerInputs: s.offers[0]!.fundingInputs });
    expect((await post('/v1/strips', offerBody(rival), rival.offerIdentity)).status).toBe(201);
  });

  it('decides who reads each period in full per period, never from period 1 alone', async () => {
    const s = strip('reader');
    const ids = await offered(s);
    // A period past offered beside an open period 1 (the steps never make this; a bug or an
    // older record might): that period is a public summary, the messages are the parties'.
    const rec = (await coord.service.store.get(ids[1]!))!;
    await coord.service.store.commit(rec, cancelContract(rec, 'offerer', Date.now()));
    const pub = await get(`/v1/strips/${ids[0]}`);
    expect(pub.status).toBe(200);
    expect(pub.body.state).toBe('mixed');
    expect((pub.body.contracts as { public?: boolean }[]).map((c) => c.public === true)).toEqual([false, true, false]);
    expect((await get(`/v1/strips/${ids[0]}/messages`)).status).toBe(401);
    expect((await get(`/v1/strips/${ids[0]}/messages`, s.offerIdentity)).status).toBe(200);
  });

  it('serves a strip to the dashboard\'s queries (public views, in period order) from any period id', async () => {
    const s = strip('queries');
    const ids = await offered(s);
    const q = coordinatorQueries(coord.service);
    const got = await q.strip!(ids[1]!);
    expect(got).toMatchObject({ id: ids[0], periods: 3, terms: { periods: 3 } });
    expect(got!.contracts.map((c) => [c.id, c.strip])).toEqual(ids.map((id, i) => [id, { id: ids[0], index: i, periods: 3 }]));
    expect(await q.strip!('ab'.repeat(32))).toBeNull();
  });
});
