/**
 * The whole local stack, started and stopped as one: a regtest node
 * (regtest/ `startNode`, chain kept in `<data>/node`; or a running node given
 * by URL), the oracles (three by default, each with its own key, data
 * directory, config file, log and port) and the coordinator as child
 * processes (services.ts; they talk to each other over HTTP only; the
 * coordinator allows every oracle of the stack), the demo miner and buyer wallets
 * funded from the simulated pool, and the state file that lets the demo (or
 * anyone) find it all (layout.ts).
 *
 * The coordinator keeps its contracts in LevelDB under the data directory,
 * or in a PostgreSQL database (`databaseUrl`, issue 13), where
 * `coordinatorReplicas` processes share it: each serves the API on its own
 * port, one at a time (the leader, chosen by the database) runs the watcher.
 * The first replica is the stack's `coordinator` (the URL the CLI, the demo
 * and the dashboard line use); the database is the operator's: the stack
 * neither creates nor empties it.
 *
 * Stop order: coordinators, oracles, node (each waits for the previous), then
 * the state file goes. If a service dies on its own, `crashed` settles with
 * what happened; `npm start` then stops the rest and exits non-zero.
 *
 * This module does NOT install signal handlers (src/start.ts does) and does
 * not run contracts (demo.ts, the CLI).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BitcoinRpc, type RpcConfig } from '../chain/index.js';
import { writePrivateFile } from '../wallet/index.js';
import type { Wallet } from '../wallet/index.js';
import { TestKey, isProcessAlive, startNode, type RegtestNode } from '../../regtest/index.js';
import { STACK_HASHPRICE_SCHEDULE, STACK_SIMULATED_DIFFICULTY, coordinatorPortChoice, oraclePortChoice, redactDatabaseUrl, type StackConfig } from './config.js';
import { StackError } from './errors.js';
import { ensurePoolFunds, ensureWalletFunds, openOrCreateWallet, type WalletFunding } from './funds.js';
import {
  coordinatorLayout,
  loadOrCreateSecrets,
  oracleLayout,
  readChainRecord,
  readStackState,
  removeStackState,
  stackLayout,
  writeChainRecord,
  writeStackState,
  type StackLayout,
  type StackState,
} from './layout.js';
import { choosePorts, logTail, spawnService, type ServiceProcess } from './services.js';

/** Hooks for tests and embedding. */
export interface StartStackOptions {
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Pool key to use when the data directory has none yet (tests: the shared faucet's). */
  poolKeyHex?: string;
  /** More oracle URLs the coordinator accepts offers from (tests: a second oracle). */
  extraOracleUrls?: string[];
  /** Oracle config fields over the stack's (e.g. `pollIntervalMs`), for every oracle. */
  oracleOverrides?: Record<string, unknown>;
  /** Coordinator config fields over the stack's (e.g. `watcher`). */
  coordinatorOverrides?: Record<string, unknown>;
  /** How the demo wallets are funded; `false`: not at all. */
  walletFunding?: WalletFunding | false;
}

export interface RunningStack {
  layout: StackLayout;
  state: StackState;
  rpc: BitcoinRpc;
  /** The node this stack started (undefined when it uses an external one). */
  node: RegtestNode | undefined;
  /** The stack's oracles, in the order of `state.oracles`. */
  oracles: ServiceProcess[];
  /** The first coordinator replica (`coordinators[0]`). */
  coordinator: ServiceProcess;
  /** Every coordinator replica, in the order of `state.coordinators` (one unless `coordinatorReplicas`). */
  coordinators: ServiceProcess[];
  pool: TestKey;
  wallets: { miner: Wallet; buyer: Wallet };
  /** Milliseconds from `startStack` to ready. */
  startMs: number;
  /** Settles when a service or the node exits while the stack runs (not after `stop()`). */
  crashed: Promise<string>;
  /**
   * SIGKILLs coordinator replica `index` (default 0, the first; tests: crash
   * safety, a leader dying); not reported as a crash.
   * @throws {RangeError} for an index the stack does not have.
   */
  killCoordinator(index?: number): Promise<void>;
  /**
   * SIGKILLs oracle `index` (tests: a k-of-n set settles without it); not
   * reported as a crash. It stays down; `state.oracles` still names it.
   * @throws {RangeError} for an index the stack does not have.
   */
  killOracle(index: number): Promise<void>;
  /**
   * Starts coordinator replica `index` (default 0) again on the same data and
   * port (stopping it first if it runs); updates the state file.
   * @throws {RangeError} for an index the stack does not have; {StackError} STACK_SERVICE.
   */
  restartCoordinator(index?: number): Promise<ServiceProcess>;
  /** Stops everything (coordinator replicas, oracles, node) and removes the state file. Idempotent. */
  stop(): Promise<void>;
}

/** True when a service answers `GET /v1/info`. */
export async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/v1/info`, { signal: AbortSignal.timeout(5_000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/** The coordinator's dashboard URL, when `GET /` answers with HTML. */
export async function probeDashboard(coordinatorUrl: string): Promise<string | null> {
  try {
    const res = await fetch(`${coordinatorUrl}/`, { signal: AbortSignal.timeout(5_000) });
    const type = res.headers.get('content-type') ?? '';
    await res.body?.cancel();
    return res.ok && type.includes('text/html') ? `${coordinatorUrl}/` : null;
  } catch {
    return null;
  }
}

/**
 * The stack running on `dataDir`, if its supervisor is alive.
 * @throws {StackError} STACK_DATA for a malformed state file.
 */
export function runningStackState(dataDir: string): StackState | undefined {
  const state = readStackState(stackLayout(dataDir));
  if (state === undefined || !isProcessAlive(state.pid)) return undefined;
  return state;
}

async function checkRegtestNode(rpc: BitcoinRpc): Promise<void> {
  const info = await rpc.getBlockchainInfo();
  if (info.chain !== 'regtest') throw new StackError('STACK_CONFIG', `the node is on '${info.chain}': the local stack runs on regtest only`);
}

/**
 * Starts the stack described by `config`.
 * @throws {StackError} STACK_RUNNING (another stack on this data directory),
 *   STACK_PORT_IN_USE, STACK_SERVICE, STACK_CONFIG (also: replicas without a
 *   database URL, before anything starts); {ChainError} from the node;
 *   {RangeError} for a replica count that is not a positive integer.
 *   Whatever was started is stopped before it throws.
 */
export async function startStack(config: StackConfig, options: StartStackOptions = {}): Promise<RunningStack> {
  const t0 = performance.now();
  const log = options.log ?? (() => undefined);
  const replicas = config.coordinatorReplicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1) throw new RangeError(`coordinatorReplicas must be a positive integer, not ${replicas}`);
  if (replicas > 1 && config.databaseUrl === undefined) {
    // LevelDB takes a lock on its directory: a second process could not open it.
    throw new StackError('STACK_CONFIG', `${replicas} coordinator replicas need a PostgreSQL database (databaseUrl): LevelDB is opened by one process at a time`);
  }
  const layout = stackLayout(config.dataDir);
  const other = runningStackState(layout.dir);
  if (other !== undefined && other.pid !== process.pid) {
    if (await answers(other.coordinator.url)) {
      throw new StackError('STACK_RUNNING', `a stack already runs on ${layout.dir} (pid ${other.pid}): coordinator ${other.coordinator.url}`);
    }
    log(`${layout.stateFile} names pid ${other.pid}, but its coordinator does not answer: taking the directory over`);
  }
  const storage = config.databaseUrl === undefined
    ? { kind: 'leveldb' as const, location: layout.coordinatorDir }
    : { kind: 'postgres' as const, location: redactDatabaseUrl(config.databaseUrl) };
  const oracleLayouts = Array.from({ length: config.oracleCount }, (_, i) => oracleLayout(layout, i));
  const coordinatorLayouts = Array.from({ length: replicas }, (_, i) => coordinatorLayout(layout, i));
  const dirs = [layout.dir, layout.logDir, ...oracleLayouts.map((o) => o.dataDir), ...(storage.kind === 'leveldb' ? [layout.coordinatorDir] : [])];
  for (const d of dirs) mkdirSync(d, { recursive: true });
  const secrets = loadOrCreateSecrets(layout, options.poolKeyHex);
  const pool = TestKey.fromHex(secrets.poolKeyHex);

  let node: RegtestNode | undefined;
  const oracles: ServiceProcess[] = [];
  const coordinators: ServiceProcess[] = [];
  let stopping = false;
  const stopAll = async (): Promise<void> => {
    stopping = true;
    await Promise.all(coordinators.map((c) => c.stop()));
    await Promise.all(oracles.map((o) => o.stop()));
    await node?.stop();
  };

  try {
    // Ports first, so a taken one fails the start before anything runs.
    // The first coordinator's before the rest: theirs fall back, it may be strict.
    const [rpcPort, ...servicePorts] = (await choosePorts([
      [config.externalNode === undefined ? config.ports.node : undefined, 'node RPC'],
      ...coordinatorLayouts.map((c, i) => [coordinatorPortChoice(config.ports.coordinator, i), c.name] as const),
      ...oracleLayouts.map((o, i) => [oraclePortChoice(config.ports.oracle, i), o.name] as const),
    ])) as [number, ...number[]];
    const coordinatorPorts = servicePorts.slice(0, replicas);
    const oraclePorts = servicePorts.slice(replicas);

    // 1. The node: the same kind that made the chain in this directory.
    const recorded = readChainRecord(layout);
    let backend = config.backend;
    if (recorded !== undefined && recorded.kind !== 'external' && config.externalNode === undefined) {
      if (backend === 'auto') backend = recorded.kind;
      else if (backend !== recorded.kind) {
        throw new StackError('STACK_CONFIG', `the chain in ${layout.nodeDir} was made by ${recorded.kind}, not ${backend}: use --node ${recorded.kind} or another --data-dir`);
      }
    }
    let rpcConfig: RpcConfig;
    if (config.externalNode !== undefined) {
      rpcConfig = config.externalNode;
      log(`node: using the running node at ${rpcConfig.url}`);
    } else {
      log(`node: starting (${backend === 'auto' ? 'bitcoind if found, else embedded bcoin' : backend}), chain in ${layout.nodeDir}`);
      node = await startNode({ dataDir: layout.nodeDir, rpcPort, killOnSignal: false, backend });
      rpcConfig = node.rpc;
      log(`node: ${node.kind} pid ${node.pid} ready in ${node.startMs.toFixed(0)} ms`);
    }
    const rpc = new BitcoinRpc(rpcConfig);
    await checkRegtestNode(rpc);
    if (recorded !== undefined && ((await rpc.getBlockCount()) < 1 || (await rpc.getBlockHash(1)) !== recorded.block1)) {
      throw new StackError('STACK_DATA', `the node's chain is not the one ${layout.dir} was made with (block 1 differs): its oracle index, contracts and wallets belong to that chain; use another --data-dir`);
    }
    const mined = await ensurePoolFunds(rpc, pool);
    if (mined > 0) log(`chain: mined ${mined} blocks to the simulated pool (${pool.address}) so it has mature coins`);
    if (recorded === undefined) writeChainRecord(layout, { version: 1, kind: node?.kind ?? 'external', block1: await rpc.getBlockHash(1) });

    // 2. The oracles and the coordinator, side by side (the coordinator only needs the oracles' URLs).
    // Every oracle gets the same settings but its own key, data and port: identical event
    // parameters give identical event ids, so a contract can name any K of them.
    const oracleUrls = oraclePorts.map((port) => `http://127.0.0.1:${port}`);
    const rpcJson = { url: rpcConfig.url, username: rpcConfig.username, password: rpcConfig.password };
    oracleLayouts.forEach((o, i) => {
      writePrivateFile(o.configFile, `${JSON.stringify({
        network: 'regtest',
        rpc: rpcJson,
        dataDir: o.dataDir,
        host: '127.0.0.1',
        port: oraclePorts[i],
        confirmations: 1,
        operatorToken: secrets.oracleOperatorToken,
        simulatedDifficulty: STACK_SIMULATED_DIFFICULTY,
        pollIntervalMs: 200,
        schedule: STACK_HASHPRICE_SCHEDULE,
        ...options.oracleOverrides,
      }, null, 2)}\n`);
    });
    // Replicas' files differ in the port only. The database URL (it may hold a password) goes in
    // these 0600 files, not on the command line, where `ps` would show it.
    coordinatorLayouts.forEach((cl, i) => {
      writePrivateFile(cl.configFile, `${JSON.stringify({
        host: '127.0.0.1',
        port: coordinatorPorts[i],
        ...(config.databaseUrl === undefined ? { dataDir: layout.coordinatorDir } : { databaseUrl: config.databaseUrl }),
        network: 'regtest',
        rpc: rpcJson,
        oracles: [...oracleUrls, ...(options.extraOracleUrls ?? [])],
        watcher: { pollIntervalMs: 500, attestationPollIntervalMs: 500 },
        ...options.coordinatorOverrides,
      }, null, 2)}\n`);
    });
    const coordinatorsText = replicas === 1 ? 'coordinator' : `${replicas} coordinator replicas`;
    log(`${oracleLayouts.length === 1 ? 'oracle' : `${oracleLayouts.length} oracles`}, ${coordinatorsText} (${storage.kind === 'leveldb' ? 'LevelDB' : `PostgreSQL ${storage.location}`}): starting`);
    // Every replica at once: they apply the database's migrations once between them (under an advisory lock).
    const started = await Promise.allSettled([
      ...coordinatorLayouts.map((cl) => spawnService('coordinator', cl.configFile, cl.logFile)),
      ...oracleLayouts.map((o) => spawnService('oracle', o.configFile, o.logFile)),
    ]);
    for (const [i, r] of started.entries()) {
      if (r.status !== 'fulfilled') continue;
      if (i < replicas) coordinators[i] = r.value;
      else oracles.push(r.value);
    }
    const failed = started.find((s) => s.status === 'rejected');
    if (failed !== undefined) throw failed.reason;

    // 3. The demo wallets.
    const miner = openOrCreateWallet(layout.minerWalletDir);
    const buyer = openOrCreateWallet(layout.buyerWalletDir);
    if (options.walletFunding !== false) {
      const paid = await ensureWalletFunds(rpc, pool, [miner.wallet, buyer.wallet], options.walletFunding ?? {});
      for (const [name, sats, w] of [['miner', paid[0]!, miner], ['buyer', paid[1]!, buyer]] as const) {
        log(`wallet ${name}: ${w.created ? 'created' : 'opened'}${sats > 0n ? `, funded with ${sats} sats` : ''}`);
      }
    }

    const dashboard = await probeDashboard(coordinators[0]!.url);
    const serviceEntry = (s: ServiceProcess): { pid: number; url: string } => ({ pid: s.pid, url: s.url });
    const state: StackState = {
      version: 1,
      pid: process.pid,
      startedAt: new Date().toISOString(),
      dataDir: layout.dir,
      node: { kind: node?.kind ?? 'external', pid: node?.pid ?? null, url: rpcConfig.url.replace(/\/+$/, ''), rpc: rpcJson },
      oracles: oracles.map((o) => ({ pid: o.pid, url: o.url, publicKey: String(o.ready.publicKey ?? ''), simulatedDifficulty: STACK_SIMULATED_DIFFICULTY })),
      coordinator: serviceEntry(coordinators[0]!),
      coordinators: coordinators.map(serviceEntry),
      coordinatorStorage: storage,
      dashboard,
      wallets: { miner: layout.minerWalletDir, buyer: layout.buyerWalletDir },
      poolAddress: pool.address,
    };
    writeStackState(layout, state);

    const expectedExits = new Set<number>();
    let reportCrash: (what: string) => void = () => undefined;
    const crashed = new Promise<string>((resolve) => {
      reportCrash = resolve;
    });
    const watch = (s: ServiceProcess): void => {
      void s.exited.then((e) => {
        if (!stopping && !expectedExits.has(s.pid) && (s.kind === 'oracle' ? oracles : coordinators).includes(s)) {
          reportCrash(`${s.kind} ${s.url} (pid ${s.pid}) exited (${e.signal ?? `code ${e.code}`}); last log lines:\n${logTail(s)}`);
        }
      });
    };
    for (const s of [...oracles, ...coordinators]) watch(s);
    if (node !== undefined) {
      const n = node;
      const poll = setInterval(() => {
        if (!stopping && !isProcessAlive(n.pid)) {
          clearInterval(poll);
          reportCrash(`the ${n.kind} node (pid ${n.pid}) exited; see ${join(n.datadir, 'node.log')}`);
        }
      }, 1_000);
      poll.unref();
    }

    const replica = (index: number): ServiceProcess => {
      const c = coordinators[index];
      if (c === undefined) throw new RangeError(`the stack runs ${coordinators.length} coordinator replica(s), no index ${index}`);
      return c;
    };
    let stopped: Promise<void> | undefined;
    const running: RunningStack = {
      layout,
      state,
      rpc,
      node,
      oracles,
      coordinator: coordinators[0]!,
      coordinators,
      pool,
      wallets: { miner: miner.wallet, buyer: buyer.wallet },
      startMs: performance.now() - t0,
      crashed,
      async killCoordinator(index = 0) {
        const c = replica(index);
        expectedExits.add(c.pid);
        await c.kill();
      },
      async killOracle(index) {
        const o = oracles[index];
        if (o === undefined) throw new RangeError(`the stack runs ${oracles.length} oracle(s), no index ${index}`);
        expectedExits.add(o.pid);
        await o.kill();
      },
      async restartCoordinator(index = 0) {
        const old = replica(index);
        expectedExits.add(old.pid);
        if (old.running()) await old.stop();
        const port = Number(new URL(old.url).port);
        const cl = coordinatorLayouts[index]!;
        const c = await spawnService('coordinator', cl.configFile, cl.logFile);
        coordinators[index] = c;
        if (Number(new URL(c.url).port) !== port) throw new StackError('STACK_SERVICE', `${cl.name} came back on ${c.url}, not port ${port}`);
        if (index === 0) {
          running.coordinator = c;
          state.coordinator = serviceEntry(c);
        }
        state.coordinators = coordinators.map(serviceEntry);
        writeStackState(layout, state);
        watch(c);
        return c;
      },
      stop: () =>
        (stopped ??= (async () => {
          await stopAll();
          removeStackState(layout, process.pid);
        })()),
    };
    return running;
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
}
