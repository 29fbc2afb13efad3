/**
 * A whole numeric DLC between two parties with fresh keys, in memory: each side
 * derives the same set-up, signs every CET and the refund, checks the other's
 * signatures, the oracle attests, and the attested CET is completed from the
 * two adaptor signatures alone (as the keyless coordinator does).
 */
import { describe, expect, it } from 'vitest';
import { Transaction } from 'bitcoinjs-lib';
import {
  completeCet,
  findAttestedSlot,
  setupContract,
  signCets,
  signedRefundTransaction,
  signRefund,
  verifyCetSignatures,
  verifyRefundSignature,
} from '../protocol/contract/setup.js';
import { ecdsaVerify } from '../protocol/crypto/ecdsa.js';
import { isDlcError } from '../protocol/errors.js';
import { payoutInRanges } from '../protocol/numeric/index.js';
import { segwitV0Sighash } from '../protocol/tx/index.js';
import { bscriptSignatureDecode } from './helpers/script-sig.js';
import { linearDescriptor, testOracle, twoPartyFixture } from './helpers/dlc-fixture.js';

const NB_DIGITS = 14;
const oracle = testOracle('lifecycle-oracle');
const announcement = oracle.announce('delivery-test', NB_DIGITS);
const fx = twoPartyFixture({
  announcement,
  descriptor: linearDescriptor(NB_DIGITS, 1_000_000n, 10_000n, 1_000n),
  offerCollateral: 600_000n,
  acceptCollateral: 400_000n,
  label: 'lifecycle',
});

function signedSetup() {
  const acceptSide = setupContract(fx.offer, fx.acceptUnsigned);
  const accept = {
    ...fx.acceptUnsigned,
    cetAdaptorSignatures: signCets(acceptSide, fx.acceptKey),
    refundSignature: signRefund(acceptSide, fx.acceptKey),
  };
  const offerSide = setupContract(fx.offer, accept);
  verifyCetSignatures(offerSide, 'accept', accept.cetAdaptorSignatures);
  verifyRefundSignature(offerSide, 'accept', accept.refundSignature);
  const offerSigs = signCets(offerSide, fx.offerKey);
  const offerRefund = signRefund(offerSide, fx.offerKey);
  verifyCetSignatures(acceptSide, 'offer', offerSigs);
  verifyRefundSignature(acceptSide, 'offer', offerRefund);
  return { setup: offerSide, accept, offerSigs, offerRefund };
}

describe('two-party numeric DLC in memory', () => {
  const { setup, accept, offerSigs, offerRefund } = signedSetup();

  it('both sides derive the same contract', () => {
    const again = setupContract(fx.offer, accept);
    expect(again.contractId).toEqual(setup.contractId);
    expect(again.slotAdaptorPoints).toEqual(setup.slotAdaptorPoints);
    expect(setup.plan.cets.length).toBeGreaterThan(5);
  });

  for (const outcome of [0n, 2_500n, 9_999n, 10_000n, 16_383n]) {
    it(`completes the CET attested for outcome ${outcome} and pays per the curve`, () => {
      const att = oracle.attestNumeric('delivery-test', outcome, NB_DIGITS);
      const slot = findAttestedSlot(setup, [{ contractIndex: 0, oracleIndex: 0, attestation: att }]);
      const tx = completeCet(
        setup,
        slot,
        offerSigs.ecdsaAdaptorSignatures[slot.slotIndex]!.signature,
        accept.cetAdaptorSignatures.ecdsaAdaptorSignatures[slot.slotIndex]!.signature,
      );
      // The witness signatures verify against the CET's own BIP143 sighash.
      const sighash = segwitV0Sighash(tx, 0, setup.closing.fundingScript, setup.closing.fundOutputValue);
      const witness = tx.ins[0]!.witness;
      expect(witness).toHaveLength(4);
      const keys = [fx.offer.fundingPubkey, accept.fundingPubkey].sort(Buffer.compare);
      expect(ecdsaVerify(bscriptSignatureDecode(witness[1]!), sighash, keys[0]!)).toBe(true);
      expect(ecdsaVerify(bscriptSignatureDecode(witness[2]!), sighash, keys[1]!)).toBe(true);
      // Payouts: the offer gets the rounded curve value (100 sats per bps up to 10,000).
      const cet = setup.plan.cets[slot.cetIndex]!;
      const expectedOffer = outcome >= 10_000n ? 1_000_000n : ((outcome * 100n + 500n) / 1000n) * 1000n;
      expect(cet.offerPayout).toBe(expectedOffer);
      expect(cet.range && payoutInRanges([cet.range], outcome)).toBe(expectedOffer);
      const paid = new Map(tx.outs.map((o) => [Buffer.from(o.script).toString('hex'), BigInt(o.value)]));
      if (expectedOffer >= 1000n) expect(paid.get(Buffer.from(fx.offer.payoutSpk).toString('hex'))).toBe(expectedOffer);
      expect(Transaction.fromBuffer(tx.toBuffer()).getId()).toBe(tx.getId());
    });
  }

  it('an attestation of another outcome cannot complete a CET', () => {
    const att = oracle.attestNumeric('delivery-test', 3_000n, NB_DIGITS);
    const slot = findAttestedSlot(setup, [{ contractIndex: 0, oracleIndex: 0, attestation: att }]);
    const other = findAttestedSlot(setup, [
      { contractIndex: 0, oracleIndex: 0, attestation: oracle.attestNumeric('delivery-test', 9_000n, NB_DIGITS) },
    ]);
    expect(other.cetIndex).not.toBe(slot.cetIndex);
    // Decrypting the 9,000 CET's signatures with the 3,000 attestation's secret fails.
    let err: unknown;
    try {
      completeCet(
        setup,
        { ...other, decryptionKey: slot.decryptionKey },
        offerSigs.ecdsaAdaptorSignatures[other.slotIndex]!.signature,
        accept.cetAdaptorSignatures.ecdsaAdaptorSignatures[other.slotIndex]!.signature,
      );
    } catch (e) {
      err = e;
    }
    expect(isDlcError(err, 'BAD_SIGNATURE')).toBe(true);
  });

  it('a forged attestation (wrong key) selects no CET', () => {
    const forger = testOracle('forger');
    forger.announce('delivery-test', NB_DIGITS);
    const att = forger.attestNumeric('delivery-test', 3_000n, NB_DIGITS);
    expect(() => findAttestedSlot(setup, [{ contractIndex: 0, oracleIndex: 0, attestation: att }])).toThrowError(
      expect.objectContaining({ code: 'BAD_SIGNATURE', reason: 'attestation-secret' }),
    );
  });

  it('the refund transaction carries both signatures and the refund locktime', () => {
    const tx = signedRefundTransaction(setup, offerRefund, accept.refundSignature);
    expect(tx.locktime).toBe(fx.offer.refundLocktime);
    expect(tx.ins[0]!.witness).toHaveLength(4);
    const values = tx.outs.map((o) => BigInt(o.value));
    expect(values).toContain(fx.offer.offerCollateral);
    expect(values).toContain(accept.acceptCollateral);
  });
});
