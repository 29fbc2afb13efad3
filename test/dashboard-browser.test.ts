/**
 * The web dashboard in headless Chromium (Debian's `chromium`, driven by
 * playwright-core): a real coordinator on 127.0.0.1 (LevelDB in a temp dir,
 * node faked in memory, an in-test oracle serving full events with evidence)
 * with contracts made through the real API — two open offers (one whose
 * oracle event id and delivery address carry HTML), a hashpower sale settled
 * by CET at 6000 bps by the keyless watcher, a funded one, a cancelled one —
 * then the pages as a person sees them: the offer book, the contract page
 * (timeline, transactions, oracle link, payout chart with the attested
 * outcome), the oracle event with its evidence, the contracts filter, error
 * pages, and the chart's screenshot checked for drawn pixels. A strip's
 * timeline (issue 12) is shown from a second, in-test app over
 * `stripQueries` (test/dashboard-fixtures.ts), reached from a period's page.
 *
 * Skips (visibly) only when no Chromium binary is found.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../protocol/messages/index.js';
import type { RunningCoordinator } from '../src/coordinator/index.js';
import { startCoordinatorWithDashboard } from '../src/coordinator/main.js';
import { contractCurve, dashboardRouter, stepAt } from '../src/dashboard/index.js';
import { FakeChain, api, fakeChainCoordinatorConfig, identityOf, saleParties, type SaleParties } from './coordinator-fixtures.js';
import { deliveryEvidence, startEventOracle, stripFixture, stripQueries, type EventOracleServer } from './dashboard-fixtures.js';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].filter((p): p is string => p !== undefined && p !== '');
const browserPath = CANDIDATES.find((p) => existsSync(p));
if (browserPath === undefined) {
  console.warn(`dashboard-browser: SKIPPED, no Chromium found (looked at ${CANDIDATES.join(', ')}); install Debian's chromium (.ci/run does) to run these checks`);
}

const SHOTS = process.env.DASHBOARD_SCREENSHOTS ?? join(tmpdir(), 'hashdlc-dashboard-screens');
const WINDOW = { start: 1000, end: 1100 };
/**
 * The other contracts' window: still ahead once the settled one has been attested
 * (no offer on a started window), each with its own delivery address (one
 * address, one live window: issue 9, holes 3 and 7).
 */
const LATER = { start: 2000, end: 2100 };
const ADDRESS = 'bcrt1qdeliveryaddressfortests';
const SIMDIFF = '140000000';
const XSS_EVENT = 'hashpower-delivery/2000-2100/100ths/<img src=x onerror="window.__xss=1">';
const XSS_ADDRESS = '<script>window.__xss=2</script>';

let dir: string;
let oracle: EventOracleServer;
let chain: FakeChain;
let coord: RunningCoordinator;
let clock = Date.UTC(2025, 5, 1, 12, 0, 0);
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];
const ids: Record<'open' | 'xss' | 'settled' | 'funded' | 'cancelled', string> = { open: '', xss: '', settled: '', funded: '', cancelled: '' };
let settledParties: SaleParties;

function parties(label: string, eventId: string, deliveryAddress = ADDRESS, window = WINDOW): SaleParties {
  const ann = oracle.oracle.announce(eventId, 14, 1_750_000_000);
  oracle.publish(ann, { window, deliveryAddress, hashrateThs: '100', simulatedDifficulty: SIMDIFF, nbDigits: 14 });
  return saleParties({ label, announcement: ann, deliveryAddress, window });
}

async function post(path: string, body: unknown, key: Uint8Array): Promise<Record<string, unknown>> {
  clock += 7_000;
  const r = await api(coord.url, 'POST', path, { body, key, now: clock });
  expect(r.status, `${path}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
  return r.body;
}

async function offer(p: SaleParties): Promise<string> {
  return (await post('/v1/offers', { offer: p.offerHex, identityPubkey: identityOf(p.offerIdentity), terms: p.terms }, p.offerIdentity)).id as string;
}

async function fund(p: SaleParties): Promise<string> {
  const id = await offer(p);
  await post(`/v1/contracts/${id}/accept`, { accept: p.accept().acceptHex, identityPubkey: identityOf(p.acceptIdentity) }, p.acceptIdentity);
  await post(`/v1/contracts/${id}/sign`, { sign: p.sign().signHex, fundingPsbt: p.signedFundingPsbt('offer') }, p.offerIdentity);
  await post(`/v1/contracts/${id}/fund`, { fundingPsbt: p.signedFundingPsbt('accept') }, p.acceptIdentity);
  return id;
}

async function tick(): Promise<void> {
  clock += 60_000;
  await coord.watcher.tick();
}

async function record(id: string): Promise<Record<string, unknown>> {
  return (await api(coord.url, 'GET', `/v1/contracts/${id}`)).body;
}

/**
 * Luminance variance and counts of pixels near the series colours, computed
 * by the browser from the PNG (decoded by an <img>, read back from a canvas).
 * The script is a string: the test's TypeScript has no DOM types.
 */
const PIXEL_STATS = `async (b64) => {
  const img = new Image();
  img.src = 'data:image/png;base64,' + b64;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.width;
  canvas.height = img.height;
  const g = canvas.getContext('2d');
  g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, img.width, img.height).data;
  const near = (i, r, gg, b) => Math.abs(d[i] - r) < 40 && Math.abs(d[i + 1] - gg) < 40 && Math.abs(d[i + 2] - b) < 40;
  let sum = 0, sq = 0, offer = 0, accept = 0, attested = 0;
  const n = d.length / 4;
  for (let i = 0; i < d.length; i += 4) {
    const y = 0.2126 * d[i] + 0.7152 * d[i + 1] + 0.0722 * d[i + 2];
    sum += y;
    sq += y * y;
    if (near(i, 0x25, 0x63, 0xeb)) offer++;
    if (near(i, 0xea, 0x58, 0x0c)) accept++;
    if (near(i, 0xb9, 0x1c, 0x1c)) attested++;
  }
  const mean = sum / n;
  return { width: img.width, height: img.height, variance: sq / n - mean * mean, offer, accept, attested };
}`;

async function pixelStats(png: Buffer): Promise<{ width: number; height: number; variance: number; offer: number; accept: number; attested: number }> {
  const blank = await context.newPage();
  try {
    return await blank.evaluate(`(${PIXEL_STATS})(${JSON.stringify(png.toString('base64'))})`);
  } finally {
    await blank.close();
  }
}

async function open(path: string): Promise<number> {
  const res = await page.goto(`${coord.url}${path}`);
  return res?.status() ?? 0;
}

describe.skipIf(browserPath === undefined)('dashboard in headless Chromium', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hashdlc-dash-'));
    mkdirSync(SHOTS, { recursive: true });
    oracle = await startEventOracle('dashboard-oracle');
    chain = new FakeChain();
    coord = await startCoordinatorWithDashboard(fakeChainCoordinatorConfig(join(dir, 'db'), oracle.url), { chain, now: () => clock, watch: false, log: () => undefined });

    // A settled sale: funded, confirmed, attested at 6000 bps with evidence, CET broadcast by the watcher and confirmed.
    settledParties = parties('dash-settled', 'hashpower-delivery/1000-1100/100ths/simdiff=140000000/settled');
    ids.settled = await fund(settledParties);
    chain.confirmed.set(settledParties.accept().setup.funding.txidHex, chain.height);
    await tick();
    chain.height = 1101;
    oracle.attest(settledParties.eventId, 6000n, deliveryEvidence({ window: WINDOW, deliveryAddress: ADDRESS, hashrateThs: 100n, simulatedDifficulty: SIMDIFF, bps: 6000n }), 1101);
    await tick();
    const cet = await record(ids.settled);
    expect(cet.state).toBe('cet-broadcast');
    chain.height = 1102;
    chain.confirmed.set(cet.closingTxid as string, 1102);
    await tick();
    expect((await record(ids.settled)).state).toBe('settled');

    const funded = parties('dash-funded', 'hashpower-delivery/2000-2100/100ths/simdiff=140000000/funded', `${ADDRESS}funded`, LATER);
    ids.funded = await fund(funded);
    const cancelled = parties('dash-cancelled', 'hashpower-delivery/2000-2100/100ths/simdiff=140000000/cancelled', `${ADDRESS}cancelled`, LATER);
    ids.cancelled = await offer(cancelled);
    await post(`/v1/contracts/${ids.cancelled}/cancel`, {}, cancelled.offerIdentity);
    ids.open = await offer(parties('dash-open', 'hashpower-delivery/2000-2100/100ths/simdiff=140000000/open', `${ADDRESS}open`, LATER));
    ids.xss = await offer(parties('dash-xss', XSS_EVENT, XSS_ADDRESS, LATER));

    context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'hashdlc-chromium-')), {
      executablePath: browserPath!,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
    });
    console.info(`dashboard-browser: screenshots in ${SHOTS}`);
  });

  afterAll(async () => {
    await context?.close();
    await coord?.stop();
    await oracle?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the offer book: open offers only, HTML in their data shown as text, and the recent contracts', async () => {
    expect(await open('/')).toBe(200);
    await page.screenshot({ path: join(SHOTS, 'offer-book.png'), fullPage: true });
    const offerIds = await page.$$eval('table.offers tbody tr', (rows) => rows.map((r) => r.getAttribute('data-id')));
    expect(offerIds.sort()).toEqual([ids.open, ids.xss].sort());
    const row = page.locator(`table.offers tr[data-id="${ids.xss}"]`);
    expect(await row.locator('td').nth(7).getAttribute('title')).toBe(XSS_EVENT);
    expect(await row.innerText()).toContain('100 TH/s');
    expect(await row.innerText()).toContain('450,000 sats');
    // nothing injected ran or became an element
    expect(await page.evaluate('window.__xss')).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
    const recent = await page.$$eval('#recent tbody tr', (rows) => rows.map((r) => r.getAttribute('data-id')));
    expect(recent.sort()).toEqual([ids.settled, ids.funded, ids.cancelled].sort());
    expect(await page.locator(`#recent tr[data-id="${ids.settled}"] .badge`).innerText()).toBe('settled');
  });

  it('shows a settled contract: timeline, transactions, oracle event link and the payout chart with the attested outcome', async () => {
    await open('/');
    await page.click(`#recent tr[data-id="${ids.settled}"] a`);
    await page.waitForSelector('svg.payout-chart');
    expect(page.url()).toBe(`${coord.url}/dashboard/contracts/${ids.settled}`);
    const rec = await record(ids.settled);
    expect(await page.locator('h1').innerText()).toMatch(/Hashpower sale · 100 TH\/s · blocks \[1,000, 1,100\)\s+settled/);
    // the timeline: one entry per stored history step, in order
    const history = (rec.history as { state: string }[]).map((h) => h.state);
    expect(await page.$$eval('#timeline li .badge', (b) => b.map((x) => x.textContent))).toEqual(history);
    expect(history).toEqual(['offered', 'accepted', 'signed', 'funding-broadcast', 'confirmed', 'attested', 'cet-broadcast', 'settled']);
    expect(await page.locator('.stepper li.current').innerText()).toBe('settled');
    // transactions: funding and the CET with their txids, confirmations from the faked tip
    const funding = await page.locator('tr[data-tx="funding"]').innerText();
    expect(funding).toContain(rec.fundingTxid as string);
    expect(funding).toContain(`block ${(rec.fundingHeight as number).toLocaleString('en-US')}`);
    const closing = await page.locator('tr[data-tx="closing"]').innerText();
    expect(closing).toContain(rec.closingTxid as string);
    expect(closing).toContain('CET (settlement)');
    expect(closing).toContain('offerer 384,000 sats, accepter 216,000 sats');
    expect(rec.payouts).toEqual({ offer: '384000', accept: '216000' });
    // the oracle event: linked, attested at 6000
    const link = page.locator('#oracle a');
    expect(await link.innerText()).toBe(settledParties.eventId);
    expect(await page.locator('#oracle').innerText()).toContain('outcome 6000');

    // the chart: both staircases with many vertices, axes labelled, the marker at the payouts the CET paid
    const chart = page.locator('svg.payout-chart');
    const box = await chart.boundingBox();
    expect(box!.width).toBeGreaterThan(500);
    expect(box!.height).toBeGreaterThan(250);
    for (const side of ['offer', 'accept']) {
      const path = page.locator(`path.curve-${side}`);
      expect(Number(await path.getAttribute('data-vertices'))).toBeGreaterThan(50);
      const pbox = await path.boundingBox();
      expect(pbox!.width).toBeGreaterThan(400);
      expect(pbox!.height).toBeGreaterThan(150);
    }
    expect(await chart.locator('.axis-label').allTextContents()).toEqual(['Payout (sats)', 'Outcome (bps)']);
    const marker = chart.locator('g.attested');
    expect(await marker.getAttribute('data-outcome')).toBe('6000');
    expect(await marker.getAttribute('data-offer')).toBe('384000');
    expect(await marker.getAttribute('data-accept')).toBe('216000');
    expect(await page.locator('.attested-line').innerText()).toContain('Attested outcome 6,000 bps');
    // the curve drawn is the contract's: the template's key payouts are steps of it
    const curve = contractCurve(settledParties.template);
    for (const k of curve.keyPayouts) expect(stepAt(curve.steps, k.outcome)?.offer).toBe(k.offerPayout);

    const png = await chart.screenshot({ path: join(SHOTS, 'settled-chart.png') });
    await page.screenshot({ path: join(SHOTS, 'settled-contract.png'), fullPage: true });
    const stats = await pixelStats(png);
    expect(stats.width).toBeGreaterThan(500);
    expect(stats.variance).toBeGreaterThan(100);
    expect(stats.offer).toBeGreaterThan(300);
    expect(stats.accept).toBeGreaterThan(300);
    expect(stats.attested).toBeGreaterThan(50);
  });

  it('shows the oracle event with its evidence, recomputed to the attested outcome', async () => {
    await open(`/dashboard/contracts/${ids.settled}`);
    await page.click('#oracle a');
    await page.waitForSelector('#evidence');
    await page.screenshot({ path: join(SHOTS, 'oracle-event.png'), fullPage: true });
    expect(await page.locator('.sub').innerText()).toBe(settledParties.eventId);
    expect(await page.locator('#evidence-check').innerText()).toContain('The evidence recomputes to outcome 6,000, as attested');
    expect(await page.locator('table.blocks tbody tr').count()).toBe(100);
    const payouts = await page.locator('table.payouts tbody tr').count();
    expect(payouts).toBeGreaterThan(0);
    expect(await page.locator('#event').innerText()).toContain(ADDRESS);
    expect(await page.locator('#attestation').innerText()).toContain('6000');
    // the oracle list links every event
    expect(await open('/dashboard/oracles')).toBe(200);
    expect(await page.locator('table.events tbody tr').count()).toBe(5);
    expect(await page.$$eval('table.events a', (a) => a.map((x) => x.getAttribute('title')))).toContain(XSS_EVENT);
  });

  it('shows an open offer with its curve and no marker, and the offer with HTML in its terms as text', async () => {
    expect(await open(`/dashboard/contracts/${ids.open}`)).toBe(200);
    expect(await page.locator('g.attested').count()).toBe(0);
    expect(Number(await page.locator('path.curve-offer').getAttribute('data-vertices'))).toBeGreaterThan(50);
    expect(await page.locator('#transactions').innerText()).toContain('No transaction yet');
    expect(await page.locator('#oracle').innerText()).toContain('announced');
    expect(await open(`/dashboard/contracts/${ids.xss}`)).toBe(200);
    expect(await page.locator('#terms').innerText()).toContain(XSS_ADDRESS);
    expect(await page.locator('#oracle a').innerText()).toBe(XSS_EVENT);
    expect(await page.evaluate('window.__xss')).toBeUndefined();
    expect(await page.locator('script, img').count()).toBe(0);
  });

  it('filters contracts by state and shows where a cancelled one ended', async () => {
    expect(await open('/dashboard/contracts')).toBe(200);
    expect(await page.locator('table.contracts tbody tr').count()).toBe(5);
    await page.click('.filters a:text-is("confirmed")');
    expect(page.url()).toBe(`${coord.url}/dashboard/contracts?state=confirmed`);
    expect(await page.$$eval('table.contracts tbody tr', (r) => r.map((x) => x.getAttribute('data-id')))).toEqual([]);
    await open('/dashboard/contracts?state=funding-broadcast');
    expect(await page.$$eval('table.contracts tbody tr', (r) => r.map((x) => x.getAttribute('data-id')))).toEqual([ids.funded]);
    await open(`/dashboard/contracts/${ids.cancelled}`);
    expect(await page.locator('#terms').innerText()).toContain('cancelled by the offerer (from offered)');
    expect(await page.locator('.stepper li.current').innerText()).toBe('cancelled');
  });

  it('shows a strip as a timeline of its periods, reached from a period\'s page (no CSP violation)', async () => {
    const { strip } = stripFixture({
      idByte: 'a1', deliveryAddress: XSS_ADDRESS,
      periods: [{ state: 'settled', outcome: 10_000n }, { state: 'settled', outcome: 0n }, { state: 'refunded' }, { state: 'confirmed' }],
    });
    const app = express();
    app.use(dashboardRouter(stripQueries({ strips: [strip] })));
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await page.goto(`${base}/dashboard/contracts/${strip.contracts[2]!.id}`))!.status()).toBe(200);
      expect(await page.locator('#strip').innerText()).toContain('Period 3 of 4 of strip');
      await page.click('#strip a');
      await page.waitForSelector('svg.strip-timeline');
      expect(page.url()).toBe(`${base}/dashboard/strips/${strip.id}`);
      await page.screenshot({ path: join(SHOTS, 'strip.png'), fullPage: true });
      // four bars side by side, equal (equal windows), left to right; period 1 filled (full delivery), period 2 empty
      const bars = await page.$$eval('svg.strip-timeline g.period > rect:first-of-type', (r) => r.map((x) => { const b = x.getBoundingClientRect(); return { x: b.x, w: b.width, h: b.height }; }));
      expect(bars).toHaveLength(4);
      for (let i = 1; i < 4; i++) {
        expect(bars[i]!.x).toBeGreaterThan(bars[i - 1]!.x + bars[i - 1]!.w - 1);
        expect(Math.abs(bars[i]!.w - bars[0]!.w)).toBeLessThan(1);
      }
      const filled = await page.$$eval('svg.strip-timeline rect.delivered', (r) => r.map((x) => x.getBoundingClientRect().height));
      expect(filled[0]).toBeCloseTo(bars[0]!.h, 0);
      expect(filled[1]).toBe(0);
      expect(await page.locator('tr#period-1').innerText()).toContain('100.00 % delivered');
      expect(await page.locator('tr#period-3').innerText()).toContain('refunded');
      expect(await page.locator('[data-total="paid"]').innerText()).toBe('miner 250,000 sats, buyer 250,000 sats');
      expect(await page.locator('#terms').innerText()).toContain(XSS_ADDRESS);
      expect(await page.evaluate('window.__xss')).toBeUndefined();
      // a bar is a link to its period's row
      await page.click('svg.strip-timeline g.period[data-period="3"]');
      expect(page.url()).toBe(`${base}/dashboard/strips/${strip.id}#period-3`);
      expect(pageErrors).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  });

  it('answers errors with HTML pages and serves every page under a strict Content-Security-Policy', async () => {
    // no script error, no blocked resource (CSP) on any page so far
    expect(pageErrors).toEqual([]);
    const res = await page.goto(`${coord.url}/dashboard/contracts/${'00'.repeat(32)}`);
    expect(res!.status()).toBe(404);
    expect(await page.locator('h1').innerText()).toBe('Not found');
    expect(res!.headers()['content-security-policy']).toContain("default-src 'none'");
    expect((await page.goto(`${coord.url}/dashboard/contracts/not-an-id`))!.status()).toBe(400);
    expect((await page.goto(`${coord.url}/dashboard/oracles/7/event?id=x`))!.status()).toBe(404);
    expect((await page.goto(`${coord.url}/dashboard/nothing-here`))!.status()).toBe(404);
    // the JSON API is unaffected
    expect((await api(coord.url, 'GET', '/v1/nothing')).body.error?.code).toBe('NOT_FOUND');
  });

  it('serves the payout curve as JSON: the steps the CETs pay, with the attested outcome', async () => {
    const r = await api(coord.url, 'GET', `/dashboard/api/contracts/${ids.settled}/payout-curve`);
    expect(r.status).toBe(200);
    const curve = contractCurve(settledParties.template);
    expect(r.body).toMatchObject({ template: 'hashpower-sale', unit: 'bps', nbDigits: 14, totalCollateral: '600000', attested: '6000' });
    expect(r.body.steps).toEqual(curve.steps.map((s) => ({ from: String(s.from), to: String(s.to), offer: String(s.offer), accept: String(s.accept) })));
    expect((await api(coord.url, 'GET', `/dashboard/api/contracts/${'11'.repeat(32)}/payout-curve`)).status).toBe(404);
    const svg = await fetch(`${coord.url}/dashboard/api/contracts/${ids.settled}/payout-curve.svg`);
    expect(svg.headers.get('content-type')).toContain('image/svg+xml');
    expect(await svg.text()).toContain('data-outcome="6000"');
    expect(toHex(settledParties.offer.temporaryContractId)).toBe(ids.settled);
  });

  it('still renders a contract when its oracle is down, marking the outcome the contract settled on', async () => {
    await oracle.close();
    expect(await open(`/dashboard/contracts/${ids.settled}`)).toBe(200);
    expect(await page.locator('#oracle').innerText()).toContain('oracle: unreachable');
    expect(await page.locator('g.attested').getAttribute('data-outcome')).toBe('6000');
    expect(await open('/dashboard/oracles')).toBe(200);
    expect(await page.locator('.error').innerText()).toContain('did not answer');
    writeFileSync(join(SHOTS, 'README.txt'), 'Screenshots of the last dashboard-browser test run.\n');
  });
});

if (browserPath === undefined) {
  describe('dashboard in headless Chromium (no browser)', () => {
    it.skip('SKIPPED: no Chromium binary found; apt-get install chromium (see .ci/run)', () => undefined);
  });
}
