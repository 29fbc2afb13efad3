/**
 * Completing the attested CET (dlcspecs Protocol.md "Closing the contract"),
 * once, for everyone who may broadcast it:
 *
 * - a party (`completeAttestedCetAsParty`): its own ECDSA signature over the
 *   CET's sighash, made by its signer, and the counterparty's adaptor
 *   signature for the attested slot decrypted with the attestation secret;
 * - the coordinator, which holds no key (`completeAttestedCet`): both
 *   parties' adaptor signatures decrypted.
 *
 * Both take the attestations of a t-of-n oracle set as `{ oracleIndex,
 * attestation }` (the index of the announcement in the contract's oracle
 * info; single-oracle contracts pass index 0), check each against its
 * announcement (Oracle.md: same key and event, signatures over the outcomes
 * with the announced nonces), find the adaptor slot the set completes
 * (`findAttestedSlot`: any t of the n oracles whose digits cover a slot), and
 * verify every signature that goes into the witness before returning, so a
 * transaction the node would refuse is never handed out.
 *
 * This module does NOT fetch attestations, hold keys (the party's signature
 * comes from a `SighashSigner`: the BIP39 wallet today, an external signer
 * later) or broadcast.
 */
import type { Transaction } from 'bitcoinjs-lib';
import { DlcError } from '../errors.js';
import { adaptorDecrypt } from '../crypto/adaptor.js';
import { ecdsaVerify } from '../crypto/ecdsa.js';
import type { CetAdaptorSignatures, OracleAnnouncement, OracleAttestation } from '../messages/types.js';
import { verifyAttestation } from '../messages/oracle.js';
import type { Party } from '../tx/index.js';
import type { AttestedSlot, ContractAttestation, ContractSetup } from './setup.js';
import { completeCet, contractAnnouncements, findAttestedSlot, signedCet } from './setup.js';

/** One oracle's attestation, by the position of its announcement in the contract's oracle info. */
export interface IndexedAttestation {
  oracleIndex: number;
  attestation: OracleAttestation;
  /** Which contract of a disjoint contract it answers (default 0: the only one of a single contract). */
  contractIndex?: number;
}

/**
 * A party's signature with its funding key over a 32-byte sighash: 64-byte
 * compact ECDSA, low-S (what protocol/crypto `ecdsaSign` gives). Sync or async,
 * so an external signer (HSM, hardware wallet) fits.
 */
export type SighashSigner = (sighash: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/** The attested CET, with every signature in its witness checked. */
export interface CompletedCet {
  tx: Transaction;
  /** The adaptor slot the attestations opened. */
  slotIndex: number;
  /** The CET's index in the plan. */
  cetIndex: number;
  /** What the CET pays each party (sats; a dust payout is dropped from the transaction). */
  payouts: { offer: bigint; accept: bigint };
}

/**
 * Checks every attestation against the announcement it answers and finds the
 * slot the set completes.
 * @throws {DlcError} INVALID_PARAMS `attestation-oracle-index` (no such
 *   announcement) or `attestation-duplicate` (two for one oracle); any error of
 *   messages `verifyAttestation` (a forged or foreign attestation);
 *   INVALID_OUTCOME `no-attested-cet` (too few oracles, or outcomes no CET
 *   covers); BAD_SIGNATURE `attestation-secret`.
 */
export function attestedSlotOf(setup: ContractSetup, attestations: readonly IndexedAttestation[]): AttestedSlot {
  const contracts = contractAnnouncements(setup.offer);
  const seen = new Set<string>();
  const checked: ContractAttestation[] = attestations.map(({ oracleIndex, attestation, contractIndex = 0 }) => {
    const ann: OracleAnnouncement | undefined = contracts[contractIndex]?.[oracleIndex];
    if (ann === undefined) {
      throw new DlcError('INVALID_PARAMS', `no oracle ${oracleIndex} in contract ${contractIndex} of this offer`, { reason: 'attestation-oracle-index' });
    }
    const key = `${contractIndex}:${oracleIndex}`;
    if (seen.has(key)) throw new DlcError('INVALID_PARAMS', `two attestations for oracle ${oracleIndex}`, { reason: 'attestation-duplicate' });
    seen.add(key);
    verifyAttestation(attestation, ann, setup.hashProfile);
    return { contractIndex, oracleIndex, attestation };
  });
  return findAttestedSlot(setup, checked);
}

function completed(setup: ContractSetup, slot: AttestedSlot, tx: Transaction): CompletedCet {
  const planned = setup.plan.cets[slot.cetIndex]!;
  return { tx, slotIndex: slot.slotIndex, cetIndex: slot.cetIndex, payouts: { offer: planned.offerPayout, accept: planned.acceptPayout } };
}

function adaptorFor(sigs: CetAdaptorSignatures, slot: AttestedSlot, party: Party): Uint8Array {
  const sig = sigs.ecdsaAdaptorSignatures[slot.slotIndex];
  if (sig === undefined) {
    throw new DlcError('INVALID_PARAMS', `the ${party} party has no CET adaptor signature for slot ${slot.slotIndex}`, { reason: 'adaptor-signature-count' });
  }
  return sig.signature;
}

/**
 * The coordinator's completion (no key): both adaptor signatures of the
 * attested slot decrypted and checked.
 * @throws {DlcError} as `attestedSlotOf`; BAD_SIGNATURE `cet-signature:offer` /
 *   `cet-signature:accept` when a decrypted signature does not verify.
 */
export function completeAttestedCet(
  setup: ContractSetup,
  attestations: readonly IndexedAttestation[],
  adaptorSignatures: { offer: CetAdaptorSignatures; accept: CetAdaptorSignatures },
): CompletedCet {
  const slot = attestedSlotOf(setup, attestations);
  const tx = completeCet(setup, slot, adaptorFor(adaptorSignatures.offer, slot, 'offer'), adaptorFor(adaptorSignatures.accept, slot, 'accept'));
  return completed(setup, slot, tx);
}

/**
 * A party's completion: its own signature from `sign`, the counterparty's
 * adaptor signature for the attested slot decrypted; both checked against the
 * funding pubkeys of the offer and accept.
 * @param party the completing party (`offer` or `accept`); `counterparty` holds the OTHER party's adaptor signatures.
 * @throws {DlcError} as `attestedSlotOf`; BAD_SIGNATURE `cet-signature:<party>`
 *   naming whose signature does not verify (the counterparty's decrypted one,
 *   or this party's own when the signer holds another key).
 */
export async function completeAttestedCetAsParty(
  setup: ContractSetup,
  attestations: readonly IndexedAttestation[],
  party: Party,
  sign: SighashSigner,
  counterparty: CetAdaptorSignatures,
): Promise<CompletedCet> {
  const other: Party = party === 'offer' ? 'accept' : 'offer';
  const slot = attestedSlotOf(setup, attestations);
  const sighash = setup.cetSighashes[slot.cetIndex]!;
  const theirs = adaptorDecrypt(adaptorFor(counterparty, slot, other), slot.decryptionKey);
  if (!ecdsaVerify(theirs, sighash, fundingPubkeyOf(setup, other))) {
    throw new DlcError('BAD_SIGNATURE', `decrypted ${other} CET signature does not verify`, { reason: `cet-signature:${other}` });
  }
  const own = await sign(sighash);
  if (own.length !== 64 || !ecdsaVerify(own, sighash, fundingPubkeyOf(setup, party))) {
    throw new DlcError('BAD_SIGNATURE', `this party's CET signature does not verify with the ${party} funding pubkey`, { reason: `cet-signature:${party}` });
  }
  const [offerSig, acceptSig] = party === 'offer' ? [own, theirs] : [theirs, own];
  return completed(setup, slot, signedCet(setup, slot.cetIndex, offerSig, acceptSig));
}

function fundingPubkeyOf(setup: ContractSetup, party: Party): Uint8Array {
  return party === 'offer' ? setup.offer.fundingPubkey : setup.accept.fundingPubkey;
}
