/**
 * Transferable positions (issue 14) through the participant library against a
 * real coordinator (with its watcher), the test oracle and the regtest node,
 * every party behind a real HTTP proxy that can tamper with what the
 * coordinator serves:
 *
 * - (b) the proxy changes a field of the new contract served to the miner M:
 *   `consentTransfer` refuses naming the field, nothing is posted;
 * - (c) the proxy swaps the price's amount or script in the transfer served to
 *   the seller B1: `releaseTransfer` refuses, nothing is posted;
 * - (a) then honestly: a sale funded; B1 sells to B2 mid-window; the transfer
 *   confirms (B1's old contract `transferred` from its own node's facts); the
 *   window ends; the attested CET of the NEW contract pays B2; B1 received the
 *   price; M's payout is the old contract's for that outcome.
 *
 * One contract serves the three stories (the refusals happen on the way to
 * the honest transfer) to keep the file fast.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { setupContract } from '../../protocol/contract/index.js';
import { decodeAcceptDlc, decodeOfferDlc, encodeAcceptDlc, encodeOfferDlc, fromHex, toHex } from '../../protocol/messages/index.js';
import { startCoordinator, type RunningCoordinator } from '../../src/coordinator/index.js';
import {
  Participant,
  acceptOffer,
  buyPosition,
  consentTransfer,
  contractStatus,
  fundContract,
  fundTransfer,
  listPositions,
  makeOffer,
  releaseTransfer,
  sellPosition,
  settleContract,
  signContract,
  type ParticipantConfig,
} from '../../src/participant/index.js';
import { ParticipantError } from '../../src/participant/errors.js';
import { loadContract } from '../../src/participant/contract.js';
import { Wallet } from '../../src/wallet/index.js';
import { useRegtest } from '../../regtest/context.js';
import { mineAsPool, mineBlocks } from '../../regtest/helpers.js';
import { TestKey } from '../../regtest/wallet.js';
import { coordinatorConfig } from './coordinator-fixtures.js';
import { SIMDIFF_100THS_AT_HALF, startTestOracle, type TestOracle } from './oracle-fixture.js';
import { inject } from 'vitest';

const { rpc, faucet } = useRegtest();
const tmp = mkdtempSync(join(tmpdir(), 'hashdlc-participant-position-'));
const dirs = { m: join(tmp, 'miner'), b1: join(tmp, 'b1'), b2: join(tmp, 'b2') };
const PRICE = 100_000n;

let oracle: TestOracle;
let coordinator: RunningCoordinator;
let proxy: { url: string; server: Server };
let window: { start: number; end: number };
/** The proxy's rewrite of the next GET answer whose path matches, if any (set by a test, cleared after use). */
let tamper: { path: RegExp; rewrite: (body: Record<string, unknown>) => Record<string, unknown> } | undefined;

function config(walletDir: string): ParticipantConfig {
  return {
    network: 'regtest',
    networkGiven: true,
    walletDir,
    coordinator: proxy.url,
    oracles: [oracle.oracle.url],
    oraclePubkeys: [oracle.oracle.publicKey],
    oracleThreshold: undefined,
    rpc: inject('regtest').rpc,
    feeRatePerVb: 2n,
    threads: 1,
  };
}

async function use<T>(walletDir: string, fn: (p: Participant) => Promise<T>): Promise<T> {
  const p = new Participant(config(walletDir), { note: () => undefined });
  try {
    return await fn(p);
  } finally {
    await p.close();
  }
}

/** A real HTTP server in front of the coordinator: forwards every request as is, and applies `tamper` to a matching GET answer. */
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
      const path = (req.url ?? '').split('?')[0]!;
      if (answer.ok && req.method === 'GET' && tamper !== undefined && tamper.path.test(path)) {
        text = JSON.stringify(tamper.rewrite(JSON.parse(text) as Record<string, unknown>));
      }
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(text);
    })().catch(() => res.writeHead(502).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { url: `http://127.0.0.1:${address.port}`, server };
}

/** POST requests this process sent, by URL suffix (the library's fetches, spied on). */
const fetchSpy = vi.spyOn(globalThis, 'fetch');
function postsTo(suffix: string): number {
  return fetchSpy.mock.calls.filter(([url, init]) => init?.method === 'POST' && String(url).startsWith(proxy.url) && String(url).endsWith(suffix)).length;
}

/** Runs `fn` with the proxy rewriting the matching answers, then stops tampering. */
async function tampered<T>(t: NonNullable<typeof tamper>, fn: () => Promise<T>): Promise<T> {
  tamper = t;
  try {
    return await fn();
  } finally {
    tamper = undefined;
  }
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

let sale: string;
let positionId: string;
let newContract: string;

beforeAll(async () => {
  oracle = await startTestOracle(rpc, { simulatedDifficulty: SIMDIFF_100THS_AT_HALF });
  coordinator = await startCoordinator(coordinatorConfig(join(tmp, 'coordinator'), oracle.oracle.url), { log: () => undefined });
  proxy = await tamperingCoordinator(coordinator.url);
  for (const d of Object.values(dirs)) {
    Wallet.init(d, 'regtest');
    await faucet.fund(Wallet.open(d).newReceiveAddress().address, 1_000_000n, { confirm: false });
  }
  await mineBlocks(rpc, 1);
  const tip = await rpc.getBlockCount();
  window = { start: tip + 5, end: tip + 16 };
  const deliveryAddress = Wallet.open(dirs.b1).newReceiveAddress().address;
  const offered = await use(dirs.m, (p) => makeOffer(p, {
    template: 'hashpower', window, hashrateThs: 100n,
    deliveryAddress,
    upfront: 20_000n, escrow: 300_000n, collateral: 200_000n, roundingMod: 50_000n,
  }));
  if (offered.dryRun) throw new Error('posted offer expected');
  sale = offered.id;
  await use(dirs.b1, (p) => acceptOffer(p, { id: sale }));
  await use(dirs.m, (p) => signContract(p, { id: sale }));
  await use(dirs.b1, (p) => fundContract(p, { id: sale }));
  await mineBlocks(rpc, 1);
  for (const d of [dirs.m, dirs.b1]) expect((await use(d, (p) => contractStatus(p, { id: sale }))).record.state).toBe('confirmed');
  // The coordinator lists only contracts its watcher has seen confirmed.
  await until('the coordinator: confirmed', async () => ((await use(dirs.b1, (p) => contractStatus(p, { id: sale }))).coordinator?.state === 'confirmed' ? true : undefined));
  // Mid-window: the pool delivers the first blocks of the window.
  await mineBlocks(rpc, window.start - (await rpc.getBlockCount()) - 1);
  await mineAsPool(rpc, { blocks: 3, shares: [{ address: deliveryAddress, shareBps: 2_500 }], restAddress: TestKey.random().address });
}, 300_000);

afterAll(async () => {
  await new Promise<void>((resolve) => proxy?.server.close(() => resolve()));
  await coordinator?.stop();
  await oracle?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('B1 sells its side of a live sale to B2', () => {
  it('B1 lists it (its own record keeps the price and script), B2 sees it in the book and takes it', async () => {
    const listed = await use(dirs.b1, (p) => sellPosition(p, sale, { price: PRICE }));
    positionId = listed.id;
    expect(listed).toMatchObject({ state: 'listed', contractId: sale, side: 'accept', price: PRICE.toString() });
    expect(Wallet.open(dirs.b1).contracts.get(sale).listing).toEqual({ positionId, price: PRICE.toString(), sellerSpk: listed.sellerSpk });
    const book = await use(dirs.b2, (p) => listPositions(p));
    expect(book.positions.map((x) => x.id)).toContain(positionId);

    const bought = await use(dirs.b2, (p) => buyPosition(p, positionId, { maxPrice: PRICE }));
    newContract = bought.id;
    expect(bought.state).toBe('taken');
    // Stored before it was sent, with its transfer: the new contract survives a crash.
    const rec = Wallet.open(dirs.b2).contracts.get(newContract);
    expect(rec).toMatchObject({ role: 'accept', state: 'accepted', transfer: { positionId, from: sale } });
  });

  it.each([
    ['the miner\'s payout script in offer\'', 'offer', 'transfer-mismatch:offer.payoutSpk'],
    ['the buyer\'s collateral in accept\'', 'accept', 'transfer-mismatch:accept.acceptCollateral'],
  ] as const)('(b) a coordinator that changes %s is refused by M\'s checks, naming the field; nothing is posted', async (_what, which, reason) => {
    const before = postsTo(`/v1/positions/${positionId}/consent`);
    const rewrite = (m: Record<string, unknown>): Record<string, unknown> => {
      const next = m.next as { offer: string; accept: string; sign: string | null };
      if (which === 'offer') {
        const o = decodeOfferDlc(fromHex(next.offer));
        next.offer = toHex(encodeOfferDlc({ ...o, payoutSpk: TestKey.random().outputScript }));
      } else {
        const a = decodeAcceptDlc(fromHex(next.accept));
        next.accept = toHex(encodeAcceptDlc({ ...a, acceptCollateral: a.acceptCollateral - 1_000n }));
      }
      return m;
    };
    await expect(tampered({ path: /^\/v1\/positions\/[0-9a-f]+\/messages$/, rewrite }, () => use(dirs.m, (p) => consentTransfer(p, positionId))))
      .rejects.toMatchObject({ code: 'INVALID_PARAMS', reason });
    expect(postsTo(`/v1/positions/${positionId}/consent`)).toBe(before);
    // No new contract stored on M's side.
    expect(Wallet.open(dirs.m).contracts.list().map((r) => r.id)).not.toContain(newContract);
  });

  it('M consents to the honest new contract (stored in its wallet with its old funding key)', async () => {
    const r = await use(dirs.m, (p) => consentTransfer(p, positionId));
    expect(r.id).toBe(newContract);
    const w = Wallet.open(dirs.m);
    const rec = w.contracts.get(newContract);
    expect(rec).toMatchObject({ role: 'offer', state: 'signed', keyIndex: w.contracts.get(sale).keyIndex, transfer: { positionId, from: sale } });
  });

  it.each([
    ['a lower price', (t: Record<string, unknown>) => ({ ...t, price: (PRICE - 1_000n).toString() })],
    ['another address for the price', (t: Record<string, unknown>) => ({ ...t, sellerSpk: toHex(TestKey.random().outputScript) })],
  ])('(c) a coordinator that swaps %s in the transfer is caught before B1 signs', async (_what, swap) => {
    const before = postsTo(`/v1/positions/${positionId}/release`);
    const rewrite = (v: Record<string, unknown>): Record<string, unknown> => ({ ...v, transfer: swap(v.transfer as Record<string, unknown>), price: (PRICE - 1_000n).toString() });
    await expect(tampered({ path: /^\/v1\/positions\/[0-9a-f]+$/, rewrite }, () => use(dirs.b1, (p) => releaseTransfer(p, positionId))))
      .rejects.toMatchObject({ code: 'INVALID_PARAMS', reason: 'transfer-price-missing' });
    expect(postsTo(`/v1/positions/${positionId}/release`)).toBe(before);
    expect(Wallet.open(dirs.b1).contracts.get(sale).listing?.released).toBeUndefined();
  });

  it('(a) B1 releases, B2 funds: the transfer confirms, B1 received the price, its old contract is transferred', async () => {
    const released = await use(dirs.b1, (p) => releaseTransfer(p, positionId));
    const funded = await use(dirs.b2, (p) => fundTransfer(p, positionId));
    if (funded.psbtOut) throw new Error('internal wallet expected');
    expect(funded.transferTxid).toBe(released.transferTxid);
    expect(funded.state).toBe('broadcast');
    await until('the transfer in the mempool', async () => ((await rpc.getRawMempool()).includes(funded.transferTxid) ? true : undefined));
    await mineBlocks(rpc, 1);

    // B1 received P at its OWN listing's script.
    const listing = Wallet.open(dirs.b1).contracts.get(sale).listing!;
    const tx = await rpc.getRawTransaction(funded.transferTxid);
    const paid = tx.vout.filter((o) => o.scriptPubKey.hex === listing.sellerSpk);
    expect(paid).toHaveLength(1);
    expect((await rpc.getTxOut(funded.transferTxid, paid[0]!.n, false))?.valueSats).toBe(PRICE);

    // Each old contract is `transferred` once the coordinator says so AND the node shows it.
    for (const d of [dirs.b1, dirs.m]) {
      await until(`${d}: transferred`, async () => {
        const st = await use(d, (p) => contractStatus(p, { id: sale }));
        return st.record.state === 'transferred' ? st : undefined;
      });
    }
    for (const d of [dirs.b2, dirs.m]) {
      await until(`${d}: the new contract confirmed`, async () => {
        const st = await use(d, (p) => contractStatus(p, { id: newContract }));
        return st.record.state === 'confirmed' ? st : undefined;
      });
    }
  });

  it('(a) the window ends; the attested CET of the new contract pays B2, and M exactly what the old contract paid it', async () => {
    const delivery = Wallet.open(dirs.b1).contracts.get(sale).terms.deliveryAddress as string;
    const left = window.end - (await rpc.getBlockCount());
    await mineAsPool(rpc, { blocks: left, shares: [{ address: delivery, shareBps: 2_500 }], restAddress: TestKey.random().address });
    await mineBlocks(rpc, 1);
    const settled = await until('the attestation', async () => {
      try {
        return await use(dirs.b2, (p) => settleContract(p, { id: newContract }));
      } catch (e) {
        if (e instanceof ParticipantError && e.code === 'NOT_READY') return undefined;
        throw e;
      }
    }, 60_000);
    await mineBlocks(rpc, 1);
    const cet = await rpc.getRawTransaction(settled.txid);
    expect(cet.confirmations).toBeGreaterThanOrEqual(1);

    const b2 = loadContract(Wallet.open(dirs.b2), newContract);
    const m = loadContract(Wallet.open(dirs.m), sale);
    const payTo = (spk: Uint8Array): bigint => cet.vout.filter((o) => o.scriptPubKey.hex === toHex(spk)).reduce((s, o) => s + o.valueSats, 0n);
    // The CET spends the NEW funding output (the transfer's) and pays B2's payout script.
    expect(cet.vin[0]!.txid).toBe(b2.record.fundingTxid);
    expect(payTo(b2.accept!.payoutSpk)).toBe(settled.payouts.accept);
    // M's payout for this outcome is the OLD contract's, at the same script.
    const old = setupContract(m.offer, m.accept!, m.setupOptions);
    expect(b2.offer.payoutSpk).toEqual(m.offer.payoutSpk);
    expect(settled.payouts.offer).toBe(old.plan.cets[settled.cetIndex]!.offerPayout);
    expect(payTo(m.offer.payoutSpk)).toBe(settled.payouts.offer);
  });
});
