/**
 * `npm start` as a user runs it (`node --import tsx src/start.ts`, what the
 * npm script runs, as a child process with a temp data directory): with
 * `--oracles 1` the URL lines come out, every URL answers, the demo wallets
 * are funded, the agent command lines it prints run as printed (one pass
 * each), and SIGINT stops every process it started (supervisor, node,
 * oracle, coordinator). A second start on the same directory with the
 * default three oracles reuses the chain, the first oracle's key and the
 * wallets, adds two oracles with keys of their own, prints one `oracle: URL
 * (key HEX)` line per oracle and the whole set in the export line, and the
 * coordinator allows all three; with `--database-url` (a throwaway PostgreSQL
 * cluster) and `--coordinator-replicas 2` it runs two coordinator processes
 * on that one database, prints and records both, each answers with the
 * PostgreSQL storage and exactly one of them leads (runs settlement); a
 * SIGKILLed supervisor leaves no process behind either (the node and the services stop when their pipe to it
 * closes). Any oracle dying stops the stack. Port choice: a taken default
 * falls back, a taken explicit port is refused.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BitcoinRpc } from '../src/chain/index.js';
import { Wallet } from '../src/wallet/index.js';
import { choosePort, choosePorts, isStackError, type StackState } from '../src/stack/index.js';
import { postgresAvailable, startPostgres, type RunningPostgres } from '../regtest/postgres.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'hashdlc-start-test-'));
const children: ChildProcess[] = [];
// The second start puts the coordinator on PostgreSQL when this machine has it (CI installs it).
const pgCheck = await postgresAvailable();
if (!pgCheck.ok) process.stderr.write(`[start-stack] PostgreSQL unavailable, the second start stays on LevelDB: ${pgCheck.reason}\n`);
// Started now, so its initdb overlaps the first start (mostly waiting on the node) instead of adding to the second.
const pgStarting: Promise<RunningPostgres> | undefined = pgCheck.ok ? startPostgres() : undefined;
pgStarting?.catch(() => undefined); // awaited (and failing) in the second start
let pg: RunningPostgres | undefined;

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await (await pgStarting?.catch(() => undefined))?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function allGone(pids: number[], ms = 20_000): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = pids.filter(alive);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Started {
  child: ChildProcess;
  lines: string[];
  stderr: () => string;
  exited: Promise<number | null>;
  state: StackState;
}

/** Spawns `src/start.ts` and waits for its "Ctrl-C stops everything." line. */
async function start(args: string[]): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/start.ts', '--data-dir', dir, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HASHDLC_NODE: 'bcoin' },
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 90_000;
  while (!out.includes('Ctrl-C stops everything.')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`npm start did not come up:\n${out}\n${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const state = JSON.parse(readFileSync(join(dir, 'stack.json'), 'utf8')) as StackState;
  return { child, lines: out.split('\n'), stderr: () => err, exited, state };
}

function urlLines(lines: string[]): Record<string, string> {
  const found: Record<string, string> = {};
  for (const l of lines) {
    const m = /^(node|oracle|coordinator|dashboard): (http:\/\/127\.0\.0\.1:\d+\/?)(?: \(key [0-9a-f]{64}\))?$/.exec(l);
    if (m) found[m[1]!] = m[2]!;
  }
  return found;
}

/** The `oracle: URL (key HEX)` lines, in order. */
function oracleLines(lines: string[]): { url: string; key: string }[] {
  return lines.flatMap((l) => {
    const m = /^oracle: (http:\/\/127\.0\.0\.1:\d+) \(key ([0-9a-f]{64})\)$/.exec(l);
    return m ? [{ url: m[1]!, key: m[2]! }] : [];
  });
}

/** The variables of the printed `export ...` line. */
function exportedEnv(lines: string[]): Record<string, string> {
  const exported = lines.find((l) => l.trimStart().startsWith('export HASHDLC_RPC_URL='));
  expect(exported).toBeDefined();
  return Object.fromEntries(exported!.trim().slice('export '.length).split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

/** Runs `hashdlc <args>` (bin/hashdlc.js) with `env` on top of this process's environment. */
function runHashdlc(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [join(ROOT, 'bin/hashdlc.js'), ...args], { env: { ...process.env, ...env }, timeout: 90_000 }, (err, stdout, stderr) => {
      done({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

async function get(url: string): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

let first: StackState;
let firstHeight = 0;

describe('npm start', () => {
  it('--oracles 1: prints one URL per service, each answers, and SIGINT stops every process', async () => {
    const s = await start(['--node-port', '0', '--oracle-port', '0', '--coordinator-port', '0', '--oracles', '1']);
    first = s.state;
    const urls = urlLines(s.lines);
    expect(Object.keys(urls).sort()).toEqual(['coordinator', 'dashboard', 'node', 'oracle']);
    expect(s.lines.some((l) => l.includes('npm run demo'))).toBe(true);

    // The node: JSON-RPC with the credentials from the state file (mode 0600).
    const rpc = new BitcoinRpc({ url: urls.node!, username: s.state.node.rpc.username, password: s.state.node.rpc.password });
    firstHeight = await rpc.getBlockCount();
    expect(firstHeight).toBeGreaterThanOrEqual(102);
    const oracle = await get(`${urls.oracle}/v1/info`);
    expect(oracle.status).toBe(200);
    expect(s.state.oracles).toHaveLength(1);
    expect(oracleLines(s.lines)).toEqual([{ url: urls.oracle, key: s.state.oracles[0]!.publicKey }]);
    expect(JSON.parse(oracle.text)).toMatchObject({ network: 'regtest', publicKey: s.state.oracles[0]!.publicKey, simulatedDifficulty: s.state.oracles[0]!.simulatedDifficulty });
    const coordinator = await get(`${urls.coordinator}/v1/info`);
    expect(coordinator.status).toBe(200);
    expect(JSON.parse(coordinator.text).oracles).toEqual([urls.oracle]);
    const dashboard = await get(urls.dashboard!);
    expect(dashboard.status).toBe(200);
    expect(dashboard.type).toContain('text/html');

    // Both demo wallets exist (seed 0600) and hold confirmed coins.
    for (const d of [s.state.wallets.miner, s.state.wallets.buyer]) {
      const coins = await Wallet.open(d).utxos(rpc);
      expect(coins.length).toBeGreaterThanOrEqual(3);
    }

    // The agent command lines it prints, one per demo wallet, run as printed (with the printed
    // variables, one pass with --once --json): each agent comes up on the stack and exits 0.
    const env = exportedEnv(s.lines);
    for (const [who, wallet] of [['miner', s.state.wallets.miner], ['buyer', s.state.wallets.buyer]] as const) {
      const line = s.lines.find((l) => l.trimStart().startsWith(`npx hashdlc agent --wallet-dir ${wallet} `));
      expect(line, `the ${who}'s agent line`).toContain(`# the ${who}:`);
      const args = line!.trim().split('#')[0]!.trim().split(/\s+/).slice(2);
      const r = await runHashdlc([...args, '--once', '--json'], env);
      expect(r.code, `${who}: ${r.stderr}`).toBe(0);
    }

    const pids = [s.state.pid, s.state.node.pid!, s.state.oracles[0]!.pid, s.state.coordinator.pid];
    expect(pids.every(alive)).toBe(true);
    expect(s.child.pid).toBe(s.state.pid);
    s.child.kill('SIGINT');
    expect(await s.exited).toBe(0);
    expect(await allGone(pids)).toEqual([]);
    expect(existsSync(join(dir, 'stack.json'))).toBe(false);
    expect(s.stderr()).toContain('stopped');
  }, 120_000);

  it(`a second start with three oracles reuses the chain, the first oracle's key and the wallets and adds two oracles; ${
    pgCheck.ok ? 'two coordinator replicas on one PostgreSQL database, one leader' : `(PostgreSQL replicas SKIPPED: ${pgCheck.reason})`
  }; a SIGKILLed supervisor leaves nothing behind`, async () => {
    const pgArgs: string[] = [];
    if (pgStarting !== undefined) {
      pg = await pgStarting;
      pgArgs.push('--database-url', pg.url, '--coordinator-replicas', '2');
    }
    const s = await start(['--node-port', '0', '--oracle-port', '0', '--coordinator-port', '0', ...pgArgs]);
    // The first oracle keeps its directory and key; two new ones, each with a key of its own.
    expect(s.state.oracles).toHaveLength(3);
    expect(s.state.oracles[0]!.publicKey).toBe(first.oracles[0]!.publicKey);
    expect(new Set(s.state.oracles.map((o) => o.publicKey)).size).toBe(3);
    expect(new Set(s.state.oracles.map((o) => o.url)).size).toBe(3);
    for (const name of ['oracle', 'oracle-2', 'oracle-3']) {
      expect(existsSync(join(dir, name, 'oracle.key')), name).toBe(true);
      expect(existsSync(join(dir, `${name}.json`)), name).toBe(true);
      expect(existsSync(join(dir, 'logs', `${name}.log`)), name).toBe(true);
    }
    // One line per oracle, and the whole set in the export line (keys pinned).
    expect(oracleLines(s.lines)).toEqual(s.state.oracles.map((o) => ({ url: o.url, key: o.publicKey })));
    expect(s.lines).toContain('3 oracles (own keys, same events): contracts name a 2-of-3 set; simulated difficulty 139698386.19232177734375 (a 1 PH/s network: 100 TH/s is 10%)');
    const env = exportedEnv(s.lines);
    expect(env.HASHDLC_ORACLE).toBe(s.state.oracles.map((o) => o.url).join(','));
    expect(env.HASHDLC_ORACLE_PUBKEY).toBe(s.state.oracles.map((o) => o.publicKey).join(','));
    // Each answers with its own key; the coordinator allows all three.
    for (const o of s.state.oracles) expect(JSON.parse((await get(`${o.url}/v1/info`)).text)).toMatchObject({ publicKey: o.publicKey });
    expect(JSON.parse((await get(`${s.state.coordinator.url}/v1/info`)).text).oracles).toEqual(s.state.oracles.map((o) => o.url));
    expect(s.stderr()).toContain('wallet miner: opened');
    expect(s.stderr()).not.toContain('mined 101 blocks');
    const rpc = new BitcoinRpc(s.state.node.rpc);
    expect(await rpc.getBlockCount()).toBeGreaterThanOrEqual(firstHeight);
    expect(await rpc.getBlockHash(firstHeight)).toBeTypeOf('string');

    if (pg !== undefined) {
      // Both replicas printed and recorded (the first is still `coordinator`), each on the one database.
      const replicas = s.state.coordinators!;
      expect(replicas).toHaveLength(2);
      expect(replicas[0]).toEqual(s.state.coordinator);
      expect(replicas[1]!.url).not.toBe(replicas[0]!.url);
      expect(s.lines).toContain(`coordinator replica 2: ${replicas[1]!.url}`);
      expect(s.lines).toContain(`coordinator storage: PostgreSQL ${pg.url}, 2 replicas: each serves the API, one at a time (the leader) runs settlement`);
      expect(s.state.coordinatorStorage).toEqual({ kind: 'postgres', location: pg.url });
      for (const r of replicas) expect(JSON.parse((await get(`${r.url}/v1/info`)).text).oracles, r.url).toEqual(s.state.oracles.map((o) => o.url));
      // Exactly one leader: the lease is tried each watcher poll, so wait until one holds it, then both must agree.
      const leaders = async (): Promise<boolean[]> =>
        Promise.all(replicas.map(async (r) => {
          const info = JSON.parse((await get(`${r.url}/v1/info`)).text) as { storage: { kind: string; leader: boolean } };
          expect(info.storage.kind).toBe('postgres');
          return info.storage.leader;
        }));
      const deadline = Date.now() + 30_000;
      let lead = await leaders();
      while (!lead.includes(true) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        lead = await leaders();
      }
      expect(lead.filter(Boolean)).toHaveLength(1);
      // The database they lead in is the one given: the coordinator's schema was made in it.
      expect(Number(await pg.psql('SELECT count(*) FROM coordinator.migrations'))).toBeGreaterThanOrEqual(1);
    }

    const pids = [s.state.node.pid!, ...s.state.oracles.map((o) => o.pid), ...(s.state.coordinators ?? [s.state.coordinator]).map((c) => c.pid)];
    s.child.kill('SIGKILL');
    await s.exited;
    expect(await allGone(pids)).toEqual([]);
  }, 120_000);
});

describe('a service dies', () => {
  it('any oracle of the set: the supervisor stops the rest and exits 1', async () => {
    const s = await start(['--node-port', '0', '--oracle-port', '0', '--coordinator-port', '0']);
    const rest = [s.state.node.pid!, s.state.oracles[0]!.pid, s.state.oracles[2]!.pid, s.state.coordinator.pid];
    process.kill(s.state.oracles[1]!.pid, 'SIGKILL');
    expect(await s.exited).toBe(1);
    expect(s.stderr()).toContain('a service died, stopping the rest: oracle');
    expect(await allGone(rest)).toEqual([]);
  }, 120_000);
});

describe('the data directory belongs to one chain', () => {
  it('refuses to start another kind of node on it', async () => {
    expect(JSON.parse(readFileSync(join(dir, 'chain.json'), 'utf8'))).toMatchObject({ kind: 'bcoin', block1: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/start.ts', '--data-dir', dir, '--node', 'bitcoind', '--node-port', '0', '--oracle-port', '0', '--coordinator-port', '0'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(err).toContain('was made by bcoin, not bitcoind');
  }, 60_000);
});

describe('port choice', () => {
  it('falls back from a taken default port, refuses a taken explicit one, never gives one port twice', async () => {
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const taken = (server.address() as { port: number }).port;
    try {
      const fallback = await choosePort({ port: taken, strict: false }, 'oracle');
      expect(fallback).not.toBe(taken);
      const err = await choosePort({ port: taken, strict: true }, 'oracle').catch((e: unknown) => e);
      expect(isStackError(err, 'STACK_PORT_IN_USE')).toBe(true);
      const [a, b] = await choosePorts([[{ port: fallback, strict: false }, 'oracle'], [{ port: fallback, strict: false }, 'coordinator']]);
      expect(a).toBe(fallback);
      expect(b).not.toBe(fallback);
    } finally {
      server.close();
    }
  });

  it('npm start exits 1 naming the port when an explicit one is taken', async () => {
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const taken = (server.address() as { port: number }).port;
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/start.ts', '--data-dir', join(dir, 'busy'), '--coordinator-port', String(taken)], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      expect(code).toBe(1);
      expect(err).toContain(`STACK_PORT_IN_USE: coordinator port ${taken} is in use`);
    } finally {
      server.close();
    }
  }, 60_000);
});
