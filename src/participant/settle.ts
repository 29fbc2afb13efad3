/**
 * After funding, alone: `settleContract` and `refundContract`, from the
 * messages stored in the wallet directory, WITHOUT the coordinator
 * (dlcspecs Protocol.md "Closing the contract"):
 * - settle: fetch the attestation from every oracle of the contract, check
 *   each against its announcement, find the CET K agreeing oracles open, sign it with our own funding key,
 *   decrypt the counterparty's adaptor signature with the attestation secret,
 *   and broadcast through our node;
 * - refund: after the refund locktime, the refund transaction with both
 *   parties' refund signatures (accept_dlc and sign_dlc), through our node.
 *
 * Both are safe to run again at any point: the transaction is a function of
 * the stored messages (and the attestation), and our ECDSA signatures are
 * deterministic (RFC 6979), so a repeat rebuilds the very same transaction;
 * one already in the mempool or the chain counts as done
 * (`alreadyBroadcast`), never as a failure.
 *
 * This module does NOT talk to the coordinator, print, or negotiate.
 */
import type { Transaction } from 'bitcoinjs-lib';
import type { ContractSetup } from '../../protocol/contract/index.js';
import { attestedSlotOf, completeAttestedCetAsParty, setupContract, signedRefundTransaction } from '../../protocol/contract/index.js';
import { isDlcError } from '../../protocol/errors.js';
import { buildFundingTransaction } from '../../protocol/tx/index.js';
import type { BitcoinRpc } from '../chain/index.js';
import { isChainError } from '../chain/index.js';
import { loadContract, needAccept, needSign, saveState, type LoadedContract } from './contract.js';
import { ParticipantError } from './errors.js';
import type { Participant } from './participant.js';
import { attestedCount, gatherAttestations, type GatheredAttestations } from './oracle-set.js';
import { eachPeriod, inPeriodError, periodOf, stripTargets, type PeriodStep } from './strip-steps.js';

/** Offerer or accepter (the stored record's role). */
export type ContractRole = 'offer' | 'accept';

/** A stored contract that has both accept_dlc and sign_dlc, with its setup rebuilt. */
export interface OpenedContract {
  c: LoadedContract;
  setup: ContractSetup;
}

/**
 * A signed contract from the wallet, its setup (CETs, refund, closing
 * parameters) rebuilt from the stored messages.
 * @throws {WalletError} WALLET_CONTRACT_NOT_FOUND; {ParticipantError} STATE before accept_dlc or sign_dlc.
 */
export function openSignedContract(p: Participant, id: string): OpenedContract {
  const c = loadContract(p.wallet(), id);
  const accept = needAccept(c);
  needSign(c);
  // `c.setupOptions`, never `c.flow` (which nests a strip period's batch for the flow builders): see loadContract.
  return { c, setup: setupContract(c.offer, accept, c.setupOptions) };
}

/** What a broadcast of a closing transaction did. */
export interface Broadcast {
  txid: string;
  /** It was in the mempool or the chain already (a repeat, or the counterparty was first). */
  already: boolean;
}

/**
 * Broadcasts a closing transaction; one already in the mempool or the chain counts as done.
 * @throws {ChainError} for any other refusal (CHAIN_NON_FINAL before a locktime, CHAIN_MISSING_INPUTS when another transaction spent the funding output, ...).
 */
export async function broadcastClosing(rpc: BitcoinRpc, tx: Transaction): Promise<Broadcast> {
  // A repeat (or the counterparty was first): the node knows it already, in its mempool or
  // (with a transaction index) its chain. Sending it again would succeed silently for one in
  // the mempool and so could not tell a repeat from a first broadcast.
  const known = (): Promise<boolean> => rpc.getRawTransaction(tx.getId()).then(() => true, () => false);
  if (await known()) return { txid: tx.getId(), already: true };
  try {
    return { txid: await rpc.sendRawTransaction(tx.toHex()), already: false };
  } catch (e) {
    if (isChainError(e) && e.code === 'CHAIN_ALREADY_IN_CHAIN') return { txid: tx.getId(), already: true };
    // Refused, but the node may have this very transaction by now: the counterparty or the
    // coordinator sent it between our look and our send (missing inputs once it is mined; a
    // mempool conflict when theirs carries other, equally valid signatures: the witness is
    // not in the txid, so it is the same transaction and the same payouts).
    if (isChainError(e) && (await known())) return { txid: tx.getId(), already: true };
    throw e;
  }
}

/** Sats each party gets. */
export interface Payouts {
  offer: bigint;
  accept: bigint;
}

export interface SettleInput {
  /** Offer id or contract id (or a unique prefix of 8+ hex digits). */
  id: string;
}

/** One oracle of a settled contract: what it attested and whether it agreed with the outcome settled on. */
export interface SettleOracle {
  url: string | undefined;
  publicKey: string;
  /** Its verified attested outcome, or null (unreachable, not attested, bad attestation). */
  outcome: string | null;
  /** True when it attested the settled outcome, false when another one, null when it gave none. */
  agreed: boolean | null;
  /** Why it gave no attestation (`not-attested`, `unreachable: ...`, `bad-attestation: ...`), else null. */
  missing: string | null;
}

export interface SettleResult {
  id: string;
  state: 'settled';
  /** The attested outcome the CET was completed with, as the oracles state it. */
  outcome: string;
  /** K of the contract's oracle set (1 for a single oracle). */
  threshold: number;
  oracles: SettleOracle[];
  cetIndex: number;
  txid: string;
  alreadyBroadcast: boolean;
  payouts: Payouts;
  /** This party's payout. */
  own: bigint;
}

/**
 * Each oracle's part in a completed CET: `agreed` when it attested the
 * outcome of the oracles whose attestations opened the slot.
 */
function settleOracles(g: GatheredAttestations, settled: string): SettleOracle[] {
  return g.oracles.map((o) => ({ url: o.url, publicKey: o.publicKey, outcome: o.outcome, agreed: o.outcome === null ? null : o.outcome === settled, missing: o.missing }));
}

/**
 * `hashdlc settle`: gathers the attestation of every oracle of the contract
 * (`gatherAttestations`: in parallel, each verified, an unreachable or silent
 * oracle skipped), completes the CET that K agreeing oracles open (a
 * dissenting oracle is simply not used: protocol/contract completion) alone
 * and broadcasts it through our node; the contract is recorded `settled`.
 * Needs no coordinator. Each oracle is asked at a configured URL with its
 * key, else the one stored with the contract.
 * @throws {ParticipantError} NOT_READY (fewer than K attested, the attested
 *   outcomes do not agree on a CET yet, or the CET's locktime not reached),
 *   MISMATCH (`cet-signature`, `disjoint-contract`), STATE (not signed yet);
 *   {DlcError}; {ChainError}.
 */
export async function settleContract(p: Participant, input: SettleInput): Promise<SettleResult> {
  const period = periodOf(p.wallet().contracts.get(input.id));
  return period === undefined ? settleOne(p, input) : settleOne(p, input).catch((e: unknown) => {
    throw inPeriodError(e, period);
  });
}

/**
 * A closing transaction spends THIS contract's funding output: for a strip's
 * period, the one output of the shared funding transaction that the batch
 * gives this period (every period's output pays the same 2-of-2 script, so
 * only the index tells them apart), and the funding transaction is the one
 * recorded as broadcast. Defends against a record whose batch is wrong (a
 * CET of period 2 built over period 1's output would be invalid on chain,
 * or, worse, settle the wrong period), caught here with a named error
 * instead of a node refusal.
 * @throws {ParticipantError} MISMATCH (`funding-txid`, `funding-output`).
 */
export function checkSpendsOwnOutput(c: Pick<LoadedContract, 'record'>, setup: Pick<ContractSetup, 'funding'>, tx: Transaction, what: string): void {
  const f = setup.funding;
  if (c.record.fundingTxid !== undefined && c.record.fundingTxid !== f.txidHex) {
    throw new ParticipantError('MISMATCH', `the funding transaction rebuilt from the stored messages is ${f.txidHex}, the one recorded is ${c.record.fundingTxid}`, { reason: 'funding-txid' });
  }
  const input = tx.ins[0];
  const spends = input === undefined ? undefined : `${Buffer.from(input.hash).reverse().toString('hex')}:${input.index}`;
  if (tx.ins.length !== 1 || spends !== `${f.txidHex}:${f.fundOutputIndex}`) {
    throw new ParticipantError('MISMATCH', `the ${what} spends ${spends ?? 'nothing'}, not this contract's funding output ${f.txidHex}:${f.fundOutputIndex}`, { reason: 'funding-output' });
  }
}

async function settleOne(p: Participant, input: SettleInput): Promise<SettleResult> {
  const { c, setup } = openSignedContract(p, input.id);
  const accept = needAccept(c);
  const sign = needSign(c);
  const gathered = await gatherAttestations(p, c);
  const attestations = gathered.attested;
  if (attestations.length < gathered.threshold) {
    const why = gathered.oracles.filter((o) => o.missing !== null).map((o) => `${o.url ?? o.publicKey}: ${o.missing}`);
    throw new ParticipantError('NOT_READY', `${attestedCount(gathered)} for event ${gathered.eventId}${why.length > 0 ? ` (${why.join('; ')})` : ''}`);
  }
  const role = c.record.role;
  const theirs = role === 'offer' ? accept.cetAdaptorSignatures : sign.cetAdaptorSignatures;
  const signer = p.contractSigner(c.record);
  // protocol/contract: the one CET completion (the coordinator's twin takes both adaptor signatures).
  const { tx, cetIndex, slotIndex } = await completeAttestedCetAsParty(setup, attestations, role, (sighash) => signer.signSighash(sighash), theirs).catch((e: unknown) => {
    if (isDlcError(e, 'INVALID_OUTCOME')) {
      const said = gathered.oracles.filter((o) => o.outcome !== null).map((o) => `${o.url ?? o.publicKey}: ${o.outcome}`);
      throw new ParticipantError('NOT_READY', `no ${gathered.threshold} oracles agree on an outcome yet (${said.join('; ')})`, { cause: e });
    }
    if (!isDlcError(e, 'BAD_SIGNATURE') || e.reason !== `cet-signature:${role === 'offer' ? 'accept' : 'offer'}`) throw e;
    throw new ParticipantError('MISMATCH', `the counterparty's adaptor signature for CET ${attestedSlotOf(setup, attestations).cetIndex} does not decrypt to a valid signature`, { reason: 'cet-signature' });
  });
  checkSpendsOwnOutput(c, setup, tx, `CET ${cetIndex}`);
  // The outcome the CET settles on: that of an oracle whose attestation opened the slot.
  const opener = setup.plan.adaptorSlots[slotIndex]!.oracles[0]!.oracleIndex;
  const outcome = gathered.oracles[opener]!.outcome!;
  const rpc = await p.rpc();
  let sent: Broadcast;
  try {
    sent = await broadcastClosing(rpc, tx);
  } catch (e) {
    if (isChainError(e) && e.code === 'CHAIN_NON_FINAL') {
      throw new ParticipantError('NOT_READY', `the CET is locked until height ${tx.locktime}; try again after it`, { cause: e });
    }
    throw e;
  }
  saveState(p.wallet(), c.record, 'settled', { closingTxid: sent.txid }, `CET ${cetIndex}, outcome ${outcome}`);
  const planned = setup.plan.cets[cetIndex]!;
  const payouts = { offer: planned.offerPayout, accept: planned.acceptPayout };
  return {
    id: c.record.id,
    state: 'settled',
    outcome,
    threshold: gathered.threshold,
    oracles: settleOracles(gathered, outcome),
    cetIndex,
    txid: sent.txid,
    alreadyBroadcast: sent.already,
    payouts,
    own: role === 'offer' ? payouts.offer : payouts.accept,
  };
}

export interface RefundInput {
  /** Offer id or contract id (or a unique prefix of 8+ hex digits). */
  id: string;
}

export interface RefundResult {
  id: string;
  state: 'refunded';
  txid: string;
  alreadyBroadcast: boolean;
  /** Each party's collateral back. */
  payouts: Payouts;
}

/**
 * `hashdlc refund`: once the tip reaches the refund locktime, broadcasts the
 * refund transaction (both refund signatures are stored) through our node;
 * the contract is recorded `refunded`. Needs no coordinator.
 * @throws {ParticipantError} NOT_READY before the locktime, STATE (not signed yet); {ChainError}.
 */
export async function refundContract(p: Participant, input: RefundInput): Promise<RefundResult> {
  const period = periodOf(p.wallet().contracts.get(input.id));
  return period === undefined ? refundOne(p, input) : refundOne(p, input).catch((e: unknown) => {
    throw inPeriodError(e, period);
  });
}

async function refundOne(p: Participant, input: RefundInput): Promise<RefundResult> {
  const { c, setup } = openSignedContract(p, input.id);
  const rpc = await p.rpc();
  const tip = await rpc.getBlockCount();
  // nLockTime L (a height): final in a block of height > L, so the mempool takes it once the tip is L.
  if (tip < c.offer.refundLocktime) {
    throw new ParticipantError('NOT_READY', `refund locktime ${c.offer.refundLocktime} not reached (tip ${tip}); ${c.offer.refundLocktime - tip} more block(s)`);
  }
  const tx = signedRefundTransaction(setup, needSign(c).refundSignature, needAccept(c).refundSignature);
  checkSpendsOwnOutput(c, setup, tx, 'refund transaction');
  const sent = await broadcastClosing(rpc, tx);
  saveState(p.wallet(), c.record, 'refunded', { closingTxid: sent.txid });
  return {
    id: c.record.id,
    state: 'refunded',
    txid: sent.txid,
    alreadyBroadcast: sent.already,
    payouts: { offer: setup.closing.offerCollateral, accept: setup.closing.acceptCollateral },
  };
}

// ------------------------------------------------------------------ strips (issue 12)

export interface StripStepInput {
  /** The strip id (every period), another period's id (that period), or any id with `period`. */
  id: string;
  /** 1-based: this period of the strip named by `id` alone. */
  period?: number;
}

/** A settle or refund over a strip's periods, one entry per period covered. */
export interface StripStepResult<T> {
  /** The strip id (undefined for a single contract named). */
  strip: string | undefined;
  periods: PeriodStep<T>[];
}

/**
 * `hashdlc settle <strip-id>`: settles every period of the strip that K
 * oracles attested and is not settled, refunded or closed yet, each with
 * `settleContract` (its own CET over its own funding output); a period not
 * attested yet is `waiting`, an error fails only its period (named). A
 * period recorded settled, refunded or closed whose funding output the node
 * finds unspent is settled all the same (the record may hold only a
 * coordinator's word: strip-steps.ts `eachPeriod`).
 * With a period id or `period`: that period alone.
 * @throws {WalletError} WALLET_CONTRACT_NOT_FOUND; {ParticipantError} USAGE (`period`), STATE (`strip-records`).
 */
export async function settleStrip(p: Participant, input: StripStepInput): Promise<StripStepResult<SettleResult>> {
  const t = stripTargets(p.wallet(), input.id, input.period);
  return { strip: t.strip?.id, periods: await eachPeriod(p.wallet(), t.records, (r) => orSpentElsewhere(p, r.id, () => settleContract(p, { id: r.id })), (r) => fundingOutputUnspent(p, r.id)) };
}

/**
 * Whether the contract's funding output is spent (in the mempool or the
 * chain) while its funding transaction is known to the node: someone closed
 * the contract (the counterparty's or the coordinator's CET, refund or
 * close), whatever our record says.
 * @throws {ChainError}
 */
export async function fundingOutputSpent(p: Participant, id: string): Promise<boolean> {
  return (await fundingOutputOnChain(p, id)) === 'spent';
}

/**
 * Whether the contract's funding output is unspent (in the mempool and the
 * chain) while its funding transaction is known to the node: nobody closed
 * the contract, whatever our record (or the coordinator's word it took) says.
 * @throws {ChainError}
 */
export async function fundingOutputUnspent(p: Participant, id: string): Promise<boolean> {
  return (await fundingOutputOnChain(p, id)) === 'unspent';
}

/** The contract's funding output as the node sees it (`unknown`: no accept yet, or the funding transaction unknown). */
async function fundingOutputOnChain(p: Participant, id: string): Promise<'spent' | 'unspent' | 'unknown'> {
  const c = loadContract(p.wallet(), id);
  if (c.accept === undefined) return 'unknown';
  const funding = buildFundingTransaction(c.offer, c.accept, c.funding);
  const rpc = await p.rpc();
  const known = await rpc.getRawTransaction(funding.txidHex).then(() => true, () => false);
  if (!known) return 'unknown';
  return (await rpc.getTxOut(funding.txidHex, funding.fundOutputIndex, true)) === null ? 'spent' : 'unspent';
}

/**
 * Runs a period's step; when it fails and the period's funding output turns
 * out spent by another transaction, the failure is STATE `funding-spent`
 * (the strip steps report the period ended): our local record had not seen
 * the counterparty's (or the coordinator's) settlement, refund or close.
 */
async function orSpentElsewhere<T>(p: Participant, id: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    if (!(await fundingOutputSpent(p, id).catch(() => false))) throw e;
    throw new ParticipantError('STATE', 'its funding output is spent by another transaction already (settled, refunded or closed by someone else)', { reason: 'funding-spent', cause: e });
  }
}

/**
 * `hashdlc refund <strip-id>`: refunds every period of the strip whose own
 * refund locktime the tip has reached and that is not settled, refunded or
 * closed (each with `refundContract`); a period before its locktime is
 * `waiting`. With a period id or `period`: that period alone.
 * @throws as {@link settleStrip}.
 */
export async function refundStrip(p: Participant, input: StripStepInput): Promise<StripStepResult<RefundResult>> {
  const t = stripTargets(p.wallet(), input.id, input.period);
  return { strip: t.strip?.id, periods: await eachPeriod(p.wallet(), t.records, (r) => orSpentElsewhere(p, r.id, () => refundContract(p, { id: r.id })), (r) => fundingOutputUnspent(p, r.id)) };
}
