/**
 * Two coordinator replicas on one PostgreSQL database (issue 13), as real
 * HTTP servers over a throwaway cluster (regtest/postgres.ts) and a fake
 * chain: they serve one book; a request signed for one replica is refused
 * when played to the other (the replay set is in the database); two accepts
 * of one offer racing through both replicas: exactly one wins; the watcher's
 * lease is held by one replica at a time and passes on when it stops; a
 * database migrated by a newer coordinator is refused. The regtest file
 * test/regtest/coordinator-replicas.test.ts does the same with coordinator
 * processes, a SIGKILLed leader and a restarted database.
 * Skips visibly, naming the reason, where PostgreSQL cannot run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../protocol/auth/index.js';
import type { OracleAnnouncement } from '../protocol/messages/index.js';
import { startCoordinator, type RunningCoordinator } from '../src/coordinator/index.js';
import { ContractStore } from '../src/coordinator/store.js';
import { PostgresKv } from '../src/coordinator/storage/postgres.js';
import { postgresAvailable, startPostgres, type RunningPostgres } from '../regtest/postgres.js';
import { testOracle } from './helpers/dlc-fixture.js';
import { FakeChain, api, fakeChainCoordinatorConfig, identityOf, saleParties, startTestOracle, type SaleParties, type TestOracleServer } from './coordinator-fixtures.js';

const available = await postgresAvailable();
const ORACLE_LABEL = 'coord-pg-oracle';
const theOracle = testOracle(ORACLE_LABEL);
const published = new Map<string, OracleAnnouncement>();
let cluster: RunningPostgres;
let oracle: TestOracleServer;
let dir: string;
let a: RunningCoordinator;
let b: RunningCoordinator;
const clock = Date.now();

async function database(name: string): Promise<string> {
  await cluster.psql(`CREATE DATABASE ${name}`);
  return cluster.url.replace(/\/[^/]*$/, `/${name}`);
}

describe.skipIf(!available.ok)(`two coordinator replicas on one PostgreSQL database${available.ok ? '' : ` (skipped: ${available.reason})`}`, () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hashdlc-coord-pg-'));
    cluster = await startPostgres();
    oracle = await startTestOracle(ORACLE_LABEL, { events: published });
    const url = await database('replicas');
    const config = { ...fakeChainCoordinatorConfig(join(dir, 'unused'), oracle.url), databaseUrl: url };
    const chain = new FakeChain();
    a = await startCoordinator(config, { chain, now: () => clock, watch: false, log: () => undefined });
    b = await startCoordinator(config, { chain, now: () => clock, watch: false, log: () => undefined });
  });

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await oracle?.close();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function parties(label: string): SaleParties {
    const p = saleParties({ label, oracle: theOracle });
    published.set(p.eventId, p.announcement);
    return p;
  }

  it('serves one book: an offer made at replica A is listed and read at replica B', async () => {
    const p = parties('pg-book');
    const made = await api(a.url, 'POST', '/v1/offers', { body: { offer: p.offerHex, identityPubkey: identityOf(p.offerIdentity), terms: p.terms }, key: p.offerIdentity, now: clock });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const id = made.body.id as string;
    expect((await api(b.url, 'GET', `/v1/offers/${id}`, { now: clock })).body).toMatchObject({ id, state: 'offered' });
    const listed = (await api(b.url, 'GET', '/v1/offers?limit=50', { now: clock })).body.offers as { id: string }[];
    expect(listed.map((o) => o.id)).toContain(id);
    expect((await api(b.url, 'GET', '/v1/info', { now: clock })).body.storage).toMatchObject({ kind: 'postgres' });
  });

  it('refuses a signed request captured at replica A and played to replica B (401 auth-replayed: the replay set is shared)', async () => {
    const p = parties('pg-replay');
    const body = JSON.stringify({ offer: p.offerHex, identityPubkey: identityOf(p.offerIdentity), terms: p.terms });
    const headers = signRequest(p.offerIdentity, { method: 'POST', path: '/v1/offers', body, timestamp: Math.floor(clock / 1000) }, new Uint8Array(32).fill(7));
    expect((await api(a.url, 'POST', '/v1/offers', { rawBody: body, headers })).status).toBe(201);
    const replayed = await api(b.url, 'POST', '/v1/offers', { rawBody: body, headers });
    expect(replayed.status).toBe(401);
    expect(replayed.body.error).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'auth-replayed' });
  });

  it('two accepts of one offer racing through A and B: exactly one wins, the other gets 409, the record holds one accept', async () => {
    const p = parties('pg-race');
    const made = await api(a.url, 'POST', '/v1/offers', { body: { offer: p.offerHex, identityPubkey: identityOf(p.offerIdentity), terms: p.terms }, key: p.offerIdentity, now: clock });
    const id = made.body.id as string;
    const accept = { accept: p.accept().acceptHex, identityPubkey: identityOf(p.acceptIdentity) };
    // Signed separately (two requests, not a replay), sent at the same time.
    const [ra, rb] = await Promise.all([
      api(a.url, 'POST', `/v1/contracts/${id}/accept`, { body: accept, key: p.acceptIdentity, now: clock }),
      api(b.url, 'POST', `/v1/contracts/${id}/accept`, { body: accept, key: p.acceptIdentity, now: clock }),
    ]);
    const statuses = [ra.status, rb.status].sort();
    expect(statuses, JSON.stringify([ra.body, rb.body])).toEqual([200, 409]);
    const loser = ra.status === 409 ? ra : rb;
    expect(['INVALID_STATE', 'CONFLICT']).toContain((loser.body.error as { code: string }).code);
    const rec = (await api(b.url, 'GET', `/v1/contracts/${id}`, { key: p.offerIdentity, now: clock })).body;
    expect(rec.state).toBe('accepted');
    expect((rec.history as { state: string }[]).filter((h) => h.state === 'accepted')).toHaveLength(1);
  });

  it('the watcher lease: held by one replica at a time, taken over when it stops', async () => {
    const url = await database('lease');
    const one = await ContractStore.open('', url);
    const two = await ContractStore.open('', url);
    try {
      expect(await one.backend.leadership.hold()).toBe(true);
      expect(await two.backend.leadership.hold()).toBe(false);
      expect(await one.backend.leadership.hold()).toBe(true);
      await one.close();
      expect(await two.backend.leadership.hold()).toBe(true);
    } finally {
      await two.close();
    }
  });

  it('refuses a database migrated by a newer coordinator (STORAGE_ERROR database-newer) and writes nothing', async () => {
    const url = await database('newer');
    await (await ContractStore.open('', url)).close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`INSERT INTO coordinator.migrations (name) VALUES ('9999-from-the-future')`);
      await expect(ContractStore.open('', url)).rejects.toMatchObject({ code: 'STORAGE_ERROR', reason: 'database-newer' });
      const names = (await client.query<{ name: string }>('SELECT name FROM coordinator.migrations ORDER BY name')).rows.map((r) => r.name);
      expect(names).toEqual(['0001-parts', '9999-from-the-future']);
    } finally {
      await client.end();
    }
  });

  // Last: killing a backend makes PostgreSQL restart every session of the cluster.
  it('a connection that dies mid-batch answers 503 STORAGE_UNAVAILABLE, writes nothing and does not end the process', async () => {
    const url = await database('crash');
    const kv = await PostgresKv.open(url);
    const admin = new pg.Client({ connectionString: url });
    admin.on('error', () => undefined);
    const blocker = new pg.Client({ connectionString: url });
    blocker.on('error', () => undefined);
    const uncaught: unknown[] = [];
    const collect = (e: unknown): void => { uncaught.push(e); };
    process.on('uncaughtException', collect);
    try {
      await admin.connect();
      await blocker.connect();
      await kv.write([{ type: 'put', part: 'contracts', key: 'c', value: { v: 1 } }]);
      // Another replica holds the row: this batch waits in its condition's SELECT … FOR UPDATE.
      await blocker.query('BEGIN');
      await blocker.query(`SELECT key FROM coordinator.contracts WHERE key = 'c' FOR UPDATE`);
      const write = kv.write([{ type: 'put', part: 'contracts', key: 'c', value: { v: 2 } }], [{ part: 'contracts', key: 'c', json: '{"v":1}' }]);
      const outcome = write.then(() => null, (e: unknown) => e);
      let waiting: { pid: number }[] = [];
      for (let i = 0; i < 100 && waiting.length === 0; i++) {
        waiting = (await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = 'crash'`)).rows;
        if (waiting.length === 0) await new Promise((r) => setTimeout(r, 50));
      }
      expect(waiting).toHaveLength(1);
      process.kill(waiting[0]!.pid, 'SIGKILL');
      expect(await outcome).toMatchObject({ code: 'STORAGE_UNAVAILABLE', reason: 'database-unavailable' });
      await new Promise((r) => setTimeout(r, 300));
      expect(uncaught).toEqual([]);
      // Back after the server's restart of its sessions: the condition's row as it was.
      let stored: unknown;
      for (let i = 0; i < 100; i++) {
        try {
          stored = await kv.get('contracts', 'c');
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      expect(stored).toEqual({ v: 1 });
    } finally {
      process.off('uncaughtException', collect);
      await admin.end().catch(() => undefined);
      await blocker.end().catch(() => undefined);
      await kv.close().catch(() => undefined);
    }
  });
});
