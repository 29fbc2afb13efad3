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

const USAGE = `usage: hashdlc-oracle [--config FILE]      (npm run oracle -- [--config FILE])

Runs the hashdlc oracle: chain index, events, announcements, attestations with
evidence, HTTP API (oracle/API.md). Configuration: a JSON file (--config or
HASHDLC_ORACLE_CONFIG) overlaid with the environment:
  BITCOIN_RPC_URL, BITCOIN_RPC_USER, BITCOIN_RPC_PASSWORD   the node (needs -txindex)
  HASHDLC_ORACLE_NETWORK          mainnet|testnet|testnet4|signet|regtest
  HASHDLC_ORACLE_DATA_DIR         key file (oracle.key, mode 0600) and LevelDB index
  HASHDLC_ORACLE_HOST, _PORT      default 127.0.0.1:8080 (0 = any free port)
  HASHDLC_ORACLE_CONFIRMATIONS    default 6 (1 on regtest)
  HASHDLC_ORACLE_HASH_PROFILE     sha256 (default) | tagged
  HASHDLC_ORACLE_TOKEN            operator token (>= 16 characters)
  HASHDLC_ORACLE_SIMULATED_DIFFICULTY   regtest only
  HASHDLC_ORACLE_POLL_MS, _INDEX_START, _HASHPRICE_EVERY
On start it prints {"publicKey","url","keyCreated"} as one JSON line.
`;

/**
 * Runs the oracle until SIGINT/SIGTERM.
 * @returns the exit code: 0 after a clean stop, 1 when it cannot start.
 */
export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  // Signal handlers first: a signal that arrives while starting (or right after
  // the start line is read) stops the oracle cleanly once it is up.
  let signalled: NodeJS.Signals | undefined;
  let onStop: (() => void) | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    signalled ??= signal;
    onStop?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    let oracle;
    try {
      const config = loadConfig(argv, process.env);
      oracle = await startOracle(config);
    } catch (err) {
      const what = err instanceof OracleError ? `${err.code}${err.reason ? ` (${err.reason})` : ''}: ${err.message}` : String(err);
      process.stderr.write(`hashdlc-oracle: cannot start: ${what}\n`);
      return 1;
    }
    await new Promise<void>((resolve) => {
      onStop = resolve;
      if (signalled !== undefined) resolve();
      else process.stdout.write(`${JSON.stringify({ publicKey: oracle.publicKey, url: oracle.url, keyCreated: oracle.keyCreated })}\n`);
    });
    process.stderr.write(`[oracle] ${signalled ?? 'signal'}: stopping\n`);
    await oracle.stop();
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

// `tsx oracle/main.ts` runs it; importing it (bin shim, tests) does not.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
