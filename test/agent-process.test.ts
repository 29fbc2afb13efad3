/**
 * src/agent/process.ts: `hashdlc agent --json` started as a child process
 * (no node configured, so every pass logs one failed observation line):
 * its JSON lines collected and awaited, `stop()` (SIGTERM, exit 0, the
 * wallet lock released), `kill()` (SIGKILL: the lock file stays, as after
 * a crash), `waitFor` failing with the agent's last lines when it exits
 * first, and the parent's HASHDLC_* variables not leaking into the child.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startAgentProcess } from '../src/agent/index.js';
import { WALLET_LOCK_FILE, Wallet } from '../src/wallet/index.js';
import { TEST_MNEMONIC } from './helpers/mnemonic.js';

const tmp = mkdtempSync(join(tmpdir(), 'hashdlc-agent-process-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function walletDir(name: string): string {
  const dir = join(tmp, name);
  Wallet.init(dir, 'regtest', TEST_MNEMONIC);
  return dir;
}

// Each test starts node with tsx: slow on a loaded 2-core machine.
describe('AgentProcess', { timeout: 120_000 }, () => {
  it('collects JSON lines, waits for one, stops with SIGTERM (exit 0, lock released)', async () => {
    const dir = walletDir('stop');
    const seen: string[] = [];
    // A node set in the parent's environment must not reach the child (its observation would then be UNREACHABLE).
    const prev = process.env.HASHDLC_RPC_URL;
    process.env.HASHDLC_RPC_URL = 'http://127.0.0.1:9';
    let a;
    try {
      a = startAgentProcess({ walletDir: dir, args: ['--interval', '0.2'], onLine: (l) => seen.push(l.action) });
    } finally {
      if (prev === undefined) delete process.env.HASHDLC_RPC_URL;
      else process.env.HASHDLC_RPC_URL = prev;
    }
    const line = await a.waitFor((l) => l.action === 'observe', 100_000);
    expect(line).toMatchObject({ id: null, ok: false, error: { code: 'CONFIG', message: expect.stringMatching(/no Bitcoin node/) } });
    expect(seen[0]).toBe('observe');
    expect(a.notes.some((n) => n.includes(`agent: wallet ${dir}`))).toBe(true);
    expect(existsSync(join(dir, WALLET_LOCK_FILE))).toBe(true);
    await a.stop();
    expect(a.exit).toEqual({ code: 0, signal: null });
    expect(existsSync(join(dir, WALLET_LOCK_FILE))).toBe(false);
    expect(a.other).toEqual([]);
  });

  it('kill() is a SIGKILL: no cleanup, the lock file stays', async () => {
    const dir = walletDir('kill');
    const a = startAgentProcess({ walletDir: dir, args: ['--interval', '0.2'] });
    await a.waitFor((l) => l.action === 'observe', 100_000);
    await a.kill();
    expect(a.exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(existsSync(join(dir, WALLET_LOCK_FILE))).toBe(true);
  });

  it('waitFor rejects when the agent exits first, naming its last lines', async () => {
    const dir = walletDir('once');
    const a = startAgentProcess({ walletDir: dir, args: ['--once'] });
    await expect(a.waitFor((l) => l.action === 'sign', 100_000)).rejects.toThrow(/agent exited \(1\) before the awaited line; last lines: .*observe/);
  });
});
