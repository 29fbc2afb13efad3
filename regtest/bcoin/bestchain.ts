/**
 * Bitcoin Core's chain selection for the embedded bcoin node: what the
 * compatibility plugin's `invalidateblock`, `reconsiderblock` and
 * `getchaintips` do, and where `getblockheader`/`getblock` find a block that
 * `invalidateblock` took off the chain.
 *
 * Core's rule (validation.cpp FindMostWorkChain, CBlockIndexWorkComparator):
 * the active chain ends at the valid block with the most work; among equal
 * work, the block received first (nSequenceId) wins. Core applies it again
 * after invalidateblock and reconsiderblock, so invalidating the tip of a
 * longer branch can take the node back to an older, equally long branch that
 * it saw first. bcoin 1.0.2 only ever moves to strictly more work, and its
 * invalidate is a chain reset that deletes the disconnected blocks and every
 * side branch. This module remembers the order blocks arrived in, keeps the
 * blocks a reset deletes, picks the tip by Core's rule, and rebuilds bcoin's
 * chain onto it (reset to the fork, connect the winner's branch, put every
 * other valid block back as a side branch).
 *
 * What it does NOT do: remember arrival order, invalidated blocks or the kept
 * blocks across a restart (memory only: blocks loaded from disk count as
 * received before any later block, the active tip first among them), handle
 * headers-only blocks (bcoin has none), or `preciousblock`. It does not touch
 * the mempool: the plugin re-submits the transactions of disconnected blocks.
 */
import type { BcoinBlock, BcoinChain, BcoinChainEntry } from './bcoin.js';
import { revHex } from './corejson.js';

/** A block with its chain entry. */
export interface KeptBlock {
  entry: BcoinChainEntry;
  block: BcoinBlock;
}

/** One element of Core's `getchaintips` answer. */
export interface ChainTip {
  height: number;
  hash: string;
  branchlen: number;
  status: 'active' | 'valid-fork' | 'valid-headers' | 'invalid';
}

/** What a switch of the active chain disconnected (the plugin returns their transactions to the mempool). */
export interface Activation {
  disconnected: BcoinBlock[];
}

/** Core's chain selection over a bcoin chain; see the module comment. */
export interface BestChain {
  /** The entry of a known block, on the chain, on a side branch, or kept after a reset; null when unknown. */
  entry(hash: string): Promise<BcoinChainEntry | null>;
  /** The block's data, wherever it is kept; null when unknown. */
  block(hash: string): Promise<BcoinBlock | null>;
  /** Median time past of a known block (its ancestors may be kept blocks). */
  medianTime(entry: BcoinChainEntry): Promise<number>;
  /** Whether a block deleted by a reset is kept here (so the node knows it, though bcoin does not). */
  isKept(hash: string): boolean;
  /** Whether the block or an ancestor was invalidated (or failed validation). */
  isInvalid(hash: string): Promise<boolean>;
  /** Marks `hash` invalid (Core BLOCK_FAILED_VALID) and re-activates the best valid chain. */
  invalidate(hash: string, afterReset: () => Promise<void>): Promise<Activation>;
  /** Clears invalidity of `hash`, its descendants and its ancestors, and re-activates the best valid chain. */
  reconsider(hash: string, afterReset: () => Promise<void>): Promise<Activation>;
  /** Core's getchaintips: the active tip and every block without children off the active chain. */
  chainTips(): Promise<ChainTip[]>;
}

/** A VerifyError of bcoin (the block is invalid or a duplicate), as opposed to a failure of the node. */
function isVerifyError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { type?: unknown }).type === 'VerifyError';
}

/** Core's CBlockIndexWorkComparator on the fields bcoin has; `tipHash` wins among blocks loaded from disk. */
function makeBetter(firstSeen: Map<string, number>, tipHash: string) {
  return (a: BcoinChainEntry, b: BcoinChainEntry): boolean => {
    const work = a.chainwork.cmp(b.chainwork);
    if (work !== 0) return work > 0;
    const sa = firstSeen.get(a.hash) ?? 0;
    const sb = firstSeen.get(b.hash) ?? 0;
    if (sa !== sb) return sa < sb;
    if (a.hash === tipHash || b.hash === tipHash) return a.hash === tipHash;
    return a.hash < b.hash;
  };
}

/**
 * Starts tracking arrival order on `chain`; call before the node opens so that
 * every block received afterwards gets its sequence number.
 */
export function bestChain(chain: BcoinChain): BestChain {
  /** Arrival order (Core nSequenceId); absent = loaded from disk = 0. */
  const firstSeen = new Map<string, number>();
  let nextSequence = 1;
  /** Blocks that were connected at least once (Core BLOCK_VALID_SCRIPTS): a `valid-fork`, not `valid-headers`. */
  const connected = new Set<string>();
  /** Blocks marked by invalidateblock (their descendants are invalid too). */
  const invalidated = new Set<string>();
  /** Blocks bcoin's reset deleted that are not back in its chain (the invalid ones, until reconsidered). */
  const kept = new Map<string, KeptBlock>();

  const seen = (hash: string): void => {
    if (!firstSeen.has(hash)) firstSeen.set(hash, nextSequence++);
  };
  chain.on('block', (_block, entry) => {
    seen((entry as BcoinChainEntry).hash);
    connected.add((entry as BcoinChainEntry).hash);
  });
  chain.on('competitor', (_block, entry) => seen((entry as BcoinChainEntry).hash));
  chain.on('reconnect', (entry) => connected.add((entry as BcoinChainEntry).hash));

  const entry = async (hash: string): Promise<BcoinChainEntry | null> => (await chain.getEntry(hash)) ?? kept.get(hash)?.entry ?? null;

  /** Every block off the active chain: bcoin's side branches plus the kept blocks. */
  const sideBlocks = async (): Promise<Map<string, KeptBlock>> => {
    const sides = new Map(kept);
    for (const tip of await chain.db.getTips()) {
      let e = await chain.getEntry(tip);
      while (e && !sides.has(e.hash) && !(await chain.isMainChain(e))) {
        const block = await chain.getBlock(e.hash);
        if (!block) throw new Error(`side block ${e.rhash()} has no data`);
        sides.set(e.hash, { entry: e, block });
        e = await chain.getPrevious(e);
      }
    }
    return sides;
  };

  /** Invalidity by ancestry within `known` (blocks outside it are active-chain blocks, valid). */
  const invalidity = (known: Map<string, KeptBlock | BcoinChainEntry>) => {
    const memo = new Map<string, boolean>();
    return (hash: string): boolean => {
      const path: string[] = [];
      let h: string | undefined = hash;
      let result = false;
      while (h !== undefined) {
        const cached = memo.get(h);
        if (cached !== undefined) {
          result = cached;
          break;
        }
        path.push(h);
        if (invalidated.has(h) || chain.invalid.has(h)) {
          result = true;
          break;
        }
        const k: KeptBlock | BcoinChainEntry | undefined = known.get(h);
        h = k === undefined ? undefined : 'entry' in k ? k.entry.prevBlock : k.prevBlock;
      }
      for (const p of path) memo.set(p, result);
      return result;
    };
  };

  /** Active-chain entries above `base`, by hash. */
  const activeAbove = async (base: number): Promise<Map<string, BcoinChainEntry>> => {
    const out = new Map<string, BcoinChainEntry>();
    for (let h = base + 1; h <= chain.height; h++) {
      const e = await chain.getEntry(h);
      if (e) out.set(e.hash, e);
    }
    return out;
  };

  /** Puts every valid kept block whose parent bcoin knows back into bcoin's chain (as side branches). */
  const restoreKept = async (invalid: (hash: string) => boolean): Promise<void> => {
    const ordered = [...kept.values()].sort((a, b) => a.entry.height - b.entry.height);
    for (const { entry: e, block } of ordered) {
      if (invalid(e.hash)) continue;
      if (await chain.getEntry(e.hash)) {
        kept.delete(e.hash);
        continue;
      }
      if (!(await chain.getEntry(block.prevBlock))) continue;
      try {
        await chain.add(block);
        kept.delete(e.hash);
      } catch (err) {
        if (!isVerifyError(err)) throw err;
      }
    }
  };

  /**
   * Core's ActivateBestChain: finds the best valid block by Core's rule and,
   * when it is not bcoin's tip, resets bcoin to the fork and connects the
   * winner's branch. A block that fails to connect is invalid (bcoin marks
   * it) and the choice is made again. `afterReset` runs between bcoin's reset
   * and the first block connected (the plugin resynchronises the mempool).
   */
  const activate = async (afterReset: () => Promise<void>): Promise<Activation> => {
    const disconnected: BcoinBlock[] = [];
    for (let attempt = 0; attempt < 16; attempt++) {
      const sides = await sideBlocks();
      let base = chain.height;
      for (const k of sides.values()) base = Math.min(base, k.entry.height - 1);
      for (const h of invalidated) {
        const e = await chain.getEntry(h);
        if (e && (await chain.isMainChain(e))) base = Math.min(base, e.height - 1);
      }
      base = Math.max(base, 0);
      const active = await activeAbove(base);
      const known = new Map<string, KeptBlock | BcoinChainEntry>([...sides, ...active]);
      const invalid = invalidity(known);
      const baseEntry = await chain.getEntry(base);
      if (!baseEntry) throw new Error(`no active block at height ${base}`);

      const better = makeBetter(firstSeen, chain.tip.hash);
      let best = baseEntry;
      for (const e of [...active.values(), ...[...sides.values()].map((k) => k.entry)]) {
        if (!invalid(e.hash) && better(e, best)) best = e;
      }
      if (best.hash === chain.tip.hash) {
        await restoreKept(invalid);
        return { disconnected };
      }

      // The winner's branch down to the active chain (the fork point).
      const branch: KeptBlock[] = [];
      let fork: BcoinChainEntry = best;
      for (let side = sides.get(fork.hash); side; side = sides.get(fork.hash)) {
        branch.unshift(side);
        const parent: BcoinChainEntry | null = await entry(side.entry.prevBlock);
        if (!parent) throw new Error(`side block ${side.entry.rhash()} has no parent`);
        fork = parent;
      }

      // bcoin's reset deletes the active blocks above the fork and every side branch: keep them all.
      for (const e of active.values()) {
        if (e.height <= fork.height) continue;
        const block = await chain.getBlock(e.hash);
        if (!block) throw new Error(`active block ${e.rhash()} has no data`);
        kept.set(e.hash, { entry: e, block });
        disconnected.push(block);
      }
      for (const [h, k] of sides) kept.set(h, k);
      // Re-adding a block must not make it "received now": unsequenced ones stay loaded-from-disk.
      for (const h of kept.keys()) if (!firstSeen.has(h)) firstSeen.set(h, 0);
      await chain.reset(fork.hash);
      await afterReset();
      let failed = false;
      for (const { entry: e, block } of branch) {
        try {
          await chain.add(block);
          kept.delete(e.hash);
        } catch (err) {
          if (!isVerifyError(err)) throw err;
          failed = true; // bcoin marked it invalid: choose again without it
          break;
        }
      }
      if (!failed) {
        await restoreKept(invalid);
        return { disconnected };
      }
    }
    throw new Error('chain selection did not settle');
  };

  /** Every known block by hash (active chain above the lowest side branch, side branches, kept blocks). */
  const knownBlocks = async (): Promise<Map<string, KeptBlock | BcoinChainEntry>> => {
    const sides = await sideBlocks();
    let base = chain.height;
    for (const k of sides.values()) base = Math.min(base, k.entry.height - 1);
    return new Map<string, KeptBlock | BcoinChainEntry>([...sides, ...(await activeAbove(Math.max(base, 0)))]);
  };

  const parentOf = (k: KeptBlock | BcoinChainEntry): string => ('entry' in k ? k.entry.prevBlock : k.prevBlock);

  return {
    entry,
    async block(hash) {
      return (await chain.getBlock(hash)) ?? kept.get(hash)?.block ?? null;
    },
    async medianTime(e) {
      if (!kept.has(e.hash)) return chain.getMedianTime(e);
      // BIP 113 over the block and its ten ancestors, which may be kept blocks too.
      const times: number[] = [];
      for (let cur: BcoinChainEntry | null = e; cur && times.length < 11; cur = await entry(cur.prevBlock)) times.push(cur.time);
      times.sort((a, b) => a - b);
      return times[Math.floor(times.length / 2)]!;
    },
    isKept(hash) {
      return kept.has(hash);
    },
    async isInvalid(hash) {
      // Active blocks are valid (activation never leaves an invalid tip): only side and kept ancestors are walked.
      for (let e = await entry(hash); e; e = await entry(e.prevBlock)) {
        if (invalidated.has(e.hash) || chain.invalid.has(e.hash)) return true;
        if (!kept.has(e.hash) && (await chain.isMainChain(e))) return false;
      }
      return false;
    },
    async invalidate(hash, afterReset) {
      invalidated.add(hash);
      chain.setInvalid(hash);
      return activate(afterReset);
    },
    async reconsider(hash, afterReset) {
      const known = await knownBlocks();
      const descendsFrom = (h: string, ancestor: string): boolean => {
        for (let cur: string | undefined = h; cur !== undefined; ) {
          if (cur === ancestor) return true;
          const k = known.get(cur);
          cur = k === undefined ? undefined : parentOf(k);
        }
        return false;
      };
      const cleared = [...known.keys(), ...invalidated].filter((h) => descendsFrom(h, hash) || descendsFrom(hash, h));
      for (const h of cleared) {
        invalidated.delete(h);
        chain.removeInvalid(h);
      }
      return activate(afterReset);
    },
    async chainTips() {
      const sides = await sideBlocks();
      const invalid = invalidity(sides);
      const parents = new Set([...sides.values()].map((k) => k.block.prevBlock));
      const tips: ChainTip[] = [{ height: chain.height, hash: chain.tip.rhash(), branchlen: 0, status: 'active' }];
      for (const { entry: e } of sides.values()) {
        if (parents.has(e.hash)) continue;
        let low = e;
        for (let s = sides.get(low.prevBlock); s; s = sides.get(low.prevBlock)) low = s.entry;
        tips.push({
          height: e.height,
          hash: revHex(e.hash),
          branchlen: e.height - low.height + 1,
          status: invalid(e.hash) ? 'invalid' : connected.has(e.hash) ? 'valid-fork' : 'valid-headers',
        });
      }
      // Core sorts by height, highest first.
      return tips.sort((a, b) => b.height - a.height);
    },
  };
}
