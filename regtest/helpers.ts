/**
 * Story helpers for regtest tests: fund an address from a faucet, mine blocks,
 * run a mining pool that pays its members in the coinbase (getblocktemplate →
 * our coinbase → submitblock) or from a hot wallet, and reorganise the chain
 * (invalidate/reconsider, or a longer competing branch of our own blocks).
 *
 * Each helper takes a `BitcoinRpc`; none knows whether the node is Core or bcoin.
 * Amounts are bigint satoshis.
 *
 * This module does NOT build DLC transactions (protocol/ does) and does not
 * start nodes (node.ts does).
 */
import { Transaction, address as btcAddress } from 'bitcoinjs-lib';
import { blockSubsidy, subsidyHalvingInterval } from '../protocol/hashpower/index.js';
import type { BitcoinRpc } from '../src/chain/rpc.js';
import { assembleBlock, buildCoinbase, witnessCommitmentScript } from './blocks.js';
import type { BuiltBlock, CoinbaseOutput } from './blocks.js';
import { REGTEST, TestKey, listUnspent, sendFromKey } from './wallet.js';
import type { Payment, SignedTx, SpendOptions, Utxo } from './wallet.js';

// --- mining --------------------------------------------------------------------

/** An address nobody keeps the key of: blocks mined "by someone else". */
export function strangerAddress(): string {
  return TestKey.random().address;
}

/**
 * Mines `n` blocks paying their coinbase to `address` (default: a stranger).
 * @returns the block hashes, oldest first.
 * @throws {ChainError}
 */
export function mineBlocks(rpc: BitcoinRpc, n: number, address: string = strangerAddress()): Promise<string[]> {
  return rpc.generateToAddress(n, address);
}

/** Mines blocks until the chain height is `height` (no-op if already there). @throws {ChainError} */
export async function mineToHeight(rpc: BitcoinRpc, height: number, address?: string): Promise<string[]> {
  const now = await rpc.getBlockCount();
  return height > now ? mineBlocks(rpc, height - now, address) : [];
}

// --- faucet --------------------------------------------------------------------

/**
 * Pays test addresses from a key that mined mature coinbases. One funding at a
 * time per faucet object; outputs already spent in the mempool are skipped, so
 * faucets of several test files may share one key.
 */
export class Faucet {
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly rpc: BitcoinRpc,
    readonly key: TestKey,
  ) {}

  /**
   * Mines 101 blocks to the faucet key when it has nothing spendable yet
   * (a coinbase needs 100 confirmations).
   * @throws {ChainError}
   */
  async ensureFunds(): Promise<void> {
    if ((await listUnspent(this.rpc, this.key.address)).length === 0) {
      await mineBlocks(this.rpc, 101, this.key.address);
    }
  }

  /**
   * Sends `valueSats` to `address`, then (unless `confirm` is false) mines one
   * block so the output is confirmed.
   * @returns the funded output.
   * @throws {Error} when the faucet is empty; {ChainError} from the node.
   */
  fund(address: string, valueSats: bigint, options: { confirm?: boolean } = {}): Promise<Utxo> {
    const run = this.#queue.then(async () => {
      const sent = await sendFromKey(this.rpc, this.key, [{ address, valueSats }]);
      if (options.confirm ?? true) await mineBlocks(this.rpc, 1, this.key.address);
      const out = await this.rpc.getTxOut(sent.txid, 0, true);
      if (!out) throw new Error(`funding output ${sent.txid}:0 vanished`);
      return {
        txid: sent.txid,
        vout: 0,
        valueSats,
        scriptPubKey: out.scriptPubKey.hex,
        confirmations: out.confirmations,
        coinbase: false,
      } satisfies Utxo;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** A fresh key with one confirmed output of `valueSats`. @throws as `fund` */
  async fundedKey(valueSats: bigint): Promise<{ key: TestKey; utxo: Utxo }> {
    const key = TestKey.random();
    return { key, utxo: await this.fund(key.address, valueSats) };
  }
}

// --- pool simulator --------------------------------------------------------------

/** One pool member's share of each coinbase, in basis points (1/10,000). */
export interface PoolShare {
  address: string;
  shareBps: number;
}

/** A block found by the simulated pool. */
export interface PoolBlock {
  hash: string;
  height: number;
  coinbaseTxid: string;
  /** Subsidy plus fees (the template's coinbasevalue). */
  rewardSats: bigint;
  /** The coinbase outputs paid to members (and to `restAddress`), in output order. */
  payouts: { address: string; vout: number; valueSats: bigint }[];
}

/**
 * Splits `totalSats` by basis points, rounding each share down; what is left
 * goes to `restAddress` (or to the last share when there is none).
 * @throws {RangeError} when shares are negative or add up to more than 10,000.
 */
export function splitReward(
  totalSats: bigint,
  shares: PoolShare[],
  restAddress?: string,
): { address: string; valueSats: bigint }[] {
  const sum = shares.reduce((s, x) => s + x.shareBps, 0);
  if (shares.some((s) => !Number.isInteger(s.shareBps) || s.shareBps < 0) || sum > 10_000) {
    throw new RangeError('pool shares must be whole basis points adding up to at most 10,000');
  }
  const out = shares.map((s) => ({ address: s.address, valueSats: (totalSats * BigInt(s.shareBps)) / 10_000n }));
  const rest = totalSats - out.reduce((s, o) => s + o.valueSats, 0n);
  if (rest > 0n) {
    if (restAddress) out.push({ address: restAddress, valueSats: rest });
    else if (out.length > 0) out[out.length - 1]!.valueSats += rest;
  }
  return out.filter((o) => o.valueSats > 0n);
}

/**
 * A mining pool that pays in the coinbase (as FPPS/PPLNS pools with coinbase
 * payouts do): for each of `blocks` blocks, takes the node's block template
 * (with its mempool transactions), writes our own coinbase paying each member
 * its share of the reward, grinds the header and submits it.
 * @throws {ChainError} when the node rejects a block.
 */
export async function mineAsPool(
  rpc: BitcoinRpc,
  options: { blocks: number; shares: PoolShare[]; restAddress?: string; tag?: string },
): Promise<PoolBlock[]> {
  const found: PoolBlock[] = [];
  for (let i = 0; i < options.blocks; i++) {
    const template = await rpc.getBlockTemplate();
    const txs = template.transactions.map((t) => Transaction.fromHex(t.data));
    const split = splitReward(template.coinbasevalue, options.shares, options.restAddress);
    const outputs: CoinbaseOutput[] = split.map((s) => ({
      script: btcAddress.toOutputScript(s.address, REGTEST),
      valueSats: s.valueSats,
    }));
    const tag = new TextEncoder().encode(options.tag ?? '/hashdlc-pool/');
    const coinbase = buildCoinbase(template.height, outputs, witnessCommitmentScript(txs), tag);
    const block = assembleBlock(
      { version: template.version, previousBlockHash: template.previousblockhash, time: template.curtime, bits: template.bits },
      coinbase,
      txs,
    );
    await rpc.submitBlock(block.hex);
    found.push({
      hash: block.hash,
      height: template.height,
      coinbaseTxid: coinbase.getId(),
      rewardSats: template.coinbasevalue,
      payouts: split.map((s, vout) => ({ address: s.address, vout, valueSats: s.valueSats })),
    });
  }
  return found;
}

/**
 * A pool that pays from a hot wallet: one ordinary transaction from the pool's
 * payout key to its members. Mines one block to confirm it unless `confirm` is false.
 * @throws {Error} when the pool key lacks funds; {ChainError} from the node.
 */
export async function payFromPoolWallet(
  rpc: BitcoinRpc,
  poolKey: TestKey,
  payouts: Payment[],
  options: SpendOptions & { confirm?: boolean } = {},
): Promise<SignedTx> {
  const sent = await sendFromKey(rpc, poolKey, payouts, options);
  if (options.confirm ?? true) await mineBlocks(rpc, 1);
  return sent;
}

// --- reorgs --------------------------------------------------------------------

/** Regtest block subsidy: 50 BTC halving every 150 blocks (Core's regtest nSubsidyHalvingInterval), as the oracle's reward rules count it. */
export function regtestSubsidy(height: number): bigint {
  return blockSubsidy(height, subsidyHalvingInterval('regtest'));
}

/**
 * Builds (does not submit) a block on any `parentHash`, as another miner would:
 * coinbase to `payoutAddress` claiming the subsidy (plus `claimFeesSats`, at
 * most the fees `txs` pay: a miner collecting the fees of its own
 * transactions), then `txs`.
 * @throws {ChainError} when the parent is unknown.
 */
export async function buildBlockOn(
  rpc: BitcoinRpc,
  parentHash: string,
  options: { payoutAddress?: string; txs?: Transaction[]; time?: number; claimFeesSats?: bigint } = {},
): Promise<BuiltBlock> {
  const parent = await rpc.getBlockHeader(parentHash);
  const height = parent.height + 1;
  const txs = options.txs ?? [];
  const coinbase = buildCoinbase(
    height,
    [{ script: btcAddress.toOutputScript(options.payoutAddress ?? strangerAddress(), REGTEST), valueSats: regtestSubsidy(height) + (options.claimFeesSats ?? 0n) }],
    witnessCommitmentScript(txs),
    new TextEncoder().encode(`/hashdlc-branch/${Math.random().toString(36).slice(2, 10)}/`),
  );
  // BIP 113: later than the parent's median time past; never behind the parent either.
  const time = options.time ?? Math.max(parent.time + 1, parent.mediantime + 1, Math.floor(Date.now() / 1000));
  return assembleBlock({ version: 0x20000000, previousBlockHash: parentHash, time, bits: parent.bits }, coinbase, txs);
}

/**
 * Mines a competing branch of `blocks` blocks on `forkParent` (a block hash),
 * submitting each; `txs` go into the branch's first block. When the branch ends
 * with more work than the active chain, the node reorganises onto it.
 * @returns the branch's block hashes, oldest first.
 * @throws {ChainError} when the node rejects a block.
 */
export async function mineCompetingBranch(
  rpc: BitcoinRpc,
  forkParent: string,
  blocks: number,
  options: { txs?: Transaction[]; payoutAddress?: string } = {},
): Promise<string[]> {
  const hashes: string[] = [];
  let parent = forkParent;
  for (let i = 0; i < blocks; i++) {
    const block = await buildBlockOn(rpc, parent, {
      payoutAddress: options.payoutAddress,
      txs: i === 0 ? options.txs : [],
    });
    await rpc.submitBlock(block.hex);
    hashes.push(block.hash);
    parent = block.hash;
  }
  return hashes;
}

/**
 * Replaces `blockHash` and every block after it by a longer branch of our own
 * empty blocks, so the transactions of those blocks become unconfirmed (a
 * node returns them to its mempool). `extraBlocks` (default 1) is how much
 * longer the new branch is.
 * @returns the orphaned hashes and the new branch.
 * @throws {ChainError}
 */
export async function reorgOut(
  rpc: BitcoinRpc,
  blockHash: string,
  options: { extraBlocks?: number } = {},
): Promise<{ orphaned: string[]; branch: string[] }> {
  const header = await rpc.getBlockHeader(blockHash);
  if (header.confirmations < 1 || !header.previousblockhash) throw new Error(`${blockHash} is not on the active chain`);
  const tip = await rpc.getBlockCount();
  const orphaned: string[] = [];
  for (let h = header.height; h <= tip; h++) orphaned.push(await rpc.getBlockHash(h));
  const length = tip - header.height + 1 + (options.extraBlocks ?? 1);
  const branch = await mineCompetingBranch(rpc, header.previousblockhash, length);
  return { orphaned, branch };
}

/**
 * Disconnects `blockHash` and its descendants with invalidateblock (their
 * transactions return to the mempool); the returned function reconsiders it.
 * @throws {ChainError}
 */
export async function disconnectBlock(rpc: BitcoinRpc, blockHash: string): Promise<() => Promise<void>> {
  await rpc.invalidateBlock(blockHash);
  return () => rpc.reconsiderBlock(blockHash);
}
