/**
 * Oracle cryptography (dlcspecs Oracle.md, BIP340): message digests for both
 * hash profiles, BIP340 Schnorr signing with a pre-committed nonce and
 * verification, deterministic oracle nonces, announcement and attestation
 * signatures, and attestation (adaptor) points on the party side, including
 * the fast path for numeric events: per (nonce, digit) points computed once,
 * then about one point addition per adaptor signature, for one oracle or a
 * t-of-n set, thanks to prefix tries and shared partial sums.
 *
 * Hash profiles, always named explicitly by the caller:
 * - `'sha256'`: what the dlcspecs test vectors, rust-dlc and the dlcdevkit
 *   vectors do: an outcome is signed as SHA256(utf8(NFC(outcome))), an
 *   announcement as SHA256(oracle_event TLV *value*, without type and length).
 * - `'tagged'`: Oracle.md §Signing Algorithm: BIP340 tagged hashes
 *   `DLC/oracle/attestation/v0` over the outcome and
 *   `DLC/oracle/announcement/v0` over the serialized oracle_event TLV
 *   (type, length and value).
 *
 * This module does NOT encode TLVs (callers pass the oracle_event bytes),
 * does NOT keep state (an oracle service must persist what it attested: two
 * attestations of different outcomes under one event id reveal its key) and
 * does NOT handle signed numeric events' sign nonce specially: a "+"/"-"
 * position is just another nonce whose outcomes the caller names.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { DlcError } from '../errors.js';
import { addSumPoints, encodeSumPoints, sumPointOf, type SumPoint } from './point-sums.js';
import { liftX, secp } from './secp.js';
import { CURVE_ORDER, bigIntToBytes, bytesToBigInt, parseNonZeroScalar, taggedHash, FIELD_PRIME } from './scalar.js';

/** Which digest convention oracle messages use (see the module header). */
export type HashProfile = 'sha256' | 'tagged';

/** Oracle.md: `tag_hash("DLC/oracle/" || "attestation/v0")`. */
export const ATTESTATION_TAG = 'DLC/oracle/attestation/v0';
/** Oracle.md: `tag_hash("DLC/oracle/" || "announcement/v0")`. */
export const ANNOUNCEMENT_TAG = 'DLC/oracle/announcement/v0';
const NONCE_DERIVATION_TAG = 'hashdlc/oracle/nonce/v0';

const utf8 = new TextEncoder();

function checkProfile(profile: HashProfile): void {
  if (profile !== 'sha256' && profile !== 'tagged') {
    throw new DlcError('INVALID_PARAMS', `unknown hash profile '${String(profile)}'`, { reason: 'hash-profile' });
  }
}
function checkLen(v: Uint8Array, len: number, what: string): void {
  if (v.length !== len) throw new DlcError('INVALID_LENGTH', `${what} must be ${len} bytes, got ${v.length}`, { reason: `${what}-length` });
}

/**
 * UTF-8 bytes of the NFC-normalised outcome (Oracle.md §Serialization and
 * signing of outcome values; dlc_hash_test.json).
 */
export function outcomeBytes(outcome: string): Uint8Array {
  return utf8.encode(outcome.normalize('NFC'));
}

/**
 * The 32-byte message an oracle signs for one outcome.
 * @throws {DlcError} INVALID_PARAMS for an unknown profile.
 */
export function outcomeDigest(profile: HashProfile, outcome: string): Uint8Array {
  checkProfile(profile);
  const m = outcomeBytes(outcome);
  return profile === 'sha256' ? sha256(m) : taggedHash(ATTESTATION_TAG, m);
}

/** Reads a BOLT1 bigsize at `off`; returns [value, bytes used]. */
function readBigSize(b: Uint8Array, off: number): [number, number] {
  const bad = (): DlcError => new DlcError('DECODE_ERROR', 'truncated or non-minimal bigsize in oracle_event TLV', { reason: 'bigsize' });
  if (off >= b.length) throw bad();
  const first = b[off]!;
  if (first < 0xfd) return [first, 1];
  const len = first === 0xfd ? 2 : first === 0xfe ? 4 : 8;
  if (off + 1 + len > b.length) throw bad();
  let v = 0;
  for (let i = 0; i < len; i++) v = v * 256 + b[off + 1 + i]!;
  const min = first === 0xfd ? 0xfd : first === 0xfe ? 0x10000 : 0x100000000;
  if (v < min || v > Number.MAX_SAFE_INTEGER) throw bad();
  return [v, 1 + len];
}

/**
 * The 32-byte message an oracle signs for an announcement.
 * @param oracleEventTlv the serialized `oracle_event` TLV: type, length and value.
 *   The `'sha256'` profile hashes the value only; `'tagged'` hashes all of it.
 * @throws {DlcError} DECODE_ERROR when the TLV header or length is inconsistent; INVALID_PARAMS for an unknown profile.
 */
export function announcementDigest(profile: HashProfile, oracleEventTlv: Uint8Array): Uint8Array {
  checkProfile(profile);
  const [, tLen] = readBigSize(oracleEventTlv, 0);
  const [len, lLen] = readBigSize(oracleEventTlv, tLen);
  if (tLen + lLen + len !== oracleEventTlv.length) {
    throw new DlcError('DECODE_ERROR', 'oracle_event TLV length does not match its bytes', { reason: 'tlv-length' });
  }
  return profile === 'sha256' ? sha256(oracleEventTlv.subarray(tLen + lLen)) : taggedHash(ANNOUNCEMENT_TAG, oracleEventTlv);
}

// ---------------------------------------------------------------- BIP340

/**
 * The BIP340 x-only public key of a secret key.
 * @throws {DlcError} INVALID_LENGTH / INVALID_SCALAR for a bad key.
 */
export function xOnlyPublicKey(secretKey: Uint8Array): Uint8Array {
  return secp().mulG(secretKey).slice(1);
}

function challenge(rx: Uint8Array, px: Uint8Array, msg32: Uint8Array): bigint {
  return bytesToBigInt(taggedHash('BIP0340/challenge', rx, px, msg32)) % CURVE_ORDER;
}

/**
 * BIP340 signature with a given nonce secret k' (the oracle published k'·G's
 * x coordinate in advance). k' and the key are negated as BIP340 requires
 * when their points have odd Y, so R's x is the published nonce either way.
 * @returns the 64-byte signature R.x || s.
 * @throws {DlcError} INVALID_LENGTH / INVALID_SCALAR for bad key, nonce or message.
 */
export function schnorrSignWithNonce(secretKey: Uint8Array, nonceSecret: Uint8Array, msg32: Uint8Array): Uint8Array {
  checkLen(msg32, 32, 'message');
  const be = secp();
  let d = parseNonZeroScalar(secretKey, 'secret key');
  let k = parseNonZeroScalar(nonceSecret, 'nonce');
  const P = be.mulG(secretKey);
  const R = be.mulG(nonceSecret);
  if (P[0] === 3) d = CURVE_ORDER - d;
  if (R[0] === 3) k = CURVE_ORDER - k;
  const e = challenge(R.subarray(1), P.subarray(1), msg32);
  const sig = new Uint8Array(64);
  sig.set(R.subarray(1), 0);
  bigIntToBytes((k + e * d) % CURVE_ORDER, sig, 32);
  return sig;
}

/**
 * BIP340 signing with the BIP's own nonce derivation (aux randomness `aux32`,
 * all-zero when omitted), for announcement signatures.
 * @throws {DlcError} INVALID_LENGTH / INVALID_SCALAR for bad inputs.
 */
export function schnorrSign(secretKey: Uint8Array, msg32: Uint8Array, aux32: Uint8Array = new Uint8Array(32)): Uint8Array {
  checkLen(msg32, 32, 'message');
  checkLen(aux32, 32, 'aux');
  const be = secp();
  let d = parseNonZeroScalar(secretKey, 'secret key');
  const P = be.mulG(secretKey);
  if (P[0] === 3) d = CURVE_ORDER - d;
  // BIP340 §Default Signing: t = bytes(d) xor hash_aux(a); rand = hash_nonce(t || P.x || m)
  const t = bigIntToBytes(d);
  const mask = taggedHash('BIP0340/aux', aux32);
  for (let i = 0; i < 32; i++) t[i]! ^= mask[i]!;
  const k = bytesToBigInt(taggedHash('BIP0340/nonce', t, P.subarray(1), msg32)) % CURVE_ORDER;
  if (k === 0n) throw new DlcError('INVALID_SCALAR', 'BIP340 nonce is zero', { reason: 'nonce-zero' });
  return schnorrSignWithNonce(secretKey, bigIntToBytes(k), msg32);
}

/**
 * BIP340 verification. False for any invalid signature, key or encoding.
 * @throws {DlcError} INVALID_LENGTH when `msg32` is not 32 bytes.
 */
export function schnorrVerify(sig64: Uint8Array, msg32: Uint8Array, publicKeyX: Uint8Array): boolean {
  checkLen(msg32, 32, 'message');
  if (sig64.length !== 64 || publicKeyX.length !== 32) return false;
  let P: Uint8Array;
  try { P = liftX(publicKeyX); } catch { return false; }
  const r = bytesToBigInt(sig64.subarray(0, 32));
  const s = bytesToBigInt(sig64.subarray(32, 64));
  if (r >= FIELD_PRIME || s >= CURVE_ORDER) return false;
  const e = challenge(sig64.subarray(0, 32), publicKeyX, msg32);
  // R = s·G − e·P must be finite, have even Y and x(R) = r
  let R: Uint8Array;
  try { R = secp().mulAddG(P, (CURVE_ORDER - e) % CURVE_ORDER, s); } catch { return false; }
  if (R[0] !== 2) return false;
  for (let i = 0; i < 32; i++) if (R[i + 1] !== sig64[i]) return false;
  return true;
}

// ---------------------------------------------------------------- attestation points

/**
 * The point S = s·G an oracle's signature on `msg32` with nonce R will have:
 * S = R + H(R.x || P.x || m)·P, with R and P lifted to even Y (BIP340).
 * @returns a 33-byte compressed point (the adaptor point of one outcome/digit).
 * @throws {DlcError} INVALID_LENGTH / INVALID_POINT when the key or nonce is not a valid x-only point.
 */
export function attestationPoint(publicKeyX: Uint8Array, nonceX: Uint8Array, msg32: Uint8Array): Uint8Array {
  checkLen(msg32, 32, 'message');
  const P = liftX(publicKeyX);
  const R = liftX(nonceX);
  const be = secp();
  const e = challenge(nonceX, publicKeyX, msg32);
  if (e === 0n) return R;
  return be.add([R, be.mul(P, bigIntToBytes(e))]);
}

/** One oracle as a CET sees it: its x-only key and the x-only nonces of its event. */
export interface OracleNonces {
  publicKey: Uint8Array;
  nonces: readonly Uint8Array[];
}

/**
 * Attestation points of every digit value at every nonce of a numeric event:
 * `table[i][d]` is the point of digit value d signed with nonce i. Digits are
 * signed as their base-10 string (Oracle.md: bases above 10 too).
 * @throws {DlcError} INVALID_PARAMS for a base below 2; INVALID_POINT / INVALID_LENGTH for bad keys.
 */
export function digitPointTable(profile: HashProfile, oracle: OracleNonces, base: number): Uint8Array[][] {
  if (!Number.isInteger(base) || base < 2 || base > 0xffff) throw new DlcError('INVALID_PARAMS', `invalid digit base ${base}`, { reason: 'base' });
  const digests = Array.from({ length: base }, (_, d) => outcomeDigest(profile, String(d)));
  return oracle.nonces.map((R) => digests.map((m) => attestationPoint(oracle.publicKey, R, m)));
}

/** Parameters of `numericAdaptorPoints`. */
export interface NumericAdaptorPointsParams {
  profile: HashProfile;
  /** Digit base of every oracle's event (2 for binary). */
  base: number;
  oracles: readonly OracleNonces[];
  /**
   * One entry per CET; each entry has one digit prefix per oracle, in
   * `oracles` order (`null` for an oracle that this CET does not use, as in
   * t-of-n). A prefix of length L uses the oracle's first L nonces.
   */
  prefixes: readonly (readonly (readonly number[] | null)[])[];
}

/**
 * A node of a digit-prefix trie: the sum of the trie's digit points along the
 * prefix. A trie belongs to one oracle, or to a group of oracles that all
 * sign the same prefix (its digit points are the sums of theirs).
 */
interface PrefixNode extends PartialSum {
  children: (PrefixNode | undefined)[];
}

/** A memoised sum of the prefix points of a slot's first oracles, keyed by the next oracle's prefix node. */
interface PartialSum {
  point: SumPoint;
  next: Map<PrefixNode, PartialSum> | undefined;
}

/** The trie of one oracle or one group of oracles signing the same prefixes. */
interface PrefixTrie {
  /** Longest prefix: the fewest nonces among the group's oracles. */
  maxLength: number;
  /** digitPoints[l][d], computed on first use. */
  digitPoints: (SumPoint | undefined)[][];
  digitPoint(l: number, d: number): SumPoint;
  roots: (PrefixNode | undefined)[];
}

function sameDigits(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Adaptor points of numeric-outcome CETs: for each CET, the sum over its
 * oracles of the digit points of that oracle's prefix (NumericOutcome.md,
 * MultiOracle.md). Shared work, so that a t-of-n plan costs about the same per
 * adaptor signature as a single oracle:
 * 1. digit points are computed once per (oracle, nonce, digit);
 * 2. a slot whose oracles all sign the same prefix (every slot of an exact
 *    t-of-n contract) is a prefix of ONE trie for that oracle group, whose
 *    digit points are the sums of the group's: each prefix point is its
 *    parent's plus one digit point, so a slot costs what a single-oracle slot
 *    costs (usually one addition), whatever t;
 * 3. otherwise (bounded differences: the oracles sign different prefixes) each
 *    oracle's prefix point comes from its own trie, and the sum of a slot's
 *    first oracles' points is memoised, shared by the combinations and tuples
 *    that start alike;
 * 4. all of it in projective coordinates, encoded with one batched inversion
 *    (./point-sums.ts).
 * @returns one 33-byte point per CET, in input order.
 * @throws {DlcError} INVALID_PARAMS (reason `prefix`) for an empty, too long
 *   or out-of-base prefix or a CET without oracles; INVALID_POINT for bad keys;
 *   INVALID_POINT (reason `infinity`) if a sum is the point at infinity (negligible).
 */
export function numericAdaptorPoints(params: NumericAdaptorPointsParams): Uint8Array[] {
  const { profile, base, oracles, prefixes } = params;
  const tables = oracles.map((o) => digitPointTable(profile, o, base));
  const bad = (why: string): DlcError => new DlcError('INVALID_PARAMS', why, { reason: 'prefix' });

  const tries = new Map<string, PrefixTrie>();
  /** The trie of the oracle group `members` (ascending oracle indexes). */
  const trieOf = (members: readonly number[]): PrefixTrie => {
    const key = members.join(',');
    let trie = tries.get(key);
    if (trie !== undefined) return trie;
    const maxLength = Math.min(...members.map((j) => tables[j]!.length));
    const digitPoints = Array.from({ length: maxLength }, () => new Array<SumPoint | undefined>(base));
    const single = members.length === 1 ? members[0]! : undefined;
    const memberTries = single === undefined ? members.map((j) => trieOf([j])) : [];
    trie = {
      maxLength,
      digitPoints,
      digitPoint(l, d) {
        const row = digitPoints[l]!;
        let pt = row[d];
        if (pt === undefined) {
          pt = single !== undefined
            ? sumPointOf(tables[single]![l]![d]!)
            : memberTries.slice(1).reduce((acc, t) => addSumPoints(acc, t.digitPoint(l, d)), memberTries[0]!.digitPoint(l, d));
          row[d] = pt;
        }
        return pt;
      },
      roots: [],
    };
    tries.set(key, trie);
    return trie;
  };

  const prefixNode = (trie: PrefixTrie, digits: readonly number[]): PrefixNode => {
    const L = digits.length;
    if (L === 0 || L > trie.maxLength) throw bad(`prefix length ${L} not in 1..${trie.maxLength}`);
    let children = trie.roots;
    let node: PrefixNode | undefined;
    for (let l = 0; l < L; l++) {
      const d = digits[l]!;
      if (!Number.isInteger(d) || d < 0 || d >= base) throw bad(`digit ${d} not in base ${base}`);
      let child = children[d];
      if (child === undefined) {
        const pt = trie.digitPoint(l, d);
        child = { point: node === undefined ? pt : addSumPoints(node.point, pt), next: undefined, children: [] };
        children[d] = child;
      }
      node = child;
      children = child.children;
    }
    return node!;
  };

  const sums = new Array<SumPoint>(prefixes.length);
  const members: number[] = [];
  const used: PrefixNode[] = [];
  for (let c = 0; c < prefixes.length; c++) {
    const perOracle = prefixes[c]!;
    if (perOracle.length !== oracles.length) throw bad(`CET ${c} has ${perOracle.length} prefixes for ${oracles.length} oracles`);
    members.length = 0;
    let first: readonly number[] | undefined;
    let same = true;
    for (let j = 0; j < perOracle.length; j++) {
      const digits = perOracle[j];
      if (digits === null || digits === undefined) continue;
      members.push(j);
      if (first === undefined) first = digits;
      else if (same && !sameDigits(first, digits)) same = false;
    }
    if (first === undefined) throw bad(`CET ${c} uses no oracle`);
    if (same) {
      sums[c] = prefixNode(trieOf(members), first).point;
      continue;
    }
    used.length = 0;
    for (const j of members) used.push(prefixNode(trieOf([j]), perOracle[j]!));
    // Memoise the sums of all but the last oracle (shared across combinations);
    // the full sum is this slot's own and is not kept.
    let acc: PartialSum = used[0]!;
    for (let k = 1; k < used.length - 1; k++) {
      const node = used[k]!;
      acc.next ??= new Map();
      let nextSum = acc.next.get(node);
      if (nextSum === undefined) {
        nextSum = { point: addSumPoints(acc.point, node.point), next: undefined };
        acc.next.set(node, nextSum);
      }
      acc = nextSum;
    }
    sums[c] = addSumPoints(acc.point, used[used.length - 1]!.point);
  }
  return encodeSumPoints(sums);
}

/**
 * Adaptor point of an outcome attested by several single-nonce (enum)
 * oracles: the sum of each oracle's attestation point for its outcome.
 * @param outcomes one outcome per oracle, `null` for an oracle not used.
 * @throws {DlcError} INVALID_PARAMS when the lists do not line up; INVALID_POINT for bad keys.
 */
export function enumAdaptorPoint(profile: HashProfile, oracles: readonly OracleNonces[], outcomes: readonly (string | null)[]): Uint8Array {
  if (outcomes.length !== oracles.length) throw new DlcError('INVALID_PARAMS', 'one outcome per oracle is required', { reason: 'outcomes' });
  const parts: Uint8Array[] = [];
  oracles.forEach((o, j) => {
    const outcome = outcomes[j];
    if (outcome === null || outcome === undefined) return;
    if (o.nonces.length < 1) throw new DlcError('INVALID_PARAMS', 'enum oracle has no nonce', { reason: 'outcomes' });
    parts.push(attestationPoint(o.publicKey, o.nonces[0]!, outcomeDigest(profile, outcome)));
  });
  if (parts.length === 0) throw new DlcError('INVALID_PARAMS', 'no oracle used', { reason: 'outcomes' });
  return parts.length === 1 ? parts[0]! : secp().add(parts);
}

/**
 * The adaptor decryption key of a CET from the attestation signatures that
 * complete it: the sum of their s values mod n (the discrete log of the sum
 * of their attestation points).
 * @throws {DlcError} INVALID_LENGTH for a signature that is not 64 bytes; INVALID_SCALAR when the sum is 0.
 */
export function attestationSecret(signatures: readonly Uint8Array[]): Uint8Array {
  let sum = 0n;
  for (const sig of signatures) {
    checkLen(sig, 64, 'signature');
    sum += bytesToBigInt(sig.subarray(32, 64));
  }
  sum %= CURVE_ORDER;
  if (sum === 0n) throw new DlcError('INVALID_SCALAR', 'attestation secret is zero', { reason: 'scalar-range' });
  return bigIntToBytes(sum);
}

// ---------------------------------------------------------------- oracle side

/**
 * The secret nonce of position `index` of event `eventId`, derived from the
 * oracle key: tagged_hash("hashdlc/oracle/nonce/v0", sk || SHA256(eventId) || u32be(index)) mod n.
 * Deterministic, so the oracle needs to store no nonce secrets; it MUST never
 * sign two different outcomes at the same (eventId, index).
 * @throws {DlcError} INVALID_SCALAR for a bad key; INVALID_PARAMS for a bad index.
 */
export function deriveNonceSecret(secretKey: Uint8Array, eventId: string, index: number): Uint8Array {
  parseNonZeroScalar(secretKey, 'secret key');
  if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) throw new DlcError('INVALID_PARAMS', `invalid nonce index ${index}`, { reason: 'nonce-index' });
  const idx = new Uint8Array(4);
  new DataView(idx.buffer).setUint32(0, index);
  const k = bytesToBigInt(taggedHash(NONCE_DERIVATION_TAG, secretKey, sha256(utf8.encode(eventId)), idx)) % CURVE_ORDER;
  if (k === 0n) throw new DlcError('INVALID_SCALAR', 'derived nonce is zero', { reason: 'nonce-zero' });
  return bigIntToBytes(k);
}

/**
 * The x-only public nonces an oracle announces for an event with `count` positions.
 * @throws {DlcError} as `deriveNonceSecret`.
 */
export function eventNonces(secretKey: Uint8Array, eventId: string, count: number): Uint8Array[] {
  const be = secp();
  return Array.from({ length: count }, (_, i) => be.mulG(deriveNonceSecret(secretKey, eventId, i)).slice(1));
}

/**
 * Signs an announcement: BIP340 over `announcementDigest(profile, oracleEventTlv)`.
 * @throws {DlcError} DECODE_ERROR for a malformed TLV header; INVALID_SCALAR for a bad key.
 */
export function signAnnouncement(profile: HashProfile, secretKey: Uint8Array, oracleEventTlv: Uint8Array, aux32?: Uint8Array): Uint8Array {
  return schnorrSign(secretKey, announcementDigest(profile, oracleEventTlv), aux32);
}

/**
 * Checks an announcement signature.
 * @throws {DlcError} DECODE_ERROR for a malformed TLV header.
 */
export function verifyAnnouncement(profile: HashProfile, publicKeyX: Uint8Array, signature: Uint8Array, oracleEventTlv: Uint8Array): boolean {
  return schnorrVerify(signature, announcementDigest(profile, oracleEventTlv), publicKeyX);
}

/**
 * Attests outcomes of an event: outcome i is signed with the nonce of position i
 * (for numeric events, one outcome per digit, most significant first).
 * @returns one 64-byte signature per outcome.
 * @throws {DlcError} INVALID_SCALAR for a bad key.
 */
export function attest(profile: HashProfile, secretKey: Uint8Array, eventId: string, outcomes: readonly string[]): Uint8Array[] {
  return outcomes.map((o, i) => schnorrSignWithNonce(secretKey, deriveNonceSecret(secretKey, eventId, i), outcomeDigest(profile, o)));
}

/**
 * Checks an attestation against the announced nonces: one valid signature per
 * outcome, each made with the nonce of its position.
 * @throws {DlcError} BAD_SIGNATURE with reason `count` (more outcomes than nonces or
 *   lists of different lengths), `nonce-mismatch` or `signature`, naming the position.
 */
export function verifyAttestation(
  profile: HashProfile, publicKeyX: Uint8Array, nonces: readonly Uint8Array[], signatures: readonly Uint8Array[], outcomes: readonly string[],
): void {
  if (signatures.length !== outcomes.length || signatures.length > nonces.length || signatures.length === 0) {
    throw new DlcError('BAD_SIGNATURE', 'attestation has the wrong number of signatures or outcomes', { reason: 'count' });
  }
  for (let i = 0; i < signatures.length; i++) {
    const sig = signatures[i]!;
    const R = nonces[i]!;
    if (sig.length !== 64 || R.length !== 32 || sig.subarray(0, 32).some((v, j) => v !== R[j])) {
      throw new DlcError('BAD_SIGNATURE', `attestation signature ${i} does not use the announced nonce`, { reason: 'nonce-mismatch' });
    }
    if (!schnorrVerify(sig, outcomeDigest(profile, outcomes[i]!), publicKeyX)) {
      throw new DlcError('BAD_SIGNATURE', `attestation signature ${i} does not verify`, { reason: 'signature' });
    }
  }
}
