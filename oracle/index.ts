/**
 * The oracle service assembled: `startOracle(config)` loads (or creates) the
 * key, opens the store, checks the node's chain, starts the HTTP API and the
 * loop that polls the node's best block every `pollIntervalMs`, indexes new
 * blocks (rolling back reorgs), announces scheduled events and attests every
 * event that is due. Index changes, event creation and attestation run one at
 * a time (work-queue.ts), so each sees a consistent index; the poll (index and
 * attest) goes before every waiting request step, so event requests never
 * delay an attestation by more than the one step already running.
 *
 * Returns `{ url, publicKey, stop() }` for in-process use (tests, harness,
 * bench); `main.ts` is the process entry.
 *
 * This module does NOT read the environment or files other than through
 * config.ts/keys.ts, and does not install signal handlers (main.ts does).
 */
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { BitcoinRpc } from '../src/chain/index.js';
import { keepAlive } from '../src/http/index.js';
import type { JsonValue } from '../protocol/messages/index.js';
import { Attester, measureProgress } from './attest.js';
import { ADDRESS_NETWORKS, NODE_CHAIN_NAMES, parseConfig, type CrashStep, type OracleConfig, type OracleConfigInput } from './config.js';
import { OracleError } from './errors.js';
import { DEFAULT_NB_DIGITS } from '../protocol/events/index.js';
import { EventService } from './events.js';
import { createApp } from './http.js';
import { ChainIndexer, type SyncResult } from './indexer.js';
import { loadOrCreateKey } from './keys.js';
import { OracleStore, type IdentityRecord } from './store.js';
import { WorkQueue } from './work-queue.js';

export { parseConfig, loadConfig, CRASH_STEPS } from './config.js';
export type { CrashStep, OracleConfig, OracleConfigInput } from './config.js';
export { OracleError, isOracleError } from './errors.js';
export type { OracleErrorCode } from './errors.js';

/** The running oracle. */
export interface RunningOracle {
  /** Base URL, e.g. `http://127.0.0.1:8080` (no trailing slash). */
  url: string;
  /** 32-byte x-only public key, hex. */
  publicKey: string;
  /** True when this start generated the key. */
  keyCreated: boolean;
  config: OracleConfig;
  /** Runs one poll now (sync, schedule, attest) and waits for it. */
  tick(): Promise<SyncResult | undefined>;
  /** Work waiting for the lock right now, and the watched addresses (tests, bench, diagnostics). */
  load(): { requestsWaiting: number; requestsDone: number; chainWaiting: number; watchedAddresses: number };
  /** Stops the loop and the server, closes the store. Idempotent. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Called at each announce/attest step (tests); default: SIGKILL at `config.dangerTestCrashAt`. */
  crashHook?: (step: CrashStep) => void;
  /** Where log lines go (default: stderr). */
  log?: (line: string) => void;
  /** Resolve only after the first index pass (default true). */
  waitForSync?: boolean;
}

function defaultCrashHook(config: OracleConfig): (step: CrashStep) => void {
  const at = config.dangerTestCrashAt;
  if (at === undefined) return () => undefined;
  return (step) => {
    if (step === at) process.kill(process.pid, 'SIGKILL');
  };
}

async function checkIdentity(store: OracleStore, want: IdentityRecord): Promise<void> {
  const have = await store.identity();
  if (have === undefined) {
    await store.write([store.put(store.meta, 'identity', want)]);
    return;
  }
  for (const k of ['publicKey', 'network', 'hashProfile', 'indexStartHeight'] as const) {
    if (have[k] !== want[k]) {
      throw new OracleError('STORAGE_MISMATCH', `the store was created with ${k} ${JSON.stringify(have[k])}, configured ${JSON.stringify(want[k])}`, {
        reason: `store-${k}`,
      });
    }
  }
}

/**
 * Starts the oracle service.
 * @throws {OracleError} CONFIG_INVALID, KEY_FILE, STORAGE_MISMATCH, or
 *   ORACLE_UNAVAILABLE when the node cannot be reached or is on another chain.
 */
export async function startOracle(input: OracleConfigInput | OracleConfig, options: StartOptions = {}): Promise<RunningOracle> {
  const config = parseConfig(input);
  const log = options.log ?? ((line: string) => process.stderr.write(`[oracle] ${line}\n`));
  const crash = options.crashHook ?? defaultCrashHook(config);
  const key = loadOrCreateKey(config.dataDir);
  const store = await OracleStore.open(join(config.dataDir, 'index'));
  let server: Server | undefined;
  try {
    await checkIdentity(store, {
      publicKey: key.publicKeyHex,
      network: config.network,
      hashProfile: config.hashProfile,
      indexStartHeight: config.indexStartHeight,
    });
    const rpc = new BitcoinRpc(config.rpc);
    const chain = await rpc.getBlockchainInfo().catch((err: unknown) => {
      throw new OracleError('ORACLE_UNAVAILABLE', `cannot reach the node at ${config.rpc.url}`, { reason: 'node-unreachable', cause: err });
    });
    if (chain.chain !== NODE_CHAIN_NAMES[config.network]) {
      throw new OracleError('ORACLE_UNAVAILABLE', `the node is on ${chain.chain}, the oracle is configured for ${config.network}`, {
        reason: 'node-chain',
      });
    }
    const indexer = new ChainIndexer({
      rpc,
      network: ADDRESS_NETWORKS[config.network],
      store,
      startHeight: config.indexStartHeight,
      concurrency: config.index.concurrency,
      rpcBatch: config.index.rpcBatch,
      batchBlocks: config.index.batchBlocks,
    });
    await indexer.init();
    const work = new WorkQueue(config.limits.maxQueuedRequests);
    const events = new EventService({
      config, store, indexer, key, crash, log,
      step: (fn) => work.run('request', fn),
    });
    await events.init();
    const attester = new Attester({
      store, indexer, key, hashProfile: config.hashProfile, crash,
      onAttested: (r) => events.settled(r),
      onError: (err) => log(`attestation postponed: ${err instanceof Error ? err.message : String(err)}`),
    });

    // Index changes, announcements and attestations never interleave; the poll goes first.
    const serial = <T>(fn: () => Promise<T>): Promise<T> => work.run('chain', fn);

    let lastScheduledTip = -1;
    const pass = async (): Promise<SyncResult> => {
      const r = await indexer.sync();
      if (r.rolledBack > 0) log(`reorg: rolled back ${r.rolledBack} block(s) from height ${r.reorgFrom}`);
      const tip = indexer.tip;
      if (tip !== undefined && tip.height !== lastScheduledTip) {
        for (const e of await events.schedule(tip.height)) log(`scheduled ${e.eventId}`);
        lastScheduledTip = tip.height;
      }
      for (const id of await attester.attestDue()) log(`attested ${id}`);
      return r;
    };

    const app = createApp({
      info: (): JsonValue => ({
        publicKey: key.publicKeyHex,
        hashProfile: config.hashProfile,
        network: config.network,
        confirmations: config.confirmations,
        simulatedDifficulty: config.simulatedDifficulty ?? null,
        tip: indexer.tip === undefined ? null : { height: indexer.tip.height, hash: indexer.tip.hash },
        indexStartHeight: config.indexStartHeight,
        limits: {
          maxWindowBlocks: config.limits.maxWindowBlocks,
          maxStartAheadBlocks: config.limits.maxStartAheadBlocks,
          startMarginBlocks: config.limits.startMarginBlocks,
          maxPendingPerClient: config.limits.maxPendingPerClient,
          requestsPerMinute: config.limits.requestsPerMinute,
          maxQueuedRequests: config.limits.maxQueuedRequests,
          maxWatchedAddresses: config.limits.maxWatchedAddresses,
          maxBodyBytes: config.limits.maxBodyBytes,
        },
        schedule: {
          hashpriceEveryBlocks: config.schedule.hashpriceEveryBlocks,
          hashpriceNbDigits: config.schedule.hashpriceNbDigits,
          hashpricePrecision: config.schedule.hashpricePrecision,
        },
        defaults: Object.fromEntries(Object.entries(DEFAULT_NB_DIGITS).map(([k, n]) => [k, { nbDigits: n }])),
        version: 'hashdlc-oracle/1',
      }),
      maxBodyBytes: config.limits.maxBodyBytes,
      maxListLimit: config.limits.maxListLimit,
      operatorToken: config.operatorToken,
      createEvent: (req, who) => events.create(req, who),
      checkRate: (client) => events.checkRate(client),
      getEvent: (id) => events.get(id),
      listEvents: (filter) => events.list(filter),
      getOutcome: (id) => store.outcomes.get(id),
      getAttestation: (id) => store.attestations.get(id),
      // A request step: the lock keeps a reorg rollback from removing blocks between the tip read and the range read.
      eventProgress: (record) =>
        work.run('request', async () => {
          const tip = indexer.tip;
          if (tip === undefined) throw new OracleError('ORACLE_UNAVAILABLE', 'the oracle has not indexed any block yet', { reason: 'index-empty' });
          return measureProgress(store, record.params, tip.height);
        }),
      log,
    });
    server = keepAlive(createServer(app));
    const srv = server;
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(config.port, config.host, () => {
        srv.off('error', reject);
        resolve();
      });
    });
    const addr = srv.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    const url = `http://${host}:${addr.port}`;

    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    let lastError = '';
    const loop = async (): Promise<void> => {
      if (stopped) return;
      try {
        await serial(pass);
        lastError = '';
      } catch (err) {
        // The node may be down or restarting: say so once, keep polling.
        const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        if (text !== lastError) log(`poll failed: ${text}`);
        lastError = text;
      }
      if (!stopped) timer = setTimeout(() => void loop(), config.pollIntervalMs);
    };
    const first = serial(pass).catch((err: unknown) => {
      log(`first index pass failed: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    });
    if (options.waitForSync ?? true) await first;
    timer = setTimeout(() => void loop(), config.pollIntervalMs);

    const stop = async (): Promise<void> => {
      if (stopped) return;
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await new Promise<void>((resolve) => {
        srv.close(() => resolve());
        srv.closeAllConnections();
      });
      await work.idle();
      await store.close();
    };
    log(`oracle ${key.publicKeyHex} on ${config.network} listening at ${url}`);
    return {
      url,
      publicKey: key.publicKeyHex,
      keyCreated: key.created,
      config,
      tick: () => serial(pass),
      load: () => ({
        requestsWaiting: work.requestsWaiting,
        requestsDone: work.requestsDone,
        chainWaiting: work.chainWaiting,
        watchedAddresses: indexer.watchedCount,
      }),
      stop,
    };
  } catch (err) {
    server?.close();
    await store.close();
    throw err;
  }
}
