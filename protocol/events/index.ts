/**
 * What an oracle event IS, as pure functions shared by the oracle service and
 * by anyone checking it (`hashdlc oracle verify`): event parameters, their
 * canonical JSON and the deterministic event id derived from it, the dlcspecs
 * event descriptor of each kind, the enum labels of threshold events, the
 * binary digits a numeric outcome is attested as, the reward rule of
 * hashprice and delivery events (protocol/hashpower `RewardRule`: stated in
 * the params, the id and the evidence; absent = `full-reward-v0`, events
 * announced before rules existed, whose ids and outcomes stay as they were),
 * the payout scheme and lag of payout events (issue 16: `payoutScheme`,
 * `payoutLagBlocks`, `measuredRange`; absent = the window's own blocks, ids
 * unchanged), and the JSON form of the
 * outcome evidence (protocol/hashpower `OutcomeEvidence` with bigints as
 * decimal strings).
 *
 * Kinds (docs/PRODUCT.md "Oracle events and formulas", protocol/hashpower
 * README): `pool-rewards` (unit `sats`), `hashprice` (`sats/PH/day`),
 * `hashpower-delivery` (`bps`); numeric events are base 2, unsigned,
 * precision 0 (Oracle.md "Digit decomposition"), except hashprice events
 * an operator scales down (`precision` p >= 0: the outcome is
 * `floor(value / 10^p)`, stated in the params, the id and the descriptor,
 * so a value too large for the digits at its network's size still fits;
 * events with precision 0 keep the ids they always had); an event with thresholds is
 * an enum event (Oracle.md "Simple enumeration") over the same integer value.
 *
 * It lives in protocol/ because the event id is part of the contract: the
 * oracle derives it, the participant (`hashdlc oracle verify`) and the
 * coordinator re-derive it, and none of them imports another's service.
 * zod (the JSON forms) is pure, as in protocol/terms.
 *
 * This module does NOT read the chain, sign, store or validate client
 * requests against limits (oracle/events.ts does), and does no I/O.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { z } from 'zod';
import {
  CAPPED_FEES_RULE,
  CURRENT_REWARD_RULE,
  DELIVERY_RATIO_UNIT,
  FULL_REWARD_RULE,
  HASHPRICE_UNIT,
  MAX_PAYOUT_LAG_BLOCKS,
  NO_NETWORK_REWARD_RULE,
  PAYOUT_SCHEMES,
  POOL_REWARDS_UNIT,
  REWARD_RULE_TEXT,
  REWARD_RULES,
  blockSubsidy,
  checkPayoutLag,
  checkPayoutScheme,
  difficultyFromDecimal,
  hashpriceSatsPerPhDay,
  maxOutcome,
  ratFloor,
  ratPow10,
  ratDiv,
  measuredRange,
  subsidyHalvingInterval,
  type BlockWindow,
  type PayoutScheme,
  type RewardRule,
  type NumericEventSpec,
  type OutcomeEvidence,
  type RecomputedOutcome,
} from '../hashpower/index.js';
import { DlcError } from '../errors.js';
import { toHex } from '../messages/index.js';
import type { EventDescriptor } from '../messages/index.js';

// The payout scheme vocabulary (issue 16) is protocol/hashpower's, where the evidence checks it; re-exported as part of what an event is.
export { PAYOUT_SCHEMES, MAX_PAYOUT_LAG_BLOCKS, isLuckBased, measuredRange } from '../hashpower/index.js';
export type { PayoutScheme } from '../hashpower/index.js';

export const EVENT_KINDS = ['pool-rewards', 'hashprice', 'hashpower-delivery'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** Unit stated in each kind's numeric descriptor (what protocol/templates expect). */
export const EVENT_UNITS: Record<EventKind, string> = {
  'pool-rewards': POOL_REWARDS_UNIT,
  hashprice: HASHPRICE_UNIT,
  'hashpower-delivery': DELIVERY_RATIO_UNIT,
};

/**
 * Default digits per kind: delivery up to 16,383 bps, hashprice up to
 * 1,048,575 sats/PH/day, pool rewards up to 2^40 - 1 sats (~10,995 BTC).
 */
export const DEFAULT_NB_DIGITS: Record<EventKind, number> = {
  'pool-rewards': 40,
  hashprice: 20,
  'hashpower-delivery': 14,
};

/** Enum events compare the uncapped integer value: digits of its evidence spec. */
export const ENUM_VALUE_DIGITS = 64;
export const MAX_THRESHOLDS = 16;
export const MAX_POOL_PAYOUT_ADDRESSES = 16;
const U64_MAX = (1n << 64n) - 1n;

export interface NumericDescriptorParams {
  type: 'numeric';
  base: 2;
  nbDigits: number;
  unit: string;
  /** dlcspecs `precision`: the value is `outcome * 10^precision`; 0 but for scaled hashprice events. */
  precision: number;
}

/** Largest precision an event may state: 10^18 sats/PH/day is beyond any hashprice. */
export const MAX_EVENT_PRECISION = 18;

export interface EnumDescriptorParams {
  type: 'enum';
  /** Increasing positive integers, decimal strings. */
  thresholds: string[];
  /** `enumLabels(thresholds)`. */
  outcomes: string[];
}

export type DescriptorParams = NumericDescriptorParams | EnumDescriptorParams;

/** Everything that defines an event; its canonical JSON determines the event id. */
export interface EventParams {
  kind: EventKind;
  network: string;
  window: { start: number; end: number };
  /** `D` (pool-rewards, hashpower-delivery), else null. */
  deliveryAddress: string | null;
  /** Declared pool payout addresses, sorted and unique (pool-rewards, hashpower-delivery), else null. */
  poolPayoutAddresses: string[] | null;
  /** `H` in TH/s, decimal string (hashpower-delivery), else null. */
  hashrateThs: string | null;
  /** Regtest only: the simulated difficulty, else null. */
  simulatedDifficulty: string | null;
  /**
   * Hashprice and delivery: which part of each block's reward counts towards
   * `v` (protocol/hashpower `RewardRule`); null for pool-rewards. Absent in
   * events announced before reward rules, which mean `full-reward-v0`
   * (`rewardRuleOf`).
   */
  rewardRule?: RewardRule | null;
  /**
   * Pool-rewards and delivery (issue 16): how the pool pays
   * (protocol/hashpower `PAYOUT_SCHEMES`). Absent or null: not stated (the
   * event's id and outcome are those of an event announced before schemes).
   */
  payoutScheme?: PayoutScheme | null;
  /**
   * Pool-rewards and delivery: payouts in `[start + lag, end + lag)` count
   * for the window (`measuredRange`), and the attestation waits as many
   * blocks. Absent, null or 0: no lag, today's rule (and id).
   */
  payoutLagBlocks?: number | null;
  descriptor: DescriptorParams;
}

/** Kinds whose outcome uses the expected reward `v`, hence a reward rule. */
function usesRewardRule(kind: EventKind): boolean {
  return kind === 'hashprice' || kind === 'hashpower-delivery';
}

/**
 * The reward rule an event is computed with: the stated one, `full-reward-v0`
 * for a hashprice or delivery event announced before reward rules (its
 * outcome never changes), null for pool-rewards.
 */
export function rewardRuleOf(p: EventParams): RewardRule | null {
  if (!usesRewardRule(p.kind)) return null;
  return p.rewardRule ?? FULL_REWARD_RULE;
}

/**
 * The reward-rule fields an event's evidence carries: none for pool-rewards
 * and for `full-reward-v0` (evidence in the pre-rule format), else the rule
 * and the halving interval of the event's network it derives subsidies with.
 * @throws {DlcError} INVALID_PARAMS `network-unknown`.
 */
export function evidenceRewardFields(p: EventParams): { rewardRule?: RewardRule; subsidyHalvingInterval?: number } {
  const rule = statedRewardRule(p);
  if (rule === undefined) return {};
  return { rewardRule: rule, subsidyHalvingInterval: subsidyHalvingInterval(p.network) };
}

/** The reward rule of events announced from now on (null for kinds without one). */
export function currentRewardRule(kind: EventKind): RewardRule | null {
  return usesRewardRule(kind) ? CURRENT_REWARD_RULE : null;
}

/**
 * The reward rule as it enters the canonical JSON and the id: absent for
 * `full-reward-v0` and for kinds without a rule, so events announced before
 * reward rules keep their ids (and a `full-reward-v0` event IS such an event).
 */
function statedRewardRule(p: EventParams): RewardRule | undefined {
  const rule = rewardRuleOf(p);
  return rule === null || rule === FULL_REWARD_RULE ? undefined : rule;
}

/** Kinds whose outcome counts payouts to a delivery address, hence may state a payout scheme and lag. */
function paysDeliveryAddress(kind: EventKind): boolean {
  return kind === 'pool-rewards' || kind === 'hashpower-delivery';
}

/** An event's payout lag in blocks: the stated one, 0 when none is stated. */
export function payoutLagOf(p: EventParams): number {
  return p.payoutLagBlocks ?? 0;
}

/** The blocks whose payouts count for an event: `measuredRange(window, payoutLagOf(p))`. */
export function eventMeasuredRange(p: EventParams): BlockWindow {
  return measuredRange(p.window, payoutLagOf(p));
}

/**
 * Checks an event's payout scheme and lag (`paramsOf` of the oracle, and
 * anyone reading parameters back): a known scheme, a lag from 0 to
 * `MAX_PAYOUT_LAG_BLOCKS`, neither on a hashprice event (it counts no payouts).
 * @throws {DlcError} INVALID_PARAMS `payout-scheme-invalid`, `payout-lag-invalid`, `payout-params-not-allowed`.
 */
export function checkPayoutParams(p: Pick<EventParams, 'kind' | 'payoutScheme' | 'payoutLagBlocks'>): void {
  const scheme = p.payoutScheme ?? null;
  const lag = p.payoutLagBlocks ?? null;
  if (!paysDeliveryAddress(p.kind) && (scheme !== null || (lag !== null && lag !== 0))) {
    throw new DlcError('INVALID_PARAMS', `${p.kind} events count no payouts: no payout scheme or lag`, { reason: 'payout-params-not-allowed' });
  }
  if (scheme !== null) checkPayoutScheme(scheme);
  if (lag !== null) checkPayoutLag(lag);
}

/**
 * The payout fields as they enter the canonical JSON, the id and the
 * evidence: the scheme when stated, the lag when above 0 (0 and "none" are
 * one rule, so one id), nothing for hashprice events.
 */
function statedPayoutFields(p: EventParams): { payoutScheme?: PayoutScheme; payoutLagBlocks?: number } {
  if (!paysDeliveryAddress(p.kind)) return {};
  const lag = payoutLagOf(p);
  return {
    ...(p.payoutScheme == null ? {} : { payoutScheme: p.payoutScheme }),
    ...(lag === 0 ? {} : { payoutLagBlocks: lag }),
  };
}

/**
 * The payout-scheme fields an event's evidence carries (`statedPayoutFields`):
 * none for an event that states neither, so its evidence keeps today's format.
 */
export function evidencePayoutFields(p: EventParams): { payoutScheme?: PayoutScheme; payoutLagBlocks?: number } {
  return statedPayoutFields(p);
}

/**
 * Whether payout evidence states the event's own payout scheme and lag (an
 * oracle must not measure another range than it announced): a message naming
 * the difference, or undefined when they agree. For `hashdlc oracle verify`.
 */
export function payoutFieldsMismatch(e: { payoutScheme?: PayoutScheme; payoutLagBlocks?: number }, p: EventParams): string | undefined {
  const want = statedPayoutFields(p);
  if (e.payoutScheme !== want.payoutScheme) return `evidence payout scheme ${e.payoutScheme ?? 'none'} differs from the event's ${want.payoutScheme ?? 'none'}`;
  if (e.payoutLagBlocks !== want.payoutLagBlocks) return `evidence payout lag ${e.payoutLagBlocks ?? 0} differs from the event's ${want.payoutLagBlocks ?? 0}`;
  return undefined;
}

/** The canonical JSON of event parameters: fixed key order, no spaces. */
export function canonicalParamsJson(p: EventParams): string {
  const d: DescriptorParams =
    p.descriptor.type === 'numeric'
      ? { type: 'numeric', base: 2, nbDigits: p.descriptor.nbDigits, unit: p.descriptor.unit, precision: p.descriptor.precision }
      : { type: 'enum', thresholds: [...p.descriptor.thresholds], outcomes: [...p.descriptor.outcomes] };
  const rule = statedRewardRule(p);
  const payout = statedPayoutFields(p);
  return JSON.stringify({
    kind: p.kind,
    network: p.network,
    window: { start: p.window.start, end: p.window.end },
    deliveryAddress: p.deliveryAddress,
    poolPayoutAddresses: p.poolPayoutAddresses,
    hashrateThs: p.hashrateThs,
    simulatedDifficulty: p.simulatedDifficulty,
    ...(rule === undefined ? {} : { rewardRule: rule }),
    // Fixed order: scheme then lag; each only when stated, so ids of events without them never change.
    ...(payout.payoutScheme === undefined ? {} : { payoutScheme: payout.payoutScheme }),
    ...(payout.payoutLagBlocks === undefined ? {} : { payoutLagBlocks: payout.payoutLagBlocks }),
    descriptor: d,
  });
}

/**
 * The deterministic event id:
 * `<kind>/<start>-<end>[/<H>ths][/simdiff=<d>][/reward=<rule>][/payout=<scheme>][/lag=<n>]/<first 32 hex of SHA-256(canonical params)>`.
 * The reward rule, the payout scheme and the lag are spelled out (not only
 * hashed) so that the announcement itself, which signs the id, states them
 * to anyone holding it.
 */
export function eventIdFor(p: EventParams): string {
  const digest = toHex(sha256(new TextEncoder().encode(canonicalParamsJson(p)))).slice(0, 32);
  const parts: string[] = [p.kind, `${p.window.start}-${p.window.end}`];
  if (p.hashrateThs !== null) parts.push(`${p.hashrateThs}ths`);
  if (p.simulatedDifficulty !== null) parts.push(`simdiff=${p.simulatedDifficulty}`);
  const rule = statedRewardRule(p);
  if (rule !== undefined) parts.push(`reward=${rule}`);
  const payout = statedPayoutFields(p);
  if (payout.payoutScheme !== undefined) parts.push(`payout=${payout.payoutScheme}`);
  if (payout.payoutLagBlocks !== undefined) parts.push(`lag=${payout.payoutLagBlocks}`);
  parts.push(digest);
  return parts.join('/');
}

/**
 * Labels of an enum event over thresholds `t1 < ... < tk`:
 * `"<t1"`, `"t1..(t2-1)"`, ..., `">=tk"`.
 * @throws {RangeError} for thresholds that are not increasing positive integers below 2^64.
 */
export function enumLabels(thresholds: readonly bigint[]): string[] {
  checkThresholds(thresholds);
  const labels = [`<${thresholds[0]!}`];
  for (let i = 0; i + 1 < thresholds.length; i++) {
    const lo = thresholds[i]!;
    const hi = thresholds[i + 1]! - 1n;
    labels.push(lo === hi ? `${lo}` : `${lo}..${hi}`);
  }
  labels.push(`>=${thresholds[thresholds.length - 1]!}`);
  return labels;
}

function checkThresholds(thresholds: readonly bigint[]): void {
  if (thresholds.length < 1 || thresholds.length > MAX_THRESHOLDS) {
    throw new RangeError(`an enum event needs 1 to ${MAX_THRESHOLDS} thresholds`);
  }
  let prev = 0n;
  for (const t of thresholds) {
    if (t <= prev || t > U64_MAX) throw new RangeError('thresholds must be increasing positive integers below 2^64');
    prev = t;
  }
}

/**
 * The label of the range `value` falls in.
 * @throws {RangeError} as `enumLabels`.
 */
export function enumLabelFor(thresholds: readonly bigint[], value: bigint): string {
  const labels = enumLabels(thresholds);
  let i = 0;
  while (i < thresholds.length && value >= thresholds[i]!) i++;
  return labels[i]!;
}

/** The dlcspecs event descriptor of an event. */
export function eventDescriptorOf(p: EventParams): EventDescriptor {
  if (p.descriptor.type === 'enum') return { enumEvent: { outcomes: [...p.descriptor.outcomes] } };
  return {
    digitDecompositionEvent: { base: 2, isSigned: false, unit: p.descriptor.unit, precision: p.descriptor.precision, nbDigits: p.descriptor.nbDigits },
  };
}

/**
 * The least precision `p >= 0` at which a hashprice window's value fits
 * `nbDigits` digits uncapped: the bound is the hashprice of blocks that
 * each pay twice the subsidy at the window's first height (the subsidy only
 * falls within a window; fees of up to one subsidy per block) at the
 * regtest simulated difficulty. A function of public facts only, so every
 * oracle asked to fit the same window announces the same event (same id).
 * A value above the bound is capped at `2^nbDigits - 1` as always.
 * @throws {DlcError} INVALID_PARAMS for a bad difficulty text or digits.
 */
export function fittingHashpricePrecision(windowStart: number, network: string, simulatedDifficulty: string, nbDigits: number): number {
  const subsidy = blockSubsidy(windowStart, subsidyHalvingInterval(network));
  const bound = hashpriceSatsPerPhDay([{ reward: 2n * subsidy, difficulty: difficultyFromDecimal(simulatedDifficulty) }]);
  const max = maxOutcome(nbDigits);
  let p = 0;
  while (p < MAX_EVENT_PRECISION && ratFloor(ratDiv(bound, ratPow10(p))) > max) p++;
  return p;
}

/** Number of oracle nonces the event needs (one per digit, or one). */
export function nonceCount(p: EventParams): number {
  return p.descriptor.type === 'enum' ? 1 : p.descriptor.nbDigits;
}

/** The numeric spec the outcome is computed with (enum events: 64 digits, uncapped in practice). */
export function evidenceSpec(p: EventParams): NumericEventSpec {
  return p.descriptor.type === 'enum' ? { nbDigits: ENUM_VALUE_DIGITS, precision: 0 } : { nbDigits: p.descriptor.nbDigits, precision: p.descriptor.precision };
}

/** Human-readable rules stated for an event. */
export function eventRules(p: EventParams): string[] {
  const precision = p.descriptor.type === 'numeric' ? p.descriptor.precision : 0;
  const rules = [
    `window: blocks at heights [${p.window.start}, ${p.window.end}); outcome = floor(value${precision === 0 ? '' : ` / 10^${precision}`}), base 2 unsigned digits, most significant first`,
  ];
  const rewardRule = rewardRuleOf(p);
  if (rewardRule !== null) {
    const interval = rewardRule === CAPPED_FEES_RULE ? ` (halving interval ${subsidyHalvingInterval(p.network)} blocks on ${p.network})` : '';
    rules.push(`${REWARD_RULE_TEXT[rewardRule]}${interval}`);
  }
  if (p.kind === 'hashpower-delivery') rules.push(NO_NETWORK_REWARD_RULE);
  const payout = statedPayoutFields(p);
  // Only when stated: the rules of events announced before schemes read as they always did.
  if (payout.payoutScheme !== undefined || payout.payoutLagBlocks !== undefined) {
    const lag = payoutLagOf(p);
    const range = measuredRange(p.window, lag);
    const scheme = p.payoutScheme == null ? 'payout scheme not stated' : `payout scheme ${p.payoutScheme}`;
    rules.push(
      lag === 0
        ? `${scheme}; payouts counted in the window's own blocks (no payout lag)`
        : `${scheme}; payout lag ${lag} blocks: payouts in blocks [${range.start}, ${range.end}) count for the window, whose own blocks give the expected reward; attested once block ${range.end - 1} is in`,
    );
  }
  if (p.descriptor.type === 'enum') rules.push(`enum: the label of the range the integer value falls in (${p.descriptor.outcomes.join(', ')})`);
  if (p.simulatedDifficulty !== null) {
    rules.push(`regtest simulated difficulty ${p.simulatedDifficulty} replaces every block's own difficulty in hashprice and delivery outcomes`);
  }
  return rules;
}

/**
 * The base-2 digits of `outcome`, most significant first, as the strings an
 * oracle signs (Oracle.md "Digit decomposition").
 * @throws {RangeError} when the outcome does not fit in `nbDigits` digits.
 */
export function outcomeDigits(outcome: bigint, nbDigits: number): string[] {
  if (outcome < 0n || outcome >= 1n << BigInt(nbDigits)) throw new RangeError(`outcome ${outcome} does not fit in ${nbDigits} digits`);
  return outcome.toString(2).padStart(nbDigits, '0').split('');
}

/**
 * The integer attested by base-2 digits.
 * @throws {RangeError} for anything but '0'/'1' strings.
 */
export function digitsToOutcome(digits: readonly string[]): bigint {
  if (digits.length === 0 || digits.some((d) => d !== '0' && d !== '1')) throw new RangeError('digits must be "0" or "1"');
  return BigInt(`0b${digits.join('')}`);
}

/** What the oracle signs for a recomputed outcome: the attested value/label and the signed strings. */
export function attestedOutcome(p: EventParams, r: RecomputedOutcome): { outcome: string; signed: string[] } {
  if (p.descriptor.type === 'enum') {
    const label = enumLabelFor(p.descriptor.thresholds.map(BigInt), r.outcome);
    return { outcome: label, signed: [label] };
  }
  return { outcome: r.outcome.toString(), signed: outcomeDigits(r.outcome, p.descriptor.nbDigits) };
}

// ------------------------------------------------------------------ JSON forms

const hex32 = z.string().regex(/^[0-9a-f]{64}$/);
const sats = z.string().regex(/^(0|[1-9]\d{0,18})$/).transform(BigInt);
const height = z.number().int().min(0).max(0x7fffffff);

const descriptorSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('numeric'),
    base: z.literal(2),
    nbDigits: z.number().int().min(1).max(64),
    unit: z.string(),
    precision: z.number().int().min(0).max(MAX_EVENT_PRECISION),
  }).strict(),
  z.object({
    type: z.literal('enum'),
    thresholds: z.array(z.string().regex(/^[1-9]\d{0,19}$/)).min(1).max(MAX_THRESHOLDS),
    outcomes: z.array(z.string()).min(2),
  }).strict(),
]);

/** zod schema of `EventParams` as the API prints them. */
export const eventParamsSchema = z
  .object({
    kind: z.enum(EVENT_KINDS),
    network: z.string(),
    window: z.object({ start: height, end: height }).strict(),
    deliveryAddress: z.string().nullable(),
    poolPayoutAddresses: z.array(z.string()).nullable(),
    hashrateThs: z.string().regex(/^[1-9]\d*$/).nullable(),
    simulatedDifficulty: z.string().nullable(),
    rewardRule: z.enum(REWARD_RULES).nullable().optional(),
    payoutScheme: z.enum(PAYOUT_SCHEMES).nullable().optional(),
    payoutLagBlocks: z.number().int().min(0).max(MAX_PAYOUT_LAG_BLOCKS).nullable().optional(),
    descriptor: descriptorSchema,
  })
  .strict();

const blockEvidenceSchema = z
  .object({ height, hash: hex32, bits: z.string().regex(/^[0-9a-f]{8}$/), reward: sats, coinbaseTxid: hex32 })
  .strict();
const payoutEvidenceSchema = z
  .object({
    source: z.enum(['coinbase', 'pool-payout']),
    height,
    blockHash: hex32,
    txid: hex32,
    vout: z.number().int().min(0).max(0xffffffff),
    value: sats,
    address: z.string(),
    fromAddress: z.string().optional(),
  })
  .strict();
const base = {
  window: z.object({ start: height, end: height }).strict(),
  event: z.object({ nbDigits: z.number().int().min(1).max(64), precision: z.number().int() }).strict(),
  blocks: z.array(blockEvidenceSchema),
};
/** Hashprice and delivery evidence: absent for evidence published before reward rules (`full-reward-v0`). */
const rewardRuleFields = {
  rewardRule: z.enum(REWARD_RULES).optional(),
  subsidyHalvingInterval: z.number().int().min(1).max(0x7fffffff).optional(),
};
const payoutFields = {
  deliveryAddress: z.string(),
  poolPayoutAddresses: z.array(z.string()),
  payouts: z.array(payoutEvidenceSchema),
  // Issue 16; absent in evidence of events that state no scheme or lag.
  payoutScheme: z.enum(PAYOUT_SCHEMES).optional(),
  payoutLagBlocks: z.number().int().min(1).max(MAX_PAYOUT_LAG_BLOCKS).optional(),
  payoutBlocks: z.array(blockEvidenceSchema).optional(),
};

/** zod schema of the evidence JSON (bigints as decimal strings) → `OutcomeEvidence`. */
export const evidenceJsonSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('hashprice'), ...base, simulatedDifficulty: z.string().optional(), ...rewardRuleFields }).strict(),
  z.object({ kind: z.literal('pool-rewards'), ...base, ...payoutFields }).strict(),
  z
    .object({
      kind: z.literal('hashpower-delivery'),
      ...base,
      ...payoutFields,
      simulatedDifficulty: z.string().optional(),
      ...rewardRuleFields,
      hashrateThs: z.string().regex(/^[1-9]\d*$/).transform(BigInt),
    })
    .strict(),
]);

/** JSON-safe evidence: every bigint as a decimal string. */
export type EvidenceJson = z.input<typeof evidenceJsonSchema>;

/** The JSON form of evidence (bigints → decimal strings), for the API and the store. */
export function evidenceToJson(e: OutcomeEvidence): EvidenceJson {
  return JSON.parse(JSON.stringify(e, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as EvidenceJson;
}

/**
 * Parses evidence JSON back to `OutcomeEvidence`.
 * @throws {z.ZodError} when the JSON does not have the evidence shape.
 */
export function evidenceFromJson(json: unknown): OutcomeEvidence {
  return evidenceJsonSchema.parse(json) as OutcomeEvidence;
}
