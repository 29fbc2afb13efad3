/**
 * `closeContract`: a cooperative close through the coordinator. Both parties
 * run it with the same split; each sends its signature of the close
 * transaction (computed here from the stored messages, not taken from
 * anyone), and the second one's makes the coordinator broadcast.
 *
 * Safe to run again: the split is recorded before the signature is sent, a
 * repeat sends the same (deterministic, RFC 6979) signature again, and once
 * the close transaction is out a repeat reports it broadcast instead of
 * failing on the coordinator's `close-broadcast` state.
 *
 * A strip's period closes like any contract (`close <period-id>`);
 * `closeStrip` closes every live period of a strip at one split, shared out
 * in proportion to the periods' collateral.
 *
 * This module does NOT broadcast itself (the coordinator does) or settle.
 */
import { closeTransaction, signCloseWith, totalCollateralOf } from '../../protocol/contract/index.js';
import { toHex } from '../../protocol/messages/index.js';
import type { ContractRecord } from '../wallet/index.js';
import { loadContract, saveState } from './contract.js';
import { ParticipantError, usage } from './errors.js';
import type { Participant } from './participant.js';
import { openSignedContract, type Payouts } from './settle.js';
import { stripRecords } from './strip.js';
import { inPeriodError, periodOf } from './strip-steps.js';

export interface CloseInput {
  /** Offer id or contract id (or a unique prefix of 8+ hex digits). */
  id: string;
  offerPayout: bigint;
  /** Default: the total collateral minus `offerPayout`. */
  acceptPayout?: bigint;
}

export interface CloseResult {
  id: string;
  /** The coordinator's state of the contract (`close-broadcast` once both signed). */
  state: string;
  closeTxid: string;
  /** Whether the close transaction is out (both signatures are in). */
  broadcast: boolean;
  payouts: Payouts;
}

/**
 * `hashdlc close`: signs the close transaction at the split and sends the
 * signature to the coordinator; recorded `closed` once it broadcast.
 * @throws {ParticipantError} USAGE (payouts above the collateral), MISMATCH (the coordinator broadcast another transaction), STATE, REMOTE, UNREACHABLE, CONFIG.
 */
export async function closeContract(p: Participant, input: CloseInput): Promise<CloseResult> {
  const period = periodOf(p.wallet().contracts.get(input.id));
  return period === undefined ? closeOne(p, input) : closeOne(p, input).catch((e: unknown) => {
    throw inPeriodError(e, period);
  });
}

async function closeOne(p: Participant, input: CloseInput): Promise<CloseResult> {
  const wallet = p.wallet();
  const { c, setup } = openSignedContract(p, input.id);
  const total = totalCollateralOf(c.offer.contractInfo);
  const offerPayout = input.offerPayout;
  const acceptPayout = input.acceptPayout ?? total - offerPayout;
  if (offerPayout + acceptPayout > total) {
    throw usage(`payouts ${offerPayout} + ${acceptPayout} exceed the total collateral ${total}`);
  }
  const payout = { offer: offerPayout, accept: acceptPayout };
  const txid = closeTransaction(setup, payout).getId();
  const split = { offerPayout: offerPayout.toString(), acceptPayout: acceptPayout.toString() };
  const done = (state: string): CloseResult => ({ id: c.record.id, state, closeTxid: txid, broadcast: true, payouts: payout });
  // A repeat after the close went out: the coordinator no longer takes close requests (close-broadcast).
  if (c.record.state === 'closed' && c.record.closingTxid === txid) return done('closed');

  const record: ContractRecord = { ...c.record, close: split };
  wallet.contracts.save(record);
  const signature = await signCloseWith(setup, payout, p.contractSigner(c.record));
  const coordinator = p.coordinator();
  let view;
  try {
    view = await coordinator.close(c.record.id, { ...split, signature: toHex(signature) }, c.keys.identitySecretKey);
  } catch (e) {
    // A repeat after a crash between the coordinator's broadcast and our record: its view says so.
    if (!(e instanceof ParticipantError) || e.code !== 'REMOTE') throw e;
    const current = await coordinator.contract(c.record.id, c.keys.identitySecretKey).catch(() => undefined);
    if (current?.closingTxid !== txid) throw e;
    view = current;
  }
  const broadcastDone = view.closingTxid !== undefined && view.closingTxid !== null;
  if (broadcastDone && view.closingTxid !== txid) {
    throw new ParticipantError('MISMATCH', `the coordinator broadcast ${view.closingTxid}, not the close transaction ${txid} we signed`);
  }
  if (broadcastDone) saveState(wallet, record, 'closed', { closingTxid: txid });
  return { ...done(view.state), broadcast: broadcastDone };
}

// ------------------------------------------------------------------ strips (issue 12)

/** Local states of a period that can still be closed cooperatively: funded, not ended. */
const CLOSEABLE: ReadonlySet<string> = new Set(['funding-broadcast', 'confirmed']);

/**
 * `amount` split over `weights` in proportion, exactly: part i is
 * floor(amount * W_i / W) - floor(amount * W_{i-1} / W) with W_i the running
 * sum, so the parts sum to `amount` and both parties, splitting the same
 * numbers, get the same parts.
 */
export function splitByWeights(amount: bigint, weights: readonly bigint[]): bigint[] {
  const total = weights.reduce((s, w) => s + w, 0n);
  if (total <= 0n) throw new RangeError('splitByWeights: the weights sum to nothing');
  let running = 0n;
  let prev = 0n;
  return weights.map((w) => {
    running += w;
    const upTo = (amount * running) / total;
    const part = upTo - prev;
    prev = upTo;
    return part;
  });
}

export interface CloseStripInput {
  /** Any id of the strip. */
  id: string;
  /** The offerer's payout over every live period together. */
  offerPayout: bigint;
  /** Default: the live periods' total collateral minus `offerPayout`. */
  acceptPayout?: bigint;
}

/** One live period's close in `closeStrip`. */
export interface StripPeriodClose {
  /** 1-based. */
  period: number;
  id: string;
  /** This period's share of the split (its collateral's share of the live periods' collateral). */
  payouts: Payouts;
  result?: CloseResult;
  /** The error of this period's close (naming the period). */
  error?: unknown;
}

export interface CloseStripResult {
  strip: string;
  /** The live periods' total collateral, which the split shares out. */
  totalCollateral: bigint;
  payouts: Payouts;
  periods: StripPeriodClose[];
  /** Periods not closed here: ended already (settled, refunded, closed) or not funded. */
  skipped: { period: number; id: string; state: string }[];
}

/**
 * `hashdlc close <strip-id> --remaining`: a cooperative close of every live
 * period of a strip (funded, not settled, refunded or closed here) at ONE
 * agreed split of their funds: each period's payouts are the split's share in
 * proportion to the period's total collateral (`splitByWeights`, exact: the
 * shares sum to the split), and each period is closed with `closeContract`,
 * its close transaction computed and checked as for any contract. Both
 * parties must run it over the same live periods (`hashdlc status` first):
 * different sets give different shares, and the coordinator then holds two
 * signatures of different transactions and broadcasts none.
 * @throws {ParticipantError} USAGE (not a strip, payouts above the live collateral), STATE (no live period); each period's error is in its entry.
 */
export async function closeStrip(p: Participant, input: CloseStripInput): Promise<CloseStripResult> {
  const wallet = p.wallet();
  const records = stripRecords(wallet, input.id);
  if (records === undefined) throw usage(`contract ${input.id} is not a strip: close it without --remaining`);
  const strip = records[0]!.strip!.id;
  const live = records.filter((r) => CLOSEABLE.has(r.state));
  const skipped = records.filter((r) => !CLOSEABLE.has(r.state)).map((r) => ({ period: r.strip!.batch.index + 1, id: r.id, state: r.state }));
  if (live.length === 0) throw new ParticipantError('STATE', `strip ${strip} has no funded period left to close (${skipped.map((s) => `period ${s.period}: ${s.state}`).join(', ')})`);
  const collaterals = live.map((r) => totalCollateralOf(loadContract(wallet, r.id).offer.contractInfo));
  const total = collaterals.reduce((s, c) => s + c, 0n);
  const acceptPayout = input.acceptPayout ?? total - input.offerPayout;
  if (input.offerPayout < 0n || acceptPayout < 0n || input.offerPayout + acceptPayout > total) {
    throw usage(`payouts ${input.offerPayout} + ${acceptPayout} exceed the live periods' total collateral ${total}`);
  }
  const offers = splitByWeights(input.offerPayout, collaterals);
  // The accepter's share: the rest of each period when it takes the rest of the whole (sums exactly),
  // else its own proportional split, never above what the period has left after the offerer's share.
  const accepts = input.acceptPayout === undefined
    ? collaterals.map((c, i) => c - offers[i]!)
    : splitByWeights(acceptPayout, collaterals).map((a, i) => (a > collaterals[i]! - offers[i]! ? collaterals[i]! - offers[i]! : a));
  const periods: StripPeriodClose[] = [];
  for (const [i, r] of live.entries()) {
    const period = r.strip!.batch.index + 1;
    const payouts = { offer: offers[i]!, accept: accepts[i]! };
    try {
      const result = await closeContract(p, { id: r.id, offerPayout: payouts.offer, acceptPayout: payouts.accept });
      periods.push({ period, id: r.id, payouts, result });
    } catch (e) {
      periods.push({ period, id: r.id, payouts, error: inPeriodError(e, period) });
    }
  }
  return { strip, totalCollateral: total, payouts: { offer: input.offerPayout, accept: acceptPayout }, periods, skipped };
}
