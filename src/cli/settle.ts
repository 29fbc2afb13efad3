/**
 * `hashdlc status`, `settle`, `refund`, `close`: a contract after funding.
 *
 * settle and refund work WITHOUT the coordinator, from the messages stored
 * in the wallet directory (dlcspecs Protocol.md "Closing the contract"):
 * - settle: fetch the attestation from the oracle, check it against the
 *   announcement, find the attested CET, sign it with our own funding key,
 *   decrypt the counterparty's adaptor signature with the attestation secret,
 *   and broadcast through our node;
 * - refund: after the refund locktime, the refund transaction with both
 *   parties' refund signatures (accept_dlc and sign_dlc), through our node.
 * close is a cooperative close through the coordinator: both parties run it
 * with the same split; each sends its signature of the close transaction
 * (computed here, not taken from anyone), the second one's makes the
 * coordinator broadcast.
 *
 * This module does NOT negotiate (negotiate.ts).
 */
import { writeFileSync } from 'node:fs';
import type { Transaction } from 'bitcoinjs-lib';
import type { ContractSetup } from '../../protocol/contract/index.js';
import {
  attestedSlotOf,
  closeTransaction,
  completeAttestedCetAsParty,
  offerAnnouncements,
  setupContract,
  signClose,
  signedRefundTransaction,
  totalCollateralOf,
} from '../../protocol/contract/index.js';
import { ecdsaSign } from '../../protocol/crypto/index.js';
import { isDlcError } from '../../protocol/errors.js';
import { toHex, verifyAttestation } from '../../protocol/messages/index.js';
import type { BitcoinRpc } from '../chain/index.js';
import { isChainError } from '../chain/index.js';
import type { ContractRecord } from '../wallet/index.js';
import { COMMON_OPTIONS, bigintOpt, helpText, parseCommand, str, type CommandSpec } from './args.js';
import { loadConfig } from './config.js';
import { buildCancelPsbt, fundingSignaturesMayBeOut, walletSignsCancel } from '../participant/cancel.js';
import { loadContract, localStateOf, needAccept, needSign, saveState, type LoadedContract } from '../participant/contract.js';
import { CliContext } from './context.js';
import { ParticipantError, usage } from '../participant/errors.js';
import { OracleHttp } from '../api/http.js';

const NODE = {
  'wallet-dir': COMMON_OPTIONS['wallet-dir']!,
  network: COMMON_OPTIONS.network!,
  'rpc-url': COMMON_OPTIONS['rpc-url']!,
  'rpc-user': COMMON_OPTIONS['rpc-user']!,
  'rpc-password': COMMON_OPTIONS['rpc-password']!,
  json: COMMON_OPTIONS.json!,
};

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
  summary: "Settle alone: fetch the oracle's attestation, complete the attested CET with your key and the counterparty's adaptor signature, broadcast.",
  details: ['Needs no coordinator: the contract messages are in the wallet directory.'],
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
    'wallet-dir': COMMON_OPTIONS['wallet-dir']!,
    network: COMMON_OPTIONS.network!,
    coordinator: COMMON_OPTIONS.coordinator!,
    json: COMMON_OPTIONS.json!,
    'offer-payout': { type: 'string', value: 'SATS', help: "the offerer's payout (required)" },
    'accept-payout': { type: 'string', value: 'SATS', help: "the accepter's payout (default: total collateral - offer payout)" },
  },
};

function open(ctx: CliContext, id: string): { c: LoadedContract; setup: ContractSetup } {
  const c = loadContract(ctx.wallet(), id);
  const accept = needAccept(c);
  needSign(c);
  return { c, setup: setupContract(c.offer, accept, c.flow) };
}

/**
 * Broadcasts a closing transaction; one already in the mempool or the chain counts as done.
 * @throws {ChainError} for any other refusal (CHAIN_NON_FINAL before a locktime, ...).
 */
async function broadcast(rpc: BitcoinRpc, tx: Transaction): Promise<{ txid: string; already: boolean }> {
  try {
    return { txid: await rpc.sendRawTransaction(tx.toHex()), already: false };
  } catch (e) {
    if (isChainError(e) && e.code === 'CHAIN_ALREADY_IN_CHAIN') return { txid: tx.getId(), already: true };
    if (isChainError(e) && e.code === 'CHAIN_MISSING_INPUTS') {
      // The funding output is spent: by this very transaction (someone was first), or by another.
      const known = await rpc.getRawTransaction(tx.getId()).then(() => true, () => false);
      if (known) return { txid: tx.getId(), already: true };
    }
    throw e;
  }
}

// ------------------------------------------------------------------ settle

export async function settleCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(SETTLE_SPEC, argv);
  if (parsed.help) {
    process.stdout.write(helpText(SETTLE_SPEC));
    return 0;
  }
  const ctx = new CliContext(loadConfig(parsed.values));
  try {
    const wallet = ctx.wallet();
    const { c, setup } = open(ctx, parsed.positionals[0]!);
    const accept = needAccept(c);
    const sign = needSign(c);
    const [ann] = offerAnnouncements(c.offer.contractInfo);
    // The oracle: the one configured, else the one the contract was made with.
    const oracleUrl = ctx.config.oracle ?? c.record.oracle;
    if (oracleUrl === undefined) throw new ParticipantError('CONFIG', 'no oracle: pass --oracle URL');
    const oracle = new OracleHttp(oracleUrl);
    const { outcome, attestation } = await oracle.attestation(ann!.oracleEvent.eventId);
    verifyAttestation(attestation, ann!, c.record.hashProfile);
    // Our signature with our own key; theirs decrypted from their adaptor signature (protocol/contract checks both).
    const role = c.record.role;
    const atts = [{ oracleIndex: 0, attestation }];
    const slot = await completeAttestedCetAsParty(setup, atts, role, (h) => ecdsaSign(c.keys.fundingSecretKey, h), role === 'offer' ? accept.cetAdaptorSignatures : sign.cetAdaptorSignatures)
      .catch((e: unknown) => {
        if (!isDlcError(e, 'BAD_SIGNATURE') || e.reason !== `cet-signature:${role === 'offer' ? 'accept' : 'offer'}`) throw e;
        throw new ParticipantError('MISMATCH', `the counterparty's adaptor signature for CET ${attestedSlotOf(setup, atts).cetIndex} does not decrypt to a valid signature`, { reason: 'cet-signature' });
      });
    const tx = slot.tx;
    const rpc = await ctx.rpc();
    const planned = { offerPayout: slot.payouts.offer, acceptPayout: slot.payouts.accept };
    let sent: { txid: string; already: boolean };
    try {
      sent = await broadcast(rpc, tx);
    } catch (e) {
      if (isChainError(e) && e.code === 'CHAIN_NON_FINAL') {
        throw new ParticipantError('NOT_READY', `the CET is locked until height ${tx.locktime}; try again after it`, { cause: e });
      }
      throw e;
    }
    saveState(wallet, c.record, 'settled', { closingTxid: sent.txid }, `CET ${slot.cetIndex}, outcome ${outcome}`);
    const mine = role === 'offer' ? planned.offerPayout : planned.acceptPayout;
    ctx.print(
      { id: c.record.id, state: 'settled', outcome, cetIndex: slot.cetIndex, txid: sent.txid, alreadyBroadcast: sent.already, payouts: { offer: planned.offerPayout, accept: planned.acceptPayout } },
      [
        `oracle outcome ${outcome}: CET ${slot.cetIndex} ${sent.already ? 'was already broadcast' : 'broadcast'} as ${sent.txid}`,
        `payouts: offerer ${planned.offerPayout}, accepter ${planned.acceptPayout} (you: ${mine})`,
      ],
    );
    return 0;
  } finally {
    await ctx.close();
  }
}

// ------------------------------------------------------------------ refund

export async function refundCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(REFUND_SPEC, argv);
  if (parsed.help) {
    process.stdout.write(helpText(REFUND_SPEC));
    return 0;
  }
  const ctx = new CliContext(loadConfig(parsed.values));
  try {
    const wallet = ctx.wallet();
    const { c, setup } = open(ctx, parsed.positionals[0]!);
    const rpc = await ctx.rpc();
    const tip = await rpc.getBlockCount();
    // nLockTime L (a height): final in a block of height > L, so the mempool takes it once the tip is L.
    if (tip < c.offer.refundLocktime) {
      throw new ParticipantError('NOT_READY', `refund locktime ${c.offer.refundLocktime} not reached (tip ${tip}); ${c.offer.refundLocktime - tip} more block(s)`);
    }
    const tx = signedRefundTransaction(setup, needSign(c).refundSignature, needAccept(c).refundSignature);
    const sent = await broadcast(rpc, tx);
    saveState(wallet, c.record, 'refunded', { closingTxid: sent.txid });
    ctx.print(
      { id: c.record.id, state: 'refunded', txid: sent.txid, alreadyBroadcast: sent.already, payouts: { offer: setup.closing.offerCollateral, accept: setup.closing.acceptCollateral } },
      [`refund ${sent.already ? 'was already broadcast' : 'broadcast'} as ${sent.txid}: offerer ${setup.closing.offerCollateral}, accepter ${setup.closing.acceptCollateral}`],
    );
    return 0;
  } finally {
    await ctx.close();
  }
}

// ------------------------------------------------------------------ close

export async function closeCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(CLOSE_SPEC, argv);
  if (parsed.help) {
    process.stdout.write(helpText(CLOSE_SPEC));
    return 0;
  }
  const offerPayout = bigintOpt(parsed.values, 'offer-payout');
  if (offerPayout === undefined) throw usage("'hashdlc close' needs --offer-payout SATS (see --help)");
  const ctx = new CliContext(loadConfig(parsed.values));
  try {
    const wallet = ctx.wallet();
    const { c, setup } = open(ctx, parsed.positionals[0]!);
    const total = totalCollateralOf(c.offer.contractInfo);
    const acceptPayout = bigintOpt(parsed.values, 'accept-payout', total - offerPayout)!;
    if (offerPayout + acceptPayout > total) {
      throw usage(`payouts ${offerPayout} + ${acceptPayout} exceed the total collateral ${total}`);
    }
    const payout = { offer: offerPayout, accept: acceptPayout };
    const tx = closeTransaction(setup, payout);
    const signature = signClose(setup, payout, c.keys.fundingSecretKey);
    const coordinator = ctx.coordinator();
    const view = await coordinator.close(c.record.id, { offerPayout: offerPayout.toString(), acceptPayout: acceptPayout.toString(), signature: toHex(signature) }, c.keys.identitySecretKey);
    const broadcastDone = view.closingTxid !== undefined && view.closingTxid !== null;
    if (broadcastDone && view.closingTxid !== tx.getId()) {
      throw new ParticipantError('MISMATCH', `the coordinator broadcast ${view.closingTxid}, not the close transaction ${tx.getId()} we signed`);
    }
    const record: ContractRecord = { ...c.record, close: { offerPayout: offerPayout.toString(), acceptPayout: acceptPayout.toString() } };
    if (broadcastDone) saveState(wallet, record, 'closed', { closingTxid: tx.getId() });
    else wallet.contracts.save(record);
    ctx.print(
      { id: c.record.id, state: view.state, closeTxid: tx.getId(), broadcast: broadcastDone, payouts: { offer: offerPayout, accept: acceptPayout } },
      [
        broadcastDone
          ? `close transaction ${tx.getId()} broadcast: offerer ${offerPayout}, accepter ${acceptPayout}`
          : `your close signature is in (offerer ${offerPayout}, accepter ${acceptPayout}); the other party signs the same split to broadcast`,
      ],
    );
    return 0;
  } finally {
    await ctx.close();
  }
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
    'wallet-dir': COMMON_OPTIONS['wallet-dir']!,
    network: COMMON_OPTIONS.network!,
    coordinator: COMMON_OPTIONS.coordinator!,
    'rpc-url': COMMON_OPTIONS['rpc-url']!,
    'rpc-user': COMMON_OPTIONS['rpc-user']!,
    'rpc-password': COMMON_OPTIONS['rpc-password']!,
    json: COMMON_OPTIONS.json!,
    'psbt-out': { type: 'string', value: 'FILE', help: 'external-wallet funding: write the cancel PSBT instead of signing it' },
  },
};

export async function cancelCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(CANCEL_SPEC, argv);
  if (parsed.help) {
    process.stdout.write(helpText(CANCEL_SPEC));
    return 0;
  }
  const ctx = new CliContext(loadConfig(parsed.values));
  try {
    const wallet = ctx.wallet();
    const c = loadContract(wallet, parsed.positionals[0]!);
    if (!['offered', 'accepted', 'signed'].includes(c.record.state)) {
      throw new ParticipantError('STATE', `contract ${c.record.id} is ${c.record.state}: only contracts not yet funded can be cancelled`);
    }
    let onChain: { txid: string; spends: string[]; fee: bigint } | undefined;
    if (fundingSignaturesMayBeOut(c)) {
      // The real cancellation (issue 9, hole 2): our inputs spent back to us, on chain.
      const rpc = await ctx.rpc();
      const built = await buildCancelPsbt(c, rpc);
      const psbtOut = str(parsed.values, 'psbt-out');
      if (psbtOut !== undefined) {
        writeFileSync(psbtOut, `${built.psbt.toBase64()}\n`);
        ctx.print({ id: c.record.id, psbtOut, spends: built.spends, fee: built.fee.toString() }, [
          `cancel PSBT written to ${psbtOut}: it spends your funding inputs ${built.spends.join(', ')} back to your change address`,
          `(fee ${built.fee} sats, above the funding transaction's ${built.fundingFee}); sign and broadcast it with your wallet,`,
          'once it has a confirmation, the old funding transaction can never confirm',
        ]);
        return 0;
      }
      const tx = walletSignsCancel(wallet, built.psbt);
      const txid = await rpc.sendRawTransaction(tx.toHex());
      onChain = { txid, spends: built.spends, fee: built.fee };
      // Recorded before anything else can fail: the coins are on their way back.
      saveState(wallet, c.record, 'cancelled', {}, `double-spent our funding inputs in ${txid}`);
    }
    let coordinatorState: string | null = null;
    try {
      const view = await ctx.coordinator().cancel(c.record.id, c.keys.identitySecretKey);
      coordinatorState = typeof view.state === 'string' ? view.state : null;
    } catch (err) {
      // With our inputs double-spent the coordinator's word no longer matters (it may have expired the contract).
      if (onChain === undefined) throw err;
      ctx.note(`note: the coordinator did not cancel (${err instanceof Error ? err.message : String(err)})`);
    }
    if (onChain === undefined) saveState(wallet, c.record, 'cancelled');
    ctx.print(
      { id: c.record.id, state: 'cancelled', coordinator: coordinatorState, ...(onChain ? { cancelTxid: onChain.txid, spends: onChain.spends, fee: onChain.fee.toString() } : {}) },
      onChain === undefined
        ? [`contract ${c.record.id} cancelled; its coins are free again`]
        : [
          `contract ${c.record.id} cancelled: transaction ${onChain.txid} spends your funding inputs ${onChain.spends.join(', ')} back to your change address (fee ${onChain.fee} sats)`,
          `once ${onChain.txid} has a confirmation, the old funding transaction can never confirm`,
        ],
    );
    return 0;
  } finally {
    await ctx.close();
  }
}

// ------------------------------------------------------------------ status

export async function statusCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(STATUS_SPEC, argv);
  if (parsed.help) {
    process.stdout.write(helpText(STATUS_SPEC));
    return 0;
  }
  const ctx = new CliContext(loadConfig(parsed.values));
  try {
    const wallet = ctx.wallet();
    const id = parsed.positionals[0];
    if (id === undefined) {
      const all = wallet.contracts.list();
      ctx.print(
        all.map((r) => ({ id: r.id, role: r.role, state: r.state, template: r.terms.template, contractId: r.contractId ?? null })),
        all.length === 0 ? ['no contracts in this wallet'] : all.map((r) => `${r.id}  ${r.role === 'offer' ? 'offerer ' : 'accepter'}  ${r.state.padEnd(17)} ${String(r.terms.template)}`),
      );
      return 0;
    }
    let record = wallet.contracts.get(id);
    const local = parsed.values.local === true;
    let remote: Record<string, unknown> | undefined;
    const coordinatorUrl = ctx.config.coordinator ?? record.coordinator;
    if (!local && coordinatorUrl !== undefined) {
      const { CoordinatorClient } = await import('../api/http.js');
      try {
        const view = await new CoordinatorClient(coordinatorUrl).contract(record.id, wallet.keys.contractKeys(record.keyIndex).identitySecretKey);
        remote = view;
        const mapped = localStateOf(view.state);
        // Only forward: a local terminal state (settled here, say) is never undone by the coordinator's view.
        const order = ['offered', 'accepted', 'signed', 'funding-broadcast', 'confirmed'];
        const rank = (st: string): number => (order.includes(st) ? order.indexOf(st) : order.length);
        if (mapped !== undefined && rank(mapped) > rank(record.state)) {
          record = saveState(wallet, record, mapped, {
            ...(typeof view.fundingTxid === 'string' ? { fundingTxid: view.fundingTxid } : {}),
            ...(typeof view.closingTxid === 'string' ? { closingTxid: view.closingTxid } : {}),
          }, `coordinator: ${view.state}`);
        }
      } catch (e) {
        if (!(e instanceof ParticipantError)) throw e;
        ctx.note(`coordinator: ${e.message}`);
      }
    }
    let confirmations: number | undefined;
    if (!local && record.fundingTxid !== undefined && ctx.config.rpc !== undefined) {
      const rpc = await ctx.rpc();
      confirmations = await rpc.getRawTransaction(record.fundingTxid).then((t) => t.confirmations ?? 0, () => undefined);
      if (confirmations !== undefined && confirmations > 0 && record.state === 'funding-broadcast') {
        record = saveState(wallet, record, 'confirmed', {}, `${confirmations} confirmation(s)`);
      }
    }
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
    return 0;
  } finally {
    await ctx.close();
  }
}
