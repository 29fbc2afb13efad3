/**
 * Read-only, server-side access to the coordinator's configured oracles for
 * the dashboard (oracle/API.md v1: `GET /v1/events`, `GET /v1/events/:id`,
 * `GET /v1/events/:id/attestation`). The browser never talks to an oracle:
 * pages are rendered here, so the oracle needs no CORS and the dashboard can
 * only reach the URLs in the coordinator's config (chosen by index, never by
 * a URL from the request). Requests go through the one oracle client
 * (src/api/oracle-client.ts, failures worded here for a page); each has a
 * timeout and a size cap, and an answer is parsed leniently (fields a page
 * shows are optional) since it is only displayed; the evidence is parsed
 * strictly so `recomputeOutcome` can check it.
 *
 * This module does NOT verify signatures (`hashdlc oracle verify` does, with
 * a node) nor cache: every page view asks the oracle again.
 */
import { ServiceError, OracleClient, evidenceSchema, type AttestationJson, type OracleEventView } from '../api/index.js';
import type { OutcomeEvidence, RecomputedOutcome } from '../../protocol/hashpower/index.js';
import { evidenceBlockWork, expectedDeliverySats, ratFloor, recomputeOutcome } from '../../protocol/hashpower/index.js';

/** An oracle answer, or why there is none (shown on the page, never thrown). */
export type Fetched<T> = { ok: true; value: T } | { ok: false; status: number | null; error: string };

export type { OracleEventView };

/** An attestation with its evidence, parsed, and what the evidence recomputes to. */
export interface AttestationView {
  eventId: string;
  outcome: string;
  hex: string | null;
  attestedAtHeight: number | null;
  result: AttestationJson['result'] | null;
  /** The evidence as published, or null when there is none / it has not the evidence shape (`evidenceError` says why). */
  evidence: OutcomeEvidence | null;
  evidenceError: string | null;
  /** `recomputeOutcome(evidence)`, or why it failed. */
  recomputed: RecomputedOutcome | null;
  /** Delivery events: the sats the contracted hashrate should have earned over the window (floor), from the evidence. */
  expectedSats: bigint | null;
  recomputeError: string | null;
}

export interface OracleProxyOptions {
  /** Per request (default 3000 ms). */
  timeoutMs?: number;
  /** Largest answer read (default 16 MiB: evidence lists every block of a window). */
  maxBytes?: number;
  /** Injectable for tests. */
  fetch?: typeof fetch;
}

/** The configured oracles, read-only (module header). */
export class OracleProxy {
  readonly urls: readonly string[];
  readonly #clients: readonly OracleClient[];
  readonly #timeoutMs: number;

  constructor(urls: readonly string[], opts: OracleProxyOptions = {}) {
    this.#timeoutMs = opts.timeoutMs ?? 3000;
    this.#clients = urls.map((u) => new OracleClient(u, {
      timeoutMs: this.#timeoutMs,
      maxBytes: opts.maxBytes ?? 16 * 1024 * 1024,
      ...(opts.fetch !== undefined ? { fetch: opts.fetch } : {}),
    }));
    this.urls = this.#clients.map((c) => c.url);
  }

  /** The index of a configured oracle URL, or -1 (a contract may name an oracle no longer configured). */
  indexOf(url: string): number {
    return this.urls.indexOf(url.replace(/\/+$/, ''));
  }

  /** Runs a read on oracle `index`, failures as a `Fetched` error worded for a page. */
  async #read<T>(index: number, what: string, read: (c: OracleClient) => Promise<T>): Promise<Fetched<T>> {
    const client = this.#clients[index];
    if (client === undefined) return { ok: false, status: null, error: `no oracle number ${index}` };
    try {
      return { ok: true, value: await read(client) };
    } catch (err) {
      if (!(err instanceof ServiceError)) throw err;
      return { ok: false, status: err.status, error: this.#words(err, what) };
    }
  }

  #words(err: ServiceError, what: string): string {
    switch (err.failure) {
      case 'timeout': return `no answer within ${this.#timeoutMs} ms`;
      case 'unreachable': return 'unreachable';
      case 'too-large': return err.message;
      case 'not-json': return `HTTP ${err.status ?? '?'}, not JSON`;
      case 'shape': return `${what} does not have the oracle API shape`;
      case 'no-error-object': return `HTTP ${err.status ?? '?'}`;
      case 'remote': return `${err.remoteCode ?? `HTTP ${err.status ?? '?'}`}${err.remoteMessage === undefined ? '' : `: ${err.remoteMessage}`}`.slice(0, 300);
    }
  }

  /** `GET /v1/events?limit=&after=` of oracle `index`. */
  events(index: number, q: { limit?: number; after?: string } = {}): Promise<Fetched<{ events: OracleEventView[]; next: string | null }>> {
    return this.#read(index, 'the event list', (c) => c.eventViews(q));
  }

  /** `GET /v1/events/:id` of oracle `index`. */
  event(index: number, eventId: string): Promise<Fetched<OracleEventView>> {
    return this.#read(index, 'the event', (c) => c.eventView(eventId));
  }

  /** `GET /v1/events/:id/attestation` of oracle `index`; `null` while not attested (404 NOT_ATTESTED). */
  async attestation(index: number, eventId: string): Promise<Fetched<AttestationView | null>> {
    const r = await this.#read(index, 'the attestation', (c) => c.attestationJson(eventId));
    return r.ok ? { ok: true, value: r.value === null ? null : attestationView(r.value) } : r;
  }
}

function attestationView(a: AttestationJson): AttestationView {
  const view: AttestationView = {
    eventId: a.eventId,
    outcome: a.outcome,
    hex: a.hex ?? null,
    attestedAtHeight: a.attestedAtHeight ?? null,
    result: a.result ?? null,
    evidence: null,
    evidenceError: null,
    recomputed: null,
    recomputeError: null,
    expectedSats: null,
  };
  if (a.evidence === undefined || a.evidence === null) {
    view.evidenceError = 'the oracle published no evidence';
    return view;
  }
  const ev = evidenceSchema.safeParse(a.evidence);
  if (!ev.success) {
    const issue = ev.error.issues[0];
    view.evidenceError = `the evidence does not have the expected shape (${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'})`;
    return view;
  }
  view.evidence = ev.data as OutcomeEvidence;
  try {
    view.recomputed = recomputeOutcome(view.evidence);
    const e = view.evidence;
    if (e.kind === 'hashpower-delivery' && view.recomputed.countedReward > 0n) {
      // The same counted rewards (the evidence's reward rule) as the outcome.
      view.expectedSats = ratFloor(expectedDeliverySats(e.hashrateThs, evidenceBlockWork(e).blocks));
    }
  } catch (err) {
    view.recomputeError = err instanceof Error ? err.message : String(err);
  }
  return view;
}
