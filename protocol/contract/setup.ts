/**
 * The two-party DLC set-up, tying the pieces together: from an offer_dlc and an
 * accept_dlc, the funding transaction and contract id (protocol/tx), the CET plan
 * (protocol/numeric), every CET's sighash, and every adaptor signature slot's
 * adaptor point (protocol/crypto). On top of it: creating and verifying the CET
 * adaptor signatures and refund signatures of accept_dlc and sign_dlc
 * (dlcspecs Protocol.md "The accept_dlc message" / "The sign_dlc message"), and
 * completing the attested CET (Protocol.md "Closing the contract").
 *
 * This module does NOT talk to nodes or oracles, hold keys beyond a call, or
 * run work in parallel (src/engine does, over the batch functions below).
 */
import type { Transaction } from 'bitcoinjs-lib';
import { DlcError } from '../errors.js';
import type { HashProfile, OracleNonces } from '../crypto/oracle.js';
import { enumAdaptorPoint, numericAdaptorPoints, attestationSecret } from '../crypto/oracle.js';
import { adaptorDecrypt, adaptorSignBatch, ADAPTOR_SIGNATURE_LENGTH } from '../crypto/adaptor.js';
import { adaptorVerifyBatch } from '../crypto/adaptor.js';
import { ecdsaSign, ecdsaVerify } from '../crypto/ecdsa.js';
import { secp } from '../crypto/secp.js';
import type { AdaptorSlot, CetPlan, Conformance } from '../numeric/index.js';
import { planCets } from '../numeric/index.js';
import type { ClosingContext, ExtraFundingOutput, FundingBatch, FundingBuildOptions, FundingTransaction, Party, Payout, RefundOutputOrder } from '../tx/index.js';
import {
  applyFundingSpendWitness,
  buildCet,
  buildFundingTransaction,
  cetSighashes,
  closingContext,
  contractIdOf,
  refundSighash,
  signedRefund,
} from '../tx/index.js';
import type {
  AcceptDlc,
  CetAdaptorSignatures,
  ContractInfoInner,
  OfferDlc,
  OracleAnnouncement,
  OracleAttestation,
} from '../messages/types.js';

/** Options of `setupContract`. */
export interface ContractSetupOptions {
  /** How oracle outcomes are hashed; the dlcspecs vectors and rust-dlc use `'sha256'`. */
  hashProfile?: HashProfile;
  /** `'vectors'` (default) follows rust-dlc where it departs from the spec text. */
  conformance?: Conformance;
  /** Outputs of the funding transaction beyond dlcspecs (e.g. a hashpower sale's upfront payment). */
  extraOutputs?: readonly ExtraFundingOutput[];
  /** The DLCs funded by the same transaction (protocol/tx `FundingBatch`: a hashpower strip's periods). */
  batch?: FundingBatch;
  /** Refund output order; the vectors put the offerer first. */
  refundOutputOrder?: RefundOutputOrder;
  /** Cap on adaptor signatures (default: protocol/numeric's). */
  maxAdaptorSignatures?: number;
  /**
   * A funding transaction built elsewhere, used instead of building one from
   * offer + accept: a transferred contract's transfer transaction (issue 14,
   * protocol/contract transfer.ts). `extraOutputs` and `batch` are then ignored.
   */
  funding?: FundingTransaction;
}

/** The funding-transaction options among a set-up's options. */
export function fundingOptionsOf(o: Pick<ContractSetupOptions, 'extraOutputs' | 'batch'>): FundingBuildOptions {
  const out: FundingBuildOptions = {};
  if (o.extraOutputs !== undefined) out.extraOutputs = o.extraOutputs;
  if (o.batch !== undefined) out.batch = o.batch;
  return out;
}

/** Everything both parties (and a verifier) derive from offer + accept. */
export interface ContractSetup {
  offer: OfferDlc;
  accept: AcceptDlc;
  funding: FundingTransaction;
  contractId: Uint8Array;
  closing: ClosingContext;
  plan: CetPlan;
  /** nLockTime of each contract's CETs (disjoint contracts: see `cetLockTimes`). */
  cetLockTimes: number[];
  /** Sighash of every CET, in plan order. */
  cetSighashes: Uint8Array[];
  /** n×32 bytes: the sighash of each adaptor slot's CET, in slot order. */
  slotSighashes: Uint8Array;
  /** n×33 bytes: each adaptor slot's adaptor (attestation) point, in slot order. */
  slotAdaptorPoints: Uint8Array;
  hashProfile: HashProfile;
  refundOutputOrder: RefundOutputOrder;
}

function oracleAnnouncements(inner: ContractInfoInner): OracleAnnouncement[] {
  const info = inner.oracleInfo;
  return 'single' in info ? [info.single.oracleAnnouncement] : info.multi.oracleAnnouncements;
}

function contractInners(offer: OfferDlc): ContractInfoInner[] {
  const ci = offer.contractInfo;
  return 'singleContractInfo' in ci ? [ci.singleContractInfo.contractInfo] : ci.disjointContractInfo.contractInfos;
}

/** The oracle announcements of each contract of an offer, by contract index then oracle index. */
export function contractAnnouncements(offer: OfferDlc): OracleAnnouncement[][] {
  return contractInners(offer).map(oracleAnnouncements);
}

/**
 * CET nLockTime per contract. dlcspecs says `cet_locktime` for every CET; the
 * vectors (rust-dlc) give the CETs of the second and later contracts of a
 * disjoint contract nLockTime 0 (dlc-vectors README, departure 3). `'spec'`
 * conformance uses `cet_locktime` throughout.
 */
export function cetLockTimes(offer: OfferDlc, conformance: Conformance = 'vectors'): number[] {
  return contractInners(offer).map((_, i) => (i > 0 && conformance === 'vectors' ? 0 : offer.cetLocktime));
}

/**
 * Adaptor points of the given slots of one contract, in slot order.
 * @throws {DlcError} INVALID_PARAMS when an oracle's event does not fit the contract.
 */
function slotPoints(inner: ContractInfoInner, slots: readonly AdaptorSlot[], profile: HashProfile): Uint8Array[] {
  const anns = oracleAnnouncements(inner);
  const oracles: OracleNonces[] = anns.map((a) => ({ publicKey: a.oraclePublicKey, nonces: a.oracleEvent.oracleNonces }));
  const descriptor = anns[0]!.oracleEvent.eventDescriptor;
  if ('enumEvent' in descriptor) {
    return slots.map((slot) => {
      const outcomes: (string | null)[] = anns.map(() => null);
      for (const o of slot.oracles) {
        const ev = anns[o.oracleIndex]!.oracleEvent.eventDescriptor;
        if (!('enumEvent' in ev)) throw new DlcError('INVALID_PARAMS', 'oracles of one contract mix event kinds', { reason: 'event-kind' });
        const outcome = ev.enumEvent.outcomes[o.digits[0]!];
        if (outcome === undefined) throw new DlcError('INVALID_PARAMS', 'enum outcome index out of range', { reason: 'enum-outcome' });
        outcomes[o.oracleIndex] = outcome;
      }
      return enumAdaptorPoint(profile, oracles, outcomes);
    });
  }
  const base = descriptor.digitDecompositionEvent.base;
  const prefixes = slots.map((slot) => {
    const perOracle: (readonly number[] | null)[] = anns.map(() => null);
    for (const o of slot.oracles) perOracle[o.oracleIndex] = o.digits;
    return perOracle;
  });
  return numericAdaptorPoints({ profile, base, oracles, prefixes });
}

/**
 * Derives the funding transaction, contract id, CETs, sighashes and adaptor points
 * of a contract from its offer and accept. Both parties and the coordinator run
 * this; its results are what signatures are made and checked over.
 * @throws {DlcError} from the pieces: INVALID_PARAMS / INVALID_TRANSACTION for
 *   contracts that cannot be built, INVALID_POINT for bad oracle keys or nonces.
 */
export function setupContract(offer: OfferDlc, accept: AcceptDlc, options: ContractSetupOptions = {}): ContractSetup {
  const hashProfile = options.hashProfile ?? 'sha256';
  const conformance = options.conformance ?? 'vectors';
  const refundOutputOrder = options.refundOutputOrder ?? 'offer-first';
  const funding = options.funding ?? buildFundingTransaction(offer, accept, fundingOptionsOf(options));
  const contractId = contractIdOf(funding, offer.temporaryContractId);
  const closing = closingContext(offer, accept, funding);
  const planOpts: { conformance: Conformance; maxAdaptorSignatures?: number } = { conformance };
  if (options.maxAdaptorSignatures !== undefined) planOpts.maxAdaptorSignatures = options.maxAdaptorSignatures;
  const plan = planCets(offer.contractInfo, planOpts);
  const lockTimes = cetLockTimes(offer, conformance);

  const sighashes: Uint8Array[] = new Array(plan.cets.length);
  for (const [ci, summary] of plan.contracts.entries()) {
    const payouts: Payout[] = plan.cets
      .slice(summary.cetOffset, summary.cetOffset + summary.cetCount)
      .map((c) => ({ offer: c.offerPayout, accept: c.acceptPayout }));
    const hashes = cetSighashes(closing, payouts, { lockTime: lockTimes[ci]! });
    hashes.forEach((h, i) => (sighashes[summary.cetOffset + i] = h));
  }

  const n = plan.adaptorSlots.length;
  const slotSighashes = new Uint8Array(n * 32);
  const slotAdaptorPoints = new Uint8Array(n * 33);
  const inners = contractInners(offer);
  for (const [ci, summary] of plan.contracts.entries()) {
    const slots = plan.adaptorSlots.slice(summary.slotOffset, summary.slotOffset + summary.slotCount);
    const points = slotPoints(inners[ci]!, slots, hashProfile);
    points.forEach((p, i) => slotAdaptorPoints.set(p, (summary.slotOffset + i) * 33));
  }
  plan.adaptorSlots.forEach((slot, i) => slotSighashes.set(sighashes[slot.cetIndex]!, i * 32));

  return {
    offer,
    accept,
    funding,
    contractId,
    closing,
    plan,
    cetLockTimes: lockTimes,
    cetSighashes: sighashes,
    slotSighashes,
    slotAdaptorPoints,
    hashProfile,
    refundOutputOrder,
  };
}

/** Packs 162-byte adaptor signatures into one n×162 buffer. */
export function packAdaptorSignatures(sigs: CetAdaptorSignatures): Uint8Array {
  const list = sigs.ecdsaAdaptorSignatures;
  const out = new Uint8Array(list.length * ADAPTOR_SIGNATURE_LENGTH);
  list.forEach((s, i) => {
    if (s.signature.length !== ADAPTOR_SIGNATURE_LENGTH) {
      throw new DlcError('INVALID_LENGTH', `adaptor signature ${i} is ${s.signature.length} bytes, not 162`, { reason: 'adaptor-signature-length' });
    }
    out.set(s.signature, i * ADAPTOR_SIGNATURE_LENGTH);
  });
  return out;
}

/** Splits an n×162 buffer into the message shape. */
export function unpackAdaptorSignatures(packed: Uint8Array): CetAdaptorSignatures {
  const n = packed.length / ADAPTOR_SIGNATURE_LENGTH;
  if (!Number.isInteger(n)) throw new DlcError('INVALID_LENGTH', 'not a whole number of adaptor signatures', { reason: 'batch-length' });
  return {
    ecdsaAdaptorSignatures: Array.from({ length: n }, (_, i) => ({
      signature: packed.slice(i * ADAPTOR_SIGNATURE_LENGTH, (i + 1) * ADAPTOR_SIGNATURE_LENGTH),
    })),
  };
}

/**
 * Creates this party's adaptor signature for every slot, in slot order (single
 * thread; src/engine spreads the same batch over workers).
 * @throws {DlcError} INVALID_SCALAR for a bad key.
 */
export function signCets(setup: ContractSetup, fundingSecretKey: Uint8Array, aux?: Uint8Array): CetAdaptorSignatures {
  return unpackAdaptorSignatures(adaptorSignBatch(fundingSecretKey, setup.slotSighashes, setup.slotAdaptorPoints, aux));
}

/** How sign_dlc's adaptor signatures are paired with CETs when checking them. */
export type SignaturePairing =
  /** Each slot's signature is over its own CET (dlcspecs; what we always sign). */
  | 'correct'
  /**
   * DANGER, verification only: the second and later contracts of a disjoint
   * contract have the offerer's signature for slot j over the CET at the
   * contract-local index j of the combined list, as the producing
   * implementation of the `enum_and_numerical_*` vectors did (dlc-vectors
   * README, departure 4). Such signatures complete the wrong CET.
   */
  | 'DANGER_disjoint_local_index';

function pairedSighashes(setup: ContractSetup, pairing: SignaturePairing): Uint8Array {
  if (pairing === 'correct') return setup.slotSighashes;
  const out = new Uint8Array(setup.slotSighashes.length);
  setup.plan.adaptorSlots.forEach((slot, i) => {
    const cet = slot.contractIndex === 0 ? slot.cetIndex : slot.localCetIndex;
    out.set(setup.cetSighashes[cet]!, i * 32);
  });
  return out;
}

/**
 * Checks a party's CET adaptor signatures against the CETs and adaptor points
 * this side built (Protocol.md: the receiver MUST verify every one).
 * @throws {DlcError} BAD_SIGNATURE naming the first bad slot (and its CET), or
 *   INVALID_PARAMS when the count differs from the plan.
 */
export function verifyCetSignatures(
  setup: ContractSetup,
  party: Party,
  sigs: CetAdaptorSignatures,
  pairing: SignaturePairing = 'correct',
): void {
  const n = setup.plan.adaptorSlots.length;
  const got = sigs.ecdsaAdaptorSignatures.length;
  if (got !== n) {
    throw new DlcError('INVALID_PARAMS', `expected ${n} CET adaptor signatures, got ${got}`, { reason: 'adaptor-signature-count' });
  }
  const pubkey = party === 'offer' ? setup.offer.fundingPubkey : setup.accept.fundingPubkey;
  const ok = adaptorVerifyBatch(pubkey, pairedSighashes(setup, pairing), setup.slotAdaptorPoints, packAdaptorSignatures(sigs));
  const bad = ok.indexOf(0);
  if (bad >= 0) throw badAdaptorSignature(setup, party, bad);
}

/** The BAD_SIGNATURE error for slot `index` of `party`'s adaptor signatures. */
export function badAdaptorSignature(setup: ContractSetup, party: Party, index: number): DlcError {
  const slot = setup.plan.adaptorSlots[index]!;
  return new DlcError(
    'BAD_SIGNATURE',
    `${party} CET adaptor signature ${index} (CET ${slot.cetIndex}) does not verify`,
    { reason: `cet-adaptor-signature:${index}` },
  );
}

/**
 * This party's refund signature (64-byte compact, low-S).
 * @throws {DlcError} INVALID_SCALAR for a bad key.
 */
export function signRefund(setup: ContractSetup, fundingSecretKey: Uint8Array): Uint8Array {
  return ecdsaSign(fundingSecretKey, refundSighash(setup.closing, { outputOrder: setup.refundOutputOrder }));
}

/**
 * @throws {DlcError} BAD_SIGNATURE when `party`'s refund signature does not verify.
 */
export function verifyRefundSignature(setup: ContractSetup, party: Party, signature: Uint8Array): void {
  const pubkey = party === 'offer' ? setup.offer.fundingPubkey : setup.accept.fundingPubkey;
  const sighash = refundSighash(setup.closing, { outputOrder: setup.refundOutputOrder });
  if (signature.length !== 64 || !ecdsaVerify(signature, sighash, pubkey)) {
    throw new DlcError('BAD_SIGNATURE', `${party} refund signature does not verify`, { reason: 'refund-signature' });
  }
}

/** The refund transaction with both signatures in its witness. */
export function signedRefundTransaction(setup: ContractSetup, offerSignature: Uint8Array, acceptSignature: Uint8Array): Transaction {
  return signedRefund(setup.closing, offerSignature, acceptSignature, { outputOrder: setup.refundOutputOrder });
}

/** One oracle's attestation as it applies to a contract: which announcement it answers. */
export interface ContractAttestation {
  contractIndex: number;
  oracleIndex: number;
  attestation: OracleAttestation;
}

/** The slot an attestation set completes, and the decryption key of its adaptor point. */
export interface AttestedSlot {
  slotIndex: number;
  cetIndex: number;
  /** Sum of the attestation signatures' s values for the slot's digits. */
  decryptionKey: Uint8Array;
}

/**
 * Finds the first adaptor slot whose oracles all attested its digits (prefixes
 * of their attested digits, or its enum outcome), and the key that decrypts its
 * adaptor signatures. Attestation signatures are checked against the point they
 * must reveal, so a forged attestation cannot select a CET.
 * @throws {DlcError} INVALID_OUTCOME when no slot is completed by these attestations;
 *   BAD_SIGNATURE when the attestations do not open the slot's adaptor point.
 */
export function findAttestedSlot(setup: ContractSetup, attestations: readonly ContractAttestation[]): AttestedSlot {
  const byKey = new Map<string, OracleAttestation>();
  for (const a of attestations) byKey.set(`${a.contractIndex}:${a.oracleIndex}`, a.attestation);
  const inners = contractInners(setup.offer);
  const slots = setup.plan.adaptorSlots;
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i]!;
    const anns = oracleAnnouncements(inners[slot.contractIndex]!);
    const sigs: Uint8Array[] = [];
    let matches = true;
    for (const o of slot.oracles) {
      const att = byKey.get(`${slot.contractIndex}:${o.oracleIndex}`);
      if (att === undefined) { matches = false; break; }
      const ev = anns[o.oracleIndex]!.oracleEvent.eventDescriptor;
      if ('enumEvent' in ev) {
        if (att.outcomes[0] !== ev.enumEvent.outcomes[o.digits[0]!]) { matches = false; break; }
        sigs.push(att.signatures[0]!);
      } else {
        if (att.outcomes.length < o.digits.length) { matches = false; break; }
        for (let d = 0; d < o.digits.length; d++) {
          if (att.outcomes[d] !== String(o.digits[d])) { matches = false; break; }
          sigs.push(att.signatures[d]!);
        }
        if (!matches) break;
      }
    }
    if (!matches) continue;
    const decryptionKey = attestationSecret(sigs);
    const expected = setup.slotAdaptorPoints.subarray(i * 33, i * 33 + 33);
    const revealed = secp().mulG(decryptionKey);
    if (!equalBytes(revealed, expected)) {
      throw new DlcError('BAD_SIGNATURE', `attestations do not open the adaptor point of slot ${i}`, { reason: 'attestation-secret' });
    }
    return { slotIndex: i, cetIndex: slot.cetIndex, decryptionKey };
  }
  throw new DlcError('INVALID_OUTCOME', 'no CET of this contract is completed by these attestations', { reason: 'no-attested-cet' });
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The attested CET, fully signed, from both parties' adaptor signatures for its
 * slot and the attestation secret: what the coordinator (holding no key) or
 * either party broadcasts. Each decrypted signature is checked before use.
 * @throws {DlcError} BAD_SIGNATURE when a decrypted signature does not verify.
 */
export function completeCet(
  setup: ContractSetup,
  attested: AttestedSlot,
  offerAdaptorSignature: Uint8Array,
  acceptAdaptorSignature: Uint8Array,
): Transaction {
  const sighash = setup.cetSighashes[attested.cetIndex]!;
  const offerSig = adaptorDecrypt(offerAdaptorSignature, attested.decryptionKey);
  const acceptSig = adaptorDecrypt(acceptAdaptorSignature, attested.decryptionKey);
  if (!ecdsaVerify(offerSig, sighash, setup.offer.fundingPubkey)) {
    throw new DlcError('BAD_SIGNATURE', 'decrypted offer CET signature does not verify', { reason: 'cet-signature:offer' });
  }
  if (!ecdsaVerify(acceptSig, sighash, setup.accept.fundingPubkey)) {
    throw new DlcError('BAD_SIGNATURE', 'decrypted accept CET signature does not verify', { reason: 'cet-signature:accept' });
  }
  return signedCet(setup, attested.cetIndex, offerSig, acceptSig);
}

/**
 * The CET at `cetIndex` with both signatures in its witness, UNCHECKED: the
 * completions above and in completion.ts check every signature first; a
 * regtest helper uses it as is to show the node refusing a forged CET.
 */
export function signedCet(setup: ContractSetup, cetIndex: number, offerSignature: Uint8Array, acceptSignature: Uint8Array): Transaction {
  return applyFundingSpendWitness(setup.closing, unsignedCet(setup, cetIndex), offerSignature, acceptSignature);
}

/** The unsigned CET at `cetIndex` of the plan. */
export function unsignedCet(setup: ContractSetup, cetIndex: number): Transaction {
  const cet = setup.plan.cets[cetIndex];
  if (cet === undefined) throw new RangeError(`no CET ${cetIndex}`);
  return buildCet(setup.closing, { offer: cet.offerPayout, accept: cet.acceptPayout }, { lockTime: setup.cetLockTimes[cet.contractIndex]! });
}
