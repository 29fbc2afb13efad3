/**
 * Hashpower formulas and oracle evidence: the one entry of protocol/hashpower.
 * See formulas.ts for the definitions and the outcome encoding. Nothing here
 * reads the chain or does I/O.
 */
export {
  BPS_PER_UNIT,
  DELIVERY_RATIO_UNIT,
  HASHES_PER_PH,
  HASHES_PER_TH,
  HASHPRICE_UNIT,
  MAX_MONEY,
  NO_NETWORK_REWARD_RULE,
  NOMINAL_BLOCK_SECONDS,
  POOL_REWARDS_UNIT,
  SECONDS_PER_DAY,
  WORK_PER_DIFFICULTY,
  decodeOutcome,
  deliveryOutcome,
  deliveryRatioBps,
  difficultyFromBits,
  difficultyFromDecimal,
  encodeOutcome,
  expectedDeliverySats,
  hashpriceOutcome,
  hashpriceSatsPerPhDay,
  maxOutcome,
  nominalWindowSeconds,
  poolRewardsOutcome,
  rewardPerHash,
  totalReward,
  totalWork,
  windowBlockCount,
} from './formulas.js';
export type { BlockRewardWork, BlockWindow, NumericEventSpec, ScaledOutcome } from './formulas.js';
export { recomputeOutcome } from './evidence.js';
export type {
  BlockEvidence,
  DeliveryEvidence,
  HashpriceEvidence,
  OutcomeEvidence,
  PayoutEvidence,
  PoolRewardsEvidence,
  RecomputedOutcome,
} from './evidence.js';
export {
  add as ratAdd,
  ceil as ratCeil,
  cmp as ratCmp,
  div as ratDiv,
  floor as ratFloor,
  mul as ratMul,
  parseDecimal,
  pow10 as ratPow10,
  rational,
  roundHalfUp as ratRoundHalfUp,
  sub as ratSub,
  toDecimalString,
} from './rational.js';
export type { Rational } from './rational.js';
