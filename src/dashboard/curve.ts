/**
 * The payout curve of a stored contract, for the chart and the dashboard's
 * curve endpoint: the template the coordinator rebuilt from the offer's terms
 * (protocol/templates, the same contract the CETs were made from) evaluated
 * by protocol/numeric `outcomeRanges` into steps `{from, to, offer, accept}`,
 * i.e. exactly what each CET pays after rounding; the outcome's unit and
 * digits from the oracle announcement; the parties' roles in the template's
 * words (a sale's offerer is the miner, its accepter the buyer).
 *
 * This module does NOT read the store or the network: callers pass the
 * template result (`ContractDataCache.messages(rec).template`).
 */
import type { OracleAnnouncement } from '../../protocol/messages/index.js';
import { outcomeRanges } from '../../protocol/numeric/index.js';
import type { KeyPayout, TemplateKind, TemplateResult } from '../../protocol/templates/index.js';
import type { PayoutStep } from './chart.js';

/** What the chart and the contract page show of a contract's curve. */
export interface ContractCurve {
  template: TemplateKind;
  steps: PayoutStep[];
  /** The event's unit (`bps`, `sats/PH/day`, …) and precision (outcome × 10^precision = value). */
  unit: string;
  precision: number;
  nbDigits: number;
  base: number;
  totalCollateral: bigint;
  roles: { offer: string; accept: string };
  /** The template's labelled outcomes with both payouts, and its one-line statements of the terms. */
  keyPayouts: KeyPayout[];
  lines: string[];
}

/** How each template names its parties. */
export function rolesOf(template: TemplateKind): { offer: string; accept: string } {
  return template === 'custom-curve' ? { offer: 'offerer', accept: 'accepter' } : { offer: 'miner (offerer)', accept: 'buyer (accepter)' };
}

function firstAnnouncement(t: TemplateResult): OracleAnnouncement {
  const ci = t.contractInfo;
  if (!('singleContractInfo' in ci)) throw new TypeError('templates make single contracts');
  const oi = ci.singleContractInfo.contractInfo.oracleInfo;
  const ann = 'single' in oi ? oi.single.oracleAnnouncement : oi.multi.oracleAnnouncements[0];
  if (ann === undefined) throw new TypeError('contract without an oracle announcement');
  return ann;
}

/**
 * The contract's curve as payout steps.
 * @throws {DlcError} INVALID_PARAMS from protocol/numeric if the descriptor cannot be evaluated (a stored contract was checked at offer time, so this means a bug); {TypeError} for a non-numeric event.
 */
export function contractCurve(t: TemplateResult): ContractCurve {
  const ev = firstAnnouncement(t).oracleEvent.eventDescriptor;
  if (!('digitDecompositionEvent' in ev)) throw new TypeError('templates use numeric (digit decomposition) events');
  const d = ev.digitDecompositionEvent;
  const total = t.totalCollateral;
  const ranges = outcomeRanges(t.contractDescriptor.numericOutcomeContractDescriptor, total, d.base);
  return {
    template: t.summary.template,
    steps: ranges.map((r) => ({ from: r.start, to: r.start + r.count - 1n, offer: r.offerPayout, accept: total - r.offerPayout })),
    unit: d.unit,
    precision: d.precision,
    nbDigits: d.nbDigits,
    base: d.base,
    totalCollateral: total,
    roles: rolesOf(t.summary.template),
    keyPayouts: t.summary.keyPayouts,
    lines: t.summary.lines,
  };
}

/** The curve as JSON (u64 values as decimal strings), for `/dashboard/api/contracts/:id/payout-curve`. */
export function curveJson(c: ContractCurve, attested: bigint | null): Record<string, unknown> {
  return {
    template: c.template,
    unit: c.unit,
    precision: c.precision,
    nbDigits: c.nbDigits,
    base: c.base,
    totalCollateral: String(c.totalCollateral),
    roles: c.roles,
    attested: attested === null ? null : String(attested),
    steps: c.steps.map((s) => ({ from: String(s.from), to: String(s.to), offer: String(s.offer), accept: String(s.accept) })),
    keyPayouts: c.keyPayouts.map((k) => ({ label: k.label, outcome: String(k.outcome), offer: String(k.offerPayout), accept: String(k.acceptPayout) })),
  };
}
