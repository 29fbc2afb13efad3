/**
 * Fixtures of the dashboard tests (not a test file):
 * - `deliveryEvidence`: hashpower-delivery evidence (oracle/API.md evidence
 *   JSON) for a window of regtest-like blocks whose counted coinbase payouts
 *   make `recomputeOutcome` give exactly the wanted delivery ratio;
 * - `startEventOracle`: an in-test oracle HTTP server that, unlike
 *   coordinator-fixtures' `startTestOracle`, serves the full API v1 event
 *   shapes the dashboard shows (event list, `EventJson` with params and
 *   rules, attestations with `result` and evidence), its announcements and
 *   attestations signed by test/helpers/dlc-fixture.ts `testOracle`;
 * - `stripFixture`: a strip (issue 12) as `CoordinatorQueries.strip` answers
 *   it, its periods' public views made from coordinator records
 *   (lifecycle `createOffer`, privacy `publicRecord`, service `contractView`)
 *   with the strip place the coordinator adds; `stripQueries`: an in-memory
 *   `CoordinatorQueries` over such strips and single contracts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { CURRENT_REWARD_RULE, recomputeOutcome, expectedDeliverySats, difficultyFromDecimal, type DeliveryEvidence } from '../protocol/hashpower/index.js';
import type { OracleAnnouncement } from '../protocol/messages/index.js';
import { encodeMessage, messageToJson, toHex } from '../protocol/messages/index.js';
import { periodTermsOf, summarizeTerms, type OfferTerms } from '../protocol/terms/index.js';
import type { ContractState, CoordinatorQueries, PublicContract } from '../src/api/coordinator.js';
import { createOffer, type ContractRecord } from '../src/coordinator/lifecycle.js';
import { publicRecord } from '../src/coordinator/privacy.js';
import { contractView } from '../src/coordinator/service.js';
import type { StripData } from '../src/dashboard/index.js';
import { testOracle, type TestOracle } from './helpers/dlc-fixture.js';

const hex32 = (tag: string): string => bytesToHex(sha256(new TextEncoder().encode(tag)));

/** Evidence JSON (bigints as decimal strings) and the evidence itself. */
export interface BuiltEvidence {
  evidence: DeliveryEvidence;
  json: Record<string, unknown>;
  result: { outcome: string; capped: boolean; noNetworkReward: boolean; networkReward: string; poolRewards: string };
}

/**
 * Delivery evidence over `window` (one block per height, regtest bits, a
 * 78,125,000-sat reward each) under `simulatedDifficulty`, with coinbase
 * payouts to `deliveryAddress` adding up to the smallest amount that gives
 * `bps`. @throws {Error} if the wanted ratio needs more than the blocks pay.
 */
export function deliveryEvidence(o: { window: { start: number; end: number }; deliveryAddress: string; hashrateThs: bigint; simulatedDifficulty: string; bps: bigint; nbDigits?: number }): BuiltEvidence {
  const reward = 78_125_000n;
  const blocks = [];
  for (let h = o.window.start; h < o.window.end; h++) {
    blocks.push({ height: h, hash: hex32(`block ${h}`), bits: '207fffff', reward, coinbaseTxid: hex32(`coinbase ${h}`) });
  }
  const d = difficultyFromDecimal(o.simulatedDifficulty);
  const expected = expectedDeliverySats(o.hashrateThs, blocks.map((b) => ({ reward: b.reward, difficulty: d })));
  // smallest R with R / expected * 10000 >= bps
  let remaining = (o.bps * expected.n + 10_000n * expected.d - 1n) / (10_000n * expected.d);
  const payouts = [];
  for (const b of blocks) {
    if (remaining <= 0n) break;
    const value = remaining < reward / 2n ? remaining : reward / 2n;
    payouts.push({ source: 'coinbase' as const, height: b.height, blockHash: b.hash, txid: b.coinbaseTxid, vout: 1, value, address: o.deliveryAddress });
    remaining -= value;
  }
  if (remaining > 0n) throw new Error('deliveryEvidence: the blocks do not pay enough for that ratio');
  const evidence: DeliveryEvidence = {
    kind: 'hashpower-delivery',
    window: o.window,
    event: { nbDigits: o.nbDigits ?? 14, precision: 0 },
    simulatedDifficulty: o.simulatedDifficulty,
    deliveryAddress: o.deliveryAddress,
    poolPayoutAddresses: [],
    hashrateThs: o.hashrateThs,
    blocks,
    payouts,
  };
  const r = recomputeOutcome(evidence);
  const json = JSON.parse(JSON.stringify(evidence, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as Record<string, unknown>;
  return {
    evidence,
    json,
    result: { outcome: String(r.outcome), capped: r.capped, noNetworkReward: r.noNetworkReward, networkReward: String(r.networkReward), poolRewards: String(r.poolRewards) },
  };
}

/** What the in-test oracle states about an event (oracle/API.md `params`). */
export interface DeliveryParams {
  window: { start: number; end: number };
  deliveryAddress: string;
  hashrateThs: string;
  simulatedDifficulty: string;
  nbDigits: number;
  /** The reward rule stated; default the current one, null for an event announced before rules. */
  rewardRule?: string | null;
  /** The payout scheme stated (issue 16); none by default. */
  payoutScheme?: string;
}

export interface EventOracleServer {
  url: string;
  oracle: TestOracle;
  /** Publish a delivery event's announcement with the parameters it states. */
  publish(ann: OracleAnnouncement, params: DeliveryParams): void;
  /** Attest `eventId` with a numeric outcome, serving `evidence` with it. */
  attest(eventId: string, outcome: bigint, evidence: BuiltEvidence | null, height: number): void;
  close(): Promise<void>;
}

/** The in-test oracle of the module header. */
export async function startEventOracle(label: string): Promise<EventOracleServer> {
  const oracle = testOracle(label);
  const events = new Map<string, { ann: OracleAnnouncement; params: DeliveryParams }>();
  const attestations = new Map<string, { outcome: bigint; evidence: BuiltEvidence | null; height: number }>();

  const eventJson = (id: string): Record<string, unknown> => {
    const { ann, params } = events.get(id)!;
    const att = attestations.get(id);
    return {
      eventId: id,
      kind: 'hashpower-delivery',
      state: att === undefined ? 'announced' : 'attested',
      params: {
        kind: 'hashpower-delivery',
        network: 'regtest',
        window: params.window,
        deliveryAddress: params.deliveryAddress,
        poolPayoutAddresses: [],
        hashrateThs: params.hashrateThs,
        simulatedDifficulty: params.simulatedDifficulty,
        rewardRule: params.rewardRule === undefined ? CURRENT_REWARD_RULE : params.rewardRule,
        ...(params.payoutScheme === undefined ? {} : { payoutScheme: params.payoutScheme }),
        descriptor: { type: 'numeric', base: 2, nbDigits: params.nbDigits, unit: 'bps', precision: 0 },
      },
      attestHeight: params.window.end,
      eventMaturityEpoch: ann.oracleEvent.eventMaturityEpoch,
      rules: ['if the window has no reward at all, the outcome is the largest value', `regtest: every block counts with difficulty ${params.simulatedDifficulty}`],
      announcement: { hex: toHex(encodeMessage({ type: 'oracle_announcement', message: ann })), json: messageToJson({ type: 'oracle_announcement', message: ann }) },
      attested: att === undefined ? null : { height: att.height, outcome: String(att.outcome) },
    };
  };

  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const [path = '/', query = ''] = (req.url ?? '/').split('?');
    if (path === '/v1/info') return send(200, { publicKey: toHex(oracle.publicKey), hashProfile: oracle.profile, network: 'regtest', version: 'hashdlc-oracle/1' });
    if (path === '/v1/events') {
      const limit = Number(new URLSearchParams(query).get('limit') ?? '100');
      const ids = [...events.keys()].sort();
      return send(200, { events: ids.slice(0, limit).map(eventJson), next: ids.length > limit ? ids[limit - 1] : null });
    }
    const m = /^\/v1\/events\/([^/]+)(\/attestation)?$/.exec(path);
    if (m === null) return send(404, { error: { code: 'NOT_FOUND', message: 'no route' } });
    const id = decodeURIComponent(m[1]!);
    if (!events.has(id)) return send(404, { error: { code: 'NOT_FOUND', message: 'unknown event' } });
    if (m[2] === undefined) return send(200, eventJson(id));
    const att = attestations.get(id);
    if (att === undefined) return send(404, { error: { code: 'NOT_ATTESTED', message: 'not yet', attestHeight: events.get(id)!.params.window.end } });
    const nbDigits = events.get(id)!.params.nbDigits;
    const a = oracle.attestNumeric(id, att.outcome, nbDigits);
    return send(200, {
      eventId: id,
      outcome: String(att.outcome),
      outcomes: a.outcomes,
      hex: toHex(encodeMessage({ type: 'oracle_attestation', message: a })),
      ...(att.evidence !== null ? { result: att.evidence.result, evidence: att.evidence.json } : {}),
      attestedAtHeight: att.height,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    oracle,
    publish(ann, params) {
      events.set(ann.oracleEvent.eventId, { ann, params });
    },
    attest(eventId, outcome, evidence, height) {
      attestations.set(eventId, { outcome, evidence, height });
    },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

// ------------------------------------------------------------------ strips (issue 12)

/** How a period of `stripFixture` stands: open, live, or closed on chain (CET at an outcome, refund, cooperative close). */
export type PeriodFixture =
  | { state: 'offered' }
  | { state: Exclude<ContractState, 'offered' | 'settled' | 'refunded' | 'closed'> }
  | { state: 'settled'; outcome: bigint }
  | { state: 'refunded' }
  | { state: 'closed'; miner: bigint };

/**
 * A hashpower-sale strip: 100 TH/s over `window` (default [1000, 1400)) in
 * `periods.length` periods, upfront 50,000, escrow 400,000 and miner
 * collateral 200,000 split by blocks (protocol/terms `periodTermsOf`), period i's
 * id `idByte` then i+1 repeated (period 1's id is the strip id). A settled
 * period pays the sale's curve at its outcome (tolerance 9,500 bps: at or above
 * it the miner gets everything, at 0 the buyer, linear between, no rounding);
 * a refund gives each side its own funding back.
 */
export function stripFixture(o: { idByte: string; periods: PeriodFixture[]; deliveryAddress?: string; window?: { start: number; end: number } }): { strip: StripData; terms: OfferTerms } {
  const terms: OfferTerms = {
    template: 'hashpower-sale', hashrateThs: '100', window: o.window ?? { start: 1000, end: 1400 }, deliveryAddress: o.deliveryAddress ?? 'bcrt1qstripdelivery',
    upfront: '50000', escrow: '400000', minerCollateral: '200000', toleranceBps: 9500, fundingDeadline: 990, periods: o.periods.length, upfrontScript: '51', upfrontSerialId: '7',
  };
  const ids = o.periods.map((_p, i) => `${o.idByte}${String(i + 1).padStart(2, '0')}`.repeat(16));
  const fundingTxid = `${o.idByte}f0`.repeat(16);
  const contracts = periodTermsOf(terms).map((pt, i): PublicContract => {
    if (pt.template !== 'hashpower-sale') throw new TypeError('a sale strip');
    const p = o.periods[i]!;
    const miner = BigInt(pt.minerCollateral);
    const escrow = BigInt(pt.escrow);
    const total = miner + escrow;
    const offered = createOffer({
      id: ids[i]!, terms: pt, summary: summarizeTerms(pt),
      offerer: { identityPubkey: '11'.repeat(32), fundingPubkey: `02${'22'.repeat(32)}`, payoutSpk: '0014751e76e8199196d454941c45d1b3a323f1433bd6' },
      offerCollateral: String(miner), acceptCollateral: String(escrow), totalCollateral: String(total), cets: 21, adaptorSignatures: 168,
      oracles: [{ url: 'http://127.0.0.1:7001', eventId: `hashpower-delivery/${pt.window.start}-${pt.window.end}/100ths/strip`, publicKey: '33'.repeat(32) }],
      cetLocktime: pt.window.end, refundLocktime: pt.window.end + 144,
    }, Date.UTC(2025, 5, 1, 0, i));
    let rec: Record<string, unknown> = { ...offered };
    if (p.state !== 'offered') {
      const at = Date.UTC(2025, 5, 2, 0, i);
      rec = {
        ...offered, state: p.state, updatedAt: at, history: [...offered.history, { state: p.state, at }],
        fundingTxid, fundOutputIndex: i + 1, fundOutputValue: String(total), fundingTx: '00', fundingHeight: 995, fundingBlockHash: '99'.repeat(32),
        accepter: { identityPubkey: '44'.repeat(32), fundingPubkey: `03${'55'.repeat(32)}`, payoutSpk: '0014'.padEnd(44, '6') },
      };
      const closed = (kind: 'cet' | 'refund' | 'close', minerGets: bigint, extra: Record<string, unknown>): Record<string, unknown> => ({
        ...rec, closingKind: kind, closingTxid: `${o.idByte}c${i + 1}`.repeat(16), closingHeight: pt.window.end + 2, closingBlockHash: '98'.repeat(32),
        payouts: { offer: String(minerGets), accept: String(total - minerGets) }, ...extra,
      });
      if (p.state === 'settled') {
        const full = p.outcome >= 9500n ? total : (total * p.outcome) / 9500n;
        rec = closed('cet', full, { outcome: String(p.outcome), cetIndex: 0, broadcastBy: 'coordinator', oracleOutcomes: [{ outcome: String(p.outcome), agreed: true }] });
      } else if (p.state === 'refunded') {
        rec = closed('refund', miner, { outcome: null, broadcastBy: 'coordinator' });
      } else if (p.state === 'closed') {
        rec = closed('close', p.miner, { outcome: null, broadcastBy: 'other' });
      }
    }
    const rcd = rec as unknown as ContractRecord;
    const view = contractView(rcd.state === 'offered' ? rcd : publicRecord(rcd)) as unknown as PublicContract;
    return { ...view, strip: { id: ids[0]!, index: i, periods: o.periods.length } };
  });
  return { strip: { id: ids[0]!, periods: o.periods.length, terms: terms as unknown as Record<string, unknown>, contracts }, terms };
}

/**
 * An in-memory `CoordinatorQueries` over `strips` and `singles` (each state's
 * index in insertion order; the offer book lists a strip's period 1 only, as
 * the coordinator does). `withStrip: false` leaves `strip` out (an older
 * coordinator). Logs go to `logs`.
 */
export function stripQueries(o: { strips: StripData[]; singles?: PublicContract[]; tip?: number; withStrip?: boolean; logs?: string[] }): CoordinatorQueries {
  const all = [...(o.singles ?? []), ...o.strips.flatMap((s) => s.contracts)];
  const byId = new Map(all.map((c) => [c.id, c]));
  const q: CoordinatorQueries = {
    network: 'regtest',
    oracleUrls: [],
    tipHeight: () => Promise.resolve(o.tip ?? 1350),
    contractsByState: (state, page) => {
      const inState = all.filter((c) => c.state === state && !(state === 'offered' && c.strip !== undefined && c.strip.index > 0));
      const from = page.after === undefined ? 0 : inState.findIndex((c) => c.id === page.after) + 1;
      const contracts = inState.slice(from, from + page.limit);
      return Promise.resolve({ contracts, next: from + page.limit < inState.length ? contracts[contracts.length - 1]!.id : null });
    },
    contract: (id) => Promise.resolve(byId.get(id.toLowerCase()) ?? null),
    offerMessage: () => Promise.resolve(null),
    log: (level, msg) => {
      o.logs?.push(`${level}: ${msg}`);
    },
  };
  if (o.withStrip !== false) {
    q.strip = (id) => {
      const rec = byId.get(id.toLowerCase());
      const s = rec?.strip === undefined ? undefined : o.strips.find((x) => x.id === rec.strip!.id);
      return Promise.resolve(s ?? null);
    };
  }
  return q;
}
