/**
 * Shared set-up of the oracle regtest suites: an in-process oracle on the
 * shared regtest node (real HTTP on 127.0.0.1, LevelDB in a temp dir,
 * indexing from a recent height so each suite starts fast), and small HTTP
 * helpers. Not a test file itself.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import type { BitcoinRpc } from '../../src/chain/index.js';
import { startOracle, type OracleConfigInput, type RunningOracle } from '../../oracle/index.js';

export const OPERATOR_TOKEN = 'test-operator-token-0123456789';

/**
 * Simulated difficulty at which a pool member paid 50% of every coinbase
 * delivers exactly 100 TH/s: D = H·1e12·600 / (0.5·2^32) = 6e16 / 2^31, exact.
 */
export const SIMDIFF_100THS_AT_HALF = '27939677.23846435546875';

export interface TestOracle {
  oracle: RunningOracle;
  dataDir: string;
  get(path: string): Promise<{ status: number; body: any }>;
  post(body: unknown, options?: { token?: string; raw?: string; contentType?: string }): Promise<{ status: number; body: any }>;
  /** Polls until `cond` holds (oracle loop runs on its own), or fails after `ms`. */
  until<T>(fn: () => Promise<T | undefined>, ms?: number): Promise<T>;
  close(): Promise<void>;
}

/** Starts an oracle indexing from `fromHeight` (default: the current tip); its log lines go to `log` (default: nowhere). */
export async function startTestOracle(
  rpc: BitcoinRpc,
  overrides: Partial<OracleConfigInput> = {},
  fromHeight?: number,
  log: (line: string) => void = () => undefined,
): Promise<TestOracle> {
  const provided = inject('regtest');
  const dataDir = mkdtempSync(join(tmpdir(), 'hashdlc-oracle-test-'));
  const indexStartHeight = fromHeight ?? (await rpc.getBlockCount());
  const oracle = await startOracle(
    {
      network: 'regtest',
      rpc: { url: provided.rpc.url, username: provided.rpc.username, password: provided.rpc.password },
      dataDir,
      port: 0,
      operatorToken: OPERATOR_TOKEN,
      pollIntervalMs: 50,
      indexStartHeight,
      ...overrides,
    },
    { log },
  );
  const get = async (path: string): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${oracle.url}${path}`);
    return { status: res.status, body: await res.json() };
  };
  const post: TestOracle['post'] = async (body, options = {}) => {
    const headers: Record<string, string> = { 'content-type': options.contentType ?? 'application/json' };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    const res = await fetch(`${oracle.url}/v1/events`, { method: 'POST', headers, body: options.raw ?? JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  };
  const until = async <T>(fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error('timed out waiting for the oracle');
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  return {
    oracle,
    dataDir,
    get,
    post,
    until,
    close: async () => {
      await oracle.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Path of an event (ids contain '/', sent URL-encoded). */
export function eventPath(eventId: string, attestation = false): string {
  return `/v1/events/${encodeURIComponent(eventId)}${attestation ? '/attestation' : ''}`;
}

/** Waits for and returns an event's attestation body. */
export async function attestationOf(t: TestOracle, eventId: string): Promise<any> {
  return t.until(async () => {
    const r = await t.get(eventPath(eventId, true));
    return r.status === 200 ? r.body : undefined;
  });
}
