/**
 * Scenario: cash-settled hashprice contracts on one `hashprice(window)`
 * event, made through the participant library against the `npm start` stack. The
 * event comes from a second oracle (the coordinator accepts both) whose
 * simulated difficulty reads like mainnet (a power of ten chosen so the
 * window's hashprice is 60,000-600,000 sats/PH/day at its subsidy); its
 * value `h` is known before the window: the subsidy of blocks without fees.
 *
 * Four contracts of 100 PH/s over the 10-block window (6.94 sats per
 * sats/PH/day of hashprice): a forward struck 20,000 below `h` (the hashprice
 * rose: the miner pays the buyer) and one 20,000 above (it fell: the buyer
 * pays the miner); a call struck 20,000 below `h` (in the money: the buyer
 * receives about 138,889 sats) and one above (out of the money: the miner
 * keeps its collateral). Each settles by CET, checked on chain against the
 * payout curve at the attested hashprice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRegtest } from '../../regtest/context.js';
import { mineBlocks, mineToHeight, regtestSubsidy } from '../../regtest/index.js';
import type { OfferInput } from '../../src/participant/index.js';
import { waitForContractState } from '../../src/stack/index.js';
import { expectSettledOnCurve, negotiate, startExtraOracle, startWorld, windowInOneEra, type ExtraOracle, type Negotiated, type World } from './scenario-helpers.js';

const { rpc } = useRegtest();
let w: World;
let hp: ExtraOracle;
let h: bigint;
const c: Record<'forwardUp' | 'forwardDown' | 'callIn' | 'callOut', Negotiated> = {} as never;

/** floor(r * 86400e15 / (10^k * 2^32)): the hashprice of blocks of reward r at simulated difficulty 10^k. */
function hashprice(reward: bigint, k: number): bigint {
  return (reward * 86_400n * 10n ** 15n) / (10n ** BigInt(k) * 2n ** 32n);
}

beforeAll(async () => {
  const window = await windowInOneEra(rpc, 10, 8);
  const reward = regtestSubsidy(window.start);
  let k = 1;
  while (hashprice(reward, k) >= 600_000n) k++;
  h = hashprice(reward, k);
  hp = await startExtraOracle(rpc, `1e${k}`);
  w = await startWorld({ extraOracleUrls: [hp.url] });
  const eventId = await hp.createEvent({ kind: 'hashprice', window, nbDigits: 20 });
  expect(eventId).toMatch(/^hashprice\//);
  const p = w.with(hp.url);
  const win = { window, hashrateThs: 100_000n, collateral: 300_000n };
  const forward = (strike: bigint): OfferInput => ({ template: 'hashprice-forward', ...win, strikeSatsPerPhDay: strike, buyerCollateral: 300_000n });
  const call = (strike: bigint): OfferInput => ({ template: 'hashprice-call', ...win, strikeSatsPerPhDay: strike, premium: 30_000n });
  c.forwardUp = await negotiate(p, forward(h - 20_000n));
  c.forwardDown = await negotiate(p, forward(h + 20_000n));
  c.callIn = await negotiate(p, call(h - 20_000n));
  c.callOut = await negotiate(p, call(h + 20_000n));
  await mineBlocks(rpc, 1);
  for (const n of Object.values(c)) await waitForContractState(w.coordinatorUrl, n.id, ['confirmed']);
  // The window: blocks with no transactions, so its hashprice is the subsidy's.
  await mineToHeight(rpc, window.end);
}, 240_000);

afterAll(async () => {
  await w?.close();
  await hp?.close();
});

describe('hashprice forward and call settle on the attested hashprice', () => {
  it('the oracle attests the hashprice of the window', async () => {
    const s = await expectSettledOnCurve(w, c.forwardUp, hp.url);
    expect(BigInt(s.attestation!.outcome)).toBe(h);
  });

  it('forward, hashprice above the strike: the miner pays the buyer', async () => {
    const s = await expectSettledOnCurve(w, c.forwardUp, hp.url);
    // 300,000 - 6.94 * 20,000 = 161,111, on the 12,000-sat rounding grid.
    expect(s.onChain.offer).toBeLessThan(300_000n);
    expect(s.onChain.offer).toBeGreaterThan(150_000n);
    expect(s.onChain.offer + s.onChain.accept).toBe(600_000n);
  });

  it('forward, hashprice below the strike: the buyer pays the miner', async () => {
    const s = await expectSettledOnCurve(w, c.forwardDown, hp.url);
    expect(s.onChain.offer).toBeGreaterThan(300_000n);
    expect(s.onChain.offer).toBeLessThan(450_000n);
    expect(s.onChain.offer + s.onChain.accept).toBe(600_000n);
  });

  it('call in the money: the buyer receives Q x days x (h - K)', async () => {
    const s = await expectSettledOnCurve(w, c.callIn, hp.url);
    expect(s.onChain.accept).toBeGreaterThan(130_000n);
    expect(s.onChain.accept).toBeLessThan(150_000n);
    expect(s.onChain.offer + s.onChain.accept).toBe(300_000n);
  });

  it('call out of the money: the miner keeps its collateral', async () => {
    const s = await expectSettledOnCurve(w, c.callOut, hp.url);
    expect(s.onChain).toEqual({ offer: 300_000n, accept: 0n });
  });
});
