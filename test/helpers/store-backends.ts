/**
 * The coordinator store's two backends for tests that must hold on both
 * (issue 13: "the golden snapshot tests run against both backends"): LevelDB
 * in a temp directory, and PostgreSQL in a throwaway cluster (regtest/postgres.ts),
 * one fresh database per store location. The PostgreSQL entry skips visibly,
 * with the reason in its name, where PostgreSQL cannot run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { ContractStore } from '../../src/coordinator/store.js';
import { postgresAvailable, startPostgres, type RunningPostgres } from '../../regtest/postgres.js';

/** A place for one store: open it (again) as often as the test likes. */
export interface StoreLocation {
  open(): Promise<ContractStore>;
}

export interface StoreBackend {
  name: string;
  /** Why it is skipped here, or null. */
  skip: string | null;
  fresh(): Promise<StoreLocation>;
}

const pgCheck = await postgresAvailable();

/** Both backends; call at a test file's top level (it registers the clean-up). */
export function storeBackends(): StoreBackend[] {
  const dirs: string[] = [];
  let cluster: Promise<RunningPostgres> | undefined;
  let n = 0;
  afterAll(async () => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    if (cluster !== undefined) await (await cluster).stop();
  });
  return [
    {
      name: 'LevelDB',
      skip: null,
      fresh: () => {
        const d = mkdtempSync(join(tmpdir(), 'hashdlc-store-'));
        dirs.push(d);
        return Promise.resolve({ open: () => ContractStore.open(d) });
      },
    },
    {
      name: pgCheck.ok ? 'PostgreSQL' : `PostgreSQL (skipped: ${pgCheck.reason})`,
      skip: pgCheck.ok ? null : pgCheck.reason,
      fresh: async () => {
        cluster ??= startPostgres();
        const pg = await cluster;
        const db = `store_${++n}`;
        await pg.psql(`CREATE DATABASE ${db}`);
        const url = pg.url.replace(/\/[^/]*$/, `/${db}`);
        return { open: () => ContractStore.open('', url) };
      },
    },
  ];
}
