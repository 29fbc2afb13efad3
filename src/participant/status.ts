/**
 * `listContracts` and `contractStatus`: the contracts of this wallet, and
 * one of them brought up to date from the coordinator's view and the node's
 * confirmations of its funding transaction.
 *
 * The local state only moves forward: a terminal state reached here
 * (settled by us, say) is never undone by the coordinator's view, and a
 * contract whose funding signatures may be out is never given up on the
 * coordinator's word (`expired`): only `cancel` (double-spending our inputs)
 * ends it.
 *
 * This module does NOT sign or broadcast anything.
 */
import type { ContractRecord, LocalState } from '../wallet/index.js';
import { CoordinatorClient, type ContractView } from '../api/index.js';
import { fundingSignaturesMayBeOut } from './cancel.js';
import { localStateOf, saveState } from './contract.js';
import { ParticipantError } from './errors.js';
import type { Participant } from './participant.js';

/** One line of `hashdlc status` without an id. */
export interface ContractSummary {
  id: string;
  role: ContractRecord['role'];
  state: LocalState;
  template: unknown;
  contractId: string | null;
}

/** Every contract of this wallet, oldest first (only reads the wallet). */
export function listContracts(p: Participant): ContractSummary[] {
  return p.wallet().contracts.list().map((r) => ({ id: r.id, role: r.role, state: r.state, template: r.terms.template, contractId: r.contractId ?? null }));
}

export interface StatusInput {
  /** Offer id or contract id (or a unique prefix of 8+ hex digits). */
  id: string;
  /** Ask neither the coordinator nor the node. */
  local?: boolean;
}

export interface StatusResult {
  /** The local record, after any update from the coordinator or the node. */
  record: ContractRecord;
  /** The coordinator's view (undefined when not asked or not reached: see the note). */
  coordinator: ContractView | undefined;
  /** Confirmations of the funding transaction (undefined when not asked or unknown to the node). */
  confirmations: number | undefined;
}

/** Local states before funding, in order; anything else (funded, ended) ranks above them. */
const FORWARD: readonly LocalState[] = ['offered', 'accepted', 'signed', 'funding-broadcast', 'confirmed'];
const rank = (s: LocalState): number => (FORWARD.includes(s) ? FORWARD.indexOf(s) : FORWARD.length);

/**
 * The local state the coordinator's view moves a record to, or undefined to
 * keep it. Only forward; and the coordinator's `expired` (maps to `failed`)
 * is not taken while this party's funding signatures may be out: the
 * counterparty may still hold a funding transaction it can complete, so the
 * contract stays cancellable (and its coins reserved) until `cancel`
 * double-spends our inputs.
 */
export function followCoordinator(record: Pick<ContractRecord, 'role' | 'state' | 'sign' | 'accept'>, coordinatorState: string): LocalState | undefined {
  const mapped = localStateOf(coordinatorState);
  if (mapped === undefined || rank(mapped) <= rank(record.state)) return undefined;
  if (coordinatorState === 'expired' && fundingSignaturesMayBeOut({ record })) return undefined;
  return mapped;
}

/**
 * `hashdlc status <id>`: the record, updated from the coordinator's view
 * (its URL: the configured one, else the contract's) and the node's
 * confirmations of the funding transaction (when a node is configured).
 * A coordinator that cannot be reached or refuses is a note, not an error.
 * @throws {WalletError} WALLET_CONTRACT_NOT_FOUND; {ChainError} from the node check.
 */
export async function contractStatus(p: Participant, input: StatusInput): Promise<StatusResult> {
  const wallet = p.wallet();
  let record = wallet.contracts.get(input.id);
  const local = input.local === true;
  let remote: ContractView | undefined;
  const coordinatorUrl = p.config.coordinator ?? record.coordinator;
  if (!local && coordinatorUrl !== undefined) {
    try {
      const view = await new CoordinatorClient(coordinatorUrl).contract(record.id, wallet.keys.contractIdentity(record.keyIndex).identitySecretKey);
      remote = view;
      const next = followCoordinator(record, view.state);
      if (next !== undefined) {
        record = saveState(wallet, record, next, {
          ...(typeof view.fundingTxid === 'string' ? { fundingTxid: view.fundingTxid } : {}),
          ...(typeof view.closingTxid === 'string' ? { closingTxid: view.closingTxid } : {}),
        }, `coordinator: ${view.state}`);
      } else if (view.state === 'expired' && rank(record.state) < rank('funding-broadcast')) {
        p.note(`coordinator: contract expired; your funding signatures may be out: 'hashdlc cancel ${record.id}' double-spends your funding inputs`);
      }
    } catch (e) {
      if (!(e instanceof ParticipantError)) throw e;
      p.note(`coordinator: ${e.message}`);
    }
  }
  let confirmations: number | undefined;
  if (!local && record.fundingTxid !== undefined && p.config.rpc !== undefined) {
    const rpc = await p.rpc();
    confirmations = await rpc.getRawTransaction(record.fundingTxid).then((t) => t.confirmations ?? 0, () => undefined);
    if (confirmations !== undefined && confirmations > 0 && record.state === 'funding-broadcast') {
      record = saveState(wallet, record, 'confirmed', {}, `${confirmations} confirmation(s)`);
    }
  }
  return { record, coordinator: remote, confirmations };
}
