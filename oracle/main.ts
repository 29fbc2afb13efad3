/**
 * Process entry of the oracle service (`npm run oracle`, `hashdlc-oracle`):
 * reads the configuration (config.ts: `--config <file>` and environment),
 * starts the service, prints the oracle's public key and URL on stdout as one
 * JSON line, and stops cleanly on SIGINT/SIGTERM (server closed, the running
 * index/attest step finished, store closed).
 *
 * This module does NOT implement anything itself: see index.ts.
 */
import { pathToFileURL } from 'node:url';
import { loadConfig } from './config.js';
import { OracleError } from './errors.js';
import { startOracle } from './index.js';

/**
 * Runs the oracle until SIGINT/SIGTERM.
 * @returns the exit code: 0 after a clean stop, 1 when it cannot start.
 */
export async function main(argv: string[]): Promise<number> {
  let oracle;
  try {
    const config = loadConfig(argv, process.env);
    oracle = await startOracle(config);
  } catch (err) {
    const what = err instanceof OracleError ? `${err.code}${err.reason ? ` (${err.reason})` : ''}: ${err.message}` : String(err);
    process.stderr.write(`hashdlc-oracle: cannot start: ${what}\n`);
    return 1;
  }
  process.stdout.write(`${JSON.stringify({ publicKey: oracle.publicKey, url: oracle.url, keyCreated: oracle.keyCreated })}\n`);
  const running = oracle;
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.stderr.write(`[oracle] ${signal}: stopping\n`);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      void running.stop().then(resolve, (err: unknown) => {
        process.stderr.write(`[oracle] stop failed: ${String(err)}\n`);
        resolve();
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  return 0;
}

// `tsx oracle/main.ts` runs it; importing it (bin shim, tests) does not.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
