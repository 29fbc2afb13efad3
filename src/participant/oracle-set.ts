/**
 * A contract's oracle set (dlcspecs MultiOracle.md: K of n oracles attest
 * the one event, any K that agree complete a CET), from the participant's
 * side:
 *
 * - `offerThreshold`, `oracleInfoOf`: K of an offer and the oracle info it
 *   carries (`single` for one oracle, byte for byte what single-oracle offers
 *   always were; `multi` with `oracleParams: null` otherwise);
 * - `offerOracleEvents` (offerer): the same event at every configured oracle;
 * - `checkOfferedOracles` (accepter): every announcement of an offer fetched
 *   again from my own oracle with that key;
 * - `gatherAttestations` (settle, the agent, `oracle verify`): the
 *   attestation of every oracle of a stored contract, in parallel.
 *
 * Why exact agreement and no bounded difference (MultiOracle.md
 * `oracle_params`): our outcomes are recomputed from public chain data
 * (protocol/hashpower `recomputeOutcome`), so honest oracles following the
 * same chain attest the very same digits; a tolerance would only widen what a
 * lying oracle may move. An offer with `oracleParams` is refused (`oracle-params`).
 *
 * Named refusals (ParticipantError MISMATCH unless said): `oracle-not-trusted`,
 * `announcement-differs`, `event-differs`, `threshold` (USAGE when it is our
 * own configuration), `oracle-duplicate`, `oracle-params`, `oracle-hash-profile`.
 *
 * This module does NOT build contracts, sign, or print; it does not decide
 * which CET an attestation set completes (protocol/contract completion does).
 */
import type { HashProfile } from '../../protocol/crypto/index.js';
import type { OfferDlc, OracleAnnouncement, OracleAttestation, OracleInfo as DlcOracleInfo } from '../../protocol/messages/index.js';
import { encodeOracleAnnouncement, toHex, verifyAttestation } from '../../protocol/messages/index.js';
import { OracleClient, type OracleEventJson } from '../api/index.js';
import { majorityThreshold } from './config.js';
import { ParticipantError } from './errors.js';
import type { Participant } from './participant.js';
import type { LoadedContract } from './contract.js';

/** One oracle of a set: where this participant asks it, and its key (x-only, hex). */
export interface SetOracle {
  url: string;
  publicKey: string;
}

/**
 * K of an offer over `n` oracles: the configured threshold, else a majority.
 * Checked before anything is requested from an oracle.
 * @throws {ParticipantError} USAGE (`threshold`) when K is not in [1, n].
 */
export function offerThreshold(configured: number | undefined, n: number): number {
  const k = configured ?? majorityThreshold(n);
  if (!Number.isInteger(k) || k < 1 || k > n) {
    throw new ParticipantError('USAGE', `--threshold ${k} is not in [1, ${n}] (${n} oracle${n === 1 ? '' : 's'} configured)`, { reason: 'threshold' });
  }
  return k;
}

/**
 * The oracle info of a contract over these announcements (in oracle order):
 * `single` for one (what single-oracle offers always carried), else `multi`
 * with exact agreement (`oracleParams: null`, see the module header).
 */
export function oracleInfoOf(announcements: readonly OracleAnnouncement[], threshold: number): DlcOracleInfo {
  if (announcements.length === 1 && threshold === 1) return { single: { oracleAnnouncement: announcements[0]! } };
  return { multi: { threshold, oracleAnnouncements: [...announcements], oracleParams: null } };
}

/** Summary lines naming an oracle set: "oracles: K of n" and one line per oracle. */
export function oracleSetLines(threshold: number, oracles: readonly SetOracle[]): string[] {
  if (oracles.length === 1) return [`oracle ${oracles[0]!.url} (key ${oracles[0]!.publicKey})`];
  return [
    `oracles: ${threshold} of ${oracles.length} must attest the same outcome`,
    ...oracles.map((o, i) => `  oracle ${i + 1}: ${o.url} (key ${o.publicKey})`),
  ];
}

/** K and the announcements of an oracle info (`single` is 1 of 1). */
export function oracleSetOf(info: DlcOracleInfo): { threshold: number; announcements: OracleAnnouncement[]; bounded: boolean } {
  if ('single' in info) return { threshold: 1, announcements: [info.single.oracleAnnouncement], bounded: false };
  return { threshold: info.multi.threshold, announcements: info.multi.oracleAnnouncements, bounded: info.multi.oracleParams !== null };
}

/**
 * Refuses one key twice in a set (it would count twice towards K: one
 * operator deciding alone what looks like two).
 * @throws {ParticipantError} MISMATCH (`oracle-duplicate`).
 */
export function refuseDuplicateOracles(keys: readonly string[], where: string): void {
  const seen = new Set<string>();
  for (const k of keys) {
    if (seen.has(k)) throw new ParticipantError('MISMATCH', `oracle key ${k} appears twice in ${where}`, { reason: 'oracle-duplicate' });
    seen.add(k);
  }
}

/** Parameters as canonical JSON (sorted keys), to compare two oracles' events. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * Every oracle of a set must serve the same event: same id (which commits to
 * the parameters, oracle/API.md "Event ids"), same parameters, same
 * attestation height; else the oracles would measure different things and
 * could never agree.
 * @throws {ParticipantError} MISMATCH (`event-differs`).
 */
export function refuseDifferentEvents(events: readonly { url: string; event: OracleEventJson }[]): void {
  const [first, ...rest] = events;
  if (first === undefined) return;
  for (const { url, event } of rest) {
    const what =
      event.eventId !== first.event.eventId ? `event ${event.eventId}` :
        canonical(event.params) !== canonical(first.event.params) ? 'other parameters' :
          event.attestHeight !== first.event.attestHeight ? `attestation height ${event.attestHeight}` : undefined;
    if (what !== undefined) {
      throw new ParticipantError('MISMATCH', `the oracle at ${url} serves ${what} where the oracle at ${first.url} serves event ${first.event.eventId} (attests at ${first.event.attestHeight}): the oracles of one contract must announce the same event`, { reason: 'event-differs' });
    }
  }
}

/**
 * All oracles of a set hash outcomes the same way (a contract has one hash
 * profile: `FlowOptions.hashProfile`).
 * @throws {ParticipantError} MISMATCH (`oracle-hash-profile`).
 */
export function sameHashProfile(profiles: readonly { url: string; hashProfile: HashProfile }[]): HashProfile {
  const first = profiles[0]!;
  const other = profiles.find((p) => p.hashProfile !== first.hashProfile);
  if (other !== undefined) {
    throw new ParticipantError('MISMATCH', `the oracle at ${other.url} hashes outcomes with ${other.hashProfile}, the one at ${first.url} with ${first.hashProfile}: one contract takes one hash profile`, { reason: 'oracle-hash-profile' });
  }
  return first.hashProfile;
}

/** The checked event of each oracle of a set, in configured order. */
export interface OracleSetEvents {
  threshold: number;
  oracles: SetOracle[];
  /** Each oracle's event (same id and parameters: checked). */
  events: OracleEventJson[];
  announcements: OracleAnnouncement[];
  hashProfile: HashProfile;
}

/**
 * The offerer's oracle set: K checked first (`offerThreshold`), each
 * configured oracle's info (pinned keys, network; no key twice), then the
 * event from each (`eventAt`: created, found by window or by id), each
 * announcement checked against that oracle's key, and all events the same.
 * @throws {ParticipantError} USAGE (`threshold`), CONFIG (no oracle), MISMATCH
 *   (`oracle-duplicate`, `event-differs`, `oracle-hash-profile`, `oracle-pubkey`,
 *   `oracle-network`), NOT_READY, REMOTE, UNREACHABLE; {DlcError} BAD_SIGNATURE.
 */
export async function offerOracleEvents(p: Participant, eventAt: (oracle: OracleClient) => Promise<OracleEventJson>): Promise<OracleSetEvents> {
  const clients = p.oracles();
  const threshold = offerThreshold(p.config.oracleThreshold, clients.length);
  const infos = await Promise.all(clients.map((o) => p.oracleInfo(o.http.base)));
  refuseDuplicateOracles(infos.map((i) => i.publicKey), 'the configured oracles (--oracle)');
  const hashProfile = sameHashProfile(clients.map((o, i) => ({ url: o.http.base, hashProfile: infos[i]!.hashProfile })));
  const events = await Promise.all(clients.map((o) => eventAt(o)));
  refuseDifferentEvents(events.map((event, i) => ({ url: clients[i]!.http.base, event })));
  const announcements: OracleAnnouncement[] = [];
  for (let i = 0; i < clients.length; i++) announcements.push((await p.checkedAnnouncement(events[i]!, clients[i]!.http.base)).announcement);
  return { threshold, oracles: clients.map((o, i) => ({ url: o.http.base, publicKey: infos[i]!.publicKey })), events, announcements, hashProfile };
}

/**
 * The accepter's check of an offer's oracle set against its own oracles,
 * before anything is signed: no bounded difference (`oracle-params`), K in
 * [1, n] and at least my `oracleThreshold` (`threshold`), no key twice
 * (`oracle-duplicate`), each key one of my configured oracles'
 * (`oracle-not-trusted`), each announcement fetched from that oracle myself
 * and equal byte for byte (`announcement-differs`), all events the same
 * (`event-differs`). Returns MY fetched events and announcements (offer
 * order), from which the contract is rebuilt.
 * @throws {ParticipantError} MISMATCH (the reasons above, `oracle-hash-profile`,
 *   `oracle-pubkey`, `oracle-network`), CONFIG (no oracle), REMOTE, UNREACHABLE;
 *   {DlcError} BAD_SIGNATURE.
 */
export async function checkOfferedOracles(p: Participant, info: DlcOracleInfo): Promise<OracleSetEvents> {
  const { threshold, announcements: offered, bounded } = oracleSetOf(info);
  if (bounded) {
    throw new ParticipantError('MISMATCH', 'the offer allows bounded differences between its oracles (oracle_params); our events are exact: honest oracles attest the same digits', { reason: 'oracle-params' });
  }
  const n = offered.length;
  if (threshold < 1 || threshold > n) throw new ParticipantError('MISMATCH', `the offer's threshold ${threshold} is not in [1, ${n}]`, { reason: 'threshold' });
  const least = p.config.oracleThreshold;
  if (least !== undefined && threshold < least) {
    throw new ParticipantError('MISMATCH', `the offer settles on ${threshold} of ${n} oracles; you take at least ${least} (--threshold)`, { reason: 'threshold' });
  }
  const offeredKeys = offered.map((a) => toHex(a.oraclePublicKey));
  refuseDuplicateOracles(offeredKeys, 'the offer');
  const mine = await configuredOracleKeys(p);
  refuseDuplicateOracles(mine.filter((m) => m.publicKey !== undefined).map((m) => m.publicKey!), 'the configured oracles (--oracle)');
  const oracles: SetOracle[] = offeredKeys.map((key) => {
    const m = mine.find((o) => o.publicKey === key);
    if (m === undefined) {
      // An oracle of mine that did not answer may be the one: nothing can be concluded until it does.
      const down = mine.filter((o) => o.publicKey === undefined).map((o) => o.url);
      if (down.length > 0) throw new ParticipantError('UNREACHABLE', `the offer names oracle key ${key}; your oracle(s) at ${down.join(', ')} did not answer, so it cannot be checked`);
      throw new ParticipantError('MISMATCH', `the offer names oracle key ${key}, which none of your oracles has; list it with --oracle URL if you trust it`, { reason: 'oracle-not-trusted' });
    }
    return { url: m.url, publicKey: key };
  });
  const events = await Promise.all(oracles.map((o, i) => new OracleClient(o.url).event(offered[i]!.oracleEvent.eventId)));
  const announcements: OracleAnnouncement[] = [];
  for (let i = 0; i < n; i++) {
    const { announcement } = await p.checkedAnnouncement(events[i]!, oracles[i]!.url);
    if (toHex(encodeOracleAnnouncement(announcement)) !== toHex(encodeOracleAnnouncement(offered[i]!))) {
      throw new ParticipantError('MISMATCH', `the offer's announcement of event ${events[i]!.eventId} by ${oracles[i]!.publicKey} is not the one that oracle serves at ${oracles[i]!.url}`, { reason: 'announcement-differs' });
    }
    announcements.push(announcement);
  }
  refuseDifferentEvents(events.map((event, i) => ({ url: oracles[i]!.url, event })));
  const hashProfile = sameHashProfile(await Promise.all(oracles.map(async (o) => ({ url: o.url, hashProfile: (await p.oracleInfo(o.url)).hashProfile }))));
  return { threshold, oracles, events, announcements, hashProfile };
}

/**
 * The key of each configured oracle (checked: pinned keys, network), or
 * undefined for one that cannot be reached now: an offer's set may be a
 * subset of mine, so an oracle it does not name need not answer.
 * @throws {ParticipantError} MISMATCH (`oracle-pubkey`, `oracle-network`), CONFIG.
 */
async function configuredOracleKeys(p: Participant): Promise<{ url: string; publicKey: string | undefined }[]> {
  return Promise.all(
    p.oracles().map(async (o) => {
      try {
        return { url: o.http.base, publicKey: (await p.oracleInfo(o.http.base)).publicKey };
      } catch (e) {
        if (e instanceof ParticipantError && (e.code === 'UNREACHABLE' || e.code === 'REMOTE')) return { url: o.http.base, publicKey: undefined };
        throw e;
      }
    }),
  );
}

// ------------------------------------------------------------------ attestations

/** What one oracle of a contract said about its event. */
export interface OracleAttestationReport {
  /** Position of its announcement in the contract's oracle info. */
  oracleIndex: number;
  url: string | undefined;
  publicKey: string;
  /** The attested outcome (verified against the announcement), or null. */
  outcome: string | null;
  attestation: OracleAttestation | null;
  /** Why there is no attestation: `no-url`, `not-attested`, `unreachable`, `bad-attestation: ...`. */
  missing: string | null;
}

/** Every oracle of a contract and its attestation. */
export interface GatheredAttestations {
  eventId: string;
  threshold: number;
  oracles: OracleAttestationReport[];
  /** The verified attestations, by oracle index (what CET completion takes). */
  attested: { oracleIndex: number; attestation: OracleAttestation }[];
}

/**
 * The oracle set of a stored contract: K, its announcements and keys (in
 * oracle order), and where to ask each oracle: a configured oracle with
 * that key (so `--oracle` may move an oracle to another URL), else the URL
 * the record stored for that key, else (records from before oracle sets) the
 * record's single `oracle`.
 * @throws {ParticipantError} MISMATCH (`disjoint-contract`).
 */
export async function contractOracles(
  p: Participant,
  c: Pick<LoadedContract, 'record' | 'offer'>,
): Promise<{ threshold: number; announcements: OracleAnnouncement[]; keys: string[]; urls: (string | undefined)[] }> {
  const { threshold, announcements } = oracleSetOf(contractOracleInfo(c.offer));
  const keys = announcements.map((a) => toHex(a.oraclePublicKey));
  const configured = p.config.oracles.length === 0 ? [] : await configuredOracleKeys(p).catch(() => []);
  const urls = keys.map((key) => {
    const own = configured.find((o) => o.publicKey === key)?.url;
    if (own !== undefined) return own;
    const stored = c.record.oracles?.find((o) => o.publicKey === key)?.url;
    if (stored !== undefined) return stored;
    // Single-oracle records of before: the configured oracle (unchecked key: the attestation is verified), else the stored one.
    return keys.length === 1 ? (p.config.oracles[0] ?? c.record.oracle) : undefined;
  });
  return { threshold, announcements, keys, urls };
}

/**
 * The attestation of a stored contract's event from every one of its
 * oracles, fetched in parallel; each verified against that oracle's
 * announcement (BIP340, the contract's hash profile). An oracle that cannot
 * be reached, has not attested or sent an attestation that does not verify
 * is reported and skipped: K others may still settle.
 * Never throws for an oracle's answer.
 * @throws {ParticipantError} MISMATCH (`disjoint-contract`).
 */
export async function gatherAttestations(p: Participant, c: Pick<LoadedContract, 'record' | 'offer'>): Promise<GatheredAttestations> {
  const { threshold, announcements: anns, keys, urls } = await contractOracles(p, c);
  const oracles = await Promise.all(
    anns.map(async (ann, oracleIndex): Promise<OracleAttestationReport> => {
      const url = urls[oracleIndex];
      const report: OracleAttestationReport = { oracleIndex, url, publicKey: keys[oracleIndex]!, outcome: null, attestation: null, missing: null };
      if (url === undefined) return { ...report, missing: 'no-url' };
      try {
        const { outcome, attestation } = await new OracleClient(url).attestation(ann.oracleEvent.eventId);
        try {
          verifyAttestation(attestation, ann, c.record.hashProfile);
        } catch (e) {
          return { ...report, missing: `bad-attestation: ${e instanceof Error ? e.message : String(e)}` };
        }
        return { ...report, outcome, attestation };
      } catch (e) {
        if (e instanceof ParticipantError && e.code === 'NOT_READY') return { ...report, missing: 'not-attested' };
        return { ...report, missing: `unreachable: ${e instanceof Error ? e.message : String(e)}` };
      }
    }),
  );
  const attested = oracles.flatMap((o) => (o.attestation === null ? [] : [{ oracleIndex: o.oracleIndex, attestation: o.attestation }]));
  return { eventId: anns[0]?.oracleEvent.eventId ?? '', threshold, oracles, attested };
}

/** How many of K attested, for messages: "1 of 2 needed oracles attested (3 in the set)". */
export function attestedCount(g: GatheredAttestations): string {
  return `${g.attested.length} of the ${g.threshold} needed oracle${g.threshold === 1 ? '' : 's'} attested (${g.oracles.length} in the set)`;
}

/** The oracle info of an offer made by a template (single contract). @throws {ParticipantError} MISMATCH (`disjoint-contract`). */
export function contractOracleInfo(offer: OfferDlc): DlcOracleInfo {
  const ci = offer.contractInfo;
  if (!('singleContractInfo' in ci)) throw new ParticipantError('MISMATCH', 'a disjoint contract is not one of our templates', { reason: 'disjoint-contract' });
  return ci.singleContractInfo.contractInfo.oracleInfo;
}
