/**
 * One process per wallet directory (issue 9, Low): while a `hashdlc` process
 * uses a wallet (a real child process, stuck on a coordinator that never
 * answers), a second process is refused with WALLET_LOCKED naming the PID and
 * the lock file, and so is a read-modify-write of the wallet state from this
 * process; once the holder is killed (no chance to clean up), its stale lock
 * is taken over. Plus the in-process behaviour (re-entrant, released).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { WALLET_LOCK_FILE, Wallet, holdsWalletLock, withWalletLock } from '../src/wallet/index.js';

const BIN = fileURLToPath(new URL('../bin/hashdlc.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'hashdlc-lock-'));
const children: ChildProcess[] = [];
let server: Server | undefined;
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

function run(args: string[], env: Record<string, string>): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HASHDLC_')) clean[k] = v;
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...clean, ...env } });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

async function until(fn: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the wallet lock between processes', () => {
  it('a second hashdlc process is refused while one runs; a killed holder\'s lock is taken over', async () => {
    const dir = join(tmp, 'w');
    Wallet.init(dir, 'regtest');
    const lockFile = join(dir, WALLET_LOCK_FILE);
    // A coordinator that takes the request and never answers: `accept` waits on it, holding the wallet.
    server = createServer(() => undefined);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const env = { HASHDLC_WALLET_DIR: dir, HASHDLC_COORDINATOR: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, HASHDLC_ORACLE: 'http://127.0.0.1:9' };
    const holder = run(['accept', 'ab'.repeat(32)], env);
    await until(() => existsSync(lockFile) && readFileSync(lockFile, 'utf8').trim() === String(holder.child.pid));

    const second = await run(['wallet', 'address', '--json'], env).done;
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`WALLET_LOCKED: the wallet in ${dir} is in use by process ${holder.child.pid}: lock file ${lockFile}`);
    // This process too: handing out an address is a read-modify-write of the state, under the lock.
    const before = Wallet.open(dir).state();
    expect(() => Wallet.open(dir).newReceiveAddress()).toThrow(expect.objectContaining({ code: 'WALLET_LOCKED' }));
    expect(() => Wallet.open(dir, { lock: true })).toThrow(expect.objectContaining({ code: 'WALLET_LOCKED' }));
    expect(Wallet.open(dir).state()).toEqual(before);

    // Killed: no exit handler runs, the lock file stays with a dead PID.
    holder.child.kill('SIGKILL');
    await holder.done;
    expect(readFileSync(lockFile, 'utf8').trim()).toBe(String(holder.child.pid));
    const third = await run(['wallet', 'address', '--json'], env).done;
    expect(third.stderr).toBe('');
    expect(third.code).toBe(0);
    expect(JSON.parse(third.stdout).address).toMatch(/^bcrt1q/);
    // Released at the end of the command.
    expect(existsSync(lockFile)).toBe(false);
    expect(Wallet.open(dir).state().nextReceive).toBe(before.nextReceive + 1);
  });
});

describe('the wallet lock in one process', () => {
  it('is re-entrant, released with the last holder, and a stale lock of a dead PID is taken over', () => {
    const dir = join(tmp, 'in-process');
    Wallet.init(dir, 'regtest');
    const lockFile = join(dir, WALLET_LOCK_FILE);
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(lockFile, `${dead}\n`);
    const w = Wallet.open(dir, { lock: true });
    expect(readFileSync(lockFile, 'utf8').trim()).toBe(String(process.pid));
    // A state read-modify-write inside a locked command does not block on its own lock.
    withWalletLock(dir, () => w.newReceiveAddress());
    expect(holdsWalletLock(dir)).toBe(true);
    w.release();
    w.release();
    expect(holdsWalletLock(dir)).toBe(false);
    expect(existsSync(lockFile)).toBe(false);
  });
});
