/**
 * One coordinator replica for the coordinator benchmark (bench/coordinator.ts):
 * `node --import tsx bench/coordinator-replica.ts (--data-dir DIR | --database-url URL)
 *  --oracle URL --engine-threads N` starts `startCoordinator` on 127.0.0.1 at a
 * free port over the in-memory node of test/coordinator-fixtures.ts (FakeChain:
 * the chain is not what the benchmark measures), prints `{"url":...}` on
 * stdout once it listens, and stops cleanly on SIGTERM/SIGINT.
 *
 * As a process of its own it has its own event loop and worker pool, as a
 * replica in production has; two coordinators inside one process would share
 * one thread. The watcher is off: with a stubbed node there is nothing to
 * settle, and its polls would only add noise to what is measured (the API).
 * Logs are dropped (the section measures the service, not stderr).
 *
 * This script does NOT read HASHDLC_* variables (src/coordinator/main.ts is the
 * production process).
 */
import { parseArgs } from 'node:util';
import { startCoordinator } from '../src/coordinator/index.js';
import { FakeChain } from '../test/coordinator-fixtures.js';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    'database-url': { type: 'string' },
    oracle: { type: 'string' },
    'engine-threads': { type: 'string', default: '1' },
  },
});
if (values.oracle === undefined || (values['data-dir'] === undefined) === (values['database-url'] === undefined)) {
  process.stderr.write('usage: coordinator-replica.ts (--data-dir DIR | --database-url URL) --oracle URL [--engine-threads N]\n');
  process.exit(2);
}

const coord = await startCoordinator({
  ...(values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : { databaseUrl: values['database-url']! }),
  port: 0,
  rpc: { url: 'http://127.0.0.1:1/', username: 'bench', password: 'bench' },
  oracles: [values.oracle],
  engineThreads: Number(values['engine-threads']),
}, { chain: new FakeChain(), watch: false, log: () => undefined });
process.stdout.write(`${JSON.stringify({ url: coord.url })}\n`);
await new Promise<void>((resolve) => {
  process.once('SIGTERM', () => resolve());
  process.once('SIGINT', () => resolve());
});
await coord.stop();
