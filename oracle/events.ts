/**
 * Creating, finding and listing oracle events.
 *
 * An event request (operator with token, the hashprice schedule, or anyone
 * for `hashpower-delivery` within limits) is checked, turned into
 * `EventParams` whose canonical JSON gives the event id (protocol/events), and
 * announced: nonces from protocol/crypto `eventNonces` (derived from the
 * oracle secret and the event id, so none is ever stored or reused for
 * another event), the oracle_event signed with `signAnnouncement`, then the
 * event record, its list indexes and its attestation due-entry written in one
 * atomic batch. A request for an existing id returns the stored event: an
 * event, once announced, never changes.
 *
 * Limits on token-less requests: kind `hashpower-delivery` only, a window
 * that has not started (its first block above the chain height plus
 * `startMarginBlocks`: nobody contracts on an outcome already partly known,
 * and a public request never needs already indexed blocks read), window
 * length, how far ahead the window starts, pending (unattested) events per
 * client, requests per client per minute, and the number of watched
 * addresses. A client is its IP address. The operator may create events over
 * past windows; their already indexed blocks are read in chunks
 * (`ChainIndexer.rescanChunk`), bounded by the window.
 *
 * This module does NOT attest (attest.ts), speak HTTP (http.ts), or
 * serialize access itself: each step of a request runs through the `step`
 * runner the service gives it (work-queue.ts's request lane), so indexing and
 * attesting can run between the chunks of a rescan.
 */
import { address as btcAddress } from 'bitcoinjs-lib';
import { z } from 'zod';
import { eventNonces, signAnnouncement, type HashProfile } from '../protocol/crypto/index.js';
import {
  encodeMessage,
  encodeOracleEventTlv,
  toHex,
  type OracleAnnouncement,
  type OracleEvent,
} from '../protocol/messages/index.js';
import { ADDRESS_NETWORKS, type CrashStep, type OracleConfig } from './config.js';
import { OracleError } from './errors.js';
import {
  canonicalParamsJson,
  checkPayoutParams,
  currentRewardRule,
  DEFAULT_NB_DIGITS,
  enumLabels,
  EVENT_KINDS,
  EVENT_UNITS,
  eventDescriptorOf,
  eventIdFor,
  eventMeasuredRange,
  fittingHashpricePrecision,
  MAX_EVENT_PRECISION,
  MAX_PAYOUT_LAG_BLOCKS,
  MAX_POOL_PAYOUT_ADDRESSES,
  MAX_THRESHOLDS,
  nonceCount,
  PAYOUT_SCHEMES,
  type EventKind,
  type EventParams,
} from '../protocol/events/index.js';
import type { ChainIndexer } from './indexer.js';
import type { OracleKey } from './keys.js';
import { h10, type EventRecord, type OracleStore, type StoreOp } from './store.js';

/** Nominal block interval used for the announced maturity time. */
const BLOCK_SECONDS = 600;
const U32_MAX = 0xffffffff;

const addressText = z.string().min(1).max(128);

/** The body of `POST /v1/events`. */
export const eventRequestSchema = z
  .object({
    kind: z.enum(EVENT_KINDS),
    window: z.object({ start: z.number().int().min(0).max(0x7fffffff), end: z.number().int().min(0).max(0x7fffffff) }).strict(),
    deliveryAddress: addressText.nullish(),
    poolPayoutAddresses: z.array(addressText).max(MAX_POOL_PAYOUT_ADDRESSES).nullish(),
    hashrateThs: z.union([z.string().regex(/^[1-9]\d{0,14}$/), z.number().int().min(1).max(1e15)]).nullish(),
    nbDigits: z.number().int().min(1).max(64).nullish(),
    /** Hashprice only: outcome = floor(value / 10^precision) (default 0). */
    precision: z.number().int().min(0).max(MAX_EVENT_PRECISION).nullish(),
    thresholds: z.array(z.string().regex(/^[1-9]\d{0,19}$/)).min(1).max(MAX_THRESHOLDS).nullish(),
    /** Pool-rewards and delivery (issue 16): how the pool pays; absent: not stated. */
    payoutScheme: z.enum(PAYOUT_SCHEMES).nullish(),
    /** Pool-rewards and delivery: payouts in [start + lag, end + lag) count (absent or 0: none). Range checked in `paramsOf`. */
    payoutLagBlocks: z.number().int().min(0).max(0x7fffffff).nullish(),
  })
  .strict();
export type EventRequest = z.infer<typeof eventRequestSchema>;

/** Who asks: the operator (token) or a client identified by IP. */
export interface Requester {
  operator: boolean;
  client: string;
}

/** Filters of `GET /v1/events`. */
export interface EventFilter {
  kind?: EventKind;
  state?: 'announced' | 'attested';
  address?: string;
  limit: number;
  after?: string;
}

function invalid(reason: string, message: string): OracleError {
  return new OracleError('INVALID_PARAMS', message, { reason });
}

/** The API state of an internal event state. */
export function publicState(record: EventRecord): 'announced' | 'attested' {
  return record.state === 'attested' ? 'attested' : 'announced';
}

/** Index entries (list filters) of an event in a given public state. */
export function eventIndexKeys(params: EventParams, eventId: string, state: 'announced' | 'attested'): string[] {
  const keys = [`kind!${params.kind}!${eventId}`, `state!${state}!${eventId}`];
  if (params.deliveryAddress !== null) keys.push(`addr!${params.deliveryAddress}!${eventId}`);
  return keys;
}

export interface EventServiceOptions {
  config: OracleConfig;
  store: OracleStore;
  indexer: ChainIndexer;
  key: OracleKey;
  crash: (step: CrashStep) => void;
  /** Clock for rate limits (ms). */
  now?: () => number;
  /** Runs one step of a request alone (the service's request lane); default: at once. */
  step?: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Where rescans are reported (default: nowhere). */
  log?: (line: string) => void;
}

/** What one step of a request found: the event, or a past window still to rescan. */
type Prepared = { record: EventRecord; created: boolean } | { rescan: EventParams; eventId: string };

export class EventService {
  readonly #config: OracleConfig;
  readonly #store: OracleStore;
  readonly #indexer: ChainIndexer;
  readonly #key: OracleKey;
  readonly #crash: (step: CrashStep) => void;
  readonly #now: () => number;
  readonly #step: <T>(fn: () => Promise<T>) => Promise<T>;
  readonly #log: (line: string) => void;
  /** client → ids of its unattested events */
  readonly #pending = new Map<string, Set<string>>();
  /** client → times (ms) of its recent requests */
  readonly #recent = new Map<string, number[]>();

  constructor(options: EventServiceOptions) {
    this.#config = options.config;
    this.#store = options.store;
    this.#indexer = options.indexer;
    this.#key = options.key;
    this.#crash = options.crash;
    this.#now = options.now ?? Date.now;
    this.#step = options.step ?? ((fn) => fn());
    this.#log = options.log ?? (() => undefined);
  }

  /** Rebuilds the per-client pending counts from the unattested events. */
  async init(): Promise<void> {
    for await (const key of this.#store.due.keys() as AsyncIterable<string>) {
      const id = key.slice(11);
      const rec = await this.#store.events.get(id);
      if (rec?.requestedBy) this.#pendingOf(rec.requestedBy).add(id);
    }
  }

  #pendingOf(client: string): Set<string> {
    let set = this.#pending.get(client);
    if (set === undefined) this.#pending.set(client, (set = new Set()));
    return set;
  }

  /** Forgets a pending event once attested. */
  settled(record: EventRecord): void {
    if (record.requestedBy === null) return;
    const set = this.#pending.get(record.requestedBy);
    set?.delete(record.eventId);
    if (set?.size === 0) this.#pending.delete(record.requestedBy);
  }

  /**
   * Counts a token-less request against the client's rate.
   * @throws {OracleError} RATE_LIMITED.
   */
  checkRate(client: string): void {
    const now = this.#now();
    const times = (this.#recent.get(client) ?? []).filter((t) => now - t < 60_000);
    if (times.length >= this.#config.limits.requestsPerMinute) {
      this.#recent.set(client, times);
      throw new OracleError('RATE_LIMITED', `more than ${this.#config.limits.requestsPerMinute} event requests in a minute`, {
        reason: 'requests-per-minute',
      });
    }
    times.push(now);
    this.#recent.set(client, times);
    if (this.#recent.size > 10_000) {
      for (const [c, ts] of this.#recent) if (ts.every((t) => now - t >= 60_000)) this.#recent.delete(c);
    }
  }

  #normalizeAddress(text: string, field: string): string {
    const a = /^(bc|tb|bcrt)1/i.test(text) ? text.toLowerCase() : text;
    try {
      btcAddress.toOutputScript(a, ADDRESS_NETWORKS[this.#config.network]);
    } catch {
      throw invalid('address-invalid', `${field} ${JSON.stringify(text)} is not a ${this.#config.network} address`);
    }
    return a;
  }

  /**
   * Turns a request into event parameters, checking every rule.
   * @throws {OracleError} UNAUTHORIZED, INVALID_PARAMS (reasons `window-empty`,
   *   `window-before-index`, `window-started`, `window-too-long`, `window-too-far`,
   *   `address-required`, `address-not-allowed`, `address-invalid`,
   *   `hashrate-required`, `hashrate-not-allowed`, `payout-params-not-allowed`, `payout-lag-too-long`),
   *   ORACLE_UNAVAILABLE before the first indexed block.
   */
  paramsOf(req: EventRequest, who: Requester): EventParams {
    const { limits } = this.#config;
    if (!who.operator && req.kind !== 'hashpower-delivery') {
      throw new OracleError('UNAUTHORIZED', `creating ${req.kind} events needs the operator token`, { reason: 'operator-only' });
    }
    const tip = this.#indexer.tip;
    if (tip === undefined) throw new OracleError('ORACLE_UNAVAILABLE', 'the chain index is not ready', { reason: 'index-not-ready' });
    const { start, end } = req.window;
    // 1. A non-empty window inside the index.
    if (end <= start) throw invalid('window-empty', `window [${start}, ${end}) has no blocks`);
    if (start < this.#config.indexStartHeight) {
      throw invalid('window-before-index', `window starts at ${start}, below the index start ${this.#config.indexStartHeight}`);
    }
    // 2. Window limits (the operator's are wider).
    const maxLen = who.operator ? limits.maxOperatorWindowBlocks : limits.maxWindowBlocks;
    if (end - start > maxLen) throw invalid('window-too-long', `window has ${end - start} blocks, at most ${maxLen} allowed`);
    // 2a. Public requests only for windows that have not started (issue 9, hole 3),
    // judged against the highest block known (the node's, while the index catches up);
    // the margin covers a block the node has and the oracle has not seen yet. Operators
    // may create past events (their blocks are rescanned, in chunks, off the attest path).
    const seen = this.#indexer.seenHeight ?? tip.height; // already the higher of the index's tip and the node's height
    if (!who.operator && start <= seen + limits.startMarginBlocks) {
      throw invalid(
        'window-started',
        `window starts at ${start}; public requests need a window starting above ${seen + limits.startMarginBlocks} (chain height ${seen} + margin ${limits.startMarginBlocks})`,
      );
    }
    if (!who.operator && start > tip.height + limits.maxStartAheadBlocks) {
      throw invalid('window-too-far', `window starts more than ${limits.maxStartAheadBlocks} blocks above the tip ${tip.height}`);
    }
    // 3. Addresses: required for payout kinds, absent otherwise.
    const needsAddress = req.kind !== 'hashprice';
    let deliveryAddress: string | null = null;
    let poolPayoutAddresses: string[] | null = null;
    if (needsAddress) {
      if (req.deliveryAddress == null) throw invalid('address-required', `${req.kind} needs deliveryAddress`);
      deliveryAddress = this.#normalizeAddress(req.deliveryAddress, 'deliveryAddress');
      const pools = (req.poolPayoutAddresses ?? []).map((a, i) => this.#normalizeAddress(a, `poolPayoutAddresses[${i}]`));
      poolPayoutAddresses = [...new Set(pools)].sort();
    } else if (req.deliveryAddress != null || (req.poolPayoutAddresses != null && req.poolPayoutAddresses.length > 0)) {
      throw invalid('address-not-allowed', 'hashprice events have no delivery or pool payout address');
    }
    // 4. Hashrate: delivery events only.
    let hashrateThs: string | null = null;
    if (req.kind === 'hashpower-delivery') {
      if (req.hashrateThs == null) throw invalid('hashrate-required', 'hashpower-delivery needs hashrateThs');
      hashrateThs = BigInt(req.hashrateThs).toString();
    } else if (req.hashrateThs != null) {
      throw invalid('hashrate-not-allowed', `${req.kind} events have no hashrate`);
    }
    // 5. Descriptor: numeric (digits) or enum (thresholds).
    let descriptor: EventParams['descriptor'];
    if (req.thresholds != null) {
      if (req.nbDigits != null || req.precision != null) throw invalid('descriptor-conflict', 'give nbDigits/precision (numeric) or thresholds (enum), not both');
      let outcomes: string[];
      try {
        outcomes = enumLabels(req.thresholds.map(BigInt));
      } catch (err) {
        throw new OracleError('INVALID_PARAMS', (err as Error).message, { reason: 'thresholds-invalid' });
      }
      descriptor = { type: 'enum', thresholds: req.thresholds.map((t) => BigInt(t).toString()), outcomes };
    } else {
      // Only a hashprice value can outgrow its digits at a network's size; the others are exact.
      if (req.precision != null && req.precision !== 0 && req.kind !== 'hashprice') {
        throw invalid('precision-not-allowed', `${req.kind} events have precision 0`);
      }
      descriptor = {
        type: 'numeric',
        base: 2,
        nbDigits: req.nbDigits ?? DEFAULT_NB_DIGITS[req.kind],
        unit: EVENT_UNITS[req.kind],
        precision: req.precision ?? 0,
      };
    }
    // 6. Payout scheme and lag (issue 16): payout kinds only, the lag bounded
    // (it holds the attestation back and the address watched as many blocks).
    const payoutScheme = req.payoutScheme ?? null;
    const payoutLagBlocks = req.payoutLagBlocks ?? 0;
    if (req.kind === 'hashprice' && (payoutScheme !== null || payoutLagBlocks !== 0)) {
      throw invalid('payout-params-not-allowed', 'hashprice events count no payouts: no payoutScheme or payoutLagBlocks');
    }
    if (payoutLagBlocks > MAX_PAYOUT_LAG_BLOCKS) {
      throw invalid('payout-lag-too-long', `payoutLagBlocks ${payoutLagBlocks} is above ${MAX_PAYOUT_LAG_BLOCKS} blocks`);
    }
    const params: EventParams = {
      kind: req.kind,
      network: this.#config.network,
      window: { start, end },
      deliveryAddress,
      poolPayoutAddresses,
      hashrateThs,
      simulatedDifficulty: this.#config.simulatedDifficulty ?? null,
      // Every new hashprice/delivery event gets the self-paid-fee-resistant rule (formulas.ts "Reward rules").
      rewardRule: currentRewardRule(req.kind),
      // Stated only when asked for (a lag of 0 is no lag), so requests without them make today's events.
      ...(payoutScheme === null ? {} : { payoutScheme }),
      ...(payoutLagBlocks === 0 ? {} : { payoutLagBlocks }),
      descriptor,
    };
    checkPayoutParams(params); // the protocol's own rule, the same any verifier applies
    return params;
  }

  /** Height at which an event is attested: the last block whose payouts count (`measuredRange`), confirmed. */
  attestHeightOf(params: EventParams): number {
    return eventMeasuredRange(params).end - 1 + this.#config.confirmations;
  }

  /**
   * Creates (announces) the event a request describes, or returns the
   * existing one with the same id. A refused request (say a started window)
   * is refused before it waits for the lock.
   * @throws {OracleError} as `paramsOf`, TOO_MANY_PENDING, CAPACITY, CONFLICT; {ChainError} from the node.
   */
  async create(req: EventRequest, who: Requester): Promise<{ record: EventRecord; created: boolean }> {
    this.paramsOf(req, who);
    for (;;) {
      const prepared = await this.#step(() => this.#prepare(req, who));
      if ('record' in prepared) return prepared;
      // An operator's past window: read its indexed blocks a chunk per step.
      const { rescan: params, eventId } = prepared;
      const D = params.deliveryAddress!;
      const measured = eventMeasuredRange(params);
      for (;;) {
        const range = await this.#step(() => this.#indexer.rescanChunk(D, measured.start, measured.end, this.#config.index.rpcBatch));
        if (range === undefined) break;
        this.#log(`rescanned ${D} in blocks [${range[0]}, ${range[1]}) for ${eventId}`);
      }
    }
  }

  /**
   * One step of a request: the checks, then the existing event, or the
   * announced new one, or (operator, past window) the window to rescan first.
   */
  async #prepare(req: EventRequest, who: Requester): Promise<Prepared> {
    const params = this.paramsOf(req, who);
    const eventId = eventIdFor(params);
    const existing = await this.#store.events.get(eventId);
    if (existing !== undefined) {
      if (canonicalParamsJson(existing.params) !== canonicalParamsJson(params)) {
        throw new OracleError('CONFLICT', `event ${eventId} exists with other parameters`, { reason: 'event-id-collision' });
      }
      return { record: existing, created: false };
    }
    if (!who.operator && this.#pendingOf(who.client).size >= this.#config.limits.maxPendingPerClient) {
      throw new OracleError('TOO_MANY_PENDING', `at most ${this.#config.limits.maxPendingPerClient} unattested events per client`, {
        reason: 'pending-per-client',
      });
    }
    // Payouts to D must be indexed over the whole measured range (the window, shifted by the lag) before it is attested.
    const D = params.deliveryAddress;
    if (D !== null) {
      const measured = eventMeasuredRange(params);
      const max = this.#config.limits.maxWatchedAddresses;
      if (!who.operator && this.#indexer.watchedSince(D) === undefined && this.#indexer.watchedCount >= max) {
        throw new OracleError('CAPACITY', `the oracle watches ${max} delivery addresses, its limit`, { reason: 'watched-addresses' });
      }
      await this.#indexer.startWatching(D);
      if (this.#indexer.missingRanges(D, measured.start, measured.end).length > 0) return { rescan: params, eventId };
    }
    const record = await this.#announce(params, eventId, who.operator ? null : who.client);
    if (record.requestedBy !== null) this.#pendingOf(record.requestedBy).add(eventId);
    return { record, created: true };
  }

  async #announce(params: EventParams, eventId: string, requestedBy: string | null): Promise<EventRecord> {
    const tip = this.#indexer.tip!;
    const tipBlock = await this.#store.blocks.get(h10(tip.height));
    const attestHeight = this.attestHeightOf(params);
    // dlcspecs event_maturity_epoch: when the attestation is expected (u32 seconds).
    const epoch = Math.min(U32_MAX, (tipBlock?.time ?? 0) + Math.max(0, attestHeight - tip.height) * BLOCK_SECONDS);
    const oracleEvent: OracleEvent = {
      oracleNonces: eventNonces(this.#key.secretKey, eventId, nonceCount(params)),
      eventMaturityEpoch: epoch,
      eventDescriptor: eventDescriptorOf(params),
      eventId,
    };
    const profile: HashProfile = this.#config.hashProfile;
    const announcement: OracleAnnouncement = {
      announcementSignature: signAnnouncement(profile, this.#key.secretKey, encodeOracleEventTlv(oracleEvent)),
      oraclePublicKey: this.#key.publicKey,
      oracleEvent,
    };
    const announcementHex = toHex(encodeMessage({ type: 'oracle_announcement', message: announcement }));
    this.#crash('announce-signed');
    const record: EventRecord = {
      eventId,
      params,
      state: 'announced',
      attestHeight,
      eventMaturityEpoch: epoch,
      announcementHex,
      requestedBy,
      createdAtHeight: tip.height,
    };
    const s = this.#store;
    const ops: StoreOp[] = [s.put(s.events, eventId, record), s.put(s.due, `${h10(attestHeight)}!${eventId}`, '')];
    for (const k of eventIndexKeys(params, eventId, 'announced')) ops.push(s.put(s.eventIdx, k, ''));
    await s.write(ops);
    this.#crash('announce-stored');
    return record;
  }

  /**
   * Announces the scheduled hashprice events for the windows after `tipHeight`.
   * @throws {ChainError} from the node.
   */
  async schedule(tipHeight: number): Promise<EventRecord[]> {
    const { hashpriceEveryBlocks: every, hashpriceNbDigits, hashpricePrecision, hashpriceAheadWindows } = this.#config.schedule;
    if (every === null) return [];
    const created: EventRecord[] = [];
    const first = Math.floor(tipHeight / every) + 1;
    for (let k = first; k < first + hashpriceAheadWindows; k++) {
      const start = k * every;
      if (start < this.#config.indexStartHeight) continue;
      const precision =
        hashpricePrecision === 'fit'
          ? fittingHashpricePrecision(start, this.#config.network, this.#config.simulatedDifficulty!, hashpriceNbDigits) // parseConfig: 'fit' has one
          : hashpricePrecision;
      const req: EventRequest = { kind: 'hashprice', window: { start, end: start + every }, nbDigits: hashpriceNbDigits, precision };
      // Already inside a step of the service (no address: never a rescan).
      const prepared = await this.#prepare(req, { operator: true, client: 'schedule' });
      if (!('record' in prepared)) throw new TypeError('a hashprice event needs no rescan');
      const { record, created: isNew } = prepared;
      if (isNew) created.push(record);
    }
    return created;
  }

  /** The event with this id, if any. */
  get(eventId: string): Promise<EventRecord | undefined> {
    return this.#store.events.get(eventId);
  }

  /** Events matching the filter, ordered by id, with the cursor of the next page. */
  async list(filter: EventFilter): Promise<{ events: EventRecord[]; next: string | null }> {
    const s = this.#store;
    const addr = filter.address === undefined ? undefined : /^(bc|tb|bcrt)1/i.test(filter.address) ? filter.address.toLowerCase() : filter.address;
    // The most selective index answers; remaining filters apply to the records.
    let prefix: string | undefined;
    if (addr !== undefined) prefix = `addr!${addr}!`;
    else if (filter.state !== undefined) prefix = `state!${filter.state}!`;
    else if (filter.kind !== undefined) prefix = `kind!${filter.kind}!`;
    const out: EventRecord[] = [];
    let next: string | null = null;
    const sub = prefix === undefined ? s.events : s.eventIdx;
    const p = prefix ?? '';
    const range = filter.after === undefined ? { gte: p, lt: `${p}\uffff` } : { gt: `${p}${filter.after}`, lt: `${p}\uffff` };
    for await (const key of sub.keys(range) as AsyncIterable<string>) {
      const id = key.slice(p.length);
      const rec = await s.events.get(id);
      if (rec === undefined) continue;
      if (filter.kind !== undefined && rec.params.kind !== filter.kind) continue;
      if (filter.state !== undefined && publicState(rec) !== filter.state) continue;
      if (addr !== undefined && rec.params.deliveryAddress !== addr) continue;
      if (out.length === filter.limit) {
        next = out[out.length - 1]!.eventId;
        break;
      }
      out.push(rec);
    }
    return { events: out, next };
  }
}
