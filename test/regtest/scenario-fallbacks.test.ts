/**
 * Scenarios around the happy path, each a hashpower sale made through the
 * participant library (the steps of `hashdlc`) against the `npm start` stack:
 * - the oracle goes silent after announcing: nobody can settle by CET, and
 *   after the refund locktime the coordinator broadcasts the refund, each
 *   side getting its collateral back;
 * - a cooperative early close: both parties sign the same split with
 *   `hashdlc close` and the coordinator broadcasts it, before the window;
 * - both participants offline at maturity: their wallet directories are
 *   gone (moved away) from funding to settlement, and the coordinator alone
 *   completes the attested CET from the adaptor signatures it holds.
 */
import { existsSync, renameSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRegtest } from '../../regtest/context.js';
import { mineBlocks, mineToHeight } from '../../regtest/index.js';
import { STACK_SIMULATED_DIFFICULTY, contractView, onChainPayouts, waitForContractState } from '../../src/stack/index.js';
import {
  expectSettledOnCurve,
  mineWindow,
  negotiate,
  newAddress,
  saleOffer,
  startExtraOracle,
  startWorld,
  type ExtraOracle,
  type World,
} from './scenario-helpers.js';

let w: World;
let silent: ExtraOracle;

beforeAll(async () => {
  silent = await startExtraOracle(useRegtest().rpc, STACK_SIMULATED_DIFFICULTY);
  w = await startWorld({ extraOracleUrls: [silent.url] });
}, 120_000);

afterAll(async () => {
  await w?.close();
  await silent?.close();
});

describe('when things do not go to plan', () => {
  it('oracle silent: the coordinator broadcasts the refund once the locktime is reached', async () => {
    const p = w.with(silent.url);
    const tip = await w.rpc.getBlockCount();
    const window = { start: tip + 3, end: tip + 6 };
    const n = await negotiate(p, saleOffer({ window, deliveryAddress: await newAddress(p.buyer) }));
    await mineBlocks(w.rpc, 1);
    const confirmed = await waitForContractState(w.coordinatorUrl, n.id, ['confirmed']);
    const refundLocktime = n.offer.refundLocktime;
    expect(refundLocktime).toBeGreaterThan(window.end);
    await silent.close(); // announced, never attests

    // Past the window, before the locktime: the refund is not final, nothing moves.
    await mineToHeight(w.rpc, refundLocktime - 1);
    await new Promise((r) => setTimeout(r, 500));
    expect((await contractView(w.coordinatorUrl, n.id)).state).toBe('confirmed');
    // At the locktime the refund can go in the next block: the coordinator broadcasts it.
    await mineToHeight(w.rpc, refundLocktime);
    const refunding = await waitForContractState(w.coordinatorUrl, n.id, ['refund-broadcast', 'refunded']);
    expect(refunding.closingKind).toBe('refund');
    // The watcher records refund-broadcast BEFORE it sends (crash safety): mine only once the node has it.
    const sentBy = Date.now() + 30_000;
    while (!(await w.rpc.getRawTransaction(refunding.closingTxid!).then(() => true, () => false))) {
      if (Date.now() > sentBy) throw new Error(`refund ${refunding.closingTxid} never reached the node`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await mineBlocks(w.rpc, 1);
    const refunded = await waitForContractState(w.coordinatorUrl, n.id, ['refunded']);
    const tx = await w.rpc.getRawTransaction(refunded.closingTxid!);
    expect(tx.locktime).toBe(refundLocktime);
    // Each side gets its own collateral back: the miner its 200,000, the buyer its 250,000 escrow.
    expect(await onChainPayouts(w.rpc, refunded.closingTxid!, refunded)).toEqual({ offer: 200_000n, accept: 250_000n });
    expect(confirmed.totalCollateral).toBe('450000');
  });

  it('cooperative early close: both sign the same split, the coordinator broadcasts it', async () => {
    const tip = await w.rpc.getBlockCount();
    const window = { start: tip + 20, end: tip + 30 };
    const n = await negotiate(w, saleOffer({ window, deliveryAddress: await newAddress(w.buyer) }));
    await mineBlocks(w.rpc, 1);
    await waitForContractState(w.coordinatorUrl, n.id, ['confirmed']);
    // The miner cannot deliver after all; they agree to return the escrow and part of the collateral.
    const first = await w.buyer.close({ id: n.id, offerPayout: 150_000n });
    expect(first.broadcast).toBe(false);
    const second = await w.miner.close({ id: n.id, offerPayout: 150_000n });
    expect(second.broadcast).toBe(true);
    await mineBlocks(w.rpc, 1);
    const closed = await waitForContractState(w.coordinatorUrl, n.id, ['closed']);
    expect(closed.closingTxid).toBe(second.closeTxid);
    expect(closed.closingKind).toBe('close');
    expect(await onChainPayouts(w.rpc, closed.closingTxid!, closed)).toEqual({ offer: 150_000n, accept: 300_000n });
    expect(await w.rpc.getBlockCount()).toBeLessThan(window.start);
  });

  it('both participants offline at maturity: the coordinator settles alone', async () => {
    const tip = await w.rpc.getBlockCount();
    const window = { start: tip + 3, end: tip + 13 };
    const address = await newAddress(w.buyer);
    const n = await negotiate(w, saleOffer({ window, deliveryAddress: address }));
    await mineBlocks(w.rpc, 1);
    await waitForContractState(w.coordinatorUrl, n.id, ['confirmed']);
    // Both go offline: no process, and not even their wallet files are where the CLI would look.
    const away = [w.miner.walletDir, w.buyer.walletDir];
    for (const d of away) renameSync(d, `${d}.offline`);
    try {
      await mineWindow(w.rpc, window, [{ address, shareBps: 1000 }]);
      const s = await expectSettledOnCurve(w, n);
      expect(s.view.broadcastBy).toBe('coordinator');
      expect(s.onChain).toEqual({ offer: 450_000n, accept: 0n });
      for (const d of away) expect(existsSync(d)).toBe(false);
    } finally {
      for (const d of away) renameSync(`${d}.offline`, d);
    }
  });
});
