/**
 * The coordinator's view of the oracles: the one oracle client
 * (src/api/oracle-client.ts, oracle/API.md v1) with the coordinator's
 * timeout (10 s), its cache of `GET /v1/info`, and its error code: every
 * failure is a CoordinatorError ORACLE_UNAVAILABLE. Answers are decoded with
 * protocol/messages; checking them (signatures, equality with an offer) is the
 * caller's job.
 *
 * This module does NOT verify signatures, cache attestations or retry.
 */
import type { OracleAnnouncement, OracleAttestation } from '../../protocol/messages/index.js';
import { decodeMessage, fromHex } from '../../protocol/messages/index.js';
import { OracleClient as ApiOracleClient, ServiceError } from '../api/index.js';
import { CoordinatorError } from './errors.js';

export interface OracleInfoJson {
  publicKey: string;
  hashProfile: 'sha256' | 'tagged';
}

/** The event parameters the oracle states (oracle/API.md `EventJson.params`), where it states them. */
export interface EventParams {
  kind: string;
  window: { start: number; end: number } | null;
  deliveryAddress: string | null;
  hashrateThs: string | null;
  /** The reward rule of a hashprice or delivery event (oracle/API.md); null before rules were stated. */
  rewardRule: string | null;
  /** Issue 16: how the pool pays (oracle/API.md), null when the event states no scheme (today's per-block rule). */
  payoutScheme: string | null;
}

export interface FetchedAnnouncement {
  announcement: OracleAnnouncement;
  /** The wire bytes as served. */
  bytes: Uint8Array;
  /** null when the oracle serves no parameters (not our oracle service). */
  params: EventParams | null;
  /** The height at which the oracle attests (oracle/API.md `attestHeight`), when stated. */
  attestHeight: number | null;
  /** Whether the oracle says the event is attested (`state: "attested"`): its outcome is public. */
  attested: boolean;
}

export interface FetchedAttestation {
  attestation: OracleAttestation;
  bytes: Uint8Array;
  /** The oracle's statement of the outcome (numeric: decimal). */
  outcome: string;
}

/** ORACLE_UNAVAILABLE naming the oracle: reason `oracle-unreachable` (no answer) or `oracle-answer` (an answer we cannot use). */
function unavailable(url: string, what: string, cause?: unknown, reason: 'oracle-unreachable' | 'oracle-answer' = 'oracle-answer'): CoordinatorError {
  return new CoordinatorError('ORACLE_UNAVAILABLE', `oracle ${url}: ${what}`, { cause, reason, details: { oracle: url } });
}

/** What went wrong with a request, in the coordinator's words. */
function failed(url: string, what: string, err: unknown): CoordinatorError {
  if (!(err instanceof ServiceError)) return unavailable(url, `${what}: ${err instanceof Error ? err.message : String(err)}`, err, 'oracle-unreachable');
  if (err.failure === 'timeout' || err.failure === 'unreachable') return unavailable(url, 'unreachable', err, 'oracle-unreachable');
  if (err.failure === 'not-json') return unavailable(url, `HTTP ${err.status ?? '?'} with a body that is not JSON`, err);
  return unavailable(url, `${what} answered HTTP ${err.status ?? '?'}`, err);
}

/** Decodes a served message of the expected type. @throws {CoordinatorError} ORACLE_UNAVAILABLE. */
function decodeAs<T extends 'oracle_announcement' | 'oracle_attestation'>(url: string, hex: string, type: T, what: string) {
  const bytes = fromHex(hex);
  let msg;
  try {
    msg = decodeMessage(bytes);
  } catch (cause) {
    throw unavailable(url, `${what} does not decode`, cause);
  }
  if (msg.type !== type) throw unavailable(url, `${what} hex is a ${msg.type}`);
  return { bytes, message: msg.message as T extends 'oracle_announcement' ? OracleAnnouncement : OracleAttestation };
}

/** One oracle base URL. */
export class OracleClient {
  readonly url: string;
  readonly #api: ApiOracleClient;
  #info: OracleInfoJson | undefined;

  constructor(url: string, timeoutMs = 10_000) {
    this.#api = new ApiOracleClient(url, { timeoutMs });
    this.url = this.#api.url;
  }

  /**
   * `GET /v1/info` (cached after the first success).
   * @throws {CoordinatorError} ORACLE_UNAVAILABLE.
   */
  async info(): Promise<OracleInfoJson> {
    if (this.#info !== undefined) return this.#info;
    let info;
    try {
      info = await this.#api.infoKey();
    } catch (err) {
      throw failed(this.url, 'GET /v1/info', err);
    }
    this.#info = { publicKey: info.publicKey, hashProfile: info.hashProfile };
    return this.#info;
  }

  /**
   * The event's announcement, or null when the oracle does not know the event.
   * @throws {CoordinatorError} ORACLE_UNAVAILABLE (unreachable, other errors, undecodable answer).
   */
  async announcement(eventId: string): Promise<FetchedAnnouncement | null> {
    let ev;
    try {
      ev = await this.#api.announcedEvent(eventId);
    } catch (err) {
      throw failed(this.url, 'GET /v1/events/:id', err);
    }
    if (ev === null) return null;
    const { bytes, message } = decodeAs(this.url, ev.announcement.hex, 'oracle_announcement', 'announcement');
    const p = ev.params;
    const params: EventParams | null = p === undefined ? null : {
      kind: p.kind, window: p.window, deliveryAddress: p.deliveryAddress ?? null, hashrateThs: p.hashrateThs ?? null, rewardRule: p.rewardRule ?? null,
      payoutScheme: p.payoutScheme ?? null,
    };
    return { announcement: message, bytes, params, attestHeight: ev.attestHeight ?? null, attested: ev.state === 'attested' };
  }

  /**
   * The event's attestation, or null while it is not attested (404).
   * @throws {CoordinatorError} ORACLE_UNAVAILABLE.
   */
  async attestation(eventId: string): Promise<FetchedAttestation | null> {
    let a;
    try {
      a = await this.#api.attestationJson(eventId, { anyNotFound: true });
    } catch (err) {
      throw failed(this.url, 'GET /v1/events/:id/attestation', err);
    }
    if (a === null) return null;
    if (a.hex === undefined) throw unavailable(this.url, 'GET /v1/events/:id/attestation answered without the attestation hex');
    const { bytes, message } = decodeAs(this.url, a.hex, 'oracle_attestation', 'attestation');
    return { attestation: message, bytes, outcome: a.outcome };
  }
}
