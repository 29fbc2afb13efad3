/**
 * Issue 9, hole 1: "the miner's wallet signs a coin the attacker listed as
 * the accepter's". Attacks performed with the real participant steps (the
 * library use cases behind `hashdlc`, through src/stack StackParticipant),
 * a real coordinator on 127.0.0.1
 * behind a recording proxy (every request the coordinator received is kept),
 * the real oracle and the regtest node:
 *
 * 1. the accepter funds with `accept --utxo <another coin of the miner's
 *    wallet>`; the miner's `sign` refuses (MISMATCH counterparty-input-ours,
 *    naming the input), sends nothing, signs nothing; the coin is unspent;
 * 2. the miner funds from an external wallet; the accepter lists another coin
 *    of that external wallet; the external wallet signs every input it owns;
 *    `sign --psbt-in` refuses (MISMATCH foreign-input-signed), stores and
 *    sends no signature on the counterparty input; the coin is unspent;
 * 3. the offerer lists a coin of the buyer's wallet: `accept` refuses before
 *    any CET adaptor signature is made or sent;
 * 4. Low items: a `--utxo` coin reserved by a live contract is refused; an
 *    accept the coordinator refuses (409, accepted by someone else) frees
 *    its reserved coins.
 */
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Psbt } from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { decodeAcceptDlc, decodeOfferDlc, decodeSignDlc, fromHex, toHex } from '../../protocol/messages/index.js';
import { signedInputIndexes } from '../../protocol/tx/index.js';
import { startCoordinator, type RunningCoordinator } from '../../src/coordinator/index.js';
import { StackParticipant } from '../../src/stack/index.js';
import type { OfferInput } from '../../src/participant/index.js';
import { Wallet } from '../../src/wallet/index.js';
import { useRegtest } from '../../regtest/context.js';
import { TestKey } from '../../regtest/wallet.js';
import { coordinatorConfig } from './coordinator-fixtures.js';
import { SIMDIFF_100THS_AT_HALF, startTestOracle, type TestOracle } from './oracle-fixture.js';

const { rpc, faucet } = useRegtest();
const tmp = mkdtempSync(join(tmpdir(), 'hashdlc-cli-signing-'));

interface Received { method: string; path: string; body: string }

/** The real coordinator behind a proxy that records every request it receives. */
async function recordingProxy(target: string): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method ?? '', path: req.url ?? '', body });
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
      fetch(`${target}${req.url}`, { method: req.method, headers, ...(req.method === 'GET' ? {} : { body }) })
        .then(async (r) => {
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
          res.end(Buffer.from(await r.arrayBuffer()));
        })
        .catch((err: Error) => {
          res.writeHead(502);
          res.end(err.message);
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** An external wallet holding `keys`: like `walletprocesspsbt`, it signs every input it owns (the PSBT in base64). */
function externalWalletSigns(keys: TestKey[], base64: string): { signed: number[]; psbt: string } {
  const psbt = Psbt.fromBase64(base64);
  const signed: number[] = [];
  psbt.data.inputs.forEach((input, i) => {
    const key = keys.find((k) => input.witnessUtxo !== undefined && toHex(k.outputScript) === toHex(input.witnessUtxo.script));
    if (key === undefined) return;
    psbt.signInput(i, { publicKey: key.publicKey, sign: (h: Uint8Array) => ecc.sign(h, key.privateKey) });
    signed.push(i);
  });
  return { signed, psbt: psbt.toBase64() };
}

/**
 * Signatures on the input spending `outpoint` in any PSBT the coordinator
 * received (a request body's `fundingPsbt`), and whether any sign_dlc was sent.
 */
function signaturesReceivedOn(outpoint: string): number {
  let n = 0;
  for (const r of proxy.received) {
    if (r.method !== 'POST' || r.body === '') continue;
    const body = JSON.parse(r.body) as { fundingPsbt?: string };
    if (body.fundingPsbt === undefined) continue;
    const psbt = Psbt.fromBase64(body.fundingPsbt);
    const signed = new Set(signedInputIndexes(psbt));
    psbt.txInputs.forEach((input, i) => {
      if (`${toHex(Uint8Array.from(input.hash).reverse())}:${input.index}` === outpoint && signed.has(i)) n++;
    });
  }
  return n;
}

/** Sign requests the coordinator received for offer `id`. */
function signRequests(proxy: { received: Received[] }, id: string): Received[] {
  return proxy.received.filter((r) => r.method === 'POST' && r.path === `/v1/contracts/${id}/sign`);
}

async function unspent(outpoint: string): Promise<boolean> {
  const [txid, vout] = outpoint.split(':');
  return (await rpc.getTxOut(txid!, Number(vout), true)) !== null;
}

let oracle: TestOracle;
let coordinator: RunningCoordinator;
let proxy: Awaited<ReturnType<typeof recordingProxy>>;
let miner: StackParticipant;
let buyer: StackParticipant;
let late: StackParticipant;
let window: { start: number; end: number };
/** Coins of the miner's wallet. */
let minerCoins: string[];
let buyerCoin: string;
const minerExternal = TestKey.random();
let minerExternalCoins: string[];

async function coinsOf(address: string): Promise<string[]> {
  const scan = await rpc.scanTxOutSet([`addr(${address})`]);
  return scan.unspents.map((u) => `${u.txid}:${u.vout}`);
}

function saleOffer(delivery: string, utxos?: string[]): OfferInput {
  return {
    template: 'hashpower', window, hashrateThs: 100n, deliveryAddress: delivery,
    escrow: 300_000n, collateral: 200_000n, feeRatePerVb: 2n, ...(utxos === undefined ? {} : { utxos }),
  };
}

beforeAll(async () => {
  const tip = await rpc.getBlockCount();
  window = { start: tip + 40, end: tip + 50 };
  oracle = await startTestOracle(rpc, { simulatedDifficulty: SIMDIFF_100THS_AT_HALF });
  // No watcher: nothing here waits for confirmations; fund broadcasts by itself.
  coordinator = await startCoordinator(coordinatorConfig(join(tmp, 'coordinator'), oracle.oracle.url), { watch: false, log: () => undefined });
  proxy = await recordingProxy(coordinator.url);
  const services = { rpc: inject('regtest').rpc, coordinator: proxy.url, oracles: [oracle.oracle.url], oraclePubkeys: [oracle.oracle.publicKey], threads: 1 };
  const party = (name: string): StackParticipant => {
    Wallet.init(join(tmp, name), 'regtest');
    return new StackParticipant(name, join(tmp, name), services);
  };
  miner = party('miner');
  buyer = party('buyer');
  late = party('late-buyer');
  const minerAddr = await miner.address();
  const buyerAddr = await buyer.address();
  const lateAddr = await late.address();
  for (let i = 0; i < 2; i++) await faucet.fund(minerAddr, 1_000_000n, { confirm: false });
  for (let i = 0; i < 3; i++) await faucet.fund(minerExternal.address, 1_000_000n, { confirm: false });
  for (let i = 0; i < 2; i++) await faucet.fund(lateAddr, 1_000_000n, { confirm: false });
  await faucet.fund(buyerAddr, 1_000_000n);
  minerCoins = await coinsOf(minerAddr);
  buyerCoin = (await coinsOf(buyerAddr))[0]!;
  minerExternalCoins = await coinsOf(minerExternal.address);
  expect(minerCoins).toHaveLength(2);
  expect(minerExternalCoins).toHaveLength(3);
}, 180_000);

afterAll(async () => {
  await proxy?.close();
  await coordinator?.stop();
  await oracle?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('hole 1: a party signs only its own funding inputs', () => {
  let attacked: string;

  it("an accepter listing another coin of the miner's wallet: sign refuses, sends nothing, the coin stays unspent", async () => {
    const delivery = await buyer.address();
    const offer = await miner.offer(saleOffer(delivery));
    attacked = offer.id;
    const offered = decodeOfferDlc(fromHex(Wallet.open(miner.walletDir).contracts.get(attacked).offer));
    // The miner's coin its offer does not use: the victim.
    const used = Wallet.open(miner.walletDir).contracts.get(attacked).reservedOutpoints;
    const victim = minerCoins.find((c) => !used.includes(c))!;
    expect(victim).toBeDefined();
    expect(offered.fundingInputs).toHaveLength(1);

    // The attacker accepts, funding "its" side with the miner's coin (a real accept the coordinator takes).
    await buyer.accept(attacked, { utxos: [victim] });
    const accept = decodeAcceptDlc(fromHex(Wallet.open(buyer.walletDir).contracts.get(attacked).accept!));
    expect(accept.fundingInputs).toHaveLength(1);

    await expect(miner.sign(attacked)).rejects.toMatchObject({
      code: 'MISMATCH',
      reason: 'counterparty-input-ours',
      message: expect.stringContaining(`the accepter's funding input 0 (${victim}) pays an address of this wallet`),
    });
    // Nothing reached the coordinator: no sign_dlc, no PSBT, so no signature on the victim coin.
    expect(signRequests(proxy, attacked)).toEqual([]);
    expect(signaturesReceivedOn(victim)).toBe(0);
    const view = (await (await fetch(`${coordinator.url}/v1/contracts/${attacked}`)).json()) as { state: string };
    expect(view.state).toBe('accepted');
    // Nothing was signed before the refusal: no CET adaptor signatures, no sign_dlc stored.
    const rec = Wallet.open(miner.walletDir).contracts.get(attacked);
    expect(rec.ownCetSignatures).toBeUndefined();
    expect(rec.sign).toBeUndefined();
    // The coin is where it was.
    expect(await unspent(victim)).toBe(true);
  });

  it("an external wallet that signs a counterparty input (--psbt-in): refused, the signature discarded, nothing sent", async () => {
    const [own, victim, spare] = minerExternalCoins as [string, string, string];
    const delivery = await buyer.address();
    const offer = await miner.offer(saleOffer(delivery, [own]));
    const id = offer.id;

    // Low item: a --utxo coin backs one live contract at a time.
    await expect(miner.offer(saleOffer(delivery, [own]))).rejects.toMatchObject({
      code: 'WALLET_COIN_RESERVED',
      message: expect.stringContaining(`coin ${own} is reserved by your contract ${id}`),
    });

    // The attacker lists another coin of the miner's external wallet as its own.
    await buyer.accept(id, { utxos: [victim] });
    const out = await miner.sign(id, { psbtOut: true });
    if (!out.psbtOut) throw new Error('sign --psbt-out returned no PSBT');
    // The PSBT handed to the wallet is computed here and carries no signature at all.
    expect(signedInputIndexes(Psbt.fromBase64(out.psbt))).toEqual([]);
    // The external wallet signs every input it owns: its own and the victim.
    const external = externalWalletSigns([minerExternal], out.psbt);
    expect(external.signed).toHaveLength(2);

    const err: unknown = await miner.sign(id, { psbtIn: external.psbt }).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'MISMATCH', reason: 'foreign-input-signed' });
    expect((err as Error).message).toMatch(/^SIGNATURES ON THE COUNTERPARTY'S INPUTS: the external wallet signed input \d \(/);
    expect((err as Error).message).toContain(`${victim}, accepter's input 0)`);
    expect(signRequests(proxy, id)).toEqual([]);
    expect(signaturesReceivedOn(victim)).toBe(0);
    // Stripped: the stored record has no sign_dlc and its PSBT no signature.
    const rec = Wallet.open(miner.walletDir).contracts.get(id);
    expect(rec.sign).toBeUndefined();
    expect(signedInputIndexes(Psbt.fromBase64(rec.fundingPsbt!))).toEqual([]);
    expect(await unspent(victim)).toBe(true);
    expect(await unspent(spare)).toBe(true);
  });

  it("an offer listing a coin of the buyer's wallet: accept refuses before signing any CET", async () => {
    const delivery = await buyer.address();
    // The attacker offers with the buyer's coin as "its" collateral.
    const offer = await miner.offer(saleOffer(delivery, [buyerCoin]));
    const before = proxy.received.length;
    await expect(buyer.accept(offer.id)).rejects.toMatchObject({
      code: 'MISMATCH',
      reason: 'counterparty-input-ours',
      message: expect.stringContaining(`the offerer's funding input 0 (${buyerCoin}) pays an address of this wallet`),
    });
    // No accept_dlc (CET adaptor signatures) was made or sent.
    expect(proxy.received.slice(before).filter((q) => q.method === 'POST')).toEqual([]);
    expect(Wallet.open(buyer.walletDir).contracts.has(offer.id)).toBe(false);
    expect(await unspent(buyerCoin)).toBe(true);
  });

  it('an honest contract still goes through: each side sends only its own witnesses', async () => {
    // (The buyer above attacked with the miner's coins: it rightly refuses offers spending them. A new buyer.)
    // The attacker's pending accept still claims the miner's victim coin at the coordinator (one coin, one
    // pending contract): the miner cancels the attacked contract, which frees both of its coins there.
    await miner.cancel(attacked);
    const delivery = await late.address();
    const offer = await miner.offer(saleOffer(delivery));
    await late.accept(offer.id);
    await miner.sign(offer.id);
    const [sent] = signRequests(proxy, offer.id);
    const body = JSON.parse(sent!.body) as { sign: string; fundingPsbt: string };
    const sign = decodeSignDlc(fromHex(body.sign));
    const psbt = Psbt.fromBase64(body.fundingPsbt);
    // Exactly the offerer's inputs carry a witness (the offerer has one input here).
    expect(sign.fundingSignatures.fundingSignatures).toHaveLength(1);
    expect(signedInputIndexes(psbt)).toHaveLength(1);
    const funded = await late.fund(offer.id);
    expect(await rpc.getRawMempool()).toContain(funded.fundingTxid);
    const [fund] = proxy.received.filter((q) => q.path === `/v1/contracts/${offer.id}/fund`);
    expect(signedInputIndexes(Psbt.fromBase64((JSON.parse(fund!.body) as { fundingPsbt: string }).fundingPsbt))).toHaveLength(1);
  });

  it('an accept the coordinator refuses (accepted by someone else first) frees its reserved coins', async () => {
    const before = await late.balance();
    // The offer of the first test was accepted by the attacker: this one comes too late.
    const delivery = Wallet.open(miner.walletDir).contracts.get(attacked).terms.deliveryAddress as string;
    await expect(late.accept(attacked, { deliveryAddress: delivery })).rejects.toMatchObject({ code: 'REMOTE', remoteCode: 'INVALID_STATE' });
    expect(Wallet.open(late.walletDir).contracts.get(attacked).state).toBe('failed');
    const after = await late.balance();
    expect(after.reservedSats).toBe(before.reservedSats);
  });
});
