/**
 * `npm run demo`: a contract from offer to settlement on the local stack,
 * each step shown as it happens (src/stack/demo.ts tells the story): a
 * hashpower sale by default, a hashprice forward or call with `--template`.
 * The parties trust every oracle of the stack and take a majority of them
 * (2 of 3 on a default stack; `--oracles 1` on a stack the demo starts
 * itself gives the old single oracle).
 * After the miner's offer and the buyer's accept nothing is typed: two
 * `hashdlc agent` child processes (src/stack/demo-agents.ts), one per
 * wallet, sign and fund; they are stopped with SIGTERM at the end.
 * `--no-agents` types `sign` and `fund` instead (the version without agents).
 * `--periods N [--delivery-schedule P1,..,PN]` runs the sale as a strip of N
 * periods (src/stack/demo-strip.ts): one funding transaction, each period
 * settled on its own attestation; exit 0 only when every period's payouts
 * equal its curve at its attested outcome.
 * `--transfer [--transfer-price SATS]` (issue 14, src/stack/demo-transfer.ts):
 * mid-window the buyer sells its position to a third wallet (buyer2), the
 * miner's agent consents (or the demo types it with `--no-agents`); exit 0
 * only when the CET pays the new buyer, the old buyer received the price on
 * chain, and the miner's payout equals the curve.
 * It uses the stack that `npm start` runs on the data directory (found
 * through `<data>/stack.json`), or starts its own there when none runs and
 * stops it at the end. Exit status 0 only when the payouts on chain equal
 * the payout curve at the attested outcome.
 *
 * This module does NOT implement the story or the stack (src/stack/ does).
 */
import { pathToFileURL } from 'node:url';
import { BitcoinRpc } from './chain/index.js';
import {
  DEMO_POOLS,
  DEMO_TEMPLATES,
  STACK_FLAGS_HELP,
  StackParticipant,
  StackError,
  answers,
  ensureWalletFunds,
  isStackError,
  loadOrCreateSecrets,
  openOrCreateWallet,
  parseDeliverySchedule,
  parseStackArgs,
  runDemo,
  runStripDemo,
  runTransferDemo,
  demoAgents,
  runningStackState,
  stackLayout,
  startStack,
  type DemoPool,
  type DemoTemplate,
  type RunningDemoAgents,
  type RunningStack,
  type StackState,
  type StripDemoOptions,
} from './stack/index.js';
import { Faucet, TestKey } from '../regtest/index.js';
import { describeError } from './cli/errors.js';
import { ParticipantError, majorityThreshold } from './participant/index.js';
import { isWalletError } from './wallet/index.js';

const USAGE = `usage: npm run demo [-- options]      (tsx src/demo.ts [options])

A miner offers 100 TH/s for a window of blocks and a buyer accepts; from then on
nothing is typed: the miner's agent signs, the buyer's agent funds ('hashdlc
agent', one process per wallet). The pool pays the miner's share of every
coinbase to the buyer's delivery address, a majority of the stack's oracles
(2 of 3) attests, the coordinator settles. Uses the stack 'npm start' runs on
the data directory, or starts one for the demo's length.

options:
  --template sale|forward|call  the contract (default sale): a hashpower sale, or a hashprice
                             forward / call on the next 10-block window the oracles announced
  --delivery PCT             sale: share of the 100 TH/s the pool pays, percent (default 98; try 60 or 0)
  --window BLOCKS            sale: blocks in the contract's window (default 20)
  --pool coinbase|tides|fpps sale: how the pool pays (default coinbase: every coinbase of the window);
                             tides: a luck pool of 30% of the network paying in the coinbases it finds
                             (the offer shows its luck risk); fpps: one payout from the pool's address a
                             block after the window, measured with a payout lag of 2 blocks. The event
                             and the terms state the scheme (issue 16)
  --no-agents                no agents: the demo types 'hashdlc sign' and 'hashdlc fund' itself
  --periods N                sale as a strip of N periods (2 to 20): one funding transaction, N DLCs,
                             each period settled on its own attestation (issue 12)
  --period-blocks B          strip: blocks per period (default 5)
  --delivery-schedule P1,..  strip: percent of the hashrate delivered in each period
                             (default --delivery in every period), e.g. 100,100,0,0
  --transfer                 sale in which the buyer sells its position mid-window to a third wallet
                             (issue 14): the miner's agent consents (typed with --no-agents), the
                             buyer releases, the new buyer funds; default --delivery 60, --window 12
  --transfer-price SATS      transfer: the price the new buyer pays (default a quarter of the escrow)
${STACK_FLAGS_HELP}`;

const DEMO_FLAGS = {
  template: { type: 'string' },
  pool: { type: 'string' },
  delivery: { type: 'string' },
  window: { type: 'string' },
  'no-agents': { type: 'boolean' },
  periods: { type: 'string' },
  'period-blocks': { type: 'string' },
  'delivery-schedule': { type: 'string' },
  transfer: { type: 'boolean' },
  'transfer-price': { type: 'string' },
} as const;

/** The strip options of the command line, or undefined for a single contract; a string is a usage error. */
function stripOptions(values: Record<string, unknown>, template: string, deliveryPercent: number): StripDemoOptions | undefined | string {
  const periodsText = values.periods as string | undefined;
  if (periodsText === undefined) {
    return values['delivery-schedule'] !== undefined || values['period-blocks'] !== undefined ? '--delivery-schedule and --period-blocks need --periods' : undefined;
  }
  const periods = Number(periodsText);
  if (!/^\d+$/.test(periodsText) || periods < 2 || periods > 20) return `--periods must be 2 to 20, got '${periodsText}'`;
  if (template !== 'sale') return '--periods runs the sale template in the demo (forwards and calls take --periods in hashdlc offer)';
  const blocksText = (values['period-blocks'] as string | undefined) ?? '5';
  const periodBlocks = Number(blocksText);
  if (!/^\d+$/.test(blocksText) || periodBlocks < 1 || periodBlocks > 100) return `--period-blocks must be 1 to 100, got '${blocksText}'`;
  const scheduleText = values['delivery-schedule'] as string | undefined;
  try {
    const deliverySchedule = scheduleText === undefined ? Array.from({ length: periods }, () => deliveryPercent) : parseDeliverySchedule(scheduleText, periods);
    return { periods, periodBlocks, deliverySchedule };
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Runs the demo.
 * @returns 0 when the payouts check out, 1 when they do not or a step failed, 2 for bad usage.
 */
export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseStackArgs(argv, DEMO_FLAGS);
  } catch (err) {
    process.stderr.write(`hashdlc demo: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.config.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const transfer = parsed.values.transfer === true;
  // The transfer demo's defaults: a delivery short of the tolerance (the new buyer's side of the curve is worth
  // something, so the CET pays it) and a shorter window (its transfer happens after a third of it).
  const deliveryText = (parsed.values.delivery as string | undefined) ?? (transfer ? '60' : '98');
  const windowText = (parsed.values.window as string | undefined) ?? (transfer ? '12' : '20');
  const noAgents = parsed.values['no-agents'] === true;
  const template = (parsed.values.template as string | undefined) ?? 'sale';
  if (!(DEMO_TEMPLATES as readonly string[]).includes(template)) {
    process.stderr.write(`hashdlc demo: --template must be one of ${DEMO_TEMPLATES.join(', ')}, got '${template}'\n`);
    return 2;
  }
  const deliveryPercent = Number(deliveryText);
  const windowBlocks = Number(windowText);
  if (!/^\d+(\.\d+)?$/.test(deliveryText) || deliveryPercent > 1000) {
    process.stderr.write(`hashdlc demo: --delivery must be a percentage (0 to 1000), got '${deliveryText}'\n`);
    return 2;
  }
  if (!/^\d+$/.test(windowText) || windowBlocks < 1 || windowBlocks > 1000) {
    process.stderr.write(`hashdlc demo: --window must be 1 to 1000 blocks, got '${windowText}'\n`);
    return 2;
  }
  const strip = stripOptions(parsed.values, template, deliveryPercent);
  if (typeof strip === 'string') {
    process.stderr.write(`hashdlc demo: ${strip}\n`);
    return 2;
  }
  const poolText = parsed.values.pool as string | undefined;
  if (poolText !== undefined && !(DEMO_POOLS as readonly string[]).includes(poolText)) {
    process.stderr.write(`hashdlc demo: --pool must be one of ${DEMO_POOLS.join(', ')}, got '${poolText}'\n`);
    return 2;
  }
  if (poolText !== undefined && (template !== 'sale' || strip !== undefined || transfer)) {
    process.stderr.write('hashdlc demo: --pool runs the single sale (not --template forward|call, --periods or --transfer)\n');
    return 2;
  }
  const pool = poolText as DemoPool | undefined;
  const priceText = parsed.values['transfer-price'] as string | undefined;
  if (priceText !== undefined && !transfer) {
    process.stderr.write('hashdlc demo: --transfer-price needs --transfer\n');
    return 2;
  }
  if (transfer && (template !== 'sale' || strip !== undefined)) {
    process.stderr.write('hashdlc demo: --transfer runs the single sale (not --template forward|call, not --periods)\n');
    return 2;
  }
  if (transfer && windowBlocks < 6) {
    process.stderr.write(`hashdlc demo: --transfer needs --window 6 or more (the transfer closes a few blocks before the window's end), got ${windowBlocks}\n`);
    return 2;
  }
  if (priceText !== undefined && (!/^[1-9]\d{0,15}$/.test(priceText))) {
    process.stderr.write(`hashdlc demo: --transfer-price must be a positive number of sats, got '${priceText}'\n`);
    return 2;
  }
  const out = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const layout = stackLayout(parsed.config.dataDir);

  let own: RunningStack | undefined;
  let agents: RunningDemoAgents | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    out(`${signal}: stopping the demo's agents and stack`);
    void (agents?.stop() ?? Promise.resolve())
      .catch(() => undefined)
      .finally(() => void (own?.stop() ?? Promise.resolve()).finally(() => process.exit(130)));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    let state: StackState | undefined = runningStackState(layout.dir);
    if (state !== undefined && !((await answers(state.coordinator.url)) && (await Promise.all(state.oracles.map((o) => answers(o.url)))).every(Boolean))) {
      throw new StackError('STACK_SERVICE', `the stack on ${layout.dir} (pid ${state.pid}) does not answer; stop it, or use another --data-dir`);
    }
    if (state === undefined) {
      out(`no stack runs on ${layout.dir}: starting one for the demo (it stops at the end; 'npm start' keeps one running)`);
      own = await startStack(parsed.config, { log: (l) => out(`  ${l}`) });
      state = own.state;
      out(`  stack ready in ${(own.startMs / 1000).toFixed(1)} s`);
    } else {
      out(`using the stack of pid ${state.pid} on ${layout.dir}`);
    }
    const rpc = new BitcoinRpc(state.node.rpc);
    // Coins for both parties (the stack funds them at start; a long series of demos may need more).
    const secrets = loadOrCreateSecrets(layout);
    const miner = openOrCreateWallet(state.wallets.miner).wallet;
    const buyer = openOrCreateWallet(state.wallets.buyer).wallet;
    // The transfer demo's third wallet (issue 14): created and funded like the other two.
    const buyer2Dir = layout.buyer2WalletDir;
    const buyer2 = transfer ? openOrCreateWallet(buyer2Dir).wallet : undefined;
    await ensureWalletFunds(rpc, TestKey.fromHex(secrets.poolKeyHex), buyer2 === undefined ? [miner, buyer] : [miner, buyer, buyer2]);
    // Every oracle of the stack, keys pinned, a majority of them (2 of 3) for the offer and at least that to accept.
    const services = {
      rpc: state.node.rpc,
      coordinator: state.coordinator.url,
      oracles: state.oracles.map((o) => o.url),
      oraclePubkeys: state.oracles.map((o) => o.publicKey),
      oracleThreshold: majorityThreshold(state.oracles.length),
    };
    const minerP = new StackParticipant('miner', state.wallets.miner, services);
    const buyerP = new StackParticipant('buyer', state.wallets.buyer, services);
    if (transfer) {
      const r = await runTransferDemo({
        rpc,
        coordinatorUrl: state.coordinator.url,
        oracles: state.oracles.map((o) => ({ url: o.url, publicKey: o.publicKey })),
        simulatedDifficulty: state.oracles[0]!.simulatedDifficulty,
        miner: minerP,
        buyer: buyerP,
        buyer2: new StackParticipant('buyer2', buyer2Dir, services),
      }, { deliveryPercent, windowBlocks, agent: !noAgents, ...(priceText === undefined ? {} : { price: BigInt(priceText) }) }, out);
      out(`demo (transfer of position ${r.positionId} at ${r.price} sats) finished in ${(r.ms / 1000).toFixed(1)} s (${noAgents ? 'without agents: the consent typed' : 'the miner\'s agent consented'})`);
      if (state.dashboard !== null) out(`see it in the dashboard: ${state.dashboard}dashboard/contracts/${r.newContractId}`);
      return r.ok ? 0 : 1;
    }
    if (!noAgents) agents = demoAgents(minerP, buyerP);
    const demoServices = {
      rpc,
      coordinatorUrl: state.coordinator.url,
      oracles: state.oracles.map((o) => ({ url: o.url, publicKey: o.publicKey })),
      simulatedDifficulty: state.oracles[0]!.simulatedDifficulty,
      miner: minerP,
      buyer: buyerP,
      // --pool fpps pays from a wallet the faucet (the stack's pool key) funds.
      faucet: new Faucet(rpc, TestKey.fromHex(secrets.poolKeyHex)),
      ...(agents === undefined ? {} : { agents }),
    };
    if (strip !== undefined) {
      const stripResult = await runStripDemo(demoServices, strip, out);
      if (agents !== undefined) {
        await agents.stop();
        agents = undefined;
        out('the agents are stopped (SIGTERM; both exited 0)');
      }
      out(`demo (strip of ${strip.periods} periods) finished in ${(stripResult.ms / 1000).toFixed(1)} s (${noAgents ? 'without agents: sign and fund typed' : 'with agents'})`);
      if (state.dashboard !== null) out(`see it in the dashboard: ${state.dashboard}dashboard/strips/${stripResult.stripId}`);
      return stripResult.ok ? 0 : 1;
    }
    const result = await runDemo(demoServices, { template: template as DemoTemplate, deliveryPercent, windowBlocks, ...(pool === undefined ? {} : { pool }) }, out);
    if (agents !== undefined) {
      await agents.stop();
      agents = undefined;
      out('the agents are stopped (SIGTERM; both exited 0)');
    }
    out(`demo (${result.template}, ${result.oracleSet.threshold} of ${result.oracleSet.oracles.length} oracles) finished in ${(result.ms / 1000).toFixed(1)} s (${noAgents ? 'without agents: sign and fund typed' : 'with agents'})`);
    if (state.dashboard !== null) out(`see it in the dashboard: ${state.dashboard}dashboard/contracts/${result.offerId}`);
    return result.ok ? 0 : 1;
  } catch (err) {
    const what = isStackError(err) ? `${err.code}: ${err.message}` : err instanceof ParticipantError || isWalletError(err) ? describeError(err).line : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`hashdlc demo: ${what}\n`);
    return 1;
  } finally {
    if (agents !== undefined) {
      await agents.stop().catch((err: unknown) => process.stderr.write(`hashdlc demo: ${(err as Error).message}\n`));
      out('the agents are stopped');
    }
    if (own !== undefined) {
      await own.stop();
      out('the demo\'s stack is stopped');
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
