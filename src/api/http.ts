/**
 * The one JSON-over-HTTP transport of the API clients (`JsonService`): every
 * request has a timeout and an answer size cap, a POST (or a party's GET) is
 * signed with an identity key through protocol/auth, an answer is checked with
 * a zod schema from the service's schema module (src/api/coordinator.ts,
 * src/api/oracle.ts), and an error answer becomes a `ServiceError` (a
 * ParticipantError REMOTE carrying the service's stable code, reason and the
 * HTTP status; UNREACHABLE when there is no usable answer).
 *
 * Callers import it, the clients and the schemas from the one entry,
 * src/api/index.ts.
 *
 * This module does NOT verify what it fetches (signatures, terms): the
 * participant does, with protocol/contract and protocol/messages.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { signRequest } from '../../protocol/auth/index.js';
import { ParticipantError, type ParticipantErrorCode } from '../participant/errors.js';

/** Why a request has no usable answer (a caller that shows errors, like the dashboard, words them itself). */
export type ServiceFailure = 'timeout' | 'unreachable' | 'too-large' | 'not-json' | 'remote' | 'no-error-object' | 'shape';

/** A failed request: a ParticipantError (UNREACHABLE or REMOTE) with the HTTP status and what failed. */
export class ServiceError extends ParticipantError {
  /** The HTTP status, or null when there was no answer. */
  readonly status: number | null;
  readonly failure: ServiceFailure;
  /** The service's own error message (`error.message` of its answer), when it sent one. */
  readonly remoteMessage: string | undefined;

  constructor(
    code: ParticipantErrorCode,
    message: string,
    failure: ServiceFailure,
    status: number | null,
    options?: { remoteCode?: string; remoteMessage?: string; reason?: string; cause?: unknown },
  ) {
    // Named as its base: a printed error reads as before (`ParticipantError: ...`).
    super(code, message, options);
    this.failure = failure;
    this.status = status;
    this.remoteMessage = options?.remoteMessage;
  }
}

const errorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string().optional(), reason: z.string().nullable().optional() }).loose(),
});

export interface JsonServiceOptions {
  /** Per request (default 120 s). */
  timeoutMs?: number;
  /** Largest answer read (default 64 MiB: a large contract's messages). */
  maxBytes?: number;
  /** Injectable for tests. */
  fetch?: typeof fetch;
}

/** One JSON-over-HTTP service. */
export class JsonService {
  readonly base: string;
  readonly name: string;
  readonly timeoutMs: number;
  readonly #maxBytes: number;
  readonly #fetch: typeof fetch;

  constructor(base: string, name: string, opts: JsonServiceOptions = {}) {
    this.base = base.replace(/\/+$/, '');
    this.name = name;
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.#maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
    this.#fetch = opts.fetch ?? fetch;
  }

  /**
   * Sends a request; `identityKey` signs it (protocol/auth headers).
   * @throws {ServiceError} UNREACHABLE, REMOTE.
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
      res = await this.#fetch(`${this.base}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: text }),
        // A service answers itself: a redirect would send a signed request elsewhere.
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (cause) {
      throw this.#unreachable(cause, null);
    }
    try {
      answer = await readCapped(res, this.#maxBytes);
    } catch (cause) {
      if (cause instanceof ServiceError) throw cause;
      throw this.#unreachable(cause, res.status);
    }
    let json: unknown;
    try {
      json = answer === '' ? null : JSON.parse(answer);
    } catch (cause) {
      throw new ServiceError('UNREACHABLE', `${this.name} ${method} ${path}: HTTP ${res.status}, answer is not JSON`, 'not-json', res.status, { cause });
    }
    if (!res.ok) {
      const e = errorSchema.safeParse(json);
      if (e.success) {
        const { code, message, reason } = e.data.error;
        throw new ServiceError('REMOTE', `${this.name} refused ${method} ${path} (HTTP ${res.status}): ${message ?? code}`, 'remote', res.status, {
          remoteCode: code,
          ...(message === undefined ? {} : { remoteMessage: message }),
          ...(reason === undefined || reason === null ? {} : { reason }),
        });
      }
      throw new ServiceError('UNREACHABLE', `${this.name} ${method} ${path}: HTTP ${res.status} without an error object`, 'no-error-object', res.status);
    }
    return json;
  }

  #unreachable(cause: unknown, status: number | null): ServiceError {
    const timeout = cause instanceof Error && (cause.name === 'TimeoutError' || cause.name === 'AbortError');
    return new ServiceError('UNREACHABLE', `${this.name} at ${this.base} is unreachable (${(cause as Error).message})`, timeout ? 'timeout' : 'unreachable', status, { cause });
  }

  /**
   * GET (signed when a key is given: a contract's full record and messages are served only to its parties) and check the answer's shape.
   * @throws {ServiceError} UNREACHABLE, REMOTE.
   */
  async get<S extends z.ZodType>(path: string, schema: S, identityKey?: Uint8Array): Promise<z.output<S>> {
    return this.parse(`GET ${path}`, schema, await this.request('GET', path, undefined, identityKey));
  }

  /**
   * POST (signed when a key is given) and check the answer's shape.
   * @throws {ServiceError} UNREACHABLE, REMOTE.
   */
  async post<S extends z.ZodType>(path: string, body: unknown, schema: S, identityKey?: Uint8Array): Promise<z.output<S>> {
    return this.parse(`POST ${path}`, schema, await this.request('POST', path, body, identityKey));
  }

  private parse<S extends z.ZodType>(what: string, schema: S, json: unknown): z.output<S> {
    const r = schema.safeParse(json);
    if (!r.success) {
      throw new ServiceError('UNREACHABLE', `${this.name} ${what}: unexpected answer (${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message})`, 'shape', 200);
    }
    return r.data;
  }
}

/** The body as text, refusing more than `max` bytes (declared or read). @throws {ServiceError} too-large. */
async function readCapped(res: Response, max: number): Promise<string> {
  const tooLarge = (): ServiceError => new ServiceError('UNREACHABLE', `answer larger than ${max} bytes`, 'too-large', res.status);
  if (Number(res.headers.get('content-length') ?? '0') > max) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (res.body === null) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
