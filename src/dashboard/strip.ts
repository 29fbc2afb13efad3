/**
 * The strip page (issue 12): a strip's periods as a timeline, drawn on the
 * server from `CoordinatorQueries.strip`'s answer (`StripData`: the whole
 * terms and every period's public view, in period order). One SVG bar per
 * period, placed and sized by its block window over the strip's window (the
 * sale's delivery ratio drawn as the bar's filled height once attested), the
 * tip marked; then a table with, per period, its window, state, attested
 * outcome, payouts to the miner and the buyer, and how it closed (CET, refund
 * or cooperative close) with a link to the period's transactions; and the
 * totals: paid so far to each side, in flight, still locked, periods left.
 *
 * Roles: strips exist for the sale, the forward and the call (protocol/terms
 * `periodTermsOf` refuses custom curves), where the offerer is the miner and
 * the accepter the buyer.
 *
 * Every amount is summed in bigint from the views' decimal strings; pixel
 * positions alone use `number`. Text in the SVG is escaped by `escapeHtml`,
 * everything else goes through `html`.
 *
 * This module does NOT read the coordinator, the node or the oracles
 * (router.ts gathers the data), emits no script and no inline style (the
 * CSP forbids both: bars are sized with SVG attributes).
 */
import type { PublicContract } from '../api/coordinator.js';
import { formatSats, groupDigits, shortHex } from './format.js';
import { escapeHtml, html, trustedHtml, type SafeHtml } from './html.js';
import { idLink, layout, luckSection, paths, stateBadge, stripSummary, sumAmounts, templateName, windowText, type PageContext, type StripData } from './pages.js';

type Window = { start: number; end: number };

/** States in which a period's contract is over (nothing more will be paid from it). */
const ENDED = new Set<string>(['settled', 'refunded', 'closed', 'cancelled', 'failed', 'expired']);
/** States whose closing transaction is confirmed: its payouts are paid. */
const PAID = new Set<string>(['settled', 'refunded', 'closed']);
/** States whose closing transaction exists but is not confirmed yet. */
const IN_FLIGHT = new Set<string>(['cet-broadcast', 'refund-broadcast', 'close-broadcast', 'attested']);
/** States in which the shared funding transaction is confirmed (the strip's upfront/premium is paid). */
const FUNDED = new Set<string>(['confirmed', 'attested', 'cet-broadcast', 'settled', 'refund-broadcast', 'refunded', 'close-broadcast', 'closed']);

/** One period as the strip page shows it. */
export interface PeriodRow {
  /** 0-based. */
  index: number;
  contract: PublicContract;
  window: Window | null;
  /**
   * The outcome the period settled on (its CET's), else the one at least its
   * oracle threshold attested before settlement; null when neither.
   */
  outcome: bigint | null;
  outcomeSource: 'contract' | 'oracle' | null;
  /** Sats to the miner (offerer) and the buyer (accepter), once a closing transaction exists. */
  payouts: { miner: bigint; buyer: bigint } | null;
}

/** A strip's rows and totals (pure: the page and the tests read it). */
export interface StripSummaryData {
  rows: PeriodRow[];
  /** The strip's whole window (from its terms, else from the first and last periods). */
  window: Window | null;
  /** The strip-level payment to the miner in the funding transaction (sale: upfront, call: premium), sats. */
  upfront: bigint;
  /** Whether the shared funding transaction is confirmed (so `upfront` is paid). */
  funded: boolean;
  /** Paid to each side by confirmed closing transactions (plus the upfront to the miner once funded). */
  paid: { miner: bigint; buyer: bigint };
  /** Payouts of closing transactions not confirmed yet (completed or broadcast). */
  inFlight: { miner: bigint; buyer: bigint };
  /** Still in the DLC outputs of funded periods that have not closed. */
  locked: bigint;
  /** Periods not over yet. */
  left: number;
  /** Periods over (in any way). */
  ended: number;
}

function outcomeOf(c: PublicContract): { outcome: bigint | null; source: 'contract' | 'oracle' | null } {
  if (c.closingKind === 'cet' && typeof c.outcome === 'string' && /^\d+$/.test(c.outcome)) return { outcome: BigInt(c.outcome), source: 'contract' };
  if (c.closingKind !== undefined) return { outcome: null, source: null };
  // Not closed: the outcome at least the threshold of its oracles attested (a lone dissenter shows nothing).
  const votes = new Map<string, number>();
  for (const o of c.oracles) if (o.attested && o.outcome !== null && /^\d+$/.test(o.outcome)) votes.set(o.outcome, (votes.get(o.outcome) ?? 0) + 1);
  const best = [...votes].sort((a, b) => b[1] - a[1])[0];
  if (best === undefined || best[1] < (c.oracleThreshold ?? 1)) return { outcome: null, source: null };
  return { outcome: BigInt(best[0]), source: 'oracle' };
}

/** The rows and totals of a strip. */
export function summarizeStrip(strip: StripData): StripSummaryData {
  const rows: PeriodRow[] = strip.contracts.map((c, index) => {
    const { outcome, source } = outcomeOf(c);
    const p = c.payouts;
    const payouts = p !== undefined && /^\d+$/.test(p.offer) && /^\d+$/.test(p.accept) ? { miner: BigInt(p.offer), buyer: BigInt(p.accept) } : null;
    return { index, contract: c, window: c.summary.window, outcome, outcomeSource: source, payouts };
  });
  const whole = stripSummary(strip.terms);
  const first = rows[0]?.window ?? null;
  const last = rows[rows.length - 1]?.window ?? null;
  const window = whole?.window ?? (first !== null && last !== null ? { start: first.start, end: last.end } : null);
  const t = strip.terms;
  const upfrontText = t.template === 'hashpower-sale' ? t.upfront : t.template === 'hashprice-call' ? t.premium : undefined;
  const upfront = typeof upfrontText === 'string' ? sumAmounts([upfrontText]) : 0n;
  const funded = strip.contracts.some((c) => FUNDED.has(c.state));
  const paid = { miner: funded ? upfront : 0n, buyer: 0n };
  const inFlight = { miner: 0n, buyer: 0n };
  let locked = 0n;
  for (const r of rows) {
    const s = r.contract.state;
    if (r.payouts !== null && PAID.has(s)) {
      paid.miner += r.payouts.miner;
      paid.buyer += r.payouts.buyer;
    } else if (r.payouts !== null && IN_FLIGHT.has(s)) {
      inFlight.miner += r.payouts.miner;
      inFlight.buyer += r.payouts.buyer;
    }
    if (FUNDED.has(s) && !PAID.has(s)) locked += sumAmounts([r.contract.fundOutputValue ?? r.contract.totalCollateral]);
  }
  const ended = rows.filter((r) => ENDED.has(r.contract.state)).length;
  // A period the coordinator did not answer is not over as far as this page knows.
  return { rows, window, upfront, funded, paid, inFlight, locked, left: Math.max(strip.periods, rows.length) - ended, ended };
}

/** An outcome in the template's unit: a sale's delivery ratio as a percentage with its bps, hashprice in sats/PH/day. */
export function outcomeText(template: string, outcome: bigint): string {
  if (template === 'hashpower-sale') {
    const frac = String(outcome % 100n).padStart(2, '0');
    return `${groupDigits(outcome / 100n)}.${frac} % delivered (${groupDigits(outcome)} bps)`;
  }
  if (template === 'hashprice-forward' || template === 'hashprice-call') return `${groupDigits(outcome)} sats/PH/day`;
  return groupDigits(outcome);
}

const CLOSING_SHORT: Record<string, string> = { cet: 'CET', refund: 'refund', close: 'close' };

/** Bar colours by state group (the badges' palette). */
const BAR_FILL: Record<string, { bar: string; fill: string }> = {
  open: { bar: '#dbeafe', fill: '#2563eb' },
  progress: { bar: '#fef3c7', fill: '#d97706' },
  done: { bar: '#dcfce7', fill: '#16a34a' },
  refunded: { bar: '#e5e7eb', fill: '#6b7280' },
  ended: { bar: '#f3f4f6', fill: '#9ca3af' },
  failed: { bar: '#fee2e2', fill: '#dc2626' },
};

function barGroup(state: string): keyof typeof BAR_FILL {
  if (state === 'offered') return 'open';
  if (state === 'refunded' || state === 'refund-broadcast') return 'refunded';
  if (state === 'settled' || state === 'closed') return 'done';
  if (state === 'cancelled' || state === 'expired') return 'ended';
  if (state === 'failed') return 'failed';
  return 'progress';
}

/**
 * The timeline as SVG: one bar per period over the strip's window, the
 * delivery ratio (sale, capped at 100 %) as the bar's filled height, the tip
 * as a line. Each bar links to its row of the table below and carries a
 * title (its window, state and outcome) for screen readers and hover.
 */
export function renderStripTimeline(d: StripSummaryData, template: string, tip: number | null, opts: { width?: number } = {}): string {
  const width = opts.width ?? 960;
  const left = 12;
  const right = 12;
  const barTop = 26;
  const barH = 56;
  const height = barTop + barH + 40;
  const w = d.window;
  const plotW = width - left - right;
  const span = w === null ? 0 : w.end - w.start;
  const x = (h: number): number => (w === null || span <= 0 ? left : left + ((h - w.start) / span) * plotW);
  const parts: string[] = [];
  const n = d.rows.length;
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="strip-timeline" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="strip-timeline-title">`);
  parts.push(`<title id="strip-timeline-title">${escapeHtml(`Timeline of ${n} periods${w !== null ? ` over blocks ${windowText(w)}` : ''}`)}</title>`);
  d.rows.forEach((r, i) => {
    const colours = BAR_FILL[barGroup(r.contract.state)]!;
    // Without windows (should not happen for a strip), equal slots in period order.
    const x0 = r.window !== null && w !== null ? x(r.window.start) : left + (i / n) * plotW;
    const x1 = r.window !== null && w !== null ? x(r.window.end) : left + ((i + 1) / n) * plotW;
    const bw = Math.max(1, x1 - x0 - 2);
    const label = `Period ${i + 1}: blocks ${windowText(r.window)}, ${r.contract.state}${r.outcome !== null ? `, ${outcomeText(template, r.outcome)}` : ''}`;
    parts.push(`<a href="#period-${i + 1}"><g class="period" data-period="${i + 1}" data-state="${escapeHtml(r.contract.state)}"><title>${escapeHtml(label)}</title>`);
    parts.push(`<rect x="${x0.toFixed(1)}" y="${barTop}" width="${bw.toFixed(1)}" height="${barH}" rx="3" fill="${colours.bar}" stroke="${colours.fill}" stroke-width="1"/>`);
    if (template === 'hashpower-sale' && r.outcome !== null) {
      const ratio = Number(r.outcome > 10_000n ? 10_000n : r.outcome) / 10_000;
      const fh = barH * ratio;
      parts.push(`<rect class="delivered" x="${x0.toFixed(1)}" y="${(barTop + barH - fh).toFixed(1)}" width="${bw.toFixed(1)}" height="${fh.toFixed(1)}" rx="3" fill="${colours.fill}" fill-opacity="0.55"/>`);
    }
    if (bw >= 28) parts.push(`<text x="${(x0 + bw / 2).toFixed(1)}" y="${barTop - 8}" text-anchor="middle" font-size="12" fill="#374151">P${i + 1}</text>`);
    parts.push('</g></a>');
  });
  if (w !== null) {
    parts.push(`<text x="${left}" y="${barTop + barH + 18}" font-size="11" fill="#6b7280">${escapeHtml(groupDigits(w.start))}</text>`);
    parts.push(`<text x="${width - right}" y="${barTop + barH + 18}" text-anchor="end" font-size="11" fill="#6b7280">${escapeHtml(groupDigits(w.end))}</text>`);
    if (tip !== null && tip >= w.start && tip <= w.end) {
      const tx = x(tip).toFixed(1);
      parts.push(`<g class="tip" data-tip="${tip}"><line x1="${tx}" y1="${barTop - 4}" x2="${tx}" y2="${barTop + barH + 4}" stroke="#b91c1c" stroke-width="2"/><text x="${tx}" y="${barTop + barH + 32}" text-anchor="middle" font-size="11" fill="#b91c1c">${escapeHtml(`tip ${groupDigits(tip)}`)}</text></g>`);
    }
  }
  parts.push('</svg>');
  return parts.join('');
}

function sidePair(p: { miner: bigint; buyer: bigint }): SafeHtml {
  return html`miner <strong>${formatSats(p.miner)}</strong>, buyer <strong>${formatSats(p.buyer)}</strong>`;
}

function periodRow(r: PeriodRow, n: number, template: string): SafeHtml {
  const c = r.contract;
  let outcome: SafeHtml | string = '—';
  if (r.outcome !== null) outcome = html`${outcomeText(template, r.outcome)}${r.outcomeSource === 'oracle' ? html` <span class="note">(attested, not settled yet)</span>` : ''}`;
  else if (c.closingKind === 'refund') outcome = html`<span class="note">none (oracle silent: refunded)</span>`;
  else if (c.closingKind === 'close') outcome = html`<span class="note">closed early by both</span>`;
  const closing = c.closingTxid !== undefined
    ? html`${CLOSING_SHORT[c.closingKind ?? ''] ?? c.closingKind ?? 'closing'} <a class="mono nowrap" href="${paths.contract(c.id)}#transactions" title="${c.closingTxid}">${shortHex(c.closingTxid, 6)}</a>${c.closingHeight === undefined ? html` <span class="note">unconfirmed</span>` : ''}`
    : '—';
  return html`<tr id="period-${r.index + 1}" data-period="${r.index + 1}" data-id="${c.id}" data-state="${c.state}">
<th scope="row">${r.index + 1} of ${n}</th>
<td>${idLink(c.id)}</td>
<td class="num">${windowText(r.window)}${r.window !== null ? html` <span class="note">(${groupDigits(r.window.end - r.window.start)} blocks)</span>` : ''}</td>
<td>${stateBadge(c.state)}</td>
<td>${outcome}</td>
<td class="num" data-payout="miner">${r.payouts !== null ? formatSats(r.payouts.miner) : '—'}</td>
<td class="num" data-payout="buyer">${r.payouts !== null ? formatSats(r.payouts.buyer) : '—'}</td>
<td class="nowrap">${closing}</td>
</tr>`;
}

/** The strip's whole terms as a definition list (what the miner offered, before the split into periods). */
function termsList(strip: StripData): SafeHtml {
  const t = strip.terms;
  const text = (k: string): string | null => (typeof t[k] === 'string' || typeof t[k] === 'number' ? String(t[k]) : null);
  const sats = (k: string, label: string, note: string): SafeHtml | string => (text(k) !== null ? html`<dt>${label}</dt><dd>${formatSats(text(k)!)} <span class="note">${note}</span></dd>` : '');
  const s = stripSummary(t);
  if (s === null) return html`<p class="note">The strip's terms do not parse; as stored:</p><pre class="mono">${JSON.stringify(t, null, 1)}</pre>`;
  return html`<dl class="kv">
<dt>Template</dt><dd>${templateName(s.template)}</dd>
${s.hashrateThs !== null ? html`<dt>Hashrate</dt><dd>${groupDigits(s.hashrateThs)} TH/s</dd>` : ''}
<dt>Blocks</dt><dd>${windowText(s.window)} in ${strip.periods} periods</dd>
${sats('upfront', 'Upfront', 'to the miner, in the funding transaction')}
${sats('escrow', 'Escrow', 'split over the periods by blocks')}
${text('strikeSatsPerPhDay') !== null ? html`<dt>Strike</dt><dd>${groupDigits(text('strikeSatsPerPhDay')!)} sats/PH/day</dd>` : ''}
${sats('premium', 'Premium', 'to the miner, in the funding transaction')}
${sats('minerCollateral', 'Miner collateral', 'split over the periods by blocks')}
${sats('buyerCollateral', 'Buyer collateral', 'split over the periods by blocks')}
${text('toleranceBps') !== null ? html`<dt>Tolerance</dt><dd>${groupDigits(text('toleranceBps')!)} bps counts as full delivery</dd>` : ''}
${text('deliveryAddress') !== null ? html`<dt>Delivery address</dt><dd class="mono">${text('deliveryAddress')}</dd>` : ''}
${text('fundingDeadline') !== null ? html`<dt>Funding deadline</dt><dd>block ${groupDigits(text('fundingDeadline')!)}</dd>` : ''}
</dl>
${luckSection(t)}`;
}

/** `/dashboard/strips/:id`. */
export function stripPage(strip: StripData, ctx: PageContext): string {
  const d = summarizeStrip(strip);
  const template = stripSummary(strip.terms)?.template ?? strip.contracts[0]?.summary.template ?? '';
  const states = new Set(strip.contracts.map((c) => c.state));
  const state = states.size === 1 ? [...states][0]! : 'mixed';
  const fundingTxid = strip.contracts.find((c) => c.fundingTxid !== undefined)?.fundingTxid;
  const missing = strip.contracts.length !== strip.periods
    ? html`<p class="bad" role="alert">The coordinator answered ${strip.contracts.length} of the strip's ${strip.periods} periods.</p>`
    : '';
  const body = html`<h1>Strip: ${templateName(template)} in ${strip.periods} periods ${state === 'mixed' ? html`<span class="badge progress" data-state="mixed">mixed</span>` : stateBadge(state)}</h1>
<p class="sub">Strip <span class="mono">${strip.id}</span> (its id is period 1's offer id). One funding transaction${fundingTxid !== undefined ? html` (<span class="mono" title="${fundingTxid}">${shortHex(fundingTxid, 8)}</span>)` : ''} holds one DLC per period; each period is a contract of its own over its own blocks, settled as its oracle attests.</p>
${missing}
<section class="card" id="timeline"><h2>Timeline</h2>
<div class="chart">${trustedHtml(renderStripTimeline(d, template, ctx.tip))}</div>
<p class="note">Each bar is a period's block window${template === 'hashpower-sale' ? '; its filled height is the delivery the oracle attested' : ''}${ctx.tip !== null ? '; the red line is the chain tip' : ''}.</p>
<div class="table-wrap"><table class="strip-periods spaced">
<thead><tr><th scope="col">Period</th><th scope="col">Contract</th><th scope="col" class="num">Blocks</th><th scope="col">State</th><th scope="col">Outcome</th><th scope="col" class="num">To the miner</th><th scope="col" class="num">To the buyer</th><th scope="col">Closing tx</th></tr></thead>
<tbody>${d.rows.map((r) => periodRow(r, strip.periods, template))}</tbody></table></div>
</section>
<div class="grid2">
<section class="card" id="totals"><h2>Totals</h2><dl class="kv">
<dt>Paid so far</dt><dd data-total="paid">${sidePair(d.paid)}</dd>
${d.upfront > 0n ? html`<dt>Of which upfront</dt><dd>${formatSats(d.upfront)} to the miner ${d.funded ? 'in the funding transaction' : '(once the funding transaction confirms)'}</dd>` : ''}
${d.inFlight.miner + d.inFlight.buyer > 0n ? html`<dt>Closing, not confirmed yet</dt><dd data-total="in-flight">${sidePair(d.inFlight)}</dd>` : ''}
<dt>Still in the DLCs</dt><dd data-total="locked">${formatSats(d.locked)}</dd>
<dt>Periods</dt><dd data-total="periods"><strong>${d.left}</strong> left, ${d.ended} over, of ${strip.periods}</dd>
</dl></section>
<section class="card" id="terms"><h2>Terms of the whole strip</h2>${termsList(strip)}</section>
</div>
<p class="note">Raw: <a href="/v1/strips/${encodeURIComponent(strip.id)}">strip JSON</a> · each period's contract page has its transactions, oracles and payout curve.</p>`;
  return layout(`Strip ${shortHex(strip.id, 6)}`, 'contracts', ctx, body);
}
