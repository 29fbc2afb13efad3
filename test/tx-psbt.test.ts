// Funding PSBT with real keys: prev txs pay P2WPKH and P2SH-P2WPKH outputs of keys
// generated here; each party signs its own inputs with bitcoinjs-lib's
// Psbt.signInput (a tiny tiny-secp256k1 signer), the PSBTs are combined, finalized
// and extracted, and every input's signature is checked against its BIP143 sighash.
// The sign_dlc route (extract one party's FundingSignatures, apply them elsewhere)
// must give the same transaction.
import { Psbt, Transaction } from 'bitcoinjs-lib';
import type { Signer } from 'bitcoinjs-lib';
import { pointFromScalar, sign as ecdsaSign, verify as ecdsaVerify } from 'tiny-secp256k1';
import { describe, expect, it } from 'vitest';
import { isDlcError } from '../protocol/errors.js';
import type { FundingInput } from '../protocol/messages/types.js';
import { buildFundingTransaction } from '../protocol/tx/funding.js';
import type { FundingAcceptFields, FundingOfferFields, FundingTransaction } from '../protocol/tx/funding.js';
import {
  addFundingSignaturesToPsbt,
  applyFundingSignatures,
  buildFundingPsbt,
  combinePsbts,
  decodeWitnessStack,
  encodeWitnessStack,
  extractFundingSignatures,
  finalizeFundingPsbt,
  parseFundingPsbt,
  verifyFundingSignatures,
} from '../protocol/tx/psbt.js';
import { hash160 } from '../protocol/tx/scripts.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const scalar = (n: bigint): Uint8Array => Uint8Array.from(Buffer.from(n.toString(16).padStart(64, '0'), 'hex'));

interface Key {
  sk: Uint8Array;
  pk: Uint8Array;
  signer: Signer;
}
function key(n: bigint): Key {
  const sk = scalar(n);
  const pk = pointFromScalar(sk, true)!;
  // The smallest bitcoinjs-lib Signer: 64-byte compact ECDSA (RFC6979) over the sighash.
  const signer: Signer = { publicKey: pk, sign: (hash: Uint8Array) => ecdsaSign(hash, sk) };
  return { sk, pk, signer };
}

const p2wpkhSpk = (pk: Uint8Array): Uint8Array => Uint8Array.from([0x00, 0x14, ...hash160(pk)]);
const p2shSpk = (redeem: Uint8Array): Uint8Array => Uint8Array.from([0xa9, 0x14, ...hash160(redeem), 0x87]);

function payTo(spk: Uint8Array, value: bigint, salt: number): Uint8Array {
  const tx = new Transaction();
  tx.version = 2;
  tx.addInput(new Uint8Array(32).fill(salt), salt);
  tx.addOutput(Uint8Array.from([0x51]), 1234n); // an unrelated output first, so vout 1 is used
  tx.addOutput(spk, value);
  return tx.toBuffer();
}

const offerWallet = [key(0xa1n), key(0xa2n)];
const acceptWallet = [key(0xb1n)];
const offerFundingKey = key(0xf1n);
const acceptFundingKey = key(0xf2n);

function fundingInput(k: Key, serial: bigint, value: bigint, salt: number, wrapped: boolean, maxWitnessLen = 108): FundingInput {
  const redeem = p2wpkhSpk(k.pk);
  return {
    inputSerialId: serial,
    prevTx: payTo(wrapped ? p2shSpk(redeem) : redeem, value, salt),
    prevTxVout: 1,
    sequence: 0xfffffffd,
    maxWitnessLen,
    redeemScript: wrapped ? redeem : new Uint8Array(0),
  };
}

function contract(offerMaxWitnessLen = 108, offerCollateral = 300_000n): { offer: FundingOfferFields; accept: FundingAcceptFields; funding: FundingTransaction } {
  const offer: FundingOfferFields = {
    fundingPubkey: offerFundingKey.pk,
    payoutSpk: p2wpkhSpk(offerWallet[0]!.pk),
    offerCollateral,
    fundingInputs: [
      fundingInput(offerWallet[0]!, 900n, 200_000n, 1, false, offerMaxWitnessLen),
      fundingInput(offerWallet[1]!, 100n, 150_000n, 2, true),
    ],
    changeSpk: p2wpkhSpk(offerWallet[1]!.pk),
    changeSerialId: 7n,
    fundOutputSerialId: 3n,
    feeRatePerVb: 5n,
  };
  const accept: FundingAcceptFields = {
    fundingPubkey: acceptFundingKey.pk,
    payoutSpk: p2wpkhSpk(acceptWallet[0]!.pk),
    acceptCollateral: 100_000n,
    fundingInputs: [fundingInput(acceptWallet[0]!, 500n, 400_000n, 3, false)],
    changeSpk: p2wpkhSpk(acceptWallet[0]!.pk),
    changeSerialId: 5n,
  };
  return { offer, accept, funding: buildFundingTransaction(offer, accept) };
}

/** A wallet signing the inputs it owns (found by pubkey hash), as walletprocesspsbt would. */
function walletSign(psbt: Psbt, funding: FundingTransaction, wallet: Key[]): Psbt {
  const signed = psbt.clone();
  funding.inputs.forEach((input, i) => {
    const program = input.redeemScript.length > 0 ? input.redeemScript : input.prevOutput.script;
    const owner = wallet.find((k) => hex(hash160(k.pk)) === hex(program.subarray(2)));
    if (owner !== undefined) signed.signInput(i, owner.signer);
  });
  return signed;
}

const validator = (pubkey: Uint8Array, msghash: Uint8Array, signature: Uint8Array): boolean =>
  ecdsaVerify(msghash, pubkey, signature);

describe('funding PSBT', () => {
  const { funding } = contract();

  it('carries witnessUtxo and nonWitnessUtxo on every input, redeemScript on wrapped ones, witnessScript on the funding output', () => {
    const psbt = buildFundingPsbt(funding);
    expect(psbt.inputCount).toBe(3);
    expect(psbt.version).toBe(2);
    expect(psbt.locktime).toBe(0);
    psbt.data.inputs.forEach((input, i) => {
      const ours = funding.inputs[i]!;
      expect(input.witnessUtxo?.value).toBe(ours.prevOutput.value);
      expect(hex(input.witnessUtxo!.script)).toBe(hex(ours.prevOutput.script));
      expect(hex(input.nonWitnessUtxo!)).toBe(hex(ours.prevTx));
      expect(input.redeemScript === undefined ? '' : hex(input.redeemScript)).toBe(hex(ours.redeemScript));
      expect(psbt.txInputs[i]!.sequence).toBe(0xfffffffd);
    });
    expect(hex(psbt.data.outputs[funding.fundOutputIndex]!.witnessScript!)).toBe(hex(funding.fundingScript));
    // Base64 round trip through parseFundingPsbt (as from an external wallet).
    expect(parseFundingPsbt(psbt.toBase64(), funding).toBase64()).toBe(psbt.toBase64());
  });

  it('each party signs its inputs, combine, finalize, extract: every signature verifies', () => {
    const psbt = buildFundingPsbt(funding);
    const offerSigned = walletSign(psbt, funding, offerWallet);
    const acceptSigned = walletSign(psbt, funding, acceptWallet);
    const combined = combinePsbts(offerSigned, acceptSigned);
    expect(combined.validateSignaturesOfAllInputs(validator)).toBe(true);
    const tx = finalizeFundingPsbt(combined, funding);
    expect(tx.getId()).toBe(funding.txidHex);
    // The wrapped input has its scriptSig (push of the redeem script); native ones none.
    funding.inputs.forEach((input, i) => {
      expect(tx.ins[i]!.script.length).toBe(input.redeemScript.length === 0 ? 0 : input.redeemScript.length + 1);
      expect(tx.ins[i]!.witness).toHaveLength(2);
    });
    // Every witness verifies against the BIP143 sighash of the final transaction.
    for (const party of ['offer', 'accept'] as const) {
      const sigs = { fundingSignatures: funding.inputs
        .map((input, i) => ({ input, i }))
        .filter(({ input }) => input.party === party)
        .sort((a, b) => a.input.partyIndex - b.input.partyIndex)
        .map(({ i }) => ({ witnessElements: tx.ins[i]!.witness.map((witness) => ({ witness })) })) };
      expect(verifyFundingSignatures(funding, party, sigs).every((r) => r === 'valid')).toBe(true);
    }
  });

  it('the sign_dlc route gives the same transaction', () => {
    const psbt = buildFundingPsbt(funding);
    const offerSigned = walletSign(psbt, funding, offerWallet);
    const acceptSigned = walletSign(psbt, funding, acceptWallet);
    const viaCombine = finalizeFundingPsbt(combinePsbts(offerSigned, acceptSigned), funding);

    const offerSigs = extractFundingSignatures(offerSigned, funding, 'offer');
    // One entry per offer input, in offer message order (partyIndex), not tx order.
    expect(offerSigs.fundingSignatures).toHaveLength(2);
    expect(verifyFundingSignatures(funding, 'offer', offerSigs)).toEqual(['valid', 'valid']);
    const firstPk = offerSigs.fundingSignatures[0]!.witnessElements[1]!.witness;
    expect(hex(firstPk)).toBe(hex(offerWallet[0]!.pk));

    const viaPsbt = finalizeFundingPsbt(addFundingSignaturesToPsbt(acceptSigned, funding, 'offer', offerSigs), funding);
    expect(viaPsbt.toHex()).toBe(viaCombine.toHex());

    const acceptSigs = extractFundingSignatures(acceptSigned, funding, 'accept');
    const viaTx = applyFundingSignatures(applyFundingSignatures(funding.tx, funding, 'offer', offerSigs), funding, 'accept', acceptSigs);
    expect(viaTx.toHex()).toBe(viaCombine.toHex());
    expect(funding.tx.hasWitnesses()).toBe(false); // the input was not modified
  });

  it('witness stack encoding round-trips', () => {
    const stack = [new Uint8Array(0), new Uint8Array(72).fill(1), new Uint8Array(300).fill(2)];
    const enc = encodeWitnessStack(stack);
    expect(enc.length).toBe(1 + 1 + 0 + 1 + 72 + 3 + 300);
    expect(decodeWitnessStack(enc).map(hex)).toEqual(stack.map(hex));
  });

  type Case = [string, () => unknown, string, string];
  const other = contract(108, 250_000n); // a different funding transaction
  const cases: Case[] = [
    ['combining PSBTs of different transactions', () => combinePsbts(buildFundingPsbt(funding), buildFundingPsbt(other.funding)), 'INVALID_PARAMS', 'psbt-mismatch'],
    ['finalizing with a missing signature', () => finalizeFundingPsbt(walletSign(buildFundingPsbt(funding), funding, offerWallet), funding), 'INVALID_TRANSACTION', 'psbt-not-finalizable'],
    ['parsing garbage', () => parseFundingPsbt('bm90IGEgcHNidA==', funding), 'DECODE_ERROR', 'psbt-encoding'],
    ['a PSBT of another transaction', () => parseFundingPsbt(buildFundingPsbt(other.funding).toBase64(), funding), 'INVALID_PARAMS', 'psbt-mismatch'],
    ['a witness longer than max_witness_len', () => {
      const tight = contract(100);
      const psbt = walletSign(buildFundingPsbt(tight.funding), tight.funding, offerWallet);
      return extractFundingSignatures(psbt, tight.funding, 'offer');
    }, 'INVALID_TRANSACTION', 'witness-exceeds-max-witness-len'],
    ['the wrong number of funding signatures', () => verifyFundingSignatures(funding, 'offer', { fundingSignatures: [] }), 'INVALID_PARAMS', 'funding-signature-count'],
    ['a funding signature by the wrong key', () => {
      const sigs = extractFundingSignatures(walletSign(buildFundingPsbt(funding), funding, offerWallet), funding, 'offer');
      const swapped = { fundingSignatures: [sigs.fundingSignatures[1]!, sigs.fundingSignatures[0]!] };
      return verifyFundingSignatures(funding, 'offer', swapped);
    }, 'BAD_SIGNATURE', 'funding-witness'],
    ['a tampered funding signature', () => {
      const sigs = extractFundingSignatures(walletSign(buildFundingPsbt(funding), funding, offerWallet), funding, 'offer');
      const sig = Uint8Array.from(sigs.fundingSignatures[0]!.witnessElements[0]!.witness);
      sig[10]! ^= 1;
      const bad = { fundingSignatures: [{ witnessElements: [{ witness: sig }, sigs.fundingSignatures[0]!.witnessElements[1]!] }, sigs.fundingSignatures[1]!] };
      return verifyFundingSignatures(funding, 'offer', bad);
    }, 'BAD_SIGNATURE', 'funding-witness'],
    ['a truncated witness encoding', () => decodeWitnessStack(Uint8Array.from([2, 1])), 'DECODE_ERROR', 'witness-encoding'],
  ];
  it.each(cases)('rejects %s', (_n, fn, code, reason) => {
    let caught: unknown;
    try {
      fn();
    } catch (err) {
      caught = err;
    }
    expect(isDlcError(caught)).toBe(true);
    expect(caught).toMatchObject({ code, reason });
  });
});
