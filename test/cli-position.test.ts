/**
 * `hashdlc position ...` and `hashdlc positions` (issue 14) as real processes
 * (node bin/hashdlc.js): the `--help` of every command, and usage errors
 * (exit 2 naming the problem) before any wallet, node or service is touched.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../src/cli/args.js';
import { POSITION_SPECS, POSITIONS_SPEC, positionCommand, positionsCommand } from '../src/cli/position.js';

const BIN = fileURLToPath(new URL('../bin/hashdlc.js', import.meta.url));

function env(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HASHDLC_')) e[k] = v;
  // A wallet directory that does not exist: a command that got past its usage checks would fail differently.
  return { ...e, HASHDLC_WALLET_DIR: '/nonexistent/hashdlc-cli-position' };
}

function hashdlc(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: env(), timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr });
    });
  });
}

const HELP: [string[], RegExp][] = [
  [['position', '--help'], /sell <contract-id> --price SATS[\s\S]*buy <position-id>[\s\S]*consent[\s\S]*release[\s\S]*fund[\s\S]*status[\s\S]*cancel/],
  [['position', 'sell', '--help'], /usage: hashdlc position sell <contract-id>[\s\S]*confirmed and unspent on your node[\s\S]*--price SATS[\s\S]*--address ADDR/],
  [['position', 'buy', '--help'], /usage: hashdlc position buy <position-id>[\s\S]*your own[\s\S]*--max-price SATS[\s\S]*--fee-rate SAT_PER_VB/],
  [['position', 'consent', '--help'], /usage: hashdlc position consent <position-id>[\s\S]*transfer-mismatch:<field>/],
  [['position', 'release', '--help'], /usage: hashdlc position release <position-id>[\s\S]*transfer-price-missing/],
  [['position', 'fund', '--help'], /usage: hashdlc position fund <position-id>[\s\S]*--psbt-out FILE[\s\S]*--psbt-in FILE/],
  [['position', 'status', '--help'], /usage: hashdlc position status <position-id>/],
  [['position', 'cancel', '--help'], /usage: hashdlc position cancel <position-id>[\s\S]*Refused after broadcast/],
  [['positions', '--help'], /usage: hashdlc positions[\s\S]*--state S[\s\S]*listed \| taken/],
  [['--help'], /position sell\|buy\|consent\|release\|fund\|status\|cancel[\s\S]*positions \[--state S\]/],
];

describe('--help', () => {
  it.concurrent.each(HELP)('hashdlc %j', async (args, expected) => {
    const r = await hashdlc(args);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(expected);
  });
});

const USAGE: [string[], RegExp][] = [
  [['position'], /^missing position command/],
  [['position', 'swap', 'x'], /^unknown position command 'swap'/],
  [['position', 'sell', 'abcd1234'], /^'hashdlc position sell' needs --price/],
  [['position', 'sell', 'abcd1234', '--price', '1.5'], /^--price must be a non-negative integer, got '1.5'/],
  [['position', 'sell', '--price', '100'], /^'hashdlc position sell' needs <contract-id>/],
  [['position', 'buy', 'ab', '--max-price', 'lots'], /^--max-price must be a non-negative integer, got 'lots'/],
  [['position', 'fund', 'ab', '--psbt-out', 'a', '--psbt-in', 'b'], /^--psbt-out and --psbt-in are two runs/],
  [['position', 'consent', 'ab', 'cd'], /^'hashdlc position consent': unexpected argument 'cd'/],
  [['positions', '--state', 'sold'], /^--state must be one of listed, taken, broadcast, transferred, failed, cancelled, expired/],
  [['positions', '--bogus'], /^Unknown option '--bogus'/],
];

describe('usage errors: USAGE (exit 2) before any wallet, node or service is opened', () => {
  it.each(USAGE)('hashdlc %j', async (args, expected) => {
    const [group, ...rest] = args;
    const run = group === 'positions' ? positionsCommand(rest) : positionCommand(rest);
    await expect(run).rejects.toMatchObject({ code: 'USAGE', message: expect.stringMatching(expected) });
  });

  it('as a process: exit 2 and the line on stderr', async () => {
    const r = await hashdlc(['position', 'sell', 'abcd1234']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("hashdlc: USAGE: 'hashdlc position sell' needs --price (see --help)\n");
  });
});

describe('the option declarations', () => {
  it('every position command takes one id; sell reads --price and --address, fund the PSBT files', () => {
    for (const [name, spec] of Object.entries(POSITION_SPECS)) {
      expect(spec.name).toBe(`position ${name}`);
      expect(parseCommand(spec, ['ab'.repeat(16)]).positionals).toEqual(['ab'.repeat(16)]);
    }
    expect(parseCommand(POSITION_SPECS.sell!, ['c', '--price', '5', '--address', 'bcrt1q']).values).toMatchObject({ price: '5', address: 'bcrt1q' });
    expect(parseCommand(POSITION_SPECS.fund!, ['p', '--psbt-in', 'f']).values).toMatchObject({ 'psbt-in': 'f' });
    expect(parseCommand(POSITIONS_SPEC, ['--state', 'taken', '--json']).values).toMatchObject({ state: 'taken', json: true });
  });
});
