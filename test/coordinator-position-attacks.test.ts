/**
 * Adversarial takes of a position at the coordinator (issue 14 review), over
 * HTTP on 127.0.0.1 with LevelDB in a temp dir, the node faked in memory and an
 * in-test oracle server, as test/coordinator-position.test.ts:
 * - a taker that grinds its temporary id so that the new contract's dlcspecs
 *   contract id (funding txid ⊕ vout ⊕ temporary id: the transfer's txid does not
 *   depend on the temporary id) is the SOLD contract's: refused at take
 *   (409 CONFLICT `contract-id-in-use`), and the store's index entry of the old
 *   contract id still answers the old contract;
 * - a stranger who would squat a taken position's new contract id (an offer with
 *   that temporary id makes the transfer's broadcast batch fail with CONFLICT):
 *   the public view does not show the id until the transfer is broadcast; and
 *   the store refuses a created record whose contract id is another record's;
 * - a taker that takes and never completes (holding the listing): dropped after
 *   the accept timeout, back on the book with its coins freed;
 * - terms that could only fail at broadcast, after the stayer and the seller
 *   signed: a 0 sat/vB transfer (`fee-rate-too-low`), a non-standard price
 *   script (`non-standard-spk`);
 * - a taker funding key equal to the stayer's: refused (`same-funding-pubkey`);
 * - a taker payout script longer than the seller's (the CETs, whose fee budget
 *   is the old one, would pay below the contract's fee rate): refused at take
 *   (`transfer-payout-spk-longer`);
 * - the chain: the old contract's keyless settlement racing a transfer still in
 *   the mempool at the window's end (its CET committed `cet-broadcast`, the
 *   transfer mined instead): the position is not failed on a merely broadcast
 *   CET, and the transfer's confirmation makes the old contract `transferred`
 *   and the new one `confirmed`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transaction } from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupTransferredContract, signContract, transferSign, transferredMessages } from '../protocol/contract/index.js';
import { ecdsaSign } from '../protocol/crypto/ecdsa.js';
import { encodeAcceptDlc, encodeSignDlc, toHex, type AcceptDlc, type OracleAnnouncement } from '../protocol/messages/index.js';
import { buildTransferPsbt, buildTransferTransaction, computeContractId, transferSourceOf, transferSpendSighash, type TransferTerms } from '../protocol/tx/index.js';
import { startCoordinator, type RunningCoordinator } from '../src/coordinator/index.js';
import { fundingInput, p2wpkhScriptPubkey, publicKey, testOracle, testSecret } from './helpers/dlc-fixture.js';
import { FakeChain, api, fakeChainCoordinatorConfig, identityOf, keySigner, saleParties, startTestOracle, type SaleParties, type TestOracleServer } from './coordinator-fixtures.js';

const ORACLE_LABEL = 'coord-position-attack-oracle';
const theOracle = testOracle(ORACLE_LABEL);
const published = new Map<string, OracleAnnouncement>();
let dir: string;
let oracle: TestOracleServer;
let chain: FakeChain;
let coord: RunningCoordinator;
let clock = Date.now();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hashdlc-coord-position-attack-'));
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
  clock += 1000;
  await coord.watcher.tick();
  expect((await get(`/v1/contracts/${id}`)).body.state).toBe('confirmed');
  return { p, id };
}

const PRICE = 120_000n;

/** A taker's accept' (fully signed: every CET adaptor and the refund signature) with a temporary id chosen from its transfer. */
function takerAccept(p: SaleParties, label: string, chooseTemp: (transferTxidBigEndian: Uint8Array, fundOutputIndex: number) => Uint8Array, payoutSpk?: Uint8Array) {
  const b2Key = testSecret(`${label}:b2-funding`);
  const identity = testSecret(`${label}:b2-identity`);
  const sellerSpk = p2wpkhScriptPubkey(publicKey(testSecret(`${label}:b1-price`)));
  const old = p.accept().setup;
  const terms: TransferTerms = { side: 'accept', from: transferSourceOf(old.closing), price: PRICE, sellerSpk, priceSerialId: 40n, feeRatePerVb: 3n };
  const fields = {
    fundingPubkey: publicKey(b2Key),
    payoutSpk: payoutSpk ?? p2wpkhScriptPubkey(publicKey(testSecret(`${label}:b2-payout`))),
    payoutSerialId: 21n,
    fundingInputs: [{ ...fundingInput(testSecret(`${label}:b2-utxo`), 300_000n, 22n, `${label}:b2`), maxWitnessLen: 108 }],
    changeSpk: p2wpkhScriptPubkey(publicKey(testSecret(`${label}:b2-change`))),
    changeSerialId: 23n,
  };
  const pair = { offer: p.offer, accept: p.accept().accept };
  // The transfer transaction does not contain the temporary id: build it once with any id, then choose.
  const probe = transferredMessages(pair, 'accept', new Uint8Array(32).fill(7), fields);
  const transfer = buildTransferTransaction(probe.offer, probe.accept, terms);
  const temp = chooseTemp(Uint8Array.from(transfer.txid).reverse(), transfer.fundOutputIndex);
  const drafts = transferredMessages(pair, 'accept', temp, fields);
  const { setup } = setupTransferredContract(drafts.offer, drafts.accept, terms, { hashProfile: 'sha256' });
  const accept: AcceptDlc = { ...drafts.accept, ...signContract(setup, b2Key) };
  const signed = setupTransferredContract(drafts.offer, accept, terms, { hashProfile: 'sha256' });
  const sighash = transferSpendSighash(old.closing, signed.transfer);
  return {
    identity,
    sellerSpk,
    accept,
    transfer: signed.transfer,
    contractId: setup.contractId,
    takeBody: () => ({ accept: toHex(encodeAcceptDlc(accept)), identityPubkey: identityOf(identity), priceSerialId: '40', feeRatePerVb: '3' }),
    consentBody: () => ({ sign: toHex(encodeSignDlc(transferSign(signed.setup, signContract(signed.setup, p.offerKey)))), signature: toHex(ecdsaSign(p.offerKey, sighash)) }),
    releaseBody: () => ({ signature: toHex(ecdsaSign(p.acceptKey, sighash)) }),
    fundBody: () => {
      const psbt = buildTransferPsbt(signed.transfer, terms.from);
      psbt.signInput(0, keySigner(testSecret(`${label}:b2-utxo`)));
      return { transferPsbt: psbt.toBase64() };
    },
  };
}

describe('a taker grinds the new contract id onto the sold contract\'s', () => {
  it('is refused at take (409 contract-id-in-use); the old contract id still answers the old contract', async () => {
    const { p, id } = await confirmedSale('grind');
    const oldCid = p.accept().setup.contractId;
    // temp = txid ⊕ vout ⊕ old contract id, so txid ⊕ vout ⊕ temp = the old contract id.
    const b2 = takerAccept(p, 'grind', (txid, vout) => computeContractId(txid, vout, oldCid));
    expect(toHex(b2.contractId)).toBe(toHex(oldCid));
    let r = await post('/v1/positions', { contractId: id, price: String(PRICE), sellerSpk: toHex(b2.sellerSpk) }, p.acceptIdentity);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const pid = r.body.id as string;
    r = await post(`/v1/positions/${pid}/take`, b2.takeBody(), b2.identity);
    expect(r.status, JSON.stringify(r.body)).toBe(409);
    expect(r.body.error).toMatchObject({ code: 'CONFLICT', reason: 'contract-id-in-use' });
    expect((await get(`/v1/positions/${pid}`)).body.state).toBe('listed');
    expect((await get(`/v1/contracts/${toHex(oldCid)}`, p.acceptIdentity)).body).toMatchObject({ id, state: 'confirmed' });
  });
});

describe('a stranger looks for a taken position\'s new contract id (to squat it with an offer)', () => {
  it('sees no new contract id while taken; the parties and the taker do', async () => {
    const { p, id } = await confirmedSale('squat');
    const b2 = takerAccept(p, 'squat', () => testSecret('squat:transfer-temp'));
    let r = await post('/v1/positions', { contractId: id, price: String(PRICE), sellerSpk: toHex(b2.sellerSpk) }, p.acceptIdentity);
    const pid = r.body.id as string;
    r = await post(`/v1/positions/${pid}/take`, b2.takeBody(), b2.identity);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const newId = toHex(b2.accept.temporaryContractId);
    expect(r.body.newContractId).toBe(newId);
    const stranger = (await get(`/v1/positions/${pid}`, testSecret('squat:stranger'))).body;
    expect(stranger).toMatchObject({ state: 'taken', newContractId: null });
    expect(((await get('/v1/positions?state=taken')).body.positions as { id: string }[]).find((x) => x.id === pid)).toMatchObject({ newContractId: null });
    expect((await get(`/v1/positions/${pid}`, p.offerIdentity)).body.newContractId).toBe(newId);
    // Defense in depth (store.ts #createOps): a created record whose contract id is another record's is refused in the batch.
    const oldRec = (await coord.service.store.get(id))!;
    const pos = (await coord.service.store.getPosition(pid))!;
    await expect(coord.service.store.commitPosition({
      prev: pos,
      next: pos,
      create: [{ rec: { ...oldRec, id: newId } as typeof oldRec, messages: {} }],
    })).rejects.toMatchObject({ code: 'CONFLICT', reason: 'contract-id-in-use' });
    expect(await coord.service.store.get(newId)).toBeUndefined();
  });
});

describe('a taker that never completes its take (holding the listing)', () => {
  it('is dropped after the accept timeout: the position back on the book, the taker\'s coins free, its later steps refused', async () => {
    const { p, id } = await confirmedSale('hold');
    const b2 = takerAccept(p, 'hold', () => testSecret('hold:transfer-temp'));
    let r = await post('/v1/positions', { contractId: id, price: String(PRICE), sellerSpk: toHex(b2.sellerSpk) }, p.acceptIdentity);
    const pid = r.body.id as string;
    r = await post(`/v1/positions/${pid}/take`, b2.takeBody(), b2.identity);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const input = b2.accept.fundingInputs[0]!;
    const outpoint = `${Transaction.fromBuffer(Buffer.from(input.prevTx)).getId()}:${input.prevTxVout}`;
    expect(await coord.service.store.outpointOwner(outpoint)).toBe(`position:${pid}`);
    const timeout = coord.service.acceptTimeoutBlocks;
    chain.height += timeout - 1;
    clock += 1000;
    await coord.watcher.tick();
    expect((await get(`/v1/positions/${pid}`)).body.state).toBe('taken');
    chain.height += 1;
    clock += 1000;
    await coord.watcher.tick();
    const back = (await get(`/v1/positions/${pid}`)).body;
    expect(back).toMatchObject({ state: 'listed', takerIdentity: null, consented: false });
    expect(await coord.service.store.outpointOwner(outpoint)).toBeUndefined();
    r = await post(`/v1/positions/${pid}/cancel`, {}, b2.identity);
    expect(r.status).toBe(403);
    expect(r.body.error).toMatchObject({ code: 'FORBIDDEN', reason: 'not-a-party' });
  });
});

describe('terms that could only fail at the end, after the stayer and the seller signed', () => {
  it('refuses a take at 0 sat/vB (400 fee-rate-too-low) and a listing paying a non-standard script (400 non-standard-spk)', async () => {
    const { p, id } = await confirmedSale('bogus');
    const b2 = takerAccept(p, 'bogus', () => testSecret('bogus:transfer-temp'));
    let r = await post('/v1/positions', { contractId: id, price: String(PRICE), sellerSpk: '6a0401020304' }, p.acceptIdentity);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'INVALID_REQUEST', reason: 'non-standard-spk' });
    r = await post('/v1/positions', { contractId: id, price: String(PRICE), sellerSpk: toHex(b2.sellerSpk) }, p.acceptIdentity);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const pid = r.body.id as string;
    r = await post(`/v1/positions/${pid}/take`, { ...b2.takeBody(), feeRatePerVb: '0' }, b2.identity);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'INVALID_REQUEST', reason: 'fee-rate-too-low' });
    expect((await get(`/v1/positions/${pid}`)).body.state).toBe('listed');
  });
});

describe('a taker whose payout script is longer than the seller\'s (the CETs\' fee budget is the old one)', () => {
  it('is refused at take (400 transfer-payout-spk-longer): the CETs would pay below the contract\'s fee rate', async () => {
    const { p, id } = await confirmedSale('longspk');
    // P2WSH (34 bytes) where B1 was paid to P2WPKH (22).
    const p2wsh = Uint8Array.from([0x00, 0x20, ...new Uint8Array(32).fill(0x5a)]);
    const b2 = takerAccept(p, 'longspk', () => testSecret('longspk:transfer-temp'), p2wsh);
    let r = await post('/v1/positions', { contractId: id, price: String(PRICE), sellerSpk: toHex(b2.sellerSpk) }, p.acceptIdentity);
    const pid = r.body.id as string;
    r = await post(`/v1/positions/${pid}/take`, b2.takeBody(), b2.identity);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'INVALID_PARAMS', reason: 'transfer-payout-spk-longer' });
    expect((await get(`/v1/positions/${pid}`)).body.state).toBe('listed');
  });
});

describe('a taker whose funding key is the stayer\'s (a 2-of-2 the stayer alone could spend)', () => {
  it('is refused at take (400 same-funding-pubkey)', async () => {
    const { p, id } = await confirmedSale('samekey');
    const honest = takerAccept(p, 'samekey', () => testSecret('samekey:transfer-temp'));
    const accept: AcceptDlc = { ...honest.accept, fundingPubkey: p.offer.fundingPubkey };
    let r = await post('/v1/positions', { contractId: id, price: String(PRICE), sellerSpk: toHex(honest.sellerSpk) }, p.acceptIdentity);
    const pid = r.body.id as string;
    r = await post(`/v1/positions/${pid}/take`, { ...honest.takeBody(), accept: toHex(encodeAcceptDlc(accept)) }, honest.identity);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'INVALID_PARAMS', reason: 'same-funding-pubkey' });
    expect((await get(`/v1/positions/${pid}`)).body.state).toBe('listed');
  });
});

describe('the old contract\'s CET racing a transfer still in the mempool at the window\'s end', () => {
  it('a merely broadcast CET fails nothing; the transfer mined instead: old transferred, new confirmed, position transferred', async () => {
    const { p, id } = await confirmedSale('race');
    const b2 = takerAccept(p, 'race', () => testSecret('race:transfer-temp'));
    let r = await post('/v1/positions', { contractId: id, price: String(PRICE), sellerSpk: toHex(b2.sellerSpk) }, p.acceptIdentity);
    const pid = r.body.id as string;
    expect((await post(`/v1/positions/${pid}/take`, b2.takeBody(), b2.identity)).status).toBe(200);
    expect((await post(`/v1/positions/${pid}/consent`, b2.consentBody(), p.offerIdentity)).status).toBe(200);
    expect((await post(`/v1/positions/${pid}/release`, b2.releaseBody(), p.acceptIdentity)).status).toBe(200);
    r = await post(`/v1/positions/${pid}/fund`, b2.fundBody(), b2.identity);
    expect(r.body, JSON.stringify(r.body)).toMatchObject({ state: 'broadcast' });
    const newId = toHex(b2.accept.temporaryContractId);
    // The transfer sits in the mempool; the event is attested; the coordinator completes the OLD contract's CET.
    oracle.attest(p.eventId, 100n, 14);
    clock += 1000;
    await coord.watcher.tick();
    expect((await get(`/v1/contracts/${id}`, p.acceptIdentity)).body.state).toBe('cet-broadcast');
    expect((await get(`/v1/positions/${pid}`)).body.state).toBe('broadcast');
    expect((await get(`/v1/contracts/${newId}`, b2.identity)).body.state).not.toBe('failed');
    // The transfer wins the race.
    chain.confirmed.set(b2.transfer.txidHex, chain.height);
    clock += 1000;
    await coord.watcher.tick();
    expect((await get(`/v1/positions/${pid}`)).body.state).toBe('transferred');
    expect((await get(`/v1/contracts/${id}`)).body).toMatchObject({ state: 'transferred', transferredTo: { contractId: newId } });
    // The event is attested already: the NEW contract confirms and settles keylessly, its CET spending the transfer's output.
    const next = (await get(`/v1/contracts/${newId}`, b2.identity)).body;
    expect(next).toMatchObject({ state: 'cet-broadcast', closingKind: 'cet', broadcastBy: 'coordinator' });
    expect(toHex(Uint8Array.from(Transaction.fromHex(next.closingTx as string).ins[0]!.hash).reverse())).toBe(b2.transfer.txidHex);
  });
});
