/**
 * Positions and transfers at the coordinator (issue 14) over HTTP on
 * 127.0.0.1, LevelDB in a temp dir, the node faked in memory and an in-test
 * oracle server. A funded, confirmed hashpower sale's buyer side (B1) is
 * listed, taken by a new buyer (B2) with every CET adaptor signature, consented
 * to by the miner (M), released by B1 and funded by B2: the signed transfer is
 * broadcast once and the new contract stored with it in one batch; the watcher
 * confirms it (old contract `transferred`, new `confirmed`) and settles the NEW
 * contract keylessly, paying B2's payout script. Each refusal names its error:
 * not the accepter, not confirmed, a strip's period, a second listing, a bad
 * adaptor signature (the slot), an accept' that changes the contract (the
 * field), a bad consent signature, a release by someone else, a fund before
 * consent, a PSBT of another transaction, a cancel after broadcast. Privacy: a
 * stranger sees no transfer PSBT or terms, and no new contract's messages.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transaction } from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  setupTransferredContract,
  signContract,
  transferSign,
  transferredMessages,
  type ContractSetup,
} from '../protocol/contract/index.js';
import { ecdsaSign } from '../protocol/crypto/ecdsa.js';
import { encodeAcceptDlc, encodeSignDlc, toHex, type AcceptDlc, type OracleAnnouncement } from '../protocol/messages/index.js';
import {
  buildTransferPsbt,
  transferSourceOf,
  transferSpendSighash,
  type TransferTerms,
  type TransferTransaction,
} from '../protocol/tx/index.js';
import { CoordinatorClient } from '../src/api/coordinator-client.js';
import { ChainError } from '../src/chain/index.js';
import { coordinatorQueries, startCoordinator, type RunningCoordinator } from '../src/coordinator/index.js';
import { fundingInput, p2wpkhScriptPubkey, publicKey, testOracle, testSecret } from './helpers/dlc-fixture.js';
import { FakeChain, api, fakeChainCoordinatorConfig, identityOf, keySigner, saleParties, startTestOracle, stripParties, type SaleParties, type TestOracleServer } from './coordinator-fixtures.js';

const ORACLE_LABEL = 'coord-position-oracle';
const theOracle = testOracle(ORACLE_LABEL);
const published = new Map<string, OracleAnnouncement>();
let dir: string;
let oracle: TestOracleServer;
let chain: FakeChain;
let coord: RunningCoordinator;
let clock = Date.now();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hashdlc-coord-position-'));
  oracle = await startTestOracle(ORACLE_LABEL, { events: published });
  chain = new FakeChain();
  coord = await startCoordinator(fakeChainCoordinatorConfig(join(dir, 'db'), oracle.url), { chain, now: () => clock, watch: false, log: () => undefined });
});

afterAll(async () => {
  await coord?.stop();
  await oracle?.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (path: string, body: unknown, key?: Uint8Array) => api(coord.url, 'POST', path, { body, ...(key ? { key } : {}), now: clock });
const get = (path: string, key?: Uint8Array) => api(coord.url, 'GET', path, { ...(key ? { key } : {}), now: clock });
const tick = async (): Promise<void> => {
  clock += 1000; // past the attestation poll interval
  await coord.watcher.tick();
};

/** A sale offered, accepted, signed, funded and confirmed at the coordinator. */
async function confirmedSale(label: string): Promise<{ p: SaleParties; id: string }> {
  const p = saleParties({ label, oracle: theOracle });
  published.set(p.eventId, p.announcement);
  let r = await post('/v1/offers', { offer: p.offerHex, identityPubkey: identityOf(p.offerIdentity), terms: p.terms }, p.offerIdentity);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  const id = r.body.id as string;
  r = await post(`/v1/contracts/${id}/accept`, { accept: p.accept().acceptHex, identityPubkey: identityOf(p.acceptIdentity) }, p.acceptIdentity);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  r = await post(`/v1/contracts/${id}/sign`, { sign: p.sign().signHex, fundingPsbt: p.signedFundingPsbt('offer') }, p.offerIdentity);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  r = await post(`/v1/contracts/${id}/fund`, { fundingPsbt: p.signedFundingPsbt('accept') }, p.acceptIdentity);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  chain.confirmed.set(p.accept().setup.funding.txidHex, chain.height);
  await tick();
  expect((await get(`/v1/contracts/${id}`)).body.state).toBe('confirmed');
  return { p, id };
}

const PRICE = 120_000n;

/** B2, the new buyer of a sale's buyer side: its keys, accept', the set-up over the transfer, and each party's signatures. */
function newBuyer(p: SaleParties, label: string) {
  const b2Key = testSecret(`${label}:b2-funding`);
  const b2Utxo = testSecret(`${label}:b2-utxo`);
  const identity = testSecret(`${label}:b2-identity`);
  const payoutSpk = p2wpkhScriptPubkey(publicKey(testSecret(`${label}:b2-payout`)));
  const sellerSpk = p2wpkhScriptPubkey(publicKey(testSecret(`${label}:b1-price`)));
  const old = p.accept().setup;
  const terms: TransferTerms = { side: 'accept', from: transferSourceOf(old.closing), price: PRICE, sellerSpk, priceSerialId: 40n, feeRatePerVb: 3n };
  const drafts = transferredMessages({ offer: p.offer, accept: p.accept().accept }, 'accept', testSecret(`${label}:transfer-temp`), {
    fundingPubkey: publicKey(b2Key),
    payoutSpk,
    payoutSerialId: 21n,
    // 108: a signer that does not grind low-R (the fixture's wallets are the same).
    fundingInputs: [{ ...fundingInput(b2Utxo, 300_000n, 22n, `${label}:b2`), maxWitnessLen: 108 }],
    changeSpk: p2wpkhScriptPubkey(publicKey(testSecret(`${label}:b2-change`))),
    changeSerialId: 23n,
  });
  const first = setupTransferredContract(drafts.offer, drafts.accept, terms, { hashProfile: 'sha256' });
  const accept: AcceptDlc = { ...drafts.accept, ...signContract(first.setup, b2Key) };
  const { setup, transfer }: { setup: ContractSetup; transfer: TransferTransaction } = setupTransferredContract(drafts.offer, accept, terms, { hashProfile: 'sha256' });
  const sighash = transferSpendSighash(old.closing, transfer);
  return {
    identity,
    payoutSpk,
    sellerSpk,
    accept,
    setup,
    transfer,
    takeBody: (a: AcceptDlc = accept) => ({ accept: toHex(encodeAcceptDlc(a)), identityPubkey: identityOf(identity), priceSerialId: '40', feeRatePerVb: '3' }),
    consentBody: () => ({ sign: toHex(encodeSignDlc(transferSign(setup, signContract(setup, p.offerKey)))), signature: toHex(ecdsaSign(p.offerKey, sighash)) }),
    releaseBody: () => ({ signature: toHex(ecdsaSign(p.acceptKey, sighash)) }),
    fundBody: () => {
      const psbt = buildTransferPsbt(transfer, terms.from);
      psbt.signInput(0, keySigner(b2Utxo));
      return { transferPsbt: psbt.toBase64() };
    },
  };
}

async function listed(p: SaleParties, id: string, sellerSpk: Uint8Array): Promise<string> {
  const r = await post('/v1/positions', { contractId: id, price: String(PRICE), sellerSpk: toHex(sellerSpk) }, p.acceptIdentity);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.id as string;
}

describe('a buyer sells its side: list → take → consent → release → fund → broadcast → transferred → settled', () => {
  let p: SaleParties;
  let id: string;
  let b2: ReturnType<typeof newBuyer>;
  let pid: string;

  it('lists the confirmed contract on the secondary book, with the sold contract\'s messages public', async () => {
    ({ p, id } = await confirmedSale('happy'));
    b2 = newBuyer(p, 'happy');
    pid = await listed(p, id, b2.sellerSpk);
    const book = await get('/v1/positions');
    expect((book.body.positions as { id: string }[]).map((x) => x.id)).toContain(pid);
    const one = (await get(`/v1/positions/${pid}`)).body;
    expect(one).toMatchObject({ state: 'listed', contractId: id, side: 'accept', price: String(PRICE), delivery: null });
    const m = await get(`/v1/positions/${pid}/messages`);
    expect(m.status).toBe(200);
    expect(m.body).toMatchObject({ contract: { offer: p.offerHex, accept: p.accept().acceptHex }, next: null });
  });

  it('takes it with B2\'s accept\' (every CET adaptor signature verified), then holds B2\'s inputs', async () => {
    const r = await post(`/v1/positions/${pid}/take`, b2.takeBody(), b2.identity);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ state: 'taken', newContractId: toHex(b2.accept.temporaryContractId), takerIdentity: identityOf(b2.identity), transferTxid: b2.transfer.txidHex });
    expect(r.body.transfer).toMatchObject({ side: 'accept', price: String(PRICE), sellerSpk: toHex(b2.sellerSpk) });
    // B2's coin backs this take alone while it is taken (no offer, accept or other take may use it).
    expect(await coord.service.store.outpointOwner(b2Outpoint(b2))).toBe(`position:${pid}`);
    // Privacy: a stranger sees the position but not its transfer PSBT and terms, nor the messages any more.
    const pub = (await get(`/v1/positions/${pid}`)).body;
    expect(pub.state).toBe('taken');
    expect(pub).not.toHaveProperty('transferPsbt');
    expect(pub).not.toHaveProperty('transfer');
    expect((await get(`/v1/positions/${pid}/messages`)).status).toBe(401);
    expect((await get(`/v1/positions/${pid}/messages`, testSecret('stranger'))).status).toBe(403);
    const mine = (await get(`/v1/positions/${pid}/messages`, p.offerIdentity)).body as { next: { offer: string; accept: string; sign: string | null } };
    expect(mine.next).toMatchObject({ accept: toHex(encodeAcceptDlc(b2.accept)), sign: null });
    // The answers are what the API's schemas say (the participant reads them through CoordinatorClient).
    const client = new CoordinatorClient(coord.url);
    expect((await client.position(pid, b2.identity)).transfer).toMatchObject({ price: String(PRICE) });
    expect((await client.positionMessages(pid, p.acceptIdentity)).next).toMatchObject({ sign: null });
    expect((await client.positions({ state: 'taken' })).positions.map((x) => x.id)).toContain(pid);
  });

  it('refuses the fund before the stayer consented (409 not-consented)', async () => {
    const r = await post(`/v1/positions/${pid}/fund`, b2.fundBody(), b2.identity);
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({ code: 'INVALID_STATE', reason: 'not-consented' });
  });

  it('refuses a consent whose old-input signature is not the stayer\'s (400 BAD_SIGNATURE)', async () => {
    const body = { ...b2.consentBody(), signature: b2.releaseBody().signature };
    const r = await post(`/v1/positions/${pid}/consent`, body, p.offerIdentity);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'BAD_SIGNATURE', reason: 'transfer-signature:offer' });
  });

  it('refuses a release by anyone but the seller (403)', async () => {
    const r = await post(`/v1/positions/${pid}/release`, b2.releaseBody(), b2.identity);
    expect(r.status).toBe(403);
    expect(r.body.error).toMatchObject({ code: 'FORBIDDEN', reason: 'not-seller' });
  });

  it('collects consent and release, refuses a PSBT of another transaction, then broadcasts the transfer once with the new contract', async () => {
    let r = await post(`/v1/positions/${pid}/consent`, b2.consentBody(), p.offerIdentity);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ state: 'taken', consented: true, released: false, funded: false });
    r = await post(`/v1/positions/${pid}/release`, b2.releaseBody(), p.acceptIdentity);
    expect(r.body).toMatchObject({ state: 'taken', consented: true, released: true });
    r = await post(`/v1/positions/${pid}/fund`, { transferPsbt: p.signedFundingPsbt('accept') }, b2.identity);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'INVALID_PARAMS', reason: 'psbt-mismatch' });
    const sentBefore = chain.sent.length;
    r = await post(`/v1/positions/${pid}/fund`, b2.fundBody(), b2.identity);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ state: 'broadcast', funded: true, transferTxid: b2.transfer.txidHex });
    const sent = chain.sent.slice(sentBefore).map((h) => Transaction.fromHex(h));
    expect(sent.map((t) => t.getId())).toEqual([b2.transfer.txidHex]);
    // The new contract: an ordinary record funded by the transfer, B2 its accepter.
    const newId = toHex(b2.accept.temporaryContractId);
    const next = (await get(`/v1/contracts/${newId}`, b2.identity)).body;
    expect(next).toMatchObject({
      state: 'funding-broadcast', fundingTxid: b2.transfer.txidHex, contractId: toHex(b2.setup.contractId),
      accepter: { identityPubkey: identityOf(b2.identity), payoutSpk: toHex(b2.payoutSpk) },
      transferredFrom: { contractId: id, positionId: pid, transferTxid: b2.transfer.txidHex },
    });
    expect(next).not.toHaveProperty('transfer');
    // Spent by the transfer now: no longer held by the position.
    expect(await coord.service.store.outpointOwner(b2Outpoint(b2))).toBeUndefined();
    const old = (await get(`/v1/contracts/${id}`)).body;
    expect(old).toMatchObject({ state: 'confirmed', transferredTo: { contractId: newId, positionId: pid, transferTxid: b2.transfer.txidHex } });
  });

  it('refuses a cancel after broadcast (409)', async () => {
    const r = await post(`/v1/positions/${pid}/cancel`, {}, p.acceptIdentity);
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({ code: 'INVALID_STATE', reason: 'state-broadcast' });
  });

  it('the watcher confirms the transfer: old contract transferred, new one confirmed, the owner chain B1 → B2', async () => {
    await tick(); // in the mempool: nothing sent twice
    expect(chain.sent.filter((h) => Transaction.fromHex(h).getId() === b2.transfer.txidHex)).toHaveLength(1);
    chain.confirmed.set(b2.transfer.txidHex, chain.height);
    await tick();
    const newId = toHex(b2.accept.temporaryContractId);
    expect((await get(`/v1/positions/${pid}`)).body.state).toBe('transferred');
    expect((await get(`/v1/contracts/${id}`)).body.state).toBe('transferred');
    expect((await get(`/v1/contracts/${newId}`)).body.state).toBe('confirmed');
    // The sale's delivery address is measured by the new contract now (same window), the old one released it.
    const address = (p.terms as { deliveryAddress: string }).deliveryAddress;
    expect((await coord.service.store.liveSalesOf(address)).map((x) => x.id)).toEqual([newId]);
    const queries = coordinatorQueries(coord.service);
    expect((await queries.positions!({ state: 'transferred', limit: 10 })).positions.map((x) => x.id)).toContain(pid);
    expect((await queries.positions!({ limit: 10 })).positions.map((x) => x.id)).not.toContain(pid);
    const chainOf = await queries.ownerChain!(newId);
    expect(chainOf).toEqual([
      { contractId: id, state: 'transferred', accepterIdentity: identityOf(p.acceptIdentity), positionId: pid, transferTxid: b2.transfer.txidHex },
      { contractId: newId, state: 'confirmed', accepterIdentity: identityOf(b2.identity), positionId: null, transferTxid: null },
    ]);
  });

  it('settles the NEW contract keylessly: the CET spends the transfer\'s funding output and pays B2', async () => {
    const newId = toHex(b2.accept.temporaryContractId);
    oracle.attest(p.eventId, 100n, 14); // far below the tolerance: the buyer gets its escrow back
    await tick();
    const rec = (await get(`/v1/contracts/${newId}`, b2.identity)).body;
    expect(rec).toMatchObject({ state: 'cet-broadcast', closingKind: 'cet', broadcastBy: 'coordinator' });
    const cet = Transaction.fromHex(rec.closingTx as string);
    expect(toHex(Uint8Array.from(cet.ins[0]!.hash).reverse())).toBe(b2.transfer.txidHex);
    const paid = cet.outs.filter((o) => toHex(o.script) === toHex(b2.payoutSpk)).reduce((a, o) => a + o.value, 0n);
    expect(paid).toBe(BigInt((rec.payouts as { accept: string }).accept));
    expect(paid).toBeGreaterThan(0n);
    // The old contract, transferred, completes no CET of its own.
    expect((await get(`/v1/contracts/${id}`)).body.state).toBe('transferred');
  });
});

describe('a transfer that can never confirm (B2 double-spends its input)', () => {
  it('is re-sent while merely missing; once its input is spent elsewhere the position and the new contract fail, and the old contract settles paying B1', async () => {
    const { p, id } = await confirmedSale('double-spend');
    const b2 = newBuyer(p, 'double-spend');
    const pid = await listed(p, id, b2.sellerSpk);
    expect((await post(`/v1/positions/${pid}/take`, b2.takeBody(), b2.identity)).status).toBe(200);
    expect((await post(`/v1/positions/${pid}/consent`, b2.consentBody(), p.offerIdentity)).status).toBe(200);
    expect((await post(`/v1/positions/${pid}/release`, b2.releaseBody(), p.acceptIdentity)).status).toBe(200);
    expect((await post(`/v1/positions/${pid}/fund`, b2.fundBody(), b2.identity)).body.state).toBe('broadcast');
    const txid = b2.transfer.txidHex;
    const isTransfer = (h: string): boolean => Transaction.fromHex(h).getId() === txid;
    // Dropped from the mempool (or never sent before a crash): the watcher sends it again, once.
    chain.sent.splice(0, chain.sent.length, ...chain.sent.filter((h) => !isTransfer(h)));
    await tick();
    expect(chain.sent.filter(isTransfer)).toHaveLength(1);
    // B2 spends its input elsewhere: the transfer is gone and can never come back.
    chain.sent.splice(0, chain.sent.length, ...chain.sent.filter((h) => !isTransfer(h)));
    chain.sendFailures.set(txid, new ChainError('CHAIN_MISSING_INPUTS', 'sendrawtransaction', 'bad-txns-inputs-missingorspent', { rpcCode: -25 }));
    chain.spent.add(`${txid}:${b2.transfer.fundOutputIndex}`);
    await tick();
    const newId = toHex(b2.accept.temporaryContractId);
    expect((await get(`/v1/positions/${pid}`)).body).toMatchObject({ state: 'failed' });
    expect((await get(`/v1/contracts/${newId}`)).body.state).toBe('failed');
    const old = (await get(`/v1/contracts/${id}`)).body;
    expect(old.state).toBe('confirmed');
    expect(old).not.toHaveProperty('transferredTo');
    // Nothing lost: the old contract settles keylessly and pays B1.
    oracle.attest(p.eventId, 100n, 14);
    await tick();
    const rec = (await get(`/v1/contracts/${id}`, p.acceptIdentity)).body;
    expect(rec).toMatchObject({ state: 'cet-broadcast', closingKind: 'cet', broadcastBy: 'coordinator' });
    const cet = Transaction.fromHex(rec.closingTx as string);
    const b1Payout = (rec.accepter as { payoutSpk: string }).payoutSpk;
    expect(cet.outs.some((o) => toHex(o.script) === b1Payout && o.value > 0n)).toBe(true);
    expect(toHex(Uint8Array.from(cet.ins[0]!.hash).reverse())).toBe(p.accept().setup.funding.txidHex);
  });
});

describe('refusals, each named', () => {
  it('a listing by anyone but the accepter (403), of an unconfirmed contract (409), twice (409 position-exists)', async () => {
    const { p, id } = await confirmedSale('refuse-list');
    const spk = toHex(p2wpkhScriptPubkey(publicKey(testSecret('refuse-list:price'))));
    let r = await post('/v1/positions', { contractId: id, price: '50000', sellerSpk: spk }, p.offerIdentity);
    expect(r.status).toBe(403);
    expect(r.body.error).toMatchObject({ code: 'FORBIDDEN', reason: 'not-accepter' });
    await listed(p, id, fromSpk(spk));
    r = await post('/v1/positions', { contractId: id, price: '50000', sellerSpk: spk }, p.acceptIdentity);
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({ code: 'CONFLICT', reason: 'position-exists' });

    const q = saleParties({ label: 'refuse-unconfirmed', oracle: theOracle });
    published.set(q.eventId, q.announcement);
    const o = await post('/v1/offers', { offer: q.offerHex, identityPubkey: identityOf(q.offerIdentity), terms: q.terms }, q.offerIdentity);
    const qid = o.body.id as string;
    await post(`/v1/contracts/${qid}/accept`, { accept: q.accept().acceptHex, identityPubkey: identityOf(q.acceptIdentity) }, q.acceptIdentity);
    r = await post('/v1/positions', { contractId: qid, price: '50000', sellerSpk: spk }, q.acceptIdentity);
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({ code: 'INVALID_STATE', reason: 'state-accepted' });
  });

  it('a take with a bad adaptor signature (400 BAD_SIGNATURE naming the slot) or an accept\' that changes the contract (400 transfer-mismatch:<field>)', async () => {
    const { p, id } = await confirmedSale('refuse-take');
    const b2 = newBuyer(p, 'refuse-take');
    const pid = await listed(p, id, b2.sellerSpk);
    const sigs = b2.accept.cetAdaptorSignatures.ecdsaAdaptorSignatures.slice();
    sigs[2] = sigs[3]!;
    let r = await post(`/v1/positions/${pid}/take`, b2.takeBody({ ...b2.accept, cetAdaptorSignatures: { ecdsaAdaptorSignatures: sigs } }), b2.identity);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'BAD_SIGNATURE', reason: 'cet-adaptor-signature:2' });
    r = await post(`/v1/positions/${pid}/take`, b2.takeBody({ ...b2.accept, acceptCollateral: b2.accept.acceptCollateral - 1n }), b2.identity);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'INVALID_PARAMS', reason: 'transfer-mismatch:accept.acceptCollateral' });
    expect((await get(`/v1/positions/${pid}`)).body.state).toBe('listed');
  });

  it('a strip\'s period is not sold alone (409 strip-period)', async () => {
    const st = stripParties({ label: 'refuse-strip', periods: 2, oracle: theOracle });
    st.announcements.forEach((a) => published.set(a.oracleEvent.eventId, a));
    let r = await post('/v1/strips', { offers: st.offerHexes, identityPubkey: identityOf(st.offerIdentity), terms: st.terms }, st.offerIdentity);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const ids = (r.body.contracts as { id: string }[]).map((c) => c.id);
    r = await post(`/v1/strips/${ids[0]}/accept`, { accepts: st.accepts().map((x) => x.acceptHex), identityPubkey: identityOf(st.acceptIdentity) }, st.acceptIdentity);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    r = await post(`/v1/strips/${ids[0]}/sign`, { signs: st.signs().map((x) => x.signHex) }, st.offerIdentity);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    r = await post(`/v1/strips/${ids[0]}/fund`, { fundingPsbt: st.signedFundingPsbt('accept') }, st.acceptIdentity);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    chain.confirmed.set(st.accepts()[0]!.setup.funding.txidHex, chain.height);
    await tick();
    expect((await get(`/v1/contracts/${ids[1]}`)).body.state).toBe('confirmed');
    r = await post('/v1/positions', { contractId: ids[1], price: '50000', sellerSpk: toHex(p2wpkhScriptPubkey(publicKey(testSecret('s')))) }, st.acceptIdentity);
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({ code: 'INVALID_STATE', reason: 'strip-period' });
  });

  it('the taker abandons its take (back to listed, its inputs free); the seller cancels', async () => {
    const { p, id } = await confirmedSale('cancel');
    const b2 = newBuyer(p, 'cancel');
    const pid = await listed(p, id, b2.sellerSpk);
    expect((await post(`/v1/positions/${pid}/take`, b2.takeBody(), b2.identity)).status).toBe(200);
    let r = await post(`/v1/positions/${pid}/cancel`, {}, testSecret('stranger'));
    expect(r.status).toBe(403);
    r = await post(`/v1/positions/${pid}/cancel`, {}, b2.identity);
    expect(r.body).toMatchObject({ state: 'listed', newContractId: null });
    // Its inputs are free again: the same take goes through.
    expect((await post(`/v1/positions/${pid}/take`, b2.takeBody(), b2.identity)).status).toBe(200);
    r = await post(`/v1/positions/${pid}/cancel`, {}, p.acceptIdentity);
    expect(r.body).toMatchObject({ state: 'cancelled' });
  });
  it('a transfer too close to the window end (409 EXPIRED transfer-closed); a listing past it expires', async () => {
    const { p, id } = await confirmedSale('refuse-late');
    const b2 = newBuyer(p, 'refuse-late');
    const pid = await listed(p, id, b2.sellerSpk);
    const last = (await get(`/v1/positions/${pid}`)).body.lastHeight as number;
    // Last test of the file: the tip only moves forward (the watcher's cursor follows it).
    chain.height = last + 1;
    const r = await post(`/v1/positions/${pid}/take`, b2.takeBody(), b2.identity);
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({ code: 'EXPIRED', reason: 'transfer-closed' });
    await tick();
    expect((await get(`/v1/positions/${pid}`)).body.state).toBe('expired');
  });

});

function b2Outpoint(b2: { accept: AcceptDlc }): string {
  const input = b2.accept.fundingInputs[0]!;
  return `${Transaction.fromBuffer(Buffer.from(input.prevTx)).getId()}:${input.prevTxVout}`;
}

function fromSpk(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}
