/**
 * The chain index: for every block from `indexStartHeight` up the node's best
 * chain, its hash, compact target (`bits`: difficulty is derived exactly from
 * it with protocol/hashpower `difficultyFromBits`, never from the RPC float),
 * reward (sum of the coinbase outputs), coinbase outputs by address, and the
 * non-coinbase outputs paying a *watched* address (the delivery address of
 * some event) together with the addresses the paying transaction spends
 * from, so attestation can count payouts from declared pool payout addresses.
 *
 * Best chain and reorgs: each `sync()` first checks that the stored tip is
 * still on the node's active chain (`getblockheader` confirmations >= 0); if
 * not, it walks back comparing stored hashes with `getblockhash` until they
 * agree and rolls every disconnected block back (block record, coinbase
 * outputs, payouts) in one atomic batch. Catch-up fetches `getblockhash`
 * then serialized blocks (`getblock <hash> 0`) in JSON-RPC batches of
 * `rpcBatch` blocks (one HTTP round trip per batch), `concurrency` batches at
 * a time, the next chunk fetched while the current one is written; blocks are
 * parsed here with bitcoinjs-lib (each checked to hash to the hash asked for)
 * and addresses derived from output scripts as Core prints them. Raw blocks
 * rather than `getblock <hash> 2`: the node does no JSON work per
 * transaction and we validate no large JSON, about 3x faster on the regtest
 * node (bench/oracle.ts). `batchBlocks` blocks plus the new tip go in one
 * atomic batch; each block must link to the previous one (a reorg during
 * catch-up stops the pass; the next pass rolls back). Restart resumes from
 * the stored tip.
 *
 * Inputs of a transaction paying a watched address are resolved from the same
 * block or with `getrawtransaction` (the node needs `-txindex`, as the regtest
 * harness and docker-compose run it).
 *
 * Watching a delivery address (`startWatching`) costs no block reads: every
 * block indexed from then on includes its payouts. The already indexed
 * blocks an operator-created past window needs are read by `rescanChunk`,
 * bounded by the window (never up to the tip) and in chunks, so the service
 * can index and attest between chunks; rescanned ranges are stored with the
 * watch record (`covered`) and never read twice.
 *
 * This module does NOT compute outcomes, sign, or serialize access: the
 * service runs `sync()` and each `startWatching()`/`rescanChunk()` one at a
 * time (work-queue.ts).
 */
import { Block, Transaction, address as btcAddress, type Network } from 'bitcoinjs-lib';
import type { BitcoinRpc } from '../src/chain/index.js';
import { isChainError } from '../src/chain/index.js';
import { toHex } from '../protocol/messages/index.js';
import { OracleError } from './errors.js';
import type { BlockRecord, CoinbaseOutputRecord, OracleStore, PayoutRecord, StoreOp, TipRecord, WatchRecord } from './store.js';
import { h10 } from './store.js';

export interface IndexerOptions {
  rpc: BitcoinRpc;
  /** Address encoding of the chain (bitcoinjs network). */
  network: Network;
  store: OracleStore;
  startHeight: number;
  /** JSON-RPC requests in flight while catching up. */
  concurrency: number;
  /** Blocks per JSON-RPC batch request. */
  rpcBatch: number;
  /** Blocks per atomic store batch. */
  batchBlocks: number;
}

/** What one `sync()` did. */
export interface SyncResult {
  tip: TipRecord | undefined;
  /** Blocks rolled back (disconnected by a reorg). */
  rolledBack: number;
  /** Blocks newly indexed. */
  indexed: number;
  /** Lowest height rolled back, when any. */
  reorgFrom?: number;
}


/** A block as fetched: serialized (verbosity 0) and parsed here. */
interface RawBlock {
  height: number;
  hash: string;
  prev: string;
  bits: string;
  time: number;
  txs: Transaction[];
}

function parseBlock(height: number, hash: string, hex: string): RawBlock {
  const block = Block.fromHex(hex);
  const txs = block.transactions ?? [];
  if (block.getId() !== hash) throw new Error(`block at height ${height}: serialized block does not hash to ${hash}`);
  return {
    height,
    hash,
    prev: toHex(Uint8Array.from(block.prevHash!).reverse()),
    bits: block.bits.toString(16).padStart(8, '0'),
    time: block.timestamp,
    txs,
  };
}

/** The address of an output script as Bitcoin Core prints it, or undefined (OP_RETURN, bare keys, non-standard). */
export function scriptAddress(script: Uint8Array, network: Network): string | undefined {
  try {
    return btcAddress.fromOutputScript(script, network);
  } catch {
    // Witness programs bitcoinjs does not decode without an ECC library (v1+): BIP 350 bech32m.
    const n = script.length;
    const op = script[0]!;
    if (n >= 4 && n <= 42 && (op === 0 || (op >= 0x51 && op <= 0x60)) && script[1] === n - 2) {
      return btcAddress.toBech32(script.subarray(2), op === 0 ? 0 : op - 0x50, network.bech32);
    }
    return undefined;
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export class ChainIndexer {
  readonly #rpc: BitcoinRpc;
  readonly #network: Network;
  readonly #store: OracleStore;
  readonly #startHeight: number;
  readonly #concurrency: number;
  readonly #rpcBatch: number;
  readonly #batchBlocks: number;
  /** watched address → height from which its payouts are indexed */
  readonly #watched = new Map<string, number>();
  /** output script hex → watched address */
  readonly #watchedScripts = new Map<string, string>();
  /** watched address → ranges [a, b) below its `since` whose payouts were indexed by a rescan */
  readonly #covered = new Map<string, [number, number][]>();
  #tip: TipRecord | undefined;
  /** The node's best height when it was last asked (a sync may still be catching up to it). */
  #nodeHeight: number | undefined;

  constructor(options: IndexerOptions) {
    this.#rpc = options.rpc;
    this.#network = options.network;
    this.#store = options.store;
    this.#startHeight = options.startHeight;
    this.#concurrency = options.concurrency;
    this.#rpcBatch = options.rpcBatch;
    this.#batchBlocks = options.batchBlocks;
  }

  /** Loads the stored tip and watched addresses. */
  async init(): Promise<void> {
    this.#tip = await this.#store.tip();
    for await (const [address, rec] of this.#store.watch.iterator() as AsyncIterable<[string, WatchRecord]>) {
      this.#watch(address, rec.since);
      if (rec.covered !== undefined) this.#covered.set(address, rec.covered);
    }
  }

  #watch(address: string, since: number): void {
    this.#watched.set(address, since);
    this.#watchedScripts.set(toHex(btcAddress.toOutputScript(address, this.#network)), address);
  }

  /** The last indexed block. */
  get tip(): TipRecord | undefined {
    return this.#tip;
  }

  /**
   * The highest block known to exist: the indexed tip, or the node's best
   * height seen by the last sync when the index is still catching up to it.
   */
  get seenHeight(): number | undefined {
    if (this.#tip === undefined) return this.#nodeHeight;
    return Math.max(this.#tip.height, this.#nodeHeight ?? -1);
  }

  /** Whether payouts to `address` are indexed from `height` on. */
  watchedSince(address: string): number | undefined {
    return this.#watched.get(address);
  }

  /**
   * Brings the index to the node's best chain: rolls back disconnected
   * blocks, then indexes new ones.
   * @throws {ChainError} when the node fails; the index stays consistent.
   */
  async sync(): Promise<SyncResult> {
    const best = await this.#rpc.getBestBlockHash();
    if (this.#tip?.hash === best) return { tip: this.#tip, rolledBack: 0, indexed: 0 };
    const result: SyncResult = { tip: this.#tip, rolledBack: 0, indexed: 0 };
    if (this.#tip !== undefined) {
      const header = await this.#rpc.getBlockHeader(this.#tip.hash).catch((err: unknown) => {
        if (isChainError(err) && err.code === 'CHAIN_NOT_FOUND') return undefined;
        throw err;
      });
      if (header === undefined || header.confirmations < 0) {
        const fork = await this.#findFork();
        result.rolledBack = await this.#rollbackTo(fork);
        result.reorgFrom = fork + 1;
      }
    }
    const nodeHeight = (await this.#rpc.getBlockHeader(best).catch(async (err: unknown) => {
      // The best block may have changed between the two calls.
      if (isChainError(err) && err.code === 'CHAIN_NOT_FOUND') return { height: await this.#rpc.getBlockCount() };
      throw err;
    })).height;
    this.#nodeHeight = nodeHeight;
    result.indexed = await this.#catchUp(nodeHeight);
    result.tip = this.#tip;
    return result;
  }

  /** Highest height whose stored hash is the node's; startHeight - 1 when none. */
  async #findFork(): Promise<number> {
    const nodeHeight = await this.#rpc.getBlockCount();
    let h = Math.min(this.#tip!.height, nodeHeight);
    while (h >= this.#startHeight) {
      const stored = await this.#store.blocks.get(h10(h));
      const nodeHash = await this.#rpc.getBlockHash(h);
      if (stored !== undefined && stored.hash === nodeHash) return h;
      h--;
    }
    return this.#startHeight - 1;
  }

  /** Deletes every indexed block above `height` in one batch; returns how many. */
  async #rollbackTo(height: number): Promise<number> {
    const tip = this.#tip;
    if (tip === undefined || tip.height <= height) return 0;
    const s = this.#store;
    const ops: StoreOp[] = [];
    const entries = await s.range(s.blocks, h10(height + 1), h10(tip.height + 1));
    for (const [key, rec] of entries) {
      const h = Number(key);
      ops.push(s.del(s.blocks, key));
      for (const o of rec.coinbase) ops.push(s.del(s.cbout, `${o.address}!${h10(h)}!${o.vout}`));
      for (const k of rec.payoutKeys) ops.push(s.del(s.payouts, k));
    }
    let newTip: TipRecord | undefined;
    if (height >= this.#startHeight) {
      const rec = await s.blocks.get(h10(height));
      if (rec === undefined) throw new Error(`index corrupt: no block record at ${height}`);
      newTip = { height, hash: rec.hash };
      ops.push(s.put(s.meta, 'tip', newTip));
    } else {
      ops.push(s.del(s.meta, 'tip'));
    }
    await s.write(ops);
    this.#tip = newTip;
    return entries.length;
  }

  /** Blocks `from..to`: JSON-RPC batches of `rpcBatch` blocks, `concurrency` batches in flight. */
  async #fetchRange(from: number, to: number): Promise<RawBlock[]> {
    const batches: number[][] = [];
    for (let h = from; h <= to; h += this.#rpcBatch) {
      batches.push(Array.from({ length: Math.min(this.#rpcBatch, to - h + 1) }, (_, i) => h + i));
    }
    const parts = await mapLimit(batches, this.#concurrency, async (heights) => {
      const hashes = await this.#rpc.getBlockHashes(heights);
      const hexes = await this.#rpc.getBlocksHex(hashes);
      return hexes.map((hex, i) => parseBlock(heights[i]!, hashes[i]!, hex));
    });
    return parts.flat();
  }

  /** Indexes blocks up to `nodeHeight`; returns how many. */
  async #catchUp(nodeHeight: number): Promise<number> {
    let from = this.#tip === undefined ? this.#startHeight : this.#tip.height + 1;
    let indexed = 0;
    const chunkEnd = (f: number): number => Math.min(nodeHeight, f + this.#batchBlocks - 1);
    let pending: Promise<RawBlock[]> | undefined = from <= nodeHeight ? this.#fetchRange(from, chunkEnd(from)) : undefined;
    try {
      while (pending !== undefined) {
        const blocks = await pending;
        const nextFrom = from + blocks.length;
        pending = nextFrom <= nodeHeight ? this.#fetchRange(nextFrom, chunkEnd(nextFrom)) : undefined;
        const done = await this.#indexBlocks(blocks);
        indexed += done;
        if (done < blocks.length) break; // a reorg during catch-up: the next sync rolls back
        from = nextFrom;
      }
    } finally {
      // Never leave a prefetch rejection unhandled.
      pending?.catch(() => undefined);
    }
    return indexed;
  }

  /** Indexes consecutive blocks in one batch; stops at the first that does not link. */
  async #indexBlocks(blocks: RawBlock[]): Promise<number> {
    const s = this.#store;
    const ops: StoreOp[] = [];
    let tip = this.#tip;
    let n = 0;
    for (const block of blocks) {
      if (tip !== undefined && (block.prev !== tip.hash || block.height !== tip.height + 1)) break;
      const { record, payouts } = await this.#blockRecord(block);
      ops.push(s.put(s.blocks, h10(block.height), record));
      for (const o of record.coinbase) ops.push(s.put(s.cbout, `${o.address}!${h10(block.height)}!${o.vout}`, o.value));
      for (const [key, p] of payouts) ops.push(s.put(s.payouts, key, p));
      tip = { height: block.height, hash: block.hash };
      n++;
    }
    if (n === 0) return 0;
    ops.push(s.put(s.meta, 'tip', tip));
    await s.write(ops);
    this.#tip = tip;
    return n;
  }

  async #blockRecord(block: RawBlock): Promise<{ record: BlockRecord; payouts: [string, PayoutRecord][] }> {
    const coinbaseTx = block.txs[0];
    if (coinbaseTx === undefined) throw new Error(`block ${block.hash} has no transactions`);
    let reward = 0n;
    const coinbase: CoinbaseOutputRecord[] = [];
    coinbaseTx.outs.forEach((o, vout) => {
      reward += o.value;
      const address = o.value > 0n ? scriptAddress(o.script, this.#network) : undefined;
      if (address !== undefined) coinbase.push({ vout, value: o.value.toString(), address });
    });
    const payouts = await this.#payoutsOf(block);
    const record: BlockRecord = {
      hash: block.hash,
      prev: block.prev,
      bits: block.bits,
      reward: reward.toString(),
      coinbaseTxid: coinbaseTx.getId(),
      time: block.time,
      coinbase,
      payoutKeys: payouts.map(([k]) => k),
    };
    return { record, payouts };
  }

  /** Non-coinbase outputs of `block` paying watched addresses (or only `onlyAddress`). */
  async #payoutsOf(block: RawBlock, onlyAddress?: string): Promise<[string, PayoutRecord][]> {
    if (onlyAddress === undefined && this.#watchedScripts.size === 0) return [];
    const onlyScript = onlyAddress === undefined ? undefined : toHex(btcAddress.toOutputScript(onlyAddress, this.#network));
    const watched = (script: Uint8Array): string | undefined => {
      const hex = toHex(script);
      if (onlyScript !== undefined) return hex === onlyScript ? onlyAddress : undefined;
      return this.#watchedScripts.get(hex);
    };
    const out: [string, PayoutRecord][] = [];
    let byTxid: Map<string, Transaction> | undefined;
    for (let i = 1; i < block.txs.length; i++) {
      const tx = block.txs[i]!;
      const hits: [number, string, bigint][] = [];
      tx.outs.forEach((o, vout) => {
        const address = o.value > 0n ? watched(o.script) : undefined;
        if (address !== undefined) hits.push([vout, address, o.value]);
      });
      if (hits.length === 0) continue;
      byTxid ??= new Map(block.txs.map((t) => [t.getId(), t]));
      const from = await this.#inputAddresses(tx, byTxid);
      const txid = tx.getId();
      for (const [vout, address, value] of hits) {
        out.push([`${address}!${h10(block.height)}!${txid}!${vout}`, { value: value.toString(), from }]);
      }
    }
    return out;
  }

  /** Distinct addresses of the outputs `tx` spends (those that have one). */
  async #inputAddresses(tx: Transaction, sameBlock: Map<string, Transaction>): Promise<string[]> {
    const from = new Set<string>();
    for (const input of tx.ins) {
      const prevTxid = toHex(Uint8Array.from(input.hash).reverse());
      const local = sameBlock.get(prevTxid);
      let address: string | undefined;
      if (local !== undefined) {
        const o = local.outs[input.index];
        address = o === undefined ? undefined : scriptAddress(o.script, this.#network);
      } else {
        const prev = await this.#rpc.getRawTransaction(prevTxid).catch((err: unknown) => {
          if (isChainError(err) && err.code === 'CHAIN_NOT_FOUND') {
            throw new OracleError('ORACLE_UNAVAILABLE', `the node does not know transaction ${prevTxid}: run it with -txindex`, {
              reason: 'node-txindex',
              cause: err,
            });
          }
          throw err;
        });
        address = prev.vout.find((o) => o.n === input.index)?.scriptPubKey.address;
      }
      if (address !== undefined) from.add(address);
    }
    return [...from].sort();
  }

  /** Height of the next block to index. */
  #indexedEnd(): number {
    return this.#tip === undefined ? this.#startHeight : this.#tip.height + 1;
  }

  /** How many addresses are watched. */
  get watchedCount(): number {
    return this.#watched.size;
  }

  /**
   * Heights of the window `[from, to)` whose payouts to `address` are not
   * indexed yet, as ranges in order: the already indexed blocks of the
   * window, below where live watching began, not covered by an earlier
   * rescan. Blocks above the indexed tip are never missing (they are indexed
   * with the watched address when they come), and nothing after `to` is
   * ever read.
   */
  missingRanges(address: string, from: number, to: number): [number, number][] {
    const lo = Math.max(from, this.#startHeight);
    const hi = Math.min(to, this.#watched.get(address) ?? Infinity, this.#indexedEnd());
    if (lo >= hi) return [];
    return subtractRanges([lo, hi], this.#covered.get(address) ?? []);
  }

  /**
   * Watches `address` in every block indexed from now on (persisted). Reads
   * no block: the already indexed blocks a window needs are read by
   * `rescanChunk`, bounded by the window.
   */
  async startWatching(address: string): Promise<void> {
    if (this.#watched.has(address)) return;
    const since = this.#indexedEnd();
    await this.#store.write([this.#store.put(this.#store.watch, address, { since })]);
    this.#watch(address, since);
  }

  /**
   * Indexes payouts to `address` in the first `maxBlocks` (at most) missing
   * blocks of the window `[from, to)` (see `missingRanges`), and records them
   * covered, in one atomic batch. Call it again until it returns undefined;
   * between calls other work (indexing, attesting) may run.
   * @returns the range read, or undefined when nothing of the window is missing.
   * @throws {ChainError} when the node fails; {TypeError} before `startWatching`.
   */
  async rescanChunk(address: string, from: number, to: number, maxBlocks: number): Promise<[number, number] | undefined> {
    const since = this.#watched.get(address);
    if (since === undefined) throw new TypeError(`rescanChunk: ${address} is not watched`);
    const first = this.missingRanges(address, from, to)[0];
    if (first === undefined) return undefined;
    const range: [number, number] = [first[0], Math.min(first[1], first[0] + Math.max(1, maxBlocks))];
    const s = this.#store;
    const ops: StoreOp[] = [];
    const records = await s.range(s.blocks, h10(range[0]), h10(range[1]));
    // Never record as covered a block that was not read.
    if (records.length !== range[1] - range[0]) {
      throw new OracleError('INTERNAL', `index has ${records.length} of the ${range[1] - range[0]} blocks of [${range[0]}, ${range[1]})`, {
        reason: 'index-incomplete',
      });
    }
    for (let i = 0; i < records.length; i += this.#rpcBatch) {
      const part = records.slice(i, i + this.#rpcBatch);
      const hexes = await this.#rpc.getBlocksHex(part.map(([, rec]) => rec.hash));
      for (let j = 0; j < part.length; j++) {
        const [key, rec] = part[j]!;
        const payouts = await this.#payoutsOf(parseBlock(Number(key), rec.hash, hexes[j]!), address);
        if (payouts.length === 0) continue;
        const keys = new Set(rec.payoutKeys);
        for (const [k, p] of payouts) {
          ops.push(s.put(s.payouts, k, p));
          keys.add(k);
        }
        ops.push(s.put(s.blocks, key, { ...rec, payoutKeys: [...keys] }));
      }
    }
    const covered = addRange(this.#covered.get(address) ?? [], range);
    ops.push(s.put(s.watch, address, { since, covered }));
    await s.write(ops);
    this.#covered.set(address, covered);
    return range;
  }
}

/** The parts of `[lo, hi)` outside every range of `ranges` (sorted, disjoint). */
export function subtractRanges([lo, hi]: [number, number], ranges: readonly [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  let at = lo;
  for (const [a, b] of ranges) {
    if (b <= at) continue;
    if (a >= hi) break;
    if (a > at) out.push([at, a]);
    at = Math.max(at, b);
  }
  if (at < hi) out.push([at, hi]);
  return out;
}

/** `ranges` (sorted, disjoint) with `r` added, touching ranges merged. */
export function addRange(ranges: readonly [number, number][], r: [number, number]): [number, number][] {
  const all = [...ranges, r].sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [a, b] of all) {
    const last = out[out.length - 1];
    if (last !== undefined && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}
