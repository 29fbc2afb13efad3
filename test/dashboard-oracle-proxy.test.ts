/**
 * The dashboard's server-side oracle access (src/dashboard/oracle-proxy.ts)
 * against a small HTTP server on 127.0.0.1: events and attestations parsed,
 * "not attested" as null, the evidence recomputed (and a doctored one
 * refused by name), and every failure — timeout, unreachable, error status,
 * non-JSON, oversized answer, wrong shape, unknown oracle index — returned
 * as a message for the page, never thrown.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OracleProxy } from '../src/dashboard/index.js';
import { deliveryEvidence } from './dashboard-fixtures.js';

const WINDOW = { start: 1000, end: 1100 };
const built = deliveryEvidence({ window: WINDOW, deliveryAddress: 'bcrt1qdelivery', hashrateThs: 100n, simulatedDifficulty: '140000000', bps: 6000n });
const doctored = structuredClone(built.json) as { payouts: { address: string }[] };
doctored.payouts[0]!.address = 'bcrt1qsomeoneelse';
// The same evidence under the capped reward rule, without and with a 1,000 BTC self-paid fee in block 1050.
const ruled = { ...structuredClone(built.json), rewardRule: 'subsidy+fees-capped-4x-median-v1', subsidyHalvingInterval: 150 };
const ruledWithFee = structuredClone(ruled) as unknown as { blocks: { height: number; reward: string }[] };
const feeBlock = ruledWithFee.blocks.find((b) => b.height === 1050)!;
feeBlock.reward = String(BigInt(feeBlock.reward) + 100_000_000_000n);

const routes: Record<string, (res: import('node:http').ServerResponse) => void> = {
  '/v1/events': (res) => json(res, 200, { events: [{ eventId: 'a', kind: 'hashpower-delivery', state: 'announced', params: { window: WINDOW } }], next: null }),
  '/v1/events/good': (res) => json(res, 200, { eventId: 'good', kind: 'hashpower-delivery', state: 'attested', attested: { height: 1101, outcome: '6000' }, rules: ['r'] }),
  '/v1/events/good/attestation': (res) => json(res, 200, { eventId: 'good', outcome: '6000', hex: 'fdd868', result: built.result, evidence: built.json, attestedAtHeight: 1101 }),
  '/v1/events/ruled/attestation': (res) => json(res, 200, { eventId: 'ruled', outcome: '0', evidence: ruled }),
  '/v1/events/ruled-fee/attestation': (res) => json(res, 200, { eventId: 'ruled-fee', outcome: '0', evidence: ruledWithFee }),
  '/v1/events/pending/attestation': (res) => json(res, 404, { error: { code: 'NOT_ATTESTED', message: 'not yet', attestHeight: 1100 } }),
  '/v1/events/doctored/attestation': (res) => json(res, 200, { eventId: 'doctored', outcome: '6000', evidence: doctored }),
  '/v1/events/no-evidence/attestation': (res) => json(res, 200, { eventId: 'no-evidence', outcome: '6000' }),
  '/v1/events/slow': () => undefined, // never answers
  '/v1/events/broken': (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"eventId": ');
  },
  '/v1/events/shape': (res) => json(res, 200, { id: 'no eventId field' }),
  '/v1/events/huge': (res) => json(res, 200, { eventId: 'huge', rules: ['x'.repeat(300_000)] }),
  '/v1/events/gone': (res) => json(res, 404, { error: { code: 'NOT_FOUND', message: 'unknown event' } }),
};

function json(res: import('node:http').ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

let server: Server;
let url: string;
let proxy: OracleProxy;

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    const route = routes[path];
    if (route === undefined) json(res, 404, { error: { code: 'NOT_FOUND', message: 'no route' } });
    else route(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy = new OracleProxy([`${url}/`, 'http://127.0.0.1:1'], { timeoutMs: 300, maxBytes: 100_000 });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('OracleProxy', () => {
  it('finds configured oracles by URL, trailing slashes aside', () => {
    expect(proxy.urls[0]).toBe(url);
    expect(proxy.indexOf(url)).toBe(0);
    expect(proxy.indexOf(`${url}///`)).toBe(0);
    expect(proxy.indexOf('http://127.0.0.1:2')).toBe(-1);
  });

  it('reads the event list and an event', async () => {
    const list = await proxy.events(0, { limit: 10 });
    expect(list).toEqual({ ok: true, value: { events: [expect.objectContaining({ eventId: 'a', state: 'announced' })], next: null } });
    const ev = await proxy.event(0, 'good');
    expect(ev.ok && ev.value.attested).toEqual({ height: 1101, outcome: '6000' });
  });

  it('reads an attestation and recomputes its evidence to the attested outcome', async () => {
    const a = await proxy.attestation(0, 'good');
    expect(a.ok).toBe(true);
    if (!a.ok || a.value === null) throw new Error('unreachable');
    expect(a.value.evidenceError).toBeNull();
    expect(a.value.recomputeError).toBeNull();
    expect(a.value.recomputed?.outcome).toBe(6000n);
    expect(a.value.evidence?.blocks).toHaveLength(100);
    // paid ÷ expected is the ratio the evidence recomputes to
    expect((a.value.recomputed!.poolRewards * 10_000n) / a.value.expectedSats!).toBe(6000n);
  });

  it('recomputes under the evidence reward rule: a self-paid fee in one block changes neither the outcome nor the expected sats', async () => {
    const plain = await proxy.attestation(0, 'ruled');
    const withFee = await proxy.attestation(0, 'ruled-fee');
    if (!plain.ok || plain.value === null || !withFee.ok || withFee.value === null) throw new Error('expected attestations');
    expect(withFee.value.recomputeError).toBeNull();
    expect(withFee.value.recomputed).toMatchObject({ rewardRule: 'subsidy+fees-capped-4x-median-v1', feeCap: 0n });
    expect(withFee.value.recomputed!.outcome).toBe(plain.value.recomputed!.outcome);
    expect(withFee.value.recomputed!.countedReward).toBe(plain.value.recomputed!.countedReward);
    expect(withFee.value.recomputed!.networkReward - plain.value.recomputed!.networkReward).toBe(100_000_000_000n);
    expect(withFee.value.expectedSats).toBe(plain.value.expectedSats);
    expect((withFee.value.recomputed!.poolRewards * 10_000n) / withFee.value.expectedSats!).toBe(withFee.value.recomputed!.outcome);
  });

  it('answers null while the event is not attested', async () => {
    expect(await proxy.attestation(0, 'pending')).toEqual({ ok: true, value: null });
  });

  it.each([
    ['doctored evidence (a payout to another address)', 'doctored', 'recomputeError', /not the delivery address/],
    ['no evidence', 'no-evidence', 'evidenceError', /no evidence/],
  ])('reports %s on the attestation instead of a recomputed outcome', async (_name, id, field, message) => {
    const a = await proxy.attestation(0, id);
    if (!a.ok || a.value === null) throw new Error('expected an attestation');
    expect(a.value.recomputed).toBeNull();
    expect(a.value[field as 'recomputeError' | 'evidenceError']).toMatch(message);
  });

  it.each([
    ['a timeout', 0, 'slow', null, /no answer within 300 ms/],
    ['an unreachable oracle', 1, 'good', null, /unreachable/],
    ['an unknown oracle index', 5, 'good', null, /no oracle number 5/],
    ['a 404', 0, 'gone', 404, /NOT_FOUND: unknown event/],
    ['a body that is not JSON', 0, 'broken', 200, /not JSON/],
    ['a body of another shape', 0, 'shape', 200, /does not have the oracle API shape/],
    ['an oversized body', 0, 'huge', 200, /larger than 100000 bytes/],
  ])('returns %s as an error message', async (_name, index, id, status, message) => {
    const r = await proxy.event(index, id);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.status).toBe(status);
    expect(r.error).toMatch(message);
  });
});
