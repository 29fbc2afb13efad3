/**
 * The pure parts of a strip's negotiation on the participant side (issue 12):
 * `stripPeriodsOf` (the --periods / --period-blocks rules, each refusal
 * named), `batchSiblingCost` (what one party's coins must cover for the
 * strip's other funding outputs, never less than protocol/tx charges), the
 * period naming of a step's error, and the CLI refusing bad strip flags
 * before anything is contacted.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DlcError } from '../protocol/errors.js';
import { partyFeeShape, partyFees } from '../protocol/tx/index.js';
import { ParticipantError } from '../src/participant/errors.js';
import { batchSiblingCost, inPeriodP, stripPeriodsOf } from '../src/participant/offer.js';

const window = { start: 1000, end: 1012 };
const sale = { template: 'hashpower' as const, window };

describe('stripPeriodsOf', () => {
  it('a single contract without either flag', () => {
    expect(stripPeriodsOf(sale)).toBeUndefined();
  });

  it.each([
    ['--periods', { periods: 4 }, 4],
    ['--period-blocks dividing the window', { periodBlocks: 3 }, 4],
    ['one block per period', { periodBlocks: 1 }, 12],
  ])('%s', (_name, flags, n) => {
    expect(stripPeriodsOf({ ...sale, ...flags })).toBe(n);
  });

  it.each([
    ['both flags', { ...sale, periods: 2, periodBlocks: 6 }, /exclusive/],
    ['a window not a multiple of --period-blocks', { ...sale, periodBlocks: 5 }, /--period-blocks 5 does not divide the window's 12 blocks/],
    ['one period', { ...sale, periods: 1 }, /2 to 100 periods, got 1/],
    ['--period-blocks the whole window (one period)', { ...sale, periodBlocks: 12 }, /2 to 100 periods, got 1/],
    ['more periods than blocks', { ...sale, periods: 13 }, /12 blocks cannot hold 13 periods/],
    ['101 periods', { template: 'hashpower' as const, window: { start: 0, end: 500 }, periods: 101 }, /2 to 100 periods, got 101/],
    ['a custom curve', { template: 'custom' as const, window, periods: 2 }, /custom curve has no window/],
    ['--event', { ...sale, periods: 2, eventId: 'e' }, /its own event/],
    ['no window', { template: 'hashprice-forward' as const, periods: 2 }, /needs --window/],
    ['--refund-locktime', { ...sale, periods: 2, refundLocktime: 2000 }, /default locktimes/],
  ])('refuses %s (USAGE)', (_name, input, message) => {
    let err: unknown;
    try {
      stripPeriodsOf(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParticipantError);
    expect((err as ParticipantError).code).toBe('USAGE');
    expect((err as ParticipantError).message).toMatch(message);
  });
});

describe('batchSiblingCost', () => {
  const party = {
    fundingInputs: [{ maxWitnessLen: 107, redeemScript: new Uint8Array(0) }],
    changeSpk: new Uint8Array(22),
    payoutSpk: new Uint8Array(22),
  };
  it.each([1n, 2n, 7n])('covers what protocol/tx charges a party for 1..99 further funding outputs at %s sat/vB', (rate) => {
    const single = partyFees(partyFeeShape(party), rate);
    for (const siblings of [1, 3, 99]) {
      const batch = partyFees(partyFeeShape(party, [], siblings), rate);
      // funding.ts: the party's change pays its funding fee and one closing fee per funding output.
      const charged = batch.fundingFee + BigInt(siblings + 1) * batch.closingFee;
      const planned = single.fundingFee + single.closingFee + batchSiblingCost(siblings, 22, rate);
      expect(planned).toBeGreaterThanOrEqual(charged);
      // And not wastefully more: at most one sat/vB rounding per output.
      expect(planned - charged).toBeLessThanOrEqual(BigInt(siblings) * rate);
    }
  });

  it('nothing for a single contract', () => {
    expect(batchSiblingCost(0, 22, 5n)).toBe(0n);
  });
});

describe('a strip step names the period', () => {
  it.each([
    ['a DlcError', () => new DlcError('BAD_SIGNATURE', 'CET adaptor signature 0 is invalid', { reason: 'cet-adaptor-signature' })],
    ['a ParticipantError', () => new ParticipantError('MISMATCH', 'the event differs', { reason: 'event-differs' })],
  ])('%s: "period 3: ..." with its code and reason kept', (_name, make) => {
    const original = make();
    let err: unknown;
    try {
      inPeriodP(2, () => {
        throw original;
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(original.constructor);
    const e = err as DlcError | ParticipantError;
    expect(e.message).toBe(`period 3: ${original.message}`);
    expect(e.code).toBe(original.code);
    expect(e.reason).toBe(original.reason);
    if (e instanceof DlcError) expect(e.details?.period).toBe(3);
  });
});

describe('hashdlc offer with strip flags', () => {
  const BIN = fileURLToPath(new URL('../bin/hashdlc.js', import.meta.url));
  const run = (args: string[]): Promise<{ code: number | null; stderr: string }> =>
    new Promise((resolve) => {
      const env: NodeJS.ProcessEnv = {};
      for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HASHDLC_')) env[k] = v;
      // Nothing listens there: a refusal before contacting anything is the only way to exit 2.
      execFile(process.execPath, [BIN, ...args, '--coordinator', 'http://127.0.0.1:9', '--network', 'regtest'], { env, timeout: 30_000 }, (err, _stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stderr });
      });
    });
  const saleArgs = ['offer', 'hashpower', '--window', '100-110', '--hashrate', '1', '--delivery-address', 'x', '--escrow', '1', '--collateral', '1'];

  it.each([
    ['--period-blocks not dividing the window', [...saleArgs, '--period-blocks', '3'], /USAGE: --period-blocks 3 does not divide the window's 10 blocks/],
    ['both strip flags', [...saleArgs, '--periods', '2', '--period-blocks', '5'], /USAGE: --periods and --period-blocks are exclusive/],
    ['--periods on a custom curve', ['offer', 'custom', '--periods', '2'], /USAGE: Unknown option '--periods'/],
  ])('%s: exit 2 with the reason', async (_name, args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('--help lists --periods and --period-blocks on the sale, forward and call', async () => {
    for (const template of ['hashpower', 'hashprice-forward', 'hashprice-call']) {
      const r = await new Promise<string>((resolve) => execFile(process.execPath, [BIN, 'offer', template, '--help'], (_e, stdout) => resolve(stdout)));
      expect(r).toMatch(/--periods N[\s\S]*--period-blocks B/);
    }
  });
});
