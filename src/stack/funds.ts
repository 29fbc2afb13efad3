/**
 * Money on the local regtest chain: the simulated pool's key (it mines the
 * blocks nobody else mines, so it owns mature coinbases) and the demo
 * wallets it keeps funded.
 *
 * `ensurePoolFunds` mines 101 blocks to the pool when it has nothing
 * spendable (a coinbase matures after 100 confirmations); `ensureWalletFunds`
 * opens (or creates) a participant wallet (src/wallet) and, when it holds
 * fewer than `minCoins` spendable coins of at least half `coinSats`, pays it
 * `coins` fresh ones from the pool in one transaction (mined at once).
 * Immature coinbase outputs (the pool's payouts to a delivery address) do
 * not count.
 *
 * This module does NOT run contracts; participants do (participant.ts, the library).
 */
import type { BitcoinRpc } from '../chain/index.js';
import { Wallet, isWalletError } from '../wallet/index.js';
import { COINBASE_MATURITY, TestKey, listUnspent, mineBlocks, sendFromKey } from '../../regtest/index.js';
import type { Payment } from '../../regtest/index.js';

/** What a demo wallet is topped up to. */
export interface WalletFunding {
  /** Value of each coin paid in (default 10,000,000 sats = 0.1 BTC). */
  coinSats?: bigint;
  /** Coins paid in when the wallet runs low (default 6). */
  coins?: number;
  /** Top up when fewer confirmed coins of at least `coinSats / 2` than this (default 3). */
  minCoins?: number;
}

/**
 * Makes sure the pool key has a spendable coin, mining 101 blocks to it if not.
 * @returns the blocks mined (0 when it had funds).
 * @throws {ChainError} from the node.
 */
export async function ensurePoolFunds(rpc: BitcoinRpc, pool: TestKey): Promise<number> {
  if ((await listUnspent(rpc, pool.address)).length > 0) return 0;
  await mineBlocks(rpc, COINBASE_MATURITY + 1, pool.address);
  return COINBASE_MATURITY + 1;
}

/**
 * Opens the regtest wallet in `dir`, creating it (new BIP39 seed, file mode 0600) when missing.
 * @throws {WalletError} for an unreadable or non-regtest wallet.
 */
export function openOrCreateWallet(dir: string): { wallet: Wallet; created: boolean } {
  try {
    return { wallet: Wallet.open(dir, { expectNetwork: 'regtest' }), created: false };
  } catch (err) {
    if (!isWalletError(err, 'WALLET_NOT_FOUND')) throw err;
    return { wallet: Wallet.init(dir, 'regtest').wallet, created: true };
  }
}

/**
 * Tops up each wallet that runs low, all in one pool transaction, then mines
 * one block to confirm it.
 * @returns sats paid to each wallet (0n when it had enough), in order.
 * @throws {Error} when the pool lacks funds; {ChainError} from the node.
 */
export async function ensureWalletFunds(rpc: BitcoinRpc, pool: TestKey, wallets: readonly Wallet[], funding: WalletFunding = {}): Promise<bigint[]> {
  const coinSats = funding.coinSats ?? 10_000_000n;
  const coins = funding.coins ?? 6;
  const minCoins = funding.minCoins ?? 3;
  const payments: Payment[] = [];
  const paid: bigint[] = [];
  for (const wallet of wallets) {
    let usable = 0;
    for (const u of await wallet.utxos(rpc)) {
      if (u.valueSats < coinSats / 2n) continue;
      // Pool payouts to the buyer's delivery address are coinbase outputs: spendable after 100 blocks only.
      const out = await rpc.getTxOut(u.txid, u.vout, true);
      if (out === null || (out.coinbase && out.confirmations < COINBASE_MATURITY)) continue;
      if (++usable >= minCoins) break;
    }
    if (usable >= minCoins) {
      paid.push(0n);
      continue;
    }
    for (let i = 0; i < coins; i++) payments.push({ address: wallet.newReceiveAddress().address, valueSats: coinSats });
    paid.push(coinSats * BigInt(coins));
  }
  if (payments.length > 0) {
    await ensurePoolFunds(rpc, pool);
    await sendFromKey(rpc, pool, payments);
    await mineBlocks(rpc, 1, pool.address);
  }
  return paid;
}
