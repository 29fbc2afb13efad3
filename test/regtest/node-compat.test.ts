// The regtest node behaves like Bitcoin Core for what hashdlc relies on:
// address formats, soft forks active from genesis, mempool acceptance and its
// error codes, and the RPC answer shapes. Runs against whichever node the
// global setup started (bitcoind or the embedded bcoin with our plugin).
import { Transaction, payments } from 'bitcoinjs-lib';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isChainError } from '../../src/chain/errors.js';
import type { ChainErrorCode } from '../../src/chain/errors.js';
import { useRegtest } from '../../regtest/context.js';
import { buildBlockOn, mineBlocks, mineCompetingBranch } from '../../regtest/helpers.js';
import { REGTEST, TestKey, buildP2wpkhSpend } from '../../regtest/wallet.js';

const { rpc, faucet } = useRegtest();

async function expectChainError(p: Promise<unknown>, code: ChainErrorCode, rpcCode: number, message: RegExp): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isChainError(err), `expected a ChainError ${code}, got ${String(err)}`).toBe(true);
  if (!isChainError(err)) return;
  expect(err.code).toBe(code);
  expect(err.rpcCode).toBe(rpcCode);
  expect(err.rpcMessage).toMatch(message);
}

describe('regtest node speaks Core regtest', () => {
  it('has segwit, CSV, CLTV, BIP66 and BIP34 active, Core address formats and version info', async () => {
    const info = await rpc.getBlockchainInfo();
    expect(info.chain).toBe('regtest');
    const net = await rpc.getNetworkInfo();
    expect(net.version).toBeGreaterThanOrEqual(250000);
    expect(net.relayFeeSatPerKvB).toBeGreaterThan(0n);
    // Core's base58 P2PKH (m/n...) and bech32 `bcrt` addresses are accepted for mining.
    const legacy = payments.p2pkh({ pubkey: TestKey.random().publicKey, network: REGTEST }).address!;
    expect(legacy).toMatch(/^[mn]/);
    const [hash] = await mineBlocks(rpc, 1, legacy);
    const block = await rpc.getBlockWithTxs(hash!);
    expect(block.tx[0]!.vout[0]!.scriptPubKey).toMatchObject({ type: 'pubkeyhash', address: legacy });
    // BIP 34: the coinbase starts with the height push.
    const coinbaseHex = block.tx[0]!.vin[0]!.coinbase!;
    expect(coinbaseHex.length).toBeGreaterThan(0);
    // Segwit: the coinbase carries a witness commitment (BIP 141).
    expect(block.tx[0]!.vout.some((o) => o.scriptPubKey.hex.startsWith('6a24aa21a9ed'))).toBe(true);
    const fee = await rpc.estimateSmartFee(6);
    expect(fee.blocks).toBeGreaterThan(0);
    expect(fee.feeRateSatPerKvB === undefined ? fee.errors.length : 1).toBeGreaterThan(0);
  });

  it('accepts a P2WPKH spend, mines it, and reports it like Core', async () => {
    const { key, utxo } = await faucet.fundedKey(200_000n);
    const dest = TestKey.random();
    const spend = buildP2wpkhSpend([{ utxo, key }], [{ address: dest.address, valueSats: 150_000n }]);
    expect(await rpc.sendRawTransaction(spend.hex)).toBe(spend.txid);
    expect(await rpc.getRawMempool()).toContain(spend.txid);
    const entry = await rpc.getMempoolEntry(spend.txid);
    expect(entry.feeSats).toBe(spend.feeSats);
    expect(entry.vsize).toBe(spend.vsize);
    // Sending it again while in the mempool is not an error (Core returns the txid).
    expect(await rpc.sendRawTransaction(spend.hex)).toBe(spend.txid);
    // The funding output is spent in the mempool: gettxout with mempool says null.
    expect(await rpc.getTxOut(utxo.txid, utxo.vout, true)).toBeNull();
    expect(await rpc.getTxOut(utxo.txid, utxo.vout, false)).not.toBeNull();

    const [blockHash] = await mineBlocks(rpc, 1);
    const tx = await rpc.getRawTransaction(spend.txid);
    expect(tx).toMatchObject({ txid: spend.txid, blockhash: blockHash, confirmations: 1 });
    expect(tx.vout[0]).toMatchObject({
      n: 0,
      valueSats: 150_000n,
      scriptPubKey: { type: 'witness_v0_keyhash', address: dest.address },
    });
    expect(tx.vin[0]!.txinwitness).toHaveLength(2);
    const block = await rpc.getBlockWithTxs(blockHash!);
    expect(block.tx.map((t) => t.txid)).toContain(spend.txid);
    expect((await rpc.getBlock(blockHash!)).tx).toContain(spend.txid);
    expect(await rpc.getRawTransactionHex(spend.txid)).toBe(spend.hex);
    const out = await rpc.getTxOut(spend.txid, 0);
    expect(out).toMatchObject({ confirmations: 1, valueSats: 150_000n, coinbase: false });
    expect(out!.scriptPubKey).toMatchObject({ address: dest.address, type: 'witness_v0_keyhash' });
  });

  it('rejects a transaction whose nLockTime is in the future as -26 non-final, accepts it at the height', async () => {
    const { key, utxo } = await faucet.fundedKey(100_000n);
    const height = await rpc.getBlockCount();
    const locked = buildP2wpkhSpend([{ utxo, key }], [{ address: TestKey.random().address, valueSats: 90_000n }], {
      locktime: height + 2,
      sequence: 0xfffffffe,
    });
    await expectChainError(rpc.sendRawTransaction(locked.hex), 'CHAIN_NON_FINAL', -26, /^non-final/);
    const [verdict] = await rpc.testMempoolAccept([locked.hex]);
    expect(verdict).toMatchObject({ txid: locked.txid, allowed: false, rejectReason: 'non-final' });
    // Consensus IsFinalTx: nLockTime = L is final in blocks of height > L, so the
    // mempool (judging for the next block) takes it once the tip is at L.
    await mineBlocks(rpc, 1);
    await expectChainError(rpc.sendRawTransaction(locked.hex), 'CHAIN_NON_FINAL', -26, /^non-final/);
    await mineBlocks(rpc, 1);
    expect(await rpc.sendRawTransaction(locked.hex)).toBe(locked.txid);
  });

  it('rejects a relative lock time not reached as -26 non-BIP68-final (CSV active)', async () => {
    const { key, utxo } = await faucet.fundedKey(100_000n);
    const relative = buildP2wpkhSpend([{ utxo, key }], [{ address: TestKey.random().address, valueSats: 90_000n }], {
      sequence: 5, // BIP 68: five blocks after the input confirmed
      version: 2,
    });
    await expectChainError(rpc.sendRawTransaction(relative.hex), 'CHAIN_NON_BIP68_FINAL', -26, /^non-BIP68-final/);
    await mineBlocks(rpc, 4);
    expect(await rpc.sendRawTransaction(relative.hex)).toBe(relative.txid);
  });

  it('reports spending a spent or unknown output as -25 missing inputs, a confirmed resend as -27', async () => {
    const { key, utxo } = await faucet.fundedKey(100_000n);
    const first = buildP2wpkhSpend([{ utxo, key }], [{ address: TestKey.random().address, valueSats: 90_000n }]);
    const second = buildP2wpkhSpend([{ utxo, key }], [{ address: TestKey.random().address, valueSats: 80_000n }]);
    await rpc.sendRawTransaction(first.hex);
    await mineBlocks(rpc, 1);
    await expectChainError(rpc.sendRawTransaction(second.hex), 'CHAIN_MISSING_INPUTS', -25, /missingorspent|missing/i);
    const [verdict] = await rpc.testMempoolAccept([second.hex]);
    expect(verdict).toMatchObject({ allowed: false, rejectReason: 'missing-inputs' });
    await expectChainError(rpc.sendRawTransaction(first.hex), 'CHAIN_ALREADY_IN_CHAIN', -27, /already/i);
    const unknown = buildP2wpkhSpend(
      [{ utxo: { ...utxo, txid: 'ab'.repeat(32) }, key }],
      [{ address: TestKey.random().address, valueSats: 80_000n }],
    );
    await expectChainError(rpc.sendRawTransaction(unknown.hex), 'CHAIN_MISSING_INPUTS', -25, /missing/i);
  });

  it('rejects a double spend of a mempool transaction and a bad signature with -26', async () => {
    const { key, utxo } = await faucet.fundedKey(100_000n);
    const first = buildP2wpkhSpend([{ utxo, key }], [{ address: TestKey.random().address, valueSats: 90_000n }]);
    const conflict = buildP2wpkhSpend([{ utxo, key }], [{ address: TestKey.random().address, valueSats: 89_000n }]);
    await rpc.sendRawTransaction(first.hex);
    await expectChainError(rpc.sendRawTransaction(conflict.hex), 'CHAIN_VERIFY_REJECTED', -26, /conflict|insufficient fee/);

    const other = await faucet.fundedKey(100_000n);
    const good = buildP2wpkhSpend([{ utxo: other.utxo, key: other.key }], [{ address: TestKey.random().address, valueSats: 90_000n }]);
    const tampered = Transaction.fromHex(good.hex);
    const sig = tampered.ins[0]!.witness[0]!;
    sig[10] = sig[10]! ^ 0x01; // corrupt r: still DER, no longer valid
    const err = await rpc.sendRawTransaction(tampered.toHex()).catch((e: unknown) => e);
    expect(isChainError(err, 'CHAIN_SCRIPT_VERIFY_FAILED')).toBe(true);
    expect((err as { rpcCode?: number }).rpcCode).toBe(-26);
    expect((err as { rpcMessage?: string }).rpcMessage).toMatch(/script-verify-flag/);
    const [verdict] = await rpc.testMempoolAccept([tampered.toHex()]);
    expect(verdict!.allowed).toBe(false);
    expect(verdict!.rejectReason).toMatch(/script-verify-flag/);
  });

  it('answers testmempoolaccept in Core shape without adding the transaction', async () => {
    const { key, utxo } = await faucet.fundedKey(100_000n);
    const spend = buildP2wpkhSpend([{ utxo, key }], [{ address: TestKey.random().address, valueSats: 90_000n }]);
    const raw = await rpc.call('testmempoolaccept', [[spend.hex]], z.unknown());
    expect(raw).toEqual([
      {
        txid: spend.txid,
        wtxid: expect.stringMatching(/^[0-9a-f]{64}$/),
        allowed: true,
        vsize: spend.vsize,
        fees: expect.objectContaining({ base: expect.anything() }),
      },
    ]);
    const [typed] = await rpc.testMempoolAccept([spend.hex]);
    expect(typed).toMatchObject({ txid: spend.txid, allowed: true, vsize: spend.vsize, feeSats: spend.feeSats });
    expect(await rpc.getRawMempool()).not.toContain(spend.txid);
    // A max fee rate below the transaction's makes it fail, as in Core.
    const [capped] = await rpc.testMempoolAccept([spend.hex], { maxFeeRateSatPerKvB: 1000n });
    expect(capped).toMatchObject({ allowed: false, rejectReason: 'max-fee-exceeded' });
  });

  it('maps unknown transactions and blocks to CHAIN_NOT_FOUND (-5)', async () => {
    await expectChainError(rpc.getRawTransaction('00'.repeat(32)), 'CHAIN_NOT_FOUND', -5, /No such/);
    await expectChainError(rpc.getBlock('00'.repeat(32)), 'CHAIN_NOT_FOUND', -5, /not found/i);
    await expectChainError(rpc.getMempoolEntry('00'.repeat(32)), 'CHAIN_NOT_FOUND', -5, /not in mempool/i);
  });
});

// Bitcoin Core (validation.cpp FindMostWorkChain, CBlockIndexWorkComparator):
// the active chain ends at the valid block with the most work; among equal
// work, the block the node received first wins. invalidateblock and
// reconsiderblock re-apply that rule.
describe('chain selection after invalidateblock / reconsiderblock, as Core', () => {
  /** The active tip by getchaintips (and getbestblockhash agrees). */
  async function activeTip(): Promise<string> {
    const tips = await rpc.getChainTips();
    const active = tips.filter((t) => t.status === 'active');
    expect(active).toHaveLength(1);
    expect(await rpc.getBestBlockHash()).toBe(active[0]!.hash);
    return active[0]!.hash;
  }

  it('an equal-work tie goes to the branch received first, not to the branch the node was on', async () => {
    const fork = await rpc.getBestBlockHash();
    const forkHeight = (await rpc.getBlockHeader(fork)).height;
    // Three branches from the same block, received in this order:
    // A (2 blocks, active), B (2 blocks, an equal-work rival: stays a side branch), C (3 blocks: the node moves to it).
    const a = await mineBlocks(rpc, 2);
    const b1 = await buildBlockOn(rpc, fork);
    expect(await rpc.submitBlock(b1.hex)).toBe('inconclusive');
    const b2 = await buildBlockOn(rpc, b1.hash);
    expect(await rpc.submitBlock(b2.hex)).toBe('inconclusive');
    expect(await activeTip()).toBe(a[1]);
    const c = await mineCompetingBranch(rpc, fork, 3);
    expect(await activeTip()).toBe(c[2]);

    // Invalidating C's tip leaves A, B and C at equal work: A was received first.
    await rpc.invalidateBlock(c[2]!);
    expect(await activeTip()).toBe(a[1]);
    expect(await rpc.getBlockCount()).toBe(forkHeight + 2);
    expect(await rpc.getBlockHash(forkHeight + 1)).toBe(a[0]);
    const tips = await rpc.getChainTips();
    expect(tips.find((t) => t.hash === c[2])).toMatchObject({ height: forkHeight + 3, branchlen: 3, status: 'invalid' });
    expect(tips.find((t) => t.hash === b2.hash)).toMatchObject({ height: forkHeight + 2, branchlen: 2 });
    expect(['valid-headers', 'valid-fork']).toContain(tips.find((t) => t.hash === b2.hash)!.status);
    // C's blocks are still known, off the active chain (Core: confirmations -1).
    expect(await rpc.getBlockHeader(c[2]!)).toMatchObject({ confirmations: -1, height: forkHeight + 3, previousblockhash: c[1] });
    expect((await rpc.getBlockHeader(c[1]!)).confirmations).toBe(-1);
    expect((await rpc.getBlock(c[2]!)).hash).toBe(c[2]);

    // Invalidating A's tip: B and C's first two blocks tie, B was received before C.
    await rpc.invalidateBlock(a[1]!);
    expect(await activeTip()).toBe(b2.hash);
    expect((await rpc.getBlockHeader(a[1]!)).confirmations).toBe(-1);

    // Reconsidering A's tip: A and B tie again, A was received first: back to A.
    await rpc.reconsiderBlock(a[1]!);
    expect(await activeTip()).toBe(a[1]);
    // Reconsidering C's tip: C has the most work.
    await rpc.reconsiderBlock(c[2]!);
    expect(await activeTip()).toBe(c[2]);
    expect((await rpc.getBlockHeader(c[2]!)).confirmations).toBe(1);
    const after = await rpc.getChainTips();
    expect(after.find((t) => t.hash === a[1])).toMatchObject({ branchlen: 2, status: 'valid-fork' });
    expect(after.find((t) => t.hash === b2.hash)).toMatchObject({ branchlen: 2 });
    expect(after.filter((t) => t.status === 'invalid').map((t) => t.hash)).not.toContain(c[2]);
  });

  it('invalidating a block off the active chain leaves the active chain alone', async () => {
    const tip = await rpc.getBestBlockHash();
    const parent = (await rpc.getBlockHeader(tip)).previousblockhash!;
    const rival = await buildBlockOn(rpc, parent);
    expect(await rpc.submitBlock(rival.hex)).toBe('inconclusive');
    await rpc.invalidateBlock(rival.hash);
    expect(await activeTip()).toBe(tip);
    expect((await rpc.getChainTips()).find((t) => t.hash === rival.hash)).toMatchObject({ branchlen: 1, status: 'invalid' });
    // A block on top of an invalid block is refused (BIP 22 bad-prevblk).
    await expect(mineCompetingBranch(rpc, rival.hash, 1)).rejects.toMatchObject({ code: 'CHAIN_BLOCK_REJECTED', rpcMessage: 'bad-prevblk' });
    expect(await activeTip()).toBe(tip);
    // Reconsidered, the rival ties with the tip, which was received first: it stays.
    await rpc.reconsiderBlock(rival.hash);
    expect(await activeTip()).toBe(tip);
    expect((await rpc.getChainTips()).find((t) => t.hash === rival.hash)).toMatchObject({ branchlen: 1, status: 'valid-headers' });
  });
});

