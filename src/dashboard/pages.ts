/**
 * The dashboard's pages as pure functions from data to HTML (the strip page
 * lives in strip.ts): the offer book (a strip listed once, with its whole terms),
 * the contracts list, one contract (terms, state timeline, transactions,
 * its oracle set with each oracle's attestation and agreement, payout chart), the oracle events and one event with its
 * evidence, and error pages. Every value from a record, a request or an
 * oracle goes through the escaping `html` template; links are built from
 * `encodeURIComponent`ed parts; the only trusted markup is the chart's SVG.
 *
 * This module does NOT read the store, the node or the oracles (router.ts
 * gathers the data) and emits no script: pages work with JavaScript off.
 */
import { address as btcAddress, networks, type Network } from 'bitcoinjs-lib';
import { fromHex } from '../../protocol/messages/index.js';
import { LUCK_RISK_WARN_CHANCE, formatChance } from '../../protocol/hashpower/index.js';
import { offerTermsSchema, saleLuckRisks, summarizeTerms } from '../../protocol/terms/index.js';
import { CONTRACT_STATES, type ContractState, type OracleView, type PublicContract, type TermsSummaryView } from '../api/coordinator.js';
import { chartCaption, renderPayoutChart, stepAt } from './chart.js';
import type { ContractCurve } from './curve.js';
import { formatSats, formatShortTime, formatTime, groupDigits, shortHex, shortText } from './format.js';
import { html, trustedHtml, type SafeHtml } from './html.js';
import type { AttestationView, Fetched, OracleEventView } from './oracle-proxy.js';

// ------------------------------------------------------------------ paths

/** Where each page lives (all under `/dashboard/` except the offer book at `/`). */
export const paths = {
  home: (after?: string): string => (after === undefined ? '/' : `/?after=${encodeURIComponent(after)}`),
  contracts: (state?: string, after?: string): string => {
    const q = new URLSearchParams();
    if (state !== undefined) q.set('state', state);
    if (after !== undefined) q.set('after', after);
    return `/dashboard/contracts${q.size > 0 ? `?${q}` : ''}`;
  },
  contract: (id: string): string => `/dashboard/contracts/${encodeURIComponent(id)}`,
  /** The secondary offer book (issue 14): positions for sale and recent transfers. */
  positions: (after?: string): string => (after === undefined ? '/dashboard/positions' : `/dashboard/positions?after=${encodeURIComponent(after)}`),
  /** A strip (issue 12) by its id or any period's id. */
  strip: (id: string): string => `/dashboard/strips/${encodeURIComponent(id)}`,
  oracles: (): string => '/dashboard/oracles',
  oracleEvent: (oracle: number, eventId: string): string => `/dashboard/oracles/${oracle}/event?id=${encodeURIComponent(eventId)}`,
  curveJson: (id: string): string => `/dashboard/api/contracts/${encodeURIComponent(id)}/payout-curve`,
  curveSvg: (id: string): string => `/dashboard/api/contracts/${encodeURIComponent(id)}/payout-curve.svg`,
  css: '/dashboard/assets/style.css',
} as const;

// ------------------------------------------------------------------ shared bits

export interface PageContext {
  network: string;
  /** The chain tip the coordinator's node reports, or null when it did not answer. */
  tip: number | null;
  /**
   * Whether the coordinator answers strip queries (`CoordinatorQueries.strip`,
   * issue 12): without it there is no strip page, and a period links to its
   * strip's first period (the strip's id is period 1's offer id) instead.
   */
  strips?: boolean;
}

type Nav = 'offers' | 'contracts' | 'positions' | 'oracles' | 'none';

/** The whole document around a page body. */
export function layout(title: string, nav: Nav, ctx: PageContext, body: SafeHtml): string {
  const link = (href: string, label: string, key: Nav): SafeHtml => html`<a href="${href}"${key === nav ? html` class="active" aria-current="page"` : ''}>${label}</a>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · hashdlc</title>
<link rel="stylesheet" href="${paths.css}">
<link rel="icon" href="data:,">
</head>
<body>
<header class="top"><div class="inner">
<a class="brand" href="/">hash<span>dlc</span></a>
<nav class="main">${link(paths.home(), 'Offer book', 'offers')}${link(paths.contracts(), 'Contracts', 'contracts')}${link(paths.positions(), 'Positions for sale', 'positions')}${link(paths.oracles(), 'Oracle events', 'oracles')}</nav>
<div class="meta">${ctx.network}${ctx.tip !== null ? html` · tip ${groupDigits(ctx.tip)}` : html` · node not answering`}</div>
</div></header>
<main>
${body}
</main>
<footer>hashdlc coordinator · JSON API under <a href="/v1/info">/v1</a> · amounts in sats</footer>
</body>
</html>
`.html;
}

const TEMPLATE_NAMES: Record<string, string> = {
  'hashpower-sale': 'Hashpower sale',
  'hashprice-forward': 'Hashprice forward',
  'hashprice-call': 'Hashprice call',
  'custom-curve': 'Custom curve',
};

export function templateName(t: string): string {
  return TEMPLATE_NAMES[t] ?? t;
}

function stateClass(s: string): string {
  // Contract states, and position states (issue 14: listed, taken, broadcast, transferred, failed, cancelled, expired).
  if (s === 'offered' || s === 'listed') return 'open';
  if (s === 'settled' || s === 'refunded' || s === 'closed' || s === 'transferred') return 'done';
  if (s === 'cancelled' || s === 'expired') return 'ended';
  if (s === 'failed') return 'failed';
  return 'progress';
}

export function stateBadge(s: string): SafeHtml {
  return html`<span class="badge ${stateClass(s)}" data-state="${s}">${s}</span>`;
}

export function idLink(id: string): SafeHtml {
  return html`<a class="mono nowrap" href="${paths.contract(id)}" title="${id}">${shortHex(id, 6)}</a>`;
}

/** A block window `[start, end)` as the templates state it (end excluded). */
export function windowText(w: { start: number; end: number } | null | undefined): string {
  return w === null || w === undefined ? '—' : `[${groupDigits(w.start)}, ${groupDigits(w.end)})`;
}

export function errorBox(message: string): SafeHtml {
  return html`<div class="error" role="alert">${message}</div>`;
}

const NETWORKS: Record<string, Network> = { mainnet: networks.bitcoin, testnet3: networks.testnet, testnet4: networks.testnet, signet: networks.testnet, regtest: networks.regtest };

/** A scriptPubKey (hex) as an address of the network, or the hex when it has no address form. */
export function scriptText(spkHex: string, network: string): string {
  try {
    return btcAddress.fromOutputScript(fromHex(spkHex), NETWORKS[network] ?? networks.regtest);
  } catch {
    return spkHex;
  }
}

/** Price of an offer as its summary states it, with its unit. */
function priceText(s: TermsSummaryView): string {
  if (s.template === 'hashprice-forward' || s.template === 'hashprice-call') return `${groupDigits(s.price)} sats/PH/day`;
  return formatSats(s.price);
}

/**
 * A contract as given, for display: the coordinator gives the dashboard public views only
 * (src/api/coordinator.ts `CoordinatorQueries`), but a renderer shows what a fuller record
 * carries too (party-only fields, absent from every public view: the pages never ask for them).
 */
type AnyRecord = PublicContract & {
  accepter?: { identityPubkey?: string; fundingPubkey?: string; payoutSpk?: string };
  contractId?: string;
  fundingTx?: string;
  closeProposal?: { offerPayout: string; acceptPayout: string; offerSignature: string | null; acceptSignature: string | null } | null;
};

// ------------------------------------------------------------------ offer book

/** A strip as `CoordinatorQueries.strip` answers it (issue 12): its whole terms and its periods in order. */
export interface StripData {
  id: string;
  periods: number;
  /** The strip's whole terms, JSON form (parse with the terms schema before use). */
  terms: Record<string, unknown>;
  contracts: PublicContract[];
}

export interface OfferBookData {
  offers: PublicContract[];
  next: string | null;
  /** The newest contracts past the offer stage, for a glance. */
  recent: PublicContract[];
  /** The strips of the listed offers that are a strip's period 1, by strip id (absent: rows show the period alone). */
  strips?: ReadonlyMap<string, StripData>;
}

/**
 * Issue 16: a sale whose terms state the pool's share of the network (and a
 * luck-based scheme, or none) shows, per measured window, the pool blocks
 * expected and the chance that a miner delivering in full is measured under
 * the tolerance (protocol/terms `saleLuckRisks`); over 5% it is an alert.
 * Nothing for other terms (or terms that do not parse).
 */
export function luckSection(terms: Record<string, unknown>): SafeHtml | string {
  const parsed = offerTermsSchema.safeParse(terms);
  if (!parsed.success) return '';
  let risks;
  try {
    risks = saleLuckRisks(parsed.data);
  } catch {
    return '';
  }
  if (risks.length === 0) return '';
  const r0 = risks[0]!;
  const over = risks.filter((r) => r.underToleranceChance > LUCK_RISK_WARN_CHANCE).length;
  const rows = risks.map((r) => html`<tr class="${r.underToleranceChance > LUCK_RISK_WARN_CHANCE ? 'luck-high' : ''}"><td>${r.period !== undefined ? `period ${r.period + 1} ` : ''}${windowText(r.window)}</td><td class="num">${String(r.expectedPoolBlocks)}</td><td class="num">${formatChance(r.underToleranceChance)}</td></tr>`);
  const alert = over > 0
    ? html`<p class="bad" role="alert">Over ${formatChance(LUCK_RISK_WARN_CHANCE)}: ${risks.length === 1 ? 'in this window' : `in ${over} of ${risks.length} periods`} luck alone may pay the miner less than it delivered.</p>`
    : '';
  return html`<section class="luck" id="pool-luck"><h3>Pool luck</h3>
<p class="note">The pool holds ${(r0.poolShareBps / 100).toFixed(2)}% of the network (${r0.payoutScheme ?? 'per-block payouts'}): a miner delivering in full is paid only in the blocks the pool finds (Poisson). Chance it is measured under the ${(r0.toleranceBps / 100).toFixed(2)}% tolerance:</p>
${alert}
<div class="table-wrap"><table class="luck"><thead><tr><th>Window</th><th class="num">Expected pool blocks</th><th class="num">Under tolerance</th></tr></thead><tbody>${rows}</tbody></table></div>
</section>`;
}

/** The headline numbers of a strip's whole terms, or null when they do not parse (the row then shows period 1's). */
export function stripSummary(terms: Record<string, unknown>): TermsSummaryView | null {
  const parsed = offerTermsSchema.safeParse(terms);
  return parsed.success ? summarizeTerms(parsed.data) : null;
}

/** Sum of decimal amounts (u64 strings; anything else counts as 0 rather than breaking a row). */
export function sumAmounts(values: readonly (string | undefined)[]): bigint {
  let total = 0n;
  for (const v of values) if (v !== undefined && /^\d+$/.test(v)) total += BigInt(v);
  return total;
}

/**
 * Where a strip's period sits, as a link: to the strip page when the coordinator
 * serves strips, else to the strip's first period (its id is period 1's offer id).
 */
function stripPlace(place: NonNullable<PublicContract['strip']>, ctx: PageContext, text: string): SafeHtml {
  const href = ctx.strips === true ? paths.strip(place.id) : paths.contract(place.id);
  return html`<a class="strip-place nowrap" href="${href}" data-strip="${place.id}" data-period="${place.index + 1}" title="strip ${place.id}">${text}</a>`;
}

function offerRow(r: PublicContract, ctx: PageContext, strip: StripData | undefined): SafeHtml {
  // A strip's period 1 stands for the whole strip: its whole terms, collaterals and CETs over every period.
  const whole = strip !== undefined ? stripSummary(strip.terms) : null;
  const s = whole ?? r.summary;
  const event = r.oracles[0]?.eventId ?? '';
  const set = r.oracles.length > 1 ? html` <span class="note nowrap">(${oracleSetText(r)})</span>` : '';
  const place = r.strip;
  let template: SafeHtml = html`${templateName(s.template)}`;
  if (place !== undefined && strip !== undefined) template = html`${templateName(s.template)} ${stripPlace(place, ctx, `${place.periods} periods`)}`;
  else if (place !== undefined) template = html`${templateName(s.template)} ${stripPlace(place, ctx, `period ${place.index + 1} of ${place.periods}`)}`;
  const collateral = strip !== undefined
    ? html`${groupDigits(sumAmounts(strip.contracts.map((c) => c.offerCollateral)))} / ${groupDigits(sumAmounts(strip.contracts.map((c) => c.acceptCollateral)))}`
    : html`${groupDigits(r.offerCollateral)} / ${groupDigits(r.acceptCollateral)}`;
  const cets = strip !== undefined ? strip.contracts.reduce((n, c) => n + c.cets, 0) : r.cets;
  return html`<tr data-id="${r.id}"${strip !== undefined ? html` data-strip="${strip.id}" data-periods="${strip.periods}"` : ''}>
<td>${idLink(r.id)}</td>
<td>${template}</td>
<td class="num">${s.hashrateThs === null ? '—' : `${groupDigits(s.hashrateThs)} TH/s`}</td>
<td class="num">${windowText(s.window)}</td>
<td class="num">${priceText(s)}</td>
<td class="num">${collateral}</td>
<td class="num">${groupDigits(cets)}</td>
<td class="mono nowrap" title="${event}">${shortText(event, 12, 10)}${set}</td>
<td class="nowrap" title="${formatTime(r.createdAt)}">${formatShortTime(r.createdAt)}</td>
</tr>`;
}

function contractRow(r: PublicContract, ctx: PageContext): SafeHtml {
  const a = r as AnyRecord;
  const closing = a.closingTxid !== undefined ? html`${a.closingKind ?? ''} <span class="mono nowrap" title="${a.closingTxid}">${shortHex(a.closingTxid, 5)}</span>` : '—';
  const payouts = a.payouts !== undefined ? html`${groupDigits(a.payouts.offer)} / ${groupDigits(a.payouts.accept)}` : '—';
  return html`<tr data-id="${r.id}">
<td>${idLink(r.id)}</td>
<td>${templateName(r.summary.template)}${r.strip !== undefined ? html` ${stripPlace(r.strip, ctx, `period ${r.strip.index + 1}/${r.strip.periods}`)}` : ''}</td>
<td>${stateBadge(r.state)}</td>
<td class="num">${windowText(r.summary.window)}</td>
<td class="num">${groupDigits(r.totalCollateral)}</td>
<td class="nowrap">${closing}</td>
<td class="nowrap">${oracleSetCell(r)}</td>
<td class="num">${a.outcome ?? '—'}</td>
<td class="num">${payouts}</td>
<td class="nowrap" title="${formatTime(r.updatedAt)}">${formatShortTime(r.updatedAt)}</td>
</tr>`;
}

/** "K of n" of a contract's oracle set ("1 of 1" for a single oracle; "? of n" when the record does not say). */
function oracleSetText(r: PublicContract): string {
  return `${r.oracleThreshold ?? '?'} of ${r.oracles.length}`;
}

/** The contracts list's oracle cell: the set, flagged when an oracle dissented. */
function oracleSetCell(r: PublicContract): SafeHtml {
  const dissent = r.oracles.filter((o) => o.agreed === false).length;
  return html`${oracleSetText(r)}${dissent > 0 ? html` <span class="badge failed" data-dissent="${dissent}">${dissent} dissent</span>` : ''}`;
}

function contractsTable(records: readonly PublicContract[], ctx: PageContext): SafeHtml {
  if (records.length === 0) return html`<p class="empty">No contracts here yet.</p>`;
  return html`<div class="table-wrap"><table class="contracts">
<thead><tr><th>Contract</th><th>Template</th><th>State</th><th class="num">Blocks</th><th class="num">DLC (sats)</th><th>Closing tx</th><th title="how many of the contract's oracles must attest one outcome">Oracles</th><th class="num">Outcome</th><th class="num" title="offerer / accepter">Payouts (sats)</th><th>Updated (UTC)</th></tr></thead>
<tbody>${records.map((r) => contractRow(r, ctx))}</tbody></table></div>`;
}

/** `/`: open offers (paged) and the newest contracts. */
export function offerBookPage(d: OfferBookData, ctx: PageContext): string {
  const table = d.offers.length === 0
    ? html`<p class="empty">No open offers. A miner publishes one with <code>hashdlc offer</code>.</p>`
    : html`<div class="table-wrap"><table class="offers">
<thead><tr><th>Offer</th><th>Template</th><th class="num">Hashrate</th><th class="num">Blocks</th><th class="num">Price</th><th class="num" title="offerer / accepter">Collateral (sats)</th><th class="num">CETs</th><th>Oracle event</th><th>Created (UTC)</th></tr></thead>
<tbody>${d.offers.map((r) => offerRow(r, ctx, r.strip !== undefined ? d.strips?.get(r.strip.id) : undefined))}</tbody></table></div>`;
  const body = html`<h1>Offer book</h1>
<p class="sub">Open offers, newest first. Price: upfront + escrow for a sale, the strike for hashprice contracts; a strip (one contract split into periods, funded at once) is listed once with its whole terms. Accept one with <code>hashdlc accept &lt;offer id&gt;</code>.</p>
<section class="card" id="offers">${table}${d.next !== null ? html`<p class="pager"><a href="${paths.home(d.next)}">Older offers →</a></p>` : ''}</section>
<section class="card" id="recent"><h2>Recent contracts</h2>${contractsTable(d.recent, ctx)}<p class="pager"><a href="${paths.contracts()}">All contracts →</a></p></section>`;
  return layout('Offer book', 'offers', ctx, body);
}

// ------------------------------------------------------------------ contracts

export interface ContractsData {
  records: PublicContract[];
  state: ContractState | null;
  next: string | null;
}

/** `/dashboard/contracts[?state=]`. */
export function contractsPage(d: ContractsData, ctx: PageContext): string {
  const chip = (s: ContractState | null): SafeHtml => html`<a href="${paths.contracts(s ?? undefined)}"${s === d.state ? html` class="active"` : ''}>${s ?? 'all'}</a>`;
  const body = html`<h1>Contracts</h1>
<p class="sub">${d.state === null ? 'The newest contracts in any state (filter by state to page through all).' : html`Contracts in state ${stateBadge(d.state)}, newest first.`}</p>
<nav class="filters" aria-label="Filter by state">${chip(null)}${CONTRACT_STATES.map((s) => chip(s))}</nav>
<section class="card">${contractsTable(d.records, ctx)}${d.next !== null && d.state !== null ? html`<p class="pager"><a href="${paths.contracts(d.state, d.next)}">Older →</a></p>` : ''}</section>`;
  return layout('Contracts', 'contracts', ctx, body);
}

// ------------------------------------------------------------------ one contract

/** One oracle of a contract: what the coordinator recorded (`OracleView`) and what the oracle serves now. */
export interface OracleStatus extends OracleView {
  /** Index of the oracle in the coordinator's config (for the event link), or -1 when no longer configured. */
  index: number;
  event: Fetched<OracleEventView> | null;
}

export interface ContractPageData {
  rec: PublicContract;
  curve: ContractCurve | null;
  curveError: string | null;
  /** The outcome to mark on the chart: the settled CET's, else the oracle's attested one. */
  attested: bigint | null;
  attestedSource: 'contract' | 'oracle' | null;
  oracles: OracleStatus[];
  /** The "Owners" section (issue 14, positions.ts `ownersSection`), built by the router. */
  owners?: SafeHtml | string;
}

const MAIN_PATH: ContractState[] = ['offered', 'accepted', 'signed', 'funding-broadcast', 'confirmed', 'attested', 'cet-broadcast', 'settled'];
const REFUND_PATH: ContractState[] = ['offered', 'accepted', 'signed', 'funding-broadcast', 'confirmed', 'refund-broadcast', 'refunded'];
const CLOSE_PATH: ContractState[] = ['offered', 'accepted', 'signed', 'funding-broadcast', 'confirmed', 'close-broadcast', 'closed'];
/** Issue 14: a contract whose side was sold ends when the transfer confirms; the new contract goes on. */
const TRANSFER_PATH: ContractState[] = ['offered', 'accepted', 'signed', 'funding-broadcast', 'confirmed', 'transferred'];

/** The lifecycle path this contract is on, with the steps before its state marked done. */
function stepper(rec: AnyRecord): SafeHtml {
  let path = MAIN_PATH;
  if (rec.closingKind === 'refund') path = REFUND_PATH;
  else if (rec.closingKind === 'close') path = CLOSE_PATH;
  else if (rec.state === 'transferred') path = TRANSFER_PATH;
  if (rec.state === 'cancelled' || rec.state === 'failed') {
    const from = rec.endedFrom !== undefined ? MAIN_PATH.indexOf(rec.endedFrom) : -1;
    path = [...MAIN_PATH.slice(0, from + 1), rec.state];
  }
  const at = path.indexOf(rec.state);
  return html`<ol class="stepper" aria-label="Lifecycle">${path.map((s, i) => html`<li class="${i < at ? 'done' : i === at ? 'current' : ''}">${s}</li>`)}</ol>`;
}

function timeline(rec: PublicContract): SafeHtml {
  return html`<ol class="timeline">${rec.history.map((h) => html`<li><span class="when">${formatTime(h.at)}</span>${stateBadge(h.state)}${h.note !== undefined ? html` <span class="what">${h.note}</span>` : ''}</li>`)}</ol>`;
}

function blockStatus(height: number | null | undefined, tip: number | null): string {
  if (height === null || height === undefined) return 'unconfirmed';
  if (tip === null || tip < height) return `block ${groupDigits(height)}`;
  const n = tip - height + 1;
  return `block ${groupDigits(height)} (${n} confirmation${n === 1 ? '' : 's'})`;
}

const CLOSING_NAMES: Record<string, string> = { cet: 'CET (settlement)', refund: 'Refund', close: 'Cooperative close' };

function transactions(rec: AnyRecord, ctx: PageContext): SafeHtml {
  const rows: SafeHtml[] = [];
  if (rec.fundingTxid !== undefined) {
    // The public summary carries no funding transaction, only that it was broadcast (src/coordinator/privacy.ts).
    const broadcast = rec.fundingTx !== undefined || rec.fundingBroadcast === true;
    const status = broadcast ? blockStatus(rec.fundingHeight, ctx.tip) : rec.state === 'cancelled' || rec.state === 'failed' ? 'never broadcast' : 'not broadcast yet (waiting for signatures)';
    rows.push(html`<tr data-tx="funding"><td>Funding</td><td class="mono">${rec.fundingTxid}</td><td>output ${rec.fundOutputIndex ?? '?'}: ${formatSats(rec.fundOutputValue ?? '0')} (2-of-2)</td><td>${status}</td></tr>`);
  }
  if (rec.closingTxid !== undefined) {
    const confirmed = rec.closingHeight !== undefined;
    const status = confirmed ? blockStatus(rec.closingHeight, ctx.tip) : rec.state === 'attested' ? 'completed, not broadcast yet (locktime)' : 'broadcast, unconfirmed';
    const by = rec.broadcastBy === 'other' ? ' · broadcast by a party' : rec.broadcastBy === 'coordinator' ? ' · broadcast by the coordinator' : '';
    const pay = rec.payouts !== undefined ? `offerer ${formatSats(rec.payouts.offer)}, accepter ${formatSats(rec.payouts.accept)}` : '';
    rows.push(html`<tr data-tx="closing"><td>${CLOSING_NAMES[rec.closingKind ?? ''] ?? rec.closingKind}</td><td class="mono">${rec.closingTxid}</td><td>${pay}${rec.cetIndex !== null && rec.cetIndex !== undefined ? ` · CET #${rec.cetIndex}` : ''}</td><td>${status}${by}</td></tr>`);
  }
  const open = rec.closingTxid === undefined && rec.state !== 'cancelled' && rec.state !== 'failed';
  const table = rows.length === 0
    ? html`<p class="empty">No transaction yet: the funding transaction exists once an offer is accepted.</p>`
    : html`<div class="table-wrap"><table class="txs spaced"><thead><tr><th>Transaction</th><th>Txid</th><th>Outputs</th><th>Status</th></tr></thead><tbody>${rows}</tbody></table></div>`;
  const cp = rec.closeProposal;
  return html`<section class="card" id="transactions"><h2>Transactions</h2>${table}
<dl class="kv">
<dt>CETs valid from</dt><dd>${rec.cetLocktime < 500_000_000 ? `block ${groupDigits(rec.cetLocktime)}` : formatTime(rec.cetLocktime * 1000)}</dd>
<dt>Refund valid from</dt><dd>${rec.refundLocktime < 500_000_000 ? `block ${groupDigits(rec.refundLocktime)}` : formatTime(rec.refundLocktime * 1000)}${open ? ' (if the oracle never attests)' : ''}</dd>
${cp !== undefined && cp !== null ? html`<dt>Close proposed</dt><dd>offerer ${formatSats(cp.offerPayout)}, accepter ${formatSats(cp.acceptPayout)} · signed by ${[cp.offerSignature !== null ? 'offerer' : null, cp.acceptSignature !== null ? 'accepter' : null].filter((x) => x !== null).join(' and ') || 'nobody yet'}</dd>` : ''}
</dl>
<p class="note">Regtest transactions: look them up on your own node (<code>bitcoin-cli getrawtransaction &lt;txid&gt; true</code>).</p></section>`;
}

/**
 * The contract's oracle set (issue 11), one row per oracle: who (URL, key),
 * its announcement (event link and what the oracle serves now), its
 * attestation, and whether it agreed with the set that settled. A dissenting
 * oracle is flagged: it attested another outcome than the K that settled,
 * which is worth a look (a wrong node, a bug, or a lie).
 */
function oracleSection(d: ContractPageData): SafeHtml {
  const rec = d.rec;
  const settledByCet = rec.closingKind === 'cet';
  const items = d.oracles.map((o) => {
    const link = o.index >= 0 ? html`<a class="mono" href="${paths.oracleEvent(o.index, o.eventId)}">${o.eventId}</a>` : html`<span class="mono">${o.eventId}</span>`;
    let served: SafeHtml;
    let liveOutcome: string | null = null;
    if (o.event === null) served = html`<span class="note">oracle no longer configured</span>`;
    else if (!o.event.ok) served = html`<span class="bad">oracle: ${o.event.error}</span>`;
    else {
      const ev = o.event.value;
      liveOutcome = ev.attested?.outcome ?? null;
      served = html`<span class="badge ${ev.state === 'attested' ? 'done' : 'progress'}">${ev.state ?? 'announced'}</span>${ev.attestHeight !== undefined ? ` · attests at height ${groupDigits(ev.attestHeight)}` : ''}`;
    }
    const outcome = o.outcome ?? liveOutcome;
    const attestation = outcome !== null
      ? html`outcome <strong>${outcome}</strong>${o.outcome === null ? html` <span class="note">(from the oracle now)</span>` : ''}`
      : html`<span class="note">not attested</span>`;
    let agreement: SafeHtml;
    if (o.agreed === true) agreement = html`<span class="badge done" data-agreed="true">agreed</span>`;
    else if (o.agreed === false) agreement = html`<span class="badge failed" data-agreed="false">DISSENT</span> <span class="bad">attested another outcome than the oracles that settled</span>`;
    else agreement = html`<span class="badge progress" data-agreed="pending">${settledByCet && outcome === null ? 'did not attest' : 'pending'}</span>`;
    return html`<tr class="${o.agreed === false ? 'dissent' : ''}" data-oracle="${o.url}"><td><span class="mono">${o.url}</span><br><span class="mono note" title="${o.publicKey}">key ${shortHex(o.publicKey, 8)}</span></td><td>${link}<br>${served}</td><td>${attestation}</td><td>${agreement}</td></tr>`;
  });
  const dissent = d.oracles.filter((o) => o.agreed === false).length;
  const title = d.oracles.length > 1 ? `Oracles: ${oracleSetText(rec)}` : 'Oracle';
  const lead = d.oracles.length > 1
    ? html`<p class="note">Any ${rec.oracleThreshold ?? '?'} of these ${d.oracles.length} oracles attesting one outcome settle the contract; fewer and it is refunded at the refund locktime.</p>`
    : '';
  const warn = dissent > 0 ? html`<p class="bad" role="alert">${dissent} oracle${dissent === 1 ? '' : 's'} attested another outcome than the ones that settled: see DISSENT below.</p>` : '';
  return html`<section class="card" id="oracle"><h2>${title}</h2>${lead}${warn}<div class="table-wrap"><table class="oracles"><thead><tr><th>Oracle</th><th>Announcement</th><th>Attestation</th><th>Agreement</th></tr></thead><tbody>${items}</tbody></table></div></section>`;
}

function curveSection(d: ContractPageData): SafeHtml {
  const c = d.curve;
  if (c === null) return html`<section class="card" id="curve"><h2>Payout curve</h2>${errorBox(`The curve could not be computed: ${d.curveError ?? 'unknown error'}`)}</section>`;
  const unit = c.precision === 0 ? c.unit : `${c.unit} × 10^${c.precision}`;
  const svg = renderPayoutChart(c.steps, { unit, offerLabel: c.roles.offer, acceptLabel: c.roles.accept, attested: d.attested, title: `Payout curve of ${templateName(c.template)} ${d.rec.id}` });
  const caption = chartCaption(c.steps, { unit, attested: d.attested });
  let attestedLine: SafeHtml | string = '';
  if (d.attested !== null) {
    const s = stepAt(c.steps, d.attested);
    attestedLine = s === undefined
      ? html`<p class="bad">Attested outcome ${groupDigits(d.attested)} is outside the curve's domain.</p>`
      : html`<p class="attested-line">Attested outcome <strong>${groupDigits(d.attested)} ${unit}</strong>${d.attestedSource === 'oracle' ? ' (from the oracle; not settled yet)' : ''}: <span class="swatch offer"></span>${c.roles.offer} <strong>${formatSats(s.offer)}</strong>, <span class="swatch accept"></span>${c.roles.accept} <strong>${formatSats(s.accept)}</strong>.</p>`;
  }
  const keyRows = c.keyPayouts.map((k) => html`<tr><td>${k.label}</td><td class="num">${groupDigits(k.outcome)}</td><td class="num">${formatSats(k.offerPayout)}</td><td class="num">${formatSats(k.acceptPayout)}</td></tr>`);
  return html`<section class="card" id="curve"><h2>Payout curve</h2>
${attestedLine}
<div class="chart">${trustedHtml(svg)}</div>
<p class="note">${c.steps.length === 1 ? 'One payout for every outcome.' : `${groupDigits(c.steps.length)} payout steps (one CET each), exactly as the CETs pay after rounding.`}${caption !== null ? ` ${caption}` : ''} Total in the DLC: ${formatSats(c.totalCollateral)}.</p>
<h3>Key outcomes</h3>
<div class="table-wrap"><table class="key-payouts"><thead><tr><th>Outcome</th><th class="num">${unit}</th><th class="num">${c.roles.offer}</th><th class="num">${c.roles.accept}</th></tr></thead><tbody>${keyRows}</tbody></table></div>
</section>`;
}

function partiesSection(rec: AnyRecord, ctx: PageContext): SafeHtml {
  // A public record (coordinator/privacy.ts) carries the accepter's payout script at most, once ended.
  const party = (name: string, p: { identityPubkey?: string; fundingPubkey?: string; payoutSpk?: string } | undefined): SafeHtml => {
    if (p === undefined) {
      return html`<div><h3>${name}</h3><p class="empty">${rec.state === 'offered' ? 'Not accepted yet.' : 'Shown only to the parties (signed API request).'}</p></div>`;
    }
    return html`<div><h3>${name}</h3><dl class="kv">
${p.identityPubkey !== undefined ? html`<dt>Identity key</dt><dd class="mono">${p.identityPubkey}</dd>` : ''}
${p.fundingPubkey !== undefined ? html`<dt>Funding key</dt><dd class="mono">${p.fundingPubkey}</dd>` : ''}
${p.payoutSpk !== undefined ? html`<dt>Payout to</dt><dd class="mono">${scriptText(p.payoutSpk, ctx.network)}</dd>` : ''}</dl></div>`;
  };
  const roles = rec.summary.template === 'custom-curve' ? ['Offerer', 'Accepter'] : ['Offerer (miner)', 'Accepter (buyer)'];
  return html`<section class="card" id="parties"><h2>Parties</h2><div class="grid2">${party(roles[0]!, rec.offerer)}${party(roles[1]!, rec.accepter)}</div></section>`;
}

function headline(rec: PublicContract): string {
  const s = rec.summary;
  const parts = [templateName(s.template)];
  if (s.hashrateThs !== null) parts.push(`${groupDigits(s.hashrateThs)} TH/s`);
  if (s.window !== null) parts.push(`blocks ${windowText(s.window)}`);
  return parts.join(' · ');
}

/** `/dashboard/contracts/:id`. */
export function contractPage(d: ContractPageData, ctx: PageContext): string {
  const rec = d.rec as AnyRecord;
  const terms = d.curve !== null
    ? html`<ul class="lines">${d.curve.lines.map((l) => html`<li>${l}</li>`)}</ul>`
    : '';
  const ended = rec.reason !== undefined ? html`<dt>Ended</dt><dd>${rec.reason}${rec.endedFrom !== undefined ? ` (from ${rec.endedFrom})` : ''}</dd>` : '';
  const body = html`<h1>${headline(rec)} ${stateBadge(rec.state)}</h1>
<p class="sub">Offer <span class="mono">${rec.id}</span>${rec.contractId !== undefined ? html` · contract id <span class="mono">${rec.contractId}</span>` : ''}</p>
${rec.strip !== undefined ? html`<p class="strip-of" id="strip">Period ${rec.strip.index + 1} of ${rec.strip.periods} of strip ${stripPlace(rec.strip, ctx, shortHex(rec.strip.id, 8))}${ctx.strips === true ? ': the timeline of every period' : ' (its first period; this coordinator does not serve strip pages)'}. The strip's periods share one funding transaction; each settles on its own.</p>` : ''}
${stepper(rec)}
<div class="grid2">
<section class="card" id="terms"><h2>Terms</h2>${terms}
${luckSection(rec.terms)}
<dl class="kv">
<dt>Offerer collateral</dt><dd>${formatSats(rec.offerCollateral)}</dd>
<dt>Accepter collateral</dt><dd>${formatSats(rec.acceptCollateral)}</dd>
<dt>In the DLC</dt><dd>${formatSats(rec.totalCollateral)}</dd>
<dt>CETs</dt><dd>${groupDigits(rec.cets)} (${groupDigits(rec.adaptorSignatures)} adaptor signatures per party)</dd>
${ended}
</dl></section>
<section class="card" id="timeline"><h2>Timeline</h2>${timeline(rec)}</section>
</div>
${curveSection(d)}
${transactions(rec, ctx)}
${oracleSection(d)}
${partiesSection(rec, ctx)}
${d.owners ?? ''}
<p class="note">Raw: <a href="/v1/contracts/${encodeURIComponent(rec.id)}">contract JSON</a> (public summary; parties sign the request for the full record and messages) · <a href="/v1/offers/${encodeURIComponent(rec.id)}">offer</a> · <a href="${paths.curveJson(rec.id)}">payout curve JSON</a> · <a href="${paths.curveSvg(rec.id)}">chart SVG</a></p>`;
  return layout(`${templateName(rec.summary.template)} ${shortHex(rec.id, 6)}`, 'contracts', ctx, body);
}

// ------------------------------------------------------------------ oracle events

export interface OracleListData {
  oracles: { index: number; url: string; events: Fetched<{ events: OracleEventView[]; next: string | null }> }[];
}

function eventRow(index: number, ev: OracleEventView): SafeHtml {
  const w = ev.params?.window ?? null;
  const outcome = ev.attested !== null && ev.attested !== undefined ? ev.attested.outcome : '—';
  return html`<tr><td><a class="mono" href="${paths.oracleEvent(index, ev.eventId)}" title="${ev.eventId}">${shortText(ev.eventId, 44, 12)}</a></td><td>${ev.kind ?? ev.params?.kind ?? '—'}</td><td>${ev.state !== undefined ? stateBadge(ev.state) : '—'}</td><td class="num">${windowText(w)}</td><td class="num">${ev.attestHeight !== undefined ? groupDigits(ev.attestHeight) : '—'}</td><td class="num">${outcome}</td></tr>`;
}

/** `/dashboard/oracles`. */
export function oracleEventsPage(d: OracleListData, ctx: PageContext): string {
  const sections = d.oracles.map((o) => {
    let content: SafeHtml;
    if (!o.events.ok) content = errorBox(`This oracle did not answer: ${o.events.error}`);
    else if (o.events.value.events.length === 0) content = html`<p class="empty">No events.</p>`;
    else {
      content = html`<div class="table-wrap"><table class="events"><thead><tr><th>Event</th><th>Kind</th><th>State</th><th class="num">Window</th><th class="num">Attests at</th><th class="num">Outcome</th></tr></thead><tbody>${o.events.value.events.map((ev) => eventRow(o.index, ev))}</tbody></table></div>${o.events.value.next !== null ? html`<p class="note">Showing the first ${o.events.value.events.length}; the oracle has more.</p>` : ''}`;
    }
    return html`<section class="card"><h2>Oracle <span class="mono">${o.url}</span></h2>${content}</section>`;
  });
  const body = html`<h1>Oracle events</h1><p class="sub">Events of the oracles this coordinator accepts, as each oracle publishes them.</p>${sections}`;
  return layout('Oracle events', 'oracles', ctx, body);
}

export interface OracleEventData {
  index: number;
  url: string;
  eventId: string;
  event: Fetched<OracleEventView>;
  attestation: Fetched<AttestationView | null> | null;
  /** Rows of evidence tables shown at most (windows can have thousands of blocks). */
  maxRows: number;
}

function evidenceSection(a: AttestationView, maxRows: number): SafeHtml {
  const ev = a.evidence;
  let check: SafeHtml;
  if (a.recomputed !== null) {
    const same = String(a.recomputed.outcome) === a.outcome || (a.result?.outcome !== undefined && String(a.recomputed.outcome) === a.result.outcome);
    check = same
      ? html`<p class="ok" id="evidence-check">✓ The evidence recomputes to outcome ${groupDigits(a.recomputed.outcome)}, as attested.</p>`
      : html`<p class="bad" id="evidence-check">✗ The evidence recomputes to outcome ${groupDigits(a.recomputed.outcome)}, the oracle attested ${a.outcome}.</p>`;
  } else {
    check = errorBox(a.evidenceError ?? `The evidence does not recompute: ${a.recomputeError ?? 'unknown error'}`);
  }
  if (ev === null) return html`<section class="card" id="evidence"><h2>Evidence</h2>${check}</section>`;
  const r = a.recomputed;
  const blocks = ev.blocks.slice(0, maxRows).map((b) => html`<tr><td class="num">${groupDigits(b.height)}</td><td class="mono nowrap" title="${b.hash}">${shortHex(b.hash, 12)}</td><td class="mono">${b.bits}</td><td class="num">${groupDigits(b.reward)}</td><td class="mono nowrap" title="${b.coinbaseTxid}">${shortHex(b.coinbaseTxid, 12)}</td></tr>`);
  const payouts = 'payouts' in ev ? ev.payouts : [];
  const payoutRows = payouts.slice(0, maxRows).map((p) => html`<tr><td>${p.source}${p.fromAddress !== undefined ? html`<br><span class="note mono">from ${p.fromAddress}</span>` : ''}</td><td class="num">${groupDigits(p.height)}</td><td class="mono nowrap" title="${p.txid}:${p.vout}">${shortHex(p.txid, 12)}:${p.vout}</td><td class="num">${groupDigits(p.value)}</td><td class="mono">${p.address}</td></tr>`);
  const more = (n: number): SafeHtml | string => (n > maxRows ? html`<p class="note">${groupDigits(n - maxRows)} more not shown (see the oracle's JSON).</p>` : '');
  return html`<section class="card" id="evidence"><h2>Evidence</h2>
${check}
<dl class="kv">
<dt>Window</dt><dd>blocks ${windowText(ev.window)} (${groupDigits(ev.blocks.length)} blocks)</dd>
${'deliveryAddress' in ev ? html`<dt>Delivery address</dt><dd class="mono">${ev.deliveryAddress}</dd>` : ''}
${'poolPayoutAddresses' in ev && ev.poolPayoutAddresses.length > 0 ? html`<dt>Pool payout addresses</dt><dd class="mono">${ev.poolPayoutAddresses.join(', ')}</dd>` : ''}
${'hashrateThs' in ev ? html`<dt>Contracted hashrate</dt><dd>${groupDigits(ev.hashrateThs)} TH/s</dd>` : ''}
${'simulatedDifficulty' in ev && ev.simulatedDifficulty !== undefined ? html`<dt>Simulated difficulty</dt><dd>${ev.simulatedDifficulty} (regtest)</dd>` : ''}
${r !== null ? html`<dt>Network reward</dt><dd>${formatSats(r.networkReward)}</dd>${r.rewardRule !== null ? html`<dt>Reward rule</dt><dd><span class="mono">${r.rewardRule}</span>: ${formatSats(r.countedReward)} counted${r.feeCap !== null ? html` (fees per block capped at ${formatSats(r.feeCap)})` : ''}</dd>` : ''}${'payouts' in ev ? html`<dt>Paid to the delivery address</dt><dd>${formatSats(r.poolRewards)}</dd>` : ''}${a.expectedSats !== null ? html`<dt>Expected at the contracted hashrate</dt><dd>${formatSats(a.expectedSats)} (the outcome is paid ÷ expected, in bps)</dd>` : ''}${r.capped ? html`<dt>Capped</dt><dd>the value exceeded the largest outcome</dd>` : ''}${r.noNetworkReward ? html`<dt>No network reward</dt><dd>the no-reward rule applied</dd>` : ''}` : ''}
</dl>
${'payouts' in ev ? html`<h3>Counted payouts (${groupDigits(payouts.length)})</h3>${payouts.length === 0 ? html`<p class="empty">None.</p>` : html`<div class="table-wrap"><table class="payouts"><thead><tr><th>Source</th><th class="num">Height</th><th>Outpoint</th><th class="num">Value (sats)</th><th>To</th></tr></thead><tbody>${payoutRows}</tbody></table></div>`}${more(payouts.length)}` : ''}
<details class="blocks"><summary>Blocks of the window (${groupDigits(ev.blocks.length)})</summary>
<div class="table-wrap"><table class="blocks"><thead><tr><th class="num">Height</th><th>Hash</th><th>Bits</th><th class="num">Reward (sats)</th><th>Coinbase txid</th></tr></thead><tbody>${blocks}</tbody></table></div>${more(ev.blocks.length)}</details>
<p class="note">This checks the evidence against itself. To check it against the chain, run <code>hashdlc oracle verify &lt;oracle url&gt; &lt;event id&gt;</code> with your own node.</p>
</section>`;
}

/** `/dashboard/oracles/:n/event?id=`. */
export function oracleEventPage(d: OracleEventData, ctx: PageContext): string {
  if (!d.event.ok) {
    const body = html`<h1>Oracle event</h1><p class="sub mono">${d.eventId}</p>${errorBox(`Oracle ${d.url}: ${d.event.error}`)}`;
    return layout('Oracle event', 'oracles', ctx, body);
  }
  const ev = d.event.value;
  const p = ev.params;
  const desc = p?.descriptor ?? null;
  const descText = desc === null ? '—' : desc.type === 'enum' ? `enum: ${Array.isArray(desc.outcomes) ? (desc.outcomes as unknown[]).map(String).join(', ') : '?'}` : `numeric, ${String(desc.nbDigits)} binary digits, unit ${String(desc.unit)}`;
  let attestation: SafeHtml;
  if (d.attestation === null) attestation = html``;
  else if (!d.attestation.ok) attestation = html`<section class="card" id="attestation"><h2>Attestation</h2>${errorBox(d.attestation.error)}</section>`;
  else if (d.attestation.value === null) attestation = html`<section class="card" id="attestation"><h2>Attestation</h2><p class="empty">Not attested yet${ev.attestHeight !== undefined ? ` (the oracle attests once block ${groupDigits(ev.attestHeight)} is indexed)` : ''}.</p></section>`;
  else {
    const a = d.attestation.value;
    attestation = html`<section class="card" id="attestation"><h2>Attestation</h2><dl class="kv">
<dt>Outcome</dt><dd><strong>${a.outcome}</strong></dd>
${a.attestedAtHeight !== null ? html`<dt>Attested at height</dt><dd>${groupDigits(a.attestedAtHeight)}</dd>` : ''}
${a.hex !== null ? html`<dt>oracle_attestation</dt><dd class="mono">${shortHex(a.hex, 24)}</dd>` : ''}
</dl></section>${evidenceSection(a, d.maxRows)}`;
  }
  const body = html`<h1>Oracle event ${ev.state !== undefined ? stateBadge(ev.state) : ''}</h1>
<p class="sub mono">${ev.eventId}</p>
<section class="card" id="event"><h2>Event</h2><dl class="kv">
<dt>Oracle</dt><dd class="mono">${d.url}</dd>
<dt>Kind</dt><dd>${ev.kind ?? p?.kind ?? '—'}</dd>
${p?.window !== undefined && p.window !== null ? html`<dt>Window</dt><dd>blocks ${windowText(p.window)}</dd>` : ''}
${p?.deliveryAddress !== undefined && p.deliveryAddress !== null ? html`<dt>Delivery address</dt><dd class="mono">${p.deliveryAddress}</dd>` : ''}
${p?.hashrateThs !== undefined && p.hashrateThs !== null ? html`<dt>Hashrate</dt><dd>${groupDigits(p.hashrateThs)} TH/s</dd>` : ''}
${p?.simulatedDifficulty !== undefined && p.simulatedDifficulty !== null ? html`<dt>Simulated difficulty</dt><dd>${p.simulatedDifficulty}</dd>` : ''}
<dt>Outcome</dt><dd>${descText}</dd>
${ev.attestHeight !== undefined ? html`<dt>Attests at height</dt><dd>${groupDigits(ev.attestHeight)}</dd>` : ''}
${ev.eventMaturityEpoch !== undefined ? html`<dt>Maturity (estimate)</dt><dd>${formatTime(ev.eventMaturityEpoch * 1000)}</dd>` : ''}
</dl>
${ev.rules !== undefined && ev.rules.length > 0 ? html`<h3>Rules</h3><ul class="lines">${ev.rules.map((r) => html`<li>${r}</li>`)}</ul>` : ''}
</section>
${attestation}`;
  return layout('Oracle event', 'oracles', ctx, body);
}

// ------------------------------------------------------------------ errors

/** An error page (404 unknown id, 400 bad parameter, 500). */
export function errorPage(status: number, message: string, ctx: PageContext): string {
  const title = status === 404 ? 'Not found' : status === 400 ? 'Bad request' : 'Error';
  return layout(title, 'none', ctx, html`<h1>${title}</h1>${errorBox(message)}<p><a href="/">Back to the offer book</a></p>`);
}
