/**
 * The dashboard's express router, mounted on the coordinator's app by its
 * composer (src/coordinator/main.ts): server-
 * rendered HTML pages (`/`, `/dashboard/...`, a strip's timeline at
 * `/dashboard/strips/:id` when the queries answer `strip`, the positions for
 * sale at `/dashboard/positions` and a contract's owners when they answer
 * `positions` / `ownerChain`), the stylesheet, and two small
 * read-only endpoints the coordinator API lacks (`/dashboard/api/contracts/
 * :id/payout-curve` as JSON and `.svg`). Data comes from the coordinator's
 * read-only queries (src/api/coordinator.ts `CoordinatorQueries`: index ranges,
 * as the API's lists, never its service internals), the payout curve is recomputed
 * with protocol/ from the stored offer and terms (cached per contract: terms
 * never change), oracle data through the server-side `OracleProxy`, the tip
 * from the node (best effort, with a short timeout).
 *
 * Pages answer HTML even on errors (404 / 400 / 500 pages); the JSON
 * endpoints leave errors to the coordinator's error middleware. Every HTML
 * answer carries a Content-Security-Policy with no script and no inline
 * style at all.
 *
 * Pages show only what is public: the queries answer public views only
 * (coordinator/privacy.ts rules), the offer book and contract summaries, never
 * a contract's messages, PSBTs or the accepter's keys.
 *
 * This module does NOT change anything: only GET routes, no state writes,
 * and the oracles are reached by configured index, never by a URL from the
 * request.
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { decodeOfferDlc } from '../../protocol/messages/index.js';
import { CONTRACT_STATES, type ContractState, type CoordinatorQueries, type OwnerChainEntry, type PositionView, type PublicContract } from '../api/coordinator.js';
import { offerTermsSchema, templateFromTerms } from '../../protocol/terms/index.js';
import { HttpError } from '../http/index.js';
import { renderPayoutChart } from './chart.js';
import { contractCurve, curveJson, type ContractCurve } from './curve.js';
import { OracleProxy } from './oracle-proxy.js';
import {
  contractPage,
  contractsPage,
  errorPage,
  offerBookPage,
  oracleEventPage,
  oracleEventsPage,
  type OracleStatus,
  type PageContext,
  type StripData,
} from './pages.js';
import { ownersSection, positionsPage, TRANSFER_STATES, type OwnersData } from './positions.js';
import { stripPage } from './strip.js';
import { DASHBOARD_CSS } from './style.js';

export interface DashboardOptions {
  /** Per oracle request (default 3000 ms). */
  oracleTimeoutMs?: number;
  /** How long a page waits for the node's tip height (default 1500 ms). */
  tipTimeoutMs?: number;
  /** Evidence rows shown per table (default 500). */
  maxEvidenceRows?: number;
  /** Offers / contracts per page (default 50). */
  pageSize?: number;
  /** Injectable for tests. */
  fetch?: typeof fetch;
}

/** The Content-Security-Policy of every page: the stylesheet from here, nothing else. */
export const DASHBOARD_CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const idSchema = z.string().regex(/^[0-9a-fA-F]{64}$/);
const cursor = z.string().max(300).optional();
const homeQuery = z.object({ after: cursor }).loose();
const contractsQuery = z.object({ state: z.enum(CONTRACT_STATES).optional(), after: cursor }).loose();
const eventQuery = z.object({ id: z.string().min(1).max(500) }).loose();
const positionsQuery = z.object({ after: cursor }).loose();

function badRequest(what: string): HttpError {
  return new HttpError(400, 'INVALID_REQUEST', what);
}

function sendHtml(res: Response, status: number, body: string): void {
  res.status(status)
    .set('content-type', 'text/html; charset=utf-8')
    .set('content-security-policy', DASHBOARD_CSP)
    .set('x-content-type-options', 'nosniff')
    .set('referrer-policy', 'no-referrer')
    .set('cache-control', 'no-store')
    .send(body);
}

/** At most `max` entries, least recently used dropped first. */
class SmallCache<V> {
  readonly #map = new Map<string, V>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get(k: string): V | undefined {
    const v = this.#map.get(k);
    if (v !== undefined) {
      this.#map.delete(k);
      this.#map.set(k, v);
    }
    return v;
  }

  set(k: string, v: V): void {
    this.#map.delete(k);
    this.#map.set(k, v);
    while (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value!);
  }
}

/**
 * The dashboard over a coordinator's read-only queries (src/api/coordinator.ts; the service's
 * `coordinatorQueries(svc)`): whoever composes the HTTP app mounts it before the 404 handler.
 */
export function dashboardRouter(q: CoordinatorQueries, opts: DashboardOptions = {}): Router {
  const router = Router();
  const proxy = new OracleProxy(q.oracleUrls, { ...(opts.oracleTimeoutMs !== undefined ? { timeoutMs: opts.oracleTimeoutMs } : {}), ...(opts.fetch !== undefined ? { fetch: opts.fetch } : {}) });
  const pageSize = opts.pageSize ?? 50;
  const tipTimeoutMs = opts.tipTimeoutMs ?? 1500;
  const curves = new SmallCache<ContractCurve>(64);

  async function context(): Promise<PageContext> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), tipTimeoutMs);
    });
    const tip = await Promise.race([q.tipHeight().catch(() => null), timeout]);
    clearTimeout(timer);
    return { network: q.network, tip, strips: q.strip !== undefined };
  }

  /** The curve of a record, from its stored offer and terms (cached when computed; a failure is retried next time). */
  async function curveOf(rec: PublicContract): Promise<{ curve: ContractCurve } | { error: string }> {
    const hit = curves.get(rec.id);
    if (hit !== undefined) return { curve: hit };
    try {
      const offer = await q.offerMessage(rec.id);
      if (offer === null) throw new Error('no stored offer');
      const ci = decodeOfferDlc(offer).contractInfo;
      if (!('singleContractInfo' in ci)) throw new Error('not a single contract');
      const curve = contractCurve(templateFromTerms(offerTermsSchema.parse(rec.terms), ci.singleContractInfo.contractInfo.oracleInfo));
      curves.set(rec.id, curve);
      return { curve };
    } catch (err) {
      q.log('warn', 'dashboard: payout curve failed', { id: rec.id, error: err instanceof Error ? err.message : String(err) });
      return { error: err instanceof Error ? err.message : String(err) };
    }
  }

  /** The outcome the contract settled on (a CET), if any. */
  function settledOutcome(rec: PublicContract): bigint | null {
    return rec.closingKind === 'cet' && typeof rec.outcome === 'string' && /^\d+$/.test(rec.outcome) ? BigInt(rec.outcome) : null;
  }

  async function mustRecord(id: string): Promise<PublicContract> {
    if (!idSchema.safeParse(id).success) throw badRequest('a contract id is 64 hex digits');
    const rec = await q.contract(id);
    if (rec === null) throw new HttpError(404, 'NOT_FOUND', `no offer or contract ${id}`, 'unknown-id');
    return rec;
  }

  /**
   * The offer book's strips (issue 12): each strip once, by its period 1 with
   * the strip's whole terms. Periods past the first are dropped from the list
   * only when the strip page can show them; a strip that fails to load is
   * logged and its row shows period 1 alone.
   */
  async function offerBookStrips(listed: readonly PublicContract[]): Promise<{ offers: PublicContract[]; strips: Map<string, StripData> }> {
    const strips = new Map<string, StripData>();
    if (q.strip === undefined) return { offers: [...listed], strips };
    const offers = listed.filter((r) => r.strip === undefined || r.strip.index === 0);
    await Promise.all(offers.map(async (r) => {
      if (r.strip === undefined) return;
      try {
        const s = await q.strip!(r.strip.id);
        if (s !== null) strips.set(r.strip.id, s);
      } catch (err) {
        q.log('warn', 'dashboard: strip failed', { id: r.strip.id, error: err instanceof Error ? err.message : String(err) });
      }
    }));
    return { offers, strips };
  }

  /** A contract's chain of owners; a failing query is logged and shown as unknown rather than failing the page. */
  async function ownerChainOf(id: string): Promise<OwnerChainEntry[] | null> {
    try {
      return await q.ownerChain!(id);
    } catch (err) {
      q.log('warn', 'dashboard: owner chain failed', { id, error: err instanceof Error ? err.message : String(err) });
      return null;
    }
  }

  /** Wraps a page handler: errors become HTML error pages. */
  const page = (handler: (req: Request) => Promise<{ status?: number; body: (ctx: PageContext) => string }>) => async (req: Request, res: Response): Promise<void> => {
    const ctxP = context();
    try {
      const out = await handler(req);
      sendHtml(res, out.status ?? 200, out.body(await ctxP));
    } catch (err) {
      const ctx = await ctxP;
      if (err instanceof HttpError) return sendHtml(res, err.status, errorPage(err.status, err.message, ctx));
      q.log('error', 'dashboard page failed', { path: req.path, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      sendHtml(res, 500, errorPage(500, 'The page could not be built; the coordinator log has the details.', ctx));
    }
  };

  const parse = <S extends z.ZodType>(schema: S, value: unknown): z.output<S> => {
    const r = schema.safeParse(value);
    if (!r.success) throw badRequest(`bad query parameter ${r.error.issues[0]?.path.join('.') ?? ''}`);
    return r.data;
  };

  router.get(['/', '/dashboard', '/dashboard/'], page(async (req) => {
    const query = parse(homeQuery, req.query);
    const page1 = await q.contractsByState('offered', { limit: pageSize, after: query.after });
    const { offers, strips } = await offerBookStrips(page1.contracts);
    const recent: PublicContract[] = [];
    for (const s of CONTRACT_STATES) {
      if (s === 'offered') continue;
      recent.push(...(await q.contractsByState(s, { limit: 10 })).contracts);
    }
    recent.sort((a, b) => b.updatedAt - a.updatedAt);
    return { body: (ctx) => offerBookPage({ offers, next: page1.next, recent: recent.slice(0, 10), strips }, ctx) };
  }));

  router.get('/dashboard/contracts', page(async (req) => {
    const query = parse(contractsQuery, req.query);
    if (query.state !== undefined) {
      const p = await q.contractsByState(query.state, { limit: pageSize, after: query.after });
      return { body: (ctx) => contractsPage({ records: p.contracts, state: query.state as ContractState, next: p.next }, ctx) };
    }
    // The newest of every state (each state's index read for one page, then merged).
    const all: PublicContract[] = [];
    for (const s of CONTRACT_STATES) all.push(...(await q.contractsByState(s, { limit: pageSize })).contracts);
    all.sort((a, b) => b.createdAt - a.createdAt);
    return { body: (ctx) => contractsPage({ records: all.slice(0, pageSize), state: null, next: null }, ctx) };
  }));

  router.get('/dashboard/contracts/:id', page(async (req) => {
    const rec = await mustRecord(String(req.params.id));
    const [curve, oracles] = await Promise.all([
      curveOf(rec),
      Promise.all(rec.oracles.map(async (o): Promise<OracleStatus> => {
        const index = proxy.indexOf(o.url);
        return { ...o, index, event: index < 0 ? null : await proxy.event(index, o.eventId) };
      })),
    ]);
    let attested = settledOutcome(rec);
    let attestedSource: 'contract' | 'oracle' | null = attested === null ? null : 'contract';
    if (attested === null) {
      // Not settled: the outcome most of its oracles attested (one dissenter must not move the marker).
      const votes = new Map<string, number>();
      for (const o of oracles) {
        const out = o.outcome ?? (o.event?.ok ? o.event.value.attested?.outcome : undefined);
        if (out !== undefined && out !== null && /^\d+$/.test(out)) votes.set(out, (votes.get(out) ?? 0) + 1);
      }
      const best = [...votes].sort((a, b) => b[1] - a[1])[0];
      if (best !== undefined) {
        attested = BigInt(best[0]);
        attestedSource = 'oracle';
      }
    }
    const owners: OwnersData = q.ownerChain === undefined ? { available: false } : { available: true, chain: await ownerChainOf(rec.id) };
    return {
      body: (ctx) => contractPage({
        // Only what the public may see: the queries answer public views (the dashboard is unauthenticated).
        rec,
        owners: ownersSection(rec, owners),
        curve: 'curve' in curve ? curve.curve : null,
        curveError: 'error' in curve ? curve.error : null,
        attested,
        attestedSource,
        oracles,
      }, ctx),
    };
  }));

  router.get('/dashboard/positions', page(async (req) => {
    const query = parse(positionsQuery, req.query);
    // An older coordinator has no positions query: the page says so (issue 14).
    if (q.positions === undefined) return { body: (ctx) => positionsPage({ available: false, listed: [], next: null, transfers: [] }, ctx) };
    const listed = await q.positions({ state: 'listed', limit: pageSize, after: query.after });
    // The newest of each transfer state (one page each, merged), as the contracts list does.
    const transfers: PositionView[] = [];
    for (const state of TRANSFER_STATES) transfers.push(...(await q.positions({ state, limit: 10 })).positions);
    transfers.sort((a, b) => b.updatedAt - a.updatedAt);
    return { body: (ctx) => positionsPage({ available: true, listed: listed.positions, next: listed.next, transfers: transfers.slice(0, 10) }, ctx) };
  }));

  router.get('/dashboard/strips/:id', page(async (req) => {
    const id = String(req.params.id);
    if (!idSchema.safeParse(id).success) throw badRequest('a strip id is 64 hex digits');
    // An older coordinator has no strip query: its periods are shown as contracts (their pages link to period 1).
    if (q.strip === undefined) throw new HttpError(404, 'NOT_FOUND', 'this coordinator does not serve strips: see its periods under Contracts', 'no-strips');
    const strip = await q.strip(id.toLowerCase());
    if (strip === null) throw new HttpError(404, 'NOT_FOUND', `no strip ${id}`, 'unknown-id');
    return { body: (ctx) => stripPage(strip, ctx) };
  }));

  router.get('/dashboard/oracles', page(async () => {
    const oracles = await Promise.all(proxy.urls.map(async (url, index) => ({ index, url, events: await proxy.events(index, { limit: 100 }) })));
    return { body: (ctx) => oracleEventsPage({ oracles }, ctx) };
  }));

  router.get('/dashboard/oracles/:n/event', page(async (req) => {
    const n = Number(req.params.n);
    if (!Number.isInteger(n) || n < 0 || n >= proxy.urls.length) throw new HttpError(404, 'NOT_FOUND', `no oracle number ${String(req.params.n)}`);
    const { id } = parse(eventQuery, req.query);
    const [event, attestation] = await Promise.all([proxy.event(n, id), proxy.attestation(n, id)]);
    const status = !event.ok && event.status === 404 ? 404 : 200;
    return { status, body: (ctx) => oracleEventPage({ index: n, url: proxy.urls[n]!, eventId: id, event, attestation, maxRows: opts.maxEvidenceRows ?? 500 }, ctx) };
  }));

  router.get('/dashboard/assets/style.css', (_req, res) => {
    res.set('content-type', 'text/css; charset=utf-8').set('cache-control', 'public, max-age=300').set('x-content-type-options', 'nosniff').send(DASHBOARD_CSS);
  });

  // ---- read-only data the coordinator API lacks (errors: the coordinator's JSON error middleware)

  async function curveFor(id: string): Promise<{ rec: PublicContract; curve: ContractCurve }> {
    const rec = await mustRecord(id);
    const c = await curveOf(rec);
    if ('error' in c) throw new HttpError(500, 'INTERNAL', `payout curve: ${c.error}`);
    return { rec, curve: c.curve };
  }

  router.get('/dashboard/api/contracts/:id/payout-curve', async (req, res) => {
    const { rec, curve } = await curveFor(String(req.params.id));
    res.json(curveJson(curve, settledOutcome(rec)));
  });

  router.get('/dashboard/api/contracts/:id/payout-curve.svg', async (req, res) => {
    const { rec, curve } = await curveFor(String(req.params.id));
    const unit = curve.precision === 0 ? curve.unit : `${curve.unit} × 10^${curve.precision}`;
    const svg = renderPayoutChart(curve.steps, { unit, offerLabel: curve.roles.offer, acceptLabel: curve.roles.accept, attested: settledOutcome(rec) });
    res.set('content-type', 'image/svg+xml; charset=utf-8').set('content-security-policy', DASHBOARD_CSP).set('x-content-type-options', 'nosniff').send(svg);
  });

  router.use('/dashboard', page(async (req) => {
    throw new HttpError(404, 'NOT_FOUND', `no dashboard page ${req.originalUrl.split('?')[0] ?? ''}`);
  }));

  return router;
}
