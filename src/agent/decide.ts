/**
 * The agent's next step for one contract: a pure function of the facts a
 * pass observed and the policy. The order of the rules is the order of
 * precedence (src/agent/README.md "Decisions").
 *
 * This module does NOT fetch, act, read the clock or log.
 */
import type { LocalState } from '../wallet/index.js';
import type { ContractFacts } from './facts.js';
import type { AgentPolicy } from './policy.js';

/** One step, with the same input as the use case it runs; `why` is for the log line. */
export type AgentAction =
  | { kind: 'sign' | 'fund' | 'settle' | 'refund' | 'cancel'; id: string; why: string }
  | { kind: 'bump'; id: string; txid: string; feeRatePerVb: bigint; why: string }
  /** Issue 14: the stayer's consent, the seller's release, the taker's funding of a position transfer (`positionId`). */
  | { kind: 'consent' | 'release' | 'fundTransfer' | 'dropTransfer'; id: string; positionId: string; why: string };
export type AgentActionKind = AgentAction['kind'];

/** Local states after which nothing but a bump of our own closing transaction is left to do. */
export const TERMINAL: ReadonlySet<LocalState> = new Set(['settled', 'refunded', 'closed', 'cancelled', 'failed']);
/** Coordinator states in which someone already settled, refunded or closed the contract (API.md "States"). */
const DONE_AT_COORDINATOR: ReadonlySet<string> = new Set([
  'cet-broadcast', 'settled', 'refund-broadcast', 'refunded', 'close-broadcast', 'closing-broadcast', 'closed',
]);
/** Coordinator states in which the funding transaction went out through the protocol (before the deadline). */
const FUNDED_AT_COORDINATOR: ReadonlySet<string> = new Set(['funding-broadcast', 'confirmed', 'attested']);
/** Coordinator states of a contract that will not be funded (expired at the deadline, cancelled, inputs spent elsewhere). */
const GIVEN_UP_AT_COORDINATOR: ReadonlySet<string> = new Set(['expired', 'cancelled', 'failed']);

/**
 * The next action for a contract, or null when there is nothing to do now.
 */
export function decide(f: ContractFacts, policy: AgentPolicy): AgentAction | null {
  if (!policy.roles.has(f.role)) return null;
  const action = decideOne(f, policy);
  // A strip (issue 12): what concerns the one funding transaction (sign, fund, cancel, its bump) is done
  // once for the whole strip, by period 1 (the use cases take any period's id for the whole strip; `lead`
  // is a later period only when period 1 alone ended, as after a crash between two records); periods 2..N
  // only settle, refund and bump their own closing transactions.
  if (action !== null && f.strip !== undefined && f.strip.index !== (f.strip.lead ?? 0) && stripWide(action, f)) return null;
  return action;
}

/** Whether an action on a strip's period is the strip's as a whole (its funding). */
function stripWide(a: AgentAction, f: ContractFacts): boolean {
  if (a.kind === 'sign' || a.kind === 'fund' || a.kind === 'cancel') return true;
  return a.kind === 'bump' && f.pending?.kind === 'funding';
}

function decideOne(f: ContractFacts, policy: AgentPolicy): AgentAction | null {
  if (TERMINAL.has(f.state)) return bumpOf(f, policy);
  const cs = f.coordinator.reachable ? f.coordinator.state : undefined;
  // The coordinator's "done" is taken unless our own node sees the contract's funding output unspent: a
  // coordinator claiming a settlement that did not happen must not keep the agent from settling or refunding.
  if (cs != null && DONE_AT_COORDINATOR.has(cs) && f.funding?.spent !== false) return bumpOf(f, policy);

  // Funded: confirmed, or in the mempool through the protocol (our own broadcast or the coordinator's).
  const fundedByProtocol = f.state === 'funding-broadcast' || f.state === 'confirmed' || (cs != null && FUNDED_AT_COORDINATOR.has(cs));
  if (f.funding !== null && (f.funding.confirmations > 0 || fundedByProtocol)) return matured(f, policy);
  // Issue 14: a contract set up by a transfer is funded by the transfer transaction, which the coordinator
  // broadcasts once the three parties signed: before that, the taker's funding is its one step (the old
  // terms' funding deadline is long past, and cancelling would double-spend the taker's transfer inputs).
  if (f.transferred === true) return transferStep(f, policy);

  // Not funded, or a funding transaction in the mempool that nobody vouches for: a late broadcast by the
  // counterparty (issue 9, hole 2), which `cancel` double-spends.
  const deadlineReached = f.fundingDeadline !== undefined && f.tip >= f.fundingDeadline;
  if (deadlineReached || (cs != null && GIVEN_UP_AT_COORDINATOR.has(cs))) {
    // Our own broadcast before the deadline: the contract stands (cancel refuses funded states).
    if (f.state === 'funding-broadcast' || f.state === 'confirmed') return bumpOf(f, policy);
    if (!policy.cancelAtDeadline) return null;
    return { kind: 'cancel', id: f.id, why: `${deadlineReached ? `funding deadline ${f.fundingDeadline} reached unfunded (tip ${f.tip})` : `the coordinator says ${cs}`}${stripNote(f)}` };
  }
  // Signing and funding follow the coordinator's state: without it, wait.
  if (cs == null || f.funding !== null) return null;
  const feeOk = policy.maxFeeRatePerVb === undefined || f.contractFeeRatePerVb <= policy.maxFeeRatePerVb;
  // signContract stores sign_dlc under `accepted` and marks `signed` only once the coordinator took it: a crash
  // between the two leaves `accepted` (sign re-sends). A local `signed` with the coordinator at `accepted` means the
  // coordinator lost it; signing is not repeated then (the deadline cancels the contract).
  if (f.role === 'offer' && cs === 'accepted' && (f.state === 'offered' || f.state === 'accepted')) {
    return policy.autoSign && feeOk ? { kind: 'sign', id: f.id, why: `accepted by the buyer${stripNote(f)}` } : null;
  }
  if (f.role === 'accept' && cs === 'signed' && (f.state === 'accepted' || f.state === 'signed')) {
    return policy.autoFund && feeOk ? { kind: 'fund', id: f.id, why: `signed by the offerer${stripNote(f)}` } : null;
  }
  return null;
}

/** ", the strip's N periods at once" for a strip-wide step's log line. */
function stripNote(f: ContractFacts): string {
  return f.strip === undefined ? '' : `, the strip's ${f.strip.periods} periods at once`;
}

/** ", period K of N" for a period's own step. */
function periodNote(f: ContractFacts): string {
  return f.strip === undefined ? '' : `, period ${f.strip.index + 1} of ${f.strip.periods}`;
}

/** A funded contract: settle once attested and the CET locktime is reached, else refund after its locktime. */
function matured(f: ContractFacts, policy: AgentPolicy): AgentAction | null {
  // Someone settled, refunded or closed it (the coordinator, the counterparty, an earlier run): nothing to send.
  if (f.funding?.spent === true) return bumpOf(f, policy);
  // nLockTime L (a height) is final in a block of height > L: the mempool takes it once the tip is L.
  if (f.attested === true && f.tip >= f.cetLocktime) {
    return policy.settle ? { kind: 'settle', id: f.id, why: `attested, CET locktime ${f.cetLocktime} reached${periodNote(f)}` } : null;
  }
  if (f.attested !== true && f.tip >= f.refundLocktime) {
    return policy.refund ? { kind: 'refund', id: f.id, why: `refund locktime ${f.refundLocktime} reached, ${f.attested === false ? 'not attested' : 'oracle unreachable'}${periodNote(f)}` } : null;
  }
  // Issue 14: a live contract's transfer (stayer's consent, seller's release) needs its funding confirmed and unspent.
  if (f.funding !== null && f.funding.confirmations > 0 && f.funding.spent === false) {
    const step = transferStep(f, policy);
    if (step !== null) return step;
  }
  return bumpOf(f, policy);
}

/** Position states in which a take that was not broadcast is dead: failed, cancelled, expired, back on the book. */
const DEAD_POSITION_STATES: ReadonlySet<string> = new Set(['failed', 'cancelled', 'expired', 'listed']);

/**
 * Issue 14: this wallet's next step in a position transfer, in the signing order that makes it atomic:
 * the taker posted its new contract (`taken`), the stayer consents (its use case checks that nothing but
 * the sold side's keys and addresses changed), then the seller releases (its use case checks the price
 * paid to its own script) and the taker funds (its use case verifies the stayer's signatures first).
 * Nothing once the window closed (the coordinator expires the position; the use cases refuse).
 */
function transferStep(f: ContractFacts, policy: AgentPolicy): AgentAction | null {
  const pos = f.position;
  if (pos === undefined) return null;
  const base = { id: f.id, positionId: pos.positionId };
  // Our take can no longer happen (the use case frees its coins only if our node does not see the transfer).
  if (pos.part === 'taker' && DEAD_POSITION_STATES.has(pos.state)) {
    return { kind: 'dropTransfer', ...base, why: `position ${pos.positionId} ${pos.state}: give up our take, free its coins` };
  }
  if (pos.state !== 'taken' || f.tip > pos.lastHeight) return null;
  if (pos.part === 'stayer' && f.role === 'offer' && !pos.consented) {
    return policy.autoConsentTransfer ? { kind: 'consent', ...base, why: `position ${pos.positionId} taken: consent to the new buyer` } : null;
  }
  if (pos.part === 'seller' && f.role === 'accept' && pos.consented && !pos.released) {
    return policy.autoRelease ? { kind: 'release', ...base, why: `position ${pos.positionId} taken and consented: release for the price` } : null;
  }
  if (pos.part === 'taker' && f.role === 'accept' && pos.consented && !pos.funded) {
    return policy.autoFundTransfer ? { kind: 'fundTransfer', ...base, why: `position ${pos.positionId} consented: fund the transfer` } : null;
  }
  return null;
}

/** A bump of our own transaction that waited too long at too low a rate (once per target rate). */
function bumpOf(f: ContractFacts, policy: AgentPolicy): AgentAction | null {
  const p = f.pending;
  if (p === null || !policy.bump.enabled || p.waitedBlocks < policy.bump.afterBlocks) return null;
  const max = policy.maxFeeRatePerVb;
  const target = max !== undefined && max < policy.bump.feeRatePerVb ? max : policy.bump.feeRatePerVb;
  if (p.feeRatePerVb >= target || (p.bumpedToPerVb !== undefined && p.bumpedToPerVb >= target)) return null;
  return { kind: 'bump', id: f.id, txid: p.txid, feeRatePerVb: target, why: `${p.kind} transaction at ${p.feeRatePerVb} sat/vB unconfirmed for ${p.waitedBlocks} block(s)` };
}
