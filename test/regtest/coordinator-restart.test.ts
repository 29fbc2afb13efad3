/**
 * Crash safety: the coordinator runs as its own process (`tsx
 * src/coordinator/main.ts`) and is killed with SIGKILL at several steps of a
 * hashpower sale; each restart on the same data directory finds the contract
 * exactly where it was (state, history, messages) and the flow carries on:
 * killed after accept, killed right after the funding broadcast, killed
 * while the window runs (so the attestation arrives while it is down), and
 * the CET is still completed and mined, paying as the plan says.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAttestedSlot } from '../../protocol/contract/index.js';
import { decodeMessage, fromHex } from '../../protocol/messages/index.js';
import { useRegtest } from '../../regtest/context.js';
import { paidByTransaction, scriptHex } from '../../regtest/dlc.js';
import { freePort, mineAsPool, mineBlocks, mineToHeight, strangerAddress } from '../../regtest/index.js';
import { api, identityOf } from '../coordinator-fixtures.js';
import { regtestSale, spawnCoordinator, startRealOracle, until, windowInOneEra, type CoordinatorProcess, type RealOracle } from './coordinator-fixtures.js';

const { rpc, faucet } = useRegtest();
let oracle: RealOracle;
let dir: string;
let running: CoordinatorProcess | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hashdlc-coord-restart-'));
  oracle = await startRealOracle(rpc);
});

afterAll(async () => {
  await running?.kill();
  await oracle?.close();
  rmSync(dir, { recursive: true, force: true });
});

type Body = Record<string, unknown>;

describe('coordinator killed (SIGKILL) and restarted mid-flow', () => {
  it('keeps every state and carries the contract on to settlement', async () => {
    const dataDir = join(dir, 'db');
    const port = await freePort();
    const start = async (): Promise<string> => {
      running = await spawnCoordinator(dataDir, oracle.url, port);
      return running.url;
    };
    const kill = async (): Promise<void> => {
      await running!.kill();
      running = undefined;
    };
    // Read as the offerer (signed GET: the full record is served to the parties only).
    const get = async (url: string, id: string): Promise<Body> => (await api(url, 'GET', `/v1/contracts/${id}`, { key: p.offerIdentity })).body;

    const window = await windowInOneEra(rpc, 10, 10);
    const sale = await regtestSale(rpc, faucet, oracle, 'rt-restart', window);
    const p = sale.parties;

    // 1. offer + accept, then SIGKILL.
    let url = await start();
    const offer = await api(url, 'POST', '/v1/offers', { body: { offer: p.offerHex, identityPubkey: identityOf(p.offerIdentity), terms: p.terms }, key: p.offerIdentity });
    expect(offer.status, JSON.stringify(offer.body)).toBe(201);
    const id = offer.body.id as string;
    const accepted = await api(url, 'POST', `/v1/contracts/${id}/accept`, { body: { accept: p.accept().acceptHex, identityPubkey: identityOf(p.acceptIdentity) }, key: p.acceptIdentity });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    const before = await get(url, id);
    await kill();

    // 2. restart: the same record (state, history, PSBT); sign + fund, SIGKILL right after the broadcast.
    url = await start();
    expect(await get(url, id)).toEqual(before);
    expect((await api(url, 'GET', `/v1/contracts/${id}/messages`, { key: p.acceptIdentity })).body).toMatchObject({ offer: p.offerHex, accept: p.accept().acceptHex, sign: null });
    const signed = await api(url, 'POST', `/v1/contracts/${id}/sign`, { body: { sign: p.sign().signHex }, key: p.offerIdentity });
    expect(signed.status, JSON.stringify(signed.body)).toBe(200);
    const funded = await api(url, 'POST', `/v1/contracts/${id}/fund`, { body: { fundingPsbt: p.signedFundingPsbt('accept') }, key: p.acceptIdentity });
    expect(funded.status, JSON.stringify(funded.body)).toBe(200);
    await kill();

    // 3. the funding confirms while it is down; on restart the watcher catches up.
    await mineBlocks(rpc, 1);
    url = await start();
    const confirmed = await until(async () => {
      const r = await get(url, id);
      return r.state === 'confirmed' ? r : undefined;
    }, 20_000, 'confirmed');
    expect(confirmed.fundingTxid).toBe(funded.body.fundingTxid);
    await kill();

    // 4. the window runs and the oracle attests while the coordinator is down.
    await mineToHeight(rpc, window.start - 1);
    await mineAsPool(rpc, { blocks: 10, shares: [{ address: sale.delivery.address, shareBps: 5000 }], restAddress: strangerAddress() });
    await mineBlocks(rpc, 1);
    const att = await oracle.attestation(p.eventId);
    expect(att.outcome).toBe('10000');

    // 5. restart: the attestation is picked up and the CET broadcast; mined; settled.
    url = await start();
    const broadcast = await until(async () => {
      const r = await get(url, id);
      return r.state === 'cet-broadcast' ? r : undefined;
    }, 30_000, 'cet-broadcast');
    await mineBlocks(rpc, 1);
    const settled = await until(async () => {
      const r = await get(url, id);
      return r.state === 'settled' ? r : undefined;
    }, 20_000, 'settled');
    expect(settled.closingTxid).toBe(broadcast.closingTxid);
    const m = decodeMessage(fromHex(att.hex));
    if (m.type !== 'oracle_attestation') throw new Error(m.type);
    const { setup } = p.accept();
    const planned = setup.plan.cets[findAttestedSlot(setup, [{ contractIndex: 0, oracleIndex: 0, attestation: m.message }]).cetIndex]!;
    // Full delivery: the miner receives escrow + collateral.
    expect(planned.offerPayout).toBe(600_000n);
    const paid = await paidByTransaction(rpc, settled.closingTxid as string);
    expect(paid.get(scriptHex(sale.offerWallet.payout.outputScript))).toBe(600_000n);
    expect((settled.history as { state: string }[]).map((h) => h.state)).toEqual([
      'offered', 'accepted', 'signed', 'funding-broadcast', 'confirmed', 'attested', 'cet-broadcast', 'settled',
    ]);
    // 6. the party index survived every restart.
    const mine = await api(url, 'GET', `/v1/contracts?party=${identityOf(p.acceptIdentity)}`, { key: p.acceptIdentity });
    expect((mine.body.contracts as { id: string }[]).map((c) => c.id)).toEqual([id]);
  });
});
