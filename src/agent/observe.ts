/**
 * What the agent sees of this wallet's contracts in one pass: each live
 * record's local state and terms, the coordinator's view of it (a GET signed
 * with the contract's identity key; unreachable is a fact, not an error), the
 * node's tip, the funding transaction in the mempool or chain, the oracle's
 * attestation once it can matter (funding seen, CET locktime reached), and an
 * unconfirmed transaction of ours when bumping is on.
 *
 * `factsOf` assembles facts from what was fetched (pure); `ParticipantObserver`
 * fetches it through a Participant's ports.
 *
 * This module does NOT decide, act, or verify signatures (the use cases verify
 * what they use: the attestation here only says whether to try settling).
 */
import { Psbt, Transaction } from 'bitcoinjs-lib';
import { transferDeadline } from '../../protocol/contract/index.js';
import { buildFundingTransaction, fundingScript, p2wshScriptPubkey } from '../../protocol/tx/index.js';
import { CoordinatorClient, type ContractView, type PositionView } from '../api/index.js';
import type { BitcoinRpc } from '../chain/index.js';
import { isChainError } from '../chain/index.js';
import { loadContract, type LoadedContract } from '../participant/contract.js';
import { ParticipantError } from '../participant/errors.js';
import { gatherAttestations } from '../participant/oracle-set.js';
import type { Participant } from '../participant/participant.js';
import type { ContractRecord } from '../wallet/index.js';
import { TERMINAL } from './decide.js';
import type { ContractFacts, CoordinatorFact, PendingTxFact, PositionFact } from './facts.js';

/** What the facts need from the journal. */
export interface JournalView {
  bumpedTo(txid: string): bigint | undefined;
}

/** One pass's observations: facts per contract, and contracts that could not be observed. */
export interface Observation {
  tip: number;
  facts: ContractFacts[];
  errors: { id: string; error: unknown }[];
}

export interface AgentObserver {
  /**
   * Observes every contract of the wallet that may need a step.
   * @throws when the node cannot be read (nothing can be decided without the tip).
   */
  observe(journal: JournalView): Promise<Observation>;
}

/** What was fetched for one contract. */
export interface Fetched {
  tip: number;
  coordinator: CoordinatorFact;
  funding: { txid: string; confirmations: number } | null;
  attested: boolean | null;
  pending: Omit<PendingTxFact, 'bumpedToPerVb'> | null;
  /** Issue 14: a position transfer this wallet takes part in. */
  position?: PositionFact;
}

/** Facts of a contract from its decoded record and what was fetched (pure). */
export function factsOf(c: Pick<LoadedContract, 'record' | 'offer' | 'terms'>, fetched: Fetched, journal: JournalView, stripLead?: number): ContractFacts {
  const co = fetched.coordinator;
  return {
    id: c.record.id,
    role: c.record.role,
    state: c.record.state,
    tip: fetched.tip,
    coordinator: co.reachable ? { reachable: true, state: co.state } : { reachable: false },
    fundingDeadline: c.terms.fundingDeadline,
    cetLocktime: c.offer.cetLocktime,
    refundLocktime: c.offer.refundLocktime,
    contractFeeRatePerVb: c.offer.feeRatePerVb,
    funding: fetched.funding,
    attested: fetched.attested,
    pending: fetched.pending === null ? null : { ...fetched.pending, bumpedToPerVb: journal.bumpedTo(fetched.pending.txid) },
    ...(c.record.transfer === undefined ? {} : { transferred: true }),
    ...(fetched.position === undefined ? {} : { position: fetched.position }),
    ...(c.record.strip === undefined ? {} : { strip: { id: c.record.strip.id, index: c.record.strip.batch.index, periods: c.record.strip.batch.contracts.length, ...(stripLead === undefined ? {} : { lead: stripLead }) } }),
  };
}

/**
 * The funding txid of a record: stored, else the unsigned transaction of its
 * funding PSBT (segwit: witnesses do not change it; the PSBT was checked
 * against the transaction our own messages derive before it was stored), and
 * only when neither exists the coordinator's word. A coordinator naming
 * another transaction must not make the agent think a contract is funded
 * (and hold off funding it) while our own records know its real txid.
 */
export function fundingTxidOf(record: ContractRecord, view: ContractView | undefined): string | undefined {
  if (record.fundingTxid !== undefined) return record.fundingTxid;
  if (record.fundingPsbt !== undefined) return Transaction.fromBuffer(Buffer.from(Psbt.fromBase64(record.fundingPsbt).data.getTransaction())).getId();
  return typeof view?.fundingTxid === 'string' ? view.fundingTxid : undefined;
}

/**
 * Each strip's lead period (facts.ts `strip.lead`): the lowest index of its periods not ended, else 0.
 * A crash between two periods' records (cancel) can end period 1 alone; the rest are finished from the lead.
 */
export function stripLeads(records: readonly Pick<ContractRecord, 'state' | 'strip'>[]): Map<string, number> {
  const leads = new Map<string, number>();
  for (const r of records) {
    if (r.strip === undefined || TERMINAL.has(r.state)) continue;
    const at = leads.get(r.strip.id);
    if (at === undefined || r.strip.batch.index < at) leads.set(r.strip.id, r.strip.batch.index);
  }
  return leads;
}

/** The agent's observer over a Participant's wallet, node, coordinator and oracle. */
export class ParticipantObserver implements AgentObserver {
  readonly #p: Participant;
  readonly #bump: boolean;

  /** `bump`: whether bumping is on (unconfirmed transactions are looked up only then). */
  constructor(p: Participant, options: { bump: boolean }) {
    this.#p = p;
    this.#bump = options.bump;
  }

  async observe(journal: JournalView): Promise<Observation> {
    const wallet = this.#p.wallet();
    const rpc = await this.#p.rpc();
    const tip = await rpc.getBlockCount();
    const facts: ContractFacts[] = [];
    const errors: Observation['errors'] = [];
    const records = wallet.contracts.list();
    const leads = stripLeads(records);
    const taken = new TakenPositions(this.#p);
    for (const record of records) {
      const terminal = TERMINAL.has(record.state);
      if (terminal && (!this.#bump || record.closingTxid === undefined)) continue;
      try {
        const c = loadContract(wallet, record.id);
        const fetched = await this.#fetch(c, rpc, tip, terminal);
        const position = terminal ? undefined : await this.#position(c, fetched, taken);
        facts.push(factsOf(c, position === undefined ? fetched : { ...fetched, position }, journal, record.strip === undefined ? undefined : leads.get(record.strip.id)));
      } catch (error) {
        errors.push({ id: record.id, error });
      }
    }
    return { tip, facts, errors };
  }

  async #fetch(c: LoadedContract, rpc: BitcoinRpc, tip: number, terminal: boolean): Promise<Fetched> {
    const { record } = c;
    if (terminal) {
      // Only our closing transaction is of interest: bump it while it waits.
      const closing = await confirmations(rpc, record.closingTxid!);
      const pending = closing === 0 ? await pendingTx(rpc, record.closingTxid!, 'closing', tip) : null;
      return { tip, coordinator: { reachable: false }, funding: null, attested: null, pending };
    }
    const { fact: coordinator, view } = await this.#coordinatorView(c);
    // Issue 14: a contract set up by a transfer is funded by the transfer transaction our own messages rebuild.
    const fundingTxid = c.transfer?.tx?.txidHex ?? fundingTxidOf(record, view);
    const fundingConfs = fundingTxid === undefined ? null : await confirmations(rpc, fundingTxid);
    const funding = fundingTxid === undefined || fundingConfs === null
      ? null
      : { txid: fundingTxid, confirmations: fundingConfs, ...(fundingConfs > 0 ? { spent: await fundingSpent(rpc, c, fundingTxid) } : {}) };
    // The oracle matters once the contract is funded and its CET could be final.
    const attested = funding !== null && tip >= c.offer.cetLocktime ? await this.#attested(c) : null;
    // A strip's one funding transaction is looked at (and bumped) once, with period 1.
    const fundingBumper = record.strip === undefined || record.strip.batch.index === 0;
    const pending = this.#bump && fundingBumper && funding !== null && funding.confirmations === 0 ? await pendingTx(rpc, funding.txid, 'funding', tip) : null;
    return { tip, coordinator, funding, attested, pending };
  }

  /**
   * Issue 14: our part in a position transfer of this contract, from the coordinator's public view of
   * the position: the seller's listing and the taker's take are in our records (their position ids); the
   * stayer's is found in the coordinator's taken positions, by the contract id of our own offered record.
   * Unreachable or unreadable: no fact (no transfer step this pass; the rest goes on).
   */
  async #position(c: LoadedContract, fetched: Fetched, taken: TakenPositions): Promise<PositionFact | undefined> {
    const { record } = c;
    const lastHeight = transferDeadline(c.offer.cetLocktime, this.#p.wallet().network.flow);
    const fact = (part: PositionFact['part'], v: PositionView): PositionFact => ({
      part, positionId: v.id, state: v.state, consented: v.consented === true, released: v.released === true, funded: v.funded === true, lastHeight,
    });
    try {
      if (record.role === 'accept' && record.listing !== undefined && record.listing.released !== true && fetched.funding !== null) {
        return fact('seller', await this.#p.coordinator().position(record.listing.positionId));
      }
      if (record.role === 'accept' && record.transfer !== undefined && (record.state === 'accepted' || record.state === 'signed')) {
        return fact('taker', await this.#p.coordinator().position(record.transfer.positionId));
      }
      if (record.role === 'offer' && fetched.funding !== null && fetched.funding.confirmations > 0) {
        const v = await taken.of(record.id);
        return v === undefined ? undefined : fact('stayer', v);
      }
    } catch (e) {
      this.#p.note(`agent: position of ${record.id}: ${e instanceof Error ? e.message : String(e)}`);
    }
    return undefined;
  }

  async #coordinatorView(c: LoadedContract): Promise<{ fact: Fetched['coordinator']; view: ContractView | undefined }> {
    const url = this.#p.config.coordinator ?? c.record.coordinator;
    if (url === undefined) return { fact: { reachable: false }, view: undefined };
    try {
      const view = await new CoordinatorClient(url).contract(c.record.id, c.keys.identitySecretKey);
      return { fact: { reachable: true, state: view.state }, view };
    } catch (e) {
      if (e instanceof ParticipantError && e.code === 'REMOTE' && e.remoteCode === 'NOT_FOUND') return { fact: { reachable: true, state: null }, view: undefined };
      // Unreachable, or an answer we cannot use: only settle and refund go on without it.
      this.#p.note(`agent: coordinator view of ${c.record.id}: ${e instanceof Error ? e.message : String(e)}`);
      return { fact: { reachable: false }, view: undefined };
    }
  }

  /**
   * Whether K oracles of the contract attested its event (the settle use
   * case's rule: src/participant `gatherAttestations`); null when none could
   * be asked.
   */
  async #attested(c: LoadedContract): Promise<boolean | null> {
    const g = await gatherAttestations(this.#p, c);
    if (g.attested.length >= g.threshold) return true;
    const asked = g.oracles.filter((o) => o.missing === null || o.missing === 'not-attested');
    for (const o of g.oracles) {
      if (o.missing !== null && o.missing !== 'not-attested') this.#p.note(`agent: oracle attestation of ${c.record.id} at ${o.url ?? o.publicKey}: ${o.missing}`);
    }
    return asked.length === 0 ? null : false;
  }
}

/**
 * The coordinator's taken positions (issue 14), fetched once per pass and only when a stayer's contract
 * asks: the public list, paged, by the sold contract's id.
 */
class TakenPositions {
  readonly #p: Participant;
  #byContract: Promise<Map<string, PositionView>> | undefined;

  constructor(p: Participant) {
    this.#p = p;
  }

  async of(contractId: string): Promise<PositionView | undefined> {
    this.#byContract ??= this.#fetch();
    return (await this.#byContract).get(contractId);
  }

  async #fetch(): Promise<Map<string, PositionView>> {
    const byContract = new Map<string, PositionView>();
    let after: string | undefined;
    // Bounded: a coordinator paging forever must not hold the pass.
    for (let page = 0; page < 100; page++) {
      const r = await this.#p.coordinator().positions({ state: 'taken', limit: '100', ...(after === undefined ? {} : { after }) });
      for (const v of r.positions) if (v.side === 'accept') byContract.set(v.contractId, v);
      if (r.next === null || r.positions.length === 0) break;
      after = r.next;
    }
    return byContract;
  }
}

/**
 * Whether the contract output of a confirmed funding transaction is spent (mempool included): the
 * contract is closed by someone, even if no record or coordinator here says so (it may be gone).
 */
async function fundingSpent(rpc: BitcoinRpc, c: LoadedContract, txid: string): Promise<boolean> {
  const vout = await contractOutputIndex(rpc, c, txid);
  if (vout === undefined) return false;
  return (await rpc.getTxOut(txid, vout, true)) === null;
}

/**
 * The index of this contract's funding output in the funding transaction `txid`. A strip's periods
 * (issue 12) all pay the same 2-of-2 script (the same funding keys), so the script alone would find
 * period 1's output for every period: the index is the one the rebuilt funding transaction (with the
 * batch) gives this period, taken when the rebuilt txid is `txid`; otherwise (a single contract whose
 * stored messages rebuild another transaction) the first output paying the contract's script.
 */
export async function contractOutputIndex(rpc: BitcoinRpc, c: Pick<LoadedContract, 'offer' | 'accept' | 'funding'> & Partial<Pick<LoadedContract, 'transfer'>>, txid: string): Promise<number | undefined> {
  if (c.accept === undefined) return undefined;
  // Issue 14: a contract set up by a transfer is funded by the transfer transaction our messages rebuild.
  if (c.transfer?.tx !== undefined && c.transfer.tx.txidHex === txid) return c.transfer.tx.fundOutputIndex;
  try {
    const rebuilt = buildFundingTransaction(c.offer, c.accept, c.funding);
    if (rebuilt.txidHex === txid) return rebuilt.fundOutputIndex;
  } catch {
    // Messages that do not rebuild a funding transaction: look for the script below.
  }
  if (c.funding.batch !== undefined) return undefined; // never guess among a strip's identical outputs
  const spk = Buffer.from(p2wshScriptPubkey(fundingScript(c.offer.fundingPubkey, c.accept.fundingPubkey)));
  const vout = Transaction.fromHex(await rpc.getRawTransactionHex(txid)).outs.findIndex((o) => spk.equals(Buffer.from(o.script)));
  return vout < 0 ? undefined : vout;
}

/** Confirmations of a transaction (0: in the mempool), or null when the node does not know it. */
async function confirmations(rpc: BitcoinRpc, txid: string): Promise<number | null> {
  try {
    return (await rpc.getRawTransaction(txid)).confirmations ?? 0;
  } catch (e) {
    if (isChainError(e) && e.code === 'CHAIN_NOT_FOUND') return null;
    throw e;
  }
}

/** A mempool transaction's own fee rate and wait; null when it left the mempool meanwhile. */
async function pendingTx(rpc: BitcoinRpc, txid: string, kind: PendingTxFact['kind'], tip: number): Promise<Omit<PendingTxFact, 'bumpedToPerVb'> | null> {
  try {
    const e = await rpc.getMempoolEntry(txid);
    return { txid, kind, feeRatePerVb: e.feeSats / BigInt(e.vsize), waitedBlocks: Math.max(0, tip - e.height) };
  } catch (e) {
    if (isChainError(e) && e.code === 'CHAIN_NOT_FOUND') return null;
    throw e;
  }
}
