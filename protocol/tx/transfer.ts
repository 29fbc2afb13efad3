/**
 * The transfer (novation) transaction of a live DLC (issue 14; our extension,
 * not in dlcspecs): one side of a funded contract is sold to a new party.
 *
 * Shape: version 2, locktime 0. Inputs: the new party's funding inputs sorted by
 * `input_serial_id`, then LAST the old contract's funding output (the 2-of-2 of
 * the party that stays and the seller), so the new party's inputs keep the
 * indexes a `FundingTransaction` gives them. Outputs, sorted by serial id: the
 * new contract's funding output (the stayer's and the new party's 2-of-2, serial
 * id `fund_output_serial_id` of the offer, value exactly the old funding output's,
 * so every CET and the refund pay what they paid before), the price to the
 * seller, and the new party's change. The new party pays the whole fee at the
 * transfer's fee rate, by the transaction's expected weight: its own inputs at
 * their `max_witness_len`, the 2-of-2 input at its largest witness (222 bytes).
 *
 * The contract set-up over this transaction is the ordinary one
 * (protocol/contract `setupContract` with `funding`): its CETs and refund spend
 * the new funding output. The old funding input is signed by both old parties
 * over `fundingSpendSighash(oldClosing, tx, spentFundingInputIndex)`.
 *
 * This module does NOT sign, check signatures or look at the chain. No I/O.
 */
import { Psbt, Transaction } from 'bitcoinjs-lib';
import { DlcError } from '../errors.js';
import type { AcceptDlc, FundingInput, OfferDlc } from '../messages/types.js';
import { applyFundingSpendWitness, CLOSING_TX_SEQUENCE, fundingSpendSighash } from './closing.js';
import type { ClosingContext } from './closing.js';
import type { FundingSignatures } from '../messages/types.js';
import { addFundingPsbtInput, applyFundingSignatures } from './psbt.js';
import { DUST_LIMIT, scriptSigLength } from './fees.js';
import type { FundingTransaction, Party, PartyFunding } from './funding.js';
import { FUNDING_TX_VERSION, resolveFundingInput } from './funding.js';
import { assertFundingPubkey, assertStandardScriptPubkey, compareBytes, fundingScript, p2shScriptSig, p2wshScriptPubkey } from './scripts.js';

const U64_MAX = (1n << 64n) - 1n;

/** Expected size of the 2-of-2 witness: count, empty element, two DER+sighash signatures (≤ 73 each), the 71-byte script, with length prefixes. */
export const FUNDING_SPEND_WITNESS_LEN = 1 + 1 + 74 + 74 + 72;

/** The funding output a transfer spends: the old contract's outpoint, value and 2-of-2 script. */
export interface TransferSource {
  /** Old funding txid, internal byte order. */
  txid: Uint8Array;
  vout: number;
  value: bigint;
  /** The old 2-of-2 witness script. */
  script: Uint8Array;
}

/** What a transfer adds to the new contract's offer/accept: everything else comes from them. */
export interface TransferTerms {
  /** The side sold: its funding key, payout script and inputs in the new messages are the new party's. */
  side: Party;
  from: TransferSource;
  /** What the new party pays the seller, sats. */
  price: bigint;
  /** The seller's script for the price. */
  sellerSpk: Uint8Array;
  /** Sorted with the new funding output's and the change's serial ids. */
  priceSerialId: bigint;
  /** The transfer transaction's fee rate, sat/vB (the new party pays). */
  feeRatePerVb: bigint;
}

/** The built transfer transaction: a `FundingTransaction` of the new contract plus where the transfer's own parts are. */
export interface TransferTransaction extends FundingTransaction {
  /** Input index spending the old funding output (the last one). */
  spentFundingInputIndex: number;
  priceOutputIndex: number;
  /** The whole fee, paid by the new party. */
  fee: bigint;
  /** Expected weight the fee was computed from. */
  weight: bigint;
}

/** The old funding output of a contract, as a transfer spends it. */
export function transferSourceOf(closing: Pick<ClosingContext, 'fundingTxid' | 'fundOutputIndex' | 'fundOutputValue' | 'fundingScript'>): TransferSource {
  return { txid: closing.fundingTxid, vout: closing.fundOutputIndex, value: closing.fundOutputValue, script: closing.fundingScript };
}

function checkU64(value: bigint, what: string): void {
  if (typeof value !== 'bigint' || value < 0n || value > U64_MAX) {
    throw new DlcError('INVALID_PARAMS', `${what} is not a u64`, { reason: 'u64-range' });
  }
}

/** Bytes of a compact-size prefix. */
function varintLen(n: number): bigint {
  return n < 0xfd ? 1n : n <= 0xffff ? 3n : 5n;
}

/**
 * Expected weight of a transfer transaction (BIP141 weight: 4 × non-witness bytes + witness bytes).
 * @throws {DlcError} INVALID_PARAMS for out-of-range lengths.
 */
export function transferWeight(inputs: readonly { maxWitnessLen: number; redeemScriptLen: number }[], outputSpkLens: readonly number[]): bigint {
  const nIn = inputs.length + 1;
  // version, locktime, input and output counts; the segwit marker and flag are witness data.
  let weight = 4n * (8n + varintLen(nIn) + varintLen(outputSpkLens.length)) + 2n;
  for (const i of inputs) {
    const sigLen = BigInt(scriptSigLength(i.redeemScriptLen));
    weight += 4n * (36n + 4n + varintLen(Number(sigLen)) + sigLen) + BigInt(i.maxWitnessLen);
  }
  weight += 4n * (36n + 4n + 1n) + BigInt(FUNDING_SPEND_WITNESS_LEN);
  for (const len of outputSpkLens) weight += 4n * (8n + varintLen(len) + BigInt(len));
  return weight;
}

/**
 * Builds the transfer transaction of a new contract (`offer`, `accept`, in which
 * `terms.side`'s fields are the new party's) from the old funding output.
 *
 * Checks:
 * 1. both funding pubkeys are valid and differ; the seller's, payout and change scripts are standard;
 * 2. the new party's inputs spend segwit outputs, have unique serial ids and outpoints, and none is the old funding output;
 * 3. the other side brings no inputs (it only keeps its key and payout script);
 * 4. the new funding output (serial `fund_output_serial_id`), the price and the change have distinct serial ids;
 * 5. the old value covers both collaterals; the price is at least the dust limit;
 * 6. the new party's inputs pay price + fee and leave a change of at least the dust limit.
 * @throws {DlcError} INVALID_POINT (1); INVALID_PARAMS `non-standard-spk`, `not-segwit-input`,
 *   `duplicate-serial-id`, `duplicate-outpoint`, `transfer-other-inputs`, `transfer-value`,
 *   `u64-range`; INVALID_TRANSACTION `insufficient-funds`, `change-below-dust`, `price-below-dust`.
 */
export function buildTransferTransaction(
  offer: Pick<OfferDlc, 'fundingPubkey' | 'offerCollateral' | 'fundOutputSerialId' | 'fundingInputs' | 'changeSpk' | 'changeSerialId' | 'payoutSpk'>,
  accept: Pick<AcceptDlc, 'fundingPubkey' | 'acceptCollateral' | 'fundingInputs' | 'changeSpk' | 'changeSerialId' | 'payoutSpk'>,
  terms: TransferTerms,
  options: { dustLimit?: bigint } = {},
): TransferTransaction {
  const dust = options.dustLimit ?? DUST_LIMIT;
  const side = terms.side;
  if (side !== 'offer' && side !== 'accept') throw new DlcError('INVALID_PARAMS', 'transfer side must be offer or accept', { reason: 'transfer-side' });
  const buyer = side === 'offer' ? offer : accept;
  const stayer = side === 'offer' ? accept : offer;
  // 1.
  assertFundingPubkey(offer.fundingPubkey, 'offer funding pubkey');
  assertFundingPubkey(accept.fundingPubkey, 'accept funding pubkey');
  const witnessScript = fundingScript(offer.fundingPubkey, accept.fundingPubkey);
  const fundingSpk = p2wshScriptPubkey(witnessScript);
  assertStandardScriptPubkey(terms.sellerSpk, 'seller spk');
  assertStandardScriptPubkey(buyer.changeSpk, 'new party change spk');
  assertStandardScriptPubkey(buyer.payoutSpk, 'new party payout spk');
  checkU64(terms.price, 'transfer price');
  checkU64(terms.priceSerialId, 'price serial id');
  checkU64(terms.feeRatePerVb, 'transfer fee rate');
  checkU64(terms.from.value, 'old funding value');
  // 3.
  if (stayer.fundingInputs.length > 0) {
    throw new DlcError('INVALID_PARAMS', `the ${side === 'offer' ? 'accept' : 'offer'} side brings no inputs to a transfer`, { reason: 'transfer-other-inputs' });
  }
  // 2.
  const inputs = buyer.fundingInputs.map((fi: FundingInput, i) => resolveFundingInput(fi, side, i));
  if (new Set(inputs.map((i) => i.serialId)).size !== inputs.length) {
    throw new DlcError('INVALID_PARAMS', 'duplicate input serial id', { reason: 'duplicate-serial-id' });
  }
  const fromKey = `${hex(terms.from.txid)}:${terms.from.vout}`;
  const outpoints = new Set([fromKey, ...inputs.map((i) => `${hex(i.prevTxid)}:${i.prevVout}`)]);
  if (outpoints.size !== inputs.length + 1) {
    throw new DlcError('INVALID_PARAMS', 'two transfer inputs spend the same outpoint', { reason: 'duplicate-outpoint' });
  }
  inputs.sort((a, b) => (a.serialId < b.serialId ? -1 : a.serialId > b.serialId ? 1 : 0));
  // 4.
  if (new Set([offer.fundOutputSerialId, terms.priceSerialId, buyer.changeSerialId]).size !== 3) {
    throw new DlcError('INVALID_PARAMS', 'duplicate transfer output serial id', { reason: 'duplicate-serial-id' });
  }
  // 5.
  if (terms.from.value < offer.offerCollateral + accept.acceptCollateral) {
    throw new DlcError('INVALID_PARAMS', `old funding value ${terms.from.value} is below the collaterals`, { reason: 'transfer-value' });
  }
  if (terms.price < dust) {
    throw new DlcError('INVALID_TRANSACTION', `price ${terms.price} is below the dust limit ${dust}`, { reason: 'price-below-dust' });
  }
  // 6.
  const weight = transferWeight(
    inputs.map((i) => ({ maxWitnessLen: i.maxWitnessLen, redeemScriptLen: i.redeemScript.length })),
    [fundingSpk.length, terms.sellerSpk.length, buyer.changeSpk.length],
  );
  const fee = ((weight + 3n) / 4n) * terms.feeRatePerVb;
  const inputTotal = inputs.reduce((s, i) => s + i.prevOutput.value, 0n);
  const change = inputTotal - terms.price - fee;
  if (change < 0n) {
    throw new DlcError('INVALID_TRANSACTION', `new party inputs (${inputTotal}) do not cover price ${terms.price} + fee ${fee}`, { reason: 'insufficient-funds' });
  }
  if (change < dust) {
    throw new DlcError('INVALID_TRANSACTION', `new party change ${change} is below the dust limit ${dust}`, { reason: 'change-below-dust' });
  }

  type Out = { serialId: bigint; script: Uint8Array; value: bigint; tag: 'fund' | 'price' | 'change' };
  const outputs: Out[] = [
    { serialId: offer.fundOutputSerialId, script: fundingSpk, value: terms.from.value, tag: 'fund' },
    { serialId: terms.priceSerialId, script: terms.sellerSpk, value: terms.price, tag: 'price' },
    { serialId: buyer.changeSerialId, script: buyer.changeSpk, value: change, tag: 'change' },
  ];
  outputs.sort((a, b) => (a.serialId < b.serialId ? -1 : a.serialId > b.serialId ? 1 : 0));

  const tx = new Transaction();
  tx.version = FUNDING_TX_VERSION;
  tx.locktime = 0;
  for (const input of inputs) tx.addInput(input.prevTxid, input.prevVout, input.sequence, p2shScriptSig(input.redeemScript));
  tx.addInput(terms.from.txid, terms.from.vout, CLOSING_TX_SEQUENCE);
  const index = (tag: Out['tag']): number => outputs.findIndex((o) => o.tag === tag);
  for (const o of outputs) tx.addOutput(o.script, o.value);

  const buyerFunding: PartyFunding = {
    inputTotal,
    collateral: side === 'offer' ? offer.offerCollateral : accept.acceptCollateral,
    fundingFee: fee,
    closingFee: 0n,
    extraOutputsTotal: terms.price,
    batchOutputsTotal: 0n,
    change,
    changeOutputIndex: index('change'),
  };
  const stayerFunding: PartyFunding = {
    inputTotal: 0n,
    collateral: side === 'offer' ? accept.acceptCollateral : offer.offerCollateral,
    fundingFee: 0n,
    closingFee: 0n,
    extraOutputsTotal: 0n,
    batchOutputsTotal: 0n,
    change: 0n,
    changeOutputIndex: -1,
  };
  const txid = tx.getHash();
  const fundOutputIndex = index('fund');
  return {
    tx,
    txid,
    txidHex: hex(Uint8Array.from(txid).reverse()),
    fundOutputIndex,
    fundOutputValue: terms.from.value,
    fundingScript: witnessScript,
    fundingSpk,
    inputs,
    offer: side === 'offer' ? buyerFunding : stayerFunding,
    accept: side === 'accept' ? buyerFunding : stayerFunding,
    extraOutputIndexes: [index('price')],
    batchOutputs: [{ index: fundOutputIndex, value: terms.from.value }],
    spentFundingInputIndex: inputs.length,
    priceOutputIndex: index('price'),
    fee,
    weight,
  };
}

/**
 * The unsigned transfer transaction as a PSBT (BIP174): every input with its
 * spent output (`witnessUtxo`), the new party's with their previous transaction,
 * the old funding input with its 2-of-2 `witnessScript`; the new funding output
 * with its witness script. A wallet signs only the new party's inputs.
 * @throws {DlcError} INVALID_TRANSACTION (`psbt-build`) when bitcoinjs-lib rejects an input.
 */
export function buildTransferPsbt(transfer: TransferTransaction, from: TransferSource): Psbt {
  const psbt = new Psbt();
  psbt.setVersion(transfer.tx.version);
  psbt.setLocktime(transfer.tx.locktime);
  try {
    for (const input of transfer.inputs) addFundingPsbtInput(psbt, input);
    psbt.addInput({
      hash: from.txid,
      index: from.vout,
      sequence: CLOSING_TX_SEQUENCE,
      witnessUtxo: { script: p2wshScriptPubkey(from.script), value: from.value },
      witnessScript: from.script,
    });
    transfer.tx.outs.forEach((out, index) => {
      psbt.addOutput({ script: out.script, value: out.value, ...(index === transfer.fundOutputIndex ? { witnessScript: transfer.fundingScript } : {}) });
    });
  } catch (cause) {
    throw new DlcError('INVALID_TRANSACTION', 'transfer PSBT could not be built', { reason: 'psbt-build', cause });
  }
  return psbt;
}

/** What the seller checks before it signs: the transfer pays it `price` at `sellerSpk` and spends its contract's funding output. */
export interface TransferPayment {
  from: Pick<TransferSource, 'txid' | 'vout'>;
  price: bigint;
  sellerSpk: Uint8Array;
}

/**
 * The seller's check of a transfer transaction, on the transaction itself (not
 * on what anyone says it is): it spends the seller's contract's funding output
 * and has an output paying at least `price` to `sellerSpk`.
 * @throws {DlcError} INVALID_PARAMS `transfer-not-spending-contract`, `transfer-price-missing`.
 */
export function checkTransferPayment(tx: Transaction, expected: TransferPayment): void {
  const spends = tx.ins.some((i) => i.index === expected.from.vout && compareBytes(i.hash, expected.from.txid) === 0);
  if (!spends) {
    throw new DlcError('INVALID_PARAMS', 'the transfer does not spend this contract\'s funding output', { reason: 'transfer-not-spending-contract' });
  }
  const paid = tx.outs.filter((o) => compareBytes(o.script, expected.sellerSpk) === 0).reduce((s, o) => s + o.value, 0n);
  if (paid < expected.price) {
    throw new DlcError('INVALID_PARAMS', `the transfer pays ${paid} sats to the seller's address, not the agreed ${expected.price}`, {
      reason: 'transfer-price-missing', details: { expected: expected.price.toString(), got: paid.toString() },
    });
  }
}

/**
 * The digest both old parties sign to release the old funding output into the
 * transfer (BIP143 SIGHASH_ALL over the whole transfer: the price output and
 * the new funding output included).
 * @throws {DlcError} INVALID_PARAMS (`not-funding-input`) when the transfer does not spend `oldClosing`'s funding output.
 */
export function transferSpendSighash(oldClosing: ClosingContext, transfer: Pick<TransferTransaction, 'tx' | 'spentFundingInputIndex'>): Uint8Array {
  return fundingSpendSighash(oldClosing, transfer.tx, transfer.spentFundingInputIndex);
}

/**
 * The signed transfer transaction: the new party's witnesses (sign_dlc
 * `funding_signatures` shape, in its inputs' message order) and both old
 * parties' compact signatures on the old funding input. Signatures are not
 * checked here: see `verifyFundingSpendSignature` and `verifyFundingSignatures`.
 * @throws {DlcError} as `applyFundingSignatures` and `applyFundingSpendWitness`.
 */
export function signedTransferTransaction(
  transfer: TransferTransaction,
  side: Party,
  oldClosing: ClosingContext,
  buyerWitnesses: FundingSignatures,
  oldOfferSignature: Uint8Array,
  oldAcceptSignature: Uint8Array,
): Transaction {
  const tx = applyFundingSignatures(transfer.tx.clone(), transfer, side, buyerWitnesses);
  return applyFundingSpendWitness(oldClosing, tx, oldOfferSignature, oldAcceptSignature, transfer.spentFundingInputIndex);
}

function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

