/**
 * The evidence an oracle publishes with each hashpower attestation, and
 * `recomputeOutcome`, which checks the evidence for internal consistency and
 * recomputes the attested outcome from it with the exact formulas of
 * `formulas.ts`. Anyone holding the evidence gets the same integer.
 *
 * Evidence lists every block of the window (height, hash, compact target
 * `bits`, whole coinbase reward, coinbase txid), for hashprice and delivery
 * events the reward rule and the network's subsidy halving interval (absent:
 * `full-reward-v0`, evidence published before reward rules), and every payout counted towards the pool
 * rewards (block, txid, vout, value, receiving address, source). Checked here:
 * the blocks are exactly the window's heights in order; hashes and txids are
 * 32-byte hex; payouts are unique outpoints, inside blocks of the window, paid
 * to the delivery address, and coinbase payouts are outputs of that block's
 * coinbase and sum to no more than its reward; pool payouts come from a
 * declared payout address. With a payout lag (issue 16) the payouts are
 * counted in `measuredRange(window, lag)`, whose blocks the evidence lists
 * too (`payoutBlocks`); the expected reward `v` stays the window's.
 *
 * This module does NOT talk to a node: whether the hashes, txids and values
 * are those of the real chain is for the verifier to check against its own
 * node. It does not sign, and it does no I/O.
 */
import { DlcError } from '../errors.js';
import {
  CAPPED_FEES_RULE,
  countedRewards,
  deliveryOutcome,
  FULL_REWARD_RULE,
  REWARD_RULES,
  difficultyFromBits,
  difficultyFromDecimal,
  hashpriceOutcome,
  MAX_MONEY,
  checkPayoutLag,
  checkPayoutScheme,
  measuredRange,
  poolRewardsOutcome,
  windowBlockCount,
  type BlockRewardWork,
  type BlockWindow,
  type NumericEventSpec,
  type PayoutScheme,
  type RewardRule,
} from './formulas.js';

/** One block of the window as the oracle indexed it. */
export interface BlockEvidence {
  height: number;
  /** Block hash, 64 hex digits in RPC (display) order. */
  hash: string;
  /** Compact target, 8 hex digits as `getblock` prints it. */
  bits: string;
  /** Sum of the coinbase outputs (subsidy + fees), sats. */
  reward: bigint;
  /** Txid of the coinbase, 64 hex digits. */
  coinbaseTxid: string;
}

/** One output counted towards the pool rewards paid to the delivery address. */
export interface PayoutEvidence {
  /** `coinbase`: an output of the block's coinbase; `pool-payout`: a transaction spending from a declared pool payout address. */
  source: 'coinbase' | 'pool-payout';
  /** Height of the block that contains the transaction. */
  height: number;
  blockHash: string;
  txid: string;
  vout: number;
  /** Sats. */
  value: bigint;
  /** The address paid: must be the delivery address. */
  address: string;
  /** For `pool-payout`: the declared pool payout address the transaction spends from. */
  fromAddress?: string;
}

interface EvidenceBase {
  window: BlockWindow;
  blocks: BlockEvidence[];
  /** The numeric event the outcome is attested for (base 2, unsigned). */
  event: NumericEventSpec;
}

interface WithDifficultyOverride {
  /**
   * Regtest only: a decimal difficulty used in place of every block's own
   * (stated in the announcement). Absent on every other network.
   */
  simulatedDifficulty?: string;
  /**
   * Which part of each block's reward counts towards `v` (formulas.ts
   * "Reward rules"). Absent: `full-reward-v0` (evidence of events announced
   * before reward rules existed, which keep the outcome they were announced with).
   */
  rewardRule?: RewardRule;
  /** Blocks between subsidy halvings on the event's network; required by `subsidy+fees-capped-4x-median-v1`. */
  subsidyHalvingInterval?: number;
}

interface WithPayouts {
  deliveryAddress: string;
  /** Declared pool payout addresses (sources of `pool-payout` payouts). */
  poolPayoutAddresses: string[];
  payouts: PayoutEvidence[];
  /** The event's stated payout scheme (formulas.ts `PAYOUT_SCHEMES`); absent when it states none. */
  payoutScheme?: PayoutScheme;
  /**
   * The event's payout lag in blocks, when it states one above 0: payouts
   * count in `measuredRange(window, payoutLagBlocks)` instead of the window.
   */
  payoutLagBlocks?: number;
  /**
   * With a payout lag: every block of the measured range (the payouts'
   * blocks), listed like `blocks`; absent without a lag (payouts are in `blocks`).
   */
  payoutBlocks?: BlockEvidence[];
}

export interface HashpriceEvidence extends EvidenceBase, WithDifficultyOverride {
  kind: 'hashprice';
}

export interface PoolRewardsEvidence extends EvidenceBase, WithPayouts {
  kind: 'pool-rewards';
}

export interface DeliveryEvidence extends EvidenceBase, WithDifficultyOverride, WithPayouts {
  kind: 'hashpower-delivery';
  /** Contracted hashrate `H`, TH/s. */
  hashrateThs: bigint;
}

export type OutcomeEvidence = HashpriceEvidence | PoolRewardsEvidence | DeliveryEvidence;

/** The recomputed outcome and the sums it came from. */
export interface RecomputedOutcome {
  outcome: bigint;
  /** The value exceeded the event's largest outcome and was capped. */
  capped: boolean;
  /** Delivery events only: the window had no reward, `NO_NETWORK_REWARD_RULE` applied. */
  noNetworkReward: boolean;
  /** `sum(reward_b)` over the window, whole coinbases, sats. */
  networkReward: bigint;
  /** Hashprice and delivery: the part of `networkReward` the reward rule counts (equal under `full-reward-v0`); else `networkReward`. */
  countedReward: bigint;
  /** Hashprice and delivery: the rule applied (`full-reward-v0` when the evidence names none); else null. */
  rewardRule: RewardRule | null;
  /** `subsidy+fees-capped-4x-median-v1`: the fee cap `4 * m`, sats; else null. */
  feeCap: bigint | null;
  /** `R`: sum of the counted payouts, sats (0 for hashprice events). */
  poolRewards: bigint;
}

function bad(reason: string, message: string): DlcError {
  return new DlcError('INVALID_PARAMS', message, { reason });
}

const HEX32 = /^[0-9a-f]{64}$/;

function checkBlocks(window: BlockWindow, blocks: readonly BlockEvidence[], what = 'window'): Map<number, BlockEvidence> {
  const n = windowBlockCount(window);
  // 1. Exactly the window's blocks, in height order.
  if (blocks.length !== n) {
    throw bad('evidence-blocks-count', `${what} [${window.start}, ${window.end}) has ${n} blocks, evidence lists ${blocks.length}`);
  }
  const byHeight = new Map<number, BlockEvidence>();
  const hashes = new Set<string>();
  blocks.forEach((b, i) => {
    if (b.height !== window.start + i) {
      throw bad('evidence-blocks-order', `block ${i} has height ${b.height}, expected ${window.start + i}`);
    }
    // 2. Well-formed hashes, unique.
    if (!HEX32.test(b.hash) || !HEX32.test(b.coinbaseTxid)) {
      throw bad('evidence-hex', `block ${b.height}: hash and coinbaseTxid must be 64 lowercase hex digits`);
    }
    if (hashes.has(b.hash)) throw bad('evidence-duplicate-block', `block hash ${b.hash} listed twice`);
    hashes.add(b.hash);
    // 3. Reward within the money supply.
    if (b.reward < 0n || b.reward > MAX_MONEY) throw bad('reward-out-of-range', `block ${b.height}: reward ${b.reward} out of range`);
    byHeight.set(b.height, b);
  });
  return byHeight;
}

/** What `evidenceBlockWork` gives: each block's counted reward and difficulty, and the rule applied. */
export interface EvidenceWork {
  blocks: BlockRewardWork[];
  rewardRule: RewardRule;
  feeCap: bigint | null;
}

/**
 * The blocks of hashprice or delivery evidence as the formulas take them:
 * the reward its rule counts (`countedRewards`) and the difficulty (the
 * simulated one when stated, else from `bits`).
 * @throws {DlcError} INVALID_PARAMS `evidence-reward-rule` (unknown rule, or
 *   a halving interval without the rule that uses it), `halving-interval-invalid`,
 *   `bits-invalid`, `decimal-syntax`, `difficulty-zero`.
 */
export function evidenceBlockWork(e: HashpriceEvidence | DeliveryEvidence): EvidenceWork {
  const rule = e.rewardRule ?? FULL_REWARD_RULE;
  if (!(REWARD_RULES as readonly string[]).includes(rule)) throw bad('evidence-reward-rule', `unknown reward rule ${JSON.stringify(rule)}`);
  if (rule !== CAPPED_FEES_RULE && e.subsidyHalvingInterval !== undefined) {
    throw bad('evidence-reward-rule', `a subsidy halving interval is stated but the reward rule ${rule} does not use one`);
  }
  const counted = countedRewards(e.blocks, rule, e.subsidyHalvingInterval);
  const simulated = e.simulatedDifficulty === undefined ? undefined : difficultyFromDecimal(e.simulatedDifficulty);
  const blocks = e.blocks.map((b, i) => {
    // The real difficulty is always parsed, so malformed bits fail even under simulation.
    const own = difficultyFromBits(b.bits);
    return { reward: counted.rewards[i]!, difficulty: simulated ?? own };
  });
  return { blocks, rewardRule: rule, feeCap: counted.feeCap };
}

/**
 * The blocks the payouts of payout evidence are counted in: `payoutBlocks`
 * when the evidence states a payout lag, else the window's `blocks`. A
 * verifier checks these against its node for payouts left out.
 */
export function evidencePayoutBlocks(e: PoolRewardsEvidence | DeliveryEvidence): BlockEvidence[] {
  return e.payoutLagBlocks !== undefined && e.payoutLagBlocks > 0 ? (e.payoutBlocks ?? []) : e.blocks;
}

/**
 * Checks the payout-scheme fields of payout evidence and returns the blocks
 * of the measured range by height (the window's when no lag is stated).
 * 7. The scheme is a known one; a lag is an integer in range and above 0 (a
 *    stated 0 would be a second spelling of "no lag"); with a lag the
 *    measured range's blocks are listed, exactly, and agree with the window's
 *    where the two overlap; without one none are.
 */
function checkPayoutRange(e: WithPayouts & EvidenceBase, windowBlocks: Map<number, BlockEvidence>): Map<number, BlockEvidence> {
  if (e.payoutScheme !== undefined) {
    try {
      checkPayoutScheme(e.payoutScheme);
    } catch (err) {
      throw bad('evidence-payout-scheme', (err as Error).message);
    }
  }
  const lag = e.payoutLagBlocks;
  if (lag === undefined) {
    if (e.payoutBlocks !== undefined) throw bad('evidence-payout-blocks-unexpected', 'payout blocks are listed but no payout lag is stated');
    return windowBlocks;
  }
  try {
    checkPayoutLag(lag);
  } catch (err) {
    throw bad('evidence-payout-lag', (err as Error).message);
  }
  if (lag === 0) throw bad('evidence-payout-lag', 'a payout lag of 0 is stated by leaving it out');
  if (e.payoutBlocks === undefined) throw bad('evidence-payout-blocks-missing', `payout lag ${lag} stated but the measured range's blocks are not listed`);
  const range = measuredRange(e.window, lag);
  const byHeight = checkBlocks(range, e.payoutBlocks, 'measured range');
  for (const [h, b] of byHeight) {
    const w = windowBlocks.get(h);
    if (w !== undefined && (w.hash !== b.hash || w.bits !== b.bits || w.reward !== b.reward || w.coinbaseTxid !== b.coinbaseTxid)) {
      throw bad('evidence-payout-blocks-mismatch', `block ${h} is listed differently in the window and in the measured range`);
    }
  }
  return byHeight;
}

function sumPayouts(e: WithPayouts, byHeight: Map<number, BlockEvidence>): bigint {
  const sources = new Set(e.poolPayoutAddresses);
  const outpoints = new Set<string>();
  const coinbasePaid = new Map<number, bigint>();
  let total = 0n;
  for (const p of e.payouts) {
    const where = `payout ${p.txid}:${p.vout}`;
    // 4. Well-formed, unique outpoints with a positive value.
    if (!HEX32.test(p.txid) || !HEX32.test(p.blockHash)) throw bad('evidence-hex', `${where}: txid and blockHash must be 64 lowercase hex digits`);
    if (!Number.isInteger(p.vout) || p.vout < 0 || p.vout > 0xffffffff) throw bad('evidence-vout', `${where}: vout must be a u32`);
    const key = `${p.txid}:${p.vout}`;
    if (outpoints.has(key)) throw bad('evidence-duplicate-payout', `${where} counted twice`);
    outpoints.add(key);
    if (p.value <= 0n || p.value > MAX_MONEY) throw bad('evidence-value', `${where}: value ${p.value} out of range`);
    // 5. Inside a block of the measured range (the window without a lag), paid to the delivery address.
    const block = byHeight.get(p.height);
    if (block === undefined) throw bad('evidence-payout-outside-window', `${where}: height ${p.height} is not in the measured range`);
    if (block.hash !== p.blockHash) throw bad('evidence-payout-block', `${where}: block hash does not match block ${p.height}`);
    if (p.address !== e.deliveryAddress) throw bad('evidence-payout-address', `${where}: pays ${p.address}, not the delivery address`);
    // 6. Source rules.
    if (p.source === 'coinbase') {
      if (p.txid !== block.coinbaseTxid) throw bad('evidence-payout-not-coinbase', `${where}: not the coinbase of block ${p.height}`);
      const paid = (coinbasePaid.get(p.height) ?? 0n) + p.value;
      if (paid > block.reward) throw bad('evidence-payout-exceeds-reward', `block ${p.height}: coinbase payouts exceed the block reward`);
      coinbasePaid.set(p.height, paid);
    } else if (p.source === 'pool-payout') {
      if (p.fromAddress === undefined || !sources.has(p.fromAddress)) {
        throw bad('evidence-payout-source', `${where}: not from a declared pool payout address`);
      }
    } else {
      throw bad('evidence-payout-source', `${where}: unknown source ${JSON.stringify(p.source as unknown)}`);
    }
    total += p.value;
  }
  return total;
}

/**
 * Checks published evidence and recomputes the outcome the oracle must have
 * attested.
 * @throws {DlcError} INVALID_PARAMS with a `reason` naming the broken rule
 *   (`evidence-*`, `window-*`, `bits-invalid`, `digits-invalid`, ...).
 */
export function recomputeOutcome(evidence: OutcomeEvidence): RecomputedOutcome {
  const byHeight = checkBlocks(evidence.window, evidence.blocks);
  const networkReward = evidence.blocks.reduce((s, b) => s + b.reward, 0n);
  const counted = (w: EvidenceWork): Pick<RecomputedOutcome, 'countedReward' | 'rewardRule' | 'feeCap'> => ({
    countedReward: w.blocks.reduce((s, b) => s + b.reward, 0n),
    rewardRule: w.rewardRule,
    feeCap: w.feeCap,
  });
  switch (evidence.kind) {
    case 'hashprice': {
      const work = evidenceBlockWork(evidence);
      const r = hashpriceOutcome(work.blocks, evidence.event);
      return { ...r, noNetworkReward: false, networkReward, ...counted(work), poolRewards: 0n };
    }
    case 'pool-rewards': {
      const poolRewards = sumPayouts(evidence, checkPayoutRange(evidence, byHeight));
      const r = poolRewardsOutcome(poolRewards, evidence.event);
      return { ...r, noNetworkReward: false, networkReward, countedReward: networkReward, rewardRule: null, feeCap: null, poolRewards };
    }
    case 'hashpower-delivery': {
      const poolRewards = sumPayouts(evidence, checkPayoutRange(evidence, byHeight));
      const work = evidenceBlockWork(evidence);
      const r = deliveryOutcome(poolRewards, evidence.hashrateThs, work.blocks, evidence.event);
      return { ...r, networkReward, ...counted(work), poolRewards };
    }
    default:
      throw bad('evidence-kind', `unknown evidence kind ${JSON.stringify((evidence as { kind: unknown }).kind)}`);
  }
}
