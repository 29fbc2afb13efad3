/**
 * The settings of `npm start` / `npm run demo` (src/stack/config.ts): flags
 * over environment variables over defaults, which ports may fall back, the
 * external node URL split into RPC settings, and each bad value refused with
 * STACK_CONFIG naming the flag.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_PORTS, STACK_SIMULATED_DIFFICULTY, isStackError, parseStackArgs, poolShareBps } from '../src/stack/index.js';
import { difficultyFromDecimal, ratMul, rational } from '../protocol/hashpower/index.js';

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

  it('--node-url: credentials leave the URL for the RPC settings', () => {
    const { config } = parseStackArgs(['--node-url', 'http://alice:s%3Acret@127.0.0.1:18443/'], {}, {});
    expect(config.externalNode).toEqual({ url: 'http://127.0.0.1:18443/', username: 'alice', password: 's:cret' });
  });

  it.each([
    [['--node-port', 'x'], '--node-port'],
    [['--oracle-port', '70000'], '--oracle-port'],
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
