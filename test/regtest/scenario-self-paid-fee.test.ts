/**
 * Scenario, issue 9 hole 6 ("outcomes can be moved with self-paid fees"),
 * performed against the `npm start` stack (oracle and coordinator as child
 * processes) on the suite's regtest node, participants through the
 * participant library (the `hashdlc` steps): a 100 TH/s sale over 40 blocks; the pool pays the buyer's
 * delivery address the miner's full share (10% of every coinbase on the
 * stack's simulated 1 PH/s network) in 39 of them, and the BUYER mines the
 * 40th itself, with a transaction paying itself a 1,000 BTC fee that was
 * never in any mempool (its own block, built with regtest/ `buildBlockOn`,
 * coinbase claiming subsidy + the fee).
 *
 * Under the old rule (whole coinbases count towards `v`) that fee would make
 * the expected reward ~30,000 times larger and the delivery ratio ~0: the
 * buyer would take escrow + collateral. Under `subsidy+fees-capped-4x-median-v1`
 * the fee counts at most 4x the window's median block fees (0 here), the
 * oracle attests 39/40 = ~9,750 bps, at or above the 9,500 tolerance, and the
 * coordinator settles the miner's escrow + collateral on chain. The same
 * evidence recomputed under `full-reward-v0` gives an outcome under the
 * tolerance, and `hashdlc oracle verify` (a child process) holds the
 * attestation against the node, naming the rule, and refuses the evidence
 * when the rule in it is swapped for the old one.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Transaction } from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { useRegtest } from '../../regtest/context.js';
import { buildBlockOn, buildP2wpkhSpend, mineAsPool, mineBlocks, mineToHeight, regtestSubsidy, strangerAddress, TestKey, type Utxo } from '../../regtest/index.js';
import { CAPPED_FEES_RULE, recomputeOutcome } from '../../protocol/hashpower/index.js';
import { evidenceFromJson } from '../../protocol/events/index.js';
import { verifyOracleEvent } from '../../src/participant/index.js';
import { waitForContractState } from '../../src/stack/index.js';
import { expectSettledOnCurve, negotiate, newAddress, saleOffer, startWorld, windowInOneEra, type Negotiated, type Settlement, type World } from './scenario-helpers.js';

const run = promisify(execFile);
const BTC = 100_000_000n;
const SELF_PAID_FEE = 1000n * BTC;
const WINDOW_BLOCKS = 40;
/** The buyer's block: the 21st of the window. */
const ATTACK_OFFSET = 20;

let w: World;
let sale: Negotiated;
let window: { start: number; end: number };
let attackHeight: number;
const attacker = TestKey.random();

beforeAll(async () => {
  const { rpc, faucet } = useRegtest();
  // The faucet's first coinbases (50 BTC each) must be mature: 1,001 BTC of them.
  await mineToHeight(rpc, 240);
  const funded: Utxo = await faucet.fund(attacker.address, SELF_PAID_FEE + BTC);
  w = await startWorld();
  window = await windowInOneEra(w.rpc, WINDOW_BLOCKS, 6);
  const delivery = await newAddress(w.buyer);
  sale = await negotiate(w, saleOffer({ window, deliveryAddress: delivery }));
  await mineBlocks(w.rpc, 1);
  await waitForContractState(w.coordinatorUrl, sale.id, ['confirmed']);

  // The buyer's transaction paying itself: 1,001 BTC in, 1 BTC out, 1,000 BTC fee.
  const selfPaying = buildP2wpkhSpend([{ utxo: funded, key: attacker }], [{ address: attacker.address, valueSats: BTC }], {
    feeRateSatPerVb: 800_000_000n, // so high that no change is left: everything above 1 BTC is fee
  });
  expect(selfPaying.feeSats).toBe(SELF_PAID_FEE);

  const share = [{ address: delivery, shareBps: 1000 }];
  await mineToHeight(w.rpc, window.start - 1);
  await mineAsPool(w.rpc, { blocks: ATTACK_OFFSET, shares: share, restAddress: strangerAddress() });
  const own = await buildBlockOn(w.rpc, await w.rpc.getBestBlockHash(), {
    payoutAddress: attacker.address,
    txs: [Transaction.fromHex(selfPaying.hex)],
    claimFeesSats: SELF_PAID_FEE,
  });
  await w.rpc.submitBlock(own.hex);
  attackHeight = window.start + ATTACK_OFFSET;
  expect(await w.rpc.getBlockHash(attackHeight)).toBe(own.hash);
  await mineAsPool(w.rpc, { blocks: WINDOW_BLOCKS - ATTACK_OFFSET - 1, shares: share, restAddress: strangerAddress() });
  await mineBlocks(w.rpc, 1);
}, 240_000);

afterAll(async () => {
  await w?.close();
});

describe('a buyer mines one block of the window with a 1,000 BTC fee paid to itself', () => {
  let settled: Settlement;

  it('the fully delivered sale stays at or above its tolerance: the miner receives escrow + collateral on chain', async () => {
    settled = await expectSettledOnCurve(w, sale);
    const outcome = BigInt(settled.attestation!.outcome);
    // 39 of 40 blocks delivered in full: 9,750 bps less the pool's rounding down (the buyer's block pays nothing).
    expect(outcome).toBeGreaterThanOrEqual(9500n);
    expect(settled.onChain).toEqual({ offer: 450_000n, accept: 0n });
    // The attack really happened on chain: the buyer's block claims subsidy + 1,000 BTC, its coins are that coinbase now.
    const block = await w.rpc.getBlockWithTxs(await w.rpc.getBlockHash(attackHeight));
    expect(block.tx[0]!.vout.reduce((s, o) => s + o.valueSats, 0n)).toBe(regtestSubsidy(attackHeight) + SELF_PAID_FEE);
  });

  it('the oracle counted the block with its fee capped by the rule; the old rule on the same evidence would have pushed the sale under', async () => {
    const att = settled.attestation!;
    const evidence = evidenceFromJson(att.evidence);
    if (evidence.kind !== 'hashpower-delivery') throw new Error(evidence.kind);
    expect(sale.eventId).toContain(`/reward=${CAPPED_FEES_RULE}/`);
    expect(evidence).toMatchObject({ rewardRule: CAPPED_FEES_RULE, subsidyHalvingInterval: 150 });
    expect(evidence.blocks.find((b) => b.height === attackHeight)!.reward).toBe(regtestSubsidy(attackHeight) + SELF_PAID_FEE);
    expect(att.result).toMatchObject({ rewardRule: CAPPED_FEES_RULE, feeCap: '0' });
    const now = recomputeOutcome(evidence);
    expect(now.outcome.toString()).toBe(settled.attestation!.outcome);
    expect(now.networkReward - now.countedReward).toBe(SELF_PAID_FEE);

    const { rewardRule: _rule, subsidyHalvingInterval: _interval, ...oldRule } = evidence;
    const before = recomputeOutcome(oldRule);
    expect(before.rewardRule).toBe('full-reward-v0');
    // Whole coinbases: the expected reward grows by the fee, the ratio shrinks by counted/network reward
    // (to about half at regtest height ~300, to ~0 further up where the subsidy is small).
    expect(before.outcome).toBeLessThan(9500n);
    expect(before.outcome).toBeLessThanOrEqual((now.outcome * now.countedReward) / now.networkReward + 1n);
  });

  it('hashdlc oracle verify recomputes the attestation from the node under the stated rule', async () => {
    const node = inject('regtest').rpc;
    const verified = await run(process.execPath, ['--import', 'tsx', 'bin/hashdlc.js', 'oracle', 'verify', w.oracleUrl, sale.eventId], {
      env: { ...process.env, BITCOIN_RPC_URL: node.url, BITCOIN_RPC_USER: node.username, BITCOIN_RPC_PASSWORD: node.password },
    });
    expect(verified.stdout).toContain(`HOLDS: outcome ${settled.attestation!.outcome}`);
    expect(verified.stdout).toContain(`under ${CAPPED_FEES_RULE} (fee cap 0 sats)`);
  });

  it('an oracle (or a relay) that swaps the rule in the evidence after announcement does not verify', async () => {
    // The evidence served as if under the old rule: what an oracle paid by the buyer would publish with outcome 0.
    const oldRuleEvidence: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).endsWith('/attestation')) return res;
      const body = (await res.json()) as { evidence: Record<string, unknown> };
      delete body.evidence.rewardRule;
      delete body.evidence.subsidyHalvingInterval;
      return new Response(JSON.stringify(body), { status: 200 });
    };
    const report = await verifyOracleEvent({ oracleUrl: w.oracleUrl, eventId: sale.eventId, rpc: w.rpc, fetch: oldRuleEvidence });
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.name === 'outcome recomputed from evidence')).toMatchObject({
      ok: false,
      detail: `evidence reward rule full-reward-v0 differs from the event's ${CAPPED_FEES_RULE}`,
    });
  });
});
