/**
 * `hashdlc status`, `settle`, `refund`, `close`, `cancel`: a contract after
 * funding (and its cancellation before). Each command parses its argv, calls
 * the use case of src/participant (status.ts, settle.ts, close.ts,
 * cancel.ts) and prints the result (human lines or `--json`).
 *
 * This module does NOT build, sign or broadcast anything itself, and does not
 * negotiate (negotiate.ts).
 */
import { writeFileSync } from 'node:fs';
import { COMMON_OPTIONS, bigintOpt, intOpt, str, type CommandSpec, type OptionSpec, type OptionValues, parseOrHelp, pickOptions, NODE_OPTIONS } from './args.js';
import { loadConfig } from './config.js';
import { withContext, type CliContext } from './context.js';
import { errorCodeOf } from './errors.js';
import { usage } from '../participant/errors.js';
import { cancelContract } from '../participant/cancel.js';
import { closeContract, closeStrip } from '../participant/close.js';
import { refundContract, refundStrip, settleContract, settleStrip, type RefundResult, type SettleOracle, type SettleResult } from '../participant/settle.js';
import { contractStatus, listContracts, stripStatus, type ContractSummary } from '../participant/status.js';
import { stripStepError, stripTargets, type PeriodStep } from '../participant/strip-steps.js';

const NODE = NODE_OPTIONS;

/** `--period K` of the steps after funding on a strip (issue 12). */
const PERIOD_OPTION: Record<string, OptionSpec> = {
  period: { type: 'string', value: 'K', help: 'a strip: this period (1-based) alone; default: the strip id covers every period, a period id that period' },
};

function periodOpt(values: OptionValues): number | undefined {
  return intOpt(values, 'period');
}

/** Whether `id` (with `--period`) names a strip's period(s): the strip use cases run then. */
function namesStrip(ctx: CliContext, id: string, period: number | undefined): boolean {
  return stripTargets(ctx.wallet(), id, period).strip !== undefined;
}

/** A period's step for humans: "period 2 (<id>): <what>". */
function periodLine<T>(s: PeriodStep<T>, done: (r: T) => string): string {
  const head = `period ${s.period} (${s.id.slice(0, 16)})`;
  switch (s.status) {
    case 'done': return `${head}: ${done(s.result!)}`;
    case 'ended': return s.error === undefined ? `${head}: ${s.state} already, nothing to do` : `${head}: nothing to do: ${errorCodeOf(s.error).message}`;
    case 'waiting': return `${head}: waiting: ${errorCodeOf(s.error).message}`;
    case 'failed': {
      const e = errorCodeOf(s.error);
      return `${head}: FAILED ${e.code}: ${e.message}`;
    }
  }
}

/** A period's step as JSON: the result, or the error's code and message. */
function periodJson<T>(s: PeriodStep<T>, result: (r: T) => unknown): Record<string, unknown> {
  return {
    period: s.period,
    id: s.id,
    status: s.status,
    state: s.state,
    ...(s.result === undefined ? {} : { result: result(s.result) }),
    ...(s.error === undefined ? {} : { error: errorCodeOf(s.error) }),
  };
}

/** Prints a strip step's periods, then fails (exit 1) with the first failed period's error, or the first waiting one's when nothing was done. */
function printStripStep<T>(ctx: CliContext, strip: string | undefined, steps: PeriodStep<T>[], verb: string, done: (r: T) => string, json: (r: T) => unknown): void {
  ctx.print(
    { strip: strip ?? null, periods: steps.map((s) => periodJson(s, json)) },
    [`strip ${strip ?? '?'}: ${verb} ${steps.length} period(s)`, ...steps.map((s) => `  ${periodLine(s, done)}`)],
  );
  const err = stripStepError(steps);
  if (err !== undefined) throw err;
}

export const STATUS_SPEC: CommandSpec = {
  name: 'status',
  args: '[<contract-id>]',
  maxArgs: 1,
  summary: 'List the contracts in this wallet, or show one (with the coordinator\'s view and the node\'s confirmations).',
  details: ["A strip (any of its ids): one line per period (window, local and coordinator state, attested outcome, payouts); --json has a 'periods' array."],
  options: { ...NODE, coordinator: COMMON_OPTIONS.coordinator!, local: { type: 'boolean', help: 'do not ask the coordinator or the node' } },
};

export const SETTLE_SPEC: CommandSpec = {
  name: 'settle',
  args: '<contract-id>',
  minArgs: 1,
  summary: "Settle alone: fetch every oracle's attestation, complete the CET K agreeing oracles attested with your key and the counterparty's adaptor signature, broadcast.",
  details: [
    'Needs no coordinator: the contract messages are in the wallet directory.',
    'Each oracle of the contract is asked at the --oracle URL with its key, else at the URL stored with the contract; one that is down or silent is skipped.',
    'A strip: the strip id settles every attested period not settled yet (one line per period); a period id, or --period K, that period.',
  ],
  options: { ...NODE, oracle: COMMON_OPTIONS.oracle!, 'oracle-pubkey': COMMON_OPTIONS['oracle-pubkey']!, ...PERIOD_OPTION },
};

export const REFUND_SPEC: CommandSpec = {
  name: 'refund',
  args: '<contract-id>',
  minArgs: 1,
  summary: 'After the refund locktime: broadcast the refund transaction (each side gets its collateral back). No coordinator needed.',
  details: ["A strip: the strip id refunds every period past its own refund locktime (one line per period); a period id, or --period K, that period."],
  options: { ...NODE, ...PERIOD_OPTION },
};

export const CLOSE_SPEC: CommandSpec = {
  name: 'close',
  args: '<contract-id>',
  minArgs: 1,
  summary: 'Cooperative close at an agreed split: sign it and send your signature; the second party\'s signature makes the coordinator broadcast.',
  details: [
    'Both parties run it with the same --offer-payout; the accepter gets the rest of the collateral unless --accept-payout says less.',
    'A strip: a period id closes that period; <strip-id> --remaining closes every funded period not ended yet at ONE split of their',
    'total collateral, shared out in proportion to each period\'s collateral (both parties: same split, same live periods).',
  ],
  options: {
    ...pickOptions('wallet-dir', 'network', 'coordinator', 'json'),
    'offer-payout': { type: 'string', value: 'SATS', help: "the offerer's payout (required)" },
    'accept-payout': { type: 'string', value: 'SATS', help: "the accepter's payout (default: total collateral - offer payout)" },
    remaining: { type: 'boolean', help: "a strip: close every live period at this split of the live periods' collateral" },
  },
};

// ------------------------------------------------------------------ settle

export async function settleCommand(argv: string[]): Promise<number> {
  const parsed = parseOrHelp(SETTLE_SPEC, argv);
  if (parsed === undefined) return 0;
  const period = periodOpt(parsed.values);
  return withContext(loadConfig(parsed.values), {}, async (ctx) => {
    const id = parsed.positionals[0]!;
    if (namesStrip(ctx, id, period)) {
      const r = await settleStrip(ctx, { id, ...(period === undefined ? {} : { period }) });
      printStripStep(ctx, r.strip, r.periods, 'settle', settledLine, settledJson);
      return;
    }
    const r = await settleContract(ctx, { id });
    const agreed = r.oracles.filter((o) => o.agreed === true).length;
    ctx.print(
      { id: r.id, state: r.state, outcome: r.outcome, threshold: r.threshold, oracles: r.oracles, cetIndex: r.cetIndex, txid: r.txid, alreadyBroadcast: r.alreadyBroadcast, payouts: r.payouts },
      [
        `oracle outcome ${r.outcome}: CET ${r.cetIndex} ${r.alreadyBroadcast ? 'was already broadcast' : 'broadcast'} as ${r.txid}`,
        ...(r.oracles.length > 1 ? [`oracles: ${agreed} of ${r.oracles.length} attested it (${r.threshold} needed)`, ...r.oracles.map(oracleLine)] : []),
        `payouts: offerer ${r.payouts.offer}, accepter ${r.payouts.accept} (you: ${r.own})`,
      ],
    );
  });
}

function settledLine(r: SettleResult): string {
  return `outcome ${r.outcome}: CET ${r.cetIndex} ${r.alreadyBroadcast ? 'was already broadcast' : 'broadcast'} as ${r.txid}; offerer ${r.payouts.offer}, accepter ${r.payouts.accept} (you: ${r.own})`;
}

function settledJson(r: SettleResult): unknown {
  return { state: r.state, outcome: r.outcome, threshold: r.threshold, oracles: r.oracles, cetIndex: r.cetIndex, txid: r.txid, alreadyBroadcast: r.alreadyBroadcast, payouts: r.payouts };
}

function refundedLine(r: RefundResult): string {
  return `refund ${r.alreadyBroadcast ? 'was already broadcast' : 'broadcast'} as ${r.txid}: offerer ${r.payouts.offer}, accepter ${r.payouts.accept}`;
}

function refundedJson(r: RefundResult): unknown {
  return { state: r.state, txid: r.txid, alreadyBroadcast: r.alreadyBroadcast, payouts: r.payouts };
}

/** One oracle of a settled contract, for humans. */
function oracleLine(o: SettleOracle): string {
  const said = o.outcome === null ? `no attestation (${o.missing ?? 'unknown'})` : `attested ${o.outcome}${o.agreed === true ? ' (agreed)' : ' (DISSENTED)'}`;
  return `  ${o.url ?? '(no URL)'} ${o.publicKey}: ${said}`;
}

// ------------------------------------------------------------------ refund

export async function refundCommand(argv: string[]): Promise<number> {
  const parsed = parseOrHelp(REFUND_SPEC, argv);
  if (parsed === undefined) return 0;
  const period = periodOpt(parsed.values);
  return withContext(loadConfig(parsed.values), {}, async (ctx) => {
    const id = parsed.positionals[0]!;
    if (namesStrip(ctx, id, period)) {
      const r = await refundStrip(ctx, { id, ...(period === undefined ? {} : { period }) });
      printStripStep(ctx, r.strip, r.periods, 'refund', refundedLine, refundedJson);
      return;
    }
    const r = await refundContract(ctx, { id });
    ctx.print({ id: r.id, ...(refundedJson(r) as object) }, [refundedLine(r)]);
  });
}

// ------------------------------------------------------------------ close

export async function closeCommand(argv: string[]): Promise<number> {
  const parsed = parseOrHelp(CLOSE_SPEC, argv);
  if (parsed === undefined) return 0;
  const offerPayout = bigintOpt(parsed.values, 'offer-payout');
  if (offerPayout === undefined) throw usage("'hashdlc close' needs --offer-payout SATS (see --help)");
  const acceptPayout = bigintOpt(parsed.values, 'accept-payout');
  return withContext(loadConfig(parsed.values), {}, async (ctx) => {
    if (parsed.values.remaining === true) {
      const r = await closeStrip(ctx, { id: parsed.positionals[0]!, offerPayout, ...(acceptPayout === undefined ? {} : { acceptPayout }) });
      ctx.print(
        {
          strip: r.strip,
          totalCollateral: r.totalCollateral,
          payouts: r.payouts,
          periods: r.periods.map((c) => ({
            period: c.period, id: c.id, payouts: c.payouts,
            ...(c.result === undefined ? {} : { state: c.result.state, closeTxid: c.result.closeTxid, broadcast: c.result.broadcast }),
            ...(c.error === undefined ? {} : { error: errorCodeOf(c.error) }),
          })),
          skipped: r.skipped,
        },
        [
          `strip ${r.strip}: closing ${r.periods.length} live period(s) holding ${r.totalCollateral} sats at offerer ${r.payouts.offer}, accepter ${r.payouts.accept}`,
          ...r.periods.map((c) => {
            const head = `  period ${c.period}: offerer ${c.payouts.offer}, accepter ${c.payouts.accept}: `;
            if (c.error !== undefined) {
              const e = errorCodeOf(c.error);
              return `${head}FAILED ${e.code}: ${e.message}`;
            }
            return `${head}${c.result!.broadcast ? `close transaction ${c.result!.closeTxid} broadcast` : 'your signature is in; the other party signs the same split to broadcast'}`;
          }),
          ...r.skipped.map((k) => `  period ${k.period}: ${k.state}, not closed`),
        ],
      );
      const failed = r.periods.find((c) => c.error !== undefined);
      if (failed !== undefined) throw failed.error;
      return;
    }
    const r = await closeContract(ctx, { id: parsed.positionals[0]!, offerPayout, ...(acceptPayout === undefined ? {} : { acceptPayout }) });
    ctx.print(
      { id: r.id, state: r.state, closeTxid: r.closeTxid, broadcast: r.broadcast, payouts: r.payouts },
      [
        r.broadcast
          ? `close transaction ${r.closeTxid} broadcast: offerer ${r.payouts.offer}, accepter ${r.payouts.accept}`
          : `your close signature is in (offerer ${r.payouts.offer}, accepter ${r.payouts.accept}); the other party signs the same split to broadcast`,
      ],
    );
  });
}

// ------------------------------------------------------------------ cancel

export const CANCEL_SPEC: CommandSpec = {
  name: 'cancel',
  args: '<contract-id>',
  minArgs: 1,
  summary: 'Withdraw an offer or give up a contract before funding; after sign (offerer) or accept (accepter), double-spend your own funding inputs back to you.',
  details: [
    'Once your funding signatures may be out (offerer: after sign; accepter: after accept), the counterparty',
    'could still broadcast the funding transaction: cancel then spends YOUR funding inputs (only yours) back',
    'to your own change address, through your node, with a higher fee than the funding transaction (BIP125),',
    'and tells the coordinator. Once that transaction has a confirmation, the old funding can never confirm.',
    '--psbt-out FILE (external-wallet funding): write the cancel PSBT for that wallet to sign and broadcast.',
  ],
  options: {
    ...pickOptions('wallet-dir', 'network', 'coordinator', 'rpc-url', 'rpc-user', 'rpc-password', 'json'),
    'psbt-out': { type: 'string', value: 'FILE', help: 'external-wallet funding: write the cancel PSBT instead of signing it' },
  },
};

export async function cancelCommand(argv: string[]): Promise<number> {
  const parsed = parseOrHelp(CANCEL_SPEC, argv);
  if (parsed === undefined) return 0;
  const psbtOut = str(parsed.values, 'psbt-out');
  return withContext(loadConfig(parsed.values), {}, async (ctx) => {
    const r = await cancelContract(ctx, { id: parsed.positionals[0]!, psbtOnly: psbtOut !== undefined });
    if (r.kind === 'psbt') {
      writeFileSync(psbtOut!, `${r.psbt}\n`);
      ctx.print({ id: r.id, psbtOut, spends: r.spends, fee: r.fee.toString() }, [
        `cancel PSBT written to ${psbtOut}: it spends your funding inputs ${r.spends.join(', ')} back to your change address`,
        `(fee ${r.fee} sats, above the funding transaction's ${r.fundingFee}); sign and broadcast it with your wallet,`,
        'once it has a confirmation, the old funding transaction can never confirm',
      ]);
      return;
    }
    const onChain = r.onChain;
    ctx.print(
      { id: r.id, state: r.state, coordinator: r.coordinator, ...(r.periods === undefined ? {} : { periods: r.periods }), ...(onChain ? { cancelTxid: onChain.txid, spends: onChain.spends, fee: onChain.fee.toString() } : {}) },
      onChain === undefined
        ? [`${r.periods === undefined ? 'contract' : `strip (${r.periods} periods)`} ${r.id} cancelled; its coins are free again`]
        : [
          `${r.periods === undefined ? 'contract' : `strip (${r.periods} periods)`} ${r.id} cancelled: transaction ${onChain.txid} spends your funding inputs ${onChain.spends.join(', ')} back to your change address (fee ${onChain.fee} sats)`,
          `once ${onChain.txid} has a confirmation, the old funding transaction can never confirm`,
        ],
    );
  });
}

// ------------------------------------------------------------------ status

export async function statusCommand(argv: string[]): Promise<number> {
  const parsed = parseOrHelp(STATUS_SPEC, argv);
  if (parsed === undefined) return 0;
  return withContext(loadConfig(parsed.values), {}, async (ctx) => {
    const id = parsed.positionals[0];
    if (id === undefined) {
      const all = listContracts(ctx);
      ctx.print(all, all.length === 0 ? ['no contracts in this wallet'] : summaryLines(all));
      return;
    }
    const local = parsed.values.local === true;
    const strip = await stripStatus(ctx, { id, local });
    if (strip !== undefined) {
      const first = strip.periods[0]!.record;
      ctx.print(
        {
          id: strip.id,
          role: first.role,
          state: strip.coordinator?.state ?? null,
          terms: strip.terms,
          fundingTxid: strip.fundingTxid,
          confirmations: strip.confirmations ?? null,
          periods: strip.periods.map((s) => ({
            period: s.period, id: s.id, window: s.window ?? null, state: s.record.state, coordinatorState: s.coordinatorState ?? null,
            outcome: s.outcome, payouts: s.payouts, closingTxid: s.closingTxid, contractId: s.record.contractId ?? null,
          })),
        },
        [
          `strip ${strip.id} (${first.role === 'offer' ? 'offerer' : 'accepter'}, ${strip.periods.length} periods, ${String(strip.terms.template)})`,
          ...(strip.coordinator ? [`  coordinator: ${strip.coordinator.state}`] : []),
          ...(strip.fundingTxid ? [`  funding: ${strip.fundingTxid}${strip.confirmations !== undefined ? ` (${strip.confirmations} confirmation(s))` : ''}`] : []),
          ...strip.periods.map((s) => {
            const w = s.window === undefined ? '' : ` blocks ${s.window.start}-${s.window.end}`;
            const remote = s.coordinatorState === undefined ? '' : ` (coordinator: ${s.coordinatorState})`;
            const outcome = s.outcome === null ? '' : `, outcome ${s.outcome}`;
            const pay = s.payouts === null ? '' : `, payouts offerer ${s.payouts.offer} accepter ${s.payouts.accept}`;
            return `  period ${s.period} ${s.id}${w}: ${s.record.state}${remote}${outcome}${pay}`;
          }),
        ],
      );
      return;
    }
    const { record, coordinator: remote, confirmations } = await contractStatus(ctx, { id, local });
    const lines = [
      `contract ${record.id} (${record.role === 'offer' ? 'offerer' : 'accepter'})`,
      `  state: ${record.state}${remote ? ` (coordinator: ${String(remote.state)})` : ''}`,
      `  template: ${String(record.terms.template)}`,
      ...(record.contractId ? [`  contract id: ${record.contractId}`] : []),
      ...(record.fundingTxid ? [`  funding: ${record.fundingTxid}${confirmations !== undefined ? ` (${confirmations} confirmation(s))` : ''}`] : []),
      ...(record.closingTxid ? [`  closing: ${record.closingTxid}`] : []),
      ...record.history.map((h) => `  ${h.at}  ${h.state}${h.note ? `  ${h.note}` : ''}`),
    ];
    ctx.print({ ...record, offer: undefined, accept: undefined, sign: undefined, ownCetSignatures: undefined, fundingPsbt: undefined, confirmations: confirmations ?? null, coordinator: remote ?? null }, lines);
  });
}

/** `hashdlc status` lines: one per contract, a strip's periods under a strip line. */
function summaryLines(all: ContractSummary[]): string[] {
  const out: string[] = [];
  for (const r of all) {
    const role = r.role === 'offer' ? 'offerer ' : 'accepter';
    if (r.strip === undefined) {
      out.push(`${r.id}  ${role}  ${r.state.padEnd(17)} ${String(r.template)}`);
      continue;
    }
    if (r.strip.period === 1) out.push(`${r.strip.id}  ${role}  strip of ${r.strip.periods} periods   ${String(r.template)}`);
    const w = r.strip.window as { start?: unknown; end?: unknown } | undefined;
    const blocks = typeof w?.start === 'number' && typeof w.end === 'number' ? `blocks ${w.start}-${w.end}` : '';
    out.push(`  period ${String(r.strip.period).padEnd(3)} ${r.id}  ${r.state.padEnd(17)} ${blocks}`);
  }
  return out;
}
