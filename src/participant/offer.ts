/**
 * The offerer's first step and the offer book, as library use cases:
 *
 * - `makeOffer`: terms -> the oracle event at EACH configured oracle (a
 *   hashpower sale creates its `hashpower-delivery` event; hashprice and
 *   custom contracts name an existing one, or a hashprice one is found by
 *   window; every oracle's must be the same event) -> each announcement
 *   verified against its oracle's key -> the oracle info (`single` for one
 *   oracle, `multi` K of n otherwise: oracle-set.ts) -> the contract from protocol/templates -> coins, keys,
 *   locktimes -> offer_dlc (protocol/contract `buildOffer`) -> stored
 *   locally, then `POST /v1/offers` signed with the contract's identity key.
 * - `listOffers`, `showOffer`: the coordinator's open offers.
 *
 * This module does NOT accept offers (negotiate.ts), read files or print:
 * a custom curve comes in as its JSON text.
 */
import { randomBytes } from 'node:crypto';
import { REFUND_MAX_GRACE_BLOCKS, buildOffer, defaultFundingDeadline, defaultLocktimes } from '../../protocol/contract/index.js';
import { encodeOfferDlc, fromHex, toHex } from '../../protocol/messages/index.js';
import type { TemplateResult } from '../../protocol/templates/index.js';
import type { ExtraFundingOutput } from '../../protocol/tx/index.js';
import type { OfferTerms } from '../../protocol/terms/index.js';
import { randomU64, type ContractRecord } from '../wallet/index.js';
import type { OfferView, OracleEventJson, OracleClient } from '../api/index.js';
import { addressScript, checkEventMatchesTerms, checkOfferTiming, chooseFunding, feeRate, freshSerialIds, nowIso, parseTerms, saveState, templateOf } from './contract.js';
import { ParticipantError, usage } from './errors.js';
import type { Participant } from './participant.js';
import { offerOracleEvents, oracleInfoOf, oracleSetLines, type SetOracle } from './oracle-set.js';

/** A block window [start, end). */
export interface BlockWindow {
  start: number;
  end: number;
}

/** What every offer takes besides its template's terms. */
export interface OfferCommon {
  /** The oracle event to settle on; else found or created from `window`. */
  eventId?: string;
  window?: BlockWindow;
  /** The offerer's collateral. */
  collateral: bigint;
  roundingMod?: bigint;
  cetLocktime?: number;
  refundLocktime?: number;
  fundingDeadline?: number;
  /** Funding fee rate; default: the participant's configured one, else the node's estimate (2 on regtest). */
  feeRatePerVb?: bigint;
  /** Check and describe the contract, post nothing, store nothing. */
  dryRun?: boolean;
  /** External wallet: fund from these outpoints (`txid:vout`) instead of the wallet's coins. */
  utxos?: string[];
  payoutAddress?: string;
  changeAddress?: string;
}

export type OfferInput = OfferCommon &
  (
    | {
        template: 'hashpower';
        hashrateThs: bigint;
        deliveryAddress: string;
        escrow: bigint;
        upfront?: bigint;
        toleranceBps?: number;
        poolPayoutAddresses?: string[];
        /** Digits of a new delivery event (default: the oracle's). */
        nbDigits?: number;
      }
    | { template: 'hashprice-forward'; hashrateThs: bigint; strikeSatsPerPhDay: bigint; buyerCollateral: bigint }
    | { template: 'hashprice-call'; hashrateThs: bigint; strikeSatsPerPhDay: bigint; premium?: bigint }
    | { template: 'custom'; curve: string; acceptCollateral: bigint; unit?: string }
  );

export type OfferTemplateName = OfferInput['template'];

/** What an offer is, posted or not. */
export interface OfferDetails {
  eventId: string;
  terms: OfferTerms;
  /** CETs and adaptor signatures the contract takes. */
  cets: TemplateResult['cetCount'];
  cetLocktime: number;
  refundLocktime: number;
  fundingDeadline: number;
  feeRatePerVb: bigint;
  /** K of the oracle set (1 for a single oracle). */
  threshold: number;
  /** The oracle set, in the order of the offer's announcements. */
  oracles: SetOracle[];
  /** Human lines describing the contract, its event and oracle set, locktimes and key payouts (offerer's view). */
  summary: string[];
}

export type OfferResult = (OfferDetails & { dryRun: true }) | (OfferDetails & { dryRun: false; id: string; state: 'offered' });

/**
 * The event the offer settles on at one oracle of the set: given by id,
 * created (hashpower sale: every oracle gets the same request body, so the
 * same parameters and event id), or found by window (hashprice).
 */
async function offerEvent(p: Participant, oracle: OracleClient, input: OfferInput): Promise<OracleEventJson> {
  if (input.eventId !== undefined) return oracle.event(input.eventId);
  const window = input.window;
  if (input.template === 'hashpower') {
    if (window === undefined) throw usage("'hashdlc offer hashpower' needs --window START-END or --event ID");
    const body: Record<string, unknown> = {
      kind: 'hashpower-delivery',
      window,
      deliveryAddress: input.deliveryAddress,
      poolPayoutAddresses: input.poolPayoutAddresses ?? [],
      hashrateThs: input.hashrateThs.toString(),
    };
    if (input.nbDigits !== undefined) body.nbDigits = input.nbDigits;
    p.note(`requesting the oracle's hashpower-delivery event for blocks [${window.start}, ${window.end}) at ${oracle.http.base}`);
    return oracle.createEvent(body);
  }
  if ((input.template === 'hashprice-forward' || input.template === 'hashprice-call') && window !== undefined) {
    const events = await oracle.events({ kind: 'hashprice', limit: '1000' });
    const hit = events.find((e) => e.params.window?.start === window.start && e.params.window.end === window.end && e.params.descriptor.type === 'numeric');
    if (hit === undefined) throw new ParticipantError('NOT_READY', `the oracle at ${oracle.http.base} has no hashprice event for blocks [${window.start}, ${window.end}); pass --event ID`);
    return hit;
  }
  throw usage(`'hashdlc offer ${input.template}' needs --event ID${input.template === 'custom' ? '' : ' or --window START-END'}`);
}

/**
 * The terms JSON (the coordinator's form) of an offer; new receive addresses
 * for an upfront payment or a premium come from `receiveScript`.
 */
function termsJsonOf(input: OfferInput, window: BlockWindow | null | undefined, fundingDeadline: number, receiveScript: () => Uint8Array): Record<string, unknown> {
  const opt = (name: string, value: string | undefined): Record<string, string> => (value === undefined ? {} : { [name]: value });
  const rounding = opt('roundingMod', input.roundingMod?.toString());
  switch (input.template) {
    case 'hashpower': {
      const upfront = input.upfront ?? 0n;
      return {
        template: 'hashpower-sale',
        hashrateThs: input.hashrateThs.toString(),
        window: window ?? input.window,
        deliveryAddress: input.deliveryAddress,
        upfront: upfront.toString(),
        escrow: input.escrow.toString(),
        minerCollateral: input.collateral.toString(),
        toleranceBps: input.toleranceBps ?? 9500,
        ...(upfront > 0n ? { upfrontScript: toHex(receiveScript()), upfrontSerialId: randomU64().toString() } : {}),
        ...rounding,
        fundingDeadline,
      };
    }
    case 'hashprice-forward':
      return {
        template: 'hashprice-forward',
        hashrateThs: input.hashrateThs.toString(),
        strikeSatsPerPhDay: input.strikeSatsPerPhDay.toString(),
        window,
        minerCollateral: input.collateral.toString(),
        buyerCollateral: input.buyerCollateral.toString(),
        ...rounding,
        fundingDeadline,
      };
    case 'hashprice-call': {
      const premium = input.premium ?? 0n;
      return {
        template: 'hashprice-call',
        hashrateThs: input.hashrateThs.toString(),
        strikeSatsPerPhDay: input.strikeSatsPerPhDay.toString(),
        window,
        minerCollateral: input.collateral.toString(),
        premium: premium.toString(),
        ...(premium > 0n ? { premiumScript: toHex(receiveScript()), premiumSerialId: randomU64().toString() } : {}),
        ...rounding,
        fundingDeadline,
      };
    }
    case 'custom':
      return {
        template: 'custom-curve',
        curve: input.curve,
        offerCollateral: input.collateral.toString(),
        acceptCollateral: input.acceptCollateral.toString(),
        ...opt('expectUnit', input.unit),
        fundingDeadline,
      };
  }
}

/**
 * A coordinator that refused the offer (any error answer) will never show it:
 * the record is marked failed so its reserved coins are free again. When no
 * answer came (unreachable) the offer may have arrived: the coins stay
 * reserved (`hashdlc cancel` frees them).
 */
function offerRefused(p: Participant, record: ContractRecord, err: unknown): unknown {
  if (err instanceof ParticipantError && err.code === 'REMOTE') {
    saveState(p.wallet(), record, 'failed', {}, `coordinator refused the offer: ${err.remoteCode ?? ''} ${err.message}`.trim());
  }
  return err;
}

/**
 * Makes an offer and posts it to the coordinator (or, `dryRun`, only checks
 * and describes it). The offer is stored (its coins reserved) before it is
 * posted; an offer the coordinator refuses is recorded failed.
 * @throws {ParticipantError} USAGE (missing event/window, refund locktime too
 *   late, `threshold`), MISMATCH (event against terms, `event-differs`,
 *   `oracle-duplicate`, `oracle-pubkey`), EXPIRED (window started, event
 *   attested, deadline passed), NOT_READY (no hashprice event for the window),
 *   REMOTE, UNREACHABLE, CONFIG; {WalletError}; {DlcError}.
 */
export async function makeOffer(p: Participant, input: OfferInput): Promise<OfferResult> {
  const wallet = p.wallet();
  const coordinator = p.coordinator();
  const rpc = await p.rpc();
  // The same event at every oracle of the set (K checked first, before anything is requested).
  const set = await offerOracleEvents(p, (oracle) => offerEvent(p, oracle, input));
  const ev = set.events[0]!;
  const hashProfile = set.hashProfile;
  const window = ev.params.window;
  // The funding deadline: funding must confirm before the window starts (issue 9, hole 2).
  const fundingDeadline = input.fundingDeadline ?? defaultFundingDeadline(window?.start ?? ev.attestHeight, wallet.network.flow);

  const keys = wallet.newContractIdentity();
  const payoutSpk = input.payoutAddress !== undefined ? addressScript(input.payoutAddress, wallet) : wallet.newReceiveAddress().script;
  const changeSpk = input.changeAddress !== undefined ? addressScript(input.changeAddress, wallet) : wallet.newChangeAddress().script;
  const terms = parseTerms(termsJsonOf(input, window, fundingDeadline, () => wallet.newReceiveAddress().script));
  checkEventMatchesTerms(ev, terms);
  // Never a contract on a known outcome, nor one nobody can fund in time (issue 9, holes 2 and 3).
  const tip = await rpc.getBlockCount();
  for (const e of set.events) checkOfferTiming(e, terms, tip);
  const contract = templateOf(terms, oracleInfoOf(set.announcements, set.threshold));

  const locks = defaultLocktimes(window?.end ?? ev.attestHeight, wallet.network.flow);
  const cetLocktime = input.cetLocktime ?? locks.cetLocktime;
  const refundLocktime = input.refundLocktime ?? locks.refundLocktime;
  const refundAtMost = ev.attestHeight + REFUND_MAX_GRACE_BLOCKS[wallet.network.flow];
  if (refundLocktime > refundAtMost) {
    throw usage(`--refund-locktime ${refundLocktime} is after ${refundAtMost} (the attestation height ${ev.attestHeight} + ${REFUND_MAX_GRACE_BLOCKS[wallet.network.flow]}): accepters and coordinators refuse it`);
  }
  const rate = await feeRate(input.feeRatePerVb ?? p.config.feeRatePerVb, rpc, wallet.network.name);
  const details: OfferDetails = {
    eventId: ev.eventId,
    terms,
    threshold: set.threshold,
    oracles: set.oracles,
    cets: contract.cetCount,
    cetLocktime,
    refundLocktime,
    fundingDeadline,
    feeRatePerVb: rate,
    summary: [
      ...contract.summary.lines,
      `oracle event ${ev.eventId} (attests at height ${ev.attestHeight})`,
      ...oracleSetLines(set.threshold, set.oracles),
      `CET locktime ${cetLocktime}, refund locktime ${refundLocktime}, fee rate ${rate} sat/vB`,
      `funding deadline: height ${fundingDeadline} (no accept, sign or fund from then on)`,
      ...contract.summary.keyPayouts.map((k) => `  at ${k.outcome} (${k.label}): you ${k.offerPayout}, buyer ${k.acceptPayout}`),
    ],
  };
  if (input.dryRun === true) return { dryRun: true, ...details };

  const paidExtras = contract.extraOutputs.filter((o: ExtraFundingOutput) => o.payer === 'offer');
  const { inputs, reserved } = await chooseFunding(wallet, rpc, input.utxos ?? [], contract.offerCollateral + paidExtras.reduce((s, o) => s + o.value, 0n), rate, paidExtras.map((o) => o.script.length));
  const freshSerial = freshSerialIds(new Set(contract.extraOutputs.map((o) => o.serialId)));
  const offer = buildOffer({
    contract,
    temporaryContractId: randomBytes(32),
    chainHash: fromHex(wallet.network.chainHashHex),
    // The contract's signer names the funding key (the wallet's derivation today, an external signer's later).
    fundingPubkey: p.contractSigner(keys.index).fundingPubkey,
    fundingInputs: inputs,
    payoutSpk,
    changeSpk,
    payoutSerialId: freshSerial(),
    changeSerialId: freshSerial(),
    fundOutputSerialId: freshSerial(),
    feeRatePerVb: rate,
    cetLocktime,
    refundLocktime,
  });
  const id = toHex(offer.temporaryContractId);
  const offerHex = toHex(encodeOfferDlc(offer));
  const record: ContractRecord = {
    version: 1,
    id,
    role: 'offer',
    network: wallet.network.name,
    keyIndex: keys.index,
    state: 'offered',
    history: [{ state: 'offered', at: nowIso() }],
    coordinator: coordinator.http.base,
    oracle: set.oracles[0]!.url,
    oracles: set.oracles,
    hashProfile,
    terms: terms as Record<string, unknown>,
    offer: offerHex,
    reservedOutpoints: reserved,
  };
  // Stored before it is posted: a crash in between leaves the coins reserved, never offered twice unseen.
  wallet.contracts.save(record);
  await coordinator.postOffer({ offer: offerHex, identityPubkey: toHex(keys.identityPublicKey), terms }, keys.identitySecretKey).catch((err: unknown) => {
    throw offerRefused(p, record, err);
  });
  return { dryRun: false, id, state: 'offered', ...details };
}

/** Filters of the offer book (`GET /v1/offers`); all optional, as the coordinator takes them. */
export interface OfferQuery {
  template?: string;
  windowStart?: string;
  windowEnd?: string;
  minPrice?: string;
  maxPrice?: string;
  limit?: string;
  after?: string;
}

/** One row of the offer book, with the price the way a buyer compares it. */
export interface OfferRow {
  id: string;
  template: string;
  window: BlockWindow | undefined;
  hashrateThs: string | undefined;
  /** Sale: upfront + escrow sats; hashprice: `K=<strike>`; custom: the accepter's collateral in sats. */
  price: string;
}

/**
 * A page of open offers on the coordinator, and each one's row.
 * @throws {ParticipantError} REMOTE, UNREACHABLE, CONFIG.
 */
export async function listOffers(p: Participant, query: OfferQuery = {}): Promise<{ offers: OfferView[]; next: string | null; rows: OfferRow[] }> {
  const page = await p.coordinator().listOffers({ ...query });
  const rows = page.offers.map((o): OfferRow => {
    const t = o.terms;
    const price =
      t.template === 'hashpower-sale'
        ? `${BigInt(String(t.upfront)) + BigInt(String(t.escrow))} sats`
        : t.strikeSatsPerPhDay !== undefined
          ? `K=${String(t.strikeSatsPerPhDay)}`
          : `${String(t.acceptCollateral ?? '')} sats`;
    return {
      id: o.id,
      template: String(t.template),
      window: t.window as BlockWindow | undefined,
      hashrateThs: t.hashrateThs === undefined ? undefined : String(t.hashrateThs),
      price,
    };
  });
  return { offers: page.offers, next: page.next, rows };
}

/**
 * One offer on the coordinator with its terms parsed (nothing signed: `acceptOffer`
 * with `dryRun` checks it in full).
 * @throws {ParticipantError} MISMATCH (`terms-shape`), REMOTE, UNREACHABLE, CONFIG.
 */
export async function showOffer(p: Participant, id: string): Promise<{ view: OfferView; terms: OfferTerms }> {
  const view = await p.coordinator().offer(id);
  return { view, terms: parseTerms(view.terms) };
}
