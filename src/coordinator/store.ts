/**
 * The coordinator's store, over the storage port (storage/kv.ts: LevelDB by
 * default, PostgreSQL for replicas, issue 13). Layout (parts: LevelDB sublevels
 * of one database, PostgreSQL tables of the schema `coordinator`):
 *
 *   contracts  id → ContractRecord (JSON)                  one record per contract
 *   messages   `${id}!offer|accept|sign` → wire bytes       written once each
 *   state      `${state}!${createdAt:15}!${id}` → ''        index per state
 *   party      `${identityKey}!${createdAt:15}!${id}` → ''  index per party
 *   cid        contract_id → id                             dlcspecs id lookup
 *   recent     id → ''                                      settled/refunded/closed, still
 *                                                           watched for a reorg (the watcher
 *                                                           removes it past the reorg depth)
 *   meta       name → JSON                                  the watcher's block cursor
 *   inputs     `txid:vout` → id                             funding inputs of pending
 *                                                           (offered/accepted/signed)
 *                                                           contracts: one outpoint backs
 *                                                           one pending offer/accept (v2)
 *   delivery   `${deliveryAddress}!${id}` → window JSON       hashpower sales not yet ended:
 *                                                           one address, one live window (v2)
 *   strip      `${stripId}!${index:3}` → id                 a strip's period records in period
 *                                                           order (issue 12; the strip id is
 *                                                           period 1's id, index 0-based)
 *   positions  id → PositionRecord (JSON)                  issue 14: listings and transfers
 *   pstate     `${state}!${createdAt:15}!${id}` → ''        index of positions per state
 *   pcontract  `${contractId}!${createdAt:15}!${id}` → ''   positions of a sold contract
 *   pmessages  `${id}!offer|accept|sign` → wire bytes       the new contract's messages while
 *                                                           the position is taken
 *   (a taken position's taker inputs are held in `inputs` as `txid:vout` → `position:<id>`)
 *
 * Every state change (`create`, `commit`, and for a strip's N periods
 * `createMany`, `commitMany`; a position's `commitPosition`, whose transfer
 * broadcast also creates the new contract and links the old one) is ONE atomic batch: the records, their index
 * entries and any new message bytes, so a crash leaves either the old state
 * or the new one, never a mix. Lists read index ranges (never a scan of all
 * contracts).
 *
 * Every transition is CONDITIONAL: its batch writes only if the stored
 * record is still the one the caller read and verified (`commit`'s `prev`,
 * `commitPosition`'s `prev`), and a create only if the id is free; otherwise
 * nothing is written (CONFLICT `concurrent-update`), so two replicas can never
 * both move one record.
 *
 * This module does NOT decide transitions (lifecycle.ts does), verify, or
 * serialize writers (the service holds a per-contract lock, from the backend,
 * around read–verify–commit).
 */
import { CoordinatorError } from './errors.js';
import { openBackend, type KvBackend, type KvCondition, type KvOp } from './storage/index.js';
import type { KvDumpEntry } from './storage/kv.js';
import { TERMINAL_STATES, type ContractRecord, type ContractState } from './lifecycle.js';
import { heldOutpoints, type PositionRecord } from './position-state.js';
import type { PositionState } from '../api/coordinator.js';

export type MessageKind = 'offer' | 'accept' | 'sign';

const pad = (n: number): string => String(n).padStart(15, '0');
const CLOSED: ReadonlySet<ContractState> = new Set(['settled', 'refunded', 'closed']);
const PENDING: ReadonlySet<ContractState> = new Set(['offered', 'accepted', 'signed']);

/** The delivery-index key of a live hashpower sale (issue 9, hole 7), or undefined. */
function deliveryKey(rec: ContractRecord): string | undefined {
  if (rec.terms.template !== 'hashpower-sale' || TERMINAL_STATES.has(rec.state)) return undefined;
  return `${rec.terms.deliveryAddress}!${rec.id}`;
}

/** The funding outpoints a record holds while it is pending (issue 9, hole 8): the offer's, and the accept's once accepted. */
export function pendingOutpoints(rec: ContractRecord): string[] {
  if (!PENDING.has(rec.state)) return [];
  const accept = 'acceptOutpoints' in rec ? (rec.acceptOutpoints ?? []) : [];
  return [...(rec.offerOutpoints ?? []), ...accept];
}

/** The strip-index key of a strip's period record, or undefined for a single contract. */
function stripKey(rec: ContractRecord): string | undefined {
  return rec.strip === undefined ? undefined : `${rec.strip.id}!${String(rec.strip.batch.index).padStart(3, '0')}`;
}

function stateKey(rec: Pick<ContractRecord, 'state' | 'createdAt' | 'id'>): string {
  return `${rec.state}!${pad(rec.createdAt)}!${rec.id}`;
}

function partyKey(identity: string, rec: Pick<ContractRecord, 'createdAt' | 'id'>): string {
  return `${identity}!${pad(rec.createdAt)}!${rec.id}`;
}

function partiesOf(rec: ContractRecord): string[] {
  const out = [rec.offerer.identityPubkey];
  if ('accepter' in rec && rec.accepter !== undefined) out.push(rec.accepter.identityPubkey);
  return out;
}

/** Wraps a failure as STORAGE_ERROR; the backend's own errors (STORAGE_UNAVAILABLE, CONFLICT) pass as they are. */
function storageError(what: string, cause: unknown): CoordinatorError {
  if (cause instanceof CoordinatorError) return cause;
  return new CoordinatorError('STORAGE_ERROR', `storage: ${what} failed`, { cause });
}

/**
 * The condition of a transition: the stored record is still exactly the one
 * the writer read (another request or replica may have moved it meanwhile).
 */
function unchanged(part: 'contracts' | 'positions', prev: { id: string }): KvCondition {
  return { part, key: prev.id, json: JSON.stringify(prev) };
}

/** The condition of a creation: no record with this id exists. */
function created(part: 'contracts' | 'positions', id: string): KvCondition {
  return { part, key: id, json: null };
}

/** A page of an index: records newest first, and the cursor of the next page (or null). */
export interface Page {
  records: ContractRecord[];
  next: string | null;
}

export class ContractStore {
  readonly #kv: KvBackend;

  constructor(kv: KvBackend) {
    this.#kv = kv;
  }

  /**
   * Opens (creating if needed) the store: LevelDB in `dir`, or PostgreSQL at `databaseUrl` (issue 13).
   * @throws {CoordinatorError} STORAGE_ERROR (e.g. the directory is locked by another process, the database is newer than this code); STORAGE_UNAVAILABLE.
   */
  static async open(dir: string, databaseUrl?: string): Promise<ContractStore> {
    return new ContractStore(await openBackend({ dataDir: dir, databaseUrl }));
  }

  async close(): Promise<void> {
    await this.#kv.close();
  }

  /** The storage backend (its kind, locks, leadership and shared replay set). */
  get backend(): KvBackend {
    return this.#kv;
  }

  /** Every stored entry in LevelDB's key form, for golden snapshot tests of the stored layout. */
  dump(): Promise<KvDumpEntry[]> {
    return this.#kv.dump();
  }

  /** A record by offer id or dlcspecs contract id. */
  async get(idOrContractId: string): Promise<ContractRecord | undefined> {
    try {
      const rec = await this.#kv.get<ContractRecord>('contracts', idOrContractId);
      if (rec !== undefined) return rec;
      const id = await this.#kv.get<string>('cid', idOrContractId);
      return id === undefined ? undefined : await this.#kv.get<ContractRecord>('contracts', id);
    } catch (cause) {
      throw storageError('read', cause);
    }
  }

  /**
   * Stores a new contract (an offer) with its offer_dlc bytes.
   * @throws {CoordinatorError} CONFLICT when the id exists; STORAGE_ERROR.
   */
  async create(rec: ContractRecord, offer: Uint8Array): Promise<void> {
    await this.createMany([{ rec, offer }]);
  }

  /**
   * Stores new contracts (a strip's period offers) with their offer_dlc bytes, in ONE batch:
   * all of them or none.
   * @throws {CoordinatorError} CONFLICT when an id exists; STORAGE_ERROR.
   */
  async createMany(entries: readonly { rec: ContractRecord; offer: Uint8Array }[]): Promise<void> {
    const ops: KvOp[] = [];
    for (const { rec, offer } of entries) ops.push(...await this.#createOps(rec, { offer }));
    await this.#write(ops, entries.map(({ rec }) => created('contracts', rec.id)));
  }

  /** The ops storing a new record with its messages. @throws {CoordinatorError} CONFLICT when the id exists. */
  async #createOps(rec: ContractRecord, messages: Partial<Record<MessageKind, Uint8Array>>): Promise<KvOp[]> {
    if ((await this.get(rec.id)) !== undefined) {
      throw new CoordinatorError('CONFLICT', `an offer with id ${rec.id} exists`, { reason: 'duplicate-offer-id' });
    }
    const strip = stripKey(rec);
    const cid = 'contractId' in rec ? rec.contractId : undefined;
    // A created record's contract id (a transfer's new contract) must not re-point another contract's index entry.
    if (cid !== undefined && (await this.get(cid)) !== undefined) {
      throw new CoordinatorError('CONFLICT', `a contract with contract id ${cid} exists`, { reason: 'contract-id-in-use' });
    }
    return [
      { type: 'put', part: 'contracts' as const, key: rec.id, value: rec },
      ...Object.entries(messages).map(([kind, bytes]) => ({ type: 'put' as const, part: 'messages' as const, key: `${rec.id}!${kind}`, value: bytes })),
      { type: 'put', part: 'state' as const, key: stateKey(rec), value: '' },
      ...partiesOf(rec).map((p) => ({ type: 'put' as const, part: 'party' as const, key: partyKey(p, rec), value: '' })),
      ...(cid === undefined ? [] : [{ type: 'put' as const, part: 'cid' as const, key: cid, value: rec.id }]),
      ...pendingOutpoints(rec).map((o) => ({ type: 'put' as const, part: 'inputs' as const, key: o, value: rec.id })),
      ...this.#deliveryOps(undefined, rec),
      ...(strip === undefined ? [] : [{ type: 'put' as const, part: 'strip' as const, key: strip, value: rec.id }]),
    ];
  }

  // ---------------------------------------------------------------- positions (issue 14)

  /** @throws {CoordinatorError} STORAGE_ERROR. */
  async getPosition(id: string): Promise<PositionRecord | undefined> {
    try {
      return await this.#kv.get<PositionRecord>('positions', id);
    } catch (cause) {
      throw storageError('read', cause);
    }
  }

  /** Every position of a sold contract, oldest first. @throws {CoordinatorError} STORAGE_ERROR. */
  async positionsOfContract(contractId: string): Promise<PositionRecord[]> {
    const out: PositionRecord[] = [];
    try {
      for await (const key of this.#kv.keys('pcontract', { gte: `${contractId}!`, lt: `${contractId}!\xff` })) {
        const p = await this.#kv.get<PositionRecord>('positions', key.slice(key.lastIndexOf('!') + 1));
        if (p !== undefined) out.push(p);
      }
    } catch (cause) {
      throw storageError('read', cause);
    }
    return out;
  }

  /** Positions in `state`, newest first, after the cursor `after`. @throws {CoordinatorError} STORAGE_ERROR. */
  async listPositions(state: PositionState, opts: { limit: number; after?: string | undefined }): Promise<{ positions: PositionRecord[]; next: string | null }> {
    const prefix = `${state}!`;
    const lt = opts.after !== undefined && opts.after.startsWith(prefix) ? opts.after : `${prefix}\xff`;
    const positions: PositionRecord[] = [];
    let last: string | null = null;
    try {
      for await (const key of this.#kv.keys('pstate', { gte: prefix, lt, reverse: true, limit: opts.limit })) {
        const p = await this.#kv.get<PositionRecord>('positions', key.slice(key.lastIndexOf('!') + 1));
        last = key;
        if (p !== undefined) positions.push(p);
      }
    } catch (cause) {
      throw storageError('list', cause);
    }
    return { positions, next: positions.length >= opts.limit ? last : null };
  }

  /** Ids of every position in the given states (the watcher's work list). @throws {CoordinatorError} STORAGE_ERROR. */
  async positionIdsInStates(states: readonly PositionState[]): Promise<string[]> {
    const out: string[] = [];
    try {
      for (const s of states) {
        for await (const key of this.#kv.keys('pstate', { gte: `${s}!`, lt: `${s}!\xff` })) out.push(key.slice(key.lastIndexOf('!') + 1));
      }
    } catch (cause) {
      throw storageError('list', cause);
    }
    return out;
  }

  /** The new contract's stored messages of a position (while taken). @throws {CoordinatorError} STORAGE_ERROR. */
  async positionMessages(id: string): Promise<Partial<Record<MessageKind, Uint8Array>>> {
    const kinds: MessageKind[] = ['offer', 'accept', 'sign'];
    try {
      const values = await this.#kv.getMany<Uint8Array>('pmessages', kinds.map((k) => `${id}!${k}`));
      const out: Partial<Record<MessageKind, Uint8Array>> = {};
      kinds.forEach((k, i) => { if (values[i] !== undefined) out[k] = values[i]; });
      return out;
    } catch (cause) {
      throw storageError('read messages', cause);
    }
  }

  /**
   * A position's change in ONE batch: the position (created when `prev` is
   * null), its indexes, the taker outpoints it holds or frees, the new
   * contract's messages, and the contract records the change creates
   * (`create`: the transfer's new contract, with its messages) or moves
   * (`commit`: the old contract's transfer link or state), all or nothing.
   * The position's messages are dropped when it leaves `taken` (moved into the
   * new contract's at broadcast).
   * @throws {CoordinatorError} CONFLICT (`duplicate-offer-id`) when a created record id exists, (`contract-id-in-use`) when its contract id is another record's; STORAGE_ERROR.
   */
  async commitPosition(change: {
    prev: PositionRecord | null;
    next: PositionRecord;
    messages?: Partial<Record<MessageKind, Uint8Array>>;
    create?: readonly { rec: ContractRecord; messages: Partial<Record<MessageKind, Uint8Array>> }[];
    commit?: readonly { prev: ContractRecord; next: ContractRecord }[];
  }): Promise<void> {
    const { prev, next } = change;
    if (prev !== null && prev.id !== next.id) throw new TypeError('commitPosition: ids differ');
    const ops: KvOp[] = [{ type: 'put', part: 'positions' as const, key: next.id, value: next }];
    const pkey = (p: PositionRecord): string => `${p.state}!${pad(p.createdAt)}!${p.id}`;
    if (prev === null) ops.push({ type: 'put', part: 'pcontract' as const, key: `${next.contractId}!${pad(next.createdAt)}!${next.id}`, value: '' });
    if (prev === null || prev.state !== next.state) {
      if (prev !== null) ops.push({ type: 'del', part: 'pstate' as const, key: pkey(prev) });
      ops.push({ type: 'put', part: 'pstate' as const, key: pkey(next), value: '' });
    }
    const before = new Set(prev === null ? [] : heldOutpoints(prev));
    const after = new Set(heldOutpoints(next));
    for (const o of before) if (!after.has(o)) ops.push({ type: 'del', part: 'inputs' as const, key: o });
    for (const o of after) if (!before.has(o)) ops.push({ type: 'put', part: 'inputs' as const, key: o, value: `position:${next.id}` });
    for (const [kind, bytes] of Object.entries(change.messages ?? {})) ops.push({ type: 'put', part: 'pmessages' as const, key: `${next.id}!${kind}`, value: bytes });
    if (prev?.state === 'taken' && next.state !== 'taken') {
      for (const kind of ['offer', 'accept', 'sign']) ops.push({ type: 'del', part: 'pmessages' as const, key: `${next.id}!${kind}` });
    }
    for (const c of change.create ?? []) ops.push(...await this.#createOps(c.rec, c.messages));
    for (const c of change.commit ?? []) ops.push(...this.#commitOps(c.prev, c.next, {}));
    await this.#write(ops, [
      prev === null ? created('positions', next.id) : unchanged('positions', prev),
      ...(change.create ?? []).map((c) => created('contracts', c.rec.id)),
      ...(change.commit ?? []).map((c) => unchanged('contracts', c.prev)),
    ]);
  }

  /**
   * The ids of a strip's period records in period order (`stripId` is period 1's id).
   * @throws {CoordinatorError} STORAGE_ERROR.
   */
  async stripPeriods(stripId: string): Promise<string[]> {
    const out: string[] = [];
    try {
      for await (const [, id] of this.#kv.entries<string>('strip', { gte: `${stripId}!`, lt: `${stripId}!\xff` })) out.push(id);
    } catch (cause) {
      throw storageError('read', cause);
    }
    return out;
  }

  #deliveryOps(prev: ContractRecord | undefined, next: ContractRecord): KvOp[] {
    const before = prev === undefined ? undefined : deliveryKey(prev);
    const after = deliveryKey(next);
    if (before === after) return [];
    const ops: KvOp[] = [];
    if (before !== undefined) ops.push({ type: 'del', part: 'delivery' as const, key: before });
    if (after !== undefined && next.terms.template === 'hashpower-sale') ops.push({ type: 'put', part: 'delivery' as const, key: after, value: next.terms.window });
    return ops;
  }

  /**
   * The live hashpower sales (not settled, refunded, closed, cancelled, failed or expired) measuring `address`, with their windows.
   * @throws {CoordinatorError} STORAGE_ERROR.
   */
  async liveSalesOf(address: string): Promise<{ id: string; window: { start: number; end: number } }[]> {
    const out: { id: string; window: { start: number; end: number } }[] = [];
    try {
      for await (const [key, window] of this.#kv.entries<{ start: number; end: number }>('delivery', { gte: `${address}!`, lt: `${address}!\xff` })) {
        out.push({ id: key.slice(key.lastIndexOf('!') + 1), window });
      }
    } catch (cause) {
      throw storageError('read', cause);
    }
    return out;
  }

  /**
   * The id of the pending contract whose funding inputs include `outpoint` (`txid:vout`), if any.
   * @throws {CoordinatorError} STORAGE_ERROR.
   */
  async outpointOwner(outpoint: string): Promise<string | undefined> {
    try {
      return await this.#kv.get<string>('inputs', outpoint);
    } catch (cause) {
      throw storageError('read', cause);
    }
  }

  /**
   * Replaces `prev` by `next` (same id) in one batch: the record, the state
   * index (moved when the state changed), the party and contract-id indexes
   * (added when first known) and any new message bytes.
   * @throws {CoordinatorError} STORAGE_ERROR.
   */
  async commit(prev: ContractRecord, next: ContractRecord, messages: Partial<Record<MessageKind, Uint8Array>> = {}): Promise<void> {
    await this.#write(this.#commitOps(prev, next, messages), [unchanged('contracts', prev)]);
  }

  /**
   * `commit` of several records (a strip's periods) in ONE batch: every transition or none.
   * @throws {CoordinatorError} STORAGE_ERROR.
   */
  async commitMany(changes: readonly { prev: ContractRecord; next: ContractRecord; messages?: Partial<Record<MessageKind, Uint8Array>> }[]): Promise<void> {
    await this.#write(changes.flatMap((c) => this.#commitOps(c.prev, c.next, c.messages ?? {})), changes.map((c) => unchanged('contracts', c.prev)));
  }

  #commitOps(prev: ContractRecord, next: ContractRecord, messages: Partial<Record<MessageKind, Uint8Array>>): KvOp[] {
    if (prev.id !== next.id) throw new TypeError('commit: ids differ');
    const ops: KvOp[] = [{ type: 'put', part: 'contracts' as const, key: next.id, value: next }];
    if (prev.state !== next.state) {
      ops.push({ type: 'del', part: 'state' as const, key: stateKey(prev) });
      ops.push({ type: 'put', part: 'state' as const, key: stateKey(next), value: '' });
      if (CLOSED.has(next.state)) ops.push({ type: 'put', part: 'recent' as const, key: next.id, value: '' });
      else if (CLOSED.has(prev.state)) ops.push({ type: 'del', part: 'recent' as const, key: next.id });
    }
    const before = new Set(partiesOf(prev));
    const after = new Set(partiesOf(next));
    for (const p of after) if (!before.has(p)) ops.push({ type: 'put', part: 'party' as const, key: partyKey(p, next), value: '' });
    // An accept dropped (the offer back on the book): its party entry, contract id and messages go with it.
    for (const p of before) if (!after.has(p)) ops.push({ type: 'del', part: 'party' as const, key: partyKey(p, prev) });
    const prevCid = 'contractId' in prev ? prev.contractId : undefined;
    const nextCid = 'contractId' in next ? next.contractId : undefined;
    if (nextCid !== undefined && nextCid !== prevCid) ops.push({ type: 'put', part: 'cid' as const, key: nextCid, value: next.id });
    if (prevCid !== undefined && nextCid === undefined) {
      ops.push({ type: 'del', part: 'cid' as const, key: prevCid });
      for (const kind of ['accept', 'sign'] as const) ops.push({ type: 'del', part: 'messages' as const, key: `${next.id}!${kind}` });
    }
    const heldBefore = new Set(pendingOutpoints(prev));
    const heldAfter = new Set(pendingOutpoints(next));
    for (const o of heldBefore) if (!heldAfter.has(o)) ops.push({ type: 'del', part: 'inputs' as const, key: o });
    for (const o of heldAfter) if (!heldBefore.has(o)) ops.push({ type: 'put', part: 'inputs' as const, key: o, value: next.id });
    ops.push(...this.#deliveryOps(prev, next));
    for (const [kind, bytes] of Object.entries(messages)) {
      ops.push({ type: 'put', part: 'messages' as const, key: `${next.id}!${kind}`, value: bytes });
    }
    return ops;
  }

  async #write(ops: KvOp[], conditions: KvCondition[] = []): Promise<void> {
    await this.#kv.write(ops, conditions);
  }

  /** The stored wire bytes of a contract's messages (undefined where not yet received). */
  async messages(id: string): Promise<Partial<Record<MessageKind, Uint8Array>>> {
    const kinds: MessageKind[] = ['offer', 'accept', 'sign'];
    try {
      const values = await this.#kv.getMany<Uint8Array>('messages', kinds.map((k) => `${id}!${k}`));
      const out: Partial<Record<MessageKind, Uint8Array>> = {};
      kinds.forEach((k, i) => { if (values[i] !== undefined) out[k] = values[i]; });
      return out;
    } catch (cause) {
      throw storageError('read messages', cause);
    }
  }

  /**
   * Records in `state`, newest first, starting after the cursor `after`
   * (a `next` of a previous page), optionally filtered, up to `limit`.
   * Reads the index range of that state only; the filter runs on the
   * records read, so a selective filter reads further into the range.
   */
  async listByState(state: ContractState, opts: { limit: number; after?: string | undefined; filter?: (r: ContractRecord) => boolean }): Promise<Page> {
    return this.#page('state', `${state}!`, opts);
  }

  /** A party's contracts (as offerer or accepter), newest first. */
  async listByParty(identity: string, opts: { limit: number; after?: string | undefined; filter?: (r: ContractRecord) => boolean }): Promise<Page> {
    return this.#page('party', `${identity}!`, opts);
  }

  async #page(
    which: 'state' | 'party',
    prefix: string,
    opts: { limit: number; after?: string | undefined; filter?: (r: ContractRecord) => boolean },
  ): Promise<Page> {
    const records: ContractRecord[] = [];
    const lt = opts.after !== undefined && opts.after.startsWith(prefix) ? opts.after : `${prefix}\xff`;
    let last: string | null = null;
    try {
      const keys = this.#kv.keys(which, { gte: prefix, lt, reverse: true })[Symbol.asyncIterator]();
      const CHUNK = 64;
      let batch: string[] = [];
      const flush = async (): Promise<boolean> => {
        const recs = await this.#kv.getMany<ContractRecord>('contracts', batch.map((k) => k.slice(k.lastIndexOf('!') + 1)));
        for (let i = 0; i < recs.length; i++) {
          const r = recs[i];
          last = batch[i]!;
          if (r === undefined || (opts.filter !== undefined && !opts.filter(r))) continue;
          records.push(r);
          if (records.length >= opts.limit) return true;
        }
        batch = [];
        return false;
      };
      let full = false;
      for (let r = await keys.next(); r.done !== true; r = await keys.next()) {
        batch.push(r.value);
        if (batch.length >= Math.min(CHUNK, opts.limit) && (full = await flush())) break;
      }
      await keys.return?.();
      if (!full && batch.length > 0) full = await flush();
      return { records, next: full ? last : null };
    } catch (cause) {
      throw storageError('list', cause);
    }
  }

  /** Ids of every contract in the given states (the watcher's work list). */
  async idsInStates(states: readonly ContractState[]): Promise<string[]> {
    const out: string[] = [];
    try {
      for (const s of states) {
        for await (const key of this.#kv.keys('state', { gte: `${s}!`, lt: `${s}!\xff` })) out.push(key.slice(key.lastIndexOf('!') + 1));
      }
    } catch (cause) {
      throw storageError('list', cause);
    }
    return out;
  }

  /** Ids of recently settled/refunded/closed contracts (still watched for reorgs). */
  async recentlyClosed(): Promise<string[]> {
    const out: string[] = [];
    try {
      for await (const key of this.#kv.keys('recent', { gte: '', lt: '\xff' })) out.push(key);
    } catch (cause) {
      throw storageError('list', cause);
    }
    return out;
  }

  /** Stops watching a closed contract for reorgs (its closing transaction is deep enough). */
  async forgetRecentlyClosed(id: string): Promise<void> {
    await this.#write([{ type: 'del', part: 'recent' as const, key: id }]);
  }

  async getMeta<T>(name: string): Promise<T | undefined> {
    return (await this.#kv.get<unknown>('meta', name)) as T | undefined;
  }

  async putMeta(name: string, value: unknown): Promise<void> {
    await this.#write([{ type: 'put', part: 'meta' as const, key: name, value }]);
  }
}
