/**
 * The coordinator benchmark's contracts and replica process
 * (bench/coordinator-load.ts, bench/coordinator-replica.ts) stay what the
 * section claims: a `custom-curve` contract of exactly 101 CETs that a
 * coordinator replica process (LevelDB, in-memory node) takes as an offer and
 * accepts, and whose accept it verifies in full: a forged adaptor signature
 * in the LAST slot is refused, naming the slot, so the accepts/min figure
 * pays for every signature. Speed is not asserted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncCetSigner, type CetSigner } from '../protocol/contract/index.js';
import type { OracleAnnouncement } from '../protocol/messages/index.js';
import { curveContract, startReplicas, type RunningReplicas } from '../bench/coordinator-load.js';
import { api, identityOf, startTestOracle, type TestOracleServer } from './coordinator-fixtures.js';

let dir: string;
let oracle: TestOracleServer;
let replicas: RunningReplicas;
const events = new Map<string, OracleAnnouncement>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hashdlc-bench-coord-test-'));
  oracle = await startTestOracle('bench-coordinator-test-oracle', { events });
  replicas = await startReplicas({ count: 1, storage: { dataDir: join(dir, 'db') }, oracleUrl: oracle.url, engineThreads: 0 });
}, 60_000);
afterAll(async () => {
  await replicas?.stop();
  await oracle?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('bench coordinator contracts and replicas', () => {
  it('LevelDB admits one replica process', async () => {
    await expect(startReplicas({ count: 2, storage: { dataDir: join(dir, 'other') }, oracleUrl: oracle.url, engineThreads: 0 })).rejects.toThrow(RangeError);
  });

  it('a 101-CET curve contract is offered and accepted through a replica process, every adaptor signature verified', async () => {
    const c = curveContract('bench-coordinator-test', 100, oracle.oracle);
    events.set(c.eventId, c.announcement);
    expect(c.template.cetCount.cets).toBe(101);
    const url = replicas.urls[0]!;
    const offered = await api(url, 'POST', '/v1/offers', { body: { offer: c.offerHex, identityPubkey: identityOf(c.offerIdentity), terms: c.terms }, key: c.offerIdentity });
    expect(offered.status).toBe(201);
    const id = offered.body.id as string;

    const last = c.template.cetCount.adaptorSignatures - 1;
    const forging: CetSigner = async (setup, key) => {
      const sigs = await syncCetSigner(setup, key);
      return { ecdsaAdaptorSignatures: sigs.ecdsaAdaptorSignatures.map((s, i) => (i === last ? { ...s, signature: Uint8Array.from(s.signature, (b, j) => (j === 40 ? b ^ 1 : b)) } : s)) };
    };
    const accept = (hex: string) => api(url, 'POST', `/v1/contracts/${id}/accept`, { body: { accept: hex, identityPubkey: identityOf(c.acceptIdentity) }, key: c.acceptIdentity });
    const forged = await accept(await c.acceptHex(forging));
    expect(forged.status).toBe(400);
    expect(forged.body.error).toMatchObject({ code: 'BAD_SIGNATURE', reason: `cet-adaptor-signature:${last}`, index: last });

    const ok = await accept(await c.acceptHex(syncCetSigner));
    expect(ok.status).toBe(200);
    expect(ok.body.state).toBe('accepted');
  });
});
