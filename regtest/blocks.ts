/**
 * Builds regtest blocks ourselves, as a pool or another miner would: our own
 * coinbase (BIP 34 height, chosen outputs, BIP 141 witness commitment), a
 * merkle root, a header ground to the regtest target, serialized for
 * `submitblock`. Used by the pool simulator (on top of getblocktemplate) and by
 * the reorg helper (blocks on any parent, for a competing branch).
 *
 * This module does NOT talk to a node and does not check transactions: the
 * node validates whatever we submit.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { Transaction, script as bscript } from 'bitcoinjs-lib';

/** A coinbase output. */
export interface CoinbaseOutput {
  script: Uint8Array;
  valueSats: bigint;
}

function sha256d(data: Uint8Array): Uint8Array {
  return sha256(sha256(data));
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Bitcoin's merkle root over internal-order hashes (odd levels duplicate the last hash). */
export function merkleRoot(hashes: Uint8Array[]): Uint8Array {
  if (hashes.length === 0) throw new Error('merkle root of nothing');
  let level = hashes;
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      next.push(sha256d(concat([level[i]!, level[i + 1] ?? level[i]!])));
    }
    level = next;
  }
  return level[0]!;
}

/** The height push that BIP 34 requires at the start of the coinbase scriptSig (`CScript() << nHeight`). */
export function bip34HeightPush(height: number): Uint8Array {
  if (height === 0) return Uint8Array.of(0x00);
  if (height <= 16) return Uint8Array.of(0x50 + height); // OP_1..OP_16
  return bscript.compile([bscript.number.encode(height)]);
}

/**
 * BIP 141 commitment output script: OP_RETURN, push 36 bytes
 * `aa21a9ed || SHA256d(witness merkle root || witness reserved value)`, where the
 * witness root is over wtxids with the coinbase's taken as 32 zero bytes.
 */
export function witnessCommitmentScript(txs: Transaction[]): Uint8Array {
  const wtxids = [new Uint8Array(32), ...txs.map((tx) => tx.getHash(true))];
  const commitment = sha256d(concat([merkleRoot(wtxids), new Uint8Array(32)]));
  return concat([Uint8Array.of(0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed), commitment]);
}

/**
 * A coinbase transaction: BIP 34 height then `tag` in the scriptSig, `outputs`,
 * and, when `witnessCommitment` is given, that output plus the 32-byte witness
 * reserved value (all zero) as the input's witness.
 */
export function buildCoinbase(
  height: number,
  outputs: CoinbaseOutput[],
  witnessCommitment: Uint8Array | undefined,
  tag: Uint8Array = new TextEncoder().encode('/hashdlc-regtest/'),
): Transaction {
  const tx = new Transaction();
  tx.version = 2;
  const scriptSig = concat([bip34HeightPush(height), bscript.compile([tag])]);
  if (scriptSig.length > 100) throw new RangeError('coinbase scriptSig over 100 bytes');
  tx.addInput(new Uint8Array(32), 0xffffffff, 0xffffffff, scriptSig);
  for (const o of outputs) tx.addOutput(o.script, o.valueSats);
  if (witnessCommitment) {
    tx.addOutput(witnessCommitment, 0n);
    tx.setWitness(0, [new Uint8Array(32)]);
  }
  return tx;
}

/** Header fields of a block to build. */
export interface BlockHeaderFields {
  version: number;
  /** Display (RPC) order hex. */
  previousBlockHash: string;
  time: number;
  /** Compact target as 8 hex digits (`207fffff` on regtest). */
  bits: string;
}

function targetFromBits(bits: number): bigint {
  const exponent = bits >>> 24;
  const mantissa = BigInt(bits & 0x007fffff);
  return exponent <= 3 ? mantissa >> BigInt(8 * (3 - exponent)) : mantissa << BigInt(8 * (exponent - 3));
}

function varint(n: number): Uint8Array {
  if (n < 0xfd) return Uint8Array.of(n);
  if (n <= 0xffff) return Uint8Array.of(0xfd, n & 0xff, n >>> 8);
  const b = new Uint8Array(5);
  b[0] = 0xfe;
  new DataView(b.buffer).setUint32(1, n, true);
  return b;
}

/** A block ready for submitblock. */
export interface BuiltBlock {
  /** Display-order block hash. */
  hash: string;
  hex: string;
  coinbase: Transaction;
}

/**
 * Serializes a block and grinds its nonce until the header hash meets `bits`
 * (instant on regtest, where about every other nonce does).
 * @throws {Error} when no nonce works (not a regtest target).
 */
export function assembleBlock(header: BlockHeaderFields, coinbase: Transaction, txs: Transaction[]): BuiltBlock {
  const all = [coinbase, ...txs];
  const root = merkleRoot(all.map((tx) => tx.getHash(false)));
  const head = new Uint8Array(80);
  const view = new DataView(head.buffer);
  view.setInt32(0, header.version, true);
  head.set(Buffer.from(header.previousBlockHash, 'hex').reverse(), 4);
  head.set(root, 36);
  view.setUint32(68, header.time, true);
  const bits = parseInt(header.bits, 16);
  view.setUint32(72, bits, true);
  const target = targetFromBits(bits);
  for (let nonce = 0; nonce <= 0xffffffff; nonce++) {
    if (nonce > 1_000_000) throw new Error(`bits ${header.bits} is not a regtest target: no nonce found`);
    view.setUint32(76, nonce, true);
    const hash = sha256d(head).reverse();
    if (BigInt('0x' + Buffer.from(hash).toString('hex')) <= target) {
      const body = concat([head, varint(all.length), ...all.map((tx) => tx.toBuffer())]);
      return { hash: Buffer.from(hash).toString('hex'), hex: Buffer.from(body).toString('hex'), coinbase };
    }
  }
  throw new Error('nonce space exhausted');
}
