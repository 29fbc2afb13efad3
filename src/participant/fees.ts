/**
 * Fee arithmetic of `wallet send` and `bump`: the virtual size of a
 * transaction spending P2WPKH inputs, the fee of a CPFP child, the fee of a
 * BIP125 replacement, and fee rates compared exactly (fee and vsize as
 * bigints, never a float rate).
 *
 * Sizes follow BIP141 (weight = 4 x non-witness bytes + witness bytes,
 * vsize = ceil(weight / 4)), with every P2WPKH witness counted at its
 * largest (`P2WPKH_MAX_WITNESS_LEN`, 108 bytes): a signed transaction is
 * never larger than its estimate, so the fee rate it reaches is at least the
 * one asked for.
 *
 * This module does NOT talk to the node, the wallet or anyone: pure functions.
 */
import { DUST_LIMIT } from '../../protocol/tx/index.js';
import { P2WPKH_MAX_WITNESS_LEN } from '../wallet/index.js';

/** A P2WPKH output script: OP_0 PUSH20 (BIP141). */
export const P2WPKH_SPK_LEN = 22;

/** A fee and the virtual size it pays for: a fee rate, kept exact. */
export interface FeeAndSize {
  feeSats: bigint;
  vsize: bigint;
}

/** Bytes of a Bitcoin CompactSize integer. */
function compactSizeLen(n: number): number {
  return n < 0xfd ? 1 : n <= 0xffff ? 3 : n <= 0xffffffff ? 5 : 9;
}

/**
 * The largest vsize of a transaction with `inputs` P2WPKH inputs and outputs
 * of these script lengths (BIP141 weight; witness at its largest).
 * @throws {RangeError} with no input or no output.
 */
export function p2wpkhSpendVsize(inputs: number, outputSpkLens: readonly number[]): bigint {
  if (inputs < 1 || outputSpkLens.length < 1) throw new RangeError('a transaction has at least one input and one output');
  // version 4, locktime 4; each input: outpoint 36, empty scriptSig 1, nSequence 4.
  let base = 8 + compactSizeLen(inputs) + 41 * inputs + compactSizeLen(outputSpkLens.length);
  for (const len of outputSpkLens) base += 8 + compactSizeLen(len) + len;
  // segwit marker and flag (2) plus each input's witness stack (count, signature, pubkey).
  const witness = 2 + P2WPKH_MAX_WITNESS_LEN * inputs;
  return BigInt(Math.ceil((4 * base + witness) / 4));
}

/** `rate` x `vsize`: the fee that pays `rate` sat/vB for `vsize`. */
export function feeFor(feeRatePerVb: bigint, vsize: bigint): bigint {
  return feeRatePerVb * vsize;
}

/** Whether `a` pays a fee rate at least `feeRatePerVb` (exact: fee >= rate x vsize). */
export function reachesRate(a: FeeAndSize, feeRatePerVb: bigint): boolean {
  return a.feeSats >= feeRatePerVb * a.vsize;
}

/** Sum of fees and sizes: the fee rate of a package (parent, ancestors and child together). */
export function packageOf(parts: readonly FeeAndSize[]): FeeAndSize {
  return parts.reduce((s, p) => ({ feeSats: s.feeSats + p.feeSats, vsize: s.vsize + p.vsize }), { feeSats: 0n, vsize: 0n });
}

/** A fee rate in sat/vB for people and logs (two decimals); decisions use {@link reachesRate}. */
export function ratePerVb(a: FeeAndSize): number {
  return a.vsize === 0n ? 0 : Number((a.feeSats * 100n) / a.vsize) / 100;
}

/**
 * The fee of a CPFP child (of `childVsize`) that lifts its unconfirmed
 * ancestors (`stuck`: the parent and its own unconfirmed ancestors, fees
 * and sizes summed) to `feeRatePerVb` as a package: rate x (ancestors'
 * vsize + child vsize) - ancestors' fee. Miners choose by ancestor fee
 * rate (Core's mining score; bcoin's miner by descendant rate), so the
 * package confirms as one at that rate. Never below the child's own
 * minimum relay fee (1 sat/vB), which it reaches anyway when the rate is
 * higher than the ancestors'.
 * @throws {RangeError} when the ancestors already pay `feeRatePerVb`.
 */
export function cpfpChildFee(stuck: FeeAndSize, childVsize: bigint, feeRatePerVb: bigint): bigint {
  if (reachesRate(stuck, feeRatePerVb)) throw new RangeError('the transaction already pays this fee rate');
  const fee = feeRatePerVb * (stuck.vsize + childVsize) - stuck.feeSats;
  return fee < childVsize ? childVsize : fee;
}

/**
 * The fee of a BIP125 replacement of `vsize` for transactions `replaced`
 * (what it evicts, fees and sizes summed), paying at least `feeRatePerVb`:
 * at least the replaced fees (rule 3) plus its own size at the minimum
 * relay rate of 1 sat/vB (rule 4); its fee rate must be above the replaced
 * one's (rule 6), which the caller ensures by asking for a higher rate.
 */
export function replacementFee(replaced: FeeAndSize, vsize: bigint, feeRatePerVb: bigint): bigint {
  const byRate = feeRatePerVb * vsize;
  const byRules = replaced.feeSats + vsize; // rule 3 + rule 4 at 1 sat/vB
  return byRate > byRules ? byRate : byRules;
}

/** Whether an output value is below the dust limit (protocol/tx DUST_LIMIT, the one dust rule of hashdlc). */
export function isDust(valueSats: bigint): boolean {
  return valueSats < DUST_LIMIT;
}
