/**
 * `hashdlc oracle verify <oracle-url> <event-id>`: parses the arguments, runs
 * src/participant `verifyOracleEvent` (what it checks is in its module
 * header) and prints every check.
 *
 * Node: `--rpc-url`, `--rpc-user`, `--rpc-password`, or the environment's
 * BITCOIN_RPC_URL / BITCOIN_RPC_USER / BITCOIN_RPC_PASSWORD (the node needs
 * -txindex to resolve pool payout inputs). Exit code 0 when everything
 * holds, 1 otherwise (with every failed check on stdout).
 *
 * This module does NOT check anything itself.
 */
import { parseArgs } from 'node:util';
import { BitcoinRpc } from '../chain/index.js';
import { verifyOracleEvent } from '../participant/oracle-verify.js';

const USAGE = `usage:
  hashdlc oracle verify <oracle-url> <event-id> [--rpc-url URL --rpc-user USER --rpc-password PASS]
      fetch the attestation and evidence, verify the signatures and recompute
      the outcome from your node (defaults: BITCOIN_RPC_URL/USER/PASSWORD)
`;

/**
 * Runs `hashdlc oracle <subcommand>`.
 * @returns the exit code: 0 when the attestation holds, 1 otherwise or on bad usage.
 */
export async function oracleCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
    process.stdout.write(USAGE);
    return sub === undefined ? 1 : 0;
  }
  if (sub !== 'verify') {
    process.stderr.write(`hashdlc oracle: unknown subcommand '${sub}'\n${USAGE}`);
    return 1;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        'rpc-url': { type: 'string' },
        'rpc-user': { type: 'string' },
        'rpc-password': { type: 'string' },
      },
    });
  } catch (err) {
    process.stderr.write(`hashdlc oracle verify: ${(err as Error).message}\n${USAGE}`);
    return 1;
  }
  const [oracleUrl, eventId, ...extra] = parsed.positionals;
  const url = parsed.values['rpc-url'] ?? process.env.BITCOIN_RPC_URL;
  if (oracleUrl === undefined || eventId === undefined || extra.length > 0 || url === undefined) {
    process.stderr.write(`hashdlc oracle verify: need <oracle-url> <event-id> and a node (--rpc-url or BITCOIN_RPC_URL)\n${USAGE}`);
    return 1;
  }
  const rpc = new BitcoinRpc({
    url,
    username: parsed.values['rpc-user'] ?? process.env.BITCOIN_RPC_USER ?? '',
    password: parsed.values['rpc-password'] ?? process.env.BITCOIN_RPC_PASSWORD ?? '',
  });
  const report = await verifyOracleEvent({ oracleUrl, eventId, rpc });
  for (const c of report.checks) process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}\n`);
  process.stdout.write(
    report.ok
      ? `attestation of ${eventId} HOLDS: outcome ${report.outcome}\n`
      : `attestation of ${eventId} does NOT hold\n`,
  );
  return report.ok ? 0 : 1;
}
