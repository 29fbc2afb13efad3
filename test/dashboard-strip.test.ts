/**
 * The dashboard's strips (issue 12): a 4-period hashpower-sale strip with
 * period 1 settled at full delivery, period 2 settled at none, period 3
 * refunded and period 4 live, as `CoordinatorQueries.strip` answers it
 * (test/dashboard-fixtures.ts `stripFixture`). The strip page's timeline shows
 * each period's window, state, outcome, payouts and closing transaction and
 * the totals; outside text in the terms is shown as text; a period's contract
 * page and the offer book point at the strip; the router serves the page over
 * real HTTP on 127.0.0.1, answers any period's id, 404s an unknown strip, and
 * without `strip` on the queries (an older coordinator) every page still works
 * with periods shown as contracts.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CoordinatorQueries } from '../src/api/coordinator.js';
import { dashboardRouter, renderStripTimeline, stripPage, summarizeStrip, outcomeText } from '../src/dashboard/index.js';
import { contractPage, offerBookPage } from '../src/dashboard/pages.js';
import { stripFixture, stripQueries } from './dashboard-fixtures.js';

const EVIL = '<script>alert(1)</script><img src=x onerror=alert(2)>';
const ctx = { network: 'regtest', tip: 1350, strips: true };

/** The strip of the module header (ids a1…, window [1000, 1400): periods of 100 blocks, 150,000 sats each). */
const mixed = stripFixture({
  idByte: 'a1', deliveryAddress: EVIL,
  periods: [{ state: 'settled', outcome: 10_000n }, { state: 'settled', outcome: 0n }, { state: 'refunded' }, { state: 'confirmed' }],
});
/** A strip still on the book (ids b2…, window [2000, 2400)). */
const open = stripFixture({ idByte: 'b2', window: { start: 2000, end: 2400 }, periods: [{ state: 'offered' }, { state: 'offered' }, { state: 'offered' }, { state: 'offered' }] });

function expectInert(page: string): void {
  expect(page).not.toContain('<script');
  expect(page).not.toContain('<img');
  expect(page.replace(/"[^"]*"/g, '""')).not.toMatch(/<[^>]+\son\w+=/);
}

/** The `<tr>` of period `n` (1-based) of a strip page. */
function periodRow(page: string, n: number): string {
  const m = new RegExp(`<tr id="period-${n}"[^>]*>(.*?)</tr>`, 's').exec(page);
  expect(m, `row of period ${n}`).not.toBeNull();
  return m![1]!;
}

describe('strip summary', () => {
  it('gives each period its outcome and payouts, and the totals paid to each side', () => {
    const d = summarizeStrip(mixed.strip);
    expect(d.rows.map((r) => [r.contract.state, r.window, r.outcome, r.payouts])).toEqual([
      ['settled', { start: 1000, end: 1100 }, 10_000n, { miner: 150_000n, buyer: 0n }],
      ['settled', { start: 1100, end: 1200 }, 0n, { miner: 0n, buyer: 150_000n }],
      ['refunded', { start: 1200, end: 1300 }, null, { miner: 50_000n, buyer: 100_000n }],
      ['confirmed', { start: 1300, end: 1400 }, null, null],
    ]);
    expect(d.window).toEqual({ start: 1000, end: 1400 });
    // the upfront 50,000 went to the miner in the funding transaction, then periods 1 to 3 paid out
    expect(d).toMatchObject({ upfront: 50_000n, funded: true, paid: { miner: 250_000n, buyer: 250_000n }, inFlight: { miner: 0n, buyer: 0n }, locked: 150_000n, left: 1, ended: 3 });
  });

  it('counts nothing paid before funding, and a broadcast CET as in flight until it confirms', () => {
    expect(summarizeStrip(open.strip)).toMatchObject({ funded: false, paid: { miner: 0n, buyer: 0n }, locked: 0n, left: 4, ended: 0 });
    const s = stripFixture({ idByte: 'c3', periods: [{ state: 'settled', outcome: 4750n }, { state: 'confirmed' }] }).strip;
    const first = s.contracts[0]!;
    const broadcast = { ...s, contracts: [{ ...first, state: 'cet-broadcast' as const, closingHeight: undefined }, s.contracts[1]!] } as typeof s;
    // 4,750 bps is half the tolerance: half of the period's 300,000 sats each
    expect(summarizeStrip(broadcast)).toMatchObject({ paid: { miner: 50_000n, buyer: 0n }, inFlight: { miner: 150_000n, buyer: 150_000n }, locked: 600_000n, left: 2 });
    const page = stripPage(broadcast, ctx);
    expect(page).toContain('<dt>Closing, not confirmed yet</dt><dd data-total="in-flight">miner <strong>150,000 sats</strong>, buyer <strong>150,000 sats</strong></dd>');
    expect(periodRow(page, 1)).toContain('<span class="note">unconfirmed</span>');
  });

  it('shows a delivery ratio as a percentage with its bps, a hashprice in its unit', () => {
    expect(outcomeText('hashpower-sale', 9_605n)).toBe('96.05 % delivered (9,605 bps)');
    expect(outcomeText('hashpower-sale', 16_383n)).toBe('163.83 % delivered (16,383 bps)');
    expect(outcomeText('hashprice-forward', 52_000n)).toBe('52,000 sats/PH/day');
  });
});

describe('strip page', () => {
  const page = stripPage(mixed.strip, ctx);

  it('shows the timeline: one bar per period placed by its blocks, delivery as filled height, the tip', () => {
    const svg = renderStripTimeline(summarizeStrip(mixed.strip), 'hashpower-sale', 1350);
    expect([...svg.matchAll(/<g class="period" data-period="(\d)" data-state="([a-z-]+)">/g)].map((m) => [m[1], m[2]])).toEqual([
      ['1', 'settled'], ['2', 'settled'], ['3', 'refunded'], ['4', 'confirmed'],
    ]);
    // four equal windows over 936 px: each bar starts a quarter further
    const xs = [...svg.matchAll(/<rect x="([\d.]+)" y="26" width="([\d.]+)" height="56"/g)].map((m) => Number(m[1]));
    expect(xs).toEqual([12, 246, 480, 714]);
    // full delivery fills period 1's bar, none leaves period 2's empty; periods 3 and 4 have no outcome
    expect([...svg.matchAll(/<rect class="delivered"[^>]* height="([\d.]+)"/g)].map((m) => m[1])).toEqual(['56.0', '0.0']);
    expect(svg).toContain('<g class="tip" data-tip="1350">');
    expect(svg).toContain('<title>Period 1: blocks [1,000, 1,100), settled, 100.00 % delivered (10,000 bps)</title>');
    expect(page).toContain(svg);
  });

  it('shows each period\'s state, outcome, payouts and closing transaction', () => {
    const [id1, id2, id3, id4] = mixed.strip.contracts.map((c) => c.id) as [string, string, string, string];
    const p1 = periodRow(page, 1);
    expect(p1).toContain('1 of 4');
    expect(p1).toContain(`href="/dashboard/contracts/${id1}"`);
    expect(p1).toContain('[1,000, 1,100)');
    expect(p1).toContain('data-state="settled"');
    expect(p1).toContain('100.00 % delivered (10,000 bps)');
    expect(p1).toMatch(/data-payout="miner">150,000 sats</);
    expect(p1).toMatch(/data-payout="buyer">0 sats</);
    expect(p1).toContain(`CET <a class="mono nowrap" href="/dashboard/contracts/${id1}#transactions" title="${'a1c1'.repeat(16)}">`);
    const p2 = periodRow(page, 2);
    expect(p2).toContain('0.00 % delivered (0 bps)');
    expect(p2).toMatch(/data-payout="miner">0 sats</);
    expect(p2).toMatch(/data-payout="buyer">150,000 sats</);
    expect(p2).toContain(`href="/dashboard/contracts/${id2}#transactions"`);
    const p3 = periodRow(page, 3);
    expect(p3).toContain('data-state="refunded"');
    expect(p3).toContain('none (oracle silent: refunded)');
    expect(p3).toMatch(/data-payout="miner">50,000 sats</);
    expect(p3).toMatch(/data-payout="buyer">100,000 sats</);
    expect(p3).toContain(`refund <a class="mono nowrap" href="/dashboard/contracts/${id3}#transactions"`);
    const p4 = periodRow(page, 4);
    expect(p4).toContain('data-state="confirmed"');
    expect(p4).toContain(`href="/dashboard/contracts/${id4}"`);
    expect(p4).not.toContain('#transactions');
    expect(p4).toMatch(/data-payout="miner">—</);
  });

  it('shows the totals, the whole terms and the mixed state', () => {
    expect(page).toContain('<dd data-total="paid">miner <strong>250,000 sats</strong>, buyer <strong>250,000 sats</strong></dd>');
    expect(page).toContain('50,000 sats</dd>'.replace('</dd>', ' to the miner in the funding transaction</dd>'));
    expect(page).toContain('<dd data-total="locked">150,000 sats</dd>');
    expect(page).toContain('<dd data-total="periods"><strong>1</strong> left, 3 over, of 4</dd>');
    expect(page).not.toContain('data-total="in-flight"');
    expect(page).toContain('<dt>Blocks</dt><dd>[1,000, 1,400) in 4 periods</dd>');
    expect(page).toContain('<dt>Escrow</dt><dd>400,000 sats <span class="note">split over the periods by blocks</span></dd>');
    expect(page).toContain('data-state="mixed">mixed</span>');
    expect(page).toContain(`href="/v1/strips/${mixed.strip.id}"`);
  });

  it('shows HTML in the terms as text', () => {
    expectInert(page);
    expect(page).toContain('<dt>Delivery address</dt><dd class="mono">&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;</dd>');
  });

  it('says so when the coordinator answers fewer contracts than the strip has periods', () => {
    const short = stripPage({ ...mixed.strip, contracts: mixed.strip.contracts.slice(0, 3) }, ctx);
    expect(short).toContain("The coordinator answered 3 of the strip's 4 periods.");
    expect(short).toContain('<dd data-total="periods"><strong>1</strong> left, 3 over, of 4</dd>');
  });
});

describe('a period and the offer book point at the strip', () => {
  const period3 = mixed.strip.contracts[2]!;
  const contract = (strips: boolean): string => contractPage({ rec: period3, curve: null, curveError: 'no stored offer', attested: null, attestedSource: null, oracles: [] }, { ...ctx, strips });

  it('a period\'s contract page says "period i of N of strip" and links to the strip page', () => {
    const page = contract(true);
    expect(page).toMatch(new RegExp(`Period 3 of 4 of strip <a class="strip-place nowrap" href="/dashboard/strips/${mixed.strip.id}" data-strip="${mixed.strip.id}" data-period="3"`));
  });

  it('without strip pages (an older coordinator) it links to the strip\'s first period', () => {
    const page = contract(false);
    expect(page).toContain('Period 3 of 4 of strip');
    expect(page).toContain(`href="/dashboard/contracts/${mixed.strip.id}" data-strip=`);
    expect(page).not.toContain('/dashboard/strips/');
  });

  it('the offer book lists a strip once, with its period count and whole terms', () => {
    const page = offerBookPage({ offers: [open.strip.contracts[0]!], next: null, recent: [], strips: new Map([[open.strip.id, open.strip]]) }, ctx);
    const rows = [...page.matchAll(/<tr data-id="([0-9a-f]+)"([^>]*)>(.*?)<\/tr>/gs)];
    expect(rows.map((r) => r[1])).toEqual([open.strip.id]);
    const row = rows[0]![3]!;
    expect(rows[0]![2]).toContain('data-periods="4"');
    expect(row).toContain(`<a class="strip-place nowrap" href="/dashboard/strips/${open.strip.id}"`);
    expect(row).toContain('>4 periods</a>');
    // the whole strip's window, price (upfront + escrow), collaterals and CETs, not period 1's
    expect(row).toContain('[2,000, 2,400)');
    expect(row).toContain('450,000 sats');
    expect(row).toContain('200,000 / 400,000');
    expect(row).toContain('<td class="num">84</td>');
    expect(row).not.toContain('[2,000, 2,100)');
  });
});

// ------------------------------------------------------------------ over HTTP

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

describe('the router serves strips over HTTP', () => {
  let withStrips: { url: string; close: () => Promise<void> };
  let older: { url: string; close: () => Promise<void> };
  const logs: string[] = [];

  beforeAll(async () => {
    withStrips = await serve(stripQueries({ strips: [mixed.strip, open.strip], logs }));
    older = await serve(stripQueries({ strips: [mixed.strip, open.strip], withStrip: false, logs }));
  });

  afterAll(async () => {
    await withStrips?.close();
    await older?.close();
  });

  it('serves the strip page by the strip id and by any period\'s id', async () => {
    const byStrip = await get(`${withStrips.url}/dashboard/strips/${mixed.strip.id}`);
    expect(byStrip.status).toBe(200);
    expect(byStrip.csp).toContain("default-src 'none'");
    expect(byStrip.body).toContain('<dd data-total="periods"><strong>1</strong> left, 3 over, of 4</dd>');
    expect(byStrip.body).toContain('<g class="tip" data-tip="1350">');
    expectInert(byStrip.body);
    const byPeriod = await get(`${withStrips.url}/dashboard/strips/${mixed.strip.contracts[2]!.id.toUpperCase()}`);
    expect(byPeriod.status).toBe(200);
    expect(byPeriod.body).toContain(`Strip <span class="mono">${mixed.strip.id}</span>`);
  });

  it('404s an unknown strip and a contract that is no strip, 400s a malformed id', async () => {
    const unknown = await get(`${withStrips.url}/dashboard/strips/${'00'.repeat(32)}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toContain('<h1>Not found</h1>');
    expect(unknown.body).toContain(`no strip ${'00'.repeat(32)}`);
    expect((await get(`${withStrips.url}/dashboard/strips/not-an-id`)).status).toBe(400);
  });

  it('lists a strip once on the offer book, and a period\'s contract page links to the strip', async () => {
    const book = await get(`${withStrips.url}/`);
    expect(book.status).toBe(200);
    expect([...book.body.matchAll(/<tr data-id="([0-9a-f]+)" data-strip=/g)].map((m) => m[1])).toEqual([open.strip.id]);
    expect(book.body).toContain('>4 periods</a>');
    // the recent contracts show the periods of the funded strip, each with its place
    expect(book.body).toContain(`href="/dashboard/strips/${mixed.strip.id}" data-strip="${mixed.strip.id}" data-period="2" title="strip ${mixed.strip.id}">period 2/4</a>`);
    const contract = await get(`${withStrips.url}/dashboard/contracts/${mixed.strip.contracts[3]!.id}`);
    expect(contract.status).toBe(200);
    expect(contract.body).toContain('Period 4 of 4 of strip');
    expect(contract.body).toContain(`href="/dashboard/strips/${mixed.strip.id}"`);
  });

  it('without strip queries (an older coordinator) shows periods as contracts and has no strip page', async () => {
    const strip = await get(`${older.url}/dashboard/strips/${mixed.strip.id}`);
    expect(strip.status).toBe(404);
    expect(strip.body).toContain('this coordinator does not serve strips');
    const book = await get(`${older.url}/`);
    expect(book.status).toBe(200);
    expect(book.body).toContain(`<tr data-id="${open.strip.id}">`);
    expect(book.body).toContain('>period 1 of 4</a>');
    expect(book.body).not.toContain('/dashboard/strips/');
    const contract = await get(`${older.url}/dashboard/contracts/${mixed.strip.contracts[1]!.id}`);
    expect(contract.status).toBe(200);
    expect(contract.body).toContain(`Period 2 of 4 of strip <a class="strip-place nowrap" href="/dashboard/contracts/${mixed.strip.id}"`);
    const list = await get(`${older.url}/dashboard/contracts?state=settled`);
    expect([...list.body.matchAll(/<tr data-id="([0-9a-f]+)">/g)].map((m) => m[1])).toEqual(mixed.strip.contracts.slice(0, 2).map((c) => c.id));
  });
});

// Issue 16: each period of a strip is measured on its own, so a strip over a luck-based pool
// shows the risk period by period (shorter windows, larger risk than the whole window's).
describe('strip page: pool luck per period (issue 16)', () => {
  it('the strip terms with a pool share: one row per period, each period\'s window, the alert naming how many', () => {
    // open: [2000, 2400) in 4 periods of 100 blocks; 30% of the network: λ = 30 each, under 95% at 28 or fewer: 40.3%.
    const page = stripPage({ ...open.strip, terms: { ...open.strip.terms, poolShareBps: 3000, payoutScheme: 'per-block-payout' } }, ctx);
    expect(page).toContain('id="pool-luck"');
    expect(page.match(/<tr class="luck-high"><td>period \d /g)).toHaveLength(4);
    expect(page).toMatch(/<td>period 4 \[2,300, 2,400\)<\/td><td class="num">30<\/td><td class="num">40\.3%<\/td>/);
    expect(page).toContain('in 4 of 4 periods luck alone may pay the miner less than it delivered');
  });
});
