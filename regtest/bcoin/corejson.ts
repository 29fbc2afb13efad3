/**
 * Bitcoin Core-shaped JSON for bcoin objects: scriptPubKey (with Core's type
 * names and a `bcrt` address), transactions, block headers and blocks, as
 * Core's RPC help documents them (getrawtransaction, getblock, getblockheader,
 * gettxout). Used only by the bcoin compatibility plugin.
 *
 * This module does NOT read chain state itself: callers pass what it needs
 * (confirmations, median time, next hash).
 */
import { address as btcAddress, networks } from 'bitcoinjs-lib';
import type { BcoinBlock, BcoinChainEntry, BcoinScript, BcoinTX } from './bcoin.js';

/** Satoshis (bcoin's JS number) → BTC as a JSON number, as Core prints amounts. */
export function btc(sats: number): number {
  return sats / 1e8;
}

/** Reverses a hex string byte-wise (internal ↔ display order). */
export function revHex(hex: string): string {
  return Buffer.from(hex, 'hex').reverse().toString('hex');
}

/** Core's script type names (script/solver.cpp GetTxnOutputType). */
export function coreScriptType(raw: Buffer, isMultisig: () => boolean): string {
  const n = raw.length;
  if (n === 22 && raw[0] === 0x00 && raw[1] === 0x14) return 'witness_v0_keyhash';
  if (n === 34 && raw[0] === 0x00 && raw[1] === 0x20) return 'witness_v0_scripthash';
  if (n === 34 && raw[0] === 0x51 && raw[1] === 0x20) return 'witness_v1_taproot';
  // Any other witness program: OP_0..OP_16 then one push of 2..40 bytes (BIP 141).
  const op = raw[0];
  if (n >= 4 && n <= 42 && op !== undefined && (op === 0x00 || (op >= 0x51 && op <= 0x60)) && raw[1] === n - 2) {
    return 'witness_unknown';
  }
  if (n === 25 && raw[0] === 0x76 && raw[1] === 0xa9 && raw[2] === 0x14 && raw[23] === 0x88 && raw[24] === 0xac) {
    return 'pubkeyhash';
  }
  if (n === 23 && raw[0] === 0xa9 && raw[1] === 0x14 && raw[22] === 0x87) return 'scripthash';
  if (n >= 1 && raw[0] === 0x6a) return 'nulldata';
  if ((n === 35 && raw[0] === 33 && raw[34] === 0xac) || (n === 67 && raw[0] === 65 && raw[66] === 0xac)) return 'pubkey';
  if (isMultisig()) return 'multisig';
  return 'nonstandard';
}

/** Core's scriptPubKey object: asm, hex, type and (when it has one) address. */
export function scriptPubKeyJson(script: BcoinScript): { asm: string; hex: string; type: string; address?: string } {
  const raw = script.toRaw();
  const out: { asm: string; hex: string; type: string; address?: string } = {
    asm: script.toASM(),
    hex: raw.toString('hex'),
    type: coreScriptType(raw, () => script.isMultisig()),
  };
  try {
    out.address = btcAddress.fromOutputScript(raw, networks.regtest);
  } catch {
    // No address form (multisig, nulldata, nonstandard): Core omits the field.
  }
  return out;
}

/** Where a transaction was mined, for getrawtransaction's extra fields. */
export interface TxPlace {
  blockhash: string;
  confirmations: number;
  time: number;
}

/** Core's decoded transaction (TxToUniv), with `hex`, plus block fields when `place` is given. */
export function txJson(tx: BcoinTX, place?: TxPlace): Record<string, unknown> {
  const vin = tx.inputs.map((input) => {
    const witness = input.witness.items.length > 0 ? input.witness.items.map((w) => w.toString('hex')) : undefined;
    if (tx.isCoinbase()) {
      return { coinbase: input.script.toRaw().toString('hex'), txinwitness: witness, sequence: input.sequence };
    }
    return {
      txid: input.prevout.txid(),
      vout: input.prevout.index,
      scriptSig: { asm: input.script.toASM(), hex: input.script.toRaw().toString('hex') },
      txinwitness: witness,
      sequence: input.sequence,
    };
  });
  const vout = tx.outputs.map((output, n) => ({ value: btc(output.value), n, scriptPubKey: scriptPubKeyJson(output.script) }));
  const json: Record<string, unknown> = {
    txid: tx.txid(),
    hash: tx.wtxid(),
    version: tx.version,
    size: tx.getSize(),
    vsize: tx.getVirtualSize(),
    weight: tx.getWeight(),
    locktime: tx.locktime,
    vin,
    vout,
    hex: tx.toRaw().toString('hex'),
  };
  if (place) {
    json.blockhash = place.blockhash;
    json.confirmations = place.confirmations;
    json.time = place.time;
    json.blocktime = place.time;
  }
  return json;
}

/** Chain context of a header that bcoin's entry does not carry. */
export interface HeaderContext {
  /** -1 when not on the active chain (Core's convention). */
  confirmations: number;
  mediantime: number;
  nextblockhash: string | null;
}

/** Core's getblockheader (verbose) object. */
export function headerJson(entry: BcoinChainEntry, ctx: HeaderContext, nTx?: number): Record<string, unknown> {
  const json: Record<string, unknown> = {
    hash: entry.rhash(),
    confirmations: ctx.confirmations,
    height: entry.height,
    version: entry.version,
    versionHex: (entry.version >>> 0).toString(16).padStart(8, '0'),
    merkleroot: revHex(entry.merkleRoot),
    time: entry.time,
    mediantime: ctx.mediantime,
    nonce: entry.nonce >>> 0,
    bits: (entry.bits >>> 0).toString(16).padStart(8, '0'),
    difficulty: difficulty(entry.bits),
    chainwork: entry.chainwork.toString('hex', 64),
  };
  if (nTx !== undefined) json.nTx = nTx;
  if (entry.height > 0) json.previousblockhash = revHex(entry.prevBlock);
  if (ctx.nextblockhash) json.nextblockhash = ctx.nextblockhash;
  return json;
}

/** Core's getblock object at verbosity 1 (txids) or 2 (decoded transactions). */
export function blockJson(
  entry: BcoinChainEntry,
  block: BcoinBlock,
  ctx: HeaderContext,
  verbosity: 1 | 2,
): Record<string, unknown> {
  return {
    ...headerJson(entry, ctx, block.txs.length),
    strippedsize: block.getBaseSize(),
    size: block.getSize(),
    weight: block.getWeight(),
    tx: verbosity === 1 ? block.txs.map((tx) => tx.txid()) : block.txs.map((tx) => txJson(tx)),
  };
}

/** Difficulty from compact bits, as Core's GetDifficulty computes it. */
export function difficulty(bits: number): number {
  let shift = (bits >>> 24) & 0xff;
  let diff = 0x0000ffff / (bits & 0x00ffffff);
  while (shift < 29) {
    diff *= 256;
    shift++;
  }
  while (shift > 29) {
    diff /= 256;
    shift--;
  }
  return diff;
}
