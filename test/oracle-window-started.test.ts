/**
 * Issue 9, hole 3 (oracle side), the rule itself: a public event request over
 * a window that has started is refused (`window-started`), judged against the
 * highest block known, so an oracle still catching up after a restart (indexed
 * tip far below the node's) does not accept windows the node has already
 * mined. The operator may create past events. End to end over HTTP:
 * test/regtest/oracle-load.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../oracle/config.js';
import { EventService, type EventRequest } from '../oracle/events.js';
import type { ChainIndexer } from '../oracle/indexer.js';
import type { OracleKey } from '../oracle/keys.js';
import type { OracleStore } from '../oracle/store.js';

const D = 'bcrt1qur5z4lnlxeqeyfrhcye7xyeq74mks4wxrkt3wk';
const config = parseConfig({ network: 'regtest', rpc: { url: 'http://127.0.0.1:1/', username: 'u', password: 'p' }, dataDir: '/nonexistent' });

function service(tip: number, seenHeight: number): EventService {
  const indexer = { tip: { height: tip, hash: '00'.repeat(32) }, seenHeight } as unknown as ChainIndexer;
  return new EventService({ config, store: {} as OracleStore, indexer, key: {} as OracleKey, crash: () => undefined });
}

const request = (start: number): EventRequest => ({ kind: 'hashpower-delivery', window: { start, end: start + 10 }, deliveryAddress: D, hashrateThs: '100' });
const publicClient = { operator: false, client: '203.0.113.7' };

describe('oracle: public requests only for windows that have not started', () => {
  it.each([
    ['the first block is indexed', 100, 100, 100],
    ['the next block (within the default margin of 1)', 100, 100, 101],
    ['an old window', 100, 100, 50],
    ['the index catching up: the node has mined the window start', 100, 5000, 4000],
    ['the index catching up: the node tip + 1', 100, 5000, 5001],
  ])('%s → INVALID_PARAMS window-started', (_name, tip, seen, start) => {
    expect(() => service(tip, seen).paramsOf(request(start), publicClient)).toThrow(expect.objectContaining({ code: 'INVALID_PARAMS', reason: 'window-started' }));
  });

  it('accepts a window above the margin, and the operator over any window', () => {
    expect(service(100, 100).paramsOf(request(102), publicClient).window).toEqual({ start: 102, end: 112 });
    expect(service(100, 5000).paramsOf(request(5002), publicClient).window.start).toBe(5002);
    expect(service(100, 5000).paramsOf(request(50), { operator: true, client: 'op' }).window.start).toBe(50);
  });
});
