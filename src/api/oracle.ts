/**
 * The oracle API's schemas (oracle/API.md v1), one module for every reader:
 * the oracle's HTTP layer (the list query it takes), the one client
 * (`OracleClient`, src/api/oracle-client.ts) and through it the participant,
 * the coordinator, the dashboard and the stack.
 *
 * Readers differ in what they may assume, so an event has three shapes:
 * - `eventSchema`: the `EventJson` this project's oracle serves (a participant
 *   checks the parameters against the offer, so they must be there);
 * - `announcedEventSchema`: any v1 oracle's event, at least an id and an
 *   announcement (the coordinator also takes oracles that state no parameters);
 * - `eventDisplaySchema`: anything with an event id, size-capped, every field
 *   optional (the dashboard only shows it).
 * The attestation's evidence is parsed strictly (`evidenceSchema`) so
 * protocol/hashpower `recomputeOutcome` can check it.
 *
 * This module does NOT fetch (oracle-client.ts does) nor verify signatures.
 */
import { z } from 'zod';
import { PAYOUT_SCHEMES, REWARD_RULES } from '../../protocol/hashpower/index.js';
import { DECIMAL_U64_TEXT, isHexText } from './text.js';

// Linear check: a repeated-group regex throws RangeError on large hex.
export const lowerHex = z.string().refine((s) => isHexText(s) && s === s.toLowerCase());

const num = z.number().int();
const windowSchema = z.object({ start: num, end: num });

/** `GET /v1/info`, the fields clients read. */
export const oracleInfoSchema = z.object({
  publicKey: z.string().regex(/^[0-9a-f]{64}$/),
  hashProfile: z.enum(['sha256', 'tagged']),
  network: z.string(),
  confirmations: z.number().int().nonnegative().optional(),
  tip: z.object({ height: z.number().int(), hash: z.string() }).nullable().optional(),
}).loose();
export type OracleInfo = z.output<typeof oracleInfoSchema>;

/** What any v1 oracle's `/v1/info` must state: its key and hash profile (the coordinator asks no more). */
export const oracleKeySchema = oracleInfoSchema.pick({ publicKey: true, hashProfile: true }).loose();

/** `EventJson` as this project's oracle serves it (the fields a participant checks). */
export const eventSchema = z.object({
  eventId: z.string(),
  kind: z.string(),
  state: z.string(),
  params: z.object({
    kind: z.string(),
    window: windowSchema.nullable(),
    deliveryAddress: z.string().nullable().optional(),
    poolPayoutAddresses: z.array(z.string()).nullable().optional(),
    hashrateThs: z.string().nullable().optional(),
    rewardRule: z.string().nullable().optional(),
    /** Issue 16: how the pool pays (null or absent: not stated) and the payout lag (absent: 0). */
    payoutScheme: z.enum(PAYOUT_SCHEMES).nullable().optional(),
    payoutLagBlocks: z.number().int().min(0).nullable().optional(),
    descriptor: z.object({ type: z.string() }).loose(),
  }).loose(),
  attestHeight: z.number().int(),
  announcement: z.object({ hex: lowerHex }).loose(),
}).loose();
export type OracleEventJson = z.output<typeof eventSchema>;

/** An event of any v1 oracle: an id and its announcement; parameters where the oracle states them. */
export const announcedEventSchema = z.object({
  eventId: z.string(),
  announcement: z.object({ hex: z.string().regex(/^[0-9a-f]+$/) }).loose(),
  params: z.object({
    kind: z.string(),
    window: windowSchema.nullable(),
    deliveryAddress: z.string().nullable().optional(),
    hashrateThs: z.string().nullable().optional(),
    rewardRule: z.string().nullable().optional(),
    payoutScheme: z.string().nullable().optional(),
  }).loose().optional(),
  attestHeight: z.number().int().optional(),
  state: z.string().optional(),
}).loose();
export type AnnouncedEventJson = z.output<typeof announcedEventSchema>;

/** An event to show: everything but the id optional, every text capped. */
export const eventDisplaySchema = z.object({
  eventId: z.string().max(500),
  kind: z.string().max(100).optional(),
  state: z.string().max(100).optional(),
  params: z.object({
    kind: z.string().max(100).optional(),
    network: z.string().max(100).optional(),
    window: windowSchema.loose().nullable().optional(),
    deliveryAddress: z.string().max(200).nullable().optional(),
    poolPayoutAddresses: z.array(z.string().max(200)).nullable().optional(),
    hashrateThs: z.string().max(40).nullable().optional(),
    simulatedDifficulty: z.string().max(100).nullable().optional(),
    descriptor: z.record(z.string(), z.unknown()).nullable().optional(),
  }).loose().optional(),
  attestHeight: num.optional(),
  eventMaturityEpoch: num.optional(),
  rules: z.array(z.string().max(2000)).optional(),
  announcement: z.object({ hex: z.string() }).loose().optional(),
  attested: z.object({ height: num.optional(), outcome: z.string().max(200) }).loose().nullable().optional(),
}).loose();
export type OracleEventView = z.output<typeof eventDisplaySchema>;

/** `GET /v1/events` over an event shape. */
export function eventListSchema<S extends z.ZodType>(event: S) {
  return z.object({ events: z.array(event), next: z.string().nullable().optional() }).loose();
}

/** `GET /v1/events/:id/attestation`: the outcome and the attestation message; result and evidence where served. */
export const attestationSchema = z.object({
  eventId: z.string().max(500),
  outcome: z.string().max(200),
  hex: z.string().regex(/^[0-9a-f]+$/).optional(),
  attestedAtHeight: num.optional(),
  result: z.object({
    outcome: z.string().optional(),
    capped: z.boolean().optional(),
    noNetworkReward: z.boolean().optional(),
    networkReward: z.string().optional(),
    poolRewards: z.string().optional(),
  }).loose().optional(),
  evidence: z.unknown().optional(),
}).loose();
export type AttestationJson = z.output<typeof attestationSchema>;

/** A u64 of an oracle's answer, read as a bigint: 1 to 20 digits (text.ts `DECIMAL_U64_TEXT`; leading zeros pass). */
/**
 * `GET /v1/events/:id/progress` (issue 14): what the oracle's index has
 * measured of an event's window so far, by the same rules as its attestation,
 * over `[start, min(atHeight + 1, end))`: the rewards paid to the delivery
 * address (a sale), the hashprice so far, and for a sale the delivery ratio so
 * far against the hashrate expected over the blocks seen (`ratioBps`, null
 * before the window starts). Informational: nothing is signed.
 */
export const eventProgressSchema = z.object({
  eventId: z.string(),
  kind: z.string(),
  /** The last block counted (the oracle's indexed tip, capped at end - 1). */
  atHeight: z.number().int(),
  window: z.object({ start: z.number().int(), end: z.number().int() }),
  /** Blocks of the window counted so far. */
  blocks: z.number().int(),
  rewardsSats: z.string().nullable(),
  ratioBps: z.number().nullable(),
}).loose();
export type EventProgressJson = z.output<typeof eventProgressSchema>;

export const u64AnswerSchema = z.string().regex(DECIMAL_U64_TEXT).transform(BigInt);
const hex32 = z.string().regex(/^[0-9a-f]{64}$/);
const height = z.number().int().min(0);
const blockSchema = z.object({ height, hash: hex32, bits: z.string().regex(/^[0-9a-f]{8}$/), reward: u64AnswerSchema, coinbaseTxid: hex32 }).loose();
const payoutSchema = z.object({
  source: z.enum(['coinbase', 'pool-payout']),
  height,
  blockHash: hex32,
  txid: hex32,
  vout: z.number().int().min(0),
  value: u64AnswerSchema,
  address: z.string().max(200),
  fromAddress: z.string().max(200).optional(),
}).loose();
const evidenceBase = {
  window: z.object({ start: height, end: height }),
  event: z.object({ nbDigits: z.number().int().min(1).max(64), precision: z.number().int() }),
  blocks: z.array(blockSchema),
};
const payoutFields = {
  deliveryAddress: z.string().max(200),
  poolPayoutAddresses: z.array(z.string().max(200)),
  payouts: z.array(payoutSchema),
  // Issue 16: stated only by events with a payout scheme or lag; the measured range's blocks with a lag.
  payoutScheme: z.enum(PAYOUT_SCHEMES).optional(),
  payoutLagBlocks: z.number().int().min(1).optional(),
  payoutBlocks: z.array(blockSchema).optional(),
};
const rewardRuleFields = { rewardRule: z.enum(REWARD_RULES).optional(), subsidyHalvingInterval: z.number().int().min(1).optional() };

/** The attestation's `evidence` (oracle/API.md), amounts as bigint: the input of protocol/hashpower `recomputeOutcome`. */
export const evidenceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('hashprice'), ...evidenceBase, simulatedDifficulty: z.string().max(100).optional(), ...rewardRuleFields }).loose(),
  z.object({ kind: z.literal('pool-rewards'), ...evidenceBase, ...payoutFields }).loose(),
  z.object({ kind: z.literal('hashpower-delivery'), ...evidenceBase, ...payoutFields, simulatedDifficulty: z.string().max(100).optional(), ...rewardRuleFields, hashrateThs: u64AnswerSchema }).loose(),
]);

/** The list query of `GET /v1/events` (what the oracle takes; `kinds` are its event kinds, `maxLimit` its configured cap). */
export function eventsQuerySchema<K extends string>(kinds: readonly [K, ...K[]], maxLimit: number) {
  return z
    .object({
      kind: z.enum(kinds).optional(),
      state: z.enum(['announced', 'attested']).optional(),
      address: z.string().min(1).max(128).optional(),
      limit: z
        .string()
        .regex(/^[1-9]\d{0,5}$/)
        .transform(Number)
        .refine((n) => n <= maxLimit, `at most ${maxLimit}`)
        .optional(),
      after: z.string().min(1).max(512).optional(),
    })
    .strict();
}
