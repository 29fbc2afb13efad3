/**
 * Transactions that spend the DLC funding output (dlcspecs Transactions.md):
 * contract execution transactions (CETs), the refund transaction and the
 * cooperative close transaction; their BIP143 sighashes and the final 2-of-2 witness.
 *
 * Shape (Transactions.md "Contract Execution Transaction"): version 2, one input
 * spending the funding output with sequence 0xFFFFFFFE and an empty scriptSig,
 * outputs for the offerer and the accepter sorted by `payout_serial_id`, an output
 * below the 1000-sat dust limit omitted, nLockTime `cet_locktime`. The refund
 * transaction is the same with nLockTime `refund_locktime` paying back both
 * collaterals ("Refund Transaction"), except that by default its outputs are
 * offer-first as the test vectors sign it (see {@link RefundOutputOrder}). The close transaction is the same with
 * nLockTime 0 and an agreed split, optionally with extra inputs sorted by serial id
 * ("Close Transaction"; Protocol.md `close_dlc`). No fee is subtracted from any of
 * them: the closing fee was put into the funding output ("Fee Payment").
 *
 * On top: the signed refund, the close transaction's signing data, signature
 * check and signed form, and the close as a BIP174 PSBT for wallets (and a
 * party's partial signature read back from it): one builder for the
 * coordinator and the parties.
 *
 * This module does NOT compute payouts (protocol/numeric does), does NOT create or
 * verify adaptor signatures (protocol/crypto does), and does NOT sign. It does no I/O.
 */
import { Psbt, Transaction, script as bscript } from 'bitcoinjs-lib';
import { verify as ecdsaVerify } from 'tiny-secp256k1';
import { DlcError } from '../errors.js';
import type { AcceptDlc, OfferDlc } from '../messages/types.js';
import { fromHex, toHex } from '../messages/wire.js';
import { DUST_LIMIT } from './fees.js';
import type { FundingTransaction, Party } from './funding.js';
import { assertStandardScriptPubkey, compareBytes, fundingScript } from './scripts.js';
import { SIGHASH_ALL, segwitV0Sighash, singleInputSighasher } from './sighash.js';
import type { SighashOutput } from './sighash.js';

/** Transactions.md: closing transactions are version 2 and their input has sequence 0xFFFFFFFE. */
export const CLOSING_TX_VERSION = 2;
export const CLOSING_TX_SEQUENCE = 0xfffffffe;
/** nLockTime values below this are block heights, at or above it UNIX times (BIP65 / consensus). */
const LOCKTIME_THRESHOLD = 500_000_000;
const U64_MAX = (1n << 64n) - 1n;

/** Everything needed to build and sign transactions that spend a funding output. */
export interface ClosingContext {
  /** Funding txid, internal byte order. */
  fundingTxid: Uint8Array;
  fundOutputIndex: number;
  fundOutputValue: bigint;
  /** The 2-of-2 witness script (BIP143 scriptCode of every closing transaction). */
  fundingScript: Uint8Array;
  offerFundingPubkey: Uint8Array;
  acceptFundingPubkey: Uint8Array;
  offerPayoutSpk: Uint8Array;
  offerPayoutSerialId: bigint;
  acceptPayoutSpk: Uint8Array;
  acceptPayoutSerialId: bigint;
  offerCollateral: bigint;
  acceptCollateral: bigint;
  cetLocktime: number;
  refundLocktime: number;
  dustLimit: bigint;
}

/** What each party receives in one closing transaction. */
export interface Payout {
  offer: bigint;
  accept: bigint;
}

/**
 * Collect the closing-transaction parameters from the offer, the accept and the
 * built funding transaction.
 *
 * Validation (Protocol.md offer_dlc / accept_dlc requirements):
 * 1. payout spks are standard;
 * 2. the two `payout_serial_id`s differ;
 * 3. `cet_locktime < refund_locktime`, both block heights or both UNIX times.
 * @throws {DlcError} INVALID_PARAMS with reasons `non-standard-spk`,
 *   `duplicate-serial-id`, `locktime-order`, `locktime-kind`, `u32-range`, `u64-range`.
 */
export function closingContext(
  offer: Pick<OfferDlc, 'fundingPubkey' | 'payoutSpk' | 'payoutSerialId' | 'offerCollateral' | 'cetLocktime' | 'refundLocktime'>,
  accept: Pick<AcceptDlc, 'fundingPubkey' | 'payoutSpk' | 'payoutSerialId' | 'acceptCollateral'>,
  funding: Pick<FundingTransaction, 'txid' | 'fundOutputIndex' | 'fundOutputValue' | 'fundingScript'>,
  options: { dustLimit?: bigint } = {},
): ClosingContext {
  // 1.
  assertStandardScriptPubkey(offer.payoutSpk, 'offer payout spk');
  assertStandardScriptPubkey(accept.payoutSpk, 'accept payout spk');
  // 2.
  for (const id of [offer.payoutSerialId, accept.payoutSerialId]) {
    if (typeof id !== 'bigint' || id < 0n || id > U64_MAX) {
      throw new DlcError('INVALID_PARAMS', 'payout serial id is not a u64', { reason: 'u64-range' });
    }
  }
  if (offer.payoutSerialId === accept.payoutSerialId) {
    throw new DlcError('INVALID_PARAMS', 'offer and accept payout serial ids are equal', { reason: 'duplicate-serial-id' });
  }
  // 3.
  for (const lt of [offer.cetLocktime, offer.refundLocktime]) {
    if (!Number.isInteger(lt) || lt < 0 || lt > 0xffffffff) {
      throw new DlcError('INVALID_PARAMS', `locktime ${lt} is not a u32`, { reason: 'u32-range' });
    }
  }
  if (offer.cetLocktime >= offer.refundLocktime) {
    throw new DlcError('INVALID_PARAMS', 'cet_locktime must be below refund_locktime', { reason: 'locktime-order' });
  }
  if ((offer.cetLocktime < LOCKTIME_THRESHOLD) !== (offer.refundLocktime < LOCKTIME_THRESHOLD)) {
    throw new DlcError('INVALID_PARAMS', 'cet_locktime and refund_locktime mix block heights and times', {
      reason: 'locktime-kind',
    });
  }
  const expectedScript = fundingScript(offer.fundingPubkey, accept.fundingPubkey);
  if (compareBytes(expectedScript, funding.fundingScript) !== 0) {
    throw new DlcError('INVALID_PARAMS', 'funding script does not match the funding pubkeys', { reason: 'funding-script' });
  }
  return {
    fundingTxid: funding.txid,
    fundOutputIndex: funding.fundOutputIndex,
    fundOutputValue: funding.fundOutputValue,
    fundingScript: funding.fundingScript,
    offerFundingPubkey: offer.fundingPubkey,
    acceptFundingPubkey: accept.fundingPubkey,
    offerPayoutSpk: offer.payoutSpk,
    offerPayoutSerialId: offer.payoutSerialId,
    acceptPayoutSpk: accept.payoutSpk,
    acceptPayoutSerialId: accept.payoutSerialId,
    offerCollateral: offer.offerCollateral,
    acceptCollateral: accept.acceptCollateral,
    cetLocktime: offer.cetLocktime,
    refundLocktime: offer.refundLocktime,
    dustLimit: options.dustLimit ?? DUST_LIMIT,
  };
}

/**
 * The outputs of a closing transaction for `payout`: sorted by payout serial id,
 * outputs below the dust limit omitted (Transactions.md "CET Outputs").
 */
function payoutOutputs(ctx: ClosingContext, payout: Payout, maxTotal: bigint): SighashOutput[] {
  if (typeof payout.offer !== 'bigint' || typeof payout.accept !== 'bigint' || payout.offer < 0n || payout.accept < 0n) {
    throw new DlcError('INVALID_PARAMS', 'payouts must be non-negative bigint sats', { reason: 'payout-range' });
  }
  if (payout.offer + payout.accept > maxTotal) {
    throw new DlcError('INVALID_PARAMS', `payouts ${payout.offer} + ${payout.accept} exceed ${maxTotal}`, {
      reason: 'payout-exceeds-collateral',
    });
  }
  const offerOut = { script: ctx.offerPayoutSpk, value: payout.offer };
  const acceptOut = { script: ctx.acceptPayoutSpk, value: payout.accept };
  const ordered = ctx.offerPayoutSerialId < ctx.acceptPayoutSerialId ? [offerOut, acceptOut] : [acceptOut, offerOut];
  const outputs = ordered.filter((o) => o.value >= ctx.dustLimit);
  if (outputs.length === 0) {
    throw new DlcError('INVALID_TRANSACTION', 'both payouts are below the dust limit', { reason: 'no-outputs' });
  }
  return outputs;
}

function closingTx(ctx: ClosingContext, outputs: readonly SighashOutput[], locktime: number): Transaction {
  const tx = new Transaction();
  tx.version = CLOSING_TX_VERSION;
  tx.locktime = locktime;
  tx.addInput(ctx.fundingTxid, ctx.fundOutputIndex, CLOSING_TX_SEQUENCE);
  for (const o of outputs) tx.addOutput(o.script, o.value);
  return tx;
}

function checkLocktime(locktime: number): number {
  if (!Number.isInteger(locktime) || locktime < 0 || locktime > 0xffffffff) {
    throw new DlcError('INVALID_PARAMS', `locktime ${locktime} is not a u32`, { reason: 'u32-range' });
  }
  return locktime;
}

function totalCollateral(ctx: ClosingContext): bigint {
  return ctx.offerCollateral + ctx.acceptCollateral;
}

export interface CetOptions {
  /**
   * nLockTime of the CETs; default `cet_locktime`. The dlcspecs vectors give the
   * CETs of the second and later contracts of a disjoint contract nLockTime 0
   * (dlc-vectors README, departure 3): pass 0 for those to match them.
   */
  lockTime?: number;
}

/**
 * One CET. `payout.offer + payout.accept` may not exceed the total collateral
 * (the rest of the funding output is the fee).
 * @throws {DlcError} INVALID_PARAMS (`payout-range`, `payout-exceeds-collateral`,
 *   `u32-range`), INVALID_TRANSACTION (`no-outputs`: both payouts are dust).
 */
export function buildCet(ctx: ClosingContext, payout: Payout, options: CetOptions = {}): Transaction {
  const locktime = checkLocktime(options.lockTime ?? ctx.cetLocktime);
  return closingTx(ctx, payoutOutputs(ctx, payout, totalCollateral(ctx)), locktime);
}

/**
 * CETs for many payouts, in the order given.
 * @throws {DlcError} as {@link buildCet}.
 */
export function buildCets(ctx: ClosingContext, payouts: readonly Payout[], options: CetOptions = {}): Transaction[] {
  return payouts.map((p) => buildCet(ctx, p, options));
}

/**
 * BIP143 SIGHASH_ALL digests of the CETs for `payouts` (what adaptor signatures
 * sign), without building Transaction objects: the constant part of the preimage is
 * hashed once. Equal to `fundingSpendSighash(ctx, buildCet(ctx, p))` for each p.
 * @throws {DlcError} as {@link buildCet}.
 */
export function cetSighashes(ctx: ClosingContext, payouts: readonly Payout[], options: CetOptions = {}): Uint8Array[] {
  const locktime = checkLocktime(options.lockTime ?? ctx.cetLocktime);
  const hasher = singleInputSighasher(
    CLOSING_TX_VERSION,
    { hash: ctx.fundingTxid, index: ctx.fundOutputIndex, sequence: CLOSING_TX_SEQUENCE },
    ctx.fundingScript,
    ctx.fundOutputValue,
  );
  const max = totalCollateral(ctx);
  return payouts.map((p) => hasher(payoutOutputs(ctx, p, max), locktime));
}

/**
 * Output order of the refund transaction.
 * - `'offer-first'` (default): offerer's output, then accepter's, whatever the payout
 *   serial ids. This is what the dlcspecs test vectors (and rust-dlc, which produced
 *   them) sign: in all 14 files the refund signatures verify only this way, including
 *   the 6 whose offer `payout_serial_id` is the greater one. Not in the vectors'
 *   README list of departures; found by verifying every refund signature.
 * - `'payout-serial-id'`: the spec text (Transactions.md "Refund Transaction" is
 *   "exactly the same as a CET": outputs sorted by `payout_serial_id`).
 */
export type RefundOutputOrder = 'offer-first' | 'payout-serial-id';

export interface RefundOptions {
  outputOrder?: RefundOutputOrder;
}

/**
 * The refund transaction: each party gets its collateral back, nLockTime
 * `refund_locktime` (Transactions.md "Refund Transaction"); output order per
 * {@link RefundOutputOrder}, dust outputs omitted as in a CET.
 * @throws {DlcError} INVALID_TRANSACTION (`no-outputs`) when both collaterals are dust;
 *   INVALID_PARAMS (`refund-output-order`) for an unknown order.
 */
export function buildRefundTransaction(ctx: ClosingContext, options: RefundOptions = {}): Transaction {
  const order = options.outputOrder ?? 'offer-first';
  const payout = { offer: ctx.offerCollateral, accept: ctx.acceptCollateral };
  let outputs = payoutOutputs(ctx, payout, totalCollateral(ctx));
  if (order === 'offer-first') {
    outputs = [
      { script: ctx.offerPayoutSpk, value: ctx.offerCollateral },
      { script: ctx.acceptPayoutSpk, value: ctx.acceptCollateral },
    ].filter((o) => o.value >= ctx.dustLimit);
  } else if (order !== 'payout-serial-id') {
    throw new DlcError('INVALID_PARAMS', `unknown refund output order ${String(order)}`, { reason: 'refund-output-order' });
  }
  return closingTx(ctx, outputs, ctx.refundLocktime);
}

/** An extra input of a close transaction (Protocol.md `close_dlc` `funding_inputs`). */
export interface CloseExtraInput {
  serialId: bigint;
  /** Previous txid, internal byte order. */
  prevTxid: Uint8Array;
  prevVout: number;
  sequence: number;
  /** Value of the spent output: it may be paid out. */
  value: bigint;
}

export interface CloseOptions {
  /** Serial id of the funding-output input, sorted with the extra inputs' ids. */
  fundInputSerialId?: bigint;
  extraInputs?: readonly CloseExtraInput[];
}

export interface CloseTransaction {
  tx: Transaction;
  /** Index of the input spending the funding output. */
  fundingInputIndex: number;
}

/**
 * The cooperative close transaction (Transactions.md "Close Transaction"):
 * nLockTime 0, an agreed split; payouts may total at most the funding output value
 * plus the extra inputs' values (the remainder is the fee). Extra inputs, if any,
 * are sorted with the funding input by serial id (Protocol.md `close_dlc`); their
 * witnesses are their owner's business.
 * @throws {DlcError} INVALID_PARAMS (`payout-range`, `payout-exceeds-collateral`,
 *   `duplicate-serial-id`), INVALID_TRANSACTION (`no-outputs`).
 */
export function buildCloseTransaction(ctx: ClosingContext, payout: Payout, options: CloseOptions = {}): CloseTransaction {
  const extras = options.extraInputs ?? [];
  const fundSerial = options.fundInputSerialId ?? 0n;
  if (new Set([fundSerial, ...extras.map((e) => e.serialId)]).size !== extras.length + 1) {
    throw new DlcError('INVALID_PARAMS', 'duplicate close input serial id', { reason: 'duplicate-serial-id' });
  }
  const available = ctx.fundOutputValue + extras.reduce((s, e) => s + e.value, 0n);
  const outputs = payoutOutputs(ctx, payout, available);
  const ins = [
    { serialId: fundSerial, hash: ctx.fundingTxid, index: ctx.fundOutputIndex, sequence: CLOSING_TX_SEQUENCE, fund: true },
    ...extras.map((e) => ({ serialId: e.serialId, hash: e.prevTxid, index: e.prevVout, sequence: e.sequence, fund: false })),
  ].sort((a, b) => (a.serialId < b.serialId ? -1 : a.serialId > b.serialId ? 1 : 0));
  const tx = new Transaction();
  tx.version = CLOSING_TX_VERSION;
  tx.locktime = 0;
  for (const i of ins) tx.addInput(i.hash, i.index, i.sequence);
  for (const o of outputs) tx.addOutput(o.script, o.value);
  return { tx, fundingInputIndex: ins.findIndex((i) => i.fund) };
}

function assertSpendsFunding(ctx: ClosingContext, tx: Transaction, inputIndex: number): void {
  const input = tx.ins[inputIndex];
  if (input === undefined || input.index !== ctx.fundOutputIndex || compareBytes(input.hash, ctx.fundingTxid) !== 0) {
    throw new DlcError('INVALID_PARAMS', `input ${inputIndex} does not spend the funding output`, {
      reason: 'not-funding-input',
    });
  }
}

/**
 * BIP143 SIGHASH_ALL digest for the input of `tx` that spends the funding output
 * (scriptCode = the 2-of-2 witness script, amount = the funding output value).
 * @throws {DlcError} INVALID_PARAMS (`not-funding-input`) when that input does not
 *   spend the funding outpoint.
 */
export function fundingSpendSighash(ctx: ClosingContext, tx: Transaction, inputIndex = 0): Uint8Array {
  assertSpendsFunding(ctx, tx, inputIndex);
  return segwitV0Sighash(tx, inputIndex, ctx.fundingScript, ctx.fundOutputValue);
}

/**
 * BIP143 digest of the refund transaction (what `refund_signature` signs).
 * @throws {DlcError} as {@link buildRefundTransaction}.
 */
export function refundSighash(ctx: ClosingContext, options: RefundOptions = {}): Uint8Array {
  return fundingSpendSighash(ctx, buildRefundTransaction(ctx, options));
}

function partyPubkey(ctx: ClosingContext, party: Party): Uint8Array {
  return party === 'offer' ? ctx.offerFundingPubkey : ctx.acceptFundingPubkey;
}

/**
 * Check one party's 64-byte compact ECDSA signature (r|s, the wire format) over a
 * funding-spend sighash against its funding pubkey. Low-S is required (BIP146
 * standardness), as Bitcoin Core relays nothing else.
 * @throws {DlcError} INVALID_LENGTH for a signature that is not 64 bytes.
 */
export function verifyFundingSpendSignature(
  ctx: ClosingContext,
  party: Party,
  sighash: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (signature.length !== 64) {
    throw new DlcError('INVALID_LENGTH', 'ECDSA signature must be 64 bytes (compact r|s)', { reason: 'signature-length' });
  }
  try {
    return ecdsaVerify(sighash, partyPubkey(ctx, party), signature, true);
  } catch {
    // tiny-secp256k1 throws for r or s out of range: that is simply a bad signature.
    return false;
  }
}

/**
 * The witness spending the funding output: `[<empty>, sig(pubkey1), sig(pubkey2),
 * witnessScript]` with signatures in the order of the sorted pubkeys (Transactions.md
 * "Contract Execution Transaction": `0 <signature_for_pubkey1> <signature_for_pubkey2>`;
 * the empty element feeds OP_CHECKMULTISIG's extra pop). Signatures are 64-byte
 * compact and become DER + SIGHASH_ALL.
 * @throws {DlcError} INVALID_LENGTH for a signature that is not 64 bytes, BAD_SIGNATURE
 *   for one that cannot be DER-encoded.
 */
export function fundingSpendWitness(ctx: ClosingContext, offerSignature: Uint8Array, acceptSignature: Uint8Array): Uint8Array[] {
  const encode = (sig: Uint8Array): Uint8Array => {
    if (sig.length !== 64) {
      throw new DlcError('INVALID_LENGTH', 'ECDSA signature must be 64 bytes (compact r|s)', { reason: 'signature-length' });
    }
    try {
      return bscript.signature.encode(sig, SIGHASH_ALL);
    } catch (cause) {
      throw new DlcError('BAD_SIGNATURE', 'signature cannot be DER-encoded', { reason: 'signature-encoding', cause });
    }
  };
  const offerFirst = compareBytes(ctx.offerFundingPubkey, ctx.acceptFundingPubkey) < 0;
  const [s1, s2] = offerFirst ? [offerSignature, acceptSignature] : [acceptSignature, offerSignature];
  return [new Uint8Array(0), encode(s1), encode(s2), ctx.fundingScript];
}

/**
 * Put the 2-of-2 witness on the funding-spending input of `tx` (in place) and return
 * `tx`. Signatures are not checked here: see {@link verifyFundingSpendSignature}.
 * @throws {DlcError} as {@link fundingSpendWitness}; INVALID_PARAMS (`not-funding-input`).
 */
export function applyFundingSpendWitness(
  ctx: ClosingContext,
  tx: Transaction,
  offerSignature: Uint8Array,
  acceptSignature: Uint8Array,
  inputIndex = 0,
): Transaction {
  assertSpendsFunding(ctx, tx, inputIndex);
  tx.setWitness(inputIndex, fundingSpendWitness(ctx, offerSignature, acceptSignature));
  return tx;
}

// ------------------------------------------------------------------ signed refund and close, close PSBT

/**
 * The unsigned close transaction for a split (no extra inputs), and the digest
 * both parties sign.
 * @throws {DlcError} as `buildCloseTransaction`.
 */
export function unsignedClose(ctx: ClosingContext, payout: Payout): { tx: Transaction; sighash: Uint8Array } {
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
export function checkCloseSignature(ctx: ClosingContext, party: Party, sighash: Uint8Array, signature: Uint8Array): void {
  if (signature.length !== 64 || !verifyFundingSpendSignature(ctx, party, sighash, signature)) {
    throw new DlcError('BAD_SIGNATURE', `${party} close signature does not verify`, { reason: `close-signature:${party}` });
  }
}

/** The close transaction with both signatures (checked by the caller with `checkCloseSignature`). */
export function signedCloseTransaction(ctx: ClosingContext, tx: Transaction, offerSignature: Uint8Array, acceptSignature: Uint8Array): Transaction {
  return applyFundingSpendWitness(ctx, tx.clone(), offerSignature, acceptSignature);
}

/**
 * The refund transaction with both parties' refund signatures (from accept_dlc
 * and sign_dlc, checked when they arrived). Not broadcastable before
 * `refund_locktime`.
 */
export function signedRefund(ctx: ClosingContext, offerSignature: Uint8Array, acceptSignature: Uint8Array, options: RefundOptions = {}): Transaction {
  return applyFundingSpendWitness(ctx, buildRefundTransaction(ctx, options), offerSignature, acceptSignature);
}
