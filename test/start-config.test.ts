/**
 * The settings of `npm start` / `npm run demo` (src/stack/config.ts): flags
 * over environment variables over defaults, which ports may fall back, the
 * external node URL split into RPC settings, and each bad value refused with
 * STACK_CONFIG naming the flag.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PORTS,
  STACK_HASHPRICE_SCHEDULE,
  STACK_SIMULATED_DIFFICULTY,
  isStackError,
  oracleLayout,
  oraclePortChoice,
  parseStackArgs,
  poolShareBps,
  stackLayout,
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
