/**
 * Issue 9, hole 1: "the miner's wallet signs a coin the attacker listed as
 * the accepter's". Attacks performed with the real `hashdlc` CLI (src/cli
 * `main` through src/stack Participant), a real coordinator on 127.0.0.1
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
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Psbt } from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { decodeAcceptDlc, decodeOfferDlc, decodeSignDlc, fromHex, toHex } from '../../protocol/messages/index.js';
import { signedInputIndexes } from '../../protocol/tx/index.js';
import { startCoordinator, type RunningCoordinator } from '../../src/coordinator/index.js';
import { Participant } from '../../src/stack/index.js';
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

/** An external wallet holding `keys`: like `walletprocesspsbt`, it signs every input it owns. */
function externalWalletSigns(keys: TestKey[], inFile: string, outFile: string): number[] {
  const psbt = Psbt.fromBase64(readFileSync(inFile, 'utf8').trim());
  const signed: number[] = [];
  psbt.data.inputs.forEach((input, i) => {
    const key = keys.find((k) => input.witnessUtxo !== undefined && toHex(k.outputScript) === toHex(input.witnessUtxo.script));
    if (key === undefined) return;
    psbt.signInput(i, { publicKey: key.publicKey, sign: (h: Uint8Array) => ecc.sign(h, key.privateKey) });
    signed.push(i);
  });
  writeFileSync(outFile, psbt.toBase64());
  return signed;
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
let miner: Participant;
let buyer: Participant;
let late: Participant;
let window: { start: number; end: number };
/** Coins of the miner's CLI wallet. */
let minerCoins: string[];
let buyerCoin: string;
const minerExternal = TestKey.random();
let minerExternalCoins: string[];

async function coinsOf(address: string): Promise<string[]> {
  const scan = await rpc.scanTxOutSet([`addr(${address})`]);
  return scan.unspents.map((u) => `${u.txid}:${u.vout}`);
}

function saleOffer(delivery: string, extra: string[] = []): string[] {
  return [
    'offer', 'hashpower', '--window', `${window.start}-${window.end}`, '--hashrate', '100', '--delivery-address', delivery,
    '--escrow', '300000', '--collateral', '200000', '--fee-rate', '2', ...extra,
  ];
}

beforeAll(async () => {
  const tip = await rpc.getBlockCount();
  window = { start: tip + 40, end: tip + 50 };
  oracle = await startTestOracle(rpc, { simulatedDifficulty: SIMDIFF_100THS_AT_HALF });
  // No watcher: nothing here waits for confirmations; fund broadcasts by itself.
  coordinator = await startCoordinator(coordinatorConfig(join(tmp, 'coordinator'), oracle.oracle.url), { watch: false, log: () => undefined });
  proxy = await recordingProxy(coordinator.url);
  const services = { rpc: inject('regtest').rpc, coordinator: proxy.url, oracle: oracle.oracle.url, oraclePubkey: oracle.oracle.publicKey, threads: 1 };
  const party = (name: string): Participant => {
    Wallet.init(join(tmp, name), 'regtest');
    return new Participant(name, join(tmp, name), services);
  };
  miner = party('miner');
  buyer = party('buyer');
  late = party('late-buyer');
  const minerAddr = (await miner.run<{ address: string }>(['wallet', 'address'])).address;
  const buyerAddr = (await buyer.run<{ address: string }>(['wallet', 'address'])).address;
  const lateAddr = (await late.run<{ address: string }>(['wallet', 'address'])).address;
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
    const delivery = (await buyer.run<{ address: string }>(['wallet', 'address'])).address;
    const offer = await miner.run<{ id: string }>(saleOffer(delivery));
    attacked = offer.id;
    const offered = decodeOfferDlc(fromHex(Wallet.open(miner.walletDir).contracts.get(attacked).offer));
    // The miner's coin its offer does not use: the victim.
    const used = Wallet.open(miner.walletDir).contracts.get(attacked).reservedOutpoints;
    const victim = minerCoins.find((c) => !used.includes(c))!;
    expect(victim).toBeDefined();
    expect(offered.fundingInputs).toHaveLength(1);

    // The attacker accepts, funding "its" side with the miner's coin (a real accept the coordinator takes).
    await buyer.run(['accept', attacked, '--utxo', victim]);
    const accept = decodeAcceptDlc(fromHex(Wallet.open(buyer.walletDir).contracts.get(attacked).accept!));
    expect(accept.fundingInputs).toHaveLength(1);

    const r = await miner.exec(['sign', attacked]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`MISMATCH (counterparty-input-ours): the accepter's funding input 0 (${victim}) pays an address of this wallet`);
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
    const delivery = (await buyer.run<{ address: string }>(['wallet', 'address'])).address;
    const offer = await miner.run<{ id: string }>(saleOffer(delivery, ['--utxo', own]));
    const id = offer.id;

    // Low item: a --utxo coin backs one live contract at a time.
    const twice = await miner.exec(saleOffer(delivery, ['--utxo', own]));
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain(`WALLET_COIN_RESERVED: coin ${own} is reserved by your contract ${id}`);

    // The attacker lists another coin of the miner's external wallet as its own.
    await buyer.run(['accept', id, '--utxo', victim]);
    const out = join(tmp, 'external.psbt');
    await miner.run(['sign', id, '--psbt-out', out]);
    // The PSBT handed to the wallet is computed here and carries no signature at all.
    expect(signedInputIndexes(Psbt.fromBase64(readFileSync(out, 'utf8').trim()))).toEqual([]);
    // The external wallet signs every input it owns: its own and the victim.
    const signedFile = `${out}.signed`;
    expect(externalWalletSigns([minerExternal], out, signedFile)).toHaveLength(2);

    const r = await miner.exec(['sign', id, '--psbt-in', signedFile]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/MISMATCH \(foreign-input-signed\): SIGNATURES ON THE COUNTERPARTY'S INPUTS: the external wallet signed input \d \(/);
    expect(r.stderr).toContain(`${victim}, accepter's input 0)`);
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
    const delivery = (await buyer.run<{ address: string }>(['wallet', 'address'])).address;
    // The attacker offers with the buyer's coin as "its" collateral.
    const offer = await miner.run<{ id: string }>(saleOffer(delivery, ['--utxo', buyerCoin]));
    const before = proxy.received.length;
    const r = await buyer.exec(['accept', offer.id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`MISMATCH (counterparty-input-ours): the offerer's funding input 0 (${buyerCoin}) pays an address of this wallet`);
    // No accept_dlc (CET adaptor signatures) was made or sent.
    expect(proxy.received.slice(before).filter((q) => q.method === 'POST')).toEqual([]);
    expect(Wallet.open(buyer.walletDir).contracts.has(offer.id)).toBe(false);
    expect(await unspent(buyerCoin)).toBe(true);
  });

  it('an honest contract still goes through: each side sends only its own witnesses', async () => {
    // (The buyer above attacked with the miner's coins: it rightly refuses offers spending them. A new buyer.)
    // The attacker's pending accept still claims the miner's victim coin at the coordinator (one coin, one
    // pending contract): the miner cancels the attacked contract, which frees both of its coins there.
    await miner.run(['cancel', attacked]);
    const delivery = (await late.run<{ address: string }>(['wallet', 'address'])).address;
    const offer = await miner.run<{ id: string }>(saleOffer(delivery));
    await late.run(['accept', offer.id]);
    await miner.run(['sign', offer.id]);
    const [sent] = signRequests(proxy, offer.id);
    const body = JSON.parse(sent!.body) as { sign: string; fundingPsbt: string };
    const sign = decodeSignDlc(fromHex(body.sign));
    const psbt = Psbt.fromBase64(body.fundingPsbt);
    // Exactly the offerer's inputs carry a witness (the offerer has one input here).
    expect(sign.fundingSignatures.fundingSignatures).toHaveLength(1);
    expect(signedInputIndexes(psbt)).toHaveLength(1);
    const funded = await late.run<{ fundingTxid: string }>(['fund', offer.id]);
    expect(await rpc.getRawMempool()).toContain(funded.fundingTxid);
    const [fund] = proxy.received.filter((q) => q.path === `/v1/contracts/${offer.id}/fund`);
    expect(signedInputIndexes(Psbt.fromBase64((JSON.parse(fund!.body) as { fundingPsbt: string }).fundingPsbt))).toHaveLength(1);
  });

  it('an accept the coordinator refuses (accepted by someone else first) frees its reserved coins', async () => {
    const before = await late.run<{ reservedSats: string }>(['wallet', 'balance']);
    // The offer of the first test was accepted by the attacker: this one comes too late.
    const delivery = Wallet.open(miner.walletDir).contracts.get(attacked).terms.deliveryAddress as string;
    const r = await late.exec(['accept', attacked, '--delivery-address', delivery]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/REMOTE INVALID_STATE/);
    expect(Wallet.open(late.walletDir).contracts.get(attacked).state).toBe('failed');
    const after = await late.run<{ reservedSats: string }>(['wallet', 'balance']);
    expect(after.reservedSats).toBe(before.reservedSats);
  });
});
