/**
 * The coordinator's HTTP API (src/coordinator/API.md): routes, request
 * authentication (protocol/auth, over the exact body bytes), zod on every
 * input, and the error middleware mapping codes to statuses. Routes of others
 * (the web dashboard) are mounted when the composer passes them
 * (`CoordinatorAppOptions.mount`): this module knows none of them.
 *
 * This module does NOT implement any step (service.ts does).
 */
import express, { type Express, type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import { AUTH_HEADER_PUBKEY, AUTH_HEADER_SIGNATURE, AUTH_HEADER_TIMESTAMP, verifyRequest, type ReplayGuard } from '../../protocol/auth/index.js';
import { isDlcError } from '../../protocol/errors.js';
import { CHAIN_HASHES } from '../../protocol/messages/index.js';
import { bodyBytes, errorMiddleware, notFound, parseBody, parseWith, rawBody } from '../http/index.js';
import { CoordinatorError, errorResponse } from './errors.js';
import { roleOf, type ContractRecord } from './lifecycle.js';
import { isPublicRecord, publicRecord } from './privacy.js';
import { contractView, offerView, stripView, type CoordinatorService } from './service.js';

const idParam = z.object({ id: z.string().regex(/^[0-9a-fA-F]{64}$/, '32-byte hex id') });
const positionIdParam = z.object({ id: z.string().regex(/^[0-9a-fA-F]{32}$/, '16-byte hex position id') });

export const API_VERSION = 'hashdlc-coordinator/1';

/**
 * The signer of a request, checked against its body bytes and the clock.
 * @throws {CoordinatorError} UNAUTHENTICATED naming why (`auth-missing`, `auth-malformed`, `auth-stale`, `auth-signature`, `auth-replayed`, `auth-replay-cache-full`).
 */
async function authenticate(svc: CoordinatorService, req: Request, replay: ReplayGuard): Promise<string> {
  const now = Math.floor(svc.now() / 1000);
  let pubkey: string;
  let timestamp: number;
  const signature = String(req.headers[AUTH_HEADER_SIGNATURE]);
  try {
    ({ pubkey, timestamp } = verifyRequest(req.headers, { method: req.method, path: req.originalUrl, body: bodyBytes(req) }, now, svc.config.authMaxSkewSec));
    // A captured request played again within the skew window is refused (`auth-replayed`):
    // by this process's guard on LevelDB (one process), by the database's set on PostgreSQL below.
    if (svc.store.backend.kind === 'leveldb') replay.admit(pubkey, signature, timestamp, now);
  } catch (err) {
    if (isDlcError(err)) throw new CoordinatorError('UNAUTHENTICATED', err.message, { reason: err.reason ?? 'auth', cause: err });
    throw err;
  }
  // Replicas on one database (issue 13) share the set of requests seen: the same request
  // played to ANOTHER replica is refused too. (Only the database records it, so a request
  // that met a 503 before being recorded can be sent again as it is.)
  const key = `${pubkey.toLowerCase()}:${signature.toLowerCase()}`;
  if (!(await svc.store.backend.admitRequest(key, timestamp + svc.config.authMaxSkewSec, now))) {
    throw new CoordinatorError('UNAUTHENTICATED', 'this signed request was already received by another replica (replay)', { reason: 'auth-replayed' });
  }
  return pubkey;
}

/**
 * Who reads a record: `party` (the whole record) or `public` (privacy.ts).
 * @throws {CoordinatorError} FORBIDDEN `not-a-party` for a GET signed by a key that is not a party
 *   (a contract past `offered`): a signed read is a claim to be a party.
 */
function readerOf(rec: ContractRecord, signer: string | null): 'party' | 'public' {
  if (isPublicRecord(rec)) return 'party';
  if (signer === null) return 'public';
  if (roleOf(rec, signer) === null) throw new CoordinatorError('FORBIDDEN', 'this contract is served in full only to its parties', { reason: 'not-a-party' });
  return 'party';
}

/** @throws {CoordinatorError} UNAUTHENTICATED `auth-missing` for an unsigned GET of party-only data. */
function requireSigned(signer: string | null): string {
  if (signer === null) {
    throw new CoordinatorError('UNAUTHENTICATED', 'served only to the parties: sign the GET with your identity key (protocol/auth)', { reason: 'auth-missing' });
  }
  return signer;
}

/**
 * Requires a GET signed by one of `rec`'s parties (or by `key`).
 * @throws {CoordinatorError} UNAUTHENTICATED `auth-missing` unsigned; FORBIDDEN `not-a-party` signed by another key.
 */
function requireParty(signer: string | null, rec: ContractRecord | { key: string }): void {
  const s = requireSigned(signer);
  const ok = 'key' in rec ? s === rec.key : roleOf(rec, s) !== null;
  if (!ok) throw new CoordinatorError('FORBIDDEN', 'served only to the parties of this contract', { reason: 'not-a-party' });
}

export interface CoordinatorAppOptions {
  /** Read-only routes served beside the API, before its 404 (the composer's: coordinator main mounts the dashboard). */
  mount?: readonly RequestHandler[];
}

/** Builds the express app over a service. */
export function coordinatorApp(svc: CoordinatorService, opts: CoordinatorAppOptions = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  const s = svc.schemas;
  const post = rawBody(svc.config.limits.maxBodyBytes);
  const authenticated = (req: Request): Promise<string> => authenticate(svc, req, svc.replay);
  /** The signer of a GET when it carries auth headers (then they must verify), else null. */
  const optionalSigner = async (req: Request): Promise<string | null> =>
    req.headers[AUTH_HEADER_PUBKEY] === undefined && req.headers[AUTH_HEADER_SIGNATURE] === undefined && req.headers[AUTH_HEADER_TIMESTAMP] === undefined
      ? null
      : await authenticated(req);

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });

  app.get('/v1/info', (_req, res) => {
    res.json({
      version: API_VERSION,
      network: svc.config.network,
      chainHash: CHAIN_HASHES[svc.config.network],
      oracles: svc.config.oracles,
      hashProfile: svc.config.hashProfile,
      authMaxSkewSec: svc.config.authMaxSkewSec,
      confirmations: svc.config.watcher.confirmations,
      limits: svc.config.limits,
      // Issue 13: which backend, and whether THIS replica currently runs settlement.
      storage: { kind: svc.store.backend.kind, leader: svc.store.backend.leadership.leading },
    });
  });

  // ---- offer book
  app.post('/v1/offers', post, async (req, res) => {
    const signer = await authenticated(req);
    const body = parseBody(req, s.offer);
    const rec = await svc.createOffer(signer, body);
    res.status(201).json(offerView(rec));
  });

  app.get('/v1/offers', async (req, res) => {
    res.json(await svc.listOffers(parseWith(s.offersQuery, req.query)));
  });

  app.get('/v1/offers/:id', async (req, res) => {
    const { id } = parseWith(idParam, req.params);
    const rec = await svc.mustGet(id);
    // One offer: with its offer_dlc, so an accepter needs no second request. A published
    // offer stays public in every state (privacy.ts): the book already showed it.
    res.json({ ...offerView(rec), offer: (await svc.messagesHex(rec.id)).offer });
  });

  // ---- contracts (privacy.ts: past `offered`, the full record only to its parties, by signed GET)
  app.get('/v1/contracts', async (req, res) => {
    const q = parseWith(s.contractsQuery, req.query);
    const signer = await optionalSigner(req);
    // Which contracts a key is party to is itself private: ?party= only for that key's own signed GET.
    if (q.party !== undefined) requireParty(signer, { key: q.party });
    const page = await svc.listContracts(q);
    res.json({ ...page, contracts: page.contracts.map((v) => (q.party !== undefined ? v : contractView(publicRecord(v as unknown as ContractRecord)))) });
  });

  app.get('/v1/contracts/:id', async (req, res) => {
    const { id } = parseWith(idParam, req.params);
    const rec = await svc.mustGet(id);
    res.json(contractView(readerOf(rec, await optionalSigner(req)) === 'party' ? rec : publicRecord(rec)));
  });

  app.get('/v1/contracts/:id/messages', async (req, res) => {
    const { id } = parseWith(idParam, req.params);
    const rec = await svc.mustGet(id);
    const signer = await optionalSigner(req);
    if (!isPublicRecord(rec)) requireParty(signer, rec);
    res.json(await svc.messagesHex(id));
  });

  app.post('/v1/contracts/:id/accept', post, async (req, res) => {
    const signer = await authenticated(req);
    const { id } = parseWith(idParam, req.params);
    res.json(contractView(await svc.accept(id, signer, parseBody(req, s.accept))));
  });

  app.post('/v1/contracts/:id/sign', post, async (req, res) => {
    const signer = await authenticated(req);
    const { id } = parseWith(idParam, req.params);
    res.json(contractView(await svc.sign(id, signer, parseBody(req, s.sign))));
  });

  app.post('/v1/contracts/:id/fund', post, async (req, res) => {
    const signer = await authenticated(req);
    const { id } = parseWith(idParam, req.params);
    res.json(contractView(await svc.fund(id, signer, parseBody(req, s.fund))));
  });

  app.post('/v1/contracts/:id/close', post, async (req, res) => {
    const signer = await authenticated(req);
    const { id } = parseWith(idParam, req.params);
    const { record, closePsbt } = await svc.close(id, signer, parseBody(req, s.close));
    res.json({ ...contractView(record), closePsbt });
  });

  app.post('/v1/contracts/:id/cancel', post, async (req, res) => {
    const signer = await authenticated(req);
    const { id } = parseWith(idParam, req.params);
    parseBody(req, s.cancel);
    res.json(contractView(await svc.cancel(id, signer)));
  });

  // ---- strips (issue 12): N period contracts, one round, one funding transaction; :id is any period's id
  /**
   * The strip's view for this caller: each period in full to a party (or while offered), else
   * public; the strip's PSBT and contract ids only when every period may be read in full
   * (decided per period, never from period 1 alone).
   */
  const stripFor = (recs: ContractRecord[], signer: string | null): Record<string, unknown> => {
    const full = recs.map((r) => readerOf(r, signer) === 'party');
    return stripView(recs, (r, i) => contractView(full[i] ? r : publicRecord(r)), full.every(Boolean));
  };

  app.post('/v1/strips', post, async (req, res) => {
    const signer = await authenticated(req);
    const recs = await svc.createStrip(signer, parseBody(req, s.stripOffer));
    res.status(201).json(stripFor(recs, signer));
  });

  app.get('/v1/strips/:id', async (req, res) => {
    const { id } = parseWith(idParam, req.params);
    const recs = await svc.stripRecords(id);
    res.json(stripFor(recs, await optionalSigner(req)));
  });

  app.get('/v1/strips/:id/messages', async (req, res) => {
    const { id } = parseWith(idParam, req.params);
    const recs = await svc.stripRecords(id);
    if (!recs.every(isPublicRecord)) requireParty(await optionalSigner(req), recs[0]!);
    res.json(await svc.stripMessagesHex(recs));
  });

  app.post('/v1/strips/:id/accept', post, async (req, res) => {
    const signer = await authenticated(req);
    const { id } = parseWith(idParam, req.params);
    res.json(stripFor(await svc.acceptStrip(id, signer, parseBody(req, s.stripAccept)), signer));
  });

  app.post('/v1/strips/:id/sign', post, async (req, res) => {
    const signer = await authenticated(req);
    const { id } = parseWith(idParam, req.params);
    res.json(stripFor(await svc.signStrip(id, signer, parseBody(req, s.stripSign)), signer));
  });

  app.post('/v1/strips/:id/fund', post, async (req, res) => {
    const signer = await authenticated(req);
    const { id } = parseWith(idParam, req.params);
    res.json(stripFor(await svc.fundStrip(id, signer, parseBody(req, s.fund)), signer));
  });

  app.post('/v1/strips/:id/cancel', post, async (req, res) => {
    const signer = await authenticated(req);
    const { id } = parseWith(idParam, req.params);
    parseBody(req, s.cancel);
    res.json(stripFor(await svc.cancelStrip(id, signer), signer));
  });

  // ---- positions (issue 14): the secondary book and transfers; :id is a position id (16 bytes hex)
  const desk = svc.positions;

  app.post('/v1/positions', post, async (req, res) => {
    const signer = await authenticated(req);
    const p = await desk.sell(signer, parseBody(req, s.positionSell));
    res.status(201).json(await desk.view(p, 'party'));
  });

  app.get('/v1/positions', async (req, res) => {
    res.json(await desk.list(parseWith(s.positionsQuery, req.query)));
  });

  app.get('/v1/positions/:id', async (req, res) => {
    const { id } = parseWith(positionIdParam, req.params);
    const p = await desk.mustGet(id);
    // A signed GET by anyone else is a buyer looking: it gets the public view (the transfer PSBT and terms are the parties').
    res.json(await desk.view(p, desk.readerOf(p, await optionalSigner(req))));
  });

  app.get('/v1/positions/:id/messages', async (req, res) => {
    const { id } = parseWith(positionIdParam, req.params);
    const p = await desk.mustGet(id);
    const signer = await optionalSigner(req);
    const m = await desk.messagesHex(p);
    if (desk.readerOf(p, signer) === 'party') {
      res.json(m);
      return;
    }
    // While listed the sold contract's messages are public (the seller offered them for a buyer to check); after, the parties' and taker's.
    if (p.state !== 'listed') requireParty(signer, { key: p.seller });
    res.json({ contract: m.contract, next: null });
  });

  app.post('/v1/positions/:id/take', post, async (req, res) => {
    const signer = await authenticated(req);
    const { id } = parseWith(positionIdParam, req.params);
    res.json(await desk.view(await desk.take(id, signer, parseBody(req, s.positionTake)), 'party'));
  });

  app.post('/v1/positions/:id/consent', post, async (req, res) => {
    const signer = await authenticated(req);
    const { id } = parseWith(positionIdParam, req.params);
    res.json(await desk.view(await desk.consent(id, signer, parseBody(req, s.positionConsent)), 'party'));
  });

  app.post('/v1/positions/:id/release', post, async (req, res) => {
    const signer = await authenticated(req);
    const { id } = parseWith(positionIdParam, req.params);
    res.json(await desk.view(await desk.release(id, signer, parseBody(req, s.positionRelease)), 'party'));
  });

  app.post('/v1/positions/:id/fund', post, async (req, res) => {
    const signer = await authenticated(req);
    const { id } = parseWith(positionIdParam, req.params);
    res.json(await desk.view(await desk.fund(id, signer, parseBody(req, s.positionFund)), 'party'));
  });

  app.post('/v1/positions/:id/cancel', post, async (req, res) => {
    const signer = await authenticated(req);
    const { id } = parseWith(positionIdParam, req.params);
    parseBody(req, s.positionCancel);
    const p = await desk.cancel(id, signer);
    res.json(await desk.view(p, desk.readerOf(p, signer)));
  });

  for (const handler of opts.mount ?? []) app.use(handler);

  app.use(notFound);
  app.use(errorMiddleware(
    (err) => errorResponse(err),
    (err) => svc.log('error', 'request failed', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  ));
  return app;
}
