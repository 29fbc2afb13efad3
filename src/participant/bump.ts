/**
 * `bumpTransaction` (`hashdlc bump <txid> --fee-rate R`): raises the
 * effective fee rate of a stuck transaction of this wallet (a contract's
 * funding, CET, refund or close, a cancel, a `wallet send`) to R sat/vB:
 *
 * - RBF (BIP125) where this party can re-sign alone: every input spends a
 *   confirmed coin of this wallet and signals replaceability (a `wallet
 *   send`, a cancel). The replacement keeps inputs and outputs and takes the
 *   extra fee from the wallet's own output (the change): fee =
 *   max(R x vsize, old fee + vsize x 1 sat/vB), so rules 3 and 4 hold, and
 *   its rate is R, above the old one (rule 6).
 * - CPFP otherwise: a child spends the transaction's largest unspent output
 *   paying one of this wallet's addresses (the payout of a CET, refund or
 *   close, the change of a funding transaction) to a fresh change address,
 *   with fee = R x (stuck vsize + child vsize) - stuck fee, where "stuck" is
 *   the transaction with its unconfirmed ancestors: the package then pays R.
 *
 * A contract's funding transaction is never replaced (its txid is what the
 * CETs and the refund spend), even when every input is this wallet's.
 *
 * Refused (ParticipantError STATE, the rule in `reason`): `confirmed`,
 * `not-in-mempool`, `rate-not-higher` (R does not exceed the current
 * effective rate), `nothing-to-bump` (no output of ours and no replacement
 * we can sign), `output-spent` (our output is already spent by an
 * unconfirmed child, e.g. an earlier bump: bump that child), `output-too-small`
 * (our output cannot pay the fee and keep a non-dust output), `contract-funding`
 * (`rbf` asked for a contract's funding transaction).
 *
 * Crash safety: nothing is stored; a repeat after a crash finds the first
 * bump in the mempool (the parent replaced: `not-in-mempool`; our output
 * spent: `output-spent`) and refuses instead of paying twice.
 *
 * This module does NOT print, touch the counterparty's inputs, or spend any
 * coin but the stuck transaction's own output (CPFP) or its own inputs (RBF).
 */
import { Psbt, Transaction } from 'bitcoinjs-lib';
import { toHex } from '../../protocol/messages/index.js';
import { DUST_LIMIT } from '../../protocol/tx/index.js';
import type { BitcoinRpc } from '../chain/index.js';
import { isChainError } from '../chain/index.js';
import { FUNDING_INPUT_SEQUENCE, type Wallet } from '../wallet/index.js';
import { ParticipantError, usage } from './errors.js';
import { P2WPKH_SPK_LEN, cpfpChildFee, isDust, p2wpkhSpendVsize, packageOf, ratePerVb, reachesRate, replacementFee, type FeeAndSize } from './fees.js';
import type { Participant } from './participant.js';
import { psbtTxid, signAllOwn } from './wallet.js';

export type BumpMethod = 'cpfp' | 'rbf';

export interface BumpInput {
  txid: string;
  /** The effective fee rate wanted, sat/vB. */
  feeRatePerVb: bigint;
  /** Force a method; default RBF where possible, else CPFP. */
  method?: BumpMethod;
}

export interface BumpResult {
  /** The stuck transaction. */
  txid: string;
  method: BumpMethod;
  /** The CPFP child, or the replacement. */
  bumpTxid: string;
  /** Fee and vsize of the new transaction alone. */
  feeSats: bigint;
  vsize: bigint;
  /** The stuck transaction with its unconfirmed ancestors, before. */
  before: FeeAndSize;
  /** What miners now see: ancestors + child (CPFP), or the replacement (RBF). */
  package: FeeAndSize;
  /** `package` as sat/vB (two decimals, for display). */
  effectiveFeeRatePerVb: number;
}

const BIP125_FINAL = 0xfffffffe;

function refuse(reason: string, message: string): ParticipantError {
  return new ParticipantError('STATE', message, { reason });
}

/**
 * The transaction's own fee and vsize with those of its unconfirmed ancestors (mempool `depends`, recursively).
 * @throws {ParticipantError} STATE (`confirmed`, `not-in-mempool`); {ChainError}.
 */
async function stuckPackage(rpc: BitcoinRpc, txid: string): Promise<{ own: FeeAndSize; withAncestors: FeeAndSize }> {
  const entry = await rpc.getMempoolEntry(txid).catch(async (err: unknown) => {
    if (!isChainError(err)) throw err;
    const known = await rpc.getRawTransaction(txid).catch(() => undefined);
    if (known !== undefined && (known.confirmations ?? 0) > 0) {
      throw refuse('confirmed', `transaction ${txid} is confirmed (${known.confirmations} confirmation(s)): nothing to bump`);
    }
    throw refuse('not-in-mempool', `transaction ${txid} is not in the node's mempool (replaced, evicted, or never broadcast)`);
  });
  const own = { feeSats: entry.feeSats, vsize: BigInt(entry.vsize) };
  const seen = new Set<string>([txid]);
  const parts: FeeAndSize[] = [own];
  const queue = [...entry.depends];
  while (queue.length > 0) {
    const a = queue.shift()!;
    if (seen.has(a)) continue;
    seen.add(a);
    const e = await rpc.getMempoolEntry(a);
    parts.push({ feeSats: e.feeSats, vsize: BigInt(e.vsize) });
    queue.push(...e.depends);
  }
  return { own, withAncestors: packageOf(parts) };
}

/** A replacement: the same inputs and outputs, our output reduced by the extra fee. Undefined when we cannot sign it alone. */
async function replacementPsbt(w: Wallet, rpc: BitcoinRpc, tx: Transaction, own: FeeAndSize, rate: bigint, ownScripts: Set<string>): Promise<{ psbt: Psbt; fee: bigint } | undefined> {
  const psbt = new Psbt({ network: w.network.bitcoinjs });
  psbt.setVersion(tx.version);
  psbt.setLocktime(tx.locktime);
  for (const input of tx.ins) {
    if (input.sequence >= BIP125_FINAL) return undefined; // BIP125 rule 1
    const prevTxid = Buffer.from(input.hash).reverse().toString('hex');
    // A confirmed coin (unspent in the chain: the stuck transaction is only in the mempool) of this wallet.
    const prev = await rpc.getTxOut(prevTxid, input.index, false);
    if (prev === null || !ownScripts.has(prev.scriptPubKey.hex.toLowerCase())) return undefined;
    psbt.addInput({ hash: input.hash, index: input.index, sequence: input.sequence, witnessUtxo: { script: Buffer.from(prev.scriptPubKey.hex, 'hex'), value: prev.valueSats } });
  }
  const ours = largestOwnOutput(tx, ownScripts, () => true);
  if (ours === undefined) return undefined;
  const vsize = p2wpkhSpendVsize(tx.ins.length, tx.outs.map((o) => o.script.length));
  const fee = replacementFee(own, vsize, rate);
  const reduced = tx.outs[ours]!.value - (fee - own.feeSats);
  if (isDust(reduced)) {
    throw refuse('output-too-small', `our output ${tx.getId()}:${ours} holds ${tx.outs[ours]!.value} sats: too little to raise the fee to ${fee} sats and keep ${DUST_LIMIT}`);
  }
  tx.outs.forEach((o, i) => psbt.addOutput({ script: o.script, value: i === ours ? reduced : o.value }));
  return { psbt, fee };
}

/**
 * Txids of this wallet's contracts' funding transactions (stored, or of the
 * stored funding PSBT). Never replaced, even when every input is ours: the
 * CETs and the refund both parties signed spend that very txid.
 */
function contractFundingTxids(w: Wallet): Set<string> {
  const out = new Set<string>();
  for (const r of w.contracts.list()) {
    if (r.fundingTxid !== undefined) out.add(r.fundingTxid);
    if (r.fundingPsbt !== undefined) out.add(psbtTxid(Psbt.fromBase64(r.fundingPsbt)));
  }
  return out;
}

/** The index of the largest output paying one of our scripts that `keep` accepts. */
function largestOwnOutput(tx: Transaction, ownScripts: Set<string>, keep: (vout: number) => boolean): number | undefined {
  let best: number | undefined;
  tx.outs.forEach((o, i) => {
    if (!ownScripts.has(toHex(o.script)) || !keep(i)) return;
    if (best === undefined || o.value > tx.outs[best]!.value) best = i;
  });
  return best;
}

/**
 * Raises the effective fee rate of the unconfirmed transaction `txid` to
 * `feeRatePerVb` by RBF or CPFP (module header), broadcasts the new
 * transaction and returns it with the package's effective rate.
 * @throws {ParticipantError} USAGE (bad txid or rate), STATE with `reason`
 *   (`confirmed`, `not-in-mempool`, `rate-not-higher`, `nothing-to-bump`,
 *   `output-spent`, `output-too-small`, `contract-funding`); {ChainError} when the node refuses it.
 */
export async function bumpTransaction(p: Participant, input: BumpInput): Promise<BumpResult> {
  const txid = input.txid.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(txid)) throw usage(`'${input.txid}' is not a transaction id (64 hex digits)`);
  const rate = input.feeRatePerVb;
  if (rate < 1n) throw usage('--fee-rate must be at least 1 sat/vB');
  const w = p.wallet();
  const rpc = await p.rpc();
  const { own, withAncestors } = await stuckPackage(rpc, txid);
  if (reachesRate(withAncestors, rate)) {
    throw refuse('rate-not-higher', `transaction ${txid} already pays ${ratePerVb(withAncestors)} sat/vB (with its unconfirmed ancestors): ask for a rate above that`);
  }
  const tx = Transaction.fromHex(await rpc.getRawTransactionHex(txid));
  const ownScripts = w.ownScripts();

  const funding = contractFundingTxids(w).has(txid);
  if (funding && input.method === 'rbf') {
    throw refuse('contract-funding', `transaction ${txid} funds a contract of this wallet: replacing it would void the signed CETs and refund, bump with CPFP`);
  }
  if (!funding && input.method !== 'cpfp') {
    // Undefined when an input is not a confirmed coin of ours (so also with unconfirmed ancestors: BIP125 rule 2).
    const rbf = await replacementPsbt(w, rpc, tx, own, rate, ownScripts);
    if (rbf !== undefined) {
      const signed = signAllOwn(w, rbf.psbt);
      const vsize = BigInt(signed.virtualSize());
      const result: FeeAndSize = { feeSats: rbf.fee, vsize };
      // Rule 6 and the asked rate, on the signed size (the estimate is an upper bound).
      if (!reachesRate(result, rate) || rbf.fee * own.vsize <= own.feeSats * vsize) throw new RangeError('bump: replacement fee below the asked rate (size estimate wrong)');
      const bumpTxid = await rpc.sendRawTransaction(signed.toHex());
      p.note(`replaced ${txid} by ${bumpTxid} at ${ratePerVb(result)} sat/vB (BIP125)`);
      return { txid, method: 'rbf', bumpTxid, feeSats: rbf.fee, vsize, before: withAncestors, package: result, effectiveFeeRatePerVb: ratePerVb(result) };
    }
    if (input.method === 'rbf') {
      throw refuse('nothing-to-bump', `transaction ${txid} cannot be replaced by this wallet alone (an input is not a confirmed coin of this wallet or does not signal BIP125, or no output is ours)`);
    }
  }

  // CPFP from our largest output that is still unspent.
  const anyOurs = largestOwnOutput(tx, ownScripts, () => true);
  if (anyOurs === undefined) {
    throw refuse('nothing-to-bump', `transaction ${txid} pays no address of this wallet, and this wallet cannot replace it alone: nothing to bump`);
  }
  const unspent = new Set<number>();
  for (let i = 0; i < tx.outs.length; i++) if ((await rpc.getTxOut(txid, i, true)) !== null) unspent.add(i);
  const vout = largestOwnOutput(tx, ownScripts, (i) => unspent.has(i));
  if (vout === undefined) {
    throw refuse('output-spent', `our output ${txid}:${anyOurs} is already spent by an unconfirmed transaction (an earlier bump?): bump that one, its package includes ${txid}`);
  }
  const out = tx.outs[vout]!;
  const childVsize = p2wpkhSpendVsize(1, [P2WPKH_SPK_LEN]);
  const childFee = cpfpChildFee(withAncestors, childVsize, rate);
  if (isDust(out.value - childFee)) {
    throw refuse('output-too-small', `our output ${txid}:${vout} holds ${out.value} sats: too little to pay a ${childFee} sats child fee and keep ${DUST_LIMIT}`);
  }
  const change = w.newChangeAddress();
  const psbt = new Psbt({ network: w.network.bitcoinjs });
  psbt.addInput({ hash: txid, index: vout, sequence: FUNDING_INPUT_SEQUENCE, witnessUtxo: { script: out.script, value: out.value } });
  psbt.addOutput({ script: change.script, value: out.value - childFee });
  const child = signAllOwn(w, psbt);
  const vsize = BigInt(child.virtualSize());
  const pkg = packageOf([withAncestors, { feeSats: childFee, vsize }]);
  if (!reachesRate(pkg, rate)) throw new RangeError('bump: package fee below the asked rate (size estimate wrong)');
  const bumpTxid = await rpc.sendRawTransaction(child.toHex());
  p.note(`CPFP child ${bumpTxid} spends ${txid}:${vout}: the package pays ${ratePerVb(pkg)} sat/vB`);
  return { txid, method: 'cpfp', bumpTxid, feeSats: childFee, vsize, before: withAncestors, package: pkg, effectiveFeeRatePerVb: ratePerVb(pkg) };
}
