// The divergent-node harness (regtest/divergent.ts): a second node whose chain
// equals the suite's node up to a height, copied block by block (transactions
// included, each block validated by the second node), then differs by blocks
// of its own; `follow` copies new blocks on demand and, after a divergence or a
// reorganisation of the main node, replaces the second node's branch by the main chain. Its process ends
// with stop().
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRegtest } from '../../regtest/context.js';
import { isProcessAlive, mineAsPool, mineBlocks, mineCompetingBranch, reorgOut, startDivergentNode, TestKey, type DivergentNode } from '../../regtest/index.js';
import type { BitcoinRpc } from '../../src/chain/index.js';

const { rpc, faucet } = useRegtest();
let second: DivergentNode;
let paymentTxid: string;

/** What a block's coinbase pays to `address`, sats. */
async function coinbasePaid(node: BitcoinRpc, height: number, address: string): Promise<bigint> {
  const block = await node.getBlockWithTxs(await node.getBlockHash(height));
  return block.tx[0]!.vout.filter((o) => o.scriptPubKey.address === address).reduce((s, o) => s + o.valueSats, 0n);
}

beforeAll(async () => {
  // A confirmed payment below H: the second node must validate real transactions, not only coinbases.
  paymentTxid = (await faucet.fund(TestKey.random().address, 50_000n)).txid;
  second = await startDivergentNode(rpc);
}, 120_000);

afterAll(async () => {
  await second?.stop();
});

describe('a second node that follows the main chain, then diverges', () => {
  it('copies the whole main chain at start: same tip, same blocks, same transactions', async () => {
    const tip = await rpc.getBlockCount();
    expect(await second.rpc.getBlockCount()).toBe(tip);
    expect(await second.rpc.getBestBlockHash()).toBe(await rpc.getBestBlockHash());
    expect(await second.commonHeight()).toBe(tip);
    const confirmedIn = (await rpc.getRawTransaction(paymentTxid)).blockhash;
    expect(confirmedIn).toBeDefined();
    expect((await second.rpc.getRawTransaction(paymentTxid)).blockhash).toBe(confirmedIn);
  });

  it('follows new main blocks on demand, up to a chosen height', async () => {
    const before = await rpc.getBlockCount();
    const mined = await mineBlocks(rpc, 4);
    expect(await second.rpc.getBlockCount()).toBe(before);
    expect(await second.follow(before + 2)).toBe(mined[1]);
    expect(await second.rpc.getBlockCount()).toBe(before + 2);
    expect(await second.follow()).toBe(mined[3]);
    // Nothing new: a no-op.
    expect(await second.follow()).toBe(mined[3]);
  });

  it('diverges: the chains agree up to H and differ after, and a pool payment exists on one chain only', async () => {
    const h = await second.follow();
    const height = await rpc.getBlockCount();
    const delivery = TestKey.random().address;
    // Main chain: the pool pays the delivery address half of every coinbase; the second chain: nothing.
    await mineAsPool(rpc, { blocks: 3, shares: [{ address: delivery, shareBps: 5000 }], restAddress: TestKey.random().address });
    const own = await second.mine(3);
    expect(own).toHaveLength(3);
    expect(await rpc.getBlockHash(height)).toBe(h);
    expect(await second.rpc.getBlockHash(height)).toBe(h);
    for (let k = 1; k <= 3; k++) {
      expect(await second.rpc.getBlockHash(height + k)).not.toBe(await rpc.getBlockHash(height + k));
      expect(await coinbasePaid(rpc, height + k, delivery)).toBeGreaterThan(0n);
      expect(await coinbasePaid(second.rpc, height + k, delivery)).toBe(0n);
    }
    expect(await second.commonHeight()).toBe(height);
  });

  it('follow() after a divergence drops its own branch and takes the main chain again', async () => {
    const height = await rpc.getBlockCount();
    expect(await second.commonHeight()).toBeLessThan(height);
    expect(await second.follow()).toBe(await rpc.getBestBlockHash());
    expect(await second.commonHeight()).toBe(height);
    // It diverges again, and follows again (a block the main node mined meanwhile included).
    await second.mine(2);
    await mineBlocks(rpc, 3);
    expect(await second.follow()).toBe(await rpc.getBestBlockHash());
  });

  it('follows the main node through its reorganisations, back to a block it had dropped', async () => {
    const [x] = await mineBlocks(rpc, 1);
    expect(await second.follow()).toBe(x);
    // The main node drops X for a longer branch; the second node follows (X invalidated there).
    const { branch } = await reorgOut(rpc, x!, { extraBlocks: 1 });
    expect(await second.follow()).toBe(branch.at(-1));
    expect(await second.rpc.getBestBlockHash()).toBe(await rpc.getBestBlockHash());
    // The main node goes back to X (a longer branch on it): the second node already knows X,
    // as an invalidated block, and makes it eligible again.
    const back = await mineCompetingBranch(rpc, x!, branch.length);
    expect(await rpc.getBestBlockHash()).toBe(back.at(-1));
    expect(await second.follow()).toBe(back.at(-1));
    expect(await second.commonHeight()).toBe(await rpc.getBlockCount());
  });

  it('refuses to follow above the main tip', async () => {
    await expect(second.follow((await rpc.getBlockCount()) + 1)).rejects.toThrow(/its tip is/);
  });

  it('stop() ends its process and removes its data directory', async () => {
    const other = await startDivergentNode(rpc, { upTo: 10 });
    expect(await other.rpc.getBlockCount()).toBe(10);
    expect(await other.rpc.getBlockHash(10)).toBe(await rpc.getBlockHash(10));
    expect(isProcessAlive(other.node.pid)).toBe(true);
    await other.stop();
    expect(isProcessAlive(other.node.pid)).toBe(false);
    expect(existsSync(other.node.datadir)).toBe(false);
  });
});
