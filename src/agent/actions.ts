/**
 * The agent's actions port, `AgentActions` (one method per step, with the
 * same input as the participant use case it runs), and its ONE binding to
 * those use cases (`participantActions`). The agent never checks anything
 * itself: the use cases make every check the interactive commands make, so
 * the agent cannot sign what `hashdlc sign`/`fund`/... would refuse.
 *
 * This module does NOT decide, journal or log.
 */
import { bumpTransaction } from '../participant/bump.js';
import { cancelContract } from '../participant/cancel.js';
import { fundContract, signContract } from '../participant/negotiate.js';
import type { Participant } from '../participant/participant.js';
import { consentTransfer, dropDeadTransfer, fundTransfer, releaseTransfer } from '../participant/positions.js';
import { refundContract, settleContract } from '../participant/settle.js';
import type { ContractRecord, LocalState } from '../wallet/index.js';
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
  /** Raise the effective fee rate of our stuck transaction (CPFP from our own output, or RBF). */
  bump(input: { txid: string; feeRatePerVb: bigint }): Promise<ActionResult>;
  /** Issue 14, the stayer: check the taken position's new contract against ours, sign it and the old funding input. */
  consent(input: { id: string; positionId: string }): Promise<ActionResult>;
  /** Issue 14, the seller: check the transfer pays our listing's price to our script, sign the old funding input. */
  release(input: { id: string; positionId: string }): Promise<ActionResult>;
  /** Issue 14, the taker: verify the stayer's signatures, sign our inputs of the transfer. */
  fundTransfer(input: { id: string; positionId: string }): Promise<ActionResult>;
  /** Issue 14, the taker: give up a take that can no longer happen (frees its coins; checked on our node). */
  dropTransfer(input: { id: string; positionId: string }): Promise<ActionResult>;
}

/** Runs one decided action through the port. */
export function runAction(actions: AgentActions, a: AgentAction): Promise<ActionResult> {
  switch (a.kind) {
    case 'bump': return actions.bump({ txid: a.txid, feeRatePerVb: a.feeRatePerVb });
    case 'consent': case 'release': case 'fundTransfer': case 'dropTransfer': return actions[a.kind]({ id: a.id, positionId: a.positionId });
    default: return actions[a.kind]({ id: a.id });
  }
}

/** Local states past the offerer's sign, and past the accepter's fund: a replayed step finds them done. */
const SIGNED_OR_LATER: ReadonlySet<LocalState> = new Set(['signed', 'funding-broadcast', 'confirmed', 'settled', 'refunded', 'closed']);
const FUNDED_OR_LATER: ReadonlySet<LocalState> = new Set(['funding-broadcast', 'confirmed', 'settled', 'refunded', 'closed']);

/**
 * The binding to the participant use cases, over the agent's one
 * `Participant` (it holds the wallet lock for the agent's life).
 *
 * A replayed intent (a crash after the use case stored its step but before
 * the journal's outcome) must not fail on the use case's own "done already"
 * refusal: sign and fund first read the stored state and report a step the
 * record shows done as `alreadyDone`, without calling the use case (which
 * would refuse with STATE); cancel asks the use case for its
 * done-if-cancelled answer; settle and refund are repeatable as they are
 * (a closing transaction the node knows counts as done).
 *
 * A strip (issue 12): `decide` gives sign, fund and cancel the strip id
 * (period 1's offer id), and the use cases then act on every period at once
 * (one sign round, one funding PSBT, one double-spend of the shared inputs);
 * the "already done" reads look at period 1's record, which moves with the
 * others. Settle and refund take each period's own id.
 *
 * Issue 14: consent, release and fundTransfer first ask the coordinator's
 * public view of the position (its consented/released/funded flags) and our
 * record: a step the coordinator took already (a crash after the post,
 * before the journal's outcome) is `alreadyDone`, never posted twice.
 */
export function participantActions(p: Participant): AgentActions {
  const stored = (id: string): ContractRecord => p.wallet().contracts.get(id);
  return {
    async sign({ id }) {
      const before = stored(id);
      if (before.role === 'offer' && SIGNED_OR_LATER.has(before.state)) return { state: before.state, alreadyDone: true };
      const r = await signContract(p, { id });
      if (r.psbtOut) throw new Error('signContract returned a PSBT without psbtOut'); // cannot happen: not asked
      return { state: r.state, ...(r.fundingTxid === undefined ? {} : { txid: r.fundingTxid }), alreadyDone: r.resent };
    },
    async fund({ id }) {
      const before = stored(id);
      if (before.role === 'accept' && FUNDED_OR_LATER.has(before.state)) {
        return { state: before.state, ...(before.fundingTxid === undefined ? {} : { txid: before.fundingTxid }), alreadyDone: true };
      }
      const r = await fundContract(p, { id });
      if (r.psbtOut) throw new Error('fundContract returned a PSBT without psbtOut'); // cannot happen: not asked
      return { state: r.state, txid: r.fundingTxid, alreadyDone: r.alreadyFunded };
    },
    async settle({ id }) {
      const r = await settleContract(p, { id });
      return { state: r.state, txid: r.txid, alreadyDone: r.alreadyBroadcast };
    },
    async refund({ id }) {
      const r = await refundContract(p, { id });
      return { state: r.state, txid: r.txid, alreadyDone: r.alreadyBroadcast };
    },
    async cancel({ id }) {
      const r = await cancelContract(p, { id, doneIfCancelled: true });
      if (r.kind !== 'cancelled') throw new Error('cancelContract returned a PSBT without psbtOnly'); // cannot happen: not asked
      return { state: r.state, ...(r.onChain === undefined ? {} : { txid: r.onChain.txid }), alreadyDone: r.already };
    },
    async bump({ txid, feeRatePerVb }) {
      const r = await bumpTransaction(p, { txid, feeRatePerVb });
      return { txid: r.bumpTxid };
    },
    async consent({ positionId }) {
      const view = await p.coordinator().position(positionId);
      if (view.consented === true) return { state: view.state, alreadyDone: true };
      const r = await consentTransfer(p, positionId);
      return { state: r.state };
    },
    async release({ id, positionId }) {
      const listing = stored(id).listing;
      const view = await p.coordinator().position(positionId);
      if (view.released === true || (listing?.positionId === positionId && listing.released === true)) return { state: view.state, alreadyDone: true };
      const r = await releaseTransfer(p, positionId);
      return { state: r.state, txid: r.transferTxid };
    },
    async fundTransfer({ id, positionId }) {
      const before = stored(id);
      const view = await p.coordinator().position(positionId);
      if (view.funded === true || FUNDED_OR_LATER.has(before.state)) {
        return { state: view.state, ...(view.transferTxid == null ? {} : { txid: view.transferTxid }), alreadyDone: true };
      }
      const r = await fundTransfer(p, positionId);
      if (r.psbtOut) throw new Error('fundTransfer returned a PSBT without psbtOut'); // cannot happen: not asked
      return { state: r.state, txid: r.transferTxid };
    },
    async dropTransfer({ id, positionId }) {
      const changed = await dropDeadTransfer(p, positionId);
      return { state: stored(id).state, alreadyDone: !changed.some((r) => r.id === id) };
    },
  };
}
