/**
 * The coordinator service's entry: `startCoordinator(config)` opens the store,
 * starts the adaptor-signature workers, the HTTP API and the watcher, and
 * returns `{ url, stop() }`. `main.ts` is the process around it.
 *
 * This entry does NOT read the environment (config.ts does, for main.ts).
 */
import type { RequestHandler } from 'express';
import type { CoordinatorQueries } from '../api/coordinator.js';
import { BitcoinRpc } from '../chain/index.js';
import { AdaptorEngine } from '../engine/index.js';
import { listen } from '../http/index.js';
import { parseConfig, type CoordinatorConfig, type CoordinatorConfigInput } from './config.js';
import { coordinatorApp } from './http.js';
import { CoordinatorService, coordinatorQueries, type ChainPort, type Logger } from './service.js';
import { ContractStore } from './store.js';
import { Watcher } from './watcher.js';

export { API_VERSION, coordinatorApp } from './http.js';
export type { CoordinatorAppOptions } from './http.js';
export { coordinatorConfigSchema, loadConfig, parseConfig } from './config.js';
export type { CoordinatorConfig, CoordinatorConfigInput } from './config.js';
export { CoordinatorError, errorResponse, isCoordinatorError } from './errors.js';
export type { CoordinatorErrorCode } from './errors.js';
export { CONTRACT_STATES, TERMINAL_STATES } from './lifecycle.js';
export type { ContractRecord, ContractState } from './lifecycle.js';
export { CoordinatorService, contractView, coordinatorQueries, offerView } from './service.js';
export type { ChainPort, Logger } from './service.js';
export { ContractStore } from './store.js';
export { Watcher } from './watcher.js';

const REPLAY_META = 'auth-replay';

/** Test and embedding hooks: replace the node client, the clock or the logger. */
export interface StartOptions {
  chain?: ChainPort;
  /** Unix ms. */
  now?: () => number;
  log?: Logger;
  /** Start the watcher's polling loop (default true). */
  watch?: boolean;
  /**
   * Read-only routes to serve beside the API, built over the service's public queries
   * (coordinator main passes the dashboard; the coordinator itself knows no such routes).
   */
  mount?: (queries: CoordinatorQueries) => RequestHandler;
}

export interface RunningCoordinator {
  url: string;
  service: CoordinatorService;
  watcher: Watcher;
  stop(): Promise<void>;
}

/** JSON lines on stderr. */
export const jsonLogger: Logger = (level, msg, fields = {}) => {
  process.stderr.write(`${JSON.stringify({ t: new Date().toISOString(), level, msg, ...fields })}\n`);
};

/**
 * Starts the coordinator.
 * @throws {z.ZodError} for an invalid config; {CoordinatorError} STORAGE_ERROR when the store cannot be opened; {Error} when the port cannot be bound.
 */
export async function startCoordinator(input: CoordinatorConfig | CoordinatorConfigInput, opts: StartOptions = {}): Promise<RunningCoordinator> {
  const config = parseConfig(input);
  const store = await ContractStore.open(config.dataDir ?? '', config.databaseUrl);
  let engine: AdaptorEngine | undefined;
  try {
    engine = await AdaptorEngine.start({ threads: config.engineThreads });
    const service = new CoordinatorService({
      config,
      store,
      chain: opts.chain ?? new BitcoinRpc({ ...config.rpc }),
      engine,
      now: opts.now ?? Date.now,
      log: opts.log ?? jsonLogger,
    });
    service.replay.restore(await store.getMeta<[string, number][]>(REPLAY_META) ?? []);
    const http = await listen(coordinatorApp(service, { mount: opts.mount === undefined ? [] : [opts.mount(coordinatorQueries(service))] }), config.host, config.port);
    const watcher = new Watcher(service);
    if (opts.watch !== false) watcher.start();
    let stopping: Promise<void> | undefined;
    const eng = engine;
    return {
      url: http.url,
      service,
      watcher,
      stop: () => (stopping ??= (async () => {
        await watcher.stop();
        await http.close();
        // Requests seen within the skew window stay refused after a restart.
        await store.putMeta(REPLAY_META, service.replay.entries());
        await eng.close();
        await store.close();
      })()),
    };
  } catch (err) {
    await engine?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw err;
  }
}
