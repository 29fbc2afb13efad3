import { describe, expect, it } from 'vitest';
import type { OracleParams } from '../protocol/messages/types.js';
import {
  boundedDifferenceTuples,
  oracleCombinations,
  prefixRange,
  validateOracleParams,
} from '../protocol/numeric/index.js';
import { expectDlcError } from './helpers/expect-dlc-error.js';

const params = (maxErrorExp: number, minFailExp: number, maximizeCoverage: boolean): OracleParams => ({
  maxErrorExp,
  minFailExp,
  maximizeCoverage,
});

describe('oracleCombinations', () => {
  it('lexicographic order, primary (lowest index) first', () => {
    expect(oracleCombinations(4, 3)).toEqual([[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]]);
    expect(oracleCombinations(3, 2)).toEqual([[0, 1], [0, 2], [1, 2]]);
    expect(oracleCombinations(3, 3)).toEqual([[0, 1, 2]]);
    expect(oracleCombinations(3, 1)).toEqual([[0], [1], [2]]);
  });
  it('counts are n choose t', () => {
    expect(oracleCombinations(5, 3).length).toBe(10);
    expect(oracleCombinations(5, 2).length).toBe(10);
    expect(oracleCombinations(10, 5).length).toBe(252);
  });
  const bad: { n: number; t: number; reason: string }[] = [
    { n: 3, t: 0, reason: 'threshold-range' },
    { n: 3, t: 4, reason: 'threshold-range' },
    { n: 40, t: 20, reason: 'too-many-oracle-combinations' },
  ];
  it.each(bad)('rejects $t of $n', ({ n, t, reason }) => expectDlcError(() => oracleCombinations(n, t), 'INVALID_PARAMS', reason));
});

describe('validateOracleParams', () => {
  const bad: { name: string; base: number; nbDigits: number; p: OracleParams; reason: string }[] = [
    { name: 'base 10', base: 10, nbDigits: 10, p: params(2, 1, true), reason: 'oracle-params-base' },
    { name: 'min >= max', base: 2, nbDigits: 10, p: params(2, 2, true), reason: 'oracle-params-order' },
    { name: 'max >= digits', base: 2, nbDigits: 10, p: params(10, 1, true), reason: 'oracle-params-range' },
    { name: 'negative', base: 2, nbDigits: 10, p: params(2, -1, true), reason: 'oracle-params-range' },
  ];
  it.each(bad)('rejects $name', ({ base, nbDigits, p, reason }) =>
    expectDlcError(() => validateOracleParams(p, base, nbDigits), 'INVALID_PARAMS', reason),
  );
  it('accepts the vectors parameters', () => {
    expect(() => validateOracleParams(params(2, 1, false), 2, 10)).not.toThrow();
  });
});

describe('boundedDifferenceTuples, two oracles', () => {
  // Expected (primary, secondary) pairs: the expectations of rust-dlc's
  // dlc-trie multi_oracle.rs unit tests (maximised / minimised coverage),
  // which our 'spec' mode must reproduce (it honours maximizeCoverage).
  const p = {
    p0: [0, 0, 1, 0, 1, 1, 0, 0, 1],
    p1: [0, 1, 0, 0, 0, 0, 0, 1, 1],
    p2: [0, 1, 1, 1, 1, 1, 0, 1, 0],
    p3: [0, 1],
    p4: [0, 0, 1],
    p5: [1, 1, 1, 1, 1, 1, 1, 1],
    p6: [0, 0],
    p7: [1, 1],
  };
  const cases: { name: string; prefix: number[]; nbDigits: number; max: number[][][]; min: number[][][] }[] = [
    { name: 'small middle', prefix: p.p0, nbDigits: 14, max: [[p.p0, [0, 0, 1]]], min: [[p.p0, [0, 0, 1, 0, 1]]] },
    {
      name: 'small left',
      prefix: p.p1,
      nbDigits: 13,
      max: [[p.p1, [0, 0, 1]], [p.p1, [0, 1]]],
      min: [[p.p1, [0, 0, 1, 1, 1, 1]], [p.p1, [0, 1, 0, 0, 0]]],
    },
    {
      name: 'small right',
      prefix: p.p2,
      nbDigits: 13,
      max: [[p.p2, [0, 1]], [p.p2, [1, 0, 0]]],
      min: [[p.p2, [0, 1, 1, 1, 1]], [p.p2, [1, 0, 0, 0, 0, 0, 0]]],
    },
    {
      name: 'large',
      prefix: p.p3,
      nbDigits: 13,
      max: [[[0, 1, 0], [0, 0, 1]], [p.p3, p.p3], [[0, 1, 1], [1, 0, 0]]],
      min: [[[0, 1, 0, 0, 0, 0], [0, 0, 1, 1, 1, 1]], [p.p3, p.p3], [[0, 1, 1, 1, 1, 1], [1, 0, 0, 0, 0, 0]]],
    },
    {
      name: 'large, 15 digits',
      prefix: p.p4,
      nbDigits: 15,
      max: [[[0, 0, 1, 0, 0], [0, 0, 0, 1, 1]], [p.p4, p.p4], [[0, 0, 1, 1, 1], [0, 1, 0, 0, 0]]],
      min: [
        [[0, 0, 1, 0, 0, 0, 0, 0], [0, 0, 0, 1, 1, 1, 1, 1]],
        [p.p4, p.p4],
        [[0, 0, 1, 1, 1, 1, 1, 1], [0, 1, 0, 0, 0, 0, 0, 0]],
      ],
    },
    { name: 'small rightmost', prefix: p.p5, nbDigits: 13, max: [[p.p5, [1, 1]]], min: [[p.p5, [1, 1, 1, 1, 1]]] },
    {
      name: 'large leftmost',
      prefix: p.p6,
      nbDigits: 13,
      max: [[p.p6, p.p6], [[0, 0, 1], [0, 1, 0]]],
      min: [[p.p6, p.p6], [[0, 0, 1, 1, 1, 1], [0, 1, 0, 0, 0, 0]]],
    },
    {
      name: 'large rightmost',
      prefix: p.p7,
      nbDigits: 14,
      max: [[[1, 1, 0, 0], [1, 0, 1, 1]], [p.p7, p.p7]],
      min: [[[1, 1, 0, 0, 0, 0, 0], [1, 0, 1, 1, 1, 1, 1]], [p.p7, p.p7]],
    },
  ];
  it.each(cases)('$name', ({ prefix, nbDigits, max, min }) => {
    expect(boundedDifferenceTuples(prefix, nbDigits, 2, params(11, 7, true), 'spec')).toEqual(max);
    expect(boundedDifferenceTuples(prefix, nbDigits, 2, params(11, 7, false), 'spec')).toEqual(min);
    // vectors mode always maximises coverage (dlc-vectors README item 1)
    expect(boundedDifferenceTuples(prefix, nbDigits, 2, params(11, 7, false), 'vectors')).toEqual(max);
  });

  it('property: every secondary prefix is within maxError of the primary one and covers minSupport', () => {
    // MultiOracle.md guarantees, checked on all prefixes of a 10-digit domain
    for (const [maxErrorExp, minFailExp] of [[2, 1], [4, 1], [5, 3]] as const) {
      for (const maximize of [true, false]) {
        for (let len = 1; len <= 10; len++) {
          for (let v = 0; v < 1 << len; v += Math.max(1, (1 << len) >> 5)) {
            const prefix = [...v.toString(2).padStart(len, '0')].map(Number);
            const tuples = boundedDifferenceTuples(prefix, 10, 2, params(maxErrorExp, minFailExp, maximize), 'spec');
            const main = prefixRange(prefix, 2, 10);
            let lo = main.start;
            let hi = main.end;
            for (const [primary, secondary] of tuples) {
              const a = prefixRange(primary!, 2, 10);
              const b = prefixRange(secondary!, 2, 10);
              // primary parts stay inside the primary CET
              expect(a.start >= main.start && a.end <= main.end).toBe(true);
              if (primary === prefix && secondary === prefix) continue; // large CET's middle tuple
              // any two outcomes of a tuple differ by less than maxError
              const span = (b.end > a.end ? b.end : a.end) - (b.start < a.start ? b.start : a.start);
              expect(span < 1n << BigInt(maxErrorExp)).toBe(true);
              if (b.start < lo) lo = b.start;
              if (b.end > hi) hi = b.end;
            }
            // secondary coverage reaches minSupport on both sides (or the domain edge)
            const minSupport = 1n << BigInt(minFailExp);
            expect(lo === 0n || main.start - lo >= minSupport).toBe(true);
            expect(hi === 1023n || hi - main.end >= minSupport).toBe(true);
          }
        }
      }
    }
  });
});

describe('boundedDifferenceTuples, three oracles', () => {
  it('rust-dlc compute_outcome_three_oracles: secondaries each on one of two prefixes, last varying fastest', () => {
    expect(boundedDifferenceTuples([0, 1, 0], 3, 3, params(2, 1, true), 'vectors')).toEqual([
      [[0, 1, 0], [0], [0]],
      [[0, 1, 0], [0], [1, 0]],
      [[0, 1, 0], [1, 0], [0]],
      [[0, 1, 0], [1, 0], [1, 0]],
    ]);
  });

  it('large CET: vectors keep secondaries on the inner prefix, the spec text on the middle one', () => {
    // prefix [0,1] over 4 digits = [4, 7]; maxErrorExp 2 -> large; edges at 4 and 7
    const vec = boundedDifferenceTuples([0, 1], 4, 3, params(2, 1, true), 'vectors');
    expect(vec).toEqual([
      // left edge: primary on inner [0,1,0] (4-5), secondaries inner or outer [0,0,1] (2-3), not both inner
      [[0, 1, 0], [0, 0, 1], [0, 0, 1]],
      [[0, 1, 0], [0, 0, 1], [0, 1, 0]],
      [[0, 1, 0], [0, 1, 0], [0, 0, 1]],
      [[0, 1], [0, 1], [0, 1]],
      // right edge: inner [0,1,1] (6-7), outer [1,0,0] (8-9)
      [[0, 1, 1], [0, 1, 1], [1, 0, 0]],
      [[0, 1, 1], [1, 0, 0], [0, 1, 1]],
      [[0, 1, 1], [1, 0, 0], [1, 0, 0]],
    ]);
    const spec = boundedDifferenceTuples([0, 1], 4, 3, params(2, 1, true), 'spec');
    expect(spec).toEqual([
      [[0, 1, 0], [0, 0, 1], [0, 0, 1]],
      [[0, 1, 0], [0, 0, 1], [0, 1]],
      [[0, 1, 0], [0, 1], [0, 0, 1]],
      [[0, 1], [0, 1], [0, 1]],
      [[0, 1, 1], [0, 1], [1, 0, 0]],
      [[0, 1, 1], [1, 0, 0], [0, 1]],
      [[0, 1, 1], [1, 0, 0], [1, 0, 0]],
    ]);
    // MultiOracle.md count: 2^n - 1 aggregate CETs for a large CET (n = 3)
    expect(spec.length).toBe(7);
  });

  it('one oracle of a 1-of-n combination signs the prefix alone', () => {
    expect(boundedDifferenceTuples([1, 0], 4, 1, params(2, 1, true))).toEqual([[[1, 0]]]);
  });
});
