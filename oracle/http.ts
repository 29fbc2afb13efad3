/**
 * The oracle's HTTP API (oracle/API.md): express 5, zod on every input
 * (path, query, body), JSON answers, and one error middleware mapping
 * `OracleError` codes (and protocol/chain/zod/body-parser errors) to HTTP
 * statuses with a stable `{ error: { code, reason, message } }` body. Nothing
 * a client sends can crash the process: every handler's rejection ends in the
 * middleware.
 *
 * This module does NOT compute, sign or store anything itself: it calls the
 * service (`OracleApi`) and formats what comes back.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { DlcError } from '../protocol/errors.js';
import {
  decodeMessage,
  fromHex,
  messageToJson,
  stringifyJson,
  type JsonValue,
} from '../protocol/messages/index.js';
import { eventsQuerySchema } from '../src/api/oracle.js';
import { ChainError } from '../src/chain/index.js';
import { OracleError } from './errors.js';
import { EVENT_KINDS, eventRules, payoutLagOf, rewardRuleOf } from '../protocol/events/index.js';
import { eventRequestSchema, publicState, type EventFilter, type EventRequest, type Requester } from './events.js';
import type { EventProgress } from './attest.js';
import type { AttestationRecord, EventRecord, OutcomeRecord } from './store.js';

/** What the HTTP layer needs from the running oracle. */
export interface OracleApi {
  info(): JsonValue;
  maxBodyBytes: number;
  maxListLimit: number;
  operatorToken: string | undefined;
  createEvent(req: EventRequest, who: Requester): Promise<{ record: EventRecord; created: boolean }>;
  checkRate(client: string): void;
  getEvent(id: string): Promise<EventRecord | undefined>;
  listEvents(filter: EventFilter): Promise<{ events: EventRecord[]; next: string | null }>;
  getOutcome(id: string): Promise<OutcomeRecord | undefined>;
  getAttestation(id: string): Promise<AttestationRecord | undefined>;
  /** The event's window measured so far by the attestation's rules (attest.ts `measureProgress`). */
  eventProgress(record: EventRecord): Promise<EventProgress>;
  log(message: string): void;
}

function send(res: Response, status: number, body: JsonValue): void {
  res.status(status).type('application/json').send(stringifyJson(body));
}

function messageJson(hex: string): JsonValue {
  return messageToJson(decodeMessage(fromHex(hex)));
}

/** `EventJson` of oracle/API.md. */
export function eventToJson(record: EventRecord, outcome: OutcomeRecord | undefined): JsonValue {
  const p = record.params;
  const state = publicState(record);
  return {
    eventId: record.eventId,
    kind: p.kind,
    state,
    params: {
      kind: p.kind,
      network: p.network,
      window: { start: p.window.start, end: p.window.end },
      deliveryAddress: p.deliveryAddress,
      poolPayoutAddresses: p.poolPayoutAddresses === null ? null : [...p.poolPayoutAddresses],
      hashrateThs: p.hashrateThs,
      simulatedDifficulty: p.simulatedDifficulty,
      rewardRule: rewardRuleOf(p),
      // Issue 16, payout kinds: the stated scheme (null: none stated) and lag (0: none); hashprice: null, as every unused field.
      payoutScheme: p.payoutScheme ?? null,
      payoutLagBlocks: p.kind === 'hashprice' ? null : payoutLagOf(p),
      descriptor:
        p.descriptor.type === 'numeric'
          ? { ...p.descriptor }
          : { type: 'enum', thresholds: [...p.descriptor.thresholds], outcomes: [...p.descriptor.outcomes] },
    },
    attestHeight: record.attestHeight,
    eventMaturityEpoch: record.eventMaturityEpoch,
    rules: eventRules(p),
    announcement: { hex: record.announcementHex, json: messageJson(record.announcementHex) },
    attested: state === 'attested' && outcome !== undefined ? { height: outcome.computedAtHeight, outcome: outcome.outcome } : null,
  };
}

function attestationToJson(att: AttestationRecord, outcome: OutcomeRecord): JsonValue {
  return {
    eventId: att.eventId,
    outcome: outcome.outcome,
    outcomes: [...outcome.signed],
    hex: att.hex,
    json: messageJson(att.hex),
    result: { ...outcome.result },
    evidence: outcome.evidence as unknown as JsonValue,
    attestedAtHeight: att.attestedAtHeight,
  };
}

/** `EventProgressJson` of oracle/API.md (src/api/oracle.ts `eventProgressSchema`). */
export function progressToJson(record: EventRecord, p: EventProgress): JsonValue {
  return {
    eventId: record.eventId,
    kind: record.params.kind,
    atHeight: p.atHeight,
    window: { start: record.params.window.start, end: record.params.window.end },
    blocks: p.blocks,
    rewardsSats: p.rewardsSats === null ? null : p.rewardsSats.toString(),
    ratioBps: p.ratioBps,
    outcome: p.outcome === null ? null : p.outcome.toString(),
    capped: p.capped,
    noNetworkReward: p.noNetworkReward,
  };
}

/** zod issues → INVALID_REQUEST naming the first bad field. */
function parseOr400<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = [where, ...issue.path.map(String)].join('.');
  throw new OracleError('INVALID_REQUEST', `${path}: ${issue.message}`, { reason: path });
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/**
 * Whether the request carries the operator token.
 * @throws {OracleError} UNAUTHORIZED when it carries a wrong one.
 */
function isOperator(req: Request, token: string | undefined): boolean {
  const header = req.get('authorization');
  if (header === undefined) return false;
  const m = /^Bearer (.+)$/.exec(header);
  // Compare digests: constant time whatever the lengths.
  if (m === null || token === undefined || !timingSafeEqual(digest(m[1]!), digest(token))) {
    throw new OracleError('UNAUTHORIZED', 'invalid operator token', { reason: 'operator-token' });
  }
  return true;
}

function clientOf(req: Request): string {
  return req.socket.remoteAddress ?? 'unknown';
}

/** Builds the express app of the oracle API. */
export function createApp(api: OracleApi): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(express.json({ limit: api.maxBodyBytes, strict: true }));

  app.get('/v1/info', (_req, res) => {
    send(res, 200, api.info());
  });

  const listQuery = eventsQuerySchema(EVENT_KINDS, api.maxListLimit);

  app.get('/v1/events', async (req, res) => {
    const q = parseOr400(listQuery, req.query, 'query');
    const { events, next } = await api.listEvents({ ...q, limit: q.limit ?? Math.min(100, api.maxListLimit) });
    const out: JsonValue[] = [];
    for (const e of events) out.push(eventToJson(e, e.state === 'attested' ? await api.getOutcome(e.eventId) : undefined));
    send(res, 200, { events: out, next });
  });

  app.post('/v1/events', async (req, res) => {
    const operator = isOperator(req, api.operatorToken);
    const client = clientOf(req);
    if (!operator) api.checkRate(client);
    const body = parseOr400(eventRequestSchema, req.body, 'body');
    const { record, created } = await api.createEvent(body, { operator, client });
    send(res, created ? 201 : 200, eventToJson(record, undefined));
  });

  // Event ids contain '/': accept them URL-encoded (one segment) or raw (several).
  // Ids end with a hex digest, so a last segment `attestation` or `progress` is never part of one.
  const idSchema = z.string().min(1).max(512);
  app.get('/v1/events/*path', async (req, res) => {
    const segments = (req.params as { path: string[] }).path;
    const last = segments.length > 1 ? segments[segments.length - 1] : undefined;
    const sub = last === 'attestation' || last === 'progress' ? last : undefined;
    const attestation = sub === 'attestation';
    const id = parseOr400(idSchema, (sub === undefined ? segments : segments.slice(0, -1)).join('/'), 'path');
    const record = await api.getEvent(id);
    if (record === undefined) throw new OracleError('NOT_FOUND', `no event ${JSON.stringify(id)}`, { reason: 'event' });
    if (sub === 'progress') {
      send(res, 200, progressToJson(record, await api.eventProgress(record)));
      return;
    }
    if (!attestation) {
      send(res, 200, eventToJson(record, record.state === 'attested' ? await api.getOutcome(id) : undefined));
      return;
    }
    const att = record.state === 'attested' ? await api.getAttestation(id) : undefined;
    const outcome = att === undefined ? undefined : await api.getOutcome(id);
    if (att === undefined || outcome === undefined) {
      throw new OracleError('NOT_ATTESTED', `event ${id} is not attested yet (attest height ${record.attestHeight})`, {
        reason: 'not-attested',
        details: { attestHeight: record.attestHeight },
      });
    }
    send(res, 200, attestationToJson(att, outcome));
  });

  app.use((req, _res, next) => {
    next(new OracleError('NOT_FOUND', `no route ${req.method} ${req.path}`, { reason: 'route' }));
  });

  // The one error middleware: stable codes, no stack traces to clients.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = toOracleError(err);
    if (e.code === 'INTERNAL') api.log(`internal error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    const body: Record<string, JsonValue> = { code: e.code, reason: e.reason ?? null, message: e.message };
    for (const [k, v] of Object.entries(e.details ?? {})) body[k] = v as JsonValue;
    send(res, e.status, { error: body });
  });
  return app;
}

/** Maps any error to the OracleError the client sees. */
export function toOracleError(err: unknown): OracleError {
  if (err instanceof OracleError) return err;
  if (err instanceof DlcError) return new OracleError('INVALID_PARAMS', err.message, { reason: err.reason ?? err.code, cause: err });
  if (err instanceof ChainError) {
    return new OracleError('ORACLE_UNAVAILABLE', 'the Bitcoin node is unavailable', { reason: err.code, cause: err });
  }
  // body-parser errors carry `type` and `status`.
  const bp = err as { type?: unknown; status?: unknown; message?: unknown };
  if (typeof bp.type === 'string' && typeof bp.status === 'number') {
    if (bp.type === 'entity.too.large') return new OracleError('PAYLOAD_TOO_LARGE', 'request body too large', { reason: 'body-size' });
    if (bp.type === 'entity.parse.failed') return new OracleError('INVALID_JSON', 'request body is not JSON', { reason: 'body-json' });
    if (bp.status >= 400 && bp.status < 500) {
      return new OracleError('INVALID_REQUEST', typeof bp.message === 'string' ? bp.message : 'bad request body', { reason: bp.type });
    }
  }
  return new OracleError('INTERNAL', 'internal error', { reason: 'internal', cause: err });
}
