/**
 * Opens the coordinator's storage backend (kv.ts): PostgreSQL when a database
 * URL is configured (replicas on one database), else LevelDB in the data
 * directory (the embedded default).
 */
import type { KvBackend } from './kv.js';
import { LevelKv } from './level.js';
import { PostgresKv } from './postgres.js';

export { KeyedLock, PARTS, type KvBackend, type KvCondition, type KvOp, type Leadership, type Part } from './kv.js';
export { LevelKv } from './level.js';
export { MIGRATIONS, PostgresKv, redactUrl } from './postgres.js';

/**
 * @throws {CoordinatorError} STORAGE_ERROR (LevelDB directory locked, database newer than this code);
 *   STORAGE_UNAVAILABLE (the database cannot be reached).
 */
export async function openBackend(where: { dataDir: string; databaseUrl?: string | undefined }): Promise<KvBackend> {
  return where.databaseUrl !== undefined && where.databaseUrl !== '' ? PostgresKv.open(where.databaseUrl) : LevelKv.open(where.dataDir);
}
