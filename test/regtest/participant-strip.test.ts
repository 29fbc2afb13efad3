/**
 * Strips through the participant library (issue 12) against a real
 * coordinator, the test oracle and the regtest node:
 *
 * - a 4-period hashpower sale strip offered (`makeOffer` with `periods`),
 *   accepted, signed and funded: ONE funding transaction with 4 DLC funding
 *   outputs, the upfront payment and both changes; 4 period records in each
 *   wallet;
 * - a bad adaptor signature in period 3 (the accepter's accept_dlc rewritten
 *   by a real proxy in front of the real coordinator, in
 *   `GET /v1/strips/:id/messages`): the offerer's sign fails naming period 3,
 *   no sign is posted and its coins stay unspent.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Psbt, Transaction } from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { DlcError } from '../../protocol/errors.js';
import { decodeAcceptDlc, decodeSignDlc, encodeAcceptDlc, encodeSignDlc, fromHex, toHex } from '../../protocol/messages/index.js';
import { Participant, acceptOffer, fundContract, listOffers, makeOffer, showOffer, signContract, stripRecords, type ParticipantConfig } from '../../src/participant/index.js';
import { StackParticipant } from '../../src/stack/index.js';
import { Wallet } from '../../src/wallet/index.js';
import { useRegtest } from '../../regtest/context.js';
import { TestKey } from '../../regtest/wallet.js';
import { windowInOneEra } from './coordinator-fixtures.js';
import { OPERATOR_TOKEN } from './oracle-fixture.js';
import { runCli } from './scenario-helpers.js';
import { startLibraryServices, type LibraryServices } from './participant-fixture.js';

const { rpc, faucet } = useRegtest();
const tmp = mkdtempSync(join(tmpdir(), 'hashdlc-participant-strip-'));

let services: LibraryServices;
let window: { start: number; end: number };
let proxy: { url: string; server: Server };
/** Period index (0-based) whose accept_dlc the proxy corrupts in `GET /v1/strips/:id/messages`. */
const TAMPERED = 2;

async function step<T>(config: ParticipantConfig, fn: (p: Participant) => Promise<T>): Promise<T> {
  const p = new Participant(config, { note: () => undefined });
  try {
    return await fn(p);
  } finally {
    await p.close();
  }
}

/** One CET adaptor signature of an accept_dlc with a byte flipped (still well-formed, no longer valid). */
function corruptAccept(hex: string): string {
  const accept = decodeAcceptDlc(fromHex(hex));
  const sig = accept.cetAdaptorSignatures.ecdsaAdaptorSignatures[0]!.signature;
  const bad = Uint8Array.from(sig);
  bad[40] = bad[40]! ^ 0x01;
  accept.cetAdaptorSignatures.ecdsaAdaptorSignatures[0] = { signature: bad };
  return toHex(encodeAcceptDlc(accept));
}

/** The same for a sign_dlc. */
function corruptSign(hex: string): string {
  const sign = decodeSignDlc(fromHex(hex));
  const sig = sign.cetAdaptorSignatures.ecdsaAdaptorSignatures[0]!.signature;
  const bad = Uint8Array.from(sig);
  bad[40] = bad[40]! ^ 0x01;
  sign.cetAdaptorSignatures.ecdsaAdaptorSignatures[0] = { signature: bad };
  return toHex(encodeSignDlc(sign));
}

/**
 * A real HTTP server in front of the coordinator: forwards every request
 * (method, signed headers, body) and rewrites period 3's accept in a strip's
 * messages (its sign once signed, else its accept).
 */
async function tamperingCoordinator(upstream: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length' && k !== 'connection') headers[k] = v;
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      const answer = await fetch(`${upstream}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers, ...(body !== undefined && body.length > 0 ? { body } : {}) });
      let text = await answer.text();
      if (answer.ok && req.method === 'GET' && /^\/v1\/strips\/[0-9a-f]{64}\/messages$/.test(req.url ?? '')) {
        const m = JSON.parse(text) as { accepts: string[] | null; signs: string[] | null };
        if (m.signs !== null) m.signs[TAMPERED] = corruptSign(m.signs[TAMPERED]!);
        else if (m.accepts !== null) m.accepts[TAMPERED] = corruptAccept(m.accepts[TAMPERED]!);
        text = JSON.stringify(m);
      }
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(text);
    })().catch(() => res.writeHead(502).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { url: `http://127.0.0.1:${address.port}`, server };
}

/** POST requests this process sent, by URL (the library's fetches, spied on). */
const fetchSpy = vi.spyOn(globalThis, 'fetch');
function postsTo(suffix: string): number {
  return fetchSpy.mock.calls.filter(([url, init]) => init?.method === 'POST' && String(url).endsWith(suffix)).length;
}

/** Two new wallets with one confirmed 1,000,000-sat coin each. */
async function fundedPair(name: string): Promise<{ minerDir: string; buyerDir: string }> {
  const minerDir = join(tmp, `${name}-miner`);
  const buyerDir = join(tmp, `${name}-buyer`);
  Wallet.init(minerDir, 'regtest');
  Wallet.init(buyerDir, 'regtest');
  await faucet.fund(Wallet.open(minerDir).newReceiveAddress().address, 1_000_000n);
  await faucet.fund(Wallet.open(buyerDir).newReceiveAddress().address, 1_000_000n);
  return { minerDir, buyerDir };
}

function saleInput(buyerDir: string): Parameters<typeof makeOffer>[1] {
  return {
    template: 'hashpower',
    window,
    periods: 4,
    hashrateThs: 100n,
    deliveryAddress: Wallet.open(buyerDir).newReceiveAddress().address,
    escrow: 300_000n,
    collateral: 200_000n,
    upfront: 50_000n,
  };
}

let callWindow: { start: number; end: number };

beforeAll(async () => {
  // A hashprice window inside one subsidy era (the oracle refuses one across a halving).
  callWindow = await windowInOneEra(rpc, 4, 50);
  const tip = await rpc.getBlockCount();
  window = { start: tip + 40, end: tip + 48 };
  services = await startLibraryServices(rpc, tmp);
  proxy = await tamperingCoordinator(services.coordinator.url);
}, 180_000);

afterAll(async () => {
  await new Promise<void>((resolve) => proxy?.server.close(() => resolve()));
  await services?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('a 4-period sale strip through the library', () => {
  it('offered, accepted, signed and funded: one funding transaction with 4 DLC outputs, the upfront payment and the changes', async () => {
    const { minerDir, buyerDir } = await fundedPair('ok');
    const miner = services.config(minerDir);
    const buyer = services.config(buyerDir);
    const input = saleInput(buyerDir);

    const dry = await step(miner, (p) => makeOffer(p, { ...input, dryRun: true }));
    expect(dry.strip?.periods.map((x) => x.window)).toEqual([0, 2, 4, 6].map((d) => ({ start: window.start + d, end: window.start + d + 2 })));
    expect(Wallet.open(minerDir).contracts.list()).toEqual([]);

    const offered = await step(miner, (p) => makeOffer(p, input));
    if (offered.dryRun) throw new Error('posted strip expected');
    const stripId = offered.id;
    expect(offered.strip?.id).toBe(stripId);
    expect(new Set(offered.strip?.periods.map((x) => x.eventId)).size).toBe(4);
    expect(stripRecords(Wallet.open(minerDir), stripId)!.map((r) => r.terms.escrow)).toEqual(['75000', '75000', '75000', '75000']);

    // The book lists the strip once, priced by the whole strip's terms.
    const book = await step(buyer, (p) => listOffers(p, { template: 'hashpower-sale' }));
    const rows = book.rows.filter((r) => offered.strip!.periods.some((x) => x.id === r.id));
    expect(rows).toEqual([{ id: stripId, template: 'hashpower-sale', window, hashrateThs: '100', price: '350000 sats', periods: 4 }]);
    const shown = await step(buyer, (p) => showOffer(p, offered.strip!.periods[1]!.id!));
    expect(shown.stripTerms).toEqual(offered.terms);
    // The same row on the command line.
    const cli = new StackParticipant('buyer', buyerDir, { rpc: inject('regtest').rpc, coordinator: services.coordinator.url, oracles: [services.oracle.oracle.url], threads: 1 });
    const listed = await runCli(cli, ['offers', '--template', 'hashpower-sale']);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n').find((l) => l.startsWith(stripId))).toMatch(/price 350000 sats {2}strip of 4 periods$/);

    const checked = await step(buyer, (p) => acceptOffer(p, { id: stripId, dryRun: true }));
    expect(checked.dryRun).toBe(true);
    expect(Wallet.open(buyerDir).contracts.list()).toEqual([]);

    const accepted = await step(buyer, (p) => acceptOffer(p, { id: stripId }));
    if (accepted.dryRun) throw new Error('accept expected');
    expect(accepted.strip?.periods).toHaveLength(4);
    // Run again: the stored accepts sent again, no new keys or coins.
    const again = await step(buyer, (p) => acceptOffer(p, { id: offered.strip!.periods[3]!.id! }));
    if (again.dryRun) throw new Error('accept expected');
    expect(again.resent).toBe(true);
    expect(again.fundingTxid).toBe(accepted.fundingTxid);

    // Any period's id names the strip.
    const signed = await step(miner, (p) => signContract(p, { id: offered.strip!.periods[2]!.id! }));
    if (signed.psbtOut) throw new Error('signature expected');
    expect(signed.strip?.contractIds).toHaveLength(4);
    expect(signed.fundingTxid).toBe(accepted.fundingTxid);
    // A crash after the signs were stored and posted, before they were recorded sent: sent again, nothing signed anew.
    const w = Wallet.open(minerDir);
    const stored = stripRecords(w, stripId)!;
    for (const r of stored) w.contracts.save({ ...r, state: 'accepted' });
    const resent = await step(miner, (p) => signContract(p, { id: stripId }));
    if (resent.psbtOut) throw new Error('signature expected');
    expect(resent.resent).toBe(true);
    expect(stripRecords(Wallet.open(minerDir), stripId)!.map((r) => [r.state, r.sign])).toEqual(stored.map((r) => ['signed', r.sign]));
    // A crash between two periods' records (periods 1-2 recorded signed, 3-4 not): the repeat finishes, not "signed already".
    const w2 = Wallet.open(minerDir);
    for (const r of stripRecords(w2, stripId)!.slice(2)) w2.contracts.save({ ...r, state: 'accepted' });
    const mixed = await step(miner, (p) => signContract(p, { id: stripId }));
    if (mixed.psbtOut) throw new Error('signature expected');
    expect(mixed.resent).toBe(true);
    expect(stripRecords(Wallet.open(minerDir), stripId)!.map((r) => r.state)).toEqual(Array(4).fill('signed'));

    const funded = await step(buyer, (p) => fundContract(p, { id: stripId }));
    if (funded.psbtOut) throw new Error('funding expected');
    expect(funded.fundingTxid).toBe(accepted.fundingTxid);
    expect(await rpc.getRawMempool()).toContain(funded.fundingTxid);

    const tx = Transaction.fromHex(await rpc.getRawTransactionHex(funded.fundingTxid));
    const p2wsh = tx.outs.filter((o) => o.script.length === 34 && o.script[0] === 0x00 && o.script[1] === 0x20);
    expect(p2wsh).toHaveLength(4);
    // The same 2-of-2 script in every period's output (one funding key per party).
    expect(new Set(p2wsh.map((o) => toHex(o.script))).size).toBe(1);
    expect(tx.outs.filter((o) => o.value === 50_000n || Number(o.value) === 50_000)).toHaveLength(1);
    expect(tx.outs).toHaveLength(4 + 1 + 2);

    // Each wallet: 4 period records on one key; the miner learns of the broadcast at its next status.
    for (const [dir, state] of [[minerDir, 'signed'], [buyerDir, 'funding-broadcast']] as const) {
      const periods = stripRecords(Wallet.open(dir), stripId)!;
      expect(periods.map((r) => r.strip!.batch.index)).toEqual([0, 1, 2, 3]);
      expect(periods.map((r) => r.state)).toEqual(Array(4).fill(state));
      expect(new Set(periods.map((r) => r.keyIndex)).size).toBe(1);
      expect(new Set(periods.map((r) => r.contractId)).size).toBe(4);
    }
    expect(stripRecords(Wallet.open(buyerDir), stripId)!.every((r) => r.fundingTxid === funded.fundingTxid)).toBe(true);

    // A crash between two periods' funded records (period 1 recorded, 2-4 not): the repeat records the rest, signs nothing.
    const wb = Wallet.open(buyerDir);
    for (const r of stripRecords(wb, stripId)!.slice(1)) {
      const { fundingTxid: _dropped, ...rest } = r;
      wb.contracts.save({ ...rest, state: 'signed' });
    }
    const fundedAgain = await step(buyer, (p) => fundContract(p, { id: stripId }));
    if (fundedAgain.psbtOut) throw new Error('funding expected');
    expect(fundedAgain).toMatchObject({ alreadyFunded: true, fundingTxid: funded.fundingTxid });
    expect(stripRecords(Wallet.open(buyerDir), stripId)!.map((r) => [r.state, r.fundingTxid])).toEqual(Array(4).fill(['funding-broadcast', funded.fundingTxid]));
    await expect(step(buyer, (p) => fundContract(p, { id: stripId }))).rejects.toMatchObject({ code: 'STATE' });
  }, 120_000);
});

describe('a 2-period hashprice call strip', () => {
  it('one hashprice event per period; the premium paid once in the one funding transaction', async () => {
    const { minerDir, buyerDir } = await fundedPair('call');
    for (const w of [{ start: callWindow.start, end: callWindow.start + 2 }, { start: callWindow.start + 2, end: callWindow.end }]) {
      const ev = await services.oracle.post({ kind: 'hashprice', window: w }, { token: OPERATOR_TOKEN });
      expect([200, 201]).toContain(ev.status);
    }
    const offered = await step(services.config(minerDir), (p) => makeOffer(p, {
      template: 'hashprice-call', window: callWindow, periodBlocks: 2, hashrateThs: 1000n, strikeSatsPerPhDay: 500_000n, collateral: 100_000n, premium: 20_000n,
    }));
    if (offered.dryRun) throw new Error('posted strip expected');
    expect(offered.strip?.periods.map((x) => x.eventId.startsWith('hashprice/'))).toEqual([true, true]);
    await step(services.config(buyerDir), (p) => acceptOffer(p, { id: offered.id }));
    await step(services.config(minerDir), (p) => signContract(p, { id: offered.id }));
    const funded = await step(services.config(buyerDir), (p) => fundContract(p, { id: offered.id }));
    if (funded.psbtOut) throw new Error('funding expected');
    const tx = Transaction.fromHex(await rpc.getRawTransactionHex(funded.fundingTxid));
    expect(tx.outs.filter((o) => o.script.length === 34 && o.script[0] === 0x00 && o.script[1] === 0x20)).toHaveLength(2);
    const premiumScript = (offered.terms as { premiumScript?: string }).premiumScript;
    expect(tx.outs.filter((o) => toHex(o.script) === premiumScript).map((o) => BigInt(o.value))).toEqual([20_000n]);
    expect(tx.outs).toHaveLength(2 + 1 + 2);
  });
});

describe('a strip funded from an external wallet', () => {
  it('accept --utxo, fund --psbt-out, the wallet signs its input, fund --psbt-in: one PSBT for every period', async () => {
    const { minerDir, buyerDir } = await fundedPair('ext');
    const external = TestKey.random();
    const coin = await faucet.fund(external.address, 1_000_000n);
    const buyer = services.config(buyerDir);
    const offered = await step(services.config(minerDir), (p) => makeOffer(p, { ...saleInput(buyerDir), periods: 2 }));
    if (offered.dryRun) throw new Error('posted strip expected');
    await step(buyer, (p) => acceptOffer(p, { id: offered.id, utxos: [`${coin.txid}:${coin.vout}`] }));
    await step(services.config(minerDir), (p) => signContract(p, { id: offered.id }));
    const out = await step(buyer, (p) => fundContract(p, { id: offered.id, psbtOut: true }));
    if (!out.psbtOut) throw new Error('PSBT expected');
    // The external wallet signs its own input, and only that.
    const psbt = Psbt.fromBase64(out.psbt);
    const signer = { publicKey: external.publicKey, sign: (h: Uint8Array) => ecc.sign(h, external.privateKey) };
    let signedInputs = 0;
    psbt.data.inputs.forEach((input, i) => {
      if (input.witnessUtxo && toHex(input.witnessUtxo.script) === toHex(external.outputScript)) {
        psbt.signInput(i, signer);
        signedInputs++;
      }
    });
    expect(signedInputs).toBe(1);
    const funded = await step(buyer, (p) => fundContract(p, { id: offered.id, psbtIn: psbt.toBase64() }));
    if (funded.psbtOut) throw new Error('funding expected');
    expect(funded.fundingTxid).toBe(out.fundingTxid);
    expect(funded.strip?.contractIds).toHaveLength(2);
    expect(await rpc.getRawMempool()).toContain(funded.fundingTxid);
    const tx = Transaction.fromHex(await rpc.getRawTransactionHex(funded.fundingTxid));
    expect(tx.ins.some((i) => toHex(Uint8Array.from(i.hash).reverse()) === coin.txid && i.index === coin.vout)).toBe(true);
  });
});

describe('a bad adaptor signature in period 3', () => {
  it("the accepter's fund fails naming period 3: nothing funded, no funding PSBT posted", async () => {
    const { minerDir, buyerDir } = await fundedPair('badsign');
    const buyer = services.config(buyerDir);
    const offered = await step(services.config(minerDir), (p) => makeOffer(p, saleInput(buyerDir)));
    if (offered.dryRun) throw new Error('posted strip expected');
    const stripId = offered.id;
    await step(buyer, (p) => acceptOffer(p, { id: stripId }));
    await step(services.config(minerDir), (p) => signContract(p, { id: stripId }));

    const err = await step({ ...buyer, coordinator: proxy.url }, (p) => fundContract(p, { id: stripId })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DlcError);
    expect((err as DlcError).message).toMatch(/^period 3: /);
    expect((err as DlcError).details?.period).toBe(3);
    expect(postsTo(`/v1/strips/${stripId}/fund`)).toBe(0);
    const periods = stripRecords(Wallet.open(buyerDir), stripId)!;
    expect(periods.every((r) => r.fundingTxid === undefined && r.state === 'accepted')).toBe(true);
    for (const outpoint of periods[0]!.reservedOutpoints) {
      const [txid, vout] = outpoint.split(':');
      expect(await rpc.getTxOut(txid!, Number(vout))).not.toBeNull();
    }
  });

  it("the offerer's sign fails naming period 3: no sign posted, its coins unspent", async () => {
    const { minerDir, buyerDir } = await fundedPair('bad');
    const miner = services.config(minerDir);
    const offered = await step(miner, (p) => makeOffer(p, saleInput(buyerDir)));
    if (offered.dryRun) throw new Error('posted strip expected');
    const stripId = offered.id;
    await step(services.config(buyerDir), (p) => acceptOffer(p, { id: stripId }));

    const signsBefore = postsTo(`/v1/strips/${stripId}/sign`);
    const err = await step({ ...miner, coordinator: proxy.url }, (p) => signContract(p, { id: stripId })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DlcError);
    expect((err as DlcError).message).toMatch(/^period 3: /);
    expect((err as DlcError).details?.period).toBe(3);
    expect(postsTo(`/v1/strips/${stripId}/sign`)).toBe(signsBefore);

    const periods = stripRecords(Wallet.open(minerDir), stripId)!;
    expect(periods.every((r) => r.sign === undefined && r.state === 'offered')).toBe(true);
    for (const outpoint of periods[0]!.reservedOutpoints) {
      const [txid, vout] = outpoint.split(':');
      expect(await rpc.getTxOut(txid!, Number(vout))).not.toBeNull();
    }
  });
});
