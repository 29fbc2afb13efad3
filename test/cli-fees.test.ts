/**
 * `hashdlc wallet send` and `hashdlc bump` without a node: their help, and
 * the usage errors found before anything is opened (exit 2 through
 * describeError). The commands against a node: test/regtest/fees-bump.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { helpText, parseCommand } from '../src/cli/args.js';
import { BUMP_SPEC, bumpCommand } from '../src/cli/bump.js';
import { describeError } from '../src/cli/errors.js';
import { WALLET_COMMANDS, walletCommand } from '../src/cli/wallet.js';

const TXID = 'ab'.repeat(32);

async function exitOf(run: Promise<number>): Promise<{ line: string; exitCode: number }> {
  return run.then(
    (code) => ({ line: '', exitCode: code }),
    (err: unknown) => describeError(err),
  );
}

describe('help', () => {
  it('wallet send: arguments, sweep, fee-rate default, psbt-out', () => {
    const text = helpText(WALLET_COMMANDS.send!);
    expect(text).toMatch(/usage: hashdlc wallet send <address> <sats\|all>/);
    expect(text).toMatch(/reserved by contracts that are not yet funded are never spent/);
    expect(text).toMatch(/--fee-rate SAT_PER_VB/);
    expect(text).toMatch(/--psbt-out FILE/);
  });

  it('bump: CPFP and RBF, the refusal, --cpfp/--rbf', () => {
    const text = helpText(BUMP_SPEC);
    expect(text).toMatch(/usage: hashdlc bump <txid>/);
    expect(text).toMatch(/RBF \(BIP125\)[\s\S]*CPFP[\s\S]*nothing-to-bump/);
    expect(text).toMatch(/--cpfp[\s\S]*--rbf/);
  });
});

describe('usage errors (exit 2, nothing opened)', () => {
  it.each([
    [['bump', TXID], /USAGE: 'hashdlc bump' needs --fee-rate SAT_PER_VB/],
    [['bump', TXID, '--fee-rate', '5', '--cpfp', '--rbf'], /USAGE: --cpfp and --rbf exclude each other/],
    [['bump'], /USAGE: 'hashdlc bump' needs <txid>/],
    [['bump', TXID, '--fee-rate', '0'], /CONFIG: --fee-rate: a whole number of sat\/vB/],
    [['wallet', 'send', 'bcrt1qxyz'], /USAGE: 'hashdlc wallet send' needs <address> <sats\|all>/],
    [['wallet', 'send', 'bcrt1qxyz', '12.5', '--wallet-dir', '/nonexistent'], /USAGE: amount '12.5' is not a whole number of sats or 'all'/],
  ])('hashdlc %j', async (argv, expected) => {
    const [group, ...rest] = argv as [string, ...string[]];
    const { line, exitCode } = await exitOf(group === 'bump' ? bumpCommand(rest) : walletCommand(rest));
    expect(line).toMatch(expected);
    expect(exitCode).toBe(2);
  });

  it('bump parses its txid and flags', () => {
    const parsed = parseCommand(BUMP_SPEC, [TXID, '--fee-rate', '12', '--cpfp', '--json']);
    expect(parsed.positionals).toEqual([TXID]);
    expect(parsed.values).toMatchObject({ 'fee-rate': '12', cpfp: true, json: true });
  });
});
