/**
 * The smallest wallet regtest stories need: random P2WPKH keys, the unspent
 * outputs of an address (asked from the node: scantxoutset + gettxout), and
 * signed P2WPKH spends built with bitcoinjs-lib and tiny-secp256k1.
 *
 * Amounts are bigint satoshis. Addresses are Core regtest ones (`bcrt1...`).
 *
 * This module does NOT keep state between calls (UTXOs always come from the
 * node), does not do coin selection beyond "largest first", and only spends
 * P2WPKH outputs: DLC funding/CET/refund transactions are built by protocol/.
 */
import { randomBytes } from 'node:crypto';
import { Transaction, address as btcAddress, networks, payments, script as bscript } from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';
import type { BitcoinRpc } from '../src/chain/rpc.js';

/** Core's regtest network parameters as bitcoinjs-lib knows them (bech32 `bcrt`). */
export const REGTEST = networks.regtest;

/** Outputs of a coinbase can be spent once they have this many confirmations (consensus COINBASE_MATURITY). */
export const COINBASE_MATURITY = 100;

/** A secp256k1 key with its P2WPKH address, for tests. */
export class TestKey {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
  /** P2WPKH address (`bcrt1q...`). */
  readonly address: string;
  /** P2WPKH scriptPubKey. */
  readonly outputScript: Uint8Array;

  /** @throws {RangeError} when `privateKey` is not a valid secp256k1 scalar. */
  constructor(privateKey: Uint8Array) {
    if (!ecc.isPrivate(privateKey)) throw new RangeError('invalid secp256k1 private key');
    this.privateKey = privateKey;
    const pub = ecc.pointFromScalar(privateKey, true);
    if (!pub) throw new RangeError('invalid secp256k1 private key');
    this.publicKey = pub;
    const p2wpkh = payments.p2wpkh({ pubkey: pub, network: REGTEST });
    this.address = p2wpkh.address!;
    this.outputScript = p2wpkh.output!;
  }

  /** A fresh random key: every test gets its own. */
  static random(): TestKey {
    for (;;) {
      const candidate = new Uint8Array(randomBytes(32));
      if (ecc.isPrivate(candidate)) return new TestKey(candidate);
    }
  }

  /** @throws {RangeError} for a bad key. */
  static fromHex(hex: string): TestKey {
    return new TestKey(new Uint8Array(Buffer.from(hex, 'hex')));
  }

  /** Low-S ECDSA signature (64 bytes compact) of a 32-byte hash. */
  sign(hash: Uint8Array): Uint8Array {
    return ecc.sign(hash, this.privateKey);
  }
}

/** An unspent output as the helpers pass it around. */
export interface Utxo {
  txid: string;
  vout: number;
  valueSats: bigint;
  /** scriptPubKey hex. */
  scriptPubKey: string;
  /** 0 when unconfirmed. */
  confirmations: number;
  coinbase: boolean;
}

/**
 * The spendable outputs of `address`: confirmed ones (scantxoutset), minus those
 * already spent in the mempool, minus immature coinbases. Largest first.
 * @throws {ChainError} from the node.
 */
export async function listUnspent(rpc: BitcoinRpc, address: string): Promise<Utxo[]> {
  const scan = await rpc.scanTxOutSet([`addr(${address})`]);
  const out: Utxo[] = [];
  for (const u of scan.unspents) {
    const live = await rpc.getTxOut(u.txid, u.vout, true);
    if (!live) continue; // spent by a mempool transaction
    if (live.coinbase && live.confirmations < COINBASE_MATURITY) continue;
    out.push({
      txid: u.txid,
      vout: u.vout,
      valueSats: live.valueSats,
      scriptPubKey: live.scriptPubKey.hex,
      confirmations: live.confirmations,
      coinbase: live.coinbase,
    });
  }
  return out.sort((a, b) => (a.valueSats < b.valueSats ? 1 : a.valueSats > b.valueSats ? -1 : 0));
}

/** An output to create: to an address or to a raw scriptPubKey. */
export type Payment = { address: string; valueSats: bigint } | { script: Uint8Array; valueSats: bigint };

export interface SpendOptions {
  /** Where the change goes; default the first input's key. Change below 546 sats is left as fee. */
  changeAddress?: string;
  /** Default 2 sat/vB. */
  feeRateSatPerVb?: bigint;
  locktime?: number;
  /** nSequence of every input; default 0xfffffffd (BIP 125 opt-in, locktime enabled). */
  sequence?: number;
  /** Transaction version; default 2. */
  version?: number;
}

/** A signed transaction ready to broadcast. */
export interface SignedTx {
  hex: string;
  txid: string;
  vsize: number;
  feeSats: bigint;
  /** Index of the change output, if one was added. */
  changeVout: number | undefined;
}

const DUST_SATS = 546n;

function paymentScript(p: Payment): Uint8Array {
  return 'address' in p ? btcAddress.toOutputScript(p.address, REGTEST) : p.script;
}

function build(
  inputs: { utxo: Utxo; key: TestKey }[],
  outputs: Payment[],
  change: { script: Uint8Array; valueSats: bigint } | undefined,
  options: SpendOptions,
): Transaction {
  const tx = new Transaction();
  tx.version = options.version ?? 2;
  tx.locktime = options.locktime ?? 0;
  for (const { utxo } of inputs) {
    tx.addInput(Buffer.from(utxo.txid, 'hex').reverse(), utxo.vout, options.sequence ?? 0xfffffffd);
  }
  for (const p of outputs) tx.addOutput(paymentScript(p), p.valueSats);
  if (change) tx.addOutput(change.script, change.valueSats);
  inputs.forEach(({ utxo, key }, i) => {
    if (!Buffer.from(key.outputScript).equals(Buffer.from(utxo.scriptPubKey, 'hex'))) {
      throw new Error(`input ${i} (${utxo.txid}:${utxo.vout}) is not a P2WPKH output of the given key`);
    }
    // BIP 143: P2WPKH signs with scriptCode = P2PKH of the key hash.
    const scriptCode = payments.p2pkh({ pubkey: key.publicKey }).output!;
    const hash = tx.hashForWitnessV0(i, scriptCode, utxo.valueSats, Transaction.SIGHASH_ALL);
    const sig = bscript.signature.encode(key.sign(hash), Transaction.SIGHASH_ALL);
    tx.setWitness(i, [sig, key.publicKey]);
  });
  return tx;
}

/**
 * Builds and signs a transaction spending P2WPKH `inputs` to `outputs`, with
 * change back to `changeAddress` at the requested fee rate.
 * @throws {Error} when the inputs do not cover outputs plus fee, or an input is not the key's.
 */
export function buildP2wpkhSpend(
  inputs: { utxo: Utxo; key: TestKey }[],
  outputs: Payment[],
  options: SpendOptions = {},
): SignedTx {
  if (inputs.length === 0) throw new Error('no inputs');
  const feeRate = options.feeRateSatPerVb ?? 2n;
  const totalIn = inputs.reduce((s, i) => s + i.utxo.valueSats, 0n);
  const totalOut = outputs.reduce((s, o) => s + o.valueSats, 0n);
  const changeScript = btcAddress.toOutputScript(options.changeAddress ?? inputs[0]!.key.address, REGTEST);
  // First pass with a placeholder change measures the size; signatures are
  // 71-72 bytes, so one extra vbyte of margin keeps the rate at or above target.
  const probe = build(inputs, outputs, { script: changeScript, valueSats: 0n }, options);
  const feeWithChange = (BigInt(probe.virtualSize()) + 1n) * feeRate;
  const change = totalIn - totalOut - feeWithChange;
  let tx: Transaction;
  let changeVout: number | undefined;
  if (change >= DUST_SATS) {
    tx = build(inputs, outputs, { script: changeScript, valueSats: change }, options);
    changeVout = outputs.length;
  } else {
    tx = build(inputs, outputs, undefined, options);
    const fee = totalIn - totalOut;
    if (fee < (BigInt(tx.virtualSize()) + 1n) * feeRate) {
      throw new Error(`insufficient funds: ${totalIn} sats in, ${totalOut} sats out plus fee`);
    }
  }
  const outSum = tx.outs.reduce((s, o) => s + o.value, 0n);
  return { hex: tx.toHex(), txid: tx.getId(), vsize: tx.virtualSize(), feeSats: totalIn - outSum, changeVout };
}

/**
 * Pays `outputs` from `key`'s spendable outputs (largest first) and broadcasts.
 * @throws {Error} on insufficient funds; {ChainError} when the node rejects it.
 */
export async function sendFromKey(
  rpc: BitcoinRpc,
  key: TestKey,
  outputs: Payment[],
  options: SpendOptions = {},
): Promise<SignedTx> {
  const utxos = await listUnspent(rpc, key.address);
  const need = outputs.reduce((s, o) => s + o.valueSats, 0n);
  const chosen: Utxo[] = [];
  let have = 0n;
  for (const u of utxos) {
    chosen.push(u);
    have += u.valueSats;
    // Leave room for the fee: 200 vB per input at up to 50 sat/vB is plenty on regtest.
    if (have >= need + BigInt(chosen.length) * 10_000n + 10_000n) break;
  }
  if (have < need) throw new Error(`insufficient funds at ${key.address}: ${have} < ${need} sats`);
  const signed = buildP2wpkhSpend(
    chosen.map((utxo) => ({ utxo, key })),
    outputs,
    options,
  );
  await rpc.sendRawTransaction(signed.hex);
  return signed;
}
