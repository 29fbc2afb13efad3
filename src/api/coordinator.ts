/**
 * The coordinator API's vocabulary and schemas (src/coordinator/API.md v1):
 * the contract states, the public view of a contract (what anyone may see,
 * src/coordinator/privacy.ts), the answers the one client
 * (`CoordinatorClient`, src/api/coordinator-client.ts) checks, and
 * `CoordinatorQueries`: the read-only query interface the coordinator service
 * implements and the dashboard takes, so neither imports the other.
 *
 * This module does NOT fetch, authenticate or decide who sees what: the
 * coordinator's privacy rules (privacy.ts) shape every `PublicContract` it
 * hands out.
 */
import { z } from 'zod';
import { MAX_STRIP_PERIODS } from '../../protocol/terms/index.js';
import { lowerHex } from './oracle.js';
import { DECIMAL_U64_TEXT, U64_END, isBase64Text, isHexText } from './text.js';

/** Every state of a contract, in lifecycle order (the `state` of every answer). */
export const CONTRACT_STATES = [
  'offered',
  'accepted',
  'signed',
  'funding-broadcast',
  'confirmed',
  'attested',
  'cet-broadcast',
  'settled',
  'refund-broadcast',
  'refunded',
  'close-broadcast',
  'closed',
  'cancelled',
  'failed',
  'expired',
  'transferred',
] as const;
export type ContractState = (typeof CONTRACT_STATES)[number];

/**
 * Every state of a position listing and its transfer (issue 14), in lifecycle
 * order: `listed` (on the secondary book), `taken` (a buyer posted its side of
 * the new contract; the stayer's consent, the seller's release and the buyer's
 * funding are collected), `broadcast` (the transfer transaction is out),
 * `transferred` (it confirmed: the new contract is the live one), and the ends
 * `failed` (the transfer can never confirm: the old funding output or the
 * buyer's input was spent otherwise), `cancelled` (by the seller, or the
 * taker before broadcast), `expired` (the transfer window closed first).
 */
export const POSITION_STATES = ['listed', 'taken', 'broadcast', 'transferred', 'failed', 'cancelled', 'expired'] as const;
export type PositionState = (typeof POSITION_STATES)[number];

/** How a funded contract ended on chain. */
export type ClosingKind = 'cet' | 'refund' | 'close';

export interface HistoryEntry {
  state: ContractState;
  /** Unix ms. */
  at: number;
  note?: string;
}

/** The offer's terms at a glance (amounts as decimal strings, as served). */
export interface TermsSummaryView {
  template: string;
  window: { start: number; end: number } | null;
  /** Sale: upfront + escrow (sats); forward/call: strike (sats/PH/day); custom: accept collateral. */
  price: string;
  hashrateThs: string | null;
}

/**
 * One oracle of a contract's set (issue 11) with what it attested, as the
 * coordinator's watcher saw it: `agreed` is true when its attestation opens
 * the outcome of the set that completed the CET, false when it attested
 * another outcome (a dissenting oracle), null before settlement or when it
 * has not attested.
 */
export interface OracleView {
  url: string;
  publicKey: string;
  eventId: string;
  attested: boolean;
  /** The attested outcome (decimal, the oracle's statement), null while not attested. */
  outcome: string | null;
  agreed: boolean | null;
}

/**
 * A contract as the public sees it (privacy.ts): an open offer whole, past
 * `offered` the summary and the chain facts (`public: true`). Amounts are
 * decimal strings, times Unix ms, heights numbers.
 */
export interface PublicContract {
  id: string;
  state: ContractState;
  createdAt: number;
  updatedAt: number;
  history: HistoryEntry[];
  /** The human terms, JSON form (parse with the terms schema before use). */
  terms: Record<string, unknown>;
  summary: TermsSummaryView;
  offerer: { identityPubkey: string; fundingPubkey: string; payoutSpk: string };
  offerCollateral: string;
  acceptCollateral: string;
  totalCollateral: string;
  cets: number;
  adaptorSignatures: number;
  /** Every oracle of the contract, in the offer's announcement order. */
  oracles: OracleView[];
  /** How many of `oracles` must attest the same outcome (1 for a single-oracle contract). */
  oracleThreshold?: number;
  cetLocktime: number;
  refundLocktime: number;
  fundingTxid?: string;
  fundOutputIndex?: number;
  fundOutputValue?: string;
  fundingHeight?: number | null;
  fundingBlockHash?: string | null;
  /** The funding transaction was broadcast (the transaction itself is party-only). */
  fundingBroadcast?: boolean;
  closingKind?: ClosingKind;
  closingTxid?: string;
  closingHeight?: number;
  closingBlockHash?: string;
  payouts?: { offer: string; accept: string };
  outcome?: string | null;
  cetIndex?: number | null;
  broadcastBy?: 'coordinator' | 'other' | null;
  endedFrom?: ContractState;
  reason?: string;
  /** The accepter's payout script, once a closing transaction exists. */
  accepter?: { payoutSpk: string };
  /** A strip's period (issue 12): the strip's id, this period's index (0-based), the number of periods. */
  strip?: { id: string; index: number; periods: number };
  /** Issue 14: the contract this one was transferred from (it is the new contract of that position's transfer). */
  transferredFrom?: TransferLink;
  /** Issue 14: the transfer that replaced this contract (state `transferred` once it confirmed; pending before). */
  transferredTo?: TransferLink;
  /** Marks a summary (absent on an open offer, which is public whole). */
  public?: true;
}

/** One transfer between two contracts of a chain of owners (issue 14). */
export interface TransferLink {
  /** The other contract's id. */
  contractId: string;
  positionId: string;
  transferTxid: string | null;
}

/** A page of an index range. */
export interface PublicPage {
  contracts: PublicContract[];
  /** The cursor of the next page, null at the end. */
  next: string | null;
}

export type QueryLogLevel = 'info' | 'warn' | 'error';

/**
 * What a read-only viewer (the dashboard) may ask the coordinator: public
 * views only, never a contract's messages past the offer, PSBTs or keys.
 */
export interface CoordinatorQueries {
  /** The coordinator's network name (`regtest`, `signet`, ...). */
  readonly network: string;
  /** The oracle base URLs it accepts offers from, in configured order. */
  readonly oracleUrls: readonly string[];
  /** @throws whatever the node client throws (a viewer shows "node not answering"). */
  tipHeight(): Promise<number>;
  /** One page of the contracts in `state`, in the store's index order. */
  contractsByState(state: ContractState, page: { limit: number; after?: string | undefined }): Promise<PublicPage>;
  /** One contract's public view, or null for an unknown id. */
  contract(id: string): Promise<PublicContract | null>;
  /** The offer_dlc of an offer or contract (public for good: it was published on the book), or null. */
  offerMessage(id: string): Promise<Uint8Array | null>;
  /**
   * A strip (issue 12) by its id or any period's id: its whole terms and its
   * periods' public views in period order; null for an unknown id or a
   * contract that is not a strip's period. Optional: a viewer without it shows
   * periods as single contracts.
   */
  strip?(id: string): Promise<{ id: string; periods: number; terms: Record<string, unknown>; contracts: PublicContract[] } | null>;
  /** Positions for sale and their transfers (issue 14), newest first; optional: a viewer without it shows none. */
  positions?(q: { state?: PositionState | undefined; limit: number; after?: string | undefined }): Promise<{ positions: PositionView[]; next: string | null }>;
  /**
   * A contract's chain of owners (issue 14): every contract of its transfer
   * chain, oldest first, each with its accepter's identity and the position
   * that transferred it on (null for the last); null for an unknown id.
   */
  ownerChain?(id: string): Promise<OwnerChainEntry[] | null>;
  /** The coordinator's log. */
  log(level: QueryLogLevel, msg: string, fields?: Record<string, unknown>): void;
}

/** One link of a contract's chain of owners (`CoordinatorQueries.ownerChain`). */
export interface OwnerChainEntry {
  contractId: string;
  state: ContractState;
  /** The accepter's (buyer's) identity key, x-only hex. */
  accepterIdentity: string | null;
  /** The position that transferred this contract to the next owner, and its transfer txid; null for the live end. */
  positionId: string | null;
  transferTxid: string | null;
}

// ------------------------------------------------------------------ requests the server takes

// Linear checks (text.ts): a repeated-group regex throws RangeError on large bodies.
const hexString = (max: number) => z.string().max(max).refine(isHexText, 'hex').transform((s) => s.toLowerCase());
const xonly = z.string().regex(/^[0-9a-fA-F]{64}$/, '32-byte hex').transform((s) => s.toLowerCase());
const base64 = (max: number) => z.string().max(max).refine(isBase64Text, 'base64');
// A canonical u64 request field, kept as text (text.ts `DECIMAL_U64_TEXT` and more): 1 to 20 digits, no leading zero, below 2^64.
export const u64TextSchema = z
  .string()
  .regex(DECIMAL_U64_TEXT, 'decimal u64')
  .refine((s) => s === '0' || !s.startsWith('0'), 'decimal u64')
  // Zod runs a refinement after a failed regex too: only digits reach BigInt.
  .refine((s) => !DECIMAL_U64_TEXT.test(s) || BigInt(s) < U64_END, 'exceeds u64');

/**
 * What the coordinator takes: the bodies of its POSTs and the queries of its lists, capped at its
 * body limit; `terms` is the schema of an offer's human terms (the coordinator's own).
 */
export function coordinatorRequestSchemas<T extends z.ZodType>(maxBodyBytes: number, terms: T) {
  return {
    offer: z.object({ offer: hexString(maxBodyBytes), identityPubkey: xonly, terms }).strict(),
    accept: z.object({ accept: hexString(maxBodyBytes), identityPubkey: xonly }).strict(),
    sign: z.object({ sign: hexString(maxBodyBytes), fundingPsbt: base64(maxBodyBytes).optional() }).strict(),
    fund: z.object({ fundingPsbt: base64(maxBodyBytes) }).strict(),
    close: z.object({
      offerPayout: u64TextSchema,
      acceptPayout: u64TextSchema,
      signature: hexString(128).refine((s) => s.length === 128, '64-byte compact signature').optional(),
      closePsbt: base64(1_000_000).optional(),
    }).strict(),
    cancel: z.object({}).strict(),
    // Strips (issue 12): one round for N period contracts, one message per period, in period order.
    stripOffer: z.object({ offers: z.array(hexString(maxBodyBytes)).min(2).max(MAX_STRIP_PERIODS), identityPubkey: xonly, terms }).strict(),
    stripAccept: z.object({ accepts: z.array(hexString(maxBodyBytes)).min(2).max(MAX_STRIP_PERIODS), identityPubkey: xonly }).strict(),
    stripSign: z.object({ signs: z.array(hexString(maxBodyBytes)).min(2).max(MAX_STRIP_PERIODS), fundingPsbt: base64(maxBodyBytes).optional() }).strict(),
    // Positions (issue 14): the seller lists its side, a buyer takes it, the stayer consents,
    // the seller releases the old funding output, the buyer funds the transfer.
    positionSell: z.object({ contractId: z.string().min(1).max(100), price: u64TextSchema, sellerSpk: hexString(200) }).strict(),
    positionTake: z.object({ accept: hexString(maxBodyBytes), identityPubkey: xonly, priceSerialId: u64TextSchema, feeRatePerVb: u64TextSchema }).strict(),
    positionConsent: z.object({ sign: hexString(maxBodyBytes), signature: hexString(128).refine((s) => s.length === 128, '64-byte compact signature') }).strict(),
    positionRelease: z.object({ signature: hexString(128).refine((s) => s.length === 128, '64-byte compact signature') }).strict(),
    positionFund: z.object({ transferPsbt: base64(maxBodyBytes) }).strict(),
    positionCancel: z.object({}).strict(),
    positionsQuery: z.object({
      state: z.enum(POSITION_STATES).optional(),
      limit: z.coerce.number().int().min(1).optional(),
      after: z.string().max(300).optional(),
    }).strict(),
    offersQuery: z.object({
      template: z.enum(['hashpower-sale', 'hashprice-forward', 'hashprice-call', 'custom-curve']).optional(),
      windowStart: z.coerce.number().int().min(0).optional(),
      windowEnd: z.coerce.number().int().min(0).optional(),
      minPrice: u64TextSchema.optional(),
      maxPrice: u64TextSchema.optional(),
      limit: z.coerce.number().int().min(1).optional(),
      after: z.string().max(300).optional(),
    }).strict(),
    contractsQuery: z.object({
      state: z.enum(CONTRACT_STATES).optional(),
      party: xonly.optional(),
      limit: z.coerce.number().int().min(1).optional(),
      after: z.string().max(300).optional(),
    }).strict(),
  };
}

// ------------------------------------------------------------------ answers the client checks

const termsSchema = z.record(z.string(), z.unknown());

/** A strip period's place (issue 12): the strip's id, this period's index (0-based) and the number of periods. */
const stripPlaceSchema = z.object({ id: z.string(), index: z.number().int(), periods: z.number().int() }).loose();

/** A `TransferLink` (issue 14). */
const transferLinkSchema = z.object({ contractId: z.string(), positionId: z.string(), transferTxid: z.string().nullable() }).loose();

/** One `OracleView` of a contract view (issue 11); a coordinator from before oracle sets serves only url, publicKey and eventId. */
const oracleViewSchema = z.object({
  url: z.string(),
  publicKey: z.string(),
  eventId: z.string(),
  attested: z.boolean().optional(),
  outcome: z.string().nullable().optional(),
  agreed: z.boolean().nullable().optional(),
}).loose();

/** `OfferView` (`GET /v1/offers`, `GET /v1/offers/:id`, `POST /v1/offers`), the fields clients read. */
export const offerViewSchema = z.object({
  id: z.string(),
  state: z.string(),
  template: z.string().optional(),
  terms: termsSchema,
  /** Not in every coordinator's offer view: GET /v1/contracts/:id/messages has it. */
  offer: lowerHex.optional(),
  offerCollateral: z.string().optional(),
  acceptCollateral: z.string().optional(),
  cets: z.number().optional(),
  eventIds: z.array(z.string()).optional(),
  /** The offer's oracle set (absent from coordinators before oracle sets). */
  oracles: z.array(oracleViewSchema).optional(),
  oracleThreshold: z.number().int().optional(),
  /** A strip's period (absent for a single contract). */
  strip: stripPlaceSchema.optional(),
}).loose();
export type OfferView = z.output<typeof offerViewSchema>;

/** `ContractView` (`GET /v1/contracts/:id` and every contract step's answer), the fields clients read. */
export const contractViewSchema = z.object({
  id: z.string(),
  state: z.string(),
  contractId: z.string().nullable().optional(),
  terms: termsSchema.optional(),
  fundingPsbt: z.string().nullable().optional(),
  fundingTxid: z.string().nullable().optional(),
  closingTxid: z.string().nullable().optional(),
  confirmations: z.number().nullable().optional(),
  history: z.array(z.object({ state: z.string() }).loose()).optional(),
  /** Absent from coordinators before oracle sets. */
  oracles: z.array(oracleViewSchema).optional(),
  oracleThreshold: z.number().int().optional(),
  /** A strip's period (absent for a single contract). */
  strip: stripPlaceSchema.optional(),
  /** Issue 14: the contract this one was transferred from / to (absent when never transferred). */
  transferredFrom: transferLinkSchema.optional(),
  transferredTo: transferLinkSchema.optional(),
}).loose();
export type ContractView = z.output<typeof contractViewSchema>;

/**
 * `StripView` (`GET /v1/strips/:id` and every strip step's answer, issue 12):
 * the strip's whole terms, its periods' contract views in period order (each
 * as `GET /v1/contracts/:id` serves it to the same caller), and node-dlc's
 * `BatchFundingGroup` TLV (hex) naming the periods funded together.
 * `state` is the periods' common state, or `mixed` once they differ.
 */
export const stripViewSchema = z.object({
  id: z.string(),
  periods: z.number().int(),
  state: z.string(),
  terms: termsSchema,
  fundingTxid: z.string().nullable().optional(),
  fundingPsbt: z.string().nullable().optional(),
  batchFundingGroup: lowerHex,
  contracts: z.array(contractViewSchema),
}).loose();
export type StripView = z.output<typeof stripViewSchema>;

/** `GET /v1/strips/:id/messages`: every period's wire messages, hex, in period order. */
export const stripMessagesSchema = z.object({
  offers: z.array(lowerHex),
  accepts: z.array(lowerHex).nullable(),
  signs: z.array(lowerHex).nullable(),
}).loose();

/**
 * `PositionView` (`GET /v1/positions[/:id]` and every position step's answer,
 * issue 14): a listed side of a live contract and, once taken, its transfer.
 * `transferPsbt` and `transfer` (the transfer terms JSON, protocol/contract
 * `TransferTermsJson`) are served to the contract's parties and the taker only.
 */
export const positionViewSchema = z.object({
  id: z.string(),
  state: z.enum(POSITION_STATES),
  /** The sold contract's id (its record id). */
  contractId: z.string(),
  side: z.enum(['offer', 'accept']),
  price: z.string(),
  sellerSpk: lowerHex,
  terms: termsSchema,
  cetLocktime: z.number().int(),
  /** The last tip height at which the transfer may still happen (protocol/contract `transferDeadline`). */
  lastHeight: z.number().int(),
  /** Delivery so far as the contract's oracle index sees it (a sale), or null when not known. */
  delivery: z.object({ rewardsSats: z.string(), atHeight: z.number().int(), ratioBps: z.number().nullable().optional() }).loose().nullable().optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
  history: z.array(z.object({ state: z.string() }).loose()).optional(),
  /** The new contract's id (its accept's temporary contract id), once taken. */
  newContractId: z.string().nullable().optional(),
  takerIdentity: z.string().nullable().optional(),
  transferTxid: z.string().nullable().optional(),
  transferPsbt: z.string().nullable().optional(),
  transfer: z.record(z.string(), z.unknown()).nullable().optional(),
  consented: z.boolean().optional(),
  released: z.boolean().optional(),
  funded: z.boolean().optional(),
  reason: z.string().optional(),
}).loose();
export type PositionView = z.output<typeof positionViewSchema>;

/** `GET /v1/positions`. */
export const positionListSchema = z.object({ positions: z.array(positionViewSchema), next: z.string().nullable().optional() })
  .transform((o) => ({ positions: o.positions, next: o.next ?? null }));

/**
 * `GET /v1/positions/:id/messages`: the sold contract's offer and accept (hex,
 * public while listed: what a buyer checks), and once taken the new
 * contract's offer, accept and sign (null until consented) — served to the
 * parties and the taker only.
 */
export const positionMessagesSchema = z.object({
  contract: z.object({ offer: lowerHex, accept: lowerHex }),
  next: z.object({ offer: lowerHex, accept: lowerHex, sign: lowerHex.nullable() }).nullable().optional(),
}).loose();

/** `GET /v1/offers`. */
export const offerListSchema = z.object({ offers: z.array(offerViewSchema), next: z.string().nullable().optional() })
  .transform((o) => ({ offers: o.offers, next: o.next ?? null }));

/** `GET /v1/contracts/:id/messages`: the wire messages, hex. */
export const messagesSchema = z.object({ offer: lowerHex, accept: lowerHex.nullable(), sign: lowerHex.nullable() }).loose();

/** Answers clients read as an open object (`/v1/info`, cancel). */
export const anyObjectSchema = z.record(z.string(), z.unknown());
