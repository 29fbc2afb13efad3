/**
 * The coordinator's LevelDB store. Layout (sublevels of one database):
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
 * This module does NOT decide transitions (lifecycle.ts does), verify, or
 * serialize writers (the service holds a per-contract lock around
 * read–verify–commit).
 */
import { mkdirSync } from 'node:fs';
import { Level } from 'level';
import { CoordinatorError } from './errors.js';
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

/** A page of an index: records newest first, and the cursor of the next page (or null). */
export interface Page {
  records: ContractRecord[];
  next: string | null;
}

function storageError(what: string, cause: unknown): CoordinatorError {
  return new CoordinatorError('STORAGE_ERROR', `storage: ${what} failed`, { cause });
}

export class ContractStore {
  readonly #db: Level<string, string>;
  readonly #contracts;
  readonly #messages;
  readonly #state;
  readonly #party;
  readonly #cid;
  readonly #recent;
  readonly #meta;
  readonly #inputs;
  readonly #delivery;
  readonly #strip;
  readonly #positions;
  readonly #pstate;
  readonly #pcontract;
  readonly #pmessages;

  private constructor(db: Level<string, string>) {
    this.#db = db;
    this.#contracts = db.sublevel<string, ContractRecord>('contracts', { valueEncoding: 'json' });
    this.#messages = db.sublevel<string, Uint8Array>('messages', { valueEncoding: 'view' });
    this.#state = db.sublevel<string, string>('state', { valueEncoding: 'utf8' });
    this.#party = db.sublevel<string, string>('party', { valueEncoding: 'utf8' });
    this.#cid = db.sublevel<string, string>('cid', { valueEncoding: 'utf8' });
    this.#recent = db.sublevel<string, string>('recent', { valueEncoding: 'utf8' });
    this.#meta = db.sublevel<string, unknown>('meta', { valueEncoding: 'json' });
    this.#inputs = db.sublevel<string, string>('inputs', { valueEncoding: 'utf8' });
    this.#delivery = db.sublevel<string, { start: number; end: number }>('delivery', { valueEncoding: 'json' });
    this.#strip = db.sublevel<string, string>('strip', { valueEncoding: 'utf8' });
    this.#positions = db.sublevel<string, PositionRecord>('positions', { valueEncoding: 'json' });
    this.#pstate = db.sublevel<string, string>('pstate', { valueEncoding: 'utf8' });
    this.#pcontract = db.sublevel<string, string>('pcontract', { valueEncoding: 'utf8' });
    this.#pmessages = db.sublevel<string, Uint8Array>('pmessages', { valueEncoding: 'view' });
  }

  /**
   * Opens (creating if needed) the store in `dir`.
   * @throws {CoordinatorError} STORAGE_ERROR (e.g. the directory is locked by another process).
   */
  static async open(dir: string): Promise<ContractStore> {
    try {
      mkdirSync(dir, { recursive: true });
      const db = new Level<string, string>(dir, { valueEncoding: 'utf8' });
      await db.open();
      return new ContractStore(db);
    } catch (cause) {
      throw storageError(`opening ${dir}`, cause);
    }
  }

  async close(): Promise<void> {
    await this.#db.close();
  }

  /** The raw database, for golden snapshot tests of the stored layout. */
  get db(): Level<string, string> {
    return this.#db;
  }

  /** A record by offer id or dlcspecs contract id. */
  async get(idOrContractId: string): Promise<ContractRecord | undefined> {
    try {
      const rec = await this.#contracts.get(idOrContractId);
      if (rec !== undefined) return rec;
      const id = await this.#cid.get(idOrContractId);
      return id === undefined ? undefined : await this.#contracts.get(id);
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
    const ops: BatchOp[] = [];
    for (const { rec, offer } of entries) ops.push(...await this.#createOps(rec, { offer }));
    await this.#write(ops);
  }

  /** The ops storing a new record with its messages. @throws {CoordinatorError} CONFLICT when the id exists. */
  async #createOps(rec: ContractRecord, messages: Partial<Record<MessageKind, Uint8Array>>): Promise<BatchOp[]> {
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
      { type: 'put', sublevel: this.#contracts, key: rec.id, value: rec },
      ...Object.entries(messages).map(([kind, bytes]) => ({ type: 'put' as const, sublevel: this.#messages, key: `${rec.id}!${kind}`, value: bytes })),
      { type: 'put', sublevel: this.#state, key: stateKey(rec), value: '' },
      ...partiesOf(rec).map((p) => ({ type: 'put' as const, sublevel: this.#party, key: partyKey(p, rec), value: '' })),
      ...(cid === undefined ? [] : [{ type: 'put' as const, sublevel: this.#cid, key: cid, value: rec.id }]),
      ...pendingOutpoints(rec).map((o) => ({ type: 'put' as const, sublevel: this.#inputs, key: o, value: rec.id })),
      ...this.#deliveryOps(undefined, rec),
      ...(strip === undefined ? [] : [{ type: 'put' as const, sublevel: this.#strip, key: strip, value: rec.id }]),
    ];
  }

  // ---------------------------------------------------------------- positions (issue 14)

  /** @throws {CoordinatorError} STORAGE_ERROR. */
  async getPosition(id: string): Promise<PositionRecord | undefined> {
    try {
      return await this.#positions.get(id);
    } catch (cause) {
      throw storageError('read', cause);
    }
  }

  /** Every position of a sold contract, oldest first. @throws {CoordinatorError} STORAGE_ERROR. */
  async positionsOfContract(contractId: string): Promise<PositionRecord[]> {
    const out: PositionRecord[] = [];
    try {
      for await (const key of this.#pcontract.keys({ gte: `${contractId}!`, lt: `${contractId}!\xff` })) {
        const p = await this.#positions.get(key.slice(key.lastIndexOf('!') + 1));
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
      for await (const key of this.#pstate.keys({ gte: prefix, lt, reverse: true, limit: opts.limit })) {
        const p = await this.#positions.get(key.slice(key.lastIndexOf('!') + 1));
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
        for await (const key of this.#pstate.keys({ gte: `${s}!`, lt: `${s}!\xff` })) out.push(key.slice(key.lastIndexOf('!') + 1));
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
      const values = await this.#pmessages.getMany(kinds.map((k) => `${id}!${k}`));
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
    const ops: BatchOp[] = [{ type: 'put', sublevel: this.#positions, key: next.id, value: next }];
    const pkey = (p: PositionRecord): string => `${p.state}!${pad(p.createdAt)}!${p.id}`;
    if (prev === null) ops.push({ type: 'put', sublevel: this.#pcontract, key: `${next.contractId}!${pad(next.createdAt)}!${next.id}`, value: '' });
    if (prev === null || prev.state !== next.state) {
      if (prev !== null) ops.push({ type: 'del', sublevel: this.#pstate, key: pkey(prev) });
      ops.push({ type: 'put', sublevel: this.#pstate, key: pkey(next), value: '' });
    }
    const before = new Set(prev === null ? [] : heldOutpoints(prev));
    const after = new Set(heldOutpoints(next));
    for (const o of before) if (!after.has(o)) ops.push({ type: 'del', sublevel: this.#inputs, key: o });
    for (const o of after) if (!before.has(o)) ops.push({ type: 'put', sublevel: this.#inputs, key: o, value: `position:${next.id}` });
    for (const [kind, bytes] of Object.entries(change.messages ?? {})) ops.push({ type: 'put', sublevel: this.#pmessages, key: `${next.id}!${kind}`, value: bytes });
    if (prev?.state === 'taken' && next.state !== 'taken') {
      for (const kind of ['offer', 'accept', 'sign']) ops.push({ type: 'del', sublevel: this.#pmessages, key: `${next.id}!${kind}` });
    }
    for (const c of change.create ?? []) ops.push(...await this.#createOps(c.rec, c.messages));
    for (const c of change.commit ?? []) ops.push(...this.#commitOps(c.prev, c.next, {}));
    await this.#write(ops);
  }

  /**
   * The ids of a strip's period records in period order (`stripId` is period 1's id).
   * @throws {CoordinatorError} STORAGE_ERROR.
   */
  async stripPeriods(stripId: string): Promise<string[]> {
    const out: string[] = [];
    try {
      for await (const id of this.#strip.values({ gte: `${stripId}!`, lt: `${stripId}!\xff` })) out.push(id);
    } catch (cause) {
      throw storageError('read', cause);
    }
    return out;
  }

  #deliveryOps(prev: ContractRecord | undefined, next: ContractRecord): BatchOp[] {
    const before = prev === undefined ? undefined : deliveryKey(prev);
    const after = deliveryKey(next);
    if (before === after) return [];
    const ops: BatchOp[] = [];
    if (before !== undefined) ops.push({ type: 'del', sublevel: this.#delivery, key: before });
    if (after !== undefined && next.terms.template === 'hashpower-sale') ops.push({ type: 'put', sublevel: this.#delivery, key: after, value: next.terms.window });
    return ops;
  }

  /**
   * The live hashpower sales (not settled, refunded, closed, cancelled, failed or expired) measuring `address`, with their windows.
   * @throws {CoordinatorError} STORAGE_ERROR.
   */
  async liveSalesOf(address: string): Promise<{ id: string; window: { start: number; end: number } }[]> {
    const out: { id: string; window: { start: number; end: number } }[] = [];
    try {
      for await (const [key, window] of this.#delivery.iterator({ gte: `${address}!`, lt: `${address}!\xff` })) {
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
      return await this.#inputs.get(outpoint);
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
    await this.#write(this.#commitOps(prev, next, messages));
  }

  /**
   * `commit` of several records (a strip's periods) in ONE batch: every transition or none.
   * @throws {CoordinatorError} STORAGE_ERROR.
   */
  async commitMany(changes: readonly { prev: ContractRecord; next: ContractRecord; messages?: Partial<Record<MessageKind, Uint8Array>> }[]): Promise<void> {
    await this.#write(changes.flatMap((c) => this.#commitOps(c.prev, c.next, c.messages ?? {})));
  }

  #commitOps(prev: ContractRecord, next: ContractRecord, messages: Partial<Record<MessageKind, Uint8Array>>): BatchOp[] {
    if (prev.id !== next.id) throw new TypeError('commit: ids differ');
    const ops: BatchOp[] = [{ type: 'put', sublevel: this.#contracts, key: next.id, value: next }];
    if (prev.state !== next.state) {
      ops.push({ type: 'del', sublevel: this.#state, key: stateKey(prev) });
      ops.push({ type: 'put', sublevel: this.#state, key: stateKey(next), value: '' });
      if (CLOSED.has(next.state)) ops.push({ type: 'put', sublevel: this.#recent, key: next.id, value: '' });
      else if (CLOSED.has(prev.state)) ops.push({ type: 'del', sublevel: this.#recent, key: next.id });
    }
    const before = new Set(partiesOf(prev));
    const after = new Set(partiesOf(next));
    for (const p of after) if (!before.has(p)) ops.push({ type: 'put', sublevel: this.#party, key: partyKey(p, next), value: '' });
    // An accept dropped (the offer back on the book): its party entry, contract id and messages go with it.
    for (const p of before) if (!after.has(p)) ops.push({ type: 'del', sublevel: this.#party, key: partyKey(p, prev) });
    const prevCid = 'contractId' in prev ? prev.contractId : undefined;
    const nextCid = 'contractId' in next ? next.contractId : undefined;
    if (nextCid !== undefined && nextCid !== prevCid) ops.push({ type: 'put', sublevel: this.#cid, key: nextCid, value: next.id });
    if (prevCid !== undefined && nextCid === undefined) {
      ops.push({ type: 'del', sublevel: this.#cid, key: prevCid });
      for (const kind of ['accept', 'sign'] as const) ops.push({ type: 'del', sublevel: this.#messages, key: `${next.id}!${kind}` });
    }
    const heldBefore = new Set(pendingOutpoints(prev));
    const heldAfter = new Set(pendingOutpoints(next));
    for (const o of heldBefore) if (!heldAfter.has(o)) ops.push({ type: 'del', sublevel: this.#inputs, key: o });
    for (const o of heldAfter) if (!heldBefore.has(o)) ops.push({ type: 'put', sublevel: this.#inputs, key: o, value: next.id });
    ops.push(...this.#deliveryOps(prev, next));
    for (const [kind, bytes] of Object.entries(messages)) {
      ops.push({ type: 'put', sublevel: this.#messages, key: `${next.id}!${kind}`, value: bytes });
    }
    return ops;
  }

  async #write(ops: BatchOp[]): Promise<void> {
    try {
      await this.#db.batch(ops as never);
    } catch (cause) {
      throw storageError('batch write', cause);
    }
  }

  /** The stored wire bytes of a contract's messages (undefined where not yet received). */
  async messages(id: string): Promise<Partial<Record<MessageKind, Uint8Array>>> {
    const kinds: MessageKind[] = ['offer', 'accept', 'sign'];
    try {
      const values = await this.#messages.getMany(kinds.map((k) => `${id}!${k}`));
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
      const index = which === 'state' ? this.#state : this.#party;
      const keys = index.keys({ gte: prefix, lt, reverse: true });
      const CHUNK = 64;
      let batch: string[] = [];
      const flush = async (): Promise<boolean> => {
        const recs = await this.#contracts.getMany(batch.map((k) => k.slice(k.lastIndexOf('!') + 1)));
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
      for await (const key of keys) {
        batch.push(key);
        if (batch.length >= Math.min(CHUNK, opts.limit) && (full = await flush())) break;
      }
      await keys.close();
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
        for await (const key of this.#state.keys({ gte: `${s}!`, lt: `${s}!\xff` })) out.push(key.slice(key.lastIndexOf('!') + 1));
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
      for await (const key of this.#recent.keys()) out.push(key);
    } catch (cause) {
      throw storageError('list', cause);
    }
    return out;
  }

  /** Stops watching a closed contract for reorgs (its closing transaction is deep enough). */
  async forgetRecentlyClosed(id: string): Promise<void> {
    await this.#write([{ type: 'del', sublevel: this.#recent, key: id }]);
  }

  async getMeta<T>(name: string): Promise<T | undefined> {
    return (await this.#meta.get(name)) as T | undefined;
  }

  async putMeta(name: string, value: unknown): Promise<void> {
    await this.#write([{ type: 'put', sublevel: this.#meta, key: name, value }]);
  }
}

type BatchOp =
  | { type: 'put'; sublevel: unknown; key: string; value: unknown }
  | { type: 'del'; sublevel: unknown; key: string };
