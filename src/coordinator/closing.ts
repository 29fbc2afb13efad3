/**
 * Transactions seen on chain that spend the funding output, as the
 * coordinator's watcher judges them: the classification of a spending
 * transaction (CET, refund or close, by its nLockTime, with the payouts read
 * from its outputs) and whether a transaction spends the funding at all.
 *
 * This module does NOT build, sign or complete closing transactions (the
 * close, its PSBT and the refund are protocol/tx's, the CET protocol/contract's),
 * hold keys or talk to the node.
 */
import type { Transaction } from 'bitcoinjs-lib';
import type { ClosingContext } from '../../protocol/tx/index.js';
import { toHex } from '../../protocol/messages/index.js';
import type { ClosingKind } from './lifecycle.js';

/** What a transaction spending the funding output is. */
export interface ClassifiedSpend {
  kind: ClosingKind;
  payouts: { offer: string; accept: string };
}

/**
 * Classifies a transaction that spends the funding output: by nLockTime
 * (`cet_locktime` → CET, `refund_locktime` → refund, 0 → cooperative close,
 * per Transactions.md), payouts read from the outputs paying each party's
 * payout script (0 where omitted as dust).
 */
export function classifySpend(ctx: ClosingContext, tx: Transaction): ClassifiedSpend {
  let offer = 0n;
  let accept = 0n;
  const offerSpk = toHex(ctx.offerPayoutSpk);
  const acceptSpk = toHex(ctx.acceptPayoutSpk);
  for (const o of tx.outs) {
    const spk = toHex(o.script);
    if (spk === offerSpk) offer += o.value;
    else if (spk === acceptSpk) accept += o.value;
  }
  const kind: ClosingKind = tx.locktime === ctx.refundLocktime ? 'refund' : tx.locktime === ctx.cetLocktime ? 'cet' : 'close';
  return { kind, payouts: { offer: String(offer), accept: String(accept) } };
}

/** True when input `i` of `tx` spends the funding outpoint. */
export function spendsFunding(ctx: ClosingContext, tx: Transaction): boolean {
  const fundTxid = toHex(ctx.fundingTxid);
  return tx.ins.some((i) => i.index === ctx.fundOutputIndex && toHex(i.hash) === fundTxid);
}
