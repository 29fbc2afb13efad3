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
 * outputs, payouts) in one atomic batch. Catch-up fetches blocks with
 * `getblock <hash> 2` (`getBlockWithTxs`), `concurrency` requests at a time,
 * the next chunk fetched while the current one is written, `batchBlocks`
 * blocks plus the new tip per atomic batch, and checks each block links to
 * the previous one (a reorg during catch-up stops the pass; the next pass
 * rolls back). Restart resumes from the stored tip.
 *
 * Inputs of a transaction paying a watched address are resolved from the same
 * block or with `getrawtransaction` (the node needs `-txindex`, as the regtest
 * harness and docker-compose run it).
 *
 * This module does NOT compute outcomes, sign, or serialize access: the
 * service runs `sync()` and `watchAddress()` one at a time.
 */
import type { BitcoinRpc, BlockWithTxs, VerboseTx } from '../src/chain/index.js';
import { isChainError } from '../src/chain/index.js';
import type { BlockRecord, CoinbaseOutputRecord, OracleStore, PayoutRecord, StoreOp, TipRecord } from './store.js';
import { h10 } from './store.js';

export interface IndexerOptions {
  rpc: BitcoinRpc;
  store: OracleStore;
  startHeight: number;
  concurrency: number;
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
  readonly #store: OracleStore;
  readonly #startHeight: number;
  readonly #concurrency: number;
  readonly #batchBlocks: number;
  /** watched address → height from which its payouts are indexed */
  readonly #watched = new Map<string, number>();
  #tip: TipRecord | undefined;

  constructor(options: IndexerOptions) {
    this.#rpc = options.rpc;
    this.#store = options.store;
    this.#startHeight = options.startHeight;
    this.#concurrency = options.concurrency;
    this.#batchBlocks = options.batchBlocks;
  }

  /** Loads the stored tip and watched addresses. */
  async init(): Promise<void> {
    this.#tip = await this.#store.tip();
    for await (const [address, rec] of this.#store.watch.iterator() as AsyncIterable<[string, { since: number }]>) {
      this.#watched.set(address, rec.since);
    }
  }

  /** The last indexed block. */
  get tip(): TipRecord | undefined {
    return this.#tip;
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

  async #fetchRange(from: number, to: number): Promise<BlockWithTxs[]> {
    const heights = Array.from({ length: to - from + 1 }, (_, i) => from + i);
    return mapLimit(heights, this.#concurrency, async (h) => this.#rpc.getBlockWithTxs(await this.#rpc.getBlockHash(h)));
  }

  /** Indexes blocks up to `nodeHeight`; returns how many. */
  async #catchUp(nodeHeight: number): Promise<number> {
    let from = this.#tip === undefined ? this.#startHeight : this.#tip.height + 1;
    let indexed = 0;
    const chunkEnd = (f: number): number => Math.min(nodeHeight, f + this.#batchBlocks - 1);
    let pending: Promise<BlockWithTxs[]> | undefined = from <= nodeHeight ? this.#fetchRange(from, chunkEnd(from)) : undefined;
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
  async #indexBlocks(blocks: BlockWithTxs[]): Promise<number> {
    const s = this.#store;
    const ops: StoreOp[] = [];
    let tip = this.#tip;
    let n = 0;
    for (const block of blocks) {
      if (tip !== undefined && (block.previousblockhash !== tip.hash || block.height !== tip.height + 1)) break;
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

  async #blockRecord(block: BlockWithTxs): Promise<{ record: BlockRecord; payouts: [string, PayoutRecord][] }> {
    const coinbaseTx = block.tx[0];
    if (coinbaseTx === undefined) throw new Error(`block ${block.hash} has no transactions`);
    let reward = 0n;
    const coinbase: CoinbaseOutputRecord[] = [];
    for (const o of coinbaseTx.vout) {
      reward += o.valueSats;
      const address = o.scriptPubKey.address;
      if (address !== undefined && o.valueSats > 0n) coinbase.push({ vout: o.n, value: o.valueSats.toString(), address });
    }
    const payouts = await this.#payoutsOf(block);
    const record: BlockRecord = {
      hash: block.hash,
      prev: block.previousblockhash ?? '0'.repeat(64),
      bits: block.bits,
      reward: reward.toString(),
      coinbaseTxid: coinbaseTx.txid,
      time: block.time,
      coinbase,
      payoutKeys: payouts.map(([k]) => k),
    };
    return { record, payouts };
  }

  /** Non-coinbase outputs of `block` paying watched addresses (or only `onlyAddress`). */
  async #payoutsOf(block: BlockWithTxs, onlyAddress?: string): Promise<[string, PayoutRecord][]> {
    const watched = (a: string | undefined): boolean =>
      a !== undefined && (onlyAddress === undefined ? this.#watched.has(a) : a === onlyAddress);
    if (onlyAddress === undefined && this.#watched.size === 0) return [];
    const out: [string, PayoutRecord][] = [];
    let byTxid: Map<string, VerboseTx> | undefined;
    for (let i = 1; i < block.tx.length; i++) {
      const tx = block.tx[i]!;
      const hits = tx.vout.filter((o) => watched(o.scriptPubKey.address) && o.valueSats > 0n);
      if (hits.length === 0) continue;
      byTxid ??= new Map(block.tx.map((t) => [t.txid, t]));
      const from = await this.#inputAddresses(tx, byTxid);
      for (const o of hits) {
        out.push([`${o.scriptPubKey.address!}!${h10(block.height)}!${tx.txid}!${o.n}`, { value: o.valueSats.toString(), from }]);
      }
    }
    return out;
  }

  /** Distinct addresses of the outputs `tx` spends (those that have one). */
  async #inputAddresses(tx: VerboseTx, sameBlock: Map<string, VerboseTx>): Promise<string[]> {
    const from = new Set<string>();
    for (const vin of tx.vin) {
      if (vin.txid === undefined || vin.vout === undefined) continue;
      const prev = sameBlock.get(vin.txid) ?? (await this.#rpc.getRawTransaction(vin.txid));
      const address = prev.vout.find((o) => o.n === vin.vout)?.scriptPubKey.address;
      if (address !== undefined) from.add(address);
    }
    return [...from].sort();
  }

  /**
   * Watches `address` from `fromHeight`: indexes payouts to it in the already
   * indexed blocks from `fromHeight` that were not yet covered, then in every
   * new block. One atomic batch.
   * @throws {ChainError} when the node fails.
   */
  async watchAddress(address: string, fromHeight: number): Promise<void> {
    const s = this.#store;
    const current = this.#watched.get(address);
    const indexedEnd = this.#tip === undefined ? this.#startHeight : this.#tip.height + 1;
    const scanEnd = current ?? indexedEnd;
    const scanStart = Math.max(fromHeight, this.#startHeight);
    if (current !== undefined && current <= scanStart) return;
    const ops: StoreOp[] = [];
    for (let h = scanStart; h < scanEnd; h++) {
      const rec = await s.blocks.get(h10(h));
      if (rec === undefined) continue;
      const block = await this.#rpc.getBlockWithTxs(rec.hash);
      const payouts = await this.#payoutsOf(block, address);
      if (payouts.length === 0) continue;
      const keys = new Set(rec.payoutKeys);
      for (const [key, p] of payouts) {
        ops.push(s.put(s.payouts, key, p));
        keys.add(key);
      }
      ops.push(s.put(s.blocks, h10(h), { ...rec, payoutKeys: [...keys] }));
    }
    const since = Math.min(scanStart, scanEnd);
    ops.push(s.put(s.watch, address, { since }));
    await s.write(ops);
    this.#watched.set(address, since);
  }
}
