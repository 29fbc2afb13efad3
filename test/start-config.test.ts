/**
 * The settings of `npm start` / `npm run demo` (src/stack/config.ts): flags
 * over environment variables over defaults, which ports may fall back, the
 * external node URL split into RPC settings, and each bad value refused with
 * STACK_CONFIG naming the flag. The coordinator's storage: LevelDB unless a
 * PostgreSQL URL is given; replicas only on PostgreSQL (a second process
 * cannot open LevelDB), each on its own port and files; the printed lines name
 * every replica and the database without its password.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readyLines } from '../src/start.js';
import {
  DEFAULT_PORTS,
  MAX_COORDINATOR_REPLICAS,
  coordinatorLayout,
  coordinatorPortChoice,
  STACK_HASHPRICE_SCHEDULE,
  STACK_SIMULATED_DIFFICULTY,
  isStackError,
  oracleLayout,
  oraclePortChoice,
  parseStackArgs,
  poolShareBps,
  redactDatabaseUrl,
  stackLayout,
  startStack,
  type StackState,
} from '../src/stack/index.js';
import { blockSubsidy, difficultyFromDecimal, hashpriceSatsPerPhDay, maxOutcome, ratMul, rational, subsidyHalvingInterval } from '../protocol/hashpower/index.js';
import { fittingHashpricePrecision } from '../protocol/events/index.js';

describe('stack configuration', () => {
  it('defaults: ./.data, the default ports (may fall back), auto node, no external node', () => {
    const { config } = parseStackArgs([], {}, {});
    expect(config).toEqual({
      dataDir: '.data',
      ports: {
        node: { port: DEFAULT_PORTS.node, strict: false },
        oracle: { port: DEFAULT_PORTS.oracle, strict: false },
        coordinator: { port: DEFAULT_PORTS.coordinator, strict: false },
      },
      oracleCount: 3,
      backend: 'auto',
      externalNode: undefined,
      databaseUrl: undefined,
      coordinatorReplicas: 1,
      help: false,
    });
  });

  it('a flag wins over its variable; a given port is strict, 0 is any port', () => {
    const env = { HASHDLC_DATA_DIR: '/env', HASHDLC_ORACLE_PORT: '9000', HASHDLC_COORDINATOR_PORT: '9001', HASHDLC_NODE: 'bcoin' };
    const { config } = parseStackArgs(['--data-dir', '/flag', '--coordinator-port', '0'], {}, env);
    expect(config.dataDir).toBe('/flag');
    expect(config.ports.oracle).toEqual({ port: 9000, strict: true });
    expect(config.ports.coordinator).toEqual({ port: 0, strict: false });
    expect(config.backend).toBe('bcoin');
  });

  it('--oracles N (HASHDLC_ORACLES): 1 to 5, the flag over the variable', () => {
    expect(parseStackArgs(['--oracles', '1'], {}, {}).config.oracleCount).toBe(1);
    expect(parseStackArgs([], {}, { HASHDLC_ORACLES: '5' }).config.oracleCount).toBe(5);
    expect(parseStackArgs(['--oracles', '2'], {}, { HASHDLC_ORACLES: '5' }).config.oracleCount).toBe(2);
  });

  it('oracle ports: the first as chosen, the others PORT+2, PORT+3, ... past the coordinator, never strict; 0 stays any', () => {
    const given = { port: 9000, strict: true };
    expect([0, 1, 2].map((i) => oraclePortChoice(given, i))).toEqual([given, { port: 9002, strict: false }, { port: 9003, strict: false }]);
    expect(oraclePortChoice({ port: DEFAULT_PORTS.oracle, strict: false }, 1)).toEqual({ port: 8092, strict: false });
    expect(oraclePortChoice({ port: 0, strict: false }, 2)).toEqual({ port: 0, strict: false });
  });

  it('oracle files: the first keeps the one-oracle paths (its key survives a restart with more), the others their own', () => {
    const layout = stackLayout('/d');
    expect(oracleLayout(layout, 0)).toEqual({ name: 'oracle', dataDir: layout.oracleDir, configFile: layout.oracleConfigFile, logFile: '/d/logs/oracle.log' });
    expect(oracleLayout(layout, 2)).toEqual({ name: 'oracle-3', dataDir: '/d/oracle-3', configFile: '/d/oracle-3.json', logFile: '/d/logs/oracle-3.log' });
  });

  it('hashprice events fit the 1 PH/s network: the least precision at which 2 x subsidy per block fits 20 digits', () => {
    expect(STACK_HASHPRICE_SCHEDULE).toMatchObject({ hashpriceNbDigits: 20, hashpricePrecision: 'fit' });
    const halving = subsidyHalvingInterval('regtest');
    // At 1 PH/s a PH/s earns every block: the hashprice is 144 x the block reward (7.2e11 sats/PH/day at 25 BTC).
    const d = difficultyFromDecimal(STACK_SIMULATED_DIFFICULTY);
    expect(hashpriceSatsPerPhDay([{ reward: 2_500_000_000n, difficulty: d }])).toEqual(rational(360_000_000_000n));
    for (const height of [0, 200, 450, 1_000, 2_000, 3_000, 4_000, 10_000]) {
      const p = fittingHashpricePrecision(height, 'regtest', STACK_SIMULATED_DIFFICULTY, 20);
      const bound = 144n * 2n * blockSubsidy(height, halving);
      // Fits at p, and p is the least that fits.
      expect(bound / 10n ** BigInt(p)).toBeLessThanOrEqual(maxOutcome(20));
      if (p > 0) expect(bound / 10n ** BigInt(p - 1)).toBeGreaterThan(maxOutcome(20));
    }
    expect(fittingHashpricePrecision(200, 'regtest', STACK_SIMULATED_DIFFICULTY, 20)).toBe(6);
    expect(fittingHashpricePrecision(10_000, 'regtest', STACK_SIMULATED_DIFFICULTY, 20)).toBe(0);
  });

  it('--node-url: credentials leave the URL for the RPC settings', () => {
    const { config } = parseStackArgs(['--node-url', 'http://alice:s%3Acret@127.0.0.1:18443/'], {}, {});
    expect(config.externalNode).toEqual({ url: 'http://127.0.0.1:18443/', username: 'alice', password: 's:cret' });
  });

  it.each([
    [['--node-port', 'x'], '--node-port'],
    [['--oracle-port', '70000'], '--oracle-port'],
    [['--oracles', '0'], '--oracles'],
    [['--oracles', '6'], '--oracles'],
    [['--oracles', 'x'], '--oracles'],
    [['--node', 'btcd'], '--node'],
    [['--node-url', 'ftp://x'], '--node-url'],
    [['--database-url', 'mysql://u@h/db'], '--database-url'],
    [['--database-url', 'postgres://a b'], '--database-url'],
    [['--database-url', 'postgres://h/db', '--coordinator-replicas', '0'], '--coordinator-replicas'],
    [['--database-url', 'postgres://h/db', '--coordinator-replicas', String(MAX_COORDINATOR_REPLICAS + 1)], '--coordinator-replicas'],
    [['--database-url', 'postgres://h/db', '--coordinator-replicas', 'two'], '--coordinator-replicas'],
    [['--unknown'], "Unknown option '--unknown'"],
  ])('refuses %j naming %s', (argv, named) => {
    let err: unknown;
    try {
      parseStackArgs(argv, {}, {});
    } catch (e) {
      err = e;
    }
    expect(isStackError(err, 'STACK_CONFIG')).toBe(true);
    expect((err as Error).message).toContain(named);
  });

  it('--database-url alone (or HASHDLC_DATABASE_URL): one coordinator on PostgreSQL; --coordinator-replicas N on it', () => {
    const url = 'postgres://hashdlc:s3cret@db.local:5432/hashdlc';
    expect(parseStackArgs(['--database-url', url], {}, {}).config).toMatchObject({ databaseUrl: url, coordinatorReplicas: 1 });
    expect(parseStackArgs([], {}, { HASHDLC_DATABASE_URL: url }).config.databaseUrl).toBe(url);
    expect(parseStackArgs(['--database-url', 'postgresql:///hashdlc?host=/run/postgresql'], {}, { HASHDLC_DATABASE_URL: url }).config.databaseUrl)
      .toBe('postgresql:///hashdlc?host=/run/postgresql');
    expect(parseStackArgs(['--database-url', url, '--coordinator-replicas', '2'], {}, {}).config.coordinatorReplicas).toBe(2);
    expect(parseStackArgs([], {}, { HASHDLC_DATABASE_URL: url, HASHDLC_COORDINATOR_REPLICAS: '3' }).config.coordinatorReplicas).toBe(3);
    // One replica on LevelDB is the default stack, said explicitly.
    expect(parseStackArgs(['--coordinator-replicas', '1'], {}, {}).config).toMatchObject({ databaseUrl: undefined, coordinatorReplicas: 1 });
  });

  it.each([
    [['--coordinator-replicas', '2'], {}],
    [[], { HASHDLC_COORDINATOR_REPLICAS: '2' }],
    [['--coordinator-replicas', '3'], { HASHDLC_DATABASE_URL: '' }],
  ])('refuses replicas without a database (LevelDB is one process\'s): %j %j', (argv, env) => {
    let err: unknown;
    try {
      parseStackArgs(argv, {}, env);
    } catch (e) {
      err = e;
    }
    expect(isStackError(err, 'STACK_CONFIG')).toBe(true);
    expect((err as Error).message).toMatch(/^--coordinator-replicas \d needs --database-url \(HASHDLC_DATABASE_URL\)/);
  });

  it('startStack refuses replicas without a database before it starts or creates anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hashdlc-replicas-'));
    try {
      const { config } = parseStackArgs(['--data-dir', join(dir, 'data')], {}, {});
      const err = await startStack({ ...config, coordinatorReplicas: 2 }).catch((e: unknown) => e);
      expect(isStackError(err, 'STACK_CONFIG')).toBe(true);
      expect((err as Error).message).toContain('2 coordinator replicas need a PostgreSQL database');
      const bad = await startStack({ ...config, databaseUrl: 'postgres://h/db', coordinatorReplicas: 0 }).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(RangeError);
      expect(existsSync(join(dir, 'data'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('coordinator replicas: the first on --coordinator-port (strict if given), the others PORT+10, PORT+11, ... never strict; own config file and log', () => {
    const given = { port: 9001, strict: true };
    expect([0, 1, 2].map((i) => coordinatorPortChoice(given, i))).toEqual([given, { port: 9011, strict: false }, { port: 9012, strict: false }]);
    // Clear of the default oracles' ports 8090, 8092 ... 8095.
    expect(coordinatorPortChoice({ port: DEFAULT_PORTS.coordinator, strict: false }, 1)).toEqual({ port: 8101, strict: false });
    expect(coordinatorPortChoice({ port: 0, strict: false }, 3)).toEqual({ port: 0, strict: false });
    const layout = stackLayout('/d');
    expect(coordinatorLayout(layout, 0)).toEqual({ name: 'coordinator', configFile: layout.coordinatorConfigFile, logFile: '/d/logs/coordinator.log' });
    expect(coordinatorLayout(layout, 1)).toEqual({ name: 'coordinator-2', configFile: '/d/coordinator-2.json', logFile: '/d/logs/coordinator-2.log' });
  });

  it('a database password never reaches the terminal: printed URLs are redacted', () => {
    expect(redactDatabaseUrl('postgres://hashdlc:s3cret@db:5432/hashdlc')).toBe('postgres://hashdlc:***@db:5432/hashdlc');
    expect(redactDatabaseUrl('postgres://hashdlc@127.0.0.1:5432/hashdlc')).toBe('postgres://hashdlc@127.0.0.1:5432/hashdlc');
    expect(redactDatabaseUrl('not a url')).not.toContain('not a url');
  });

  it('npm start prints every replica (the first as the coordinator line) and the storage; LevelDB by default', () => {
    const base: StackState = {
      version: 1,
      pid: 1,
      startedAt: '2026-01-01T00:00:00.000Z',
      dataDir: '/d',
      node: { kind: 'bcoin', pid: 2, url: 'http://127.0.0.1:18443', rpc: { url: 'http://127.0.0.1:18443/', username: 'u', password: 'p' } },
      oracles: [{ pid: 3, url: 'http://127.0.0.1:8090', publicKey: 'ab'.repeat(32), simulatedDifficulty: STACK_SIMULATED_DIFFICULTY }],
      coordinator: { pid: 4, url: 'http://127.0.0.1:8091' },
      coordinators: [{ pid: 4, url: 'http://127.0.0.1:8091' }, { pid: 5, url: 'http://127.0.0.1:8101' }],
      coordinatorStorage: { kind: 'postgres', location: redactDatabaseUrl('postgres://hashdlc:s3cret@db:5432/hashdlc') },
      dashboard: 'http://127.0.0.1:8091/',
      wallets: { miner: '/d/wallets/miner', buyer: '/d/wallets/buyer' },
      poolAddress: 'bcrt1q',
    };
    const lines = readyLines({ state: base, startMs: 1_000 }, 110, '/d');
    expect(lines).toContain('coordinator: http://127.0.0.1:8091');
    expect(lines).toContain('coordinator replica 2: http://127.0.0.1:8101');
    expect(lines).toContain('coordinator storage: PostgreSQL postgres://hashdlc:***@db:5432/hashdlc, 2 replicas: each serves the API, one at a time (the leader) runs settlement');
    expect(lines.join('\n')).not.toContain('s3cret');
    // The CLI talks to the first replica.
    expect(lines.find((l) => l.includes('export HASHDLC_RPC_URL='))).toMatch(/ HASHDLC_COORDINATOR=http:\/\/127\.0\.0\.1:8091$/);

    // A state file of a one-coordinator LevelDB stack (or one written before replicas existed).
    const old: StackState = { ...base };
    delete old.coordinators;
    delete old.coordinatorStorage;
    const one = readyLines({ state: old, startMs: 1_000 }, 110, '/d');
    expect(one.filter((l) => l.startsWith('coordinator'))).toEqual([
      'coordinator: http://127.0.0.1:8091',
      'coordinator storage: LevelDB in coordinator (one process; --database-url for PostgreSQL and replicas)',
    ]);
  });

  it('the simulated difficulty makes the network exactly 1 PH/s: D * 2^32 / 600 s = 1e15 H/s', () => {
    const d = difficultyFromDecimal(STACK_SIMULATED_DIFFICULTY);
    expect(ratMul(d, rational(2n ** 32n))).toEqual(rational(600n * 10n ** 15n));
    // So 100 TH/s is 10% of every block, and the pool's share is 10% times the delivery.
    expect(poolShareBps(100n, 100)).toBe(1000);
    expect(poolShareBps(100n, 98)).toBe(980);
    expect(poolShareBps(100n, 60)).toBe(600);
    expect(poolShareBps(100n, 0)).toBe(0);
  });
});
