/**
 * `hashdlc agent` as a real process (node bin/hashdlc.js): its help, a bad
 * policy file (exit 2 before the wallet is touched), the wallet lock held by
 * another process (WALLET_LOCKED), `--once` without a node (one failed
 * observation line, exit 1, `--json` too), SIGTERM ending a running agent
 * with exit 0 and the lock released. And the observer's pure part: facts
 * from a record and what was fetched, the funding txid from a funding PSBT.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Psbt, Transaction } from 'bitcoinjs-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { factsOf, fundingTxidOf } from '../src/agent/observe.js';
import type { LoadedContract } from '../src/participant/contract.js';
import { WALLET_LOCK_FILE, Wallet, acquireWalletLock, releaseWalletLock, type ContractRecord } from '../src/wallet/index.js';
import { TEST_MNEMONIC } from './helpers/mnemonic.js';

const BIN = fileURLToPath(new URL('../bin/hashdlc.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'hashdlc-agent-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function env(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HASHDLC_')) e[k] = v;
  return e;
}

function hashdlc(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: env(), timeout: 80_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr });
    });
  });
}

function walletDir(name: string): string {
  const dir = join(tmp, name);
  Wallet.init(dir, 'regtest', TEST_MNEMONIC);
  return dir;
}

// Each test starts node with tsx: slow on a loaded 2-core machine.
describe('hashdlc agent (process)', { timeout: 90_000 }, () => {
  it('--help names the policy flags and --once', async () => {
    const r = await hashdlc(['agent', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/usage: hashdlc agent[\s\S]*--policy FILE[\s\S]*--once[\s\S]*--bump-after BLOCKS/);
  });

  it('is in the command list', async () => {
    const r = await hashdlc(['--help']);
    expect(r.stdout).toMatch(/agent \[--once\] \[--policy FILE\]/);
  });

  it('a policy file that is not JSON: exit 2, CONFIG (policy-json)', async () => {
    const f = join(tmp, 'bad-policy.json');
    writeFileSync(f, 'autoSign = true');
    const r = await hashdlc(['agent', '--once', '--policy', f, '--wallet-dir', join(tmp, 'nowallet')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^hashdlc: CONFIG \(policy-json\): policy file .* is not JSON/);
  });

  it('a bad flag: exit 2, USAGE', async () => {
    const r = await hashdlc(['agent', '--once', '--role', 'miner']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/USAGE: --role must be offer or accept/);
  });

  it('another process holds the wallet: WALLET_LOCKED, nothing journalled', async () => {
    const dir = walletDir('locked');
    acquireWalletLock(dir);
    try {
      const r = await hashdlc(['agent', '--once', '--wallet-dir', dir]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/WALLET_LOCKED: the wallet in .* is in use by/);
      expect(existsSync(join(dir, 'agent.log.jsonl'))).toBe(false);
    } finally {
      releaseWalletLock(dir);
    }
  });

  it('--once without a node: one failed observation line, exit 1; --json prints it as JSON', async () => {
    const dir = walletDir('nonode');
    const r = await hashdlc(['agent', '--once', '--wallet-dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^\S+ - observe FAILED CONFIG: no Bitcoin node/);
    const j = await hashdlc(['agent', '--once', '--json', '--wallet-dir', dir]);
    expect(j.code).toBe(1);
    const line = JSON.parse(j.stdout.trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ id: null, action: 'observe', ok: false, error: { code: 'CONFIG' } });
    expect(existsSync(join(dir, WALLET_LOCK_FILE))).toBe(false);
  });

  it('SIGTERM stops a running agent: exit 0, the lock released', async () => {
    const dir = walletDir('sigterm');
    const child = spawn(process.execPath, [BIN, 'agent', '--wallet-dir', dir, '--interval', '3600'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    // Started once the agent has noted its configuration (after it took the lock).
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`agent did not start: ${stderr}`)), 80_000);
      child.stderr.on('data', () => {
        if (stderr.includes('agent: wallet')) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    expect(existsSync(join(dir, WALLET_LOCK_FILE))).toBe(true);
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
    expect(existsSync(join(dir, WALLET_LOCK_FILE))).toBe(false);
  });
});

describe('observer: facts from what was fetched', () => {
  const id = 'ab'.repeat(32);
  const record = { id, role: 'offer', state: 'signed', accept: undefined } as unknown as ContractRecord;
  const c = { record, offer: { cetLocktime: 300, refundLocktime: 320, feeRatePerVb: 3n }, terms: { fundingDeadline: 250 } } as unknown as Pick<LoadedContract, 'record' | 'offer' | 'terms'>;
  const journal = { bumpedTo: (t: string) => (t === 'cc'.repeat(32) ? 7n : undefined) };

  it('copies locktimes, deadline and fee rate from the contract, and the journal\'s bumps', () => {
    const f = factsOf(c, { tip: 260, coordinator: { reachable: true, state: 'expired' }, funding: null, attested: null, pending: { txid: 'cc'.repeat(32), kind: 'funding', feeRatePerVb: 1n, waitedBlocks: 2 } }, journal);
    expect(f).toEqual({
      id, role: 'offer', state: 'signed', tip: 260, coordinator: { reachable: true, state: 'expired' }, fundingDeadline: 250, cetLocktime: 300, refundLocktime: 320,
      contractFeeRatePerVb: 3n, funding: null, attested: null, pending: { txid: 'cc'.repeat(32), kind: 'funding', feeRatePerVb: 1n, waitedBlocks: 2, bumpedToPerVb: 7n },
    });
  });


  it('the funding txid: stored, else the coordinator\'s, else the funding PSBT\'s unsigned transaction', () => {
    const script = Uint8Array.from([0x00, 0x14, ...new Array<number>(20).fill(7)]);
    const psbt = new Psbt();
    psbt.addInput({ hash: '11'.repeat(32), index: 0 });
    psbt.addOutput({ script, value: 1000n });
    // The same transaction built directly: its id is what the PSBT's unsigned transaction must give.
    const tx = new Transaction();
    tx.version = psbt.version;
    tx.addInput(new Uint8Array(32).fill(0x11), 0);
    tx.addOutput(script, 1000n);
    const txid = tx.getId();
    const r = { ...record, reservedOutpoints: [], fundingPsbt: psbt.toBase64() } as ContractRecord;
    expect(fundingTxidOf(r, undefined)).toBe(txid);
    // A coordinator naming another transaction does not override the one our PSBT is.
    expect(fundingTxidOf(r, { id, state: 'signed', fundingTxid: 'dd'.repeat(32) })).toBe(txid);
    expect(fundingTxidOf({ ...record, reservedOutpoints: [] } as ContractRecord, { id, state: 'signed', fundingTxid: 'dd'.repeat(32) })).toBe('dd'.repeat(32));
    expect(fundingTxidOf({ ...r, fundingTxid: 'ee'.repeat(32) }, undefined)).toBe('ee'.repeat(32));
    expect(fundingTxidOf({ ...record, reservedOutpoints: [] } as ContractRecord, undefined)).toBeUndefined();
  });
});
