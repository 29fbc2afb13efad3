// The story helpers on a real node: fund, mine, a pool paying in the coinbase
// and from a hot wallet, and reorganisations that take a transaction out of
// the chain and put it back.
import { Transaction } from 'bitcoinjs-lib';
import { describe, expect, it } from 'vitest';
import { useRegtest } from '../../regtest/context.js';
import {
  buildBlockOn,
  disconnectBlock,
  mineAsPool,
  mineBlocks,
  mineCompetingBranch,
  payFromPoolWallet,
  regtestSubsidy,
  reorgOut,
  splitReward,
} from '../../regtest/helpers.js';
import { witnessCommitmentScript } from '../../regtest/blocks.js';
import { TestKey, buildP2wpkhSpend, listUnspent } from '../../regtest/wallet.js';

const { rpc, faucet } = useRegtest();

describe('funding and mining', () => {
  it('funds a fresh address with a confirmed output of the asked amount', async () => {
    const key = TestKey.random();
    const before = await rpc.getBlockCount();
    const utxo = await faucet.fund(key.address, 123_456n);
    expect(await rpc.getBlockCount()).toBe(before + 1);
    expect(utxo).toMatchObject({ valueSats: 123_456n, confirmations: 1 });
    expect(await listUnspent(rpc, key.address)).toEqual([utxo]);
  });

  it('mines n blocks to an address, whose coinbases mature after 100 confirmations', async () => {
    const miner = TestKey.random();
    const hashes = await mineBlocks(rpc, 3, miner.address);
    expect(hashes).toHaveLength(3);
    expect(await rpc.getBestBlockHash()).toBe(hashes[2]);
    expect(await listUnspent(rpc, miner.address)).toEqual([]); // immature
    await mineBlocks(rpc, 97);
    // Consensus: a coinbase is spendable in a block 100 above its own, so once it
    // has 100 confirmations (the first one now; the second has 99).
    const mature = await listUnspent(rpc, miner.address);
    expect(mature).toHaveLength(1);
    expect(mature[0]).toMatchObject({ coinbase: true, confirmations: 100 });
    const spend = buildP2wpkhSpend([{ utxo: mature[0]!, key: miner }], [{ address: TestKey.random().address, valueSats: 1_000_000n }]);
    expect(await rpc.sendRawTransaction(spend.hex)).toBe(spend.txid);
    const second = await rpc.getBlock(hashes[1]!);
    const immature = { ...mature[0]!, txid: second.tx[0]!, confirmations: 99 };
    const early = buildP2wpkhSpend([{ utxo: immature, key: miner }], [{ address: TestKey.random().address, valueSats: 1_000_000n }]);
    await expect(rpc.sendRawTransaction(early.hex)).rejects.toMatchObject({ code: 'CHAIN_VERIFY_REJECTED', rpcCode: -26 });
  });
});

describe('pool simulator', () => {
  it('splits the reward by basis points, rest to the rest address', () => {
    expect(splitReward(1000n, [{ address: 'a', shareBps: 2500 }, { address: 'b', shareBps: 3333 }], 'r')).toEqual([
      { address: 'a', valueSats: 250n },
      { address: 'b', valueSats: 333n },
      { address: 'r', valueSats: 417n },
    ]);
    expect(splitReward(1001n, [{ address: 'a', shareBps: 5000 }, { address: 'b', shareBps: 5000 }])).toEqual([
      { address: 'a', valueSats: 500n },
      { address: 'b', valueSats: 501n },
    ]);
    expect(() => splitReward(1n, [{ address: 'a', shareBps: 10_001 }])).toThrow(RangeError);
  });

  it('pays chosen shares of each coinbase over a window of blocks, with mempool transactions included', async () => {
    const [alice, bob, pool] = [TestKey.random(), TestKey.random(), TestKey.random()];
    // A pending transaction, so the template has fees and a witness to commit to.
    const { key, utxo } = await faucet.fundedKey(50_000n);
    const pending = buildP2wpkhSpend([{ utxo, key }], [{ address: TestKey.random().address, valueSats: 40_000n }]);
    await rpc.sendRawTransaction(pending.hex);

    // Our BIP 141 commitment is the node's own.
    const template = await rpc.getBlockTemplate();
    const templateTxs = template.transactions.map((t) => Transaction.fromHex(t.data));
    expect(templateTxs.map((t) => t.getId())).toContain(pending.txid);
    expect(Buffer.from(witnessCommitmentScript(templateTxs)).toString('hex')).toBe(template.default_witness_commitment);

    const blocks = await mineAsPool(rpc, {
      blocks: 3,
      shares: [
        { address: alice.address, shareBps: 6000 },
        { address: bob.address, shareBps: 2500 },
      ],
      restAddress: pool.address,
    });
    expect(blocks.map((b) => b.hash)).toContain(await rpc.getBestBlockHash());
    const first = await rpc.getBlockWithTxs(blocks[0]!.hash);
    expect(first.tx.map((t) => t.txid)).toContain(pending.txid);
    for (const found of blocks) {
      const block = await rpc.getBlockWithTxs(found.hash);
      const coinbase = block.tx[0]!;
      expect(coinbase.txid).toBe(found.coinbaseTxid);
      const paid = coinbase.vout.filter((o) => o.valueSats > 0n).map((o) => [o.scriptPubKey.address, o.valueSats]);
      expect(paid).toEqual([
        [alice.address, (found.rewardSats * 6000n) / 10_000n],
        [bob.address, (found.rewardSats * 2500n) / 10_000n],
        [pool.address, found.rewardSats - (found.rewardSats * 6000n) / 10_000n - (found.rewardSats * 2500n) / 10_000n],
      ]);
    }
    // The first block's reward is the subsidy plus the pending transaction's fee.
    expect(blocks[0]!.rewardSats).toBe(regtestSubsidy(blocks[0]!.height) + pending.feeSats);
    expect(blocks[1]!.rewardSats).toBe(regtestSubsidy(blocks[1]!.height));
  });

  it('pays members from the pool hot wallet in an ordinary transaction', async () => {
    const { key: poolWallet } = await faucet.fundedKey(1_000_000n);
    const members = [TestKey.random(), TestKey.random(), TestKey.random()];
    const sent = await payFromPoolWallet(
      rpc,
      poolWallet,
      members.map((m, i) => ({ address: m.address, valueSats: BigInt(100_000 * (i + 1)) })),
    );
    const tx = await rpc.getRawTransaction(sent.txid);
    expect(tx.confirmations).toBe(1);
    for (const [i, m] of members.entries()) {
      expect(await listUnspent(rpc, m.address)).toEqual([
        expect.objectContaining({ txid: sent.txid, vout: i, valueSats: BigInt(100_000 * (i + 1)) }),
      ]);
    }
  });
});

describe('reorgs', () => {
  it('a longer competing branch takes a transaction out of the chain; it returns to the mempool and is re-mined', async () => {
    const { key, utxo } = await faucet.fundedKey(100_000n);
    const spend = buildP2wpkhSpend([{ utxo, key }], [{ address: TestKey.random().address, valueSats: 90_000n }]);
    await rpc.sendRawTransaction(spend.hex);
    const [minedIn] = await mineBlocks(rpc, 1);
    expect((await rpc.getRawTransaction(spend.txid)).blockhash).toBe(minedIn);

    const { orphaned, branch } = await reorgOut(rpc, minedIn!);
    expect(orphaned).toEqual([minedIn]);
    expect(branch).toHaveLength(2);
    expect(await rpc.getBestBlockHash()).toBe(branch[1]);
    expect((await rpc.getBlockHeader(minedIn!)).confirmations).toBe(-1);
    expect((await rpc.getRawTransaction(spend.txid)).blockhash).toBeUndefined();
    expect(await rpc.getRawMempool()).toContain(spend.txid);

    const [reMinedIn] = await mineBlocks(rpc, 1);
    expect(await rpc.getRawTransaction(spend.txid)).toMatchObject({ blockhash: reMinedIn, confirmations: 1 });
  });

  it('invalidateblock disconnects a block (its transactions back to the mempool); reconsiderblock restores it', async () => {
    const { key, utxo } = await faucet.fundedKey(100_000n);
    const spend = buildP2wpkhSpend([{ utxo, key }], [{ address: TestKey.random().address, valueSats: 90_000n }]);
    await rpc.sendRawTransaction(spend.hex);
    const [minedIn, after] = await mineBlocks(rpc, 2);
    const parent = (await rpc.getBlockHeader(minedIn!)).previousblockhash;

    const reconsider = await disconnectBlock(rpc, minedIn!);
    expect(await rpc.getBestBlockHash()).toBe(parent);
    expect(await rpc.getRawMempool()).toContain(spend.txid);

    await reconsider();
    expect(await rpc.getBestBlockHash()).toBe(after);
    expect(await rpc.getRawTransaction(spend.txid)).toMatchObject({ blockhash: minedIn, confirmations: 2 });
    expect(await rpc.getRawMempool()).not.toContain(spend.txid);
  });

  it('a shorter competing block is stored but not activated (submitblock says inconclusive)', async () => {
    const tip = await rpc.getBestBlockHash();
    const parent = (await rpc.getBlockHeader(tip)).previousblockhash!;
    const rival = await buildBlockOn(rpc, parent);
    expect(await rpc.submitBlock(rival.hex)).toBe('inconclusive');
    expect(await rpc.submitBlock(rival.hex)).toBe('duplicate');
    expect(await rpc.getBestBlockHash()).toBe(tip);
    // One more block on the rival makes its branch the longer one.
    const [next] = await mineCompetingBranch(rpc, rival.hash, 1);
    expect(await rpc.getBestBlockHash()).toBe(next);
  });

  it('a competing branch may carry transactions of its own', async () => {
    const { key, utxo } = await faucet.fundedKey(100_000n);
    const spend = buildP2wpkhSpend([{ utxo, key }], [{ address: TestKey.random().address, valueSats: 90_000n }]);
    const tip = await rpc.getBestBlockHash();
    const [b1] = await mineCompetingBranch(rpc, tip, 1, { txs: [Transaction.fromHex(spend.hex)] });
    expect(await rpc.getRawTransaction(spend.txid)).toMatchObject({ blockhash: b1, confirmations: 1 });
  });
});
