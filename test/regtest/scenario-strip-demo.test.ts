/**
 * `npm run demo -- --periods 4 --delivery-schedule 100,100,0,0` as a child
 * process on the suite's regtest node, against a running stack (three
 * oracles, 2 of 3; the agents sign and fund): one funding transaction with
 * four DLC funding outputs and the upfront payment; periods 1-2 fully
 * delivered settle with the miner paid the whole DLC, periods 3-4 with none
 * delivered settle with the buyer made whole, each period settled on its own
 * attestation while the later ones stay live; exit 0 only when every
 * period's payouts equal its curve at its attested outcome.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startWorld, type World } from './scenario-helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let world: World | undefined;

afterAll(async () => {
  await world?.close();
});

async function demo(dataDir: string, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/demo.ts', '--data-dir', dataDir, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { code, out, err };
}

describe('npm run demo -- --periods 4 --delivery-schedule 100,100,0,0', () => {
  it('settles each period on chain on its own attestation, the miner paid for the periods it delivered and the buyer made whole for the others', async () => {
    world = await startWorld({ oracles: 3 });
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
});
