/**
 * Multiple oracles (dlcspecs MultiOracle.md): the t-of-n oracle combinations,
 * and, for numeric events with bounded differences between oracles, the digit
 * prefixes the other oracles of a combination must sign for each prefix the
 * primary oracle signs ("2-of-2 Oracles with Bounded Error", "n-of-n", "t-of-n").
 *
 * Conformance (see ./payout.ts for the modes): `'vectors'` does what rust-dlc
 * (`dlc-trie` `multi_oracle.rs`) and the dlcspecs vectors do: coverage is always
 * maximised whatever `maximizeCoverage` says, and on a large primary prefix the
 * secondary oracles sign the inner prefix or the outer one (dlc-vectors README
 * items 1 and 2). `'spec'` honours `maximizeCoverage` and, on a large primary
 * prefix, lets secondaries sign the outer prefix or the middle (large) one as
 * MultiOracle.md "n-of-n Oracles with Bounded Error" says.
 *
 * Only base 2 is supported with bounded differences (MultiOracle.md defines the
 * algorithm on binary digits), and all oracles must share the digit count.
 * This module does NOT compute adaptor points or payouts.
 */

import { DlcError } from '../errors.js';
import type { OracleParams } from '../messages/types.js';
import { decompose, prefixRange } from './decomposition.js';
import type { Conformance } from './payout.js';

function invalid(message: string, reason: string): DlcError {
  return new DlcError('INVALID_PARAMS', message, { reason });
}

/** Default cap on n-choose-t, far above any real oracle set; see {@link oracleCombinations}. */
const MAX_COMBINATIONS = 100_000;

/**
 * All t-element subsets of oracle indexes [0, n), each ascending, in
 * lexicographic order: [0,1,2], [0,1,3], ... (MultiOracle.md "t-of-n Oracles":
 * every combination of t oracles; the order is rust-dlc's `CombinationIterator`,
 * which the adaptor signatures of the dlcspecs vectors follow). The first
 * oracle of each combination is its primary oracle.
 *
 * @throws {DlcError} INVALID_PARAMS if not 1 <= t <= n, or there would be more
 *   than 100000 combinations.
 */
export function oracleCombinations(n: number, t: number): number[][] {
  if (!Number.isInteger(n) || !Number.isInteger(t) || t < 1 || t > n) {
    throw invalid(`threshold ${t} is not in [1, ${n}]`, 'threshold-range');
  }
  let total = 1;
  for (let i = 0; i < t; i++) total = (total * (n - i)) / (i + 1);
  if (total > MAX_COMBINATIONS) {
    throw invalid(`${n} choose ${t} = ${total} oracle combinations is too many`, 'too-many-oracle-combinations');
  }
  const out: number[][] = [];
  const sel = Array.from({ length: t }, (_, i) => i);
  for (;;) {
    out.push(sel.slice());
    let i = t - 1;
    while (i >= 0 && sel[i] === n - t + i) i--;
    if (i < 0) return out;
    sel[i]!++;
    for (let j = i + 1; j < t; j++) sel[j] = sel[j - 1]! + 1;
  }
}

/**
 * Validates bounded-difference oracle parameters for oracles with `nbDigits`
 * base-`base` digits:
 * 1. base is 2 (MultiOracle.md works on binary digits);
 * 2. `minFailExp < maxErrorExp` (MultiOracle.md: minSupportExp strictly below
 *    maxErrorExp; the wire field `min_fail_exp` is that exponent);
 * 3. `maxErrorExp < nbDigits`, so every secondary prefix keeps at least one digit.
 *
 * @throws {DlcError} INVALID_PARAMS naming the broken rule in `reason`.
 */
export function validateOracleParams(params: OracleParams, base: number, nbDigits: number): void {
  if (base !== 2) throw invalid('bounded oracle differences need base-2 events', 'oracle-params-base');
  const { maxErrorExp, minFailExp } = params;
  if (!Number.isInteger(maxErrorExp) || !Number.isInteger(minFailExp) || minFailExp < 0) {
    throw invalid('oracle parameter exponents must be non-negative integers', 'oracle-params-range');
  }
  if (minFailExp >= maxErrorExp) {
    throw invalid('minFailExp must be below maxErrorExp', 'oracle-params-order');
  }
  if (maxErrorExp >= nbDigits) {
    throw invalid(`maxErrorExp must be below the ${nbDigits} digits of the event`, 'oracle-params-range');
  }
}

function lexLess(a: readonly number[], b: readonly number[]): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return a.length < b.length;
}

/** First `nbDigits - ignored` binary digits of `value` (rust-dlc `num_to_vec`; MultiOracle.md `numToVec`). */
function numToVec(value: bigint, nbDigits: number, ignored: number): number[] {
  if (value < 0n) throw invalid('bounded-difference prefix below outcome 0', 'oracle-params-range');
  return decompose(value, 2, nbDigits).slice(0, nbDigits - ignored);
}

/** Longest common prefix of the binary digits of a and b. */
function commonPrefix(a: bigint, b: bigint, nbDigits: number): number[] {
  const da = decompose(a, 2, nbDigits);
  const db = decompose(b, 2, nbDigits);
  let i = 0;
  while (i < nbDigits && da[i] === db[i]) i++;
  return da.slice(0, i);
}

/** MultiOracle.md: first (nbDigits - maxErrorExp) digits of `value`, then its following digits while they equal `tail`. */
function coveringPrefix(value: bigint, nbDigits: number, maxErrorExp: number, tail: number): number[] {
  const d = decompose(value, 2, nbDigits);
  let len = nbDigits - maxErrorExp;
  while (len < nbDigits && d[len] === tail) len++;
  return d.slice(0, len);
}

/**
 * One tuple: the primary signs `main`, every secondary signs `secondary`.
 */
function single(main: readonly number[], secondary: readonly number[], t: number): (readonly number[])[] {
  const out: (readonly number[])[] = [main];
  for (let i = 1; i < t; i++) out.push(secondary);
  return out;
}

/**
 * All 2^(t-1) tuples where the primary signs `main` and each secondary signs
 * `a` or `b`, in lexicographic order with the lexicographically smaller of
 * a, b first and the last oracle varying fastest (rust-dlc
 * `double_covering_prefix_combinations`, the vectors' order).
 */
function double(
  main: readonly number[],
  a: readonly number[],
  b: readonly number[],
  t: number,
): (readonly number[])[][] {
  const [first, second] = lexLess(b, a) ? [b, a] : [a, b];
  const out: (readonly number[])[][] = [];
  const secondaries = t - 1;
  for (let i = 0; i < 1 << secondaries; i++) {
    const tuple: (readonly number[])[] = [main];
    for (let k = 1; k <= secondaries; k++) tuple.push((i >> (secondaries - k)) & 1 ? second : first);
    out.push(tuple);
  }
  return out;
}

/**
 * {@link double} without the tuple in which every secondary signs `stay`
 * (MultiOracle.md large-CET case: at least one secondary is outside).
 */
function doubleExcludingAll(
  main: readonly number[],
  stay: readonly number[],
  outer: readonly number[],
  t: number,
): (readonly number[])[][] {
  const all = double(main, stay, outer, t);
  // `stay` is the smaller one exactly when the all-`stay` tuple comes first.
  return lexLess(outer, stay) ? all.slice(0, -1) : all.slice(1);
}

/**
 * For a digit prefix `prefix` signed by the primary oracle of a t-oracle
 * combination, the tuples of prefixes (index 0 the primary's, then one per
 * secondary in combination order) that together must be attested for the CET
 * of `prefix` (MultiOracle.md "2-of-2 Oracles with Bounded Error" and its n-of-n
 * extension). With t = 1 it is just `[[prefix]]`.
 *
 * Prefix arrays may be shared between tuples; treat them as read-only.
 *
 * @throws {DlcError} INVALID_PARAMS if the parameters are invalid
 *   ({@link validateOracleParams}) or the prefix does not fit nbDigits.
 */
export function boundedDifferenceTuples(
  prefix: readonly number[],
  nbDigits: number,
  t: number,
  params: OracleParams,
  conformance: Conformance = 'vectors',
): (readonly number[])[][] {
  validateOracleParams(params, 2, nbDigits);
  if (t === 1) return [[prefix]];
  const maxErrorExp = params.maxErrorExp;
  const minSupportExp = params.minFailExp;
  // dlc-vectors README item 1: rust-dlc always maximises coverage.
  const maximize = conformance === 'vectors' ? true : params.maximizeCoverage;
  const maxError = 1n << BigInt(maxErrorExp);
  const halfMaxError = maxError >> 1n;
  const minSupport = 1n << BigInt(minSupportExp);
  const maxNum = (1n << BigInt(nbDigits)) - 1n;
  const { start, end } = prefixRange(prefix, 2, nbDigits);
  const suffixLen = nbDigits - prefix.length;

  if (suffixLen < maxErrorExp) {
    // Small CET: it lies inside one maxError-aligned interval [leftBound, rightBound].
    const leftBound = (start >> BigInt(maxErrorExp)) << BigInt(maxErrorExp);
    const rightBound = leftBound + maxError - 1n;
    const errorPrefix = numToVec(leftBound, nbDigits, maxErrorExp);
    if (start - leftBound >= minSupport && end <= rightBound - minSupport) {
      // Middle CET: one secondary CET.
      const support = maximize ? errorPrefix : commonPrefix(start - minSupport, end + minSupport, nbDigits);
      return [single(prefix, support, t)];
    }
    if (start - leftBound < minSupport) {
      // Left CET: the secondary may be just left of leftBound.
      const right = maximize ? errorPrefix : coveringPrefix(end + minSupport, nbDigits, maxErrorExp, 0);
      if (leftBound === 0n) return [single(prefix, right, t)];
      const left = maximize
        ? numToVec(leftBound - halfMaxError, nbDigits, maxErrorExp - 1)
        : coveringPrefix(start - minSupport, nbDigits, maxErrorExp, 1);
      return double(prefix, right, left, t);
    }
    // Right CET: the secondary may be just right of rightBound.
    const left = maximize ? errorPrefix : coveringPrefix(start - minSupport, nbDigits, maxErrorExp, 1);
    if (rightBound === maxNum) return [single(prefix, left, t)];
    const right = maximize
      ? numToVec(rightBound + 1n, nbDigits, maxErrorExp - 1)
      : coveringPrefix(end + minSupport, nbDigits, maxErrorExp, 0);
    return double(prefix, left, right, t);
  }

  // Large CET: a middle tuple, plus edge tuples where the primary signs an
  // inner prefix at an edge of the CET and some secondary signs just outside it.
  const edgeIgnored = maximize ? maxErrorExp - 1 : minSupportExp;
  const edgeWidth = maximize ? halfMaxError : minSupport;
  const out: (readonly number[])[][] = [];
  if (start !== 0n) {
    const inner = numToVec(start, nbDigits, edgeIgnored);
    const outer = numToVec(start - edgeWidth, nbDigits, edgeIgnored);
    // README item 2: the vectors keep the other secondaries on `inner`; the spec
    // text keeps them on the middle (whole) CET.
    const stay = conformance === 'vectors' ? inner : prefix;
    out.push(...doubleExcludingAll(inner, stay, outer, t));
  }
  out.push(single(prefix, prefix, t));
  if (end !== maxNum) {
    const inner = numToVec(end - edgeWidth + 1n, nbDigits, edgeIgnored);
    const outer = numToVec(end + 1n, nbDigits, edgeIgnored);
    const stay = conformance === 'vectors' ? inner : prefix;
    out.push(...doubleExcludingAll(inner, stay, outer, t));
  }
  return out;
}
