/**
 * The PostgreSQL backend of the storage port (kv.ts), for coordinator
 * replicas sharing one database (issue 13).
 *
 * Layout: schema `coordinator`, one table per part (`key text COLLATE "C"
 * PRIMARY KEY`, so keys order by their bytes as in LevelDB; `value` json for
 * JSON parts, keeping the exact text, text or bytea otherwise), `replay` (the
 * signed requests seen, shared by every replica) and `migrations` (umzug's
 * record of the versions applied). Migrations run at start, in one
 * transaction under an advisory lock (replicas starting together apply them
 * once); a database holding a migration this code does not know is refused
 * (`database-newer`): an older replica must not write a newer layout.
 *
 * Concurrency between replicas:
 * - a batch is ONE transaction; each condition reads its row `FOR UPDATE`
 *   (a concurrent writer of that row waits, then the condition sees its
 *   commit) and an absent-row condition inserts without `ON CONFLICT` (the
 *   primary key refuses the second creator): a condition that fails rolls
 *   everything back → CONFLICT `concurrent-update`;
 * - `lock(key)` is a session advisory lock `(LOCK_CLASS, hashtext(key))`
 *   taken with `pg_try_advisory_lock` on one connection per process (never
 *   blocked, so one wait cannot stall the others), behind an in-process lock;
 * - the leadership is the advisory lock `(LEADER_CLASS, 0)` on its own
 *   connection: PostgreSQL frees it when that connection ends — at once when
 *   the process dies (its socket closes), within about 25 s when the machine
 *   is cut off (the session's TCP keepalives: idle 10 s, 3 probes 5 s apart).
 *   The leader confirms the lease with a query (5 s timeout) before every
 *   watcher poll and stops leading when that fails.
 * A connection error maps to STORAGE_UNAVAILABLE (HTTP 503): the request
 * wrote nothing and can be retried once the database is back.
 *
 * This module does NOT know what the records mean (store.ts does).
 */
import pg from 'pg';
import { Umzug, type UmzugStorage } from 'umzug';
import { CoordinatorError } from '../errors.js';
import { KeyedLock, PARTS, concurrentUpdate, encodeValue, lastOpPerKey, storageError, type KvBackend, type KvCondition, type KvDumpEntry, type KvOp, type KvRange, type Leadership, type Part } from './kv.js';

const SCHEMA = 'coordinator';
/** Advisory lock classes (the first int of the two-int form): hashdlc's own namespace. */
const LOCK_CLASS = 0x48440001;
const LEADER_CLASS = 0x48440002;
const MIGRATION_CLASS = 0x48440003;
/** A lock wait longer than this fails the request (another replica holds it far too long). */
const LOCK_WAIT_MS = 120_000;
const PAGE = 500;
const REPLAY_PURGE_MARGIN_SEC = 3600;

const SQL_TYPE: Record<(typeof PARTS)[Part], string> = { json: 'json', text: 'text', bytes: 'bytea' };

/** The versioned migrations, in order. Never edit one that shipped: add the next. */
export const MIGRATIONS: readonly { name: string; sql: string }[] = [
  {
    name: '0001-parts',
    sql: [
      `CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`,
      ...(Object.entries(PARTS) as [Part, (typeof PARTS)[Part]][]).map(([part, enc]) =>
        `CREATE TABLE ${SCHEMA}.${part} (key text COLLATE "C" PRIMARY KEY, value ${SQL_TYPE[enc]} NOT NULL)`),
      `CREATE TABLE ${SCHEMA}.replay (key text PRIMARY KEY, expires_at bigint NOT NULL)`,
      `CREATE INDEX replay_expires ON ${SCHEMA}.replay (expires_at)`,
    ].join(';\n'),
  },
];

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);

/** Whether an error means "the database cannot be reached" (retry later) rather than a bad query. */
export function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  const msg = err instanceof Error ? err.message : '';
  return /Connection terminated|connection error|timeout exceeded when trying to connect|Connection terminated unexpectedly|not queryable|ECONNREFUSED/i.test(msg);
}

function pgError(what: string, cause: unknown): CoordinatorError {
  if (cause instanceof CoordinatorError) return cause;
  if (isUnavailable(cause)) {
    // Almost always nothing was written; a connection lost while COMMIT was on its way may
    // have committed, so a client reads the record again before it re-signs and retries.
    return new CoordinatorError('STORAGE_UNAVAILABLE', `storage: the database cannot be reached (${what}); read the record again, then retry`, { reason: 'database-unavailable', cause });
  }
  return storageError(what, cause);
}

/** The URL without its password (for logs and `location`). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable url)';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function toView(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export class PostgresKv implements KvBackend {
  readonly kind = 'postgres' as const;
  readonly location: string;
  readonly leadership: Leadership;
  readonly #url: string;
  readonly #pool: pg.Pool;
  readonly #locks = new KeyedLock();
  #lockClient: Promise<pg.Client> | undefined;
  /** Queries on the lock connection one after another (a pg client runs one query at a time). */
  #lockQueue: Promise<unknown> = Promise.resolve();
  #admits = 0;

  private constructor(url: string, pool: pg.Pool) {
    this.#url = url;
    this.location = redactUrl(url);
    this.#pool = pool;
    this.leadership = new PgLeadership(url);
  }

  /**
   * Connects, applies the migrations this code knows (refusing a newer database) and returns the backend.
   * @throws {CoordinatorError} STORAGE_UNAVAILABLE when the database cannot be reached; STORAGE_ERROR `database-newer`.
   */
  static async open(url: string, opts: { poolSize?: number } = {}): Promise<PostgresKv> {
    const pool = new pg.Pool({ connectionString: url, max: opts.poolSize ?? 10, connectionTimeoutMillis: 5_000, keepAlive: true });
    // An idle client's error (the server restarted) must not crash the process: the pool drops it.
    pool.on('error', () => undefined);
    try {
      await migrate(pool);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw pgError('opening the database', err);
    }
    return new PostgresKv(url, pool);
  }

  #table(part: Part): string {
    return `${SCHEMA}.${part}`;
  }

  #select(part: Part): string {
    return PARTS[part] === 'json' ? 'value::text AS value' : 'value';
  }

  #decode<T>(part: Part, raw: unknown): T {
    switch (PARTS[part]) {
      case 'json': return JSON.parse(raw as string) as T;
      case 'text': return raw as T;
      case 'bytes': return toView(raw as Buffer) as T;
    }
  }

  async get<T>(part: Part, key: string): Promise<T | undefined> {
    return (await this.getMany<T>(part, [key]))[0];
  }

  async getMany<T>(part: Part, keys: readonly string[]): Promise<(T | undefined)[]> {
    if (keys.length === 0) return [];
    try {
      const r = await this.#pool.query<{ key: string; value: unknown }>(`SELECT key, ${this.#select(part)} FROM ${this.#table(part)} WHERE key = ANY($1::text[])`, [[...keys]]);
      const found = new Map(r.rows.map((row) => [row.key, row.value]));
      return keys.map((k) => (found.has(k) ? this.#decode<T>(part, found.get(k)) : undefined));
    } catch (cause) {
      throw pgError('read', cause);
    }
  }

  async *#rows(part: Part, range: KvRange, cols: string): AsyncIterable<{ key: string; value?: unknown }> {
    let remaining = range.limit ?? Infinity;
    // Keyset pages: each page continues strictly after the last key seen.
    let low = range.gte;
    let high = range.lt;
    let lowInclusive = true;
    for (;;) {
      const n = Math.min(PAGE, remaining);
      if (n <= 0) return;
      const sql = `SELECT ${cols} FROM ${this.#table(part)} WHERE key ${lowInclusive ? '>=' : '>'} $1 AND key < $2 ORDER BY key ${range.reverse ? 'DESC' : 'ASC'} LIMIT $3`;
      let rows: { key: string; value?: unknown }[];
      try {
        rows = (await this.#pool.query<{ key: string; value?: unknown }>(sql, [low, high, n])).rows;
      } catch (cause) {
        throw pgError('list', cause);
      }
      for (const row of rows) yield row;
      remaining -= rows.length;
      if (rows.length < n) return;
      const last = rows[rows.length - 1]!.key;
      if (range.reverse) high = last;
      else {
        low = last;
        lowInclusive = false;
      }
    }
  }

  async *keys(part: Part, range: KvRange): AsyncIterable<string> {
    for await (const row of this.#rows(part, range, 'key')) yield row.key;
  }

  async *entries<T>(part: Part, range: KvRange): AsyncIterable<[string, T]> {
    for await (const row of this.#rows(part, range, `key, ${this.#select(part)}`)) yield [row.key, this.#decode<T>(part, row.value)];
  }

  async write(ops: readonly KvOp[], conditions: readonly KvCondition[] = []): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (cause) {
      throw pgError('connect', cause);
    }
    let broken = false;
    // A checked-out client has no listener of the pool's: a socket that dies mid-batch emits
    // 'error' besides rejecting the query, and an unheard 'error' would end the process.
    const onError = (): void => { broken = true; };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const mustCreate = new Set<string>();
      for (const c of conditions) {
        const r = await client.query<{ value: string }>(`SELECT value::text AS value FROM ${this.#table(c.part)} WHERE key = $1 FOR UPDATE`, [c.key]);
        const now = r.rows[0]?.value ?? null;
        if (now !== c.json) throw concurrentUpdate(c.part, c.key);
        if (c.json === null) mustCreate.add(`${c.part}\u0000${c.key}`);
      }
      const final = lastOpPerKey(ops);
      const byPart = new Map<Part, { dels: string[]; puts: [string, string | Uint8Array][]; creates: [string, string | Uint8Array][] }>();
      for (const op of final) {
        const g = byPart.get(op.part) ?? { dels: [], puts: [], creates: [] };
        byPart.set(op.part, g);
        if (op.type === 'del') g.dels.push(op.key);
        else (mustCreate.has(`${op.part}\u0000${op.key}`) ? g.creates : g.puts).push([op.key, encodeValue(op.part, op.value)]);
      }
      for (const [part, g] of byPart) {
        const t = this.#table(part);
        const vt = SQL_TYPE[PARTS[part]];
        const vals = (rows: [string, string | Uint8Array][]): unknown[] => rows.map(([, v]) => (v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v));
        if (g.dels.length > 0) await client.query(`DELETE FROM ${t} WHERE key = ANY($1::text[])`, [g.dels]);
        if (g.creates.length > 0) {
          await client.query(`INSERT INTO ${t} (key, value) SELECT * FROM unnest($1::text[], $2::${vt}[])`, [g.creates.map(([k]) => k), vals(g.creates)]);
        }
        if (g.puts.length > 0) {
          await client.query(`INSERT INTO ${t} (key, value) SELECT * FROM unnest($1::text[], $2::${vt}[]) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, [g.puts.map(([k]) => k), vals(g.puts)]);
        }
      }
      await client.query('COMMIT');
    } catch (err) {
      broken = isUnavailable(err);
      if (!broken) await client.query('ROLLBACK').catch(() => { broken = true; });
      const code = (err as { code?: string }).code;
      // A second creator of a conditioned-absent row meets the primary key; a deadlock or
      // serialization failure between two replicas' batches rolled this one back: either way
      // nothing was written and the request may be read again and retried.
      if (code === '23505' || code === '40P01' || code === '40001') throw concurrentUpdate('contracts', String((err as { detail?: string }).detail ?? 'a record'));
      throw pgError('batch write', err);
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  async #lockConn(): Promise<pg.Client> {
    if (this.#lockClient === undefined) {
      const p = (async () => {
        const c = new pg.Client({ connectionString: this.#url, keepAlive: true, connectionTimeoutMillis: 5_000 });
        c.on('error', () => { if (this.#lockClient === p) this.#lockClient = undefined; });
        c.on('end', () => { if (this.#lockClient === p) this.#lockClient = undefined; });
        await c.connect();
        return c;
      })();
      this.#lockClient = p;
      p.catch(() => { if (this.#lockClient === p) this.#lockClient = undefined; });
    }
    return this.#lockClient;
  }

  /** One query on the lock connection, queued behind the others. */
  #onLockConn<R extends pg.QueryResultRow>(conn: pg.Client, sql: string, params: unknown[]): Promise<pg.QueryResult<R>> {
    const q = this.#lockQueue.then(() => conn.query<R>(sql, params));
    this.#lockQueue = q.catch(() => undefined);
    return q;
  }

  lock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.#locks.run(key, async () => {
      const started = Date.now();
      let wait = 5;
      let conn: pg.Client;
      for (;;) {
        try {
          conn = await this.#lockConn();
          const r = await this.#onLockConn<{ ok: boolean }>(conn, 'SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [LOCK_CLASS, key]);
          if (r.rows[0]?.ok === true) break;
        } catch (cause) {
          throw pgError('lock', cause);
        }
        if (Date.now() - started > LOCK_WAIT_MS) {
          throw new CoordinatorError('STORAGE_UNAVAILABLE', `storage: lock ${key} held by another replica for over ${LOCK_WAIT_MS / 1000} s; retry later`, { reason: 'lock-timeout' });
        }
        await sleep(wait);
        wait = Math.min(wait * 2, 100);
      }
      try {
        return await fn();
      } finally {
        // A dead lock connection already freed every lock it held.
        await this.#onLockConn(conn, 'SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_CLASS, key]).catch(() => undefined);
      }
    });
  }

  async admitRequest(key: string, expiresAtSec: number, nowSec: number): Promise<boolean> {
    try {
      // Purged an hour late: replicas' clocks may differ, and an entry one of them still
      // needs inside its skew window must not be dropped by a replica whose clock is ahead.
      if (++this.#admits % 1000 === 0) await this.#pool.query(`DELETE FROM ${SCHEMA}.replay WHERE expires_at < $1`, [nowSec - REPLAY_PURGE_MARGIN_SEC]);
      const r = await this.#pool.query(`INSERT INTO ${SCHEMA}.replay (key, expires_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, [key, expiresAtSec]);
      if (r.rowCount === 1) return true;
      // Seen before: a replay, unless that entry expired (then it is refreshed).
      const u = await this.#pool.query(`UPDATE ${SCHEMA}.replay SET expires_at = $2 WHERE key = $1 AND expires_at < $3`, [key, expiresAtSec, nowSec]);
      return u.rowCount === 1;
    } catch (cause) {
      throw pgError('replay check', cause);
    }
  }

  async dump(): Promise<KvDumpEntry[]> {
    const out: KvDumpEntry[] = [];
    for (const part of Object.keys(PARTS) as Part[]) {
      const cast = PARTS[part] === 'bytes' ? 'value' : 'convert_to(value::text, \'UTF8\') AS value';
      const r = await this.#pool.query<{ key: string; value: Buffer }>(`SELECT key, ${cast} FROM ${this.#table(part)} ORDER BY key`);
      for (const row of r.rows) out.push({ key: `!${part}!${row.key}`, bytes: toView(row.value) });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async close(): Promise<void> {
    await this.leadership.release();
    const lc = this.#lockClient;
    this.#lockClient = undefined;
    if (lc !== undefined) await lc.then((c) => c.end()).catch(() => undefined);
    await this.#pool.end();
  }
}

/** The leadership lease: the advisory lock (LEADER_CLASS, 0) on a connection of its own. */
class PgLeadership implements Leadership {
  readonly #url: string;
  #client: pg.Client | undefined;
  #leading = false;

  constructor(url: string) {
    this.#url = url;
  }

  get leading(): boolean {
    return this.#leading;
  }

  async hold(): Promise<boolean> {
    try {
      if (this.#client === undefined) {
        const c = new pg.Client({ connectionString: this.#url, keepAlive: true, connectionTimeoutMillis: 5_000, query_timeout: 5_000 });
        c.on('error', () => this.#drop(c));
        c.on('end', () => this.#drop(c));
        await c.connect();
        // A cut-off leader's session (and its lease) ends within about 25 s on the server's side.
        await c.query('SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3');
        this.#client = c;
      }
      if (this.#leading) {
        await this.#client.query('SELECT 1');
        return true;
      }
      const r = await this.#client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, 0) AS ok', [LEADER_CLASS]);
      this.#leading = r.rows[0]?.ok === true;
      return this.#leading;
    } catch {
      // Unsure whether the lease is still ours: stop leading and start over on a new connection.
      if (this.#client !== undefined) this.#drop(this.#client);
      return false;
    }
  }

  #drop(c: pg.Client): void {
    if (this.#client !== c) return;
    this.#client = undefined;
    this.#leading = false;
    c.end().catch(() => undefined);
  }

  async release(): Promise<void> {
    const c = this.#client;
    if (c === undefined) return;
    if (this.#leading) await c.query('SELECT pg_advisory_unlock($1, 0)', [LEADER_CLASS]).catch(() => undefined);
    this.#drop(c);
  }
}

/**
 * Applies the known migrations in one transaction under an advisory lock.
 * @throws {CoordinatorError} STORAGE_ERROR `database-newer` when the database holds a migration this code does not know.
 */
async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  const onError = (): void => undefined; // the failing query rejects; an unheard 'error' would end the process
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1, 0)', [MIGRATION_CLASS]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA}.migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const storage: UmzugStorage<pg.PoolClient> = {
      executed: async ({ context }) => (await context.query<{ name: string }>(`SELECT name FROM ${SCHEMA}.migrations ORDER BY name`)).rows.map((r) => r.name),
      logMigration: async ({ name, context }) => { await context.query(`INSERT INTO ${SCHEMA}.migrations (name) VALUES ($1)`, [name]); },
      unlogMigration: async ({ name, context }) => { await context.query(`DELETE FROM ${SCHEMA}.migrations WHERE name = $1`, [name]); },
    };
    const known = new Set(MIGRATIONS.map((m) => m.name));
    const applied = await storage.executed({ context: client });
    const unknown = applied.filter((n) => !known.has(n));
    if (unknown.length > 0) {
      throw new CoordinatorError('STORAGE_ERROR', `the database was migrated by a newer coordinator (${unknown.join(', ')}); this one knows up to ${MIGRATIONS[MIGRATIONS.length - 1]!.name}: upgrade it`, { reason: 'database-newer' });
    }
    const umzug = new Umzug<pg.PoolClient>({
      migrations: MIGRATIONS.map((m) => ({ name: m.name, up: async ({ context }) => { await context.query(m.sql); } })),
      context: client,
      storage,
      logger: undefined,
    });
    await umzug.up();
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.removeListener('error', onError);
    client.release();
  }
}
