/**
 * The contract lifecycle as a discriminated union on `state`, with pure
 * transition functions: each takes a record (and the facts of the event) and
 * returns the next record, or throws INVALID_STATE. The service persists a
 * transition's result in one atomic batch and performs side effects
 * (broadcasts) only from persisted states, so a restart re-drives them.
 *
 *   offered ─accept→ accepted ─sign→ signed ─fund→ funding-broadcast ─(conf)→ confirmed
 *      │                │              │              │    ↑ reorg ─────────────┘ │
 *      └──cancel────────┴──────────────┘→ cancelled   │                           │
 *                       └──────────────┴──────────────┴→ failed (inputs spent)   │
 *      ├────────────────┴──────────────┴→ expired (funding deadline reached unfunded)
 *      └←─ accepted (accept timeout, not signed: the accept is dropped, the offer back on the book)
 *   funding-broadcast | confirmed ─attestation→ attested ─broadcast→ cet-broadcast ─(conf)→ settled
 *                                 ─refund locktime→ refund-broadcast ─(conf)→ refunded
 *                                 ─both close sigs→ close-broadcast ─(conf)→ closed
 *   (a CET, refund or close seen on chain or in the mempool jumps to its *-broadcast
 *    or final state from funding-broadcast / confirmed / attested; a closing
 *    transaction reorged out goes back to its *-broadcast state.)
 *
 * Records are JSON-safe (amounts as decimal strings, bytes as hex) and carry a
 * format version `v`; they hold no message bodies (the store keeps offer/
 * accept/sign wire bytes in their own sublevel).
 *
 * This module does NOT verify anything, read the clock (callers pass `now`,
 * unix ms) or do I/O.
 */
import type { TransferTermsJson } from '../../protocol/contract/index.js';
import type { OfferTerms, StripRef, TermsSummary } from '../../protocol/terms/index.js';
import { CONTRACT_STATES, type ClosingKind, type ContractState, type HistoryEntry, type OracleView, type TransferLink } from '../api/coordinator.js';
import { CoordinatorError } from './errors.js';

/** Storage format version of a record. Bump on any change of shape (the golden snapshots fail first). */
export const RECORD_VERSION = 2;

// The states are the API's vocabulary (src/api/coordinator.ts): clients and the dashboard name them too.
export { CONTRACT_STATES, type ClosingKind, type ContractState, type HistoryEntry };

/** States from which nothing more happens. */
export const TERMINAL_STATES: ReadonlySet<ContractState> = new Set(['settled', 'refunded', 'closed', 'cancelled', 'failed', 'expired', 'transferred']);

/**
 * What makes a record the NEW contract of a position's transfer (issue 14):
 * the position, the contract it replaces, and the transfer terms its funding
 * transaction (the transfer transaction) is rebuilt from (contract-data.ts).
 */
export interface TransferRef {
  positionId: string;
  fromContractId: string;
  terms: TransferTermsJson;
}

export interface PartyInfo {
  /** x-only identity key (request signatures), hex. */
  identityPubkey: string;
  /** Compressed funding key, hex. */
  fundingPubkey: string;
  payoutSpk: string;
}

export interface OracleRef {
  url: string;
  eventId: string;
  publicKey: string;
}

/**
 * What one oracle of a contract's set said, as the watcher last saw it (the
 * entry at index i is `oracles[i]`'s): its attested outcome (decimal, the
 * oracle's own statement) or null while it has not attested or could not be
 * reached; `agreed` once a CET was completed: true when its attestation opens
 * the same outcome as the set that completed the CET, false when it attested
 * another one (a dissenting oracle), null before that or when it never attested.
 */
export interface OracleOutcome {
  outcome: string | null;
  agreed: boolean | null;
}

/** Fields every record has from the offer on. */
export interface OfferPart {
  v: number;
  /** The offer's temporary_contract_id, hex: the record's key at every stage. */
  id: string;
  createdAt: number;
  updatedAt: number;
  history: HistoryEntry[];
  terms: OfferTerms;
  summary: TermsSummary;
  offerer: PartyInfo;
  offerCollateral: string;
  acceptCollateral: string;
  totalCollateral: string;
  /** CETs and adaptor signatures per party, from the template. */
  cets: number;
  adaptorSignatures: number;
  oracles: OracleRef[];
  cetLocktime: number;
  refundLocktime: number;
  /** The offerer's funding inputs `txid:vout` (v2): each backs one pending offer/accept at most. */
  offerOutpoints?: string[];
  /**
   * Per oracle of `oracles` (same order), what it attested (issue 11); absent
   * until the watcher saw a first attestation, and in records from before
   * oracle sets. Kept here so every later transition carries it.
   */
  oracleOutcomes?: OracleOutcome[];
  /** How many of `oracles` must attest one outcome (issue 11); absent in older records (single oracle: 1). */
  oracleThreshold?: number;
  /**
   * A strip's period contract (issue 12): the strip's id (period 1's offer id),
   * its whole terms and the batch of funding outputs; `terms` above are this
   * period's. Absent for a single contract.
   */
  strip?: StripRef;
  /** Issue 14: this contract is the new contract of a transfer (its funding is the transfer transaction). */
  transfer?: TransferRef;
  /** Issue 14: the transfer that replaces this contract (pending while broadcast; the state is `transferred` once it confirmed). */
  transferredTo?: TransferLink;
}

export interface AcceptPart {
  accepter: PartyInfo;
  /** dlcspecs contract_id, hex. */
  contractId: string;
  /** Funding txid as displayed. */
  fundingTxid: string;
  fundOutputIndex: number;
  fundOutputValue: string;
  /** The funding PSBT (base64): unsigned after accept, with the offerer's inputs finalized after sign. */
  fundingPsbt: string;
  /** The accepter's funding inputs `txid:vout` (v2). */
  acceptOutpoints?: string[];
  /** The tip height when the accept was taken (v2): the accept timeout counts from it. */
  acceptedHeight?: number;
}

export interface CloseProposal {
  offerPayout: string;
  acceptPayout: string;
  /** The unsigned close PSBT (base64). */
  psbt: string;
  /** Compact (64-byte) signatures collected so far, hex. */
  offerSignature: string | null;
  acceptSignature: string | null;
  proposedAt: number;
  /** Unix ms after which the proposal's signatures are never combined (absent in records from before lifetimes). */
  expiresAt?: number;
}

export interface FundingPart {
  /** The fully signed funding transaction, hex. */
  fundingTx: string;
  /** Height of the block that confirmed it; null until confirmed (and after a reorg). */
  fundingHeight: number | null;
  fundingBlockHash: string | null;
  closeProposal: CloseProposal | null;
}

export interface ClosingPart {
  closingKind: ClosingKind;
  /** The fully signed closing transaction, hex. */
  closingTx: string;
  closingTxid: string;
  payouts: { offer: string; accept: string };
  /** CETs: the attested outcome (decimal) and the CET's index in the plan; null otherwise. */
  outcome: string | null;
  cetIndex: number | null;
  /** CETs: the oracle attestation (wire hex), when the coordinator saw it. */
  attestation: string | null;
  /** Who broadcast it: the coordinator, or someone else (seen on the chain or in the mempool). */
  broadcastBy: 'coordinator' | 'other' | null;
}

export interface ClosingConfirmPart {
  closingHeight: number;
  closingBlockHash: string;
}

export type Offered = OfferPart & { state: 'offered' };
export type Accepted = OfferPart & AcceptPart & { state: 'accepted' };
export type Signed = OfferPart & AcceptPart & { state: 'signed' };
export type FundingBroadcast = OfferPart & AcceptPart & FundingPart & { state: 'funding-broadcast' };
export type Confirmed = OfferPart & AcceptPart & FundingPart & { state: 'confirmed'; fundingHeight: number; fundingBlockHash: string };
export type Attested = OfferPart & AcceptPart & FundingPart & ClosingPart & { state: 'attested'; closingKind: 'cet' };
export type ClosingBroadcast = OfferPart & AcceptPart & FundingPart & ClosingPart & {
  state: 'cet-broadcast' | 'refund-broadcast' | 'close-broadcast';
};
export type Closed = OfferPart & AcceptPart & FundingPart & ClosingPart & ClosingConfirmPart & {
  state: 'settled' | 'refunded' | 'closed';
};
export type Cancelled = OfferPart & Partial<AcceptPart> & { state: 'cancelled'; endedFrom: ContractState; reason: string };
export type Failed = OfferPart & Partial<AcceptPart> & Partial<FundingPart> & { state: 'failed'; endedFrom: ContractState; reason: string };
export type Expired = OfferPart & Partial<AcceptPart> & { state: 'expired'; endedFrom: ContractState; reason: string };
/** Issue 14: the funding output was spent by a confirmed transfer transaction; the new contract (`transferredTo`) lives on. */
export type Transferred = OfferPart & AcceptPart & FundingPart & { state: 'transferred'; transferredTo: TransferLink; transferHeight: number; transferBlockHash: string };

export type ContractRecord =
  | Offered
  | Accepted
  | Signed
  | FundingBroadcast
  | Confirmed
  | Attested
  | ClosingBroadcast
  | Closed
  | Cancelled
  | Failed
  | Expired
  | Transferred;

/** States in which the funding transaction is out and the funding output may be spent. */
export type Funded = FundingBroadcast | Confirmed | Attested;

// ------------------------------------------------------------------ helpers

function wrongState(rec: { state: ContractState }, action: string, allowed: readonly ContractState[]): CoordinatorError {
  return new CoordinatorError('INVALID_STATE', `cannot ${action} a contract in state ${rec.state} (allowed: ${allowed.join(', ')})`, {
    reason: `state-${rec.state}`,
    details: { state: rec.state },
  });
}

function expectState<S extends ContractState>(rec: ContractRecord, action: string, allowed: readonly S[]): asserts rec is Extract<ContractRecord, { state: S }> {
  if (!(allowed as readonly ContractState[]).includes(rec.state)) throw wrongState(rec, action, allowed);
}

function step<T extends { history: HistoryEntry[]; updatedAt: number }>(rec: T, state: ContractState, now: number, note?: string): HistoryEntry[] {
  const entry: HistoryEntry = { state, at: now };
  if (note !== undefined) entry.note = note;
  return [...rec.history, entry];
}

function pickOffer(rec: OfferPart): OfferPart {
  return {
    v: rec.v, id: rec.id, createdAt: rec.createdAt, updatedAt: rec.updatedAt, history: rec.history, terms: rec.terms,
    summary: rec.summary, offerer: rec.offerer, offerCollateral: rec.offerCollateral, acceptCollateral: rec.acceptCollateral,
    totalCollateral: rec.totalCollateral, cets: rec.cets, adaptorSignatures: rec.adaptorSignatures, oracles: rec.oracles,
    cetLocktime: rec.cetLocktime, refundLocktime: rec.refundLocktime,
    ...(rec.offerOutpoints === undefined ? {} : { offerOutpoints: rec.offerOutpoints }),
    ...(rec.oracleOutcomes === undefined ? {} : { oracleOutcomes: rec.oracleOutcomes }),
    ...(rec.oracleThreshold === undefined ? {} : { oracleThreshold: rec.oracleThreshold }),
    ...(rec.strip === undefined ? {} : { strip: rec.strip }),
    ...(rec.transfer === undefined ? {} : { transfer: rec.transfer }),
    ...(rec.transferredTo === undefined ? {} : { transferredTo: rec.transferredTo }),
  };
}

function pickAccept(rec: AcceptPart): AcceptPart {
  return {
    accepter: rec.accepter, contractId: rec.contractId, fundingTxid: rec.fundingTxid, fundOutputIndex: rec.fundOutputIndex,
    fundOutputValue: rec.fundOutputValue, fundingPsbt: rec.fundingPsbt,
    ...(rec.acceptOutpoints === undefined ? {} : { acceptOutpoints: rec.acceptOutpoints }),
    ...(rec.acceptedHeight === undefined ? {} : { acceptedHeight: rec.acceptedHeight }),
  };
}

function pickFunding(rec: FundingPart): FundingPart {
  return { fundingTx: rec.fundingTx, fundingHeight: rec.fundingHeight, fundingBlockHash: rec.fundingBlockHash, closeProposal: rec.closeProposal };
}

function pickClosing(rec: ClosingPart): ClosingPart {
  return {
    closingKind: rec.closingKind, closingTx: rec.closingTx, closingTxid: rec.closingTxid, payouts: rec.payouts,
    outcome: rec.outcome, cetIndex: rec.cetIndex, attestation: rec.attestation, broadcastBy: rec.broadcastBy,
  };
}

// ------------------------------------------------------------------ transitions

export type NewOffer = Omit<OfferPart, 'v' | 'createdAt' | 'updatedAt' | 'history'>;

/** A verified offer enters the book. */
export function createOffer(input: NewOffer, now: number): Offered {
  return { ...input, v: RECORD_VERSION, createdAt: now, updatedAt: now, history: [{ state: 'offered', at: now }], state: 'offered' };
}

/** offered → accepted (the accept's signatures were verified). @throws {CoordinatorError} INVALID_STATE */
export function acceptOffer(rec: ContractRecord, accept: AcceptPart, now: number): Accepted {
  expectState(rec, 'accept', ['offered']);
  return { ...pickOffer(rec), ...pickAccept(accept), state: 'accepted', updatedAt: now, history: step(rec, 'accepted', now) };
}

/** accepted → signed (the sign_dlc's signatures were verified). @throws {CoordinatorError} INVALID_STATE */
export function signContract(rec: ContractRecord, fundingPsbt: string, now: number): Signed {
  expectState(rec, 'sign', ['accepted']);
  return { ...pickOffer(rec), ...pickAccept(rec), fundingPsbt, state: 'signed', updatedAt: now, history: step(rec, 'signed', now) };
}

/** signed → funding-broadcast (the combined funding tx passed testmempoolaccept). @throws {CoordinatorError} INVALID_STATE */
export function fundContract(rec: ContractRecord, fundingPsbt: string, fundingTx: string, now: number): FundingBroadcast {
  expectState(rec, 'fund', ['signed']);
  return {
    ...pickOffer(rec), ...pickAccept(rec), fundingPsbt, fundingTx, fundingHeight: null, fundingBlockHash: null, closeProposal: null,
    state: 'funding-broadcast', updatedAt: now, history: step(rec, 'funding-broadcast', now),
  };
}

/** funding-broadcast → confirmed. @throws {CoordinatorError} INVALID_STATE */
export function fundingConfirmed(rec: ContractRecord, block: { height: number; hash: string }, now: number): Confirmed {
  expectState(rec, 'confirm the funding of', ['funding-broadcast']);
  return {
    ...pickOffer(rec), ...pickAccept(rec), ...pickFunding(rec), fundingHeight: block.height, fundingBlockHash: block.hash,
    state: 'confirmed', updatedAt: now, history: step(rec, 'confirmed', now, `block ${block.height}`),
  };
}

/** confirmed → funding-broadcast: the confirming block left the best chain. @throws {CoordinatorError} INVALID_STATE */
export function fundingReorged(rec: ContractRecord, now: number): FundingBroadcast {
  expectState(rec, 'un-confirm the funding of', ['confirmed']);
  return {
    ...pickOffer(rec), ...pickAccept(rec), ...pickFunding(rec), fundingHeight: null, fundingBlockHash: null,
    state: 'funding-broadcast', updatedAt: now, history: step(rec, 'funding-broadcast', now, `funding reorged out of block ${rec.fundingHeight}`),
  };
}

/** Updates the pending cooperative-close proposal (no state change). @throws {CoordinatorError} INVALID_STATE */
export function setCloseProposal(rec: ContractRecord, proposal: CloseProposal | null, now: number): FundingBroadcast | Confirmed {
  expectState(rec, 'propose a close of', ['funding-broadcast', 'confirmed']);
  return { ...rec, closeProposal: proposal, updatedAt: now };
}

/**
 * What the oracles attested so far (no state change): the watcher records
 * each oracle's outcome as it sees it, before a CET (so a dissent or a silent
 * oracle shows while the contract waits for its threshold) and after one
 * (an oracle attesting after the set that settled, agreeing or not).
 * @throws {CoordinatorError} INVALID_STATE; {RangeError} when `outcomes` does not have one entry per oracle.
 */
export function oraclesObserved<R extends FundingBroadcast | Confirmed | Attested | ClosingBroadcast | Closed>(rec: R, outcomes: readonly OracleOutcome[], now: number): R;
export function oraclesObserved(rec: ContractRecord, outcomes: readonly OracleOutcome[], now: number): ContractRecord;
export function oraclesObserved(rec: ContractRecord, outcomes: readonly OracleOutcome[], now: number): ContractRecord {
  expectState(rec, 'record oracle outcomes of', ['funding-broadcast', 'confirmed', 'attested', 'cet-broadcast', 'settled']);
  return { ...rec, oracleOutcomes: oneOutcomePerOracle(rec, outcomes), updatedAt: now };
}

/** A copy of `outcomes`. @throws {RangeError} when it does not have one entry per oracle of `rec`. */
function oneOutcomePerOracle(rec: ContractRecord, outcomes: readonly OracleOutcome[]): OracleOutcome[] {
  if (outcomes.length !== rec.oracles.length) throw new RangeError(`${outcomes.length} oracle outcomes for ${rec.oracles.length} oracles`);
  return [...outcomes];
}

/**
 * funding-broadcast | confirmed → attested: the oracle(s) attested and the
 * coordinator completed the CET (not yet broadcast, e.g. before cet_locktime).
 * `oracleOutcomes`, when given, records each oracle's outcome and agreement
 * (one entry per oracle).
 * @throws {CoordinatorError} INVALID_STATE; {RangeError} for a wrong number of oracle outcomes.
 */
export function cetCompleted(
  rec: ContractRecord,
  closing: Omit<ClosingPart, 'closingKind' | 'broadcastBy'>,
  now: number,
  oracleOutcomes?: readonly OracleOutcome[],
): Attested {
  expectState(rec, 'attest', ['funding-broadcast', 'confirmed']);
  return {
    ...pickOffer(rec), ...(oracleOutcomes === undefined ? {} : { oracleOutcomes: oneOutcomePerOracle(rec, oracleOutcomes) }),
    ...pickAccept(rec), ...pickFunding(rec), ...closing, closingKind: 'cet', broadcastBy: null,
    state: 'attested', updatedAt: now, history: step(rec, 'attested', now, `outcome ${closing.outcome}, CET ${closing.cetIndex}`),
  };
}

const BROADCAST_STATE = { cet: 'cet-broadcast', refund: 'refund-broadcast', close: 'close-broadcast' } as const;
const FINAL_STATE = { cet: 'settled', refund: 'refunded', close: 'closed' } as const;

/**
 * A closing transaction (CET, refund or close) was broadcast, by the
 * coordinator or seen from someone else: funding-broadcast | confirmed |
 * attested → cet-broadcast | refund-broadcast | close-broadcast. From
 * attested or a *-broadcast state, a different transaction than the one
 * recorded may win (e.g. a party's own CET mined before ours): the record
 * then describes the one seen.
 * @throws {CoordinatorError} INVALID_STATE
 */
export function closingBroadcast(rec: ContractRecord, closing: ClosingPart, now: number): ClosingBroadcast {
  expectState(rec, 'broadcast a closing transaction of', ['funding-broadcast', 'confirmed', 'attested', 'cet-broadcast', 'refund-broadcast', 'close-broadcast']);
  if ('closingTxid' in rec && rec.state !== 'attested' && rec.closingTxid === closing.closingTxid) throw wrongState(rec, 're-broadcast', ['attested']);
  const state = BROADCAST_STATE[closing.closingKind];
  return {
    ...pickOffer(rec), ...pickAccept(rec), ...pickFunding(rec), ...pickClosing(closing),
    state, updatedAt: now, history: step(rec, state, now, `${closing.closingTxid} by ${closing.broadcastBy ?? 'unknown'}`),
  };
}

/** *-broadcast → settled | refunded | closed. @throws {CoordinatorError} INVALID_STATE */
export function closingConfirmed(rec: ContractRecord, block: { height: number; hash: string }, now: number): Closed {
  expectState(rec, 'confirm the closing of', ['cet-broadcast', 'refund-broadcast', 'close-broadcast']);
  const state = FINAL_STATE[rec.closingKind];
  return {
    ...pickOffer(rec), ...pickAccept(rec), ...pickFunding(rec), ...pickClosing(rec), closingHeight: block.height, closingBlockHash: block.hash,
    state, updatedAt: now, history: step(rec, state, now, `block ${block.height}`),
  };
}

/** settled | refunded | closed → *-broadcast: the closing transaction's block left the best chain. @throws {CoordinatorError} INVALID_STATE */
export function closingReorged(rec: ContractRecord, now: number): ClosingBroadcast {
  expectState(rec, 'un-confirm the closing of', ['settled', 'refunded', 'closed']);
  const state = BROADCAST_STATE[rec.closingKind];
  return {
    ...pickOffer(rec), ...pickAccept(rec), ...pickFunding(rec), ...pickClosing(rec),
    state, updatedAt: now, history: step(rec, state, now, `closing transaction reorged out of block ${rec.closingHeight}`),
  };
}

/** Who asks for a cancellation. */
export type Requester = 'offerer' | 'accepter';

/**
 * offered (offerer only) | accepted | signed (either party) → cancelled.
 * Funding is not out yet, so nothing is at stake on chain.
 * @throws {CoordinatorError} INVALID_STATE, FORBIDDEN (the accepter cancelling an open offer)
 */
export function cancelContract(rec: ContractRecord, by: Requester, now: number): Cancelled {
  expectState(rec, 'cancel', ['offered', 'accepted', 'signed']);
  if (rec.state === 'offered' && by !== 'offerer') {
    throw new CoordinatorError('FORBIDDEN', 'only the offerer may withdraw an open offer', { reason: 'not-offerer' });
  }
  const base = { ...pickOffer(rec), ...(rec.state === 'offered' ? {} : pickAccept(rec)) };
  return { ...base, state: 'cancelled', endedFrom: rec.state, reason: `cancelled by the ${by}`, updatedAt: now, history: step(rec, 'cancelled', now, `by the ${by}`) };
}

/**
 * accepted | signed | funding-broadcast → failed, e.g. a funding input was
 * spent by another transaction so the funding transaction can never confirm.
 * @throws {CoordinatorError} INVALID_STATE
 */
export function failContract(rec: ContractRecord, reason: string, now: number): Failed {
  expectState(rec, 'fail', ['accepted', 'signed', 'funding-broadcast']);
  const base = { ...pickOffer(rec), ...pickAccept(rec), ...(rec.state === 'funding-broadcast' ? pickFunding(rec) : {}) };
  return { ...base, state: 'failed', endedFrom: rec.state, reason, updatedAt: now, history: step(rec, 'failed', now, reason) };
}

/**
 * offered | accepted | signed → expired: the funding deadline was reached
 * with no funding broadcast (issue 9, hole 2). Terminal: the offer leaves the
 * book and its coins are free; the coordinator never broadcasts its funding.
 * @throws {CoordinatorError} INVALID_STATE
 */
export function expireContract(rec: ContractRecord, tip: number, now: number): Expired {
  expectState(rec, 'expire', ['offered', 'accepted', 'signed']);
  const base = { ...pickOffer(rec), ...(rec.state === 'offered' ? {} : pickAccept(rec)) };
  const reason = `funding deadline ${rec.terms.fundingDeadline ?? '?'} reached at height ${tip} without funding`;
  return { ...base, state: 'expired', endedFrom: rec.state, reason, updatedAt: now, history: step(rec, 'expired', now, reason) };
}

/**
 * accepted → offered: the accept was not signed within the accept timeout
 * (issue 9, hole 8: an accepter who never goes on cannot take an offer off
 * the book). The accept's data is dropped; the offerer's coins stay with
 * the offer.
 * @throws {CoordinatorError} INVALID_STATE
 */
export function returnToBook(rec: ContractRecord, note: string, now: number): Offered {
  expectState(rec, 'return to the book', ['accepted']);
  return { ...pickOffer(rec), state: 'offered', updatedAt: now, history: step(rec, 'offered', now, note) };
}

/**
 * The pending link to a transfer (issue 14, no state change): set when the
 * transfer transaction is broadcast, dropped (`link` null) when it can never
 * confirm, so the contract shows no transfer that did not happen.
 * @throws {CoordinatorError} INVALID_STATE outside funding-broadcast | confirmed | attested (and any state when dropping).
 */
export function linkTransfer(rec: ContractRecord, link: TransferLink | null, now: number): ContractRecord {
  if (link !== null) expectState(rec, 'transfer', ['funding-broadcast', 'confirmed', 'attested']);
  const { transferredTo: _old, ...rest } = rec;
  return { ...rest, ...(link === null ? {} : { transferredTo: link }), updatedAt: now } as ContractRecord;
}

/** Issue 14: the `transferredFrom` link of a transfer's new contract (its funding txid is the transfer's), or undefined. */
export function transferredFromOf(rec: ContractRecord): TransferLink | undefined {
  if (rec.transfer === undefined) return undefined;
  return { contractId: rec.transfer.fromContractId, positionId: rec.transfer.positionId, transferTxid: 'fundingTxid' in rec && rec.fundingTxid !== undefined ? rec.fundingTxid : null };
}

/**
 * funding-broadcast | confirmed | attested | cet-/refund-/close-broadcast →
 * transferred: the transfer transaction that spends the funding output
 * confirmed (issue 14). Terminal: the new contract (`transferredTo`) settles
 * instead; a CET, refund or close broadcast meanwhile (the old contract's
 * keyless settlement racing a transfer still in the mempool at the window's
 * end) lost the race: its input is spent, it is dropped.
 * @throws {CoordinatorError} INVALID_STATE
 */
export function contractTransferred(rec: ContractRecord, link: TransferLink, block: { height: number; hash: string }, now: number): Transferred {
  expectState(rec, 'transfer', ['funding-broadcast', 'confirmed', 'attested', 'cet-broadcast', 'refund-broadcast', 'close-broadcast']);
  return {
    ...pickOffer(rec), ...pickAccept(rec), ...pickFunding(rec), transferredTo: link, transferHeight: block.height, transferBlockHash: block.hash,
    state: 'transferred', updatedAt: now, history: step(rec, 'transferred', now, `transfer ${link.transferTxid ?? '?'} in block ${block.height} to ${link.contractId}`),
  };
}

/**
 * Each oracle of a record with what it attested (API.md `OracleView`): the
 * stored `oracleOutcomes`; a record from before oracle sets has none, and
 * there a CET the coordinator completed from its single oracle's attestation
 * says that oracle attested `outcome` and agreed. Takes a public record
 * (privacy.ts) too: it reads only public fields.
 */
export function oracleViews(rec: ContractRecord): OracleView[] {
  // The coordinator broadcasting a CET with an outcome means it completed it from that attestation.
  const legacy = rec.oracleOutcomes === undefined && rec.oracles.length === 1 && 'closingKind' in rec && rec.closingKind === 'cet'
    && rec.broadcastBy === 'coordinator' && rec.outcome !== null && rec.outcome !== undefined;
  return rec.oracles.map((o, i) => {
    const seen: OracleOutcome = rec.oracleOutcomes?.[i] ?? (legacy ? { outcome: (rec as Closed).outcome, agreed: true } : { outcome: null, agreed: null });
    return { url: o.url, publicKey: o.publicKey, eventId: o.eventId, attested: seen.outcome !== null, outcome: seen.outcome, agreed: seen.agreed };
  });
}

/** The record's oracle threshold: stored since oracle sets, 1 for an older single-oracle record, else unknown. */
export function recordOracleThreshold(rec: ContractRecord): number | undefined {
  return rec.oracleThreshold ?? (rec.oracles.length === 1 ? 1 : undefined);
}

/** A strip period's place (API.md `strip` of a view): the strip's id, the 0-based index and the number of periods; undefined for a single contract. */
export function stripPlace(rec: Pick<OfferPart, 'strip'>): { id: string; index: number; periods: number } | undefined {
  const s = rec.strip;
  if (s === undefined) return undefined;
  return { id: s.id, index: s.batch.index, periods: s.batch.contracts.length };
}

/** The party (by identity key) a record names, if any. */
export function roleOf(rec: ContractRecord, identityPubkey: string): Requester | null {
  if (rec.offerer.identityPubkey === identityPubkey) return 'offerer';
  if ('accepter' in rec && rec.accepter !== undefined && rec.accepter.identityPubkey === identityPubkey) return 'accepter';
  return null;
}
