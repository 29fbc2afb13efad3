/**
 * The checks each party of a position transfer (issue 14) runs on what it
 * receives, before it signs anything, each defending a named attack:
 *
 * - `checkOldFundingOnNode`: the contract being sold is funded, confirmed
 *   and unspent on OUR node at exactly the value and 2-of-2 script its
 *   messages rebuild (a coordinator cannot sell a contract that was never
 *   funded, was settled already, or another output): MISMATCH
 *   `old-funding-missing`, `old-funding-unconfirmed`, `old-funding-differs`.
 * - `checkOldContractOffer`: a buyer checks the old offer exactly as `accept`
 *   checks an offer (its oracle announcements against OUR trusted oracles,
 *   its event against the terms, the contract rebuilt from the terms), but
 *   mid-window: the event must not be attested (EXPIRED `event-attested`).
 * - `checkReleasePayment`: the seller's check of the transfer transaction
 *   itself against ITS OWN listing (protocol/tx `checkTransferPayment`): a
 *   coordinator that swaps the price's amount or script is caught.
 * - `checkPriceAtMost`: the taker's bound on the price.
 *
 * This module does NOT sign, store or send anything.
 */
import type { OfferDlc } from '../../protocol/messages/index.js';
import { fromHex, toHex } from '../../protocol/messages/index.js';
import { REFUND_GRACE_BLOCKS, REFUND_MAX_GRACE_BLOCKS, verifyOfferTerms } from '../../protocol/contract/index.js';
import type { TemplateResult } from '../../protocol/templates/index.js';
import type { OfferTerms } from '../../protocol/terms/index.js';
import type { Transaction } from 'bitcoinjs-lib';
import { checkTransferPayment, p2wshScriptPubkey, type TransferSource } from '../../protocol/tx/index.js';
import type { BitcoinRpc } from '../chain/index.js';
import type { ContractRecord } from '../wallet/index.js';
import { checkEventMatchesTerms, templateOf } from './contract.js';
import { ParticipantError } from './errors.js';
import type { Participant } from './participant.js';
import { checkOfferedOracles, contractOracleInfo, oracleInfoOf, type OracleSetEvents } from './oracle-set.js';

const displayTxid = (txid: Uint8Array): string => toHex(Uint8Array.from(txid).reverse());

/**
 * The old funding output is confirmed and unspent on our node (the mempool
 * counts: an output a pending transaction spends is gone), at the value and
 * script the contract's messages rebuild.
 * @throws {ParticipantError} MISMATCH (`old-funding-missing`, `old-funding-unconfirmed`, `old-funding-differs`); {ChainError}.
 */
export async function checkOldFundingOnNode(rpc: BitcoinRpc, from: TransferSource): Promise<void> {
  const txid = displayTxid(from.txid);
  const out = await rpc.getTxOut(txid, from.vout, true);
  if (out === null) {
    throw new ParticipantError('MISMATCH', `the contract's funding output ${txid}:${from.vout} is not unspent on your node (never funded, or settled, refunded or transferred already)`, { reason: 'old-funding-missing' });
  }
  if (out.confirmations < 1) {
    throw new ParticipantError('MISMATCH', `the contract's funding output ${txid}:${from.vout} is not confirmed on your node yet`, { reason: 'old-funding-unconfirmed' });
  }
  const script = toHex(p2wshScriptPubkey(from.script));
  if (out.valueSats !== from.value || out.scriptPubKey.hex !== script) {
    throw new ParticipantError('MISMATCH', `the output ${txid}:${from.vout} holds ${out.valueSats} sats at ${out.scriptPubKey.hex}; the contract's messages say ${from.value} at ${script}`, { reason: 'old-funding-differs' });
  }
}

/** The old offer, checked: its oracle set at my URLs and the contract rebuilt from the terms. */
export interface CheckedOldContract {
  set: OracleSetEvents;
  contract: TemplateResult;
}

/**
 * A listed contract's offer against its terms and MY oracles, as `accept`
 * checks an offer (accept-checks.ts), but for a live contract: no funding
 * deadline or window-start check (it is funded and running), and an
 * attested event is refused (the outcome is known: a buyer would pay for a
 * settled bet).
 * @throws {ParticipantError} MISMATCH (oracle set, event), EXPIRED (`event-attested`); {DlcError} (`terms-mismatch:*`).
 */
export async function checkOldContractOffer(p: Participant, offer: OfferDlc, terms: OfferTerms, maxFeeRatePerVb: bigint): Promise<CheckedOldContract> {
  const set = await checkOfferedOracles(p, contractOracleInfo(offer));
  for (const ev of set.events) {
    checkEventMatchesTerms(ev, terms);
    if (ev.state === 'attested') throw new ParticipantError('EXPIRED', `oracle event ${ev.eventId} is attested already: the position's outcome is known`, { reason: 'event-attested' });
  }
  const ev = set.events[0]!;
  const contract = templateOf(terms, oracleInfoOf(set.announcements, set.threshold));
  const network = p.wallet().network;
  verifyOfferTerms(offer, {
    contract,
    hashProfile: set.hashProfile,
    keyPayouts: contract.summary.keyPayouts,
    announcements: set.announcements,
    oraclePublicKeys: set.oracles.map((o) => fromHex(o.publicKey)),
    chainHash: fromHex(network.chainHashHex),
    cetLocktimeAtMost: ev.attestHeight,
    refundLocktimeAtLeast: ev.attestHeight + Math.floor(REFUND_GRACE_BLOCKS[network.flow] / 2),
    refundLocktimeAtMost: ev.attestHeight + REFUND_MAX_GRACE_BLOCKS[network.flow],
    maxFeeRatePerVb,
  });
  return { set, contract };
}

/** The seller's own listing, as stored in its contract record. */
export interface OwnListing {
  positionId: string;
  price: bigint;
  sellerSpk: Uint8Array;
}

/**
 * The listing this wallet stored for a position (never the coordinator's copy).
 * @throws {ParticipantError} STATE (`no-listing`) when this wallet listed no such position.
 */
export function ownListingOf(records: readonly ContractRecord[], positionId: string): { record: ContractRecord; listing: OwnListing } {
  const record = records.find((r) => r.listing?.positionId === positionId);
  if (record?.listing === undefined) {
    throw new ParticipantError('STATE', `this wallet listed no position ${positionId} ('hashdlc position sell' records each listing)`, { reason: 'no-listing' });
  }
  return { record, listing: { positionId, price: BigInt(record.listing.price), sellerSpk: fromHex(record.listing.sellerSpk) } };
}

/**
 * The transfer transaction pays OUR listing's price to OUR listing's script and
 * spends our contract's funding output (what the seller signs is SIGHASH_ALL
 * over this very transaction).
 * @throws {DlcError} INVALID_PARAMS `transfer-price-missing`, `transfer-not-spending-contract`.
 */
export function checkReleasePayment(tx: Transaction, from: Pick<TransferSource, 'txid' | 'vout'>, listing: OwnListing): void {
  checkTransferPayment(tx, { from, price: listing.price, sellerSpk: listing.sellerSpk });
}

/**
 * The price the taker agreed to at most.
 * @throws {ParticipantError} MISMATCH (`price-above-max`).
 */
export function checkPriceAtMost(price: bigint, maxPrice: bigint | undefined): void {
  if (maxPrice !== undefined && price > maxPrice) {
    throw new ParticipantError('MISMATCH', `the position's price is ${price} sats, above your --max-price ${maxPrice}`, { reason: 'price-above-max' });
  }
}
