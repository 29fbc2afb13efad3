/**
 * Transactions that spend the funding output, as the coordinator handles them:
 * the cooperative-close PSBT (built for wallets, and read back for a party's
 * partial signature), the signed refund, and the classification of a spending
 * transaction seen on chain (CET, refund or close, by its nLockTime, with the
 * payouts read from its outputs).
 *
 * This module does NOT sign, hold keys or talk to the node.
 */
import { Psbt, Transaction, script as bscript } from 'bitcoinjs-lib';
import { DlcError } from '../../protocol/errors.js';
import type { ClosingContext, FundingTransaction, Payout } from '../../protocol/tx/index.js';
import {
  applyFundingSpendWitness,
  buildCloseTransaction,
  buildRefundTransaction,
  fundingSpendSighash,
  verifyFundingSpendSignature,
} from '../../protocol/tx/index.js';
import { fromHex, toHex } from '../../protocol/messages/index.js';
import type { ClosingKind } from './lifecycle.js';

/** The unsigned close transaction for a split, and the digest both parties sign. */
export function closeTransaction(ctx: ClosingContext, payout: Payout): { tx: Transaction; sighash: Uint8Array } {
  const { tx } = buildCloseTransaction(ctx, payout);
  return { tx, sighash: fundingSpendSighash(ctx, tx, 0) };
}

/**
 * The close transaction as a BIP174 PSBT: the funding input carries its
 * witness UTXO, witness script (the 2-of-2) and the full funding transaction.
 */
export function closePsbt(ctx: ClosingContext, funding: Pick<FundingTransaction, 'fundingSpk'>, fundingTxHex: string | null, tx: Transaction): Psbt {
  const psbt = new Psbt();
  psbt.setVersion(tx.version);
  psbt.setLocktime(tx.locktime);
  const input = tx.ins[0]!;
  psbt.addInput({
    hash: input.hash,
    index: input.index,
    sequence: input.sequence,
    witnessUtxo: { script: funding.fundingSpk, value: ctx.fundOutputValue },
    witnessScript: ctx.fundingScript,
    ...(fundingTxHex !== null ? { nonWitnessUtxo: fromHex(fundingTxHex) } : {}),
  });
  for (const out of tx.outs) psbt.addOutput({ script: out.script, value: out.value });
  return psbt;
}

/**
 * A party's close signature (64-byte compact) from a close PSBT it signed:
 * the PSBT must be of `tx`, and carry a SIGHASH_ALL partial signature by
 * `fundingPubkey` on the funding input.
 * @throws {DlcError} DECODE_ERROR (`psbt-encoding`), INVALID_PARAMS
 *   (`close-psbt-mismatch`, `close-psbt-no-signature`), BAD_SIGNATURE (`close-signature-encoding`).
 */
export function closeSignatureFromPsbt(encoded: string, tx: Transaction, fundingPubkey: Uint8Array): Uint8Array {
  let psbt: Psbt;
  try {
    psbt = Psbt.fromBase64(encoded);
  } catch (cause) {
    throw new DlcError('DECODE_ERROR', 'closePsbt is not a PSBT', { reason: 'psbt-encoding', cause });
  }
  const unsigned = new Transaction();
  unsigned.version = psbt.version;
  unsigned.locktime = psbt.locktime;
  for (const i of psbt.txInputs) unsigned.addInput(i.hash, i.index, i.sequence);
  for (const o of psbt.txOutputs) unsigned.addOutput(o.script, o.value);
  if (unsigned.getId() !== tx.getId()) {
    throw new DlcError('INVALID_PARAMS', 'closePsbt is not the close transaction of this split', { reason: 'close-psbt-mismatch' });
  }
  const partial = psbt.data.inputs[0]?.partialSig?.find((p) => toHex(p.pubkey) === toHex(fundingPubkey));
  if (partial === undefined) {
    throw new DlcError('INVALID_PARAMS', 'closePsbt has no partial signature by your funding key', { reason: 'close-psbt-no-signature' });
  }
  let decoded: { signature: Uint8Array; hashType: number };
  try {
    decoded = bscript.signature.decode(partial.signature);
  } catch (cause) {
    throw new DlcError('BAD_SIGNATURE', 'close partial signature is not DER', { reason: 'close-signature-encoding', cause });
  }
  if (decoded.hashType !== Transaction.SIGHASH_ALL) {
    throw new DlcError('BAD_SIGNATURE', 'close partial signature is not SIGHASH_ALL', { reason: 'close-signature-encoding' });
  }
  return decoded.signature;
}

/**
 * @throws {DlcError} BAD_SIGNATURE (`close-signature:offer|accept`) when the signature does not verify.
 */
export function checkCloseSignature(ctx: ClosingContext, party: 'offer' | 'accept', sighash: Uint8Array, signature: Uint8Array): void {
  if (signature.length !== 64 || !verifyFundingSpendSignature(ctx, party, sighash, signature)) {
    throw new DlcError('BAD_SIGNATURE', `${party} close signature does not verify`, { reason: `close-signature:${party}` });
  }
}

/** The close transaction with both (checked) signatures. */
export function signedCloseTransaction(ctx: ClosingContext, tx: Transaction, offerSignature: Uint8Array, acceptSignature: Uint8Array): Transaction {
  return applyFundingSpendWitness(ctx, tx.clone(), offerSignature, acceptSignature);
}

/** The refund transaction with both parties' refund signatures (from accept_dlc and sign_dlc). */
export function signedRefund(ctx: ClosingContext, offerSignature: Uint8Array, acceptSignature: Uint8Array): Transaction {
  const tx = buildRefundTransaction(ctx, { outputOrder: 'offer-first' });
  return applyFundingSpendWitness(ctx, tx, offerSignature, acceptSignature);
}

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
