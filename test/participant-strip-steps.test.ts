/**
 * The participant's steps after funding on a strip (issue 12), without a
 * node: which periods an id names (`stripTargets`), the period-by-period run
 * (`eachPeriod`: ended periods skipped, NOT_READY waits, another error fails
 * only its period and names it, a funding output spent elsewhere is ended),
 * the error of a whole-strip step, errors re-made to name the period, the
 * status list grouping a strip's periods, and the close split shared by
 * collateral exactly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DlcError } from '../protocol/errors.js';
import { splitByWeights } from '../src/participant/close.js';
import { ParticipantError } from '../src/participant/errors.js';
import { Participant } from '../src/participant/participant.js';
import { listContracts } from '../src/participant/status.js';
import { eachPeriod, inPeriodError, stripStepError, stripTargets } from '../src/participant/strip-steps.js';
import { Wallet, type ContractRecord, type LocalState } from '../src/wallet/index.js';

const root = mkdtempSync(join(tmpdir(), 'hashdlc-strip-steps-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const STRIP = '11'.repeat(32);
const IDS = [STRIP, '22'.repeat(32), '33'.repeat(32)];
const SINGLE = '44'.repeat(32);
const batch = (index: number) => ({ index, contracts: [0, 1, 2].map((i) => ({ fundOutputSerialId: String(100 + i), offerCollateral: '1000', acceptCollateral: '2000' })) });

function record(id: string, state: LocalState, index?: number): ContractRecord {
  return {
    version: 1, id, role: 'accept', network: 'regtest', keyIndex: 0, state, history: [],
    hashProfile: 'sha256', terms: { template: 'hashpower-sale', window: { start: 10 + 2 * (index ?? 0), end: 12 + 2 * (index ?? 0) } },
    offer: 'aa', reservedOutpoints: [],
    ...(index === undefined ? {} : { strip: { id: STRIP, terms: { template: 'hashpower-sale', periods: 3 }, batch: batch(index) } }),
  };
}

/** A wallet holding a single contract, then a 3-period strip saved out of order. */
function walletWithStrip(states: LocalState[] = ['confirmed', 'confirmed', 'confirmed']): { dir: string; wallet: Wallet } {
  const dir = mkdtempSync(join(root, 'w-'));
  Wallet.init(dir, 'regtest');
  const wallet = Wallet.open(dir);
  wallet.contracts.save(record(SINGLE, 'confirmed'));
  for (const i of [2, 0, 1]) wallet.contracts.save(record(IDS[i]!, states[i]!, i));
  return { dir, wallet };
}

describe('stripTargets', () => {
  const { wallet } = walletWithStrip();
  it('the strip id names every period, in order', () => {
    const t = stripTargets(wallet, STRIP);
    expect(t.records.map((r) => r.id)).toEqual(IDS);
    expect(t).toMatchObject({ strip: { id: STRIP, periods: 3 }, whole: true });
  });
  it('another period\'s id names that period; --period K names period K', () => {
    expect(stripTargets(wallet, IDS[2]!).records.map((r) => r.id)).toEqual([IDS[2]]);
    expect(stripTargets(wallet, IDS[2]!, 1).records.map((r) => r.id)).toEqual([STRIP]);
    expect(stripTargets(wallet, STRIP, 2)).toMatchObject({ whole: false, records: [{ id: IDS[1] }] });
  });
  it('refuses --period out of range, or on a single contract (USAGE)', () => {
    expect(() => stripTargets(wallet, STRIP, 4)).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(() => stripTargets(wallet, STRIP, 0)).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(() => stripTargets(wallet, SINGLE, 1)).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(stripTargets(wallet, SINGLE)).toMatchObject({ strip: undefined, whole: false, records: [{ id: SINGLE }] });
  });
  it('refuses a strip whose period records are not all here (STATE strip-records)', () => {
    const dir = mkdtempSync(join(root, 'w-'));
    Wallet.init(dir, 'regtest');
    const w = Wallet.open(dir);
    w.contracts.save(record(STRIP, 'confirmed', 0));
    expect(() => stripTargets(w, STRIP)).toThrow(expect.objectContaining({ code: 'STATE', reason: 'strip-records' }));
  });
});

describe('eachPeriod', () => {
  it('skips ended periods, waits on NOT_READY, fails only the period that failed, naming it; spent elsewhere is ended', async () => {
    const { wallet } = walletWithStrip(['settled', 'confirmed', 'confirmed']);
    const more = [...stripTargets(wallet, STRIP).records];
    const calls: string[] = [];
    const steps = await eachPeriod(wallet, more, async (r) => {
      calls.push(r.id);
      if (r.id === IDS[1]) throw new ParticipantError('NOT_READY', '1 of the 1 needed oracles attested');
      throw new ParticipantError('MISMATCH', 'bad CET signature', { reason: 'cet-signature' });
    });
    expect(calls).toEqual([IDS[1], IDS[2]]);
    expect(steps.map((s) => [s.period, s.status])).toEqual([[1, 'ended'], [2, 'waiting'], [3, 'failed']]);
    expect(steps[2]!.error).toMatchObject({ code: 'MISMATCH', reason: 'cet-signature', message: 'period 3: bad CET signature' });
    expect(stripStepError(steps)).toBe(steps[2]!.error);

    const spent = await eachPeriod(wallet, more.slice(1, 2), async () => {
      throw new ParticipantError('STATE', 'spent', { reason: 'funding-spent' });
    });
    expect(spent[0]!.status).toBe('ended');
  });

  it('a period recorded settled whose funding output the node finds unspent is run again (a coordinator\'s false "settled")', async () => {
    const { wallet } = walletWithStrip(['settled', 'refunded', 'closed']);
    const all = stripTargets(wallet, STRIP).records;
    const calls: string[] = [];
    // Period 2's output is unspent on the node: only the record (the coordinator's word) says refunded.
    const unspent = async (r: ContractRecord): Promise<boolean> => r.id === IDS[1];
    const steps = await eachPeriod(wallet, all, async (r) => {
      calls.push(r.id);
      return 'settled now';
    }, unspent);
    expect(calls).toEqual([IDS[1]]);
    expect(steps.map((s) => s.status)).toEqual(['ended', 'done', 'ended']);
    // No node answer (an error): the record is trusted, nothing is run.
    const none = await eachPeriod(wallet, all, async () => 'x', async () => {
      throw new Error('node down');
    });
    expect(none.map((s) => s.status)).toEqual(['ended', 'ended', 'ended']);
    // cancelled and failed periods (never funded) are not asked about.
    const asked: string[] = [];
    const { wallet: w2 } = walletWithStrip(['cancelled', 'failed', 'cancelled']);
    await eachPeriod(w2, stripTargets(w2, STRIP).records, async () => 'x', async (r) => {
      asked.push(r.id);
      return true;
    });
    expect(asked).toEqual([]);
  });

  it('a whole-strip step fails only when nothing was done and a period waits', async () => {
    const { wallet } = walletWithStrip();
    const all = stripTargets(wallet, STRIP).records;
    const notReady = async (): Promise<never> => {
      throw new ParticipantError('NOT_READY', 'not attested');
    };
    const none = await eachPeriod(wallet, all, notReady);
    expect((stripStepError(none) as Error).message).toBe('period 1: not attested');
    const some = await eachPeriod(wallet, all, async (r) => (r.id === IDS[1] ? 'ok' : notReady()));
    expect(stripStepError(some)).toBeUndefined();
  });
});

describe('inPeriodError', () => {
  it('names the period once, keeping code, reason and remote code', () => {
    const e = inPeriodError(new ParticipantError('REMOTE', 'refused', { remoteCode: 'INVALID_STATE', reason: 'x' }), 2) as ParticipantError;
    expect(e).toMatchObject({ code: 'REMOTE', remoteCode: 'INVALID_STATE', reason: 'x', message: 'period 2: refused' });
    expect(inPeriodError(e, 2)).toBe(e);
    const d = inPeriodError(new DlcError('BAD_SIGNATURE', 'bad', { reason: 'cet-signature:accept' }), 3) as DlcError;
    expect(d).toMatchObject({ code: 'BAD_SIGNATURE', message: 'period 3: bad', details: { period: 3 } });
  });
});

describe('listContracts on a strip', () => {
  it('groups the periods in order where the strip first appears, with their place and window', async () => {
    const { dir } = walletWithStrip(['settled', 'refunded', 'confirmed']);
    const p = new Participant({ network: 'regtest', networkGiven: true, walletDir: dir, coordinator: undefined, oracles: [], oraclePubkeys: [], oracleThreshold: undefined, rpc: undefined, feeRatePerVb: undefined, threads: 0 }, { readOnly: true });
    try {
      const list = listContracts(p);
      // The periods together, in period order (saved out of order), the single contract apart.
      const at = list.findIndex((r) => r.id === STRIP);
      expect(list.slice(at, at + 3).map((r) => [r.id, r.strip?.period])).toEqual(IDS.map((id, i) => [id, i + 1]));
      expect(list.filter((r) => r.strip === undefined).map((r) => r.id)).toEqual([SINGLE]);
      expect(list[at + 1]).toMatchObject({ state: 'refunded', strip: { id: STRIP, periods: 3, window: { start: 12, end: 14 } } });
    } finally {
      await p.close();
    }
  });
});

describe('splitByWeights', () => {
  it.each([
    ['1000 over 3:3:4', 1000n, [3n, 3n, 4n], [300n, 300n, 400n]],
    ['1001 over 1:1:1', 1001n, [1n, 1n, 1n], [333n, 334n, 334n]],
    ['0 over 5:7', 0n, [5n, 7n], [0n, 0n]],
    ['999999999 over three collaterals', 999_999_999n, [80_000n, 60_000n, 60_001n], undefined],
  ] as [string, bigint, bigint[], bigint[] | undefined][])('%s sums exactly', (_label, amount, weights, want) => {
    const parts = splitByWeights(amount, weights);
    expect(parts.reduce((a, b) => a + b, 0n)).toBe(amount);
    if (want !== undefined) expect(parts).toEqual(want);
  });
  it('refuses weights that sum to nothing (RangeError)', () => {
    expect(() => splitByWeights(1n, [0n, 0n])).toThrow(RangeError);
  });
});
