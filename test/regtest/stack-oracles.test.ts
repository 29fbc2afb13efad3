/**
 * The stack's oracle set on the suite's regtest node (src/stack
 * `startStack` with three oracles, real child processes): each answers with
 * a key of its own, the coordinator allows all three, and all three
 * announce by themselves the same hashprice events for the next windows
 * (same ids: same parameters), at the precision that fits the 1 PH/s
 * simulated network (protocol/events `fittingHashpricePrecision`), so a
 * `hashdlc offer hashprice-forward --window ...` right after `npm start`
 * finds its event at every oracle of the set. A test may SIGKILL one oracle
 * (`killOracle`): the other two keep answering and the stack does not
 * report it as a crash.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OracleClient } from '../../src/api/index.js';
import { STACK_HASHPRICE_SCHEDULE, STACK_SIMULATED_DIFFICULTY } from '../../src/stack/index.js';
import { fittingHashpricePrecision } from '../../protocol/events/index.js';
import { startWorld, type World } from './scenario-helpers.js';

let w: World;

beforeAll(async () => {
  w = await startWorld({ oracles: 3 });
}, 180_000);

afterAll(async () => {
  await w?.close();
});

/** The hashprice events an oracle announced for windows above `tip`, by id (polled until it has `count`). */
async function scheduled(url: string, tip: number, count: number): Promise<Map<string, Record<string, unknown>>> {
  const oracle = new OracleClient(url);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const events = (await oracle.events({ kind: 'hashprice', limit: '1000' })).filter((e) => (e.params.window?.start ?? 0) > tip);
    if (events.length >= count || Date.now() > deadline) return new Map(events.map((e) => [e.eventId, e.params as Record<string, unknown>]));
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('the stack runs three oracles', () => {
  it('each with its own key; the coordinator allows all three', async () => {
    const keys = await Promise.all(w.oracleUrls.map(async (url) => (await new OracleClient(url).infoKey()).publicKey));
    expect(keys).toEqual(w.stack.state.oracles.map((o) => o.publicKey));
    expect(new Set(keys).size).toBe(3);
    const info = (await (await fetch(`${w.coordinatorUrl}/v1/info`)).json()) as { oracles: string[] };
    expect(info.oracles).toEqual(w.oracleUrls);
  });

  it('all three announce the same scheduled hashprice events, at the precision that fits the simulated network', async () => {
    const { hashpriceEveryBlocks: every, hashpriceAheadWindows: ahead, hashpriceNbDigits: digits } = STACK_HASHPRICE_SCHEDULE;
    const tip = await w.rpc.getBlockCount();
    const sets = await Promise.all(w.oracleUrls.map((url) => scheduled(url, tip, ahead)));
    const ids = sets.map((s) => [...s.keys()].sort());
    expect(ids[0]!.length).toBeGreaterThanOrEqual(ahead);
    expect(ids[1]).toEqual(ids[0]);
    expect(ids[2]).toEqual(ids[0]);
    for (const [id, params] of sets[0]!) {
      const window = params.window as { start: number; end: number };
      expect(window.start % every).toBe(0);
      expect(window.end - window.start).toBe(every);
      expect(params.simulatedDifficulty).toBe(STACK_SIMULATED_DIFFICULTY);
      expect(params.descriptor, id).toEqual({
        type: 'numeric',
        base: 2,
        nbDigits: digits,
        unit: 'sats/PH/day',
        precision: fittingHashpricePrecision(window.start, 'regtest', STACK_SIMULATED_DIFFICULTY, digits),
      });
      expect(sets[1]!.get(id)).toEqual(params);
      expect(sets[2]!.get(id)).toEqual(params);
    }
  });

  it('killOracle: one oracle down, the others answer, and it is not reported as a crash', async () => {
    await w.stack.killOracle(2);
    expect(w.stack.oracles[2]!.running()).toBe(false);
    for (const url of w.oracleUrls.slice(0, 2)) expect((await new OracleClient(url).infoKey()).publicKey).toMatch(/^[0-9a-f]{64}$/);
    // The crash watcher saw the exit before killOracle resolved (its handler was registered first).
    expect(await Promise.race([w.stack.crashed, Promise.resolve('not reported')])).toBe('not reported');
    await expect(w.stack.killOracle(3)).rejects.toThrow(RangeError);
  });
});
