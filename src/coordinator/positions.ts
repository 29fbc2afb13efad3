/**
 * Positions (issue 14): the secondary book and the transfer of a live
 * contract's buyer side to a new buyer, behind `/v1/positions` (API.md
 * "Positions"). Each step verifies before it stores, under the SOLD contract's
 * lock (the watcher drives that contract under the same lock), and commits one
 * position transition in one batch (store `commitPosition`).
 *
 * Verification per step:
 * - sell (the sold contract's accepter): the contract confirmed, not a strip
 *   period, the transfer window open on our tip, no other open listing;
 * - take (any identity, the taker): the new contract is the old one with only
 *   the buyer's fields replaced (`checkTransferredContract`), its set-up over
 *   the transfer transaction, EVERY CET adaptor signature (the engine's worker
 *   pool) and the refund signature of the taker, the taker's inputs unspent and
 *   backing nothing else (held while taken), the temporary id unused;
 * - consent (the stayer): the new sign_dlc (contract id, every CET adaptor and
 *   refund signature) and its signature on the transfer's old funding input;
 * - release (the seller): its signature on the old funding input;
 * - fund (the taker, after consent): its PSBT is the transfer and its
 *   witnesses verify.
 * With the three, the signed transfer goes through testmempoolaccept and ONE
 * batch stores the position `broadcast`, the new contract (`funding-broadcast`,
 * its funding the transfer) and the old contract's `transferredTo` link; then
 * it is broadcast (the watcher re-sends it as the new contract's funding).
 *
 * This module does NOT speak HTTP (http.ts) or poll (watcher.ts calls
 * `drive`), and holds no keys.
 */
import { randomBytes } from 'node:crypto';
import { Psbt } from 'bitcoinjs-lib';
import {
  checkTransferOpen,
  checkTransferredContract,
  transferBuyerFieldsOf,
  transferDeadline,
  transferredMessages,
  transferTermsFromJson,
  transferTermsToJson,
  verifyTransferSign,
  verifyTransferSignatures,
  type CetVerifier,
  type ContractSetup,
} from '../../protocol/contract/index.js';
import { DlcError, isDlcError } from '../../protocol/errors.js';
import { decodeAcceptDlc, decodeOfferDlc, decodeSignDlc, encodeOfferDlc, fromHex, toHex, type AcceptDlc, type OfferDlc } from '../../protocol/messages/index.js';
import {
  buildTransferPsbt,
  buildTransferTransaction,
  extractFundingSignatures,
  isStandardScriptPubkey,
  parseFundingPsbt,
  signedTransferTransaction,
  transferSourceOf,
  transferSpendSighash,
  verifyFundingSignatures,
  verifyFundingSpendSignature,
  type ClosingContext,
  type TransferTerms,
  type TransferTransaction,
} from '../../protocol/tx/index.js';
import type { OwnerChainEntry, PositionState, PositionView, TransferLink } from '../api/coordinator.js';
import { OracleClient as PublicOracleClient } from '../api/oracle-client.js';
import { verifyContractCets } from '../engine/contract.js';
import { isChainError } from '../chain/index.js';
import { fundingOf, type ContractMessages } from './contract-data.js';
import { CoordinatorError } from './errors.js';
import { RECORD_VERSION, contractTransferred, failContract, linkTransfer, type ContractRecord, type FundingBroadcast } from './lifecycle.js';
import {
  OPEN_POSITION_STATES,
  collect,
  dropTake,
  endPosition,
  listPosition,
  positionTransferred,
  takePosition,
  transferBroadcast,
  type PositionRecord,
} from './position-state.js';
import { FLOW_NETWORK, OUTPOINTS_LOCK, checkInputLimits, outpointsOf, type CoordinatorService, type RequestSchemas } from './service.js';
import type { z } from 'zod';

type Body<K extends keyof RequestSchemas> = z.output<RequestSchemas[K]>;

/** What the transfer of a taken position is built from. */
interface TakenContext {
  old: ContractRecord;
  oldMessages: ContractMessages;
  oldClosing: ClosingContext;
  offer: OfferDlc;
  accept: AcceptDlc;
  terms: TransferTerms;
  transfer: TransferTransaction;
}

/** Who reads a position: the whole of it (`party`: seller, stayer, taker) or the public part. */
export type PositionReader = 'party' | 'public';

/** The transfer link a contract shows for a position. */
function linkOf(p: PositionRecord, contractId: string): TransferLink {
  return { contractId, positionId: p.id, transferTxid: p.take?.transferTxid ?? null };
}

function positionError(err: unknown): unknown {
  // protocol/contract's window check is a DlcError; at the API it is "too late" (409).
  if (isDlcError(err) && err.reason === 'transfer-closed') {
    return new CoordinatorError('EXPIRED', err.message, { reason: 'transfer-closed', cause: err, ...(err.details ? { details: { ...err.details } } : {}) });
  }
  return err;
}

export class PositionDesk {
  readonly #svc: CoordinatorService;
  readonly #verifier: CetVerifier;

  constructor(svc: CoordinatorService) {
    this.#svc = svc;
    this.#verifier = (setup, party, sigs) => verifyContractCets(svc.engine, setup, party, sigs);
  }

  /** @throws {CoordinatorError} NOT_FOUND */
  async mustGet(id: string): Promise<PositionRecord> {
    const p = /^[0-9a-f]{32}$/.test(id.toLowerCase()) ? await this.#svc.store.getPosition(id.toLowerCase()) : undefined;
    if (p === undefined) throw new CoordinatorError('NOT_FOUND', `no position ${id}`, { reason: 'unknown-position' });
    return p;
  }

  #checkOpen(tip: number, cetLocktime: number): void {
    try {
      checkTransferOpen(tip, cetLocktime, FLOW_NETWORK[this.#svc.config.network]);
    } catch (err) {
      throw positionError(err);
    }
  }

  /**
   * `POST /v1/positions` (the sold contract's accepter).
   * @throws {CoordinatorError} NOT_FOUND; FORBIDDEN `not-accepter`; INVALID_STATE `strip-period` | `state-<state>`;
   *   EXPIRED `transfer-closed`; CONFLICT `position-exists`; INVALID_REQUEST `price-below-dust` | `non-standard-spk`.
   */
  async sell(signer: string, body: Body<'positionSell'>): Promise<PositionRecord> {
    const svc = this.#svc;
    const first = await svc.mustGet(body.contractId);
    return svc.lock.run(first.id, async () => {
      const rec = await svc.mustGet(first.id);
      // v1 sells the buyer side: only the contract's accepter may list it.
      if (!('accepter' in rec) || rec.accepter?.identityPubkey !== signer) {
        throw new CoordinatorError('FORBIDDEN', 'only the contract\'s accepter (the buyer) may sell its side', { reason: 'not-accepter' });
      }
      if (rec.strip !== undefined) {
        throw new CoordinatorError('INVALID_STATE', `contract ${rec.id} is period ${rec.strip.batch.index + 1} of a strip: a strip's period is not sold alone`, { reason: 'strip-period' });
      }
      // Funded and confirmed: a transfer spends a funding output that exists for good.
      if (rec.state !== 'confirmed') {
        throw new CoordinatorError('INVALID_STATE', `only a confirmed contract is sold; ${rec.id} is ${rec.state}`, { reason: `state-${rec.state}`, details: { state: rec.state } });
      }
      this.#checkOpen(await svc.chain.getBlockCount(), rec.cetLocktime);
      if (BigInt(body.price) < 1000n) {
        throw new CoordinatorError('INVALID_REQUEST', 'the price is below the 1000-sat dust limit of its output', { reason: 'price-below-dust' });
      }
      // A price output the network does not relay would fail every take at the end (after the stayer signed).
      if (!isStandardScriptPubkey(fromHex(body.sellerSpk))) {
        throw new CoordinatorError('INVALID_REQUEST', 'the seller\'s script is not a standard script pubkey', { reason: 'non-standard-spk' });
      }
      const open = (await svc.store.positionsOfContract(rec.id)).find((p) => OPEN_POSITION_STATES.includes(p.state));
      if (open !== undefined) {
        throw new CoordinatorError('CONFLICT', `contract ${rec.id} is already listed as position ${open.id} (${open.state})`, { reason: 'position-exists', details: { position: open.id } });
      }
      const p = listPosition({
        id: toHex(randomBytes(16)),
        contractId: rec.id,
        side: 'accept',
        price: body.price,
        sellerSpk: body.sellerSpk.toLowerCase(),
        seller: signer,
        stayer: rec.offerer.identityPubkey,
        cetLocktime: rec.cetLocktime,
        lastHeight: transferDeadline(rec.cetLocktime, FLOW_NETWORK[svc.config.network]),
      }, svc.now());
      await svc.store.commitPosition({ prev: null, next: p });
      svc.log('info', 'position listed', { id: p.id, contract: rec.id, price: p.price });
      return p;
    });
  }

  /** The transfer of a taken position, rebuilt from the stored messages and terms. */
  async #taken(p: PositionRecord): Promise<TakenContext> {
    const svc = this.#svc;
    const old = await svc.mustGet(p.contractId);
    const oldMessages = await svc.data.messages(old);
    const { closing: oldClosing } = fundingOf({ offer: oldMessages.offer, accept: oldMessages.accept!, fundingOptions: oldMessages.fundingOptions });
    const raw = await svc.store.positionMessages(p.id);
    if (raw.offer === undefined || raw.accept === undefined) throw new Error(`position ${p.id} is taken without stored messages`);
    const offer = decodeOfferDlc(raw.offer);
    const accept = decodeAcceptDlc(raw.accept);
    const terms = transferTermsFromJson(p.take!.transfer);
    return { old, oldMessages, oldClosing, offer, accept, terms, transfer: buildTransferTransaction(offer, accept, terms) };
  }

  #setup(p: PositionRecord, t: TakenContext): ContractSetup {
    return this.#svc.data.setup(p.take!.newContractId, t.offer, t.accept, { transfer: t.terms });
  }

  /**
   * `POST /v1/positions/:id/take` (any identity: the taker).
   * @throws {CoordinatorError} NOT_FOUND, FORBIDDEN `identity-mismatch`, INVALID_REQUEST `fee-rate-too-low`, INVALID_STATE, EXPIRED `transfer-closed`,
   *   CONFLICT `temporary-id-in-use` | `contract-id-in-use` | `input-in-use`, FUNDING_REJECTED `input-unavailable`;
   *   {DlcError} INVALID_PARAMS `transfer-mismatch:<field>`, BAD_SIGNATURE naming the slot, as buildTransferTransaction.
   */
  async take(id: string, signer: string, body: Body<'positionTake'>): Promise<PositionRecord> {
    if (signer !== body.identityPubkey) {
      throw new CoordinatorError('FORBIDDEN', 'the request must be signed by the identityPubkey it names', { reason: 'identity-mismatch' });
    }
    // Below the minimum relay fee the transfer is refused at the very end, after the stayer and the seller signed.
    if (BigInt(body.feeRatePerVb) < 1n) {
      throw new CoordinatorError('INVALID_REQUEST', 'the transfer\'s fee rate is below 1 sat/vB (the minimum relay fee)', { reason: 'fee-rate-too-low' });
    }
    const svc = this.#svc;
    const first = await this.mustGet(id);
    return svc.lock.run(first.contractId, async () => {
      const p = await this.mustGet(first.id);
      expectPositionState(p, 'take', ['listed']);
      if (signer === p.seller || signer === p.stayer) {
        throw new CoordinatorError('FORBIDDEN', 'a party to the contract cannot take its own position', { reason: 'taker-is-party' });
      }
      const old = await svc.mustGet(p.contractId);
      if (old.state !== 'confirmed') throw new CoordinatorError('INVALID_STATE', `the sold contract is ${old.state}`, { reason: `state-${old.state}` });
      const takenHeight = await svc.chain.getBlockCount();
      this.#checkOpen(takenHeight, old.cetLocktime);
      const m = await svc.data.messages(old);
      const bytes = fromHex(body.accept);
      const accept = decodeAcceptDlc(bytes);
      checkInputLimits(svc.config.limits, 'accept', accept.fundingInputs);
      const newId = toHex(accept.temporaryContractId);
      if (await svc.store.get(newId) !== undefined) {
        throw new CoordinatorError('CONFLICT', `temporary contract id ${newId} is in use`, { reason: 'temporary-id-in-use' });
      }
      // 1. offer' is derived, never taken from the buyer: the old offer with the new temporary id and no stayer inputs.
      const oldPair = { offer: m.offer, accept: m.accept! };
      const offer = transferredMessages(oldPair, 'accept', accept.temporaryContractId, transferBuyerFieldsOf({ offer: m.offer, accept }, 'accept')).offer;
      const { closing: oldClosing } = fundingOf({ offer: m.offer, accept: m.accept!, fundingOptions: m.fundingOptions });
      const from = transferSourceOf(oldClosing);
      const terms: TransferTerms = {
        side: 'accept', from, price: BigInt(p.price), sellerSpk: fromHex(p.sellerSpk), priceSerialId: BigInt(body.priceSerialId), feeRatePerVb: BigInt(body.feeRatePerVb),
      };
      // 2. The accept' changes nothing but the buyer's fields (names the first field that differs).
      checkTransferredContract(oldPair, { offer, accept }, terms, { side: 'accept', from });
      // 3. The set-up over the transfer transaction; EVERY CET adaptor signature and the refund signature of the taker.
      const setup = svc.data.setup(newId, offer, accept, { transfer: terms });
      // The taker picks the temporary id AND the transfer (whose txid does not depend on that id), so it could
      // grind contract_id = txid ⊕ vout ⊕ temp id onto another contract's id and take over the store's
      // contract-id index entry (a GET by that id would answer the new contract).
      const newDlcId = toHex(setup.contractId);
      if (await svc.store.get(newDlcId) !== undefined) {
        throw new CoordinatorError('CONFLICT', `the new contract's id ${newDlcId} is another contract's`, { reason: 'contract-id-in-use' });
      }
      await verifyTransferSignatures(setup, 'accept', accept, this.#verifier);
      // 4. The taker's coins exist now.
      await svc.checkInputsUnspent('accept', accept.fundingInputs);
      const outpoints = outpointsOf(accept.fundingInputs);
      const transfer = buildTransferTransaction(offer, accept, terms);
      return svc.lock.run(OUTPOINTS_LOCK, async () => {
        // 5. Each coin backs one pending offer, accept or take.
        await svc.checkOutpointsFree('accept', outpoints);
        const next = takePosition(p, {
          newContractId: newId,
          takerIdentity: signer,
          newDlcContractId: newDlcId,
          transfer: transferTermsToJson(terms),
          transferPsbt: buildTransferPsbt(transfer, from).toBase64(),
          transferTxid: transfer.txidHex,
          takerOutpoints: outpoints,
          consentSignature: null,
          releaseSignature: null,
          fundedPsbt: null,
          takenHeight,
        }, svc.now());
        await svc.store.commitPosition({ prev: p, next, messages: { offer: encodeOfferDlc(offer), accept: bytes } });
        svc.log('info', 'position taken', { id: p.id, newContract: newId, transferTxid: transfer.txidHex });
        return next;
      });
    });
  }

  /**
   * `POST /v1/positions/:id/consent` (the stayer: the old offerer).
   * @throws {CoordinatorError} NOT_FOUND, FORBIDDEN `not-stayer`, INVALID_STATE, EXPIRED, FUNDING_REJECTED;
   *   {DlcError} BAD_SIGNATURE (`transfer-signature:offer`, CET/refund signatures of the sign_dlc).
   */
  async consent(id: string, signer: string, body: Body<'positionConsent'>): Promise<PositionRecord> {
    return this.#step(id, signer, 'stayer', async (p, t) => {
      const bytes = fromHex(body.sign);
      const sign = decodeSignDlc(bytes);
      await verifyTransferSign(this.#setup(p, t), sign, this.#verifier);
      checkOldInputSignature(t, 'offer', body.signature);
      return { next: collect(p, { consentSignature: body.signature.toLowerCase() }, this.#svc.now()), messages: { sign: bytes } };
    });
  }

  /**
   * `POST /v1/positions/:id/release` (the seller).
   * @throws {CoordinatorError} NOT_FOUND, FORBIDDEN `not-seller`, INVALID_STATE, EXPIRED, FUNDING_REJECTED; {DlcError} BAD_SIGNATURE `transfer-signature:accept`.
   */
  async release(id: string, signer: string, body: Body<'positionRelease'>): Promise<PositionRecord> {
    return this.#step(id, signer, 'seller', (p, t) => {
      checkOldInputSignature(t, 'accept', body.signature);
      return Promise.resolve({ next: collect(p, { releaseSignature: body.signature.toLowerCase() }, this.#svc.now()) });
    });
  }

  /**
   * `POST /v1/positions/:id/fund` (the taker, once the stayer consented).
   * @throws {CoordinatorError} NOT_FOUND, FORBIDDEN `not-taker`, INVALID_STATE `not-consented`, EXPIRED, FUNDING_REJECTED;
   *   {DlcError} INVALID_PARAMS `psbt-mismatch`, BAD_SIGNATURE for a bad witness.
   */
  async fund(id: string, signer: string, body: Body<'positionFund'>): Promise<PositionRecord> {
    return this.#step(id, signer, 'taker', (p, t) => {
      // The taker signs last: its inputs go only into a transfer the stayer has agreed to.
      if (p.take!.consentSignature === null) {
        throw new CoordinatorError('INVALID_STATE', 'the stayer has not consented yet: fund after its consent', { reason: 'not-consented' });
      }
      const psbt = parseFundingPsbt(body.transferPsbt, t.transfer);
      verifyFundingSignatures(t.transfer, 'accept', extractFundingSignatures(psbt, t.transfer, 'accept'));
      return Promise.resolve({ next: collect(p, { fundedPsbt: body.transferPsbt }, this.#svc.now()) });
    });
  }

  /**
   * One signature-collecting step of a taken position: its checks, then either
   * its commit or, when it completes the transfer, the broadcast batch.
   */
  async #step(
    id: string,
    signer: string,
    who: 'stayer' | 'seller' | 'taker',
    check: (p: PositionRecord, t: TakenContext) => Promise<{ next: PositionRecord; messages?: { sign: Uint8Array } }>,
  ): Promise<PositionRecord> {
    const svc = this.#svc;
    const first = await this.mustGet(id);
    let toBroadcast: { id: string; hex: string } | null = null;
    const out = await svc.lock.run(first.contractId, async () => {
      const p = await this.mustGet(first.id);
      const key = who === 'stayer' ? p.stayer : who === 'seller' ? p.seller : p.take?.takerIdentity;
      if (signer !== key) throw new CoordinatorError('FORBIDDEN', `only the position's ${who} may do this`, { reason: `not-${who}` });
      expectPositionState(p, 'sign the transfer of', ['taken']);
      const t = await this.#taken(p);
      if (t.old.state !== 'confirmed') throw new CoordinatorError('INVALID_STATE', `the sold contract is ${t.old.state}`, { reason: `state-${t.old.state}` });
      this.#checkOpen(await svc.chain.getBlockCount(), t.old.cetLocktime);
      const { next, messages } = await check(p, t);
      const take = next.take!;
      if (take.consentSignature === null || take.releaseSignature === null || take.fundedPsbt === null) {
        await svc.store.commitPosition({ prev: p, next, ...(messages ? { messages } : {}) });
        return next;
      }
      const done = await this.#broadcastBatch(p, next, t, messages?.sign);
      toBroadcast = { id: take.newContractId, hex: done.transferTx! };
      return done;
    });
    if (toBroadcast !== null) {
      const b: { id: string; hex: string } = toBroadcast;
      await svc.broadcast(b.id, 'transfer', b.hex);
    }
    return out;
  }

  /**
   * The signed transfer, test-accepted, then ONE batch: the position broadcast,
   * the new contract funding-broadcast (its funding the transfer), the old one linked.
   * @throws {CoordinatorError} FUNDING_REJECTED `testmempoolaccept`.
   */
  async #broadcastBatch(prev: PositionRecord, collected: PositionRecord, t: TakenContext, signBytes: Uint8Array | undefined): Promise<PositionRecord> {
    const svc = this.#svc;
    const take = collected.take!;
    const witnesses = extractFundingSignatures(Psbt.fromBase64(take.fundedPsbt!), t.transfer, 'accept');
    const tx = signedTransferTransaction(t.transfer, 'accept', t.oldClosing, witnesses, fromHex(take.consentSignature!), fromHex(take.releaseSignature!));
    const [verdict] = await svc.chain.testMempoolAccept([tx.toHex()]);
    if (verdict === undefined || verdict.allowed !== true) {
      const why = verdict?.rejectReason ?? 'no verdict';
      throw new CoordinatorError('FUNDING_REJECTED', `the node refuses the transfer transaction: ${why}`, { reason: 'testmempoolaccept', details: { rejectReason: why } });
    }
    const stored = await svc.store.positionMessages(prev.id);
    const sign = signBytes ?? stored.sign;
    if (sign === undefined) throw new Error(`position ${prev.id}: consented without a stored sign_dlc`);
    const now = svc.now();
    const setup = this.#setup(collected, t);
    const old = t.old;
    const newRec: FundingBroadcast = {
      v: RECORD_VERSION,
      id: take.newContractId,
      createdAt: now,
      updatedAt: now,
      history: [{ state: 'funding-broadcast', at: now, note: `transfer ${take.transferTxid} of position ${prev.id} from ${old.id}` }],
      terms: old.terms,
      summary: old.summary,
      offerer: old.offerer,
      offerCollateral: old.offerCollateral,
      acceptCollateral: old.acceptCollateral,
      totalCollateral: old.totalCollateral,
      cets: old.cets,
      adaptorSignatures: old.adaptorSignatures,
      oracles: old.oracles,
      ...(old.oracleThreshold === undefined ? {} : { oracleThreshold: old.oracleThreshold }),
      cetLocktime: old.cetLocktime,
      refundLocktime: old.refundLocktime,
      transfer: { positionId: prev.id, fromContractId: old.id, terms: take.transfer },
      accepter: { identityPubkey: take.takerIdentity, fundingPubkey: toHex(t.accept.fundingPubkey), payoutSpk: toHex(t.accept.payoutSpk) },
      contractId: toHex(setup.contractId),
      fundingTxid: t.transfer.txidHex,
      fundOutputIndex: t.transfer.fundOutputIndex,
      fundOutputValue: String(t.transfer.fundOutputValue),
      fundingPsbt: take.fundedPsbt!,
      fundingTx: tx.toHex(),
      fundingHeight: null,
      fundingBlockHash: null,
      closeProposal: null,
      state: 'funding-broadcast',
    };
    const next = transferBroadcast(collected, tx.toHex(), now);
    await svc.store.commitPosition({
      prev,
      next,
      create: [{ rec: newRec, messages: { offer: encodeOfferDlc(t.offer), accept: encodeAcceptOf(stored.accept), sign } }],
      commit: [{ prev: old, next: linkTransfer(old, linkOf(next, newRec.id), now) }],
    });
    svc.log('info', 'transfer broadcasting', { id: prev.id, txid: t.transfer.txidHex, newContract: newRec.id, from: old.id });
    return next;
  }

  /**
   * `POST /v1/positions/:id/cancel`: the seller withdraws (listed | taken →
   * cancelled), or the taker abandons its take (taken → listed). Refused from broadcast on.
   * @throws {CoordinatorError} NOT_FOUND, FORBIDDEN `not-a-party`, INVALID_STATE.
   */
  async cancel(id: string, signer: string): Promise<PositionRecord> {
    const svc = this.#svc;
    const first = await this.mustGet(id);
    return svc.lock.run(first.contractId, async () => {
      const p = await this.mustGet(first.id);
      let next: PositionRecord;
      if (signer === p.seller) next = endPosition(p, 'cancelled', 'cancelled by the seller', svc.now());
      else if (p.take !== null && signer === p.take.takerIdentity) next = dropTake(p, 'take abandoned by the taker', svc.now());
      else throw new CoordinatorError('FORBIDDEN', 'only the seller or the taker may cancel', { reason: 'not-a-party' });
      await svc.store.commitPosition({ prev: p, next });
      svc.log('info', next.state === 'cancelled' ? 'position cancelled' : 'position back on the book', { id: p.id });
      return next;
    });
  }

  /** Whether `signer` may read the position in full: its seller, its stayer or its taker. */
  readerOf(p: PositionRecord, signer: string | null): PositionReader {
    return signer !== null && (signer === p.seller || signer === p.stayer || signer === p.take?.takerIdentity) ? 'party' : 'public';
  }

  /** `PositionView` (API.md): for a party in full, else without the transfer PSBT and terms (and, while taken, the new contract id). */
  async view(p: PositionRecord, reader: PositionReader, delivery = true): Promise<PositionView> {
    const old = await this.#svc.store.get(p.contractId);
    const take = p.take;
    return {
      id: p.id,
      state: p.state,
      contractId: p.contractId,
      side: p.side,
      price: p.price,
      sellerSpk: p.sellerSpk,
      terms: (old?.terms ?? {}) as unknown as Record<string, unknown>,
      cetLocktime: p.cetLocktime,
      lastHeight: p.lastHeight,
      delivery: delivery && old !== undefined ? await this.#delivery(old) : null,
      createdAt: p.createdAt,
      updatedAt: p.updatedAt,
      history: p.history.map((h) => ({ ...h })),
      // While taken the new contract id is only an id the taker chose, not yet a record: shown to a stranger it could be
      // squatted (an offer under it makes the broadcast batch's create fail CONFLICT after everyone signed).
      newContractId: reader === 'public' && p.state === 'taken' ? null : take?.newContractId ?? null,
      takerIdentity: take?.takerIdentity ?? null,
      transferTxid: take?.transferTxid ?? null,
      ...(reader === 'party' ? { transferPsbt: take?.transferPsbt ?? null, transfer: take?.transfer as unknown as Record<string, unknown> ?? null } : {}),
      consented: take?.consentSignature != null,
      released: take?.releaseSignature != null,
      funded: take?.fundedPsbt != null,
      ...(p.reason === undefined ? {} : { reason: p.reason }),
    };
  }

  /** Delivery so far from the contract's first oracle (`GET /v1/events/:id/progress`); null when it cannot say. */
  async #delivery(rec: ContractRecord): Promise<PositionView['delivery']> {
    const ref = rec.oracles[0];
    if (ref === undefined || rec.terms.template !== 'hashpower-sale') return null;
    try {
      const progress = await new PublicOracleClient(ref.url, { timeoutMs: 3000 }).eventProgress(ref.eventId);
      if (progress === null || progress.rewardsSats === null) return null;
      return { rewardsSats: progress.rewardsSats, atHeight: progress.atHeight, ratioBps: progress.ratioBps };
    } catch (err) {
      // An oracle without the progress endpoint (or unreachable) leaves the listing without delivery, never fails it.
      this.#svc.log('info', 'position delivery unknown', { contract: rec.id, error: err instanceof Error ? err.message : String(err) });
      return null;
    }
  }

  /** The secondary book (`state` default `listed`), newest first. */
  async list(q: { state?: PositionState | undefined; limit?: number | undefined; after?: string | undefined }, delivery = true): Promise<{ positions: PositionView[]; next: string | null }> {
    const limit = Math.min(q.limit ?? 50, this.#svc.config.limits.maxPageSize);
    const page = await this.#svc.store.listPositions(q.state ?? 'listed', { limit, after: q.after });
    return { positions: await Promise.all(page.positions.map((p) => this.view(p, 'public', delivery))), next: page.next };
  }

  /**
   * `GET /v1/positions/:id/messages`: the sold contract's offer and accept; once
   * taken, the new contract's offer', accept' and sign' (null until consented).
   */
  async messagesHex(p: PositionRecord): Promise<{ contract: { offer: string; accept: string }; next: { offer: string; accept: string; sign: string | null } | null }> {
    const old = await this.#svc.store.messages(p.contractId);
    let next = null;
    if (p.take !== null) {
      const pm = await this.#svc.store.positionMessages(p.id);
      const m = pm.offer !== undefined ? pm : await this.#svc.store.messages(p.take.newContractId);
      if (m.offer !== undefined && m.accept !== undefined) next = { offer: toHex(m.offer), accept: toHex(m.accept), sign: m.sign === undefined ? null : toHex(m.sign) };
    }
    return { contract: { offer: toHex(old.offer!), accept: toHex(old.accept!) }, next };
  }

  /** A contract's chain of owners (oldest first), or null for an unknown id. */
  async ownerChain(id: string): Promise<OwnerChainEntry[] | null> {
    const store = this.#svc.store;
    let rec = await store.get(id.toLowerCase());
    if (rec === undefined) return null;
    for (let i = 0; i < 1000 && rec.transfer !== undefined; i++) {
      const prev: ContractRecord | undefined = await store.get(rec.transfer.fromContractId);
      if (prev === undefined) break;
      rec = prev;
    }
    const out: OwnerChainEntry[] = [];
    for (let i = 0; i < 1000 && rec !== undefined; i++) {
      const to: TransferLink | undefined = rec.transferredTo;
      out.push({
        contractId: rec.id,
        state: rec.state,
        accepterIdentity: 'accepter' in rec && rec.accepter !== undefined ? rec.accepter.identityPubkey : null,
        positionId: to?.positionId ?? null,
        transferTxid: to?.transferTxid ?? null,
      });
      rec = to === undefined ? undefined : await store.get(to.contractId);
    }
    return out;
  }

  // ---------------------------------------------------------------- the watcher's part

  /**
   * Drives every open position (the watcher, each poll):
   * - listed | taken: the sold contract no longer confirmed (closed, settled,
   *   refunding…) → failed; the tip past the transfer window → expired; a take
   *   not completed within the accept timeout → back to listed (its coins freed);
   * - broadcast: the transfer confirmed at depth → position `transferred` and
   *   the old contract `transferred` (one batch); the new contract failed (its
   *   funding watcher found the transfer's inputs spent: a taker input spent
   *   elsewhere) → position failed, the old contract's link dropped (it still
   *   settles as before); the old contract spent by anything else (its CET,
   *   refund or close, confirmed: merely broadcast it may still lose to the
   *   transfer) → position failed and the new contract failed.
   * The new contract's confirmation and the transfer's re-broadcast are the
   * ordinary funding logic of the new record.
   */
  async drive(tip: number): Promise<void> {
    const svc = this.#svc;
    for (const id of await svc.store.positionIdsInStates(OPEN_POSITION_STATES)) {
      try {
        const first = await this.mustGet(id);
        await svc.lock.run(first.contractId, () => this.#driveOne(id, tip));
      } catch (err) {
        svc.log('warn', 'watcher: position step failed', { id, error: err instanceof Error ? err.message : String(err) });
      }
    }
  }

  async #driveOne(id: string, tip: number): Promise<void> {
    const svc = this.#svc;
    const p = await this.mustGet(id);
    const old = await svc.mustGet(p.contractId);
    const now = svc.now();
    if (p.state === 'listed' || p.state === 'taken') {
      if (old.state !== 'confirmed') {
        await svc.store.commitPosition({ prev: p, next: endPosition(p, 'failed', `the sold contract is ${old.state}`, now) });
        svc.log('info', 'position failed', { id, contract: old.id, state: old.state });
      } else if (tip > p.lastHeight) {
        await svc.store.commitPosition({ prev: p, next: endPosition(p, 'expired', `the transfer window closed at height ${p.lastHeight} (tip ${tip})`, now) });
        svc.log('info', 'position expired', { id, tip });
      } else if (p.state === 'taken' && p.take?.takenHeight !== undefined && tip >= p.take.takenHeight + svc.acceptTimeoutBlocks) {
        // A taker that never completes would hold the listing (and the seller's sale) for as long as it likes;
        // as an accepted offer does (issue 9, hole 8), the take is dropped after the accept timeout.
        await svc.store.commitPosition({ prev: p, next: dropTake(p, `take not completed within ${svc.acceptTimeoutBlocks} blocks (height ${tip})`, now) });
        svc.log('info', 'position take timed out', { id, tip });
      }
      return;
    }
    if (p.state !== 'broadcast') return;
    const take = p.take!;
    const txid = take.transferTxid;
    const link = linkOf(p, take.newContractId);
    const tx = await orNull(svc.chain.getRawTransaction(txid));
    if (tx !== null && tx.blockhash !== undefined && (tx.confirmations ?? 0) >= svc.config.watcher.confirmations) {
      const header = await svc.chain.getBlockHeader(tx.blockhash);
      const commit = old.state === 'transferred' ? [] : [{ prev: old, next: contractTransferred(old, link, { height: header.height, hash: header.hash }, now) as ContractRecord }];
      await svc.store.commitPosition({ prev: p, next: positionTransferred(p, header.height, now), commit });
      svc.log('info', 'position transferred', { id, txid, height: header.height, from: old.id, to: take.newContractId });
      return;
    }
    const fresh = await svc.store.get(take.newContractId);
    // Only a closing transaction CONFIRMED (or the old contract ended) means the transfer can never confirm: the old
    // contract's keyless settlement racing a transfer still in the mempool commits cet-broadcast before its CET is
    // even accepted, and the transfer may well win (the watcher then marks the old contract transferred).
    const oldSpentOtherwise = !['funding-broadcast', 'confirmed', 'attested', 'cet-broadcast', 'refund-broadcast', 'close-broadcast', 'transferred'].includes(old.state);
    if (fresh?.state === 'failed' || oldSpentOtherwise) {
      const reason = oldSpentOtherwise
        ? `the sold contract's funding output was spent by its ${old.state}: the transfer can never confirm`
        : 'a transfer input was spent by another transaction: the transfer can never confirm';
      const commit: { prev: ContractRecord; next: ContractRecord }[] = [];
      // The new contract never existed on chain; the old one shows no transfer that did not happen.
      if (fresh !== undefined && fresh.state === 'funding-broadcast') commit.push({ prev: fresh, next: failContract(fresh, reason, now) });
      if (old.transferredTo !== undefined && old.state !== 'transferred') commit.push({ prev: old, next: linkTransfer(old, null, now) });
      await svc.store.commitPosition({ prev: p, next: endPosition(p, 'failed', reason, now), commit });
      svc.log('info', 'position failed', { id, txid, reason });
    }
  }
}

async function orNull<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (err) {
    if (isChainError(err) && err.code === 'CHAIN_NOT_FOUND') return null;
    throw err;
  }
}

function expectPositionState(p: PositionRecord, action: string, allowed: readonly PositionState[]): void {
  if (!allowed.includes(p.state)) {
    throw new CoordinatorError('INVALID_STATE', `cannot ${action} a position in state ${p.state}`, { reason: `state-${p.state}`, details: { state: p.state } });
  }
}

/**
 * An old party's compact signature on the transfer's old funding input
 * (BIP143 SIGHASH_ALL over the whole transfer, price and new funding output included).
 * @throws {DlcError} BAD_SIGNATURE `transfer-signature:offer|accept`.
 */
function checkOldInputSignature(t: TakenContext, party: 'offer' | 'accept', hex: string): void {
  const sighash = transferSpendSighash(t.oldClosing, t.transfer);
  if (!verifyFundingSpendSignature(t.oldClosing, party, sighash, fromHex(hex))) {
    throw new DlcError('BAD_SIGNATURE', `the ${party === 'offer' ? 'stayer' : 'seller'}'s signature on the transfer's old funding input does not verify`, { reason: `transfer-signature:${party}` });
  }
}

function encodeAcceptOf(bytes: Uint8Array | undefined): Uint8Array {
  if (bytes === undefined) throw new Error('taken position without its accept');
  return bytes;
}
