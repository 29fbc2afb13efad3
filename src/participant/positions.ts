/**
 * Transferable positions (issue 14), the participant's use cases over the
 * coordinator's `/v1/positions` routes. v1 sells the buyer side: the seller
 * is the old contract's accepter (B1), the stayer its offerer (M), the taker
 * the new buyer (B2). Each step checks what it receives on its own records
 * and its own node before it signs anything:
 *
 * - `sellPosition` (B1): our accepted contract, funded and confirmed on OUR
 *   node, inside the transfer window; the listing (price, script) is stored
 *   in OUR contract record before anything relies on it.
 * - `buyPosition` (B2): the old contract checked as `accept` checks an offer
 *   (terms, MY oracles), its funding output unspent on MY node, the window,
 *   the price; then the new contract (new funding key, payout, inputs, change)
 *   with our CET adaptor and refund signatures, stored, then posted.
 * - `consentTransfer` (M): the new contract against OUR stored old one, field
 *   by field (protocol/contract `checkTransferredContract`), the taker's
 *   signatures, the window; then our CET, refund and old-input signatures.
 * - `releaseTransfer` (B1): the transfer transaction pays OUR listing's price
 *   to OUR listing's script; then our old-input signature.
 * - `fundTransfer` (B2): the stayer's CET and refund signatures verified
 *   BEFORE we sign our inputs of the transfer (internal or external wallet).
 *
 * This module does NOT print or read files; the CLI and the agent call it.
 */
import { randomBytes } from 'node:crypto';
import type { Psbt } from 'bitcoinjs-lib';
import {
  checkTransferOpen,
  checkTransferredContract,
  setupContract,
  setupTransferredContract,
  signContractWith,
  transferredMessages,
  transferSign,
  transferTermsFromJson,
  transferTermsToJson,
  verifyTransferSign,
  verifyTransferSignatures,
  type TransferTermsJson,
} from '../../protocol/contract/index.js';
import type { AcceptDlc, OfferDlc } from '../../protocol/messages/index.js';
import { decodeAcceptDlc, decodeOfferDlc, decodeSignDlc, encodeAcceptDlc, encodeOfferDlc, encodeSignDlc, fromHex, toHex } from '../../protocol/messages/index.js';
import {
  buildFundingTransaction,
  buildTransferPsbt,
  buildTransferTransaction,
  closingContext,
  extractFundingSignatures,
  parseFundingPsbt,
  partyInputIndexes,
  transferSourceOf,
  transferSpendSighash,
  type ClosingContext,
  type TransferSource,
  type TransferTerms,
} from '../../protocol/tx/index.js';
import type { PositionView } from '../api/index.js';
import type { ContractRecord } from '../wallet/index.js';
import { contractFundingOptions } from '../../protocol/terms/index.js';
import { addressScript, chooseFunding, defaultMaxFeeRate, feeRate, freshSerialIds, loadContract, needAccept, nowIso, parseTerms, saveState, type LoadedContract } from './contract.js';
import { ParticipantError, usage } from './errors.js';
import { ownWitnessesOfExternalPsbt } from './funding-inputs.js';
import type { Participant } from './participant.js';
import { engineVerifier } from './progress.js';
import { checkOldContractOffer, checkOldFundingOnNode, checkPriceAtMost, checkReleasePayment, ownListingOf } from './position-checks.js';
import type { ExternalPsbtInput } from './negotiate.js';
import { isChainError } from '../chain/index.js';

const P2WSH_SPK_LEN = 34;

function checkPositionId(id: string): string {
  const q = id.toLowerCase();
  if (!/^[0-9a-f]{8,64}$/.test(q)) throw usage(`position id must be hex, got '${id}'`);
  return q;
}

/** The funding output a contract's stored messages rebuild (a transferred contract's: its transfer's). */
export function fundingSourceOf(c: LoadedContract): TransferSource {
  const accept = needAccept(c);
  const f = c.transfer?.tx ?? buildFundingTransaction(c.offer, accept, c.funding);
  return { txid: f.txid, vout: f.fundOutputIndex, value: f.fundOutputValue, script: f.fundingScript };
}

/** The closing context of a contract's stored messages (what its funding output's 2-of-2 signatures commit to). */
function closingOf(c: LoadedContract): ClosingContext {
  const accept = needAccept(c);
  const f = c.transfer?.tx ?? buildFundingTransaction(c.offer, accept, c.funding);
  return closingContext(c.offer, accept, f);
}

/** The transfer window is open on OUR node's tip. @throws {DlcError} INVALID_PARAMS `transfer-closed`. */
async function checkWindowOnOurNode(p: Participant, cetLocktime: number): Promise<number> {
  const tip = await (await p.rpc()).getBlockCount();
  checkTransferOpen(tip, cetLocktime, p.wallet().network.flow);
  return tip;
}

// ------------------------------------------------------------------ sell (B1)

export interface SellInput {
  price: bigint;
  /** Where the price is paid; default a fresh address of this wallet. */
  address?: string;
}

/**
 * Lists our side of a live contract for sale.
 * @throws {ParticipantError} STATE (not our accepted contract, not confirmed, listed already),
 *   MISMATCH (`old-funding-*`), REMOTE; {DlcError} `transfer-closed`; {ChainError}.
 */
export async function sellPosition(p: Participant, contractId: string, input: SellInput): Promise<PositionView> {
  const wallet = p.wallet();
  const c = loadContract(wallet, contractId);
  if (c.record.role !== 'accept') throw new ParticipantError('STATE', `contract ${c.record.id} was offered here: v1 sells the buyer (accepter) side only`);
  if (c.record.state !== 'confirmed') throw new ParticipantError('STATE', `contract ${c.record.id} is ${c.record.state}: only a confirmed contract is sold ('hashdlc status ${c.record.id}' first)`);
  if (c.record.listing !== undefined) throw new ParticipantError('STATE', `contract ${c.record.id} is listed already as position ${c.record.listing.positionId}`);
  await checkOldFundingOnNode(await p.rpc(), fundingSourceOf(c));
  await checkWindowOnOurNode(p, c.offer.cetLocktime);
  const sellerSpk = input.address !== undefined ? addressScript(input.address, wallet) : wallet.newReceiveAddress().script;
  const view = await p.coordinator().sellPosition({ contractId: c.record.id, price: input.price.toString(), sellerSpk: toHex(sellerSpk) }, c.keys.identitySecretKey);
  // Our own record of what we asked for: `release` checks the transfer against it, never against the coordinator's copy.
  saveState(wallet, c.record, c.record.state, { listing: { positionId: view.id, price: input.price.toString(), sellerSpk: toHex(sellerSpk) } }, `listed as position ${view.id}`);
  return view;
}

// ------------------------------------------------------------------ list, status

export interface PositionQuery {
  state?: string;
  limit?: number;
  after?: string;
}

/** The coordinator's positions (default: listed). */
export async function listPositions(p: Participant, query: PositionQuery = {}): Promise<{ positions: PositionView[]; next: string | null }> {
  return p.coordinator().positions({
    ...(query.state === undefined ? {} : { state: query.state }),
    ...(query.limit === undefined ? {} : { limit: String(query.limit) }),
    ...(query.after === undefined ? {} : { after: query.after }),
  });
}

/** Our record that takes part in a position: the seller's listed contract, the stayer's old one, or a new contract. */
function ourRecordOf(records: readonly ContractRecord[], positionId: string, contractId?: string): ContractRecord | undefined {
  return records.find((r) => r.listing?.positionId === positionId || r.transfer?.positionId === positionId)
    ?? (contractId === undefined ? undefined : records.find((r) => r.id === contractId));
}

/**
 * A position as the coordinator shows it, in full when this wallet takes part (signed GET), with our own records of it.
 * @throws {ParticipantError} USAGE, REMOTE, UNREACHABLE.
 */
export async function positionStatus(p: Participant, positionId: string): Promise<{ view: PositionView; records: ContractRecord[] }> {
  const id = checkPositionId(positionId);
  let records = p.wallet().contracts.list();
  const publicView = await p.coordinator().position(id);
  const ours = ourRecordOf(records, id, publicView.contractId);
  const view = ours === undefined ? publicView : await p.coordinator().position(id, p.wallet().keys.contractIdentity(ours.keyIndex).identitySecretKey);
  // A take or listing of ours that can no longer happen is given up here (its coins freed), checked on our node.
  const changed = ours === undefined ? [] : await dropDeadTransfer(p, id);
  if (changed.length > 0) records = p.wallet().contracts.list();
  return { view, records: records.filter((r) => r.listing?.positionId === id || r.transfer?.positionId === id || r.transferredTo?.positionId === id) };
}

// ------------------------------------------------------------------ buy (B2)

export interface BuyInput {
  /** Refuse a price above this. */
  maxPrice?: bigint;
  /** The transfer transaction's fee rate, sat/vB (we pay it); default as for offers. */
  feeRate?: bigint;
  /** Refuse an old contract whose CET fee rate is higher; default `defaultMaxFeeRate`. */
  maxFeeRatePerVb?: bigint;
}

export interface BuyResult {
  positionId: string;
  /** The new contract's record id (its temporary contract id). */
  id: string;
  contractId: string;
  price: bigint;
  transferTxid: string;
  fee: bigint;
  state: PositionView['state'];
}

/** A listed position, its old messages and terms, checked as an offer (module header). */
async function checkListedPosition(p: Participant, view: PositionView, input: BuyInput): Promise<{ offer: OfferDlc; accept: AcceptDlc; from: TransferSource; hashProfile: 'sha256' | 'tagged'; oracles: { url: string; publicKey: string }[] }> {
  if (view.state !== 'listed') throw new ParticipantError('STATE', `position ${view.id} is ${view.state}, not listed`);
  if (view.side !== 'accept') throw new ParticipantError('STATE', `position ${view.id} sells the ${view.side} side: v1 buys accepter sides only`);
  const msgs = await p.coordinator().positionMessages(view.id);
  const offer = decodeOfferDlc(fromHex(msgs.contract.offer));
  const accept = decodeAcceptDlc(fromHex(msgs.contract.accept));
  if (toHex(offer.temporaryContractId) !== view.contractId) {
    throw new ParticipantError('MISMATCH', `the coordinator served offer ${toHex(offer.temporaryContractId)} for contract ${view.contractId}`, { reason: 'offer-id' });
  }
  const terms = parseTerms(view.terms);
  const rpc = await p.rpc();
  const maxFee = input.maxFeeRatePerVb ?? (await defaultMaxFeeRate(rpc, p.wallet().network.name));
  const { set, contract } = await checkOldContractOffer(p, offer, terms, maxFee);
  // The old funding output as the old messages build it (with the template's extra outputs), on MY node.
  const old = buildFundingTransaction(offer, accept, contractFundingOptions(contract, undefined));
  const from = transferSourceOf(closingContext(offer, accept, old));
  await checkOldFundingOnNode(rpc, from);
  await checkWindowOnOurNode(p, offer.cetLocktime);
  checkPriceAtMost(BigInt(view.price), input.maxPrice);
  return { offer, accept, from, hashProfile: set.hashProfile, oracles: set.oracles };
}

/**
 * Takes a listed position: checks it (module header), builds and signs the
 * new contract's accept side, stores it, then posts it.
 * @throws {ParticipantError} STATE, MISMATCH (`price-above-max`, `old-funding-*`, oracle set, event),
 *   EXPIRED (`event-attested`), REMOTE; {DlcError} (`terms-mismatch:*`, `transfer-closed`); {WalletError}; {ChainError}.
 */
export async function buyPosition(p: Participant, positionId: string, input: BuyInput = {}): Promise<BuyResult> {
  const id = checkPositionId(positionId);
  const wallet = p.wallet();
  const coordinator = p.coordinator();
  const view = await coordinator.position(id);
  const old = await checkListedPosition(p, view, input);
  const rpc = await p.rpc();
  const price = BigInt(view.price);
  const sellerSpk = fromHex(view.sellerSpk);
  const rate = input.feeRate ?? (await feeRate(p.config.feeRatePerVb, rpc, wallet.network.name));
  const keys = wallet.newContractIdentity();
  const signer = p.contractSigner(keys.index);
  const { inputs, reserved } = await chooseFunding(wallet, rpc, [], price, rate, [P2WSH_SPK_LEN, sellerSpk.length]);
  const taken = new Set([old.offer.payoutSerialId, old.offer.changeSerialId, old.offer.fundOutputSerialId]);
  const fresh = freshSerialIds(taken);
  for (const fi of inputs) fi.inputSerialId = fresh();
  const temporaryContractId = new Uint8Array(randomBytes(32));
  const drafts = transferredMessages({ offer: old.offer, accept: old.accept }, 'accept', temporaryContractId, {
    fundingPubkey: signer.fundingPubkey,
    payoutSpk: wallet.newReceiveAddress().script,
    payoutSerialId: fresh(),
    fundingInputs: inputs,
    changeSpk: wallet.newChangeAddress().script,
    changeSerialId: fresh(),
  });
  const terms: TransferTerms = { side: 'accept', from: old.from, price, sellerSpk, priceSerialId: fresh(), feeRatePerVb: rate };
  const { setup, transfer } = setupTransferredContract(drafts.offer, drafts.accept, terms, { hashProfile: old.hashProfile });
  const accept: AcceptDlc = { ...drafts.accept, ...(await signContractWith(setup, signer)) };
  const at = nowIso();
  const record: ContractRecord = {
    version: 1,
    id: toHex(temporaryContractId),
    role: 'accept',
    network: wallet.network.name,
    keyIndex: keys.index,
    state: 'accepted',
    history: [{ state: 'accepted', at, note: `taking position ${id}` }],
    coordinator: coordinator.http.base,
    oracle: old.oracles[0]!.url,
    oracles: old.oracles,
    hashProfile: old.hashProfile,
    terms: view.terms as Record<string, unknown>,
    offer: toHex(encodeOfferDlc(drafts.offer)),
    accept: toHex(encodeAcceptDlc(accept)),
    contractId: toHex(setup.contractId),
    reservedOutpoints: reserved,
    transfer: { positionId: id, terms: transferTermsToJson(terms) as unknown as Record<string, unknown>, from: view.contractId },
  };
  // Stored before it is sent: our adaptor signatures are out once posted, and a crash must not lose the new contract.
  wallet.contracts.save(record);
  let taken2: PositionView;
  try {
    taken2 = await coordinator.takePosition(id, { accept: record.accept!, identityPubkey: toHex(keys.identityPublicKey), priceSerialId: terms.priceSerialId.toString(), feeRatePerVb: rate.toString() }, keys.identitySecretKey);
  } catch (err) {
    if (err instanceof ParticipantError && err.code === 'REMOTE') saveState(wallet, record, 'failed', {}, `coordinator refused the take: ${err.remoteCode ?? ''} ${err.message}`.trim());
    throw err;
  }
  return { positionId: id, id: record.id, contractId: record.contractId!, price, transferTxid: transfer.txidHex, fee: transfer.fee, state: taken2.state };
}

// ------------------------------------------------------------------ consent (M)

/** The served new contract of a taken position (offer', accept', sign' when consented) and its transfer terms. */
async function takenPosition(p: Participant, positionId: string, identityKey: Uint8Array): Promise<{ view: PositionView; offer: OfferDlc; accept: AcceptDlc; sign: string | null; terms: TransferTerms }> {
  const coordinator = p.coordinator();
  const view = await coordinator.position(positionId, identityKey);
  const msgs = await coordinator.positionMessages(positionId, identityKey);
  if (msgs.next === undefined || msgs.next === null || view.transfer === undefined || view.transfer === null) {
    throw new ParticipantError('NOT_READY', `position ${positionId} is ${view.state}: nobody took it yet`);
  }
  return {
    view,
    offer: decodeOfferDlc(fromHex(msgs.next.offer)),
    accept: decodeAcceptDlc(fromHex(msgs.next.accept)),
    sign: msgs.next.sign,
    terms: transferTermsFromJson(view.transfer as unknown as TransferTermsJson),
  };
}

export interface ConsentResult {
  positionId: string;
  /** The new contract's record id. */
  id: string;
  contractId: string;
  state: PositionView['state'];
}

/**
 * The stayer consents: the new contract checked against OUR stored old one,
 * field by field, the taker's signatures, the window on our node; then our
 * signatures; the new contract stored before they are posted.
 * @throws {ParticipantError} STATE (not our offered contract), NOT_READY, REMOTE;
 *   {DlcError} `transfer-mismatch:<field>`, BAD_SIGNATURE, `transfer-closed`.
 */
export async function consentTransfer(p: Participant, positionId: string): Promise<ConsentResult> {
  const id = checkPositionId(positionId);
  const wallet = p.wallet();
  const publicView = await p.coordinator().position(id);
  const ours = loadContract(wallet, publicView.contractId);
  if (ours.record.role !== 'offer') throw new ParticipantError('STATE', `contract ${ours.record.id} was accepted here: the stayer (offerer) consents`);
  const next = await takenPosition(p, id, ours.keys.identitySecretKey);
  // The public view hides a taken position's new contract id (a stranger could squat it); ours is signed.
  const partyView = await p.coordinator().position(id, ours.keys.identitySecretKey);
  if (partyView.newContractId != null && toHex(next.offer.temporaryContractId) !== partyView.newContractId) {
    throw new ParticipantError('MISMATCH', `the coordinator names new contract ${partyView.newContractId} but serves ${toHex(next.offer.temporaryContractId)}`, { reason: 'new-contract-id' });
  }
  const oldClosing = closingOf(ours);
  // Our own old messages, never the coordinator's copy, are what the new contract must equal.
  checkTransferredContract({ offer: ours.offer, accept: needAccept(ours) }, { offer: next.offer, accept: next.accept }, next.terms, { side: 'accept', from: transferSourceOf(oldClosing) });
  const { setup, transfer } = setupTransferredContract(next.offer, next.accept, next.terms, { hashProfile: ours.record.hashProfile });
  await verifyTransferSignatures(setup, 'accept', next.accept, engineVerifier(await p.engine(), p.progress));
  await checkWindowOnOurNode(p, ours.offer.cetLocktime);
  await checkOldFundingOnNode(await p.rpc(), transferSourceOf(oldClosing));
  const signer = p.contractSigner(ours.record);
  const sign = transferSign(setup, await signContractWith(setup, signer));
  const signature = await signer.signSighash(transferSpendSighash(oldClosing, transfer));
  const newId = toHex(next.offer.temporaryContractId);
  const record: ContractRecord = {
    ...ours.record,
    id: newId,
    state: 'signed',
    history: [{ state: 'signed', at: nowIso(), note: `consented to position ${id} (from ${ours.record.id})` }],
    offer: toHex(encodeOfferDlc(next.offer)),
    accept: toHex(encodeAcceptDlc(next.accept)),
    sign: toHex(encodeSignDlc(sign)),
    contractId: toHex(setup.contractId),
    reservedOutpoints: [],
    transfer: { positionId: id, terms: transferTermsToJson(next.terms) as unknown as Record<string, unknown>, from: ours.record.id },
  };
  for (const k of ['fundingTxid', 'fundingPsbt', 'closingTxid', 'close', 'listing', 'transferredTo', 'ownCetSignatures', 'ownRefundSignature'] as const) delete record[k];
  // The new contract is stored (same funding key) before our signatures leave: a crash keeps it.
  wallet.contracts.save(record);
  saveState(wallet, ours.record, ours.record.state, { transferredTo: { positionId: id, contractId: newId } });
  const view = await p.coordinator().consentPosition(id, { sign: record.sign!, signature: toHex(signature) }, ours.keys.identitySecretKey);
  return { positionId: id, id: newId, contractId: record.contractId!, state: view.state };
}

// ------------------------------------------------------------------ release (B1)

export interface ReleaseResult {
  positionId: string;
  price: bigint;
  transferTxid: string;
  state: PositionView['state'];
}

/**
 * The seller releases its old funding input: the transfer rebuilt from the
 * served new contract and terms must pay OUR listing's price to OUR script.
 * @throws {ParticipantError} STATE (`no-listing`), NOT_READY, REMOTE;
 *   {DlcError} `transfer-price-missing`, `transfer-not-spending-contract`, `transfer-closed`.
 */
export async function releaseTransfer(p: Participant, positionId: string): Promise<ReleaseResult> {
  const id = checkPositionId(positionId);
  const wallet = p.wallet();
  const { record, listing } = ownListingOf(wallet.contracts.list(), id);
  const ours = loadContract(wallet, record.id);
  const next = await takenPosition(p, id, ours.keys.identitySecretKey);
  const transfer = buildTransferTransaction(next.offer, next.accept, next.terms);
  const from = fundingSourceOf(ours);
  checkReleasePayment(transfer.tx, from, listing);
  await checkWindowOnOurNode(p, ours.offer.cetLocktime);
  const signature = await p.contractSigner(ours.record).signSighash(transferSpendSighash(closingOf(ours), transfer));
  const view = await p.coordinator().releasePosition(id, { signature: toHex(signature) }, ours.keys.identitySecretKey);
  saveState(wallet, ours.record, ours.record.state, {
    listing: { ...record.listing!, released: true },
    transferredTo: { positionId: id, contractId: toHex(next.offer.temporaryContractId), transferTxid: transfer.txidHex },
  }, `released into transfer ${transfer.txidHex}`);
  return { positionId: id, price: listing.price, transferTxid: transfer.txidHex, state: view.state };
}

// ------------------------------------------------------------------ fund (B2)

export type FundTransferResult =
  | { psbtOut: true; positionId: string; psbt: string; transferTxid: string }
  | { psbtOut: false; positionId: string; id: string; transferTxid: string; state: PositionView['state'] };

/** Our new contract of a position we took. @throws {ParticipantError} STATE. */
function takenRecord(records: readonly ContractRecord[], positionId: string): ContractRecord {
  const r = records.find((x) => x.transfer?.positionId === positionId && x.role === 'accept' && x.state !== 'failed');
  if (r === undefined) throw new ParticipantError('STATE', `this wallet took no position ${positionId} ('hashdlc position buy' first)`);
  return r;
}

/**
 * The taker funds the transfer: the stayer's sign' verified BEFORE anything
 * is signed, then only our inputs of the transfer PSBT are signed.
 * @throws {ParticipantError} STATE, NOT_READY (not consented yet), MISMATCH
 *   (the served contract is not ours, `foreign-input-signed`), REMOTE; {DlcError} BAD_SIGNATURE.
 */
export async function fundTransfer(p: Participant, positionId: string, input: ExternalPsbtInput = {}): Promise<FundTransferResult> {
  const id = checkPositionId(positionId);
  if (input.psbtOut === true && input.psbtIn !== undefined) throw usage('--psbt-out and --psbt-in are two runs: give one');
  const wallet = p.wallet();
  const c = loadContract(wallet, takenRecord(wallet.contracts.list(), id).id);
  const next = await takenPosition(p, id, c.keys.identitySecretKey);
  if (toHex(encodeOfferDlc(next.offer)) !== c.record.offer || toHex(encodeAcceptDlc(next.accept)) !== c.record.accept) {
    throw new ParticipantError('MISMATCH', `the coordinator serves another new contract for position ${id} than the one this wallet signed`, { reason: 'new-contract-changed' });
  }
  if (next.sign === null) throw new ParticipantError('NOT_READY', `position ${id}: the stayer has not consented yet`);
  const setup = setupContract(c.offer, needAccept(c), c.setupOptions);
  const transfer = c.transfer!.tx!;
  // The stayer's CET adaptor and refund signatures protect us: verified before we sign our inputs.
  await verifyTransferSign(setup, decodeSignDlc(fromHex(next.sign)), engineVerifier(await p.engine(), p.progress));
  let record = c.record.sign === next.sign ? c.record : saveState(wallet, c.record, 'signed', { sign: next.sign });
  const clean = buildTransferPsbt(transfer, c.transfer!.terms.from);
  if (input.psbtOut === true) return { psbtOut: true, positionId: id, psbt: clean.toBase64(), transferTxid: transfer.txidHex };
  let psbt: Psbt;
  if (input.psbtIn !== undefined) {
    psbt = parseFundingPsbt(input.psbtIn, transfer);
    // Refuses signatures on any input but ours (the old 2-of-2 input included), and a PSBT of another transaction.
    ownWitnessesOfExternalPsbt(setup, psbt, 'accept');
  } else {
    psbt = clean;
    const { notOurs } = p.contractSigner(record).signFundingInputs(psbt, partyInputIndexes(transfer, 'accept'));
    if (notOurs.length > 0) throw new ParticipantError('MISMATCH', `transfer input(s) ${notOurs.join(', ')} are not this wallet's; use --psbt-out/--psbt-in with the wallet that owns them`);
  }
  extractFundingSignatures(psbt, transfer, 'accept');
  const view = await p.coordinator().fundPosition(id, { transferPsbt: psbt.toBase64() }, c.keys.identitySecretKey);
  record = saveState(wallet, record, view.state === 'broadcast' || view.state === 'transferred' ? 'funding-broadcast' : record.state, { fundingTxid: transfer.txidHex });
  return { psbtOut: false, positionId: id, id: record.id, transferTxid: transfer.txidHex, state: view.state };
}

// ------------------------------------------------------------------ cancel

/**
 * Withdraws a listing (the seller) or a take (the taker); the coordinator
 * refuses after broadcast. A taker's reserved coins are free again.
 * @throws {ParticipantError} STATE (neither the seller nor the taker here), REMOTE.
 */
export async function cancelPosition(p: Participant, positionId: string): Promise<PositionView> {
  const id = checkPositionId(positionId);
  const wallet = p.wallet();
  const records = wallet.contracts.list();
  const sold = records.find((r) => r.listing?.positionId === id);
  const took = records.find((r) => r.transfer?.positionId === id && r.role === 'accept' && r.state === 'accepted');
  const record = sold ?? took;
  if (record === undefined) throw new ParticipantError('STATE', `this wallet neither listed nor took position ${id}`);
  const view = await p.coordinator().cancelPosition(id, wallet.keys.contractIdentity(record.keyIndex).identitySecretKey);
  if (sold !== undefined) {
    const { listing: _gone, ...rest } = sold;
    saveState(wallet, rest, sold.state, {}, `position ${id} cancelled`);
  } else {
    saveState(wallet, record, 'cancelled', {}, `take of position ${id} cancelled`);
  }
  return view;
}

// ------------------------------------------------------------------ a transfer that can no longer happen

/** Pre-broadcast local states of a transfer's new contract: the taker's (`accepted`) and the stayer's (`signed`). */
const PENDING_TRANSFER_STATES: ReadonlySet<ContractRecord['state']> = new Set(['accepted', 'signed']);

/**
 * Whether the coordinator's position says OUR transfer (txid `ours`) can no
 * longer happen: the position failed, was cancelled or expired, is back on the
 * book (our take dropped), or another transfer went out for it.
 */
function transferDeadPerCoordinator(view: PositionView, ours: string | undefined): boolean {
  if (view.state === 'failed' || view.state === 'cancelled' || view.state === 'expired' || view.state === 'listed') return true;
  return (view.state === 'broadcast' || view.state === 'transferred') && view.transferTxid != null && view.transferTxid !== ours;
}

/**
 * Our node knows `txid` (mempool or chain).
 * @throws {ChainError} other than CHAIN_NOT_FOUND: a node that cannot answer frees nothing.
 */
async function nodeKnows(p: Participant, txid: string): Promise<boolean> {
  const rpc = await p.rpc();
  try {
    await rpc.getRawTransactionHex(txid);
    return true;
  } catch (e) {
    if (isChainError(e) && e.code === 'CHAIN_NOT_FOUND') return false;
    throw e;
  }
}

/**
 * Gives up this wallet's part in a transfer that can no longer happen, so its
 * coins are not reserved for good: the taker's new contract (`accepted`), the
 * stayer's new contract (`signed`) and the seller's listing on its old
 * contract. Taken only when the coordinator says so (position failed,
 * cancelled, expired, back on the book, or another transfer out) AND our own
 * node does not see our transfer transaction in its mempool or chain: a
 * coordinator's false word can only make us free coins whose spending would
 * cancel our own transfer. Returns the records it changed.
 * @throws {ParticipantError} REMOTE (the coordinator), {ChainError} (our node).
 */
export async function dropDeadTransfer(p: Participant, positionId: string): Promise<ContractRecord[]> {
  const id = checkPositionId(positionId);
  const wallet = p.wallet();
  const changed: ContractRecord[] = [];
  for (const record of wallet.contracts.list()) {
    const taking = record.transfer?.positionId === id && PENDING_TRANSFER_STATES.has(record.state);
    const listing = record.listing?.positionId === id && record.state !== 'transferred';
    if (!taking && !listing) continue;
    const key = wallet.keys.contractIdentity(record.keyIndex).identitySecretKey;
    const view = await p.coordinator().position(id, key);
    if (taking) {
      const txid = loadContract(wallet, record.id).transfer?.tx?.txidHex;
      if (!transferDeadPerCoordinator(view, txid) || (txid !== undefined && await nodeKnows(p, txid))) continue;
      changed.push(saveState(wallet, record, 'failed', {}, `position ${id} ${view.state}: the transfer can no longer happen; its coins are free`));
    } else if (view.state === 'failed' || view.state === 'cancelled' || view.state === 'expired') {
      // The seller's contract stays live; only its listing (and a signature it may have released) is void.
      if (view.transferTxid != null && await nodeKnows(p, view.transferTxid)) continue;
      const { listing: _void, ...rest } = record;
      changed.push(saveState(wallet, rest, record.state, {}, `position ${id} ${view.state}: listing void`));
    }
  }
  return changed;
}

// ------------------------------------------------------------------ the old contract after its transfer

/**
 * Whether OUR node shows the old contract's funding output spent by a
 * confirmed transaction that is the position's transfer (`transferTxid`, the
 * coordinator's word taken as a hint only): the seller's and the stayer's old
 * contract is then `transferred`. Returns the confirmed transfer txid, or undefined.
 * @throws {ChainError} other than "not found".
 */
export async function confirmedTransferOf(p: Participant, c: LoadedContract, transferTxid: string | undefined): Promise<string | undefined> {
  if (transferTxid === undefined || !/^[0-9a-f]{64}$/.test(transferTxid)) return undefined;
  const rpc = await p.rpc();
  const tx = await rpc.getRawTransaction(transferTxid).catch(() => undefined);
  if (tx === undefined || (tx.confirmations ?? 0) < 1) return undefined;
  const from = fundingSourceOf(c);
  const txid = toHex(Uint8Array.from(from.txid).reverse());
  return tx.vin.some((i) => i.txid === txid && i.vout === from.vout) ? transferTxid : undefined;
}
