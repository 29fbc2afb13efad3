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
 * This module does NOT broadcast itself (the coordinator does) or settle.
 */
import { closeTransaction, signCloseWith, totalCollateralOf } from '../../protocol/contract/index.js';
import { toHex } from '../../protocol/messages/index.js';
import type { ContractRecord } from '../wallet/index.js';
import { saveState } from './contract.js';
import { ParticipantError, usage } from './errors.js';
import type { Participant } from './participant.js';
import { openSignedContract, type Payouts } from './settle.js';

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
