/**
 * Scenario: three hashpower sales of 100 TH/s over the same 10-block window,
 * made through the participant library (the `hashdlc` steps) against the `npm start` stack, differing
 * only in what the pool pays each buyer's delivery address: the miner's
 * whole share (10% of every coinbase on the stack's simulated 1 PH/s
 * network: full delivery), 60% of it, and nothing. The oracle attests each
 * delivery ratio, the coordinator settles each contract by CET, and the
 * payouts on chain follow the sale's payout curve: at or above the 95%
 * tolerance the miner gets escrow + collateral, at 0 the buyer gets it all,
 * linear (on the rounding grid) in between.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mineBlocks } from '../../regtest/index.js';
import { waitForContractState } from '../../src/stack/index.js';
import { expectSettledOnCurve, mineWindow, negotiate, newAddress, saleOffer, startWorld, type Negotiated, type World } from './scenario-helpers.js';

let w: World;
const sales: Record<'full' | 'partial' | 'zero', { n: Negotiated; address: string }> = {} as never;

beforeAll(async () => {
  w = await startWorld();
  const tip = await w.rpc.getBlockCount();
  const window = { start: tip + 4, end: tip + 14 };
  for (const kind of ['full', 'partial', 'zero'] as const) {
    const address = await newAddress(w.buyer);
    sales[kind] = { n: await negotiate(w, saleOffer({ window, deliveryAddress: address })), address };
  }
  await mineBlocks(w.rpc, 1);
  for (const { n } of Object.values(sales)) await waitForContractState(w.coordinatorUrl, n.id, ['confirmed']);
  // The pool: 10% of every coinbase is 100 TH/s on the simulated 1 PH/s network.
  await mineWindow(w.rpc, window, [
    { address: sales.full.address, shareBps: 1000 },
    { address: sales.partial.address, shareBps: 600 },
  ]);
}, 180_000);

afterAll(async () => {
  await w?.close();
});

/**
 * The pool pays each share as whole sats of every coinbase (rounded down), so where the
 * shared chain's subsidy has halved to an odd number of sats (regtest halves every 150
 * blocks; from height 1,350 on) a 10% share delivers a hair under 10% and the oracle
 * attests one bps under the exact ratio. The payouts are checked against the curve at
 * whatever was attested (expectSettledOnCurve).
 */
function expectOutcomeNear(outcome: string, exact: number): void {
  expect(Number(outcome)).toBeLessThanOrEqual(exact);
  expect(Number(outcome)).toBeGreaterThanOrEqual(exact - 1);
}

describe('hashpower sale: the delivery ratio decides the split', () => {
  it('full delivery: attested 10000 bps (9999 where the shares round down), the miner receives escrow + collateral', async () => {
    const s = await expectSettledOnCurve(w, sales.full.n);
    expectOutcomeNear(s.attestation!.outcome, 10_000);
    expect(s.onChain).toEqual({ offer: 450_000n, accept: 0n });
  });

  it('partial delivery: attested 6000 bps (5999 where the shares round down), the collateral is split on the curve', async () => {
    const s = await expectSettledOnCurve(w, sales.partial.n);
    expectOutcomeNear(s.attestation!.outcome, 6_000);
    // Linear up to the 9500 bps tolerance: 6000/9500 of 450,000 is about 284,000 (on the 9,000-sat grid).
    expect(s.onChain.offer).toBeGreaterThan(270_000n);
    expect(s.onChain.offer).toBeLessThan(300_000n);
    expect(s.onChain.offer + s.onChain.accept).toBe(450_000n);
  });

  it('zero delivery: attested 0, the buyer receives escrow + collateral', async () => {
    const s = await expectSettledOnCurve(w, sales.zero.n);
    expect(s.attestation!.outcome).toBe('0');
    expect(s.onChain).toEqual({ offer: 0n, accept: 450_000n });
  });
});
