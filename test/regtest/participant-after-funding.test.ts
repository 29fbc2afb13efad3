/**
 * The after-funding use cases of the participant library (src/participant:
 * contractStatus, refundContract, settleContract) called directly, no CLI,
 * on the regtest node with a real oracle and a real coordinator:
 *
 * a hashpower sale is negotiated and funded (the CLI in-process, src/stack's
 * participants), a second one signed but never funded; the miner's
 * `cancelContract` double-spends its inputs, and a repeat after a "crash"
 * before its record (the record put back to `signed`, the cancel mined)
 * finds the same transaction instead of failing; the buyer's `refundContract` before the refund locktime is
 * NOT_READY; the coordinator goes away (its status is then a note, not an
 * error); the pool delivers in the window, the oracle attests, and the
 * buyer's `settleContract` completes and broadcasts the attested CET alone;
 * run again (in the mempool, then mined) it reports `alreadyBroadcast` with
 * the same txid and broadcasts nothing else.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startCoordinator, type RunningCoordinator } from '../../src/coordinator/index.js';
import type { ParticipantConfig } from '../../src/participant/config.js';
import { Participant } from '../../src/participant/participant.js';
import { cancelContract, contractStatus, refundContract, settleContract } from '../../src/participant/index.js';
import { ParticipantError } from '../../src/participant/errors.js';
import { StackParticipant } from '../../src/stack/index.js';
import { Wallet } from '../../src/wallet/index.js';
import { useRegtest } from '../../regtest/context.js';
import { mineAsPool, mineBlocks, mineToHeight } from '../../regtest/helpers.js';
import { TestKey } from '../../regtest/wallet.js';
import { coordinatorConfig } from './coordinator-fixtures.js';
import { SIMDIFF_100THS_AT_HALF, startTestOracle, type TestOracle } from './oracle-fixture.js';

const { rpc, faucet } = useRegtest();
const tmp = mkdtempSync(join(tmpdir(), 'hashdlc-participant-'));
const minerDir = join(tmp, 'miner');
const buyerDir = join(tmp, 'buyer');

let oracle: TestOracle;
let coordinator: RunningCoordinator | undefined;
let window: { start: number; end: number };
let sale: string;
/** Signed, never funded: the miner cancels it. */
let given: string;

/** The library's participant for a wallet directory (what the agent builds), with its notes collected. */
function participant(walletDir: string, notes: string[] = []): Participant {
  const node = inject('regtest').rpc;
  const config: ParticipantConfig = {
    network: 'regtest',
    networkGiven: true,
    walletDir,
    coordinator: coordinator?.url,
    oracles: [oracle.oracle.url],
    oraclePubkeys: [oracle.oracle.publicKey],
    oracleThreshold: undefined,
    rpc: { url: node.url, username: node.username, password: node.password },
    feeRatePerVb: undefined,
    threads: 1,
  };
  return new Participant(config, { note: (line) => notes.push(line) });
}

/** Runs a use case with a participant opened for it, and closes it (releasing the wallet lock). */
async function use<T>(walletDir: string, fn: (p: Participant) => Promise<T>, notes?: string[]): Promise<T> {
  const p = participant(walletDir, notes);
  try {
    return await fn(p);
  } finally {
    await p.close();
  }
}

beforeAll(async () => {
  oracle = await startTestOracle(rpc, { simulatedDifficulty: SIMDIFF_100THS_AT_HALF });
  coordinator = await startCoordinator(coordinatorConfig(join(tmp, 'coordinator'), oracle.oracle.url), { log: () => undefined });
  Wallet.init(minerDir, 'regtest');
  Wallet.init(buyerDir, 'regtest');
  const node = inject('regtest').rpc;
  const services = { rpc: node, coordinator: coordinator.url, oracles: [oracle.oracle.url], oraclePubkeys: [oracle.oracle.publicKey], threads: 1 };
  const miner = new StackParticipant('miner', minerDir, services);
  const buyer = new StackParticipant('buyer', buyerDir, services);
  // Two coins each: the cancelled contract's coins are not the sale's.
  for (const confirm of [false, true]) {
    await faucet.fund(await miner.address(), 1_000_000n, { confirm: false });
    await faucet.fund(await buyer.address(), 1_000_000n, { confirm });
  }
  const tip = await rpc.getBlockCount();
  window = { start: tip + 12, end: tip + 18 };
  const delivery = await buyer.address();
  const offer = await miner.offer({
    template: 'hashpower', window, hashrateThs: 100n,
    deliveryAddress: delivery, upfront: 20_000n, escrow: 300_000n, collateral: 200_000n, toleranceBps: 9500,
  });
  sale = offer.id;
  await buyer.accept(sale);
  await miner.sign(sale);
  await buyer.fund(sale);
  await mineBlocks(rpc, 1);
  // A second sale in the same window, signed but never funded: the miner gives it up.
  const unfunded = await miner.offer({
    template: 'hashpower', window, hashrateThs: 50n,
    deliveryAddress: await buyer.address(), escrow: 100_000n, collateral: 100_000n,
  });
  given = unfunded.id;
  await buyer.accept(given);
  await miner.sign(given);
}, 900_000);

afterAll(async () => {
  await coordinator?.stop();
  await oracle?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the after-funding use cases, called as a library', () => {
  it('contractStatus follows the coordinator and the node: the funded sale is confirmed', async () => {
    const st = await use(buyerDir, (p) => contractStatus(p, { id: sale }));
    expect(st.record.state).toBe('confirmed');
    expect(st.coordinator?.state).toMatch(/^(funding-broadcast|confirmed)$/);
    expect(st.confirmations).toBeGreaterThanOrEqual(1);
    const local = await use(buyerDir, (p) => contractStatus(p, { id: sale, local: true }));
    expect(local.coordinator).toBeUndefined();
    expect(local.confirmations).toBeUndefined();
  });

  it('cancelContract after sign double-spends the miner\'s inputs; a repeat after a crash before the record finds the same transaction', async () => {
    const first = await use(minerDir, (p) => cancelContract(p, { id: given }));
    expect(first).toMatchObject({ kind: 'cancelled', state: 'cancelled', already: false });
    if (first.kind !== 'cancelled' || first.onChain === undefined) throw new Error('no on-chain cancel');
    const cancelTxid = first.onChain.txid;
    expect(await rpc.getRawMempool()).toContain(cancelTxid);
    await mineBlocks(rpc, 1);
    // The crash: the process died after broadcasting, before recording `cancelled`.
    const store = Wallet.open(minerDir).contracts;
    store.save({ ...store.get(given), state: 'signed' });
    const repeat = await use(minerDir, (p) => cancelContract(p, { id: given }));
    expect(repeat).toMatchObject({ kind: 'cancelled', state: 'cancelled', onChain: { txid: cancelTxid, spends: first.onChain.spends } });
    expect(Wallet.open(minerDir).contracts.get(given).state).toBe('cancelled');
    // Once recorded: refused as the CLI always did, or done for the agent.
    await expect(use(minerDir, (p) => cancelContract(p, { id: given }))).rejects.toMatchObject({ code: 'STATE', message: expect.stringMatching(/is cancelled: only contracts not yet funded/) });
    expect(await use(minerDir, (p) => cancelContract(p, { id: given, doneIfCancelled: true }))).toMatchObject({ kind: 'cancelled', already: true });
  });

  it('refundContract before the refund locktime is NOT_READY and broadcasts nothing', async () => {
    const mempool = await rpc.getRawMempool();
    const err = await use(buyerDir, (p) => refundContract(p, { id: sale })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParticipantError);
    expect(err).toMatchObject({ code: 'NOT_READY', message: expect.stringMatching(/^refund locktime \d+ not reached \(tip \d+\); \d+ more block\(s\)$/) });
    expect(await rpc.getRawMempool()).toEqual(mempool);
  });

  it('with the coordinator gone, settleContract settles alone; a repeat is alreadyBroadcast with the same txid', async () => {
    await coordinator!.stop();
    coordinator = undefined;
    // The coordinator named in the record is unreachable: a note, not an error.
    const notes: string[] = [];
    const st = await use(buyerDir, (p) => contractStatus(p, { id: sale }), notes);
    expect(st.coordinator).toBeUndefined();
    expect(notes.some((n) => n.startsWith('coordinator: '))).toBe(true);

    await mineToHeight(rpc, window.start - 1);
    const delivery = Wallet.open(buyerDir).contracts.get(sale).terms.deliveryAddress as string;
    await mineAsPool(rpc, { blocks: window.end - window.start, shares: [{ address: delivery, shareBps: 2_500 }], restAddress: TestKey.random().address });
    // The oracle attests once block `end` exists.
    await expect(use(buyerDir, (p) => settleContract(p, { id: sale }))).rejects.toMatchObject({ code: 'NOT_READY' });
    await mineBlocks(rpc, 1);
    const deadline = Date.now() + 60_000;
    let first;
    for (;;) {
      try {
        first = await use(buyerDir, (p) => settleContract(p, { id: sale }));
        break;
      } catch (e) {
        if (!(e instanceof ParticipantError) || e.code !== 'NOT_READY' || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    expect(first).toMatchObject({ id: sale, state: 'settled', alreadyBroadcast: false });
    expect(await rpc.getRawMempool()).toContain(first.txid);
    expect(first.payouts.offer + first.payouts.accept).toBeGreaterThan(0n);
    expect(first.own).toBe(first.payouts.accept);

    // Run again while it is in the mempool, then once mined: the same CET, nothing new sent.
    const again = await use(buyerDir, (p) => settleContract(p, { id: sale }));
    expect(again).toEqual({ ...first, alreadyBroadcast: true });
    await mineBlocks(rpc, 1);
    const mined = await use(buyerDir, (p) => settleContract(p, { id: sale }));
    expect(mined).toEqual({ ...first, alreadyBroadcast: true });
    expect((await rpc.getRawTransaction(first.txid)).confirmations).toBeGreaterThanOrEqual(1);

    const rec = Wallet.open(buyerDir).contracts.get(sale);
    expect(rec).toMatchObject({ state: 'settled', closingTxid: first.txid });
    // One `settled` entry in the history however often it ran.
    expect(rec.history.filter((h) => h.state === 'settled')).toHaveLength(1);
  });
});
