/**
 * Request authentication for the coordinator's HTTP API: a party signs each
 * state-changing request with BIP340 (Schnorr) under its *identity key*, and
 * the coordinator checks the signature, the key's entitlement and the clock.
 *
 * The identity key is an x-only secp256k1 key a party names when it posts an
 * offer or an accept. It is deliberately NOT the DLC funding key: the funding
 * key signs transactions and should never sign anything else (no cross-
 * protocol signatures), and a participant may keep its funding key in an
 * external wallet while its CLI holds the identity key.
 *
 * Signed message (all fields length-prefixed, so no two requests share bytes):
 *
 *   digest = taggedHash("hashdlc/request/v1",
 *              u8(len(method)) || method                 (upper-case ASCII)
 *              u32be(len(path)) || path                  (UTF-8 request target:
 *                                                        path and query as sent)
 *              sha256(body)                               (32 bytes; empty body
 *                                                        hashes b"")
 *              u64be(timestamp))                          (unix seconds)
 *   signature = BIP340 sign(identity secret key, digest)  (BIP340 §Default Signing)
 *
 * Headers: `x-hashdlc-pubkey` (32-byte x-only key, hex), `x-hashdlc-timestamp`
 * (decimal unix seconds), `x-hashdlc-signature` (64-byte BIP340 signature, hex).
 *
 * Does NOT: read the clock (the caller passes `timestamp` / `now`), decide
 * which key is entitled to which call (the coordinator does), or remember
 * seen signatures (replay.ts `ReplayGuard` does, for the coordinator).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { DlcError } from '../errors.js';
import { schnorrSign, schnorrVerify, taggedHash, xOnlyPublicKey } from '../crypto/index.js';
import { fromHex, toHex } from '../messages/index.js';

/** BIP340 tag of the request digest (versioned: a new layout gets a new tag). */
export const REQUEST_TAG = 'hashdlc/request/v1';
/** Header names (lower case, as node's http module presents them). */
export const AUTH_HEADER_PUBKEY = 'x-hashdlc-pubkey';
export const AUTH_HEADER_TIMESTAMP = 'x-hashdlc-timestamp';
export const AUTH_HEADER_SIGNATURE = 'x-hashdlc-signature';
/** Default accepted clock difference between client and server, seconds. */
export const DEFAULT_MAX_SKEW_SEC = 300;

/** What a signature covers. `body` is the exact bytes sent (string = UTF-8). */
export interface RequestToSign {
  method: string;
  /** Request target as sent: path plus query string, e.g. `/v1/contracts/ab/sign`. */
  path: string;
  body: Uint8Array | string;
  /** Unix seconds, integer. */
  timestamp: number;
}

/** The three auth headers, lower-case names. */
// A type alias (not an interface) so it is assignable to header records.
export type AuthHeaders = {
  'x-hashdlc-pubkey': string;
  'x-hashdlc-timestamp': string;
  'x-hashdlc-signature': string;
};

/** Result of a successful verification. */
export interface VerifiedRequest {
  /** The signer's x-only identity key, lower-case hex. */
  pubkey: string;
  timestamp: number;
}

const utf8 = new TextEncoder();
const METHOD_RE = /^[A-Z]{1,16}$/;

function bodyBytes(body: Uint8Array | string): Uint8Array {
  return typeof body === 'string' ? utf8.encode(body) : body;
}

/**
 * The 32-byte digest a request signature commits to (layout in the module header).
 * @throws {DlcError} INVALID_PARAMS for a method that is not upper-case letters,
 *   an empty path, or a timestamp that is not a non-negative safe integer.
 */
export function requestDigest(req: RequestToSign): Uint8Array {
  const method = req.method.toUpperCase();
  if (!METHOD_RE.test(method)) {
    throw new DlcError('INVALID_PARAMS', `bad HTTP method "${req.method}"`, { reason: 'auth-method' });
  }
  if (req.path.length === 0 || !req.path.startsWith('/')) {
    throw new DlcError('INVALID_PARAMS', 'request path must start with "/"', { reason: 'auth-path' });
  }
  if (!Number.isSafeInteger(req.timestamp) || req.timestamp < 0) {
    throw new DlcError('INVALID_PARAMS', 'timestamp must be non-negative integer unix seconds', { reason: 'auth-timestamp' });
  }
  const m = utf8.encode(method);
  const p = utf8.encode(req.path);
  const head = new Uint8Array(1 + m.length + 4);
  head[0] = m.length;
  head.set(m, 1);
  new DataView(head.buffer).setUint32(1 + m.length, p.length);
  const ts = new Uint8Array(8);
  new DataView(ts.buffer).setBigUint64(0, BigInt(req.timestamp));
  return taggedHash(REQUEST_TAG, head, p, sha256(bodyBytes(req.body)), ts);
}

/**
 * Signs a request with an identity secret key.
 * @param aux32 BIP340 auxiliary randomness; all-zero (deterministic) when omitted.
 * @returns the three headers to send with the request.
 * @throws {DlcError} INVALID_PARAMS for a bad method/path/timestamp;
 *   INVALID_LENGTH / INVALID_SCALAR for a bad secret key.
 */
export function signRequest(secretKey: Uint8Array, req: RequestToSign, aux32?: Uint8Array): AuthHeaders {
  const digest = requestDigest(req);
  return {
    [AUTH_HEADER_PUBKEY]: toHex(xOnlyPublicKey(secretKey)),
    [AUTH_HEADER_TIMESTAMP]: String(req.timestamp),
    [AUTH_HEADER_SIGNATURE]: toHex(schnorrSign(secretKey, digest, aux32)),
  };
}

function header(headers: Readonly<Record<string, string | readonly string[] | undefined>>, name: string): string | undefined {
  let v = headers[name];
  if (v === undefined) {
    for (const [k, val] of Object.entries(headers)) if (k.toLowerCase() === name) { v = val; break; }
  }
  if (v === undefined) return undefined;
  if (typeof v !== 'string') {
    if (v.length !== 1) {
      throw new DlcError('BAD_SIGNATURE', `header ${name} given ${v.length} times`, { reason: 'auth-malformed' });
    }
    return v[0];
  }
  return v;
}

/**
 * Checks a request's auth headers against the request and the clock.
 *
 * Failure reasons (`DlcError.reason`, all with code BAD_SIGNATURE so a
 * server can map them to 401 in one place):
 *   `auth-missing`   a header is absent;
 *   `auth-malformed` a header is not of the stated form;
 *   `auth-stale`     |now − timestamp| > maxSkewSec;
 *   `auth-signature` the signature does not verify for this method/path/body.
 *
 * @param now the server's clock, unix seconds.
 * @returns the verified signer's key and the timestamp.
 * @throws {DlcError} BAD_SIGNATURE with one of the reasons above.
 */
export function verifyRequest(
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
  req: Omit<RequestToSign, 'timestamp'>,
  now: number,
  maxSkewSec: number = DEFAULT_MAX_SKEW_SEC,
): VerifiedRequest {
  const pk = header(headers, AUTH_HEADER_PUBKEY);
  const ts = header(headers, AUTH_HEADER_TIMESTAMP);
  const sig = header(headers, AUTH_HEADER_SIGNATURE);
  if (pk === undefined || ts === undefined || sig === undefined) {
    const missing = [
      pk === undefined ? AUTH_HEADER_PUBKEY : null,
      ts === undefined ? AUTH_HEADER_TIMESTAMP : null,
      sig === undefined ? AUTH_HEADER_SIGNATURE : null,
    ].filter((x) => x !== null).join(', ');
    throw new DlcError('BAD_SIGNATURE', `request is not signed: missing ${missing}`, { reason: 'auth-missing' });
  }
  if (!/^[0-9a-fA-F]{64}$/.test(pk)) {
    throw new DlcError('BAD_SIGNATURE', `${AUTH_HEADER_PUBKEY} must be 32 bytes of hex`, { reason: 'auth-malformed' });
  }
  if (!/^[0-9a-fA-F]{128}$/.test(sig)) {
    throw new DlcError('BAD_SIGNATURE', `${AUTH_HEADER_SIGNATURE} must be 64 bytes of hex`, { reason: 'auth-malformed' });
  }
  if (!/^[0-9]{1,15}$/.test(ts)) {
    throw new DlcError('BAD_SIGNATURE', `${AUTH_HEADER_TIMESTAMP} must be decimal unix seconds`, { reason: 'auth-malformed' });
  }
  const timestamp = Number(ts);
  if (Math.abs(now - timestamp) > maxSkewSec) {
    throw new DlcError('BAD_SIGNATURE', `request timestamp ${timestamp} is more than ${maxSkewSec}s from the server's clock ${Math.floor(now)}`, { reason: 'auth-stale' });
  }
  let digest: Uint8Array;
  try {
    digest = requestDigest({ ...req, timestamp });
  } catch (err) {
    throw new DlcError('BAD_SIGNATURE', 'request cannot be authenticated', { reason: 'auth-malformed', cause: err });
  }
  if (!schnorrVerify(fromHex(sig), digest, fromHex(pk))) {
    throw new DlcError('BAD_SIGNATURE', 'request signature does not verify for this method, path, body and timestamp', { reason: 'auth-signature' });
  }
  return { pubkey: pk.toLowerCase(), timestamp };
}
