/**
 * Attestation: once the indexed tip reaches an event's `attestHeight`
 * (`end + lag - 1 + confirmations`, lag the event's payout lag, 0 unless stated), the outcome is computed from the index with
 * protocol/hashpower (`recomputeOutcome` over the very evidence that will be
 * published, so the oracle and every verifier run the same code), stored with
 * its evidence in one atomic batch, and only then signed with protocol/crypto
 * `attest` (nonces derived from the oracle secret and the event id) and the
 * attestation stored in a second batch, after which HTTP serves it.
 *
 * Never two outcomes: an event whose outcome is stored is signed from the
 * stored outcome, never recomputed, so a crash at any step (even with the
 * chain reorganised meanwhile) ends in the same single attestation; and the
 * signatures are deterministic (same nonce, same message), so signing twice
 * after a crash yields the same bytes.
 *
 * Progress (`measureProgress`, issue 14): the same evidence and the same
 * `recomputeOutcome` over the window truncated at the indexed tip, so the
 * secondary book's "delivery so far" is the attestation's formula, not a copy.
 *
 * This module does NOT index the chain, choose when to run, or speak HTTP.
 */
import { attest, type HashProfile } from '../protocol/crypto/index.js';
import { recomputeOutcome, type BlockEvidence, type OutcomeEvidence, type PayoutEvidence, type RecomputedOutcome } from '../protocol/hashpower/index.js';
import { encodeMessage, toHex, type OracleAttestation } from '../protocol/messages/index.js';
import type { CrashStep } from './config.js';
import { OracleError } from './errors.js';
import {
  attestedOutcome,
  eventMeasuredRange,
  evidencePayoutFields,
  evidenceRewardFields,
  evidenceSpec,
  evidenceToJson,
  payoutLagOf,
  type EventParams,
} from '../protocol/events/index.js';
import { eventIndexKeys } from './events.js';
import type { ChainIndexer } from './indexer.js';
import type { OracleKey } from './keys.js';
import { h10, type AttestationRecord, type EventRecord, type OracleStore, type OutcomeRecord, type StoreOp } from './store.js';

/**
 * Builds the evidence of an event's outcome from the index: every block of
 * the window, the coinbase outputs to `D`, and the payouts to `D` from the
 * declared pool payout addresses, read in the event's measured range (the
 * window shifted by its payout lag, whose blocks are then listed too).
 * @throws {OracleError} INTERNAL when the index does not cover the window.
 */
export async function buildEvidence(store: OracleStore, params: EventParams): Promise<OutcomeEvidence> {
  const { start, end } = params.window;
  const indexedBlocks = async (from: number, to: number): Promise<BlockEvidence[]> => {
    const entries = await store.range(store.blocks, h10(from), h10(to));
    if (entries.length !== to - from) {
      throw new OracleError('INTERNAL', `index has ${entries.length} of the ${to - from} blocks of [${from}, ${to})`, {
        reason: 'index-incomplete',
      });
    }
    return entries.map(([key, b]) => ({ height: Number(key), hash: b.hash, bits: b.bits, reward: BigInt(b.reward), coinbaseTxid: b.coinbaseTxid }));
  };
  const blocks = await indexedBlocks(start, end);
  const event = evidenceSpec(params);
  const simulated = params.simulatedDifficulty === null ? {} : { simulatedDifficulty: params.simulatedDifficulty };
  // The event's own rule (full-reward-v0 for events announced before rules: never a silent change of outcome).
  const rule = evidenceRewardFields(params);
  if (params.kind === 'hashprice') return { kind: 'hashprice', window: { start, end }, event, blocks, ...simulated, ...rule };

  const D = params.deliveryAddress!;
  const declared = params.poolPayoutAddresses ?? [];
  // Payouts are read from the measured range: the window shifted by the event's payout lag (issue 16).
  const payout = evidencePayoutFields(params);
  const measured = eventMeasuredRange(params);
  const payoutBlocks = payout.payoutLagBlocks === undefined ? blocks : await indexedBlocks(measured.start, measured.end);
  const byHeight = new Map(payoutBlocks.map((b) => [b.height, b]));
  const payouts: PayoutEvidence[] = [];
  for (const [key, value] of await store.range(store.cbout, `${D}!${h10(measured.start)}`, `${D}!${h10(measured.end)}`)) {
    const [, hText, voutText] = key.split('!');
    const b = byHeight.get(Number(hText))!;
    payouts.push({ source: 'coinbase', height: b.height, blockHash: b.hash, txid: b.coinbaseTxid, vout: Number(voutText), value: BigInt(value), address: D });
  }
  if (declared.length > 0) {
    for (const [key, p] of await store.range(store.payouts, `${D}!${h10(measured.start)}`, `${D}!${h10(measured.end)}`)) {
      const fromAddress = declared.find((a) => p.from.includes(a));
      if (fromAddress === undefined) continue;
      const [, hText, txid, voutText] = key.split('!');
      const b = byHeight.get(Number(hText))!;
      payouts.push({
        source: 'pool-payout', height: b.height, blockHash: b.hash, txid: txid!, vout: Number(voutText), value: BigInt(p.value), address: D, fromAddress,
      });
    }
  }
  const withPayouts = {
    window: { start, end },
    event,
    blocks,
    deliveryAddress: D,
    poolPayoutAddresses: [...declared],
    payouts,
    ...payout,
    ...(payout.payoutLagBlocks === undefined ? {} : { payoutBlocks }),
  };
  if (params.kind === 'pool-rewards') return { kind: 'pool-rewards', ...withPayouts };
  return { kind: 'hashpower-delivery', ...withPayouts, ...simulated, ...rule, hashrateThs: BigInt(params.hashrateThs!) };
}

/** What the index has measured of an event's window so far (`GET /v1/events/:id/progress`). */
export interface EventProgress {
  /** The last block of the window counted: the indexed tip less the payout lag, capped at `end - 1` (below `start` before the window starts). */
  atHeight: number;
  /** Blocks of the window counted: `[start, atHeight + 1)`. */
  blocks: number;
  /** Paid to the delivery address from the counted sources (delivery and pool-rewards events), else null. */
  rewardsSats: bigint | null;
  /** Delivery events: the attested value over the blocks so far, in bps (null before the window starts), else null. */
  ratioBps: number | null;
  /** The outcome the attestation would carry if the window ended at `atHeight` (null before it starts). */
  outcome: bigint | null;
  capped: boolean | null;
  noNetworkReward: boolean | null;
}

/**
 * Measures an event's window so far by the attestation's own rules:
 * `buildEvidence` + `recomputeOutcome` over `[start, min(tipHeight - lag + 1, end))`
 * (its payouts read `lag` blocks later, as the attestation's).
 * Informational only: nothing is stored or signed.
 * @throws {OracleError} INTERNAL when the index does not cover those blocks.
 */
export async function measureProgress(store: OracleStore, params: EventParams, tipHeight: number): Promise<EventProgress> {
  const { start, end } = params.window;
  // With a payout lag, block h of the window is measured once block h + lag is in.
  const atHeight = Math.min(tipHeight - payoutLagOf(params), end - 1);
  const paysD = params.kind === 'hashpower-delivery' || params.kind === 'pool-rewards';
  if (atHeight < start) {
    // Nothing of the window mined yet: no ratio (an empty window has no expected delivery), nothing paid.
    return { atHeight, blocks: 0, rewardsSats: paysD ? 0n : null, ratioBps: null, outcome: null, capped: null, noNetworkReward: null };
  }
  const truncated: EventParams = { ...params, window: { start, end: atHeight + 1 } };
  const result = recomputeOutcome(await buildEvidence(store, truncated));
  const { precision } = evidenceSpec(params);
  return {
    atHeight,
    blocks: atHeight + 1 - start,
    rewardsSats: paysD ? result.poolRewards : null,
    // The attested digits stand for outcome * 10^precision bps (a bps delivery event has precision 0).
    ratioBps: params.kind === 'hashpower-delivery' ? Number(result.outcome) * 10 ** precision : null,
    outcome: result.outcome,
    capped: result.capped,
    noNetworkReward: params.kind === 'hashpower-delivery' ? result.noNetworkReward : null,
  };
}

export interface AttesterOptions {
  store: OracleStore;
  indexer: ChainIndexer;
  key: OracleKey;
  hashProfile: HashProfile;
  crash: (step: CrashStep) => void;
  /** Called after an event is attested (pending counts). */
  onAttested?: (record: EventRecord) => void;
  /** Told about an event that could not be attested while others were (it is retried next pass). */
  onError?: (err: unknown) => void;
}

export class Attester {
  readonly #o: AttesterOptions;

  constructor(options: AttesterOptions) {
    this.#o = options;
  }

  /**
   * Attests every event whose `attestHeight` is at or below the indexed tip.
   * @returns the ids attested.
   * @throws the first error when no due event could be attested (each is retried next pass).
   */
  async attestDue(): Promise<string[]> {
    const tip = this.#o.indexer.tip;
    if (tip === undefined) return [];
    const s = this.#o.store;
    const done: string[] = [];
    const keys = await s.keys(s.due, { lt: `${h10(tip.height + 1)}` });
    let firstError: unknown;
    for (const key of keys) {
      const record = await s.events.get(key.slice(11));
      if (record === undefined) continue;
      // One event that cannot be attested (node down mid-way) does not hold back the others.
      try {
        await this.attestEvent(record);
        done.push(record.eventId);
      } catch (err) {
        firstError ??= err;
      }
    }
    if (firstError !== undefined && done.length === 0) throw firstError;
    if (firstError !== undefined) this.#o.onError?.(firstError);
    return done;
  }

  /**
   * Stores the outcome (unless stored), then signs and stores the attestation.
   * @throws {OracleError} INTERNAL when the index does not cover the window.
   */
  async attestEvent(record: EventRecord): Promise<AttestationRecord> {
    const s = this.#o.store;
    if (record.state === 'attested') {
      const att = await s.attestations.get(record.eventId);
      if (att === undefined) throw new OracleError('STORAGE_CORRUPT', `event ${record.eventId} is attested without attestation`);
      return att;
    }
    let outcome: OutcomeRecord | undefined;
    if (record.state === 'announced') {
      outcome = await this.#storeOutcome(record);
      record = { ...record, state: 'outcome-stored' };
    } else {
      outcome = await s.outcomes.get(record.eventId);
      if (outcome === undefined) throw new OracleError('STORAGE_CORRUPT', `event ${record.eventId} has no stored outcome`);
    }
    return this.#sign(record, outcome);
  }

  async #storeOutcome(record: EventRecord): Promise<OutcomeRecord> {
    const s = this.#o.store;
    const evidence = await buildEvidence(s, record.params);
    const result: RecomputedOutcome = recomputeOutcome(evidence);
    const rule = evidenceRewardFields(record.params);
    const { outcome, signed } = attestedOutcome(record.params, result);
    const rec: OutcomeRecord = {
      eventId: record.eventId,
      evidence: evidenceToJson(evidence),
      result: {
        outcome: result.outcome.toString(),
        capped: result.capped,
        noNetworkReward: result.noNetworkReward,
        networkReward: result.networkReward.toString(),
        poolRewards: result.poolRewards.toString(),
        // Only under a stated rule, so records of pre-rule events keep their format.
        ...(rule.rewardRule === undefined
          ? {}
          : { rewardRule: rule.rewardRule, countedReward: result.countedReward.toString(), feeCap: result.feeCap?.toString() ?? null }),
      },
      outcome,
      signed,
      computedAtHeight: this.#o.indexer.tip!.height,
    };
    await s.write([s.put(s.outcomes, record.eventId, rec), s.put(s.events, record.eventId, { ...record, state: 'outcome-stored' })]);
    this.#o.crash('outcome-stored');
    return rec;
  }

  async #sign(record: EventRecord, outcome: OutcomeRecord): Promise<AttestationRecord> {
    const s = this.#o.store;
    const { secretKey, publicKey } = this.#o.key;
    const attestation: OracleAttestation = {
      eventId: record.eventId,
      oraclePublicKey: publicKey,
      signatures: attest(this.#o.hashProfile, secretKey, record.eventId, outcome.signed),
      outcomes: [...outcome.signed],
    };
    const att: AttestationRecord = {
      eventId: record.eventId,
      hex: toHex(encodeMessage({ type: 'oracle_attestation', message: attestation })),
      attestedAtHeight: this.#o.indexer.tip?.height ?? outcome.computedAtHeight,
    };
    this.#o.crash('attest-signed');
    const attested: EventRecord = { ...record, state: 'attested' };
    const ops: StoreOp[] = [
      s.put(s.attestations, record.eventId, att),
      s.put(s.events, record.eventId, attested),
      s.del(s.due, `${h10(record.attestHeight)}!${record.eventId}`),
    ];
    for (const k of eventIndexKeys(record.params, record.eventId, 'announced')) {
      if (k.startsWith('state!')) ops.push(s.del(s.eventIdx, k));
    }
    for (const k of eventIndexKeys(record.params, record.eventId, 'attested')) {
      if (k.startsWith('state!')) ops.push(s.put(s.eventIdx, k, ''));
    }
    await s.write(ops);
    this.#o.crash('attest-stored');
    this.#o.onAttested?.(attested);
    return att;
  }
}
