/**
 * protocol/numeric: payout curves, rounding, digit decomposition, CET
 * compression, multiple oracles and the CET plan (which CETs exist and which
 * adaptor signature goes where). Pure functions, no I/O. This entry does NOT
 * export the modules' internal helpers.
 */
export type { CetCount, CetPlan, AdaptorSlot, ContractPlanSummary, OracleDigits, PlannedCet, PlanOptions } from './plan.js';
export { cetCount, contractInfoCetCount, planCets, planContractCets } from './plan.js';
export type { Conformance, OutcomeRange, PayoutOptions, Rational } from './payout.js';
export {
  outcomeRanges,
  payoutAt,
  payoutInRanges,
  roundToModulus,
  validatePayoutFunction,
  validateRoundingIntervals,
} from './payout.js';
export { composeDigits, compressRange, countRangePrefixes, decompose, maxOutcome, prefixRange } from './decomposition.js';
export { boundedDifferenceTuples, oracleCombinations, validateOracleParams } from './multi-oracle.js';
