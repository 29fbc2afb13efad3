/**
 * The coordinator over HTTP on 127.0.0.1 with LevelDB in a temp dir, a node
 * faked in memory (FakeChain) and an in-test oracle server: the state machine
 * offer → accept → sign → fund → close, request authentication refused when
 * unsigned / wrongly signed / stale / signed by the wrong party, 400 / 404 /
 * 409 / 413, a bad adaptor signature refused naming which one (the contract
 * never reaches funding), and keyless settlement by the watcher (attested CET,
 * refund) checked signature by signature.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Psbt, Transaction } from 'bitcoinjs-lib';
import { ecdsaVerify } from '../protocol/crypto/index.js';
import { decodeMessage, fromHex, toHex } from '../protocol/messages/index.js';
import { fundingSpendSighash } from '../protocol/tx/index.js';
import { signClose } from '../protocol/contract/index.js';
import { ChainError } from '../src/chain/index.js';
import { startCoordinator, type RunningCoordinator } from '../src/coordinator/index.js';
import { bscriptSignatureDecode } from './helpers/script-sig.js';
import { testOracle } from './helpers/dlc-fixture.js';
import type { OracleAnnouncement } from '../protocol/messages/index.js';
import { FakeChain, api, fakeChainCoordinatorConfig, identityOf, keySigner, saleParties, startTestOracle, type SaleParties, type TestOracleServer } from './coordinator-fixtures.js';

const ORACLE_LABEL = 'coord-http-oracle';
const theOracle = testOracle(ORACLE_LABEL);
const published = new Map<string, OracleAnnouncement>();
let dir: string;
let oracle: TestOracleServer;
let chain: FakeChain;
let coord: RunningCoordinator;
let clock = Date.now();
const logs: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hashdlc-coord-'));
  oracle = await startTestOracle(ORACLE_LABEL, { events: published });
  chain = new FakeChain();
  coord = await startCoordinator(fakeChainCoordinatorConfig(join(dir, 'db'), oracle.url), { chain, now: () => clock, watch: false, log: (level, msg) => { logs.push(`${level} ${msg}`); } });
});

afterAll(async () => {
  await coord?.stop();
  await oracle?.close();
  rmSync(dir, { recursive: true, force: true });
});

function parties(label: string, over: Partial<Parameters<typeof saleParties>[0]> = {}): SaleParties {
  const p = saleParties({ label, oracle: theOracle, ...over });
  published.set(p.eventId, p.announcement);
  return p;
}

function offerBody(p: SaleParties) {
  return { offer: p.offerHex, identityPubkey: identityOf(p.offerIdentity), terms: p.terms };
}

const post = (path: string, body: unknown, key?: Uint8Array, now = clock) => api(coord.url, 'POST', path, { body, ...(key ? { key } : {}), now });
/** A GET; signed by `key` (a party's identity key) when given, as the CLI reads a contract's party-only data. */
const get = (path: string, key?: Uint8Array) => api(coord.url, 'GET', path, { ...(key ? { key } : {}), now: clock });

async function offered(p: SaleParties): Promise<string> {
  const r = await post('/v1/offers', offerBody(p), p.offerIdentity);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.id as string;
}

async function accepted(p: SaleParties): Promise<string> {
  const id = await offered(p);
  const r = await post(`/v1/contracts/${id}/accept`, { accept: p.accept().acceptHex, identityPubkey: identityOf(p.acceptIdentity) }, p.acceptIdentity);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return id;
}

async function signed(p: SaleParties): Promise<string> {
  const id = await accepted(p);
  const r = await post(`/v1/contracts/${id}/sign`, { sign: p.sign().signHex, fundingPsbt: p.signedFundingPsbt('offer') }, p.offerIdentity);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return id;
}

async function funded(p: SaleParties): Promise<string> {
  const id = await signed(p);
  const r = await post(`/v1/contracts/${id}/fund`, { fundingPsbt: p.signedFundingPsbt('accept') }, p.acceptIdentity);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return id;
}

describe('offer → accept → sign → fund over HTTP', () => {
  const p = parties('happy');
  let id: string;

  it('publishes a verified offer in the book', async () => {
    id = await offered(p);
    expect(id).toBe(toHex(p.offer.temporaryContractId));
    const one = await get(`/v1/offers/${id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      state: 'offered', template: 'hashpower-sale', offerCollateral: '200000', acceptCollateral: '400000',
      cets: p.template.cetCount.cets, adaptorSignatures: p.template.cetCount.adaptorSignatures,
      oracles: [{ url: oracle.url, eventId: p.eventId, publicKey: toHex(oracle.oracle.publicKey) }],
    });
    expect((one.body.summary as { price: string }).price).toBe('450000');
    expect(one.body.offer).toBe(p.offerHex);
    expect(one.body.eventIds).toEqual([p.eventId]);
  });

  it.each([
    ['template', '?template=hashpower-sale', true],
    ['other template', '?template=hashprice-call', false],
    ['window inside', '?windowStart=1000&windowEnd=1100', true],
    ['window outside', '?windowStart=1001', false],
    ['price range', '?minPrice=450000&maxPrice=450000', true],
    ['price too high', '?maxPrice=449999', false],
  ])('lists it filtered by %s', async (_name, query, present) => {
    const r = await get(`/v1/offers${query}`);
    expect(r.status).toBe(200);
    expect((r.body.offers as { id: string }[]).some((o) => o.id === id)).toBe(present);
  });

  it.each([
    ['?minPrice=abc', 'minPrice: decimal u64'],
    ['?maxPrice=007', 'maxPrice: decimal u64'],
    ['?minPrice=18446744073709551616', 'minPrice: exceeds u64'],
  ])('refuses the offer list query %s with 400', async (query, message) => {
    const r = await get(`/v1/offers${query}`);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'INVALID_REQUEST', message });
  });

  it('accepts after verifying every adaptor signature, and serves the unsigned funding PSBT', async () => {
    const r = await post(`/v1/contracts/${id}/accept`, { accept: p.accept().acceptHex, identityPubkey: identityOf(p.acceptIdentity) }, p.acceptIdentity);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ state: 'accepted', contractId: toHex(p.accept().setup.contractId), fundingTxid: p.accept().setup.funding.txidHex });
    expect(typeof r.body.fundingPsbt).toBe('string');
    // the contract is reachable by its dlcspecs contract id too
    expect((await get(`/v1/contracts/${r.body.contractId as string}`)).body.id).toBe(id);
    // no longer an open offer
    expect(((await get('/v1/offers')).body.offers as { id: string }[]).some((o) => o.id === id)).toBe(false);
  });

  it('refuses sign from the accepter (403) and fund before sign (409)', async () => {
    const a = await post(`/v1/contracts/${id}/sign`, { sign: p.sign().signHex }, p.acceptIdentity);
    expect(a.status).toBe(403);
    expect(a.body.error?.code).toBe('FORBIDDEN');
    const b = await post(`/v1/contracts/${id}/fund`, { fundingPsbt: p.signedFundingPsbt('accept') }, p.acceptIdentity);
    expect(b.status).toBe(409);
    expect(b.body.error).toMatchObject({ code: 'INVALID_STATE', state: 'accepted' });
  });

  it('signs, funds (combine, finalise, testmempoolaccept, broadcast)', async () => {
    const s = await post(`/v1/contracts/${id}/sign`, { sign: p.sign().signHex, fundingPsbt: p.signedFundingPsbt('offer') }, p.offerIdentity);
    expect(s.status, JSON.stringify(s.body)).toBe(200);
    expect(s.body.state).toBe('signed');
    const f = await post(`/v1/contracts/${id}/fund`, { fundingPsbt: p.signedFundingPsbt('accept') }, p.acceptIdentity);
    expect(f.status, JSON.stringify(f.body)).toBe(200);
    expect(f.body.state).toBe('funding-broadcast');
    const tx = Transaction.fromHex(f.body.fundingTx as string);
    expect(tx.getId()).toBe(p.accept().setup.funding.txidHex);
    expect(chain.sent).toContain(f.body.fundingTx);
    // every input carries a witness; the upfront payment is an output
    expect(tx.ins.every((i) => i.witness.length === 2)).toBe(true);
    const upfrontScript = (p.terms as { upfrontScript: string }).upfrontScript;
    expect(tx.outs.filter((o) => toHex(o.script) === upfrontScript).map((o) => o.value)).toEqual([50_000n]);
    const hist = (f.body.history as { state: string }[]).map((h) => h.state);
    expect(hist).toEqual(['offered', 'accepted', 'signed', 'funding-broadcast']);
  });

  it('serves the three messages as wire hex that decode to what the parties sent, to the parties only', async () => {
    // The public and a stranger get nothing (named); a party's signed GET gets them.
    const unsigned = await get(`/v1/contracts/${id}/messages`);
    expect(unsigned.status).toBe(401);
    expect(unsigned.body.error).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'auth-missing' });
    const stranger = await get(`/v1/contracts/${id}/messages`, parties('stranger').offerIdentity);
    expect(stranger.status).toBe(403);
    expect(stranger.body.error).toMatchObject({ code: 'FORBIDDEN', reason: 'not-a-party' });
    expect((await get(`/v1/contracts/${id}/messages`, p.offerIdentity)).status).toBe(200);
    const r = await get(`/v1/contracts/${id}/messages`, p.acceptIdentity);
    expect(r.body.offer).toBe(p.offerHex);
    expect(r.body.accept).toBe(p.accept().acceptHex);
    expect(r.body.sign).toBe(p.sign().signHex);
    expect(decodeMessage(fromHex(r.body.sign as string)).type).toBe('sign_dlc');
  });

  it('serves the contract and its PSBT in full to its parties only; the public gets the summary', async () => {
    const full = await get(`/v1/contracts/${id}`, p.acceptIdentity);
    expect(full.body).toMatchObject({ state: 'funding-broadcast', accepter: { identityPubkey: identityOf(p.acceptIdentity) } });
    expect(typeof full.body.fundingPsbt).toBe('string');
    const pub = await get(`/v1/contracts/${id}`);
    expect(pub.status).toBe(200);
    expect(pub.body).toMatchObject({ id, state: 'funding-broadcast', public: true, summary: full.body.summary });
    for (const k of ['accepter', 'fundingPsbt', 'fundingTx', 'closeProposal', 'contractId']) expect(pub.body, k).not.toHaveProperty(k);
    expect(JSON.stringify(pub.body)).not.toContain(identityOf(p.acceptIdentity));
    const stranger = await get(`/v1/contracts/${id}`, parties('stranger-2').acceptIdentity);
    expect(stranger.status).toBe(403);
    expect(stranger.body.error).toMatchObject({ code: 'FORBIDDEN', reason: 'not-a-party' });
    const listed = await get('/v1/contracts?state=funding-broadcast');
    const mine = (listed.body.contracts as Record<string, unknown>[]).find((c) => c.id === id)!;
    expect(mine).not.toHaveProperty('fundingPsbt');
    expect(mine).not.toHaveProperty('accepter');
  });

  it('lists contracts by party (to that party only) and by state', async () => {
    const unsigned = await get(`/v1/contracts?party=${identityOf(p.acceptIdentity)}`);
    expect(unsigned.status).toBe(401);
    const wrongKey = await get(`/v1/contracts?party=${identityOf(p.acceptIdentity)}`, p.offerIdentity);
    expect(wrongKey.status).toBe(403);
    const byParty = await get(`/v1/contracts?party=${identityOf(p.acceptIdentity)}`, p.acceptIdentity);
    expect((byParty.body.contracts as { id: string }[]).map((c) => c.id)).toContain(id);
    const byState = await get('/v1/contracts?state=funding-broadcast');
    expect((byState.body.contracts as { id: string }[]).map((c) => c.id)).toContain(id);
    const other = await get(`/v1/contracts?party=${identityOf(p.acceptIdentity)}&state=offered`, p.acceptIdentity);
    expect((other.body.contracts as { id: string }[]).map((c) => c.id)).not.toContain(id);
  });
});

describe('request authentication', () => {
  const p = parties('auth');

  it('refuses an unsigned offer (401 auth-missing)', async () => {
    const r = await post('/v1/offers', offerBody(p));
    expect(r.status).toBe(401);
    expect(r.body.error).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'auth-missing' });
  });

  it('refuses a signature over another body (401 auth-signature)', async () => {
    const headers = (await import('../protocol/auth/index.js')).signRequest(p.offerIdentity, {
      method: 'POST', path: '/v1/offers', body: '{}', timestamp: Math.floor(clock / 1000),
    });
    const r = await api(coord.url, 'POST', '/v1/offers', { body: offerBody(p), headers });
    expect(r.status).toBe(401);
    expect(r.body.error?.reason).toBe('auth-signature');
  });

  it('refuses a stale request (401 auth-stale)', async () => {
    const r = await post('/v1/offers', offerBody(p), p.offerIdentity, clock - 3_600_000);
    expect(r.status).toBe(401);
    expect(r.body.error?.reason).toBe('auth-stale');
  });

  it('refuses an offer signed by another key than its identityPubkey (403)', async () => {
    const r = await post('/v1/offers', offerBody(p), p.acceptIdentity);
    expect(r.status).toBe(403);
    expect(r.body.error?.reason).toBe('identity-mismatch');
  });

  it('refuses a replayed signed POST (401 auth-replayed): a captured close proposal cannot reset a later one', async () => {
    const q = parties('auth-replay');
    const id = await funded(q);
    const { signRequest } = await import('../protocol/auth/index.js');
    const path = `/v1/contracts/${id}/close`;
    const first = JSON.stringify({ offerPayout: '100000', acceptPayout: '500000' });
    const captured = signRequest(q.acceptIdentity, { method: 'POST', path, body: first, timestamp: Math.floor(clock / 1000) }, new Uint8Array(32).fill(9));
    expect((await api(coord.url, 'POST', path, { rawBody: first, headers: captured })).status).toBe(200);
    // The accepter changes its mind; the offerer signs the new split.
    const second = await post(path, { offerPayout: '300000', acceptPayout: '300000' }, q.acceptIdentity);
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    // Whoever saw the first request plays it again, within the skew window: refused, the proposal stays.
    const replayed = await api(coord.url, 'POST', path, { rawBody: first, headers: captured });
    expect(replayed.status).toBe(401);
    expect(replayed.body.error).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'auth-replayed' });
    expect((await get(`/v1/contracts/${id}`, q.offerIdentity)).body.closeProposal).toMatchObject({ offerPayout: '300000', acceptPayout: '300000' });
    // The same call signed afresh (a retry by its signer) is a new request.
    expect((await post(path, JSON.parse(first), q.acceptIdentity)).status).toBe(200);
  });

  it('refuses a stranger pushing a sign_dlc into a contract (403), and state is unchanged', async () => {
    const q = parties('auth-stranger');
    const id = await accepted(q);
    const r = await post(`/v1/contracts/${id}/sign`, { sign: q.sign().signHex }, p.offerIdentity);
    expect(r.status).toBe(403);
    expect((await get(`/v1/contracts/${id}`)).body.state).toBe('accepted');
  });
});

describe('bad input', () => {
  it.each([
    ['not JSON', '/v1/offers', '{nope', 400, 'INVALID_JSON'],
    ['unknown field', '/v1/offers', JSON.stringify({ offer: '00', identityPubkey: 'aa'.repeat(32), terms: {}, extra: 1 }), 400, 'INVALID_REQUEST'],
  ])('%s is refused', async (_n, path, raw, status, code) => {
    const key = parties('bad-json').offerIdentity;
    const headers = (await import('../protocol/auth/index.js')).signRequest(key, { method: 'POST', path, body: raw, timestamp: Math.floor(clock / 1000) });
    const r = await api(coord.url, 'POST', path, { rawBody: raw, headers });
    expect(r.status).toBe(status);
    expect(r.body.error?.code).toBe(code);
  });

  it('refuses an offer whose bytes do not decode (400 DECODE_ERROR)', async () => {
    const p = parties('bad-hex');
    const r = await post('/v1/offers', { ...offerBody(p), offer: 'fdd824' }, p.offerIdentity);
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe('DECODE_ERROR');
  });

  it('refuses an offer whose terms describe another contract (400 TERMS_MISMATCH)', async () => {
    const p = parties('bad-terms');
    const r = await post('/v1/offers', { ...offerBody(p), terms: { ...p.terms, escrow: '400001' } }, p.offerIdentity);
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe('TERMS_MISMATCH');
  });

  it('refuses an offer on an event the oracle does not publish (400 ORACLE_MISMATCH)', async () => {
    const p = saleParties({ label: 'unpublished', oracle: theOracle });
    const r = await post('/v1/offers', offerBody(p), p.offerIdentity);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'ORACLE_MISMATCH', reason: 'event-unknown' });
  });

  it('refuses an offer by an oracle that is not allowed (400 ORACLE_MISMATCH)', async () => {
    const other = await startTestOracle('not-allowed-oracle');
    try {
      const p = saleParties({ label: 'foreign-oracle', oracle: other.oracle });
      other.publish(p.announcement);
      const r = await post('/v1/offers', offerBody(p), p.offerIdentity);
      expect(r.status).toBe(400);
      expect(r.body.error?.reason).toBe('oracle-not-allowed');
    } finally {
      await other.close();
    }
  });

  it('refuses an offer whose inputs are spent (400 FUNDING_REJECTED)', async () => {
    const p = parties('spent-input');
    const prev = Transaction.fromBuffer(p.offer.fundingInputs[0]!.prevTx);
    chain.spent.add(`${prev.getId()}:0`);
    const r = await post('/v1/offers', offerBody(p), p.offerIdentity);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'FUNDING_REJECTED', reason: 'input-unavailable', party: 'offer', input: 0 });
  });

  it('refuses an oversized body (413)', async () => {
    const p = parties('huge');
    const r = await post('/v1/offers', { ...offerBody(p), offer: 'ab'.repeat(1_100_000) }, p.offerIdentity);
    expect(r.status).toBe(413);
    expect(r.body.error?.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers 404 for an unknown contract and an unknown route, 400 for a malformed id', async () => {
    expect((await get(`/v1/contracts/${'00'.repeat(32)}`)).status).toBe(404);
    expect((await get('/v1/nothing')).status).toBe(404);
    expect((await get('/v1/contracts/xyz')).status).toBe(400);
  });

  it('refuses a duplicate offer (409 CONFLICT)', async () => {
    const p = parties('dup');
    await offered(p);
    const r = await post('/v1/offers', offerBody(p), p.offerIdentity);
    expect(r.status).toBe(409);
    expect(r.body.error?.code).toBe('CONFLICT');
  });

  it('refuses a second accept (409 INVALID_STATE)', async () => {
    const p = parties('twice');
    const id = await accepted(p);
    const r = await post(`/v1/contracts/${id}/accept`, { accept: p.accept().acceptHex, identityPubkey: identityOf(p.acceptIdentity) }, p.acceptIdentity);
    expect(r.status).toBe(409);
  });
});

describe('bad signatures never reach funding', () => {
  it('refuses an accept with one bad CET adaptor signature, naming it; the offer stays open', async () => {
    const p = parties('bad-adaptor');
    const id = await offered(p);
    const { accept } = p.accept();
    const bad = 7;
    const sigs = accept.cetAdaptorSignatures.ecdsaAdaptorSignatures.map((s, i) => {
      if (i !== bad) return s;
      // another valid-looking adaptor signature: the one of slot 8
      return { signature: accept.cetAdaptorSignatures.ecdsaAdaptorSignatures[bad + 1]!.signature };
    });
    const { encodeAcceptDlc } = await import('../protocol/messages/index.js');
    const tampered = toHex(encodeAcceptDlc({ ...accept, cetAdaptorSignatures: { ecdsaAdaptorSignatures: sigs } }));
    const r = await post(`/v1/contracts/${id}/accept`, { accept: tampered, identityPubkey: identityOf(p.acceptIdentity) }, p.acceptIdentity);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'BAD_SIGNATURE', reason: `cet-adaptor-signature:${bad}`, index: bad });
    expect(r.body.error?.message).toMatch(/accept CET adaptor signature 7/);
    expect((await get(`/v1/contracts/${id}`)).body.state).toBe('offered');
  });

  it('refuses an accept with a bad refund signature', async () => {
    const p = parties('bad-refund');
    const id = await offered(p);
    const { accept } = p.accept();
    const { encodeAcceptDlc } = await import('../protocol/messages/index.js');
    const sig = accept.refundSignature.slice();
    sig[40]! ^= 1;
    const r = await post(`/v1/contracts/${id}/accept`, { accept: toHex(encodeAcceptDlc({ ...accept, refundSignature: sig })), identityPubkey: identityOf(p.acceptIdentity) }, p.acceptIdentity);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'BAD_SIGNATURE', reason: 'refund-signature' });
  });

  it('refuses a sign_dlc with a bad offerer adaptor signature; the contract stays accepted and cannot be funded', async () => {
    const p = parties('bad-sign');
    const id = await accepted(p);
    const { sign } = p.sign();
    const sigs = sign.cetAdaptorSignatures.ecdsaAdaptorSignatures.slice();
    sigs[0] = { signature: p.accept().accept.cetAdaptorSignatures.ecdsaAdaptorSignatures[0]!.signature };
    const { encodeSignDlc } = await import('../protocol/messages/index.js');
    const r = await post(`/v1/contracts/${id}/sign`, { sign: toHex(encodeSignDlc({ ...sign, cetAdaptorSignatures: { ecdsaAdaptorSignatures: sigs } })) }, p.offerIdentity);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'BAD_SIGNATURE', reason: 'cet-adaptor-signature:0', index: 0 });
    const f = await post(`/v1/contracts/${id}/fund`, { fundingPsbt: p.signedFundingPsbt('accept') }, p.acceptIdentity);
    expect(f.status).toBe(409);
    expect((await get(`/v1/contracts/${id}`)).body.state).toBe('accepted');
  });

  it('refuses funding the node would not accept (400 FUNDING_REJECTED), staying signed', async () => {
    const p = parties('rejected-funding');
    const id = await signed(p);
    chain.rejectReason = 'bad-txns-inputs-missingorspent';
    try {
      const r = await post(`/v1/contracts/${id}/fund`, { fundingPsbt: p.signedFundingPsbt('accept') }, p.acceptIdentity);
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'FUNDING_REJECTED', rejectReason: 'bad-txns-inputs-missingorspent' });
    } finally {
      chain.rejectReason = null;
    }
    expect((await get(`/v1/contracts/${id}`)).body.state).toBe('signed');
  });

  it('refuses a funding PSBT of another transaction', async () => {
    const p = parties('other-psbt');
    const q = parties('other-psbt-2');
    const id = await signed(p);
    const r = await post(`/v1/contracts/${id}/fund`, { fundingPsbt: q.signedFundingPsbt('accept') }, p.acceptIdentity);
    expect(r.status).toBe(400);
    expect(r.body.error?.reason).toBe('psbt-mismatch');
  });
});

describe('cancel', () => {
  it('lets the offerer withdraw an open offer, not the public', async () => {
    const p = parties('cancel');
    const id = await offered(p);
    const stranger = await post(`/v1/contracts/${id}/cancel`, {}, p.acceptIdentity);
    expect(stranger.status).toBe(403);
    const r = await post(`/v1/contracts/${id}/cancel`, {}, p.offerIdentity);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ state: 'cancelled', endedFrom: 'offered' });
    expect((await post(`/v1/contracts/${id}/accept`, { accept: p.accept().acceptHex, identityPubkey: identityOf(p.acceptIdentity) }, p.acceptIdentity)).status).toBe(409);
  });
});

describe('cooperative close', () => {
  it('collects both signatures (one compact, one in the close PSBT) and broadcasts the close', async () => {
    const p = parties('close');
    const id = await funded(p);
    const { setup } = p.accept();
    const payout = { offer: 250_000n, accept: 350_000n };
    const split = { offerPayout: '250000', acceptPayout: '350000' };
    const proposal = await post(`/v1/contracts/${id}/close`, split, p.acceptIdentity);
    expect(proposal.status, JSON.stringify(proposal.body)).toBe(200);
    expect(typeof proposal.body.closePsbt).toBe('string');
    const bad = await post(`/v1/contracts/${id}/close`, { ...split, signature: toHex(signClose(setup, payout, p.acceptKey)) }, p.offerIdentity);
    expect(bad.status).toBe(400);
    expect(bad.body.error?.reason).toBe('close-signature:offer');
    const one = await post(`/v1/contracts/${id}/close`, { ...split, signature: toHex(signClose(setup, payout, p.offerKey)) }, p.offerIdentity);
    expect(one.body.state).toBe('funding-broadcast');
    expect((one.body.closeProposal as { offerSignature: string | null }).offerSignature).not.toBeNull();
    // The accepter signs the close PSBT with a wallet (partial signature on the 2-of-2 input).
    const psbt = Psbt.fromBase64(one.body.closePsbt as string);
    psbt.signInput(0, keySigner(p.acceptKey));
    const both = await post(`/v1/contracts/${id}/close`, { ...split, closePsbt: psbt.toBase64() }, p.acceptIdentity);
    expect(both.status, JSON.stringify(both.body)).toBe(200);
    expect(both.body).toMatchObject({ state: 'close-broadcast', closingKind: 'close', payouts: { offer: '250000', accept: '350000' } });
    const tx = Transaction.fromHex(both.body.closingTx as string);
    expect(chain.sent).toContain(both.body.closingTx);
    expect(tx.outs.map((o) => o.value).sort()).toEqual([250_000n, 350_000n]);
  });

  it('never combines a signature with an expired proposal: a late signature starts a new proposal', async () => {
    const p = parties('close-expiry');
    const id = await funded(p);
    const { setup } = p.accept();
    const payout = { offer: 250_000n, accept: 350_000n };
    const split = { offerPayout: '250000', acceptPayout: '350000' };
    const lifetimeMs = coord.service.config.closeProposalLifetimeSec * 1000;
    const one = await post(`/v1/contracts/${id}/close`, { ...split, signature: toHex(signClose(setup, payout, p.offerKey)) }, p.offerIdentity);
    expect(one.status, JSON.stringify(one.body)).toBe(200);
    const proposedAt = (one.body.closeProposal as { proposedAt: number }).proposedAt;
    expect(one.body.closeProposal).toMatchObject({ expiresAt: proposedAt + lifetimeMs });
    const sentBefore = chain.sent.length;
    clock += lifetimeMs + 1000; // the offerer's proposal expires
    try {
      const late = await post(`/v1/contracts/${id}/close`, { ...split, signature: toHex(signClose(setup, payout, p.acceptKey)) }, p.acceptIdentity);
      expect(late.status, JSON.stringify(late.body)).toBe(200);
      expect(late.body.state).toBe('funding-broadcast');
      expect(late.body.closeProposal).toMatchObject({ ...split, offerSignature: null, proposedAt: clock });
      expect((late.body.closeProposal as { acceptSignature: string | null }).acceptSignature).not.toBeNull();
      expect(chain.sent.length).toBe(sentBefore);
      // The offerer signs again within the new proposal's lifetime: now it closes.
      const both = await post(`/v1/contracts/${id}/close`, { ...split, signature: toHex(signClose(setup, payout, p.offerKey)) }, p.offerIdentity);
      expect(both.body.state).toBe('close-broadcast');
    } finally {
      clock -= lifetimeMs + 1000;
    }
  });

  it('refuses a split above the total collateral and a close before funding', async () => {
    const p = parties('close-bad');
    const id = await signed(p);
    expect((await post(`/v1/contracts/${id}/close`, { offerPayout: '1', acceptPayout: '1' }, p.offerIdentity)).status).toBe(409);
  });
});

describe('keyless settlement by the watcher (node faked)', () => {
  const tick = async (): Promise<void> => {
    clock += 1000; // past the attestation poll interval
    await coord.watcher.tick();
  };
  it('completes the attested CET from both stored adaptor signatures and broadcasts it', async () => {
    const p = parties('settle');
    const id = await funded(p);
    const { setup } = p.accept();
    chain.confirmed.set(setup.funding.txidHex, chain.height);
    await tick();
    expect((await get(`/v1/contracts/${id}`)).body.state).toBe('confirmed');
    oracle.attest(p.eventId, 9600n, 14); // above the tolerance: the miner gets escrow + collateral
    await tick();
    const rec = (await get(`/v1/contracts/${id}`, p.offerIdentity)).body;
    expect(rec).toMatchObject({ state: 'cet-broadcast', closingKind: 'cet', outcome: '9600', broadcastBy: 'coordinator', payouts: { offer: '600000', accept: '0' } });
    const cet = Transaction.fromHex(rec.closingTx as string);
    expect(chain.sent).toContain(rec.closingTx);
    // both signatures in the 2-of-2 witness verify against the CET's own sighash
    const sighash = fundingSpendSighash(setup.closing, cet, 0);
    const keys = [setup.offer.fundingPubkey, setup.accept.fundingPubkey].sort(Buffer.compare);
    expect(ecdsaVerify(bscriptSignatureDecode(cet.ins[0]!.witness[1]!), sighash, keys[0]!)).toBe(true);
    expect(ecdsaVerify(bscriptSignatureDecode(cet.ins[0]!.witness[2]!), sighash, keys[1]!)).toBe(true);
    chain.confirmed.set(cet.getId(), chain.height);
    await tick();
    expect((await get(`/v1/contracts/${id}`)).body.state).toBe('settled');
  });

  it('keeps the completed CET while it is non-final, then broadcasts it', async () => {
    const p = parties('non-final');
    const id = await funded(p);
    chain.confirmed.set(p.accept().setup.funding.txidHex, chain.height);
    await tick();
    oracle.attest(p.eventId, 100n, 14);
    const slotTx = async () => (await get(`/v1/contracts/${id}`, p.acceptIdentity)).body;
    // make the CET non-final at the node for one poll
    const { findAttestedSlot, completeCet } = await import('../protocol/contract/index.js');
    const att = oracle.oracle.attestNumeric(p.eventId, 100n, 14);
    const { setup } = p.accept();
    const slot = findAttestedSlot(setup, [{ contractIndex: 0, oracleIndex: 0, attestation: att }]);
    const cetId = completeCet(setup, slot, p.sign().sign.cetAdaptorSignatures.ecdsaAdaptorSignatures[slot.slotIndex]!.signature,
      p.accept().accept.cetAdaptorSignatures.ecdsaAdaptorSignatures[slot.slotIndex]!.signature).getId();
    chain.sendFailures.set(cetId, new ChainError('CHAIN_NON_FINAL', 'sendrawtransaction', 'non-final', { rpcCode: -26 }));
    await tick();
    expect((await slotTx()).state).toBe('attested');
    chain.sendFailures.delete(cetId);
    await tick();
    expect((await slotTx())).toMatchObject({ state: 'cet-broadcast', closingTxid: cetId });
  });

  it('broadcasts the refund after the refund locktime when no attestation came', async () => {
    const p = parties('refund', { locktimes: { cetLocktime: 1100, refundLocktime: 1120 } });
    const id = await funded(p);
    chain.confirmed.set(p.accept().setup.funding.txidHex, chain.height);
    const saved = chain.height;
    await tick();
    expect((await get(`/v1/contracts/${id}`)).body.state).toBe('confirmed');
    chain.height = Math.max(saved, 1120);
    await tick();
    const rec = (await get(`/v1/contracts/${id}`, p.offerIdentity)).body;
    expect(rec).toMatchObject({ state: 'refund-broadcast', closingKind: 'refund', payouts: { offer: '200000', accept: '400000' } });
    expect(Transaction.fromHex(rec.closingTx as string).locktime).toBe(1120);
  });

  it('notices a CET someone else mined and records it as settled, paid as the CET says', async () => {
    // The chain is past the fixture window now (the refund test above): a window ahead of it.
    const p = parties('other-cet', { window: { start: 2000, end: 2100 }, locktimes: { cetLocktime: 2100, refundLocktime: 2120 } });
    const id = await funded(p);
    const { setup, accept } = p.accept();
    chain.confirmed.set(setup.funding.txidHex, chain.height);
    await tick();
    // A party completes the CET for outcome 0 itself (the oracle's attestation is public) and mines it.
    const { findAttestedSlot, completeCet } = await import('../protocol/contract/index.js');
    const att = oracle.oracle.attestNumeric(p.eventId, 0n, 14);
    const slot = findAttestedSlot(setup, [{ contractIndex: 0, oracleIndex: 0, attestation: att }]);
    const cet = completeCet(setup, slot, p.sign().sign.cetAdaptorSignatures.ecdsaAdaptorSignatures[slot.slotIndex]!.signature,
      accept.cetAdaptorSignatures.ecdsaAdaptorSignatures[slot.slotIndex]!.signature);
    chain.height += 1;
    chain.blockTxs.set(chain.height, [cet]);
    await tick();
    const rec = (await get(`/v1/contracts/${id}`)).body;
    expect(rec).toMatchObject({
      state: 'settled', closingKind: 'cet', closingTxid: cet.getId(), broadcastBy: 'other', closingHeight: chain.height,
      payouts: { offer: '0', accept: '600000' },
    });
  });

  it('fails a contract whose funding can never confirm (an input spent elsewhere), after trying to rebroadcast', async () => {
    const p = parties('double-spent', { window: { start: 2000, end: 2100 }, locktimes: { cetLocktime: 2100, refundLocktime: 2120 } });
    const id = await funded(p);
    const { funding } = p.accept().setup;
    // The funding transaction left the mempool and one of its inputs was spent by another transaction.
    chain.sent.splice(0, chain.sent.length);
    chain.sendFailures.set(funding.txidHex, new ChainError('CHAIN_MISSING_INPUTS', 'sendrawtransaction', 'bad-txns-inputs-missingorspent', { rpcCode: -25 }));
    chain.spent.add(`${funding.txidHex}:${funding.fundOutputIndex}`);
    await tick();
    expect((await get(`/v1/contracts/${id}`)).body).toMatchObject({ state: 'failed', endedFrom: 'funding-broadcast', reason: 'a funding input was spent by another transaction' });
  });
});

describe('issue 9: no contract on a known outcome, a funding deadline, one coin and one delivery address per live contract', () => {
  const tick = async (): Promise<void> => {
    clock += 1000;
    await coord.watcher.tick();
  };
  /** A sale whose window lies ahead of the (fake) chain, as the tests above moved it. */
  const ahead = (label: string, over: Partial<Parameters<typeof saleParties>[0]> = {}, lead = 50): SaleParties => {
    const window = over.window ?? { start: chain.height + lead, end: chain.height + lead + 100 };
    return parties(label, { window, locktimes: { cetLocktime: window.end, refundLocktime: window.end + 20 }, ...over });
  };
  const refused = async (path: string, body: unknown, key: Uint8Array, status: number, code: string, reason: string): Promise<void> => {
    const r = await post(path, body, key);
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    expect(r.body.error).toMatchObject({ code, reason });
  };

  it('refuses an offer over a window that has started (409 EXPIRED window-started)', async () => {
    const p = ahead('started', { window: { start: chain.height, end: chain.height + 100 }, fundingDeadline: chain.height - 2 });
    await refused('/v1/offers', offerBody(p), p.offerIdentity, 409, 'EXPIRED', 'window-started');
  });

  it('refuses an offer on an event the oracle has attested (409 EXPIRED event-attested)', async () => {
    const p = ahead('attested');
    oracle.attest(p.eventId, 0n, 14);
    await refused('/v1/offers', offerBody(p), p.offerIdentity, 409, 'EXPIRED', 'event-attested');
  });

  it('refuses terms without a funding deadline, or with one after the window start (400 TERMS_MISMATCH)', async () => {
    const p = ahead('no-deadline');
    const { fundingDeadline: _d, ...without } = p.terms as Extract<typeof p.terms, { template: 'hashpower-sale' }>;
    await refused('/v1/offers', { ...offerBody(p), terms: without }, p.offerIdentity, 400, 'TERMS_MISMATCH', 'funding-deadline-missing');
    const late = { ...p.terms, fundingDeadline: p.window.start + 1 };
    await refused('/v1/offers', { ...offerBody(p), terms: late }, p.offerIdentity, 400, 'TERMS_MISMATCH', 'funding-deadline-after-window-start');
  });

  it('refuses a refund locktime of 499,999,999 (400 TERMS_MISMATCH refund-too-late)', async () => {
    const window = { start: chain.height + 50, end: chain.height + 150 };
    const p = ahead('refund-forever', { window, locktimes: { cetLocktime: window.end, refundLocktime: 499_999_999 } });
    await refused('/v1/offers', offerBody(p), p.offerIdentity, 400, 'TERMS_MISMATCH', 'refund-too-late');
  });

  it('one coin backs one pending offer or accept (409 CONFLICT input-in-use); a withdrawn offer frees it', async () => {
    const first = ahead('coin-first', { minerCollateral: 500_000n }); // a coin big enough for the accepter's side too
    const id = await offered(first);
    const again = ahead('coin-again', { offerInputs: first.offer.fundingInputs, offerUtxoKey: first.offerUtxoKey });
    await refused('/v1/offers', offerBody(again), again.offerIdentity, 409, 'CONFLICT', 'input-in-use');
    // An accept naming the pending offer's coin as its own (the griefer's "any unspent coin").
    const other = ahead('coin-accepter', { acceptInputs: first.offer.fundingInputs.map((i) => ({ ...i, inputSerialId: 99n })), acceptUtxoKey: first.offerUtxoKey });
    const otherId = await offered(other);
    await refused(`/v1/contracts/${otherId}/accept`, { accept: other.accept().acceptHex, identityPubkey: identityOf(other.acceptIdentity) }, other.acceptIdentity, 409, 'CONFLICT', 'input-in-use');
    expect((await get(`/v1/contracts/${otherId}`)).body.state).toBe('offered');
    // Withdrawn: the coin is free for the next offer.
    expect((await post(`/v1/contracts/${id}/cancel`, {}, first.offerIdentity)).status).toBe(200);
    expect(await offered(again)).toBe(toHex(again.offer.temporaryContractId));
  });

  it('one delivery address, one live window (409 CONFLICT delivery-address-in-use); a later window is fine', async () => {
    const first = ahead('deliver-first');
    await offered(first);
    const rider = ahead('deliver-rider', { deliveryAddress: `bcrt1qdelivery-deliver-first`, window: { start: first.window.start + 10, end: first.window.end + 10 } });
    await refused('/v1/offers', offerBody(rider), rider.offerIdentity, 409, 'CONFLICT', 'delivery-address-in-use');
    const later = ahead('deliver-later', { deliveryAddress: `bcrt1qdelivery-deliver-first`, window: { start: first.window.end, end: first.window.end + 100 } });
    await offered(later);
  });

  it('refuses fund from the funding deadline on (409 EXPIRED), then expires the contract and frees its coins', async () => {
    const p = ahead('deadline', {}, 12);
    const id = await signed(p);
    const deadline = p.window.start - 2;
    chain.height = deadline;
    const sent = chain.sent.length;
    await refused(`/v1/contracts/${id}/fund`, { fundingPsbt: p.signedFundingPsbt('accept') }, p.acceptIdentity, 409, 'EXPIRED', 'funding-deadline-passed');
    expect(chain.sent.length).toBe(sent); // nothing broadcast
    await tick();
    const rec = (await get(`/v1/contracts/${id}`)).body;
    expect(rec).toMatchObject({ state: 'expired', endedFrom: 'signed' });
    expect((rec.history as { state: string }[]).at(-1)!.state).toBe('expired');
    expect(((await get('/v1/offers?limit=200')).body.offers as { id: string }[]).some((o) => o.id === id)).toBe(false);
    // Its coins back a new offer.
    const next = ahead('deadline-next', { offerInputs: p.offer.fundingInputs, offerUtxoKey: p.offerUtxoKey });
    await offered(next);
    // Open offers past their deadline leave the book too.
    const open = ahead('deadline-open', {}, 5);
    const openId = await offered(open);
    chain.height = open.window.start - 2;
    await tick();
    expect((await get(`/v1/contracts/${openId}`)).body).toMatchObject({ state: 'expired', endedFrom: 'offered' });
    await refused(`/v1/contracts/${openId}/accept`, { accept: open.accept().acceptHex, identityPubkey: identityOf(open.acceptIdentity) }, open.acceptIdentity, 409, 'EXPIRED', 'state-expired');
  });

  it('a griefer who accepts and never goes on loses the offer after the accept timeout: back on the book, another buyer accepts', async () => {
    const p = ahead('grief', {}, 40);
    const id = await accepted(p);
    expect((await get(`/v1/offers/${id}`)).body.state).toBe('accepted');
    chain.height += 5;
    await tick();
    expect((await get(`/v1/contracts/${id}`)).body.state).toBe('accepted');
    chain.height += 1; // 6 blocks: the regtest default accept timeout
    await tick();
    const back = (await get(`/v1/contracts/${id}`)).body;
    expect(back.state).toBe('offered');
    expect(back).not.toHaveProperty('accepter');
    expect(((await get('/v1/offers?limit=200')).body.offers as { id: string }[]).some((o) => o.id === id)).toBe(true);
    // Another buyer (another identity key) accepts the same offer; its coins were freed with the dropped accept.
    const buyer = identityOf(p.offerUtxoKey);
    const r = await post(`/v1/contracts/${id}/accept`, { accept: p.accept().acceptHex, identityPubkey: buyer }, p.offerUtxoKey);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.accepter).toMatchObject({ identityPubkey: buyer });
  });
});
