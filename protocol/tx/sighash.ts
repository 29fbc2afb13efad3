/**
 * BIP143 (segwit v0) signature hashes with SIGHASH_ALL, the only sighash type DLC
 * transactions use, computed directly from the preimage of BIP143 "Specification":
 *
 *   version | hashPrevouts | hashSequence | outpoint | scriptCode | amount |
 *   nSequence | hashOutputs | nLockTime | sighash type
 *
 * The CET fast path: every CET spends the same funding outpoint with the same
 * sequence, so everything before hashOutputs is one constant 188-byte prefix
 * (for the 71-byte 2-of-2 script). Its SHA256 midstate is computed once and cloned
 * per CET; only the outputs are hashed per CET. This is several times faster than
 * building a Transaction and calling bitcoinjs-lib's `hashForWitnessV0` (which also
 * validates its arguments on every call); tests check both give the same digest.
 *
 * This module does NOT support SIGHASH_NONE/SINGLE/ANYONECANPAY, legacy (pre-segwit)
 * or taproot (BIP341) sighashes. It does no I/O.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { Transaction } from 'bitcoinjs-lib';

export const SIGHASH_ALL = 0x01;

/** An output as BIP143 hashes it. */
export interface SighashOutput {
  script: Uint8Array;
  value: bigint;
}

function sha256d(data: Uint8Array): Uint8Array {
  return sha256(sha256(data));
}

function compactSizeLength(n: number): number {
  return n < 0xfd ? 1 : n <= 0xffff ? 3 : n <= 0xffffffff ? 5 : 9;
}

function writeCompactSize(buf: Uint8Array, view: DataView, offset: number, n: number): number {
  if (n < 0xfd) {
    buf[offset] = n;
    return offset + 1;
  }
  if (n <= 0xffff) {
    buf[offset] = 0xfd;
    view.setUint16(offset + 1, n, true);
    return offset + 3;
  }
  buf[offset] = 0xfe;
  view.setUint32(offset + 1, n, true);
  return offset + 5;
}

/** Serialized outputs (value LE64, compact-size script length, script), as in a transaction. */
export function serializeOutputs(outputs: readonly SighashOutput[]): Uint8Array {
  let size = 0;
  for (const o of outputs) size += 8 + compactSizeLength(o.script.length) + o.script.length;
  const buf = new Uint8Array(size);
  const view = new DataView(buf.buffer);
  let offset = 0;
  for (const o of outputs) {
    view.setBigUint64(offset, o.value, true);
    offset = writeCompactSize(buf, view, offset + 8, o.script.length);
    buf.set(o.script, offset);
    offset += o.script.length;
  }
  return buf;
}

/** The input fields BIP143 hashes. */
export interface SighashInput {
  /** Previous txid, internal byte order. */
  hash: Uint8Array;
  index: number;
  sequence: number;
}

/**
 * Everything of the BIP143 preimage up to (not including) hashOutputs, for input
 * `inputIndex` of a transaction with the given inputs.
 */
function preimagePrefix(
  version: number,
  ins: readonly SighashInput[],
  inputIndex: number,
  scriptCode: Uint8Array,
  value: bigint,
): Uint8Array {
  const prevouts = new Uint8Array(36 * ins.length);
  const sequences = new Uint8Array(4 * ins.length);
  const pv = new DataView(prevouts.buffer);
  const sv = new DataView(sequences.buffer);
  ins.forEach((input, i) => {
    prevouts.set(input.hash, 36 * i);
    pv.setUint32(36 * i + 32, input.index, true);
    sv.setUint32(4 * i, input.sequence, true);
  });
  const input = ins[inputIndex];
  if (input === undefined) throw new RangeError(`no input ${inputIndex}`);
  const size = 4 + 32 + 32 + 36 + compactSizeLength(scriptCode.length) + scriptCode.length + 8 + 4;
  const buf = new Uint8Array(size);
  const view = new DataView(buf.buffer);
  view.setUint32(0, version, true);
  buf.set(sha256d(prevouts), 4);
  buf.set(sha256d(sequences), 36);
  buf.set(input.hash, 68);
  view.setUint32(100, input.index, true);
  let offset = writeCompactSize(buf, view, 104, scriptCode.length);
  buf.set(scriptCode, offset);
  offset += scriptCode.length;
  view.setBigUint64(offset, value, true);
  view.setUint32(offset + 8, input.sequence, true);
  return buf;
}

function suffix(locktime: number): Uint8Array {
  const buf = new Uint8Array(8);
  const view = new DataView(buf.buffer);
  view.setUint32(0, locktime, true);
  view.setUint32(4, SIGHASH_ALL, true);
  return buf;
}

/**
 * BIP143 SIGHASH_ALL digest of input `inputIndex` of `tx`, spending an output of
 * `value` sats whose BIP143 scriptCode is `scriptCode` (the witness script for
 * P2WSH; `OP_DUP OP_HASH160 <h> OP_EQUALVERIFY OP_CHECKSIG` for P2WPKH).
 * @throws {RangeError} when the input does not exist.
 */
export function segwitV0Sighash(
  tx: Pick<Transaction, 'version' | 'locktime' | 'ins' | 'outs'>,
  inputIndex: number,
  scriptCode: Uint8Array,
  value: bigint,
): Uint8Array {
  const prefix = preimagePrefix(tx.version, tx.ins, inputIndex, scriptCode, value);
  const hashOutputs = sha256d(serializeOutputs(tx.outs));
  return sha256(sha256.create().update(prefix).update(hashOutputs).update(suffix(tx.locktime)).digest());
}

/**
 * A sighash function for many single-input transactions that spend the same
 * outpoint with the same sequence and version and differ only in their outputs and
 * locktime (CETs). The constant preimage prefix is hashed once.
 * @throws never; the returned function throws RangeError for a locktime not a u32.
 */
export function singleInputSighasher(
  version: number,
  input: SighashInput,
  scriptCode: Uint8Array,
  value: bigint,
): (outputs: readonly SighashOutput[], locktime: number) => Uint8Array {
  const midstate = sha256.create().update(preimagePrefix(version, [input], 0, scriptCode, value));
  return (outputs, locktime) => {
    if (!Number.isInteger(locktime) || locktime < 0 || locktime > 0xffffffff) {
      throw new RangeError(`locktime ${locktime} is not a u32`);
    }
    const hashOutputs = sha256d(serializeOutputs(outputs));
    return sha256(midstate.clone().update(hashOutputs).update(suffix(locktime)).digest());
  };
}
