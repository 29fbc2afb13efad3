/**
 * `npm start`: the whole hashdlc stack on one machine, on regtest. Starts the
 * node (bitcoind when available, else the embedded bcoin node; the chain is
 * kept in the data directory), the oracles (three by default, `--oracles N`)
 * and the coordinator (child processes; the coordinator serves the web
 * dashboard when it has one; on PostgreSQL with `--database-url URL`, and
 * then as `--coordinator-replicas N` processes on that database), creates and funds a demo miner wallet and a
 * demo buyer wallet, prints one line per service (`node:
 * http://127.0.0.1:PORT`, one `oracle: URL (key HEX)` per oracle, ...), how to run the
 * demo, the CLI and an agent for each demo wallet, then runs until SIGINT/SIGTERM (Ctrl-C), when it stops every
 * process it started and waits for them. A second Ctrl-C kills at once.
 *
 * The data directory (default ./.data) is reused by the next start: chain,
 * oracle keys and indexes, coordinator contracts (unless they are in
 * PostgreSQL), wallets.
 *
 * This module does NOT implement the stack (src/stack/stack.ts does).
 */
import { relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { majorityThreshold } from './participant/index.js';
import { STACK_FLAGS_HELP, STACK_HASHPRICE_SCHEDULE, isStackError, parseStackArgs, stackLayout, startStack, type RunningStack } from './stack/index.js';

const USAGE = `usage: npm start [-- options]      (tsx src/start.ts [options])

Starts a regtest node, the oracles (3 by default), the coordinator (and its dashboard) and two
funded demo wallets (miner, buyer); prints their URLs; Ctrl-C stops everything.
The coordinator keeps its contracts in LevelDB in the data directory, or with --database-url
in PostgreSQL, where --coordinator-replicas N runs N coordinators on the one database.

options:
${STACK_FLAGS_HELP}`;

/** The lines `npm start` prints once the stack is up (stdout). */
export function readyLines(stack: Pick<RunningStack, 'state' | 'startMs'>, height: number, cwd = process.cwd()): string[] {
  const s = stack.state;
  const rel = (p: string): string => {
    const r = relative(cwd, p);
    return r === '' || r.startsWith('..') ? p : r;
  };
  const rpcUrl = new URL(s.node.url);
  rpcUrl.username = s.node.rpc.username;
  rpcUrl.password = s.node.rpc.password;
  const dataArg = rel(s.dataDir) === '.data' ? '' : ` -- --data-dir ${rel(s.dataDir)}`;
  const n = s.oracles.length;
  const majority = majorityThreshold(n);
  const difficulty = s.oracles[0]!.simulatedDifficulty;
  const replicas = s.coordinators ?? [s.coordinator];
  const storage = s.coordinatorStorage ?? { kind: 'leveldb', location: stackLayout(s.dataDir).coordinatorDir };
  const { hashpriceEveryBlocks: every, hashpriceAheadWindows: ahead } = STACK_HASHPRICE_SCHEDULE;
  return [
    `node: ${s.node.url}`,
    ...s.oracles.map((o) => `oracle: ${o.url} (key ${o.publicKey})`),
    `coordinator: ${s.coordinator.url}`,
    ...replicas.slice(1).map((c, i) => `coordinator replica ${i + 2}: ${c.url}`),
    storage.kind === 'leveldb'
      ? `coordinator storage: LevelDB in ${rel(storage.location)} (one process; --database-url for PostgreSQL and replicas)`
      : `coordinator storage: PostgreSQL ${storage.location}${replicas.length === 1 ? '' : `, ${replicas.length} replicas: each serves the API, one at a time (the leader) runs settlement`}`,
    s.dashboard === null ? 'dashboard: not served (this coordinator build has no dashboard)' : `dashboard: ${s.dashboard}`,
    '',
    `hashdlc stack ready in ${(stack.startMs / 1000).toFixed(1)} s (${s.node.kind} node, chain height ${height}); data in ${rel(s.dataDir)} (reused by the next start)`,
    n === 1
      ? `one oracle: every contract trusts it alone; simulated difficulty ${difficulty} (a 1 PH/s network: 100 TH/s is 10%)`
      : `${n} oracles (own keys, same events): contracts name a ${majority}-of-${n} set; simulated difficulty ${difficulty} (a 1 PH/s network: 100 TH/s is 10%)`,
    `hashprice events: every oracle announces one per ${every}-block window [${every}k, ${every}k+${every}), the next ${ahead} windows above the tip (hashdlc offer hashprice-forward --window START-END)`,
    '',
    `run the demo (in another terminal):  npm run demo${dataArg}`,
    'or use the CLI as the demo miner or buyer:',
    `  export HASHDLC_RPC_URL=${rpcUrl.toString()} HASHDLC_ORACLE=${s.oracles.map((o) => o.url).join(',')} HASHDLC_ORACLE_PUBKEY=${s.oracles.map((o) => o.publicKey).join(',')} HASHDLC_COORDINATOR=${s.coordinator.url}`,
    `  npx hashdlc wallet balance --wallet-dir ${rel(s.wallets.miner)}`,
    `  npx hashdlc offers`,
    "or let an agent run each party's side (with the variables above; one terminal each; an agent holds its wallet:",
    'stop it with Ctrl-C before typing commands on that wallet, or add --once to run one pass from cron):',
    `  npx hashdlc agent --wallet-dir ${rel(s.wallets.miner)}   # the miner: signs accepts of its offers, settles, refunds, cancels at the funding deadline`,
    `  npx hashdlc agent --wallet-dir ${rel(s.wallets.buyer)}   # the buyer: funds once the miner signed, settles, refunds`,
    '',
    'Ctrl-C stops everything.',
  ];
}

/**
 * Runs the stack until a signal.
 * @returns the exit code: 0 after a clean stop, 1 when it cannot start or a service died, 2 for bad usage.
 */
export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseStackArgs(argv, {});
  } catch (err) {
    process.stderr.write(`hashdlc start: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.config.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const log = (line: string): void => {
    process.stderr.write(`[start] ${line}\n`);
  };

  // Signals from the very start: one during start-up stops as soon as the stack is up.
  let signalled: NodeJS.Signals | undefined;
  let wake: () => void = () => undefined;
  const signalled$ = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled !== undefined) {
      log(`${signal} again: killing everything now`);
      // The regtest registry kills the node on exit; services stop when our pipe to them closes.
      process.exit(130);
    }
    signalled = signal;
    log(`${signal}: stopping (Ctrl-C again to kill at once)`);
    wake();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let stack: RunningStack;
  try {
    stack = await startStack(parsed.config, { log });
  } catch (err) {
    const what = isStackError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`hashdlc start: cannot start: ${what}\n`);
    return 1;
  }
  const height = await stack.rpc.getBlockCount().catch(() => -1);
  process.stdout.write(`${readyLines(stack, height).join('\n')}\n`);

  const crash = await Promise.race([signalled$.then(() => undefined), stack.crashed]);
  if (crash !== undefined) log(`a service died, stopping the rest: ${crash}`);
  await stack.stop();
  log(`stopped: node, oracles and ${stack.coordinators.length === 1 ? 'coordinator' : `${stack.coordinators.length} coordinator replicas`} are down`);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return crash === undefined ? 0 : 1;
}

// `tsx src/start.ts` runs it; importing it (tests) does not.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
