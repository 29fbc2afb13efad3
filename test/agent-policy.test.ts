/**
 * The agent's policy file (src/agent/policy.ts): defaults, every key, bad
 * input refused with a named CONFIG reason; flag overrides
 * (src/cli/agent.ts `policyOverrides`) and the human log line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, parsePolicy, readPolicyFile, withOverrides } from '../src/agent/policy.js';
import { formatLogLine, policyOverrides } from '../src/cli/agent.js';

const tmp = mkdtempSync(join(tmpdir(), 'hashdlc-agent-policy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('policy file', () => {
  it('an empty object is the defaults', () => {
    expect(parsePolicy({})).toEqual(DEFAULT_POLICY);
    expect(DEFAULT_POLICY).toMatchObject({ autoSign: true, autoFund: true, settle: true, refund: true, cancelAtDeadline: true, maxFeeRatePerVb: undefined });
    expect([...DEFAULT_POLICY.roles]).toEqual(['offer', 'accept']);
  });

  it('reads every key; fee rates become bigint from numbers or digit strings', () => {
    const p = parsePolicy({
      roles: ['accept'], autoSign: false, autoFund: false, settle: false, refund: false, cancelAtDeadline: false,
      maxFeeRatePerVb: '40', bump: { enabled: true, afterBlocks: 3, feeRatePerVb: 25 }, intervalSeconds: 5,
    });
    expect([...p.roles]).toEqual(['accept']);
    expect(p).toMatchObject({ autoSign: false, autoFund: false, settle: false, refund: false, cancelAtDeadline: false, maxFeeRatePerVb: 40n, intervalSeconds: 5 });
    expect(p.bump).toEqual({ enabled: true, afterBlocks: 3, feeRatePerVb: 25n });
  });

  it.each([
    ['an unknown key (a typo is not ignored)', { autoSing: true }, /\(root\): Unrecognized key.*autoSing/],
    ['repostExpired (re-posting expired offers is not supported)', { repostExpired: true }, /\(root\): Unrecognized key.*repostExpired/],
    ['an unknown role', { roles: ['miner'] }, /roles\.0:/],
    ['no role at all', { roles: [] }, /roles:/],
    ['a fractional fee rate', { maxFeeRatePerVb: 1.5 }, /maxFeeRatePerVb:/],
    ['a zero fee rate', { maxFeeRatePerVb: 0 }, /maxFeeRatePerVb:/],
    ['a fee rate as a hex string', { maxFeeRatePerVb: '0x10' }, /maxFeeRatePerVb:/],
    ['a bump wait of 0 blocks', { bump: { afterBlocks: 0 } }, /bump\.afterBlocks:/],
    ['an unknown bump key', { bump: { rate: 5 } }, /bump: Unrecognized key/],
    ['a switch that is not a boolean', { autoFund: 'yes' }, /autoFund:/],
    ['an interval of 0', { intervalSeconds: 0 }, /intervalSeconds:/],
    ['not an object', [1, 2], /\(root\):/],
  ])('refuses %s: CONFIG (policy-shape)', (_name, json, message) => {
    expect(() => parsePolicy(json)).toThrow(expect.objectContaining({ code: 'CONFIG', reason: 'policy-shape', message: expect.stringMatching(message) }));
  });

  it('a file that cannot be read: CONFIG (policy-unreadable)', () => {
    expect(() => readPolicyFile(join(tmp, 'missing.json'))).toThrow(expect.objectContaining({ code: 'CONFIG', reason: 'policy-unreadable' }));
  });

  it('a file that is not JSON: CONFIG (policy-json)', () => {
    const f = join(tmp, 'bad.json');
    writeFileSync(f, '{ roles: [offer] }');
    expect(() => readPolicyFile(f)).toThrow(expect.objectContaining({ code: 'CONFIG', reason: 'policy-json' }));
  });

  it('a file with a bad key names the file and the key', () => {
    const f = join(tmp, 'shape.json');
    writeFileSync(f, JSON.stringify({ bump: { feeRatePerVb: -1 } }));
    expect(() => readPolicyFile(f)).toThrow(expect.objectContaining({ code: 'CONFIG', reason: 'policy-shape', message: expect.stringContaining(`policy file ${f}: bump.feeRatePerVb`) }));
  });

  it('a good file', () => {
    const f = join(tmp, 'good.json');
    writeFileSync(f, JSON.stringify({ roles: ['offer'], autoSign: false }));
    const p = readPolicyFile(f);
    expect([...p.roles]).toEqual(['offer']);
    expect(p.autoSign).toBe(false);
  });
});

describe('flag overrides', () => {
  it('flags win over the file; a bump flag turns bumping on', () => {
    const file = parsePolicy({ roles: ['offer'], autoSign: true, maxFeeRatePerVb: 50, bump: { enabled: false, afterBlocks: 6, feeRatePerVb: 10 } });
    const p = withOverrides(file, policyOverrides({ role: ['accept'], 'no-auto-sign': true, 'max-fee-rate': '20', 'bump-after': '2', interval: '0.5' }));
    expect([...p.roles]).toEqual(['accept']);
    expect(p.autoSign).toBe(false);
    expect(p.maxFeeRatePerVb).toBe(20n);
    expect(p.bump).toEqual({ enabled: true, afterBlocks: 2, feeRatePerVb: 10n });
    expect(p.intervalSeconds).toBe(0.5);
  });

  it('no flags: the file as it is', () => {
    const file = parsePolicy({ autoFund: false });
    expect(withOverrides(file, policyOverrides({}))).toEqual(file);
  });

  it.each([
    [{ role: ['miner'] }, /--role must be offer or accept/],
    [{ 'max-fee-rate': '0' }, /--max-fee-rate must be at least 1/],
    [{ 'bump-fee-rate': 'fast' }, /--bump-fee-rate must be a non-negative integer/],
    [{ 'bump-after': '0' }, /--bump-after must be at least 1 block/],
    [{ interval: '-1' }, /--interval must be a number of seconds/],
    [{ interval: '0' }, /--interval must be a number of seconds/],
  ])('refuses %j: USAGE', (values, message) => {
    expect(() => policyOverrides(values)).toThrow(expect.objectContaining({ code: 'USAGE', message: expect.stringMatching(message) }));
  });
});

describe('log line', () => {
  const id = 'ab'.repeat(32);
  it('an action that succeeded', () => {
    expect(formatLogLine({ at: 't', id, action: 'settle', ok: true, why: 'attested', result: { state: 'settled', txid: 'cd'.repeat(32), alreadyDone: true } }))
      .toBe(`t ${id.slice(0, 16)} settle ok state settled, txid ${'cd'.repeat(32)}, already done (attested)`);
  });
  it('a replayed action that failed', () => {
    expect(formatLogLine({ at: 't', id, action: 'sign', replay: true, ok: false, error: { code: 'EXPIRED (funding-deadline-passed)', message: 'too late' } }))
      .toBe(`t ${id.slice(0, 16)} sign (replay) FAILED EXPIRED (funding-deadline-passed): too late`);
  });
  it('a failed observation of the whole pass', () => {
    expect(formatLogLine({ at: 't', id: null, action: 'observe', ok: false, error: { code: 'CHAIN_CONNECTION', message: 'no node' } })).toBe('t - observe FAILED CHAIN_CONNECTION: no node');
  });
  it('a bump names the transaction and the rate', () => {
    expect(formatLogLine({ at: 't', id, action: 'bump', txid: 'ee'.repeat(32), feeRatePerVb: '12', ok: true, result: { txid: 'ff'.repeat(32) } }))
      .toBe(`t ${id.slice(0, 16)} bump ${'ee'.repeat(32)} to 12 sat/vB ok txid ${'ff'.repeat(32)}`);
  });
});
