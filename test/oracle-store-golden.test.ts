/**
 * Golden records of the oracle store: an event announced and attested with a
 * fixed key over a fixed index, without a node. The stored event, outcome and
 * attestation records (and the announcement/attestation bytes in them) must
 * stay exactly as snapshotted: a change of storage format, event id
 * derivation, nonce derivation or message encoding fails here first.
 * Also checks the records' invariants: the attestation verifies against the
 * announcement, and each state change left the indexes consistent. The
 * snapshots are of an event with the reward rule
 * `subsidy+fees-capped-4x-median-v1` (issue 9, hole 6: new params field, new
 * id); the records of the same event announced before reward rules are kept
 * in golden/oracle-store-legacy-v0.json and must still attest identically.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeMessage, fromHex, toHex, verifyAnnouncement, verifyAttestation } from '../protocol/messages/index.js';
import { Attester } from '../oracle/attest.js';
import { parseConfig } from '../oracle/config.js';
import { EventService } from '../oracle/events.js';
import type { ChainIndexer } from '../oracle/indexer.js';
import { KEY_FILE_NAME, loadOrCreateKey } from '../oracle/keys.js';
import { eventIdFor, rewardRuleOf } from '../protocol/events/index.js';
import { h10, OracleStore, type AttestationRecord, type BlockRecord, type EventRecord, type OutcomeRecord, type StoreOp } from '../oracle/store.js';

const dir = mkdtempSync(join(tmpdir(), 'hashdlc-oracle-golden-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const D = 'bcrt1qur5z4lnlxeqeyfrhcye7xyeq74mks4wxrkt3wk';
const hex = (label: string): string => toHex(sha256(new TextEncoder().encode(label)));

/** A fixed index: blocks 500..503, the miner paid half of each coinbase in 500..502. */
async function writeFixedIndex(store: OracleStore): Promise<void> {
  const ops: StoreOp[] = [];
  for (let h = 500; h <= 503; h++) {
    const rec: BlockRecord = {
      hash: hex(`block ${h}`),
      prev: hex(`block ${h - 1}`),
      bits: '207fffff',
      reward: '312500000',
      coinbaseTxid: hex(`coinbase ${h}`),
      time: 1_700_000_000 + 600 * (h - 500),
      coinbase: h < 503 ? [{ vout: 0, value: '156250000', address: D }] : [],
      payoutKeys: [],
    };
    ops.push(store.put(store.blocks, h10(h), rec));
    for (const o of rec.coinbase) ops.push(store.put(store.cbout, `${o.address}!${h10(h)}!${o.vout}`, o.value));
  }
  await store.write(ops);
}

describe('oracle store golden records', () => {
  writeFileSync(join(dir, KEY_FILE_NAME), `${hex('hashdlc oracle golden key')}\n`, { mode: 0o600 });

  it('announce then attest a delivery event with a fixed key over a fixed index', async () => {
    const key = loadOrCreateKey(dir);
    const store = await OracleStore.open(join(dir, 'index'));
    try {
      await writeFixedIndex(store);
      // All of the window's payouts are indexed (a watched address with nothing missing).
      const indexer = {
        tip: { height: 500, hash: hex('block 500') },
        watchedSince: () => 500,
        watchedCount: 1,
        seenHeight: 500,
        startWatching: async () => undefined,
        missingRanges: () => [],
      } as unknown as ChainIndexer;
      const config = parseConfig({
        network: 'regtest',
        rpc: { url: 'http://127.0.0.1:1/', username: 'u', password: 'p' },
        dataDir: dir,
        simulatedDifficulty: '27939677.23846435546875',
      });
      const events = new EventService({ config, store, indexer, key, crash: () => undefined });
      const { record, created } = await events.create(
        { kind: 'hashpower-delivery', window: { start: 500, end: 503 }, deliveryAddress: D, hashrateThs: '100' },
        // The operator: a public request for a window that has started is refused (issue 9, hole 3).
        { operator: true, client: '127.0.0.1' },
      );
      expect(created).toBe(true);
      expect(record).toMatchSnapshot('event record (announced)');
      expect(await store.keys(store.eventIdx, { gte: '', lt: '\uffff' })).toEqual([
        `addr!${D}!${record.eventId}`,
        `kind!hashpower-delivery!${record.eventId}`,
        `state!announced!${record.eventId}`,
      ]);
      expect(await store.keys(store.due, { gte: '', lt: '\uffff' })).toEqual([`${h10(503)}!${record.eventId}`]);

      (indexer as unknown as { tip: unknown }).tip = { height: 503, hash: hex('block 503') };
      const attester = new Attester({ store, indexer, key, hashProfile: 'sha256', crash: () => undefined });
      expect(await attester.attestDue()).toEqual([record.eventId]);
      const outcome = await store.outcomes.get(record.eventId);
      const attestation = await store.attestations.get(record.eventId);
      expect(outcome).toMatchSnapshot('outcome record');
      expect(attestation).toMatchSnapshot('attestation record');
      expect(outcome?.outcome).toBe('10000');
      expect(await store.keys(store.due, { gte: '', lt: '\uffff' })).toEqual([]);
      expect(await store.keys(store.eventIdx, { gte: 'state!', lt: 'state!\uffff' })).toEqual([`state!attested!${record.eventId}`]);

      const ann = decodeMessage(fromHex(record.announcementHex));
      const att = decodeMessage(fromHex(attestation!.hex));
      if (ann.type !== 'oracle_announcement' || att.type !== 'oracle_attestation') throw new Error('message types');
      verifyAnnouncement(ann.message, 'sha256');
      verifyAttestation(att.message, ann.message, 'sha256');
      // Attesting again returns the stored attestation: never a second one.
      expect(await attester.attestEvent((await store.events.get(record.eventId))!)).toEqual(attestation);
    } finally {
      await store.close();
    }
  });

  it('an event stored before reward rules (full-reward-v0) keeps its id and attests to its old records byte for byte', async () => {
    const legacy = JSON.parse(readFileSync(new URL('./golden/oracle-store-legacy-v0.json', import.meta.url), 'utf8')) as {
      event: EventRecord;
      outcome: OutcomeRecord;
      attestation: AttestationRecord;
    };
    const id = legacy.event.eventId;
    // The old params (no rewardRule) still give the old id: its announcement stays valid, its rule is the old one.
    expect(legacy.event.params).not.toHaveProperty('rewardRule');
    expect(eventIdFor(legacy.event.params)).toBe(id);
    expect(rewardRuleOf(legacy.event.params)).toBe('full-reward-v0');
    const key = loadOrCreateKey(dir);
    const store = await OracleStore.open(join(dir, 'legacy-index'));
    try {
      await writeFixedIndex(store);
      await store.write([store.put(store.events, id, legacy.event), store.put(store.due, `${h10(legacy.event.attestHeight)}!${id}`, '')]);
      const indexer = { tip: { height: 503, hash: hex('block 503') } } as unknown as ChainIndexer;
      const attester = new Attester({ store, indexer, key, hashProfile: 'sha256', crash: () => undefined });
      expect(await attester.attestDue()).toEqual([id]);
      // Same evidence format (no rule fields), same result fields, same signed digits and signatures.
      expect(await store.outcomes.get(id)).toEqual(legacy.outcome);
      expect(await store.attestations.get(id)).toEqual(legacy.attestation);
    } finally {
      await store.close();
    }
  });
});
