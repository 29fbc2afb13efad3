/**
 * Read-only, server-side access to the coordinator's configured oracles for
 * the dashboard (oracle/API.md v1: `GET /v1/events`, `GET /v1/events/:id`,
 * `GET /v1/events/:id/attestation`). The browser never talks to an oracle:
 * pages are rendered here, so the oracle needs no CORS and the dashboard can
 * only reach the URLs in the coordinator's config (chosen by index, never by
 * a URL from the request). Each request has a timeout and a size cap, and an
 * answer is parsed leniently (fields a page shows are optional) since it is
 * only displayed; the evidence is parsed strictly so `recomputeOutcome` can
 * check it.
 *
 * This module does NOT verify signatures (`hashdlc oracle verify` does, with
 * a node) nor cache: every page view asks the oracle again.
 */
import { z } from 'zod';
import type { OutcomeEvidence, RecomputedOutcome } from '../../protocol/hashpower/index.js';
import { evidenceBlockWork, expectedDeliverySats, ratFloor, recomputeOutcome, REWARD_RULES } from '../../protocol/hashpower/index.js';

/** An oracle answer, or why there is none (shown on the page, never thrown). */
export type Fetched<T> = { ok: true; value: T } | { ok: false; status: number | null; error: string };

const num = z.number().int();
const window = z.object({ start: num, end: num }).loose();

const eventSchema = z.object({
  eventId: z.string().max(500),
  kind: z.string().max(100).optional(),
  state: z.string().max(100).optional(),
  params: z.object({
    kind: z.string().max(100).optional(),
    network: z.string().max(100).optional(),
    window: window.nullable().optional(),
    deliveryAddress: z.string().max(200).nullable().optional(),
    poolPayoutAddresses: z.array(z.string().max(200)).nullable().optional(),
    hashrateThs: z.string().max(40).nullable().optional(),
    simulatedDifficulty: z.string().max(100).nullable().optional(),
    descriptor: z.record(z.string(), z.unknown()).nullable().optional(),
  }).loose().optional(),
  attestHeight: num.optional(),
  eventMaturityEpoch: num.optional(),
  rules: z.array(z.string().max(2000)).optional(),
  announcement: z.object({ hex: z.string() }).loose().optional(),
  attested: z.object({ height: num.optional(), outcome: z.string().max(200) }).loose().nullable().optional(),
}).loose();

/** An oracle event as the dashboard shows it. */
export type OracleEventView = z.output<typeof eventSchema>;

const listSchema = z.object({ events: z.array(eventSchema), next: z.string().nullable().optional() }).loose();

const u64 = z.string().regex(/^\d{1,20}$/).transform(BigInt);
const hex32 = z.string().regex(/^[0-9a-f]{64}$/);
const height = z.number().int().min(0);
const blockSchema = z.object({ height, hash: hex32, bits: z.string().regex(/^[0-9a-f]{8}$/), reward: u64, coinbaseTxid: hex32 }).loose();
const payoutSchema = z.object({
  source: z.enum(['coinbase', 'pool-payout']),
  height,
  blockHash: hex32,
  txid: hex32,
  vout: z.number().int().min(0),
  value: u64,
  address: z.string().max(200),
  fromAddress: z.string().max(200).optional(),
}).loose();
const evidenceBase = {
  window: z.object({ start: height, end: height }),
  event: z.object({ nbDigits: z.number().int().min(1).max(64), precision: z.number().int() }),
  blocks: z.array(blockSchema),
};
const payoutFields = { deliveryAddress: z.string().max(200), poolPayoutAddresses: z.array(z.string().max(200)), payouts: z.array(payoutSchema) };
const rewardRuleFields = { rewardRule: z.enum(REWARD_RULES).optional(), subsidyHalvingInterval: z.number().int().min(1).optional() };
const evidenceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('hashprice'), ...evidenceBase, simulatedDifficulty: z.string().max(100).optional(), ...rewardRuleFields }).loose(),
  z.object({ kind: z.literal('pool-rewards'), ...evidenceBase, ...payoutFields }).loose(),
  z.object({ kind: z.literal('hashpower-delivery'), ...evidenceBase, ...payoutFields, simulatedDifficulty: z.string().max(100).optional(), ...rewardRuleFields, hashrateThs: u64 }).loose(),
]);

const attestationSchema = z.object({
  eventId: z.string().max(500),
  outcome: z.string().max(200),
  hex: z.string().optional(),
  attestedAtHeight: num.optional(),
  result: z.object({
    outcome: z.string().optional(),
    capped: z.boolean().optional(),
    noNetworkReward: z.boolean().optional(),
    networkReward: z.string().optional(),
    poolRewards: z.string().optional(),
  }).loose().optional(),
  evidence: z.unknown().optional(),
}).loose();

/** An attestation with its evidence, parsed, and what the evidence recomputes to. */
export interface AttestationView {
  eventId: string;
  outcome: string;
  hex: string | null;
  attestedAtHeight: number | null;
  result: z.output<typeof attestationSchema>['result'] | null;
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
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #fetch: typeof fetch;

  constructor(urls: readonly string[], opts: OracleProxyOptions = {}) {
    this.urls = urls.map((u) => u.replace(/\/+$/, ''));
    this.#timeoutMs = opts.timeoutMs ?? 3000;
    this.#maxBytes = opts.maxBytes ?? 16 * 1024 * 1024;
    this.#fetch = opts.fetch ?? fetch;
  }

  /** The index of a configured oracle URL, or -1 (a contract may name an oracle no longer configured). */
  indexOf(url: string): number {
    return this.urls.indexOf(url.replace(/\/+$/, ''));
  }

  async #get(index: number, path: string): Promise<Fetched<unknown>> {
    const base = this.urls[index];
    if (base === undefined) return { ok: false, status: null, error: `no oracle number ${index}` };
    let res: Response;
    try {
      res = await this.#fetch(`${base}${path}`, { signal: AbortSignal.timeout(this.#timeoutMs), headers: { accept: 'application/json' }, redirect: 'error' });
    } catch (err) {
      const timeout = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      return { ok: false, status: null, error: timeout ? `no answer within ${this.#timeoutMs} ms` : 'unreachable' };
    }
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > this.#maxBytes) {
      await res.body?.cancel().catch(() => undefined);
      return { ok: false, status: res.status, error: `answer larger than ${this.#maxBytes} bytes` };
    }
    let text: string;
    try {
      text = await readCapped(res, this.#maxBytes);
    } catch (err) {
      return { ok: false, status: res.status, error: err instanceof Error ? err.message : 'unreadable answer' };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { ok: false, status: res.status, error: `HTTP ${res.status}, not JSON` };
    }
    if (res.status !== 200) {
      const e = (json as { error?: { code?: unknown; message?: unknown } } | null)?.error;
      const code = typeof e?.code === 'string' ? e.code : `HTTP ${res.status}`;
      const message = typeof e?.message === 'string' ? `: ${e.message}` : '';
      return { ok: false, status: res.status, error: `${code}${message}`.slice(0, 300) };
    }
    return { ok: true, value: json };
  }

  /** `GET /v1/events?limit=&after=` of oracle `index`. */
  async events(index: number, q: { limit?: number; after?: string } = {}): Promise<Fetched<{ events: OracleEventView[]; next: string | null }>> {
    const qs = new URLSearchParams();
    if (q.limit !== undefined) qs.set('limit', String(q.limit));
    if (q.after !== undefined) qs.set('after', q.after);
    const r = await this.#get(index, `/v1/events${qs.size > 0 ? `?${qs}` : ''}`);
    if (!r.ok) return r;
    const parsed = listSchema.safeParse(r.value);
    if (!parsed.success) return { ok: false, status: 200, error: 'the event list does not have the oracle API shape' };
    return { ok: true, value: { events: parsed.data.events, next: parsed.data.next ?? null } };
  }

  /** `GET /v1/events/:id` of oracle `index`. */
  async event(index: number, eventId: string): Promise<Fetched<OracleEventView>> {
    const r = await this.#get(index, `/v1/events/${encodeURIComponent(eventId)}`);
    if (!r.ok) return r;
    const parsed = eventSchema.safeParse(r.value);
    if (!parsed.success) return { ok: false, status: 200, error: 'the event does not have the oracle API shape' };
    return { ok: true, value: parsed.data };
  }

  /** `GET /v1/events/:id/attestation` of oracle `index`; `null` while not attested (404 NOT_ATTESTED). */
  async attestation(index: number, eventId: string): Promise<Fetched<AttestationView | null>> {
    const r = await this.#get(index, `/v1/events/${encodeURIComponent(eventId)}/attestation`);
    if (!r.ok) return r.status === 404 && r.error.startsWith('NOT_ATTESTED') ? { ok: true, value: null } : r;
    const parsed = attestationSchema.safeParse(r.value);
    if (!parsed.success) return { ok: false, status: 200, error: 'the attestation does not have the oracle API shape' };
    return { ok: true, value: attestationView(parsed.data) };
  }
}

async function readCapped(res: Response, max: number): Promise<string> {
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
      throw new Error(`answer larger than ${max} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function attestationView(a: z.output<typeof attestationSchema>): AttestationView {
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
