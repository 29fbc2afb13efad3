/**
 * Shared express helpers for hashdlc's HTTP services: a raw body reader with a
 * size limit (request signatures cover the exact bytes, so JSON is parsed
 * after authentication, from those bytes), zod parsing that answers 400 with
 * the path of the first bad field, the JSON error middleware and the 404
 * fallback, and listening on a host/port with a clean `close()`.
 *
 * This module does NOT know any service's routes or error codes: a service
 * passes its own `toResponse` mapping.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler } from 'express';
import { z } from 'zod';

/** A JSON error body: `{ error: { code, message, reason?, ... } }`. */
export interface HttpErrorBody {
  error: { code: string; message: string; reason?: string; [extra: string]: unknown };
}

/** An error that already knows its HTTP answer (shape errors found here). */
export class HttpError extends Error {
  readonly status: number;
  readonly body: HttpErrorBody;

  constructor(status: number, code: string, message: string, reason?: string) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.body = { error: { code, message, ...(reason !== undefined ? { reason } : {}) } };
  }
}

/**
 * Reads any request body as raw bytes (`req.body` becomes a Buffer), refusing
 * bodies over `limitBytes` with 413 (via the error middleware).
 */
export function rawBody(limitBytes: number): RequestHandler {
  return express.raw({ type: () => true, limit: limitBytes });
}

/** The exact request body bytes (empty when there was none). */
export function bodyBytes(req: Request): Uint8Array {
  return Buffer.isBuffer(req.body) ? req.body : new Uint8Array(0);
}

/**
 * Parses the raw body as JSON and validates it.
 * @throws {HttpError} 400 INVALID_JSON / INVALID_REQUEST (reason = path of the first bad field).
 */
export function parseBody<S extends z.ZodType>(req: Request, schema: S): z.output<S> {
  const bytes = bodyBytes(req);
  let json: unknown = {};
  if (bytes.length > 0) {
    try {
      json = JSON.parse(Buffer.from(bytes).toString('utf8'));
    } catch {
      throw new HttpError(400, 'INVALID_JSON', 'request body is not JSON');
    }
  }
  return parseWith(schema, json);
}

/**
 * Validates query parameters, path parameters or a parsed body.
 * @throws {HttpError} 400 INVALID_REQUEST.
 */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = issue === undefined || issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.');
    throw new HttpError(400, 'INVALID_REQUEST', `${path}: ${issue?.message ?? 'invalid'}`, path);
  }
  return r.data;
}

/** Maps a thrown value to an HTTP answer; return undefined to fall back to 500. */
export type ErrorMapper = (err: unknown) => { status: number; body: HttpErrorBody } | undefined;

/**
 * The one error middleware: body-parser's errors (413 oversized, 400 bad
 * encoding), `HttpError`s, then the service's mapping, else 500 without
 * internals. Never throws, so nothing a client sends crashes the process.
 */
export function errorMiddleware(map: ErrorMapper, onInternal?: (err: unknown) => void): ErrorRequestHandler {
  return (err: unknown, _req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const bp = err as { type?: string; status?: number };
    let answer: { status: number; body: HttpErrorBody } | undefined;
    if (bp?.type === 'entity.too.large') answer = { status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE', message: 'request body too large' } } };
    else if (typeof bp?.type === 'string' && typeof bp.status === 'number' && bp.status >= 400 && bp.status < 500) {
      answer = { status: bp.status, body: { error: { code: 'INVALID_REQUEST', message: `request body unreadable (${bp.type})` } } };
    } else if (err instanceof HttpError) answer = { status: err.status, body: err.body };
    else answer = map(err);
    if (answer === undefined || answer.status >= 500) onInternal?.(err);
    answer ??= { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } };
    res.status(answer.status).json(answer.body);
  };
}

/** 404 for any route not matched. */
export const notFound: RequestHandler = (req, res) => {
  res.status(404).json({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.path}` } });
};

/**
 * Idle keep-alive sockets live this long on our servers. Node's fetch (undici)
 * reuses an idle socket until the server's advertised keep-alive timeout minus
 * one second; with Node's default of 5 s, a loaded process whose timers fire
 * late closes a socket just as a client sends a request on it, and the client
 * sees ECONNRESET / "other side closed" (seen in the test suite under load,
 * and a real POST lost in production). A long timeout makes the client, not
 * the server, close idle sockets in practice.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** Applies `KEEP_ALIVE_TIMEOUT_MS` to a server (headers timeout above it, as Node requires). */
export function keepAlive(server: Server): Server {
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
  return server;
}

/** A listening server and how to stop it. */
export interface Listening {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/**
 * Starts `app` on host:port (port 0 picks a free one).
 * @throws {Error} when the port cannot be bound.
 */
export function listen(app: Express, host: string, port: number): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const server = keepAlive(app.listen(port, host));
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      const addr = server.address() as AddressInfo;
      const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      resolve({
        server,
        url: `http://${h}:${addr.port}`,
        close: () => new Promise<void>((res, rej) => {
          server.close((e) => (e ? rej(e) : res()));
          server.closeAllConnections();
        }),
      });
    });
  });
}
