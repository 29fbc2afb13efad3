/**
 * The settlement agent: polls the node and the oracles and drives every live
 * contract forward from its STORED state, so the same code re-drives after a
 * restart. Per poll:
 *
 * 1. Block scan: every block since the stored cursor (walking back over a
 *    reorg) is read and every input is checked against the funding outpoints
 *    of live contracts: a CET, refund or close broadcast by anyone is found
 *    this way, classified by nLockTime, and recorded (with its confirmation).
 * 2. Per contract, by state:
 *    - funding-broadcast: confirmed at the configured depth → confirmed; not
 *      in the mempool nor the chain → rebroadcast (inputs spent elsewhere → failed);
 *    - confirmed: funding block left the chain → funding-broadcast; the
 *      contract's oracles are asked in parallel and K of its K-of-n set
 *      attested one outcome → complete the attested CET from the two stored
 *      adaptor signatures (no key) → attested → broadcast, recording what
 *      each oracle attested and whether it agreed; an unreachable, silent,
 *      invalid or dissenting oracle does not hold the others back; refund
 *      locktime reached with fewer than K agreeing → signed refund → broadcast;
 *    - attested: broadcast the completed CET (waits while it is non-final);
 *    - attested | cet-broadcast | settled (a CET): oracles that had not attested
 *      are still asked; a late agreement or dissent is recorded;
 *    - *-broadcast: confirmed → settled | refunded | closed; missing → rebroadcast;
 *    - settled | refunded | closed: within `reorgWatchDepth`, back to
 *      *-broadcast if the block left the chain.
 * 3. Positions (issue 14, positions.ts `drive`): listings expire or fail with
 *    their contract; a broadcast transfer confirmed → the old contract
 *    `transferred`; one that can never confirm → the position failed. A
 *    transfer seen in a block spending a live contract's funding output is a
 *    transfer, never classified as a close. The transfer itself is the new
 *    contract's funding transaction: confirmed and re-sent by step 2.
 * Every transition is committed (one batch) BEFORE its broadcast; broadcasts
 * are idempotent (an already-known transaction is success).
 *
 * This module does NOT hold keys (the CET and refund are completed from the
 * parties' signatures) and does NOT serve HTTP.
 */
import { Block, Transaction } from 'bitcoinjs-lib';
import { completeAttestedCet, contractAnnouncements, type IndexedAttestation } from '../../protocol/contract/index.js';
import { decodeMessage, encodeMessage, fromHex, toHex, verifyAttestation, type OracleAnnouncement, type OracleAttestation } from '../../protocol/messages/index.js';
import { isDlcError } from '../../protocol/errors.js';
import { isChainError } from '../chain/index.js';
import { classifySpend, spendsFunding } from './closing.js';
import { signedRefund } from '../../protocol/tx/index.js';
import { fundingOf } from './contract-data.js';
import {
  cetCompleted,
  closingBroadcast,
  contractTransferred,
  closingConfirmed,
  closingReorged,
  failContract,
  fundingConfirmed,
  fundingReorged,
  oraclesObserved,
  type Attested,
  type Closed,
  type ClosingBroadcast,
  type ClosingPart,
  type Confirmed,
  type ContractRecord,
  type ContractState,
  type OracleOutcome,
} from './lifecycle.js';
import { OracleClient } from './oracle-client.js';
import type { CoordinatorService } from './service.js';

const LIVE: readonly ContractState[] = ['funding-broadcast', 'confirmed', 'attested', 'cet-broadcast', 'refund-broadcast', 'close-broadcast'];
const CURSOR = 'watcher-cursor';
const LOCKTIME_THRESHOLD = 500_000_000;

/** What one oracle of a contract answered this poll (watcher `#gatherAttestations`). */
type Gathered =
  | { kind: 'attested'; attestation: OracleAttestation; outcome: string }
  | { kind: 'pending' }
  | { kind: 'unreachable' }
  | { kind: 'invalid' };

/**
 * The outcome an attestation's signed outcomes state, as the contract reads
 * it: an enum outcome as is; numeric digits (most significant first, a
 * leading sign when the event is signed) as a decimal integer. The oracle's
 * JSON `outcome` is not used: only the signed digits select a CET.
 */
function attestedOutcome(att: OracleAttestation, ann: OracleAnnouncement): string {
  const ev = ann.oracleEvent.eventDescriptor;
  if ('enumEvent' in ev) return att.outcomes[0] ?? '';
  const { base, isSigned } = ev.digitDecompositionEvent;
  const digits = isSigned ? att.outcomes.slice(1) : att.outcomes;
  let v = 0n;
  for (const d of digits) v = v * BigInt(base) + BigInt(d);
  return isSigned && att.outcomes[0] === '-' ? `-${v}` : String(v);
}

function sameDigits(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

interface Cursor {
  height: number;
  hash: string;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function orNull<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (err) {
    if (isChainError(err) && err.code === 'CHAIN_NOT_FOUND') return null;
    throw err;
  }
}

/**
 * Whether the block `hash` at `height` is still on the node's active chain.
 * Only a definite answer counts: the node names another block at `height`, or
 * has no block there (the chain got shorter). A timeout, a refused connection or
 * any other error propagates, so a poll that could not ask is retried instead of
 * being mistaken for a reorg (issue 9, hole 9).
 * @throws {ChainError} whatever the node call threw, except CHAIN_NOT_FOUND.
 */
export async function blockOnActiveChain(chain: { getBlockHash(height: number): Promise<string> }, height: number, hash: string, tip: number): Promise<boolean> {
  if (height > tip) return false;
  const atHeight = await orNull(chain.getBlockHash(height));
  return atHeight === hash;
}

export class Watcher {
  readonly #svc: CoordinatorService;
  readonly #lastAttestationPoll = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #leading = false;
  #running: Promise<void> | undefined;
  #stopped = true;
  /** The tip at which the offer book's clock last ran (`#expireDue`). */
  #expiredAt: number | undefined;
  /**
   * Funding txids looked up (and re-sent when missing) this poll: a strip's N
   * period records share one funding transaction, which is handled once per poll.
   */
  #fundingSeen = new Map<string, 'pending' | 'sent' | 'failed'>();

  constructor(service: CoordinatorService) {
    this.#svc = service;
  }

  /** Starts polling (first poll at once). */
  start(): void {
    this.#stopped = false;
    const loop = (): void => {
      if (this.#stopped) return;
      this.#running = this.#leadTick().catch((err) => this.#svc.log('error', 'watcher poll failed', { error: errText(err) })).finally(() => {
        this.#running = undefined;
        if (!this.#stopped) this.#timer = setTimeout(loop, this.#svc.config.watcher.pollIntervalMs);
      });
    };
    loop();
  }

  /** Whether this process ran the last poll as the leader (always, on LevelDB). */
  get leading(): boolean {
    return this.#leading;
  }

  /**
   * One poll, run only by the leader (issue 13): replicas on one database
   * each try the lease every poll interval; the one holding it confirms it
   * before every poll and polls; the others wait.
   */
  async #leadTick(): Promise<void> {
    const leading = await this.#svc.store.backend.leadership.hold();
    if (leading !== this.#leading) {
      this.#leading = leading;
      this.#svc.log('info', leading ? 'watcher: leading (this replica runs settlement)' : 'watcher: not leading (another replica runs settlement)', {});
    }
    if (leading) await this.tick();
  }

  /** Stops polling and waits for a poll in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#running;
  }

  /** One poll: block scan, then every live contract. Errors of one contract do not stop the others. */
  async tick(): Promise<void> {
    const tip = await this.#svc.chain.getBlockCount();
    this.#fundingSeen = new Map();
    await this.#scanBlocks(tip);
    await this.#expireDue(tip);
    const ids = [...await this.#svc.store.idsInStates(LIVE), ...await this.#svc.store.recentlyClosed()];
    for (const id of ids) {
      try {
        await this.#svc.lock.run(id, () => this.#drive(id, tip));
      } catch (err) {
        this.#svc.log('warn', 'watcher: contract step failed', { id, error: errText(err) });
      }
    }
    await this.#svc.positions.drive(tip);
  }

  /** The offer book's clock (service.expireDue): deadlines and accept timeouts. Its failure does not stop the poll. */
  async #expireDue(tip: number): Promise<void> {
    // Deadlines and timeouts are heights: nothing new falls due until the tip moves
    // (offers and accepts made meanwhile are checked against the tip when made).
    if (tip === this.#expiredAt) return;
    try {
      await this.#svc.expireDue(tip);
      this.#expiredAt = tip;
    } catch (err) {
      this.#svc.log('warn', 'watcher: expiring offers failed', { error: errText(err) });
    }
  }

  // ---------------------------------------------------------------- block scan

  async #scanBlocks(tip: number): Promise<void> {
    const { chain, store, config } = this.#svc;
    let cursor = await store.getMeta<Cursor>(CURSOR);
    if (cursor === undefined) {
      // First start: nothing can have been funded before the coordinator existed.
      cursor = { height: tip, hash: await chain.getBlockHash(tip) };
      await store.putMeta(CURSOR, cursor);
      return;
    }
    // Walk back over a reorg until the cursor's block is on the best chain again.
    for (let back = 0; back < 100 && cursor.height > 0; back++) {
      if (await blockOnActiveChain(chain, cursor.height, cursor.hash, tip)) break;
      const prevHeight: number = cursor.height - 1;
      cursor = { height: prevHeight, hash: await chain.getBlockHash(prevHeight) };
      // The block at prevHeight is on the best chain now; rescanning from it is idempotent.
    }
    if (cursor.height >= tip) {
      await store.putMeta(CURSOR, cursor);
      return;
    }
    const watched = await this.#watchedOutpoints();
    const last = Math.min(tip, cursor.height + config.watcher.maxBlocksPerPoll);
    for (let h = cursor.height + 1; h <= last; h++) {
      const hash = await chain.getBlockHash(h);
      if (watched.size > 0) {
        const block = Block.fromHex(await chain.getBlockHex(hash));
        for (const tx of block.transactions ?? []) {
          for (const input of tx.ins) {
            const key = `${toHex(Uint8Array.from(input.hash).reverse())}:${input.index}`;
            const id = watched.get(key);
            if (id === undefined) continue;
            try {
              await this.#svc.lock.run(id, () => this.#spendSeen(id, tx, { height: h, hash }, tip));
            } catch (err) {
              // A node error must not advance the cursor past a spend we could not
              // record (it would never be seen again): fail the poll, retry the block.
              if (isChainError(err)) throw err;
              this.#svc.log('warn', 'watcher: recording a spend failed', { id, error: errText(err) });
            }
          }
        }
      }
      await store.putMeta(CURSOR, { height: h, hash });
    }
  }

  async #watchedOutpoints(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const id of await this.#svc.store.idsInStates(LIVE)) {
      const rec = await this.#svc.store.get(id);
      if (rec !== undefined && 'fundingTxid' in rec && rec.fundingTxid !== undefined) out.set(`${rec.fundingTxid}:${rec.fundOutputIndex}`, id);
    }
    return out;
  }

  /** A transaction spending a live contract's funding output was mined in `block`. */
  async #spendSeen(id: string, tx: Transaction, block: { height: number; hash: string }, tip: number): Promise<void> {
    const rec = await this.#svc.store.get(id);
    if (rec === undefined || !LIVE.includes(rec.state)) return;
    const now = this.#svc.now();
    let next: ContractRecord = rec;
    const txid = tx.getId();
    if (rec.transferredTo !== undefined && rec.transferredTo.transferTxid === txid) {
      // Issue 14: our own transfer, not a close. Deep enough → transferred; else the position's drive confirms it later.
      if (tip - block.height + 1 >= this.#svc.config.watcher.confirmations) {
        await this.#commit(rec, contractTransferred(rec, rec.transferredTo, block, now), 'contract transferred', { txid, height: block.height });
      }
      return;
    }
    if (!('closingTxid' in rec) || rec.closingTxid !== txid || rec.state === 'attested') {
      const m = await this.#svc.messagesOf(rec);
      const { closing } = fundingOf({ offer: m.offer, accept: m.accept!, fundingOptions: m.fundingOptions });
      if (!spendsFunding(closing, tx)) return;
      const seen = classifySpend(closing, tx);
      const ours = 'closingTxid' in rec && rec.closingTxid === txid;
      const part: ClosingPart = ours && 'closingKind' in rec
        ? { closingKind: rec.closingKind!, closingTx: rec.closingTx!, closingTxid: txid, payouts: rec.payouts!, outcome: rec.outcome ?? null, cetIndex: rec.cetIndex ?? null, attestation: rec.attestation ?? null, broadcastBy: 'coordinator' }
        : { closingKind: seen.kind, closingTx: tx.toHex(), closingTxid: txid, payouts: seen.payouts, outcome: null, cetIndex: null, attestation: null, broadcastBy: 'other' };
      next = closingBroadcast(next, part, now);
    }
    if (tip - block.height + 1 >= this.#svc.config.watcher.confirmations) next = closingConfirmed(next, block, now);
    if (next !== rec) {
      await this.#svc.store.commit(rec, next);
      this.#svc.log('info', `contract ${next.state}`, { id, txid, height: block.height });
    }
  }

  // ---------------------------------------------------------------- per contract

  async #drive(id: string, tip: number): Promise<void> {
    const rec = await this.#svc.store.get(id);
    if (rec === undefined) return;
    switch (rec.state) {
      case 'funding-broadcast': return this.#driveFunding(rec, tip);
      case 'confirmed': return this.#driveConfirmed(rec, tip);
      case 'attested': await this.#broadcastClosing(rec, 'cet'); break;
      case 'cet-broadcast':
      case 'refund-broadcast':
      case 'close-broadcast': await this.#driveClosing(rec); break;
      case 'settled':
      case 'refunded':
      case 'closed': await this.#watchReorg(rec, tip); break;
      default: return;
    }
    // The step above may have moved the record on: what comes next starts from the stored one.
    const now = await this.#svc.store.get(id);
    if (now !== undefined && (now.state === 'attested' || now.state === 'cet-broadcast' || now.state === 'settled')) await this.#lateAttestations(now);
  }

  /**
   * After a CET was completed from K agreeing oracles, an oracle that had not
   * attested yet may still do so, agreeing or dissenting: its outcome is
   * recorded (the dashboard flags a dissent even when it came late), for as
   * long as the watcher drives the contract (a settled one: within
   * `reorgWatchDepth`). Failures are logged, never thrown: settlement is done.
   */
  async #lateAttestations(rec: Attested | ClosingBroadcast | Closed): Promise<void> {
    const outcomes = rec.oracleOutcomes;
    if (rec.closingKind !== 'cet' || outcomes === undefined || rec.attestation === null || outcomes.every((o) => o.outcome !== null)) return;
    const now = this.#svc.now();
    const last = this.#lastAttestationPoll.get(rec.id);
    if (last !== undefined && now - last < this.#svc.config.watcher.attestationPollIntervalMs) return;
    this.#lastAttestationPoll.set(rec.id, now);
    try {
      // The settling set's attestations were stored (wire hex, comma-separated): the first one's digits are the outcome.
      const reference = decodeMessage(fromHex(rec.attestation.split(',')[0]!));
      if (reference.type !== 'oracle_attestation') return;
      const m = await this.#svc.messagesOf(rec);
      const gathered = await this.#gatherAttestations(rec, contractAnnouncements(m.offer)[0]!);
      const next = outcomes.map((o, i): OracleOutcome => {
        const g = gathered[i]!;
        if (o.outcome !== null || g.kind !== 'attested') return o;
        return { outcome: g.outcome, agreed: sameDigits(g.attestation.outcomes, reference.message.outcomes) };
      });
      if (next.every((o, i) => o === outcomes[i])) return;
      await this.#commit(rec, oraclesObserved(rec, next, now), 'late oracle attestation recorded', { outcomes: next.map((o) => o.outcome) });
      const dissent = next.flatMap((o, i) => (o.agreed === false && outcomes[i]!.agreed !== false ? [rec.oracles[i]!.url] : []));
      if (dissent.length > 0) this.#svc.log('warn', 'oracle attested another outcome than the set that settled', { id: rec.id, oracles: dissent });
    } catch (err) {
      this.#svc.log('warn', 'watcher: late attestation check failed', { id: rec.id, error: errText(err) });
    }
  }

  async #commit(prev: ContractRecord, next: ContractRecord, msg: string, fields: Record<string, unknown> = {}): Promise<void> {
    await this.#svc.store.commit(prev, next);
    this.#svc.log('info', msg, { id: prev.id, state: next.state, ...fields });
  }

  async #driveFunding(rec: Extract<ContractRecord, { state: 'funding-broadcast' }>, tip: number): Promise<void> {
    const { chain, config } = this.#svc;
    // Another period of the same strip found it unconfirmed or re-sent it this poll: nothing more to do;
    // or found its inputs spent elsewhere: this period fails with it.
    const seen = this.#fundingSeen.get(rec.fundingTxid);
    if (seen === 'failed') {
      await this.#commit(rec, failContract(rec, 'a funding input was spent by another transaction', this.#svc.now()), 'contract failed');
      return;
    }
    if (seen !== undefined) return;
    const tx = await orNull(chain.getRawTransaction(rec.fundingTxid));
    if (tx !== null) {
      if (tx.blockhash !== undefined && (tx.confirmations ?? 0) >= config.watcher.confirmations) {
        const header = await chain.getBlockHeader(tx.blockhash);
        await this.#commit(rec, fundingConfirmed(rec, { height: header.height, hash: header.hash }, this.#svc.now()), 'funding confirmed');
        // A block mined since this poll read `tip` may hold the funding: with the older tip,
        // the confirmed step would find its block above the tip and call it reorged out.
        return this.#drive(rec.id, Math.max(tip, header.height));
      }
      this.#fundingSeen.set(rec.fundingTxid, 'pending');
      return;
    }
    // Not in the mempool nor the chain (dropped, reorged out, or never sent before a crash): send again.
    try {
      await chain.sendRawTransaction(rec.fundingTx);
      this.#fundingSeen.set(rec.fundingTxid, 'sent');
      this.#svc.log('info', 'funding transaction (re)broadcast', { id: rec.id, txid: rec.fundingTxid });
    } catch (err) {
      if (isChainError(err) && err.code === 'CHAIN_MISSING_INPUTS') {
        const out = await chain.getTxOut(rec.fundingTxid, rec.fundOutputIndex, true);
        this.#fundingSeen.set(rec.fundingTxid, out === null ? 'failed' : 'pending');
        if (out === null) {
          await this.#commit(rec, failContract(rec, 'a funding input was spent by another transaction', this.#svc.now()), 'contract failed');
        }
        return;
      }
      throw err;
    }
  }

  async #driveConfirmed(rec: Confirmed, tip: number): Promise<void> {
    const { chain } = this.#svc;
    if (!await blockOnActiveChain(chain, rec.fundingHeight, rec.fundingBlockHash, tip)) {
      await this.#commit(rec, fundingReorged(rec, this.#svc.now()), 'funding reorged out');
      return;
    }
    // The record as it is now: a poll may have recorded what the oracles said (the refund carries it on).
    let current = rec;
    try {
      const r = await this.#tryAttestation(rec);
      if (r === true) return;
      current = r;
    } catch (err) {
      // An unreachable or misbehaving oracle must not hold back the refund.
      this.#svc.log('warn', 'watcher: attestation check failed', { id: rec.id, error: errText(err) });
    }
    await this.#tryRefund(current, tip);
  }

  /**
   * Polls the contract's oracles, all at once; once the attestations gathered
   * complete a CET (K agreeing oracles of a K-of-n set open one adaptor slot),
   * completes it and broadcasts it. What each oracle said is recorded every
   * time it changes, and at completion whether it agreed.
   *
   * One oracle must not hold back the others (issue 11): an unreachable one
   * (SIGKILLed, timing out) or one whose attestation fails its own
   * verification (Oracle.md: signatures over the outcome with the announced
   * nonces) is logged and left out; an honest dissenter's valid attestation
   * stays in the set, since `findAttestedSlot` only uses a slot whose oracles
   * all attested its digits, so a slot of the K that agree is found around
   * it. Subsets are not retried: a slot's match depends only on its own
   * oracles' attestations, so a smaller set opens no slot a larger one does
   * not, and with every attestation verified first the slot's secret matches.
   */
  async #tryAttestation(rec: Confirmed): Promise<true | Confirmed> {
    const now = this.#svc.now();
    const last = this.#lastAttestationPoll.get(rec.id);
    if (last !== undefined && now - last < this.#svc.config.watcher.attestationPollIntervalMs) return rec;
    this.#lastAttestationPoll.set(rec.id, now);
    const m = await this.#svc.messagesOf(rec);
    const announcements = contractAnnouncements(m.offer)[0]!;
    const gathered = await this.#gatherAttestations(rec, announcements);
    const observed = rec.oracles.map((_, i): OracleOutcome => {
      const g = gathered[i]!;
      // An oracle that cannot be asked now keeps what it said before (an attestation is final).
      if (g.kind === 'unreachable' || g.kind === 'invalid') return { outcome: rec.oracleOutcomes?.[i]?.outcome ?? null, agreed: null };
      return { outcome: g.kind === 'attested' ? g.outcome : null, agreed: null };
    });
    const attestations: IndexedAttestation[] = gathered.flatMap((g, oracleIndex) => (g.kind === 'attested' ? [{ oracleIndex, attestation: g.attestation }] : []));
    if (attestations.length === 0) return this.#recordObserved(rec, observed);
    const setup = this.#svc.data.setup(rec.id, m.offer, m.accept!, m.fundingOptions);
    let cet;
    try {
      cet = completeAttestedCet(setup, attestations, { offer: m.sign!.cetAdaptorSignatures, accept: m.accept!.cetAdaptorSignatures });
    } catch (err) {
      // Too few oracles of a threshold contract have attested yet, or those that did disagree: next poll.
      if (!isDlcError(err) || (err.reason !== 'no-attested-cet' && err.reason !== 'attestation-secret')) throw err;
      this.#svc.log('info', 'attestations do not complete a CET yet', { id: rec.id, attested: attestations.length, error: errText(err) });
      return this.#recordObserved(rec, observed);
    }
    // The oracles whose attestations opened the slot; any other oracle agreed when it attested the same digits.
    const used = setup.plan.adaptorSlots[cet.slotIndex]!.oracles.map((o) => o.oracleIndex);
    const reference = gathered[used[0]!] as Extract<Gathered, { kind: 'attested' }>;
    const outcomes = observed.map((o, i): OracleOutcome => {
      const g = gathered[i]!;
      if (used.includes(i)) return { outcome: o.outcome, agreed: true };
      if (g.kind === 'attested') return { outcome: o.outcome, agreed: sameDigits(g.attestation.outcomes, reference.attestation.outcomes) };
      return { outcome: o.outcome, agreed: o.outcome === null ? null : o.outcome === reference.outcome };
    });
    const wire = used.map((i) => toHex(encodeMessage({ type: 'oracle_attestation', message: (gathered[i] as Extract<Gathered, { kind: 'attested' }>).attestation })));
    const next = cetCompleted(rec, {
      closingTx: cet.tx.toHex(),
      closingTxid: cet.tx.getId(),
      payouts: { offer: String(cet.payouts.offer), accept: String(cet.payouts.accept) },
      outcome: reference.outcome,
      cetIndex: cet.cetIndex,
      attestation: wire.join(','),
    }, now, outcomes);
    const dissent = outcomes.flatMap((o, i) => (o.agreed === false ? [rec.oracles[i]!.url] : []));
    await this.#commit(rec, next, 'attested: CET completed', { cetIndex: cet.cetIndex, outcome: reference.outcome, oracles: used.map((i) => rec.oracles[i]!.url), ...(dissent.length > 0 ? { dissent } : {}) });
    if (dissent.length > 0) this.#svc.log('warn', 'oracle attested another outcome than the set that settled', { id: rec.id, oracles: dissent });
    await this.#broadcastClosing(next, 'cet');
    return true;
  }

  /**
   * Every oracle of the contract asked in parallel: its verified attestation
   * (with the outcome its signed digits state), not attested yet, unreachable,
   * or an attestation that does not verify against the announcement the
   * contract was built on. The failures are logged, not thrown.
   */
  async #gatherAttestations(rec: ContractRecord, announcements: readonly OracleAnnouncement[]): Promise<Gathered[]> {
    const asked = await Promise.allSettled(rec.oracles.map((ref) => {
      const client = this.#svc.oracles.find((c) => c.url === ref.url) ?? new OracleClient(ref.url);
      return client.attestation(ref.eventId);
    }));
    return asked.map((r, i): Gathered => {
      const ref = rec.oracles[i]!;
      if (r.status === 'rejected') {
        this.#svc.log('warn', 'watcher: oracle not answering', { id: rec.id, oracle: ref.url, error: errText(r.reason) });
        return { kind: 'unreachable' };
      }
      if (r.value === null) return { kind: 'pending' };
      const ann = announcements[i]!;
      try {
        verifyAttestation(r.value.attestation, ann, this.#svc.config.hashProfile);
      } catch (err) {
        this.#svc.log('warn', 'watcher: oracle attestation does not verify; left out', { id: rec.id, oracle: ref.url, error: errText(err) });
        return { kind: 'invalid' };
      }
      return { kind: 'attested', attestation: r.value.attestation, outcome: attestedOutcome(r.value.attestation, ann) };
    });
  }

  /** Commits what the oracles said when it changed (no state change); returns the record as stored now. */
  async #recordObserved(rec: Confirmed, observed: readonly OracleOutcome[]): Promise<Confirmed> {
    const before = rec.oracleOutcomes ?? rec.oracles.map(() => ({ outcome: null, agreed: null }));
    if (observed.every((o, i) => o.outcome === before[i]?.outcome)) return rec;
    const next = oraclesObserved(rec, observed, this.#svc.now());
    await this.#commit(rec, next, 'oracle attestations seen', { outcomes: observed.map((o) => o.outcome) });
    return next;
  }

  async #tryRefund(rec: Confirmed, tip: number): Promise<void> {
    // nLockTime L (a height) is final in block L + 1, which the mempool accepts once the tip is L.
    if (rec.refundLocktime < LOCKTIME_THRESHOLD && tip < rec.refundLocktime) return;
    const m = await this.#svc.messagesOf(rec);
    const { closing } = fundingOf({ offer: m.offer, accept: m.accept!, fundingOptions: m.fundingOptions });
    const tx = signedRefund(closing, m.sign!.refundSignature, m.accept!.refundSignature);
    const [verdict] = await this.#svc.chain.testMempoolAccept([tx.toHex()]);
    if (verdict?.allowed !== true) {
      this.#svc.log('info', 'refund not accepted yet', { id: rec.id, reason: verdict?.rejectReason });
      return;
    }
    const next = closingBroadcast(rec, {
      closingKind: 'refund', closingTx: tx.toHex(), closingTxid: tx.getId(),
      payouts: { offer: rec.offerCollateral, accept: rec.acceptCollateral }, outcome: null, cetIndex: null, attestation: null, broadcastBy: 'coordinator',
    }, this.#svc.now());
    await this.#commit(rec, next, 'refund: broadcasting');
    await this.#svc.broadcast(rec.id, 'refund', tx.toHex());
  }

  /** Broadcasts the stored closing transaction; from attested, records the broadcast. */
  async #broadcastClosing(rec: ContractRecord, what: string): Promise<void> {
    if (!('closingTx' in rec) || rec.closingTx === undefined) return;
    try {
      await this.#svc.chain.sendRawTransaction(rec.closingTx);
    } catch (err) {
      if (isChainError(err) && (err.code === 'CHAIN_NON_FINAL' || err.code === 'CHAIN_NON_BIP68_FINAL')) {
        this.#svc.log('info', `${what} not final yet`, { id: rec.id });
        return;
      }
      if (!(isChainError(err) && err.code === 'CHAIN_ALREADY_IN_CHAIN')) {
        this.#svc.log('warn', `${what} broadcast failed`, { id: rec.id, error: errText(err) });
        return;
      }
    }
    if (rec.state === 'attested') {
      const next = closingBroadcast(rec, {
        closingKind: rec.closingKind, closingTx: rec.closingTx, closingTxid: rec.closingTxid, payouts: rec.payouts,
        outcome: rec.outcome, cetIndex: rec.cetIndex, attestation: rec.attestation, broadcastBy: 'coordinator',
      }, this.#svc.now());
      await this.#commit(rec, next, 'CET broadcast', { txid: rec.closingTxid });
    }
  }

  async #driveClosing(rec: Extract<ContractRecord, { state: 'cet-broadcast' | 'refund-broadcast' | 'close-broadcast' }>): Promise<void> {
    const { chain, config } = this.#svc;
    const tx = await orNull(chain.getRawTransaction(rec.closingTxid));
    if (tx === null) {
      await this.#broadcastClosing(rec, rec.closingKind);
      return;
    }
    if (tx.blockhash !== undefined && (tx.confirmations ?? 0) >= config.watcher.confirmations) {
      const header = await chain.getBlockHeader(tx.blockhash);
      await this.#commit(rec, closingConfirmed(rec, { height: header.height, hash: header.hash }, this.#svc.now()), `contract ${rec.closingKind} confirmed`);
    }
  }

  async #watchReorg(rec: Extract<ContractRecord, { state: 'settled' | 'refunded' | 'closed' }>, tip: number): Promise<void> {
    if (tip - rec.closingHeight >= this.#svc.config.watcher.reorgWatchDepth) {
      await this.#svc.store.forgetRecentlyClosed(rec.id);
      return;
    }
    if (!await blockOnActiveChain(this.#svc.chain, rec.closingHeight, rec.closingBlockHash, tip)) await this.#commit(rec, closingReorged(rec, this.#svc.now()), 'closing transaction reorged out');
  }
}
