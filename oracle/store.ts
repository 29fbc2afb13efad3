/**
 * The oracle's LevelDB store: one sublevel per entity and state, keys built
 * so every query is a key range (never a full scan), and every state change
 * one atomic batch across sublevels (`OracleStore.write`).
 *
 * Sublevels and keys (`h10` = height as 10 zero-padded digits, so keys sort
 * by height; addresses never contain `!`):
 *   meta          'tip' → TipRecord; 'identity' → IdentityRecord
 *   blocks        h10 → BlockRecord (hash, bits, reward, coinbase outputs, payout keys)
 *   cbout         `${address}!${h10}!${vout}` → sats (coinbase outputs by address)
 *   payouts       `${address}!${h10}!${txid}!${vout}` → PayoutRecord (non-coinbase
 *                 outputs to watched addresses, with the addresses the tx spends from)
 *   watch         address → WatchRecord (watched delivery addresses: complete from `since`
 *                 on, and in the `covered` ranges below it)
 *   events        eventId → EventRecord
 *   eventIdx      `kind!${kind}!${id}`, `state!${state}!${id}`, `addr!${address}!${id}` → ''
 *   due           `${h10(attestHeight)}!${id}` → '' (events not attested yet)
 *   outcomes      eventId → OutcomeRecord (stored BEFORE anything is signed)
 *   attestations  eventId → AttestationRecord
 *
 * This module does NOT decide anything: indexer.ts, events.ts and attest.ts
 * build the batches; it only names keys, types records and runs batches.
 */
import { Level } from 'level';
import type { EventParams, EvidenceJson } from '../protocol/events/index.js';
import { OracleError } from './errors.js';

/** The last indexed block. */
export interface TipRecord {
  height: number;
  hash: string;
}

/** What the store was created with; a start with another key/network/profile is refused. */
export interface IdentityRecord {
  publicKey: string;
  network: string;
  hashProfile: string;
  indexStartHeight: number;
}

export interface CoinbaseOutputRecord {
  vout: number;
  /** sats, decimal */
  value: string;
  address: string;
}

export interface BlockRecord {
  hash: string;
  prev: string;
  /** compact target, 8 hex digits */
  bits: string;
  /** sum of coinbase outputs, sats, decimal */
  reward: string;
  coinbaseTxid: string;
  time: number;
  /** coinbase outputs that have an address */
  coinbase: CoinbaseOutputRecord[];
  /** keys in `payouts` written for this block (deleted with it on a reorg) */
  payoutKeys: string[];
}

export interface PayoutRecord {
  /** sats, decimal */
  value: string;
  /** distinct addresses of the outputs this transaction spends */
  from: string[];
}

export interface WatchRecord {
  /** payouts to the address are indexed for every block at or above this height */
  since: number;
  /**
   * Ranges `[a, b)` below `since` whose payouts were indexed by a rescan for an
   * operator-created past window (sorted, disjoint; absent when none).
   */
  covered?: [number, number][];
}

/** Internal event states; the API shows `outcome-stored` as `announced`. */
export type EventState = 'announced' | 'outcome-stored' | 'attested';

export interface EventRecord {
  eventId: string;
  params: EventParams;
  state: EventState;
  attestHeight: number;
  eventMaturityEpoch: number;
  /** the oracle_announcement message, wire hex */
  announcementHex: string;
  /** client (IP) that requested it without the operator token, else null */
  requestedBy: string | null;
  createdAtHeight: number;
}

export interface OutcomeRecord {
  eventId: string;
  evidence: EvidenceJson;
  result: {
    outcome: string;
    capped: boolean;
    noNetworkReward: boolean;
    networkReward: string;
    poolRewards: string;
    /** Events with a stated reward rule (absent: full-reward-v0, records from before rules). */
    rewardRule?: string;
    /** The part of `networkReward` the rule counts, sats. */
    countedReward?: string;
    /** The rule's fee cap, sats, or null. */
    feeCap?: string | null;
  };
  /** what is attested: the value/label and the signed strings */
  outcome: string;
  signed: string[];
  computedAtHeight: number;
}

export interface AttestationRecord {
  eventId: string;
  /** the oracle_attestation message, wire hex */
  hex: string;
  attestedAtHeight: number;
}

/** Height as a sortable key. */
export function h10(height: number): string {
  return String(height).padStart(10, '0');
}

/** Key range options of iterators (LevelDB order: byte-wise on the UTF-8 key). */
export interface KeyRange {
  gt?: string;
  gte?: string;
  lt?: string;
  lte?: string;
  limit?: number;
  reverse?: boolean;
}

/** The part of a `level` sublevel the oracle uses, typed by its value. */
export interface Sub<V> {
  get(key: string): Promise<V | undefined>;
  iterator(range?: KeyRange): AsyncIterable<[string, V]>;
  keys(range?: KeyRange): AsyncIterable<string>;
}

/** One operation of an atomic batch. */
export type StoreOp =
  | { type: 'put'; sublevel: Sub<unknown>; key: string; value: unknown }
  | { type: 'del'; sublevel: Sub<unknown>; key: string };

/** The opened store with its typed sublevels. */
export class OracleStore {
  readonly db: Level<string, unknown>;
  readonly meta: Sub<unknown>;
  readonly blocks: Sub<BlockRecord>;
  readonly cbout: Sub<string>;
  readonly payouts: Sub<PayoutRecord>;
  readonly watch: Sub<WatchRecord>;
  readonly events: Sub<EventRecord>;
  readonly eventIdx: Sub<string>;
  readonly due: Sub<string>;
  readonly outcomes: Sub<OutcomeRecord>;
  readonly attestations: Sub<AttestationRecord>;

  private constructor(db: Level<string, unknown>) {
    this.db = db;
    const sub = <V>(name: string): Sub<V> => db.sublevel<string, V>(name, { valueEncoding: 'json' }) as unknown as Sub<V>;
    this.meta = sub('meta');
    this.blocks = sub('blocks');
    this.cbout = sub('cbout');
    this.payouts = sub('payouts');
    this.watch = sub('watch');
    this.events = sub('events');
    this.eventIdx = sub('eventIdx');
    this.due = sub('due');
    this.outcomes = sub('outcomes');
    this.attestations = sub('attestations');
  }

  /**
   * Opens (creating if needed) the store in `dir`.
   * @throws {OracleError} STORAGE_MISMATCH when another process holds it or it cannot be opened.
   */
  static async open(dir: string): Promise<OracleStore> {
    const db = new Level<string, unknown>(dir, { valueEncoding: 'json' });
    try {
      await db.open();
    } catch (err) {
      throw new OracleError('STORAGE_MISMATCH', `cannot open the store at ${dir} (is another oracle using it?)`, {
        reason: 'store-open',
        cause: err,
      });
    }
    return new OracleStore(db);
  }

  /** Runs `ops` as one atomic batch. */
  async write(ops: StoreOp[]): Promise<void> {
    if (ops.length === 0) return;
    await this.db.batch(ops as never);
  }

  /** Typed put / del operations for batches. */
  put<V>(sublevel: Sub<V>, key: string, value: V): StoreOp {
    return { type: 'put', sublevel: sublevel as Sub<unknown>, key, value };
  }
  del<V>(sublevel: Sub<V>, key: string): StoreOp {
    return { type: 'del', sublevel: sublevel as Sub<unknown>, key };
  }

  async tip(): Promise<TipRecord | undefined> {
    return (await this.meta.get('tip')) as TipRecord | undefined;
  }

  async identity(): Promise<IdentityRecord | undefined> {
    return (await this.meta.get('identity')) as IdentityRecord | undefined;
  }

  /** Entries of a sublevel with keys in [gte, lt), in key order. */
  async range<V>(sublevel: Sub<V>, gte: string, lt: string, limit = -1): Promise<[string, V][]> {
    const out: [string, V][] = [];
    for await (const entry of sublevel.iterator({ gte, lt, limit })) out.push(entry);
    return out;
  }

  /** Keys of a sublevel with keys in [gte, lt) (or > gt when given), in key order. */
  async keys(sublevel: Sub<unknown>, range: { gte?: string; gt?: string; lt: string }, limit = -1): Promise<string[]> {
    const out: string[] = [];
    for await (const key of sublevel.keys({ ...range, limit })) out.push(key);
    return out;
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
