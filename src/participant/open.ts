/**
 * Opening a stored contract for a step: the sequence every contract step
 * starts with (the wallet, the contract loaded and decoded, the step's role
 * checked, the funding deadline checked on this party's own node), once.
 *
 * This module does NOT run any step, and never prints.
 */
import type { Party } from '../../protocol/tx/index.js';
import { checkFundingDeadline, loadContract, type LoadedContract } from './contract.js';
import { ParticipantError } from './errors.js';
import type { Participant } from './participant.js';

/** What a step needs of the contract it opens. */
export interface OpenStep {
  /** The role the step belongs to; the other party's contract is refused (STATE). */
  role?: Party;
  /** The STATE message's tail when the role is the other one, e.g. "the offerer signs; use 'hashdlc fund'". */
  otherRole?: string;
  /** Refuse once the funding deadline is reached (issue 9, hole 2): sign, fund. */
  fundingDeadline?: boolean;
}

/**
 * A stored contract opened for a step: loaded from this participant's
 * wallet (an id or a unique prefix), its role and (if asked) its funding
 * deadline checked.
 * @throws {WalletError} WALLET_CONTRACT_NOT_FOUND; {ParticipantError} STATE
 *   (the other party's step), EXPIRED (`funding-deadline-passed`), CONFIG (no node).
 */
export async function openContract(p: Participant, id: string, step: OpenStep = {}): Promise<LoadedContract> {
  const c = loadContract(p.wallet(), id);
  if (step.role !== undefined && c.record.role !== step.role) {
    const here = c.record.role === 'offer' ? 'offered' : 'accepted';
    throw new ParticipantError('STATE', `contract ${c.record.id} was ${here} here${step.otherRole === undefined ? '' : `: ${step.otherRole}`}`);
  }
  if (step.fundingDeadline === true) await checkFundingDeadline(c.terms, await p.rpc());
  return c;
}
