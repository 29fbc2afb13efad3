/**
 * Coordinator replicas (issue 13): two coordinator PROCESSES on one real
 * PostgreSQL database, the real oracle service and the regtest node.
 * - two different accepts of one offer raced through the two replicas: one
 *   wins, the other is refused (409), the record names the winner once;
 * - PostgreSQL shut down mid-flow: both replicas answer 503
 *   STORAGE_UNAVAILABLE (nothing written), and once it is back the same
 *   requests succeed and the contract carries on with its history whole;
 * - the leader SIGKILLed while a contract's window runs: the other replica
 *   takes the lease and settles; the CET is broadcast once, not twice.
 * The leader is killed in the last case, so it runs last.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAttestedSlot } from '../../protocol/contract/index.js';
import { decodeMessage, fromHex } from '../../protocol/messages/index.js';
import { useRegtest } from '../../regtest/context.js';
import { fundDlcWallet, fundingInputFromNode, paidByTransaction, scriptHex } from '../../regtest/dlc.js';
import { freePort, mineAsPool, mineBlocks, mineToHeight, strangerAddress, TestKey } from '../../regtest/index.js';
import { postgresAvailable, startPostgres, type RunningPostgres } from '../../regtest/postgres.js';
import { api, identityOf, saleParties, type ApiResponse } from '../coordinator-fixtures.js';
import { regtestSale, spawnCoordinator, startRealOracle, until, windowInOneEra, type CoordinatorProcess, type RealOracle, type RegtestSale } from './coordinator-fixtures.js';

const availability = await postgresAvailable();
const why = availability.ok ? '' : ` (SKIPPED: ${availability.reason})`;
if (!availability.ok) process.stderr.write(`[coordinator-replicas] PostgreSQL unavailable, skipping: ${availability.reason}\n`);

const { rpc, faucet } = useRegtest();
/** A replica tries the leadership lease once per poll: short, so a takeover is quick. */
const POLL_MS = 200;

type Body = Record<string, unknown>;

describe.skipIf(!availability.ok)(`coordinator replicas: two processes on one PostgreSQL database${why}`, () => {
  let dir: string;
  let oracle: RealOracle;
  let pg: RunningPostgres;
  let a: CoordinatorProcess;
  let b: CoordinatorProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hashdlc-coord-replicas-'));
    [oracle, pg] = await Promise.all([startRealOracle(rpc), startPostgres()]);
    const [portA, portB] = [await freePort(), await freePort()];
    // Started together: both run the migrations at once (one applies them, under its advisory lock).
    [a, b] = await Promise.all([
      spawnCoordinator(join(dir, 'a'), oracle.url, portA, { databaseUrl: pg.url, pollIntervalMs: POLL_MS }),
      spawnCoordinator(join(dir, 'b'), oracle.url, portB, { databaseUrl: pg.url, pollIntervalMs: POLL_MS }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([a?.kill(), b?.kill()]);
    await pg?.stop();
    await oracle?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  /** The full record as a party reads it (signed GET). */
  const get = async (url: string, id: string, key: Uint8Array): Promise<Body> => {
    const r = await api(url, 'GET', `/v1/contracts/${id}`, { key });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body;
  };
  const states = (rec: Body): string[] => (rec.history as { state: string }[]).map((h) => h.state);
  const expectStatus = (r: ApiResponse, status: number): Body => {
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    return r.body;
  };
  const info = async (url: string): Promise<{ kind: string; leader: boolean }> =>
    (await api(url, 'GET', '/v1/info')).body.storage as { kind: string; leader: boolean };

  /** offer on `first`, accept on `second`, sign on `first`: the contract waits for the accepter's funding signature. */
  const signedThrough = async (sale: RegtestSale, first: string, second: string): Promise<string> => {
    const p = sale.parties;
    const id = expectStatus(await api(first, 'POST', '/v1/offers', { body: { offer: p.offerHex, identityPubkey: identityOf(p.offerIdentity), terms: p.terms }, key: p.offerIdentity }), 201).id as string;
    expectStatus(await api(second, 'POST', `/v1/contracts/${id}/accept`, { body: { accept: p.accept().acceptHex, identityPubkey: identityOf(p.acceptIdentity) }, key: p.acceptIdentity }), 200);
    expectStatus(await api(first, 'POST', `/v1/contracts/${id}/sign`, { body: { sign: p.sign().signHex, fundingPsbt: p.signedFundingPsbt('offer') }, key: p.offerIdentity }), 200);
    return id;
  };

  it('races two different accepts of one offer through the two replicas: one wins, the other gets 409 INVALID_STATE state-accepted or CONFLICT concurrent-update', async () => {
    // A second accepter with its own coins, confirmed by the block regtestSale mines.
    const rival = await fundDlcWallet(faucet, 'accept', 550_000n);
    const window = await windowInOneEra(rpc, 2, 8);
    const sale = await regtestSale(rpc, faucet, oracle, 'rp-race', window);
    const first = sale.parties;
    // The same offer (same parameters, same bytes) accepted over the rival's coins and payout.
    const second = saleParties({
      label: 'rp-race',
      announcement: first.announcement,
      deliveryAddress: sale.delivery.address,
      window,
      offerInputs: [await fundingInputFromNode(rpc, sale.offerWallet.inputs[0]!, 5n)],
      acceptInputs: [await fundingInputFromNode(rpc, rival.inputs[0]!, 6n)],
      offerUtxoKey: sale.offerWallet.inputs[0]!.key.privateKey,
      acceptUtxoKey: rival.inputs[0]!.key.privateKey,
      payoutSpks: { offer: sale.offerWallet.payout.outputScript, accept: rival.payout.outputScript },
      upfrontScript: sale.upfront.outputScript,
    });
    expect(second.offerHex).toBe(first.offerHex);
    const accepters = [
      { identity: first.acceptIdentity, acceptHex: first.accept().acceptHex, url: a.url },
      { identity: TestKey.random().privateKey, acceptHex: second.accept().acceptHex, url: b.url },
    ];
    expect(accepters[0]!.acceptHex).not.toBe(accepters[1]!.acceptHex);

    const id = expectStatus(await api(a.url, 'POST', '/v1/offers', { body: { offer: first.offerHex, identityPubkey: identityOf(first.offerIdentity), terms: first.terms }, key: first.offerIdentity }), 201).id as string;
    const results = await Promise.all(accepters.map((x) =>
      api(x.url, 'POST', `/v1/contracts/${id}/accept`, { body: { accept: x.acceptHex, identityPubkey: identityOf(x.identity) }, key: x.identity })));

    const won = results.flatMap((r, i) => (r.status === 200 ? [i] : []));
    expect(won, JSON.stringify(results.map((r) => [r.status, r.body.error]))).toHaveLength(1);
    const winner = accepters[won[0]!]!;
    const lost = results[1 - won[0]!]!;
    expect(lost.status, JSON.stringify(lost.body)).toBe(409);
    // The loser came second through the step lock (INVALID_STATE) or met the winner's commit (CONFLICT); either way nothing of it is stored.
    expect([['INVALID_STATE', 'state-accepted'], ['CONFLICT', 'concurrent-update']]).toContainEqual([lost.body.error?.code, lost.body.error?.reason]);

    for (const url of [a.url, b.url]) {
      const rec = await get(url, id, first.offerIdentity);
      expect(rec).toMatchObject({ state: 'accepted', accepter: { identityPubkey: identityOf(winner.identity) } });
      expect(states(rec)).toEqual(['offered', 'accepted']);
      const messages = expectStatus(await api(url, 'GET', `/v1/contracts/${id}/messages`, { key: winner.identity }), 200);
      expect(messages).toMatchObject({ offer: first.offerHex, accept: winner.acceptHex, sign: null });
    }
  });

  it('answers 503 STORAGE_UNAVAILABLE on both replicas while PostgreSQL is down, then serves the same requests and carries the contract on, its history whole', async () => {
    const window = await windowInOneEra(rpc, 2, 30);
    const sale = await regtestSale(rpc, faucet, oracle, 'rp-pg-down', window);
    const p = sale.parties;
    const id = await signedThrough(sale, a.url, b.url);
    const fund = (url: string): Promise<ApiResponse> => api(url, 'POST', `/v1/contracts/${id}/fund`, { body: { fundingPsbt: p.signedFundingPsbt('accept') }, key: p.acceptIdentity });

    await pg.shutdown();
    for (const url of [a.url, b.url]) {
      for (const r of [await api(url, 'GET', `/v1/contracts/${id}`, { key: p.offerIdentity }), await fund(url)]) {
        expect(r.status, JSON.stringify(r.body)).toBe(503);
        expect(r.body.error).toMatchObject({ code: 'STORAGE_UNAVAILABLE', reason: 'database-unavailable' });
      }
    }

    await pg.start();
    for (const url of [a.url, b.url]) expect((await get(url, id, p.offerIdentity)).state).toBe('signed');
    const funded = expectStatus(await fund(b.url), 200);
    expect(funded.state).toBe('funding-broadcast');
    // Whichever replica holds the lease after the restart confirms the funding.
    await mineBlocks(rpc, 1);
    const confirmed = await until(async () => {
      const r = await get(a.url, id, p.offerIdentity);
      return r.state === 'confirmed' ? r : undefined;
    }, 20_000, 'confirmed');
    expect(confirmed.fundingTxid).toBe(funded.fundingTxid);
    expect(states(confirmed)).toEqual(['offered', 'accepted', 'signed', 'funding-broadcast', 'confirmed']);
    expect(await get(b.url, id, p.offerIdentity)).toEqual(confirmed);
  });

  it('settles through the other replica when the leader is SIGKILLed during the window, broadcasting the CET once', async () => {
    // One lease: exactly one replica says it leads.
    const [leader, follower] = await until(async () => {
      const [la, lb] = [(await info(a.url)).leader, (await info(b.url)).leader];
      if (la === lb) return undefined;
      return la ? [a, b] : [b, a];
    }, 10_000, 'exactly one leader');
    expect(await info(follower.url)).toEqual({ kind: 'postgres', leader: false });

    const window = await windowInOneEra(rpc, 2, 5);
    const sale = await regtestSale(rpc, faucet, oracle, 'rp-takeover', window);
    const p = sale.parties;
    // The follower takes the accept and the fund but not the sign: what it has in memory of the
    // contract lacks the sign, which it must read from the database once it settles.
    const id = await signedThrough(sale, leader.url, follower.url);
    expectStatus(await api(follower.url, 'POST', `/v1/contracts/${id}/fund`, { body: { fundingPsbt: p.signedFundingPsbt('accept') }, key: p.acceptIdentity }), 200);
    await mineBlocks(rpc, 1);
    await until(async () => ((await get(follower.url, id, p.offerIdentity)).state === 'confirmed' ? true : undefined), 20_000, 'confirmed');

    // The window's first block, then the leader dies; the pool delivers in full.
    await mineToHeight(rpc, window.start - 1);
    const shares = [{ address: sale.delivery.address, shareBps: 5000 }];
    await mineAsPool(rpc, { blocks: 1, shares, restAddress: strangerAddress() });
    await leader.kill();
    await until(async () => ((await info(follower.url)).leader ? true : undefined), 10_000, 'the follower to take the lease');
    await mineAsPool(rpc, { blocks: window.end - window.start - 1, shares, restAddress: strangerAddress() });
    await mineBlocks(rpc, 1);
    const att = await oracle.attestation(p.eventId);
    expect(att.outcome).toBe('10000');

    const broadcast = await until(async () => {
      const r = await get(follower.url, id, p.offerIdentity);
      return r.state === 'cet-broadcast' ? r : undefined;
    }, 20_000, 'cet-broadcast');
    await mineBlocks(rpc, 1);
    const settled = await until(async () => {
      const r = await get(follower.url, id, p.offerIdentity);
      return r.state === 'settled' ? r : undefined;
    }, 20_000, 'settled');
    expect(settled.closingTxid).toBe(broadcast.closingTxid);

    // The CET the attestation selects, paying as the plan says.
    const m = decodeMessage(fromHex(att.hex));
    if (m.type !== 'oracle_attestation') throw new Error(m.type);
    const { setup } = p.accept();
    const planned = setup.plan.cets[findAttestedSlot(setup, [{ contractIndex: 0, oracleIndex: 0, attestation: m.message }]).cetIndex]!;
    const paid = await paidByTransaction(rpc, settled.closingTxid as string);
    expect(paid.get(scriptHex(sale.offerWallet.payout.outputScript))).toBe(planned.offerPayout);
    expect(settled.payouts).toEqual({ offer: String(planned.offerPayout), accept: String(planned.acceptPayout) });

    // Broadcast once: one log line across both processes (the dead one's lines kept), one history step.
    expect(a.logged('CET broadcast', { id }) + b.logged('CET broadcast', { id })).toBe(1);
    expect(follower.logged('CET broadcast', { id })).toBe(1);
    expect(states(settled)).toEqual(['offered', 'accepted', 'signed', 'funding-broadcast', 'confirmed', 'attested', 'cet-broadcast', 'settled']);
  });
});
