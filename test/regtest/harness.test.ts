// The harness starts nodes on free ports with data in a temporary directory,
// stops them by PID, and leaves no orphan process: not after stop(), not when
// the process that started the node is killed (SIGTERM or SIGKILL). The
// bitcoind path is exercised with a stand-in bitcoind (Bitcoin Core cannot be
// installed here).
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BitcoinRpc } from '../../src/chain/rpc.js';
import { findBitcoind, isProcessAlive, startNode } from '../../regtest/node.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const HOLD_NODE = fileURLToPath(new URL('./fixtures/hold-node.ts', import.meta.url));
const FAKE_BITCOIND = fileURLToPath(new URL('./fixtures/fake-bitcoind.ts', import.meta.url));
const TSX = join(REPO, 'node_modules/tsx/dist/loader.mjs');

async function waitUntil(cond: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

const tmp = mkdtempSync(join(tmpdir(), 'hashdlc-harness-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('startNode / stop', () => {
  it('starts an embedded node on a free port with a temp dir, and stop() ends its PID and removes the dir', async () => {
    const node = await startNode({ backend: 'bcoin' });
    expect(node.kind).toBe('bcoin');
    expect(node.rpc.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(existsSync(node.datadir)).toBe(true);
    const rpc = new BitcoinRpc(node.rpc);
    expect(await rpc.getBlockCount()).toBe(0);
    // Wrong credentials are refused.
    await expect(new BitcoinRpc({ ...node.rpc, password: 'wrong' }).getBlockCount()).rejects.toMatchObject({
      code: 'CHAIN_AUTH',
    });
    expect(isProcessAlive(node.pid)).toBe(true);
    await node.stop();
    expect(isProcessAlive(node.pid)).toBe(false);
    expect(existsSync(node.datadir)).toBe(false);
    await expect(rpc.getBlockCount()).rejects.toMatchObject({ code: 'CHAIN_CONNECTION' });
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`leaves no node process when its parent gets ${signal}`, async () => {
      const parent = spawn(process.execPath, ['--import', TSX, HOLD_NODE], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
      const pids = await new Promise<{ parent: number; node: number; datadir: string }>((resolve, reject) => {
        let out = '';
        parent.stdout!.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /PIDS (\{.*\})\n/.exec(out);
          if (m) resolve(JSON.parse(m[1]!) as { parent: number; node: number; datadir: string });
        });
        parent.once('exit', (code) => reject(new Error(`fixture exited early (${code})`)));
      });
      expect(isProcessAlive(pids.node)).toBe(true);
      process.kill(pids.parent, signal);
      expect(await waitUntil(() => !isProcessAlive(pids.parent))).toBe(true);
      expect(await waitUntil(() => !isProcessAlive(pids.node))).toBe(true);
      expect(await waitUntil(() => !existsSync(pids.datadir))).toBe(true);
    });
  }
});

describe('bitcoind path', () => {
  const wrapper = join(tmp, 'bitcoind');
  writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" --import "${TSX}" "${FAKE_BITCOIND}" "$@"\n`);
  chmodSync(wrapper, 0o755);

  it('finds bitcoind through HASHDLC_BITCOIND or PATH', () => {
    expect(findBitcoind({ HASHDLC_BITCOIND: wrapper, PATH: '' })).toBe(wrapper);
    expect(findBitcoind({ PATH: `/nonexistent:${tmp}` })).toBe(wrapper);
    expect(findBitcoind({ PATH: '/nonexistent' })).toBeUndefined();
    expect(() => findBitcoind({ HASHDLC_BITCOIND: join(tmp, 'nope') })).toThrow(/not an executable/);
  });

  it('starts bitcoind with -regtest, a temp datadir, free ports and RPC auth, and stops it by PID', async () => {
    const node = await startNode({ env: { HASHDLC_BITCOIND: wrapper } });
    expect(node.kind).toBe('bitcoind');
    expect(existsSync(join(node.datadir, 'regtest'))).toBe(true);
    const rpc = new BitcoinRpc(node.rpc);
    expect((await rpc.getBlockchainInfo()).chain).toBe('regtest');
    await node.stop();
    expect(isProcessAlive(node.pid)).toBe(false);
    expect(existsSync(node.datadir)).toBe(false);
  });
});
