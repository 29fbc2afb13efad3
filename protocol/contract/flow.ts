/**
 * Message flow builders: what each party does at each step of dlcspecs
 * Protocol.md ("Contract Negotiation"), as pure functions over the set-up in
 * setup.ts.
 *
 *   offerer                         accepter
 *   buildOffer ── offer_dlc ──────▶ verifyOfferTerms, buildAccept
 *   verifyAccept ◀── accept_dlc ── (CET adaptor + refund signatures)
 *   signContract, (funding PSBT signed by a wallet), assembleSign
 *              ── sign_dlc ───────▶ verifySign
 *
 * `buildSign` = `verifyAccept` + `signContract` + `assembleSign`. Every
 * signing step has an async variant taking the party's funding key as a
 * `FundingSigner` (signer.ts: the key stays with the signer) and a
 * `CetVerifier`, so a caller can spread the adaptor signatures over src/engine's
 * worker pool. The variants over a raw secret key (`buildAccept`,
 * `signContract`, `signClose`, ...) remain for the dlcspecs vectors and the
 * tests, which hold keys by construction.
 *
 * "Trust no one": `verifyOfferTerms` holds an offer against the human terms
 * (the contract re-derived with protocol/templates, the oracle announcement
 * as fetched from the oracle, locktimes, chain, fee rate), and
 * `verifyFundingPsbt` holds a funding PSBT received from anyone against the
 * funding transaction this side computes itself.
 *
 * Locktime defaults (`defaultLocktimes`): block-height locktimes. CETs get
 * `cet_locktime` = the window's end height (the oracle attests only after
 * `end + confirmations`, so a CET is never held back by its locktime), the
 * refund `refund_locktime` = end + a grace period (`REFUND_GRACE_BLOCKS`: 144
 * blocks, one day, on mainnet/testnet/signet; 20 on regtest so tests can mine
 * past it), long enough for the oracle to attest and a CET to confirm before
 * anyone can broadcast the refund.
 *
 * This module does NOT generate randomness (temporary contract ids and serial
 * ids come from the caller), hold keys beyond a call, talk to oracles, nodes
 * or coordinators, or sign funding inputs (a wallet does, over the PSBT).
 */
import type { Psbt, Transaction } from 'bitcoinjs-lib';
import { DlcError } from '../errors.js';
import type { HashProfile } from '../crypto/oracle.js';
import { ecdsaSign } from '../crypto/ecdsa.js';
import { secp } from '../crypto/secp.js';
import type {
  AcceptDlc,
  CetAdaptorSignatures,
  ContractInfo,
  ContractInfoInner,
  FundingInput,
  FundingSignatures,
  OfferDlc,
  OracleAnnouncement,
  SignDlc,
} from '../messages/types.js';
import type { ValidationOptions } from '../messages/validate.js';
import { validateAccept, validateOffer, validateSign } from '../messages/validate.js';
import { verifyAnnouncement } from '../messages/oracle.js';
import { toHex } from '../messages/wire.js';
import { planCets } from '../numeric/index.js';
import type { ExtraFundingOutput, FundingSignatureCheck, Party, Payout } from '../tx/index.js';
import {
  buildFundingPsbt,
  checkCloseSignature,
  parseFundingPsbt,
  signedCloseTransaction,
  unsignedClose,
  verifyFundingSignatures,
} from '../tx/index.js';
import type { KeyPayout } from '../templates/index.js';
import type { ContractSetup, ContractSetupOptions } from './setup.js';
import { setupContract, signCets, signRefund, verifyCetSignatures, verifyRefundSignature } from './setup.js';
import type { CetSigner, FundingSigner } from './signer.js';
import { keyFundingSigner, signContractWith, syncCetSigner } from './signer.js';

// ------------------------------------------------------------------ locktimes

/** Networks whose refund grace period differs. */
export type FlowNetwork = 'mainnet' | 'testnet' | 'signet' | 'regtest';

/** Blocks between the window's end (the CET locktime) and the refund locktime. */
export const REFUND_GRACE_BLOCKS: Readonly<Record<FlowNetwork, number>> = {
  mainnet: 144,
  testnet: 144,
  signet: 144,
  regtest: 20,
};

/**
 * Most blocks between the attestation height and the refund locktime an
 * accepter or coordinator takes (issue 9, hole 5): a refund far in the future
 * (say nLockTime 499,999,999) locks the funds for ever if the oracle never
 * attests. One week on the public networks (7 x the default grace), 100 blocks
 * on regtest (5 x its 20-block default).
 */
export const REFUND_MAX_GRACE_BLOCKS: Readonly<Record<FlowNetwork, number>> = {
  mainnet: 1008,
  testnet: 1008,
  signet: 1008,
  regtest: 100,
};

/**
 * Blocks between a contract's funding deadline and its window start by
 * default (issue 9, hole 2): the funding transaction is broadcast before the
 * deadline and has these blocks to confirm before the measured window begins,
 * so the accepter never funds knowing part of the outcome.
 */
export const FUNDING_DEADLINE_MARGIN_BLOCKS: Readonly<Record<FlowNetwork, number>> = {
  mainnet: 6,
  testnet: 6,
  signet: 6,
  regtest: 2,
};

/**
 * The default funding deadline (a block height) of a contract whose window
 * starts at `windowStart`: `windowStart - FUNDING_DEADLINE_MARGIN_BLOCKS`.
 * From the deadline on (tip >= deadline) nobody may accept, sign or fund.
 * @throws {DlcError} INVALID_PARAMS (`funding-deadline-range`) when the window starts too soon for any deadline.
 */
export function defaultFundingDeadline(windowStart: number, network: FlowNetwork): number {
  const deadline = windowStart - FUNDING_DEADLINE_MARGIN_BLOCKS[network];
  if (!Number.isInteger(windowStart) || deadline < 1) {
    throw new DlcError('INVALID_PARAMS', `a window starting at ${windowStart} leaves no room for a funding deadline`, { reason: 'funding-deadline-range' });
  }
  return deadline;
}

/** Locktimes below this are block heights (BIP65 / nLockTime). */
const LOCKTIME_THRESHOLD = 500_000_000;

/**
 * Default block-height locktimes of a contract whose oracle event covers a
 * window ending at height `windowEnd` (see the module header).
 * @throws {DlcError} INVALID_PARAMS (`locktime-range`) when the heights are not block heights.
 */
export function defaultLocktimes(windowEnd: number, network: FlowNetwork, graceBlocks = REFUND_GRACE_BLOCKS[network]): {
  cetLocktime: number;
  refundLocktime: number;
} {
  const refund = windowEnd + graceBlocks;
  if (!Number.isInteger(windowEnd) || windowEnd < 0 || !Number.isInteger(graceBlocks) || graceBlocks < 1 || refund >= LOCKTIME_THRESHOLD) {
    throw new DlcError('INVALID_PARAMS', `window end ${windowEnd} + grace ${graceBlocks} is not a block-height locktime`, {
      reason: 'locktime-range',
    });
  }
  return { cetLocktime: windowEnd, refundLocktime: refund };
}

// ------------------------------------------------------------------ offer

/** The contract part of an offer: a protocol/templates `TemplateResult` fits. */
export interface OfferContract {
  contractInfo: ContractInfo;
  offerCollateral: bigint;
}

/** Everything an offer_dlc holds besides the contract. */
export interface OfferParams {
  contract: OfferContract;
  /** 32 random bytes chosen by the caller (Protocol.md `temporary_contract_id`). */
  temporaryContractId: Uint8Array;
  chainHash: Uint8Array;
  fundingPubkey: Uint8Array;
  fundingInputs: FundingInput[];
  payoutSpk: Uint8Array;
  changeSpk: Uint8Array;
  /** Random u64s chosen by the caller; change and fund output ids must differ. */
  payoutSerialId: bigint;
  changeSerialId: bigint;
  fundOutputSerialId: bigint;
  feeRatePerVb: bigint;
  cetLocktime: number;
  refundLocktime: number;
  /** Default 0. */
  contractFlags?: number;
}

function checkBytes(value: Uint8Array, length: number, name: string): void {
  if (!(value instanceof Uint8Array) || value.length !== length) {
    throw new DlcError('INVALID_LENGTH', `${name} must be ${length} bytes`, { reason: `${name}-length` });
  }
}

/**
 * Builds an offer_dlc and checks it as its receiver will (protocol/messages
 * `validateOffer`).
 * @throws {DlcError} INVALID_LENGTH (`temporary-contract-id-length`,
 *   `chain-hash-length`); the `validateOffer` errors.
 */
export function buildOffer(p: OfferParams, validation: ValidationOptions = {}): OfferDlc {
  checkBytes(p.temporaryContractId, 32, 'temporary-contract-id');
  checkBytes(p.chainHash, 32, 'chain-hash');
  const offer: OfferDlc = {
    protocolVersion: 1,
    contractFlags: p.contractFlags ?? 0,
    chainHash: p.chainHash,
    temporaryContractId: p.temporaryContractId,
    contractInfo: p.contract.contractInfo,
    fundingPubkey: p.fundingPubkey,
    payoutSpk: p.payoutSpk,
    payoutSerialId: p.payoutSerialId,
    offerCollateral: p.contract.offerCollateral,
    fundingInputs: p.fundingInputs,
    changeSpk: p.changeSpk,
    changeSerialId: p.changeSerialId,
    fundOutputSerialId: p.fundOutputSerialId,
    feeRatePerVb: p.feeRatePerVb,
    cetLocktime: p.cetLocktime,
    refundLocktime: p.refundLocktime,
  };
  validateOffer(offer, validation);
  return offer;
}

/** Total collateral of a contract info. */
export function totalCollateralOf(info: ContractInfo): bigint {
  return 'singleContractInfo' in info ? info.singleContractInfo.totalCollateral : info.disjointContractInfo.totalCollateral;
}

function contractInners(info: ContractInfo): ContractInfoInner[] {
  return 'singleContractInfo' in info ? [info.singleContractInfo.contractInfo] : info.disjointContractInfo.contractInfos;
}

/** Every oracle announcement of a contract info, in contract then oracle order. */
export function offerAnnouncements(info: ContractInfo): OracleAnnouncement[] {
  return contractInners(info).flatMap((inner) =>
    'single' in inner.oracleInfo ? [inner.oracleInfo.single.oracleAnnouncement] : inner.oracleInfo.multi.oracleAnnouncements,
  );
}

// ------------------------------------------------------------------ terms

/** What the accepter (or anyone) expects an offer to be, from the human terms. */
export interface ExpectedOfferTerms {
  /**
   * The contract re-derived from the human terms with protocol/templates (a
   * `TemplateResult`): the offer's contract info must equal it field for field.
   */
  contract: OfferContract;
  /** How the oracle hashes outcomes; announcements are verified with it. */
  hashProfile: HashProfile;
  /** The payouts the terms promise at key outcomes; checked against the CETs. */
  keyPayouts?: readonly KeyPayout[];
  /** The announcements as fetched from the oracle(s): the offer's must equal them. */
  announcements?: readonly OracleAnnouncement[];
  /** When given, every announcement must be signed by one of these x-only keys. */
  oraclePublicKeys?: readonly Uint8Array[];
  /** When given, every announcement must be of this event. */
  eventId?: string;
  chainHash?: Uint8Array;
  cetLocktime?: number;
  refundLocktime?: number;
  /**
   * Latest acceptable CET locktime: at most the height at which the oracle
   * attests, or the attested CET could not be broadcast in time.
   */
  cetLocktimeAtMost?: number;
  /**
   * Earliest acceptable refund locktime: past the attestation plus a grace
   * period, or the losing side could broadcast the refund instead of the CET.
   */
  refundLocktimeAtLeast?: number;
  /**
   * Latest acceptable refund locktime (a block height): the attestation
   * height plus `REFUND_MAX_GRACE_BLOCKS`, or the funds could be locked for
   * ever should the oracle never attest. A time-based locktime is refused.
   */
  refundLocktimeAtMost?: number;
  /** Highest fee rate the accepter pays at (default: validateOffer's limit). */
  maxFeeRatePerVb?: bigint;
  /** Options of `validateOffer`. */
  validation?: ValidationOptions;
}

function termsMismatch(field: string, expected: string, got: string): DlcError {
  return new DlcError('INVALID_PARAMS', `offer ${field} is not what the terms (or the oracle) say: expected ${expected}, got ${got}`, {
    reason: `terms-mismatch:${field}`,
  });
}

function show(v: unknown): string {
  if (v instanceof Uint8Array) return v.length > 40 ? `${toHex(v.subarray(0, 40))}...` : toHex(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined || typeof v !== 'object') return String(v);
  return Array.isArray(v) ? `array(${v.length})` : 'object';
}

/**
 * The path of the first difference between two message values (bigints,
 * numbers, strings, booleans, null, byte strings, arrays, objects), or
 * undefined when they are equal.
 */
export function firstDifference(expected: unknown, got: unknown, path: string): { path: string; expected: string; got: string } | undefined {
  const diff = { path, expected: show(expected), got: show(got) };
  if (expected instanceof Uint8Array || got instanceof Uint8Array) {
    if (!(expected instanceof Uint8Array && got instanceof Uint8Array) || toHex(expected) !== toHex(got)) return diff;
    return undefined;
  }
  if (typeof expected !== 'object' || expected === null || typeof got !== 'object' || got === null) {
    return expected === got ? undefined : diff;
  }
  if (Array.isArray(expected) !== Array.isArray(got)) return diff;
  if (Array.isArray(expected) && Array.isArray(got)) {
    if (expected.length !== got.length) return { path: `${path}.length`, expected: String(expected.length), got: String(got.length) };
    for (let i = 0; i < expected.length; i++) {
      const d = firstDifference(expected[i], got[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  const e = expected as Record<string, unknown>;
  const g = got as Record<string, unknown>;
  const keys = new Set([...Object.keys(e), ...Object.keys(g)]);
  for (const k of keys) {
    const d = firstDifference(e[k], g[k], path === '' ? k : `${path}.${k}`);
    if (d) return d;
  }
  return undefined;
}

function requireSame(expected: unknown, got: unknown, field: string): void {
  const d = firstDifference(expected, got, field);
  if (d) throw termsMismatch(d.path, d.expected, d.got);
}

/**
 * Checks a received offer against the terms the receiver agreed to, before it
 * signs anything. In order:
 * 1. the offer is a valid offer_dlc (`validateOffer`, Protocol.md receiver rules);
 * 2. chain hash, CET and refund locktimes (exact, or bounds), fee rate ceiling (when given);
 * 3. every oracle announcement's signature (Oracle.md), its oracle key among
 *    the trusted ones and its event the expected one (when given), and each
 *    announcement equal to the one fetched from the oracle (when given);
 * 4. the contract: offer collateral, then the contract info field by field
 *    against the one re-derived from the terms (same descriptor, rounding,
 *    oracle info, total collateral: so the same CETs);
 * 5. the CETs' payouts: at each key outcome of the terms, the CET that the
 *    oracle's attestation would complete pays what the terms say.
 * @throws {DlcError} the `validateOffer` errors; INVALID_PARAMS with reason
 *   `terms-mismatch:<field>` naming the first field that differs (e.g.
 *   `terms-mismatch:offerCollateral`, `terms-mismatch:contractInfo.singleContractInfo.totalCollateral`,
 *   `terms-mismatch:cetLocktime`, `terms-mismatch:feeRatePerVb`,
 *   `terms-mismatch:announcements[0]...`, `terms-mismatch:oraclePublicKey`,
 *   `terms-mismatch:eventId`, `terms-mismatch:payout@<outcome>`);
 *   BAD_SIGNATURE (`announcement-signature`).
 */
export function verifyOfferTerms(offer: OfferDlc, expected: ExpectedOfferTerms): void {
  // 1.
  validateOffer(offer, expected.validation ?? {});
  // 2.
  if (expected.chainHash !== undefined) requireSame(expected.chainHash, offer.chainHash, 'chainHash');
  if (expected.cetLocktime !== undefined) requireSame(expected.cetLocktime, offer.cetLocktime, 'cetLocktime');
  if (expected.refundLocktime !== undefined) requireSame(expected.refundLocktime, offer.refundLocktime, 'refundLocktime');
  if (expected.cetLocktimeAtMost !== undefined && offer.cetLocktime > expected.cetLocktimeAtMost) {
    throw termsMismatch('cetLocktime', `at most ${expected.cetLocktimeAtMost}`, String(offer.cetLocktime));
  }
  if (expected.refundLocktimeAtLeast !== undefined && offer.refundLocktime < expected.refundLocktimeAtLeast) {
    throw termsMismatch('refundLocktime', `at least ${expected.refundLocktimeAtLeast}`, String(offer.refundLocktime));
  }
  if (expected.refundLocktimeAtMost !== undefined && offer.refundLocktime > expected.refundLocktimeAtMost) {
    throw termsMismatch('refundLocktime', `at most ${expected.refundLocktimeAtMost}`, String(offer.refundLocktime));
  }
  if (expected.maxFeeRatePerVb !== undefined && offer.feeRatePerVb > expected.maxFeeRatePerVb) {
    throw termsMismatch('feeRatePerVb', `at most ${expected.maxFeeRatePerVb}`, offer.feeRatePerVb.toString());
  }
  // 3.
  const anns = offerAnnouncements(offer.contractInfo);
  for (const ann of anns) verifyAnnouncement(ann, expected.hashProfile);
  if (expected.oraclePublicKeys !== undefined) {
    const trusted = new Set(expected.oraclePublicKeys.map(toHex));
    for (const ann of anns) {
      if (!trusted.has(toHex(ann.oraclePublicKey))) {
        throw termsMismatch('oraclePublicKey', [...trusted].join(' or '), toHex(ann.oraclePublicKey));
      }
    }
  }
  if (expected.eventId !== undefined) {
    for (const ann of anns) requireSame(expected.eventId, ann.oracleEvent.eventId, 'eventId');
  }
  if (expected.announcements !== undefined) requireSame(expected.announcements, anns, 'announcements');
  // 4.
  requireSame(expected.contract.offerCollateral, offer.offerCollateral, 'offerCollateral');
  requireSame(expected.contract.contractInfo, offer.contractInfo, 'contractInfo');
  // 5.
  if (expected.keyPayouts !== undefined && expected.keyPayouts.length > 0) {
    checkKeyPayouts(offer.contractInfo, expected.keyPayouts);
  }
}

/**
 * At each key outcome, the planned CET covering it pays the offerer
 * `offerPayout` (single numeric contracts; other shapes are not templates).
 * @throws {DlcError} INVALID_PARAMS `terms-mismatch:payout@<outcome>`.
 */
function checkKeyPayouts(info: ContractInfo, keyPayouts: readonly KeyPayout[]): void {
  const plan = planCets(info);
  for (const k of keyPayouts) {
    const cet = plan.cets.find((c) => c.contractIndex === 0 && c.range !== undefined && k.outcome >= c.range.start && k.outcome < c.range.start + c.range.count);
    const got = cet === undefined ? 'no CET' : `${cet.offerPayout}/${cet.acceptPayout}`;
    if (cet === undefined || cet.offerPayout !== k.offerPayout || cet.acceptPayout !== k.acceptPayout) {
      throw termsMismatch(`payout@${k.outcome}`, `${k.offerPayout}/${k.acceptPayout} (${k.label})`, got);
    }
  }
}

// ------------------------------------------------------------------ accept

/** Checks a party's CET adaptor signatures, throwing as `verifyCetSignatures` does. */
export type CetVerifier = (setup: ContractSetup, party: Party, sigs: CetAdaptorSignatures) => Promise<void>;

/** The single-threaded verifier (protocol/contract `verifyCetSignatures`). */
export const syncCetVerifier: CetVerifier = (setup, party, sigs) => {
  try {
    verifyCetSignatures(setup, party, sigs);
    return Promise.resolve();
  } catch (e) {
    return Promise.reject(e);
  }
};

/** Options shared by the steps that derive the contract set-up. */
export interface FlowOptions {
  /** Extra funding outputs agreed with the terms (e.g. the sale's upfront payment). */
  extraOutputs?: readonly ExtraFundingOutput[];
  /** How the oracle hashes outcomes (default `'sha256'`, as setupContract). */
  hashProfile?: HashProfile;
  /** Further protocol/contract set-up options (refund output order, conformance). */
  setup?: Omit<ContractSetupOptions, 'extraOutputs' | 'hashProfile'>;
  /** Options of the message validators. */
  validation?: ValidationOptions;
}

/**
 * A party's funding key: a `FundingSigner` (what the participant library
 * passes: its key never leaves the signer), or a raw secret key (the dlcspecs
 * vectors and the tests, which hold keys by construction). Used for the CET
 * adaptor and refund signatures; its public key is `funding_pubkey`.
 */
export type FundingKey = { signer: FundingSigner; fundingSecretKey?: never } | { fundingSecretKey: Uint8Array; signer?: never };

/** The signer of a `FundingKey`; a raw key signs its CETs with `cets`. */
function signerOf(key: FundingKey, cets: CetSigner): FundingSigner {
  return key.signer ?? keyFundingSigner(key.fundingSecretKey, cets);
}

/** The accepter's own part of accept_dlc, its funding key aside. */
export interface AcceptFields extends FlowOptions {
  fundingInputs: FundingInput[];
  payoutSpk: Uint8Array;
  changeSpk: Uint8Array;
  /** Random u64s chosen by the caller, different from the offer's. */
  payoutSerialId: bigint;
  changeSerialId: bigint;
}

function setupOptions(o: FlowOptions): ContractSetupOptions {
  return {
    ...(o.setup ?? {}),
    ...(o.extraOutputs !== undefined ? { extraOutputs: o.extraOutputs } : {}),
    ...(o.hashProfile !== undefined ? { hashProfile: o.hashProfile } : {}),
  };
}

/** The accepter's own part of accept_dlc. */
export type AcceptParams = AcceptFields & FundingKey;

/** A built accept_dlc and the set-up it signs over. */
export interface BuiltAccept {
  accept: AcceptDlc;
  setup: ContractSetup;
}

function unsignedAccept(offer: OfferDlc, p: AcceptFields, fundingPubkey: Uint8Array): AcceptDlc {
  return {
    protocolVersion: 1,
    temporaryContractId: offer.temporaryContractId,
    acceptCollateral: totalCollateralOf(offer.contractInfo) - offer.offerCollateral,
    fundingPubkey,
    payoutSpk: p.payoutSpk,
    payoutSerialId: p.payoutSerialId,
    fundingInputs: p.fundingInputs,
    changeSpk: p.changeSpk,
    changeSerialId: p.changeSerialId,
    cetAdaptorSignatures: { ecdsaAdaptorSignatures: [] },
    refundSignature: new Uint8Array(64),
    negotiationFields: null,
  };
}

/**
 * Builds accept_dlc: the contract set-up from the offer and the accepter's
 * fields, an adaptor signature for every CET and the refund signature
 * (Protocol.md "The accept_dlc message"), checked with `validateAccept`.
 * Call `verifyOfferTerms` on the offer first. The signatures come from
 * `p.signer`, or from `p.fundingSecretKey` with `cets` making the adaptor
 * signatures (default: in the calling thread).
 * @throws {DlcError} INVALID_SCALAR for a bad key; `validateOffer` /
 *   `validateAccept` / `setupContract` errors; the `signContractWith` errors
 *   (a signer returning signatures that do not verify).
 */
export async function buildAcceptAsync(offer: OfferDlc, p: AcceptParams, cets: CetSigner = syncCetSigner): Promise<BuiltAccept> {
  validateOffer(offer, p.validation ?? {});
  const signer = signerOf(p, cets);
  const draft = unsignedAccept(offer, p, signer.fundingPubkey);
  const setup = setupContract(offer, draft, setupOptions(p));
  const accept: AcceptDlc = { ...draft, ...(await signContractWith(setup, signer)) };
  validateAccept(offer, accept, { ...(p.validation ?? {}), expectedCetCount: setup.plan.adaptorSlots.length });
  return { accept, setup: { ...setup, accept } };
}

/**
 * `buildAcceptAsync` in the calling thread.
 * @throws {DlcError} as {@link buildAcceptAsync}.
 */
export function buildAccept(offer: OfferDlc, p: AcceptFields & { fundingSecretKey: Uint8Array }): BuiltAccept {
  validateOffer(offer, p.validation ?? {});
  const draft = unsignedAccept(offer, p, secp().mulG(p.fundingSecretKey));
  const setup = setupContract(offer, draft, setupOptions(p));
  const accept: AcceptDlc = {
    ...draft,
    cetAdaptorSignatures: signCets(setup, p.fundingSecretKey),
    refundSignature: signRefund(setup, p.fundingSecretKey),
  };
  validateAccept(offer, accept, { ...(p.validation ?? {}), expectedCetCount: setup.plan.adaptorSlots.length });
  return { accept, setup: { ...setup, accept } };
}

// ------------------------------------------------------------------ verify accept

/**
 * The offerer's checks of a received accept_dlc (Protocol.md: the receiver
 * MUST verify every CET adaptor signature and the refund signature): message
 * rules, then the set-up, then the signatures. Returns the set-up.
 * @throws {DlcError} `validateAccept` errors; BAD_SIGNATURE naming the first
 *   bad CET adaptor signature (`cet-adaptor-signature:<slot>`) or `refund-signature`.
 */
export async function verifyAcceptAsync(offer: OfferDlc, accept: AcceptDlc, o: FlowOptions = {}, verifier: CetVerifier = syncCetVerifier): Promise<ContractSetup> {
  validateAccept(offer, accept, o.validation ?? {});
  const setup = setupContract(offer, accept, setupOptions(o));
  const n = setup.plan.adaptorSlots.length;
  validateAccept(offer, accept, { ...(o.validation ?? {}), expectedCetCount: n });
  verifyRefundSignature(setup, 'accept', accept.refundSignature);
  await verifier(setup, 'accept', accept.cetAdaptorSignatures);
  return setup;
}

/**
 * `verifyAcceptAsync` in the calling thread.
 * @throws {DlcError} as {@link verifyAcceptAsync}.
 */
export function verifyAccept(offer: OfferDlc, accept: AcceptDlc, o: FlowOptions = {}): ContractSetup {
  validateAccept(offer, accept, o.validation ?? {});
  const setup = setupContract(offer, accept, setupOptions(o));
  validateAccept(offer, accept, { ...(o.validation ?? {}), expectedCetCount: setup.plan.adaptorSlots.length });
  verifyRefundSignature(setup, 'accept', accept.refundSignature);
  verifyCetSignatures(setup, 'accept', accept.cetAdaptorSignatures);
  return setup;
}

// ------------------------------------------------------------------ sign

/** One party's contract signatures (CET adaptor signatures and refund signature). */
export interface ContractSignatures {
  cetAdaptorSignatures: CetAdaptorSignatures;
  refundSignature: Uint8Array;
}

/**
 * This party's CET adaptor signatures and refund signature over a set-up,
 * from a raw key (tests and vectors; the participant library signs with a
 * `FundingSigner`: `signContractWith`).
 * @throws {DlcError} INVALID_SCALAR for a bad key; as `signContractWith`.
 */
export async function signContractAsync(setup: ContractSetup, fundingSecretKey: Uint8Array, cets: CetSigner = syncCetSigner): Promise<ContractSignatures> {
  return signContractWith(setup, keyFundingSigner(fundingSecretKey, cets));
}

/**
 * `signContractAsync` in the calling thread.
 * @throws {DlcError} INVALID_SCALAR for a bad key.
 */
export function signContract(setup: ContractSetup, fundingSecretKey: Uint8Array): ContractSignatures {
  return { cetAdaptorSignatures: signCets(setup, fundingSecretKey), refundSignature: signRefund(setup, fundingSecretKey) };
}

/**
 * sign_dlc from the offerer's contract signatures and its funding witnesses
 * (Protocol.md "The sign_dlc message"), checked with `validateSign` and the
 * funding witnesses with protocol/tx `verifyFundingSignatures`.
 * @throws {DlcError} `validateSign` errors; BAD_SIGNATURE (`funding-witness`).
 */
export function assembleSign(setup: ContractSetup, signatures: ContractSignatures, fundingSignatures: FundingSignatures): SignDlc {
  const sign: SignDlc = {
    protocolVersion: 1,
    contractId: setup.contractId,
    cetAdaptorSignatures: signatures.cetAdaptorSignatures,
    refundSignature: signatures.refundSignature,
    fundingSignatures,
  };
  validateSign(setup.offer, setup.accept, sign, { expectedContractId: setup.contractId });
  verifyFundingSignatures(setup.funding, 'offer', fundingSignatures);
  return sign;
}

/** The offerer's part of sign_dlc, its funding key aside. */
export interface SignFields extends FlowOptions {
  /**
   * The offerer's funding witnesses, or a function producing them once the
   * funding transaction is known (e.g. sign the funding PSBT with a wallet
   * and `extractFundingSignatures`).
   */
  fundingSignatures: FundingSignatures | ((setup: ContractSetup) => FundingSignatures | Promise<FundingSignatures>);
}

/** The offerer's part of sign_dlc: its funding key (a signer, or a raw key) and funding witnesses. */
export type SignParams = SignFields & FundingKey;

/** A built sign_dlc and the set-up it signs over. */
export interface BuiltSign {
  sign: SignDlc;
  setup: ContractSetup;
}

async function fundingSigsOf(p: SignParams, setup: ContractSetup): Promise<FundingSignatures> {
  return typeof p.fundingSignatures === 'function' ? p.fundingSignatures(setup) : p.fundingSignatures;
}

/**
 * The offerer's step after accept_dlc: verify the accept (every signature),
 * sign every CET and the refund (with `p.signer`, or `p.fundingSecretKey` and
 * `engine.signer`), add the funding witnesses.
 * @throws {DlcError} as {@link verifyAcceptAsync} and {@link assembleSign}.
 */
export async function buildSignAsync(
  offer: OfferDlc,
  accept: AcceptDlc,
  p: SignParams,
  engine: { signer?: CetSigner; verifier?: CetVerifier } = {},
): Promise<BuiltSign> {
  const setup = await verifyAcceptAsync(offer, accept, p, engine.verifier ?? syncCetVerifier);
  const sigs = await signContractWith(setup, signerOf(p, engine.signer ?? syncCetSigner));
  return { sign: assembleSign(setup, sigs, await fundingSigsOf(p, setup)), setup };
}

/**
 * `buildSignAsync` with the signature work in the calling thread (the
 * funding-signature function, if any, must then return synchronously).
 * @throws {DlcError} as {@link buildSignAsync}; TypeError when the funding
 *   signature function returns a promise.
 */
export function buildSign(offer: OfferDlc, accept: AcceptDlc, p: SignFields & { fundingSecretKey: Uint8Array }): BuiltSign {
  const setup = verifyAccept(offer, accept, p);
  const sigs = signContract(setup, p.fundingSecretKey);
  const funding = typeof p.fundingSignatures === 'function' ? p.fundingSignatures(setup) : p.fundingSignatures;
  if (funding instanceof Promise) throw new TypeError('buildSign: use buildSignAsync with an async funding signer');
  return { sign: assembleSign(setup, sigs, funding), setup };
}

/** What the accepter learns from checking sign_dlc. */
export interface VerifiedSign {
  setup: ContractSetup;
  /** Per offerer funding input: verified, or of a type we cannot verify (the node's testmempoolaccept will). */
  fundingChecks: FundingSignatureCheck[];
}

/**
 * The accepter's checks of sign_dlc (Protocol.md "sign_dlc" recipient
 * requirements): the contract id, every CET adaptor signature, the refund
 * signature and the offerer's funding witnesses.
 * @throws {DlcError} `validateSign` errors (`contract-id-mismatch`, ...);
 *   BAD_SIGNATURE naming the bad signature (`cet-adaptor-signature:<slot>`,
 *   `refund-signature`, `funding-witness`).
 */
export async function verifySignAsync(
  offer: OfferDlc,
  accept: AcceptDlc,
  sign: SignDlc,
  o: FlowOptions = {},
  verifier: CetVerifier = syncCetVerifier,
): Promise<VerifiedSign> {
  const setup = setupContract(offer, accept, setupOptions(o));
  validateSign(offer, accept, sign, { expectedContractId: setup.contractId });
  verifyRefundSignature(setup, 'offer', sign.refundSignature);
  await verifier(setup, 'offer', sign.cetAdaptorSignatures);
  const fundingChecks = verifyFundingSignatures(setup.funding, 'offer', sign.fundingSignatures);
  return { setup, fundingChecks };
}

/**
 * `verifySignAsync` in the calling thread.
 * @throws {DlcError} as {@link verifySignAsync}.
 */
export function verifySign(offer: OfferDlc, accept: AcceptDlc, sign: SignDlc, o: FlowOptions = {}): VerifiedSign {
  const setup = setupContract(offer, accept, setupOptions(o));
  validateSign(offer, accept, sign, { expectedContractId: setup.contractId });
  verifyRefundSignature(setup, 'offer', sign.refundSignature);
  verifyCetSignatures(setup, 'offer', sign.cetAdaptorSignatures);
  const fundingChecks = verifyFundingSignatures(setup.funding, 'offer', sign.fundingSignatures);
  return { setup, fundingChecks };
}

// ------------------------------------------------------------------ funding PSBT

/** What one party puts into and takes out of the funding transaction. */
export interface FundingSummary {
  party: Party;
  inputTotal: bigint;
  collateral: bigint;
  /** Funding fee plus the closing fee reserved in the funding output. */
  fees: bigint;
  /** Extra outputs this party pays (upfront payment, premium). */
  extraOutputsTotal: bigint;
  /** What this party puts into the batch's other funding outputs (a strip's other periods); 0 without a batch. */
  batchOutputsTotal: bigint;
  change: bigint;
  fundingTxid: string;
}

/**
 * The funding transaction as a PSBT for wallets to sign (protocol/tx
 * `buildFundingPsbt`).
 * @throws {DlcError} INVALID_TRANSACTION (`psbt-build`).
 */
export function fundingPsbtOf(setup: ContractSetup): Psbt {
  return buildFundingPsbt(setup.funding);
}

/**
 * Checks a funding PSBT received from anyone (coordinator, counterparty,
 * external wallet) against the funding transaction this side derived itself:
 * same inputs, outputs (the 2-of-2 funding output, both change outputs, the
 * agreed extra outputs), version and locktime; and that `party`'s inputs
 * carry the amounts their funding_inputs' prevTxs say. Returns the parsed
 * PSBT and what `party` pays.
 * @throws {DlcError} DECODE_ERROR (`psbt-encoding`); INVALID_PARAMS
 *   (`psbt-mismatch`: another transaction, `psbt-input-amount`: an input's
 *   witness UTXO differs from its prevTx).
 */
export function verifyFundingPsbt(setup: ContractSetup, encoded: string | Uint8Array, party: Party): { psbt: Psbt; summary: FundingSummary } {
  const psbt = parseFundingPsbt(encoded, setup.funding);
  setup.funding.inputs.forEach((input, i) => {
    const w = psbt.data.inputs[i]?.witnessUtxo;
    if (w !== undefined && (w.value !== input.prevOutput.value || toHex(w.script) !== toHex(input.prevOutput.script))) {
      throw new DlcError('INVALID_PARAMS', `funding PSBT input ${i} claims another spent output than its prevTx`, { reason: 'psbt-input-amount' });
    }
  });
  const f = party === 'offer' ? setup.funding.offer : setup.funding.accept;
  return {
    psbt,
    summary: {
      party,
      inputTotal: f.inputTotal,
      collateral: f.collateral,
      fees: f.fundingFee + f.closingFee,
      extraOutputsTotal: f.extraOutputsTotal,
      batchOutputsTotal: f.batchOutputsTotal,
      change: f.change,
      fundingTxid: setup.funding.txidHex,
    },
  };
}

// ------------------------------------------------------------------ cooperative close

/**
 * The cooperative close transaction for an agreed split (Transactions.md
 * "Close Transaction"); what the split leaves of the funding output is the fee.
 * @throws {DlcError} as protocol/tx `buildCloseTransaction`.
 */
export function closeTransaction(setup: ContractSetup, payout: Payout): Transaction {
  return unsignedClose(setup.closing, payout).tx;
}

/**
 * This party's signature (64-byte compact) of the close transaction for
 * `payout`, from a raw key (tests; a party signs with `signCloseWith`).
 * @throws {DlcError} as {@link closeTransaction}; INVALID_SCALAR for a bad key.
 */
export function signClose(setup: ContractSetup, payout: Payout, fundingSecretKey: Uint8Array): Uint8Array {
  return ecdsaSign(fundingSecretKey, unsignedClose(setup.closing, payout).sighash);
}

/**
 * The close transaction with both signatures, each checked first.
 * @throws {DlcError} BAD_SIGNATURE (`close-signature:offer` / `close-signature:accept`).
 */
export function completeClose(setup: ContractSetup, payout: Payout, offerSignature: Uint8Array, acceptSignature: Uint8Array): Transaction {
  const { tx, sighash } = unsignedClose(setup.closing, payout);
  checkCloseSignature(setup.closing, 'offer', sighash, offerSignature);
  checkCloseSignature(setup.closing, 'accept', sighash, acceptSignature);
  return signedCloseTransaction(setup.closing, tx, offerSignature, acceptSignature);
}
