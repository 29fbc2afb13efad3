/**
 * Transferable positions (issue 14), the protocol layer: a funded hashpower
 * sale whose buyer side is sold to a new party. The new contract is the old
 * one over the transfer transaction's funding output; every party's check
 * names the field a tamperer changed; the old parties' signatures and the new
 * party's wallet signature complete the transfer; the seller's check catches a
 * swapped price.
 */
import { describe, expect, it } from 'vitest';
import * as ecc from 'tiny-secp256k1';
import {
  buildAccept,
  buildOffer,
  buildSign,
  checkTransferOpen,
  checkTransferredContract,
  defaultLocktimes,
  fundingPsbtOf,
  signContract,
  setupTransferredContract,
  transferredMessages,
  transferSign,
  transferTermsFromJson,
  transferTermsToJson,
  verifyTransferSign,
  verifyTransferSignatures,
  type ContractSetup,
} from '../protocol/contract/index.js';
import { ecdsaSign } from '../protocol/crypto/ecdsa.js';
import { isDlcError } from '../protocol/errors.js';
import type { AcceptDlc, OfferDlc } from '../protocol/messages/index.js';
import { hashpowerSale } from '../protocol/templates/index.js';
import {
  buildTransferPsbt,
  checkTransferPayment,
  extractFundingSignatures,
  signedTransferTransaction,
  transferSourceOf,
  transferSpendSighash,
  verifyFundingSpendSignature,
  type TransferTerms,
} from '../protocol/tx/index.js';
import { REGTEST_CHAIN_HASH, fundingInput, p2wpkhScriptPubkey, publicKey, testOracle, testSecret } from './helpers/dlc-fixture.js';

const oracle = testOracle('transfer-oracle');
const announcement = oracle.announce('delivery/transfer-test', 14);
const WINDOW = { start: 1000, end: 1100 };
const sale = hashpowerSale({
  hashrateThs: 100n,
  window: WINDOW,
  deliveryAddress: 'bcrt1qdeliveryaddressfortests',
  upfront: 50_000n,
  escrow: 400_000n,
  minerCollateral: 200_000n,
  toleranceBps: 9500,
  upfrontScript: p2wpkhScriptPubkey(publicKey(testSecret('t:upfront'))),
  upfrontSerialId: 77n,
  oracleInfo: { single: { oracleAnnouncement: announcement } },
});
const minerKey = testSecret('t:miner-funding');
const b1Key = testSecret('t:b1-funding');
const b2Key = testSecret('t:b2-funding');
const minerUtxo = testSecret('t:miner-utxo');
const b1Utxo = testSecret('t:b1-utxo');
const b2Utxo = testSecret('t:b2-utxo');
const spk = (label: string): Uint8Array => p2wpkhScriptPubkey(publicKey(testSecret(label)));

/** A wallet signer that grinds a low-R signature (71-byte DER), as the fixture's max_witness_len of 107 assumes. */
function signer(secret: Uint8Array) {
  const sign = (hash: Uint8Array): Uint8Array => {
    for (let i = 0; ; i++) {
      const entropy = new Uint8Array(32);
      entropy[0] = i;
      const sig = ecc.sign(hash, secret, i === 0 ? undefined : entropy);
      if (sig[0]! < 0x80) return sig;
    }
  };
  return { publicKey: publicKey(secret), sign };
}

// The old contract: miner M offers, buyer B1 accepts; funded.
const offer: OfferDlc = buildOffer({
  contract: sale,
  temporaryContractId: testSecret('t:temp-id'),
  chainHash: REGTEST_CHAIN_HASH,
  fundingPubkey: publicKey(minerKey),
  fundingInputs: [fundingInput(minerUtxo, 300_000n, 5n, 't:o')],
  payoutSpk: spk('t:miner-payout'),
  changeSpk: spk('t:miner-change'),
  payoutSerialId: 1n,
  changeSerialId: 2n,
  fundOutputSerialId: 3n,
  feeRatePerVb: 2n,
  ...defaultLocktimes(WINDOW.end, 'regtest'),
});
const { accept } = buildAccept(offer, {
  fundingSecretKey: b1Key,
  fundingInputs: [fundingInput(b1Utxo, 600_000n, 6n, 't:a')],
  payoutSpk: spk('t:b1-payout'),
  changeSpk: spk('t:b1-change'),
  payoutSerialId: 11n,
  changeSerialId: 12n,
  extraOutputs: sale.extraOutputs,
});
const { setup: old } = buildSign(offer, accept, {
  fundingSecretKey: minerKey,
  fundingSignatures: (s: ContractSetup) => {
    const psbt = fundingPsbtOf(s);
    s.funding.inputs.forEach((input, i) => { if (input.party === 'offer') psbt.signInput(i, signer(minerUtxo)); });
    return extractFundingSignatures(psbt, s.funding, 'offer');
  },
  extraOutputs: sale.extraOutputs,
});

const PRICE = 120_000n;
const sellerSpk = spk('t:b1-price');
const terms: TransferTerms = {
  side: 'accept',
  from: transferSourceOf(old.closing),
  price: PRICE,
  sellerSpk,
  priceSerialId: 40n,
  feeRatePerVb: 3n,
};
const buyer = {
  fundingPubkey: publicKey(b2Key),
  payoutSpk: spk('t:b2-payout'),
  payoutSerialId: 21n,
  fundingInputs: [fundingInput(b2Utxo, 200_000n, 22n, 't:b2')],
  changeSpk: spk('t:b2-change'),
  changeSerialId: 23n,
};
const drafts = transferredMessages({ offer, accept }, 'accept', testSecret('t:transfer-temp'), buyer);
const built = setupTransferredContract(drafts.offer, drafts.accept, terms, { hashProfile: 'sha256' });
const b2Sigs = signContract(built.setup, b2Key);
const nextAccept: AcceptDlc = { ...drafts.accept, ...b2Sigs };
const next = setupTransferredContract(drafts.offer, nextAccept, terms, { hashProfile: 'sha256' });
const minerSign = transferSign(next.setup, signContract(next.setup, minerKey));

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isDlcError(e)) return `${e.code} ${e.reason ?? ''}`;
    throw e;
  }
  throw new Error('expected an error');
}

describe('transfer transaction', () => {
  const t = next.transfer;
  it('spends the old funding output last, creates the new funding output at the old value, pays the price, returns change', () => {
    expect(t.tx.ins).toHaveLength(2);
    expect(t.spentFundingInputIndex).toBe(1);
    const spent = t.tx.ins[1]!;
    expect(Buffer.from(spent.hash).equals(Buffer.from(old.funding.txid))).toBe(true);
    expect(spent.index).toBe(old.funding.fundOutputIndex);
    expect(t.fundOutputValue).toBe(old.funding.fundOutputValue);
    expect(t.tx.outs[t.fundOutputIndex]!.value).toBe(old.funding.fundOutputValue);
    expect(t.tx.outs[t.priceOutputIndex]!.value).toBe(PRICE);
    expect(t.accept.change).toBe(200_000n - PRICE - t.fee);
    expect(t.fee).toBe(((t.weight + 3n) / 4n) * 3n);
  });

  it('the new contract has the same CETs, payouts and locktimes; only the funding outpoint and the buyer key change', () => {
    const s = next.setup;
    expect(s.plan.cets.map((c) => [c.offerPayout, c.acceptPayout])).toEqual(old.plan.cets.map((c) => [c.offerPayout, c.acceptPayout]));
    expect(s.closing.cetLocktime).toBe(old.closing.cetLocktime);
    expect(s.closing.refundLocktime).toBe(old.closing.refundLocktime);
    expect(s.closing.offerPayoutSpk).toEqual(old.closing.offerPayoutSpk);
    expect(s.closing.fundOutputValue).toBe(old.closing.fundOutputValue);
    expect(s.funding.txidHex).toBe(t.txidHex);
    expect(s.contractId).not.toEqual(old.contractId);
  });

  it('the signed transfer carries valid 2-of-2 signatures of the old parties and the new party\'s wallet witness', () => {
    const sighash = transferSpendSighash(old.closing, t);
    const mSig = ecdsaSign(minerKey, sighash);
    const b1Sig = ecdsaSign(b1Key, sighash);
    expect(verifyFundingSpendSignature(old.closing, 'offer', sighash, mSig)).toBe(true);
    expect(verifyFundingSpendSignature(old.closing, 'accept', sighash, b1Sig)).toBe(true);
    const psbt = buildTransferPsbt(t, terms.from);
    psbt.signInput(0, signer(b2Utxo));
    const witnesses = extractFundingSignatures(psbt, t, 'accept');
    const tx = signedTransferTransaction(t, 'accept', old.closing, witnesses, mSig, b1Sig);
    expect(tx.getId()).toBe(t.txidHex);
    expect(tx.ins.every((i) => i.witness.length > 0)).toBe(true);
    // The fee holds at the stated rate: the real vsize is at most the expected weight.
    expect(BigInt(tx.virtualSize())).toBeLessThanOrEqual((t.weight + 3n) / 4n);
  });

  it('a transfer that does not cover price + fee, or leaves dust change, is refused', () => {
    const poor = { ...buyer, fundingInputs: [fundingInput(b2Utxo, PRICE + 500n, 22n, 't:b2p')] };
    const d = transferredMessages({ offer, accept }, 'accept', testSecret('t:x'), poor);
    expect(reasonOf(() => setupTransferredContract(d.offer, d.accept, terms))).toBe('INVALID_TRANSACTION insufficient-funds');
  });
});

describe('every party verifies the other\'s signatures before the transfer is signed', () => {
  it('the miner verifies the new buyer\'s CET and refund signatures; the new buyer verifies the miner\'s sign_dlc', async () => {
    await expect(verifyTransferSignatures(next.setup, 'accept', nextAccept)).resolves.toBeUndefined();
    await expect(verifyTransferSign(next.setup, minerSign)).resolves.toBeUndefined();
  });

  it('a bad adaptor signature is named', async () => {
    const sigs = nextAccept.cetAdaptorSignatures.ecdsaAdaptorSignatures.slice();
    sigs[2] = sigs[3]!;
    await expect(verifyTransferSignatures(next.setup, 'accept', { ...nextAccept, cetAdaptorSignatures: { ecdsaAdaptorSignatures: sigs } }))
      .rejects.toMatchObject({ code: 'BAD_SIGNATURE', reason: 'cet-adaptor-signature:2' });
  });
});

describe('the stayer\'s check: only the sold side\'s keys and addresses may change', () => {
  const expected = { side: 'accept' as const, from: transferSourceOf(old.closing) };
  it('the honest transfer passes', () => {
    expect(() => checkTransferredContract({ offer, accept }, { offer: drafts.offer, accept: nextAccept }, terms, expected)).not.toThrow();
  });

  it.each([
    ['the contract\'s total collateral', (o: OfferDlc): OfferDlc => ({
      ...o, contractInfo: { singleContractInfo: { ...('singleContractInfo' in o.contractInfo ? o.contractInfo.singleContractInfo : never()), totalCollateral: 1n } },
    }), 'transfer-mismatch:offer.contractInfo.singleContractInfo.totalCollateral'],
    ['the miner\'s payout script', (o: OfferDlc): OfferDlc => ({ ...o, payoutSpk: spk('t:evil') }), 'transfer-mismatch:offer.payoutSpk'],
    ['the refund locktime', (o: OfferDlc): OfferDlc => ({ ...o, refundLocktime: o.refundLocktime + 100 }), 'transfer-mismatch:offer.refundLocktime'],
    ['the miner\'s funding key', (o: OfferDlc): OfferDlc => ({ ...o, fundingPubkey: publicKey(testSecret('t:evil-key')) }), 'transfer-mismatch:offer.fundingPubkey'],
  ])('a changed %s is named', (_what, change, reason) => {
    expect(reasonOf(() => checkTransferredContract({ offer, accept }, { offer: change(drafts.offer), accept: nextAccept }, terms, expected)))
      .toBe(`INVALID_PARAMS ${reason}`);
  });

  it('a changed collateral of the accept side, or another funding output, is named', () => {
    expect(reasonOf(() => checkTransferredContract({ offer, accept }, { offer: drafts.offer, accept: { ...nextAccept, acceptCollateral: 1n } }, terms, expected)))
      .toBe('INVALID_PARAMS transfer-mismatch:accept.acceptCollateral');
    expect(reasonOf(() => checkTransferredContract({ offer, accept }, { offer: drafts.offer, accept: nextAccept }, { ...terms, from: { ...terms.from, value: terms.from.value - 1n } }, expected)))
      .toBe('INVALID_PARAMS transfer-mismatch:from.value');
    expect(reasonOf(() => checkTransferredContract({ offer, accept }, { offer: drafts.offer, accept: nextAccept }, { ...terms, side: 'offer' }, expected)))
      .toBe('INVALID_PARAMS transfer-mismatch:side');
  });
});

describe('the seller\'s check: the transfer pays it the price', () => {
  const from = { txid: old.funding.txid, vout: old.funding.fundOutputIndex };
  it('passes for the honest transfer', () => {
    expect(() => checkTransferPayment(next.transfer.tx, { from, price: PRICE, sellerSpk })).not.toThrow();
  });
  it('a coordinator that swaps the price\'s address or lowers it is caught', () => {
    const swapped = setupTransferredContract(drafts.offer, nextAccept, { ...terms, sellerSpk: spk('t:thief') }).transfer;
    expect(reasonOf(() => checkTransferPayment(swapped.tx, { from, price: PRICE, sellerSpk }))).toBe('INVALID_PARAMS transfer-price-missing');
    const lower = setupTransferredContract(drafts.offer, nextAccept, { ...terms, price: PRICE - 1n }).transfer;
    expect(reasonOf(() => checkTransferPayment(lower.tx, { from, price: PRICE, sellerSpk }))).toBe('INVALID_PARAMS transfer-price-missing');
  });
});

describe('transfer terms as JSON', () => {
  it('round-trips, the txid in display order', () => {
    const j = transferTermsToJson(terms);
    expect(j.from.txid).toBe(old.funding.txidHex);
    expect(transferTermsFromJson(JSON.parse(JSON.stringify(j)))).toEqual(terms);
    expect(reasonOf(() => transferTermsFromJson({ ...j, price: '01' }))).toBe('DECODE_ERROR transfer-terms');
  });
});

describe('the transfer window', () => {
  it('closes TRANSFER_MARGIN_BLOCKS before the CET locktime', () => {
    expect(() => checkTransferOpen(1097, 1100, 'regtest')).not.toThrow();
    expect(reasonOf(() => checkTransferOpen(1098, 1100, 'regtest'))).toBe('INVALID_PARAMS transfer-closed');
  });
});

function never(): never {
  throw new Error('unreachable');
}
