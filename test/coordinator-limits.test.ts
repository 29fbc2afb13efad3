/**
 * Issue 9, hole 8 (limits): the coordinator's limits are derived from one
 * another (src/coordinator/limits.ts) so whatever it accepts it can carry to
 * the end, and no client input reaches a 500:
 * - the body limit defaults to what an accept/sign of a contract at the CET,
 *   input and prevTx limits needs, and a smaller configured one is refused;
 * - the hex and base64 checks are linear: the old repeated-group regex threw
 *   RangeError (HTTP 500) on the accept of ~60,000 CETs; the new schema takes
 *   the largest accept and PSBT the limits allow (schema layer, at full size);
 * - over the real HTTP server with the DEFAULT limits: the largest body the
 *   limits allow is answered with a named 4xx (it is not a valid accept), one
 *   byte more is 413 PAYLOAD_TOO_LARGE; a funding input whose prevTx exceeds
 *   the limit is refused by name.
 * Building a valid 200,000-CET accept takes minutes of signing, so the full
 * size is exercised with well-formed hex that is not a valid message; the
 * verification time of a valid one is bounded by the bench figures (API.md).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Transaction } from 'bitcoinjs-lib';
import type { OracleAnnouncement } from '../protocol/messages/index.js';
import { parseConfig, startCoordinator, type RunningCoordinator } from '../src/coordinator/index.js';
import { isBase64Text, isHexText } from '../src/api/text.js';
import { ADAPTOR_SIGNATURE_BYTES, maxFundingPsbtBytes, requiredBodyBytes, stripRequestBytes } from '../src/coordinator/limits.js';
import { requestSchemas } from '../src/coordinator/service.js';
import { testOracle } from './helpers/dlc-fixture.js';
import { FakeChain, api, identityOf, saleParties, startTestOracle, type TestOracleServer } from './coordinator-fixtures.js';

const DEFAULTS = { maxAdaptorSignatures: 200_000, maxFundingInputs: 50, maxPrevTxBytes: 100_000 };
const base = { dataDir: '/nonexistent', rpc: { url: 'http://127.0.0.1:1/', username: 'u', password: 'p' }, oracles: ['http://127.0.0.1:2'] };

describe('limits derived from one another', () => {
  it('the default body limit is what the sign of a contract at the other limits needs', () => {
    const c = parseConfig(base);
    expect(c.limits).toMatchObject(DEFAULTS);
    expect(c.limits.maxBodyBytes).toBe(requiredBodyBytes(DEFAULTS));
    // It carries every CET adaptor signature, hex-encoded, plus the inputs: more than the old 64 MiB.
    expect(c.limits.maxBodyBytes).toBeGreaterThan(2 * DEFAULTS.maxAdaptorSignatures * ADAPTOR_SIGNATURE_BYTES);
    expect(c.limits.maxBodyBytes).toBeGreaterThan(64 * 1024 * 1024);
  });

  it('refuses a configured body limit that could not carry a contract within the other limits', () => {
    expect(() => parseConfig({ ...base, limits: { maxBodyBytes: 64 * 1024 * 1024 } })).toThrow(/limits\.maxBodyBytes 67108864 cannot carry/);
    const small = { maxAdaptorSignatures: 1000, maxFundingInputs: 2, maxPrevTxBytes: 10_000 };
    expect(parseConfig({ ...base, limits: { ...small, maxBodyBytes: requiredBodyBytes(small) } }).limits.maxBodyBytes).toBe(requiredBodyBytes(small));
    expect(() => parseConfig({ ...base, limits: { ...small, maxBodyBytes: requiredBodyBytes(small) - 1 } })).toThrow(/maxBodyBytes/);
  });
});

describe('strip limits (issue 12)', () => {
  it('the defaults take a 30-period daily strip: its accept and sign fit the default body', () => {
    const c = parseConfig(base);
    expect(c.limits).toMatchObject({ maxStripPeriods: 31, maxStripAdaptorSignatures: DEFAULTS.maxAdaptorSignatures });
    // A daily hashpower sale period: a few hundred adaptor signatures (430 in the fixture sale); standard inputs.
    const daily = stripRequestBytes({ periods: 30, adaptorSignatures: 30 * 430, offerInputs: [300, 300], acceptInputs: [300, 300] });
    expect(daily).toBeLessThan(c.limits.maxBodyBytes);
    // At the strip's signature cap too, with the offerer's inputs at the prevTx limit.
    const cap = stripRequestBytes({ periods: 31, adaptorSignatures: c.limits.maxStripAdaptorSignatures, offerInputs: [DEFAULTS.maxPrevTxBytes], acceptInputs: [DEFAULTS.maxPrevTxBytes] });
    expect(cap).toBeLessThan(c.limits.maxBodyBytes);
    // A strip whose N accepts repeat many large inputs would not fit: refused at offer time (strip-too-large).
    expect(stripRequestBytes({ periods: 31, adaptorSignatures: 1000, offerInputs: Array(50).fill(DEFAULTS.maxPrevTxBytes), acceptInputs: Array(50).fill(DEFAULTS.maxPrevTxBytes) }))
      .toBeGreaterThan(c.limits.maxBodyBytes);
    expect(() => parseConfig({ ...base, limits: { maxStripPeriods: 1 } })).toThrow();
  });
});

describe('linear hex and base64 checks', () => {
  it('accept these and refuse those', () => {
    expect(['', '00', 'abCD09', 'ff'.repeat(10)].every(isHexText)).toBe(true);
    expect(['0', 'zz', '0g', 'ab ', '\u00e9\u00e9'].some(isHexText)).toBe(false);
    expect(['QQ==', 'QUI=', 'QUJD', 'a+/9'].every(isBase64Text)).toBe(true);
    expect(['', '=', '==', 'QQ===', 'Q=Q=', 'QU-D', 'QU\nD'].some(isBase64Text)).toBe(false);
  });

  it('the schema takes the largest accept and funding PSBT the limits allow, where the old regex threw RangeError', () => {
    const max = requiredBodyBytes(DEFAULTS);
    const schemas = requestSchemas(max);
    // The accept of a contract at every limit: all adaptor signatures and all inputs at the largest prevTx.
    const acceptBytes = DEFAULTS.maxAdaptorSignatures * ADAPTOR_SIGNATURE_BYTES + DEFAULTS.maxFundingInputs * (DEFAULTS.maxPrevTxBytes + 100);
    const acceptHex = 'aB'.repeat(acceptBytes);
    // The attack this replaces: the old schema's regex on the same string.
    expect(() => /^([0-9a-fA-F]{2})*$/.test(acceptHex)).toThrow(RangeError);
    const parsed = schemas.accept.safeParse({ accept: acceptHex, identityPubkey: 'ab'.repeat(32) });
    expect(parsed.success).toBe(true);
    expect(parsed.data?.accept.slice(0, 4)).toBe('abab');
    const psbt = Buffer.alloc(maxFundingPsbtBytes(DEFAULTS), 7).toString('base64');
    expect(schemas.fund.safeParse({ fundingPsbt: psbt }).success).toBe(true);
    expect(schemas.accept.safeParse({ accept: `${acceptHex.slice(2)}x`, identityPubkey: 'ab'.repeat(32) }).success).toBe(false);
  });
});

describe('limits over the real HTTP server (default limits)', () => {
  const ORACLE_LABEL = 'coord-limits-oracle';
  const theOracle = testOracle(ORACLE_LABEL);
  const published = new Map<string, OracleAnnouncement>();
  let dir: string;
  let oracle: TestOracleServer;
  let coord: RunningCoordinator;
  const internal: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hashdlc-coord-limits-'));
    oracle = await startTestOracle(ORACLE_LABEL, { events: published });
    coord = await startCoordinator({ ...base, dataDir: join(dir, 'db'), port: 0, oracles: [oracle.url], engineThreads: 0 }, {
      chain: new FakeChain(),
      watch: false,
      log: (level, msg, fields) => { if (level === 'error') internal.push(`${msg} ${JSON.stringify(fields)}`); },
    });
  });

  afterAll(async () => {
    await coord?.stop();
    await oracle?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function offered(label: string): Promise<{ id: string; p: ReturnType<typeof saleParties> }> {
    const p = saleParties({ label, oracle: theOracle });
    published.set(p.eventId, p.announcement);
    const r = await api(coord.url, 'POST', '/v1/offers', { body: { offer: p.offerHex, identityPubkey: identityOf(p.offerIdentity), terms: p.terms }, key: p.offerIdentity });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return { id: r.body.id as string, p };
  }

  it('the largest accept body the limits allow gets a named 4xx, one byte more gets 413, never 500', async () => {
    const { id, p } = await offered('max-body');
    const max = coord.service.config.limits.maxBodyBytes;
    const path = `/v1/contracts/${id}/accept`;
    const envelope = (hex: string): string => JSON.stringify({ accept: hex, identityPubkey: identityOf(p.acceptIdentity) });
    const room = max - envelope('').length;
    const atLimit = envelope('ab'.repeat(Math.floor(room / 2)));
    expect(atLimit.length).toBeGreaterThan(max - 2);
    expect(atLimit.length).toBeLessThanOrEqual(max);
    const r = await api(coord.url, 'POST', path, { rawBody: atLimit, key: p.acceptIdentity });
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe('DECODE_ERROR');

    const over = envelope('ab'.repeat(Math.floor(room / 2)) + 'ab');
    expect(over.length).toBeGreaterThan(max);
    const o = await api(coord.url, 'POST', path, { rawBody: over, key: p.acceptIdentity });
    expect(o.status).toBe(413);
    expect(o.body.error?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(internal).toEqual([]);
    expect((await api(coord.url, 'GET', `/v1/offers/${id}`)).body.state).toBe('offered');
  }, 60_000);

  it('refuses a funding input whose previous transaction exceeds maxPrevTxBytes (400 prev-tx-too-large)', async () => {
    const template = saleParties({ label: 'big-prev-tx', oracle: theOracle });
    const input = template.offer.fundingInputs[0]!;
    const prev = Transaction.fromBuffer(input.prevTx);
    // The same spent output, in a previous transaction padded with an OP_RETURN output past the limit.
    const padded = prev.clone();
    const filler = new Uint8Array(coord.service.config.limits.maxPrevTxBytes + 1);
    padded.addOutput(Uint8Array.from([0x6a, 0x4e, ...le32(filler.length), ...filler]), 0n);
    const p = saleParties({ label: 'big-prev-tx', oracle: theOracle, offerInputs: [{ ...input, prevTx: padded.toBuffer() }] });
    published.set(p.eventId, p.announcement);
    const r = await api(coord.url, 'POST', '/v1/offers', { body: { offer: p.offerHex, identityPubkey: identityOf(p.offerIdentity), terms: p.terms }, key: p.offerIdentity });
    expect(r.status, JSON.stringify(r.body.error)).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'INVALID_REQUEST', reason: 'prev-tx-too-large', party: 'offer', input: 0 });
  });
});

function le32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}
