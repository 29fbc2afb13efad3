/**
 * The human terms of an offer as JSON (what `POST /v1/offers` carries next to
 * the offer_dlc), their zod schema, and the rebuild of the contract from them
 * (contract_info, collaterals and extra funding outputs: the hashpower sale's
 * upfront payment, the call's premium)
 * with protocol/templates so the coordinator and each participant can CHECK
 * that an offer's contract is what its terms say; the timing rules of issue 9
 * (funding deadline, window start, attested event) as pure functions of facts
 * the caller reads; and the check of terms against the oracle's stated event.
 *
 * JSON conventions: sat amounts, TH/s, strikes and serial ids are decimal
 * strings (u64 never passes through `number`); scripts are hex; block
 * heights, bps and digits are numbers. The CLI builds the same JSON.
 *
 * zod in protocol/: the terms ARE a wire format (`POST /v1/offers`, the
 * participant's contract records), and one schema for every reader is the
 * point of this module. zod is pure (no I/O, clock or environment), so the
 * protocol/ lint rule allows it.
 *
 * This module does NOT fetch announcements, read the tip or look at the chain
 * (callers pass the tip and the oracle's stated parameters in), and does not
 * know HTTP: a mismatch is a `DlcError` TERMS_MISMATCH, which the coordinator
 * maps to 400 and the participant reports as it is.
 */
import { z } from 'zod';
import { DlcError } from '../errors.js';
import type { ContractInfo, OfferDlc, OracleInfo } from '../messages/index.js';
import { fromHex, isHexText } from '../messages/index.js';
import {
  customCurve,
  hashpowerSale,
  hashpriceCall,
  hashpriceForward,
  parseCustomCurveJson,
  type TemplateResult,
} from '../templates/index.js';
import { CURRENT_REWARD_RULE, FULL_REWARD_RULE, PAYOUT_SCHEMES, isLuckBasedScheme, luckRisk, type LuckRisk, type PayoutScheme } from '../hashpower/index.js';
import { MAX_BATCH_CONTRACTS } from '../tx/index.js';
import { periodWindows, stripPeriodCount } from './strip.js';

const u64 = z.string().regex(/^(0|[1-9][0-9]{0,19})$/, 'a decimal u64 string').refine((s) => BigInt(s) < 1n << 64n, 'exceeds u64');
// Linear check (isHexText): a repeated-group regex throws RangeError on long input.
const hex = z.string().refine((s) => isHexText(s) && s === s.toLowerCase(), 'lower-case hex');
const height = z.number().int().min(0).max(0xffffffff);
const window = z.object({ start: height, end: height }).strict();
/**
 * The funding deadline (issue 9, hole 2): a block height; once the tip is at
 * or past it nobody may accept, sign or fund, and the coordinator never
 * broadcasts the funding. At most the window start (default: the start minus
 * protocol/contract `FUNDING_DEADLINE_MARGIN_BLOCKS`). Optional in the schema
 * only so records stored before it existed still parse: new offers without
 * one are refused (`funding-deadline-missing`).
 */
const fundingDeadline = height.optional();
/**
 * A strip (issue 12): the contract split into this many consecutive period
 * contracts, funded by one transaction (strip.ts). Absent: one contract.
 */
export const MAX_STRIP_PERIODS = MAX_BATCH_CONTRACTS;
const periods = z.number().int().min(2).max(MAX_STRIP_PERIODS).optional();

// The pool's payout scheme (issue 16) is the oracle event's vocabulary (protocol/hashpower
// `PAYOUT_SCHEMES`, `isLuckBased`): one definition, re-exported for the terms' readers (the CLI).
export { PAYOUT_SCHEMES, type PayoutScheme };

export const saleTermsSchema = z.object({
  template: z.literal('hashpower-sale'),
  hashrateThs: u64,
  window,
  deliveryAddress: z.string().min(1).max(100),
  upfront: u64,
  escrow: u64,
  minerCollateral: u64,
  toleranceBps: z.number().int().min(1).max(10_000),
  fundingDeadline,
  periods,
  upfrontScript: hex.optional(),
  upfrontSerialId: u64.optional(),
  roundingMod: u64.optional(),
  /**
   * Issue 16: the pool's share of the network hashrate, bps (1..10,000), as
   * the seller states it, and the pool's payout scheme: with a luck-based
   * scheme (or none: today's per-block rule) the offer shows the chance of a
   * short measurement (`saleLuckRisks`). Both absent in older offers, which
   * read as before. The share is the seller's word (informational); a stated
   * scheme must be the oracle event's (`checkEventAgainstTerms`), so the
   * buyer's risk line describes what the oracle measures.
   */
  poolShareBps: z.number().int().min(1).max(10_000).optional(),
  payoutScheme: z.enum(PAYOUT_SCHEMES).optional(),
}).strict();

export const forwardTermsSchema = z.object({
  template: z.literal('hashprice-forward'),
  hashrateThs: u64,
  strikeSatsPerPhDay: u64,
  window,
  minerCollateral: u64,
  buyerCollateral: u64,
  fundingDeadline,
  periods,
  roundingMod: u64.optional(),
}).strict();

export const callTermsSchema = z.object({
  template: z.literal('hashprice-call'),
  hashrateThs: u64,
  strikeSatsPerPhDay: u64,
  window,
  minerCollateral: u64,
  premium: u64,
  fundingDeadline,
  periods,
  premiumScript: hex.optional(),
  premiumSerialId: u64.optional(),
  roundingMod: u64.optional(),
}).strict();

export const customTermsSchema = z.object({
  template: z.literal('custom-curve'),
  /** The curve file's JSON text (protocol/templates `parseCustomCurveJson`), kept as text so its integers stay exact. */
  curve: z.string().min(2).max(1_000_000),
  offerCollateral: u64,
  acceptCollateral: u64,
  extraOutputs: z.array(z.object({
    script: hex, value: u64, serialId: u64, payer: z.enum(['offer', 'accept']),
  }).strict()).max(8).optional(),
  expectUnit: z.string().max(64).optional(),
  fundingDeadline,
}).strict();

export const offerTermsSchema = z.discriminatedUnion('template', [saleTermsSchema, forwardTermsSchema, callTermsSchema, customTermsSchema]);

/** The human terms, JSON form (as stored and served). */
export type OfferTerms = z.output<typeof offerTermsSchema>;

const big = (s: string): bigint => BigInt(s);
const opt = <T, U>(v: T | undefined, f: (x: T) => U): U | undefined => (v === undefined ? undefined : f(v));

function withOptional<T extends object>(obj: T): T {
  // exactOptionalPropertyTypes-safe: drop keys whose value is undefined.
  for (const k of Object.keys(obj) as (keyof T)[]) if (obj[k] === undefined) delete obj[k];
  return obj;
}

/**
 * Runs the template the terms name over the offer's oracle info.
 * @throws {DlcError} INVALID_PARAMS / INVALID_JSON from protocol/templates when the terms break a template rule.
 */
export function templateFromTerms(terms: OfferTerms, oracleInfo: OracleInfo): TemplateResult {
  switch (terms.template) {
    case 'hashpower-sale':
      return hashpowerSale(withOptional({
        hashrateThs: big(terms.hashrateThs),
        window: terms.window,
        deliveryAddress: terms.deliveryAddress,
        upfront: big(terms.upfront),
        escrow: big(terms.escrow),
        minerCollateral: big(terms.minerCollateral),
        toleranceBps: terms.toleranceBps,
        upfrontScript: opt(terms.upfrontScript, fromHex),
        upfrontSerialId: opt(terms.upfrontSerialId, big),
        roundingMod: opt(terms.roundingMod, big),
        oracleInfo,
      }));
    case 'hashprice-forward':
      return hashpriceForward(withOptional({
        hashrateThs: big(terms.hashrateThs),
        strikeSatsPerPhDay: big(terms.strikeSatsPerPhDay),
        window: terms.window,
        minerCollateral: big(terms.minerCollateral),
        buyerCollateral: big(terms.buyerCollateral),
        roundingMod: opt(terms.roundingMod, big),
        oracleInfo,
      }));
    case 'hashprice-call':
      return hashpriceCall(withOptional({
        hashrateThs: big(terms.hashrateThs),
        strikeSatsPerPhDay: big(terms.strikeSatsPerPhDay),
        window: terms.window,
        minerCollateral: big(terms.minerCollateral),
        premium: big(terms.premium),
        premiumScript: opt(terms.premiumScript, fromHex),
        premiumSerialId: opt(terms.premiumSerialId, big),
        roundingMod: opt(terms.roundingMod, big),
        oracleInfo,
      }));
    case 'custom-curve':
      return customCurve(withOptional({
        ...parseCustomCurveJson(terms.curve),
        offerCollateral: big(terms.offerCollateral),
        acceptCollateral: big(terms.acceptCollateral),
        extraOutputs: terms.extraOutputs?.map((o) => ({ script: fromHex(o.script), value: big(o.value), serialId: big(o.serialId), payer: o.payer })),
        expectUnit: terms.expectUnit,
        oracleInfo,
      }));
  }
}

function oracleInfoOf(info: ContractInfo): OracleInfo {
  if (!('singleContractInfo' in info)) {
    throw new DlcError('TERMS_MISMATCH', 'templates make single contracts; this offer is a disjoint contract', { reason: 'disjoint-contract' });
  }
  return info.singleContractInfo.contractInfo.oracleInfo;
}

/** Structural equality of message values (Uint8Array, bigint, arrays, plain objects). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (typeof a === 'object' && typeof b === 'object' && a !== null && b !== null && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
    const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

/**
 * Rebuilds the contract from the terms and checks the offer is that contract:
 * 1. the template accepts the terms with the offer's oracle info;
 * 2. the offer's contract_info (descriptor, total collateral) is the template's;
 * 3. the offer collateral is the template's offerer collateral.
 * (The accept collateral is checked at accept time: validateAccept requires
 * total - offer collateral.) Terms with `periods` are a strip's and never one
 * contract's (strip.ts `checkStripOffersAgainstTerms` takes them): one offer
 * under them would be listed, shown and settled as a strip it is not.
 * @returns the template result (its `extraOutputs` are what the funding transaction must carry).
 * @throws {DlcError} TERMS_MISMATCH `strip-terms` or naming the difference; {DlcError} from the template.
 */
export function checkOfferAgainstTerms(offer: OfferDlc, terms: OfferTerms): TemplateResult {
  if ('periods' in terms && terms.periods !== undefined) {
    throw new DlcError('TERMS_MISMATCH', `the terms are a strip's (${terms.periods} periods), not one contract's: a strip takes one offer per period`, { reason: 'strip-terms' });
  }
  const result = templateFromTerms(terms, oracleInfoOf(offer.contractInfo));
  if (!deepEqual(result.contractInfo, offer.contractInfo)) {
    throw new DlcError('TERMS_MISMATCH', `the offer's contract_info is not the ${terms.template} contract its terms describe`, { reason: 'contract-info' });
  }
  if (result.offerCollateral !== offer.offerCollateral) {
    throw new DlcError('TERMS_MISMATCH', `offer collateral ${offer.offerCollateral} is not the terms' ${result.offerCollateral}`, { reason: 'offer-collateral' });
  }
  return result;
}

/** What the offer book filters and shows: the template's headline numbers. */
export interface TermsSummary {
  template: OfferTerms['template'];
  window: { start: number; end: number } | null;
  /** Sale: upfront + escrow (sats); forward/call: strike (sats/PH/day); custom: accept collateral. */
  price: string;
  hashrateThs: string | null;
}

export function summarizeTerms(terms: OfferTerms): TermsSummary {
  switch (terms.template) {
    case 'hashpower-sale':
      return { template: terms.template, window: terms.window, price: String(big(terms.upfront) + big(terms.escrow)), hashrateThs: terms.hashrateThs };
    case 'hashprice-forward':
    case 'hashprice-call':
      return { template: terms.template, window: terms.window, price: terms.strikeSatsPerPhDay, hashrateThs: terms.hashrateThs };
    case 'custom-curve':
      return { template: terms.template, window: null, price: terms.acceptCollateral, hashrateThs: null };
  }
}

/** The pool-luck risk of one measured window of a sale (issue 16). */
export interface SaleLuckRisk extends LuckRisk {
  /** The measured window: the contract's, or a strip period's. */
  window: { start: number; end: number };
  /** 0-based period of a strip; absent for a single contract. */
  period?: number;
  poolShareBps: number;
  toleranceBps: number;
  /** The terms' scheme; absent: today's per-block rule. */
  payoutScheme?: PayoutScheme;
}

/**
 * The measurement risk of a hashpower sale's terms (protocol/hashpower
 * luck.ts `luckRisk`), one entry per measured window (a strip's periods are
 * measured one by one, so each has its own, larger, risk). Empty when the
 * terms are no sale, carry no `poolShareBps`, or name the `periodic-payout`
 * scheme (payouts on a schedule: no pool luck in the measurement). No scheme
 * is today's rule, which counts rewards per block of the window: luck-based.
 * @throws {DlcError} INVALID_PARAMS `strip-periods` (a strip's window too short to split).
 */
export function saleLuckRisks(terms: OfferTerms): SaleLuckRisk[] {
  if (terms.template !== 'hashpower-sale' || terms.poolShareBps === undefined) return [];
  if (!isLuckBasedScheme(terms.payoutScheme)) return [];
  const n = stripPeriodCount(terms);
  const windows = n > 1 ? periodWindows(terms.window, n) : [terms.window];
  const { poolShareBps, toleranceBps } = terms;
  return windows.map((window, i) => ({
    window,
    ...(n > 1 ? { period: i } : {}),
    poolShareBps,
    toleranceBps,
    ...(terms.payoutScheme !== undefined ? { payoutScheme: terms.payoutScheme } : {}),
    ...luckRisk({ windowBlocks: window.end - window.start, poolShareBps, toleranceBps }),
  }));
}

/** Facts a contract's timing is judged by (the caller reads the tip and the oracle's event). */
export interface TimingFacts {
  /** The node's tip height now. */
  tip: number;
  /** The measured window: the terms', else the oracle event's (custom curves); null when none. */
  window: { start: number; end: number } | null;
  /** Whether the oracle has attested the event already. */
  attested: boolean;
}

/** Why a contract may not go on now: `expired` (too late, HTTP 409 `EXPIRED`) or `terms` (the terms break a rule). */
export interface TimingViolation {
  kind: 'expired' | 'terms';
  reason: 'event-attested' | 'window-started' | 'funding-deadline-missing' | 'funding-deadline-after-window-start' | 'funding-deadline-passed';
  message: string;
}

/**
 * Whether the funding deadline has passed (tip at or after it): accept, sign
 * and fund are refused from then on (issue 9, hole 2: the accepter's free option).
 */
export function deadlineViolation(terms: OfferTerms, tip: number): TimingViolation | null {
  const deadline = terms.fundingDeadline;
  if (deadline === undefined) return { kind: 'terms', reason: 'funding-deadline-missing', message: 'the terms carry no fundingDeadline' };
  if (tip >= deadline) return { kind: 'expired', reason: 'funding-deadline-passed', message: `the funding deadline ${deadline} has passed (tip ${tip})` };
  return null;
}

/**
 * Whether a contract may still be offered or accepted (issue 9, holes 2 and 3):
 * 1. the outcome is not known: the event is unattested and the window has not started;
 * 2. the terms carry a funding deadline, at most the window start;
 * 3. the deadline has not passed.
 */
export function offerTimingViolation(terms: OfferTerms, facts: TimingFacts): TimingViolation | null {
  const { tip, window } = facts;
  if (facts.attested) return { kind: 'expired', reason: 'event-attested', message: 'the oracle has attested this event already: its outcome is known' };
  if (window !== null && tip >= window.start) {
    return { kind: 'expired', reason: 'window-started', message: `the window [${window.start}, ${window.end}) has started (tip ${tip})` };
  }
  const deadline = terms.fundingDeadline;
  if (deadline !== undefined && window !== null && deadline > window.start) {
    return { kind: 'terms', reason: 'funding-deadline-after-window-start', message: `funding deadline ${deadline} is after the window start ${window.start}` };
  }
  return deadlineViolation(terms, tip);
}

/** What an oracle states about its event (oracle/API.md `params`), as far as terms can be checked against it. */
export interface StatedEventParams {
  kind: string;
  window: { start: number; end: number } | null;
  deliveryAddress: string | null;
  hashrateThs: string | null;
  /** null: an event announced before reward rules (`full-reward-v0`). */
  rewardRule: string | null;
  /**
   * Issue 16: the event's payout scheme, null when it states none. Absent
   * (undefined): the caller's oracle client does not read it, and a scheme
   * the terms state is not checked here (the participants check it).
   */
  payoutScheme?: string | null;
}

/**
 * Checks the human terms against the event the oracle says it will attest
 * (its id is signed in the announcement, so these parameters are the
 * oracle's word): a sale needs a `hashpower-delivery` event over the same
 * window, delivery address and hashrate; a hashprice contract a `hashprice`
 * event over the same window; both under the current reward rule
 * (`subsidy+fees-capped-4x-median-v1`); a sale whose terms name a payout
 * scheme (issue 16) needs an event stating that scheme. Custom curves are not checked.
 * @throws {DlcError} TERMS_MISMATCH naming the field.
 */
export function checkEventAgainstTerms(params: StatedEventParams, terms: OfferTerms, eventId: string): void {
  const bad = (field: string, want: unknown, got: unknown): DlcError =>
    new DlcError('TERMS_MISMATCH', `event ${eventId}: ${field} is ${JSON.stringify(got)}, the terms say ${JSON.stringify(want)}`, { reason: `event-${field}` });
  if (terms.template === 'custom-curve') return;
  const kind = terms.template === 'hashpower-sale' ? 'hashpower-delivery' : 'hashprice';
  if (params.kind !== kind) throw bad('kind', kind, params.kind);
  if (params.window === null || params.window.start !== terms.window.start || params.window.end !== terms.window.end) throw bad('window', terms.window, params.window);
  // Issue 9, hole 6: an event that counts whole coinbases lets a party that mines one block of
  // the window move the outcome with a fee it pays itself; only the capped rule is taken.
  if (params.rewardRule !== CURRENT_REWARD_RULE) throw bad('rewardRule', CURRENT_REWARD_RULE, params.rewardRule ?? FULL_REWARD_RULE);
  if (terms.template === 'hashpower-sale') {
    if (params.deliveryAddress !== terms.deliveryAddress) throw bad('deliveryAddress', terms.deliveryAddress, params.deliveryAddress);
    if (params.hashrateThs !== terms.hashrateThs) throw bad('hashrateThs', terms.hashrateThs, params.hashrateThs);
    // Issue 16: terms that name the pool's scheme are priced (and their luck risk shown) for that
    // scheme; an event measuring another one (or stating none: no lag, today's rule) is another sale.
    if (terms.payoutScheme !== undefined && params.payoutScheme !== undefined && params.payoutScheme !== terms.payoutScheme) {
      throw bad('payoutScheme', terms.payoutScheme, params.payoutScheme);
    }
  }
}

export type { StripBatchJson, StripRef } from './strip.js';
export {
  batchContractsOf,
  batchFromJson,
  batchToJson,
  checkStripOffersAgainstTerms,
  contractFundingOptions,
  inPeriod,
  namedPeriod,
  periodTermsOf,
  periodWindows,
  splitByBlocks,
  stripBatchSchema,
  stripExtraOutputs,
  stripPeriodCount,
} from './strip.js';
