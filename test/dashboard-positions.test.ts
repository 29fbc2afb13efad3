/**
 * The dashboard's secondary offer book (issue 14): the "Positions for sale"
 * page lists `CoordinatorQueries.positions({ state: 'listed' })` with each
 * position's contract link, terms summary, price, delivery so far and time
 * left (lastHeight against the tip), then the recent transfers (broadcast,
 * transferred, failed) with the new contract and the transfer txid; a
 * contract's page shows its chain of owners (`ownerChain`) and its
 * `transferredFrom` / `transferredTo` links. Outside text (a reason, terms,
 * ids) is shown as text, never markup. The router serves the pages over real
 * HTTP on 127.0.0.1; a coordinator without `positions` / `ownerChain` (both
 * optional) gets pages that say so, and a failing owner-chain query leaves
 * the contract page up.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CoordinatorQueries, OwnerChainEntry, PositionState, PositionView, PublicContract } from '../src/api/coordinator.js';
import { dashboardRouter, deliveryText, ownersSection, positionsPage, timeLeftText } from '../src/dashboard/index.js';
import { contractPage, offerBookPage } from '../src/dashboard/pages.js';
import { stripFixture, stripQueries } from './dashboard-fixtures.js';

const EVIL = '<script>alert(1)</script><img src=x onerror=alert(2)>';
const TIP = 1350;
const ctx = { network: 'regtest', tip: TIP };

function expectInert(page: string): void {
  expect(page).not.toContain('<script');
  expect(page).not.toContain('<img');
  expect(page.replace(/"[^"]*"/g, '""')).not.toMatch(/<[^>]+\son\w+=/);
}

/** A live single contract (a one-period strip fixture without its strip place): a sale over [1000, 1400). */
function single(idByte: string, state: 'confirmed' | 'transferred' | 'funding-broadcast'): PublicContract {
  const { strip: _place, ...c } = stripFixture({ idByte, periods: [{ state: 'confirmed' }] }).strip.contracts[0]!;
  return { ...c, state };
}

const terms = (() => {
  const { periods: _p, ...t } = stripFixture({ idByte: 'ee', periods: [{ state: 'offered' }] }).terms as unknown as Record<string, unknown>;
  return t;
})();

/** Contract 1 (owner B1) sold to B2 as contract 2 by the position `p1…`; contract 2 is listed again (`p2…`). */
const TXID = 'ab'.repeat(32);
const c1: PublicContract = { ...single('c1', 'transferred'), transferredTo: { contractId: 'c2'.repeat(32), positionId: 'd1'.repeat(16), transferTxid: TXID } };
const c2: PublicContract = { ...single('c2', 'confirmed'), id: 'c2'.repeat(32), transferredFrom: { contractId: c1.id, positionId: 'd1'.repeat(16), transferTxid: TXID } };
const chain: OwnerChainEntry[] = [
  { contractId: c1.id, state: 'transferred', accepterIdentity: 'b1'.repeat(32), positionId: 'd1'.repeat(16), transferTxid: TXID },
  { contractId: c2.id, state: 'confirmed', accepterIdentity: 'b2'.repeat(32), positionId: null, transferTxid: null },
];

function position(o: Partial<PositionView> & { id: string; state: PositionState }): PositionView {
  return {
    contractId: c2.id, side: 'accept', price: '120000', sellerSpk: '0014'.padEnd(44, '7'), terms, cetLocktime: 1400, lastHeight: 1398,
    createdAt: Date.UTC(2025, 5, 3, 12), updatedAt: Date.UTC(2025, 5, 3, 12), ...o,
  };
}

const listed = [
  position({ id: 'd2'.repeat(16), state: 'listed', delivery: { rewardsSats: '1234567', atHeight: 1349, ratioBps: 9605 } }),
  position({ id: 'd3'.repeat(16), state: 'listed', price: '5', delivery: null, lastHeight: 1340 }),
];
const transfers = [
  position({ id: 'd1'.repeat(16), contractId: c1.id, state: 'transferred', newContractId: c2.id, transferTxid: TXID, updatedAt: Date.UTC(2025, 5, 2) }),
  position({ id: 'd4'.repeat(16), state: 'failed', newContractId: 'c4'.repeat(32), transferTxid: 'cd'.repeat(32), reason: EVIL, updatedAt: Date.UTC(2025, 5, 4) }),
];

/** The `<tr>` of a position. */
function row(page: string, id: string): string {
  const m = new RegExp(`<tr data-position="${id}">(.*?)</tr>`, 's').exec(page);
  expect(m, `row of position ${id}`).not.toBeNull();
  return m![1]!;
}

describe('positions page', () => {
  const page = positionsPage({ available: true, listed, next: 'd3'.repeat(16), transfers }, ctx);

  it('lists each position: contract link, terms, side, price, delivery so far, time left', () => {
    const r = row(page, 'd2'.repeat(16));
    expect(r).toContain(`href="/dashboard/contracts/${c2.id}"`);
    expect(r).toContain('Hashpower sale · 100 TH/s · blocks [1,000, 1,400)');
    expect(r).toContain('<td>buyer</td>');
    expect(r).toContain('<td class="num" data-price="120000">120,000 sats</td>');
    expect(r).toContain('<strong>96.05 %</strong> <span class="note">(9,605 bps)</span>');
    expect(r).toContain('1,234,567 sats paid, at block 1,349');
    // 1398 - 1350 blocks left
    expect(r).toContain('<span data-left="48">48 blocks</span> <span class="note">(until block 1,398)</span>');
  });

  it('a position without a delivery measure says so; past its last height it is closed', () => {
    const r = row(page, 'd3'.repeat(16));
    expect(r).toContain('<span class="note">not known</span>');
    expect(r).toContain('<span class="bad" data-left="closed">closed</span>');
    expect(timeLeftText(listed[0]!, null).html).toBe('<span class="note">until block 1,398 (tip unknown)</span>');
    expect(timeLeftText(listed[0]!, 1397).html).toContain('1 block</span>');
    expect(deliveryText({ ...listed[0]!, delivery: { rewardsSats: '0', atHeight: 999, ratioBps: null } }).html).toContain('no ratio yet');
  });

  it('pages on, and shows the recent transfers with the new contract and the transfer txid', () => {
    expect(page).toContain(`<a href="/dashboard/positions?after=${'d3'.repeat(16)}">Older positions →</a>`);
    const t = row(page, 'd1'.repeat(16));
    expect(t).toContain('data-state="transferred"');
    expect(t).toContain(`href="/dashboard/contracts/${c1.id}"`);
    expect(t).toContain(`→ <a class="mono nowrap" href="/dashboard/contracts/${c2.id}"`);
    expect(t).toContain(`title="${TXID}"`);
    expect(row(page, 'd4'.repeat(16))).toContain('data-state="failed"');
  });

  it('shows outside text as text', () => {
    expectInert(page);
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    const evil = positionsPage({ available: true, listed: [position({ id: 'd5'.repeat(16), state: 'listed', contractId: EVIL, terms: { ...terms, template: EVIL } })], next: null, transfers: [] }, ctx);
    expectInert(evil);
    expect(evil).toContain('terms not readable');
  });

  it('says when there is nothing for sale, and when the coordinator serves no positions', () => {
    expect(positionsPage({ available: true, listed: [], next: null, transfers: [] }, ctx)).toContain('No position for sale.');
    const old = positionsPage({ available: false, listed: [], next: null, transfers: [] }, ctx);
    expect(old).toContain('This coordinator does not serve positions');
    expect(old).not.toContain('<table');
  });

  it('is in the main navigation of every page, marked on its own', () => {
    expect(page).toContain('<a href="/dashboard/positions" class="active" aria-current="page">Positions for sale</a>');
    const book = offerBookPage({ offers: [], next: null, recent: [] }, ctx);
    expect(book).toContain('<a href="/dashboard/positions">Positions for sale</a>');
  });
});

describe('a contract\'s owners', () => {
  const pageOf = (rec: PublicContract, owners: Parameters<typeof ownersSection>[1]): string =>
    contractPage({ rec, curve: null, curveError: 'not in this test', attested: null, attestedSource: null, oracles: [], owners: ownersSection(rec, owners) }, ctx);

  it('the sold contract: transferred to the new one, its owners in order with the transfer between', () => {
    const page = pageOf(c1, { available: true, chain });
    expect(page).toContain(`<dt>Transferred to</dt><dd data-link="to"><a class="mono nowrap" href="/dashboard/contracts/${c2.id}"`);
    expect(page).not.toContain('(pending: this contract stands');
    const owners = [...page.matchAll(/<li data-owner="(\d)"([^>]*)>(.*?)<\/li>/gs)];
    expect(owners.map((m) => m[1])).toEqual(['1', '2']);
    expect(owners[0]![2]).toContain('aria-current="true"');
    expect(owners[0]![3]).toContain(`title="${'b1'.repeat(32)}"`);
    expect(owners[0]![3]).toContain('<strong>this contract</strong>');
    expect(owners[0]![3]).toContain(`sold on: transfer tx <span class="mono" title="${TXID}">`);
    expect(owners[1]![3]).toContain(`title="${'b2'.repeat(32)}"`);
    expect(owners[1]![3]).toContain(`href="/dashboard/contracts/${c2.id}"`);
    // the lifecycle ends at transferred
    expect(page).toContain('<li class="current">transferred</li>');
  });

  it('the new contract links back; a transfer not yet confirmed is pending', () => {
    expect(pageOf(c2, { available: true, chain })).toContain(`<dt>Transferred from</dt><dd data-link="from"><a class="mono nowrap" href="/dashboard/contracts/${c1.id}"`);
    const pending = pageOf({ ...c1, state: 'confirmed', transferredTo: { ...c1.transferredTo!, transferTxid: null } }, { available: true, chain });
    expect(pending).toContain('transfer not broadcast yet');
    expect(pending).toContain('(pending: this contract stands until the transfer confirms)');
  });

  it('one owner, no chain known, or a coordinator without owner chains: each said', () => {
    const alone = single('c9', 'confirmed');
    expect(pageOf(alone, { available: true, chain: [{ contractId: alone.id, state: 'confirmed', accepterIdentity: 'b9'.repeat(32), positionId: null, transferTxid: null }] })).toContain('One owner: never transferred.');
    expect(pageOf(alone, { available: true, chain: null })).toContain('The coordinator has no chain of owners for this contract.');
    expect(pageOf(alone, { available: false })).toContain('This coordinator does not serve chains of owners.');
  });

  it('shows outside text in the chain as text', () => {
    const page = pageOf(c1, { available: true, chain: [{ ...chain[0]!, accepterIdentity: EVIL, transferTxid: EVIL }, { ...chain[1]!, contractId: EVIL }] });
    expectInert(page);
  });
});

// ------------------------------------------------------------------ over HTTP

/** `stripQueries` over the two contracts, with `positions` / `ownerChain` unless told otherwise. */
function queries(o: { positions?: boolean; ownerChain?: 'ok' | 'throws' | 'absent'; asked?: unknown[]; logs?: string[] }): CoordinatorQueries {
  const q = stripQueries({ strips: [], singles: [c1, c2], tip: TIP, ...(o.logs !== undefined ? { logs: o.logs } : {}) });
  const all = [...listed, ...transfers];
  if (o.positions !== false) {
    q.positions = (a) => {
      o.asked?.push(a);
      const inState = all.filter((p) => p.state === (a.state ?? 'listed'));
      return Promise.resolve({ positions: inState.slice(0, a.limit), next: null });
    };
  }
  if (o.ownerChain === 'ok' || o.ownerChain === undefined) q.ownerChain = (id) => Promise.resolve(chain.some((e) => e.contractId === id) ? chain : null);
  if (o.ownerChain === 'throws') q.ownerChain = () => Promise.reject(new Error('store closed'));
  return q;
}

async function serve(q: CoordinatorQueries): Promise<{ url: string; close: () => Promise<void> }> {
  const app = express();
  app.use(dashboardRouter(q, { tipTimeoutMs: 500 }));
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

async function get(url: string): Promise<{ status: number; body: string; csp: string | null }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text(), csp: r.headers.get('content-security-policy') };
}

describe('the router serves positions and owners over HTTP', () => {
  const asked: unknown[] = [];
  const logs: string[] = [];
  let full: { url: string; close: () => Promise<void> };
  let older: { url: string; close: () => Promise<void> };
  let failing: { url: string; close: () => Promise<void> };

  beforeAll(async () => {
    full = await serve(queries({ asked }));
    older = await serve(queries({ positions: false, ownerChain: 'absent' }));
    failing = await serve(queries({ ownerChain: 'throws', logs }));
  });

  afterAll(async () => {
    await full?.close();
    await older?.close();
    await failing?.close();
  });

  it('serves the positions page: the listed ones, then the transfers newest first', async () => {
    const r = await get(`${full.url}/dashboard/positions`);
    expect(r.status).toBe(200);
    expect(r.csp).toContain("default-src 'none'");
    expect([...r.body.matchAll(/<tr data-position="([0-9a-f]+)">/g)].map((m) => m[1])).toEqual(['d2'.repeat(16), 'd3'.repeat(16), 'd4'.repeat(16), 'd1'.repeat(16)]);
    expect(r.body).toContain('<span data-left="48">48 blocks</span>');
    expectInert(r.body);
    expect(asked[0]).toEqual({ state: 'listed', limit: 50, after: undefined });
    expect(asked.slice(1).map((a) => (a as { state: string }).state)).toEqual(['broadcast', 'transferred', 'failed']);
    expect((await get(`${full.url}/dashboard/positions?after=${'x'.repeat(400)}`)).status).toBe(400);
  });

  it('serves a contract page with its owners', async () => {
    const r = await get(`${full.url}/dashboard/contracts/${c2.id}`);
    expect(r.status).toBe(200);
    expect(r.body).toContain('<section class="card" id="owners">');
    expect(r.body).toContain('<dt>Transferred from</dt>');
    expect(r.body.match(/<li data-owner=/g)).toHaveLength(2);
  });

  it('an older coordinator: the positions page and the owners section say so', async () => {
    const r = await get(`${older.url}/dashboard/positions`);
    expect(r.status).toBe(200);
    expect(r.body).toContain('This coordinator does not serve positions');
    const c = await get(`${older.url}/dashboard/contracts/${c1.id}`);
    expect(c.status).toBe(200);
    expect(c.body).toContain('This coordinator does not serve chains of owners.');
  });

  it('a failing owner-chain query is logged and the contract page still answers', async () => {
    const c = await get(`${failing.url}/dashboard/contracts/${c1.id}`);
    expect(c.status).toBe(200);
    expect(c.body).toContain('The coordinator has no chain of owners for this contract.');
    expect(logs).toContain('warn: dashboard: owner chain failed');
  });
});
