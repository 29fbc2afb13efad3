/**
 * The `hashdlc-coordinator` process (`npm run coordinator`): reads the
 * configuration (config.ts: `--config FILE` and `HASHDLC_COORDINATOR_*`),
 * starts the service, stops cleanly on SIGINT/SIGTERM. A SIGKILL loses
 * nothing: every state change is one atomic batch and the watcher re-drives
 * pending broadcasts at the next start.
 *
 * This is the composition root of the coordinator process: the only module
 * under src/coordinator/ that imports the dashboard, which it mounts over the
 * service's read-only queries (`startCoordinatorWithDashboard`); the API
 * (http.ts) and the dashboard know each other only through
 * src/api/coordinator.ts `CoordinatorQueries`.
 *
 * This module does NOT parse anything beyond `--config`, `--database-url` (config.ts) and `--help`.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { dashboardRouter } from '../dashboard/index.js';
import { loadConfig, type CoordinatorConfig, type CoordinatorConfigInput } from './config.js';
import { jsonLogger, startCoordinator, type RunningCoordinator, type StartOptions } from './index.js';

const USAGE = `usage: hashdlc-coordinator [--config FILE] [--database-url URL]

Runs the hashdlc coordinator (offer book, PSBT assembly, keyless settlement).
Configuration: a JSON file (--config or HASHDLC_COORDINATOR_CONFIG) and/or
HASHDLC_COORDINATOR_{HOST,PORT,DATA_DIR,NETWORK,RPC_URL,RPC_USER,RPC_PASSWORD,ORACLES,HASH_PROFILE,DATABASE_URL}.
With --database-url (PostgreSQL), any number of these processes on one database
serve the API; one of them at a time runs the settlement watcher.
`;

/**
 * The coordinator as its process runs it: the API and the web dashboard (HTML at `/` and `/dashboard/...`).
 * @throws as `startCoordinator`.
 */
export function startCoordinatorWithDashboard(input: CoordinatorConfig | CoordinatorConfigInput, opts: Omit<StartOptions, 'mount'> = {}): Promise<RunningCoordinator> {
  return startCoordinator(input, { ...opts, mount: (queries) => dashboardRouter(queries) });
}

/** Runs until a signal; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  let config;
  try {
    config = loadConfig(argv, process.env);
  } catch (err) {
    const text = err instanceof z.ZodError ? err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n') : String(err);
    process.stderr.write(`hashdlc-coordinator: invalid configuration\n${text}\n${USAGE}`);
    return 2;
  }
  const running = await startCoordinatorWithDashboard(config);
  jsonLogger('info', 'coordinator listening', { url: running.url, network: config.network, storage: running.service.store.backend.kind, location: running.service.store.backend.location });
  // One line on stdout so a parent process (tests, scripts) can find the URL.
  process.stdout.write(`${JSON.stringify({ url: running.url })}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await running.stop();
  return 0;
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isEntry) process.exitCode = await main(process.argv.slice(2));
