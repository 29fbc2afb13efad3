/**
 * A position listing and its transfer (issue 14) as a record with pure
 * transitions, as lifecycle.ts does for contracts:
 *
 *   listed ─take→ taken ─(consent + release + fund)→ broadcast ─(conf)→ transferred
 *     │  ↑            │                                   └→ failed (the transfer can never confirm)
 *     │  └taker cancel┘
 *     ├──────────────┴→ cancelled (the seller) | expired (the transfer window closed)
 *     └──────────────┴→ failed (the sold contract ended otherwise)
 *
 * Records are JSON-safe (amounts decimal strings, bytes hex). The new
 * contract's messages (offer', accept', sign') are stored as wire bytes in
 * the store's position messages sublevel, not in the record.
 *
 * This module does NOT verify, read the clock or do I/O.
 */
import type { TransferTermsJson } from '../../protocol/contract/index.js';
import type { PositionState } from '../api/coordinator.js';
import { CoordinatorError } from './errors.js';

export const POSITION_RECORD_VERSION = 1;

/** One step of a position's history. */
export interface PositionHistoryEntry {
  state: PositionState;
  /** Unix ms. */
  at: number;
  note?: string;
}

/** What a buyer's take fixed: the new contract, the taker, the transfer. */
export interface PositionTake {
  /** The new contract's record id: accept'.temporary_contract_id, hex. */
  newContractId: string;
  takerIdentity: string;
  /** The new contract's dlcspecs contract id, hex. */
  newDlcContractId: string;
  transfer: TransferTermsJson;
  /** The unsigned transfer PSBT (base64). */
  transferPsbt: string;
  /** Its txid (segwit: the signed transaction's too). */
  transferTxid: string;
  /** The taker's funding inputs `txid:vout` (held in the store's inputs index while taken). */
  takerOutpoints: string[];
  /** The stayer's compact signature on the old funding input, hex, once it consented. */
  consentSignature: string | null;
  /** The seller's compact signature on the old funding input, hex, once it released. */
  releaseSignature: string | null;
  /** The taker's PSBT with its own inputs signed (base64), once it funded. */
  fundedPsbt: string | null;
  /** The tip height at the take: a take not completed within the accept timeout returns the position to the book (absent in older records). */
  takenHeight?: number;
}

export interface PositionRecord {
  v: number;
  /** Random 16 bytes, hex. */
  id: string;
  state: PositionState;
  /** The sold contract's record id. */
  contractId: string;
  side: 'accept';
  price: string;
  sellerSpk: string;
  /** Identity keys (x-only hex) of the seller (the sold side) and the stayer (the other side). */
  seller: string;
  stayer: string;
  cetLocktime: number;
  /** The last tip height at which the transfer may still happen (protocol/contract `transferDeadline`). */
  lastHeight: number;
  createdAt: number;
  updatedAt: number;
  history: PositionHistoryEntry[];
  take: PositionTake | null;
  /** The signed transfer transaction (hex), from broadcast on. */
  transferTx: string | null;
  reason?: string;
}

/** Positions in these states hold a listing open (one per contract). */
export const OPEN_POSITION_STATES: readonly PositionState[] = ['listed', 'taken', 'broadcast'];

function step(p: PositionRecord, state: PositionState, now: number, note?: string): PositionHistoryEntry[] {
  const entry: PositionHistoryEntry = { state, at: now };
  if (note !== undefined) entry.note = note;
  return [...p.history, entry];
}

function expectPosition(p: PositionRecord, action: string, allowed: readonly PositionState[]): void {
  if (!allowed.includes(p.state)) {
    throw new CoordinatorError('INVALID_STATE', `cannot ${action} a position in state ${p.state} (allowed: ${allowed.join(', ')})`, {
      reason: `state-${p.state}`, details: { state: p.state },
    });
  }
}

export type NewPosition = Omit<PositionRecord, 'v' | 'state' | 'createdAt' | 'updatedAt' | 'history' | 'take' | 'transferTx'>;

export function listPosition(input: NewPosition, now: number): PositionRecord {
  return { ...input, v: POSITION_RECORD_VERSION, state: 'listed', createdAt: now, updatedAt: now, history: [{ state: 'listed', at: now }], take: null, transferTx: null };
}

/** listed → taken. @throws {CoordinatorError} INVALID_STATE */
export function takePosition(p: PositionRecord, take: PositionTake, now: number): PositionRecord {
  expectPosition(p, 'take', ['listed']);
  return { ...p, state: 'taken', take, updatedAt: now, history: step(p, 'taken', now, `by ${take.takerIdentity}`) };
}

/** One of the taken position's signatures collected (no state change). @throws {CoordinatorError} INVALID_STATE */
export function collect(p: PositionRecord, what: Partial<Pick<PositionTake, 'consentSignature' | 'releaseSignature' | 'fundedPsbt'>>, now: number): PositionRecord {
  expectPosition(p, 'sign the transfer of', ['taken']);
  return { ...p, take: { ...p.take!, ...what }, updatedAt: now };
}

/** taken → listed: the taker abandoned its take (its data dropped). @throws {CoordinatorError} INVALID_STATE */
export function dropTake(p: PositionRecord, note: string, now: number): PositionRecord {
  expectPosition(p, 'drop the take of', ['taken']);
  return { ...p, state: 'listed', take: null, updatedAt: now, history: step(p, 'listed', now, note) };
}

/** taken → broadcast (the signed transfer passed testmempoolaccept). @throws {CoordinatorError} INVALID_STATE */
export function transferBroadcast(p: PositionRecord, transferTx: string, now: number): PositionRecord {
  expectPosition(p, 'broadcast the transfer of', ['taken']);
  return { ...p, state: 'broadcast', transferTx, updatedAt: now, history: step(p, 'broadcast', now, p.take!.transferTxid) };
}

/** broadcast → transferred. @throws {CoordinatorError} INVALID_STATE */
export function positionTransferred(p: PositionRecord, height: number, now: number): PositionRecord {
  expectPosition(p, 'confirm the transfer of', ['broadcast']);
  return { ...p, state: 'transferred', updatedAt: now, history: step(p, 'transferred', now, `block ${height}`) };
}

/** listed | taken | broadcast → failed | cancelled | expired. @throws {CoordinatorError} INVALID_STATE */
export function endPosition(p: PositionRecord, state: 'failed' | 'cancelled' | 'expired', reason: string, now: number): PositionRecord {
  expectPosition(p, state === 'failed' ? 'fail' : state === 'cancelled' ? 'cancel' : 'expire', state === 'failed' ? OPEN_POSITION_STATES : ['listed', 'taken']);
  return { ...p, state, reason, updatedAt: now, history: step(p, state, now, reason) };
}

/** Outpoints a position holds in the store's inputs index: the taker's, while taken. */
export function heldOutpoints(p: PositionRecord): string[] {
  return p.state === 'taken' && p.take !== null ? p.take.takerOutpoints : [];
}
