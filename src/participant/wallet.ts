/**
 * The wallet use cases: `initWallet`, `newAddress`, `walletBalance` and
 * `sendFromWallet` (`hashdlc wallet init | address | balance | send`).
 *
 * `sendFromWallet` spends the wallet's spendable coins (confirmed, not
 * reserved by an unfunded contract, not spent in the mempool, mature) to one
 * address, change to a fresh change address, every input BIP125-signalling
 * (nSequence 0xfffffffd) so that `bump` can replace it; `all` sweeps every
 * spendable coin into one output. Coins are taken largest first.
 *
 * Not crash-idempotent by design: a send is an instruction to pay, and a
 * second `send` pays again (the first one's coins are spent in the mempool,
 * so other coins are taken). The agent never sends.
 *
 * This module does NOT print, read files or the environment, and signs no
 * input but the wallet's own (`Wallet.signInputs`).
 */
import { Psbt, Transaction } from 'bitcoinjs-lib';
import { DUST_LIMIT } from '../../protocol/tx/index.js';
import { FUNDING_INPUT_SEQUENCE, Wallet, WalletError, type WalletUtxo } from '../wallet/index.js';
import type { WalletNetworkName } from '../wallet/index.js';
import { addressScript, feeRate } from './contract.js';
import { ParticipantError } from './errors.js';
import { P2WPKH_SPK_LEN, feeFor, isDust, p2wpkhSpendVsize, reachesRate } from './fees.js';
import type { Participant } from './participant.js';

export interface InitWalletInput {
  /** Restore from these words; absent: a new 24-word mnemonic. */
  mnemonic?: string;
}

export interface InitWalletResult {
  walletDir: string;
  network: WalletNetworkName;
  mnemonic: string;
  firstAddress: string;
  restored: boolean;
}

/**
 * Creates the participant's wallet in its configured directory.
 * @throws {WalletError} WALLET_EXISTS, WALLET_BAD_SEED.
 */
export function initWallet(p: Participant, input: InitWalletInput = {}): Promise<InitWalletResult> {
  const { wallet, mnemonic } = Wallet.init(p.config.walletDir, p.config.network, input.mnemonic);
  return Promise.resolve({
    walletDir: wallet.dir,
    network: wallet.network.name,
    mnemonic,
    firstAddress: wallet.keys.address(0, 0).address,
    restored: input.mnemonic !== undefined,
  });
}

export interface NewAddressResult {
  address: string;
  path: string;
}

/**
 * A receive (or change) address never handed out before.
 * @throws {WalletError}
 */
export function newAddress(p: Participant, input: { change?: boolean } = {}): Promise<NewAddressResult> {
  const w = p.wallet();
  const a = input.change === true ? w.newChangeAddress() : w.newReceiveAddress();
  return Promise.resolve({ address: a.address, path: a.path });
}

export interface WalletCoin {
  outpoint: string;
  valueSats: bigint;
  address: string;
  height: number;
  /** Held for a contract that is not funded yet. */
  reserved: boolean;
}

export interface WalletBalanceResult {
  confirmedSats: bigint;
  availableSats: bigint;
  reservedSats: bigint;
  utxos: WalletCoin[];
}

/**
 * The wallet's confirmed coins (scantxoutset), those reserved by unfunded contracts marked.
 * @throws {WalletError}; {ChainError}.
 */
export async function walletBalance(p: Participant): Promise<WalletBalanceResult> {
  const w = p.wallet();
  const utxos = await w.utxos(await p.rpc());
  const reserved = w.contracts.reservedOutpoints();
  let confirmed = 0n;
  let locked = 0n;
  for (const u of utxos) {
    confirmed += u.valueSats;
    if (reserved.has(`${u.txid}:${u.vout}`)) locked += u.valueSats;
  }
  const coins = utxos.map((u) => ({
    outpoint: `${u.txid}:${u.vout}`,
    valueSats: u.valueSats,
    address: u.address.address,
    height: u.height,
    reserved: reserved.has(`${u.txid}:${u.vout}`),
  }));
  return { confirmedSats: confirmed, availableSats: confirmed - locked, reservedSats: locked, utxos: coins };
}

export interface SendInput {
  /** Destination, an address of the wallet's network. */
  address: string;
  /** Sats to pay, or every spendable coin (no change). */
  amount: bigint | 'all';
  /** Default: the participant's configured rate, else the node's estimate, else 2 on regtest. */
  feeRatePerVb?: bigint;
  /** Build the unsigned PSBT for an external signer and stop (nothing signed or broadcast). */
  psbtOnly?: boolean;
}

export interface SendResult {
  /** The transaction id (also of the unsigned PSBT: segwit inputs only, so signing does not change it). */
  txid: string;
  broadcast: boolean;
  address: string;
  amountSats: bigint;
  feeSats: bigint;
  feeRatePerVb: bigint;
  vsize: bigint;
  /** 0 when there is no change output. */
  changeSats: bigint;
  changeAddress: string | undefined;
  /** Outpoints spent, `txid:vout`. */
  inputs: string[];
  /** Base64 PSBT: unsigned with `psbtOnly`, else signed and finalized. */
  psbt: string;
}

interface CoinChoice {
  coins: WalletUtxo[];
  amount: bigint;
  fee: bigint;
  change: bigint;
}

/**
 * Coins (largest first) for `amount` at `rate`: with a change output when
 * the rest pays for it and leaves at least the dust limit, else without
 * (the rest goes to the fee, less than a change output would be worth).
 * @throws {WalletError} WALLET_INSUFFICIENT_FUNDS; {ParticipantError} USAGE for a dust amount.
 */
export function chooseSendCoins(coins: readonly WalletUtxo[], amount: bigint | 'all', rate: bigint, destSpkLen: number): CoinChoice {
  const have = coins.reduce((s, c) => s + c.valueSats, 0n);
  if (amount === 'all') {
    if (coins.length === 0) throw new WalletError('WALLET_INSUFFICIENT_FUNDS', 'the wallet has no spendable coins (confirmed, not reserved, not spent)');
    const fee = feeFor(rate, p2wpkhSpendVsize(coins.length, [destSpkLen]));
    if (isDust(have - fee)) {
      throw new WalletError('WALLET_INSUFFICIENT_FUNDS', `the wallet's ${have} spendable sats leave ${have - fee} after a ${fee} sats fee: below the dust limit ${DUST_LIMIT}`);
    }
    return { coins: [...coins], amount: have - fee, fee, change: 0n };
  }
  if (isDust(amount)) throw new ParticipantError('USAGE', `${amount} sats is below the dust limit (${DUST_LIMIT} sats)`);
  const chosen: WalletUtxo[] = [];
  let total = 0n;
  for (const c of coins) {
    chosen.push(c);
    total += c.valueSats;
    const withChange = feeFor(rate, p2wpkhSpendVsize(chosen.length, [destSpkLen, P2WPKH_SPK_LEN]));
    if (total >= amount + withChange + DUST_LIMIT) return { coins: chosen, amount, fee: withChange, change: total - amount - withChange };
    const without = feeFor(rate, p2wpkhSpendVsize(chosen.length, [destSpkLen]));
    if (total >= amount + without) return { coins: chosen, amount, fee: total - amount, change: 0n };
  }
  const need = amount + feeFor(rate, p2wpkhSpendVsize(Math.max(1, chosen.length), [destSpkLen]));
  throw new WalletError('WALLET_INSUFFICIENT_FUNDS', `need ${need} sats (amount ${amount} + fee at ${rate} sat/vB) in spendable coins, the wallet has ${have}`);
}

/**
 * Pays `amount` (or everything) to `address` from this wallet's spendable
 * coins; broadcasts unless `psbtOnly`.
 * @throws {ParticipantError} USAGE (bad or other-network address, dust amount), CONFIG (no fee estimate);
 *   {WalletError} WALLET_INSUFFICIENT_FUNDS; {ChainError} when the node refuses it.
 */
export async function sendFromWallet(p: Participant, input: SendInput): Promise<SendResult> {
  const w = p.wallet();
  const dest = addressScript(input.address, w);
  const rpc = await p.rpc();
  const rate = await feeRate(input.feeRatePerVb ?? p.config.feeRatePerVb, rpc, w.network.name);
  const coins = await w.spendableUtxos(rpc, { reserved: w.contracts.reservedOutpoints() });
  const choice = chooseSendCoins(coins, input.amount, rate, dest.length);
  const psbt = new Psbt({ network: w.network.bitcoinjs });
  for (const c of choice.coins) {
    psbt.addInput({
      hash: c.txid,
      index: c.vout,
      sequence: FUNDING_INPUT_SEQUENCE, // BIP125 rule 1: replaceable by `bump`
      witnessUtxo: { script: c.address.script, value: c.valueSats },
      // External signers check the amount against the whole previous transaction (segwit v0 fee attack).
      nonWitnessUtxo: await w.prevTx(rpc, c.txid, c.height),
    });
  }
  psbt.addOutput({ script: dest, value: choice.amount });
  const change = choice.change > 0n ? w.newChangeAddress() : undefined;
  if (change !== undefined) psbt.addOutput({ script: change.script, value: choice.change });
  const base = {
    broadcast: false,
    address: input.address,
    amountSats: choice.amount,
    feeSats: choice.fee,
    feeRatePerVb: rate,
    changeSats: choice.change,
    changeAddress: change?.address,
    inputs: choice.coins.map((c) => `${c.txid}:${c.vout}`),
  };
  if (input.psbtOnly === true) {
    return { ...base, txid: psbtTxid(psbt), vsize: p2wpkhSpendVsize(choice.coins.length, change === undefined ? [dest.length] : [dest.length, P2WPKH_SPK_LEN]), psbt: psbt.toBase64() };
  }
  const tx = signAllOwn(w, psbt);
  const vsize = BigInt(tx.virtualSize());
  if (!reachesRate({ feeSats: choice.fee, vsize }, rate)) throw new RangeError(`send: fee ${choice.fee} for ${vsize} vB is below ${rate} sat/vB (size estimate wrong)`);
  const txid = await rpc.sendRawTransaction(tx.toHex());
  p.note(`sent ${choice.amount} sats to ${input.address} in ${txid}`);
  return { ...base, broadcast: true, txid, vsize, psbt: psbt.toBase64() };
}

/** The txid of a PSBT's transaction (its unsigned serialization: signing segwit inputs does not change it). */
export function psbtTxid(psbt: Psbt): string {
  return Transaction.fromBuffer(Buffer.from(psbt.data.globalMap.unsignedTx.toBuffer())).getId();
}

/**
 * Signs every input of a PSBT that spends only this wallet's coins and extracts the transaction.
 * @throws {ParticipantError} MISMATCH when an input is not the wallet's (never expected: it chose them).
 */
export function signAllOwn(w: Wallet, psbt: Psbt): Transaction {
  const { notOurs } = w.signInputs(psbt, psbt.data.inputs.map((_, i) => i));
  if (notOurs.length > 0) throw new ParticipantError('MISMATCH', `input(s) ${notOurs.join(', ')} are not this wallet's`);
  psbt.finalizeAllInputs();
  return psbt.extractTransaction();
}
