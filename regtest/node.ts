/**
 * Starts a regtest node for tests, benchmarks and `npm start`: Bitcoin Core's
 * `bitcoind` when one is named by HASHDLC_BITCOIND or found on PATH, else the
 * embedded bcoin@1.0.2 child process with our Core compatibility plugin.
 *
 * Every node runs in its own child process with a fresh temporary directory
 * (or a kept one: `dataDir`, for `npm start`), RPC on 127.0.0.1 at a free
 * port (or `rpcPort`), random RPC credentials. `stop()` ends it by its PID
 * and removes the temporary directory. A process-wide registry also kills every
 * child still running when this process exits or gets SIGINT/SIGTERM; a bcoin
 * child also exits by itself when its stdin closes (the parent died, even by
 * SIGKILL). Together: no orphan node processes.
 *
 * This module does NOT talk RPC beyond waiting for the node to answer (callers
 * get an `RpcConfig` for src/chain), and does not mine or fund anything.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BitcoinRpc } from '../src/chain/rpc.js';
import type { RpcConfig } from '../src/chain/rpc.js';

/** Which node implementation runs. */
export type NodeKind = 'bitcoind' | 'bcoin';

/** A running regtest node. */
export interface RegtestNode {
  readonly kind: NodeKind;
  /** PID of the node process itself (not of a wrapper). */
  readonly pid: number;
  /** How to reach its JSON-RPC API (pass to `new BitcoinRpc(...)`). */
  readonly rpc: RpcConfig;
  /** Directory holding its data and log; removed by `stop()` unless it was given as `dataDir`. */
  readonly datadir: string;
  /** Milliseconds from spawn to the first successful RPC answer. */
  readonly startMs: number;
  /** Stops the process by its PID (SIGTERM, then SIGKILL after a grace period) and removes `datadir`. */
  stop(): Promise<void>;
}

export interface StartNodeOptions {
  /** 'auto' (default): bitcoind if found, else bcoin. */
  backend?: 'auto' | NodeKind;
  /** Path of the bitcoind binary; default from `findBitcoind()`. */
  bitcoindPath?: string;
  /** Give up when the node has not answered RPC by then; default 60 s. */
  startTimeoutMs?: number;
  /** bcoin log level written to the log file: 'error' (default), 'warning', 'info', 'debug'. */
  logLevel?: string;
  /** Environment used to look for bitcoind; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /**
   * Keep the chain in this directory (created if missing, never removed) so a
   * later start continues it: bitcoind's `-datadir`, bcoin's on-disk LevelDB
   * `prefix`. Default: a temporary directory removed by `stop()`.
   */
  dataDir?: string;
  /** RPC port on 127.0.0.1; default: a free port. */
  rpcPort?: number;
  /**
   * Kill the node at once when this process gets SIGINT/SIGTERM (default
   * true). A supervisor that stops its node itself on those signals (`npm
   * start`: SIGTERM, so an on-disk chain closes cleanly) passes false; the
   * node is still killed when this process exits.
   */
  killOnSignal?: boolean;
}

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const BCOIN_CHILD = fileURLToPath(new URL('./bcoin/child.ts', import.meta.url));

// --- orphan protection ---------------------------------------------------------

const live = new Map<number, { child: ChildProcess; datadir: string; keep: boolean; killOnSignal: boolean }>();
let handlersInstalled = false;

function killAllSync(onSignal = false): void {
  for (const [pid, { datadir, keep, killOnSignal }] of live) {
    if (onSignal && !killOnSignal) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    if (!keep) rmSync(datadir, { recursive: true, force: true });
    live.delete(pid);
  }
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => killAllSync());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      killAllSync(true);
      process.removeListener(signal, onSignal);
      // Without other listeners, re-raising gives the default behaviour (exit by the signal).
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

// --- discovery -----------------------------------------------------------------

function isExecutable(path: string): boolean {
  try {
    return statSync(path).isFile() && (statSync(path).mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * The bitcoind to use: HASHDLC_BITCOIND (a path) when set, else `bitcoind` on PATH.
 * @throws {Error} when HASHDLC_BITCOIND names a file that is not executable.
 */
export function findBitcoind(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const named = env.HASHDLC_BITCOIND;
  if (named) {
    if (!isExecutable(named)) throw new Error(`HASHDLC_BITCOIND=${named} is not an executable file`);
    return named;
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'bitcoind');
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      server.close(() => resolve(port));
    });
  });
}

// --- start ---------------------------------------------------------------------

/**
 * Starts a regtest node and waits until its RPC answers.
 * @throws {Error} when the node exits or does not answer in time (the process is killed).
 */
export async function startNode(options: StartNodeOptions = {}): Promise<RegtestNode> {
  installExitHandlers();
  const backend = options.backend ?? 'auto';
  const bitcoind =
    backend === 'bcoin' ? undefined : (options.bitcoindPath ?? findBitcoind(options.env ?? process.env));
  if (backend === 'bitcoind' && !bitcoind) throw new Error('no bitcoind found (set HASHDLC_BITCOIND or PATH)');
  const keep = options.dataDir !== undefined;
  const datadir = keep ? options.dataDir! : mkdtempSync(join(tmpdir(), 'hashdlc-regtest-'));
  if (keep) mkdirSync(datadir, { recursive: true });
  try {
    return bitcoind ? await startBitcoind(bitcoind, datadir, keep, options) : await startBcoin(datadir, keep, options);
  } catch (err) {
    if (!keep) rmSync(datadir, { recursive: true, force: true });
    throw err;
  }
}

function track(child: ChildProcess, datadir: string, keep: boolean, options: StartNodeOptions): { pid: number; exited: Promise<void>; log: string[] } {
  const pid = child.pid;
  if (pid === undefined) throw new Error('node process did not start');
  live.set(pid, { child, datadir, keep, killOnSignal: options.killOnSignal ?? true });
  const log: string[] = [];
  const file = createWriteStream(join(datadir, 'node.log'), { flags: 'a' });
  child.stderr?.on('data', (chunk: Buffer) => {
    file.write(chunk);
    log.push(chunk.toString());
    if (log.length > 50) log.shift();
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      live.delete(pid);
      file.end();
      resolve();
    });
  });
  return { pid, exited, log };
}

function makeStop(child: ChildProcess, pid: number, exited: Promise<void>, datadir: string, keep: boolean): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () =>
    (stopping ??= (async () => {
      if (live.has(pid)) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
        const grace = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000).unref());
        if ((await Promise.race([exited.then(() => 'exited' as const), grace])) === 'timeout') {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone meanwhile
          }
          await exited;
        }
      }
      child.stdin?.destroy();
      if (!keep) rmSync(datadir, { recursive: true, force: true });
    })());
}

async function waitForRpc(rpc: RpcConfig, exited: Promise<void>, log: string[], timeoutMs: number): Promise<void> {
  const client = new BitcoinRpc({ ...rpc, timeoutMs: 2_000, retries: 0 });
  const deadline = Date.now() + timeoutMs;
  let dead = false;
  void exited.then(() => {
    dead = true;
  });
  for (;;) {
    if (dead) throw new Error(`regtest node exited before answering RPC:\n${log.join('')}`);
    try {
      await client.getBlockCount();
      return;
    } catch (err) {
      const code = (err as { code?: string }).code;
      const transient = code === 'CHAIN_CONNECTION' || code === 'CHAIN_WARMING_UP' || code === 'CHAIN_TIMEOUT';
      if (!transient) throw err;
    }
    if (Date.now() > deadline) throw new Error(`regtest node did not answer RPC within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function startBitcoind(path: string, datadir: string, keep: boolean, options: StartNodeOptions): Promise<RegtestNode> {
  const [rpcPort, p2pPort] = [options.rpcPort ?? (await freePort()), await freePort()];
  const username = 'hashdlc';
  const password = randomBytes(16).toString('hex');
  const args = [
    '-regtest',
    `-datadir=${datadir}`,
    `-rpcport=${rpcPort}`,
    `-port=${p2pPort}`,
    '-rpcbind=127.0.0.1',
    '-rpcallowip=127.0.0.1',
    `-rpcuser=${username}`,
    `-rpcpassword=${password}`,
    '-server=1',
    '-listen=0',
    '-txindex=1',
    '-fallbackfee=0.0002',
    '-printtoconsole=0',
  ];
  const t0 = performance.now();
  const child = spawn(path, args, { stdio: ['pipe', 'ignore', 'pipe'] });
  const { pid, exited, log } = track(child, datadir, keep, options);
  const stop = makeStop(child, pid, exited, datadir, keep);
  const rpc: RpcConfig = { url: `http://127.0.0.1:${rpcPort}/`, username, password };
  try {
    await waitForRpc(rpc, exited, log, options.startTimeoutMs ?? 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { kind: 'bitcoind', pid, rpc, datadir, startMs: performance.now() - t0, stop };
}

async function startBcoin(datadir: string, keep: boolean, options: StartNodeOptions): Promise<RegtestNode> {
  const apiKey = randomBytes(16).toString('hex');
  const childOptions = JSON.stringify({
    apiKey,
    port: options.rpcPort ?? 0,
    logLevel: options.logLevel ?? 'error',
    ...(keep ? { prefix: datadir } : { removeOnExit: datadir }),
  });
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', BCOIN_CHILD, childOptions], {
    cwd: REPO_ROOT,
    env: { ...process.env, NODE_BACKEND: 'js' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const { pid, exited, log } = track(child, datadir, keep, options);
  const stop = makeStop(child, pid, exited, datadir, keep);
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let buffered = '';
      const timer = setTimeout(
        () => reject(new Error(`bcoin child did not start within ${options.startTimeoutMs ?? 60_000} ms`)),
        options.startTimeoutMs ?? 60_000,
      );
      child.stdout?.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const m = /HASHDLC_READY (\{.*\})\n/.exec(buffered);
        if (m) {
          clearTimeout(timer);
          resolve((JSON.parse(m[1]!) as { port: number }).port);
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`bcoin child exited before it was ready:\n${log.join('')}`));
      });
    });
    const rpc: RpcConfig = { url: `http://127.0.0.1:${port}/`, username: 'hashdlc', password: apiKey };
    await waitForRpc(rpc, exited, log, options.startTimeoutMs ?? 60_000);
    return { kind: 'bcoin', pid, rpc, datadir, startMs: performance.now() - t0, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** True when a process with this PID exists (signal 0 probe). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Exposed for tests: the synchronous kill done on process exit. */
export function liveNodePids(): number[] {
  return [...live.keys()];
}
