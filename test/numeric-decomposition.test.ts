import { describe, expect, it } from 'vitest';
import {
  composeDigits,
  compressRange,
  countRangePrefixes,
  decompose,
  maxOutcome,
  prefixRange,
} from '../protocol/numeric/index.js';
import { expectDlcError } from './helpers/expect-dlc-error.js';

/** Deterministic PRNG (mulberry32) so property tests are reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('decompose / composeDigits', () => {
  const cases: { n: bigint; base: number; nbDigits: number; digits: number[] }[] = [
    { n: 123456789n, base: 10, nbDigits: 9, digits: [1, 2, 3, 4, 5, 6, 7, 8, 9] },
    { n: 4321n, base: 2, nbDigits: 13, digits: [1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1] },
    { n: 0n, base: 8, nbDigits: 4, digits: [0, 0, 0, 0] },
    { n: 2n, base: 10, nbDigits: 2, digits: [0, 2] },
    { n: 1n, base: 2, nbDigits: 1, digits: [1] },
    { n: 171n, base: 16, nbDigits: 2, digits: [10, 11] },
    // u64 values stay exact (no f64 on the way).
    { n: 2n ** 64n - 1n, base: 2, nbDigits: 64, digits: new Array<number>(64).fill(1) },
    { n: 2n ** 63n + 1n, base: 2, nbDigits: 64, digits: [1, ...new Array<number>(62).fill(0), 1] },
  ];
  it.each(cases)('$n in base $base over $nbDigits digits', ({ n, base, nbDigits, digits }) => {
    expect(decompose(n, base, nbDigits)).toEqual(digits);
    expect(composeDigits(digits, base)).toBe(n);
  });

  const invalid: { name: string; run: () => unknown; code: string; reason: string }[] = [
    { name: 'negative outcome', run: () => decompose(-1n, 2, 4), code: 'INVALID_OUTCOME', reason: 'negative-outcome' },
    { name: 'too large', run: () => decompose(16n, 2, 4), code: 'INVALID_OUTCOME', reason: 'outcome-too-large' },
    { name: 'base 1', run: () => decompose(0n, 1, 4), code: 'INVALID_PARAMS', reason: 'invalid-base' },
    { name: 'zero digits', run: () => decompose(0n, 2, 0), code: 'INVALID_PARAMS', reason: 'invalid-nb-digits' },
    { name: 'digit >= base', run: () => composeDigits([0, 2], 2), code: 'INVALID_PARAMS', reason: 'invalid-digit' },
    { name: 'long prefix', run: () => prefixRange([0, 0, 0], 2, 2), code: 'INVALID_PARAMS', reason: 'prefix-too-long' },
  ];
  it.each(invalid)('rejects $name', ({ run, code, reason }) => expectDlcError(run, code, reason));

  it('prefixRange gives the covered interval', () => {
    expect(prefixRange([1, 3], 10, 4)).toEqual({ start: 1300n, end: 1399n });
    expect(prefixRange([], 2, 10)).toEqual({ start: 0n, end: 1023n });
    expect(prefixRange([1, 0, 1], 2, 3)).toEqual({ start: 5n, end: 5n });
    expect(maxOutcome(2, 20)).toBe(1048575n);
  });
});

describe('compressRange (NumericOutcomeCompression.md)', () => {
  it('the concrete base-10 example [135677, 138621]: 20 prefixes', () => {
    const got = compressRange(135677n, 138621n, 10, 6).map((p) => p.join(''));
    expect(got).toEqual([
      '135677', '135678', '135679', '13568', '13569', '1357', '1358', '1359',
      '136', '137',
      '1380', '1381', '1382', '1383', '1384', '1385', '13860', '13861', '138620', '138621',
    ]);
  });

  it('the concrete binary example [5677, 8621]: 13 prefixes', () => {
    // The prose lists 8620 and 8621 apart (14); its own backGroupings algorithm
    // (endpoint optimization) and rust-dlc merge them into one 13-digit prefix.
    const got = compressRange(5677n, 8621n, 2, 14).map((p) => p.join(''));
    expect(got).toEqual([
      '01011000101101', '0101100010111', '0101100011', '01011001', '0101101', '010111', '011',
      '100000', '1000010', '100001100', '10000110100', '100001101010', '1000011010110',
    ]);
  });

  const table: { start: bigint; end: bigint; base: number; nbDigits: number; expected: string[][] }[] = [
    // endpoint optimization: 22__ .. 29__, 3___, 4___ (spec "Optimizations")
    { start: 2200n, end: 4999n, base: 10, nbDigits: 4, expected: [['22', '23', '24', '25', '26', '27', '28', '29', '3', '4']] },
    // total optimization inside a shared prefix
    { start: 100n, end: 199n, base: 10, nbDigits: 3, expected: [['1']] },
    { start: 100n, end: 200n, base: 10, nbDigits: 3, expected: [['1', '200']] },
    // single outcome
    { start: 123n, end: 123n, base: 10, nbDigits: 3, expected: [['123']] },
    // ranges at 0 and at the maximum
    { start: 0n, end: 0n, base: 2, nbDigits: 4, expected: [['0000']] },
    { start: 0n, end: 5n, base: 2, nbDigits: 4, expected: [['00', '010']] },
    { start: 15n, end: 15n, base: 2, nbDigits: 4, expected: [['1111']] },
    { start: 5n, end: 15n, base: 2, nbDigits: 4, expected: [['0101', '011', '1']] },
    // the whole domain is the empty prefix
    { start: 0n, end: 15n, base: 2, nbDigits: 4, expected: [['']] },
    { start: 11n, end: 23n, base: 2, nbDigits: 5, expected: [['01011', '011', '10']] },
  ];
  it.each(table)('[$start, $end] base $base', ({ start, end, base, nbDigits, expected }) => {
    const got = compressRange(start, end, base, nbDigits);
    expect(got.map((p) => p.join(''))).toEqual(expected[0]);
    expect(countRangePrefixes(start, end, base, nbDigits)).toBe(got.length);
  });

  it('hexadecimal digits: [171, 210] in base 16', () => {
    expect(compressRange(171n, 210n, 16, 2)).toEqual([
      [10, 11], [10, 12], [10, 13], [10, 14], [10, 15], [11], [12], [13, 0], [13, 1], [13, 2],
    ]);
  });

  it('u64 domains: the top half of 2^64 is one prefix', () => {
    expect(compressRange(2n ** 63n, 2n ** 64n - 1n, 2, 64)).toEqual([[1]]);
    expect(compressRange(2n ** 64n - 2n, 2n ** 64n - 1n, 2, 64)).toEqual([[...new Array<number>(63).fill(1)]]);
  });

  it('rejects empty and out-of-domain ranges', () => {
    expectDlcError(() => compressRange(5n, 4n, 2, 4), 'INVALID_PARAMS', 'invalid-range');
    expectDlcError(() => compressRange(0n, 16n, 2, 4), 'INVALID_PARAMS', 'invalid-range');
    expectDlcError(() => countRangePrefixes(-1n, 3n, 2, 4), 'INVALID_PARAMS', 'invalid-range');
  });

  it('property: prefixes are ordered, disjoint, cover exactly [start, end] and are minimal', () => {
    const rand = rng(0xd1c);
    for (let iter = 0; iter < 300; iter++) {
      const base = [2, 3, 10, 16][iter % 4]!;
      const nbDigits = 1 + Math.floor(rand() * (base === 2 ? 12 : 4));
      const max = Number(maxOutcome(base, nbDigits));
      const a = Math.floor(rand() * (max + 1));
      const b = Math.floor(rand() * (max + 1));
      const [start, end] = a <= b ? [a, b] : [b, a];
      const prefixes = compressRange(BigInt(start), BigInt(end), base, nbDigits);
      // contiguous, ordered cover of exactly [start, end]
      let next = BigInt(start);
      for (const p of prefixes) {
        const r = prefixRange(p, base, nbDigits);
        expect(r.start).toBe(next);
        next = r.end + 1n;
      }
      expect(next).toBe(BigInt(end) + 1n);
      // minimal: no two neighbours form a bigger aligned block they could be merged into,
      // i.e. every prefix is the largest aligned block starting there that fits.
      for (const p of prefixes) {
        if (p.length === 0) continue;
        const parent = prefixRange(p.slice(0, -1), base, nbDigits);
        const own = prefixRange(p, base, nbDigits);
        const fitsParent = parent.start === own.start && parent.end <= BigInt(end);
        expect(fitsParent).toBe(false);
      }
      // brute force membership on small domains
      if (max < 5000) {
        const covered = new Set<number>();
        for (const p of prefixes) {
          const r = prefixRange(p, base, nbDigits);
          for (let x = Number(r.start); x <= Number(r.end); x++) {
            expect(covered.has(x)).toBe(false);
            covered.add(x);
          }
        }
        expect(covered.size).toBe(end - start + 1);
      }
    }
  });
});
