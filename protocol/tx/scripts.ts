/**
 * Script helpers for DLC transactions: the 2-of-2 funding script (Transactions.md
 * "Funding Output"), the script pubkey standardness rule of Protocol.md ("Script
 * Pubkey Standardness Definition") and segwit program detection (BIP141).
 *
 * This module does NOT evaluate scripts or check signatures; it only recognises
 * and builds script byte patterns. It does no I/O.
 */
import { crypto as bcrypto } from 'bitcoinjs-lib';
import { isPointCompressed } from 'tiny-secp256k1';
import { DlcError } from '../errors.js';

const OP_0 = 0x00;
const OP_1 = 0x51;
const OP_2 = 0x52;
const OP_16 = 0x60;
const OP_DUP = 0x76;
const OP_EQUAL = 0x87;
const OP_EQUALVERIFY = 0x88;
const OP_HASH160 = 0xa9;
const OP_CHECKSIG = 0xac;
const OP_CHECKMULTISIG = 0xae;

/** Lexicographic comparison of byte strings (BIP67 key order). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

/**
 * Throws unless `key` is a valid compressed secp256k1 point.
 * @throws {DlcError} INVALID_POINT
 */
export function assertFundingPubkey(key: Uint8Array, what: string): void {
  let ok = false;
  try {
    ok = key.length === 33 && isPointCompressed(key);
  } catch {
    // tiny-secp256k1 throws for bytes that are not a point at all.
  }
  if (!ok) {
    throw new DlcError('INVALID_POINT', `${what} is not a compressed secp256k1 point`, { reason: 'funding-pubkey' });
  }
}

/**
 * The funding witness script `2 <pubkey1> <pubkey2> 2 OP_CHECKMULTISIG`, pubkey1 the
 * lexicographically lesser key (Transactions.md "Funding Output", BIP67).
 * @throws {DlcError} INVALID_POINT for a key that is not a compressed point;
 *   INVALID_PARAMS when both keys are equal.
 */
export function fundingScript(offerFundingPubkey: Uint8Array, acceptFundingPubkey: Uint8Array): Uint8Array {
  assertFundingPubkey(offerFundingPubkey, 'offer funding pubkey');
  assertFundingPubkey(acceptFundingPubkey, 'accept funding pubkey');
  const cmp = compareBytes(offerFundingPubkey, acceptFundingPubkey);
  if (cmp === 0) {
    throw new DlcError('INVALID_PARAMS', 'offer and accept funding pubkeys are equal', { reason: 'same-funding-pubkey' });
  }
  const [k1, k2] = cmp < 0 ? [offerFundingPubkey, acceptFundingPubkey] : [acceptFundingPubkey, offerFundingPubkey];
  const script = new Uint8Array(71);
  script[0] = OP_2;
  script[1] = 33;
  script.set(k1, 2);
  script[35] = 33;
  script.set(k2, 36);
  script[69] = OP_2;
  script[70] = OP_CHECKMULTISIG;
  return script;
}

/** P2WSH script pubkey `OP_0 <sha256(witnessScript)>` (BIP141). */
export function p2wshScriptPubkey(witnessScript: Uint8Array): Uint8Array {
  const spk = new Uint8Array(34);
  spk[0] = OP_0;
  spk[1] = 32;
  spk.set(bcrypto.sha256(witnessScript), 2);
  return spk;
}

/** Witness version and program of a BIP141 witness program script, or undefined. */
export function witnessProgram(script: Uint8Array): { version: number; program: Uint8Array } | undefined {
  // BIP141: a 1-byte push opcode (OP_0, OP_1..OP_16) followed by a direct push of 2 to 40 bytes.
  if (script.length < 4 || script.length > 42) return undefined;
  const op = script[0]!;
  if (op !== OP_0 && (op < OP_1 || op > OP_16)) return undefined;
  if (script[1] !== script.length - 2) return undefined;
  return { version: op === OP_0 ? 0 : op - OP_1 + 1, program: script.subarray(2) };
}

export function isP2pkh(spk: Uint8Array): boolean {
  return spk.length === 25 && spk[0] === OP_DUP && spk[1] === OP_HASH160 && spk[2] === 20 &&
    spk[23] === OP_EQUALVERIFY && spk[24] === OP_CHECKSIG;
}

export function isP2sh(spk: Uint8Array): boolean {
  return spk.length === 23 && spk[0] === OP_HASH160 && spk[1] === 20 && spk[22] === OP_EQUAL;
}

export function isP2wpkh(spk: Uint8Array): boolean {
  return spk.length === 22 && spk[0] === OP_0 && spk[1] === 20;
}

export function isP2wsh(spk: Uint8Array): boolean {
  return spk.length === 34 && spk[0] === OP_0 && spk[1] === 32;
}

/**
 * Protocol.md "Script Pubkey Standardness Definition": P2PKH, P2SH, P2WPKH, P2WSH,
 * or a witness program of version 1 to 16 with a 2-to-40-byte program.
 */
export function isStandardScriptPubkey(spk: Uint8Array): boolean {
  if (isP2pkh(spk) || isP2sh(spk) || isP2wpkh(spk) || isP2wsh(spk)) return true;
  const wp = witnessProgram(spk);
  return wp !== undefined && wp.version >= 1;
}

/**
 * Throws unless `spk` is standard per Protocol.md.
 * @throws {DlcError} INVALID_PARAMS with reason `non-standard-spk`.
 */
export function assertStandardScriptPubkey(spk: Uint8Array, what: string): void {
  if (!isStandardScriptPubkey(spk)) {
    throw new DlcError('INVALID_PARAMS', `${what} is not a standard script pubkey (Protocol.md)`, {
      reason: 'non-standard-spk',
    });
  }
}

/** `OP_DUP OP_HASH160 <hash160(pubkey)> OP_EQUALVERIFY OP_CHECKSIG`: the BIP143 scriptCode of P2WPKH. */
export function p2wpkhScriptCode(pubkeyHash: Uint8Array): Uint8Array {
  const code = new Uint8Array(25);
  code.set([OP_DUP, OP_HASH160, 20]);
  code.set(pubkeyHash, 3);
  code.set([OP_EQUALVERIFY, OP_CHECKSIG], 23);
  return code;
}

/** The scriptSig spending a P2SH-wrapped segwit output: one push of the redeem script. */
export function p2shScriptSig(redeemScript: Uint8Array): Uint8Array {
  const n = redeemScript.length;
  if (n === 0) return new Uint8Array(0);
  const prefix = n <= 75 ? [n] : n <= 255 ? [0x4c, n] : [0x4d, n & 0xff, n >> 8];
  const out = new Uint8Array(prefix.length + n);
  out.set(prefix);
  out.set(redeemScript, prefix.length);
  return out;
}

/** HASH160 = RIPEMD160(SHA256(x)). */
export function hash160(data: Uint8Array): Uint8Array {
  return bcrypto.hash160(data);
}
