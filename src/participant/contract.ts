/**
 * What the contract commands share: loading a stored contract (its messages
 * decoded, its terms re-derived into the template contract with
 * protocol/templates, its keys), the checks of an oracle event against the
 * human terms, the fee rate, and the mapping of the coordinator's contract
 * states onto the local ones.
 *
 * Terms use the coordinator's JSON form and its template rebuild
 * (protocol/terms: one definition of the wire format for both).
 *
 * This module does NOT talk to services itself (the commands pass in what
 * they fetched), except `feeRate`, which asks the node for an estimate.
 */
import type { ContractSetupOptions, FlowOptions } from '../../protocol/contract/index.js';
import { fundingOptionsOf, transferSetupOptions, transferTermsFromJson, type TransferTermsJson } from '../../protocol/contract/index.js';
import type { AcceptDlc, OfferDlc, OracleInfo as DlcOracleInfo, SignDlc } from '../../protocol/messages/index.js';
import { decodeAcceptDlc, decodeOfferDlc, decodeSignDlc, fromHex } from '../../protocol/messages/index.js';
import type { TemplateResult } from '../../protocol/templates/index.js';
import { CURRENT_REWARD_RULE, FULL_REWARD_RULE } from '../../protocol/hashpower/index.js';
import { address as btcAddress } from 'bitcoinjs-lib';
import type { FundingInput } from '../../protocol/messages/index.js';
import type { BitcoinRpc } from '../chain/index.js';
import { WalletError, externalFundingInputs, fundingRequirement, randomU64 } from '../wallet/index.js';
import {
  contractFundingOptions,
  deadlineViolation,
  offerTermsSchema,
  offerTimingViolation,
  stripBatchSchema,
  templateFromTerms,
  type OfferTerms,
  type StripRef,
  type TimingViolation,
} from '../../protocol/terms/index.js';
import type { FundingBuildOptions, TransferTerms, TransferTransaction } from '../../protocol/tx/index.js';
import { buildTransferTransaction } from '../../protocol/tx/index.js';
import type { ContractIdentity, ContractRecord, LocalState, Wallet } from '../wallet/index.js';
import { withState } from '../wallet/index.js';
import { ParticipantError } from './errors.js';
import type { OracleEventJson } from '../api/index.js';
import { contractOracleInfo } from './oracle-set.js';

/** A stored contract, decoded. */
export interface LoadedContract {
  record: ContractRecord;
  offer: OfferDlc;
  accept: AcceptDlc | undefined;
  sign: SignDlc | undefined;
  terms: OfferTerms;
  template: TemplateResult;
  /** The set-up options (`flow.extraOutputs`, and `flow.setup.batch` for a strip's period). */
  flow: FlowOptions;
  /** Its funding transaction's options (protocol/tx `buildFundingTransaction`). */
  funding: FundingBuildOptions;
  /**
   * protocol/contract `setupContract` options (hash profile, extra outputs, a strip period's batch).
   * Pass these, never `flow`, to `setupContract`: `flow` nests the batch under `setup` for the flow builders.
   */
  setupOptions: ContractSetupOptions;
  /** A strip's period contract: the strip's id, whole terms and batch (absent for a single contract). */
  strip: StripRef | undefined;
  /** Its keys but the funding secret key, which stays in the contract's signer (`Participant.contractSigner`). */
  keys: ContractIdentity;
  /**
   * A contract set up by a transfer (issue 14): its transfer terms and, once
   * the accept_dlc is stored, the transfer transaction that funds it (then
   * `setupOptions.funding` is that transaction, rebuilt from the stored messages).
   */
  transfer: { terms: TransferTerms; tx: TransferTransaction | undefined } | undefined;
}

/** ISO time for history entries. */
export function nowIso(): string {
  return new Date().toISOString();
}

/**
 * Parses terms JSON (the coordinator's form).
 * @throws {ParticipantError} MISMATCH naming the bad field.
 */
export function parseTerms(json: unknown): OfferTerms {
  const r = offerTermsSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ParticipantError('MISMATCH', `terms are malformed at ${i.path.join('.') || '(root)'}: ${i.message}`, { reason: 'terms-shape' });
  }
  return r.data;
}

/** The template contract of terms over an oracle info. @throws {DlcError} from protocol/templates. */
export function templateOf(terms: OfferTerms, oracleInfo: DlcOracleInfo): TemplateResult {
  return templateFromTerms(terms, oracleInfo);
}

/**
 * A stored contract with its messages decoded and its template rebuilt from
 * the stored terms and the stored offer's oracle info (one oracle or a K-of-n set).
 * @throws {WalletError} WALLET_CONTRACT_NOT_FOUND; {ParticipantError} MISMATCH (`disjoint-contract`); {DlcError} for corrupt messages.
 */
export function loadContract(wallet: Wallet, id: string): LoadedContract {
  const record = wallet.contracts.get(id);
  const offer = decodeOfferDlc(fromHex(record.offer));
  const terms = parseTerms(record.terms);
  const template = templateOf(terms, contractOracleInfo(offer));
  const strip = record.strip === undefined ? undefined : { id: record.strip.id, terms: parseTerms(record.strip.terms), batch: stripBatchSchema.parse(record.strip.batch) };
  const funding = contractFundingOptions(template, strip);
  const accept = record.accept === undefined ? undefined : decodeAcceptDlc(fromHex(record.accept));
  const setupOptions: ContractSetupOptions = { ...fundingOptionsOf(funding), hashProfile: record.hashProfile };
  // Issue 14: a transferred contract is funded by its transfer transaction, rebuilt from our own stored messages and terms.
  const transferTerms = record.transfer === undefined ? undefined : transferTermsFromJson(record.transfer.terms as unknown as TransferTermsJson);
  const transferTx = transferTerms === undefined || accept === undefined ? undefined : buildTransferTransaction(offer, accept, transferTerms);
  return {
    record,
    offer,
    accept,
    sign: record.sign === undefined ? undefined : decodeSignDlc(fromHex(record.sign)),
    terms,
    template,
    flow: { extraOutputs: funding.extraOutputs, hashProfile: record.hashProfile, ...(funding.batch !== undefined ? { setup: { batch: funding.batch } } : {}) },
    funding,
    setupOptions: transferTx === undefined ? setupOptions : transferSetupOptions(setupOptions, transferTx),
    strip,
    keys: wallet.keys.contractIdentity(record.keyIndex),
    transfer: transferTerms === undefined ? undefined : { terms: transferTerms, tx: transferTx },
  };
}

/** @throws {ParticipantError} STATE when the contract has no accept_dlc yet. */
export function needAccept(c: LoadedContract): AcceptDlc {
  if (c.accept === undefined) throw new ParticipantError('STATE', `contract ${c.record.id} has no accept_dlc yet (state ${c.record.state})`);
  return c.accept;
}

/** @throws {ParticipantError} STATE when the contract has no sign_dlc yet. */
export function needSign(c: LoadedContract): SignDlc {
  if (c.sign === undefined) throw new ParticipantError('STATE', `contract ${c.record.id} has no sign_dlc yet (state ${c.record.state})`);
  return c.sign;
}

/** The oracle event kind each template settles on. */
const EVENT_KIND: Record<OfferTerms['template'], string | undefined> = {
  'hashpower-sale': 'hashpower-delivery',
  'hashprice-forward': 'hashprice',
  'hashprice-call': 'hashprice',
  'custom-curve': undefined,
};

/**
 * Checks that an oracle event measures what the terms are about: its kind,
 * window, delivery address, hashrate and a payout scheme the terms name (issue 16), and (hashprice and delivery events)
 * that it states the self-paid-fee-resistant reward rule (the event id signed in the
 * announcement commits to these parameters, oracle/API.md "Event ids").
 * @throws {ParticipantError} MISMATCH naming the parameter.
 */
export function checkEventMatchesTerms(ev: OracleEventJson, terms: OfferTerms): void {
  const bad = (what: string, want: unknown, got: unknown): ParticipantError =>
    new ParticipantError('MISMATCH', `oracle event ${ev.eventId}: ${what} is ${JSON.stringify(got)}, the terms say ${JSON.stringify(want)}`, { reason: `event-${what}` });
  const kind = EVENT_KIND[terms.template];
  if (kind !== undefined && ev.params.kind !== kind) throw bad('kind', kind, ev.params.kind);
  // Issue 9, hole 6: under full-reward-v0 (whole coinbases count towards v) a party that mines one block of
  // the window moves the outcome with a fee it pays itself; only events stating the capped rule are taken.
  if ((ev.params.kind === 'hashprice' || ev.params.kind === 'hashpower-delivery') && ev.params.rewardRule !== CURRENT_REWARD_RULE) {
    throw bad('rewardRule', CURRENT_REWARD_RULE, ev.params.rewardRule ?? FULL_REWARD_RULE);
  }
  if (ev.params.descriptor.type !== 'numeric') throw bad('descriptor', 'numeric', ev.params.descriptor.type);
  if (terms.template === 'custom-curve') return;
  const w = ev.params.window;
  if (w === null || w.start !== terms.window.start || w.end !== terms.window.end) throw bad('window', terms.window, w);
  if (terms.template === 'hashpower-sale') {
    if (ev.params.deliveryAddress !== terms.deliveryAddress) throw bad('deliveryAddress', terms.deliveryAddress, ev.params.deliveryAddress);
    if (ev.params.hashrateThs !== terms.hashrateThs) throw bad('hashrateThs', terms.hashrateThs, ev.params.hashrateThs);
    // Issue 16: the scheme the terms name (and price the luck risk for) is the one the oracle measures by;
    // an event stating another, or none (today's rule, no payout lag), measures another sale.
    const scheme = ev.params.payoutScheme ?? null;
    if (terms.payoutScheme !== undefined && scheme !== terms.payoutScheme) throw bad('payoutScheme', terms.payoutScheme, scheme);
  }
}

function timingError(v: TimingViolation): ParticipantError {
  return new ParticipantError(v.kind === 'expired' ? 'EXPIRED' : 'MISMATCH', v.message, { reason: v.reason });
}

/**
 * Whether a contract over this oracle event may be offered or accepted now
 * (issue 9, holes 2 and 3): the event is not attested, its window has not
 * started, the terms carry a funding deadline at most the window start and
 * the tip is below it.
 * @throws {ParticipantError} EXPIRED (`event-attested`, `window-started`, `funding-deadline-passed`), MISMATCH (`funding-deadline-*`).
 */
export function checkOfferTiming(ev: OracleEventJson, terms: OfferTerms, tip: number): void {
  const v = offerTimingViolation(terms, { tip, window: ev.params.window, attested: ev.state === 'attested' });
  if (v !== null) throw timingError(v);
}

/**
 * The funding deadline of a stored contract has not passed: checked by
 * `sign`, `fund` and `fund --broadcast` (issue 9, hole 2: no funding, and no
 * signature that makes funding possible, once the deadline is reached).
 * Contracts stored before deadlines existed carry none and are not checked.
 * @throws {ParticipantError} EXPIRED (`funding-deadline-passed`).
 */
export async function checkFundingDeadline(terms: OfferTerms, rpc: BitcoinRpc): Promise<void> {
  if (terms.fundingDeadline === undefined) return;
  const v = deadlineViolation(terms, await rpc.getBlockCount());
  if (v !== null) throw timingError(v);
}

/** Local states in which a contract still counts on its delivery address. */
const DELIVERY_LIVE: ReadonlySet<LocalState> = new Set(['offered', 'accepted', 'signed', 'funding-broadcast', 'confirmed']);

/**
 * A sale's delivery address is this contract's alone (issue 9, hole 7): no
 * other live contract of this wallet measures it, and it holds no coins yet
 * (the node's `scantxoutset`: an address paid before the window is known and
 * reused; spent outputs are not seen there, live contracts are caught by the
 * first check).
 * @throws {ParticipantError} MISMATCH (`delivery-address-in-use`, `delivery-address-paid`).
 */
export async function checkDeliveryAddressFresh(wallet: Wallet, rpc: BitcoinRpc, address: string, offerId: string): Promise<void> {
  const other = wallet.contracts.list().find((r) => r.id !== offerId && r.terms.deliveryAddress === address && DELIVERY_LIVE.has(r.state));
  if (other !== undefined) {
    throw new ParticipantError('MISMATCH', `delivery address ${address} is measured by contract ${other.id} of this wallet (${other.state}) already; give each contract a fresh one ('hashdlc wallet address')`, { reason: 'delivery-address-in-use' });
  }
  const scan = await rpc.scanTxOutSet([`addr(${address})`]);
  if (scan.unspents.length > 0) {
    const first = scan.unspents[0]!;
    throw new ParticipantError('MISMATCH', `delivery address ${address} was paid already (${first.txid}:${first.vout} at height ${first.height}); give each contract a fresh one ('hashdlc wallet address')`, { reason: 'delivery-address-paid' });
  }
}

/**
 * A source of random serial ids (dlcspecs: serial ids order the funding
 * inputs and outputs, so they must differ), none of them in `taken`; each
 * id given is added to `taken`.
 */
export function freshSerialIds(taken: Set<bigint>): () => bigint {
  return () => {
    let s: bigint;
    do s = randomU64();
    while (taken.has(s));
    taken.add(s);
    return s;
  };
}

/** The node's 6-block fee estimate in whole sat/vB (rounded up, at least 1), or undefined when it has none. */
async function nodeEstimatePerVb(rpc: BitcoinRpc): Promise<bigint | undefined> {
  const est = await rpc.estimateSmartFee(6).catch(() => undefined);
  if (est?.feeRateSatPerKvB === undefined) return undefined;
  const perVb = (est.feeRateSatPerKvB + 999n) / 1000n;
  return perVb < 1n ? 1n : perVb;
}

/**
 * The funding fee rate: the configured one, else the node's estimate for 6
 * blocks, else 2 sat/vB on regtest.
 * @throws {ParticipantError} CONFIG when nothing gives one off regtest.
 */
export async function feeRate(configured: bigint | undefined, rpc: BitcoinRpc, network: string): Promise<bigint> {
  if (configured !== undefined) return configured;
  const perVb = await nodeEstimatePerVb(rpc);
  if (perVb !== undefined) return perVb;
  if (network === 'regtest') return 2n;
  throw new ParticipantError('CONFIG', 'the node has no fee estimate: pass --fee-rate SAT_PER_VB');
}

/** `accept --max-fee-rate` default: this multiple of the node's 6-block estimate... */
const MAX_FEE_RATE_ESTIMATE_MULTIPLE = 3n;
/** ...but never below this (sat/vB): low estimates move within hours. */
const MAX_FEE_RATE_FLOOR = 5n;
/** On regtest, where nodes have no fee estimate (offers default to 2 sat/vB). */
const REGTEST_MAX_FEE_RATE = 10n;

/**
 * The highest funding fee rate `accept` takes when `--max-fee-rate` is not
 * given: a sane multiple of what the network pays now, so an offer cannot
 * make the buyer burn its collateral in fees (the old default was 1000
 * sat/vB). Without a node: regtest's fixed default, else the flag is needed.
 * @throws {ParticipantError} CONFIG when there is no estimate off regtest; {ChainError}.
 */
export async function defaultMaxFeeRate(rpc: BitcoinRpc | undefined, network: string): Promise<bigint> {
  const perVb = rpc === undefined ? undefined : await nodeEstimatePerVb(rpc);
  if (perVb !== undefined) {
    const max = perVb * MAX_FEE_RATE_ESTIMATE_MULTIPLE;
    return max < MAX_FEE_RATE_FLOOR ? MAX_FEE_RATE_FLOOR : max;
  }
  if (network === 'regtest') return REGTEST_MAX_FEE_RATE;
  throw new ParticipantError('CONFIG', 'no fee estimate from the node to bound the offer\'s fee rate: pass --max-fee-rate SAT_PER_VB');
}

/**
 * The script pubkey of an address on the wallet's network.
 * @throws {ParticipantError} USAGE for an address of another network or no address at all.
 */
export function addressScript(addr: string, wallet: Wallet): Uint8Array {
  try {
    return btcAddress.toOutputScript(addr, wallet.network.bitcoinjs);
  } catch (cause) {
    throw new ParticipantError('USAGE', `'${addr}' is not a ${wallet.network.name} address`, { cause });
  }
}

/**
 * `--utxo` coins may back one live contract of this wallet at a time.
 * @throws {WalletError} WALLET_COIN_RESERVED naming the coin and the contract.
 */
function refuseReservedCoins(wallet: Wallet, utxos: readonly string[]): void {
  const reservations = wallet.contracts.reservations();
  for (const u of utxos) {
    const by = reservations.get(u.toLowerCase());
    if (by !== undefined) {
      throw new WalletError('WALLET_COIN_RESERVED', `coin ${u} is reserved by your contract ${by} (not funded or cancelled yet); 'hashdlc cancel ${by}' frees it`);
    }
  }
}

/**
 * Funding inputs for `amount` (collateral plus extra outputs this party pays):
 * the given external outpoints, else coins chosen from the wallet.
 * @throws {WalletError} WALLET_INSUFFICIENT_FUNDS; {ChainError}.
 */
export async function chooseFunding(
  wallet: Wallet,
  rpc: BitcoinRpc,
  utxos: readonly string[],
  amount: bigint,
  feeRatePerVb: bigint,
  extraOutputSpkLens: readonly number[],
): Promise<{ inputs: FundingInput[]; reserved: string[]; external: boolean }> {
  if (utxos.length > 0) {
    refuseReservedCoins(wallet, utxos);
    const { inputs, total } = await externalFundingInputs(rpc, utxos);
    const need = fundingRequirement(amount, inputs.length, feeRatePerVb, extraOutputSpkLens);
    if (total < need) {
      throw new WalletError('WALLET_INSUFFICIENT_FUNDS', `the given outputs hold ${total} sats; ${need} are needed (amount ${amount} + fees + change)`);
    }
    return { inputs, reserved: utxos.map((u) => u.toLowerCase()), external: true };
  }
  const { inputs, utxos: chosen } = await wallet.selectFundingInputs(rpc, amount, feeRatePerVb, {
    reserved: wallet.contracts.reservedOutpoints(),
    extraOutputSpkLens,
  });
  return { inputs, reserved: chosen.map((u) => `${u.txid}:${u.vout}`), external: false };
}

/**
 * Local state for a coordinator state (API.md "States"), or undefined when it maps to none.
 * `expired` (the funding deadline passed before funding: the coordinator gave the contract up)
 * is `failed` here; whether to follow it is the caller's call (status.ts `followCoordinator`
 * does not while our funding signatures may be out).
 */
export function localStateOf(coordinatorState: string): LocalState | undefined {
  const map: Record<string, LocalState> = {
    offered: 'offered',
    accepted: 'accepted',
    signed: 'signed',
    'funding-broadcast': 'funding-broadcast',
    confirmed: 'confirmed',
    attested: 'confirmed',
    'cet-broadcast': 'settled',
    settled: 'settled',
    'refund-broadcast': 'refunded',
    refunded: 'refunded',
    'closing-broadcast': 'closed',
    'close-broadcast': 'closed',
    closed: 'closed',
    cancelled: 'cancelled',
    failed: 'failed',
    expired: 'failed',
  };
  return map[coordinatorState];
}

/** Saves `record` moved to `state` (history appended) with extra fields. */
export function saveState(wallet: Wallet, record: ContractRecord, state: LocalState, fields: Partial<ContractRecord> = {}, note?: string): ContractRecord {
  const next = withState({ ...record, ...fields }, state, nowIso(), note);
  wallet.contracts.save(next);
  return next;
}
