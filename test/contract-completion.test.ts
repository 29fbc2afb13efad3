/**
 * protocol/contract completion.ts: the one CET completion of the coordinator
 * (no key) and of each party (own signer), over the attestations of a t-of-n
 * oracle set. A 2-of-3 numeric contract in memory: any two oracles that agree
 * complete the CET; a wrong attestation, a wrong index or a counterparty
 * signature that does not decrypt is refused with a named error.
 */
import { describe, expect, it } from 'vitest';
import {
  completeAttestedCet,
  completeAttestedCetAsParty,
  setupContract,
  signCets,
  signRefund,
  type IndexedAttestation,
} from '../protocol/contract/index.js';
import { ecdsaSign, ecdsaVerify } from '../protocol/crypto/index.js';
import type { OfferDlc } from '../protocol/messages/index.js';
import { segwitV0Sighash } from '../protocol/tx/index.js';
import { bscriptSignatureDecode } from './helpers/script-sig.js';
import { linearDescriptor, testOracle, testSecret, twoPartyFixture } from './helpers/dlc-fixture.js';

const NB_DIGITS = 6;
const EVENT = 'delivery-2of3';
const oracles = [testOracle('completion-o0'), testOracle('completion-o1'), testOracle('completion-o2')];
const announcements = oracles.map((o) => o.announce(EVENT, NB_DIGITS));
// Offer gets 10,000 sats per unit of outcome up to 50, all 500,000 from then on.
const descriptor = linearDescriptor(NB_DIGITS, 500_000n, 50n, 1_000n);
const base = twoPartyFixture({
  announcement: announcements[0]!,
  descriptor,
  offerCollateral: 300_000n,
  acceptCollateral: 200_000n,
  label: 'completion',
});
const offer: OfferDlc = {
  ...base.offer,
  contractInfo: {
    singleContractInfo: {
      totalCollateral: 500_000n,
      contractInfo: {
        contractDescriptor: descriptor,
        oracleInfo: { multi: { threshold: 2, oracleAnnouncements: announcements, oracleParams: null } },
      },
    },
  },
};

const acceptSide = setupContract(offer, base.acceptUnsigned);
const accept = { ...base.acceptUnsigned, cetAdaptorSignatures: signCets(acceptSide, base.acceptKey), refundSignature: signRefund(acceptSide, base.acceptKey) };
const setup = setupContract(offer, accept);
const offerSigs = signCets(setup, base.offerKey);
const adaptors = { offer: offerSigs, accept: accept.cetAdaptorSignatures };

const att = (i: number, value: bigint): IndexedAttestation => ({ oracleIndex: i, attestation: oracles[i]!.attestNumeric(EVENT, value, NB_DIGITS) });
const offerSigner = (h: Uint8Array): Uint8Array => ecdsaSign(base.offerKey, h);
const acceptSigner = (h: Uint8Array): Uint8Array => ecdsaSign(base.acceptKey, h);

describe('CET completion over a 2-of-3 oracle set', () => {
  it('attestations from oracles 0 and 2 complete a CET whose witness verifies, paying per the curve', async () => {
    const atts = [att(0, 20n), att(2, 20n)];
    const keyless = completeAttestedCet(setup, atts, adaptors);
    const byOffer = await completeAttestedCetAsParty(setup, atts, 'offer', offerSigner, accept.cetAdaptorSignatures);
    const byAccept = await completeAttestedCetAsParty(setup, atts, 'accept', acceptSigner, offerSigs);
    // One CET (same txid) for everyone, whoever completes it.
    expect(byOffer.tx.getId()).toBe(keyless.tx.getId());
    expect(byAccept.tx.getId()).toBe(keyless.tx.getId());
    expect(byOffer.cetIndex).toBe(keyless.cetIndex);
    expect(keyless.payouts).toEqual({ offer: 200_000n, accept: 300_000n });
    const keys = [offer.fundingPubkey, accept.fundingPubkey].sort(Buffer.compare);
    for (const { tx } of [keyless, byOffer, byAccept]) {
      const sighash = segwitV0Sighash(tx, 0, setup.closing.fundingScript, setup.closing.fundOutputValue);
      const witness = tx.ins[0]!.witness;
      expect(ecdsaVerify(bscriptSignatureDecode(witness[1]!), sighash, keys[0]!)).toBe(true);
      expect(ecdsaVerify(bscriptSignatureDecode(witness[2]!), sighash, keys[1]!)).toBe(true);
    }
  });

  it('any two of the three agree: oracles 0 and 1, 1 and 2 give the same CET as 0 and 2', () => {
    const ids = [[0, 1], [1, 2], [0, 2]].map(([a, b]) => completeAttestedCet(setup, [att(a!, 57n), att(b!, 57n)], adaptors).tx.getId());
    expect(new Set(ids).size).toBe(1);
    expect(completeAttestedCet(setup, [att(2, 57n), att(0, 57n)], adaptors).payouts.offer).toBe(500_000n);
  });

  it('one attestation of a 2-of-3 set completes nothing (INVALID_OUTCOME no-attested-cet)', () => {
    expect(() => completeAttestedCet(setup, [att(1, 20n)], adaptors)).toThrowError(
      expect.objectContaining({ code: 'INVALID_OUTCOME', reason: 'no-attested-cet' }),
    );
  });

  it('refuses a wrong attestation with a named error', () => {
    const forger = testOracle('completion-forger');
    forger.announce(EVENT, NB_DIGITS);
    const forged = { oracleIndex: 2, attestation: forger.attestNumeric(EVENT, 20n, NB_DIGITS) };
    // Another oracle's attestation at index 2.
    expect(() => completeAttestedCet(setup, [att(0, 20n), forged], adaptors)).toThrowError(
      expect.objectContaining({ code: 'INVALID_PARAMS', reason: 'attestation-oracle-mismatch' }),
    );
    // Oracle 0's real attestation claimed as oracle 1's.
    expect(() => completeAttestedCet(setup, [att(2, 20n), { ...att(0, 20n), oracleIndex: 1 }], adaptors)).toThrowError(
      expect.objectContaining({ code: 'INVALID_PARAMS', reason: 'attestation-oracle-mismatch' }),
    );
    // Oracle 2's attestation with one signature altered.
    const bent = att(2, 20n);
    const sigs = bent.attestation.signatures.map((s) => s.slice());
    sigs[3]![40]! ^= 1;
    expect(() => completeAttestedCet(setup, [att(0, 20n), { oracleIndex: 2, attestation: { ...bent.attestation, signatures: sigs } }], adaptors)).toThrowError(
      expect.objectContaining({ code: 'BAD_SIGNATURE' }),
    );
    // Two oracles that disagree complete no CET.
    expect(() => completeAttestedCet(setup, [att(0, 20n), att(2, 21n)], adaptors)).toThrowError(
      expect.objectContaining({ code: 'INVALID_OUTCOME', reason: 'no-attested-cet' }),
    );
  });

  it('refuses an oracle index the contract does not have, and two attestations for one oracle', () => {
    expect(() => completeAttestedCet(setup, [att(0, 20n), { ...att(2, 20n), oracleIndex: 3 }], adaptors)).toThrowError(
      expect.objectContaining({ code: 'INVALID_PARAMS', reason: 'attestation-oracle-index' }),
    );
    expect(() => completeAttestedCet(setup, [att(0, 20n), att(0, 20n)], adaptors)).toThrowError(
      expect.objectContaining({ code: 'INVALID_PARAMS', reason: 'attestation-duplicate' }),
    );
  });

  it("a party refuses the counterparty's adaptor signatures when they do not decrypt, and its own signer's wrong key", async () => {
    const atts = [att(0, 20n), att(2, 20n)];
    // The offerer handed its own adaptor signatures as the accepter's: they decrypt to offer signatures.
    await expect(completeAttestedCetAsParty(setup, atts, 'offer', offerSigner, offerSigs)).rejects.toMatchObject({
      code: 'BAD_SIGNATURE', reason: 'cet-signature:accept',
    });
    const stranger = testSecret('completion-stranger');
    await expect(completeAttestedCetAsParty(setup, atts, 'accept', (h) => ecdsaSign(stranger, h), offerSigs)).rejects.toMatchObject({
      code: 'BAD_SIGNATURE', reason: 'cet-signature:accept',
    });
    // The keyless completion names the party whose decrypted signature fails.
    expect(() => completeAttestedCet(setup, atts, { offer: offerSigs, accept: offerSigs })).toThrowError(
      expect.objectContaining({ code: 'BAD_SIGNATURE', reason: 'cet-signature:accept' }),
    );
  });
});
