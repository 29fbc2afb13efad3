/**
 * Digit decomposition of numeric outcomes and compression of an outcome range
 * into digit prefixes (dlcspecs NumericOutcomeCompression.md, "Algorithms").
 *
 * A digit prefix of length m stands for every outcome whose first m digits (most
 * significant first, `nbDigits` digits in all) equal it; the empty prefix stands
 * for the whole domain [0, base^nbDigits - 1].
 *
 * This module does NOT compute payouts, adaptor points or oracle messages (the
 * string each digit is signed as); it only works on numbers and digit arrays.
 * Values are bigint throughout, so any u64 outcome is exact.
 */

import { DlcError } from '../errors.js';

/** Largest base accepted: the dlcspecs wire form carries it as a u16. */
const MAX_BASE = 0xffff;

function checkBaseAndDigits(base: number, nbDigits: number): void {
  if (!Number.isInteger(base) || base < 2 || base > MAX_BASE) {
    throw new DlcError('INVALID_PARAMS', `digit base must be an integer in [2, ${MAX_BASE}], got ${base}`, {
      reason: 'invalid-base',
    });
  }
  if (!Number.isInteger(nbDigits) || nbDigits < 1 || nbDigits > 0xffff) {
    throw new DlcError('INVALID_PARAMS', `number of digits must be an integer in [1, 65535], got ${nbDigits}`, {
      reason: 'invalid-nb-digits',
    });
  }
}

/**
 * The largest outcome `base^nbDigits - 1` an unsigned digit decomposition event
 * can attest.
 *
 * @throws {DlcError} INVALID_PARAMS if base or nbDigits is out of range.
 */
export function maxOutcome(base: number, nbDigits: number): bigint {
  checkBaseAndDigits(base, nbDigits);
  return BigInt(base) ** BigInt(nbDigits) - 1n;
}

/**
 * Digits of `n` in `base`, most significant first, left-padded with zeros to
 * `nbDigits` (NumericOutcomeCompression.md `decompose`).
 *
 * @throws {DlcError} INVALID_OUTCOME if n is negative or needs more than nbDigits digits;
 *   INVALID_PARAMS if base or nbDigits is out of range.
 */
export function decompose(n: bigint, base: number, nbDigits: number): number[] {
  checkBaseAndDigits(base, nbDigits);
  if (n < 0n) {
    throw new DlcError('INVALID_OUTCOME', `cannot decompose negative outcome ${n}`, { reason: 'negative-outcome' });
  }
  const b = BigInt(base);
  const digits = new Array<number>(nbDigits);
  let rest = n;
  for (let i = nbDigits - 1; i >= 0; i--) {
    digits[i] = Number(rest % b);
    rest /= b;
  }
  if (rest !== 0n) {
    throw new DlcError('INVALID_OUTCOME', `outcome ${n} does not fit in ${nbDigits} base-${base} digits`, {
      reason: 'outcome-too-large',
    });
  }
  return digits;
}

/**
 * The number whose base-`base` digits (most significant first) are `digits`.
 *
 * @throws {DlcError} INVALID_PARAMS if a digit is not an integer in [0, base - 1].
 */
export function composeDigits(digits: readonly number[], base: number): bigint {
  const b = BigInt(base);
  let n = 0n;
  for (const d of digits) {
    if (!Number.isInteger(d) || d < 0 || d >= base) {
      throw new DlcError('INVALID_PARAMS', `digit ${d} is not in [0, ${base - 1}]`, { reason: 'invalid-digit' });
    }
    n = n * b + BigInt(d);
  }
  return n;
}

/**
 * The inclusive outcome interval a digit prefix covers.
 *
 * @throws {DlcError} INVALID_PARAMS if the prefix is longer than nbDigits or has a bad digit.
 */
export function prefixRange(
  prefix: readonly number[],
  base: number,
  nbDigits: number,
): { start: bigint; end: bigint } {
  checkBaseAndDigits(base, nbDigits);
  if (prefix.length > nbDigits) {
    throw new DlcError('INVALID_PARAMS', `prefix of ${prefix.length} digits is longer than ${nbDigits}`, {
      reason: 'prefix-too-long',
    });
  }
  const width = BigInt(base) ** BigInt(nbDigits - prefix.length);
  const start = composeDigits(prefix, base) * width;
  return { start, end: start + width - 1n };
}

/**
 * Calls `emit(prefix)` for each digit prefix of the minimal cover of the
 * inclusive range [start, end], in increasing outcome order.
 *
 * The cover is the canonical one of NumericOutcomeCompression.md (front
 * groupings, middle grouping, back groupings, with the endpoint and total
 * optimizations): walking from `start`, always take the largest block
 * `base^k` outcomes wide that is aligned on `start` and does not pass `end`.
 * Each block is one prefix of `nbDigits - k` digits. The order (left to right)
 * is the order rust-dlc and the dlcspecs vectors sign adaptor signatures in.
 */
function forEachPrefix(
  start: bigint,
  end: bigint,
  base: number,
  nbDigits: number,
  emit: (prefix: number[]) => void,
): void {
  const max = maxOutcome(base, nbDigits);
  if (start < 0n || end > max || start > end) {
    throw new DlcError('INVALID_PARAMS', `range [${start}, ${end}] is not within [0, ${max}]`, {
      reason: 'invalid-range',
    });
  }
  const b = BigInt(base);
  let cur = start;
  while (cur <= end) {
    // Grow the block while it stays aligned on `cur` and inside [cur, end].
    let k = 0;
    let width = 1n;
    while (k < nbDigits) {
      const next = width * b;
      if (cur % next !== 0n || cur + next - 1n > end) break;
      width = next;
      k++;
    }
    const len = nbDigits - k;
    const prefix = new Array<number>(len);
    let rest = cur / width;
    for (let i = len - 1; i >= 0; i--) {
      prefix[i] = Number(rest % b);
      rest /= b;
    }
    emit(prefix);
    cur += width;
  }
}

/**
 * Compresses the inclusive outcome range [start, end] into the minimal list of
 * digit prefixes covering exactly it (NumericOutcomeCompression.md
 * `groupByIgnoringDigits`), ordered by increasing outcome.
 *
 * The whole domain compresses to one empty prefix; callers that build adaptor
 * points must reject that case (a prefix needs at least one attested digit).
 *
 * @throws {DlcError} INVALID_PARAMS if the range is empty or outside [0, base^nbDigits - 1],
 *   or base/nbDigits are out of range.
 */
export function compressRange(start: bigint, end: bigint, base: number, nbDigits: number): number[][] {
  const out: number[][] = [];
  forEachPrefix(start, end, base, nbDigits, (p) => out.push(p));
  return out;
}

/**
 * Number of prefixes `compressRange(start, end, base, nbDigits)` returns,
 * computed without building them.
 *
 * @throws {DlcError} as {@link compressRange}.
 */
export function countRangePrefixes(start: bigint, end: bigint, base: number, nbDigits: number): number {
  const max = maxOutcome(base, nbDigits);
  if (start < 0n || end > max || start > end) {
    throw new DlcError('INVALID_PARAMS', `range [${start}, ${end}] is not within [0, ${max}]`, {
      reason: 'invalid-range',
    });
  }
  const b = BigInt(base);
  let count = 0;
  let cur = start;
  while (cur <= end) {
    let width = 1n;
    for (let k = 0; k < nbDigits; k++) {
      const next = width * b;
      if (cur % next !== 0n || cur + next - 1n > end) break;
      width = next;
    }
    count++;
    cur += width;
  }
  return count;
}

/** @internal Same walk as {@link compressRange}, streaming; used by the CET planner. */
export { forEachPrefix as forEachRangePrefix };
