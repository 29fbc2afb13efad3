/**
 * The wallet's files reach the disk before anyone relies on them (issue 9,
 * Low): the seed file, the wallet state and contract records are written
 * to a temp file, fsynced, renamed over the old one, and the directory is
 * fsynced (the rename itself is durable only then). Observed through the
 * calls the wallet makes to node:fs, in order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Wallet } from '../src/wallet/index.js';

const events = vi.hoisted(() => ({ log: [] as string[], paths: new Map<number, string>() }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const openSync = ((path: string, ...rest: never[]) => {
    const fd = (fs.openSync as (...a: unknown[]) => number)(path, ...rest);
    events.paths.set(fd, String(path));
    return fd;
  }) as typeof fs.openSync;
  return {
    ...fs,
    openSync,
    fsyncSync: (fd: number) => {
      events.log.push(`fsync ${events.paths.get(fd)}`);
      fs.fsyncSync(fd);
    },
    renameSync: (from: string, to: string) => {
      events.log.push(`rename ${String(from)} -> ${String(to)}`);
      fs.renameSync(from, to);
    },
  };
});

const tmp = mkdtempSync(join(tmpdir(), 'hashdlc-durable-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeEach(() => {
  events.log.length = 0;
});

/** The events of one durable replace of `path`: fsync temp, rename, fsync directory. */
function durableWrite(path: string, dir: string): RegExp[] {
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return [new RegExp(`^fsync ${esc(path)}\\.\\d+\\.[0-9a-f]{8}\\.tmp$`), new RegExp(`^rename ${esc(path)}\\.\\d+\\.[0-9a-f]{8}\\.tmp -> ${esc(path)}$`), new RegExp(`^fsync ${esc(dir)}$`)];
}

function expectSequence(log: string[], patterns: RegExp[]): void {
  expect(log).toHaveLength(patterns.length);
  patterns.forEach((p, i) => expect(log[i]).toMatch(p));
}

describe('durable wallet files', () => {
  const dir = join(tmp, 'w');
  it('the seed file and the first state are on disk when init returns', () => {
    Wallet.init(dir, 'regtest');
    const seed = join(dir, 'seed.json');
    expectSequence(events.log, [new RegExp(`^fsync ${seed}$`), new RegExp(`^fsync ${dir}$`), ...durableWrite(join(dir, 'state.json'), dir)]);
  });

  it('handing out an address writes the state durably', () => {
    Wallet.open(dir).newReceiveAddress();
    const state = join(dir, 'state.json');
    // The lock file is fsynced first (it names this PID), then the state is replaced.
    expectSequence(events.log, [new RegExp(`^fsync ${join(dir, 'wallet.lock')}$`), ...durableWrite(state, dir)]);
  });

  it('a contract record is written durably', () => {
    const w = Wallet.open(dir);
    w.contracts.save({ version: 1, id: 'cd'.repeat(32), role: 'offer', network: 'regtest', keyIndex: 0, state: 'offered', history: [], hashProfile: 'sha256', terms: {}, offer: '', reservedOutpoints: [] });
    const contracts = join(dir, 'contracts');
    // The first record creates the contracts directory: the wallet directory is flushed for it.
    expectSequence(events.log, [new RegExp(`^fsync ${dir}$`), ...durableWrite(join(contracts, `${'cd'.repeat(32)}.json`), contracts)]);
  });
});
