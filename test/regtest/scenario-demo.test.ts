/**
 * `npm run demo` as a child process (`node --import tsx src/demo.ts`, what
 * the npm script runs) on the suite's regtest node:
 * - against a running stack, found through the data directory's stack.json
 *   (here the stack runs in the test process), with 60% delivery and its two
 *   agents (`hashdlc agent` child processes): after the offer and the accept
 *   the miner's agent signs and the buyer's agent funds (their action lines
 *   in the output, nothing typed), exit 0, the attested 6000 bps and the
 *   payout check in its output, both agents stopped (exit 0, gone);
 * - with no stack running and `--no-agents`: it starts its own (oracle and
 *   coordinator child processes on the given node), types sign and fund,
 *   runs the whole sale at the default 98% delivery, exits 0, and leaves no
 *   process behind.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { StackState } from '../../src/stack/index.js';
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
      for (const p of [s.pid, s.oracle.pid, s.coordinator.pid, s.node.pid]) if (p !== null) pids.add(p);
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
    world = await startWorld();
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
    expect(r.out).toContain('demo finished in');
    expect(agentPids.filter(alive)).toEqual([]);
    expect(r.out).toMatch(/oracle +attested 6000 bps/);
    expect(r.out).toContain('hashdlc oracle verify: the evidence recomputes to 6000 against the node: HOLDS');
    expect(r.out).toContain('OK: the payouts on chain equal the payout curve at the attested outcome');
    await world.close();
    world = undefined;
  }, 240_000);

  it('starts its own stack when none runs, settles the default 98% sale with sign and fund typed (--no-agents), and stops it', async () => {
    const dataDir = join(tmp, 'own');
    const r = await demo(dataDir, ['--node-url', nodeUrl(), '--oracle-port', '0', '--coordinator-port', '0', '--no-agents']);
    expect(r.code, `${r.out}\n${r.err}`).toBe(0);
    expect(r.out).toContain('no stack runs on');
    expect(r.out).toMatch(/miner +\$ hashdlc sign [0-9a-f]{12}…/);
    expect(r.out).toMatch(/buyer +\$ hashdlc fund [0-9a-f]{12}… {2}→ funding tx [0-9a-f]{64} broadcast by the coordinator/);
    expect(r.out).not.toContain(' agent ');
    expect(r.out).toMatch(/oracle +attested 9800 bps/);
    expect(r.out).toMatch(/miner \(offerer\) +1,300,000 +1,300,000/);
    expect(r.out).toContain('OK: the payouts on chain equal the payout curve at the attested outcome');
    expect(r.out).toContain("the demo's stack is stopped");
    // Its oracle and coordinator processes are gone, and so is its state file.
    expect(r.pids.length).toBeGreaterThanOrEqual(3);
    expect(r.pids.filter(alive)).toEqual([]);
    expect(existsSync(join(dataDir, 'stack.json'))).toBe(false);
  }, 120_000);
});
