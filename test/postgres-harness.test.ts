// The PostgreSQL harness (regtest/postgres.ts) that the coordinator's
// PostgreSQL tests stand on: one real throwaway cluster, reached with its own
// psql. Where PostgreSQL is not installed the cluster tests skip, and their
// names say why.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProcessAlive } from '../regtest/node.js';
import {
  PostgresStartError,
  PostgresUnavailableError,
  findPostgresBinDir,
  postgresAvailable,
  startPostgres,
} from '../regtest/postgres.js';
import type { RunningPostgres } from '../regtest/postgres.js';

const availability = await postgresAvailable();
const skip = !availability.ok;
const why = availability.ok ? '' : ` (SKIPPED: ${availability.reason})`;
if (!availability.ok) process.stderr.write(`[postgres-harness] PostgreSQL unavailable, skipping: ${availability.reason}\n`);

it('names what is missing when the configured PostgreSQL bin directory is not one', () => {
  let caught: unknown;
  try {
    findPostgresBinDir({ HASHDLC_POSTGRES_BINDIR: '/nonexistent/bin', PATH: '' });
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(PostgresUnavailableError);
  expect((caught as PostgresUnavailableError).reason).toMatch(/HASHDLC_POSTGRES_BINDIR=\/nonexistent\/bin lacks one of initdb/);
});

describe.skipIf(skip)(`a throwaway PostgreSQL cluster${why}`, () => {
  let pg: RunningPostgres;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg?.stop();
  });

  it('serves database hashdlc to superuser hashdlc on 127.0.0.1 only, trusted from there and nowhere else', async () => {
    expect(pg.url).toBe(`postgres://hashdlc@127.0.0.1:${pg.port}/hashdlc`);
    expect(await pg.psql('SELECT current_user, current_database()')).toBe('hashdlc|hashdlc');
    expect(await pg.psql('SHOW listen_addresses')).toBe('127.0.0.1');
    // Trust without a password is safe only while no other address may connect (a neighbour on the network).
    const rules = await pg.psql("SELECT type || ':' || coalesce(address, '') FROM pg_hba_file_rules ORDER BY line_number");
    expect(rules.split('\n')).toEqual(['local:', 'host:127.0.0.1']);
  });

  it('restart() keeps committed rows and the port (a coordinator reconnects to the same URL)', async () => {
    await pg.psql('CREATE TABLE survives (n int); INSERT INTO survives VALUES (1)');
    const before = pg.pid!;
    await pg.restart();
    expect(pg.pid).not.toBe(before);
    expect(isProcessAlive(before)).toBe(false);
    expect(await pg.psql('SELECT sum(n) FROM survives')).toBe('1');
  });

  it('kill() crashes the server (connections refused until start()), and start() recovers every committed row', async () => {
    await pg.psql('INSERT INTO survives VALUES (2)');
    const before = pg.pid!;
    await pg.kill();
    expect(pg.pid).toBeUndefined();
    expect(isProcessAlive(before)).toBe(false);
    await expect(pg.psql('SELECT 1')).rejects.toThrow(/psql failed.*(refused|could not connect)/s);
    await pg.start();
    expect(await pg.psql('SELECT sum(n) FROM survives')).toBe('3');
  });

  it('a second cluster on a port in use fails with PostgresStartError carrying the server log', async () => {
    let caught: unknown;
    try {
      await startPostgres({ port: pg.port });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PostgresStartError);
    expect((caught as PostgresStartError).logTail).toMatch(/could not (bind|create listen socket)/i);
    expect((caught as Error).message).toMatch(/exited before accepting connections/);
  });

  it('stop() ends the postmaster and removes its temporary directory', async () => {
    const other = await startPostgres();
    const pid = other.pid!;
    await other.stop();
    expect(isProcessAlive(pid)).toBe(false);
    expect(existsSync(other.dir)).toBe(false);
    await expect(other.start()).rejects.toThrow(/stopped and its directory removed/);
  });
});
