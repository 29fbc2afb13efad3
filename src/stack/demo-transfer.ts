/**
 * The transfer demo (`npm run demo -- --transfer [--transfer-price SATS]`,
 * issue 14): a sale between the stack's miner and buyer (B1), funded; in the
 * middle of the window B1 lists its position, a third wallet (B2) takes it,
 * the miner consents (its agent, `hashdlc agent`, when the demo runs agents;
 * otherwise the library call, shown as `hashdlc position consent`), B1
 * releases, B2 funds; the one transfer transaction confirms (the old funding
 * output into the new one, the price to B1, B2's change); the window ends,
 * the oracles attest, the coordinator settles the NEW contract.
 *
 * Exit 0 (`ok`) only when, on chain: the CET pays B2's payout script (the
 * one in B2's own record) its side of the curve, the transfer paid B1 the
 * price at the script of B1's own listing (a coin of B1's wallet), and the
 * miner's payout equals the OLD contract's curve at the attested outcome
 * (observe.ts `curvePayouts` over the old offer: the miner's deal did not
 * change), at the miner's old payout script. The attested outcome is also
 * recomputed from the blocks mined. A mismatch does not throw: `ok` is false.
 *
 * The sale and its transfer steps are typed (library calls shown as the
 * commands a user would type): an agent holds its wallet's lock, and B1 and
 * B2 type theirs. Only the miner, who types nothing after its offer, may run
 * its agent, which signs nothing but what `consentTransfer` accepts.
 *
 * This module does NOT start the stack (src/demo.ts does) or tell the other
 * stories (demo.ts, demo-strip.ts).
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
import { toHex } from '../../protocol/messages/index.js';
import { startAgentProcess, type AgentProcess } from '../agent/index.js';
import { loadContract } from '../participant/contract.js';
import { buyPosition, consentTransfer, fundTransfer, releaseTransfer, sellPosition, verifyOracleEvent } from '../participant/index.js';
import { mineAsPool, mineBlocks, mineToHeight, strangerAddress } from '../../regtest/index.js';
import { describeAgentLine } from './demo-agents.js';
import { fmt, poolShareBps, short, type DemoServices, type Say } from './demo.js';
import { StackError } from './errors.js';
import { curvePayouts, offerHexOf, offerOracleSet, onChainPayouts, onChainValue, waitForAttestations, waitForContractState, type Payouts } from './observe.js';
import { offerArgs, type StackParticipant } from './participant.js';

export interface TransferDemoOptions {
  /** Percent of the contracted hashrate the pool pays (default 60: B2's side of the curve is then worth something). */
  deliveryPercent?: number;
  /** Blocks in the window (default 12; the transfer happens after a third of it). */
  windowBlocks?: number;
  /** The price B2 pays B1 (default a quarter of the escrow). */
  price?: bigint;
  /** Whether the miner's agent consents (default true); false: the demo types `hashdlc position consent`. */
  agent?: boolean;
  hashrateThs?: bigint;
  upfront?: bigint;
  escrow?: bigint;
  collateral?: bigint;
  toleranceBps?: number;
}

export interface TransferDemoServices extends Omit<DemoServices, 'agents'> {
  /** The third wallet, who takes B1's position. */
  buyer2: StackParticipant;
}

export interface TransferDemoResult {
  ok: boolean;
  offerId: string;
  positionId: string;
  /** The new contract's record id (B2's temporary contract id). */
  newContractId: string;
  price: bigint;
  transferTxid: string;
  closingTxid: string;
  outcome: bigint;
  computedOutcome: bigint;
  /** The CET's payouts at the new contract's scripts (offer: the miner, accept: B2). */
  onChain: Payouts;
  /** The old contract's curve at the outcome. */
  curve: Payouts;
  /** What the transfer paid B1's listing script. */
  paidToSeller: bigint;
  ms: number;
}

/** The default price: a quarter of the escrow. */
export function defaultTransferPrice(escrow: bigint): bigint {
  return escrow / 4n;
}

/**
 * Runs the transfer story.
 * @throws {ParticipantError} (a step failed), {StackError} STACK_TIMEOUT / STACK_CHECK; {ChainError}.
 */
export async function runTransferDemo(s: TransferDemoServices, options: TransferDemoOptions, out: (line: string) => void): Promise<TransferDemoResult> {
  const t0 = performance.now();
  const at = (): string => `[${((performance.now() - t0) / 1000).toFixed(1).padStart(5)}s]`;
  const say: Say = (who, text) => out(`${at()} ${who.padEnd(11)} ${text}`);
  const H = options.hashrateThs ?? 100n;
  const o = {
    windowBlocks: options.windowBlocks ?? 12,
    deliveryPercent: options.deliveryPercent ?? 60,
    upfront: options.upfront ?? 200_000n,
    escrow: options.escrow ?? 800_000n,
    collateral: options.collateral ?? 500_000n,
    toleranceBps: options.toleranceBps ?? 9500,
  };
  const price = options.price ?? defaultTransferPrice(o.escrow);
  const useAgent = options.agent ?? true;
  const shareBps = poolShareBps(H, o.deliveryPercent);
  if (o.windowBlocks < 6) throw new StackError('STACK_CONFIG', `the transfer demo needs a window of 6 blocks or more (the transfer closes a few blocks before its end), got ${o.windowBlocks}`);

  const tip = await s.rpc.getBlockCount();
  const window = { start: tip + 3, end: tip + 3 + o.windowBlocks };
  const sellAfter = Math.floor(o.windowBlocks / 3);
  out(`hashdlc demo --transfer: a miner sells ${H} TH/s over blocks [${window.start}, ${window.end}) to a buyer (B1); after ${sellAfter} blocks B1 sells its position to a new buyer (B2) for ${fmt(price)} sats`);
  out(`  the pool pays the delivery address ${(shareBps / 100).toFixed(2)}% of every coinbase in the window (${o.deliveryPercent}% of the contracted hashrate)`);
  out(`  coordinator ${s.coordinatorUrl}, ${s.oracles.length} oracle(s), chain height ${tip}; the miner's consent: ${useAgent ? 'its agent' : 'typed'}`);

  // 1. The sale: offer, accept, sign, fund (typed), payouts stepping by a tenth of the DLC (few CETs).
  const deliveryAddress = await s.buyer.address();
  say('B1', `$ hashdlc wallet address  → delivery address ${deliveryAddress}`);
  const roundingMod = (o.escrow + o.collateral) / 10n;
  const input = {
    template: 'hashpower' as const, window, hashrateThs: H, deliveryAddress, upfront: o.upfront, escrow: o.escrow,
    collateral: o.collateral, toleranceBps: o.toleranceBps, feeRatePerVb: 2n, roundingMod,
  };
  const offer = await s.miner.offer(input);
  say('miner', `$ ${s.miner.commandLine(offerArgs(input))}`);
  const cets = typeof offer.cets === 'number' ? offer.cets : offer.cets.cets;
  const oldOfferHex = await offerHexOf(s.coordinatorUrl, offer.id);
  const set = offerOracleSet(oldOfferHex, s.oracles);
  say('', `offer ${short(offer.id)} posted: price ${fmt(o.upfront + o.escrow)} sats (${fmt(o.upfront)} upfront + ${fmt(o.escrow)} escrow), collateral ${fmt(o.collateral)}, ${cets ?? '?'} CETs; CET locktime ${offer.cetLocktime}`);
  const accepted = await s.buyer.accept(offer.id);
  say('B1', `$ hashdlc accept ${short(offer.id)}  → ${accepted.adaptorSignatures} CET adaptor signatures made`);
  await s.miner.sign(offer.id);
  say('miner', `$ hashdlc sign ${short(offer.id)}`);
  const funded = await s.buyer.fund(offer.id);
  if (funded.psbtOut) throw new StackError('STACK_COMMAND', 'B1: fund returned a PSBT');
  say('B1', `$ hashdlc fund ${short(offer.id)}  → funding tx ${funded.fundingTxid}`);
  await mineBlocks(s.rpc, 1);
  const confirmed = await waitForContractState(s.coordinatorUrl, offer.id, ['confirmed']);
  say('chain', `block ${String(confirmed.fundingHeight)} confirms the funding tx: ${fmt(BigInt(confirmed.totalCollateral))} sats locked in the DLC between the miner and B1`);

  let agent: AgentProcess | undefined;
  try {
    if (useAgent) {
      // Started now: its start-up overlaps the first blocks of the window. It holds the miner's wallet lock from here on.
      agent = startAgentProcess({ walletDir: s.miner.walletDir, args: ['--interval', '1'], env: s.miner.env(), onLine: (l) => say('miner agent', describeAgentLine(l)) });
      say('miner agent', `$ ${s.miner.commandLine(['agent', '--json', '--wallet-dir', s.miner.walletDir, '--interval', '1'])}  (pid ${agent.child.pid ?? '?'}; consents on its own to a taken position of its contracts)`);
    }

    // 2. The window's first blocks: the pool delivers.
    const mined: BlockReward[] = [];
    let delivered = 0n;
    const mineOne = async (): Promise<void> => {
      const h = (await s.rpc.getBlockCount()) + 1;
      const inWindow = h >= window.start && h < window.end;
      const [b] = await mineAsPool(s.rpc, { blocks: 1, shares: inWindow && shareBps > 0 ? [{ address: deliveryAddress, shareBps }] : [], restAddress: strangerAddress() });
      if (!inWindow) return;
      const paid = b!.payouts.filter((p) => p.address === deliveryAddress).reduce((a, p) => a + p.valueSats, 0n);
      delivered += paid;
      mined.push({ height: b!.height, reward: b!.rewardSats });
    };
    await mineToHeight(s.rpc, window.start - 1);
    for (let i = 0; i < sellAfter; i++) await mineOne();
    say('pool', `blocks [${window.start}, ${window.start + sellAfter}) mined: ${fmt(delivered)} sats paid to the delivery address so far`);

    // 3. B1 lists (its own record must show the contract confirmed: `hashdlc status` reads the node), B2 takes.
    const st = await s.buyer.status(offer.id);
    say('B1', `$ hashdlc status ${short(offer.id)}  → ${st.record.state}`);
    const listed = await s.buyer.step((p) => sellPosition(p, offer.id, { price }));
    const positionId = listed.id;
    say('B1', `$ hashdlc position sell ${short(offer.id)} --price ${price}  → position ${positionId} listed (window open to height ${listed.lastHeight})`);
    const bought = await s.buyer2.step((p) => buyPosition(p, positionId, { maxPrice: price }));
    say('B2', `$ hashdlc position buy ${positionId} --max-price ${price}  → old contract checked against its terms and B2's oracles; new contract ${short(bought.id)} with B2's keys, its CET and refund signatures posted`);

    // 4. The miner consents (its agent, or typed), B1 releases, B2 funds.
    if (agent !== undefined) {
      const line = await agent.waitFor((l) => l.action === 'consent', 180_000);
      if (!line.ok) throw new StackError('STACK_COMMAND', `the miner's agent did not consent: ${describeAgentLine(line)}`);
    } else {
      await s.miner.step((p) => consentTransfer(p, positionId));
      say('miner', `$ hashdlc position consent ${positionId}  → nothing but the buyer's keys and addresses changed; CETs, refund and the old funding input signed`);
    }
    const released = await s.buyer.step((p) => releaseTransfer(p, positionId));
    say('B1', `$ hashdlc position release ${positionId}  → the transfer pays ${fmt(released.price)} sats to B1's own listing script; the old funding input signed`);
    const took = await s.buyer2.step((p) => fundTransfer(p, positionId));
    if (took.psbtOut) throw new StackError('STACK_COMMAND', 'B2: fund returned a PSBT');
    say('B2', `$ hashdlc position fund ${positionId}  → the miner's signatures verified; B2's inputs signed; transfer ${took.transferTxid} ${took.state}`);

    // 5. The transfer confirms inside the window.
    await mineOne();
    const newConfirmed = await waitForContractState(s.coordinatorUrl, bought.id, ['confirmed']);
    await waitForContractState(s.coordinatorUrl, offer.id, ['transferred']);
    const transferTx = await s.rpc.getRawTransaction(took.transferTxid);
    const listing = s.buyer.wallet().contracts.get(offer.id).listing;
    if (listing === undefined) throw new StackError('STACK_CHECK', `B1's record of ${offer.id} lost its listing`);
    const priceOuts = transferTx.vout.filter((v) => v.scriptPubKey.hex === listing.sellerSpk);
    const paidToSeller = priceOuts.reduce((a, v) => a + v.valueSats, 0n);
    const b1Coins = await s.buyer.wallet().utxos(s.rpc);
    const sellerOwns = priceOuts.length > 0 && priceOuts.every((v) => b1Coins.some((u) => u.txid === took.transferTxid && u.vout === v.n));
    say('chain', `block ${String(newConfirmed.fundingHeight)} confirms transfer ${took.transferTxid}: the old DLC output into the new one (${fmt(BigInt(newConfirmed.totalCollateral))} sats, miner and B2), ${fmt(paidToSeller)} sats to B1${sellerOwns ? ' (a coin of B1\'s wallet)' : ''}; the old contract is transferred`);

    // 6. The rest of the window; K oracles attest; the coordinator settles the NEW contract.
    while ((await s.rpc.getBlockCount()) < window.end - 1) await mineOne();
    say('pool', `blocks [${window.start}, ${window.end}) mined: ${fmt(delivered)} sats paid to the delivery address`);
    await mineBlocks(s.rpc, 1);
    const spec: NumericEventSpec = { nbDigits: 14, precision: 0 };
    const blocks: BlockRewardWork[] = countedRewards(mined, CURRENT_REWARD_RULE, subsidyHalvingInterval('regtest')).rewards.map((reward) => ({ reward, difficulty: difficultyFromDecimal(s.simulatedDifficulty) }));
    const computed = deliveryOutcome(delivered, H, blocks, spec).outcome;
    const attested = await waitForAttestations(set.oracles.map((x) => x.url), offer.eventId, set.threshold);
    const outcome = BigInt(attested[0]!.attestation.outcome);
    let evidenceOk = attested.every((a) => a.attestation.outcome === attested[0]!.attestation.outcome);
    for (const { url } of attested) {
      const report = await verifyOracleEvent({ oracleUrl: url, eventId: offer.eventId, rpc: s.rpc });
      evidenceOk &&= report.ok && report.outcome === String(outcome);
    }
    say('oracle', `${attested.length} of ${set.oracles.length} oracles attested ${outcome} bps (our count of the blocks: ${computed} bps; evidence ${evidenceOk ? 'holds' : 'FAILS'})`);
    const broadcast = await waitForContractState(s.coordinatorUrl, bought.id, ['cet-broadcast', 'settled'], 60_000);
    say(broadcast.broadcastBy === 'other' ? 'agent' : 'coordinator', `CET #${broadcast.cetIndex ?? '?'} ${broadcast.closingTxid} of the new contract broadcast`);
    await mineBlocks(s.rpc, 1);
    const settled = await waitForContractState(s.coordinatorUrl, bought.id, ['settled'], 60_000);
    const closingTxid = settled.closingTxid!;

    // 7. The checks, on chain, against each party's OWN record and the OLD contract's curve.
    const b2Accept = loadContract(s.buyer2.wallet(), bought.id).accept;
    const minerOld = loadContract(s.miner.wallet(), offer.id).offer;
    const b2Spk = b2Accept === undefined ? '' : toHex(b2Accept.payoutSpk);
    const minerSpk = toHex(minerOld.payoutSpk);
    const cet = await s.rpc.getRawTransaction(closingTxid);
    const payTo = (spk: string): bigint => cet.vout.filter((v) => v.scriptPubKey.hex === spk).reduce((a, v) => a + v.valueSats, 0n);
    const onChain = { offer: payTo(minerSpk), accept: payTo(b2Spk) };
    const viewPayouts = await onChainPayouts(s.rpc, closingTxid, settled);
    const c = curvePayouts(oldOfferHex, confirmed.terms, outcome);
    const curve = { offer: onChainValue(c.offer), accept: onChainValue(c.accept) };
    const spendsNew = cet.vin.some((i) => i.txid === took.transferTxid);
    const b2Paid = onChain.accept === curve.accept && curve.accept > 0n && spendsNew && viewPayouts.accept === onChain.accept;
    const b1Paid = paidToSeller === price && sellerOwns && (transferTx.confirmations ?? 0) >= 1;
    const minerOk = onChain.offer === curve.offer;
    const outcomeOk = evidenceOk && computed === outcome;
    out('');
    out(`payouts (sats)             ${'on chain'.padStart(12)}  ${`old curve at ${outcome} bps`.padStart(24)}`);
    out(`  miner (offerer)          ${fmt(onChain.offer).padStart(12)}  ${fmt(curve.offer).padStart(24)}  ${minerOk ? 'ok' : 'MISMATCH'}`);
    out(`  B2 (new accepter)        ${fmt(onChain.accept).padStart(12)}  ${fmt(curve.accept).padStart(24)}  ${b2Paid ? 'ok' : 'MISMATCH'}`);
    out(`  B1 (seller), transfer    ${fmt(paidToSeller).padStart(12)}  ${`price ${fmt(price)}`.padStart(24)}  ${b1Paid ? 'ok' : 'MISMATCH'}`);
    out(`  (the miner also received ${fmt(o.upfront)} upfront in the funding transaction; B1's delivery address received ${fmt(delivered)} sats of block rewards)`);
    if (b2Paid) out(`B2 paid by the CET: ${fmt(onChain.accept)} sats to B2's payout script (CET ${closingTxid} spends transfer ${took.transferTxid})`);
    if (b1Paid) out(`B1 got P: ${fmt(paidToSeller)} sats in transfer ${took.transferTxid}, confirmed, to B1's listing address`);
    if (minerOk) out(`miner's payout = curve: ${fmt(onChain.offer)} sats at outcome ${outcome} bps, the old contract's`);
    if (!outcomeOk) out(`MISMATCH: the oracles attested ${attested.map((a) => a.attestation.outcome).join(', ')}, the blocks mined give ${computed}${evidenceOk ? '' : ', and an oracle\'s evidence does not verify'}`);
    const ok = b2Paid && b1Paid && minerOk && outcomeOk;
    out(ok ? 'OK: the CET paid the new buyer, the old buyer received the price on chain, and the miner\'s payout equals the curve' : 'FAILED: a payout differs (see the table)');
    return { ok, offerId: offer.id, positionId, newContractId: bought.id, price, transferTxid: took.transferTxid, closingTxid, outcome, computedOutcome: computed, onChain, curve, paidToSeller, ms: performance.now() - t0 };
  } catch (err) {
    // The step's own error is the one to show: an agent stopped mid-start-up does not exit 0, and must not hide it.
    await agent?.kill();
    agent = undefined;
    throw err;
  } finally {
    if (agent !== undefined) {
      await agent.stop();
      say('miner agent', 'stopped (SIGTERM, exit 0)');
    }
  }
}
