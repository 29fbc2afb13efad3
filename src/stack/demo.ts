/**
 * The demo story (`npm run demo`), against a running stack: a miner offers
 * 100 TH/s for a window of blocks, a buyer accepts (participant library
 * calls, participant.ts, shown as the commands a user would type); the
 * miner signs and the buyer funds (typed the same way, or, with `agents`,
 * taken by the two parties' agents), the pool simulator pays the miner's
 * share of every coinbase in the window to the buyer's delivery address, the
 * oracle attests the delivery ratio, the coordinator settles with the CET
 * the attestation unlocks. Every step is reported as it happens; at the end
 * the payouts on chain are compared with the payout curve at the attested
 * outcome (observe.ts `curvePayouts`), and the attested outcome with our own
 * computation from the blocks we mined (protocol/hashpower).
 *
 * The simulated network is 1 PH/s (config.ts `STACK_SIMULATED_DIFFICULTY`),
 * so 100 TH/s is 10% of every block: the pool pays the delivery address
 * `10% x delivery%` of each coinbase (default 98%: a 2% pool fee).
 *
 * This module does NOT start or find the stack (src/demo.ts does).
 */
import {
  countedRewards,
  CURRENT_REWARD_RULE,
  deliveryOutcome,
  difficultyFromDecimal,
  expectedDeliverySats,
  ratFloor,
  subsidyHalvingInterval,
  type BlockReward,
  type BlockRewardWork,
} from '../../protocol/hashpower/index.js';
import type { BitcoinRpc } from '../chain/index.js';
import { verifyOracleEvent } from '../participant/index.js';
import { mineAsPool, mineBlocks, mineToHeight, strangerAddress } from '../../regtest/index.js';
import { OracleClient } from '../api/index.js';
import { StackError } from './errors.js';
import { curvePayouts, offerHexOf, onChainPayouts, onChainValue, waitForAttestation, waitForContractState, type Payouts } from './observe.js';
import { offerArgs, type StackParticipant } from './participant.js';
import type { OfferInput } from '../participant/index.js';

export interface DemoOptions {
  /** Contracted hashrate, TH/s (default 100). */
  hashrateThs?: bigint;
  /** Blocks in the window (default 20). */
  windowBlocks?: number;
  /** Share of the contracted hashrate the pool actually pays, percent (default 98). */
  deliveryPercent?: number;
  upfront?: bigint;
  escrow?: bigint;
  collateral?: bigint;
  toleranceBps?: number;
}

export interface DemoServices {
  rpc: BitcoinRpc;
  coordinatorUrl: string;
  oracleUrl: string;
  /** The oracle's simulated difficulty (decimal string). */
  simulatedDifficulty: string;
  miner: StackParticipant;
  buyer: StackParticipant;
  /**
   * When given, the miner's and the buyer's agents take every step after the
   * accept (sign, fund); nothing more is typed. Otherwise the demo runs
   * `sign` and `fund` itself, as a user would type them.
   */
  agents?: DemoAgents;
}

/** Reports one step: who took it, and what. */
export type Say = (who: string, text: string) => void;

/** The agents of the demo (src/stack/demo-agents.ts runs them as child processes). */
export interface DemoAgents {
  /**
   * Hands the accepted offer `id` to the agents (the miner's signs, the
   * buyer's funds) and resolves with the funding txid once the funding
   * transaction is out.
   */
  signAndFund(id: string, say: Say): Promise<string>;
}

/** `hashdlc sign` by the miner, `hashdlc fund` by the buyer, typed as a user would. */
async function typedSignAndFund(s: DemoServices, id: string, say: Say): Promise<string> {
  await s.miner.sign(id);
  say('miner', `$ hashdlc sign ${short(id)}  → the buyer's signatures verified; CETs, refund and funding inputs signed`);
  const funded = await s.buyer.fund(id);
  if (funded.psbtOut) throw new StackError('STACK_COMMAND', 'buyer: fund returned a PSBT');
  say('buyer', `$ hashdlc fund ${short(id)}  → funding tx ${funded.fundingTxid} broadcast by the ${funded.broadcastBy}`);
  return funded.fundingTxid;
}

export interface DemoResult {
  ok: boolean;
  offerId: string;
  contractId: string;
  window: { start: number; end: number };
  outcome: bigint;
  /** Our own computation of the outcome from the blocks mined. */
  computedOutcome: bigint;
  fundingTxid: string;
  closingTxid: string;
  onChain: Payouts;
  curve: Payouts;
  ms: number;
}

/** The numeric event's digits and precision, from the oracle. */
async function eventDigits(oracleUrl: string, eventId: string): Promise<{ nbDigits: number; precision: number }> {
  let d: Record<string, unknown>;
  try {
    d = (await new OracleClient(oracleUrl, { timeoutMs: 10_000 }).event(eventId)).params.descriptor;
  } catch (err) {
    throw new StackError('STACK_SERVICE', `oracle event ${eventId}: ${(err as Error).message}`, { cause: err });
  }
  if (typeof d.nbDigits !== 'number') throw new StackError('STACK_SERVICE', `oracle event ${eventId}: not a numeric event`);
  return { nbDigits: d.nbDigits, precision: typeof d.precision === 'number' ? d.precision : 0 };
}

const fmt = (n: bigint | number): string => n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const short = (hex: string): string => `${hex.slice(0, 12)}…`;

/** 1 PH/s network: the share of each block a miner of `hashrateThs` TH/s finds, in basis points of the block, times `percent` delivered. */
export function poolShareBps(hashrateThs: bigint, deliveryPercent: number, networkThs = 1000n): number {
  const bps = (Number(hashrateThs) / Number(networkThs)) * deliveryPercent * 100;
  if (!Number.isInteger(Math.round(bps)) || bps < 0 || bps > 10_000) throw new StackError('STACK_CONFIG', `a share of ${bps} bps is not possible`);
  return Math.round(bps);
}

/**
 * Runs the demo story.
 * @param out receives one line per step.
 * @throws {ParticipantError} (a step failed), {StackError} STACK_TIMEOUT; {ChainError}.
 *   A mismatch of payouts does not throw: `ok` is false.
 */
export async function runDemo(s: DemoServices, options: DemoOptions, out: (line: string) => void): Promise<DemoResult> {
  const t0 = performance.now();
  const at = (): string => `[${((performance.now() - t0) / 1000).toFixed(1).padStart(5)}s]`;
  const say: Say = (who, text) => out(`${at()} ${who.padEnd(11)} ${text}`);
  const H = options.hashrateThs ?? 100n;
  const n = options.windowBlocks ?? 20;
  const pct = options.deliveryPercent ?? 98;
  const upfront = options.upfront ?? 200_000n;
  const escrow = options.escrow ?? 800_000n;
  const collateral = options.collateral ?? 500_000n;
  const tolerance = options.toleranceBps ?? 9500;
  const shareBps = poolShareBps(H, pct);

  const tip = await s.rpc.getBlockCount();
  // Two blocks of lead: the funding transaction confirms before the window opens.
  const window = { start: tip + 3, end: tip + 3 + n };
  out(`hashdlc demo: a miner sells ${H} TH/s over blocks [${window.start}, ${window.end}) to a buyer`);
  out(`  simulated network: 1 PH/s (oracle simulated difficulty ${s.simulatedDifficulty}), so ${H} TH/s finds ${shareBps === 0 ? 0 : Number(H) / 10}% of the blocks;`);
  out(`  the pool pays the buyer's delivery address ${(shareBps / 100).toFixed(2)}% of every coinbase in the window (${pct}% of the contracted hashrate)`);
  out(`  coordinator ${s.coordinatorUrl}, oracle ${s.oracleUrl}, chain height ${tip}`);

  // 1. The buyer's delivery address; the miner's offer.
  const deliveryAddress = await s.buyer.address();
  say('buyer', `$ hashdlc wallet address  → delivery address ${deliveryAddress}`);
  const offerInput: OfferInput = {
    template: 'hashpower',
    window,
    hashrateThs: H,
    deliveryAddress,
    upfront,
    escrow,
    collateral,
    toleranceBps: tolerance,
    feeRatePerVb: 2n,
  };
  const offer = await s.miner.offer(offerInput);
  say('miner', `$ ${s.miner.commandLine(offerArgs(offerInput))}`);
  const cets = typeof offer.cets === 'number' ? offer.cets : offer.cets.cets;
  say('', `offer ${short(offer.id)} posted: price ${fmt(upfront + escrow)} sats (${fmt(upfront)} upfront + ${fmt(escrow)} escrow), collateral ${fmt(collateral)}, tolerance ${tolerance} bps, ${cets ?? '?'} CETs`);
  say('', `oracle event ${offer.eventId}; CET locktime ${offer.cetLocktime}, refund locktime ${offer.refundLocktime}`);

  // 2. Accept, sign, fund.
  const accepted = await s.buyer.accept(offer.id);
  say('buyer', `$ hashdlc accept ${short(offer.id)}  → offer checked against its terms and the oracle; ${accepted.adaptorSignatures} CET adaptor signatures made`);
  const fundingTxid = await (s.agents === undefined ? typedSignAndFund(s, offer.id, say) : s.agents.signAndFund(offer.id, say));

  // 3. The funding confirms (the miner's upfront payment is in it).
  await mineBlocks(s.rpc, 1);
  const confirmed = await waitForContractState(s.coordinatorUrl, offer.id, ['confirmed']);
  const fundingTx = await s.rpc.getRawTransaction(fundingTxid);
  const upfrontSpk = typeof confirmed.terms.upfrontScript === 'string' ? confirmed.terms.upfrontScript : undefined;
  const upfrontPaid = fundingTx.vout.filter((o) => o.scriptPubKey.hex === upfrontSpk).reduce((a, o) => a + o.valueSats, 0n);
  say('chain', `block ${confirmed.fundingHeight} confirms the funding tx: ${fmt(BigInt(confirmed.totalCollateral))} sats locked in the DLC, ${fmt(upfrontPaid)} paid to the miner upfront`);

  // 4. The window: the pool pays the delivery address its share of every coinbase.
  await mineToHeight(s.rpc, window.start - 1);
  const mined: BlockReward[] = [];
  const difficulty = difficultyFromDecimal(s.simulatedDifficulty);
  let delivered = 0n;
  for (let h = window.start; h < window.end; h++) {
    const [b] = await mineAsPool(s.rpc, { blocks: 1, shares: shareBps > 0 ? [{ address: deliveryAddress, shareBps }] : [], restAddress: strangerAddress() });
    const paid = b!.payouts.filter((p) => p.address === deliveryAddress).reduce((a, p) => a + p.valueSats, 0n);
    delivered += paid;
    mined.push({ height: b!.height, reward: b!.rewardSats });
    say('pool', `block ${b!.height}: coinbase ${fmt(b!.rewardSats)} sats, ${fmt(paid)} to the delivery address`);
  }
  // The rewards the oracle counts under the rule its new events state (fees capped at 4x the window's median).
  const blocks: BlockRewardWork[] = countedRewards(mined, CURRENT_REWARD_RULE, subsidyHalvingInterval('regtest')).rewards.map((reward) => ({ reward, difficulty }));
  const expected = expectedDeliverySats(H, blocks);
  const computed = deliveryOutcome(delivered, H, blocks, await eventDigits(s.oracleUrl, offer.eventId));
  say('', `delivered ${fmt(delivered)} sats; ${H} TH/s would have earned ${fmt(ratFloor(expected))} sats over these ${n} blocks → ${computed.outcome} bps`);

  // 5. One confirmation on the window's last block; the oracle attests.
  await mineBlocks(s.rpc, 1);
  const att = await waitForAttestation(s.oracleUrl, offer.eventId);
  const outcome = BigInt(att.outcome);
  say('oracle', `attested ${att.outcome} bps at height ${att.attestedAtHeight} (pool rewards ${fmt(BigInt(att.result.poolRewards ?? '0'))} sats, network reward ${fmt(BigInt(att.result.networkReward))} sats)`);
  const report = await verifyOracleEvent({ oracleUrl: s.oracleUrl, eventId: offer.eventId, rpc: s.rpc });
  say('', `hashdlc oracle verify: the evidence recomputes to ${report.outcome ?? '?'} against the node: ${report.ok ? 'HOLDS' : `FAILS (${report.checks.filter((c) => !c.ok).map((c) => c.name).join(', ')})`}`);

  // 6. The coordinator completes the attested CET from the two adaptor signatures it holds
  // (an agent would, from its own signatures, if the coordinator did not: then the coordinator sees it on chain).
  const broadcast = await waitForContractState(s.coordinatorUrl, offer.id, ['cet-broadcast', 'settled']);
  if (broadcast.broadcastBy === 'other') say('agent', `broadcast the CET ${broadcast.closingTxid} first (completed from its own adaptor signatures and the attestation); the coordinator saw it`);
  else say('coordinator', `broadcast CET #${broadcast.cetIndex ?? '?'} ${broadcast.closingTxid} (no key: the attestation decrypts both parties' adaptor signatures)`);
  await mineBlocks(s.rpc, 1);
  const settled = await waitForContractState(s.coordinatorUrl, offer.id, ['settled']);
  say('chain', `block ${String(settled.closingHeight)} confirms the CET; contract ${short(settled.contractId ?? '')} settled`);

  // 7. The check: on-chain payouts against the payout curve at the attested outcome.
  const closingTxid = settled.closingTxid!;
  const onChain = await onChainPayouts(s.rpc, closingTxid, settled);
  const curve = curvePayouts(await offerHexOf(s.coordinatorUrl, offer.id), settled.terms, outcome);
  const want = { offer: onChainValue(curve.offer), accept: onChainValue(curve.accept) };
  const payoutsOk = onChain.offer === want.offer && onChain.accept === want.accept;
  const outcomeOk = computed.outcome === outcome && report.ok;
  out('');
  out(`payouts (sats)      ${'on chain'.padStart(12)}  ${`curve at ${outcome} bps`.padStart(20)}`);
  out(`  miner (offerer)   ${fmt(onChain.offer).padStart(12)}  ${fmt(want.offer).padStart(20)}`);
  out(`  buyer (accepter)  ${fmt(onChain.accept).padStart(12)}  ${fmt(want.accept).padStart(20)}`);
  out(`  (the miner also received ${fmt(upfrontPaid)} upfront in the funding transaction; the buyer received ${fmt(delivered)} sats of block rewards)`);
  if (!outcomeOk) out(`MISMATCH: the oracle attested ${outcome}, the blocks mined give ${computed.outcome}${report.ok ? '' : ', and its evidence does not verify'}`);
  out(payoutsOk && outcomeOk ? 'OK: the payouts on chain equal the payout curve at the attested outcome' : 'FAILED: the payouts on chain differ from the payout curve at the attested outcome');
  return {
    ok: payoutsOk && outcomeOk,
    offerId: offer.id,
    contractId: settled.contractId ?? '',
    window,
    outcome,
    computedOutcome: computed.outcome,
    fundingTxid,
    closingTxid,
    onChain,
    curve: want,
    ms: performance.now() - t0,
  };
}
