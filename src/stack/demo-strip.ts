/**
 * The strip demo (`npm run demo -- --periods N [--delivery-schedule P1,...,PN]`,
 * issue 12): a miner sells 100 TH/s over N consecutive periods in one deal.
 * One offer, one accept, one sign, one funding transaction with N DLC funding
 * outputs and the upfront payment; then, period after period, the pool pays
 * the buyer's delivery address the period's share of each coinbase (the
 * schedule: percent of the contracted hashrate delivered in each period), a
 * majority of the stack's oracles attests the period's delivery, and the
 * coordinator settles THAT period with its CET while the later periods go on.
 * At the end every period's payouts on chain are compared with its payout
 * curve at its attested outcome, and every attested outcome with our own
 * computation from the blocks mined. A mismatch does not throw: `ok` is false.
 *
 * This module does NOT start the stack (src/demo.ts does) or tell the single
 * contract's story (demo.ts does; the helpers it shares are exported there).
 */
import {
  countedRewards,
  CURRENT_REWARD_RULE,
  deliveryOutcome,
  difficultyFromDecimal,
  subsidyHalvingInterval,
  type BlockReward,
  type BlockRewardWork,
  type NumericEventSpec,
} from '../../protocol/hashpower/index.js';
import { verifyOracleEvent } from '../participant/index.js';
import { mineAsPool, mineBlocks, mineToHeight, strangerAddress } from '../../regtest/index.js';
import { CoordinatorClient } from '../api/index.js';
import { StackError } from './errors.js';
import {
  curvePayouts,
  offerHexOf,
  offerOracleSet,
  onChainPayouts,
  onChainValue,
  waitForAttestations,
  waitForContractState,
  type Payouts,
} from './observe.js';
import { offerArgs } from './participant.js';
import { fmt, poolShareBps, short, type DemoServices, type Say } from './demo.js';

export interface StripDemoOptions {
  /** Number of periods (at least 2). */
  periods: number;
  /** Blocks per period (default 5). */
  periodBlocks?: number;
  /** Percent of the contracted hashrate the pool pays in each period (default 98 in every period). */
  deliverySchedule?: number[];
  hashrateThs?: bigint;
  upfront?: bigint;
  escrow?: bigint;
  collateral?: bigint;
  toleranceBps?: number;
}

export interface StripPeriodResult {
  index: number;
  id: string;
  window: { start: number; end: number };
  deliveryPercent: number;
  outcome: bigint;
  computedOutcome: bigint;
  closingTxid: string;
  onChain: Payouts;
  curve: Payouts;
  ok: boolean;
}

export interface StripDemoResult {
  ok: boolean;
  stripId: string;
  fundingTxid: string;
  /** DLC funding outputs counted in the funding transaction on chain. */
  dlcOutputs: number;
  periods: StripPeriodResult[];
  ms: number;
}

/**
 * Parses `--delivery-schedule`: N comma-separated percentages (0 to 1000).
 * @throws {StackError} STACK_CONFIG naming the bad entry or the count.
 */
export function parseDeliverySchedule(text: string, periods: number): number[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length !== periods) throw new StackError('STACK_CONFIG', `--delivery-schedule has ${parts.length} entries for ${periods} periods`);
  return parts.map((p, i) => {
    const v = Number(p);
    if (!/^\d+(\.\d+)?$/.test(p) || v > 1000) throw new StackError('STACK_CONFIG', `--delivery-schedule entry ${i + 1} must be a percentage (0 to 1000), got '${p}'`);
    return v;
  });
}

/**
 * Runs the strip story.
 * @throws {ParticipantError} (a step failed), {StackError} STACK_TIMEOUT / STACK_CHECK; {ChainError}.
 */
export async function runStripDemo(s: DemoServices, options: StripDemoOptions, out: (line: string) => void): Promise<StripDemoResult> {
  const t0 = performance.now();
  const at = (): string => `[${((performance.now() - t0) / 1000).toFixed(1).padStart(5)}s]`;
  const say: Say = (who, text) => out(`${at()} ${who.padEnd(11)} ${text}`);
  const n = options.periods;
  const periodBlocks = options.periodBlocks ?? 5;
  const schedule = options.deliverySchedule ?? Array.from({ length: n }, () => 98);
  if (n < 2 || schedule.length !== n) throw new StackError('STACK_CONFIG', `a strip needs 2 or more periods and one delivery percentage each (got ${n} periods, ${schedule.length} percentages)`);
  const H = options.hashrateThs ?? 100n;
  const o = {
    upfront: options.upfront ?? 200_000n,
    escrow: options.escrow ?? 800_000n,
    collateral: options.collateral ?? 500_000n,
    toleranceBps: options.toleranceBps ?? 9500,
  };
  const shares = schedule.map((pct) => poolShareBps(H, pct));

  const tip = await s.rpc.getBlockCount();
  const window = { start: tip + 3, end: tip + 3 + n * periodBlocks };
  out(`hashdlc demo: a miner sells ${H} TH/s over blocks [${window.start}, ${window.end}) to a buyer as a strip of ${n} periods of ${periodBlocks} blocks`);
  out(`  one funding transaction, ${n} DLCs: each period settles on its own attestation; delivery schedule ${schedule.map((p) => `${p}%`).join(', ')}`);
  out(`  coordinator ${s.coordinatorUrl}, ${s.oracles.length} oracle(s) ${s.oracles.map((x) => x.url).join(', ')}, chain height ${tip}`);

  // 1. The offer: one deal, N period contracts.
  const deliveryAddress = await s.buyer.address();
  say('buyer', `$ hashdlc wallet address  → delivery address ${deliveryAddress}`);
  // Each period's payouts step by a tenth of its DLC (11 CETs a period): a strip multiplies the
  // adaptor signatures by N, and the demo's outcomes are whole periods delivered or not.
  const roundingMod = (o.escrow + o.collateral) / BigInt(n) / 10n;
  const input = {
    template: 'hashpower' as const, window, hashrateThs: H, deliveryAddress, upfront: o.upfront, escrow: o.escrow,
    collateral: o.collateral, toleranceBps: o.toleranceBps, feeRatePerVb: 2n, periods: n, ...(roundingMod > 0n ? { roundingMod } : {}),
  };
  const offer = await s.miner.offer(input);
  say('miner', `$ ${s.miner.commandLine(offerArgs(input))}`);
  const offered = offer.strip;
  if (offered === undefined || offered.periods.length !== n) throw new StackError('STACK_CHECK', `the offer ${offer.id} is not a strip of ${n} periods`);
  // A posted strip names every period's contract (only a dry run leaves them out).
  const strip = { id: offered.id ?? offer.id, periods: offered.periods.map((p) => ({ ...p, id: p.id ?? '' })) };
  if (strip.periods.some((p) => p.id === '')) throw new StackError('STACK_CHECK', `the strip ${offer.id} was posted without its period ids`);
  say('', `strip ${short(offer.id)} posted: price ${fmt(o.upfront + o.escrow)} sats (${fmt(o.upfront)} upfront + ${fmt(o.escrow)} escrow over ${n} periods), collateral ${fmt(o.collateral)}`);
  for (const p of strip.periods) say('', `  period ${p.index + 1}: blocks [${p.window.start}, ${p.window.end}), contract ${short(p.id)}, oracle event ${p.eventId}`);

  // 2. Accept, sign, fund: one round for the N contracts.
  const accepted = await s.buyer.accept(offer.id);
  say('buyer', `$ hashdlc accept ${short(offer.id)}  → every period checked against its terms and its oracles; ${accepted.adaptorSignatures} CET adaptor signatures made`);
  let fundingTxid: string;
  if (s.agents !== undefined) {
    fundingTxid = await s.agents.signAndFund(offer.id, say);
  } else {
    await s.miner.sign(offer.id);
    say('miner', `$ hashdlc sign ${short(offer.id)}  → the buyer's signatures of every period verified; CETs, refunds and funding inputs signed`);
    const funded = await s.buyer.fund(offer.id);
    if (funded.psbtOut) throw new StackError('STACK_COMMAND', 'buyer: fund returned a PSBT');
    fundingTxid = funded.fundingTxid;
    say('buyer', `$ hashdlc fund ${short(offer.id)}  → funding tx ${fundingTxid} broadcast by the ${funded.broadcastBy}`);
  }

  // 3. The funding confirms: N DLC outputs and the upfront payment in one transaction.
  await mineBlocks(s.rpc, 1);
  const views = [];
  for (const p of strip.periods) views.push(await waitForContractState(s.coordinatorUrl, p.id, ['confirmed']));
  const fundingTx = await s.rpc.getRawTransaction(fundingTxid);
  const dlcOutputs = new Set(views.map((v) => Number(v.fundOutputIndex))).size;
  const stripTerms = (await new CoordinatorClient(s.coordinatorUrl).strip(offer.id)).terms;
  const upfrontSpk = typeof stripTerms.upfrontScript === 'string' ? stripTerms.upfrontScript : undefined;
  const paidUpfront = fundingTx.vout.filter((v) => v.scriptPubKey.hex === upfrontSpk).reduce((a, v) => a + v.valueSats, 0n);
  say('chain', `block ${String(views[0]!.fundingHeight)} confirms the funding tx: ${dlcOutputs} DLC funding outputs (${views.map((v) => fmt(BigInt(v.totalCollateral))).join(' + ')} sats) and ${fmt(paidUpfront)} sats paid to the miner at once`);

  // 4. Period after period: the pool pays, the oracles attest, the coordinator settles that period.
  const set = offerOracleSet(await offerHexOf(s.coordinatorUrl, strip.periods[0]!.id), s.oracles);
  const difficulty = difficultyFromDecimal(s.simulatedDifficulty);
  const periodOf = (h: number): number => strip.periods.findIndex((p) => h >= p.window.start && h < p.window.end);
  const delivered = strip.periods.map(() => 0n);
  const mined: BlockReward[][] = strip.periods.map(() => []);
  const mineOne = async (): Promise<void> => {
    const h = (await s.rpc.getBlockCount()) + 1;
    const i = periodOf(h);
    const payShares = i >= 0 && shares[i]! > 0 ? [{ address: deliveryAddress, shareBps: shares[i]! }] : [];
    const [b] = await mineAsPool(s.rpc, { blocks: 1, shares: payShares, restAddress: strangerAddress() });
    if (i < 0) return;
    const paid = b!.payouts.filter((p) => p.address === deliveryAddress).reduce((a, p) => a + p.valueSats, 0n);
    delivered[i]! += paid;
    mined[i]!.push({ height: b!.height, reward: b!.rewardSats });
  };
  await mineToHeight(s.rpc, window.start - 1);
  const results: StripPeriodResult[] = [];
  for (const [i, p] of strip.periods.entries()) {
    while ((await s.rpc.getBlockCount()) < p.window.end - 1) await mineOne();
    say('pool', `period ${i + 1}: blocks [${p.window.start}, ${p.window.end}) mined, ${fmt(delivered[i]!)} sats paid to the delivery address (${schedule[i]}% of ${H} TH/s)`);
    // One confirmation of the period's last block (the next period's first block, or a plain block after the last period).
    await mineOne();
    const spec: NumericEventSpec = { nbDigits: 14, precision: 0 };
    const blocks: BlockRewardWork[] = countedRewards(mined[i]!, CURRENT_REWARD_RULE, subsidyHalvingInterval('regtest')).rewards.map((reward) => ({ reward, difficulty }));
    const computed = deliveryOutcome(delivered[i]!, H, blocks, spec).outcome;
    const attested = await waitForAttestations(set.oracles.map((x) => x.url), p.eventId, set.threshold);
    const outcome = BigInt(attested[0]!.attestation.outcome);
    let evidenceOk = attested.every((a) => a.attestation.outcome === attested[0]!.attestation.outcome);
    for (const { url } of attested) {
      const report = await verifyOracleEvent({ oracleUrl: url, eventId: p.eventId, rpc: s.rpc });
      evidenceOk &&= report.ok && report.outcome === String(outcome);
    }
    say('oracle', `period ${i + 1}: ${attested.length} of ${set.oracles.length} oracles attested ${outcome} bps (our count of the blocks: ${computed} bps; evidence ${evidenceOk ? 'holds' : 'FAILS'})`);
    const broadcast = await waitForContractState(s.coordinatorUrl, p.id, ['cet-broadcast', 'settled'], 60_000);
    say('coordinator', `period ${i + 1}: CET ${broadcast.closingTxid} broadcast; ${n - i - 1} later period(s) still live`);
    results.push({ index: i, id: p.id, window: p.window, deliveryPercent: schedule[i]!, outcome, computedOutcome: computed, closingTxid: broadcast.closingTxid ?? '', onChain: { offer: 0n, accept: 0n }, curve: { offer: 0n, accept: 0n }, ok: evidenceOk && computed === outcome });
  }

  // 5. Every CET confirmed; each period's payouts against its curve at its outcome.
  await mineBlocks(s.rpc, 1);
  out('');
  out(`period  blocks          delivery  outcome    miner on chain / curve      buyer on chain / curve`);
  for (const r of results) {
    const settled = await waitForContractState(s.coordinatorUrl, r.id, ['settled'], 60_000);
    r.closingTxid = settled.closingTxid!;
    r.onChain = await onChainPayouts(s.rpc, r.closingTxid, settled);
    const curve = curvePayouts(await offerHexOf(s.coordinatorUrl, r.id), settled.terms, r.outcome);
    r.curve = { offer: onChainValue(curve.offer), accept: onChainValue(curve.accept) };
    r.ok &&= r.onChain.offer === r.curve.offer && r.onChain.accept === r.curve.accept;
    out(`${String(r.index + 1).padStart(6)}  [${r.window.start}, ${r.window.end})`.padEnd(24) + `${`${r.deliveryPercent}%`.padStart(8)}  ${`${r.outcome} bps`.padEnd(9)}  ${`${fmt(r.onChain.offer)} / ${fmt(r.curve.offer)}`.padStart(24)}  ${`${fmt(r.onChain.accept)} / ${fmt(r.curve.accept)}`.padStart(24)}  ${r.ok ? 'ok' : 'MISMATCH'}`);
  }
  const ok = results.every((r) => r.ok) && dlcOutputs === n && paidUpfront === o.upfront;
  out(`  (the miner also received ${fmt(paidUpfront)} upfront in the funding transaction; the buyer received ${fmt(delivered.reduce((a, b) => a + b, 0n))} sats of block rewards)`);
  out(ok ? `OK: every period's payouts on chain equal its payout curve at its attested outcome` : 'FAILED: a period\'s payouts or outcome differ (see the table)');
  return { ok, stripId: offer.id, fundingTxid, dlcOutputs, periods: results, ms: performance.now() - t0 };
}
