/**
 * Fixtures of the dashboard tests (not a test file):
 * - `deliveryEvidence`: hashpower-delivery evidence (oracle/API.md evidence
 *   JSON) for a window of regtest-like blocks whose counted coinbase payouts
 *   make `recomputeOutcome` give exactly the wanted delivery ratio;
 * - `startEventOracle`: an in-test oracle HTTP server that, unlike
 *   coordinator-fixtures' `startTestOracle`, serves the full API v1 event
 *   shapes the dashboard shows (event list, `EventJson` with params and
 *   rules, attestations with `result` and evidence), its announcements and
 *   attestations signed by test/helpers/dlc-fixture.ts `testOracle`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { CURRENT_REWARD_RULE, recomputeOutcome, expectedDeliverySats, difficultyFromDecimal, type DeliveryEvidence } from '../protocol/hashpower/index.js';
import type { OracleAnnouncement } from '../protocol/messages/index.js';
import { encodeMessage, messageToJson, toHex } from '../protocol/messages/index.js';
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
