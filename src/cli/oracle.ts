/**
 * `hashdlc oracle verify`, two forms:
 *
 * - `<contract-id>`: every oracle of a stored contract (src/participant
 *   `verifyContractOracles`), one line per oracle: URL, key, attested outcome,
 *   whether it holds against your node and whether it agreed with the K that
 *   settle the contract; `--json` gives the same per oracle. Node and oracles
 *   as every wallet command takes them (`--rpc-url`, `--oracle`, HASHDLC_*).
 *   Exit 0 when at least K oracles verify and agree, 1 otherwise.
 * - `<oracle-url> <event-id>`: one oracle event, parses the arguments, runs
 *   `verifyOracleEvent` (what it checks is in its module header) and prints
 *   every check. Node: `--rpc-url`, `--rpc-user`, `--rpc-password`, or the
 *   environment's BITCOIN_RPC_URL / BITCOIN_RPC_USER / BITCOIN_RPC_PASSWORD, else
 *   HASHDLC_RPC_URL as every other command reads it (the node needs -txindex to resolve pool payout inputs). Exit code 0 when
 *   everything holds, 1 otherwise (with every failed check on stdout).
 *
 * This module does NOT check anything itself.
 */
import { parseArgs } from 'node:util';
import { BitcoinRpc } from '../chain/index.js';
import { verifyContractOracles, verifyOracleEvent, type ContractOracleVerdict } from '../participant/oracle-verify.js';
import { parseOrHelp, pickOptions, type CommandSpec } from './args.js';
import { loadConfig } from './config.js';
import { withContext } from './context.js';

const USAGE = `usage:
  hashdlc oracle verify <contract-id> [--oracle URL ...] [--rpc-url URL ...] [--json]
      verify every oracle of a contract of this wallet against your node and
      say which agreed with the K that settle it (exit 0 when K verify and agree)
  hashdlc oracle verify <oracle-url> <event-id> [--rpc-url URL --rpc-user USER --rpc-password PASS]
      fetch the attestation and evidence, verify the signatures and recompute
      the outcome from your node (defaults: BITCOIN_RPC_URL/USER/PASSWORD, else HASHDLC_RPC_URL)
`;

export const ORACLE_VERIFY_SPEC: CommandSpec = {
  name: 'oracle verify',
  args: '<contract-id>',
  minArgs: 1,
  maxArgs: 1,
  summary: 'Verify every oracle of a contract of this wallet against your node, and say which agreed with the K that settle it.',
  details: [
    'Each oracle: its announcement is the contract\'s, its attestation verifies, its evidence recomputes to the attested outcome on your node\'s chain.',
    'Exit 0 when at least K oracles verify and agree; 1 otherwise. The other form: hashdlc oracle verify <oracle-url> <event-id>.',
  ],
  options: pickOptions('wallet-dir', 'network', 'oracle', 'oracle-pubkey', 'rpc-url', 'rpc-user', 'rpc-password', 'json'),
};

/** One oracle of a contract, for humans. */
function verdictLine(o: ContractOracleVerdict): string {
  const failed = o.checks.find((c) => !c.ok);
  const agreed = o.agreed === true ? 'agreed' : o.agreed === false ? 'DISSENTED' : 'no attestation';
  return `${o.verified ? 'ok  ' : 'FAIL'} ${o.url ?? '(no URL)'} ${o.publicKey}: outcome ${o.outcome ?? '-'}, ${o.verified ? 'matches your chain' : `does not hold (${failed?.name ?? '?'}: ${failed?.detail ?? ''})`}, ${agreed}`;
}

/** `hashdlc oracle verify <contract-id>`. */
async function verifyContractCommand(argv: string[]): Promise<number> {
  const parsed = parseOrHelp(ORACLE_VERIFY_SPEC, argv);
  if (parsed === undefined) return 0;
  let ok = false;
  const code = await withContext(loadConfig(parsed.values), { readOnly: true }, async (ctx) => {
    const r = await verifyContractOracles(ctx, parsed.positionals[0]!);
    ok = r.ok;
    const agreeing = r.oracles.filter((o) => o.agreed === true).length;
    ctx.print(r, [
      ...r.oracles.map(verdictLine),
      r.ok
        ? `contract ${r.id}: ${agreeing} of ${r.oracles.length} oracles verify and agree on ${r.outcome} (${r.threshold} needed)`
        : `contract ${r.id}: fewer than ${r.threshold} oracles verify and agree on one outcome`,
    ]);
  });
  return code === 0 && !ok ? 1 : code;
}

/** The node of HASHDLC_RPC_URL (HASHDLC_RPC_USER/PASSWORD), read as every wallet command reads it; undefined when unset. */
function hashdlcRpc(): { url: string; username: string; password: string } | undefined {
  const { HASHDLC_RPC_URL, HASHDLC_RPC_USER, HASHDLC_RPC_PASSWORD } = process.env;
  return loadConfig({}, { HASHDLC_RPC_URL, HASHDLC_RPC_USER, HASHDLC_RPC_PASSWORD }).rpc;
}

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
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  // A contract id (hex, 8+ digits: a unique prefix) is never an oracle URL.
  const first = rest.find((a) => !a.startsWith('-'));
  if (first !== undefined && /^[0-9a-f]{8,64}$/i.test(first)) return verifyContractCommand(rest);
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
  // Else the node every other command uses (HASHDLC_RPC_URL, as `npm start` prints it; credentials may be in the URL).
  const hashdlcNode = url === undefined ? hashdlcRpc() : undefined;
  if (oracleUrl === undefined || eventId === undefined || extra.length > 0 || (url === undefined && hashdlcNode === undefined)) {
    process.stderr.write(`hashdlc oracle verify: need <oracle-url> <event-id> and a node (--rpc-url, BITCOIN_RPC_URL or HASHDLC_RPC_URL)\n${USAGE}`);
    return 1;
  }
  const rpc = new BitcoinRpc(hashdlcNode ?? {
    url: url!,
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
