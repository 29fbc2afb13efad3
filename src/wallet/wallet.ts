/**
 * The participant wallet: a directory holding the seed file (seed.ts), the
 * wallet state (next address and contract indexes) and the contracts
 * (contracts.ts); BIP84 addresses (keys.ts); coins found through the node's
 * RPC; coin selection for a DLC's funding inputs and the spendable coins a
 * `wallet send` takes (`spendableUtxos`); PSBT signing of its own inputs.
 *
 *   <dir>/seed.json        mode 0600 (refused otherwise)
 *   <dir>/state.json       { version, nextReceive, nextChange, nextContract }
 *   <dir>/contracts/*.json one file per contract (contracts.ts)
 *
 * Coins: `scantxoutset` over `addr()` descriptors of every receive and change
 * address up to the next unused index plus a gap (default 20, BIP44's gap
 * limit), so only confirmed outputs count; outputs reserved by a contract
 * that has not yet been funded (or given up), and outputs already spent in
 * the mempool (gettxout), are left out of coin selection.
 * Funding inputs carry the whole previous transaction (dlcspecs
 * `funding_inputs.prevtx`), fetched with `getrawtransaction` (with the block
 * hash when the node has no transaction index).
 *
 * Signing: only the PSBT input indexes the caller names (the inputs its
 * party contributed), each of which must spend one of the wallet's
 * addresses; never "every input the wallet owns" (issue 9: a counterparty
 * could list another coin of this wallet as its own input).
 *
 * Concurrency: one process per wallet directory (lock.ts); `open(dir, {
 * lock: true })` holds the lock until `release()`, and every read-modify-write
 * of the state file takes it for its duration.
 *
 * This module does NOT broadcast, does not sign anything but the named
 * P2WPKH inputs of a PSBT, and holds no contract keys beyond a call (keys.ts
 * derives them on demand).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Psbt } from 'bitcoinjs-lib';
import { z } from 'zod';
import type { FundingInput } from '../../protocol/messages/index.js';
import { fromHex, toHex } from '../../protocol/messages/index.js';
import { DUST_LIMIT, partyFees } from '../../protocol/tx/index.js';
import type { BitcoinRpc } from '../chain/index.js';
import { isChainError } from '../chain/index.js';
import { ContractStore } from './contracts.js';
import { WalletError } from './errors.js';
import { writePrivateFile } from './files.js';
import { acquireWalletLock, releaseWalletLock, withWalletLock } from './lock.js';
import { CHANGE, RECEIVE, WalletKeys, type AddressChain, type ContractIdentity, type ContractKeys, type WalletAddress } from './keys.js';
import { walletNetwork, networkOfChain, type WalletNetwork, type WalletNetworkName } from './network.js';
import { createSeedFile, readSeedFile } from './seed.js';

/** Confirmations before a coinbase output may be spent (Bitcoin consensus). */
const COINBASE_MATURITY = 100;

/** BIP44 address gap limit. */
export const DEFAULT_GAP = 20;
/**
 * `max_witness_len` of a P2WPKH funding input: count (1) + signature push
 * (1 + 72: DER of at most 71 bytes with low S plus the sighash byte, one more
 * than our low-R signatures need, so external wallets that do not grind R fit)
 * + pubkey push (1 + 33).
 */
export const P2WPKH_MAX_WITNESS_LEN = 108;
/**
 * nSequence of our funding inputs: BIP125-signalling (0xfffffffd), so that
 * `hashdlc cancel` can replace a funding transaction the counterparty holds
 * back and broadcasts late (issue 9, hole 2). The funding txid does not
 * change by it: nSequence is fixed in the funding_input message and signed.
 */
export const FUNDING_INPUT_SEQUENCE = 0xfffffffd;

export interface WalletState {
  version: 1;
  nextReceive: number;
  nextChange: number;
  nextContract: number;
}

/** A confirmed output paying one of the wallet's addresses. */
export interface WalletUtxo {
  txid: string;
  vout: number;
  valueSats: bigint;
  height: number;
  address: WalletAddress;
}

const stateSchema = z.object({
  version: z.literal(1),
  nextReceive: z.number().int().nonnegative(),
  nextChange: z.number().int().nonnegative(),
  nextContract: z.number().int().nonnegative(),
});

/** A random u64 (serial ids: dlcspecs wants them random so they reveal no ordering). */
export function randomU64(): bigint {
  return BigInt(`0x${toHex(randomBytes(8))}`);
}

/**
 * What `n` P2WPKH funding inputs must hold for a party that locks `amount`
 * (collateral plus extra outputs it pays) at `feeRatePerVb`: the amount, the
 * party's funding and closing fees (dlcspecs Transactions.md "Fee Payment",
 * P2WPKH change and payout) and a change output of at least the dust limit.
 */
export function fundingRequirement(amount: bigint, n: number, feeRatePerVb: bigint, extraOutputSpkLens: readonly number[] = []): bigint {
  const f = partyFees(
    {
      inputs: Array.from({ length: n }, () => ({ maxWitnessLen: P2WPKH_MAX_WITNESS_LEN, redeemScriptLen: 0 })),
      changeSpkLen: 22,
      payoutSpkLen: 22,
      extraOutputSpkLens,
    },
    feeRatePerVb,
  );
  return amount + f.fundingFee + f.closingFee + DUST_LIMIT;
}

/**
 * Funding inputs from outpoints of another wallet (an external wallet signs
 * them later in the funding PSBT): each must be an unspent, confirmed P2WPKH
 * output; its previous transaction comes from the node.
 * @throws {WalletError} WALLET_INSUFFICIENT_FUNDS when spent or unknown, or
 *   WALLET_STATE for an output type we cannot size (not P2WPKH); {ChainError}.
 */
export async function externalFundingInputs(rpc: BitcoinRpc, outpoints: readonly string[]): Promise<{ inputs: FundingInput[]; total: bigint }> {
  const inputs: FundingInput[] = [];
  let total = 0n;
  for (const op of outpoints) {
    const m = /^([0-9a-f]{64}):(\d{1,6})$/.exec(op.toLowerCase());
    if (m === null) throw new WalletError('WALLET_STATE', `outpoint '${op}' is not TXID:VOUT`);
    const [txid, vout] = [m[1]!, Number(m[2])];
    const out = await rpc.getTxOut(txid, vout, true);
    if (out === null) throw new WalletError('WALLET_INSUFFICIENT_FUNDS', `outpoint ${op} is spent or does not exist`);
    if (out.confirmations < 1) throw new WalletError('WALLET_INSUFFICIENT_FUNDS', `outpoint ${op} is not confirmed yet`);
    if (!/^0014[0-9a-f]{40}$/.test(out.scriptPubKey.hex)) {
      throw new WalletError('WALLET_STATE', `outpoint ${op} is not a P2WPKH output (only P2WPKH external inputs are supported)`);
    }
    inputs.push({
      inputSerialId: randomU64(),
      prevTx: fromHex(await rpc.getRawTransactionHex(txid)),
      prevTxVout: vout,
      sequence: FUNDING_INPUT_SEQUENCE,
      maxWitnessLen: P2WPKH_MAX_WITNESS_LEN,
      redeemScript: new Uint8Array(0),
    });
    total += out.valueSats;
  }
  return { inputs, total };
}

/**
 * Whether a confirmed coin can be spent now: scantxoutset sees confirmed
 * outputs only, so one already spent in the mempool is skipped; a coinbase
 * output (a pool paying in the coinbase pays the wallet's addresses there)
 * is spendable only after COINBASE_MATURITY confirmations (consensus rule).
 * @throws {ChainError}
 */
async function isSpendable(rpc: BitcoinRpc, c: WalletUtxo): Promise<boolean> {
  const live = await rpc.getTxOut(c.txid, c.vout, true);
  return live !== null && !(live.coinbase && live.confirmations < COINBASE_MATURITY);
}

export class Wallet {
  readonly dir: string;
  readonly network: WalletNetwork;
  readonly keys: WalletKeys;
  #locked = false;

  private constructor(dir: string, network: WalletNetwork, keys: WalletKeys) {
    this.dir = dir;
    this.network = network;
    this.keys = keys;
  }

  /** The contracts stored in this wallet's directory. */
  get contracts(): ContractStore {
    return new ContractStore(this.dir);
  }

  static seedPath(dir: string): string {
    return join(dir, 'seed.json');
  }

  /**
   * Creates a wallet in `dir`: the seed file (a new 24-word mnemonic unless
   * one is given) and the state file.
   * @throws {WalletError} WALLET_EXISTS, WALLET_BAD_SEED.
   */
  static init(dir: string, network: WalletNetworkName, mnemonic?: string): { wallet: Wallet; mnemonic: string } {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const seed = createSeedFile(Wallet.seedPath(dir), network, mnemonic);
    const state: WalletState = { version: 1, nextReceive: 0, nextChange: 0, nextContract: 0 };
    writePrivateFile(join(dir, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
    const net = walletNetwork(network);
    return { wallet: new Wallet(dir, net, WalletKeys.fromMnemonic(seed.mnemonic, net)), mnemonic: seed.mnemonic };
  }

  /**
   * Opens the wallet in `dir` (checking the seed file's permissions). With
   * `lock`, this process holds the wallet lock until {@link release} (a
   * command's whole run: its reads and writes of state, reservations and
   * contract records are then atomic against other processes).
   * @throws {WalletError} WALLET_NOT_FOUND, WALLET_PERMISSIONS, WALLET_BAD_SEED,
   *   WALLET_NETWORK_MISMATCH when `expectNetwork` differs from the seed file's,
   *   WALLET_LOCKED when another process holds the lock.
   */
  static open(dir: string, options: { expectNetwork?: WalletNetworkName; passphrase?: string; lock?: boolean } = {}): Wallet {
    const seed = readSeedFile(Wallet.seedPath(dir));
    if (options.expectNetwork !== undefined && options.expectNetwork !== seed.network) {
      throw new WalletError('WALLET_NETWORK_MISMATCH', `the wallet in ${dir} is a ${seed.network} wallet, not ${options.expectNetwork}`);
    }
    const net = walletNetwork(seed.network);
    const wallet = new Wallet(dir, net, WalletKeys.fromMnemonic(seed.mnemonic, net, options.passphrase ?? ''));
    if (options.lock === true) {
      acquireWalletLock(dir);
      wallet.#locked = true;
    }
    return wallet;
  }

  /** Gives back the wallet lock taken by `open(dir, { lock: true })` (idempotent). */
  release(): void {
    if (!this.#locked) return;
    this.#locked = false;
    releaseWalletLock(this.dir);
  }

  // ---------------------------------------------------------------- state

  /** @throws {WalletError} WALLET_STATE when the state file is unreadable. */
  state(): WalletState {
    const path = join(this.dir, 'state.json');
    try {
      return stateSchema.parse(JSON.parse(readFileSync(path, 'utf8'))) as WalletState;
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, nextReceive: 0, nextChange: 0, nextContract: 0 };
      throw new WalletError('WALLET_STATE', `wallet state ${path} is unreadable`, { cause });
    }
  }

  private saveState(s: WalletState): void {
    writePrivateFile(join(this.dir, 'state.json'), `${JSON.stringify(s, null, 2)}\n`);
  }

  /** Hands out the next index of `field`: read, increment, write under the wallet lock. */
  private takeIndex(field: 'nextReceive' | 'nextChange' | 'nextContract'): number {
    return withWalletLock(this.dir, () => {
      const s = this.state();
      const i = s[field];
      this.saveState({ ...s, [field]: i + 1 });
      return i;
    });
  }

  /** A receive address never handed out before. */
  newReceiveAddress(): WalletAddress {
    return this.keys.address(RECEIVE, this.takeIndex('nextReceive'));
  }

  /** A change address never handed out before. */
  newChangeAddress(): WalletAddress {
    return this.keys.address(CHANGE, this.takeIndex('nextChange'));
  }

  /** The keys of a new contract (funding + identity), at a fresh index. */
  newContractKeys(): ContractKeys {
    return this.keys.contractKeys(this.takeIndex('nextContract'));
  }

  /** A new contract's keys but its funding secret key (signed with through a contract signer), at a fresh index. */
  newContractIdentity(): ContractIdentity {
    return this.keys.contractIdentity(this.takeIndex('nextContract'));
  }

  /** Every address up to the next unused index plus `gap`, both chains. */
  watchedAddresses(gap = DEFAULT_GAP): WalletAddress[] {
    const s = this.state();
    const out: WalletAddress[] = [];
    for (const [chain, next] of [[RECEIVE, s.nextReceive], [CHANGE, s.nextChange]] as [AddressChain, number][]) {
      for (let i = 0; i < next + gap; i++) out.push(this.keys.address(chain, i));
    }
    return out;
  }

  // ---------------------------------------------------------------- chain

  /**
   * Checks that the node is on the wallet's network.
   * @throws {WalletError} WALLET_NETWORK_MISMATCH; {ChainError} when the node fails.
   */
  async checkNode(rpc: BitcoinRpc): Promise<void> {
    const info = await rpc.getBlockchainInfo();
    const net = networkOfChain(info.chain);
    const ok = net === this.network.name || (net === 'testnet' && this.network.name === 'testnet');
    if (!ok) throw new WalletError('WALLET_NETWORK_MISMATCH', `the node is on '${info.chain}', the wallet is a ${this.network.name} wallet`);
  }

  /**
   * The wallet's confirmed outputs (scantxoutset over the watched addresses).
   * @throws {ChainError} when the node fails.
   */
  async utxos(rpc: BitcoinRpc, gap = DEFAULT_GAP): Promise<WalletUtxo[]> {
    const addrs = this.watchedAddresses(gap);
    const byScript = new Map(addrs.map((a) => [toHex(a.script), a]));
    const scan = await rpc.scanTxOutSet(addrs.map((a) => `addr(${a.address})`));
    const out: WalletUtxo[] = [];
    for (const u of scan.unspents) {
      const address = byScript.get(u.scriptPubKey.toLowerCase());
      if (address === undefined) continue;
      out.push({ txid: u.txid, vout: u.vout, valueSats: u.amountSats, height: u.height, address });
    }
    return out.sort((a, b) => (a.valueSats > b.valueSats ? -1 : a.valueSats < b.valueSats ? 1 : 0));
  }

  /**
   * The raw previous transaction of an output (for dlcspecs `prevtx` and PSBT
   * `non_witness_utxo`): from the transaction index or mempool, else from its block.
   * @throws {ChainError}
   */
  async prevTx(rpc: BitcoinRpc, txid: string, height?: number): Promise<Uint8Array> {
    try {
      return fromHex(await rpc.getRawTransactionHex(txid));
    } catch (err) {
      if (!isChainError(err) || height === undefined) throw err;
      const blockHash = await rpc.getBlockHash(height);
      return fromHex(await rpc.call('getrawtransaction', [txid, false, blockHash], z.string().regex(/^[0-9a-fA-F]*$/)));
    }
  }

  /**
   * Chooses confirmed, unreserved coins (largest first) that cover `amount`
   * (collateral plus extra outputs this party pays) plus this party's funding
   * and closing fees at `feeRatePerVb` (dlcspecs Transactions.md "Fee
   * Payment", P2WPKH inputs, P2WPKH change and payout) plus a change output
   * of at least the dust limit, and returns them as dlcspecs funding inputs
   * with random serial ids.
   * @throws {WalletError} WALLET_INSUFFICIENT_FUNDS; {ChainError}.
   */
  async selectFundingInputs(
    rpc: BitcoinRpc,
    amount: bigint,
    feeRatePerVb: bigint,
    options: { reserved?: ReadonlySet<string>; extraOutputSpkLens?: readonly number[]; gap?: number } = {},
  ): Promise<{ inputs: FundingInput[]; utxos: WalletUtxo[] }> {
    const reserved = options.reserved ?? new Set<string>();
    const coins = (await this.utxos(rpc, options.gap)).filter((u) => !reserved.has(`${u.txid}:${u.vout}`));
    const chosen: WalletUtxo[] = [];
    let total = 0n;
    const need = (n: number): bigint => fundingRequirement(amount, n, feeRatePerVb, options.extraOutputSpkLens ?? []);
    for (const c of coins) {
      if (chosen.length > 0 && total >= need(chosen.length)) break;
      if (!(await isSpendable(rpc, c))) continue;
      chosen.push(c);
      total += c.valueSats;
    }
    if (chosen.length === 0 || total < need(chosen.length)) {
      const have = coins.reduce((s, c) => s + c.valueSats, 0n);
      throw new WalletError(
        'WALLET_INSUFFICIENT_FUNDS',
        `need ${need(Math.max(1, chosen.length))} sats (amount ${amount} + fees + ${DUST_LIMIT} change) in confirmed coins, the wallet has ${have} available`,
      );
    }
    const inputs: FundingInput[] = [];
    for (const c of chosen) {
      inputs.push({
        inputSerialId: randomU64(),
        prevTx: await this.prevTx(rpc, c.txid, c.height),
        prevTxVout: c.vout,
        sequence: FUNDING_INPUT_SEQUENCE,
        maxWitnessLen: P2WPKH_MAX_WITNESS_LEN,
        redeemScript: new Uint8Array(0),
      });
    }
    return { inputs, utxos: chosen };
  }

  /**
   * Every coin that may be spent now, largest first: confirmed, not reserved
   * by a contract (`reserved`), not spent in the mempool, and (coinbase
   * outputs) mature. What `wallet send` spends.
   * @throws {ChainError}
   */
  async spendableUtxos(rpc: BitcoinRpc, options: { reserved?: ReadonlySet<string>; gap?: number } = {}): Promise<WalletUtxo[]> {
    const reserved = options.reserved ?? new Set<string>();
    const out: WalletUtxo[] = [];
    for (const c of await this.utxos(rpc, options.gap)) {
      if (!reserved.has(`${c.txid}:${c.vout}`) && (await isSpendable(rpc, c))) out.push(c);
    }
    return out;
  }

  // ---------------------------------------------------------------- signing

  /** Script pubkeys (hex) of every watched address, both chains, within `gap`. */
  ownScripts(gap = DEFAULT_GAP): Set<string> {
    return new Set(this.watchedAddresses(gap).map((a) => toHex(a.script)));
  }

  /**
   * Signs the inputs of `psbt` at `indexes`, and no other: each one that
   * spends one of the wallet's P2WPKH addresses (looked up by its witness
   * UTXO script, within the gap) is signed; the others are reported in
   * `notOurs` and left unsigned.
   * @throws {RangeError} for an index the PSBT does not have.
   */
  signInputs(psbt: Psbt, indexes: readonly number[], gap = DEFAULT_GAP): { signed: number[]; notOurs: number[] } {
    const byScript = new Map(this.watchedAddresses(gap).map((a) => [toHex(a.script), a]));
    const signed: number[] = [];
    const notOurs: number[] = [];
    for (const i of indexes) {
      const input = psbt.data.inputs[i];
      if (input === undefined) throw new RangeError(`the PSBT has no input ${i}`);
      const a = input.witnessUtxo === undefined ? undefined : byScript.get(toHex(input.witnessUtxo.script));
      if (a === undefined) {
        notOurs.push(i);
        continue;
      }
      psbt.signInput(i, this.keys.addressSigner(a.chain, a.index));
      signed.push(i);
    }
    return { signed, notOurs };
  }
}
