// The transaction layer fed by the messages codec: decode each dlcspecs test
// vector's `serialized` wire hex (offer, accept, sign), rebuild the funding
// transaction and the refund transaction, and check contractId, the offerer's
// funding signatures and both refund signatures. Same checks as tx-funding and
// tx-closing, but through the real decoder instead of the test-side JSON reader.
import { describe, expect, it } from 'vitest';
import { decodeAcceptDlc, decodeOfferDlc, decodeSignDlc } from '../protocol/messages/codec.js';
import {
  buildFundingTransaction,
  closingContext,
  contractIdOf,
  refundSighash,
  verifyFundingSignatures,
  verifyFundingSpendSignature,
} from '../protocol/tx/index.js';
import { specTestVectors } from './helpers/vectors.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

describe('dlcspecs test_vectors from wire bytes', () => {
  const files = specTestVectors();

  it('has 14 files', () => {
    expect(files).toHaveLength(14);
  });

  it.each(files)('%s', (_name, v) => {
    const offer = decodeOfferDlc(unhex(v.offer_message.serialized));
    const accept = decodeAcceptDlc(unhex(v.accept_message.serialized));
    const sign = decodeSignDlc(unhex(v.sign_message.serialized));
    const funding = buildFundingTransaction(offer, accept);
    expect(hex(contractIdOf(funding, offer.temporaryContractId))).toBe(hex(sign.contractId));
    expect(verifyFundingSignatures(funding, 'offer', sign.fundingSignatures).every((r) => r === 'valid')).toBe(true);
    const ctx = closingContext(offer, accept, funding);
    const h = refundSighash(ctx);
    expect(verifyFundingSpendSignature(ctx, 'accept', h, accept.refundSignature)).toBe(true);
    expect(verifyFundingSpendSignature(ctx, 'offer', h, sign.refundSignature)).toBe(true);
  });
});
