/**
 * `hashdlc` on a strip after funding (issue 12) as real processes (node
 * bin/hashdlc.js) over a wallet holding a 3-period strip and a single
 * contract, without any service: `status` lists the strip's periods under
 * one strip line; `status <period-id> --local --json` gives the strip with a
 * `periods` array; `--period` out of range and `close --remaining` on a
 * single contract are usage errors (exit 2) naming the rule.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Wallet, type ContractRecord, type LocalState } from '../src/wallet/index.js';

const BIN = fileURLToPath(new URL('../bin/hashdlc.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'hashdlc-cli-strip-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const STRIP = '11'.repeat(32);
const IDS = [STRIP, '22'.repeat(32), '33'.repeat(32)];
const SINGLE = '44'.repeat(32);
const dir = join(tmp, 'wallet');

function record(id: string, state: LocalState, index?: number): ContractRecord {
  return {
    version: 1, id, role: 'offer', network: 'regtest', keyIndex: 0, state, history: [{ state, at: '2026-01-01T00:00:00.000Z' }],
    hashProfile: 'sha256', terms: { template: 'hashpower-sale', window: { start: 10 + 2 * (index ?? 0), end: 12 + 2 * (index ?? 0) } },
    offer: 'aa', reservedOutpoints: [],
    ...(index === undefined ? {} : {
      strip: {
        id: STRIP,
        terms: { template: 'hashpower-sale', periods: 3 },
        batch: { index, contracts: [0, 1, 2].map((i) => ({ fundOutputSerialId: String(100 + i), offerCollateral: '1000', acceptCollateral: '2000' })) },
      },
    }),
  };
}

beforeAll(() => {
  Wallet.init(dir, 'regtest');
  const w = Wallet.open(dir);
  w.contracts.save(record(SINGLE, 'confirmed'));
  (['settled', 'refunded', 'confirmed'] as const).forEach((s, i) => w.contracts.save(record(IDS[i]!, s, i)));
});

function hashdlc(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HASHDLC_')) env[k] = v;
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args, '--wallet-dir', dir, '--network', 'regtest'], { env, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr });
    });
  });
}

describe('hashdlc on a strip', () => {
  it('status lists the periods under one strip line', async () => {
    const r = await hashdlc(['status']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const at = lines.findIndex((l) => l.startsWith(`${STRIP}  offerer   strip of 3 periods`));
    expect(at).toBeGreaterThanOrEqual(0);
    expect(lines.slice(at + 1, at + 4).map((l) => l.trim().split(/\s+/).slice(0, 4))).toEqual([
      ['period', '1', IDS[0], 'settled'],
      ['period', '2', IDS[1], 'refunded'],
      ['period', '3', IDS[2], 'confirmed'],
    ]);
    expect(lines.some((l) => l.startsWith(`${SINGLE}  offerer   confirmed`))).toBe(true);
  });

  it('status <period-id> --local --json: the strip, a periods array', async () => {
    const r = await hashdlc(['status', IDS[2]!, '--local', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { id: string; periods: { period: number; id: string; state: string; window: unknown }[] };
    expect(j.id).toBe(STRIP);
    expect(j.periods.map((x) => [x.period, x.id, x.state])).toEqual([[1, IDS[0], 'settled'], [2, IDS[1], 'refunded'], [3, IDS[2], 'confirmed']]);
    expect(j.periods[1]!.window).toEqual({ start: 12, end: 14 });
  });

  it.each([
    [['settle', STRIP, '--period', '4'], /USAGE: --period must be 1 to 3/],
    [['refund', SINGLE, '--period', '1'], /USAGE: contract 4{2}4* is not a strip/],
    [['close', SINGLE, '--remaining', '--offer-payout', '1'], /USAGE: contract 4+ is not a strip: close it without --remaining/],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const r = await hashdlc(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
