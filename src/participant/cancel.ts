/**
 * The on-chain half of `hashdlc cancel` (issue 9, hole 2: the accepter's free
 * option): once this party's funding signatures may have left the process
 * (the offerer after `sign`, the accepter after `accept`), telling the
 * coordinator is not enough: whoever holds a fully signed funding
 * transaction can still broadcast it. So this party double-spends ITS OWN
 * funding inputs back to its own change script, with a higher fee than the
 * whole funding transaction pays (BIP125 rules 3, 4 and 6, so it also
 * replaces a funding transaction sitting in a mempool: our funding inputs
 * signal replaceability, nSequence 0xfffffffd, BIP125 rule 1). Once the
 * cancel transaction has a confirmation, the old funding can never confirm.
 *
 * This module does NOT touch the counterparty's inputs (never signs them,
 * never spends them), pay anyone else, or talk to the coordinator.
 */
import { Psbt, Transaction } from 'bitcoinjs-lib';
import { buildFundingTransaction, type FundingTxInput } from '../../protocol/tx/index.js';
import type { BitcoinRpc } from '../chain/index.js';
import { FUNDING_INPUT_SEQUENCE, type Wallet } from '../wallet/index.js';
import { needAccept, type LoadedContract } from './contract.js';
import { ParticipantError } from './errors.js';

/** vbytes of one P2WPKH input (41 non-witness + 108/4 witness), the P2WPKH output (31) and the overhead (10.5, rounded up). */
const P2WPKH_INPUT_VB = 68n;
const OUTPUT_VB = 43n; // up to a P2WSH/P2TR output script
const OVERHEAD_VB = 11n;

/** Whether this party's funding signatures may be out: the offerer once sign_dlc exists, the accepter once it accepted. */
export function fundingSignaturesMayBeOut(c: LoadedContract): boolean {
  return c.record.role === 'offer' ? c.record.sign !== undefined : c.accept !== undefined;
}

export interface CancelTransaction {
  psbt: Psbt;
  /** The inputs double-spent (`txid:vout`). */
  spends: string[];
  fee: bigint;
  /** The whole funding transaction's fee, which ours exceeds (BIP125 rule 3). */
  fundingFee: bigint;
}

/**
 * The cancel PSBT: every funding input of ours still unspent on chain, all
 * to our own change script (the one our offer/accept names), paying the
 * funding transaction's whole fee plus `feeRatePerVb + 1` sat/vB of its own
 * size (so both its absolute fee and its fee rate are higher: BIP125 rules
 * 3, 4 and 6).
 * @throws {ParticipantError} STATE when the funding transaction is confirmed (the contract is live) or no input of ours is left; MISMATCH when they cannot pay the fee.
 */
export async function buildCancelPsbt(c: LoadedContract, rpc: BitcoinRpc): Promise<CancelTransaction> {
  // The funding transaction alone (no CETs: protocol/contract setupContract would build them all).
  const funding = buildFundingTransaction(c.offer, needAccept(c), { extraOutputs: c.template.extraOutputs });
  const confirmed = await rpc.getTxOut(funding.txidHex, funding.fundOutputIndex, false);
  if (confirmed !== null) throw new ParticipantError('STATE', `the funding transaction ${funding.txidHex} is confirmed: the contract is live, settle or refund it`);
  const party = c.record.role;
  const ours: FundingTxInput[] = [];
  for (const input of funding.inputs.filter((i) => i.party === party)) {
    const txid = Buffer.from(input.prevTxid).reverse().toString('hex');
    // Unspent in the chain (a funding transaction in a mempool is what we replace).
    if ((await rpc.getTxOut(txid, input.prevVout, false)) !== null) ours.push(input);
  }
  if (ours.length === 0) throw new ParticipantError('STATE', 'none of our funding inputs is unspent on chain: nothing to take back');
  const inputTotal = funding.inputs.reduce((s, i) => s + i.prevOutput.value, 0n);
  const outputTotal = funding.tx.outs.reduce((s, o) => s + o.value, 0n);
  const fundingFee = inputTotal - outputTotal;
  const vsize = OVERHEAD_VB + P2WPKH_INPUT_VB * BigInt(ours.length) + OUTPUT_VB;
  const fee = fundingFee + vsize * (c.offer.feeRatePerVb + 1n);
  const ownTotal = ours.reduce((s, i) => s + i.prevOutput.value, 0n);
  const back = ownTotal - fee;
  if (back < 546n) throw new ParticipantError('MISMATCH', `our inputs hold ${ownTotal} sats, too little to outbid the funding fee ${fundingFee} (needs ${fee} + dust)`);
  const psbt = new Psbt({ network: undefined });
  for (const input of ours) {
    psbt.addInput({
      hash: input.prevTxid,
      index: input.prevVout,
      sequence: FUNDING_INPUT_SEQUENCE, // BIP125-signalling, like the funding inputs it replaces
      witnessUtxo: { script: input.prevOutput.script, value: input.prevOutput.value },
      nonWitnessUtxo: input.prevTx,
      ...(input.redeemScript.length > 0 ? { redeemScript: input.redeemScript } : {}),
    });
  }
  const changeSpk = party === 'offer' ? c.offer.changeSpk : needAccept(c).changeSpk;
  psbt.addOutput({ script: changeSpk, value: back });
  return {
    psbt,
    spends: ours.map((i) => `${Buffer.from(i.prevTxid).reverse().toString('hex')}:${i.prevVout}`),
    fee,
    fundingFee,
  };
}

/**
 * Signs the cancel PSBT with the wallet (every input must be the wallet's:
 * they are our own funding inputs) and returns the final transaction.
 * @throws {ParticipantError} MISMATCH when an input is not this wallet's (external funding: use --psbt-out).
 */
export function walletSignsCancel(wallet: Wallet, psbt: Psbt): Transaction {
  // Every input of the cancel transaction is one of our own funding inputs.
  const { notOurs: missing } = wallet.signInputs(psbt, psbt.data.inputs.map((_, i) => i));
  if (missing.length > 0) {
    throw new ParticipantError('MISMATCH', `cancel input(s) ${missing.join(', ')} are not this wallet's (external funding): pass --psbt-out FILE and sign and broadcast it with that wallet`);
  }
  psbt.finalizeAllInputs();
  return psbt.extractTransaction();
}
