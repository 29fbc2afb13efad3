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
import { REFUND_MAX_GRACE_BLOCKS, buildOffer, checkBatchOffers, defaultFundingDeadline, defaultLocktimes } from '../../protocol/contract/index.js';
import { encodeOfferDlc, fromHex, toHex } from '../../protocol/messages/index.js';
import type { TemplateResult } from '../../protocol/templates/index.js';
import { BATCH_OUTPUT_PARTY_WEIGHT, partyClosingWeight, type ExtraFundingOutput } from '../../protocol/tx/index.js';
import {
  MAX_STRIP_PERIODS,
  batchToJson,
  checkStripOffersAgainstTerms,
  periodTermsOf,
  periodWindows,
  stripExtraOutputs,
  type OfferTerms,
  type PayoutScheme,
} from '../../protocol/terms/index.js';
import { randomU64, type ContractRecord } from '../wallet/index.js';
import type { OfferView, OracleEventJson, OracleClient } from '../api/index.js';
import { addressScript, checkEventMatchesTerms, checkOfferTiming, chooseFunding, feeRate, freshSerialIds, nowIso, parseTerms, saveState, templateOf } from './contract.js';
import { ParticipantError, usage } from './errors.js';
import type { Participant } from './participant.js';
import { offerOracleEvents, oracleInfoOf, oracleSetLines, type OracleSetEvents, type SetOracle } from './oracle-set.js';
import { measurementRisk, type MeasurementRisk } from './luck.js';
import { periodLabel } from './strip.js';
import { inPeriodError } from './strip-steps.js';

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
  /**
   * A strip (issue 12): the window split into this many period contracts,
   * funded by one transaction. Sale, forward and call only; needs `window`.
   */
  periods?: number;
  /** A strip of periods of this many blocks each (the window's length must be a multiple); exclusive with `periods`. */
  periodBlocks?: number;
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
        /** Issue 16: the pool's share of the network hashrate, bps; with a luck-based scheme the offer shows its measurement risk. */
        poolShareBps?: number;
        /** The pool's payout scheme (absent: today's per-block rule); stated in the terms and in the event the offer requests. */
        payoutScheme?: PayoutScheme;
        /**
         * The event's payout lag (issue 16): payouts in `[start + lag, end + lag)`
         * count for the window, as a pool paying a period's shares `lag` blocks
         * later needs (FPPS); the oracle attests `lag` blocks later and the
         * locktimes move with it (`locktimeBase`). Absent or 0: none.
         */
        payoutLagBlocks?: number;
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
  /** A sale stating its pool's share: the pool-luck risk per measured window, its summary lines (included in `summary`) and warnings. */
  measurementRisk: MeasurementRisk;
}

/** A strip's periods as offered (ids absent on a dry run: nothing was built). */
export interface OfferStrip {
  /** The strip id (period 1's offer id). */
  id: string | undefined;
  periods: { index: number; id: string | undefined; window: BlockWindow; eventId: string }[];
}

export type OfferResult =
  | (OfferDetails & { dryRun: true; strip?: OfferStrip })
  | (OfferDetails & { dryRun: false; id: string; state: 'offered'; strip?: OfferStrip });

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
    // Issue 16: the scheme and lag are event parameters (bound into its id); stated only when given, so plain offers keep today's events.
    if (input.payoutScheme !== undefined) body.payoutScheme = input.payoutScheme;
    if (input.payoutLagBlocks !== undefined && input.payoutLagBlocks !== 0) body.payoutLagBlocks = input.payoutLagBlocks;
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
 * The height an offer's CET and refund locktimes count from
 * (protocol/contract `defaultLocktimes`): the end of the blocks the event
 * measures, i.e. the window's end plus the event's payout lag (issue 16: the
 * oracle waits for the lagged payouts before it attests, so a refund counted
 * from the window's end could come due before the attestation and accepters
 * refuse it), else the attestation height (an event without a window).
 */
export function locktimeBase(ev: Pick<OracleEventJson, 'attestHeight'> & { params: Pick<OracleEventJson['params'], 'window' | 'payoutLagBlocks'> }): number {
  const w = ev.params.window;
  return w === null ? ev.attestHeight : w.end + (ev.params.payoutLagBlocks ?? 0);
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
        ...(input.poolShareBps !== undefined ? { poolShareBps: input.poolShareBps } : {}),
        ...(input.payoutScheme !== undefined ? { payoutScheme: input.payoutScheme } : {}),
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
  const periods = stripPeriodsOf(input);
  if (periods !== undefined) return makeStripOffer(p, input, periods);
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

  const locks = defaultLocktimes(locktimeBase(ev), wallet.network.flow);
  const cetLocktime = input.cetLocktime ?? locks.cetLocktime;
  const refundLocktime = input.refundLocktime ?? locks.refundLocktime;
  const refundAtMost = ev.attestHeight + REFUND_MAX_GRACE_BLOCKS[wallet.network.flow];
  if (refundLocktime > refundAtMost) {
    throw usage(`--refund-locktime ${refundLocktime} is after ${refundAtMost} (the attestation height ${ev.attestHeight} + ${REFUND_MAX_GRACE_BLOCKS[wallet.network.flow]}): accepters and coordinators refuse it`);
  }
  const rate = await feeRate(input.feeRatePerVb ?? p.config.feeRatePerVb, rpc, wallet.network.name);
  const risk = measurementRisk(terms);
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
      ...risk.lines,
    ],
    measurementRisk: risk,
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

// ------------------------------------------------------------------ strips (issue 12)

/**
 * The number of periods of a strip offer, or undefined for a single contract.
 * @throws {ParticipantError} USAGE (both flags, a custom curve, `--event`,
 *   no window, a window not a multiple of `periodBlocks`, out of range).
 */
export function stripPeriodsOf(input: Pick<OfferInput, 'template' | 'periods' | 'periodBlocks' | 'window' | 'eventId' | 'cetLocktime' | 'refundLocktime'>): number | undefined {
  if (input.periods === undefined && input.periodBlocks === undefined) return undefined;
  if (input.periods !== undefined && input.periodBlocks !== undefined) throw usage('--periods and --period-blocks are exclusive: give one');
  if (input.template === 'custom') throw usage('a custom curve has no window to split into periods: --periods is for hashpower, hashprice-forward and hashprice-call');
  if (input.eventId !== undefined) throw usage('a strip settles each period on its own event: give --window START-END, not --event');
  if (input.cetLocktime !== undefined || input.refundLocktime !== undefined) throw usage('a strip takes each period\'s default locktimes: --cet-locktime and --refund-locktime are for single contracts');
  const window = input.window;
  if (window === undefined) throw usage('a strip needs --window START-END');
  const len = window.end - window.start;
  let n: number;
  if (input.periodBlocks !== undefined) {
    const b = input.periodBlocks;
    if (!Number.isInteger(b) || b < 1) throw usage(`--period-blocks must be a positive whole number, got ${b}`);
    if (len % b !== 0) throw usage(`--period-blocks ${b} does not divide the window's ${len} blocks; pick a window whose length is a multiple of ${b}, or --periods N`);
    n = len / b;
  } else {
    n = input.periods!;
  }
  if (!Number.isInteger(n) || n < 2 || n > MAX_STRIP_PERIODS) throw usage(`a strip has 2 to ${MAX_STRIP_PERIODS} periods, got ${n}`);
  if (len < n) throw usage(`a window of ${len} blocks cannot hold ${n} periods`);
  return n;
}

/**
 * What one party's coin selection must cover beyond its collaterals and the
 * extra outputs it pays, for the other `siblings` funding outputs of a batch:
 * each one's closing fee share and its 86 weight units of funding fee
 * (protocol/tx `BATCH_OUTPUT_PARTY_WEIGHT`, rounded up per output).
 */
export function batchSiblingCost(siblings: number, payoutSpkLen: number, feeRatePerVb: bigint): bigint {
  const closingFee = ((partyClosingWeight(payoutSpkLen) + 3n) / 4n) * feeRatePerVb;
  const fundingShare = ((BATCH_OUTPUT_PARTY_WEIGHT + 3n) / 4n) * feeRatePerVb;
  return BigInt(siblings) * (closingFee + fundingShare);
}

/**
 * A strip offer (issue 12): one oracle event per period window, the strip
 * terms, N offers sharing one funding key, payout and change scripts and one
 * coin selection, checked against the terms and each other before anything is
 * stored; N records (the coins reserved on each, so they stay reserved while
 * any period is live); `POST /v1/strips`.
 */
async function makeStripOffer(p: Participant, input: OfferInput, n: number): Promise<OfferResult> {
  const wallet = p.wallet();
  const coordinator = p.coordinator();
  const rpc = await p.rpc();
  const windows = periodWindows(input.window!, n);
  // One event per period, the way a single offer gets its own (a sale creates it, hashprice finds it).
  const sets: OracleSetEvents[] = [];
  for (const w of windows) sets.push(await offerOracleEvents(p, (oracle) => offerEvent(p, oracle, { ...input, window: w })));
  const fundingDeadline = input.fundingDeadline ?? defaultFundingDeadline(windows[0]!.start, wallet.network.flow);
  const terms = parseTerms({ ...termsJsonOf(input, input.window, fundingDeadline, () => wallet.newReceiveAddress().script), periods: n });
  const periodTerms = periodTermsOf(terms);
  const tip = await rpc.getBlockCount();
  const rate = await feeRate(input.feeRatePerVb ?? p.config.feeRatePerVb, rpc, wallet.network.name);
  const contracts = periodTerms.map((t, i) => inPeriodP(i, () => {
    const set = sets[i]!;
    checkEventMatchesTerms(set.events[0]!, t);
    for (const e of set.events) checkOfferTiming(e, t, tip);
    return templateOf(t, oracleInfoOf(set.announcements, set.threshold));
  }));
  const locks = windows.map((_w, i) => {
    const ev = sets[i]!.events[0]!;
    const l = defaultLocktimes(locktimeBase(ev), wallet.network.flow);
    const refundAtMost = ev.attestHeight + REFUND_MAX_GRACE_BLOCKS[wallet.network.flow];
    if (l.refundLocktime > refundAtMost) throw usage(`period ${i + 1}: refund locktime ${l.refundLocktime} is after ${refundAtMost} (its attestation height ${ev.attestHeight} + ${REFUND_MAX_GRACE_BLOCKS[wallet.network.flow]})`);
    return l;
  });
  const first = contracts[0]!;
  const ev1 = sets[0]!.events[0]!;
  const stripPeriods = (ids: (string | undefined)[]): OfferStrip['periods'] => windows.map((w, i) => ({ index: i, id: ids[i], window: w, eventId: sets[i]!.events[0]!.eventId }));
  const upfront = stripExtraOutputs(terms);
  const risk = measurementRisk(terms);
  const details: OfferDetails = {
    eventId: ev1.eventId,
    terms,
    threshold: sets[0]!.threshold,
    oracles: sets[0]!.oracles,
    cets: first.cetCount,
    cetLocktime: locks[0]!.cetLocktime,
    refundLocktime: locks[0]!.refundLocktime,
    fundingDeadline,
    feeRatePerVb: rate,
    summary: [
      `strip of ${n} periods over blocks [${input.window!.start}, ${input.window!.end}), one funding transaction${upfront.length > 0 ? ` (the buyer pays ${upfront[0]!.value} sats to you in it, once)` : ''}`,
      ...oracleSetLines(sets[0]!.threshold, sets[0]!.oracles),
      `fee rate ${rate} sat/vB; funding deadline: height ${fundingDeadline} (no accept, sign or fund from then on)`,
      ...contracts.flatMap((c, i) => [
        `${periodLabel(i, n)}: blocks [${windows[i]!.start}, ${windows[i]!.end}), event ${sets[i]!.events[0]!.eventId} (attests at height ${sets[i]!.events[0]!.attestHeight}), CET locktime ${locks[i]!.cetLocktime}, refund locktime ${locks[i]!.refundLocktime}`,
        ...c.summary.lines.map((l) => `  ${l}`),
      ]),
      ...risk.lines,
    ],
    measurementRisk: risk,
  };
  if (input.dryRun === true) return { dryRun: true, ...details, strip: { id: undefined, periods: stripPeriods(windows.map(() => undefined)) } };

  // One funding key, payout and change script, one coin selection for the strip.
  const keys = wallet.newContractIdentity();
  const payoutSpk = input.payoutAddress !== undefined ? addressScript(input.payoutAddress, wallet) : wallet.newReceiveAddress().script;
  const changeSpk = input.changeAddress !== undefined ? addressScript(input.changeAddress, wallet) : wallet.newChangeAddress().script;
  const extras = [...contracts.flatMap((c) => c.extraOutputs), ...upfront];
  const paid = extras.filter((o: ExtraFundingOutput) => o.payer === 'offer');
  const amount = contracts.reduce((s, c) => s + c.offerCollateral, 0n) + paid.reduce((s, o) => s + o.value, 0n) + batchSiblingCost(n - 1, payoutSpk.length, rate);
  const { inputs, reserved } = await chooseFunding(wallet, rpc, input.utxos ?? [], amount, rate, paid.map((o) => o.script.length));
  const freshSerial = freshSerialIds(new Set(extras.map((o) => o.serialId)));
  const payoutSerialId = freshSerial();
  const changeSerialId = freshSerial();
  const fundingPubkey = p.contractSigner(keys.index).fundingPubkey;
  const offers = contracts.map((contract, i) => inPeriodP(i, () => buildOffer({
    contract,
    temporaryContractId: randomBytes(32),
    chainHash: fromHex(wallet.network.chainHashHex),
    fundingPubkey,
    fundingInputs: inputs,
    payoutSpk,
    changeSpk,
    payoutSerialId,
    changeSerialId,
    fundOutputSerialId: freshSerial(),
    feeRatePerVb: rate,
    cetLocktime: locks[i]!.cetLocktime,
    refundLocktime: locks[i]!.refundLocktime,
  })));
  // What we built is what an accepter will check: the terms, period by period, and one funding transaction.
  const checked = checkStripOffersAgainstTerms(offers, terms);
  checkBatchOffers(offers);
  const ids = offers.map((o) => toHex(o.temporaryContractId));
  const offerHexes = offers.map((o) => toHex(encodeOfferDlc(o)));
  const stripId = ids[0]!;
  const at = nowIso();
  const records: ContractRecord[] = offers.map((_, i) => ({
    version: 1,
    id: ids[i]!,
    role: 'offer',
    network: wallet.network.name,
    keyIndex: keys.index,
    state: 'offered',
    history: [{ state: 'offered', at }],
    coordinator: coordinator.http.base,
    oracle: sets[i]!.oracles[0]!.url,
    oracles: sets[i]!.oracles,
    hashProfile: sets[i]!.hashProfile,
    terms: periodTerms[i] as Record<string, unknown>,
    offer: offerHexes[i]!,
    // On every period: the coins stay reserved while any period is live, free once all ended unfunded.
    reservedOutpoints: reserved,
    strip: { id: stripId, terms: terms as Record<string, unknown>, batch: batchToJson(checked.contracts, i) },
  }));
  // Stored before posted, as a single offer.
  for (const r of records) wallet.contracts.save(r);
  await coordinator.postStrip({ offers: offerHexes, identityPubkey: toHex(keys.identityPublicKey), terms }, keys.identitySecretKey).catch((err: unknown) => {
    for (const r of records.slice(1)) offerRefused(p, r, err);
    throw offerRefused(p, records[0]!, err);
  });
  return { dryRun: false, id: stripId, state: 'offered', ...details, strip: { id: stripId, periods: stripPeriods(ids) } };
}

/** `inPeriod` for a participant step: a DlcError or ParticipantError re-made to name period `i` (0-based). */
export function inPeriodP<T>(i: number, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw namedPeriodP(e, i);
  }
}

/** The error naming period `i` (0-based): strip-steps.ts `inPeriodError` (a DlcError via protocol's `namedPeriod`). */
export function namedPeriodP(e: unknown, i: number): unknown {
  return inPeriodError(e, i + 1);
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
  /** A strip (issue 12): its number of periods (the row is period 1's; the strip terms: `GET /v1/strips/:id`). */
  periods?: number;
}

/**
 * A page of open offers on the coordinator, and each one's row (a strip's row
 * from its whole terms, `GET /v1/strips/:id`).
 * @throws {ParticipantError} REMOTE, UNREACHABLE, CONFIG.
 */
export async function listOffers(p: Participant, query: OfferQuery = {}): Promise<{ offers: OfferView[]; next: string | null; rows: OfferRow[] }> {
  const coordinator = p.coordinator();
  const page = await coordinator.listOffers({ ...query });
  const rows: OfferRow[] = [];
  for (const o of page.offers) {
    // A strip is listed once (period 1's view): its row shows the whole strip's terms, as the coordinator filters it.
    const t = o.strip === undefined ? o.terms : (await coordinator.strip(o.strip.id)).terms;
    const price =
      t.template === 'hashpower-sale'
        ? `${BigInt(String(t.upfront)) + BigInt(String(t.escrow))} sats`
        : t.strikeSatsPerPhDay !== undefined
          ? `K=${String(t.strikeSatsPerPhDay)}`
          : `${String(t.acceptCollateral ?? '')} sats`;
    rows.push({
      id: o.id,
      template: String(t.template),
      window: t.window as BlockWindow | undefined,
      hashrateThs: t.hashrateThs === undefined ? undefined : String(t.hashrateThs),
      price,
      ...(o.strip !== undefined ? { periods: o.strip.periods } : {}),
    });
  }
  return { offers: page.offers, next: page.next, rows };
}

/**
 * One offer on the coordinator with its terms parsed (nothing signed: `acceptOffer`
 * with `dryRun` checks it in full); a strip's period also with the strip's terms.
 * @throws {ParticipantError} MISMATCH (`terms-shape`), REMOTE, UNREACHABLE, CONFIG.
 */
export async function showOffer(p: Participant, id: string): Promise<{ view: OfferView; terms: OfferTerms; stripTerms?: OfferTerms }> {
  const view = await p.coordinator().offer(id);
  if (view.strip === undefined) return { view, terms: parseTerms(view.terms) };
  // A strip's period: its own terms, and the whole strip's (what `accept` takes).
  return { view, terms: parseTerms(view.terms), stripTerms: parseTerms((await p.coordinator().strip(view.strip.id)).terms) };
}
