/**
 * Scenarios of issue 11 (k-of-n oracle sets), with real processes: three
 * oracle service processes, a coordinator process allowing all three (its
 * watcher settles), a miner and a buyer through the participant library
 * configured with the three oracles (pinned keys) and a threshold of 2. Each
 * is a 100 TH/s hashpower sale (50,000 upfront, 250,000 escrow, 200,000
 * collateral) over a 5-block window; the pool pays the delivery address 50%
 * of each coinbase on the main chain, which the oracles' simulated difficulty
 * makes exactly 100 TH/s (full delivery, outcome 10000 bps).
 *
 * a. One oracle is SIGKILLed before the attestation height: the other two
 *    attest, the coordinator's watcher completes the CET with them; payouts on
 *    chain equal the curve's at the attested outcome.
 * b. One oracle follows a divergent node (regtest/divergent.ts) whose chain
 *    pays nothing to the delivery address in the window: it honestly attests
 *    0; the two agreeing oracles settle at 10000; the coordinator's contract
 *    view reports the third with `agreed: false` and the dashboard's
 *    contract page flags the dissent.
 * c. Two of three are SIGKILLed: the one left attests, which is below K, so
 *    no CET can be completed; the coordinator refunds at the refund locktime
 *    and each party gets its collateral back.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { useRegtest } from '../../regtest/context.js';
import { mineAsPool, mineBlocks, mineToHeight, startDivergentNode, strangerAddress } from '../../regtest/index.js';
import { curvePayouts, offerHexOf, onChainPayouts, onChainValue, waitForAttestation, waitForContractState, type ContractView } from '../../src/stack/index.js';
import { negotiate, saleOffer, windowInOneEra, type Negotiated } from './scenario-helpers.js';
import { offerOracleInfo, oracleSetOf, startOracleSetWorld, type OracleNode, type OracleSetWorld, type OracleView, type SetOracle } from './oracle-set-fixture.js';

const { rpc, faucet } = useRegtest();
const WINDOW_BLOCKS = 5;
/** 50% of every coinbase: exactly 100 TH/s at the oracles' simulated difficulty. */
const FULL_SHARE_BPS = 5000;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A world whose processes are stopped after the test, whatever happens. */
async function world(options?: Parameters<typeof startOracleSetWorld>[2]): Promise<OracleSetWorld> {
  const w = await startOracleSetWorld(rpc, faucet, options);
  cleanups.push(() => w.close());
  return w;
}

interface FundedSale {
  n: Negotiated;
  window: { start: number; end: number };
  delivery: string;
}

/**
 * A 100 TH/s sale negotiated by the world's miner and buyer (offer, accept,
 * sign, fund) over `window` (default: 6 blocks ahead), its funding confirmed;
 * checks the offer names the whole set with the world's threshold, each
 * oracle's announcement of one event.
 */
async function fundedSale(w: OracleSetWorld, given?: { start: number; end: number }): Promise<FundedSale> {
  const window = given ?? (await windowInOneEra(rpc, WINDOW_BLOCKS, 6));
  const delivery = await w.buyer.address();
  const n = await negotiate(w, saleOffer({ window, deliveryAddress: delivery }));
  expect(oracleSetOf(await offerOracleInfo(w.coordinatorUrl, n.id))).toEqual({ threshold: w.threshold, keys: w.oracles.map((o) => o.publicKey) });
  await mineBlocks(rpc, 1);
  await waitForContractState(w.coordinatorUrl, n.id, ['confirmed']);
  return { n, window, delivery };
}

/** The pool's window on the main chain (full delivery), then one block on top: the attestation height. */
async function deliverOnMain(window: { start: number; end: number }, delivery: string): Promise<void> {
  await mineToHeight(rpc, window.start - 1);
  await mineAsPool(rpc, { blocks: window.end - window.start, shares: [{ address: delivery, shareBps: FULL_SHARE_BPS }], restAddress: strangerAddress() });
  await mineBlocks(rpc, 1);
}

/**
 * Waits until the coordinator settled the contract by CET at `outcome`
 * (mines the block that confirms it) and checks the payouts on chain against
 * the payout curve at that outcome.
 */
async function expectSettledAt(w: OracleSetWorld, n: Negotiated, outcome: string): Promise<ContractView> {
  const broadcast = await waitForContractState(w.coordinatorUrl, n.id, ['cet-broadcast', 'settled'], 60_000);
  expect(broadcast).toMatchObject({ closingKind: 'cet', outcome, broadcastBy: 'coordinator' });
  if (broadcast.state !== 'settled') await mineBlocks(rpc, 1);
  const view = await waitForContractState(w.coordinatorUrl, n.id, ['settled']);
  const onChain = await onChainPayouts(rpc, view.closingTxid!, view);
  const curve = curvePayouts(await offerHexOf(w.coordinatorUrl, n.id), view.terms, BigInt(outcome));
  expect(onChain).toEqual({ offer: onChainValue(curve.offer), accept: onChainValue(curve.accept) });
  return view;
}

/** The coordinator view's entry of oracle `o` (matched by key). */
function entryOf(view: ContractView, o: SetOracle): OracleView {
  const entries = view.oracles as OracleView[] | undefined;
  expect(entries, 'the contract view lists its oracles').toBeDefined();
  const entry = entries!.find((e) => e.publicKey === o.publicKey);
  expect(entry, `oracle ${o.url} in the contract view`).toBeDefined();
  return entry!;
}

/** The coordinator's dashboard page of a contract (HTML). */
async function dashboardPage(w: OracleSetWorld, id: string): Promise<string> {
  const res = await fetch(`${w.coordinatorUrl}/dashboard/contracts/${id}`);
  expect(res.status).toBe(200);
  return res.text();
}

/** The table row (`<tr ...>...</tr>`) of a dashboard page that names oracle `o` by URL. */
function rowOf(html: string, o: SetOracle): string {
  const row = html.split(/<tr[\s>]/).slice(1).map((r) => r.split('</tr>')[0]!).find((r) => r.includes(o.url));
  expect(row, `a row of the dashboard page names oracle ${o.url}`).toBeDefined();
  return row!;
}

describe('k-of-n oracle sets: 2 of 3, real oracle and coordinator processes', () => {
  /**
   * a and c share one world (its four processes take about as long to start
   * as a scenario takes to run). An offer needs all three oracles, so both
   * sales are funded before a kills one; c's window starts after a's
   * contract has settled, and c kills a second oracle (the one a killed is
   * already silent). b, in a world of its own, runs after them: it mines
   * past c's window.
   */
  let shared: { w: OracleSetWorld; a: FundedSale; c: FundedSale };
  beforeAll(async () => {
    const w = await startOracleSetWorld(rpc, faucet);
    try {
      // a's window, then c's: c starts two blocks after a's attestation block plus the block settling a.
      const span = await windowInOneEra(rpc, 3 * WINDOW_BLOCKS + 3, 6);
      const a = await fundedSale(w, { start: span.start, end: span.start + WINDOW_BLOCKS });
      const c = await fundedSale(w, { start: span.end - WINDOW_BLOCKS, end: span.end });
      shared = { w, a, c };
    } catch (err) {
      await w.close();
      throw err;
    }
  }, 180_000);
  afterAll(async () => {
    await shared?.w.close();
  });

  it('a. one oracle SIGKILLed before the attestation: the other two settle it', async () => {
    const { w, a: { n, window, delivery } } = shared;
    const [a, b, dead] = w.oracles as [SetOracle, SetOracle, SetOracle];
    const exit = await dead.kill();
    expect(exit.signal).toBe('SIGKILL');

    await deliverOnMain(window, delivery);
    for (const o of [a, b]) expect((await waitForAttestation(o.url, n.eventId)).outcome).toBe('10000');
    const view = await expectSettledAt(w, n, '10000');
    expect(await onChainPayouts(rpc, view.closingTxid!, view)).toEqual({ offer: 450_000n, accept: 0n });

    for (const o of [a, b]) expect(entryOf(view, o)).toMatchObject({ url: o.url, eventId: n.eventId, attested: true, outcome: '10000', agreed: true });
    expect(entryOf(view, dead)).toMatchObject({ url: dead.url, eventId: n.eventId, attested: false, outcome: null, agreed: null });
    // The dashboard lists all three oracles and flags none: a silent oracle is not a dissenting one.
    const html = await dashboardPage(w, n.id);
    for (const o of w.oracles) expect(rowOf(html, o)).not.toMatch(/dissent/i);
  }, 180_000);

  it('c. two of three silent: one attestation is below K, the contract refunds at the locktime', async () => {
    const { w, c: { n, window, delivery } } = shared;
    const [alive, ...silent] = w.oracles as [SetOracle, SetOracle, SetOracle];
    // (After a, the third is already dead: kill then reports how it ended.)
    for (const o of silent) expect((await o.kill()).signal).toBe('SIGKILL');
    expect(await rpc.getBlockCount()).toBeLessThan(window.start - 1);

    await deliverOnMain(window, delivery);
    // The one oracle left attests (full delivery), but one of K = 2 completes no CET.
    expect((await waitForAttestation(alive.url, n.eventId)).outcome).toBe('10000');
    const refundLocktime = n.offer.refundLocktime;
    expect(await rpc.getBlockCount()).toBeLessThan(refundLocktime);
    // nLockTime L is final in block L + 1: the refund enters the mempool once the tip is L.
    await mineToHeight(rpc, refundLocktime);
    const broadcast = await waitForContractState(w.coordinatorUrl, n.id, ['refund-broadcast', 'refunded'], 60_000);
    expect(broadcast).toMatchObject({ closingKind: 'refund', broadcastBy: 'coordinator' });
    if (broadcast.state !== 'refunded') await mineBlocks(rpc, 1);
    const view = await waitForContractState(w.coordinatorUrl, n.id, ['refunded']);
    // Both collaterals back: the miner's 200,000 and the buyer's 250,000 escrow (the upfront was paid at funding).
    expect(await onChainPayouts(rpc, view.closingTxid!, view)).toEqual({ offer: 200_000n, accept: 250_000n });
    expect(view.history.map((e) => e.state)).not.toContain('attested');
    expect(entryOf(view, alive)).toMatchObject({ attested: true, outcome: '10000' });
    for (const o of silent) expect(entryOf(view, o)).toMatchObject({ attested: false, outcome: null, agreed: null });
  }, 180_000);

  it('b. a wrong oracle (its node follows another chain in the window) dissents; the two agreeing settle', async () => {
    const divergent = await startDivergentNode(rpc);
    cleanups.push(() => divergent.stop());
    const main: OracleNode = { follows: 'main', rpc: inject('regtest').rpc, rpcClient: rpc };
    const w = await world({ oracleNodes: [main, main, { follows: 'divergent', rpc: divergent.rpcConfig, rpcClient: divergent.rpc }] });
    const [a, b, wrong] = w.oracles as [SetOracle, SetOracle, SetOracle];
    // Same chain at the offer: the wrong oracle announces the same event as the others.
    await divergent.follow();
    const { n, window, delivery } = await fundedSale(w);

    // Both chains agree up to the block before the window, then differ.
    await mineToHeight(rpc, window.start - 1);
    const forkHash = await divergent.follow(window.start - 1);
    // The other chain: nobody pays the delivery address. Its oracle attests first, so the
    // coordinator has the dissenting attestation in hand when the agreeing ones arrive.
    await divergent.mine(window.end - window.start + 1);
    expect((await waitForAttestation(wrong.url, n.eventId)).outcome).toBe('0');
    await deliverOnMain(window, delivery);
    expect(await divergent.commonHeight()).toBe(window.start - 1);
    expect(await rpc.getBlockHash(window.start - 1)).toBe(forkHash);
    for (const o of [a, b]) expect((await waitForAttestation(o.url, n.eventId)).outcome).toBe('10000');

    const view = await expectSettledAt(w, n, '10000');
    expect(await onChainPayouts(rpc, view.closingTxid!, view)).toEqual({ offer: 450_000n, accept: 0n });
    for (const o of [a, b]) expect(entryOf(view, o)).toMatchObject({ attested: true, outcome: '10000', agreed: true });
    expect(entryOf(view, wrong)).toMatchObject({ url: wrong.url, eventId: n.eventId, attested: true, outcome: '0', agreed: false });

    // The dashboard's contract page flags the dissenting oracle's row, and only that one.
    const html = await dashboardPage(w, n.id);
    expect(rowOf(html, wrong)).toMatch(/dissent/i);
    for (const o of [a, b]) expect(rowOf(html, o)).not.toMatch(/dissent/i);
  }, 180_000);
});
