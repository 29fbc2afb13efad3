/**
 * Restart safety of the oracle process (`tsx oracle/main.ts`, a child
 * process with a config file): it is SIGKILLed at each step of announce and
 * attest (HASHDLC_ORACLE_DANGER_TEST_CRASH_AT) and restarted. The event keeps
 * its one announcement; the outcome stored before the crash is the one
 * attested even after the window was reorganised meanwhile; exactly one
 * attestation is ever served, byte for byte the same across restarts.
 * Also: SIGTERM stops it cleanly; it prints its public key; it refuses a key
 * file that others can read.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { useRegtest } from '../../regtest/context.js';
import { mineAsPool, mineBlocks, reorgOut, strangerAddress, TestKey } from '../../regtest/index.js';
import { attest, xOnlyPublicKey } from '../../protocol/crypto/index.js';
import { decodeMessage, fromHex, toHex, verifyAttestation } from '../../protocol/messages/index.js';
import type { CrashStep } from '../../oracle/config.js';
import { KEY_FILE_NAME } from '../../oracle/keys.js';
import { eventPath, OPERATOR_TOKEN } from './oracle-fixture.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const { rpc } = useRegtest();
const children = new Set<ChildProcess>();
let dir: string;
let configPath: string;

interface Launched {
  proc: ChildProcess;
  /** The URL from the start line, or undefined when the process died first. */
  ready: Promise<{ url: string; publicKey: string } | undefined>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function launch(crashAt?: CrashStep, config = configPath): Launched {
  const env: NodeJS.ProcessEnv = { ...process.env, HASHDLC_ORACLE_CONFIG: config };
  delete env.HASHDLC_ORACLE_DANGER_TEST_CRASH_AT;
  if (crashAt !== undefined) env.HASHDLC_ORACLE_DANGER_TEST_CRASH_AT = crashAt;
  const proc = spawn(process.execPath, ['--import', 'tsx', 'oracle/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    proc.once('exit', (code, signal) => {
      children.delete(proc);
      resolve({ code, signal, stderr });
    });
  });
  const ready = new Promise<{ url: string; publicKey: string } | undefined>((resolve) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as { url: string; publicKey: string });
    });
    void exited.then(() => resolve(undefined));
  });
  return { proc, ready, exited };
}

async function started(l: Launched): Promise<string> {
  const r = await l.ready;
  if (r === undefined) throw new Error(`oracle exited early: ${(await l.exited).stderr}`);
  return r.url;
}

async function killedAt(l: Launched): Promise<void> {
  const { signal, stderr } = await l.exited;
  expect(signal, stderr).toBe('SIGKILL');
}

async function stopCleanly(l: Launched): Promise<void> {
  l.proc.kill('SIGTERM');
  const { code, signal } = await l.exited;
  expect([code, signal]).toEqual([0, null]);
}

async function get(url: string, path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`);
  return { status: res.status, body: await res.json() };
}

/** POSTs an event; resolves with the status, or 'killed' when the process died before answering. */
async function post(url: string, body: unknown): Promise<number | 'killed'> {
  try {
    const res = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${OPERATOR_TOKEN}` },
      body: JSON.stringify(body),
    });
    return res.status;
  } catch {
    return 'killed';
  }
}

async function until<T>(fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hashdlc-oracle-restart-'));
  const node = inject('regtest').rpc;
  configPath = join(dir, 'oracle.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      network: 'regtest',
      rpc: { url: node.url, username: node.username, password: node.password },
      dataDir: join(dir, 'data'),
      port: 0,
      operatorToken: OPERATOR_TOKEN,
      pollIntervalMs: 50,
      indexStartHeight: await rpc.getBlockCount(),
    }),
  );
});

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('oracle restart safety (child process, SIGKILL at every step)', () => {
  it('one announcement and exactly one attestation, the stored outcome kept through a reorg', async () => {
    const miner = TestKey.random();
    const tip = await rpc.getBlockCount();
    const window = { start: tip + 1, end: tip + 4 };
    const request = { kind: 'pool-rewards', window, deliveryAddress: miner.address };

    // Killed after signing the announcement, before storing it: nothing was announced.
    const a = launch('announce-signed');
    const urlA = await started(a);
    expect(await post(urlA, request)).toBe('killed');
    await killedAt(a);

    // Killed after storing it, before answering.
    const b = launch('announce-stored');
    const urlB = await started(b);
    expect((await get(urlB, '/v1/events')).body.events).toEqual([]);
    expect(await post(urlB, request)).toBe('killed');
    await killedAt(b);

    // Restarted: the stored announcement is served, and asking again returns it unchanged.
    const c = launch('outcome-stored');
    const urlC = await started(c);
    const listed = (await get(urlC, '/v1/events')).body.events;
    expect(listed).toHaveLength(1);
    const eventId: string = listed[0].eventId;
    const announcementHex: string = listed[0].announcement.hex;
    const again = await fetch(`${urlC}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${OPERATOR_TOKEN}` },
      body: JSON.stringify(request),
    });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { announcement: { hex: string } }).announcement.hex).toBe(announcementHex);

    // The window is mined (the miner gets 50% of each coinbase); killed once the outcome is stored.
    const blocks = await mineAsPool(rpc, { blocks: 3, shares: [{ address: miner.address, shareBps: 5000 }], restAddress: strangerAddress() });
    const paid = blocks.reduce((s, b) => s + b.payouts.find((p) => p.address === miner.address)!.valueSats, 0n);
    await mineBlocks(rpc, 1);
    await killedAt(c);

    // Meanwhile the chain reorganises: two of the three paid blocks disappear.
    await reorgOut(rpc, blocks[1]!.hash);

    // Killed after signing the attestation, then after storing it.
    const d = launch('attest-signed');
    await killedAt(d);
    const e = launch('attest-stored');
    await killedAt(e);

    // Restarted: the outcome stored before the reorg is the one attested.
    const f = launch();
    const urlF = await started(f);
    const att = await until(async () => {
      const r = await get(urlF, eventPath(eventId, true));
      return r.status === 200 ? r.body : undefined;
    });
    expect(att.outcome).toBe(paid.toString());
    const event = (await get(urlF, eventPath(eventId))).body;
    expect(event.announcement.hex).toBe(announcementHex);
    expect(event.state).toBe('attested');
    const annMsg = decodeMessage(fromHex(announcementHex));
    const attMsg = decodeMessage(fromHex(att.hex));
    if (annMsg.type !== 'oracle_announcement' || attMsg.type !== 'oracle_attestation') throw new Error('wrong message types');
    verifyAttestation(attMsg.message, annMsg.message, 'sha256');
    // The signatures are the deterministic ones: any re-signing after a crash gives the same bytes.
    const sk = Uint8Array.from(Buffer.from(readFileSync(join(dir, 'data', KEY_FILE_NAME), 'utf8').trim(), 'hex'));
    expect(attMsg.message.signatures.map(toHex)).toEqual(attest('sha256', sk, eventId, att.outcomes).map(toHex));
    await stopCleanly(f);

    // One more clean restart: the very same attestation.
    const g = launch();
    const urlG = await started(g);
    expect((await get(urlG, eventPath(eventId, true))).body.hex).toBe(att.hex);
    expect((await get(urlG, '/v1/events?state=attested')).body.events.map((x: { eventId: string }) => x.eventId)).toEqual([eventId]);
    await stopCleanly(g);
  });

  it('prints its public key; refuses a key file that others can read', async () => {
    const l = launch();
    const ready = await l.ready;
    const sk = Uint8Array.from(Buffer.from(readFileSync(join(dir, 'data', KEY_FILE_NAME), 'utf8').trim(), 'hex'));
    expect(ready?.publicKey).toBe(toHex(xOnlyPublicKey(sk)));
    await stopCleanly(l);

    chmodSync(join(dir, 'data', KEY_FILE_NAME), 0o644);
    const refused = launch();
    const { code, stderr } = await refused.exited;
    expect(code).toBe(1);
    expect(stderr).toContain('key-file-permissions');
    chmodSync(join(dir, 'data', KEY_FILE_NAME), 0o600);
  });
});
