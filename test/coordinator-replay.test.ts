/**
 * Issue 9 (Low): a replayed signed request is refused by the real coordinator,
 * also after a clean restart (the replay guard is saved in the store), until
 * the request's timestamp leaves the skew window.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signRequest } from '../protocol/auth/index.js';
import { startCoordinator, type RunningCoordinator } from '../src/coordinator/index.js';
import { FakeChain, api } from './coordinator-fixtures.js';
import { testSecret } from './helpers/dlc-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'hashdlc-coord-replay-'));
let coord: RunningCoordinator | undefined;
let clock = Date.now();

const start = (): Promise<RunningCoordinator> => startCoordinator({
  dataDir: join(dir, 'db'), port: 0, rpc: { url: 'http://127.0.0.1:1/', username: 'u', password: 'p' },
  oracles: ['http://127.0.0.1:2'], engineThreads: 0,
}, { chain: new FakeChain(), now: () => clock, watch: false, log: () => undefined });

afterAll(async () => {
  await coord?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('replayed signed requests', () => {
  it('are refused (401 auth-replayed) before and after a restart, and age out with the skew window', async () => {
    coord = await start();
    const key = testSecret('replay-identity');
    const body = JSON.stringify({ offer: '00' });
    const headers = signRequest(key, { method: 'POST', path: '/v1/offers', body, timestamp: Math.floor(clock / 1000) }, new Uint8Array(32).fill(1));
    const send = () => api(coord!.url, 'POST', '/v1/offers', { rawBody: body, headers });
    // Authenticated, then refused by the schema: the request was received, so it counts.
    expect((await send()).body.error?.code).toBe('INVALID_REQUEST');
    const again = await send();
    expect(again.status).toBe(401);
    expect(again.body.error).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'auth-replayed' });

    await coord.stop();
    coord = await start();
    const afterRestart = await send();
    expect(afterRestart.status).toBe(401);
    expect(afterRestart.body.error?.reason).toBe('auth-replayed');

    clock += (coord.service.config.authMaxSkewSec + 1) * 1000;
    const late = await send();
    expect(late.status).toBe(401);
    expect(late.body.error?.reason).toBe('auth-stale');
  });
});
