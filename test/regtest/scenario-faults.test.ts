/**
 * Scenarios with faults, each a 100 TH/s hashpower sale made through the
 * participant library (the steps of `hashdlc`) against the `npm start` stack:
 * - the block that confirmed the funding transaction is reorged out by a
 *   longer branch without it; the coordinator sees the contract unconfirmed
 *   again, the transaction is mined again, and the contract carries on to
 *   settlement;
 * - the coordinator process is killed (SIGKILL) and restarted on the same
 *   data directory three times: after accept, right after the funding
 *   broadcast, and while the window runs (the oracle attests while it is
 *   down); every time the contract is where it was, and it settles.
 * Payouts are checked on chain against the payout curve.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mineBlocks, reorgOut } from '../../regtest/index.js';
import { contractView, waitForAttestation, waitForContractState } from '../../src/stack/index.js';
import { expectSettledOnCurve, mineWindow, newAddress, saleOffer, startWorld, type World } from './scenario-helpers.js';

let w: World;

beforeAll(async () => {
  w = await startWorld();
}, 120_000);

afterAll(async () => {
  await w?.close();
});

describe('faults', () => {
  it('the funding transaction is reorged out, mined again, and the contract settles', async () => {
    const tip = await w.rpc.getBlockCount();
    const window = { start: tip + 8, end: tip + 18 };
    const address = await newAddress(w.buyer);
    const offer = await w.miner.offer({ ...saleOffer({ window, deliveryAddress: address }), feeRatePerVb: 2n });
    const id = offer.id;
    await w.buyer.accept(id);
    await w.miner.sign(id);
    const { fundingTxid } = await w.buyer.fund(id);

    const [fundingBlock] = await mineBlocks(w.rpc, 1);
    const first = await waitForContractState(w.coordinatorUrl, id, ['confirmed']);
    expect(first.fundingBlockHash).toBe(fundingBlock);
    // Another miner's longer branch without the funding transaction.
    const { branch } = await reorgOut(w.rpc, fundingBlock!, { extraBlocks: 1 });
    expect(await w.rpc.getBestBlockHash()).toBe(branch[branch.length - 1]);
    await waitForContractState(w.coordinatorUrl, id, ['funding-broadcast']);
    // It is mined again (back in the mempool, or rebroadcast by the coordinator).
    await new Promise((r) => setTimeout(r, 300));
    const [again] = await mineBlocks(w.rpc, 1);
    const second = await waitForContractState(w.coordinatorUrl, id, ['confirmed']);
    expect(second.fundingBlockHash).toBe(again);
    expect(second.fundingTxid).toBe(fundingTxid);
    expect((await w.rpc.getRawTransaction(fundingTxid)).blockhash).toBe(again);

    await mineWindow(w.rpc, window, [{ address, shareBps: 1000 }]);
    const s = await expectSettledOnCurve(w, { id, eventId: offer.eventId, fundingTxid, offer });
    expect(s.onChain).toEqual({ offer: 450_000n, accept: 0n });
    // The coordinator saw the funding unconfirmed again (a reorg processed block by block may
    // be observed more than once on the way), then confirmed in the new block, then settled.
    const states = s.view.history.map((e) => e.state);
    expect(states.slice(0, 5)).toEqual(['offered', 'accepted', 'signed', 'funding-broadcast', 'confirmed']);
    expect(states.slice(5, -4)).toContain('funding-broadcast');
    expect(states.slice(-4)).toEqual(['confirmed', 'attested', 'cet-broadcast', 'settled']);
    expect(s.view.history.at(-4)!.note).toBe(`block ${second.fundingHeight}`);
  });

  it('the coordinator is killed (SIGKILL) mid-flow three times and carries on to settlement', async () => {
    const tip = await w.rpc.getBlockCount();
    const window = { start: tip + 4, end: tip + 14 };
    const address = await newAddress(w.buyer);
    const offer = await w.miner.offer({ ...saleOffer({ window, deliveryAddress: address }), feeRatePerVb: 2n });
    const id = offer.id;
    const pids = [w.stack.coordinator.pid];

    // 1. Killed after the accept.
    await w.buyer.accept(id);
    const accepted = await contractView(w.coordinatorUrl, id);
    await w.stack.killCoordinator();
    await w.stack.restartCoordinator();
    pids.push(w.stack.coordinator.pid);
    expect(await contractView(w.coordinatorUrl, id)).toEqual(accepted);

    // 2. Killed right after the funding broadcast; the funding confirms while it is down.
    await w.miner.sign(id);
    const { fundingTxid } = await w.buyer.fund(id);
    await w.stack.killCoordinator();
    await mineBlocks(w.rpc, 1);
    await w.stack.restartCoordinator();
    pids.push(w.stack.coordinator.pid);
    const confirmed = await waitForContractState(w.coordinatorUrl, id, ['confirmed']);
    expect(confirmed.fundingTxid).toBe(fundingTxid);

    // 3. Killed before the window; the pool delivers and the oracle attests while it is down.
    await w.stack.killCoordinator();
    await mineWindow(w.rpc, window, [{ address, shareBps: 1000 }]);
    const att = await waitForAttestation(w.oracleUrl, offer.eventId);
    expect(att.outcome).toBe('10000');
    await w.stack.restartCoordinator();
    pids.push(w.stack.coordinator.pid);

    const s = await expectSettledOnCurve(w, { id, eventId: offer.eventId, fundingTxid, offer });
    expect(s.onChain).toEqual({ offer: 450_000n, accept: 0n });
    expect(new Set(pids).size).toBe(4);
    expect(s.view.history.map((e) => e.state)).toEqual(['offered', 'accepted', 'signed', 'funding-broadcast', 'confirmed', 'attested', 'cet-broadcast', 'settled']);
  });
});
