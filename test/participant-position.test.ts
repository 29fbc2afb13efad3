/**
 * src/participant/positions.ts and position-checks.ts against a FAKE
 * coordinator answer (a real HTTP server on 127.0.0.1 serving what a lying
 * coordinator would), no node: each check refuses before anything is signed
 * or posted.
 *
 * - release (the seller): the transfer rebuilt from the served terms must pay
 *   the price and script of the seller's OWN stored listing: a swapped price
 *   or script is `transfer-price-missing`; a position this wallet never
 *   listed is `no-listing`; the honest transfer passes the check (and then
 *   needs the node: CONFIG here).
 * - consent (the stayer): a changed field of the served new contract is
 *   `transfer-mismatch:<field>`.
 * - the checks: a price above --max-price.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildAccept,
  buildOffer,
  defaultLocktimes,
  setupTransferredContract,
  signContract,
  transferredMessages,
  transferTermsToJson,
} from '../protocol/contract/index.js';
import { encodeAcceptDlc, encodeOfferDlc, toHex, type AcceptDlc, type OfferDlc } from '../protocol/messages/index.js';
import { hashpowerSale } from '../protocol/templates/index.js';
import type { TransferTerms } from '../protocol/tx/index.js';
import { Participant, checkPriceAtMost, consentTransfer, dropDeadTransfer, fundingSourceOf, releaseTransfer, type ParticipantConfig } from '../src/participant/index.js';
import { loadContract } from '../src/participant/contract.js';
import { Wallet, type ContractRecord } from '../src/wallet/index.js';
import { REGTEST_CHAIN_HASH, fundingInput, p2wpkhScriptPubkey, publicKey, testOracle, testSecret } from './helpers/dlc-fixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'hashdlc-position-unit-'));
const WINDOW = { start: 1000, end: 1100 };
const spk = (label: string): Uint8Array => p2wpkhScriptPubkey(publicKey(testSecret(label)));
const oracle = testOracle('position-oracle');
const announcement = oracle.announce('delivery/position-test', 14);
const upfrontScript = spk('p:upfront');
const termsJson = {
  template: 'hashpower-sale', hashrateThs: '100', window: WINDOW, deliveryAddress: 'bcrt1qdeliveryaddressfortests',
  upfront: '50000', escrow: '400000', minerCollateral: '200000', toleranceBps: 9500, upfrontScript: toHex(upfrontScript), upfrontSerialId: '77',
};
const sale = hashpowerSale({
  hashrateThs: 100n, window: WINDOW, deliveryAddress: termsJson.deliveryAddress, upfront: 50_000n, escrow: 400_000n, minerCollateral: 200_000n,
  toleranceBps: 9500, upfrontScript, upfrontSerialId: 77n, oracleInfo: { single: { oracleAnnouncement: announcement } },
});

const PRICE = 120_000n;
const POSITION = 'ab'.repeat(16);
const sellerDir = join(tmp, 'seller');
const minerDir = join(tmp, 'miner');

/** What the fake coordinator serves, set per test. */
let serve: { view: Record<string, unknown>; messages: Record<string, unknown> };
let server: Server;
let url: string;
let oldOffer: OfferDlc;
let oldAccept: AcceptDlc;
let sellerSpk: Uint8Array;
let honest: { terms: TransferTerms; offer: OfferDlc; accept: AcceptDlc };

/** Whether the fake node knows the transfer transaction. */
let rpcKnows = false;

function config(walletDir: string, withNode = false): ParticipantConfig {
  const rpc = withNode ? { url: `${url}/rpc`, username: 'u', password: 'p', retries: 0 } : undefined;
  return { network: 'regtest', networkGiven: true, walletDir, coordinator: url, oracles: [], oraclePubkeys: [], oracleThreshold: undefined, rpc, feeRatePerVb: 2n, threads: 0 };
}

async function use<T>(walletDir: string, fn: (p: Participant) => Promise<T>, withNode = false): Promise<T> {
  const p = new Participant(config(walletDir, withNode));
  try {
    return await fn(p);
  } finally {
    await p.close();
  }
}

/** The old contract's record in a wallet, as `accept`/`offer` store it (keys of that wallet's contract 0). */
function storeOld(dir: string, role: 'offer' | 'accept', extra: Partial<ContractRecord> = {}): void {
  const w = Wallet.open(dir);
  const keys = w.newContractIdentity();
  w.contracts.save({
    version: 1, id: toHex(oldOffer.temporaryContractId), role, network: 'regtest', keyIndex: keys.index, state: 'confirmed',
    history: [{ state: 'confirmed', at: new Date().toISOString() }], hashProfile: 'sha256', terms: termsJson,
    offer: toHex(encodeOfferDlc(oldOffer)), accept: toHex(encodeAcceptDlc(oldAccept)), reservedOutpoints: [], ...extra,
  });
  w.release();
}

function served(terms: TransferTerms, next: { offer: OfferDlc; accept: AcceptDlc }): typeof serve {
  return {
    view: {
      id: POSITION, state: 'taken', contractId: toHex(oldOffer.temporaryContractId), side: 'accept', price: terms.price.toString(),
      sellerSpk: toHex(terms.sellerSpk), terms: termsJson, cetLocktime: oldOffer.cetLocktime, lastHeight: oldOffer.cetLocktime - 3,
      createdAt: 0, updatedAt: 0, newContractId: toHex(next.offer.temporaryContractId), transfer: transferTermsToJson(terms),
    },
    messages: {
      contract: { offer: toHex(encodeOfferDlc(oldOffer)), accept: toHex(encodeAcceptDlc(oldAccept)) },
      next: { offer: toHex(encodeOfferDlc(next.offer)), accept: toHex(encodeAcceptDlc(next.accept)), sign: null },
    },
  };
}

/** Every POST the fake coordinator received (none may arrive when a check refuses). */
const posts: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/rpc') {
      // Our node's JSON-RPC: getrawtransaction knows the transfer or not (Core's -5 otherwise).
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const { id, method } = JSON.parse(body) as { id: number; method: string };
        const answer = method === 'getblockchaininfo'
          ? { result: { chain: 'regtest', blocks: 1050, headers: 1050, bestblockhash: '00'.repeat(32), mediantime: 0, pruned: false }, error: null, id }
          : rpcKnows ? { result: '00', error: null, id } : { result: null, error: { code: -5, message: 'No such mempool or blockchain transaction' }, id };
        res.writeHead(answer.error === null ? 200 : 500, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      });
      return;
    }
    if (req.method === 'POST') posts.push(req.url ?? '');
    const path = (req.url ?? '').split('?')[0]!;
    const body = path.endsWith('/messages') ? serve.messages : path === `/v1/positions/${POSITION}` ? serve.view : { error: { code: 'NOT_FOUND', message: 'fake' } };
    res.writeHead(req.method === 'POST' || !('error' in body) ? (req.method === 'POST' ? 500 : 200) : 404, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error('no port');
  url = `http://127.0.0.1:${a.port}`;

  Wallet.init(sellerDir, 'regtest');
  Wallet.init(minerDir, 'regtest');
  const seller = Wallet.open(sellerDir);
  const miner = Wallet.open(minerDir);
  sellerSpk = seller.newReceiveAddress().script;
  const minerKey = miner.keys.contractKeys(0).fundingSecretKey;
  const sellerKey = seller.keys.contractKeys(0).fundingSecretKey;
  seller.release();
  miner.release();
  oldOffer = buildOffer({
    contract: sale, temporaryContractId: testSecret('p:temp'), chainHash: REGTEST_CHAIN_HASH, fundingPubkey: publicKey(minerKey),
    fundingInputs: [fundingInput(testSecret('p:m-utxo'), 300_000n, 5n, 'p:o')], payoutSpk: spk('p:m-payout'), changeSpk: spk('p:m-change'),
    payoutSerialId: 1n, changeSerialId: 2n, fundOutputSerialId: 3n, feeRatePerVb: 2n, ...defaultLocktimes(WINDOW.end, 'regtest'),
  });
  oldAccept = buildAccept(oldOffer, {
    fundingSecretKey: sellerKey, fundingInputs: [fundingInput(testSecret('p:b1-utxo'), 600_000n, 6n, 'p:a')],
    payoutSpk: spk('p:b1-payout'), changeSpk: spk('p:b1-change'), payoutSerialId: 11n, changeSerialId: 12n, extraOutputs: sale.extraOutputs,
  }).accept;
  storeOld(sellerDir, 'accept', { listing: { positionId: POSITION, price: PRICE.toString(), sellerSpk: toHex(sellerSpk) } });
  storeOld(minerDir, 'offer');

  // The honest new contract: B2's key, payout, inputs and change; the old funding output as the seller's own record rebuilds it.
  const from = fundingSourceOf(loadContract(Wallet.open(sellerDir), toHex(oldOffer.temporaryContractId)));
  const b2Key = testSecret('p:b2');
  const drafts = transferredMessages({ offer: oldOffer, accept: oldAccept }, 'accept', testSecret('p:new-temp'), {
    fundingPubkey: publicKey(b2Key), payoutSpk: spk('p:b2-payout'), payoutSerialId: 21n,
    fundingInputs: [fundingInput(testSecret('p:b2-utxo'), 300_000n, 22n, 'p:b2')], changeSpk: spk('p:b2-change'), changeSerialId: 23n,
  });
  const terms: TransferTerms = { side: 'accept', from, price: PRICE, sellerSpk, priceSerialId: 40n, feeRatePerVb: 2n };
  const { setup } = setupTransferredContract(drafts.offer, drafts.accept, terms, { hashProfile: 'sha256' });
  honest = { terms, offer: drafts.offer, accept: { ...drafts.accept, ...signContract(setup, b2Key) } };
}, 60_000);

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(tmp, { recursive: true, force: true });
});

describe('releaseTransfer (the seller) checks the transfer against its OWN listing', () => {
  it.each([
    ['a lower price', (t: TransferTerms): TransferTerms => ({ ...t, price: PRICE - 1n })],
    ['another script for the price', (t: TransferTerms): TransferTerms => ({ ...t, sellerSpk: spk('p:thief') })],
  ])('refuses %s served by the coordinator, posting nothing', async (_what, swap) => {
    // The served view's own price field agrees with the swap: only the seller's stored listing catches it.
    serve = served(swap(honest.terms), honest);
    await expect(use(sellerDir, (p) => releaseTransfer(p, POSITION))).rejects.toMatchObject({ code: 'INVALID_PARAMS', reason: 'transfer-price-missing' });
    expect(posts).toEqual([]);
  });

  it('refuses a position this wallet never listed', async () => {
    serve = served(honest.terms, honest);
    await expect(use(sellerDir, (p) => releaseTransfer(p, 'cd'.repeat(16)))).rejects.toMatchObject({ code: 'STATE', reason: 'no-listing' });
  });

  it('the honest transfer passes the payment check and goes on to the node (none configured here)', async () => {
    serve = served(honest.terms, honest);
    await expect(use(sellerDir, (p) => releaseTransfer(p, POSITION))).rejects.toMatchObject({ code: 'CONFIG' });
    expect(posts).toEqual([]);
  });
});

describe('consentTransfer (the stayer) checks the new contract against its OWN old one, naming the field', () => {
  it.each([
    ['the miner\'s payout script', (o: OfferDlc, a: AcceptDlc) => ({ offer: { ...o, payoutSpk: spk('p:evil') }, accept: a }), 'transfer-mismatch:offer.payoutSpk'],
    ['the CET locktime', (o: OfferDlc, a: AcceptDlc) => ({ offer: { ...o, cetLocktime: o.cetLocktime + 10 }, accept: a }), 'transfer-mismatch:offer.cetLocktime'],
    ['the buyer\'s collateral', (o: OfferDlc, a: AcceptDlc) => ({ offer: o, accept: { ...a, acceptCollateral: a.acceptCollateral - 1n } }), 'transfer-mismatch:accept.acceptCollateral'],
  ])('%s changed: refused before anything is signed or posted', async (_what, change, reason) => {
    serve = served(honest.terms, change(honest.offer, honest.accept));
    await expect(use(minerDir, (p) => consentTransfer(p, POSITION))).rejects.toMatchObject({ code: 'INVALID_PARAMS', reason });
    expect(posts).toEqual([]);
    // Nothing stored either: M's wallet holds its old contract alone.
    expect(Wallet.open(minerDir).contracts.list()).toHaveLength(1);
  });

  it('another funding output than its own contract\'s is refused', async () => {
    serve = served({ ...honest.terms, from: { ...honest.terms.from, vout: honest.terms.from.vout + 1 } }, honest);
    await expect(use(minerDir, (p) => consentTransfer(p, POSITION))).rejects.toMatchObject({ code: 'INVALID_PARAMS', reason: 'transfer-mismatch:from.vout' });
    expect(posts).toEqual([]);
  });
});

describe('dropDeadTransfer (the taker) frees a dead take\'s coins only when its own node does not see the transfer', () => {
  const takerDir = join(tmp, 'taker');
  const COIN = `${'cd'.repeat(32)}:0`;
  const newId = (): string => toHex(honest.offer.temporaryContractId);
  const reserved = (): boolean => { const w = Wallet.open(takerDir); try { return w.contracts.reservedOutpoints().has(COIN); } finally { w.release(); } };
  beforeAll(() => {
    Wallet.init(takerDir, 'regtest');
    const w = Wallet.open(takerDir);
    const keys = w.newContractIdentity();
    w.contracts.save({
      version: 1, id: newId(), role: 'accept', network: 'regtest', keyIndex: keys.index, state: 'accepted',
      history: [{ state: 'accepted', at: new Date().toISOString() }], hashProfile: 'sha256', terms: termsJson,
      offer: toHex(encodeOfferDlc(honest.offer)), accept: toHex(encodeAcceptDlc(honest.accept)), reservedOutpoints: [COIN],
      transfer: { positionId: POSITION, terms: transferTermsToJson(honest.terms) as unknown as Record<string, unknown>, from: toHex(oldOffer.temporaryContractId) },
    });
    w.release();
  });

  it('keeps a take the coordinator still shows taken', async () => {
    serve = served(honest.terms, honest);
    rpcKnows = false;
    expect(await use(takerDir, (p) => dropDeadTransfer(p, POSITION), true)).toEqual([]);
    expect(reserved()).toBe(true);
  });

  it('keeps a take the coordinator calls failed while our node sees the transfer (the coordinator\'s word alone frees nothing)', async () => {
    serve = served(honest.terms, honest);
    serve.view = { ...serve.view, state: 'failed' };
    rpcKnows = true;
    expect(await use(takerDir, (p) => dropDeadTransfer(p, POSITION), true)).toEqual([]);
    expect(reserved()).toBe(true);
  });

  it('gives up a failed take our node never saw: the record failed, its coin free', async () => {
    serve = served(honest.terms, honest);
    serve.view = { ...serve.view, state: 'failed' };
    rpcKnows = false;
    const changed = await use(takerDir, (p) => dropDeadTransfer(p, POSITION), true);
    expect(changed.map((r) => [r.id, r.state])).toEqual([[newId(), 'failed']]);
    expect(reserved()).toBe(false);
  });
});

describe('the taker\'s price bound', () => {
  it('refuses a price above --max-price, takes one at it', () => {
    expect(() => checkPriceAtMost(PRICE, PRICE)).not.toThrow();
    expect(() => checkPriceAtMost(PRICE, undefined)).not.toThrow();
    expect(() => checkPriceAtMost(PRICE + 1n, PRICE)).toThrow(expect.objectContaining({ code: 'MISMATCH', reason: 'price-above-max' }));
  });
});
