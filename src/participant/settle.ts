/**
 * After funding, alone: `settleContract` and `refundContract`, from the
 * messages stored in the wallet directory, WITHOUT the coordinator
 * (dlcspecs Protocol.md "Closing the contract"):
 * - settle: fetch the attestation from the oracle, check it against the
 *   announcement, find the attested CET, sign it with our own funding key,
 *   decrypt the counterparty's adaptor signature with the attestation secret,
 *   and broadcast through our node;
 * - refund: after the refund locktime, the refund transaction with both
 *   parties' refund signatures (accept_dlc and sign_dlc), through our node.
 *
 * Both are safe to run again at any point: the transaction is a function of
 * the stored messages (and the attestation), and our ECDSA signatures are
 * deterministic (RFC 6979), so a repeat rebuilds the very same transaction;
 * one already in the mempool or the chain counts as done
 * (`alreadyBroadcast`), never as a failure.
 *
 * This module does NOT talk to the coordinator, print, or negotiate.
 */
import type { Transaction } from 'bitcoinjs-lib';
import type { ContractSetup } from '../../protocol/contract/index.js';
import { attestedSlotOf, completeAttestedCetAsParty, offerAnnouncements, setupContract, signedRefundTransaction } from '../../protocol/contract/index.js';
import { isDlcError } from '../../protocol/errors.js';
import { verifyAttestation } from '../../protocol/messages/index.js';
import type { BitcoinRpc } from '../chain/index.js';
import { isChainError } from '../chain/index.js';
import { OracleHttp } from '../api/http.js';
import { loadContract, needAccept, needSign, saveState, type LoadedContract } from './contract.js';
import { ParticipantError } from './errors.js';
import type { Participant } from './participant.js';

/** Offerer or accepter (the stored record's role). */
export type ContractRole = 'offer' | 'accept';

/** A stored contract that has both accept_dlc and sign_dlc, with its setup rebuilt. */
export interface OpenedContract {
  c: LoadedContract;
  setup: ContractSetup;
}

/**
 * A signed contract from the wallet, its setup (CETs, refund, closing
 * parameters) rebuilt from the stored messages.
 * @throws {WalletError} WALLET_CONTRACT_NOT_FOUND; {ParticipantError} STATE before accept_dlc or sign_dlc.
 */
export function openSignedContract(p: Participant, id: string): OpenedContract {
  const c = loadContract(p.wallet(), id);
  const accept = needAccept(c);
  needSign(c);
  return { c, setup: setupContract(c.offer, accept, c.flow) };
}

/** What a broadcast of a closing transaction did. */
export interface Broadcast {
  txid: string;
  /** It was in the mempool or the chain already (a repeat, or the counterparty was first). */
  already: boolean;
}

/**
 * Broadcasts a closing transaction; one already in the mempool or the chain counts as done.
 * @throws {ChainError} for any other refusal (CHAIN_NON_FINAL before a locktime, CHAIN_MISSING_INPUTS when another transaction spent the funding output, ...).
 */
export async function broadcastClosing(rpc: BitcoinRpc, tx: Transaction): Promise<Broadcast> {
  // A repeat (or the counterparty was first): the node knows it already, in its mempool or
  // (with a transaction index) its chain. Sending it again would succeed silently for one in
  // the mempool and so could not tell a repeat from a first broadcast.
  const known = (): Promise<boolean> => rpc.getRawTransaction(tx.getId()).then(() => true, () => false);
  if (await known()) return { txid: tx.getId(), already: true };
  try {
    return { txid: await rpc.sendRawTransaction(tx.toHex()), already: false };
  } catch (e) {
    if (isChainError(e) && e.code === 'CHAIN_ALREADY_IN_CHAIN') return { txid: tx.getId(), already: true };
    // Refused, but the node may have this very transaction by now: the counterparty or the
    // coordinator sent it between our look and our send (missing inputs once it is mined; a
    // mempool conflict when theirs carries other, equally valid signatures: the witness is
    // not in the txid, so it is the same transaction and the same payouts).
    if (isChainError(e) && (await known())) return { txid: tx.getId(), already: true };
    throw e;
  }
}

/** Sats each party gets. */
export interface Payouts {
  offer: bigint;
  accept: bigint;
}

export interface SettleInput {
  /** Offer id or contract id (or a unique prefix of 8+ hex digits). */
  id: string;
}

export interface SettleResult {
  id: string;
  state: 'settled';
  /** The attested outcome, as the oracle states it. */
  outcome: string;
  cetIndex: number;
  txid: string;
  alreadyBroadcast: boolean;
  payouts: Payouts;
  /** This party's payout. */
  own: bigint;
}

/**
 * `hashdlc settle`: completes the attested CET alone and broadcasts it
 * through our node; the contract is recorded `settled`. Needs no
 * coordinator. The oracle: the one configured, else the one the contract
 * was made with.
 * @throws {ParticipantError} CONFIG (no oracle), NOT_READY (not attested yet, or the CET's locktime not reached), MISMATCH (`cet-signature`), STATE (not signed yet); {DlcError} for a bad attestation; {ChainError}.
 */
export async function settleContract(p: Participant, input: SettleInput): Promise<SettleResult> {
  const { c, setup } = openSignedContract(p, input.id);
  const accept = needAccept(c);
  const sign = needSign(c);
  // Templates make single-oracle contracts (loadContract refuses others): one announcement, oracle 0.
  const [ann] = offerAnnouncements(c.offer.contractInfo);
  const oracleUrl = p.config.oracles[0] ?? c.record.oracle;
  if (oracleUrl === undefined) throw new ParticipantError('CONFIG', 'no oracle: pass --oracle URL');
  const { outcome, attestation } = await new OracleHttp(oracleUrl).attestation(ann!.oracleEvent.eventId);
  verifyAttestation(attestation, ann!, c.record.hashProfile);
  const role = c.record.role;
  const theirs = role === 'offer' ? accept.cetAdaptorSignatures : sign.cetAdaptorSignatures;
  const signer = p.contractSigner(c.record);
  const attestations = [{ oracleIndex: 0, attestation }];
  // protocol/contract: the one CET completion (the coordinator's twin takes both adaptor signatures).
  const { tx, cetIndex } = await completeAttestedCetAsParty(setup, attestations, role, (sighash) => signer.signSighash(sighash), theirs).catch((e: unknown) => {
    if (!isDlcError(e, 'BAD_SIGNATURE') || e.reason !== `cet-signature:${role === 'offer' ? 'accept' : 'offer'}`) throw e;
    throw new ParticipantError('MISMATCH', `the counterparty's adaptor signature for CET ${attestedSlotOf(setup, attestations).cetIndex} does not decrypt to a valid signature`, { reason: 'cet-signature' });
  });
  const rpc = await p.rpc();
  let sent: Broadcast;
  try {
    sent = await broadcastClosing(rpc, tx);
  } catch (e) {
    if (isChainError(e) && e.code === 'CHAIN_NON_FINAL') {
      throw new ParticipantError('NOT_READY', `the CET is locked until height ${tx.locktime}; try again after it`, { cause: e });
    }
    throw e;
  }
  saveState(p.wallet(), c.record, 'settled', { closingTxid: sent.txid }, `CET ${cetIndex}, outcome ${outcome}`);
  const planned = setup.plan.cets[cetIndex]!;
  const payouts = { offer: planned.offerPayout, accept: planned.acceptPayout };
  return { id: c.record.id, state: 'settled', outcome, cetIndex, txid: sent.txid, alreadyBroadcast: sent.already, payouts, own: role === 'offer' ? payouts.offer : payouts.accept };
}

export interface RefundInput {
  /** Offer id or contract id (or a unique prefix of 8+ hex digits). */
  id: string;
}

export interface RefundResult {
  id: string;
  state: 'refunded';
  txid: string;
  alreadyBroadcast: boolean;
  /** Each party's collateral back. */
  payouts: Payouts;
}

/**
 * `hashdlc refund`: once the tip reaches the refund locktime, broadcasts the
 * refund transaction (both refund signatures are stored) through our node;
 * the contract is recorded `refunded`. Needs no coordinator.
 * @throws {ParticipantError} NOT_READY before the locktime, STATE (not signed yet); {ChainError}.
 */
export async function refundContract(p: Participant, input: RefundInput): Promise<RefundResult> {
  const { c, setup } = openSignedContract(p, input.id);
  const rpc = await p.rpc();
  const tip = await rpc.getBlockCount();
  // nLockTime L (a height): final in a block of height > L, so the mempool takes it once the tip is L.
  if (tip < c.offer.refundLocktime) {
    throw new ParticipantError('NOT_READY', `refund locktime ${c.offer.refundLocktime} not reached (tip ${tip}); ${c.offer.refundLocktime - tip} more block(s)`);
  }
  const tx = signedRefundTransaction(setup, needSign(c).refundSignature, needAccept(c).refundSignature);
  const sent = await broadcastClosing(rpc, tx);
  saveState(p.wallet(), c.record, 'refunded', { closingTxid: sent.txid });
  return {
    id: c.record.id,
    state: 'refunded',
    txid: sent.txid,
    alreadyBroadcast: sent.already,
    payouts: { offer: setup.closing.offerCollateral, accept: setup.closing.acceptCollateral },
  };
}
