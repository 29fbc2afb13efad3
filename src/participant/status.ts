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
import { buildFundingTransaction } from '../../protocol/tx/index.js';
import type { ContractRecord, LocalState, Wallet } from '../wallet/index.js';
import { CoordinatorClient, type ContractView, type StripView } from '../api/index.js';
import { fundingSignaturesMayBeOut } from './cancel.js';
import { loadContract, localStateOf, saveState } from './contract.js';
import { ParticipantError } from './errors.js';
import type { Participant } from './participant.js';
import { stripRecords } from './strip.js';
import { confirmedTransferOf } from './positions.js';

/**
 * Issue 14: the coordinator says our contract was transferred (the seller's
 * sold one, the stayer's old one). Recorded only when our own node shows the
 * transfer confirmed and spending this contract's funding output.
 */
async function followTransfer(p: Participant, record: ContractRecord, view: ContractView): Promise<ContractRecord> {
  if (p.config.rpc === undefined) return record;
  const txid = view.transferredTo?.transferTxid ?? record.transferredTo?.transferTxid ?? undefined;
  const confirmed = await confirmedTransferOf(p, loadContract(p.wallet(), record.id), txid);
  if (confirmed === undefined) {
    p.note(`coordinator: contract transferred by ${txid ?? '?'}, not confirmed on your node yet`);
    return record;
  }
  const positionId = record.transferredTo?.positionId ?? view.transferredTo?.positionId;
  const link = positionId === undefined ? {} : { transferredTo: { ...record.transferredTo, positionId, transferTxid: confirmed } };
  return saveState(p.wallet(), record, 'transferred', { ...link, closingTxid: confirmed }, `transfer ${confirmed} confirmed`);
}

/** One line of `hashdlc status` without an id. */
export interface ContractSummary {
  id: string;
  role: ContractRecord['role'];
  state: LocalState;
  template: unknown;
  contractId: string | null;
  /** A strip's period: the strip id, this period (1-based), the number of periods, its window (absent for a single contract). */
  strip?: { id: string; period: number; periods: number; window: unknown };
}

/**
 * Every contract of this wallet, oldest first, a strip's periods together
 * (in period order, where the strip's first record falls) (only reads the wallet).
 */
export function listContracts(p: Participant): ContractSummary[] {
  const all = p.wallet().contracts.list();
  const summary = (r: ContractRecord): ContractSummary => ({
    id: r.id,
    role: r.role,
    state: r.state,
    template: r.terms.template,
    contractId: r.contractId ?? null,
    ...(r.strip === undefined ? {} : { strip: { id: r.strip.id, period: r.strip.batch.index + 1, periods: r.strip.batch.contracts.length, window: r.terms.window } }),
  });
  const out: ContractSummary[] = [];
  const placed = new Set<string>();
  for (const r of all) {
    if (r.strip === undefined) {
      out.push(summary(r));
      continue;
    }
    if (placed.has(r.strip.id)) continue;
    placed.add(r.strip.id);
    const id = r.strip.id;
    out.push(...all.filter((x) => x.strip?.id === id).sort((a, b) => a.strip!.batch.index - b.strip!.batch.index).map(summary));
  }
  return out;
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
 * The funding transaction this record's stored messages rebuild (a strip's
 * period: with its batch), or undefined before both offer and accept are
 * stored (or when they rebuild none).
 */
export function ownFundingTxid(wallet: Wallet, record: ContractRecord): string | undefined {
  if (record.accept === undefined) return undefined;
  try {
    const c = loadContract(wallet, record.id);
    if (c.transfer !== undefined) return c.transfer.tx?.txidHex;
    return c.accept === undefined ? undefined : buildFundingTransaction(c.offer, c.accept, c.funding).txidHex;
  } catch {
    return undefined;
  }
}

/**
 * The txids of a coordinator's view that a record takes: the closing txid,
 * and the funding txid only when it is the funding transaction our own
 * stored messages rebuild. A coordinator that names another funding
 * transaction (lying, or mixing up a strip's periods) would otherwise be
 * recorded, and settle and refund, which check that they spend the recorded
 * funding transaction, would refuse forever (settle.ts `checkSpendsOwnOutput`);
 * `fund` would also take the contract as funded. It is noted and not stored.
 */
export function coordinatorTxids(p: Pick<Participant, 'note'>, wallet: Wallet, record: ContractRecord, view: Pick<ContractView, 'fundingTxid' | 'closingTxid'>): Partial<ContractRecord> {
  const out: Partial<ContractRecord> = typeof view.closingTxid === 'string' ? { closingTxid: view.closingTxid } : {};
  if (typeof view.fundingTxid !== 'string' || record.fundingTxid !== undefined) return out;
  const own = ownFundingTxid(wallet, record);
  if (own === view.fundingTxid) return { ...out, fundingTxid: own };
  p.note(`coordinator: ${record.id} funded by ${view.fundingTxid}, but ${own === undefined ? 'its funding transaction is not known here yet' : `its funding transaction is ${own}`}: not recorded`);
  return out;
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
      if (view.state === 'transferred' && record.state !== 'transferred') {
        record = await followTransfer(p, record, view);
      } else if (next !== undefined) {
        record = saveState(wallet, record, next, coordinatorTxids(p, wallet, record, view), `coordinator: ${view.state}`);
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

// ------------------------------------------------------------------ strips (issue 12)

/** One period of `stripStatus`. */
export interface StripPeriodStatus {
  /** 1-based. */
  period: number;
  /** The period's offer id. */
  id: string;
  /** Its delivery (or hashprice) window. */
  window: { start: number; end: number } | undefined;
  /** The local record, after any update from the coordinator or the node. */
  record: ContractRecord;
  /** The coordinator's state of this period (undefined when not asked or not reached). */
  coordinatorState: string | undefined;
  /** The attested outcome the coordinator reports (settled periods), else null. */
  outcome: string | null;
  /** Each party's payout once the period closed (settled, refunded or closed), as the coordinator reports it, else null. */
  payouts: { offer: string; accept: string } | null;
  closingTxid: string | null;
}

export interface StripStatusResult {
  /** The strip id (period 1's offer id). */
  id: string;
  periods: StripPeriodStatus[];
  /** The strip's whole terms. */
  terms: Record<string, unknown>;
  fundingTxid: string | null;
  /** Confirmations of the shared funding transaction (undefined when not asked or unknown to the node). */
  confirmations: number | undefined;
  /** The coordinator's strip view (undefined when not asked or not reached). */
  coordinator: StripView | undefined;
}

function stringOrNull(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function payoutsOf(v: unknown): { offer: string; accept: string } | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  return typeof o.offer === 'string' && typeof o.accept === 'string' ? { offer: o.offer, accept: o.accept } : null;
}

/** The window of a period's terms, when it has one. */
function windowOf(terms: Record<string, unknown>): { start: number; end: number } | undefined {
  const w = terms.window as { start?: unknown; end?: unknown } | undefined;
  return typeof w?.start === 'number' && typeof w.end === 'number' ? { start: w.start, end: w.end } : undefined;
}

/**
 * `hashdlc status <strip-id|period-id>` for a strip: every period's record,
 * each updated from the coordinator's strip view (`GET /v1/strips/:id`, one
 * signed GET: its contract views in period order) as `contractStatus` does
 * for one contract (forward only; `expired` not taken while our funding
 * signatures may be out), the shared funding transaction's confirmations
 * once, and per period its window, states, attested outcome and payouts.
 * Undefined when `id` is not a strip's.
 * @throws {WalletError} WALLET_CONTRACT_NOT_FOUND; {ChainError} from the node check.
 */
export async function stripStatus(p: Participant, input: StatusInput): Promise<StripStatusResult | undefined> {
  const wallet = p.wallet();
  let records = stripRecords(wallet, input.id);
  if (records === undefined) return undefined;
  const first = records[0]!;
  const stripId = first.strip!.id;
  const local = input.local === true;
  let remote: StripView | undefined;
  const coordinatorUrl = p.config.coordinator ?? first.coordinator;
  if (!local && coordinatorUrl !== undefined) {
    try {
      remote = await new CoordinatorClient(coordinatorUrl).strip(stripId, wallet.keys.contractIdentity(first.keyIndex).identitySecretKey);
    } catch (e) {
      if (!(e instanceof ParticipantError)) throw e;
      p.note(`coordinator: ${e.message}`);
    }
  }
  const views = new Map<string, ContractView>((remote?.contracts ?? []).map((v) => [v.id, v]));
  records = records.map((r) => {
    const view = views.get(r.id);
    if (view === undefined) return r;
    const next = followCoordinator(r, view.state);
    if (next === undefined) return r;
    return saveState(wallet, r, next, coordinatorTxids(p, wallet, r, view), `coordinator: ${view.state}`);
  });
  if (remote?.state === 'expired' && records.some((r) => rank(r.state) < rank('funding-broadcast'))) {
    p.note(`coordinator: strip expired; your funding signatures may be out: 'hashdlc cancel ${stripId}' double-spends your funding inputs`);
  }
  const fundingTxid = records.find((r) => r.fundingTxid !== undefined)?.fundingTxid;
  let confirmations: number | undefined;
  if (!local && fundingTxid !== undefined && p.config.rpc !== undefined) {
    const rpc = await p.rpc();
    confirmations = await rpc.getRawTransaction(fundingTxid).then((t) => t.confirmations ?? 0, () => undefined);
    if (confirmations !== undefined && confirmations > 0) {
      records = records.map((r) => (r.state === 'funding-broadcast' ? saveState(wallet, r, 'confirmed', {}, `${confirmations} confirmation(s)`) : r));
    }
  }
  const periods = records.map((r): StripPeriodStatus => {
    const view = views.get(r.id) as (ContractView & Record<string, unknown>) | undefined;
    return {
      period: r.strip!.batch.index + 1,
      id: r.id,
      window: windowOf(r.terms),
      record: r,
      coordinatorState: view?.state,
      outcome: stringOrNull(view?.outcome),
      payouts: payoutsOf(view?.payouts),
      closingTxid: r.closingTxid ?? stringOrNull(view?.closingTxid),
    };
  });
  return { id: stripId, periods, terms: first.strip!.terms, fundingTxid: fundingTxid ?? null, confirmations, coordinator: remote };
}
