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
import { COMMON_OPTIONS, bigintOpt, str, type CommandSpec, parseOrHelp, pickOptions, NODE_OPTIONS } from './args.js';
import { loadConfig } from './config.js';
import { withContext } from './context.js';
import { usage } from '../participant/errors.js';
import { cancelContract } from '../participant/cancel.js';
import { closeContract } from '../participant/close.js';
import { refundContract, settleContract, type SettleOracle } from '../participant/settle.js';
import { contractStatus, listContracts } from '../participant/status.js';

const NODE = NODE_OPTIONS;

export const STATUS_SPEC: CommandSpec = {
  name: 'status',
  args: '[<contract-id>]',
  maxArgs: 1,
  summary: 'List the contracts in this wallet, or show one (with the coordinator\'s view and the node\'s confirmations).',
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
  ],
  options: { ...NODE, oracle: COMMON_OPTIONS.oracle!, 'oracle-pubkey': COMMON_OPTIONS['oracle-pubkey']! },
};

export const REFUND_SPEC: CommandSpec = {
  name: 'refund',
  args: '<contract-id>',
  minArgs: 1,
  summary: 'After the refund locktime: broadcast the refund transaction (each side gets its collateral back). No coordinator needed.',
  options: NODE,
};

export const CLOSE_SPEC: CommandSpec = {
  name: 'close',
  args: '<contract-id>',
  minArgs: 1,
  summary: 'Cooperative close at an agreed split: sign it and send your signature; the second party\'s signature makes the coordinator broadcast.',
  details: ['Both parties run it with the same --offer-payout; the accepter gets the rest of the collateral unless --accept-payout says less.'],
  options: {
    ...pickOptions('wallet-dir', 'network', 'coordinator', 'json'),
    'offer-payout': { type: 'string', value: 'SATS', help: "the offerer's payout (required)" },
    'accept-payout': { type: 'string', value: 'SATS', help: "the accepter's payout (default: total collateral - offer payout)" },
  },
};

// ------------------------------------------------------------------ settle

export async function settleCommand(argv: string[]): Promise<number> {
  const parsed = parseOrHelp(SETTLE_SPEC, argv);
  if (parsed === undefined) return 0;
  return withContext(loadConfig(parsed.values), {}, async (ctx) => {
    const r = await settleContract(ctx, { id: parsed.positionals[0]! });
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

/** One oracle of a settled contract, for humans. */
function oracleLine(o: SettleOracle): string {
  const said = o.outcome === null ? `no attestation (${o.missing ?? 'unknown'})` : `attested ${o.outcome}${o.agreed === true ? ' (agreed)' : ' (DISSENTED)'}`;
  return `  ${o.url ?? '(no URL)'} ${o.publicKey}: ${said}`;
}

// ------------------------------------------------------------------ refund

export async function refundCommand(argv: string[]): Promise<number> {
  const parsed = parseOrHelp(REFUND_SPEC, argv);
  if (parsed === undefined) return 0;
  return withContext(loadConfig(parsed.values), {}, async (ctx) => {
    const r = await refundContract(ctx, { id: parsed.positionals[0]! });
    ctx.print(
      { id: r.id, state: r.state, txid: r.txid, alreadyBroadcast: r.alreadyBroadcast, payouts: r.payouts },
      [`refund ${r.alreadyBroadcast ? 'was already broadcast' : 'broadcast'} as ${r.txid}: offerer ${r.payouts.offer}, accepter ${r.payouts.accept}`],
    );
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
      { id: r.id, state: r.state, coordinator: r.coordinator, ...(onChain ? { cancelTxid: onChain.txid, spends: onChain.spends, fee: onChain.fee.toString() } : {}) },
      onChain === undefined
        ? [`contract ${r.id} cancelled; its coins are free again`]
        : [
          `contract ${r.id} cancelled: transaction ${onChain.txid} spends your funding inputs ${onChain.spends.join(', ')} back to your change address (fee ${onChain.fee} sats)`,
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
      ctx.print(
        all,
        all.length === 0 ? ['no contracts in this wallet'] : all.map((r) => `${r.id}  ${r.role === 'offer' ? 'offerer ' : 'accepter'}  ${r.state.padEnd(17)} ${String(r.template)}`),
      );
      return;
    }
    const { record, coordinator: remote, confirmations } = await contractStatus(ctx, { id, local: parsed.values.local === true });
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
