/**
 * The LevelDB backend of the storage port (kv.ts): one database directory,
 * one sublevel per part, one `batch` per write. LevelDB's directory lock keeps
 * any second process out, so this process is always the leader, its key locks
 * live in memory, and a batch's conditions are checked under one in-process
 * write lock (nothing else writes between the check and the batch).
 *
 * This module does NOT know what the records mean (store.ts does).
 */
import { mkdirSync } from 'node:fs';
import { Level } from 'level';
import { KeyedLock, PARTS, concurrentUpdate, encodeValue, storageError, type KvBackend, type KvCondition, type KvDumpEntry, type KvOp, type KvRange, type Leadership, type Part } from './kv.js';

type Sub = ReturnType<Level<string, string>['sublevel']>;

const WRITE_LOCK = '\u0000write';

export class LevelKv implements KvBackend {
  readonly kind = 'leveldb' as const;
  readonly location: string;
  readonly leadership: Leadership = { leading: true, hold: () => Promise.resolve(true), release: () => Promise.resolve() };
  readonly #db: Level<string, string>;
  readonly #subs: Record<Part, Sub>;
  readonly #locks = new KeyedLock();

  private constructor(db: Level<string, string>, dir: string) {
    this.#db = db;
    this.location = dir;
    const subs = {} as Record<Part, Sub>;
    for (const [part, enc] of Object.entries(PARTS) as [Part, string][]) {
      // JSON parts are stored as their JSON text (encoded here), byte-identical to level's 'json' encoding.
      subs[part] = db.sublevel<string, string>(part, { valueEncoding: enc === 'bytes' ? 'view' : 'utf8' }) as unknown as Sub;
    }
    this.#subs = subs;
  }

  /**
   * Opens (creating if needed) the database in `dir`.
   * @throws {CoordinatorError} STORAGE_ERROR (e.g. the directory is locked by another process).
   */
  static async open(dir: string): Promise<LevelKv> {
    try {
      mkdirSync(dir, { recursive: true });
      const db = new Level<string, string>(dir, { valueEncoding: 'utf8' });
      await db.open();
      return new LevelKv(db, dir);
    } catch (cause) {
      throw storageError(`opening ${dir}`, cause);
    }
  }

  #decode<T>(part: Part, raw: unknown): T | undefined {
    if (raw === undefined) return undefined;
    return (PARTS[part] === 'json' ? JSON.parse(raw as string) : raw) as T;
  }

  async get<T>(part: Part, key: string): Promise<T | undefined> {
    try {
      return this.#decode<T>(part, await this.#subs[part].get(key));
    } catch (cause) {
      throw storageError('read', cause);
    }
  }

  async getMany<T>(part: Part, keys: readonly string[]): Promise<(T | undefined)[]> {
    if (keys.length === 0) return [];
    try {
      const raws = await this.#subs[part].getMany([...keys]);
      return raws.map((r) => this.#decode<T>(part, r));
    } catch (cause) {
      throw storageError('read', cause);
    }
  }

  async *keys(part: Part, range: KvRange): AsyncIterable<string> {
    try {
      yield* this.#subs[part].keys(levelRange(range));
    } catch (cause) {
      throw storageError('list', cause);
    }
  }

  async *entries<T>(part: Part, range: KvRange): AsyncIterable<[string, T]> {
    try {
      for await (const [k, v] of this.#subs[part].iterator(levelRange(range))) yield [k, this.#decode<T>(part, v) as T];
    } catch (cause) {
      throw storageError('list', cause);
    }
  }

  async write(ops: readonly KvOp[], conditions: readonly KvCondition[] = []): Promise<void> {
    const batch = ops.map((op) => op.type === 'put'
      ? { type: 'put' as const, sublevel: this.#subs[op.part], key: op.key, value: encodeValue(op.part, op.value) }
      : { type: 'del' as const, sublevel: this.#subs[op.part], key: op.key });
    const apply = async (): Promise<void> => {
      for (const c of conditions) {
        let raw: unknown;
        try {
          raw = await this.#subs[c.part].get(c.key);
        } catch (cause) {
          throw storageError('read', cause);
        }
        if ((raw ?? null) !== c.json) throw concurrentUpdate(c.part, c.key);
      }
      try {
        await this.#db.batch(batch as never);
      } catch (cause) {
        throw storageError('batch write', cause);
      }
    };
    // Every batch checks and writes under one lock: nothing lands between a condition's read and its batch.
    await this.#locks.run(WRITE_LOCK, apply);
  }

  lock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.#locks.run(key, fn);
  }

  admitRequest(): Promise<boolean> {
    return Promise.resolve(true);
  }

  async dump(): Promise<KvDumpEntry[]> {
    const out: KvDumpEntry[] = [];
    for await (const [k, v] of this.#db.iterator({ keyEncoding: 'utf8', valueEncoding: 'view' })) out.push({ key: k, bytes: v as unknown as Uint8Array });
    return out;
  }

  async close(): Promise<void> {
    await this.#db.close();
  }
}

function levelRange(r: KvRange): { gte: string; lt: string; reverse?: boolean; limit?: number } {
  return { gte: r.gte, lt: r.lt, ...(r.reverse ? { reverse: true } : {}), ...(r.limit !== undefined ? { limit: r.limit } : {}) };
}
