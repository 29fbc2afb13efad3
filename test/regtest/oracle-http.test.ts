/**
 * The oracle's HTTP API refuses bad requests with stable codes and keeps
 * running: 400 (schema, JSON, rule broken, with the rule as `reason`), 401
 * (operator token), 404 (unknown id/route, not attested yet), 413 (body too
 * large), 429 (rate, pending per client). Also: creation is idempotent and
 * listing filters by kind, state and address.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRegtest } from '../../regtest/context.js';
import { TestKey } from '../../regtest/index.js';
import { OracleClient } from '../../src/api/index.js';
import { eventPath, OPERATOR_TOKEN, startTestOracle, type TestOracle } from './oracle-fixture.js';

const { rpc } = useRegtest();
let t: TestOracle;
let tip: number;
const D = TestKey.random().address;

beforeAll(async () => {
  t = await startTestOracle(rpc, {
    limits: { maxWindowBlocks: 100, maxStartAheadBlocks: 1000, maxPendingPerClient: 3, requestsPerMinute: 12, maxBodyBytes: 2048 },
  });
  tip = (await t.get('/v1/info')).body.tip.height;
});
afterAll(async () => {
  await t?.close();
});

function delivery(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { kind: 'hashpower-delivery', window: { start: tip + 10, end: tip + 20 }, deliveryAddress: D, hashrateThs: '100', ...over };
}

describe('oracle HTTP API: bad requests', () => {
  // Operator requests: no client limits apply, so every rule is reached.
  const cases: [string, () => Record<string, unknown>, number, string, string | undefined][] = [
    ['unknown field', () => delivery({ colour: 'red' }), 400, 'INVALID_REQUEST', undefined],
    ['window is not an object', () => delivery({ window: 5 }), 400, 'INVALID_REQUEST', 'body.window'],
    ['negative height', () => delivery({ window: { start: -1, end: 5 } }), 400, 'INVALID_REQUEST', 'body.window.start'],
    ['unknown kind', () => delivery({ kind: 'weather' }), 400, 'INVALID_REQUEST', 'body.kind'],
    ['empty window', () => delivery({ window: { start: tip + 5, end: tip + 5 } }), 400, 'INVALID_PARAMS', 'window-empty'],
    ['window below the index', () => delivery({ window: { start: 0, end: 10 } }), 400, 'INVALID_PARAMS', 'window-before-index'],
    ['mainnet address on regtest', () => delivery({ deliveryAddress: 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq' }), 400, 'INVALID_PARAMS', 'address-invalid'],
    ['not an address', () => delivery({ poolPayoutAddresses: ['hello'] }), 400, 'INVALID_PARAMS', 'address-invalid'],
    ['delivery without hashrate', () => delivery({ hashrateThs: null }), 400, 'INVALID_PARAMS', 'hashrate-required'],
    ['hashrate zero', () => delivery({ hashrateThs: '0' }), 400, 'INVALID_REQUEST', 'body.hashrateThs'],
    ['pool-rewards with hashrate', () => delivery({ kind: 'pool-rewards' }), 400, 'INVALID_PARAMS', 'hashrate-not-allowed'],
    ['hashprice with an address', () => ({ kind: 'hashprice', window: { start: tip + 1, end: tip + 2 }, deliveryAddress: D }), 400, 'INVALID_PARAMS', 'address-not-allowed'],
    ['thresholds not increasing', () => delivery({ thresholds: ['9500', '5000'] }), 400, 'INVALID_PARAMS', 'thresholds-invalid'],
    ['digits and thresholds', () => delivery({ thresholds: ['9500'], nbDigits: 14 }), 400, 'INVALID_PARAMS', 'descriptor-conflict'],
    ['too many digits', () => delivery({ nbDigits: 65 }), 400, 'INVALID_REQUEST', 'body.nbDigits'],
    ['precision on a delivery event', () => delivery({ precision: 2 }), 400, 'INVALID_PARAMS', 'precision-not-allowed'],
    ['precision and thresholds', () => delivery({ thresholds: ['9500'], precision: 0 }), 400, 'INVALID_PARAMS', 'descriptor-conflict'],
    ['precision above 18', () => ({ kind: 'hashprice', window: { start: tip + 1, end: tip + 2 }, precision: 19 }), 400, 'INVALID_REQUEST', 'body.precision'],
  ];
  it.each(cases)('%s → %i %s', async (_name, body, status, code, reason) => {
    const r = await t.post(body(), { token: OPERATOR_TOKEN });
    expect(r.status).toBe(status);
    expect(r.body.error.code).toBe(code);
    if (reason !== undefined) expect(r.body.error.reason).toBe(reason);
    expect(typeof r.body.error.message).toBe('string');
  });

  it('malformed JSON → 400 INVALID_JSON; oversized body → 413; no JSON content type → 400', async () => {
    const bad = await t.post(undefined, { raw: '{"kind": ' });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'INVALID_JSON']);
    const big = await t.post(undefined, { raw: JSON.stringify({ ...delivery(), pad: 'x'.repeat(4096) }) });
    expect([big.status, big.body.error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const text = await t.post(undefined, { raw: JSON.stringify(delivery()), contentType: 'text/plain' });
    expect([text.status, text.body.error.code]).toEqual([400, 'INVALID_REQUEST']);
  });

  it('operator-only kinds need the token; a wrong token is refused', async () => {
    const hashprice = { kind: 'hashprice', window: { start: tip + 1, end: tip + 11 } };
    const none = await t.post(hashprice);
    expect([none.status, none.body.error.code, none.body.error.reason]).toEqual([401, 'UNAUTHORIZED', 'operator-only']);
    const wrong = await t.post(hashprice, { token: 'not-the-operator-token' });
    expect([wrong.status, wrong.body.error.code]).toEqual([401, 'UNAUTHORIZED']);
    const ok = await t.post(hashprice, { token: OPERATOR_TOKEN });
    expect(ok.status).toBe(201);
    expect(ok.body.params.descriptor).toEqual({ type: 'numeric', base: 2, nbDigits: 20, unit: 'sats/PH/day', precision: 0 });
    // The same window scaled down: another event (the precision is in the id), stated in its descriptor.
    const scaled = await t.post({ ...hashprice, precision: 6 }, { token: OPERATOR_TOKEN });
    expect(scaled.status).toBe(201);
    expect(scaled.body.params.descriptor).toEqual({ type: 'numeric', base: 2, nbDigits: 20, unit: 'sats/PH/day', precision: 6 });
    expect(scaled.body.eventId).not.toBe(ok.body.eventId);
  });

  it('unknown ids and routes → 404 NOT_FOUND; not attested yet → 404 NOT_ATTESTED with the attest height', async () => {
    const unknown = await t.get(eventPath('hashprice/1-2/00000000000000000000000000000000'));
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'NOT_FOUND']);
    const route = await t.get('/v2/info');
    expect([route.status, route.body.error.code]).toEqual([404, 'NOT_FOUND']);
    const created = await t.post(delivery({ window: { start: tip + 30, end: tip + 40 } }), { token: OPERATOR_TOKEN });
    expect(created.status).toBe(201);
    const pending = await t.get(eventPath(created.body.eventId, true));
    expect([pending.status, pending.body.error.code, pending.body.error.attestHeight]).toEqual([404, 'NOT_ATTESTED', tip + 40]);
    // Raw (unencoded) slashes reach the same event.
    const raw = await t.get(`/v1/events/${created.body.eventId}`);
    expect(raw.body.eventId).toBe(created.body.eventId);
  });

  it('bad list queries → 400; lists filter by kind, state and address', async () => {
    for (const q of ['limit=0', 'limit=abc', 'kind=weather', 'state=done', 'colour=red']) {
      const r = await t.get(`/v1/events?${q}`);
      expect([q, r.status, r.body.error.code]).toEqual([q, 400, 'INVALID_REQUEST']);
    }
    const byAddress = await t.get(`/v1/events?address=${D}`);
    expect(byAddress.body.events.length).toBeGreaterThan(0);
    expect(byAddress.body.events.every((e: { params: { deliveryAddress: string } }) => e.params.deliveryAddress === D)).toBe(true);
    const hashprice = await t.get('/v1/events?kind=hashprice&state=announced');
    // The two hashprice events of the operator test (precision 0 and 6), nothing else.
    expect(hashprice.body.events.map((e: { kind: string }) => e.kind)).toEqual(['hashprice', 'hashprice']);
    const page = await t.get('/v1/events?limit=1');
    expect(page.body.events).toHaveLength(1);
    const next = await t.get(`/v1/events?limit=1&after=${encodeURIComponent(page.body.next)}`);
    expect(next.body.events[0].eventId > page.body.events[0].eventId).toBe(true);
  });

  it('public requests: idempotent by id, window limits, pending per client, rate per minute', async () => {
    const a = await t.post(delivery({ window: { start: tip + 50, end: tip + 60 } }));
    expect(a.status).toBe(201);
    const again = await t.post(delivery({ window: { start: tip + 50, end: tip + 60 } }));
    expect([again.status, again.body.eventId, again.body.announcement.hex]).toEqual([200, a.body.eventId, a.body.announcement.hex]);
    const long = await t.post(delivery({ window: { start: tip + 1, end: tip + 102 } }));
    expect([long.status, long.body.error.reason]).toEqual([400, 'window-too-long']);
    const far = await t.post(delivery({ window: { start: tip + 1002, end: tip + 1010 } }));
    expect([far.status, far.body.error.reason]).toEqual([400, 'window-too-far']);
    expect((await t.post(delivery({ window: { start: tip + 61, end: tip + 70 } }))).status).toBe(201);
    expect((await t.post(delivery({ window: { start: tip + 71, end: tip + 80 } }))).status).toBe(201);
    const pending = await t.post(delivery({ window: { start: tip + 81, end: tip + 90 } }));
    expect([pending.status, pending.body.error.code]).toEqual([429, 'TOO_MANY_PENDING']);
    let status = 0;
    let code = '';
    for (let i = 0; i < 12 && status !== 429; i++) {
      const r = await t.post(delivery({ window: { start: tip + 50, end: tip + 60 } }));
      status = r.status;
      code = r.body.error?.code ?? '';
    }
    expect([status, code]).toEqual([429, 'RATE_LIMITED']);
    // The operator is not rate limited, and the process is still serving.
    expect((await t.post(delivery({ window: { start: tip + 91, end: tip + 99 } }), { token: OPERATOR_TOKEN })).status).toBe(201);
    expect((await t.get('/v1/info')).status).toBe(200);
  });
});

describe('oracle HTTP API: the one client (src/api) reads what the server sends', () => {
  it('info, an event in each client shape, the list, and a not-yet attestation', async () => {
    const created = await t.post(delivery({ window: { start: tip + 40, end: tip + 49 } }), { token: OPERATOR_TOKEN });
    expect(created.status).toBe(201);
    const id = created.body.eventId as string;
    const client = new OracleClient(t.oracle.url);
    expect(await client.info()).toMatchObject({ publicKey: t.oracle.publicKey, network: 'regtest' });
    const ev = await client.event(id);
    expect(ev).toMatchObject({ eventId: id, kind: 'hashpower-delivery', state: 'announced', params: { deliveryAddress: D, hashrateThs: '100', window: { start: tip + 40, end: tip + 49 } } });
    expect(OracleClient.announcementOf(ev).oracleEvent.eventId).toBe(id);
    expect(await client.announcedEvent(id)).toMatchObject({ eventId: id, attestHeight: ev.attestHeight, params: { kind: 'hashpower-delivery' } });
    expect(await client.eventView(id)).toMatchObject({ eventId: id, rules: expect.any(Array) });
    expect((await client.events({ address: D })).map((e) => e.eventId)).toContain(id);
    expect(await client.announcedEvent('hashprice/1-2/00000000000000000000000000000000')).toBeNull();
    expect(await client.attestationJson(id)).toBeNull();
    await expect(client.attestation(id)).rejects.toMatchObject({ code: 'NOT_READY', remoteCode: 'NOT_ATTESTED' });
    await expect(client.event('hashprice/1-2/00000000000000000000000000000000')).rejects.toMatchObject({ code: 'REMOTE', remoteCode: 'NOT_FOUND', status: 404 });
  });
});
