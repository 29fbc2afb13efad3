/**
 * The secondary offer book (issue 14) as pure functions from data to HTML:
 * the "Positions for sale" page (listed positions with their contract, terms,
 * price, the delivery so far as the coordinator reports it from the oracle's
 * index, and the time left to transfer; then the recent transfers), and the
 * contract page's "Owners" section (the chain of owners of a transferred
 * contract, each contract with its buyer identity and the transfer txid
 * between). Every value from a position, a record or a request goes through
 * the escaping `html` template; links are built from `encodeURIComponent`ed
 * parts (pages.ts `paths`).
 *
 * A coordinator whose queries lack `positions` / `ownerChain` (both optional
 * on `CoordinatorQueries`) gets a page that says so, never an error.
 *
 * This module does NOT read the store, the node or the oracles (router.ts
 * gathers the data) and shows only what the public views carry: a position's
 * transfer PSBT and terms JSON are party-only and never rendered.
 */
import type { OwnerChainEntry, PositionView, PublicContract } from '../api/coordinator.js';
import { formatSats, formatShortTime, formatTime, groupDigits, shortHex } from './format.js';
import { html, type SafeHtml } from './html.js';
import { errorBox, idLink, layout, paths, stateBadge, stripSummary, templateName, windowText, type PageContext } from './pages.js';

/** Position states shown as recent transfers (taken but not broadcast is still a listing in flight). */
export const TRANSFER_STATES = ['broadcast', 'transferred', 'failed'] as const;

export interface PositionsPageData {
  /** False when the coordinator's queries have no `positions` (an older coordinator). */
  available: boolean;
  listed: PositionView[];
  /** Cursor of the next page of listed positions, null at the end. */
  next: string | null;
  /** The newest positions in TRANSFER_STATES, newest first. */
  transfers: PositionView[];
}

/** A position's short id as a link to its contract's page (a position has no page of its own). */
function positionIdText(p: PositionView): SafeHtml {
  return html`<span class="mono nowrap" title="${p.id}">${shortHex(p.id, 6)}</span>`;
}

/** The terms at a glance: template, hashrate, window; "—" when they do not parse. */
function termsText(p: PositionView): SafeHtml {
  const s = stripSummary(p.terms);
  if (s === null) return html`<span class="note">terms not readable</span>`;
  const parts: string[] = [templateName(s.template)];
  if (s.hashrateThs !== null) parts.push(`${groupDigits(s.hashrateThs)} TH/s`);
  if (s.window !== null) parts.push(`blocks ${windowText(s.window)}`);
  return html`${parts.join(' · ')}`;
}

/**
 * Delivery so far (PositionView.delivery: the oracle index's measure by the
 * attestation's rules): the ratio in % and bps when known, the rewards paid and
 * the height measured at; "not known" when the coordinator could not ask.
 */
export function deliveryText(p: PositionView): SafeHtml {
  const d = p.delivery;
  if (d === null || d === undefined) return html`<span class="note">not known</span>`;
  const ratio = d.ratioBps === null || d.ratioBps === undefined
    ? html`<span class="note">no ratio yet</span>`
    : html`<strong>${(d.ratioBps / 100).toFixed(2)} %</strong> <span class="note">(${groupDigits(d.ratioBps)} bps)</span>`;
  return html`${ratio}<br><span class="note">${formatSats(d.rewardsSats)} paid, at block ${groupDigits(d.atHeight)}</span>`;
}

/**
 * Time left to transfer: blocks from the tip to `lastHeight` (protocol/contract
 * `transferDeadline`, the last tip at which a transfer is accepted).
 */
export function timeLeftText(p: PositionView, tip: number | null): SafeHtml {
  if (tip === null) return html`<span class="note">until block ${groupDigits(p.lastHeight)} (tip unknown)</span>`;
  const left = p.lastHeight - tip;
  if (left < 0) return html`<span class="bad" data-left="closed">closed</span> <span class="note">(last block ${groupDigits(p.lastHeight)})</span>`;
  return html`<span data-left="${left}">${groupDigits(left)} block${left === 1 ? '' : 's'}</span> <span class="note">(until block ${groupDigits(p.lastHeight)})</span>`;
}

function listedRow(p: PositionView, ctx: PageContext): SafeHtml {
  return html`<tr data-position="${p.id}">
<td>${positionIdText(p)}</td>
<td>${idLink(p.contractId)}</td>
<td>${termsText(p)}</td>
<td>${p.side === 'accept' ? 'buyer' : 'miner'}</td>
<td class="num" data-price="${p.price}">${formatSats(p.price)}</td>
<td class="num">${deliveryText(p)}</td>
<td class="num">${timeLeftText(p, ctx.tip)}</td>
<td class="nowrap" title="${formatTime(p.createdAt)}">${formatShortTime(p.createdAt)}</td>
</tr>`;
}

function transferRow(p: PositionView): SafeHtml {
  const to = p.newContractId !== null && p.newContractId !== undefined ? idLink(p.newContractId) : html`—`;
  const txid = p.transferTxid !== null && p.transferTxid !== undefined ? html`<span class="mono nowrap" title="${p.transferTxid}">${shortHex(p.transferTxid, 8)}</span>` : html`—`;
  return html`<tr data-position="${p.id}">
<td>${positionIdText(p)}</td>
<td>${stateBadge(p.state)}${p.reason !== undefined ? html`<br><span class="note">${p.reason}</span>` : ''}</td>
<td>${idLink(p.contractId)} → ${to}</td>
<td>${termsText(p)}</td>
<td class="num">${formatSats(p.price)}</td>
<td>${txid}</td>
<td class="nowrap" title="${formatTime(p.updatedAt)}">${formatShortTime(p.updatedAt)}</td>
</tr>`;
}

/** `/dashboard/positions`. */
export function positionsPage(d: PositionsPageData, ctx: PageContext): string {
  if (!d.available) {
    const body = html`<h1>Positions for sale</h1>
${errorBox('This coordinator does not serve positions (it predates transferable positions): nothing can be listed or bought here.')}`;
    return layout('Positions for sale', 'positions', ctx, body);
  }
  const listed = d.listed.length === 0
    ? html`<p class="empty">No position for sale. A buyer lists its side of a live contract with <code>hashdlc position sell &lt;contract id&gt; --price SATS</code>.</p>`
    : html`<div class="table-wrap"><table class="positions">
<thead><tr><th>Position</th><th>Contract</th><th>Terms</th><th>Side sold</th><th class="num">Price</th><th class="num" title="as the oracle's index measures it by the attestation's rules; informational">Delivery so far</th><th class="num">Time left to buy</th><th>Listed (UTC)</th></tr></thead>
<tbody>${d.listed.map((p) => listedRow(p, ctx))}</tbody></table></div>`;
  const transfers = d.transfers.length === 0
    ? html`<p class="empty">No transfer yet.</p>`
    : html`<div class="table-wrap"><table class="transfers">
<thead><tr><th>Position</th><th>State</th><th>Contract → new contract</th><th>Terms</th><th class="num">Price</th><th>Transfer tx</th><th>Updated (UTC)</th></tr></thead>
<tbody>${d.transfers.map(transferRow)}</tbody></table></div>`;
  const body = html`<h1>Positions for sale</h1>
<p class="sub">Live contracts whose buyer sells its side, newest first. The new buyer takes over the same contract (same terms, payouts and oracle events) in one transaction that pays the seller; the miner's payouts do not change. Buy one with <code>hashdlc position buy &lt;position id&gt;</code>. Delivery so far is the oracle index's measure, informational only: the attestation settles.</p>
<section class="card" id="listed">${listed}${d.next !== null ? html`<p class="pager"><a href="${paths.positions(d.next)}">Older positions →</a></p>` : ''}</section>
<section class="card" id="transfers"><h2>Recent transfers</h2>${transfers}</section>`;
  return layout('Positions for sale', 'positions', ctx, body);
}

/** What the contract page knows of its chain of owners. */
export type OwnersData =
  /** The coordinator's queries have no `ownerChain`. */
  | { available: false }
  /** The chain (oldest first), or null when the coordinator does not know the contract. */
  | { available: true; chain: OwnerChainEntry[] | null };

/** The `transferredFrom` / `transferredTo` lines of a contract. */
function transferLinks(rec: PublicContract): SafeHtml | string {
  const from = rec.transferredFrom;
  const to = rec.transferredTo;
  if (from === undefined && to === undefined) return '';
  const txid = (t: string | null): SafeHtml => (t === null ? html`<span class="note">transfer not broadcast yet</span>` : html`transfer tx <span class="mono" title="${t}">${shortHex(t, 8)}</span>`);
  return html`<dl class="kv transfer-links">
${from !== undefined ? html`<dt>Transferred from</dt><dd data-link="from">${idLink(from.contractId)} · ${txid(from.transferTxid)}</dd>` : ''}
${to !== undefined ? html`<dt>Transferred to</dt><dd data-link="to">${idLink(to.contractId)} · ${txid(to.transferTxid)}${rec.state === 'transferred' ? '' : html` <span class="note">(pending: this contract stands until the transfer confirms)</span>`}</dd>` : ''}
</dl>`;
}

/**
 * The contract page's "Owners" section: the transfer links, then each contract
 * of the chain with its buyer's identity and the transfer between; this
 * contract marked. Nothing for an open offer (no owner yet) with no links.
 */
export function ownersSection(rec: PublicContract, owners: OwnersData): SafeHtml | string {
  const links = transferLinks(rec);
  if (rec.state === 'offered' && links === '') return '';
  let chain: SafeHtml;
  if (!owners.available) chain = html`<p class="note" data-owners="unavailable">This coordinator does not serve chains of owners.</p>`;
  else if (owners.chain === null || owners.chain.length === 0) chain = html`<p class="note">The coordinator has no chain of owners for this contract.</p>`;
  else if (owners.chain.length === 1 && links === '') chain = html`<p class="note" data-owners="1">One owner: never transferred.</p>`;
  else {
    const items = owners.chain.map((e, i) => {
      const me = e.contractId === rec.id;
      const buyer = e.accepterIdentity === null ? html`<span class="note">not known</span>` : html`<span class="mono" title="${e.accepterIdentity}">${shortHex(e.accepterIdentity, 8)}</span>`;
      const next = e.transferTxid !== null
        ? html`<div class="note">sold on: transfer tx <span class="mono" title="${e.transferTxid}">${shortHex(e.transferTxid, 8)}</span>${e.positionId !== null ? html` (position <span class="mono" title="${e.positionId}">${shortHex(e.positionId, 6)}</span>)` : ''}</div>`
        : e.positionId !== null ? html`<div class="note">being sold (position <span class="mono" title="${e.positionId}">${shortHex(e.positionId, 6)}</span>), not broadcast yet</div>` : '';
      return html`<li data-owner="${i + 1}"${me ? html` class="current" aria-current="true"` : ''}>owner ${i + 1}: buyer ${buyer} · ${me ? html`<strong>this contract</strong> <span class="mono">${shortHex(e.contractId, 6)}</span>` : idLink(e.contractId)} ${stateBadge(e.state)}${next}</li>`;
    });
    chain = html`<ol class="owners">${items}</ol>`;
  }
  return html`<section class="card" id="owners"><h2>Owners</h2>${links}${chain}</section>`;
}
