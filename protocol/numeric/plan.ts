/**
 * The CET plan of a contract: the ordered CETs (payout pairs) and the ordered
 * adaptor-signature slots, each slot naming its CET and, for every oracle of
 * one oracle combination, the digits (numeric) or outcome (enum) that oracle
 * must attest. The slot order is the order of `ecdsa_adaptor_signatures` in
 * `dlc_accept` / `dlc_sign` (dlcspecs Protocol.md), as rust-dlc and the
 * dlcspecs test vectors produce it:
 * - enum (rust-dlc `EnumDescriptor::iter_outcomes`): for each payout of the
 *   descriptor (one CET each), for each t-of-n oracle combination;
 * - numeric (rust-dlc `MultiOracleTrie::generate`): for each outcome range (one
 *   CET each, ./payout.ts), for each digit prefix of the range
 *   (./decomposition.ts), for each oracle combination;
 * - numeric with bounded differences (rust-dlc `MultiOracleTrieWithDiff`): for
 *   each range, for each prefix, for each oracle combination, for each tuple of
 *   prefixes of ./multi-oracle.ts `boundedDifferenceTuples`;
 * - disjoint contracts: the plans of the contract infos concatenated in order
 *   (CET indexes and slots continue across contracts).
 *
 * This module does NOT compute adaptor points, hash outcomes, build CETs or
 * sign: it says what to sign and in which order. Oracle signatures on digits
 * are over the digit written in decimal ("0", "1", ...) and enum oracles over
 * the outcome string; that is the crypto layer's concern.
 */

import { DlcError } from '../errors.js';
import type {
  ContractInfo,
  ContractInfoInner,
  EnumeratedContractDescriptor,
  NumericOutcomeContractDescriptor,
  OracleAnnouncement,
  OracleParams,
} from '../messages/types.js';
import { countRangePrefixes, forEachRangePrefix } from './decomposition.js';
import { boundedDifferenceTuples, oracleCombinations, validateOracleParams } from './multi-oracle.js';
import type { OutcomeRange, PayoutOptions } from './payout.js';
import { outcomeRanges } from './payout.js';

export interface PlanOptions extends PayoutOptions {
  /** Refuse plans with more adaptor signatures than this. Default 2^20. */
  maxAdaptorSignatures?: number;
}

/** What one oracle of a slot's combination attests. */
export interface OracleDigits {
  /** Index of the oracle in the contract info's announcement list. */
  oracleIndex: number;
  /**
   * Numeric: the digit prefix (most significant first), one nonce per digit
   * from the first. Enum: one element, the index of the outcome in that
   * oracle's `enumEvent.outcomes` (the CET's `enumOutcome` is the string).
   */
  digits: readonly number[];
}

/** One adaptor signature, in message order. */
export interface AdaptorSlot {
  /** Index into `CetPlan.cets` (over all contracts of a disjoint contract info). */
  cetIndex: number;
  contractIndex: number;
  /** Index of the CET within its own contract info. */
  localCetIndex: number;
  /** The oracles whose attestation points add up to this slot's adaptor point, in oracle index order. */
  oracles: readonly OracleDigits[];
}

export interface PlannedCet {
  offerPayout: bigint;
  acceptPayout: bigint;
  contractIndex: number;
  /** Enum contracts: the outcome this CET pays for. */
  enumOutcome?: string;
  /** Numeric contracts: the outcomes this CET pays for. */
  range?: OutcomeRange;
}

export interface ContractPlanSummary {
  kind: 'enum' | 'numeric';
  cetOffset: number;
  cetCount: number;
  slotOffset: number;
  slotCount: number;
}

export interface CetPlan {
  cets: PlannedCet[];
  adaptorSlots: AdaptorSlot[];
  contracts: ContractPlanSummary[];
}

export interface CetCount {
  cets: number;
  adaptorSignatures: number;
}

const DEFAULT_MAX_ADAPTOR_SIGNATURES = 1 << 20;

function invalid(message: string, reason: string): DlcError {
  return new DlcError('INVALID_PARAMS', message, { reason });
}

interface OracleSetup {
  announcements: OracleAnnouncement[];
  threshold: number;
  params: OracleParams | null;
}

function oracleSetup(inner: ContractInfoInner): OracleSetup {
  const info = inner.oracleInfo;
  if ('single' in info) return { announcements: [info.single.oracleAnnouncement], threshold: 1, params: null };
  const { threshold, oracleAnnouncements, oracleParams } = info.multi;
  if (oracleAnnouncements.length === 0) throw invalid('multi-oracle info has no announcement', 'no-oracle');
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > oracleAnnouncements.length) {
    throw invalid(`threshold ${threshold} is not in [1, ${oracleAnnouncements.length}]`, 'threshold-range');
  }
  return { announcements: oracleAnnouncements, threshold, params: oracleParams };
}

interface EnumSetup {
  payouts: { outcome: string; localPayout: bigint }[];
  /** outcomeIndex[oracle][payoutIndex] = index of that outcome in the oracle's outcome list */
  outcomeIndex: number[][];
}

/**
 * Enum checks (rust-dlc `EnumDescriptor::validate` and its offer_enum_* reject
 * cases): 1. at least one outcome, no outcome twice; 2. every payout at most the
 * total collateral (the accepter gets the rest); 3. every oracle announces an
 * enum event with exactly the descriptor's outcomes (in any order), one nonce.
 */
function enumSetup(d: EnumeratedContractDescriptor, oracles: OracleSetup, total: bigint): EnumSetup {
  const payouts = d.enumeratedContractDescriptor.payouts;
  if (payouts.length === 0) throw invalid('enum descriptor has no outcome', 'enum-no-outcome');
  const seen = new Set<string>();
  for (const p of payouts) {
    if (seen.has(p.outcome)) throw invalid(`outcome "${p.outcome}" appears twice`, 'enum-duplicate-outcome');
    seen.add(p.outcome);
    if (p.localPayout < 0n || p.localPayout > total) {
      throw invalid(`payout of "${p.outcome}" is above the total collateral`, 'payout-above-collateral');
    }
  }
  if (oracles.params !== null) throw invalid('oracle parameters only apply to numeric events', 'oracle-params-on-enum');
  const outcomeIndex = oracles.announcements.map((a) => {
    const ed = a.oracleEvent.eventDescriptor;
    if (!('enumEvent' in ed)) throw invalid('enum contract with a numeric oracle event', 'oracle-event-kind');
    if (a.oracleEvent.oracleNonces.length !== 1) throw invalid('enum event needs one nonce', 'oracle-nonce-count');
    const outcomes = ed.enumEvent.outcomes;
    const pos = new Map<string, number>();
    outcomes.forEach((o, i) => pos.set(o, i));
    if (pos.size !== outcomes.length || outcomes.length !== payouts.length) {
      throw invalid('oracle outcomes differ from the contract outcomes', 'enum-outcomes-mismatch');
    }
    return payouts.map((p) => {
      const i = pos.get(p.outcome);
      if (i === undefined) throw invalid(`oracle cannot attest "${p.outcome}"`, 'enum-outcomes-mismatch');
      return i;
    });
  });
  return { payouts, outcomeIndex };
}

interface NumericSetup {
  base: number;
  nbDigits: number;
  ranges: OutcomeRange[];
}

/**
 * Numeric checks: 1. every oracle announces an unsigned digit decomposition
 * event (signed events are not supported), all with the same base and with
 * `numDigits` digits and as many nonces; 2. oracle parameters, if any, are valid
 * ({@link validateOracleParams}); 3. the payout function is valid and its
 * ranges computable (./payout.ts `outcomeRanges`); 4. no single range covers
 * the whole domain (a prefix needs at least one digit; NumericOutcomeCompression.md
 * rejects one-outcome DLCs).
 */
function numericSetup(
  d: NumericOutcomeContractDescriptor,
  oracles: OracleSetup,
  total: bigint,
  options: PayoutOptions,
): NumericSetup {
  const desc = d.numericOutcomeContractDescriptor;
  let base: number | null = null;
  for (const a of oracles.announcements) {
    const ed = a.oracleEvent.eventDescriptor;
    if (!('digitDecompositionEvent' in ed)) throw invalid('numeric contract with an enum oracle event', 'oracle-event-kind');
    const e = ed.digitDecompositionEvent;
    if (e.isSigned) throw invalid('signed numeric events are not supported', 'signed-event-unsupported');
    if (base !== null && e.base !== base) throw invalid('oracles use different bases', 'oracle-base-mismatch');
    base = e.base;
    if (e.nbDigits !== desc.numDigits) {
      throw invalid(`oracle has ${e.nbDigits} digits, the contract ${desc.numDigits}`, 'num-digits-mismatch');
    }
    if (a.oracleEvent.oracleNonces.length !== e.nbDigits) {
      throw invalid('oracle nonce count differs from its digit count', 'oracle-nonce-count');
    }
  }
  if (base === null) throw invalid('no oracle', 'no-oracle');
  if (oracles.params !== null) validateOracleParams(oracles.params, base, desc.numDigits);
  const ranges = outcomeRanges(desc, total, base, options);
  if (ranges.length === 1) {
    throw invalid('the payout is the same for every outcome: no CET can be conditioned', 'constant-payout');
  }
  return { base, nbDigits: desc.numDigits, ranges };
}

/**
 * Walks one contract info's CETs and slots in message order.
 * `onSlot` gets the local CET index and the slot's oracles.
 */
function walkContract(
  inner: ContractInfoInner,
  total: bigint,
  options: PlanOptions,
  onCet: (cet: Omit<PlannedCet, 'contractIndex'>) => void,
  onSlot: (localCetIndex: number, oracles: OracleDigits[]) => void,
): 'enum' | 'numeric' {
  const oracles = oracleSetup(inner);
  const combos = oracleCombinations(oracles.announcements.length, oracles.threshold);
  const descriptor = inner.contractDescriptor;
  if ('enumeratedContractDescriptor' in descriptor) {
    const e = enumSetup(descriptor, oracles, total);
    e.payouts.forEach((p, i) => {
      onCet({ offerPayout: p.localPayout, acceptPayout: total - p.localPayout, enumOutcome: p.outcome });
      for (const combo of combos) {
        onSlot(
          i,
          combo.map((o) => ({ oracleIndex: o, digits: [e.outcomeIndex[o]![i]!] })),
        );
      }
    });
    return 'enum';
  }
  const n = numericSetup(descriptor, oracles, total, options);
  const params = oracles.params;
  n.ranges.forEach((range, i) => {
    onCet({ offerPayout: range.offerPayout, acceptPayout: total - range.offerPayout, range });
    forEachRangePrefix(range.start, range.start + range.count - 1n, n.base, n.nbDigits, (prefix) => {
      if (params === null) {
        for (const combo of combos) onSlot(i, combo.map((o) => ({ oracleIndex: o, digits: prefix })));
        return;
      }
      const tuples = boundedDifferenceTuples(prefix, n.nbDigits, oracles.threshold, params, options.conformance);
      for (const combo of combos) {
        for (const tuple of tuples) onSlot(i, combo.map((o, k) => ({ oracleIndex: o, digits: tuple[k]! })));
      }
    });
  });
  return 'numeric';
}

function contractInfos(info: ContractInfo): { total: bigint; inners: ContractInfoInner[] } {
  if ('singleContractInfo' in info) {
    return { total: info.singleContractInfo.totalCollateral, inners: [info.singleContractInfo.contractInfo] };
  }
  const { totalCollateral, contractInfos: inners } = info.disjointContractInfo;
  if (inners.length === 0) throw invalid('disjoint contract info has no contract', 'no-contract');
  return { total: totalCollateral, inners };
}

function planMany(inners: ContractInfoInner[], total: bigint, options: PlanOptions): CetPlan {
  const limit = options.maxAdaptorSignatures ?? DEFAULT_MAX_ADAPTOR_SIGNATURES;
  const plan: CetPlan = { cets: [], adaptorSlots: [], contracts: [] };
  inners.forEach((inner, contractIndex) => {
    const cetOffset = plan.cets.length;
    const slotOffset = plan.adaptorSlots.length;
    const kind = walkContract(
      inner,
      total,
      options,
      (cet) => plan.cets.push({ ...cet, contractIndex }),
      (localCetIndex, oracles) => {
        if (plan.adaptorSlots.length >= limit) {
          throw invalid(`contract needs more than ${limit} adaptor signatures`, 'too-many-adaptor-signatures');
        }
        plan.adaptorSlots.push({ cetIndex: cetOffset + localCetIndex, contractIndex, localCetIndex, oracles });
      },
    );
    plan.contracts.push({
      kind,
      cetOffset,
      cetCount: plan.cets.length - cetOffset,
      slotOffset,
      slotCount: plan.adaptorSlots.length - slotOffset,
    });
  });
  return plan;
}

/**
 * The CET plan of one contract info (descriptor + oracle info) for a given
 * total collateral. See the module header for the order.
 *
 * @throws {DlcError} INVALID_PARAMS if the descriptor, the oracle info or their
 *   combination is invalid (the `reason` names the rule), or the plan exceeds
 *   `options.maxAdaptorSignatures`.
 */
export function planContractCets(
  inner: ContractInfoInner,
  totalCollateral: bigint,
  options: PlanOptions = {},
): CetPlan {
  return planMany([inner], totalCollateral, options);
}

/**
 * The CET plan of a whole `contract_info` (single, or disjoint: the contract
 * infos' CETs and slots concatenated in order).
 *
 * @throws {DlcError} as {@link planContractCets}.
 */
export function planCets(contractInfo: ContractInfo, options: PlanOptions = {}): CetPlan {
  const { total, inners } = contractInfos(contractInfo);
  return planMany(inners, total, options);
}

/**
 * Counts the CETs and adaptor signatures of one contract info without building
 * the plan (no slot objects; prefixes are only counted when oracles must all
 * agree).
 *
 * @throws {DlcError} as {@link planContractCets} (except the size cap).
 */
export function cetCount(inner: ContractInfoInner, totalCollateral: bigint, options: PayoutOptions = {}): CetCount {
  const oracles = oracleSetup(inner);
  const combos = oracleCombinations(oracles.announcements.length, oracles.threshold).length;
  const descriptor = inner.contractDescriptor;
  if ('enumeratedContractDescriptor' in descriptor) {
    const e = enumSetup(descriptor, oracles, totalCollateral);
    return { cets: e.payouts.length, adaptorSignatures: e.payouts.length * combos };
  }
  const n = numericSetup(descriptor, oracles, totalCollateral, options);
  let slots = 0;
  for (const r of n.ranges) {
    const end = r.start + r.count - 1n;
    if (oracles.params === null) {
      slots += countRangePrefixes(r.start, end, n.base, n.nbDigits) * combos;
    } else {
      const params = oracles.params;
      forEachRangePrefix(r.start, end, n.base, n.nbDigits, (prefix) => {
        slots += boundedDifferenceTuples(prefix, n.nbDigits, oracles.threshold, params, options.conformance).length * combos;
      });
    }
  }
  return { cets: n.ranges.length, adaptorSignatures: slots };
}

/**
 * {@link cetCount} over a whole `contract_info` (disjoint contracts summed).
 *
 * @throws {DlcError} as {@link cetCount}.
 */
export function contractInfoCetCount(contractInfo: ContractInfo, options: PayoutOptions = {}): CetCount {
  const { total, inners } = contractInfos(contractInfo);
  const sum: CetCount = { cets: 0, adaptorSignatures: 0 };
  for (const inner of inners) {
    const c = cetCount(inner, total, options);
    sum.cets += c.cets;
    sum.adaptorSignatures += c.adaptorSignatures;
  }
  return sum;
}
