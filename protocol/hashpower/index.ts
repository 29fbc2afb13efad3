/**
 * Hashpower formulas and oracle evidence: the one entry of protocol/hashpower.
 * See formulas.ts for the definitions and the outcome encoding. Nothing here
 * reads the chain or does I/O.
 */
export {
  BPS_PER_UNIT,
  CAPPED_FEES_RULE,
  CURRENT_REWARD_RULE,
  DELIVERY_RATIO_UNIT,
  FULL_REWARD_RULE,
  HASHES_PER_PH,
  HASHES_PER_TH,
  HASHPRICE_UNIT,
  MAX_MONEY,
  MAX_PAYOUT_LAG_BLOCKS,
  NO_NETWORK_REWARD_RULE,
  NOMINAL_BLOCK_SECONDS,
  PAYOUT_SCHEMES,
  POOL_REWARDS_UNIT,
  REWARD_RULE_TEXT,
  REWARD_RULES,
  SECONDS_PER_DAY,
  WORK_PER_DIFFICULTY,
  blockSubsidy,
  checkPayoutLag,
  checkPayoutScheme,
  countedRewards,
  decodeOutcome,
  deliveryOutcome,
  deliveryRatioBps,
  difficultyFromBits,
  difficultyFromDecimal,
  encodeOutcome,
  expectedDeliverySats,
  hashpriceOutcome,
  hashpriceSatsPerPhDay,
  isLuckBased,
  lowerMedian,
  maxOutcome,
  measuredRange,
  nominalWindowSeconds,
  poolRewardsOutcome,
  rewardPerHash,
  subsidyHalvingInterval,
  totalReward,
  totalWork,
  windowBlockCount,
} from './formulas.js';
export type { BlockReward, BlockRewardWork, BlockWindow, CountedRewards, NumericEventSpec, PayoutScheme, RewardRule, ScaledOutcome } from './formulas.js';
export { LUCK_RISK_WARN_CHANCE, formatChance, isLuckBasedScheme, luckRisk, poissonCdf } from './luck.js';
export type { LuckRisk, LuckRiskInput } from './luck.js';
export { evidenceBlockWork, evidencePayoutBlocks, recomputeOutcome } from './evidence.js';
export type {
  BlockEvidence,
  DeliveryEvidence,
  EvidenceWork,
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
