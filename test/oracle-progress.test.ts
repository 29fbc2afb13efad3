/**
 * `GET /v1/events/:id/progress` (issue 14: the secondary book's "delivery so
 * far"), over the oracle's real HTTP app (oracle/http.ts `createApp` on a
 * 127.0.0.1 server), a real LevelDB store holding a fixed index, and the real
 * `OracleClient`. No node: the index is written as the indexer writes it (as
 * test/oracle-store-golden.test.ts does).
 *
 * The property defended: a seller cannot be shown a "delivery so far" the
 * attestation would not give. The progress over `[start, t + 1)` must equal
 * the attestation of an event over exactly that window (same address,
 * hashrate, rule), because both run the attestation's code; a second copy of
 * the formula drifting from it fails here.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { toHex } from '../protocol/messages/index.js';
import { Attester, measureProgress } from '../oracle/attest.js';
import { parseConfig } from '../oracle/config.js';
import { EventService } from '../oracle/events.js';
import { createApp } from '../oracle/http.js';
import type { ChainIndexer } from '../oracle/indexer.js';
import { KEY_FILE_NAME, loadOrCreateKey, type OracleKey } from '../oracle/keys.js';
import { h10, OracleStore, type BlockRecord, type EventRecord, type StoreOp } from '../oracle/store.js';
import { OracleClient } from '../src/api/oracle-client.js';
import { ServiceError } from '../src/api/http.js';

const dir = mkdtempSync(join(tmpdir(), 'hashdlc-oracle-progress-'));
const D = 'bcrt1qur5z4lnlxeqeyfrhcye7xyeq74mks4wxrkt3wk';
const hex = (label: string): string => toHex(sha256(new TextEncoder().encode(label)));
const operator = { operator: true, client: '127.0.0.1' };

/** Blocks 500..509; the miner is paid half of the coinbase in 500..502, a quarter in 503..504, nothing after. */
async function writeIndex(store: OracleStore): Promise<void> {
  const ops: StoreOp[] = [];
  for (let h = 500; h <= 509; h++) {
    const paid = h <= 502 ? '156250000' : h <= 504 ? '78125000' : undefined;
    const rec: BlockRecord = {
      hash: hex(`block ${h}`),
      prev: hex(`block ${h - 1}`),
      bits: '207fffff',
      reward: '312500000',
      coinbaseTxid: hex(`coinbase ${h}`),
      time: 1_700_000_000 + 600 * (h - 500),
      coinbase: paid === undefined ? [] : [{ vout: 0, value: paid, address: D }],
      payoutKeys: [],
    };
    ops.push(store.put(store.blocks, h10(h), rec));
    for (const o of rec.coinbase) ops.push(store.put(store.cbout, `${o.address}!${h10(h)}!${o.vout}`, o.value));
  }
  await store.write(ops);
}

let store: OracleStore;
let key: OracleKey;
let server: Server;
let client: OracleClient;
let events: EventService;
/** The indexed tip the fake indexer reports (the index itself is real). */
const indexer = {
  tip: { height: 509, hash: hex('block 509') } as { height: number; hash: string } | undefined,
  watchedSince: () => 500,
  watchedCount: 1,
  seenHeight: 509,
  startWatching: async () => undefined,
  missingRanges: () => [],
};
const setTip = (height: number): void => {
  indexer.tip = { height, hash: hex(`block ${height}`) };
};

beforeAll(async () => {
  writeFileSync(join(dir, KEY_FILE_NAME), `${hex('hashdlc oracle progress key')}\n`, { mode: 0o600 });
  key = loadOrCreateKey(dir);
  store = await OracleStore.open(join(dir, 'index'));
  await writeIndex(store);
  const config = parseConfig({
    network: 'regtest',
    rpc: { url: 'http://127.0.0.1:1/', username: 'u', password: 'p' },
    dataDir: dir,
    // As in the golden test: 100 TH/s is expected to earn half of each block here.
    simulatedDifficulty: '27939677.23846435546875',
  });
  events = new EventService({ config, store, indexer: indexer as unknown as ChainIndexer, key, crash: () => undefined });
  const app = createApp({
    info: () => ({}),
    maxBodyBytes: 16_384,
    maxListLimit: 100,
    operatorToken: undefined,
    createEvent: (req, who) => events.create(req, who),
    checkRate: () => undefined,
    getEvent: (id) => events.get(id),
    listEvents: (filter) => events.list(filter),
    getOutcome: (id) => store.outcomes.get(id),
    getAttestation: (id) => store.attestations.get(id),
    eventProgress: async (record) => measureProgress(store, record.params, indexer.tip!.height),
    log: () => undefined,
  });
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  client = new OracleClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function delivery(start: number, end: number): Promise<EventRecord> {
  return (await events.create({ kind: 'hashpower-delivery', window: { start, end }, deliveryAddress: D, hashrateThs: '100' }, operator)).record;
}

/** The outcome the oracle attests for `record` over the fixed index. */
async function attested(record: EventRecord): Promise<string> {
  setTip(509);
  const attester = new Attester({ store, indexer: indexer as unknown as ChainIndexer, key, hashProfile: 'sha256', crash: () => undefined });
  await attester.attestEvent(record);
  return (await store.outcomes.get(record.eventId))!.outcome;
}

describe('GET /v1/events/:id/progress', () => {
  it('a delivery event: the progress so far equals the attestation of the window truncated there', async () => {
    const whole = await delivery(500, 510);
    for (const t of [502, 504, 509]) {
      setTip(t);
      const p = await client.eventProgress(whole.eventId);
      // The reference: an event over exactly [500, t + 1), attested by the attestation path.
      const outcome = await attested(await delivery(500, t + 1));
      expect(p).toMatchObject({
        eventId: whole.eventId,
        kind: 'hashpower-delivery',
        atHeight: t,
        window: { start: 500, end: 510 },
        blocks: t + 1 - 500,
        ratioBps: Number(outcome),
        outcome,
        capped: false,
        noNetworkReward: false,
      });
    }
    // Stated, so both sides drifting together is caught too: 3 halves then 2 quarters then nothing.
    setTip(502);
    expect(await client.eventProgress(whole.eventId)).toMatchObject({ ratioBps: 10000, rewardsSats: '468750000' });
    setTip(504);
    expect(await client.eventProgress(whole.eventId)).toMatchObject({ ratioBps: 8000, rewardsSats: '625000000' });
    setTip(509);
    expect(await client.eventProgress(whole.eventId)).toMatchObject({ ratioBps: 4000, rewardsSats: '625000000' });
  });

  it('the indexed tip past the window end counts the window only (atHeight = end - 1)', async () => {
    const ev = await delivery(500, 505);
    setTip(800);
    expect(await client.eventProgress(ev.eventId)).toMatchObject({ atHeight: 504, blocks: 5, ratioBps: 8000, rewardsSats: '625000000' });
  });

  it('before the window starts: nothing counted, no ratio', async () => {
    const ev = await delivery(500, 510);
    setTip(499);
    expect(await client.eventProgress(ev.eventId)).toEqual({
      eventId: ev.eventId,
      kind: 'hashpower-delivery',
      atHeight: 499,
      window: { start: 500, end: 510 },
      blocks: 0,
      rewardsSats: '0',
      ratioBps: null,
      outcome: null,
      capped: null,
      noNetworkReward: null,
    });
  });

  it('a pool-rewards event has rewards and no ratio; a hashprice event neither', async () => {
    setTip(504);
    const rewards = (await events.create({ kind: 'pool-rewards', window: { start: 500, end: 510 }, deliveryAddress: D }, operator)).record;
    expect(await client.eventProgress(rewards.eventId)).toMatchObject({ kind: 'pool-rewards', blocks: 5, rewardsSats: '625000000', ratioBps: null, outcome: '625000000' });
    const hashprice = (await events.create({ kind: 'hashprice', window: { start: 500, end: 510 } }, operator)).record;
    const p = await client.eventProgress(hashprice.eventId);
    expect(p).toMatchObject({ kind: 'hashprice', blocks: 5, rewardsSats: null, ratioBps: null, noNetworkReward: null });
    expect(p?.outcome).toMatch(/^\d+$/);
  });

  it('an unknown event: 404 NOT_FOUND (the client answers null)', async () => {
    expect(await client.eventProgress(`hashpower-delivery/500-510/100ths/${'0'.repeat(32)}`)).toBeNull();
    const err = await client.http.get('/v1/events/nope/progress', z.unknown()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceError);
    expect(err).toMatchObject({ status: 404, remoteCode: 'NOT_FOUND' });
  });
});
