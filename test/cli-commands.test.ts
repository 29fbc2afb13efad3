/**
 * The `hashdlc` participant commands as real processes (node bin/hashdlc.js):
 * `--help` of every command, argument and configuration errors (exit 2 with
 * the reason, before anything is contacted), wallet init/address/restore,
 * the seed file's permissions, a coordinator that cannot be reached.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { RECEIVE, WALLET_NETWORKS, WalletKeys } from '../src/wallet/index.js';
import { helpText, parseCommand, type CommandSpec } from '../src/cli/args.js';
import { loadConfig } from '../src/cli/config.js';
import { ACCEPT_SPEC, FUND_SPEC, SIGN_SPEC } from '../src/cli/negotiate.js';
import { OFFERS_SPEC, OFFER_SPECS, offerShowLines } from '../src/cli/offer.js';
import { CANCEL_SPEC, CLOSE_SPEC, REFUND_SPEC, SETTLE_SPEC, STATUS_SPEC } from '../src/cli/settle.js';
import { WALLET_COMMANDS } from '../src/cli/wallet.js';
import { TEST_MNEMONIC } from './helpers/mnemonic.js';

const BIN = fileURLToPath(new URL('../bin/hashdlc.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'hashdlc-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A clean environment: no HASHDLC_* from the developer's shell. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HASHDLC_')) e[k] = v;
  return { ...e, ...extra };
}

function hashdlc(args: string[], extra: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: env(extra), timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

const HELP: [string[], RegExp][] = [
  [['--help'], /participant:[\s\S]*offer <template>[\s\S]*settle <contract-id>[\s\S]*oracle verify/],
  [['wallet', 'init', '--help'], /usage: hashdlc wallet init[\s\S]*mode 0600[\s\S]*--mnemonic-file FILE/],
  [['offer', '--help'], /templates:[\s\S]*hashpower[\s\S]*hashprice-forward[\s\S]*hashprice-call[\s\S]*custom/],
  [['offer', 'hashpower', '--help'], /usage: hashdlc offer hashpower[\s\S]*--delivery-address ADDR[\s\S]*--tolerance BPS/],
  [['accept', '--help'], /usage: hashdlc accept <offer-id>[\s\S]*--dry-run/],
  [['sign', '--help'], /usage: hashdlc sign <contract-id>[\s\S]*--psbt-out FILE[\s\S]*--psbt-in FILE/],
  [['fund', '--help'], /usage: hashdlc fund <contract-id>[\s\S]*--psbt-out FILE[\s\S]*--broadcast/],
  [['settle', '--help'], /usage: hashdlc settle <contract-id>[\s\S]*no coordinator/i],
  [['close', '--help'], /usage: hashdlc close <contract-id>[\s\S]*--offer-payout SATS/],
  [['oracle', 'verify', '--help'], /usage:[\s\S]*oracle verify <contract-id>[\s\S]*oracle verify <oracle-url> <event-id>/],
];

describe('--help', () => {
  it.concurrent.each(HELP)('hashdlc %j', async (args, expected) => {
    const r = await hashdlc(args);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(expected);
  });
});

const wdir = join(tmp, 'args-wallet');
const ERRORS: [string, string[], Record<string, string>, number, RegExp][] = [
  ['no command', [], {}, 2, /^$/],
  ['an unknown command', ['frobnicate'], {}, 2, /USAGE: unknown command 'frobnicate'/],
  ['an unknown option', ['accept', 'ab'.repeat(32), '--bogus', 'x'], {}, 2, /USAGE: Unknown option '--bogus'[\s\S]*hashdlc accept --help/],
  ['a missing argument', ['accept'], {}, 2, /USAGE: 'hashdlc accept' needs <offer-id>/],
  ['a malformed offer id', ['accept', 'xyz', '--wallet-dir', wdir], {}, 2, /USAGE: offer id must be 64 hex characters/],
  ['a non-integer amount', ['offer', 'hashpower', '--collateral', '1.5'], {}, 2, /USAGE: --collateral must be a non-negative integer, got '1.5'/],
  ['a missing required option', ['offer', 'hashpower', '--collateral', '1000'], {}, 2, /USAGE: 'hashdlc offer hashpower' needs --hashrate/],
  ['close without a split', ['close', 'ab'.repeat(32)], {}, 2, /USAGE: 'hashdlc close' needs --offer-payout/],
  ['sign with both PSBT options', ['sign', 'ab', '--psbt-out', 'a', '--psbt-in', 'b'], {}, 2, /USAGE: --psbt-out and --psbt-in are two separate runs/],
  ['an unknown network', ['wallet', 'init', '--network', 'litecoin', '--wallet-dir', join(tmp, 'ltc')], {}, 2, /CONFIG: --network: /],
  ['a coordinator URL that is not a URL (env)', ['offers'], { HASHDLC_COORDINATOR: 'not a url' }, 2, /CONFIG: --coordinator: /],
  ['a bad oracle key pin', ['accept', 'ab'.repeat(32), '--oracle-pubkey', 'abc'], {}, 2, /CONFIG: --oracle-pubkey: 32-byte x-only key/],
  ['a coordinator that cannot be reached', ['offers', '--coordinator', 'http://127.0.0.1:9'], {}, 1, /UNREACHABLE: coordinator at http:\/\/127\.0\.0\.1:9 is unreachable/],
  ['a wallet that does not exist', ['wallet', 'address', '--wallet-dir', join(tmp, 'none')], {}, 1, /WALLET_NOT_FOUND: no wallet at .*hashdlc wallet init/],
];

describe('every command\'s help (in-process)', () => {
  const specs: CommandSpec[] = [
    ...Object.values(WALLET_COMMANDS), ...Object.values(OFFER_SPECS), OFFERS_SPEC,
    ACCEPT_SPEC, SIGN_SPEC, FUND_SPEC, STATUS_SPEC, SETTLE_SPEC, REFUND_SPEC, CLOSE_SPEC, CANCEL_SPEC,
  ];
  it.each(specs.map((s) => [s.name, s] as const))('%s: usage line, summary and every option', (_n, spec) => {
    const text = helpText(spec);
    expect(text.startsWith(`usage: hashdlc ${spec.name}`)).toBe(true);
    expect(text).toContain(spec.summary);
    for (const [name, o] of Object.entries(spec.options)) {
      expect(text).toMatch(new RegExp(`--${name}${o.type === 'string' ? ' [A-Z_:-]+' : ''} +.*${o.env ? `\\[env ${o.env}\\]` : ''}`));
    }
  });

  it('in-process parsing: unknown options, missing and extra arguments', () => {
    expect(() => parseCommand(SETTLE_SPEC, ['a', 'b'])).toThrow(/unexpected argument 'b'/);
    expect(() => parseCommand(STATUS_SPEC, ['--frob'])).toThrow(/Unknown option '--frob'/);
    expect(() => parseCommand(REFUND_SPEC, [])).toThrow(/needs <contract-id>/);
    expect(parseCommand(REFUND_SPEC, ['--help']).help).toBe(true);
  });

  it('configuration: a flag wins over its variable; RPC credentials come from the URL unless given', () => {
    const c = loadConfig({ coordinator: 'http://flag:1/' }, { HASHDLC_COORDINATOR: 'http://env:2', HASHDLC_RPC_URL: 'http://u%40x:p@127.0.0.1:18443/', HASHDLC_RPC_PASSWORD: 'other' });
    expect(c.coordinator).toBe('http://flag:1');
    expect(c.rpc).toEqual({ url: 'http://127.0.0.1:18443/', username: 'u@x', password: 'other' });
    expect(c.network).toBe('regtest');
    expect(c.networkGiven).toBe(false);
    expect(() => loadConfig({}, { HASHDLC_FEE_RATE: '0' })).toThrow(/--fee-rate/);
    expect(() => loadConfig({}, { HASHDLC_COORDINATOR: 'ftp://x' })).toThrow(/--coordinator: an http\(s\) URL/);
  });
});

describe('argument and configuration errors', () => {
  it.concurrent.each(ERRORS)('%s', async (_name, args, extra, code, expected) => {
    const r = await hashdlc(args, extra);
    expect(r.code).toBe(code);
    if (args.length === 0) expect(r.stdout).toMatch(/usage: hashdlc/);
    else expect(r.stderr).toMatch(expected);
    expect(r.stdout.includes('"mnemonic"')).toBe(false);
  });
});

describe('wallet commands', () => {
  it.concurrent('init creates a 0600 seed file, address hands out BIP84 addresses, a second init is refused', async () => {
    const dir = join(tmp, 'w-init');
    const init = await hashdlc(['wallet', 'init', '--json'], { HASHDLC_WALLET_DIR: dir });
    expect(init.code).toBe(0);
    const out = JSON.parse(init.stdout) as { mnemonic: string; firstAddress: string; network: string };
    expect(out.mnemonic.split(' ')).toHaveLength(24);
    expect(out.network).toBe('regtest');
    expect(statSync(join(dir, 'seed.json')).mode & 0o777).toBe(0o600);
    const keys = WalletKeys.fromMnemonic(out.mnemonic, WALLET_NETWORKS.regtest);
    const a0 = await hashdlc(['wallet', 'address', '--wallet-dir', dir]);
    const c0 = await hashdlc(['wallet', 'address', '--change', '--json', '--wallet-dir', dir]);
    const a1 = await hashdlc(['wallet', 'address', '--wallet-dir', dir]);
    expect(a0.stdout.trim()).toBe(keys.address(RECEIVE, 0).address);
    expect(JSON.parse(c0.stdout)).toEqual({ address: keys.address(1, 0).address, path: "m/84'/1'/0'/1/0" });
    expect(a1.stdout.trim()).toBe(keys.address(RECEIVE, 1).address);
    const again = await hashdlc(['wallet', 'init', '--wallet-dir', dir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/WALLET_EXISTS: a seed file already exists/);
  });

  it.concurrent('restores from a mnemonic file (the BIP84 vector mnemonic on mainnet gives the published address)', async () => {
    const file = join(tmp, 'words.txt');
    writeFileSync(file, `${TEST_MNEMONIC}\n`, { mode: 0o600 });
    const r = await hashdlc(['wallet', 'init', '--network', 'mainnet', '--mnemonic-file', file, '--wallet-dir', join(tmp, 'w-main'), '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).firstAddress).toBe('bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu');
    // The wallet remembers its network: naming another one is refused.
    const other = await hashdlc(['wallet', 'address', '--network', 'regtest', '--wallet-dir', join(tmp, 'w-main')]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/WALLET_NETWORK_MISMATCH: .* is a mainnet wallet, not regtest/);
  });

  it.concurrent('refuses a seed file others can read, and says how to fix it', async () => {
    const dir = join(tmp, 'w-perm');
    expect((await hashdlc(['wallet', 'init', '--wallet-dir', dir])).code).toBe(0);
    chmodSync(join(dir, 'seed.json'), 0o644);
    const r = await hashdlc(['wallet', 'address', '--wallet-dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/WALLET_PERMISSIONS: seed file .* has mode 0644.*chmod 600/);
  });

  it.concurrent('balance needs a node; status lists no contracts in a new wallet', async () => {
    const dir = join(tmp, 'w-status');
    await hashdlc(['wallet', 'init', '--wallet-dir', dir]);
    const b = await hashdlc(['wallet', 'balance', '--wallet-dir', dir]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/CONFIG: no Bitcoin node: pass --rpc-url URL or set HASHDLC_RPC_URL/);
    const s = await hashdlc(['status', '--wallet-dir', dir, '--json']);
    expect(s.code).toBe(0);
    expect(JSON.parse(s.stdout)).toEqual([]);
  });
});

describe('offers show <id>', () => {
  const EVENT = 'hashprice/120-130/simdiff=1/reward=subsidy+fees-capped-4x-median-v1/00';
  const KEYS = ['aa', 'bb', 'cc'].map((b) => b.repeat(32));
  const terms = { template: 'hashprice-forward', hashrateThs: '100' } as never;

  it('a 2-of-3 offer: its one event id once, then the oracle set as offer and accept print it', () => {
    const oracles = KEYS.map((publicKey, i) => ({ url: `http://127.0.0.1:809${i}`, publicKey, eventId: EVENT }));
    const lines = offerShowLines({ id: 'ab'.repeat(32), state: 'offered', terms: {}, cets: 17, eventIds: [EVENT, EVENT, EVENT], oracles, oracleThreshold: 2 }, terms);
    expect(lines.slice(-5)).toEqual([
      `  event: ${EVENT}`,
      '  oracles: 2 of 3 must attest the same outcome',
      `    oracle 1: http://127.0.0.1:8090 (key ${KEYS[0]!})`,
      `    oracle 2: http://127.0.0.1:8091 (key ${KEYS[1]!})`,
      `    oracle 3: http://127.0.0.1:8092 (key ${KEYS[2]!})`,
    ]);
    expect(lines.filter((l) => l.includes(EVENT))).toHaveLength(1);
  });

  it('a coordinator from before oracle sets (no oracles in the view): the event ids as before', () => {
    const lines = offerShowLines({ id: 'ab'.repeat(32), state: 'offered', terms: {}, cets: 17, eventIds: [EVENT] }, terms);
    expect(lines.at(-1)).toBe(`  events: ${EVENT}`);
    expect(lines).toContain('  hashrateThs: "100"');
  });

  it('a sale stating its pool\'s share (issue 16): the pool-luck lines after the event', () => {
    const sale = {
      template: 'hashpower-sale', hashrateThs: '100', window: { start: 500, end: 600 }, deliveryAddress: 'bcrt1qdelivery', upfront: '0', escrow: '300000',
      minerCollateral: '200000', toleranceBps: 9500, fundingDeadline: 498, poolShareBps: 1000, payoutScheme: 'per-block-payout',
    } as const;
    const lines = offerShowLines({ id: 'ab'.repeat(32), state: 'offered', terms: {}, cets: 17, eventIds: [EVENT] }, sale);
    expect(lines).toContain('  poolShareBps: 1000');
    expect(lines.at(-1)).toBe('    [500, 600): expected pool blocks 10; chance a fully delivering miner measures under the 95.00% tolerance: 45.8% (9 pool blocks or fewer)');
    expect(lines.at(-2)).toMatch(/^ {2}pool luck: the pool holds 10\.00% of the network \(per-block-payout\)/);
  });
});

describe('oracle verify <oracle-url> <event-id>: the node', () => {
  // Port 9 (discard) answers nothing: the point is which node and oracle it goes to, not an answer.
  it('none given: a usage error naming the three ways to give one', async () => {
    const r = await hashdlc(['oracle', 'verify', 'http://127.0.0.1:9', 'some-event']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('need <oracle-url> <event-id> and a node (--rpc-url, BITCOIN_RPC_URL or HASHDLC_RPC_URL)');
  });

  it('HASHDLC_RPC_URL (what npm start exports) is taken: the oracle is asked, no usage error', async () => {
    const r = await hashdlc(['oracle', 'verify', 'http://127.0.0.1:9', 'some-event'], { HASHDLC_RPC_URL: 'http://u:p@127.0.0.1:9/' });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('need <oracle-url>');
    expect(r.stdout).toContain('FAIL fetch');
    expect(r.stdout).toContain('attestation of some-event does NOT hold');
  });
});
