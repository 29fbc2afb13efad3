/**
 * A second regtest node that shares the main node's chain up to a height and
 * then goes its own way: what an oracle sees when its node follows another
 * chain (a wrong or eclipsed node). The oracle then HONESTLY attests another
 * outcome for the same event, which is what a k-of-n oracle set must survive.
 *
 * How: `startDivergentNode(main)` starts another node (regtest/node.ts: its
 * own process, data directory and RPC port; bcoin or bitcoind as the main
 * one) and `follow(height)` makes its active chain equal the main node's up
 * to `height`, by copying the main node's blocks (`getblock <hash> 0` →
 * `submitblock`: the second node validates each one itself). The two nodes
 * are never connected (no P2P), so after `mine(n)` on the second node the
 * chains differ for good, until `follow` is called again: it then finds the
 * last common block, invalidates the second node's own branch above it
 * (`invalidateblock`) and copies the main node's blocks in its place. The
 * same repairs a reorganisation of the main node (a block the second node
 * had invalidated and the main chain takes back is reconsidered).
 *
 * This module does NOT start oracles (the caller points an oracle's RPC
 * settings at `node.rpc`) and does not touch the main node beyond reading
 * its blocks.
 */
import { ChainError } from '../src/chain/errors.js';
import { BitcoinRpc } from '../src/chain/rpc.js';
import type { RpcConfig } from '../src/chain/rpc.js';
import { mineBlocks } from './helpers.js';
import { startNode } from './node.js';
import type { RegtestNode, StartNodeOptions } from './node.js';

/** Blocks fetched from the main node per JSON-RPC batch while copying. */
const COPY_BATCH = 50;

/** The second node and how to move its chain. */
export interface DivergentNode {
  /** The node process (its `pid`, `rpc` settings for an oracle's config, `stop`). */
  readonly node: RegtestNode;
  /** A client of the second node (for any regtest helper: `mineAsPool(divergent.rpc, ...)`, ...). */
  readonly rpc: BitcoinRpc;
  /** Its RPC settings (`node.rpc`): what an oracle following this chain is configured with. */
  readonly rpcConfig: RpcConfig;
  /**
   * Makes the second node's active chain equal the main node's from genesis
   * to `height` (default: the main node's tip), replacing any blocks of its
   * own above the last common one. Blocks the main node mines later are
   * copied by the next call ("on demand").
   * @returns the second node's tip hash, which is the main node's block at `height`.
   * @throws {Error} when `height` is above the main node's tip; {ChainError} when a block is refused.
   */
  follow(height?: number): Promise<string>;
  /**
   * Mines `n` blocks of its own on the second node's tip (coinbase to
   * `address`, default an address nobody holds): from here the chains differ.
   * For a chosen coinbase split, use `mineAsPool(divergent.rpc, ...)`.
   * @returns the new block hashes, oldest first.
   */
  mine(n: number, address?: string): Promise<string[]>;
  /**
   * The highest height at which both nodes' active chains have the same
   * block (-1 if not even genesis: different networks).
   */
  commonHeight(): Promise<number>;
  /** Stops the second node (by its PID) and removes its data directory. */
  stop(): Promise<void>;
}

/**
 * Starts a second regtest node and copies the main node's chain up to
 * `options.upTo` (default: its tip; `-1`: copy nothing yet).
 * @throws {Error} when the two nodes do not share a genesis block (not both
 *   regtest), or as `startNode`; the second node is stopped on failure.
 */
export async function startDivergentNode(
  main: BitcoinRpc,
  options: { upTo?: number; node?: StartNodeOptions } = {},
): Promise<DivergentNode> {
  const node = await startNode(options.node ?? {});
  const rpc = new BitcoinRpc(node.rpc);
  try {
    const [ours, theirs] = await Promise.all([rpc.getBlockHash(0), main.getBlockHash(0)]);
    if (ours !== theirs) throw new Error(`the second node's genesis ${ours} is not the main node's ${theirs}`);
    const divergent = divergentOf(main, node, rpc);
    if (options.upTo !== -1) await divergent.follow(options.upTo);
    return divergent;
  } catch (err) {
    await node.stop();
    throw err;
  }
}

/**
 * Submits a block; 'known' when the node already has it off its active chain:
 * copied by an earlier `follow`, invalidated when the main node reorganised
 * away from it, and now back on the main chain (BIP 22 `duplicate-invalid`,
 * or `duplicate`). The caller reconsiders it so it can become active again.
 */
async function submitKnown(rpc: BitcoinRpc, hex: string): Promise<'submitted' | 'known'> {
  try {
    return (await rpc.submitBlock(hex)) === 'duplicate' ? 'known' : 'submitted';
  } catch (err) {
    if (err instanceof ChainError && err.rpcMessage === 'duplicate-invalid') return 'known';
    throw err;
  }
}

function divergentOf(main: BitcoinRpc, node: RegtestNode, rpc: BitcoinRpc): DivergentNode {
  /** Highest height ≤ `from` whose block both nodes have on their active chain (binary search: a chain shared up to h is shared below h). */
  const commonBelow = async (from: number): Promise<number> => {
    let lo = 0; // genesis is shared (checked at start)
    let hi = from;
    if (hi < 0) return -1;
    const same = async (h: number): Promise<boolean> => {
      const [a, b] = await Promise.all([rpc.getBlockHash(h), main.getBlockHash(h)]);
      return a === b;
    };
    if (await same(hi)) return hi;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (await same(mid)) lo = mid;
      else hi = mid;
    }
    return lo;
  };

  return {
    node,
    rpc,
    rpcConfig: node.rpc,
    async follow(height) {
      const mainTip = await main.getBlockCount();
      const target = height ?? mainTip;
      if (!Number.isInteger(target) || target < 0 || target > mainTip) {
        throw new Error(`cannot follow the main node to height ${target}: its tip is ${mainTip}`);
      }
      const ourTip = await rpc.getBlockCount();
      const common = await commonBelow(Math.min(ourTip, target));
      if (common < ourTip) {
        // Our own branch above the last common block goes: invalidated blocks stay
        // known but never become active again, so the main node's blocks take their place.
        await rpc.invalidateBlock(await rpc.getBlockHash(common + 1));
      }
      const fetchBatch = async (from: number): Promise<{ hashes: string[]; blocks: string[] }> => {
        const heights = Array.from({ length: Math.min(COPY_BATCH, target - from + 1) }, (_, i) => from + i);
        const hashes = await main.getBlockHashes(heights);
        return { hashes, blocks: await main.getBlocksHex(hashes) };
      };
      // The next batch is fetched while this one is submitted (submitting is the slow part).
      let next = common + 1 <= target ? fetchBatch(common + 1) : undefined;
      for (let from = common + 1; next !== undefined; from += COPY_BATCH) {
        const { hashes, blocks } = await next;
        next = from + COPY_BATCH <= target ? fetchBatch(from + COPY_BATCH) : undefined;
        // A failed prefetch is reported when awaited; until then it must not count as unhandled.
        next?.catch(() => undefined);
        // One at a time and in order: each block's parent must be known first.
        for (const [i, hex] of blocks.entries()) {
          if ((await submitKnown(rpc, hex)) === 'known') await rpc.reconsiderBlock(hashes[i]!);
        }
      }
      const tip = await rpc.getBestBlockHash();
      const expected = await main.getBlockHash(target);
      if (tip !== expected) throw new Error(`the second node's tip ${tip} is not the main node's block ${expected} at height ${target}`);
      return tip;
    },
    mine: (n, address) => mineBlocks(rpc, n, address),
    async commonHeight() {
      const [ourTip, mainTip] = await Promise.all([rpc.getBlockCount(), main.getBlockCount()]);
      return commonBelow(Math.min(ourTip, mainTip));
    },
    stop: () => node.stop(),
  };
}
