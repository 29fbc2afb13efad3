/**
 * The CLI's HTTP clients: the coordinator (src/coordinator/API.md, every POST
 * signed with the contract's identity key through protocol/auth) and the
 * oracle (oracle/API.md). Answers are checked with zod for the fields the CLI
 * uses (other fields pass through); an error answer becomes a ParticipantError
 * REMOTE carrying the service's stable code and reason.
 *
 * This module does NOT verify what it fetches (signatures, terms): the
 * commands do, with protocol/contract and protocol/messages.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { signRequest } from '../../protocol/auth/index.js';
import type { OracleAnnouncement, OracleAttestation } from '../../protocol/messages/index.js';
import { decodeOracleAnnouncement, decodeOracleAttestation, fromHex } from '../../protocol/messages/index.js';
import { isHexText } from '../../protocol/messages/index.js';
import { ParticipantError } from '../participant/errors.js';

// Linear check: a repeated-group regex throws RangeError on the accept/sign of a large contract.
const hex = z.string().refine((s) => isHexText(s) && s === s.toLowerCase());

const errorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string().optional(), reason: z.string().optional() }).loose(),
});

/** One JSON-over-HTTP service. */
export class JsonService {
  readonly base: string;
  readonly name: string;
  readonly #timeoutMs: number;

  constructor(base: string, name: string, timeoutMs = 120_000) {
    this.base = base.replace(/\/+$/, '');
    this.name = name;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Sends a request; `identityKey` signs it (protocol/auth headers).
   * @throws {ParticipantError} UNREACHABLE, REMOTE.
   */
  async request(method: 'GET' | 'POST', path: string, body?: unknown, identityKey?: Uint8Array): Promise<unknown> {
    const text = body === undefined ? '' : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (identityKey !== undefined) {
      // Random aux: a retry of the same request in the same second is a new signature, not a replay.
      Object.assign(headers, signRequest(identityKey, { method, path, body: text, timestamp: Math.floor(Date.now() / 1000) }, randomBytes(32)));
    }
    let res: Response;
    let answer: string;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: text }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      answer = await res.text();
    } catch (cause) {
      throw new ParticipantError('UNREACHABLE', `${this.name} at ${this.base} is unreachable (${(cause as Error).message})`, { cause });
    }
    let json: unknown;
    try {
      json = answer === '' ? null : JSON.parse(answer);
    } catch (cause) {
      throw new ParticipantError('UNREACHABLE', `${this.name} ${method} ${path}: HTTP ${res.status}, answer is not JSON`, { cause });
    }
    if (!res.ok) {
      const e = errorSchema.safeParse(json);
      if (e.success) {
        const { code, message, reason } = e.data.error;
        throw new ParticipantError('REMOTE', `${this.name} refused ${method} ${path} (HTTP ${res.status}): ${message ?? code}`, {
          remoteCode: code,
          ...(reason === undefined ? {} : { reason }),
        });
      }
      throw new ParticipantError('UNREACHABLE', `${this.name} ${method} ${path}: HTTP ${res.status} without an error object`);
    }
    return json;
  }

  /**
   * GET (signed when a key is given: a contract's full record and messages are served only to its parties) and check the answer's shape.
   * @throws {ParticipantError} UNREACHABLE, REMOTE.
   */
  async get<S extends z.ZodType>(path: string, schema: S, identityKey?: Uint8Array): Promise<z.output<S>> {
    return this.parse(`GET ${path}`, schema, await this.request('GET', path, undefined, identityKey));
  }

  /**
   * POST (signed when a key is given) and check the answer's shape.
   * @throws {ParticipantError} UNREACHABLE, REMOTE.
   */
  async post<S extends z.ZodType>(path: string, body: unknown, schema: S, identityKey?: Uint8Array): Promise<z.output<S>> {
    return this.parse(`POST ${path}`, schema, await this.request('POST', path, body, identityKey));
  }

  private parse<S extends z.ZodType>(what: string, schema: S, json: unknown): z.output<S> {
    const r = schema.safeParse(json);
    if (!r.success) {
      throw new ParticipantError('UNREACHABLE', `${this.name} ${what}: unexpected answer (${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message})`);
    }
    return r.data;
  }
}

// ------------------------------------------------------------------ coordinator

const termsSchema = z.record(z.string(), z.unknown());

export const offerViewSchema = z.object({
  id: z.string(),
  state: z.string(),
  template: z.string().optional(),
  terms: termsSchema,
  /** Not in every coordinator's offer view: GET /v1/contracts/:id/messages has it. */
  offer: hex.optional(),
  offerCollateral: z.string().optional(),
  acceptCollateral: z.string().optional(),
  cets: z.number().optional(),
  eventIds: z.array(z.string()).optional(),
}).loose();
export type OfferView = z.output<typeof offerViewSchema>;

export const contractViewSchema = z.object({
  id: z.string(),
  state: z.string(),
  contractId: z.string().nullable().optional(),
  terms: termsSchema.optional(),
  fundingPsbt: z.string().nullable().optional(),
  fundingTxid: z.string().nullable().optional(),
  closingTxid: z.string().nullable().optional(),
  confirmations: z.number().nullable().optional(),
  history: z.array(z.object({ state: z.string() }).loose()).optional(),
}).loose();
export type ContractView = z.output<typeof contractViewSchema>;

const messagesSchema = z.object({ offer: hex, accept: hex.nullable(), sign: hex.nullable() }).loose();

/** The coordinator's API (src/coordinator/API.md). */
export class CoordinatorClient {
  readonly http: JsonService;

  constructor(base: string) {
    this.http = new JsonService(base, 'coordinator');
  }

  info(): Promise<Record<string, unknown>> {
    return this.http.get('/v1/info', z.record(z.string(), z.unknown()));
  }

  postOffer(body: { offer: string; identityPubkey: string; terms: unknown }, identityKey: Uint8Array): Promise<OfferView> {
    return this.http.post('/v1/offers', body, offerViewSchema, identityKey);
  }

  listOffers(query: Record<string, string | undefined>): Promise<{ offers: OfferView[]; next: string | null }> {
    const q = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined)).toString();
    return this.http.get(`/v1/offers${q ? `?${q}` : ''}`, z.object({ offers: z.array(offerViewSchema), next: z.string().nullable().optional() }).transform((o) => ({ offers: o.offers, next: o.next ?? null })));
  }

  offer(id: string): Promise<OfferView> {
    return this.http.get(`/v1/offers/${id}`, offerViewSchema);
  }

  accept(id: string, body: { accept: string; identityPubkey: string }, identityKey: Uint8Array): Promise<ContractView> {
    return this.http.post(`/v1/contracts/${id}/accept`, body, contractViewSchema, identityKey);
  }

  sign(id: string, body: { sign: string; fundingPsbt?: string }, identityKey: Uint8Array): Promise<ContractView> {
    return this.http.post(`/v1/contracts/${id}/sign`, body, contractViewSchema, identityKey);
  }

  fund(id: string, body: { fundingPsbt: string }, identityKey: Uint8Array): Promise<ContractView> {
    return this.http.post(`/v1/contracts/${id}/fund`, body, contractViewSchema, identityKey);
  }

  /** A close proposal and/or this party's close signature (64-byte compact, hex). */
  close(id: string, body: { offerPayout: string; acceptPayout: string; signature?: string }, identityKey: Uint8Array): Promise<ContractView> {
    return this.http.post(`/v1/contracts/${id}/close`, body, contractViewSchema, identityKey);
  }

  cancel(id: string, identityKey: Uint8Array): Promise<Record<string, unknown>> {
    return this.http.post(`/v1/contracts/${id}/cancel`, {}, z.record(z.string(), z.unknown()), identityKey);
  }

  /** The contract's view: in full when signed by a party's identity key, else the public summary. */
  contract(id: string, identityKey?: Uint8Array): Promise<ContractView> {
    return this.http.get(`/v1/contracts/${id}`, contractViewSchema, identityKey);
  }

  /** Its wire messages: public while it is an open offer, then only to a party (signed GET). */
  messages(id: string, identityKey?: Uint8Array): Promise<{ offer: string; accept: string | null; sign: string | null }> {
    return this.http.get(`/v1/contracts/${id}/messages`, messagesSchema, identityKey);
  }
}

// ------------------------------------------------------------------ oracle

export const oracleInfoSchema = z.object({
  publicKey: z.string().regex(/^[0-9a-f]{64}$/),
  hashProfile: z.enum(['sha256', 'tagged']),
  network: z.string(),
  confirmations: z.number().int().nonnegative().optional(),
  tip: z.object({ height: z.number().int(), hash: z.string() }).nullable().optional(),
}).loose();
export type OracleInfo = z.output<typeof oracleInfoSchema>;

const windowSchema = z.object({ start: z.number().int(), end: z.number().int() });
export const eventSchema = z.object({
  eventId: z.string(),
  kind: z.string(),
  state: z.string(),
  params: z.object({
    kind: z.string(),
    window: windowSchema.nullable(),
    deliveryAddress: z.string().nullable().optional(),
    poolPayoutAddresses: z.array(z.string()).nullable().optional(),
    hashrateThs: z.string().nullable().optional(),
    rewardRule: z.string().nullable().optional(),
    descriptor: z.object({ type: z.string() }).loose(),
  }).loose(),
  attestHeight: z.number().int(),
  announcement: z.object({ hex }).loose(),
}).loose();
export type OracleEventJson = z.output<typeof eventSchema>;

const attestationSchema = z.object({ eventId: z.string(), outcome: z.string(), hex }).loose();

/** The oracle's API (oracle/API.md). */
export class OracleHttp {
  readonly http: JsonService;

  constructor(base: string) {
    this.http = new JsonService(base, 'oracle', 30_000);
  }

  info(): Promise<OracleInfo> {
    return this.http.get('/v1/info', oracleInfoSchema);
  }

  /** Creates (or finds) an event: a hashpower-delivery event needs no operator token. */
  createEvent(body: Record<string, unknown>): Promise<OracleEventJson> {
    return this.http.post('/v1/events', body, eventSchema);
  }

  event(id: string): Promise<OracleEventJson> {
    return this.http.get(`/v1/events/${encodeURIComponent(id)}`, eventSchema);
  }

  events(query: Record<string, string>): Promise<OracleEventJson[]> {
    const q = new URLSearchParams(query).toString();
    return this.http.get(`/v1/events${q ? `?${q}` : ''}`, z.object({ events: z.array(eventSchema) }).loose()).then((r) => r.events);
  }

  /** The event's announcement, decoded. @throws {DlcError} DECODE_ERROR for bad bytes. */
  static announcementOf(ev: OracleEventJson): OracleAnnouncement {
    return decodeOracleAnnouncement(fromHex(ev.announcement.hex));
  }

  /**
   * The event's attestation.
   * @throws {ParticipantError} NOT_READY when the oracle has not attested yet; REMOTE, UNREACHABLE.
   */
  async attestation(id: string): Promise<{ outcome: string; attestation: OracleAttestation }> {
    try {
      const a = await this.http.get(`/v1/events/${encodeURIComponent(id)}/attestation`, attestationSchema);
      return { outcome: a.outcome, attestation: decodeOracleAttestation(fromHex(a.hex)) };
    } catch (e) {
      if (e instanceof ParticipantError && e.remoteCode === 'NOT_ATTESTED') {
        throw new ParticipantError('NOT_READY', `the oracle has not attested event ${id} yet`, { remoteCode: 'NOT_ATTESTED', cause: e });
      }
      throw e;
    }
  }
}
