import { describe, expect, it } from 'vitest';
import type {
  ContractDescriptor,
  ContractInfoInner,
  OracleAnnouncement,
  OracleParams,
  PayoutPoint,
} from '../protocol/messages/types.js';
import { cetCount, compressRange, contractInfoCetCount, planCets, planContractCets } from '../protocol/numeric/index.js';
import { expectDlcError } from './helpers/expect-dlc-error.js';

// The plan does no cryptography: keys and nonces only need the right count.
const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

function enumOracle(outcomes: string[]): OracleAnnouncement {
  return {
    announcementSignature: bytes(64, 1),
    oraclePublicKey: bytes(32, 2),
    oracleEvent: {
      oracleNonces: [bytes(32, 3)],
      eventMaturityEpoch: 1700000000,
      eventDescriptor: { enumEvent: { outcomes } },
      eventId: 'e',
    },
  };
}

function numericOracle(nbDigits: number, base = 2, extra: { isSigned?: boolean; nonces?: number } = {}): OracleAnnouncement {
  return {
    announcementSignature: bytes(64, 1),
    oraclePublicKey: bytes(32, 2),
    oracleEvent: {
      oracleNonces: Array.from({ length: extra.nonces ?? nbDigits }, (_, i) => bytes(32, i)),
      eventMaturityEpoch: 1700000000,
      eventDescriptor: {
        digitDecompositionEvent: { base, isSigned: extra.isSigned ?? false, unit: 'sats', precision: 0, nbDigits },
      },
      eventId: 'n',
    },
  };
}

const pt = (x: bigint | number, y: bigint | number): PayoutPoint => ({
  eventOutcome: BigInt(x),
  outcomePayout: BigInt(y),
  extraPrecision: 0,
});

function numericDescriptor(numDigits: number, points: PayoutPoint[], roundingMod = 1n): ContractDescriptor {
  return {
    numericOutcomeContractDescriptor: {
      numDigits,
      payoutFunction: {
        payoutFunctionPieces: points.slice(0, -1).map((p) => ({
          endPoint: p,
          payoutCurvePiece: { polynomialPayoutCurvePiece: { payoutPoints: [] } },
        })),
        lastEndpoint: points[points.length - 1]!,
      },
      roundingIntervals: { intervals: [{ beginInterval: 0n, roundingMod }] },
    },
  };
}

const enumDescriptor = (payouts: [string, bigint][]): ContractDescriptor => ({
  enumeratedContractDescriptor: { payouts: payouts.map(([outcome, localPayout]) => ({ outcome, localPayout })) },
});

const multi = (anns: OracleAnnouncement[], threshold: number, oracleParams: OracleParams | null = null): ContractInfoInner['oracleInfo'] => ({
  multi: { threshold, oracleAnnouncements: anns, oracleParams },
});

/** A 4-digit call-like contract: 0 until 4, line to 10 at 8, flat after. */
const small = (): ContractDescriptor => numericDescriptor(4, [pt(0, 0), pt(4, 0), pt(8, 10), pt(15, 10)]);

describe('planContractCets: enum', () => {
  it('one CET per outcome; per CET, every 2-of-3 combination; digits index each oracle own outcome list', () => {
    const inner: ContractInfoInner = {
      contractDescriptor: enumDescriptor([['up', 100n], ['down', 0n]]),
      oracleInfo: multi([enumOracle(['up', 'down']), enumOracle(['down', 'up']), enumOracle(['up', 'down'])], 2),
    };
    const plan = planContractCets(inner, 100n);
    expect(plan.cets).toEqual([
      { offerPayout: 100n, acceptPayout: 0n, contractIndex: 0, enumOutcome: 'up' },
      { offerPayout: 0n, acceptPayout: 100n, contractIndex: 0, enumOutcome: 'down' },
    ]);
    expect(plan.adaptorSlots.map((s) => [s.cetIndex, s.oracles.map((o) => `${o.oracleIndex}:${o.digits[0]}`)])).toEqual([
      [0, ['0:0', '1:1']],
      [0, ['0:0', '2:0']],
      [0, ['1:1', '2:0']],
      [1, ['0:1', '1:0']],
      [1, ['0:1', '2:1']],
      [1, ['1:0', '2:1']],
    ]);
    expect(cetCount(inner, 100n)).toEqual({ cets: 2, adaptorSignatures: 6 });
  });
});

describe('planContractCets: numeric', () => {
  it('single oracle: one slot per prefix, prefixes of each range in order', () => {
    const plan = planContractCets({ contractDescriptor: small(), oracleInfo: { single: { oracleAnnouncement: numericOracle(4) } } }, 10n);
    // payouts: 0..4 -> 0, 5 -> 3 (2.5 ties up), 6 -> 5, 7 -> 8 (7.5), 8..15 -> 10
    expect(plan.cets.map((c) => `${c.range!.start}+${c.range!.count}:${c.offerPayout}/${c.acceptPayout}`)).toEqual([
      '0+5:0/10',
      '5+1:3/7',
      '6+1:5/5',
      '7+1:8/2',
      '8+8:10/0',
    ]);
    expect(plan.adaptorSlots.map((s) => `${s.cetIndex}:${s.oracles[0]!.digits.join('')}`)).toEqual([
      '0:00', '0:0100', '1:0101', '2:0110', '3:0111', '4:1',
    ]);
  });

  it('base-10 oracles use base-10 prefixes', () => {
    const d = numericDescriptor(3, [pt(0, 0), pt(500, 0), pt(501, 1), pt(999, 1)]);
    const plan = planContractCets({ contractDescriptor: d, oracleInfo: { single: { oracleAnnouncement: numericOracle(3, 10) } } }, 1n);
    expect(plan.adaptorSlots.map((s) => s.oracles[0]!.digits.join(''))).toEqual([
      ...compressRange(0n, 500n, 10, 3).map((p) => p.join('')),
      ...compressRange(501n, 999n, 10, 3).map((p) => p.join('')),
    ]);
    expect(plan.adaptorSlots.length).toBe(6 + 22); // 0__..4__, 500 | 501..509, 51_..59_, 6__..9__
  });

  it('t-of-n without difference params: every combination signs the same prefix', () => {
    const inner: ContractInfoInner = { contractDescriptor: small(), oracleInfo: multi([numericOracle(4), numericOracle(4), numericOracle(4)], 2) };
    const plan = planContractCets(inner, 10n);
    expect(plan.adaptorSlots.length).toBe(6 * 3);
    expect(plan.adaptorSlots.slice(0, 3).map((s) => s.oracles.map((o) => `${o.oracleIndex}:${o.digits.join('')}`))).toEqual([
      ['0:00', '1:00'],
      ['0:00', '2:00'],
      ['1:00', '2:00'],
    ]);
  });

  it('bounded differences: for each prefix, each combination, each tuple (primary first)', () => {
    const inner: ContractInfoInner = {
      contractDescriptor: small(),
      oracleInfo: multi([numericOracle(4), numericOracle(4)], 2, { maxErrorExp: 2, minFailExp: 1, maximizeCoverage: true }),
    };
    const plan = planContractCets(inner, 10n);
    const first = plan.adaptorSlots.filter((s) => s.cetIndex === 0).map((s) => s.oracles.map((o) => o.digits.join('')));
    // prefix 00 = [0,3] is a large CET at 0: middle tuple, then right edge (inner 001, outer 010)
    // prefix 0100 = [4,4], small and at a maxError boundary: secondary on 01 or 00 1
    expect(first).toEqual([
      ['00', '00'],
      ['001', '010'],
      ['0100', '001'],
      ['0100', '01'],
    ]);
    expect(cetCount(inner, 10n)).toEqual({ cets: plan.cets.length, adaptorSignatures: plan.adaptorSlots.length });
  });

  it('1-of-2 with difference params: each oracle alone', () => {
    const inner: ContractInfoInner = {
      contractDescriptor: small(),
      oracleInfo: multi([numericOracle(4), numericOracle(4)], 1, { maxErrorExp: 2, minFailExp: 1, maximizeCoverage: true }),
    };
    const plan = planContractCets(inner, 10n);
    expect(plan.adaptorSlots.length).toBe(12);
    expect(plan.adaptorSlots.slice(0, 2).map((s) => s.oracles)).toEqual([
      [{ oracleIndex: 0, digits: [0, 0] }],
      [{ oracleIndex: 1, digits: [0, 0] }],
    ]);
  });
});

describe('planCets: disjoint contracts', () => {
  it('concatenates CETs and slots, indexes continue', () => {
    const plan = planCets({
      disjointContractInfo: {
        totalCollateral: 10n,
        contractInfos: [
          { contractDescriptor: enumDescriptor([['a', 10n], ['b', 0n]]), oracleInfo: { single: { oracleAnnouncement: enumOracle(['a', 'b']) } } },
          { contractDescriptor: small(), oracleInfo: { single: { oracleAnnouncement: numericOracle(4) } } },
        ],
      },
    });
    expect(plan.contracts).toEqual([
      { kind: 'enum', cetOffset: 0, cetCount: 2, slotOffset: 0, slotCount: 2 },
      { kind: 'numeric', cetOffset: 2, cetCount: 5, slotOffset: 2, slotCount: 6 },
    ]);
    expect(plan.adaptorSlots[2]).toEqual({ cetIndex: 2, contractIndex: 1, localCetIndex: 0, oracles: [{ oracleIndex: 0, digits: [0, 0] }] });
    expect(plan.cets[6]!.contractIndex).toBe(1);
  });
});

describe('validation', () => {
  const numericSingle = (ann: OracleAnnouncement): ContractInfoInner => ({ contractDescriptor: small(), oracleInfo: { single: { oracleAnnouncement: ann } } });
  const cases: { name: string; inner: ContractInfoInner; total?: bigint; reason: string }[] = [
    { name: 'signed event', inner: numericSingle(numericOracle(4, 2, { isSigned: true })), reason: 'signed-event-unsupported' },
    { name: 'digit count mismatch', inner: numericSingle(numericOracle(5)), reason: 'num-digits-mismatch' },
    { name: 'nonce count', inner: numericSingle(numericOracle(4, 2, { nonces: 3 })), reason: 'oracle-nonce-count' },
    { name: 'enum oracle for numeric', inner: numericSingle(enumOracle(['a'])), reason: 'oracle-event-kind' },
    {
      name: 'different bases',
      inner: { contractDescriptor: small(), oracleInfo: multi([numericOracle(4), numericOracle(4, 3)], 2) },
      reason: 'oracle-base-mismatch',
    },
    {
      name: 'threshold above oracle count',
      inner: { contractDescriptor: small(), oracleInfo: multi([numericOracle(4)], 2) },
      reason: 'threshold-range',
    },
    { name: 'no oracle', inner: { contractDescriptor: small(), oracleInfo: multi([], 1) }, reason: 'no-oracle' },
    {
      name: 'difference params with base 10',
      inner: {
        contractDescriptor: numericDescriptor(2, [pt(0, 0), pt(50, 0), pt(99, 1)]),
        oracleInfo: multi([numericOracle(2, 10), numericOracle(2, 10)], 2, { maxErrorExp: 1, minFailExp: 0, maximizeCoverage: true }),
      },
      total: 1n,
      reason: 'oracle-params-base',
    },
    {
      name: 'constant payout',
      inner: { contractDescriptor: numericDescriptor(4, [pt(0, 5), pt(15, 5)]), oracleInfo: { single: { oracleAnnouncement: numericOracle(4) } } },
      reason: 'constant-payout',
    },
    {
      name: 'oracle params on an enum contract',
      inner: {
        contractDescriptor: enumDescriptor([['a', 1n], ['b', 0n]]),
        oracleInfo: multi([enumOracle(['a', 'b']), enumOracle(['a', 'b'])], 2, { maxErrorExp: 2, minFailExp: 1, maximizeCoverage: true }),
      },
      reason: 'oracle-params-on-enum',
    },
    {
      name: 'duplicate enum outcome',
      inner: { contractDescriptor: enumDescriptor([['a', 1n], ['a', 0n]]), oracleInfo: { single: { oracleAnnouncement: enumOracle(['a', 'a']) } } },
      reason: 'enum-duplicate-outcome',
    },
    {
      name: 'numeric oracle for enum',
      inner: { contractDescriptor: enumDescriptor([['a', 1n], ['b', 0n]]), oracleInfo: { single: { oracleAnnouncement: numericOracle(4) } } },
      reason: 'oracle-event-kind',
    },
  ];
  it.each(cases)('rejects $name', ({ inner, total, reason }) => {
    expectDlcError(() => planContractCets(inner, total ?? 10n), 'INVALID_PARAMS', reason);
    expectDlcError(() => cetCount(inner, total ?? 10n), 'INVALID_PARAMS', reason);
  });

  it('caps the number of adaptor signatures', () => {
    const inner: ContractInfoInner = { contractDescriptor: small(), oracleInfo: { single: { oracleAnnouncement: numericOracle(4) } } };
    expectDlcError(() => planContractCets(inner, 10n, { maxAdaptorSignatures: 5 }), 'INVALID_PARAMS', 'too-many-adaptor-signatures');
    expect(planContractCets(inner, 10n, { maxAdaptorSignatures: 6 }).adaptorSlots.length).toBe(6);
  });
});

describe('performance', () => {
  it('a 20-digit, 2-of-3 contract with 30 000+ adaptor slots plans in milliseconds', () => {
    // flat 0 until 100 000, a line to 1 BTC at 200 000, flat after; rounding to 10 000 sats
    const d = numericDescriptor(20, [pt(0, 0), pt(100000, 0), pt(200000, 100000000), pt(2 ** 20 - 1, 100000000)], 10000n);
    const inner: ContractInfoInner = { contractDescriptor: d, oracleInfo: multi([numericOracle(20), numericOracle(20), numericOracle(20)], 2) };
    const t0 = performance.now();
    const plan = planContractCets(inner, 100000000n);
    const planMs = performance.now() - t0;
    const t1 = performance.now();
    const count = cetCount(inner, 100000000n);
    const countMs = performance.now() - t1;
    expect(plan.cets.length).toBe(10001);
    expect(plan.adaptorSlots.length).toBeGreaterThan(30000);
    expect(count).toEqual({ cets: plan.cets.length, adaptorSignatures: plan.adaptorSlots.length });
    expect(contractInfoCetCount({ singleContractInfo: { totalCollateral: 100000000n, contractInfo: inner } })).toEqual(count);
    // generous bounds for a shared machine; typically a few tens of ms
    expect(planMs).toBeLessThan(2000);
    expect(countMs).toBeLessThan(2000);
  });
});
