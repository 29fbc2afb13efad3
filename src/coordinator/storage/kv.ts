/**
 * The coordinator's storage port (issue 13): an ordered key-value store in
 * named parts ("sublevels"), written in atomic batches that may be
 * conditional, with a lock per key and a leadership lease. store.ts builds
 * the coordinator's records and indexes on it; two backends implement it:
 *
 * - level.ts: LevelDB on disk, one process (the embedded default; `npm start`
 *   needs nothing installed). The directory lock keeps a second process out,
 *   so this process is always the leader and its locks are in memory.
 * - postgres.ts: PostgreSQL through node-postgres, for any number of
 *   coordinator replicas on one database. A batch is one transaction; its
 *   conditions lock the rows they read (`SELECT … FOR UPDATE`); locks and the
 *   leadership are PostgreSQL advisory locks.
 *
 * The same record formats go through both: keys are ASCII strings ordered by
 * their bytes; a JSON part stores the exact `JSON.stringify` text, a text part
 * the string, a bytes part the bytes.
 *
 * This module does NOT know what the records mean (store.ts does).
 */
import { CoordinatorError } from '../errors.js';

/** Every part of the store and how its values are encoded. */
export const PARTS = {
  contracts: 'json',
  messages: 'bytes',
  state: 'text',
  party: 'text',
  cid: 'text',
  recent: 'text',
  meta: 'json',
  inputs: 'text',
  delivery: 'json',
  strip: 'text',
  positions: 'json',
  pstate: 'text',
  pcontract: 'text',
  pmessages: 'bytes',
} as const;

export type Part = keyof typeof PARTS;
export type Encoding = (typeof PARTS)[Part];

export type KvOp =
  | { type: 'put'; part: Part; key: string; value: unknown }
  | { type: 'del'; part: Part; key: string };

/**
 * A condition of a batch: the stored value of a JSON part's key is exactly
 * `json` (the `JSON.stringify` text of what the writer read), or absent
 * (`json: null`). A batch whose condition fails writes nothing.
 */
export interface KvCondition {
  part: Part;
  key: string;
  json: string | null;
}

export interface KvRange {
  gte: string;
  lt: string;
  reverse?: boolean;
  limit?: number;
}

/** One stored entry in the LevelDB key form `!part!key`, value as stored bytes (golden snapshot tests). */
export interface KvDumpEntry {
  key: string;
  bytes: Uint8Array;
}

/**
 * Who runs the watcher (the settlement agent): exactly one process at a time.
 * `hold()` takes the lease when it is free and confirms it is still held;
 * false means another process leads (or the database is unreachable).
 */
export interface Leadership {
  hold(): Promise<boolean>;
  readonly leading: boolean;
  /** Gives the lease up (a clean stop), so another process takes over at once. */
  release(): Promise<void>;
}

export interface KvBackend {
  readonly kind: 'leveldb' | 'postgres';
  /** Where it stores (a directory, or the database URL without its password). */
  readonly location: string;
  get<T>(part: Part, key: string): Promise<T | undefined>;
  getMany<T>(part: Part, keys: readonly string[]): Promise<(T | undefined)[]>;
  /** Keys of a part in `[gte, lt)`, in byte order (reversed on request), at most `limit`. */
  keys(part: Part, range: KvRange): AsyncIterable<string>;
  /** Entries of a part in `[gte, lt)`, in byte order. */
  entries<T>(part: Part, range: KvRange): AsyncIterable<[string, T]>;
  /**
   * Applies `ops` in one atomic batch (a later op on the same key wins), after checking `conditions`.
   * @throws {CoordinatorError} CONFLICT `concurrent-update` when a condition fails (nothing written);
   *   STORAGE_UNAVAILABLE when the database cannot be reached; STORAGE_ERROR.
   */
  write(ops: readonly KvOp[], conditions?: readonly KvCondition[]): Promise<void>;
  /**
   * Runs `fn` holding the lock `key`: steps of one contract (or of the outpoint
   * index) run one at a time across every process on this store.
   */
  lock<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /**
   * Adds a signed request to the replay set shared by every process on this
   * store; false when it is there already. (LevelDB: one process, whose
   * in-memory guard already decided: always true.)
   */
  admitRequest(key: string, expiresAtSec: number, nowSec: number): Promise<boolean>;
  readonly leadership: Leadership;
  /** Every entry, for golden snapshot tests. */
  dump(): Promise<KvDumpEntry[]>;
  close(): Promise<void>;
}

export function storageError(what: string, cause: unknown): CoordinatorError {
  return new CoordinatorError('STORAGE_ERROR', `storage: ${what} failed`, { cause });
}

export function concurrentUpdate(part: Part, key: string): CoordinatorError {
  return new CoordinatorError('CONFLICT', `the ${part === 'positions' ? 'position' : 'record'} ${key} was changed by another request; read it again`, { reason: 'concurrent-update' });
}

/** A tiny per-key async mutex: steps of one key run one at a time in this process. */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.#tails.set(key, tail);
    try {
      return await next;
    } finally {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}

/** Only the last op of each key counts (a batch applies in order). */
export function lastOpPerKey(ops: readonly KvOp[]): KvOp[] {
  const last = new Map<string, KvOp>();
  for (const op of ops) {
    const id = `${op.part}\u0000${op.key}`;
    last.delete(id);
    last.set(id, op);
  }
  return [...last.values()];
}

export function encodeValue(part: Part, value: unknown): string | Uint8Array {
  switch (PARTS[part]) {
    case 'json': return JSON.stringify(value);
    case 'text': return String(value);
    case 'bytes': return value as Uint8Array;
  }
}
