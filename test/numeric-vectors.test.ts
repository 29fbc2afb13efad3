/**
 * protocol/numeric against the dlcspecs test vectors (test/test_vectors, 14
 * files) and rust-dlc's dlc-manager offer reject cases, read verbatim from
 * ../shared/dlc-vectors/.
 *
 * For every vector: our plan has exactly as many adaptor-signature slots as
 * the accept and sign messages carry signatures, and every one of those
 * signatures (accepter's and offerer's) was encrypted under the adaptor point
 * of the oracle digits/outcome our plan puts in that slot (checked through the
 * signature's DLEQ proof, see ./numeric-fixtures.ts). CET payouts are pinned
 * too; building and signing the CETs themselves is checked by the integration
 * suites.
 */
import { describe, expect, it } from 'vitest';
import { isDlcError } from '../protocol/errors.js';
import type { ContractInfo, ContractInfoInner, OracleAnnouncement } from '../protocol/messages/types.js';
import type { CetPlan, Conformance } from '../protocol/numeric/index.js';
import { cetCount, contractInfoCetCount, planCets, planContractCets } from '../protocol/numeric/index.js';
import {
  DLCSPECS_VECTOR_NAMES,
  addPoints,
  attestationPoint,
  encryptedUnder,
  loadDlcspecsVector,
  readVector,
  contractInfoFromJson,
  rustDlcManagerOffer,
} from './numeric-fixtures.js';

function innersOf(ci: ContractInfo): ContractInfoInner[] {
  return 'singleContractInfo' in ci ? [ci.singleContractInfo.contractInfo] : ci.disjointContractInfo.contractInfos;
}

function announcementsOf(inner: ContractInfoInner): OracleAnnouncement[] {
  return 'single' in inner.oracleInfo ? [inner.oracleInfo.single.oracleAnnouncement] : inner.oracleInfo.multi.oracleAnnouncements;
}

/** Adaptor point of every slot: the sum of the attestation points of its oracles' digits / outcome. */
function slotAdaptorPoints(ci: ContractInfo, plan: CetPlan): Uint8Array[] {
  const inners = innersOf(ci);
  // memo: per oracle, the point of each digit prefix (parent prefix + one digit)
  const memo = new Map<string, Uint8Array>();
  const oraclePoint = (contractIndex: number, oracleIndex: number, digits: readonly number[]): Uint8Array => {
    const key = `${contractIndex}/${oracleIndex}/${digits.join(',')}`;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    const a = announcementsOf(inners[contractIndex]!)[oracleIndex]!;
    const ed = a.oracleEvent.eventDescriptor;
    let p: Uint8Array;
    if ('enumEvent' in ed) {
      p = attestationPoint(a.oraclePublicKey, a.oracleEvent.oracleNonces[0]!, ed.enumEvent.outcomes[digits[0]!]!);
    } else {
      const j = digits.length - 1;
      const own = attestationPoint(a.oraclePublicKey, a.oracleEvent.oracleNonces[j]!, String(digits[j]));
      p = j === 0 ? own : addPoints([oraclePoint(contractIndex, oracleIndex, digits.slice(0, j)), own]);
    }
    memo.set(key, p);
    return p;
  };
  return plan.adaptorSlots.map((slot) =>
    addPoints(slot.oracles.map((o) => oraclePoint(slot.contractIndex, o.oracleIndex, o.digits))),
  );
}

/** Index of the first signature not encrypted under its slot's adaptor point, or -1. */
function firstMismatch(sigs: Uint8Array[], points: Uint8Array[]): number {
  if (sigs.length !== points.length) return Math.min(sigs.length, points.length);
  return sigs.findIndex((s, i) => !encryptedUnder(s, points[i]!));
}

const ENUM_PAYOUTS = ['200000000/0', '0/200000000', '200000000/0', '0/200000000'];
const NUMERIC_PAYOUTS = [
  '0/200000000',
  '26666667/173333333',
  '60000000/140000000',
  '100000000/100000000',
  '146666667/53333333',
  '200000000/0',
];

const expectations: Record<string, { cets: string[]; kinds: ('enum' | 'numeric')[] }> = {
  enum_3_of_3_test: { cets: ENUM_PAYOUTS, kinds: ['enum'] },
  enum_3_of_5_test: { cets: ENUM_PAYOUTS, kinds: ['enum'] },
  enum_single_oracle_test: { cets: ENUM_PAYOUTS, kinds: ['enum'] },
  enum_and_numerical_3_of_5_test: { cets: [...NUMERIC_PAYOUTS, ...ENUM_PAYOUTS], kinds: ['numeric', 'enum'] },
  enum_and_numerical_5_of_5_test: { cets: [...ENUM_PAYOUTS, ...NUMERIC_PAYOUTS], kinds: ['enum', 'numeric'] },
  enum_and_numerical_with_diff_3_of_5_test: { cets: [...NUMERIC_PAYOUTS, ...ENUM_PAYOUTS], kinds: ['numeric', 'enum'] },
  enum_and_numerical_with_diff_5_of_5_test: { cets: [...ENUM_PAYOUTS, ...NUMERIC_PAYOUTS], kinds: ['enum', 'numeric'] },
  single_oracle_numerical_test: { cets: NUMERIC_PAYOUTS, kinds: ['numeric'] },
  three_of_three_oracle_numerical_test: { cets: NUMERIC_PAYOUTS, kinds: ['numeric'] },
  three_of_three_oracle_numerical_with_diff_test: { cets: NUMERIC_PAYOUTS, kinds: ['numeric'] },
  three_of_five_oracle_numerical_with_diff_test: { cets: NUMERIC_PAYOUTS, kinds: ['numeric'] },
  two_of_five_oracle_numerical_test: { cets: NUMERIC_PAYOUTS, kinds: ['numeric'] },
  two_of_five_oracle_numerical_with_diff_test: { cets: NUMERIC_PAYOUTS, kinds: ['numeric'] },
};

describe('dlcspecs test vectors', () => {
  it.each([...DLCSPECS_VECTOR_NAMES])('%s: slots, order and digits of every adaptor signature', (name) => {
    const v = loadDlcspecsVector(name);
    const plan = planCets(v.contractInfo);
    expect(plan.adaptorSlots.length).toBe(v.acceptSignatures.length);
    expect(plan.adaptorSlots.length).toBe(v.signSignatures.length);
    expect(contractInfoCetCount(v.contractInfo)).toEqual({
      cets: plan.cets.length,
      adaptorSignatures: plan.adaptorSlots.length,
    });
    const points = slotAdaptorPoints(v.contractInfo, plan);
    expect(firstMismatch(v.acceptSignatures, points)).toBe(-1);
    expect(firstMismatch(v.signSignatures, points)).toBe(-1);

    // CETs: payouts and structure
    const exp = expectations[name];
    if (exp !== undefined) {
      expect(plan.cets.map((c) => `${c.offerPayout}/${c.acceptPayout}`)).toEqual(exp.cets);
      expect(plan.contracts.map((c) => c.kind)).toEqual(exp.kinds);
    } else {
      // the hyperbola vector: 51 CETs, payouts between 50 and 100 sats
      expect(plan.cets.length).toBe(51);
      expect(plan.cets.every((c) => c.offerPayout >= 50n && c.offerPayout <= 100n)).toBe(true);
    }
    // slots point at their contract's CETs, in non-decreasing CET order
    let last = -1;
    for (const s of plan.adaptorSlots) {
      const c = plan.contracts[s.contractIndex]!;
      expect(s.cetIndex).toBe(c.cetOffset + s.localCetIndex);
      expect(s.localCetIndex).toBeLessThan(c.cetCount);
      expect(plan.cets[s.cetIndex]!.contractIndex).toBe(s.contractIndex);
      expect(s.cetIndex).toBeGreaterThanOrEqual(last);
      last = s.cetIndex;
    }
  });

  it('slot counts by construction (enum 4 x C(5,3), numeric 14 prefixes x C(5,2))', () => {
    expect(planCets(loadDlcspecsVector('enum_3_of_5_test').contractInfo).adaptorSlots.length).toBe(4 * 10);
    expect(planCets(loadDlcspecsVector('two_of_five_oracle_numerical_test').contractInfo).adaptorSlots.length).toBe(14 * 10);
    const disjoint = planCets(loadDlcspecsVector('enum_and_numerical_3_of_5_test').contractInfo);
    expect(disjoint.contracts).toEqual([
      { kind: 'numeric', cetOffset: 0, cetCount: 6, slotOffset: 0, slotCount: 140 },
      { kind: 'enum', cetOffset: 6, cetCount: 4, slotOffset: 140, slotCount: 40 },
    ]);
  });

  // dlc-vectors README items 1 and 5: the spec-text behaviour gives other
  // signatures, which is why 'vectors' is the default.
  const departures: { name: string; why: string }[] = [
    { name: 'three_of_three_oracle_numerical_with_diff_test', why: 'maximizeCoverage=false honoured' },
    { name: 'two_of_five_oracle_numerical_with_diff_test', why: 'maximizeCoverage=false honoured' },
    { name: 'single_oracle_numerical_hyperbola_test', why: 'hyperbola endpoints take the endpoint payout' },
  ];
  it.each(departures)('spec-text mode departs from $name ($why)', ({ name }) => {
    const v = loadDlcspecsVector(name);
    const conformance: Conformance = 'spec';
    const plan = planCets(v.contractInfo, { conformance });
    const vec = planCets(v.contractInfo);
    const differs =
      plan.cets.length !== vec.cets.length ||
      plan.cets.some((c, i) => c.offerPayout !== vec.cets[i]!.offerPayout) ||
      firstMismatch(v.acceptSignatures, slotAdaptorPoints(v.contractInfo, plan)) !== -1;
    expect(differs).toBe(true);
  });

  it('spec-text mode agrees with the vectors where they do not depart (no diff params, no hyperbola)', () => {
    for (const name of ['single_oracle_numerical_test', 'two_of_five_oracle_numerical_test', 'enum_3_of_5_test']) {
      const v = loadDlcspecsVector(name);
      const plan = planCets(v.contractInfo, { conformance: 'spec' });
      expect(firstMismatch(v.acceptSignatures, slotAdaptorPoints(v.contractInfo, plan))).toBe(-1);
    }
  });
});

describe('rust-dlc dlc-manager offers', () => {
  it('offer_contract.json (a valid offer) plans 6 CETs', () => {
    const ci = contractInfoFromJson(readVector('rust-dlc/dlc-manager/offer_contract.json').contractInfo);
    const plan = planCets(ci);
    expect(plan.cets.map((c) => c.offerPayout)).toEqual([0n, 39800000n, 69800000n, 90000000n, 100400000n, 101000000n]);
    expect(plan.adaptorSlots.length).toBe(14);
  });

  // One broken rule each; the reason names our rule. offer_numerical_non_continuous
  // is absent: pieces share end points in the dlcspecs wire form, so it cannot be expressed.
  const rejects: { file: string; reason: string }[] = [
    { file: 'offer_enum_collateral_not_equal_payout.json', reason: 'payout-above-collateral' },
    { file: 'offer_enum_missing_payout.json', reason: 'enum-outcomes-mismatch' },
    { file: 'offer_enum_oracle_with_diff_payout.json', reason: 'enum-outcomes-mismatch' },
    { file: 'offer_numerical_collateral_less_than_payout.json', reason: 'payout-above-collateral' },
    { file: 'offer_numerical_bad_first_payout.json', reason: 'payout-function-domain-start' },
    { file: 'offer_numerical_bad_last_payout.json', reason: 'payout-function-domain-end' },
    { file: 'offer_numerical_invalid_rounding_interval.json', reason: 'rounding-intervals-not-from-zero' },
    { file: 'offer_numerical_empty_rounding_interval.json', reason: 'rounding-intervals-empty' },
  ];
  it.each(rejects)('rejects $file ($reason)', ({ file, reason }) => {
    const offer = rustDlcManagerOffer(file);
    expect(offer).not.toBeNull();
    const { total, inners } = offer!;
    let err: unknown;
    try {
      for (const inner of inners) planContractCets(inner, total);
    } catch (e) {
      err = e;
    }
    expect(isDlcError(err, 'INVALID_PARAMS')).toBe(true);
    expect((err as { reason: string }).reason).toBe(reason);
    // cetCount applies the same rules
    expect(() => inners.forEach((inner) => cetCount(inner, total))).toThrow();
  });

  it('the non-continuous offer cannot be expressed in the wire form', () => {
    expect(rustDlcManagerOffer('offer_numerical_non_continuous.json')).toBeNull();
  });
});
