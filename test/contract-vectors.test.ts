/**
 * The whole set-up against the 14 dlcspecs test vectors: from the wire offer and
 * accept we rebuild the funding transaction, every CET and every adaptor point,
 * and check every adaptor signature and refund signature of accept_dlc and
 * sign_dlc against them, plus the contract id of sign_dlc.
 */
import { describe, expect, it } from 'vitest';
import { decodeAcceptDlc, decodeOfferDlc, decodeSignDlc } from '../protocol/messages/codec.js';
import { fromHex, toHex } from '../protocol/messages/wire.js';
import { setupContract, verifyCetSignatures, verifyRefundSignature } from '../protocol/contract/setup.js';
import type { SignaturePairing } from '../protocol/contract/setup.js';
import { isDlcError } from '../protocol/errors.js';
import { specTestVectors } from './helpers/vectors.js';

const vectors = specTestVectors();

describe('dlcspecs test_vectors: full contract set-up', () => {
  it('has all 14 files', () => {
    expect(vectors).toHaveLength(14);
  });

  for (const [file, v] of vectors) {
    it(file, () => {
      const offer = decodeOfferDlc(fromHex(v.offer_message.serialized));
      const accept = decodeAcceptDlc(fromHex(v.accept_message.serialized));
      const sign = decodeSignDlc(fromHex(v.sign_message.serialized));
      const setup = setupContract(offer, accept, { hashProfile: 'sha256' });

      expect(toHex(setup.contractId)).toBe(toHex(sign.contractId));
      expect(setup.plan.adaptorSlots.length).toBe(accept.cetAdaptorSignatures.ecdsaAdaptorSignatures.length);

      // Every accept adaptor signature is over its own CET.
      verifyCetSignatures(setup, 'accept', accept.cetAdaptorSignatures);
      verifyRefundSignature(setup, 'accept', accept.refundSignature);
      verifyRefundSignature(setup, 'offer', sign.refundSignature);

      // The enum_and_numerical_* sign messages carry the producing
      // implementation's disjoint pairing defect (dlc-vectors README, item 4):
      // they verify only under that verification-only pairing, and not as signed.
      const disjoint = 'disjointContractInfo' in offer.contractInfo;
      const pairing: SignaturePairing = disjoint ? 'DANGER_disjoint_local_index' : 'correct';
      verifyCetSignatures(setup, 'offer', sign.cetAdaptorSignatures, pairing);
      if (disjoint) {
        let err: unknown;
        try {
          verifyCetSignatures(setup, 'offer', sign.cetAdaptorSignatures, 'correct');
        } catch (e) {
          err = e;
        }
        expect(isDlcError(err, 'BAD_SIGNATURE')).toBe(true);
      }
    });
  }

  it('names the first bad adaptor signature', () => {
    const [, v] = vectors.find(([f]) => f === 'single_oracle_numerical_test.json')!;
    const offer = decodeOfferDlc(fromHex(v.offer_message.serialized));
    const accept = decodeAcceptDlc(fromHex(v.accept_message.serialized));
    const setup = setupContract(offer, accept);
    const sigs = accept.cetAdaptorSignatures.ecdsaAdaptorSignatures.map((s) => ({ signature: s.signature.slice() }));
    sigs[5]!.signature[100] ^= 1; // inside s_a
    expect(() => verifyCetSignatures(setup, 'accept', { ecdsaAdaptorSignatures: sigs })).toThrowError(
      expect.objectContaining({ code: 'BAD_SIGNATURE', reason: 'cet-adaptor-signature:5' }),
    );
    // Swapping two signatures is caught too.
    const swapped = accept.cetAdaptorSignatures.ecdsaAdaptorSignatures.slice();
    [swapped[0], swapped[1]] = [swapped[1]!, swapped[0]!];
    expect(() => verifyCetSignatures(setup, 'accept', { ecdsaAdaptorSignatures: swapped })).toThrowError(
      expect.objectContaining({ code: 'BAD_SIGNATURE', reason: 'cet-adaptor-signature:0' }),
    );
    expect(() => verifyRefundSignature(setup, 'offer', accept.refundSignature)).toThrowError(
      expect.objectContaining({ code: 'BAD_SIGNATURE', reason: 'refund-signature' }),
    );
  });
});
