/**
 * The agent's actions port, `AgentActions` (one method per step, with the
 * same input as the participant use case it runs), and its ONE binding to
 * those use cases (`participantActions`). The agent never checks anything
 * itself: the use cases make every check the interactive commands make, so
 * the agent cannot sign what `hashdlc sign`/`fund`/... would refuse.
 *
 * This module does NOT decide, journal or log.
 */
import { ParticipantError } from '../participant/errors.js';
import type { Participant } from '../participant/participant.js';
import type { AgentAction } from './decide.js';
import type { ActionResult } from './journal.js';

export interface AgentActions {
  /** Offerer: verify the accept, sign CETs, refund and funding inputs, send sign_dlc (re-sends when signed already). */
  sign(input: { id: string }): Promise<ActionResult>;
  /** Accepter: verify sign_dlc, sign the funding inputs, send them (re-sends when sent already). */
  fund(input: { id: string }): Promise<ActionResult>;
  /** Complete the attested CET and broadcast it (no coordinator needed). */
  settle(input: { id: string }): Promise<ActionResult>;
  /** Broadcast the refund after its locktime (no coordinator needed). */
  refund(input: { id: string }): Promise<ActionResult>;
  /** Give up an unfunded contract: double-spends this party's own funding inputs once its signatures may be out. */
  cancel(input: { id: string }): Promise<ActionResult>;
  /** Offer again, with a new deadline, the terms of an offer that expired unaccepted. */
  repost(input: { id: string }): Promise<ActionResult>;
  /** Raise the effective fee rate of our stuck transaction (CPFP from our own output, or RBF). */
  bump(input: { txid: string; feeRatePerVb: bigint }): Promise<ActionResult>;
}

/** Runs one decided action through the port. */
export function runAction(actions: AgentActions, a: AgentAction): Promise<ActionResult> {
  return a.kind === 'bump' ? actions.bump({ txid: a.txid, feeRatePerVb: a.feeRatePerVb }) : actions[a.kind]({ id: a.id });
}

/**
 * The binding to the participant use cases.
 *
 * Phase 1: the use cases are being moved out of the CLI commands (which take
 * argv and print) into src/participant; until they land, every method fails
 * with STATE `agent-not-wired` rather than calling a command or duplicating
 * its checks here. The agent then observes, decides and journals for real,
 * and logs each action it would take as failed with that reason.
 *
 * Phase 2 (after the merge): sign -> signContract(p, { id }), fund ->
 * fundContract(p, { id }), settle -> settleContract, refund -> refundContract,
 * cancel -> cancelContract (a repeat on a cancelled contract reported done),
 * bump -> bumpTransaction(p, { txid, feeRatePerVb }); repost has no use case yet.
 */
export function participantActions(p: Participant): AgentActions {
  const notWired = (what: string) => async (): Promise<ActionResult> => {
    // The participant is what the wired use cases will take; named here so the binding's shape is fixed.
    void p;
    throw new ParticipantError('STATE', `the agent cannot ${what} yet: the use case is not wired into the agent (src/agent/actions.ts)`, { reason: 'agent-not-wired' });
  };
  return {
    sign: notWired('sign'),
    fund: notWired('fund'),
    settle: notWired('settle'),
    refund: notWired('refund'),
    cancel: notWired('cancel'),
    repost: notWired('re-post an offer'),
    bump: notWired('bump a transaction'),
  };
}
