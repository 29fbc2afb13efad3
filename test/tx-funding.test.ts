// Funding transaction and contract id: contract_id_test.json, the 14 dlcspecs
// test_vectors (contractId, and the offerer's funding signatures verifying against
// the BIP143 sighash of the transaction we build), fee accounting, extra outputs
// and the rejection table.
import { readFileSync } from 'node:fs';
import { Transaction } from 'bitcoinjs-lib';
import { describe, expect, it } from 'vitest';
import { isDlcError } from '../protocol/errors.js';
import type { FundingInput } from '../protocol/messages/types.js';
import {
  buildFundingTransaction,
  computeContractId,
  contractIdOf,
  FUNDING_TX_LOCKTIME,
} from '../protocol/tx/funding.js';
import type { ExtraFundingOutput, FundingAcceptFields, FundingOfferFields } from '../protocol/tx/funding.js';
import { fundingFees, partyFeeShape } from '../protocol/tx/fees.js';
import { fundingScript, hash160, p2wshScriptPubkey } from '../protocol/tx/scripts.js';
import { verifyFundingSignatures } from '../protocol/tx/psbt.js';
import { loadTxVectors } from './tx-vector-fixtures.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

const vectors = loadTxVectors();

describe('contract_id_test.json', () => {
  const cases = JSON.parse(
    readFileSync(new URL('../../shared/dlc-vectors/dlcspecs/contract_id_test.json', import.meta.url), 'utf8'),
  ) as { fundTxId: string; fundOutputIndex: number; temporaryContractId: string; contractId: string }[];

  it.each(cases.map((c, i) => [i, c] as const))('case %i', (_i, c) => {
    const id = computeContractId(unhex(c.fundTxId), c.fundOutputIndex, unhex(c.temporaryContractId));
    expect(hex(id)).toBe(c.contractId);
  });

  it('puts the output index big-endian into the last two bytes', () => {
    const zero = new Uint8Array(32);
    const id = computeContractId(zero, 0x0102, zero);
    expect(hex(id.subarray(28))).toBe('00000102');
  });

  it.each([
    ['short txid', () => computeContractId(new Uint8Array(31), 0, new Uint8Array(32)), 'INVALID_LENGTH'],
    ['index above u16', () => computeContractId(new Uint8Array(32), 65536, new Uint8Array(32)), 'INVALID_PARAMS'],
  ] as const)('rejects %s', (_n, fn, code) => {
    expect(() => fn()).toThrow(expect.objectContaining({ code }));
  });
});

describe('dlcspecs test_vectors: funding transaction', () => {
  it('reads all 14 files', () => {
    expect(vectors).toHaveLength(14);
  });

  it.each(vectors.map((v) => [v.name, v] as const))('%s: contractId of the rebuilt funding tx', (_n, v) => {
    const funding = buildFundingTransaction(v.offer, v.accept);
    expect(hex(contractIdOf(funding, v.offer.temporaryContractId))).toBe(hex(v.sign.contractId));
  });

  it.each(vectors.map((v) => [v.name, v] as const))('%s: offerer funding signatures verify (BIP143 over our tx)', (_n, v) => {
    const funding = buildFundingTransaction(v.offer, v.accept);
    expect(verifyFundingSignatures(funding, 'offer', v.sign.fundingSignatures)).toEqual(
      v.offer.fundingInputs.map(() => 'valid'),
    );
  });

  it.each(vectors.map((v) => [v.name, v] as const))('%s: shape and amounts per Transactions.md', (_n, v) => {
    const f = buildFundingTransaction(v.offer, v.accept);
    expect(f.tx.version).toBe(2);
    expect(f.tx.locktime).toBe(FUNDING_TX_LOCKTIME);
    expect(FUNDING_TX_LOCKTIME).toBe(0);
    // Inputs ascending by serial id, outputs ascending by serial id.
    const serials = f.inputs.map((i) => i.serialId);
    expect([...serials].sort((a, b) => (a < b ? -1 : 1))).toEqual(serials);
    const outSerials = new Map<number, bigint>([
      [f.fundOutputIndex, v.offer.fundOutputSerialId],
      [f.offer.changeOutputIndex, v.offer.changeSerialId],
      [f.accept.changeOutputIndex, v.accept.changeSerialId],
    ]);
    expect(outSerials.size).toBe(3);
    const ordered = [0, 1, 2].map((i) => outSerials.get(i)!);
    expect([...ordered].sort((a, b) => (a < b ? -1 : 1))).toEqual(ordered);
    // Funding output: P2WSH of the sorted 2-of-2; value = collaterals + closing fees.
    const out = f.tx.outs[f.fundOutputIndex]!;
    expect(hex(out.script)).toBe(hex(p2wshScriptPubkey(fundingScript(v.offer.fundingPubkey, v.accept.fundingPubkey))));
    const fees = fundingFees(partyFeeShape(v.offer), partyFeeShape(v.accept), v.offer.feeRatePerVb);
    expect(out.value).toBe(v.offer.offerCollateral + v.accept.acceptCollateral + fees.offer.closingFee + fees.accept.closingFee);
    // Change = inputs - collateral - funding fee - closing fee, per party.
    expect(f.tx.outs[f.offer.changeOutputIndex]!.value).toBe(
      f.offer.inputTotal - v.offer.offerCollateral - fees.offer.fundingFee - fees.offer.closingFee,
    );
    expect(f.tx.outs[f.accept.changeOutputIndex]!.value).toBe(
      f.accept.inputTotal - v.accept.acceptCollateral - fees.accept.fundingFee - fees.accept.closingFee,
    );
    // Total fee of the funding tx is exactly both parties' funding fees.
    const inSum = f.inputs.reduce((s, i) => s + i.prevOutput.value, 0n);
    const outSum = f.tx.outs.reduce((s, o) => s + o.value, 0n);
    expect(inSum - outSum).toBe(fees.offer.fundingFee + fees.accept.fundingFee);
    expect(f.txidHex).toBe(f.tx.getId());
  });
});

// A synthetic contract for rejection cases and extensions: P2WPKH prev outputs.
function prevTx(value: bigint, spk: Uint8Array, salt: number): Uint8Array {
  const tx = new Transaction();
  tx.version = 2;
  tx.addInput(new Uint8Array(32).fill(salt), 0);
  tx.addOutput(spk, value);
  return tx.toBuffer();
}
const p2wpkh = (n: number): Uint8Array => unhex(`0014${n.toString(16).padStart(2, '0').repeat(20)}`);
const PK_A = unhex('0284014ca41f49f56553b01d7da4f6c19afed76ac5d2fecde0bab6a878b57092ed');
const PK_B = unhex('02ccce3c8cbe1967575f842c2e2cec30544e538b2bbbf70c1d8addd9cc7a88d313');
function input(serial: bigint, value: bigint, salt: number, over: Partial<FundingInput> = {}): FundingInput {
  return {
    inputSerialId: serial,
    prevTx: prevTx(value, p2wpkh(salt), salt),
    prevTxVout: 0,
    sequence: 0xffffffff,
    maxWitnessLen: 107,
    redeemScript: new Uint8Array(0),
    ...over,
  };
}
function synthetic(): { offer: FundingOfferFields; accept: FundingAcceptFields } {
  return {
    offer: {
      fundingPubkey: PK_A,
      payoutSpk: p2wpkh(1),
      offerCollateral: 100_000n,
      fundingInputs: [input(5n, 200_000n, 11)],
      changeSpk: p2wpkh(2),
      changeSerialId: 30n,
      fundOutputSerialId: 20n,
      feeRatePerVb: 2n,
    },
    accept: {
      fundingPubkey: PK_B,
      payoutSpk: p2wpkh(3),
      acceptCollateral: 50_000n,
      fundingInputs: [input(1n, 100_000n, 12)],
      changeSpk: p2wpkh(4),
      changeSerialId: 10n,
    },
  };
}

describe('funding transaction: our rules', () => {
  it('sorts inputs and outputs by serial id', () => {
    const { offer, accept } = synthetic();
    const f = buildFundingTransaction(offer, accept);
    expect(f.inputs.map((i) => i.party)).toEqual(['accept', 'offer']);
    expect([f.accept.changeOutputIndex, f.fundOutputIndex, f.offer.changeOutputIndex]).toEqual([0, 1, 2]);
  });

  it('accepts a P2SH-P2WPKH input and counts its scriptSig in the fee', () => {
    const { offer, accept } = synthetic();
    const redeem = p2wpkh(9);
    const p2sh = new Uint8Array([0xa9, 0x14, ...hash160(redeem), 0x87]);
    const wrapped: FundingInput = {
      ...input(7n, 200_000n, 13),
      prevTx: prevTx(200_000n, p2sh, 13),
      redeemScript: redeem,
      maxWitnessLen: 108,
    };
    const native = buildFundingTransaction(offer, accept);
    const f = buildFundingTransaction({ ...offer, fundingInputs: [wrapped] }, accept);
    // Weight 502 -> 502 + 4*23 (scriptSig: push + 22 bytes) + 1 (max witness 108 vs 107) = 595:
    // 126 -> 149 vbytes, 23 more at 2 sat/vB.
    expect(f.offer.fundingFee - native.offer.fundingFee).toBe(46n);
    expect(hex(f.inputs.find((i) => i.party === 'offer')!.redeemScript)).toBe(hex(redeem));
  });

  it('adds an upfront-payment output paid by the accepter, with its fee (our extension)', () => {
    const { offer, accept } = synthetic();
    const upfront: ExtraFundingOutput = { script: p2wpkh(5), value: 20_000n, serialId: 25n, payer: 'accept' };
    const base = buildFundingTransaction(offer, accept);
    const f = buildFundingTransaction(offer, accept, { extraOutputs: [upfront] });
    expect(f.extraOutputIndexes).toEqual([2]); // serial 25 sorts between 20 (fund) and 30 (offer change)
    expect(f.tx.outs[2]!.value).toBe(20_000n);
    expect(hex(f.tx.outs[2]!.script)).toBe(hex(p2wpkh(5)));
    // The payer's change drops by the value plus the output's 4*(9+22) = 124 weight = 31 vB at 2 sat/vB.
    expect(base.accept.change - f.accept.change).toBe(20_000n + 62n);
    expect(f.offer.change).toBe(base.offer.change);
    expect(f.fundOutputValue).toBe(base.fundOutputValue);
  });

  type Case = [string, () => unknown, string, string];
  const cases: Case[] = [
    ['insufficient funds', () => {
      const { offer, accept } = synthetic();
      return buildFundingTransaction({ ...offer, offerCollateral: 200_000n }, accept);
    }, 'INVALID_TRANSACTION', 'insufficient-funds'],
    ['change below dust', () => {
      const { offer, accept } = synthetic();
      // Raise the collateral until 999 sat of change would remain.
      const f = buildFundingTransaction(offer, accept);
      return buildFundingTransaction({ ...offer, offerCollateral: 100_000n + f.offer.change - 999n }, accept);
    }, 'INVALID_TRANSACTION', 'change-below-dust'],
    ['duplicate input serial id', () => {
      const { offer, accept } = synthetic();
      return buildFundingTransaction(offer, { ...accept, fundingInputs: [input(5n, 100_000n, 12)] });
    }, 'INVALID_PARAMS', 'duplicate-serial-id'],
    ['change serial id equal to fund output serial id', () => {
      const { offer, accept } = synthetic();
      return buildFundingTransaction(offer, { ...accept, changeSerialId: 20n });
    }, 'INVALID_PARAMS', 'duplicate-serial-id'],
    ['extra output serial id clashing', () => {
      const { offer, accept } = synthetic();
      return buildFundingTransaction(offer, accept, { extraOutputs: [{ script: p2wpkh(5), value: 5000n, serialId: 10n, payer: 'offer' }] });
    }, 'INVALID_PARAMS', 'duplicate-serial-id'],
    ['extra output below dust', () => {
      const { offer, accept } = synthetic();
      return buildFundingTransaction(offer, accept, { extraOutputs: [{ script: p2wpkh(5), value: 999n, serialId: 99n, payer: 'offer' }] });
    }, 'INVALID_TRANSACTION', 'extra-output-below-dust'],
    ['same outpoint twice', () => {
      const { offer, accept } = synthetic();
      return buildFundingTransaction(offer, { ...accept, fundingInputs: [input(2n, 200_000n, 11)] });
    }, 'INVALID_PARAMS', 'duplicate-outpoint'],
    ['non-segwit (P2PKH) input', () => {
      const { offer, accept } = synthetic();
      const p2pkh = unhex('76a914a5745456754abf104d8d1a8852f9ef4cbb0af3ee88ac');
      return buildFundingTransaction({ ...offer, fundingInputs: [input(5n, 0n, 11, { prevTx: prevTx(200_000n, p2pkh, 11) })] }, accept);
    }, 'INVALID_PARAMS', 'not-segwit-input'],
    ['redeem script not matching the P2SH output', () => {
      const { offer, accept } = synthetic();
      const p2sh = new Uint8Array([0xa9, 0x14, ...new Uint8Array(20), 0x87]);
      return buildFundingTransaction({ ...offer, fundingInputs: [input(5n, 0n, 11, { prevTx: prevTx(200_000n, p2sh, 11), redeemScript: p2wpkh(9) })] }, accept);
    }, 'INVALID_PARAMS', 'redeem-script-mismatch'],
    ['prevTxVout out of range', () => {
      const { offer, accept } = synthetic();
      return buildFundingTransaction({ ...offer, fundingInputs: [input(5n, 200_000n, 11, { prevTxVout: 1 })] }, accept);
    }, 'INVALID_PARAMS', 'prev-tx-vout'],
    ['prevTx that does not parse', () => {
      const { offer, accept } = synthetic();
      return buildFundingTransaction({ ...offer, fundingInputs: [input(5n, 200_000n, 11, { prevTx: new Uint8Array([1, 2, 3]) })] }, accept);
    }, 'DECODE_ERROR', 'prev-tx'],
    ['funding pubkey not a point', () => {
      const { offer, accept } = synthetic();
      return buildFundingTransaction({ ...offer, fundingPubkey: unhex(`02${'ff'.repeat(32)}`) }, accept);
    }, 'INVALID_POINT', 'funding-pubkey'],
    ['equal funding pubkeys', () => {
      const { offer, accept } = synthetic();
      return buildFundingTransaction(offer, { ...accept, fundingPubkey: PK_A });
    }, 'INVALID_PARAMS', 'same-funding-pubkey'],
    ['non-standard change spk', () => {
      const { offer, accept } = synthetic();
      return buildFundingTransaction({ ...offer, changeSpk: unhex('6a') }, accept);
    }, 'INVALID_PARAMS', 'non-standard-spk'],
    ['collateral not summing to total collateral', () => {
      const { offer, accept } = synthetic();
      const contractInfo = { singleContractInfo: { totalCollateral: 1n, contractInfo: null } } as unknown as FundingOfferFields['contractInfo'];
      return buildFundingTransaction({ ...offer, contractInfo }, accept);
    }, 'INVALID_PARAMS', 'collateral-mismatch'],
    ['fee rate above u64', () => {
      const { offer, accept } = synthetic();
      return buildFundingTransaction({ ...offer, feeRatePerVb: 1n << 64n }, accept);
    }, 'INVALID_PARAMS', 'fee-rate'],
  ];
  it.each(cases)('rejects %s', (_name, fn, code, reason) => {
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
