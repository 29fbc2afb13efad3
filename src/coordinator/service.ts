/**
 * The coordinator's operations behind the HTTP API: the offer book and each
 * contract step (accept, sign, fund, close, cancel), each verifying before it
 * relays and persisting one lifecycle transition in one batch, under a
 * per-contract lock. Reads return JSON views of the stored records.
 *
 * Verification per step (dlcspecs Protocol.md; numbered in the code):
 * - offer: message rules (validateOffer), chain, limits, the contract
 *   re-derived from the human terms (protocol/templates), every oracle
 *   announcement's signature and its equality with what an allowed oracle
 *   publishes, the offerer's funding inputs unspent;
 * - accept: validateAccept, set-up, EVERY accepter CET adaptor signature
 *   (worker pool) and the refund signature, accepter inputs unspent;
 * - sign: validateSign (contract id), every offerer CET adaptor signature,
 *   the refund signature, the offerer's funding witnesses;
 * - fund: the PSBT is the funding transaction, the accepter's witnesses,
 *   then the whole transaction through the node's testmempoolaccept.
 *
 * Strips (issue 12): N period contracts negotiated in one round and funded by
 * one transaction. Each step does every check above per period (errors name
 * the period, `details.period`), plus the batch rules (protocol/contract
 * `checkBatch*`), under one lock on the strip id, and commits all N records in
 * one batch (store `createMany` / `commitMany`) or none. The strip-wide facts
 * (inputs unspent and free, the delivery address over the whole window, the
 * funding witnesses, the broadcast) are checked or done once; period 1's record
 * holds the strip's coins. After funding each period is an ordinary contract.
 *
 * This module does NOT hold keys, speak HTTP (src/coordinator/http.ts does)
 * or poll (watcher.ts does).
 */
import { Psbt, Transaction } from 'bitcoinjs-lib';
import { z } from 'zod';
import { ReplayGuard } from '../../protocol/auth/index.js';
import {
  REFUND_MAX_GRACE_BLOCKS,
  checkBatchAccepts,
  checkBatchOffers,
  checkBatchSigns,
  verifyRefundSignature,
  type ContractSetup,
  type FlowNetwork,
} from '../../protocol/contract/index.js';
import { isDlcError } from '../../protocol/errors.js';
import type { AcceptDlc, OfferDlc, OracleAnnouncement, OracleInfo, SignDlc } from '../../protocol/messages/index.js';
import {
  CHAIN_HASHES,
  encodeBatchFundingGroup,
  decodeAcceptDlc,
  decodeOfferDlc,
  decodeSignDlc,
  encodeMessage,
  fromHex,
  toHex,
  validateAccept,
  validateOffer,
  validateSign,
  verifyAnnouncement,
} from '../../protocol/messages/index.js';
import {
  addFundingSignaturesToPsbt,
  buildFundingPsbt,
  extractFundingSignatures,
  finalizeFundingPsbt,
  parseFundingPsbt,
  verifyFundingSignatures,
} from '../../protocol/tx/index.js';
import type { BitcoinRpc } from '../chain/index.js';
import { isChainError } from '../chain/index.js';
import type { AdaptorEngine } from '../engine/index.js';
import { verifyContractCets } from '../engine/contract.js';
import { checkCloseSignature, closePsbt, closeSignatureFromPsbt, signedCloseTransaction, unsignedClose } from '../../protocol/tx/index.js';
import { coordinatorRequestSchemas, type CoordinatorQueries, type OracleView, type PublicContract } from '../api/coordinator.js';
import type { CoordinatorConfig } from './config.js';
import { ContractDataCache, fundingOf, oracleInfoOf, type ContractMessages } from './contract-data.js';
import { CoordinatorError } from './errors.js';
import {
  acceptOffer,
  cancelContract,
  expireContract,
  returnToBook,
  closingBroadcast,
  createOffer,
  fundContract,
  oracleViews,
  recordOracleThreshold,
  roleOf,
  setCloseProposal,
  stripPlace,
  signContract,
  transferredFromOf,
  type CloseProposal,
  type ContractRecord,
  type ContractState,
  type OracleRef,
} from './lifecycle.js';
import { OracleClient, type EventParams } from './oracle-client.js';
import { publicRecord } from './privacy.js';
import type { ContractStore } from './store.js';
import {
  batchToJson,
  checkEventAgainstTerms,
  checkOfferAgainstTerms,
  checkStripOffersAgainstTerms,
  deadlineViolation,
  inPeriod,
  namedPeriod,
  offerTermsSchema,
  offerTimingViolation,
  periodTermsOf,
  stripPeriodCount,
  summarizeTerms,
  type OfferTerms,
  type StripRef,
  type TermsSummary,
  type TimingViolation,
} from '../../protocol/terms/index.js';
import type { TemplateResult } from '../../protocol/templates/index.js';
import { stripRequestBytes } from './limits.js';
import { PositionDesk } from './positions.js';

/** The node calls the coordinator makes (a subset of src/chain's BitcoinRpc; tests may fake it). */
export type ChainPort = Pick<
  BitcoinRpc,
  | 'getBlockCount'
  | 'getBlockHash'
  | 'getBlockHeader'
  | 'getBlockHex'
  | 'getTxOut'
  | 'getRawTransaction'
  | 'testMempoolAccept'
  | 'sendRawTransaction'
>;

/** Something to report to (the process logs as JSON lines). */
export type Logger = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

// ------------------------------------------------------------------ request schemas

/** The request schemas of the API (src/api/coordinator.ts) over this coordinator's terms schema and body limit. */
export function requestSchemas(maxBodyBytes: number) {
  return coordinatorRequestSchemas(maxBodyBytes, offerTermsSchema);
}
export type RequestSchemas = ReturnType<typeof requestSchemas>;
type Body<K extends keyof RequestSchemas> = z.output<RequestSchemas[K]>;

// ------------------------------------------------------------------ views

/** The JSON view of a record (what GET returns): the record without its storage version. */
export function contractView(rec: ContractRecord): Record<string, unknown> {
  const { v: _v, oracleOutcomes: _outcomes, strip: _strip, transfer, ...rest } = rec;
  return { ...rest, ...oracleFields(rec), ...placeOf(rec), ...(transfer === undefined ? {} : { transferredFrom: transferredFromOf(rec) }) };
}

/** A strip period's `strip: { id, index, periods }` (a view's already-made place kept as is); nothing for a single contract. */
function placeOf(rec: ContractRecord): { strip?: { id: string; index: number; periods: number } } {
  const s = rec.strip as unknown;
  if (s === undefined) return {};
  if (typeof s === 'object' && s !== null && !('batch' in s)) return { strip: s as { id: string; index: number; periods: number } };
  return { strip: stripPlace(rec)! };
}

/** Each oracle with what it attested (API.md `OracleView`), and the threshold where known. */
function oracleFields(rec: ContractRecord): { oracles: OracleView[]; oracleThreshold?: number } {
  const threshold = recordOracleThreshold(rec);
  return { oracles: oracleViews(rec), ...(threshold === undefined ? {} : { oracleThreshold: threshold }) };
}

/** The offer book's view: the terms and headline numbers. */
export function offerView(rec: ContractRecord): Record<string, unknown> {
  return {
    id: rec.id,
    state: rec.state,
    createdAt: rec.createdAt,
    template: rec.summary.template,
    summary: rec.summary,
    terms: rec.terms,
    offerer: rec.offerer,
    offerCollateral: rec.offerCollateral,
    acceptCollateral: rec.acceptCollateral,
    totalCollateral: rec.totalCollateral,
    cets: rec.cets,
    adaptorSignatures: rec.adaptorSignatures,
    ...oracleFields(rec),
    eventIds: rec.oracles.map((o) => o.eventId),
    cetLocktime: rec.cetLocktime,
    refundLocktime: rec.refundLocktime,
    ...placeOf(rec),
  };
}

/**
 * node-dlc's BatchFundingGroup TLV of a strip (hex): every period's temporary
 * id, the contract ids once every period has one (and only for a party:
 * privacy.ts serves a contract id to its parties alone), the collateral of
 * all its DLCs, and each period's event id (its first oracle's).
 */
export function batchFundingGroupOf(recs: readonly ContractRecord[], party: boolean): string {
  const cids = recs.map((r) => (party && 'contractId' in r ? r.contractId : undefined));
  return toHex(encodeBatchFundingGroup({
    tempContractIds: recs.map((r) => fromHex(r.id)),
    contractIds: cids.every((c) => c !== undefined) ? cids.map((c) => fromHex(c)) : [],
    allocatedCollateral: recs.reduce((a, r) => a + BigInt(r.totalCollateral), 0n),
    eventIds: recs.map((r) => r.oracles[0]!.eventId),
  }));
}

/**
 * `StripView` (API.md): the strip's terms, the periods' common state (or
 * `mixed`), its funding txid and PSBT, its BatchFundingGroup and each period's
 * view as `view` makes it (the caller's: the party's or the public's).
 */
export function stripView(recs: readonly ContractRecord[], view: (rec: ContractRecord, index: number) => Record<string, unknown>, party: boolean): Record<string, unknown> {
  const first = recs[0]!;
  const states = new Set(recs.map((r) => r.state));
  const fundingTxid = 'fundingTxid' in first ? first.fundingTxid : undefined;
  const fundingPsbt = 'fundingPsbt' in first ? first.fundingPsbt : undefined;
  return {
    id: first.strip!.id,
    periods: recs.length,
    state: states.size === 1 ? first.state : 'mixed',
    terms: first.strip!.terms,
    ...(fundingTxid === undefined ? {} : { fundingTxid }),
    ...(party && fundingPsbt !== undefined ? { fundingPsbt } : {}),
    batchFundingGroup: batchFundingGroupOf(recs, party),
    contracts: recs.map(view),
  };
}

// ------------------------------------------------------------------ helpers

/** The oracle info of every contract of an offer (one, or a disjoint contract's several). */
function oracleInfosOf(offer: ReturnType<typeof decodeOfferDlc>): OracleInfo[] {
  const ci = offer.contractInfo;
  const infos = 'singleContractInfo' in ci ? [ci.singleContractInfo.contractInfo] : ci.disjointContractInfo.contractInfos;
  return infos.map((i) => i.oracleInfo);
}

function announcementsOf(offer: ReturnType<typeof decodeOfferDlc>): OracleAnnouncement[] {
  return oracleInfosOf(offer).flatMap((i) => ('single' in i ? [i.single.oracleAnnouncement] : i.multi.oracleAnnouncements));
}

/** K of a K-of-n oracle info (a single oracle: 1). */
function thresholdOf(info: OracleInfo): number {
  return 'multi' in info ? info.multi.threshold : 1;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function prevTxid(prevTx: Uint8Array): string {
  return Transaction.fromBuffer(prevTx).getId();
}

/** `txid:vout` of funding inputs (their prevTx was parsed by checkInputsUnspent first). */
export function outpointsOf(inputs: readonly { prevTx: Uint8Array; prevTxVout: number }[]): string[] {
  return inputs.map((i) => `${prevTxid(i.prevTx)}:${i.prevTxVout}`);
}

/** The error a timing rule gives: EXPIRED when it is too late, TERMS_MISMATCH when the terms break it. */
function timingError(v: TimingViolation): CoordinatorError {
  return new CoordinatorError(v.kind === 'expired' ? 'EXPIRED' : 'TERMS_MISMATCH', v.message, { reason: v.reason });
}

export const FLOW_NETWORK: Record<CoordinatorConfig['network'], FlowNetwork> = {
  mainnet: 'mainnet', testnet3: 'testnet', testnet4: 'testnet', signet: 'signet', regtest: 'regtest',
};

/** What an oracle says about an event's timing. */
interface EventTiming {
  window: { start: number; end: number } | null;
  attestHeight: number | null;
  attested: boolean;
}

/** Lock key serialising every check-and-claim of funding outpoints across contracts. */
export const OUTPOINTS_LOCK = '!outpoints';

/**
 * A party's funding inputs within the limits the body size was derived from
 * (limits.ts), so the accept, sign and funding PSBT of this contract fit.
 * @throws {CoordinatorError} INVALID_REQUEST `too-many-inputs` | `prev-tx-too-large` (`party`, `input`).
 */
export function checkInputLimits(limits: CoordinatorConfig['limits'], party: 'offer' | 'accept', inputs: readonly { prevTx: Uint8Array }[]): void {
  if (inputs.length > limits.maxFundingInputs) {
    throw new CoordinatorError('INVALID_REQUEST', `at most ${limits.maxFundingInputs} funding inputs`, { reason: 'too-many-inputs' });
  }
  const big = inputs.findIndex((i) => i.prevTx.length > limits.maxPrevTxBytes);
  if (big >= 0) {
    throw new CoordinatorError('INVALID_REQUEST', `${party} funding input ${big}: previous transaction of ${inputs[big]!.prevTx.length} bytes exceeds ${limits.maxPrevTxBytes}`, {
      reason: 'prev-tx-too-large',
      details: { party, input: big },
    });
  }
}

/**
 * The `offered` record of a checked offer (a strip period's: with its StripRef), ONE copy for
 * `POST /v1/offers` and `POST /v1/strips`: its id is the offer's temporary id.
 */
function offerRecord(o: {
  offer: OfferDlc;
  identityPubkey: string;
  terms: OfferTerms;
  template: TemplateResult;
  checked: { summary: TermsSummary; oracles: OracleRef[] };
  offerOutpoints?: string[];
  strip?: StripRef;
}, now: number): ContractRecord {
  const { offer, template } = o;
  return createOffer({
    id: toHex(offer.temporaryContractId),
    terms: o.terms,
    summary: o.checked.summary,
    offerer: { identityPubkey: o.identityPubkey, fundingPubkey: toHex(offer.fundingPubkey), payoutSpk: toHex(offer.payoutSpk) },
    offerCollateral: String(offer.offerCollateral),
    acceptCollateral: String(template.acceptCollateral),
    totalCollateral: String(template.totalCollateral),
    cets: template.cetCount.cets,
    adaptorSignatures: template.cetCount.adaptorSignatures,
    oracles: o.checked.oracles,
    oracleThreshold: thresholdOf(oracleInfoOf(offer)),
    cetLocktime: offer.cetLocktime,
    refundLocktime: offer.refundLocktime,
    ...(o.offerOutpoints === undefined ? {} : { offerOutpoints: o.offerOutpoints }),
    ...(o.strip === undefined ? {} : { strip: o.strip }),
  }, now);
}

/** An error re-made to name strip period `i` (0-based): a DlcError by protocol/terms `namedPeriod`, a CoordinatorError likewise. */
function periodError(err: unknown, i: number): unknown {
  if (err instanceof CoordinatorError) {
    if (err.details?.period !== undefined) return err;
    return new CoordinatorError(err.code, `period ${i + 1}: ${err.message}`, {
      ...(err.reason !== undefined ? { reason: err.reason } : {}), details: { ...(err.details ?? {}), period: i + 1 }, cause: err,
    });
  }
  if (isDlcError(err) && err.details?.period !== undefined) return err;
  return namedPeriod(err, i);
}

/** Runs a check of strip period `i` (0-based), its errors naming the period. */
function periodSync<T>(i: number, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw periodError(err, i);
  }
}

async function periodAsync<T>(i: number, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw periodError(err, i);
  }
}

/** Runs the steps of one key (a contract, a strip, the outpoint index) one at a time, across every replica on the store. */
export interface StepLock {
  run<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

export interface CoordinatorDeps {
  config: CoordinatorConfig;
  store: ContractStore;
  chain: ChainPort;
  engine: AdaptorEngine;
  /** Unix ms. */
  now: () => number;
  log: Logger;
}

// ------------------------------------------------------------------ the service

export class CoordinatorService {
  readonly config: CoordinatorConfig;
  readonly store: ContractStore;
  readonly chain: ChainPort;
  readonly engine: AdaptorEngine;
  readonly now: () => number;
  readonly log: Logger;
  readonly lock: StepLock;
  readonly data: ContractDataCache;
  readonly oracles: OracleClient[];
  readonly schemas: RequestSchemas;
  /** Signed requests seen within the auth skew window (http.ts refuses a replay); saved across a clean restart (index.ts). */
  readonly replay: ReplayGuard;
  /** Positions and transfers (issue 14, positions.ts). */
  readonly positions: PositionDesk;
  readonly #chainHash: string;

  constructor(deps: CoordinatorDeps) {
    this.config = deps.config;
    this.store = deps.store;
    this.chain = deps.chain;
    this.engine = deps.engine;
    this.now = deps.now;
    this.log = deps.log;
    // LevelDB: an in-process lock (one process owns the directory); PostgreSQL: advisory locks shared by the replicas.
    this.lock = { run: (key, fn) => deps.store.backend.lock(key, fn) };
    this.data = new ContractDataCache(deps.store, deps.config.hashProfile);
    this.oracles = deps.config.oracles.map((u) => new OracleClient(u));
    this.schemas = requestSchemas(deps.config.limits.maxBodyBytes);
    this.replay = new ReplayGuard({ maxSkewSec: deps.config.authMaxSkewSec });
    this.#chainHash = CHAIN_HASHES[deps.config.network];
    this.positions = new PositionDesk(this);
  }

  /** @throws {CoordinatorError} NOT_FOUND */
  async mustGet(id: string): Promise<ContractRecord> {
    const rec = await this.store.get(id.toLowerCase());
    if (rec === undefined) throw new CoordinatorError('NOT_FOUND', `no offer or contract ${id}`, { reason: 'unknown-id' });
    return rec;
  }

  #validation() {
    return { knownChainHashes: [this.#chainHash] };
  }

  async checkInputsUnspent(party: 'offer' | 'accept', inputs: readonly { prevTx: Uint8Array; prevTxVout: number }[]): Promise<void> {
    for (const [i, input] of inputs.entries()) {
      let txid: string;
      try {
        txid = prevTxid(input.prevTx);
      } catch (cause) {
        throw new CoordinatorError('INVALID_REQUEST', `${party} funding input ${i}: prevTx does not parse`, { reason: 'invalid-prev-tx', cause });
      }
      const out = await this.chain.getTxOut(txid, input.prevTxVout, true);
      if (out === null) {
        throw new CoordinatorError('FUNDING_REJECTED', `${party} funding input ${i} (${txid}:${input.prevTxVout}) is spent or unknown to the node`, {
          reason: 'input-unavailable',
          details: { party, input: i },
        });
      }
    }
  }

  /**
   * The allowed oracle that publishes exactly this announcement, and the event parameters it states.
   * @throws {CoordinatorError} ORACLE_MISMATCH `hash-profile` | `event-unknown` | `announcement-differs` |
   *   `oracle-not-allowed`; ORACLE_UNAVAILABLE (`oracle-unreachable`) when no reachable allowed
   *   oracle has the key and some could not be asked, naming them (`details.oracles`).
   */
  async #matchOracle(ann: OracleAnnouncement): Promise<{ ref: OracleRef; params: EventParams | null; event: EventTiming }> {
    const pubkey = toHex(ann.oraclePublicKey);
    const eventId = ann.oracleEvent.eventId;
    const unreachable: CoordinatorError[] = [];
    for (const client of this.oracles) {
      let info;
      try {
        info = await client.info();
      } catch (err) {
        if (!(err instanceof CoordinatorError)) throw err;
        unreachable.push(err);
        continue;
      }
      if (info.publicKey !== pubkey) continue;
      if (info.hashProfile !== this.config.hashProfile) {
        throw new CoordinatorError('ORACLE_MISMATCH', `oracle ${client.url} hashes with ${info.hashProfile}, this coordinator with ${this.config.hashProfile}`, { reason: 'hash-profile' });
      }
      const served = await client.announcement(eventId);
      if (served === null) {
        throw new CoordinatorError('ORACLE_MISMATCH', `oracle ${client.url} does not know event ${eventId}`, { reason: 'event-unknown' });
      }
      if (!sameBytes(served.bytes, encodeMessage({ type: 'oracle_announcement', message: ann }))) {
        throw new CoordinatorError('ORACLE_MISMATCH', `the offer's announcement of ${eventId} differs from the one oracle ${client.url} publishes`, { reason: 'announcement-differs' });
      }
      return {
        ref: { url: client.url, eventId, publicKey: pubkey },
        params: served.params,
        event: { window: served.params?.window ?? null, attestHeight: served.attestHeight, attested: served.attested },
      };
    }
    if (unreachable.length > 0) {
      // The key may be one of theirs: the offer cannot be checked now, which is not the offerer's fault.
      const urls = unreachable.map((e) => String(e.details?.oracle));
      throw new CoordinatorError('ORACLE_UNAVAILABLE', `no reachable allowed oracle has key ${pubkey}; not answering: ${urls.join(', ')} (${unreachable[0]!.message})`, {
        reason: 'oracle-unreachable', cause: unreachable[0], details: { oracle: urls[0], oracles: urls },
      });
    }
    throw new CoordinatorError('ORACLE_MISMATCH', `oracle key ${pubkey} is not one of this coordinator's oracles`, { reason: 'oracle-not-allowed' });
  }

  /**
   * Issue 11: every announcement of an offer's oracle set describes one event.
   * Our outcomes are recomputed exactly from chain data, so honest oracles
   * attest the same digits: bounded differences (MultiOracle.md oracle_params)
   * are refused, as no event kind needs them and they would let a CET open on
   * outcomes the oracles disagree about.
   * @throws {CoordinatorError} INVALID_REQUEST `oracle-params`; ORACLE_MISMATCH `event-differs`.
   */
  #checkOracleSet(offer: ReturnType<typeof decodeOfferDlc>): void {
    if (oracleInfosOf(offer).some((info) => 'multi' in info && info.multi.oracleParams !== null)) {
      throw new CoordinatorError('INVALID_REQUEST', 'bounded oracle differences (oracle_params) are not accepted: every event here is attested exactly', { reason: 'oracle-params' });
    }
    const [first, ...rest] = announcementsOf(offer);
    if (first === undefined) return;
    // The event descriptor is plain JSON (numbers, strings, booleans): compared as such.
    const descriptor = JSON.stringify(first.oracleEvent.eventDescriptor);
    for (const [i, ann] of rest.entries()) {
      if (ann.oracleEvent.eventId !== first.oracleEvent.eventId) {
        throw new CoordinatorError('ORACLE_MISMATCH', `announcement ${i + 1} is of event ${ann.oracleEvent.eventId}, announcement 0 of ${first.oracleEvent.eventId}`, {
          reason: 'event-differs', details: { announcement: i + 1 },
        });
      }
      if (JSON.stringify(ann.oracleEvent.eventDescriptor) !== descriptor) {
        throw new CoordinatorError('ORACLE_MISMATCH', `announcement ${i + 1} describes event ${ann.oracleEvent.eventId} with other outcomes (digits, base, unit or precision) than announcement 0`, {
          reason: 'event-differs', details: { announcement: i + 1 },
        });
      }
    }
  }

  // ---------------------------------------------------------------- offers

  /**
   * `POST /v1/offers`, signed by `signer` (must be the body's identity key).
   * @throws {CoordinatorError} FORBIDDEN, CONFLICT, TERMS_MISMATCH, ORACLE_*, FUNDING_REJECTED, INVALID_REQUEST; {DlcError} for bad messages.
   */
  async createOffer(signer: string, body: Body<'offer'>): Promise<ContractRecord> {
    if (signer !== body.identityPubkey) {
      throw new CoordinatorError('FORBIDDEN', 'the request must be signed by the identityPubkey it names', { reason: 'identity-mismatch' });
    }
    const bytes = fromHex(body.offer);
    const offer = decodeOfferDlc(bytes);
    // 1. Protocol.md offer_dlc receiver rules, our chain only (MultiOracle.md: threshold in [1, n], no oracle twice);
    //    one event across the oracle set, attested exactly (issue 11), refused before any costly step.
    validateOffer(offer, this.#validation());
    this.#checkOracleSet(offer);
    const limits = this.config.limits;
    checkInputLimits(limits, 'offer', offer.fundingInputs);
    // 2. The contract is the one the human terms describe (and its size within limits).
    const template = checkOfferAgainstTerms(offer, body.terms);
    // 3-5.
    const { summary, oracles } = await this.#checkOfferContract(offer, body.terms, template);
    // 6. The offerer's coins exist now (the funding transaction is test-accepted at fund time).
    await this.checkInputsUnspent('offer', offer.fundingInputs);
    const offerOutpoints = outpointsOf(offer.fundingInputs);
    const id = toHex(offer.temporaryContractId);
    return this.lock.run(id, () => this.lock.run(OUTPOINTS_LOCK, async () => {
      // 7. Each coin backs one pending offer or accept (issue 9, hole 8).
      await this.checkOutpointsFree('offer', offerOutpoints);
      // 8. One delivery address, one live window (issue 9, hole 7): no riding on another sale's delivery.
      if (body.terms.template === 'hashpower-sale') await this.#checkDeliveryFree(body.terms.deliveryAddress, body.terms.window);
      const rec = offerRecord({ offer, identityPubkey: body.identityPubkey, terms: body.terms, template, checked: { summary, oracles }, offerOutpoints }, this.now());
      await this.store.create(rec, bytes);
      this.log('info', 'offer created', { id, template: summary.template });
      return rec;
    }));
  }

  /**
   * Steps 2-5 of an offer whose contract `template` was re-derived from `terms`:
   * its size within limits, the refund after the window, every announcement
   * signature and its allowed oracle stating the terms' event, and the timing.
   * @throws {CoordinatorError} INVALID_REQUEST `too-many-cets`, TERMS_MISMATCH, ORACLE_*, EXPIRED; {DlcError} for a bad announcement.
   */
  async #checkOfferContract(offer: OfferDlc, terms: OfferTerms, template: TemplateResult): Promise<{ summary: TermsSummary; oracles: OracleRef[] }> {
    const limits = this.config.limits;
    if (template.cetCount.adaptorSignatures > limits.maxAdaptorSignatures) {
      throw new CoordinatorError('INVALID_REQUEST', `${template.cetCount.adaptorSignatures} adaptor signatures exceed this coordinator's ${limits.maxAdaptorSignatures}`, { reason: 'too-many-cets' });
    }
    const summary = summarizeTerms(terms);
    if (summary.window !== null && offer.refundLocktime < 500_000_000 && offer.refundLocktime <= summary.window.end) {
      throw new CoordinatorError('TERMS_MISMATCH', `refund_locktime ${offer.refundLocktime} is not after the window end ${summary.window.end}`, { reason: 'refund-before-window-end' });
    }
    // 3. Oracle.md: every announcement signature.
    const anns = announcementsOf(offer);
    for (const ann of anns) verifyAnnouncement(ann, this.config.hashProfile);
    // 4. Each announcement is what an allowed oracle publishes (asked in parallel), stating the terms' event.
    const matched = await Promise.all(anns.map((ann) => this.#matchOracle(ann)));
    const oracles: OracleRef[] = matched.map((x) => x.ref);
    const stated: EventTiming[] = matched.map((x) => x.event);
    for (const { ref, params } of matched) if (params !== null) checkEventAgainstTerms(params, terms, ref.eventId);
    const paramsOf = (x: (typeof matched)[number]): string => JSON.stringify(x.params);
    const differing = matched.findIndex((x) => x.params !== null && matched[0]!.params !== null && paramsOf(x) !== paramsOf(matched[0]!));
    if (differing > 0) {
      throw new CoordinatorError('ORACLE_MISMATCH', `oracle ${oracles[differing]!.url} states other parameters for event ${oracles[differing]!.eventId} than oracle ${oracles[0]!.url}`, {
        reason: 'event-differs', details: { announcement: differing },
      });
    }
    // 5. Nobody contracts on a known outcome, and the terms bound the funding and the refund in time.
    await this.#checkOfferTiming(terms, summary.window, stated, offer.refundLocktime);
    return { summary, oracles };
  }

  /**
   * Issue 9, holes 2, 3 and 5, at offer time:
   * 1. no event attested, the window not started (tip below its start);
   * 2. a funding deadline in the terms, at most the window start, not passed;
   * 3. the refund locktime a block height at most the attestation height plus REFUND_MAX_GRACE_BLOCKS.
   * @throws {CoordinatorError} EXPIRED, TERMS_MISMATCH.
   */
  async #checkOfferTiming(terms: OfferTerms, window: { start: number; end: number } | null, stated: readonly EventTiming[], refundLocktime: number): Promise<void> {
    const tip = await this.chain.getBlockCount();
    const eventWindow = window ?? stated.find((p) => p.window !== null)?.window ?? null;
    const v = offerTimingViolation(terms, { tip, window: eventWindow, attested: stated.some((p) => p.attested) });
    if (v !== null) throw timingError(v);
    const attestHeight = Math.max(...stated.map((p) => p.attestHeight ?? -1), eventWindow?.end ?? -1);
    if (attestHeight < 0) return;
    const latest = attestHeight + REFUND_MAX_GRACE_BLOCKS[FLOW_NETWORK[this.config.network]];
    if (refundLocktime > latest) {
      throw new CoordinatorError('TERMS_MISMATCH', `refund_locktime ${refundLocktime} is after height ${latest} (attestation at ${attestHeight} + the maximum grace)`, { reason: 'refund-too-late' });
    }
  }

  /**
   * No outpoint backs a pending offer or accept already (an accept naming
   * one of its own offer's coins included).
   * @throws {CoordinatorError} CONFLICT (`input-in-use`).
   */
  async checkOutpointsFree(party: 'offer' | 'accept', outpoints: readonly string[]): Promise<void> {
    for (const [i, o] of outpoints.entries()) {
      const owner = await this.store.outpointOwner(o);
      if (owner !== undefined) {
        throw new CoordinatorError('CONFLICT', `${party} funding input ${i} (${o}) backs another pending offer or accept`, { reason: 'input-in-use', details: { party, input: i } });
      }
    }
  }

  /**
   * No live hashpower sale measures `address` over a window overlapping `window`.
   * @throws {CoordinatorError} CONFLICT (`delivery-address-in-use`).
   */
  async #checkDeliveryFree(address: string, window: { start: number; end: number }): Promise<void> {
    for (const live of await this.store.liveSalesOf(address)) {
      if (live.window.start < window.end && window.start < live.window.end) {
        throw new CoordinatorError('CONFLICT', `delivery address ${address} is measured by live contract ${live.id} over [${live.window.start}, ${live.window.end}), which overlaps this window`, {
          reason: 'delivery-address-in-use', details: { contract: live.id },
        });
      }
    }
  }

  /**
   * The funding deadline has not passed (records made before deadlines existed have none).
   * @throws {CoordinatorError} EXPIRED (`funding-deadline-passed`).
   */
  async #checkDeadline(rec: ContractRecord): Promise<void> {
    if (rec.terms.fundingDeadline === undefined) return;
    const v = deadlineViolation(rec.terms, await this.chain.getBlockCount());
    if (v !== null) throw timingError(v);
  }

  /** Blocks an unsigned accept holds an offer (config, else 144; 6 on regtest). */
  get acceptTimeoutBlocks(): number {
    return this.config.offerBook.acceptTimeoutBlocks ?? (this.config.network === 'regtest' ? 6 : 144);
  }

  /**
   * The offer book's clock, run by the watcher each poll (issue 9, holes 2 and 8):
   * offered / accepted / signed contracts at or past their funding deadline
   * become `expired` (their coins freed); an accept not signed within
   * `acceptTimeoutBlocks` is dropped and the offer returns to the book.
   * @returns how many records changed.
   */
  async expireDue(tip: number): Promise<number> {
    let changed = 0;
    const done = new Set<string>();
    for (const id of await this.store.idsInStates(['offered', 'accepted', 'signed'])) {
      if (done.has(id)) continue;
      const found = await this.store.get(id);
      if (found?.strip !== undefined) {
        // A strip's periods expire (or return to the book) together, in one batch: its
        // coins are held by period 1 only and must not outlive the other periods' state.
        const ids = await this.store.stripPeriods(found.strip.id);
        ids.forEach((p) => done.add(p));
        changed += await this.lock.run(found.strip.id, async () => {
          const recs = await this.stripRecords(found.id);
          const changes = recs.flatMap((rec) => {
            const next = this.#dueTransition(rec, tip);
            return next === null ? [] : [{ prev: rec, next }];
          });
          if (changes.length === 0) return 0;
          await this.store.commitMany(changes);
          for (const c of changes) this.data.invalidate(c.prev.id);
          this.log('info', changes[0]!.next.state === 'expired' ? 'strip expired' : 'strip back on the book', { id: found.strip!.id, periods: changes.length, tip });
          return changes.length;
        });
        continue;
      }
      changed += await this.lock.run(id, async () => {
        const rec = await this.mustGet(id);
        const next = this.#dueTransition(rec, tip);
        if (next === null) return 0;
        await this.store.commit(rec, next);
        this.data.invalidate(id);
        this.log('info', next.state === 'expired' ? 'contract expired' : 'offer back on the book', { id, from: rec.state, tip });
        return 1;
      });
    }
    return changed;
  }

  /** The offer book's clock on one record: expired at its funding deadline, back on the book after the accept timeout, else null. */
  #dueTransition(rec: ContractRecord, tip: number): ContractRecord | null {
    if (rec.state !== 'offered' && rec.state !== 'accepted' && rec.state !== 'signed') return null;
    if (rec.terms.fundingDeadline !== undefined && tip >= rec.terms.fundingDeadline) return expireContract(rec, tip, this.now());
    if (rec.state === 'accepted' && rec.acceptedHeight !== undefined && tip >= rec.acceptedHeight + this.acceptTimeoutBlocks) {
      return returnToBook(rec, `accept not signed within ${this.acceptTimeoutBlocks} blocks (height ${tip})`, this.now());
    }
    return null;
  }

  async listOffers(q: Body<'offersQuery'>): Promise<{ offers: Record<string, unknown>[]; next: string | null }> {
    const limit = Math.min(q.limit ?? 50, this.config.limits.maxPageSize);
    const min = q.minPrice === undefined ? undefined : BigInt(q.minPrice);
    const max = q.maxPrice === undefined ? undefined : BigInt(q.maxPrice);
    const page = await this.store.listByState('offered', {
      limit,
      after: q.after,
      filter: (rec) => {
        // A strip is listed once, as its period 1, judged by the whole strip's terms.
        if (rec.strip !== undefined && rec.strip.batch.index !== 0) return false;
        const r = rec.strip === undefined ? rec : { summary: summarizeTerms(rec.strip.terms) };
        if (q.template !== undefined && r.summary.template !== q.template) return false;
        const w = r.summary.window;
        if (q.windowStart !== undefined && (w === null || w.start < q.windowStart)) return false;
        if (q.windowEnd !== undefined && (w === null || w.end > q.windowEnd)) return false;
        const price = BigInt(r.summary.price);
        if (min !== undefined && price < min) return false;
        if (max !== undefined && price > max) return false;
        return true;
      },
    });
    return { offers: page.records.map(offerView), next: page.next };
  }

  async listContracts(q: Body<'contractsQuery'>): Promise<{ contracts: Record<string, unknown>[]; next: string | null }> {
    const limit = Math.min(q.limit ?? 50, this.config.limits.maxPageSize);
    let page;
    if (q.party !== undefined) {
      page = await this.store.listByParty(q.party, { limit, after: q.after, ...(q.state ? { filter: (r: ContractRecord) => r.state === q.state } : {}) });
    } else if (q.state !== undefined) {
      page = await this.store.listByState(q.state, { limit, after: q.after });
    } else {
      throw new CoordinatorError('INVALID_REQUEST', 'filter by state or party (or both)', { reason: 'filter-required' });
    }
    return { contracts: page.records.map(contractView), next: page.next };
  }

  async messagesHex(id: string): Promise<{ offer: string; accept: string | null; sign: string | null }> {
    const rec = await this.mustGet(id);
    const m = await this.store.messages(rec.id);
    return { offer: toHex(m.offer!), accept: m.accept ? toHex(m.accept) : null, sign: m.sign ? toHex(m.sign) : null };
  }

  // ---------------------------------------------------------------- contract steps

  #expect(rec: ContractRecord, action: string, states: readonly ContractState[]): void {
    if (!states.includes(rec.state) && rec.state === 'expired') {
      // Named as what it is: too late (issue 9, hole 2), not a protocol misstep.
      throw new CoordinatorError('EXPIRED', `cannot ${action} contract ${rec.id}: it expired (${rec.reason})`, { reason: 'state-expired', details: { state: rec.state } });
    }
    if (!states.includes(rec.state)) {
      throw new CoordinatorError('INVALID_STATE', `cannot ${action} a contract in state ${rec.state}`, { reason: `state-${rec.state}`, details: { state: rec.state } });
    }
  }

  #mustBe(rec: ContractRecord, signer: string, who: 'offerer' | 'accepter', action: string): void {
    const key = who === 'offerer' ? rec.offerer.identityPubkey : 'accepter' in rec ? rec.accepter?.identityPubkey : undefined;
    if (key !== signer) throw new CoordinatorError('FORBIDDEN', `only the ${who} may ${action} this contract`, { reason: `not-${who}` });
  }

  /**
   * `POST /v1/contracts/:id/accept`: verifies the accept_dlc fully, then offered → accepted.
   * @throws {CoordinatorError} NOT_FOUND, INVALID_STATE, FORBIDDEN, FUNDING_REJECTED; {DlcError} BAD_SIGNATURE naming the bad signature.
   */
  async accept(id: string, signer: string, body: Body<'accept'>): Promise<ContractRecord> {
    if (signer !== body.identityPubkey) {
      throw new CoordinatorError('FORBIDDEN', 'the request must be signed by the identityPubkey it names', { reason: 'identity-mismatch' });
    }
    const first = await this.mustGet(id);
    return this.lock.run(first.id, async () => {
      const rec = await this.mustGet(first.id);
      this.#notStripPeriod(rec);
      this.#expect(rec, 'accept', ['offered']);
      await this.#checkDeadline(rec);
      const m = await this.data.messages(rec);
      const bytes = fromHex(body.accept);
      const accept = decodeAcceptDlc(bytes);
      checkInputLimits(this.config.limits, 'accept', accept.fundingInputs);
      // 1-3.
      const setup = await this.#checkAccept(rec, m, accept);
      // 4. The accepter's coins exist now.
      await this.checkInputsUnspent('accept', accept.fundingInputs);
      const acceptOutpoints = outpointsOf(accept.fundingInputs);
      const psbt = buildFundingPsbt(setup.funding).toBase64();
      const acceptedHeight = await this.chain.getBlockCount();
      return this.lock.run(OUTPOINTS_LOCK, async () => {
        // 5. Each coin backs one pending offer or accept (issue 9, hole 8).
        await this.checkOutpointsFree('accept', acceptOutpoints);
        const next = acceptOffer(rec, {
          accepter: { identityPubkey: body.identityPubkey, fundingPubkey: toHex(accept.fundingPubkey), payoutSpk: toHex(accept.payoutSpk) },
          contractId: toHex(setup.contractId),
          fundingTxid: setup.funding.txidHex,
          fundOutputIndex: setup.funding.fundOutputIndex,
          fundOutputValue: String(setup.funding.fundOutputValue),
          fundingPsbt: psbt,
          acceptOutpoints,
          acceptedHeight,
        }, this.now());
        await this.store.commit(rec, next, { accept: bytes });
        this.data.put(next, { ...m, accept });
        this.log('info', 'offer accepted', { id: rec.id, contractId: next.contractId });
        return next;
      });
    });
  }

  /**
   * `POST /v1/contracts/:id/sign` (the offerer): verifies the sign_dlc, then accepted → signed.
   * @throws {CoordinatorError} NOT_FOUND, INVALID_STATE, FORBIDDEN; {DlcError} BAD_SIGNATURE naming the bad signature.
   */
  async sign(id: string, signer: string, body: Body<'sign'>): Promise<ContractRecord> {
    const first = await this.mustGet(id);
    return this.lock.run(first.id, async () => {
      const rec = await this.mustGet(first.id);
      this.#mustBe(rec, signer, 'offerer', 'sign');
      this.#notStripPeriod(rec);
      this.#expect(rec, 'sign', ['accepted']);
      if (rec.state !== 'accepted') throw new TypeError('unreachable');
      await this.#checkDeadline(rec);
      const m = await this.data.messages(rec);
      const bytes = fromHex(body.sign);
      const sign = decodeSignDlc(bytes);
      // 1-2. Protocol.md sign_dlc rules, every offerer CET adaptor signature and the refund signature; the funding witnesses.
      const setup = await this.#checkSign(rec, m, sign);
      verifyFundingSignatures(setup.funding, 'offer', sign.fundingSignatures);
      // 3. A PSBT sent along must be this funding transaction; sign_dlc's witnesses are what we use.
      if (body.fundingPsbt !== undefined) parseFundingPsbt(body.fundingPsbt, setup.funding);
      const psbt = addFundingSignaturesToPsbt(Psbt.fromBase64(rec.fundingPsbt), setup.funding, 'offer', sign.fundingSignatures);
      const next = signContract(rec, psbt.toBase64(), this.now());
      await this.store.commit(rec, next, { sign: bytes });
      this.data.put(next, { ...m, sign });
      this.log('info', 'contract signed', { id: rec.id });
      return next;
    });
  }

  /**
   * `POST /v1/contracts/:id/fund` (the accepter): combines, finalises, test-accepts,
   * then signed → funding-broadcast and broadcasts.
   * @throws {CoordinatorError} NOT_FOUND, INVALID_STATE, FORBIDDEN, FUNDING_REJECTED; {DlcError} for a bad PSBT or witness.
   */
  async fund(id: string, signer: string, body: Body<'fund'>): Promise<ContractRecord> {
    const first = await this.mustGet(id);
    const next = await this.lock.run(first.id, async () => {
      const rec = await this.mustGet(first.id);
      this.#mustBe(rec, signer, 'accepter', 'fund');
      this.#notStripPeriod(rec);
      this.#expect(rec, 'fund', ['signed']);
      if (rec.state !== 'signed') throw new TypeError('unreachable');
      // The accepter's free option (issue 9, hole 2): no funding from the deadline on.
      await this.#checkDeadline(rec);
      // 1-3.
      const { combined, tx } = await this.#fundedTransaction(rec, body.fundingPsbt);
      // Checked again after the node round trip: a block may have arrived meanwhile.
      await this.#checkDeadline(rec);
      const after = fundContract(rec, combined.toBase64(), tx.toHex(), this.now());
      await this.store.commit(rec, after);
      return after;
    });
    await this.broadcast(next.id, 'funding', (next as { fundingTx: string }).fundingTx);
    return next;
  }

  /**
   * What accept checks of one contract's accept_dlc (a strip's: per period), ONE copy:
   * 1. Protocol.md accept_dlc receiver rules (collateral, keys, serial ids, inputs);
   * 2. the set-up both parties derive (funding with the template's extra outputs or the strip's batch, CETs, adaptor points);
   * 3. "MUST verify every CET adaptor signature and the refund signature" (Protocol.md accept_dlc).
   * @throws {DlcError} as validateAccept, BAD_SIGNATURE naming the signature.
   */
  async #checkAccept(rec: ContractRecord, m: ContractMessages, accept: AcceptDlc): Promise<ContractSetup> {
    validateAccept(m.offer, accept, { ...this.#validation(), expectedCetCount: rec.adaptorSignatures });
    const setup = this.data.setup(rec.id, m.offer, accept, m.fundingOptions);
    await verifyContractCets(this.engine, setup, 'accept', accept.cetAdaptorSignatures);
    verifyRefundSignature(setup, 'accept', accept.refundSignature);
    return setup;
  }

  /**
   * What sign checks of one contract's sign_dlc (a strip's: per period), ONE copy, the funding
   * witnesses aside: Protocol.md sign_dlc recipient rules with the contract id we computed,
   * every offerer CET adaptor signature and the refund signature.
   * @throws {DlcError} as validateSign, BAD_SIGNATURE naming the signature.
   */
  async #checkSign(rec: ContractRecord, m: ContractMessages, sign: SignDlc): Promise<ContractSetup> {
    const setup = this.data.setup(rec.id, m.offer, m.accept!, m.fundingOptions);
    validateSign(m.offer, m.accept!, sign, { expectedContractId: setup.contractId });
    await verifyContractCets(this.engine, setup, 'offer', sign.cetAdaptorSignatures);
    verifyRefundSignature(setup, 'offer', sign.refundSignature);
    return setup;
  }

  /**
   * The funding transaction of a signed contract (a strip's shared one) from the accepter's PSBT:
   * 1. the PSBT is our funding transaction; 2. the accepter's witnesses verify; 3. the node
   * would accept it (scripts of input types we cannot check, fees, inputs unspent).
   * @throws {CoordinatorError} FUNDING_REJECTED `testmempoolaccept`; {DlcError} for a bad PSBT or witness.
   */
  async #fundedTransaction(rec: Extract<ContractRecord, { state: 'signed' }>, fundingPsbt: string): Promise<{ combined: Psbt; tx: Transaction }> {
    const m = await this.data.messages(rec);
    const { funding } = fundingOf({ offer: m.offer, accept: m.accept!, fundingOptions: m.fundingOptions });
    const theirs = parseFundingPsbt(fundingPsbt, funding);
    const sigs = extractFundingSignatures(theirs, funding, 'accept');
    verifyFundingSignatures(funding, 'accept', sigs);
    const combined = addFundingSignaturesToPsbt(Psbt.fromBase64(rec.fundingPsbt), funding, 'accept', sigs);
    const tx = finalizeFundingPsbt(combined, funding);
    const [verdict] = await this.chain.testMempoolAccept([tx.toHex()]);
    if (verdict === undefined || verdict.allowed !== true) {
      const why = verdict?.rejectReason ?? 'no verdict';
      throw new CoordinatorError('FUNDING_REJECTED', `the node refuses the funding transaction: ${why}`, { reason: 'testmempoolaccept', details: { rejectReason: why } });
    }
    return { combined, tx };
  }

  /** Sends a transaction; failures are logged (the watcher re-drives from the stored state). */
  async broadcast(id: string, what: string, hex: string): Promise<boolean> {
    try {
      const txid = await this.chain.sendRawTransaction(hex);
      this.log('info', `${what} transaction broadcast`, { id, txid });
      return true;
    } catch (err) {
      if (isChainError(err) && err.code === 'CHAIN_ALREADY_IN_CHAIN') return true;
      this.log('warn', `${what} broadcast failed`, { id, error: err instanceof Error ? err.message : String(err) });
      return false;
    }
  }

  /**
   * `POST /v1/contracts/:id/close` (either party): proposes a split and/or adds
   * this party's signature; with both signatures, test-accepts and broadcasts.
   * @returns the record and the close PSBT of the (new or pending) proposal.
   * @throws {CoordinatorError} NOT_FOUND, INVALID_STATE, FORBIDDEN, INVALID_REQUEST, FUNDING_REJECTED; {DlcError} BAD_SIGNATURE.
   */
  async close(id: string, signer: string, body: Body<'close'>): Promise<{ record: ContractRecord; closePsbt: string }> {
    const first = await this.mustGet(id);
    let toBroadcast: string | null = null;
    const out = await this.lock.run(first.id, async () => {
      const rec = await this.mustGet(first.id);
      const role = roleOf(rec, signer);
      if (role === null) throw new CoordinatorError('FORBIDDEN', 'only a party to the contract may close it', { reason: 'not-a-party' });
      this.#expect(rec, 'close', ['funding-broadcast', 'confirmed']);
      if (rec.state !== 'funding-broadcast' && rec.state !== 'confirmed') throw new TypeError('unreachable');
      const m = await this.data.messages(rec);
      const { funding, closing } = fundingOf({ offer: m.offer, accept: m.accept!, fundingOptions: m.fundingOptions });
      const payout = { offer: BigInt(body.offerPayout), accept: BigInt(body.acceptPayout) };
      // The split may not eat into the closing fee reserved in the funding output (Transactions.md "Fee Payment").
      if (payout.offer + payout.accept > BigInt(rec.totalCollateral)) {
        throw new CoordinatorError('INVALID_REQUEST', `payouts ${payout.offer + payout.accept} exceed the total collateral ${rec.totalCollateral}`, { reason: 'close-payout-exceeds-collateral' });
      }
      const { tx, sighash } = unsignedClose(closing, payout);
      const now = this.now();
      const lifetimeMs = this.config.closeProposalLifetimeSec * 1000;
      // An expired proposal's signatures are never combined: a party that signed a split an
      // hour ago may no longer want it (the price moved); a late signature starts a new proposal.
      const live = rec.closeProposal !== null && now <= (rec.closeProposal.expiresAt ?? rec.closeProposal.proposedAt + lifetimeMs);
      const same = live && rec.closeProposal!.offerPayout === body.offerPayout && rec.closeProposal!.acceptPayout === body.acceptPayout;
      let proposal: CloseProposal = same ? rec.closeProposal! : {
        offerPayout: body.offerPayout,
        acceptPayout: body.acceptPayout,
        psbt: closePsbt(closing, funding, rec.fundingTx, tx).toBase64(),
        offerSignature: null,
        acceptSignature: null,
        proposedAt: now,
        expiresAt: now + lifetimeMs,
      };
      const party = role === 'offerer' ? 'offer' : 'accept';
      let sig: Uint8Array | undefined;
      if (body.signature !== undefined) sig = fromHex(body.signature);
      else if (body.closePsbt !== undefined) {
        sig = closeSignatureFromPsbt(body.closePsbt, tx, party === 'offer' ? m.offer.fundingPubkey : m.accept!.fundingPubkey);
      }
      if (sig !== undefined) {
        checkCloseSignature(closing, party, sighash, sig);
        proposal = { ...proposal, [party === 'offer' ? 'offerSignature' : 'acceptSignature']: toHex(sig) };
      }
      if (proposal.offerSignature !== null && proposal.acceptSignature !== null) {
        const signed = signedCloseTransaction(closing, tx, fromHex(proposal.offerSignature), fromHex(proposal.acceptSignature));
        const [verdict] = await this.chain.testMempoolAccept([signed.toHex()]);
        if (verdict === undefined || verdict.allowed !== true) {
          const why = verdict?.rejectReason ?? 'no verdict';
          throw new CoordinatorError('FUNDING_REJECTED', `the node refuses the close transaction: ${why}`, { reason: 'testmempoolaccept', details: { rejectReason: why } });
        }
        const next = closingBroadcast(rec, {
          closingKind: 'close', closingTx: signed.toHex(), closingTxid: signed.getId(), payouts: { offer: body.offerPayout, accept: body.acceptPayout },
          outcome: null, cetIndex: null, attestation: null, broadcastBy: 'coordinator',
        }, this.now());
        await this.store.commit(rec, { ...next, closeProposal: proposal } as ContractRecord);
        toBroadcast = signed.toHex();
        return { record: { ...next, closeProposal: proposal } as ContractRecord, closePsbt: proposal.psbt };
      }
      const next = setCloseProposal(rec, proposal, this.now());
      await this.store.commit(rec, next);
      return { record: next as ContractRecord, closePsbt: proposal.psbt };
    });
    if (toBroadcast !== null) await this.broadcast(out.record.id, 'close', toBroadcast);
    return out;
  }

  /**
   * `POST /v1/contracts/:id/cancel`.
   * @throws {CoordinatorError} NOT_FOUND, INVALID_STATE, FORBIDDEN.
   */
  async cancel(id: string, signer: string): Promise<ContractRecord> {
    const first = await this.mustGet(id);
    return this.lock.run(first.id, async () => {
      const rec = await this.mustGet(first.id);
      const role = roleOf(rec, signer);
      if (role === null) throw new CoordinatorError('FORBIDDEN', 'only a party to the contract may cancel it', { reason: 'not-a-party' });
      this.#notStripPeriod(rec);
      const next = cancelContract(rec, role, this.now());
      await this.store.commit(rec, next);
      return next;
    });
  }

  // ---------------------------------------------------------------- strips (issue 12)

  /**
   * A strip's period records in period order, from any period's id.
   * @throws {CoordinatorError} NOT_FOUND (`unknown-id`, `not-a-strip`).
   */
  async stripRecords(id: string): Promise<ContractRecord[]> {
    const rec = await this.mustGet(id);
    if (rec.strip === undefined) throw new CoordinatorError('NOT_FOUND', `${id} is not a strip's period`, { reason: 'not-a-strip' });
    const ids = await this.store.stripPeriods(rec.strip.id);
    const recs = await Promise.all(ids.map((p) => this.mustGet(p)));
    if (recs.length !== rec.strip.batch.contracts.length) throw new Error(`strip ${rec.strip.id}: ${recs.length} period records stored, ${rec.strip.batch.contracts.length} expected`);
    return recs;
  }

  /**
   * `POST /v1/strips`: N period offers over the strip's terms (one round for the
   * whole strip). Per period, every check of `createOffer`; across periods, the
   * batch rules (one funding transaction) and the strip-wide checks once: inputs
   * unspent and free, the delivery address free over the WHOLE strip window.
   * All N records or none are stored. Errors name the period (`details.period`).
   * @returns the period records in period order.
   * @throws {CoordinatorError} as createOffer, INVALID_REQUEST `not-a-strip` | `too-many-periods` |
   *   `too-many-cets` | `strip-too-large`; {DlcError} for bad messages, naming the period.
   */
  async createStrip(signer: string, body: Body<'stripOffer'>): Promise<ContractRecord[]> {
    if (signer !== body.identityPubkey) {
      throw new CoordinatorError('FORBIDDEN', 'the request must be signed by the identityPubkey it names', { reason: 'identity-mismatch' });
    }
    const limits = this.config.limits;
    const terms = body.terms;
    const n = stripPeriodCount(terms);
    if (n < 2) throw new CoordinatorError('INVALID_REQUEST', 'the terms are not a strip\'s (no `periods`): post a single offer to /v1/offers', { reason: 'not-a-strip' });
    if (n > limits.maxStripPeriods) {
      throw new CoordinatorError('INVALID_REQUEST', `${n} periods exceed this coordinator's ${limits.maxStripPeriods}`, { reason: 'too-many-periods' });
    }
    const bytes = body.offers.map((h) => fromHex(h));
    const offers = bytes.map((b, i) => inPeriod(i, () => decodeOfferDlc(b)));
    // 1. Per period: Protocol.md offer_dlc receiver rules, the oracle set, the input limits.
    offers.forEach((offer, i) => periodSync(i, () => {
      validateOffer(offer, this.#validation());
      this.#checkOracleSet(offer);
      checkInputLimits(limits, 'offer', offer.fundingInputs);
    }));
    // 2. One funding transaction for all (same inputs, keys, change; distinct ids and fund outputs),
    //    and each period's contract the one its period's terms describe.
    checkBatchOffers(offers);
    const { templates, contracts } = checkStripOffersAgainstTerms(offers, terms);
    // The strip's size: its accept and sign are one request each (limits.ts).
    const totalSigs = templates.reduce((a, t) => a + t.cetCount.adaptorSignatures, 0);
    if (totalSigs > limits.maxStripAdaptorSignatures) {
      throw new CoordinatorError('INVALID_REQUEST', `the strip's ${totalSigs} adaptor signatures exceed this coordinator's ${limits.maxStripAdaptorSignatures} per strip`, { reason: 'too-many-cets' });
    }
    const offerInputs = offers[0]!.fundingInputs.map((i) => i.prevTx.length);
    // The accepter is allowed inputs as large as the offerer's: its strip accept must fit too.
    const needed = stripRequestBytes({ periods: n, adaptorSignatures: totalSigs, offerInputs, acceptInputs: offerInputs });
    if (needed > limits.maxBodyBytes) {
      throw new CoordinatorError('INVALID_REQUEST', `this strip's accept or sign needs about ${needed} bytes, above this coordinator's body limit ${limits.maxBodyBytes}`, { reason: 'strip-too-large' });
    }
    // 3-5. Per period: size, refund after its window, announcements, allowed oracles stating ITS event, timing.
    const periodTerms = periodTermsOf(terms);
    const checked: { summary: TermsSummary; oracles: OracleRef[] }[] = [];
    for (const [i, offer] of offers.entries()) {
      checked.push(await periodAsync(i, () => this.#checkOfferContract(offer, periodTerms[i]!, templates[i]!)));
    }
    // 6. The offerer's coins exist now (once: every period names the same inputs).
    await this.checkInputsUnspent('offer', offers[0]!.fundingInputs);
    const offerOutpoints = outpointsOf(offers[0]!.fundingInputs);
    const ids = offers.map((o) => toHex(o.temporaryContractId));
    const stripId = ids[0]!;
    return this.lock.run(stripId, () => this.lock.run(OUTPOINTS_LOCK, async () => {
      // 7. Each coin backs one pending deal: period 1's record holds the outpoints for the strip.
      await this.checkOutpointsFree('offer', offerOutpoints);
      // 8. One delivery address, one live window, over the whole strip's window.
      if (terms.template === 'hashpower-sale') await this.#checkDeliveryFree(terms.deliveryAddress, terms.window);
      const now = this.now();
      const recs = offers.map((offer, i) => offerRecord({
        offer,
        identityPubkey: body.identityPubkey,
        terms: periodTerms[i]!,
        template: templates[i]!,
        checked: checked[i]!,
        ...(i === 0 ? { offerOutpoints } : {}),
        strip: { id: stripId, terms, batch: batchToJson(contracts, i) },
      }, now));
      await this.store.createMany(recs.map((rec, i) => ({ rec, offer: bytes[i]! })));
      this.log('info', 'strip offered', { id: stripId, periods: n, template: terms.template });
      return recs;
    }));
  }

  /** Refuses a single-contract step on a strip's period (its steps are the strip's). */
  #notStripPeriod(rec: ContractRecord): void {
    if (rec.strip !== undefined) {
      throw new CoordinatorError('INVALID_STATE', `contract ${rec.id} is period ${rec.strip.batch.index + 1} of strip ${rec.strip.id}: use /v1/strips/${rec.strip.id}/...`, {
        reason: 'strip-period', details: { strip: rec.strip.id, period: rec.strip.batch.index + 1 },
      });
    }
  }

  /** `#expect` on every period, naming the period. */
  #expectAll(recs: readonly ContractRecord[], action: string, states: readonly ContractState[]): void {
    recs.forEach((rec, i) => periodSync(i, () => this.#expect(rec, action, states)));
  }

  /**
   * `POST /v1/strips/:id/accept`: per period everything accept does (validateAccept,
   * the set-up with the batch, EVERY CET adaptor signature and the refund signature),
   * the batch rules, every period deriving the same funding transaction; then all
   * N offered → accepted in one batch. Nothing is stored when any period fails.
   * @throws {CoordinatorError} NOT_FOUND, INVALID_STATE, FORBIDDEN, FUNDING_REJECTED, CONFLICT;
   *   {DlcError} BAD_SIGNATURE naming the period and the signature.
   */
  async acceptStrip(id: string, signer: string, body: Body<'stripAccept'>): Promise<ContractRecord[]> {
    if (signer !== body.identityPubkey) {
      throw new CoordinatorError('FORBIDDEN', 'the request must be signed by the identityPubkey it names', { reason: 'identity-mismatch' });
    }
    const first = await this.stripRecords(id);
    return this.lock.run(first[0]!.strip!.id, async () => {
      const recs = await this.stripRecords(first[0]!.id);
      this.#expectAll(recs, 'accept', ['offered']);
      await this.#checkDeadline(recs[0]!);
      const ms = await Promise.all(recs.map((r) => this.data.messages(r)));
      const offers = ms.map((m) => m.offer);
      const bytes = body.accepts.map((h) => fromHex(h));
      const accepts = bytes.map((b, i) => inPeriod(i, () => decodeAcceptDlc(b)));
      // 1. One accept per offer, describing the one funding transaction (same inputs, keys, change).
      checkBatchAccepts(offers, accepts);
      checkInputLimits(this.config.limits, 'accept', accepts[0]!.fundingInputs);
      // 2-3. Per period: Protocol.md accept_dlc rules, the set-up with the batch, every CET adaptor signature and the refund signature.
      const setups: ContractSetup[] = [];
      for (const [i, rec] of recs.entries()) {
        setups.push(await periodAsync(i, () => this.#checkAccept(rec, ms[i]!, accepts[i]!)));
      }
      // Every period derived the same funding transaction (its own output in it).
      const txid = setups[0]!.funding.txidHex;
      const other = setups.findIndex((s) => s.funding.txidHex !== txid);
      if (other >= 0) {
        throw new CoordinatorError('INVALID_REQUEST', `period ${other + 1}: its messages make funding transaction ${setups[other]!.funding.txidHex}, period 1's ${txid}`, {
          reason: 'batch-funding-txid', details: { period: other + 1 },
        });
      }
      // 4. The accepter's coins exist now.
      await this.checkInputsUnspent('accept', accepts[0]!.fundingInputs);
      const acceptOutpoints = outpointsOf(accepts[0]!.fundingInputs);
      const psbt = buildFundingPsbt(setups[0]!.funding).toBase64();
      const acceptedHeight = await this.chain.getBlockCount();
      return this.lock.run(OUTPOINTS_LOCK, async () => {
        // 5. Each coin backs one pending deal (period 1's record holds them).
        await this.checkOutpointsFree('accept', acceptOutpoints);
        const now = this.now();
        const accepter = { identityPubkey: body.identityPubkey, fundingPubkey: toHex(accepts[0]!.fundingPubkey), payoutSpk: toHex(accepts[0]!.payoutSpk) };
        const nexts = recs.map((rec, i) => acceptOffer(rec, {
          accepter,
          contractId: toHex(setups[i]!.contractId),
          fundingTxid: txid,
          fundOutputIndex: setups[i]!.funding.fundOutputIndex,
          fundOutputValue: String(setups[i]!.funding.fundOutputValue),
          fundingPsbt: psbt,
          ...(i === 0 ? { acceptOutpoints } : {}),
          acceptedHeight,
        }, now));
        await this.store.commitMany(recs.map((prev, i) => ({ prev, next: nexts[i]!, messages: { accept: bytes[i]! } })));
        nexts.forEach((next, i) => this.data.put(next, { ...ms[i]!, accept: accepts[i]! }));
        this.log('info', 'strip accepted', { id: recs[0]!.id, periods: recs.length, fundingTxid: txid });
        return nexts;
      });
    });
  }

  /**
   * `POST /v1/strips/:id/sign` (the offerer): per period validateSign, every CET
   * adaptor signature and the refund signature; the batch rule (one set of funding
   * witnesses), verified once; all N accepted → signed in one batch.
   * @throws {CoordinatorError} NOT_FOUND, INVALID_STATE, FORBIDDEN; {DlcError} BAD_SIGNATURE naming the period.
   */
  async signStrip(id: string, signer: string, body: Body<'stripSign'>): Promise<ContractRecord[]> {
    const first = await this.stripRecords(id);
    return this.lock.run(first[0]!.strip!.id, async () => {
      const recs = await this.stripRecords(first[0]!.id);
      this.#mustBe(recs[0]!, signer, 'offerer', 'sign');
      this.#expectAll(recs, 'sign', ['accepted']);
      await this.#checkDeadline(recs[0]!);
      const ms = await Promise.all(recs.map((r) => this.data.messages(r)));
      const bytes = body.signs.map((h) => fromHex(h));
      const signs = bytes.map((b, i) => inPeriod(i, () => decodeSignDlc(b)));
      // 1. One sign per period, all with the same funding witnesses.
      checkBatchSigns(signs, recs.length);
      // 2. Per period: Protocol.md sign_dlc rules with the contract id we computed, every CET adaptor signature, the refund signature.
      const setups: ContractSetup[] = [];
      for (const [i, rec] of recs.entries()) {
        setups.push(await periodAsync(i, () => this.#checkSign(rec, ms[i]!, signs[i]!)));
      }
      // 3. The funding witnesses (the same in every period): once, on the one funding transaction.
      const funding = setups[0]!.funding;
      verifyFundingSignatures(funding, 'offer', signs[0]!.fundingSignatures);
      if (body.fundingPsbt !== undefined) parseFundingPsbt(body.fundingPsbt, funding);
      const psbt = addFundingSignaturesToPsbt(Psbt.fromBase64((recs[0] as Extract<ContractRecord, { state: 'accepted' }>).fundingPsbt), funding, 'offer', signs[0]!.fundingSignatures).toBase64();
      const now = this.now();
      const nexts = recs.map((rec) => signContract(rec, psbt, now));
      await this.store.commitMany(recs.map((prev, i) => ({ prev, next: nexts[i]!, messages: { sign: bytes[i]! } })));
      nexts.forEach((next, i) => this.data.put(next, { ...ms[i]!, sign: signs[i]! }));
      this.log('info', 'strip signed', { id: recs[0]!.id, periods: recs.length });
      return nexts;
    });
  }

  /**
   * `POST /v1/strips/:id/fund` (the accepter): ONE PSBT, the shared funding
   * transaction: checked, finalized, test-accepted; all N signed →
   * funding-broadcast in one batch, then broadcast once.
   * @throws {CoordinatorError} NOT_FOUND, INVALID_STATE, FORBIDDEN, FUNDING_REJECTED, EXPIRED; {DlcError} for a bad PSBT or witness.
   */
  async fundStrip(id: string, signer: string, body: Body<'fund'>): Promise<ContractRecord[]> {
    const first = await this.stripRecords(id);
    const nexts = await this.lock.run(first[0]!.strip!.id, async () => {
      const recs = await this.stripRecords(first[0]!.id);
      this.#mustBe(recs[0]!, signer, 'accepter', 'fund');
      this.#expectAll(recs, 'fund', ['signed']);
      await this.#checkDeadline(recs[0]!);
      // The shared funding transaction, as a single contract's (period 1's messages make it, as every period's).
      const { combined, tx } = await this.#fundedTransaction(recs[0] as Extract<ContractRecord, { state: 'signed' }>, body.fundingPsbt);
      await this.#checkDeadline(recs[0]!);
      const now = this.now();
      const after = recs.map((rec) => fundContract(rec, combined.toBase64(), tx.toHex(), now));
      await this.store.commitMany(recs.map((prev, i) => ({ prev, next: after[i]! })));
      return after;
    });
    await this.broadcast(nexts[0]!.id, 'strip funding', (nexts[0] as { fundingTx: string }).fundingTx);
    return nexts;
  }

  /**
   * `POST /v1/strips/:id/cancel`: every period, while unfunded, in one batch.
   * @throws {CoordinatorError} NOT_FOUND, INVALID_STATE, FORBIDDEN.
   */
  async cancelStrip(id: string, signer: string): Promise<ContractRecord[]> {
    const first = await this.stripRecords(id);
    return this.lock.run(first[0]!.strip!.id, async () => {
      const recs = await this.stripRecords(first[0]!.id);
      const role = roleOf(recs[0]!, signer);
      if (role === null) throw new CoordinatorError('FORBIDDEN', 'only a party to the strip may cancel it', { reason: 'not-a-party' });
      const now = this.now();
      const nexts = recs.map((rec, i) => periodSync(i, () => cancelContract(rec, role, now)));
      await this.store.commitMany(recs.map((prev, i) => ({ prev, next: nexts[i]! })));
      this.log('info', 'strip cancelled', { id: recs[0]!.id, by: role });
      return nexts;
    });
  }

  /** Every period's wire messages, hex, in period order (accepts/signs null until every period has one). */
  async stripMessagesHex(recs: readonly ContractRecord[]): Promise<{ offers: string[]; accepts: string[] | null; signs: string[] | null }> {
    const all = await Promise.all(recs.map((r) => this.store.messages(r.id)));
    const hexes = (k: 'accept' | 'sign'): string[] | null => (all.every((m) => m[k] !== undefined) ? all.map((m) => toHex(m[k]!)) : null);
    return { offers: all.map((m) => toHex(m.offer!)), accepts: hexes('accept'), signs: hexes('sign') };
  }

  /** Messages of a record, decoded (for the watcher). */
  messagesOf(rec: ContractRecord): Promise<ContractMessages> {
    return this.data.messages(rec);
  }
}

// ------------------------------------------------------------------ read-only queries (the dashboard's port)

/** A record as the unauthenticated API serves it (privacy.ts): what every query answers. */
function publicView(rec: ContractRecord): PublicContract {
  // contractView(publicRecord(...)) is the JSON of `GET /v1/contracts/:id` without a signature; PublicContract types it.
  return contractView(publicRecord(rec)) as unknown as PublicContract;
}

/**
 * The service as `CoordinatorQueries` (src/api/coordinator.ts): read-only, public views only.
 * Whoever composes the HTTP app hands this to the dashboard, so the dashboard needs no service internals.
 */
export function coordinatorQueries(svc: CoordinatorService): CoordinatorQueries {
  return {
    network: svc.config.network,
    oracleUrls: svc.config.oracles,
    tipHeight: () => svc.chain.getBlockCount(),
    async contractsByState(state, page) {
      const p = await svc.store.listByState(state, { limit: page.limit, after: page.after });
      return { contracts: p.records.map(publicView), next: p.next };
    },
    async contract(id) {
      const rec = await svc.store.get(id.toLowerCase());
      return rec === undefined ? null : publicView(rec);
    },
    async strip(id) {
      const rec = await svc.store.get(id.toLowerCase());
      if (rec?.strip === undefined) return null;
      const recs = await svc.stripRecords(rec.id);
      return { id: rec.strip.id, periods: recs.length, terms: rec.strip.terms as unknown as Record<string, unknown>, contracts: recs.map(publicView) };
    },
    async offerMessage(id) {
      // The offer_dlc stays public in every state (privacy.ts: the book showed it).
      return (await svc.store.messages(id.toLowerCase())).offer ?? null;
    },
    async positions(q) {
      return svc.positions.list(q);
    },
    ownerChain: (id) => svc.positions.ownerChain(id),
    log: (level, msg, fields) => svc.log(level, msg, fields),
  };
}
