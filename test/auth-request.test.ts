/**
 * Request authentication (protocol/auth): the digest layout checked against an
 * independent construction, signatures checked with noble's BIP340, and every
 * refusal reason table-driven.
 */
import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { schnorr } from '@noble/curves/secp256k1.js';
import { isDlcError } from '../protocol/errors.js';
import {
  AUTH_HEADER_PUBKEY, AUTH_HEADER_SIGNATURE, AUTH_HEADER_TIMESTAMP, REQUEST_TAG, requestDigest, signRequest,
  verifyRequest, type RequestToSign,
} from '../protocol/auth/index.js';

const enc = new TextEncoder();
const key = sha256(enc.encode('auth-test-identity'));
const otherKey = sha256(enc.encode('auth-test-someone-else'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const NOW = 1_750_000_000;
const req: RequestToSign = {
  method: 'POST',
  path: '/v1/contracts/00ff/sign',
  body: '{"sign":"abcd"}',
  timestamp: NOW,
};

/** The layout from the module header, built with plain buffers. */
function independentDigest(r: RequestToSign): Uint8Array {
  const tag = sha256(enc.encode(REQUEST_TAG));
  const m = enc.encode(r.method);
  const p = enc.encode(r.path);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(p.length);
  const ts = Buffer.alloc(8);
  ts.writeBigUInt64BE(BigInt(r.timestamp));
  const body = typeof r.body === 'string' ? enc.encode(r.body) : r.body;
  return sha256(Buffer.concat([tag, tag, Buffer.from([m.length]), m, len, p, sha256(body), ts]));
}

function reasonOf(run: () => unknown): string | undefined {
  try { run(); } catch (e) { if (isDlcError(e)) return `${e.code}/${e.reason}`; throw e; }
  return undefined;
}

describe('requestDigest', () => {
  it('matches the documented layout', () => {
    expect(hex(requestDigest(req))).toBe(hex(independentDigest(req)));
    expect(hex(requestDigest({ ...req, body: new Uint8Array() }))).toBe(hex(independentDigest({ ...req, body: '' })));
  });
  it('normalises the method to upper case and string bodies to UTF-8', () => {
    expect(requestDigest({ ...req, method: 'post' })).toEqual(requestDigest(req));
    expect(requestDigest({ ...req, body: enc.encode(req.body as string) })).toEqual(requestDigest(req));
  });
  it.each([
    ['method with a space', { method: 'PO ST' }, 'INVALID_PARAMS/auth-method'],
    ['relative path', { path: 'v1/offers' }, 'INVALID_PARAMS/auth-path'],
    ['fractional timestamp', { timestamp: 1.5 }, 'INVALID_PARAMS/auth-timestamp'],
    ['negative timestamp', { timestamp: -1 }, 'INVALID_PARAMS/auth-timestamp'],
  ] as const)('refuses a %s', (_n, patch, expected) => {
    expect(reasonOf(() => requestDigest({ ...req, ...patch }))).toBe(expected);
  });
});

describe('signRequest / verifyRequest', () => {
  const headers = signRequest(key, req);

  it('produces a BIP340 signature an independent implementation accepts', () => {
    expect(headers[AUTH_HEADER_PUBKEY]).toBe(hex(schnorr.getPublicKey(key)));
    expect(headers[AUTH_HEADER_TIMESTAMP]).toBe(String(NOW));
    expect(schnorr.verify(Buffer.from(headers[AUTH_HEADER_SIGNATURE], 'hex'), independentDigest(req),
      schnorr.getPublicKey(key))).toBe(true);
  });

  it('verifies and returns the signer, within the skew either way', () => {
    for (const now of [NOW, NOW + 300, NOW - 300]) {
      expect(verifyRequest(headers, req, now, 300)).toEqual({ pubkey: hex(schnorr.getPublicKey(key)), timestamp: NOW });
    }
  });

  it('reads headers case-insensitively and from single-element arrays', () => {
    const mixed = {
      'X-Hashdlc-Pubkey': headers[AUTH_HEADER_PUBKEY].toUpperCase(),
      'x-hashdlc-timestamp': [headers[AUTH_HEADER_TIMESTAMP]],
      'x-hashdlc-signature': headers[AUTH_HEADER_SIGNATURE],
    };
    expect(verifyRequest(mixed, req, NOW).pubkey).toBe(headers[AUTH_HEADER_PUBKEY]);
  });

  const cases: [string, Record<string, string | string[] | undefined>, Partial<RequestToSign>, number, string][] = [
    ['no headers at all', {}, {}, NOW, 'BAD_SIGNATURE/auth-missing'],
    ['no signature', { ...headers, [AUTH_HEADER_SIGNATURE]: undefined }, {}, NOW, 'BAD_SIGNATURE/auth-missing'],
    ['short key', { ...headers, [AUTH_HEADER_PUBKEY]: 'abcd' }, {}, NOW, 'BAD_SIGNATURE/auth-malformed'],
    ['non-hex signature', { ...headers, [AUTH_HEADER_SIGNATURE]: 'z'.repeat(128) }, {}, NOW, 'BAD_SIGNATURE/auth-malformed'],
    ['timestamp not decimal', { ...headers, [AUTH_HEADER_TIMESTAMP]: '1e9' }, {}, NOW, 'BAD_SIGNATURE/auth-malformed'],
    ['header given twice', { ...headers, [AUTH_HEADER_TIMESTAMP]: [String(NOW), String(NOW)] }, {}, NOW, 'BAD_SIGNATURE/auth-malformed'],
    ['stale by 301 s', headers, {}, NOW + 301, 'BAD_SIGNATURE/auth-stale'],
    ['from the future by 301 s', headers, {}, NOW - 301, 'BAD_SIGNATURE/auth-stale'],
    ['another body', headers, { body: '{"sign":"abce"}' }, NOW, 'BAD_SIGNATURE/auth-signature'],
    ['another path', headers, { path: '/v1/contracts/00ff/fund' }, NOW, 'BAD_SIGNATURE/auth-signature'],
    ['another method', headers, { method: 'PUT' }, NOW, 'BAD_SIGNATURE/auth-signature'],
    ['a timestamp the signature does not cover', { ...headers, [AUTH_HEADER_TIMESTAMP]: String(NOW + 1) }, {}, NOW, 'BAD_SIGNATURE/auth-signature'],
    ['another key claimed', { ...headers, [AUTH_HEADER_PUBKEY]: hex(schnorr.getPublicKey(otherKey)) }, {}, NOW, 'BAD_SIGNATURE/auth-signature'],
    ['a key that is not on the curve', { ...headers, [AUTH_HEADER_PUBKEY]: 'ff'.repeat(32) }, {}, NOW, 'BAD_SIGNATURE/auth-signature'],
  ];
  it.each(cases)('refuses %s', (_name, h, patch, now, expected) => {
    const { timestamp: _t, ...rest } = { ...req, ...patch };
    expect(reasonOf(() => verifyRequest(h, rest, now, 300))).toBe(expected);
  });
});
