/**
 * The dashboard's pure parts, without a server or a browser: HTML escaping,
 * number formatting, axis ticks, the payout curve of real templates (a
 * hashpower sale and a hashprice forward) against protocol/numeric, the SVG
 * chart (axes, both series, the attested marker, the automatic x range,
 * resampling of very many steps, refusal of malformed steps), and the pages
 * rendered from records and oracle answers carrying HTML (shown as text,
 * never as markup).
 */
import { describe, expect, it } from 'vitest';
import type { OracleAnnouncement } from '../protocol/messages/index.js';
import { payoutAt } from '../protocol/numeric/index.js';
import { hashpowerSale, hashpriceForward, type TemplateResult } from '../protocol/templates/index.js';
import { createOffer, type ContractRecord } from '../src/coordinator/lifecycle.js';
import { publicRecord } from '../src/coordinator/privacy.js';
import { contractView } from '../src/coordinator/service.js';
import type { PublicContract } from '../src/api/coordinator.js';
import { summarizeTerms, type OfferTerms } from '../protocol/terms/index.js';
import { autoXMax, chartCaption, contractCurve, curveJson, escapeHtml, html, niceStep, renderPayoutChart, stepAt, ticks, trustedHtml, type PayoutStep } from '../src/dashboard/index.js';
import { formatShortTime, formatTime, groupDigits, shortHex, tickLabel } from '../src/dashboard/format.js';
import { contractPage, contractsPage, offerBookPage, oracleEventPage, scriptText } from '../src/dashboard/pages.js';
import { deliveryEvidence } from './dashboard-fixtures.js';
import { testOracle } from './helpers/dlc-fixture.js';

const oracle = testOracle('dashboard-render');
const WINDOW = { start: 1000, end: 1100 };

function saleTemplate(eventId = 'hashpower-delivery/1000-1100/100ths/render'): TemplateResult {
  return hashpowerSale({
    hashrateThs: 100n, window: WINDOW, deliveryAddress: 'bcrt1qdelivery', upfront: 50_000n, escrow: 400_000n, minerCollateral: 200_000n,
    toleranceBps: 9500, upfrontScript: Uint8Array.from([0x51]), upfrontSerialId: 7n, oracleInfo: { single: { oracleAnnouncement: oracle.announce(eventId, 14) } },
  });
}

/** A hashprice announcement: the fixture oracle announces in bps, so the unit is replaced (templates read, not verify, it). */
function hashpriceAnnouncement(): OracleAnnouncement {
  const ann = oracle.announce('hashprice/1000-1100/render', 20);
  return { ...ann, oracleEvent: { ...ann.oracleEvent, eventDescriptor: { digitDecompositionEvent: { base: 2, isSigned: false, unit: 'sats/PH/day', precision: 0, nbDigits: 20 } } } };
}

function forwardTemplate(): TemplateResult {
  return hashpriceForward({
    hashrateThs: 1000n, strikeSatsPerPhDay: 50_000n, window: { start: 1000, end: 2008 }, minerCollateral: 300_000n, buyerCollateral: 200_000n,
    oracleInfo: { single: { oracleAnnouncement: hashpriceAnnouncement() } },
  });
}

describe('html escaping', () => {
  it.each([
    ['text', html`<p>${'<b>"x" & \'y\'</b>'}</p>`.html, '<p>&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;</p>'],
    ['attribute', html`<a title="${'" onmouseover="alert(1)'}">x</a>`.html, '<a title="&quot; onmouseover=&quot;alert(1)">x</a>'],
    ['nested templates are not escaped twice', html`<ul>${html`<li>${'a<b'}</li>`}</ul>`.html, '<ul><li>a&lt;b</li></ul>'],
    ['arrays are joined, each item escaped', html`${['<i>', html`<b>ok</b>`, 3n]}`.html, '&lt;i&gt;<b>ok</b>3'],
    ['null, undefined and false render nothing; 0 renders', html`${null}${undefined}${false}${0}`.html, '0'],
    ['trusted markup passes as is', html`${trustedHtml('<svg></svg>')}`.html, '<svg></svg>'],
  ])('%s', (_name, got, want) => {
    expect(got).toBe(want);
  });

  it('escapes every character that matters in text and quoted attributes', () => {
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });
});

describe('formatting', () => {
  it.each([
    ['0', '0'],
    ['999', '999'],
    ['1000', '1,000'],
    ['1234567', '1,234,567'],
    ['18446744073709551615', '18,446,744,073,709,551,615'],
    [-1234567n, '-1,234,567'],
    [16383, '16,383'],
    ['1.5', '1.5'],
    ['abc', 'abc'],
  ])('groups %s as %s', (value, want) => {
    expect(groupDigits(value)).toBe(want);
  });

  it.each([
    [0, false, '0'],
    [8000, false, '8,000'],
    [120_000, true, '120k'],
    [1_500_000, true, '1.5M'],
    [2_500_000_000, true, '2.5G'],
    [600, true, '600'],
  ])('labels tick %d (compact %s) as %s', (v, compact, want) => {
    expect(tickLabel(v, compact)).toBe(want);
  });

  it('writes times in UTC and shortens hex in the middle', () => {
    const t = Date.UTC(2025, 5, 1, 12, 0, 3, 456);
    expect(formatTime(t)).toBe('2025-06-01 12:00:03 UTC');
    expect(formatShortTime(t)).toBe('2025-06-01 12:00');
    expect(shortHex('00112233445566778899', 4)).toBe('0011…8899');
    expect(shortHex('0011', 4)).toBe('0011');
  });

  it('gives p2wpkh payout scripts as regtest addresses and other scripts as hex', () => {
    expect(scriptText('0014751e76e8199196d454941c45d1b3a323f1433bd6', 'regtest')).toBe('bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080');
    expect(scriptText('0014751e76e8199196d454941c45d1b3a323f1433bd6', 'mainnet')).toBe('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4');
    expect(scriptText('51', 'regtest')).toBe('51');
  });
});

describe('axis ticks', () => {
  it.each([
    [12_000, 7, 2000],
    [600_000, 5, 200_000],
    [16_383, 6, 5000],
    [12_076, 6, 2500],
    [10, 6, 2],
    [3, 6, 1],
    [0, 6, 1],
  ])('niceStep(%d, %d) = %d', (max, count, want) => {
    expect(niceStep(max, count)).toBe(want);
  });

  it('lists ticks from 0 up to the maximum', () => {
    expect(ticks(12_000, 2000)).toEqual([0, 2000, 4000, 6000, 8000, 10_000, 12_000]);
    expect(ticks(11_999, 2000)).toEqual([0, 2000, 4000, 6000, 8000, 10_000]);
  });
});

describe('contract curves from the templates', () => {
  it.each([
    ['hashpower sale', saleTemplate, 'bps', 14, 'miner (offerer)'],
    ['hashprice forward', forwardTemplate, 'sats/PH/day', 20, 'miner (offerer)'],
  ])('%s: contiguous steps over the whole domain that pay what protocol/numeric pays', (_name, make, unit, nbDigits, offerRole) => {
    const t = make();
    const c = contractCurve(t);
    expect(c).toMatchObject({ unit, nbDigits, base: 2, precision: 0, totalCollateral: t.totalCollateral });
    expect(c.roles.offer).toBe(offerRole);
    expect(c.steps[0]!.from).toBe(0n);
    expect(c.steps[c.steps.length - 1]!.to).toBe((1n << BigInt(nbDigits)) - 1n);
    expect(c.steps.length).toBe(t.cetCount.cets);
    c.steps.forEach((s, i) => {
      if (i > 0) expect(s.from).toBe(c.steps[i - 1]!.to + 1n);
      expect(s.offer + s.accept).toBe(t.totalCollateral);
    });
    const d = t.contractDescriptor.numericOutcomeContractDescriptor;
    for (const k of t.summary.keyPayouts) {
      expect(stepAt(c.steps, k.outcome)!.offer).toBe(k.offerPayout);
      expect(stepAt(c.steps, k.outcome)!.accept).toBe(k.acceptPayout);
    }
    for (const o of [1n, 777n, 9_499n, 12_345n]) expect(stepAt(c.steps, o)!.offer).toBe(payoutAt(d, t.totalCollateral, 2, o));
    const json = curveJson(c, 6000n);
    expect(json.attested).toBe('6000');
    expect((json.steps as unknown[]).length).toBe(c.steps.length);
  });
});

/** Numbers of an SVG path's `d`, as [x, y] pairs. */
function pathPoints(d: string): [number, number][] {
  const nums = d.replace(/[ML]/g, ' ').trim().split(/\s+/).map(Number);
  const out: [number, number][] = [];
  for (let i = 0; i < nums.length; i += 2) out.push([nums[i]!, nums[i + 1]!]);
  return out;
}

function pathOf(svg: string, side: 'offer' | 'accept'): { d: string; vertices: number } {
  const m = new RegExp(`class="curve curve-${side}" data-vertices="(\\d+)" d="([^"]+)"`).exec(svg);
  expect(m, `path of ${side}`).not.toBeNull();
  return { vertices: Number(m![1]), d: m![2]! };
}

describe('renderPayoutChart', () => {
  const sale = contractCurve(saleTemplate());
  const svg = renderPayoutChart(sale.steps, { unit: 'bps', offerLabel: 'miner (offerer)', acceptLabel: 'buyer (accepter)', attested: 6000n });

  it('draws both payouts as staircases inside the plot area, with labelled axes and a legend', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" class="payout-chart"')).toBe(true);
    expect(svg).toContain('>Outcome (bps)</text>');
    expect(svg).toContain('>Payout (sats)</text>');
    expect(svg).toContain('>miner (offerer) payout</text>');
    expect(svg).toContain('>buyer (accepter) payout</text>');
    for (const side of ['offer', 'accept'] as const) {
      const p = pathOf(svg, side);
      const pts = pathPoints(p.d);
      expect(pts.length).toBe(p.vertices);
      // one horizontal and one vertical segment per step up to the axis end
      expect(p.vertices).toBeGreaterThan(90);
      for (const [x, y] of pts) {
        expect(x).toBeGreaterThanOrEqual(84);
        expect(x).toBeLessThanOrEqual(760 - 40 + 0.01);
        expect(y).toBeGreaterThanOrEqual(40);
        expect(y).toBeLessThanOrEqual(380 - 54 + 0.01);
      }
    }
    // the miner's curve starts at 0 (bottom) and ends at the total (top); the buyer's the other way
    const offer = pathPoints(pathOf(svg, 'offer').d);
    const accept = pathPoints(pathOf(svg, 'accept').d);
    expect(offer[0]![1]).toBeCloseTo(326, 0);
    expect(accept[0]![1]).toBeLessThan(60);
    expect(offer[offer.length - 1]![1]).toBeLessThan(60);
  });

  it('stops the x axis a little past the last change and says what lies beyond', () => {
    expect(autoXMax(sale.steps, null)).toBe(12_000n);
    expect(svg).toContain('>12,000</text>');
    expect(svg).not.toContain('>16,383</text>');
    expect(chartCaption(sale.steps, { unit: 'bps' })).toBe('Beyond 12,000 bps the payouts stay 600,000 / 0 sats up to the largest outcome, 16,383 bps.');
    // an attested outcome past that point widens the axis to show it
    expect(autoXMax(sale.steps, 11_500n)).toBe(12_000n);
    expect(autoXMax(sale.steps, 12_000n)).toBe(14_000n);
    expect(autoXMax(sale.steps, 15_000n)).toBe(16_000n);
    expect(autoXMax(sale.steps, 16_383n)).toBe(16_383n);
    expect(chartCaption(sale.steps, { unit: 'bps', attested: 16_383n })).toBeNull();
  });

  it('marks the attested outcome with both payouts', () => {
    expect(svg).toContain('<g class="attested" data-outcome="6000" data-offer="384000" data-accept="216000">');
    expect(svg).toContain('>attested: 6,000 bps</text>');
    expect(svg).toContain('>384,000 sats</text>');
    expect(svg).toContain('>216,000 sats</text>');
    const none = renderPayoutChart(sale.steps, { unit: 'bps' });
    expect(none).not.toContain('class="attested"');
    expect(renderPayoutChart(sale.steps, { unit: 'bps', attested: 6000n, offerLabel: 'miner (offerer)', acceptLabel: 'buyer (accepter)' })).toBe(svg);
  });

  it('draws a forward on its own scale (sats/PH/day, compact labels)', () => {
    const fwd = contractCurve(forwardTemplate());
    const out = renderPayoutChart(fwd.steps, { unit: fwd.unit, attested: 40_000n });
    expect(out).toContain('>Outcome (sats/PH/day)</text>');
    expect(out).toContain('data-outcome="40000"');
    expect(out).toMatch(/>\d+(\.\d)?k<\/text>/);
    expect(pathOf(out, 'offer').vertices).toBeGreaterThan(20);
  });

  it('escapes the unit and the labels', () => {
    const out = renderPayoutChart(sale.steps, { unit: '<script>x</script>', offerLabel: '"><img src=x>', attested: 100n });
    expect(out).not.toContain('<script>');
    expect(out).not.toContain('<img');
    expect(out).toContain('Outcome (&lt;script&gt;x&lt;/script&gt;)');
  });

  it('resamples very many steps to about one per pixel column', () => {
    const steps: PayoutStep[] = [];
    for (let i = 0n; i < 20_000n; i++) steps.push({ from: i, to: i, offer: (i % 7n) * 100n, accept: 600n - (i % 7n) * 100n });
    const out = renderPayoutChart(steps, { unit: 'sats' });
    expect(pathOf(out, 'offer').vertices).toBeLessThanOrEqual(2 * (760 - 84 - 40) + 2);
    expect(out.length).toBeLessThan(200_000);
  });

  it('draws a flat curve over the whole domain', () => {
    const out = renderPayoutChart([{ from: 0n, to: 1023n, offer: 500n, accept: 500n }], { unit: 'bps' });
    expect(pathOf(out, 'offer').vertices).toBe(2);
    expect(chartCaption([{ from: 0n, to: 1023n, offer: 500n, accept: 500n }], { unit: 'bps' })).toBeNull();
  });

  it.each([
    ['no steps', []],
    ['a gap', [{ from: 0n, to: 5n, offer: 1n, accept: 1n }, { from: 7n, to: 9n, offer: 1n, accept: 1n }]],
    ['an overlap', [{ from: 0n, to: 5n, offer: 1n, accept: 1n }, { from: 5n, to: 9n, offer: 1n, accept: 1n }]],
    ['a reversed step', [{ from: 5n, to: 4n, offer: 1n, accept: 1n }]],
    ['a negative payout', [{ from: 0n, to: 5n, offer: -1n, accept: 1n }]],
  ])('refuses %s', (_name, steps) => {
    expect(() => renderPayoutChart(steps as PayoutStep[], { unit: 'bps' })).toThrow(RangeError);
  });
});

// ------------------------------------------------------------------ pages

const EVIL = '<script>alert(1)</script><img src=x onerror=alert(2)>';
const ctx = { network: 'regtest', tip: 1200 };

function evilRecord(): ContractRecord {
  const terms: OfferTerms = {
    template: 'hashpower-sale', hashrateThs: '100', window: WINDOW, deliveryAddress: EVIL, upfront: '50000', escrow: '400000',
    minerCollateral: '200000', toleranceBps: 9500, upfrontScript: '51', upfrontSerialId: '7',
  };
  const rec = createOffer({
    id: 'ab'.repeat(32), terms, summary: summarizeTerms(terms),
    offerer: { identityPubkey: '11'.repeat(32), fundingPubkey: `02${'22'.repeat(32)}`, payoutSpk: '0014751e76e8199196d454941c45d1b3a323f1433bd6' },
    offerCollateral: '200000', acceptCollateral: '400000', totalCollateral: '600000', cets: 51, adaptorSignatures: 428,
    oracles: [{ url: `http://127.0.0.1:1/${EVIL}`, eventId: EVIL, publicKey: '33'.repeat(32) }], cetLocktime: 1100, refundLocktime: 1200,
  }, Date.UTC(2025, 5, 1));
  return { ...rec, history: [...rec.history, { state: 'offered', at: Date.UTC(2025, 5, 1, 1), note: EVIL }] };
}

/** A record as the coordinator serves it (service.ts `contractView`: oracles with what they attested). */
function view(rec: ContractRecord): PublicContract {
  return contractView(rec) as unknown as PublicContract;
}

function expectInert(page: string): void {
  expect(page).not.toContain('<script');
  expect(page).not.toContain('<img');
  // no event-handler attribute in any tag (quoted attribute values removed first: escaping leaves no raw quote in them)
  expect(page.replace(/"[^"]*"/g, '""')).not.toMatch(/<[^>]+\son\w+=/);
  expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;');
}

describe('pages show outside data as text', () => {
  const rec = view(evilRecord());
  const curve = contractCurve(saleTemplate(EVIL));

  it('the offer book, the contracts list and a contract page', () => {
    expectInert(offerBookPage({ offers: [rec], next: EVIL, recent: [] }, ctx));
    expectInert(contractsPage({ records: [rec], state: null, next: null }, { ...ctx, network: EVIL }));
    const page = contractPage({
      rec, curve, curveError: null, attested: 6000n, attestedSource: 'oracle',
      oracles: [{ eventId: EVIL, url: EVIL, publicKey: '33'.repeat(32), attested: true, outcome: EVIL, agreed: false, index: 0, event: { ok: false, status: 500, error: EVIL } }],
    }, ctx);
    expectInert(page);
    // the event link's id is URL-encoded, the chart is there with its marker
    expect(page).toContain(`href="/dashboard/oracles/0/event?id=${encodeURIComponent(EVIL).replace(/'/g, '&#39;')}"`);
    expect(page).toContain('data-outcome="6000"');
    expect(page).toContain('bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080');
    expect(page).toContain('(from the oracle; not settled yet)');
  });

  it('a contract past offered shows only its public summary (coordinator/privacy.ts): no accepter keys, no close proposal, no messages link', () => {
    const ACCEPTER = '44'.repeat(32);
    const accepted = {
      ...rec, state: 'accepted', contractId: '66'.repeat(32), fundingTxid: '77'.repeat(32),
      accepter: { identityPubkey: ACCEPTER, fundingPubkey: `03${'55'.repeat(32)}`, payoutSpk: '0014751e76e8199196d454941c45d1b3a323f1433bd6' },
      fundingPsbt: 'cHNidP8BAAo=', closeProposal: { offerPayout: '1', acceptPayout: '2', psbt: 'x', offerSignature: null, acceptSignature: null, proposedAt: 0 },
    } as unknown as ContractRecord;
    const full = contractPage({ rec: view(accepted), curve, curveError: null, attested: null, attestedSource: null, oracles: [] }, ctx);
    expect(full).toContain(ACCEPTER);
    const page = contractPage({ rec: view(publicRecord(accepted)), curve, curveError: null, attested: null, attestedSource: null, oracles: [] }, ctx);
    expect(page).not.toContain(ACCEPTER);
    expect(page).not.toContain('55'.repeat(32));
    expect(page).not.toContain('Close proposed');
    expect(page).not.toContain('/messages');
    expect(page).toContain('Shown only to the parties');
  });

  it('a contract on a 2-of-3 oracle set: one row per oracle, agreement shown, a dissenting oracle flagged', () => {
    const urls = ['http://127.0.0.1:7001', 'http://127.0.0.1:7002', `http://127.0.0.1:7003/${EVIL}`];
    const base = evilRecord();
    const settled = view({
      ...base, state: 'settled', closingKind: 'cet', closingTxid: '88'.repeat(32), outcome: '9600', broadcastBy: 'coordinator', payouts: { offer: '600000', accept: '0' },
      oracles: urls.map((url, i) => ({ url, publicKey: String(i + 1).repeat(64), eventId: EVIL })),
      oracleThreshold: 2,
      oracleOutcomes: [{ outcome: '9600', agreed: true }, { outcome: '9600', agreed: true }, { outcome: EVIL, agreed: false }],
    } as unknown as ContractRecord);
    const oracles = settled.oracles.map((o, i) => ({ ...o, index: i, event: { ok: true as const, value: { eventId: o.eventId, state: 'attested', attested: { outcome: o.outcome ?? '' } } } }));
    const page = contractPage({ rec: settled, curve, curveError: null, attested: 9600n, attestedSource: 'contract', oracles }, ctx);
    expectInert(page);
    expect(page).toContain('<h2>Oracles: 2 of 3</h2>');
    expect(page).toContain('Any 2 of these 3 oracles attesting one outcome settle the contract');
    expect((page.match(/data-agreed="true">agreed</g) ?? []).length).toBe(2);
    // the dissenter's row is marked, its badge says DISSENT, and the section warns above the table
    const dissentRow = /<tr class="dissent" data-oracle="([^"]*)">(.*?)<\/tr>/s.exec(page);
    expect(dissentRow?.[1]).toBe(escapeHtml(urls[2]!));
    expect(dissentRow?.[2]).toContain('<span class="badge failed" data-agreed="false">DISSENT</span>');
    expect(page).toContain('1 oracle attested another outcome than the ones that settled');
    // the contracts list says "2 of 3" and flags the dissent too
    const list = contractsPage({ records: [settled], state: null, next: null }, ctx);
    expect(list).toContain('2 of 3 <span class="badge failed" data-dissent="1">1 dissent</span>');
    expect(offerBookPage({ offers: [view({ ...base, oracles: settled.oracles, oracleThreshold: 2 } as unknown as ContractRecord)], next: null, recent: [] }, ctx)).toContain('(2 of 3)');
  });

  it('an oracle set before settlement: attested or not, every agreement pending; one silent after settlement "did not attest"', () => {
    const base = evilRecord();
    const oracleRefs = ['http://127.0.0.1:7001', 'http://127.0.0.1:7002'].map((url, i) => ({ url, publicKey: String(i + 1).repeat(64), eventId: 'e' }));
    const waiting = view({ ...base, state: 'confirmed', oracles: oracleRefs, oracleThreshold: 2, oracleOutcomes: [{ outcome: '100', agreed: null }, { outcome: null, agreed: null }] } as unknown as ContractRecord);
    const rows = (rec: PublicContract) => rec.oracles.map((o, i) => ({ ...o, index: i, event: null }));
    const before = contractPage({ rec: waiting, curve, curveError: null, attested: null, attestedSource: null, oracles: rows(waiting) }, ctx);
    expect((before.match(/data-agreed="pending">pending</g) ?? []).length).toBe(2);
    expect(before).toContain('outcome <strong>100</strong>');
    expect(before).toContain('<span class="note">not attested</span>');
    expect(before).not.toContain('DISSENT');
    const settled = view({
      ...base, state: 'settled', closingKind: 'cet', closingTxid: '88'.repeat(32), outcome: '100', broadcastBy: 'coordinator',
      oracles: [...oracleRefs, { ...oracleRefs[0]!, url: 'http://127.0.0.1:7003', publicKey: '33'.repeat(32) }], oracleThreshold: 2,
      oracleOutcomes: [{ outcome: '100', agreed: true }, { outcome: '100', agreed: true }, { outcome: null, agreed: null }],
    } as unknown as ContractRecord);
    const after = contractPage({ rec: settled, curve, curveError: null, attested: 100n, attestedSource: 'contract', oracles: rows(settled) }, ctx);
    expect(after).toContain('data-agreed="pending">did not attest<');
  });

  it('a single-oracle record from before oracle sets: its oracle agreed when the coordinator completed the CET from it', () => {
    const old = view({ ...evilRecord(), state: 'settled', closingKind: 'cet', closingTxid: '88'.repeat(32), outcome: '9600', broadcastBy: 'coordinator' } as unknown as ContractRecord);
    expect(old.oracles).toEqual([{ url: `http://127.0.0.1:1/${EVIL}`, publicKey: '33'.repeat(32), eventId: EVIL, attested: true, outcome: '9600', agreed: true }]);
    expect(old.oracleThreshold).toBe(1);
    const byParty = view({ ...evilRecord(), state: 'settled', closingKind: 'cet', closingTxid: '88'.repeat(32), outcome: null, broadcastBy: 'other' } as unknown as ContractRecord);
    expect(byParty.oracles[0]).toMatchObject({ attested: false, outcome: null, agreed: null });
  });

  it('an oracle event page with its evidence', () => {
    const built = deliveryEvidence({ window: WINDOW, deliveryAddress: 'bcrt1qdelivery', hashrateThs: 100n, simulatedDifficulty: '140000000', bps: 6000n });
    expect(built.result.outcome).toBe('6000');
    const page = oracleEventPage({
      index: 0, url: 'http://127.0.0.1:9', eventId: EVIL, maxRows: 10,
      event: { ok: true, value: { eventId: EVIL, kind: 'hashpower-delivery', state: 'attested', rules: [EVIL], params: { deliveryAddress: EVIL, window: WINDOW }, attested: { outcome: '6000', height: 1101 } } },
      attestation: {
        ok: true,
        value: {
          eventId: EVIL, outcome: '6000', hex: 'fdd868', attestedAtHeight: 1101, result: null, evidence: built.evidence, evidenceError: null,
          recomputed: { outcome: 6000n, capped: false, noNetworkReward: false, networkReward: 7_812_500_000n, countedReward: 7_812_500_000n, rewardRule: 'subsidy+fees-capped-4x-median-v1', feeCap: 0n, poolRewards: 1n }, recomputeError: null, expectedSats: 779_000_000n,
        },
      },
    }, ctx);
    expectInert(page);
    expect(page).toContain('The evidence recomputes to outcome 6,000, as attested.');
    expect(page).toMatch(/<dt>Reward rule<\/dt><dd><span class="mono">subsidy\+fees-capped-4x-median-v1<\/span>: [^<]*counted \(fees per block capped at /);
    expect((page.match(/<tr><td class="num">1,0\d\d<\/td><td class="mono nowrap"/g) ?? []).length).toBe(10);
    expect(page).toContain('90 more not shown');
  });

  it('says when the evidence recomputes to another outcome than the one attested', () => {
    const built = deliveryEvidence({ window: WINDOW, deliveryAddress: 'bcrt1qdelivery', hashrateThs: 100n, simulatedDifficulty: '140000000', bps: 5000n });
    const page = oracleEventPage({
      index: 0, url: 'http://127.0.0.1:9', eventId: 'e', maxRows: 500,
      event: { ok: true, value: { eventId: 'e' } },
      attestation: { ok: true, value: { eventId: 'e', outcome: '6000', hex: null, attestedAtHeight: null, result: null, evidence: built.evidence, evidenceError: null, recomputed: { outcome: 5000n, capped: false, noNetworkReward: false, networkReward: 1n, countedReward: 1n, rewardRule: 'subsidy+fees-capped-4x-median-v1', feeCap: 0n, poolRewards: 1n }, recomputeError: null, expectedSats: null } },
    }, ctx);
    expect(page).toContain('✗ The evidence recomputes to outcome 5,000, the oracle attested 6000.');
  });
});

// Issue 16: a sale paid by a luck-based pool carries the pool's share in its terms; the contract
// page shows the pool blocks expected and the chance that full delivery measures under the
// tolerance (a buyer or seller signing a window too short for the pool sees it), alerting over 5%.
describe('pool luck on the contract page (issue 16)', () => {
  const curve = contractCurve(saleTemplate());
  const base = view(evilRecord());
  const sale = { ...base.terms, deliveryAddress: 'bcrt1qdelivery' };

  it('terms with a pool share and a luck-based scheme: expected pool blocks, the chance, an alert over 5%', () => {
    // 100 blocks at 10%: λ = 10, under 95% at 9 pool blocks or fewer: 45.8%.
    const rec = { ...base, terms: { ...sale, poolShareBps: 1000, payoutScheme: 'per-block-coinbase' } };
    const page = contractPage({ rec, curve, curveError: null, attested: null, attestedSource: null, oracles: [] }, ctx);
    expect(page).toContain('id="pool-luck"');
    expect(page).toContain('The pool holds 10.00% of the network (per-block-coinbase)');
    expect(page).toMatch(/<td>\[1,000, 1,100\)<\/td><td class="num">10<\/td><td class="num">45\.8%<\/td>/);
    expect(page).toMatch(/role="alert">Over 5\.0%: in this window luck alone may pay the miner less than it delivered/);
  });

  it('under 5%: the risk without an alert (100 blocks of a whole network at a 50% tolerance); no share or a periodic-payout pool: no section', () => {
    const safe = contractPage({ rec: { ...base, terms: { ...sale, poolShareBps: 10_000, toleranceBps: 5000 } }, curve, curveError: null, attested: null, attestedSource: null, oracles: [] }, ctx);
    // λ = 100, under 50% at 49 pool blocks or fewer: 1.18e-8.
    expect(safe).toMatch(/<td class="num">100<\/td><td class="num">0\.0000012%<\/td>/);
    expect(safe).not.toContain('role="alert">Over');
    for (const terms of [sale, { ...sale, poolShareBps: 1000, payoutScheme: 'periodic-payout' }]) {
      expect(contractPage({ rec: { ...base, terms }, curve, curveError: null, attested: null, attestedSource: null, oracles: [] }, ctx)).not.toContain('pool-luck');
    }
  });
});
