/**
 * The one client of the oracle API (oracle/API.md v1) over `JsonService`:
 * the participant and the CLI, the coordinator (src/coordinator/oracle-client.ts
 * adds its caching and error codes), the dashboard (src/dashboard/oracle-proxy.ts
 * words failures for a page) and the stack all read an oracle through it.
 * Answers are checked with the schemas of src/api/oracle.ts.
 *
 * This module does NOT verify signatures or parameters (the callers do, with
 * protocol/) and does not retry.
 */
import type { OracleAnnouncement, OracleAttestation } from '../../protocol/messages/index.js';
import { decodeOracleAnnouncement, decodeOracleAttestation, fromHex } from '../../protocol/messages/index.js';
import { ParticipantError } from '../participant/errors.js';
import { JsonService, ServiceError, type JsonServiceOptions } from './http.js';
import {
  announcedEventSchema,
  attestationSchema,
  eventDisplaySchema,
  eventListSchema,
  eventProgressSchema,
  eventSchema,
  oracleInfoSchema,
  oracleKeySchema,
  type AnnouncedEventJson,
  type EventProgressJson,
  type AttestationJson,
  type OracleEventJson,
  type OracleEventView,
  type OracleInfo,
} from './oracle.js';

/** One oracle base URL. */
export class OracleClient {
  readonly http: JsonService;

  /** Default timeout 30 s: an oracle answers from its store. */
  constructor(base: string, opts: JsonServiceOptions = {}) {
    this.http = new JsonService(base, 'oracle', { timeoutMs: 30_000, ...opts });
  }

  get url(): string {
    return this.http.base;
  }

  /** @throws {ServiceError} UNREACHABLE, REMOTE. */
  info(): Promise<OracleInfo> {
    return this.http.get('/v1/info', oracleInfoSchema);
  }

  /** The key and hash profile of any v1 oracle (`GET /v1/info`). @throws {ServiceError} UNREACHABLE, REMOTE. */
  infoKey(): Promise<{ publicKey: string; hashProfile: 'sha256' | 'tagged' }> {
    return this.http.get('/v1/info', oracleKeySchema);
  }

  /** Creates (or finds) an event: a hashpower-delivery event needs no operator token. */
  createEvent(body: Record<string, unknown>): Promise<OracleEventJson> {
    return this.http.post('/v1/events', body, eventSchema);
  }

  /** The event as this project's oracle serves it (`EventJson`). @throws {ServiceError} UNREACHABLE, REMOTE (NOT_FOUND). */
  event(id: string): Promise<OracleEventJson> {
    return this.http.get(eventPath(id), eventSchema);
  }

  /** `GET /v1/events?...` (`EventJson` each). */
  events(query: Record<string, string>): Promise<OracleEventJson[]> {
    return this.http.get(`/v1/events${queryString(query)}`, eventListSchema(eventSchema)).then((r) => r.events);
  }

  /**
   * Any v1 oracle's event (an id and its announcement, parameters where stated), or null when the oracle does not know it.
   * @throws {ServiceError} UNREACHABLE, REMOTE.
   */
  async announcedEvent(id: string): Promise<AnnouncedEventJson | null> {
    return nullOn404(this.http.get(eventPath(id), announcedEventSchema));
  }

  /** The event for display (lenient shape). @throws {ServiceError} UNREACHABLE, REMOTE. */
  eventView(id: string): Promise<OracleEventView> {
    return this.http.get(eventPath(id), eventDisplaySchema);
  }

  /** `GET /v1/events?limit=&after=` for display. @throws {ServiceError} UNREACHABLE, REMOTE. */
  async eventViews(q: { limit?: number; after?: string } = {}): Promise<{ events: OracleEventView[]; next: string | null }> {
    const query: Record<string, string> = {};
    if (q.limit !== undefined) query.limit = String(q.limit);
    if (q.after !== undefined) query.after = q.after;
    const r = await this.http.get(`/v1/events${queryString(query)}`, eventListSchema(eventDisplaySchema));
    return { events: r.events, next: r.next ?? null };
  }

  /**
   * The attestation answer as served (outcome, message hex, result, evidence), or null while not attested
   * (404 `NOT_ATTESTED`; with `anyNotFound`, also an unknown event).
   * @throws {ServiceError} UNREACHABLE, REMOTE.
   */
  /** What the oracle has measured of the event's window so far (issue 14; informational), or null for an unknown event. */
  eventProgress(id: string): Promise<EventProgressJson | null> {
    return nullOn404(this.http.get(`${eventPath(id)}/progress`, eventProgressSchema));
  }

  attestationJson(id: string, opts: { anyNotFound?: boolean } = {}): Promise<AttestationJson | null> {
    return nullOn404(this.http.get(`${eventPath(id)}/attestation`, attestationSchema), opts.anyNotFound === true ? undefined : 'NOT_ATTESTED');
  }

  /** The event's announcement, decoded. @throws {DlcError} DECODE_ERROR for bad bytes. */
  static announcementOf(ev: OracleEventJson): OracleAnnouncement {
    return decodeOracleAnnouncement(fromHex(ev.announcement.hex));
  }

  /**
   * The event's attestation, decoded.
   * @throws {ParticipantError} NOT_READY when the oracle has not attested yet; REMOTE, UNREACHABLE.
   */
  async attestation(id: string): Promise<{ outcome: string; attestation: OracleAttestation }> {
    try {
      const a = await this.http.get(`${eventPath(id)}/attestation`, attestationSchema.required({ hex: true }));
      return { outcome: a.outcome, attestation: decodeOracleAttestation(fromHex(a.hex)) };
    } catch (e) {
      if (e instanceof ParticipantError && e.remoteCode === 'NOT_ATTESTED') {
        throw new ParticipantError('NOT_READY', `the oracle has not attested event ${id} yet`, { remoteCode: 'NOT_ATTESTED', cause: e });
      }
      throw e;
    }
  }
}

function eventPath(id: string): string {
  return `/v1/events/${encodeURIComponent(id)}`;
}

function queryString(query: Record<string, string>): string {
  const q = new URLSearchParams(query).toString();
  return q ? `?${q}` : '';
}

/** A 404 (with `remoteCode` when given) as null; any other failure thrown. */
async function nullOn404<T>(p: Promise<T>, remoteCode?: string): Promise<T | null> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof ServiceError && e.status === 404 && (remoteCode === undefined || e.remoteCode === remoteCode)) return null;
    throw e;
  }
}
