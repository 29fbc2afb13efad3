/**
 * The coordinator's view of the oracles, over HTTP only (oracle/API.md v1):
 * `GET /v1/info`, `GET /v1/events/:id` (the announcement), `GET
 * /v1/events/:id/attestation`. Answers are decoded with protocol/messages;
 * checking them (signatures, equality with an offer) is the caller's job.
 *
 * This module does NOT verify signatures, cache attestations or retry.
 */
import { z } from 'zod';
import type { OracleAnnouncement, OracleAttestation } from '../../protocol/messages/index.js';
import { decodeMessage, fromHex } from '../../protocol/messages/index.js';
import { CoordinatorError } from './errors.js';

const infoSchema = z.object({ publicKey: z.string().regex(/^[0-9a-f]{64}$/), hashProfile: z.enum(['sha256', 'tagged']) }).loose();
const paramsSchema = z.object({
  kind: z.string(),
  window: z.object({ start: z.number().int(), end: z.number().int() }).nullable(),
  deliveryAddress: z.string().nullable().optional(),
  hashrateThs: z.string().nullable().optional(),
  rewardRule: z.string().nullable().optional(),
}).loose();
const eventSchema = z.object({
  eventId: z.string(),
  announcement: z.object({ hex: z.string().regex(/^[0-9a-f]+$/) }).loose(),
  params: paramsSchema.optional(),
  attestHeight: z.number().int().optional(),
  state: z.string().optional(),
}).loose();
const attestationSchema = z.object({ eventId: z.string(), outcome: z.string(), hex: z.string().regex(/^[0-9a-f]+$/) }).loose();

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

function unavailable(url: string, what: string, cause?: unknown): CoordinatorError {
  return new CoordinatorError('ORACLE_UNAVAILABLE', `oracle ${url}: ${what}`, { cause, details: { oracle: url } });
}

/** One oracle base URL. */
export class OracleClient {
  readonly url: string;
  readonly #timeoutMs: number;
  #info: OracleInfoJson | undefined;

  constructor(url: string, timeoutMs = 10_000) {
    this.url = url.replace(/\/+$/, '');
    this.#timeoutMs = timeoutMs;
  }

  async #get(path: string): Promise<{ status: number; json: unknown }> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, { signal: AbortSignal.timeout(this.#timeoutMs), headers: { accept: 'application/json' } });
    } catch (cause) {
      throw unavailable(this.url, 'unreachable', cause);
    }
    let json: unknown;
    try {
      json = await res.json();
    } catch (cause) {
      throw unavailable(this.url, `HTTP ${res.status} with a body that is not JSON`, cause);
    }
    return { status: res.status, json };
  }

  /**
   * `GET /v1/info` (cached after the first success).
   * @throws {CoordinatorError} ORACLE_UNAVAILABLE.
   */
  async info(): Promise<OracleInfoJson> {
    if (this.#info !== undefined) return this.#info;
    const { status, json } = await this.#get('/v1/info');
    const parsed = infoSchema.safeParse(json);
    if (status !== 200 || !parsed.success) throw unavailable(this.url, `GET /v1/info answered HTTP ${status} without publicKey/hashProfile`);
    this.#info = { publicKey: parsed.data.publicKey, hashProfile: parsed.data.hashProfile };
    return this.#info;
  }

  /**
   * The event's announcement, or null when the oracle does not know the event.
   * @throws {CoordinatorError} ORACLE_UNAVAILABLE (unreachable, other errors, undecodable answer).
   */
  async announcement(eventId: string): Promise<FetchedAnnouncement | null> {
    const { status, json } = await this.#get(`/v1/events/${encodeURIComponent(eventId)}`);
    if (status === 404) return null;
    const parsed = eventSchema.safeParse(json);
    if (status !== 200 || !parsed.success) throw unavailable(this.url, `GET /v1/events/:id answered HTTP ${status}`);
    const bytes = fromHex(parsed.data.announcement.hex);
    let msg;
    try {
      msg = decodeMessage(bytes);
    } catch (cause) {
      throw unavailable(this.url, 'announcement does not decode', cause);
    }
    if (msg.type !== 'oracle_announcement') throw unavailable(this.url, `announcement hex is a ${msg.type}`);
    const p = parsed.data.params;
    const params: EventParams | null = p === undefined ? null : {
      kind: p.kind, window: p.window, deliveryAddress: p.deliveryAddress ?? null, hashrateThs: p.hashrateThs ?? null, rewardRule: p.rewardRule ?? null,
    };
    return { announcement: msg.message, bytes, params, attestHeight: parsed.data.attestHeight ?? null, attested: parsed.data.state === 'attested' };
  }

  /**
   * The event's attestation, or null while it is not attested (404).
   * @throws {CoordinatorError} ORACLE_UNAVAILABLE.
   */
  async attestation(eventId: string): Promise<FetchedAttestation | null> {
    const { status, json } = await this.#get(`/v1/events/${encodeURIComponent(eventId)}/attestation`);
    if (status === 404) return null;
    const parsed = attestationSchema.safeParse(json);
    if (status !== 200 || !parsed.success) throw unavailable(this.url, `GET /v1/events/:id/attestation answered HTTP ${status}`);
    const bytes = fromHex(parsed.data.hex);
    let msg;
    try {
      msg = decodeMessage(bytes);
    } catch (cause) {
      throw unavailable(this.url, 'attestation does not decode', cause);
    }
    if (msg.type !== 'oracle_attestation') throw unavailable(this.url, `attestation hex is a ${msg.type}`);
    return { attestation: msg.message, bytes, outcome: parsed.data.outcome };
  }
}
