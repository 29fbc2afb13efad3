/**
 * The oracle's work queue (issue 9, hole 4): steps never overlap; a waiting
 * chain step (index, attest) runs before every waiting request step, so a
 * queue of requests never delays an attestation by more than the step already
 * running; the request lane is bounded (RATE_LIMITED `queue-full`). Also the
 * range arithmetic of bounded rescans (`subtractRanges`, `addRange`).
 */
import { describe, expect, it } from 'vitest';
import { addRange, subtractRanges } from '../oracle/indexer.js';
import { WorkQueue } from '../oracle/work-queue.js';

function gate(): { open: () => void; wait: Promise<void> } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { open, wait };
}

describe('oracle work queue', () => {
  it('a chain step waits only for the running request step, not for the waiting ones', async () => {
    const q = new WorkQueue(1000);
    const order: string[] = [];
    let running = 0;
    const step = (name: string, until?: Promise<void>) => async (): Promise<void> => {
      running++;
      expect(running).toBe(1);
      order.push(`start ${name}`);
      await (until ?? Promise.resolve());
      order.push(`end ${name}`);
      running--;
    };
    const first = gate();
    const all: Promise<void>[] = [q.run('request', step('r0', first.wait))];
    for (let i = 1; i <= 100; i++) all.push(q.run('request', step(`r${i}`)));
    all.push(q.run('chain', step('attest')));
    expect([q.requestsWaiting, q.chainWaiting, q.requestsDone]).toEqual([100, 1, 0]);
    first.open();
    await Promise.all(all);
    expect(q.requestsDone).toBe(101);
    expect(order.slice(0, 4)).toEqual(['start r0', 'end r0', 'start attest', 'end attest']);
    expect(order).toHaveLength(204);
    await q.idle();
  });

  it('a full request lane refuses at once with RATE_LIMITED queue-full; chain steps are never refused', async () => {
    const q = new WorkQueue(2);
    const g = gate();
    const held = q.run('request', () => g.wait);
    const waiting = [q.run('request', async () => 1), q.run('request', async () => 2)];
    await expect(q.run('request', async () => 3)).rejects.toMatchObject({ code: 'RATE_LIMITED', reason: 'queue-full' });
    const chain = [q.run('chain', async () => 'a'), q.run('chain', async () => 'b'), q.run('chain', async () => 'c')];
    g.open();
    await held;
    expect(await Promise.all(chain)).toEqual(['a', 'b', 'c']);
    expect(await Promise.all(waiting)).toEqual([1, 2]);
  });

  it('a step that throws releases the lock', async () => {
    const q = new WorkQueue(10);
    await expect(q.run('request', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await q.run('chain', async () => 'next')).toBe('next');
    await q.idle();
  });
});

describe('rescan ranges', () => {
  it.each([
    [[10, 20], [], [[10, 20]]],
    [[10, 20], [[0, 5]], [[10, 20]]],
    [[10, 20], [[12, 15]], [[10, 12], [15, 20]]],
    [[10, 20], [[5, 12], [18, 30]], [[12, 18]]],
    [[10, 20], [[10, 20]], []],
    [[10, 20], [[25, 30]], [[10, 20]]],
  ] as [[number, number], [number, number][], [number, number][]][])('[%j] minus %j = %j', (range, covered, missing) => {
    expect(subtractRanges(range, covered)).toEqual(missing);
  });

  it('addRange keeps ranges sorted, disjoint and merged when they touch', () => {
    let r: [number, number][] = [];
    r = addRange(r, [20, 30]);
    r = addRange(r, [0, 5]);
    r = addRange(r, [5, 8]);
    r = addRange(r, [25, 40]);
    expect(r).toEqual([[0, 8], [20, 40]]);
  });
});
