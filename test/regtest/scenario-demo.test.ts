/**
 * `npm run demo` as a child process (`node --import tsx src/demo.ts`, what
 * the npm script runs) on the suite's regtest node:
 * - against a running stack, found through the data directory's stack.json
 *   (here the stack runs in the test process), with 60% delivery and its two
 *   agents (`hashdlc agent` child processes): after the offer and the accept
 *   the miner's agent signs and the buyer's agent funds (their action lines
 *   in the output, nothing typed), exit 0, the attested 6000 bps and the
 *   payout check in its output, both agents stopped (exit 0, gone); the
 *   stack runs three oracles and the parties trust all of them (2 of 3);
 * - `--template forward` and `--template call` on the same stack: each
 *   settles on the hashprice event the stack's oracles scheduled for the
 *   next 10-block window (20 digits at the precision that fits the 1 PH/s
 *   network), its attestations verified, the payouts on the curve, the
 *   buyer gaining (struck below the window's hashprice);
 * - `--periods 4 --delivery-schedule 100,100,0,0` on the same stack (issue 12):
 *   one funding transaction with four DLC funding outputs and the upfront
 *   payment; periods 1-2 fully delivered settle with the miner paid the whole
 *   DLC, periods 3-4 with none delivered settle with the buyer made whole,
 *   each period settled on its own attestation while the later ones stay
 *   live; exit 0 only when every period's payouts equal its curve;
 * - `--transfer` on the same stack (issue 14): mid-window the buyer B1 lists its
 *   position, a third wallet B2 takes it, the miner's agent consents on its own,
 *   B1 releases, B2 funds; the transfer confirms; exit 0 only when the CET pays
 *   B2's payout script, B1 got the price on chain and the miner's payout equals
 *   the curve, each fact printed;
 * - with no stack running and `--no-agents`: it starts its own (three
 *   oracles and the coordinator, child processes on the given node), types sign and fund,
 *   runs the whole sale at the default 98% delivery, exits 0, and leaves no
 *   process behind.
 *
 * Then the oracle set of the same stack (src/stack `startStack` with three
 * oracles, real child processes; here rather than in a file of its own, so
 * the suite starts that stack once): each answers with a key of its own, the
 * coordinator allows all three, and all three announce by themselves the
 * same hashprice events for the next windows (same ids: same parameters), at
 * the precision that fits the 1 PH/s simulated network (protocol/events
 * `fittingHashpricePrecision`), so a `hashdlc offer hashprice-forward
 * --window ...` right after `npm start` finds its event at every oracle of
 * the set. A test may SIGKILL one oracle (`killOracle`): the other two keep
 * answering and the stack does not report it as a crash.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { OracleClient } from '../../src/api/index.js';
import { fittingHashpricePrecision } from '../../protocol/events/index.js';
import { STACK_HASHPRICE_SCHEDULE, STACK_SIMULATED_DIFFICULTY, type StackState } from '../../src/stack/index.js';
import { startWorld, type World } from './scenario-helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'hashdlc-demo-test-'));
let world: World | undefined;

afterAll(async () => {
  await world?.close();
  rmSync(tmp, { recursive: true, force: true });
});

function nodeUrl(): string {
  const { url, username, password } = inject('regtest').rpc;
  const u = new URL(url);
  u.username = username;
  u.password = password;
  return u.toString();
}

/** Runs the demo; while it runs, remembers the PIDs its stack.json names. */
async function demo(dataDir: string, args: string[]): Promise<{ code: number | null; out: string; err: string; pids: number[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/demo.ts', '--data-dir', dataDir, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const pids = new Set<number>();
  const timer = setInterval(() => {
    try {
      const s = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as StackState;
      for (const p of [s.pid, ...s.oracles.map((o) => o.pid), s.coordinator.pid, s.node.pid]) if (p !== null) pids.add(p);
    } catch {
      // not written yet, or gone
    }
  }, 100);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearInterval(timer);
  return { code, out, err, pids: [...pids] };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm run demo', () => {
  it('runs against the running stack it finds in the data directory (60% delivery); its agents sign and fund', async () => {
    world = await startWorld({ oracles: 3 });
    const r = await demo(world.stack.layout.dir, ['--delivery', '60', '--window', '10']);
    expect(r.code, `${r.out}\n${r.err}`).toBe(0);
    expect(r.out).toContain(`using the stack of pid ${process.pid}`);
    // Typed: the offer and the accept; then the agents act, each step once.
    expect(r.out).toMatch(/miner +\$ hashdlc offer hashpower /);
    expect(r.out).toMatch(/buyer +\$ hashdlc accept /);
    expect(r.out).not.toMatch(/\$ hashdlc (sign|fund) /);
    const agentPids = [...r.out.matchAll(/(?:miner|buyer) agent \$ hashdlc agent --json --wallet-dir \S+ --interval 1 {2}\(pid (\d+)\)/g)].map((m) => Number(m[1]));
    expect(agentPids).toHaveLength(2);
    expect(r.out.match(/miner agent sign [0-9a-f]{12}… → state signed, tx [0-9a-f]{64}/g)).toHaveLength(1);
    expect(r.out.match(/buyer agent fund [0-9a-f]{12}… → state funding-broadcast, tx [0-9a-f]{64}/g)).toHaveLength(1);
    expect(r.out).not.toContain('FAILED');
    expect(r.out).toContain('the agents are stopped (SIGTERM; both exited 0)');
    // The parties trust all three with a majority threshold: the offer names 2 of 3.
    expect(r.out).toMatch(/demo \(sale, 2 of 3 oracles\) finished in /);
    expect(agentPids.filter(alive)).toEqual([]);
    expect(r.out).toMatch(/oracle +http:\/\/127\.0\.0\.1:\d+ attested 6000 bps/);
    expect(r.out).toMatch(/hashdlc oracle verify http:\/\/127\.0\.0\.1:\d+: the evidence recomputes to 6000 against the node: HOLDS/);
    expect(r.out).toContain('OK: the payouts on chain equal the payout curve at the attested outcome');
  }, 240_000);

  it.each(['forward', 'call'] as const)('--template %s: a hashprice contract on the window the stack\'s oracles announced settles on the curve', async (template) => {
    world ??= await startWorld({ oracles: 3 });
    const r = await demo(world.stack.layout.dir, ['--template', template]);
    expect(r.code, `${r.out}\n${r.err}`).toBe(0);
    expect(r.out).toContain(`hashdlc demo: a hashprice ${template} on 100 TH/s over blocks [`);
    expect(r.out).toMatch(new RegExp(`miner +\\$ hashdlc offer hashprice-${template} --window \\d+-\\d+ `));
    // The oracles' scheduled event, at the precision that fits the 1 PH/s network, attested and verified.
    const precision = Number(/event states 20 digits at precision (\d+)/.exec(r.out)?.[1]);
    expect(precision).toBeGreaterThanOrEqual(0);
    expect(r.out).toMatch(/oracle event hashprice\/\d+-\d+\//);
    const attested = [...r.out.matchAll(/oracle +(http:\/\/127\.0\.0\.1:\d+) attested hashprice ([\d,]+)/g)];
    expect(attested.length).toBeGreaterThanOrEqual(2);
    expect(r.out).toMatch(new RegExp(`demo \\(${template}, 2 of 3 oracles\\) finished in `));
    expect(r.out).toMatch(/hashdlc oracle verify http:\/\/127\.0\.0\.1:\d+: the evidence recomputes to \d+ against the node: HOLDS/);
    expect(r.out).not.toContain('MISMATCH');
    expect(r.out).toContain('OK: the payouts on chain equal the payout curve at the attested outcome');
    // Struck below the window's hashprice: the buyer (accepter) gains.
    const buyer = /buyer \(accepter\) +([\d,]+)/.exec(r.out)?.[1];
    expect(Number(buyer?.replace(/,/g, ''))).toBeGreaterThan(template === 'forward' ? 500_000 : 0);
  }, 240_000);

  it('--periods 4 --delivery-schedule 100,100,0,0: each period settles on chain on its own attestation, the miner paid for the periods it delivered and the buyer made whole for the others', async () => {
    world ??= await startWorld({ oracles: 3 });
    const r = await demo(world.stack.layout.dir, ['--periods', '4', '--delivery-schedule', '100,100,0,0']);
    expect(r.code, `${r.out}\n${r.err}`).toBe(0);
    expect(r.out).toMatch(/miner +\$ hashdlc offer hashpower .*--periods 4/);
    expect(r.out).toMatch(/funding tx: 4 DLC funding outputs \(325,000 \+ 325,000 \+ 325,000 \+ 325,000 sats\) and 200,000 sats paid to the miner at once/);
    // Period 1 settles while periods 2-4 are live, and so on.
    expect(r.out).toMatch(/coordinator +period 1: CET [0-9a-f]{64} broadcast; 3 later period\(s\) still live/);
    expect(r.out).toMatch(/coordinator +period 3: CET [0-9a-f]{64} broadcast; 1 later period\(s\) still live/);
    const rows = [...r.out.matchAll(/^ +(\d) +\[\d+, \d+\) +(\d+)% +(\d+) bps +([\d,]+) \/ ([\d,]+) +([\d,]+) \/ ([\d,]+) +(ok|MISMATCH)$/gm)];
    expect(rows.map((m) => m[1])).toEqual(['1', '2', '3', '4']);
    for (const m of rows) expect(m[8]).toBe('ok');
    // Full delivery: the miner gets the period's whole DLC; none: the buyer gets it back.
    expect(rows.map((m) => [m[4], m[6]])).toEqual([['325,000', '0'], ['325,000', '0'], ['0', '325,000'], ['0', '325,000']]);
    expect(rows.slice(2).map((m) => m[3])).toEqual(['0', '0']);
    expect(r.out).toContain("OK: every period's payouts on chain equal its payout curve at its attested outcome");
  }, 300_000);

  it('--transfer: B1 sells its position mid-window to B2, the miner\'s agent consents; the CET pays B2, B1 got the price, the miner is paid the curve', async () => {
    world ??= await startWorld({ oracles: 3 });
    const r = await demo(world.stack.layout.dir, ['--transfer', '--transfer-price', '150000']);
    expect(r.code, `${r.out}\n${r.err}`).toBe(0);
    expect(r.out).toMatch(/B1 +\$ hashdlc position sell [0-9a-f]{12}… --price 150000 +→ position [0-9a-f]{32} listed/);
    expect(r.out).toMatch(/B2 +\$ hashdlc position buy [0-9a-f]{32} --max-price 150000 /);
    // The miner typed nothing: its agent consented, once.
    expect(r.out).not.toMatch(/\$ hashdlc position consent/);
    expect(r.out.match(/miner agent consent [0-9a-f]{12}… → state taken/g)).toHaveLength(1);
    expect(r.out).toMatch(/B1 +\$ hashdlc position release [0-9a-f]{32} +→ the transfer pays 150,000 sats/);
    expect(r.out).toMatch(/B2 +\$ hashdlc position fund [0-9a-f]{32} +→ .* transfer [0-9a-f]{64} broadcast/);
    expect(r.out).not.toContain('FAILED');
    expect(r.out).not.toContain('MISMATCH');
    // The three facts, each checked on chain by the demo.
    expect(r.out).toMatch(/B2 paid by the CET: [\d,]+ sats to B2's payout script \(CET [0-9a-f]{64} spends transfer [0-9a-f]{64}\)/);
    expect(r.out).toMatch(/B1 got P: 150,000 sats in transfer [0-9a-f]{64}, confirmed, to B1's listing address/);
    expect(r.out).toMatch(/miner's payout = curve: [\d,]+ sats at outcome 6000 bps, the old contract's/);
    expect(r.out).toContain("OK: the CET paid the new buyer, the old buyer received the price on chain, and the miner's payout equals the curve");
  }, 300_000);

  it('starts its own stack when none runs, settles the default 98% sale with sign and fund typed (--no-agents), and stops it', async () => {
    const dataDir = join(tmp, 'own');
    const r = await demo(dataDir, ['--node-url', nodeUrl(), '--oracle-port', '0', '--coordinator-port', '0', '--no-agents']);
    expect(r.code, `${r.out}\n${r.err}`).toBe(0);
    expect(r.out).toContain('no stack runs on');
    expect(r.out).toMatch(/miner +\$ hashdlc sign [0-9a-f]{12}…/);
    expect(r.out).toMatch(/buyer +\$ hashdlc fund [0-9a-f]{12}… {2}→ funding tx [0-9a-f]{64} broadcast by the coordinator/);
    expect(r.out).not.toContain(' agent ');
    expect(r.out).toMatch(/oracle +http:\/\/127\.0\.0\.1:\d+ attested 9800 bps/);
    expect(r.out).toMatch(/miner \(offerer\) +1,300,000 +1,300,000/);
    expect(r.out).toContain('OK: the payouts on chain equal the payout curve at the attested outcome');
    expect(r.out).toContain("the demo's stack is stopped");
    // Its three oracles (the default) and coordinator processes are gone, and so is its state file.
    expect(r.out).toMatch(/3 oracles http:\/\/127\.0\.0\.1:\d+, http:\/\/127\.0\.0\.1:\d+, http:\/\/127\.0\.0\.1:\d+/);
    expect(r.pids.length).toBeGreaterThanOrEqual(5);
    expect(r.pids.filter(alive)).toEqual([]);
    expect(existsSync(join(dataDir, 'stack.json'))).toBe(false);
  }, 120_000);
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
  // After the demos that use the stack: the last case kills one of its oracles.
  let w: World;
  beforeAll(async () => {
    w = world ??= await startWorld({ oracles: 3 });
  }, 180_000);

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
