/**
 * DLC fee computation: the *expected weight* formula of dlcspecs Transactions.md
 * ("Fees": "Fee Calculation", "Fee Payment", "Expected Weight of the Funding
 * Transaction", "Expected Weight of the Contract Execution or Refund Transaction").
 *
 * Each party pays for its own funding inputs, its change output and its CET
 * payout output, plus half of the shared fields; the closing (CET/refund) fee is
 * paid inside the funding transaction by inflating the funding output, so CET and
 * refund outputs carry exact amounts.
 *
 * This module does NOT look at real transactions, signatures or witnesses: it
 * works on script lengths only, exactly as the spec's simplified formula does.
 * It does no I/O.
 */
import { DlcError } from '../errors.js';

/** Outputs below this value are not created (Transactions.md "CET Outputs", "Change Outputs"). */
export const DUST_LIMIT = 1000n;

/** Weight each further funding output of a batch adds to each party: half of `4 * (8 + 1 + 34)`. */
export const BATCH_OUTPUT_PARTY_WEIGHT = 86n;

const U64_MAX = (1n << 64n) - 1n;
/** Largest script element a P2SH redeem script can be (BIP16 / consensus MAX_SCRIPT_ELEMENT_SIZE). */
const MAX_REDEEM_SCRIPT_LEN = 520;

/** The fee-relevant shape of one funding input. */
export interface FeeInputShape {
  /** u16: upper bound of the witness stack size in bytes, counting its length prefixes. */
  maxWitnessLen: number;
  /** Length of the P2SH redeem script, 0 for native segwit. */
  redeemScriptLen: number;
}

/** The fee-relevant shape of one party's side of a DLC. */
export interface PartyFeeShape {
  inputs: readonly FeeInputShape[];
  changeSpkLen: number;
  payoutSpkLen: number;
  /**
   * Script lengths of extra funding-transaction outputs this party pays for
   * (our extension for upfront payments; see funding.ts). Empty in plain dlcspecs.
   */
  extraOutputSpkLens?: readonly number[];
  /**
   * Further DLC funding outputs of a batch funding transaction (our batch
   * extension, funding.ts): each adds half of its weight, 86, to each party.
   */
  batchSiblings?: number;
}

export interface PartyFees {
  /** Weight units this party is charged in the funding transaction. */
  fundingWeight: bigint;
  /** Weight units this party is charged in a CET or the refund transaction. */
  closingWeight: bigint;
  /** `ceil(fundingWeight / 4) * feeRate`, subtracted from this party's change. */
  fundingFee: bigint;
  /** `ceil(closingWeight / 4) * feeRate`, added to the funding output and subtracted from change. */
  closingFee: bigint;
}

/**
 * Length of the scriptSig that spends a P2SH-wrapped segwit output: one push of
 * the redeem script (BIP16 / BIP141 "P2WPKH nested in BIP16 P2SH"). The fee
 * formula's `script_sig_len` is this length, so a 22-byte P2WPKH redeem script
 * costs 23 bytes (the dlcspecs fee vectors confirm the push opcode is counted).
 * @throws {DlcError} INVALID_PARAMS when the length cannot be a redeem script.
 */
export function scriptSigLength(redeemScriptLen: number): number {
  if (!Number.isInteger(redeemScriptLen) || redeemScriptLen < 0 || redeemScriptLen > MAX_REDEEM_SCRIPT_LEN) {
    throw new DlcError('INVALID_PARAMS', `redeem script length ${redeemScriptLen} is not in [0, ${MAX_REDEEM_SCRIPT_LEN}]`, {
      reason: 'redeem-script-length',
    });
  }
  if (redeemScriptLen === 0) return 0;
  // Script push encodings: direct push up to 75 bytes, OP_PUSHDATA1 up to 255, OP_PUSHDATA2 beyond.
  if (redeemScriptLen <= 75) return redeemScriptLen + 1;
  if (redeemScriptLen <= 255) return redeemScriptLen + 2;
  return redeemScriptLen + 3;
}

function checkScriptLen(len: number, what: string): bigint {
  // An spk longer than 10,000 bytes is unspendable (consensus MAX_SCRIPT_SIZE); the
  // formula also assumes a 1-byte length prefix, but we only reject the absurd.
  if (!Number.isInteger(len) || len < 0 || len > 10_000) {
    throw new DlcError('INVALID_PARAMS', `${what} length ${len} is out of range`, { reason: 'script-length' });
  }
  return BigInt(len);
}

function checkFeeRate(feeRatePerVb: bigint): void {
  if (typeof feeRatePerVb !== 'bigint' || feeRatePerVb < 0n || feeRatePerVb > U64_MAX) {
    throw new DlcError('INVALID_PARAMS', `fee rate ${String(feeRatePerVb)} is not a u64`, { reason: 'fee-rate' });
  }
}

function ceilDiv4(weight: bigint): bigint {
  return (weight + 3n) / 4n;
}

/**
 * Funding-transaction weight charged to one party (Transactions.md "Fee Payment"):
 * `107 + (36 + 4*change_spk_len) + sum(164 + 4*script_sig_len + max_witness_len)`,
 * plus `4*(9 + spk_len)` for each extra output the party pays for (our extension).
 * The 107 is half of the shared 214 (version, counts, funding output, locktime,
 * segwit marker and flag).
 * @throws {DlcError} INVALID_PARAMS for out-of-range lengths.
 */
export function partyFundingWeight(shape: PartyFeeShape): bigint {
  let weight = 107n + 36n + 4n * checkScriptLen(shape.changeSpkLen, 'change spk');
  for (const input of shape.inputs) {
    if (!Number.isInteger(input.maxWitnessLen) || input.maxWitnessLen < 0 || input.maxWitnessLen > 0xffff) {
      throw new DlcError('INVALID_PARAMS', `max witness length ${input.maxWitnessLen} is not a u16`, {
        reason: 'max-witness-len',
      });
    }
    weight += 164n + 4n * BigInt(scriptSigLength(input.redeemScriptLen)) + BigInt(input.maxWitnessLen);
  }
  for (const len of shape.extraOutputSpkLens ?? []) {
    // value (8) + script length (1) + script, all non-witness data.
    weight += 4n * (9n + checkScriptLen(len, 'extra output spk'));
  }
  const siblings = shape.batchSiblings ?? 0;
  if (!Number.isInteger(siblings) || siblings < 0 || siblings > 0xffff) {
    throw new DlcError('INVALID_PARAMS', `batch sibling count ${siblings} is out of range`, { reason: 'batch-size' });
  }
  weight += BATCH_OUTPUT_PARTY_WEIGHT * BigInt(siblings);
  return weight;
}

/**
 * CET / refund weight charged to one party (Transactions.md "Expected Weight of the
 * Contract Execution or Refund Transaction"): `249 + 4*payout_spk_len`, half of the
 * shared 498 plus the party's own output.
 * @throws {DlcError} INVALID_PARAMS for an out-of-range length.
 */
export function partyClosingWeight(payoutSpkLen: number): bigint {
  return 249n + 4n * checkScriptLen(payoutSpkLen, 'payout spk');
}

/**
 * One party's funding and closing fees at `feeRatePerVb` sat/vbyte: each weight is
 * rounded up to whole vbytes before multiplying by the fee rate.
 * @throws {DlcError} INVALID_PARAMS for a fee rate that is not a u64 or out-of-range lengths.
 */
export function partyFees(shape: PartyFeeShape, feeRatePerVb: bigint): PartyFees {
  checkFeeRate(feeRatePerVb);
  const fundingWeight = partyFundingWeight(shape);
  const closingWeight = partyClosingWeight(shape.payoutSpkLen);
  return {
    fundingWeight,
    closingWeight,
    fundingFee: ceilDiv4(fundingWeight) * feeRatePerVb,
    closingFee: ceilDiv4(closingWeight) * feeRatePerVb,
  };
}

/**
 * Both parties' fees (the quantities of `dlc_fee_test.json`).
 * @throws {DlcError} INVALID_PARAMS as {@link partyFees}.
 */
export function fundingFees(
  offer: PartyFeeShape,
  accept: PartyFeeShape,
  feeRatePerVb: bigint,
): { offer: PartyFees; accept: PartyFees } {
  return { offer: partyFees(offer, feeRatePerVb), accept: partyFees(accept, feeRatePerVb) };
}

/**
 * The fee shape of one party as found in its offer_dlc / accept_dlc fields.
 * @throws never; lengths are checked when fees are computed.
 */
export function partyFeeShape(party: {
  fundingInputs: readonly { maxWitnessLen: number; redeemScript: Uint8Array }[];
  changeSpk: Uint8Array;
  payoutSpk: Uint8Array;
}, extraOutputSpkLens: readonly number[] = [], batchSiblings = 0): PartyFeeShape {
  return {
    inputs: party.fundingInputs.map((i) => ({ maxWitnessLen: i.maxWitnessLen, redeemScriptLen: i.redeemScript.length })),
    changeSpkLen: party.changeSpk.length,
    payoutSpkLen: party.payoutSpk.length,
    extraOutputSpkLens,
    ...(batchSiblings > 0 ? { batchSiblings } : {}),
  };
}

function compactSizeLength(n: number): number {
  return n < 0xfd ? 1 : n <= 0xffff ? 3 : 5;
}

/**
 * Serialized size of a witness stack as `max_witness_len` bounds it
 * (Transactions.md "Computation of max_witness_len"): the element count, and each
 * element with its length prefix. A P2WPKH witness with a 72-byte signature is 108.
 * @throws never.
 */
export function witnessStackSize(stack: readonly Uint8Array[]): number {
  let size = compactSizeLength(stack.length);
  for (const element of stack) size += compactSizeLength(element.length) + element.length;
  return size;
}
