/**
 * Strips (issue 12): a sale, forward or call over `[start, end)` split into
 * `periods` consecutive period contracts, funded by ONE transaction (protocol/tx
 * `FundingBatch`). Each period is an ordinary contract of its template over its
 * own sub-window, with its own oracle event, CETs and refund; the strip's
 * upfront payment (sale) or premium (call) is one output of the shared funding
 * transaction, paid once.
 *
 * Splitting, exact in integers:
 * - windows: `[start, end)` into `periods` runs of `floor(len / periods)` blocks,
 *   the first `len mod periods` one block longer;
 * - amounts (escrow, collaterals): proportional to the blocks so far,
 *   `amount_i = floor(amount * cum_i / len) - floor(amount * cum_{i-1} / len)`,
 *   which sums to the amount exactly.
 *
 * The batch of a stored period contract (`StripBatchJson`) is what its funding
 * transaction needs beyond its own messages: every period's fund output serial
 * id and collaterals, and its own index.
 *
 * This module does NOT fetch events or check signatures. No I/O.
 */
import { z } from 'zod';
import { DlcError } from '../errors.js';
import type { OfferDlc } from '../messages/index.js';
import { fromHex } from '../messages/index.js';
import { acceptPaidOutput, type TemplateResult } from '../templates/index.js';
import type { BatchContract, ExtraFundingOutput, FundingBatch } from '../tx/index.js';
import { MAX_BATCH_CONTRACTS } from '../tx/index.js';
import { checkOfferAgainstTerms, type OfferTerms } from './index.js';

type Window = { start: number; end: number };

/** How many period contracts the terms make (1 when not a strip). */
export function stripPeriodCount(terms: OfferTerms): number {
  return 'periods' in terms && terms.periods !== undefined ? terms.periods : 1;
}

/**
 * The period windows of `[start, end)` split `n` ways.
 * @throws {DlcError} INVALID_PARAMS `strip-periods` when a period would be empty or n is out of range.
 */
export function periodWindows(window: Window, n: number): Window[] {
  const len = window.end - window.start;
  if (!Number.isInteger(n) || n < 1 || n > MAX_BATCH_CONTRACTS) {
    throw new DlcError('INVALID_PARAMS', `a strip has 1 to ${MAX_BATCH_CONTRACTS} periods, got ${n}`, { reason: 'strip-periods' });
  }
  if (len < n) {
    throw new DlcError('INVALID_PARAMS', `a window of ${len} blocks cannot hold ${n} periods`, { reason: 'strip-periods' });
  }
  const base = Math.floor(len / n);
  const longer = len % n;
  const out: Window[] = [];
  let at = window.start;
  for (let i = 0; i < n; i++) {
    const blocks = base + (i < longer ? 1 : 0);
    out.push({ start: at, end: at + blocks });
    at += blocks;
  }
  return out;
}

/** `amount` split over the windows in proportion to their blocks; sums to `amount` exactly. */
export function splitByBlocks(amount: bigint, windows: readonly Window[]): bigint[] {
  const start = windows[0]!.start;
  const len = BigInt(windows[windows.length - 1]!.end - start);
  let prev = 0n;
  return windows.map((w) => {
    const upTo = (amount * BigInt(w.end - start)) / len;
    const part = upTo - prev;
    prev = upTo;
    return part;
  });
}

/** The strip terms without `periods` and the strip-level outputs: what one period's template sees. */
function periodBase(terms: OfferTerms): OfferTerms {
  const copy = { ...terms } as Record<string, unknown>;
  delete copy.periods;
  return copy as OfferTerms;
}

/**
 * The terms of each period contract (one entry, the terms themselves, when not a strip).
 * @throws {DlcError} INVALID_PARAMS `strip-periods` for a window too short; `strip-template` for a custom curve.
 */
export function periodTermsOf(terms: OfferTerms): OfferTerms[] {
  const n = stripPeriodCount(terms);
  if (n === 1) return [terms];
  if (terms.template === 'custom-curve') {
    throw new DlcError('INVALID_PARAMS', 'custom curves have no window to split into periods', { reason: 'strip-template' });
  }
  const windows = periodWindows(terms.window, n);
  const split = (s: string): string[] => splitByBlocks(BigInt(s), windows).map(String);
  const base = periodBase(terms);
  switch (terms.template) {
    case 'hashpower-sale': {
      const escrow = split(terms.escrow);
      const collateral = split(terms.minerCollateral);
      return windows.map((window, i) => {
        const t = { ...base, window, escrow: escrow[i]!, minerCollateral: collateral[i]!, upfront: '0' } as Record<string, unknown>;
        delete t.upfrontScript;
        delete t.upfrontSerialId;
        return t as OfferTerms;
      });
    }
    case 'hashprice-forward': {
      const miner = split(terms.minerCollateral);
      const buyer = split(terms.buyerCollateral);
      return windows.map((window, i) => ({ ...base, window, minerCollateral: miner[i]!, buyerCollateral: buyer[i]! }) as OfferTerms);
    }
    case 'hashprice-call': {
      const miner = split(terms.minerCollateral);
      return windows.map((window, i) => {
        const t = { ...base, window, minerCollateral: miner[i]!, premium: '0' } as Record<string, unknown>;
        delete t.premiumScript;
        delete t.premiumSerialId;
        return t as OfferTerms;
      });
    }
  }
}

/**
 * The strip-level outputs of the shared funding transaction: the sale's
 * upfront payment or the call's premium, once for the whole strip (the
 * buyer pays it). Empty when not a strip (the template carries them then).
 * @throws {DlcError} INVALID_PARAMS as protocol/templates `acceptPaidOutput` (`extra-output-dust`, `script-empty`, `serial-id-invalid`).
 */
export function stripExtraOutputs(terms: OfferTerms): ExtraFundingOutput[] {
  if (stripPeriodCount(terms) === 1) return [];
  // The same rules as a single contract's upfront or premium (protocol/templates): at least
  // the dust limit, a script, a u64 serial id; checked at offer time (checkStripOffersAgainstTerms)
  // so a strip no accept could fund never reaches the book.
  const paid = (value: string, script: string | undefined, serialId: string | undefined, name: string): ExtraFundingOutput[] =>
    acceptPaidOutput(BigInt(value), script === undefined ? undefined : fromHex(script), serialId === undefined ? undefined : BigInt(serialId), name);
  if (terms.template === 'hashpower-sale') return paid(terms.upfront, terms.upfrontScript, terms.upfrontSerialId, 'upfront');
  if (terms.template === 'hashprice-call') return paid(terms.premium, terms.premiumScript, terms.premiumSerialId, 'premium');
  return [];
}

// ------------------------------------------------------------------ the batch, as stored

const u64 = z.string().regex(/^(0|[1-9][0-9]{0,19})$/).refine((s) => BigInt(s) < 1n << 64n, 'exceeds u64');

/** A period contract's place in its strip and the strip's funding outputs (JSON form: decimal strings). */
export const stripBatchSchema = z.object({
  index: z.number().int().min(0).max(MAX_BATCH_CONTRACTS - 1),
  contracts: z.array(z.object({ fundOutputSerialId: u64, offerCollateral: u64, acceptCollateral: u64 }).strict()).min(2).max(MAX_BATCH_CONTRACTS),
}).strict();
export type StripBatchJson = z.output<typeof stripBatchSchema>;

/**
 * What a stored period contract (coordinator or participant record) keeps of
 * its strip: the strip's id (period 1's offer id), the strip's whole terms and
 * the batch (its index and every period's funding output).
 */
export interface StripRef {
  id: string;
  terms: OfferTerms;
  batch: StripBatchJson;
}

/** The batch contracts of a strip's offers (the accept collateral is the total minus the offer's). */
export function batchContractsOf(offers: readonly OfferDlc[], templates: readonly Pick<TemplateResult, 'acceptCollateral'>[]): BatchContract[] {
  return offers.map((o, i) => ({ fundOutputSerialId: o.fundOutputSerialId, offerCollateral: o.offerCollateral, acceptCollateral: templates[i]!.acceptCollateral }));
}

export function batchToJson(contracts: readonly BatchContract[], index: number): StripBatchJson {
  return {
    index,
    contracts: contracts.map((c) => ({ fundOutputSerialId: String(c.fundOutputSerialId), offerCollateral: String(c.offerCollateral), acceptCollateral: String(c.acceptCollateral) })),
  };
}

export function batchFromJson(json: StripBatchJson): FundingBatch {
  return {
    index: json.index,
    contracts: json.contracts.map((c) => ({ fundOutputSerialId: BigInt(c.fundOutputSerialId), offerCollateral: BigInt(c.offerCollateral), acceptCollateral: BigInt(c.acceptCollateral) })),
  };
}

/**
 * The funding options of one contract: its template's extra outputs, or for
 * a strip period the strip's outputs and the batch.
 */
export function contractFundingOptions(
  template: Pick<TemplateResult, 'extraOutputs'>,
  strip?: Pick<StripRef, 'terms' | 'batch'>,
): { extraOutputs: readonly ExtraFundingOutput[]; batch?: FundingBatch } {
  if (strip === undefined) return { extraOutputs: template.extraOutputs };
  return { extraOutputs: [...template.extraOutputs, ...stripExtraOutputs(strip.terms)], batch: batchFromJson(strip.batch) };
}

/**
 * Checks a strip's offers against the strip terms: one offer per period, each
 * the contract its period's terms describe (`checkOfferAgainstTerms`). The
 * error names the period (details `period`, 1-based in the message).
 * @returns each period's template result and the strip's batch contracts.
 * @throws {DlcError} TERMS_MISMATCH `strip-offer-count`; INVALID_PARAMS for the strip's upfront or
 *   premium output (`stripExtraOutputs`); or the period's
 *   TERMS_MISMATCH / INVALID_PARAMS with `details.period`.
 */
export function checkStripOffersAgainstTerms(offers: readonly OfferDlc[], terms: OfferTerms): { templates: TemplateResult[]; contracts: BatchContract[] } {
  const periods = periodTermsOf(terms);
  if (offers.length !== periods.length) {
    throw new DlcError('TERMS_MISMATCH', `the terms make ${periods.length} period contracts, got ${offers.length} offers`, { reason: 'strip-offer-count' });
  }
  // The strip's own output (upfront or premium), which no period's terms carry.
  stripExtraOutputs(terms);
  const templates = offers.map((offer, i) => inPeriod(i, () => checkOfferAgainstTerms(offer, periods[i]!)));
  return { templates, contracts: batchContractsOf(offers, templates) };
}

/**
 * Runs `fn` for period `i` (0-based), re-throwing a DlcError with the period
 * named in its message and `details.period` (1-based) set.
 */
export function inPeriod<T>(i: number, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw namedPeriod(e, i);
  }
}

/** The error, re-made to name period `i` (0-based) when it is a DlcError. */
export function namedPeriod(e: unknown, i: number): unknown {
  if (!(e instanceof DlcError)) return e;
  const details = { ...(e.details ?? {}), period: i + 1 };
  return new DlcError(e.code, `period ${i + 1}: ${e.message}`, { ...(e.reason !== undefined ? { reason: e.reason } : {}), details, cause: e });
}
