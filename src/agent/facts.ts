/**
 * What one pass of the agent knows about one contract: the local record's
 * state, the coordinator's view of it (or that it could not be reached), the
 * chain (tip, funding transaction, an unconfirmed transaction of ours) and
 * the oracle (attested or not), plus what the journal says was done already.
 * `decide` reads nothing else.
 *
 * This module does NOT fetch anything (observe.ts does).
 */
import type { LocalState } from '../wallet/index.js';
import type { AgentRole } from './policy.js';

/** The coordinator's word on a contract: its state (null when it does not know the contract), or unreachable. */
export type CoordinatorFact = { reachable: true; state: string | null } | { reachable: false };

/** A transaction of ours waiting in the mempool. */
export interface PendingTxFact {
  txid: string;
  kind: 'funding' | 'closing';
  /** Its own fee rate (fee / vsize, rounded down), sat/vB. */
  feeRatePerVb: bigint;
  /** Blocks since it entered the mempool. */
  waitedBlocks: number;
  /** The highest rate a journalled, successful bump of it aimed for. */
  bumpedToPerVb: bigint | undefined;
}

/**
 * Issue 14: this wallet's part in a position transfer touching this contract,
 * as the coordinator shows the position (its public view: the flags are public).
 * `stayer`: our offered contract that someone took (v1 sells the accepter side);
 * `seller`: our accepted contract we listed; `taker`: the new contract of a
 * position we took (its funding is the transfer transaction).
 */
export interface PositionFact {
  part: 'stayer' | 'seller' | 'taker';
  positionId: string;
  /** The coordinator's position state (src/api `POSITION_STATES`). */
  state: string;
  consented: boolean;
  released: boolean;
  funded: boolean;
  /** The last tip at which the transfer may happen (protocol/contract `transferDeadline` of OUR record's CET locktime). */
  lastHeight: number;
}

export interface ContractFacts {
  /** Offer id (the record's file name). */
  id: string;
  role: AgentRole;
  state: LocalState;
  /** The node's height. */
  tip: number;
  coordinator: CoordinatorFact;
  /** The terms' funding deadline (contracts from before deadlines have none). */
  fundingDeadline: number | undefined;
  cetLocktime: number;
  refundLocktime: number;
  /** The offer's funding fee rate, sat/vB. */
  contractFeeRatePerVb: bigint;
  /**
   * The funding transaction as the node sees it: null when not in the mempool or chain. `spent`: its
   * contract output is spent (by a CET, refund or close, in the mempool or chain: whoever sent it), asked once confirmed.
   */
  funding: { txid: string; confirmations: number; spent?: boolean } | null;
  /** Whether K oracles of the contract attested: true/false, or null when not asked (not needed yet) or none reachable. */
  attested: boolean | null;
  pending: PendingTxFact | null;
  /**
   * Issue 14: the record was set up by a transfer (the taker's or the stayer's new contract): its
   * funding is the transfer transaction, which the coordinator broadcasts once consented, released and
   * funded; the funding deadline of the old terms does not apply to it.
   */
  transferred?: boolean;
  /** Issue 14: a position transfer this wallet takes part in (absent when none). */
  position?: PositionFact;
  /**
   * A strip's period (issue 12): the strip id (period 1's offer id), this period's index (0-based) and
   * the number of periods. The strip's steps before funding (sign, fund, cancel) and the bump of its
   * one funding transaction are taken once, for the strip, from period 1's facts.
   */
  strip?: {
    id: string;
    index: number;
    periods: number;
    /**
     * The period that takes the strip-wide steps: the first not ended (0 unless a crash between two
     * periods' records ended period 1 alone, e.g. cancelled: the rest are then finished from this one).
     */
    lead?: number;
  };
}
