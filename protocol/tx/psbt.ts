/**
 * The funding transaction as a BIP174 PSBT, and the sign_dlc `funding_signatures`
 * (Protocol.md "The sign_dlc Message") taken from or put onto it.
 *
 * Every input carries `witness_utxo` and `non_witness_utxo` (the full previous
 * transaction: hardware wallets require it for segwit v0 since the 2020 fee attack,
 * see BIP174 "PSBT_IN_NON_WITNESS_UTXO"), plus `redeem_script` for P2SH-wrapped
 * inputs, so Bitcoin Core's `walletprocesspsbt` or any wallet can sign the inputs it
 * owns. The funding output carries its `witness_script` so wallets can show it.
 *
 * Flow: `buildFundingPsbt` -> each party's wallet signs its inputs -> `combinePsbts`
 * -> `finalizeFundingPsbt` -> broadcast. Or, with sign_dlc: `extractFundingSignatures`
 * on the offerer's signed PSBT, send them, and the accepter uses
 * `addFundingSignaturesToPsbt` (or `applyFundingSignatures` on a Transaction).
 *
 * This module does NOT hold keys or sign, and does NOT run a script interpreter:
 * `verifyFundingSignatures` checks P2WPKH and P2SH-P2WPKH witnesses (the ECDSA
 * signature over the BIP143 sighash and the pubkey hash) and reports other input
 * types as unverified. It does no I/O.
 */
import { Psbt, Transaction, script as bscript } from 'bitcoinjs-lib';
import { verify as ecdsaVerify } from 'tiny-secp256k1';
import { DlcError } from '../errors.js';
import type { FundingSignatures } from '../messages/types.js';
import { witnessStackSize } from './fees.js';
import type { FundingTransaction, FundingTxInput, Party } from './funding.js';
import { fundingInputScriptSig } from './funding.js';
import { compareBytes, hash160, isP2wpkh, p2wpkhScriptCode } from './scripts.js';
import { SIGHASH_ALL, segwitV0Sighash } from './sighash.js';

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return compareBytes(a, b) === 0;
}

/** BIP141 witness serialization: compact-size count, then length-prefixed elements. */
export function encodeWitnessStack(stack: readonly Uint8Array[]): Uint8Array {
  const sizeBytes = (n: number): number[] =>
    n < 0xfd ? [n] : n <= 0xffff ? [0xfd, n & 0xff, n >> 8] : [0xfe, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24];
  const buf = new Uint8Array(witnessStackSize(stack));
  let o = 0;
  const put = (bytes: ArrayLike<number>): void => {
    buf.set(bytes, o);
    o += bytes.length;
  };
  put(sizeBytes(stack.length));
  for (const el of stack) {
    put(sizeBytes(el.length));
    put(el);
  }
  return buf;
}

/**
 * Inverse of {@link encodeWitnessStack}.
 * @throws {DlcError} DECODE_ERROR for truncated or trailing bytes.
 */
export function decodeWitnessStack(bytes: Uint8Array): Uint8Array[] {
  let o = 0;
  const readSize = (): number => {
    const first = bytes[o];
    if (first === undefined) throw new DlcError('DECODE_ERROR', 'truncated witness', { reason: 'witness-encoding' });
    o += 1;
    if (first < 0xfd) return first;
    const len = first === 0xfd ? 2 : first === 0xfe ? 4 : 8;
    if (o + len > bytes.length) throw new DlcError('DECODE_ERROR', 'truncated witness', { reason: 'witness-encoding' });
    let n = 0;
    for (let i = len - 1; i >= 0; i--) n = n * 256 + bytes[o + i]!;
    o += len;
    return n;
  };
  const count = readSize();
  const stack: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const len = readSize();
    if (o + len > bytes.length) throw new DlcError('DECODE_ERROR', 'truncated witness', { reason: 'witness-encoding' });
    stack.push(bytes.slice(o, o + len));
    o += len;
  }
  if (o !== bytes.length) throw new DlcError('DECODE_ERROR', 'trailing bytes after witness', { reason: 'witness-encoding' });
  return stack;
}

/**
 * Adds one funding input to a PSBT with everything a signer needs: the spent
 * output (`witnessUtxo`), the previous transaction (`nonWitnessUtxo`, which
 * some wallets require even for segwit), and a wrapped input's redeem script.
 * @throws whatever bitcoinjs-lib throws for an inconsistent input.
 */
export function addFundingPsbtInput(psbt: Psbt, input: FundingTxInput): void {
  psbt.addInput({
    hash: input.prevTxid,
    index: input.prevVout,
    sequence: input.sequence,
    witnessUtxo: { script: input.prevOutput.script, value: input.prevOutput.value },
    nonWitnessUtxo: input.prevTx,
    ...(input.redeemScript.length > 0 ? { redeemScript: input.redeemScript } : {}),
  });
}

/**
 * The unsigned funding transaction as a PSBT (version 0, BIP174).
 * @throws {DlcError} INVALID_TRANSACTION (`psbt-build`) if bitcoinjs-lib rejects an
 *   input (e.g. a prevTx whose txid does not match), which `buildFundingTransaction`
 *   output never triggers.
 */
export function buildFundingPsbt(funding: FundingTransaction): Psbt {
  const psbt = new Psbt();
  psbt.setVersion(funding.tx.version);
  psbt.setLocktime(funding.tx.locktime);
  try {
    for (const input of funding.inputs) addFundingPsbtInput(psbt, input);
    funding.tx.outs.forEach((out, index) => {
      psbt.addOutput({
        script: out.script,
        value: out.value,
        ...(index === funding.fundOutputIndex ? { witnessScript: funding.fundingScript } : {}),
      });
    });
  } catch (cause) {
    throw new DlcError('INVALID_TRANSACTION', 'funding PSBT could not be built', { reason: 'psbt-build', cause });
  }
  return psbt;
}

/** Hash of a transaction with every scriptSig and witness emptied: a PSBT's unsigned-tx identity. */
function strippedHash(version: number, locktime: number, ins: readonly { hash: Uint8Array; index: number; sequence: number }[],
  outs: readonly { script: Uint8Array; value: bigint }[]): string {
  const tx = new Transaction();
  tx.version = version;
  tx.locktime = locktime;
  for (const i of ins) tx.addInput(i.hash, i.index, i.sequence);
  for (const o of outs) tx.addOutput(o.script, o.value);
  let id = '';
  for (const b of tx.getHash()) id += b.toString(16).padStart(2, '0');
  return id;
}

function psbtIdentity(psbt: Psbt): string {
  const ins = psbt.txInputs.map((i) => ({ hash: i.hash, index: i.index, sequence: i.sequence ?? 0xffffffff }));
  return strippedHash(psbt.version, psbt.locktime, ins, psbt.txOutputs);
}

function txIdentity(tx: Transaction): string {
  return strippedHash(tx.version, tx.locktime, tx.ins, tx.outs);
}

function assertFundingPsbt(psbt: Psbt, funding: Pick<FundingTransaction, 'tx'>): void {
  if (psbtIdentity(psbt) !== txIdentity(funding.tx)) {
    throw new DlcError('INVALID_PARAMS', 'PSBT is not the funding transaction', { reason: 'psbt-mismatch' });
  }
}

/**
 * Parse a PSBT (base64 string or bytes) and check that it is this funding
 * transaction, e.g. one returned by an external wallet.
 * @throws {DlcError} DECODE_ERROR (`psbt-encoding`) for an unparsable PSBT;
 *   INVALID_PARAMS (`psbt-mismatch`) for a PSBT of another transaction.
 */
export function parseFundingPsbt(encoded: string | Uint8Array, funding: Pick<FundingTransaction, 'tx'>): Psbt {
  let psbt: Psbt;
  try {
    psbt = typeof encoded === 'string' ? Psbt.fromBase64(encoded) : Psbt.fromBuffer(encoded);
  } catch (cause) {
    throw new DlcError('DECODE_ERROR', 'not a PSBT', { reason: 'psbt-encoding', cause });
  }
  assertFundingPsbt(psbt, funding);
  return psbt;
}

/**
 * Combine PSBTs of the same unsigned transaction (BIP174 "Combiner") into a new
 * PSBT; the arguments are not modified.
 * @throws {DlcError} INVALID_PARAMS (`psbt-mismatch`) when they are of different
 *   transactions or none is given; INVALID_TRANSACTION (`psbt-combine`) when their
 *   fields conflict.
 */
export function combinePsbts(...psbts: Psbt[]): Psbt {
  const [first, ...rest] = psbts;
  if (first === undefined) throw new DlcError('INVALID_PARAMS', 'no PSBT to combine', { reason: 'psbt-mismatch' });
  const id = psbtIdentity(first);
  for (const p of rest) {
    if (psbtIdentity(p) !== id) {
      throw new DlcError('INVALID_PARAMS', 'PSBTs are of different transactions', { reason: 'psbt-mismatch' });
    }
  }
  const combined = first.clone();
  try {
    combined.combine(...rest);
  } catch (cause) {
    throw new DlcError('INVALID_TRANSACTION', 'PSBTs cannot be combined', { reason: 'psbt-combine', cause });
  }
  return combined;
}

function isInputFinalized(psbt: Psbt, index: number): boolean {
  const input = psbt.data.inputs[index]!;
  return input.finalScriptWitness !== undefined || input.finalScriptSig !== undefined;
}

function finalizeInputs(psbt: Psbt, indexes: readonly number[]): void {
  for (const i of indexes) {
    if (isInputFinalized(psbt, i)) continue;
    try {
      psbt.finalizeInput(i);
    } catch (cause) {
      throw new DlcError('INVALID_TRANSACTION', `funding input ${i} cannot be finalized (missing signature?)`, {
        reason: 'psbt-not-finalizable',
        cause,
      });
    }
  }
}

function inputWitness(psbt: Psbt, index: number): Uint8Array[] {
  const w = psbt.data.inputs[index]!.finalScriptWitness;
  if (w === undefined) {
    throw new DlcError('INVALID_TRANSACTION', `funding input ${index} has no witness (not a segwit input?)`, {
      reason: 'missing-witness',
    });
  }
  return decodeWitnessStack(w);
}

function checkWitnessSizes(funding: FundingTransaction, witnesses: readonly (readonly Uint8Array[])[], indexes: readonly number[]): void {
  indexes.forEach((txIndex, k) => {
    const input = funding.inputs[txIndex]!;
    if (witnessStackSize(witnesses[k]!) > input.maxWitnessLen) {
      // Protocol.md sign_dlc: a receiver MAY reject; we do, since the fee was paid for max_witness_len.
      throw new DlcError('INVALID_TRANSACTION', `witness of funding input ${txIndex} exceeds its max_witness_len`, {
        reason: 'witness-exceeds-max-witness-len',
      });
    }
  });
}

/**
 * Finalize every input (BIP174 "Input Finalizer"; inputs already finalized, e.g. by
 * `walletprocesspsbt`, are kept) and extract the signed funding transaction
 * ("Transaction Extractor"). Checks the PSBT is this funding transaction and that
 * no witness exceeds the `max_witness_len` the fees were computed with.
 * @throws {DlcError} INVALID_PARAMS (`psbt-mismatch`), INVALID_TRANSACTION
 *   (`psbt-not-finalizable`, `missing-witness`, `witness-exceeds-max-witness-len`, `txid-changed`).
 */
export function finalizeFundingPsbt(psbt: Psbt, funding: FundingTransaction): Transaction {
  assertFundingPsbt(psbt, funding);
  const all = funding.inputs.map((_, i) => i);
  const work = psbt.clone();
  finalizeInputs(work, all);
  checkWitnessSizes(funding, all.map((i) => inputWitness(work, i)), all);
  // Fees were computed by the fee formula, not by bitcoinjs-lib's sanity threshold.
  const tx = work.extractTransaction(true);
  if (!sameBytes(tx.getHash(), funding.txid)) {
    // A finalizer put a scriptSig other than the redeem-script push on a wrapped input.
    throw new DlcError('INVALID_TRANSACTION', 'finalized transaction has another txid than the funding transaction', {
      reason: 'txid-changed',
    });
  }
  return tx;
}

/**
 * Transaction input indexes of `party`'s funding inputs, in its message order
 * (`partyIndex`, the sign_dlc witness order): the only inputs that party may sign.
 */
export function partyInputIndexes(funding: FundingTransaction, party: Party): number[] {
  const pairs = funding.inputs
    .map((input, txIndex) => ({ input, txIndex }))
    .filter(({ input }) => input.party === party)
    .sort((a, b) => a.input.partyIndex - b.input.partyIndex);
  return pairs.map((p) => p.txIndex);
}

/**
 * One party's funding witnesses in the sign_dlc `funding_signatures` shape: one
 * entry per funding input of that party, in the order of its offer/accept
 * `funding_inputs` (Protocol.md sign_dlc). Inputs the wallet signed but did not
 * finalize are finalized on a copy.
 * @throws {DlcError} INVALID_PARAMS (`psbt-mismatch`), INVALID_TRANSACTION
 *   (`psbt-not-finalizable`, `missing-witness`, `witness-exceeds-max-witness-len`).
 */
export function extractFundingSignatures(psbt: Psbt, funding: FundingTransaction, party: Party): FundingSignatures {
  assertFundingPsbt(psbt, funding);
  const indexes = partyInputIndexes(funding, party);
  const work = psbt.clone();
  finalizeInputs(work, indexes);
  const witnesses = indexes.map((i) => inputWitness(work, i));
  checkWitnessSizes(funding, witnesses, indexes);
  return {
    fundingSignatures: witnesses.map((stack) => ({ witnessElements: stack.map((witness) => ({ witness })) })),
  };
}

/**
 * Indexes of the PSBT inputs that carry any signature: BIP174 partial
 * signatures, a finalized scriptSig or witness, or BIP371 taproot signatures.
 * Used to find signatures a wallet made on inputs that are not its party's.
 */
export function signedInputIndexes(psbt: Psbt): number[] {
  const out: number[] = [];
  psbt.data.inputs.forEach((input, i) => {
    const signed =
      (input.partialSig?.length ?? 0) > 0 ||
      input.finalScriptWitness !== undefined ||
      input.finalScriptSig !== undefined ||
      input.tapKeySig !== undefined ||
      (input.tapScriptSig?.length ?? 0) > 0;
    if (signed) out.push(i);
  });
  return out;
}

/**
 * The funding PSBT as one party may hand it to anyone: a clean copy built
 * from the funding transaction (no field of a PSBT received from someone
 * else) carrying only that party's own finalized inputs. Whatever a wallet
 * signed on other inputs is not in it (issue 9: a party's signatures leave
 * the process only on its own inputs).
 * @throws {DlcError} as {@link buildFundingPsbt} and {@link addFundingSignaturesToPsbt}.
 */
export function partyFundingPsbt(funding: FundingTransaction, party: Party, sigs: FundingSignatures): Psbt {
  return addFundingSignaturesToPsbt(buildFundingPsbt(funding), funding, party, sigs);
}

function witnessesFor(funding: FundingTransaction, party: Party, sigs: FundingSignatures): { txIndex: number; stack: Uint8Array[] }[] {
  const indexes = partyInputIndexes(funding, party);
  if (sigs.fundingSignatures.length !== indexes.length) {
    throw new DlcError('INVALID_PARAMS', `${sigs.fundingSignatures.length} funding signatures for ${indexes.length} ${party} inputs`, {
      reason: 'funding-signature-count',
    });
  }
  const out = indexes.map((txIndex, k) => ({
    txIndex,
    stack: sigs.fundingSignatures[k]!.witnessElements.map((e) => e.witness),
  }));
  checkWitnessSizes(funding, out.map((o) => o.stack), indexes);
  return out;
}

/**
 * Put one party's sign_dlc funding witnesses into the PSBT as finalized inputs
 * (`final_scriptwitness`, and `final_scriptSig` for P2SH-wrapped inputs). Returns a
 * new PSBT. Signatures are not checked here: see {@link verifyFundingSignatures}.
 * @throws {DlcError} INVALID_PARAMS (`psbt-mismatch`, `funding-signature-count`),
 *   INVALID_TRANSACTION (`witness-exceeds-max-witness-len`).
 */
export function addFundingSignaturesToPsbt(psbt: Psbt, funding: FundingTransaction, party: Party, sigs: FundingSignatures): Psbt {
  assertFundingPsbt(psbt, funding);
  const out = psbt.clone();
  for (const { txIndex, stack } of witnessesFor(funding, party, sigs)) {
    const input = funding.inputs[txIndex]!;
    out.updateInput(txIndex, {
      finalScriptWitness: encodeWitnessStack(stack),
      ...(input.redeemScript.length > 0 ? { finalScriptSig: fundingInputScriptSig(input) } : {}),
    });
  }
  return out;
}

/**
 * Put one party's sign_dlc funding witnesses (and P2SH scriptSigs) on a copy of the
 * funding transaction `tx` (unsigned, or already carrying the other party's witnesses).
 * @throws {DlcError} INVALID_PARAMS (`psbt-mismatch` for another transaction,
 *   `funding-signature-count`), INVALID_TRANSACTION (`witness-exceeds-max-witness-len`).
 */
export function applyFundingSignatures(tx: Transaction, funding: FundingTransaction, party: Party, sigs: FundingSignatures): Transaction {
  if (txIdentity(tx) !== txIdentity(funding.tx)) {
    throw new DlcError('INVALID_PARAMS', 'transaction is not the funding transaction', { reason: 'psbt-mismatch' });
  }
  const out = tx.clone();
  for (const { txIndex, stack } of witnessesFor(funding, party, sigs)) {
    out.setWitness(txIndex, stack);
    out.setInputScript(txIndex, fundingInputScriptSig(funding.inputs[txIndex]!));
  }
  return out;
}

export type FundingSignatureCheck = 'valid' | 'unverified';

function p2wpkhProgram(input: FundingTxInput): Uint8Array | undefined {
  if (input.redeemScript.length === 0) return isP2wpkh(input.prevOutput.script) ? input.prevOutput.script : undefined;
  return isP2wpkh(input.redeemScript) ? input.redeemScript : undefined;
}

/**
 * Check one party's funding witnesses against the funding transaction (Protocol.md
 * sign_dlc: "if any signature or witness is incorrect: MUST reject"). P2WPKH and
 * P2SH-P2WPKH inputs are verified (`[sig, pubkey]`, hash160(pubkey) = program,
 * ECDSA over the BIP143 sighash with the sighash type the signature states; only
 * SIGHASH_ALL is accepted); other input types are reported `'unverified'` since we
 * have no script interpreter: the caller may test-accept with a node.
 * @returns one result per party input, in message order.
 * @throws {DlcError} BAD_SIGNATURE (`funding-witness`) for an invalid witness;
 *   INVALID_PARAMS (`funding-signature-count`); INVALID_TRANSACTION
 *   (`witness-exceeds-max-witness-len`).
 */
export function verifyFundingSignatures(funding: FundingTransaction, party: Party, sigs: FundingSignatures): FundingSignatureCheck[] {
  return witnessesFor(funding, party, sigs).map(({ txIndex, stack }) => {
    const input = funding.inputs[txIndex]!;
    const program = p2wpkhProgram(input);
    if (program === undefined) return 'unverified';
    const bad = (why: string): DlcError =>
      new DlcError('BAD_SIGNATURE', `${party} funding input ${input.partyIndex}: ${why}`, { reason: 'funding-witness' });
    const [sigWithType, pubkey] = stack;
    if (stack.length !== 2 || sigWithType === undefined || pubkey === undefined) throw bad('P2WPKH witness must be [sig, pubkey]');
    if (!sameBytes(hash160(pubkey), program.subarray(2))) throw bad('pubkey does not match the spent output');
    let decoded: { signature: Uint8Array; hashType: number };
    try {
      decoded = bscript.signature.decode(sigWithType);
    } catch (cause) {
      throw new DlcError('BAD_SIGNATURE', `${party} funding input ${input.partyIndex}: signature is not DER`, {
        reason: 'funding-witness',
        cause,
      });
    }
    if (decoded.hashType !== SIGHASH_ALL) throw bad('signature is not SIGHASH_ALL');
    const sighash = segwitV0Sighash(funding.tx, txIndex, p2wpkhScriptCode(program.subarray(2)), input.prevOutput.value);
    let ok = false;
    try {
      ok = ecdsaVerify(sighash, pubkey, decoded.signature, true);
    } catch {
      ok = false;
    }
    if (!ok) throw bad('signature does not verify');
    return 'valid';
  });
}
