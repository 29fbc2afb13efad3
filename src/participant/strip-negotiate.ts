/**
 * A strip's negotiation (issue 12): accept, sign and fund of the N period
 * contracts that ONE funding transaction funds, one round through the
 * coordinator's `/v1/strips/:id/...` routes. Each period is checked as a
 * single contract is (negotiate.ts), and nothing is signed before every
 * period passed: errors name the period ("period 3: ...").
 *
 * - `acceptStrip`: the strip terms re-derived period by period from the
 *   offers (`checkStripOffersAgainstTerms`), each period's oracle set and
 *   event from my own oracles, timing, locktimes, fee rate, the delivery
 *   address; the offers describe one funding transaction (`checkBatchOffers`);
 *   then one coin selection, one funding key and N accepts.
 * - `signStrip`: the accepts are one batch (`checkBatchAccepts`), every
 *   period's adaptor and refund signatures verified, the coordinator's PSBT
 *   checked against OUR funding transaction; then N CET/refund signature sets
 *   and our funding inputs signed ONCE for the N sign_dlc.
 * - `fundStrip`: the signs are one batch (`checkBatchSigns`), every period's
 *   sign_dlc verified; our funding inputs signed once; one PSBT.
 *
 * External wallets: `utxos` (offer, accept) fund the strip from another
 * wallet's outpoints; sign and fund then run twice, as a single contract's:
 * `psbtOut` verifies every period, stores our CET and refund signatures and
 * returns the ONE funding PSBT; `psbtIn` (the wallet's signed PSBT) finishes.
 *
 * This module does NOT settle, read files or print.
 */
import type { ContractSetup } from '../../protocol/contract/index.js';
import {
  assembleSign,
  buildAcceptAsync,
  checkBatchAccepts,
  checkBatchOffers,
  checkBatchSigns,
  fundingPsbtOf,
  packAdaptorSignatures,
  setupContract,
  signContractWith,
  unpackAdaptorSignatures,
  verifyAcceptAsync,
  verifyFundingPsbt,
  verifySignAsync,
} from '../../protocol/contract/index.js';
import type { AcceptDlc, FundingSignatures, OfferDlc, SignDlc } from '../../protocol/messages/index.js';
import { decodeAcceptDlc, decodeOfferDlc, decodeSignDlc, encodeAcceptDlc, encodeSignDlc, fromHex, toHex } from '../../protocol/messages/index.js';
import { batchToJson, checkStripOffersAgainstTerms, contractFundingOptions, periodTermsOf, stripExtraOutputs, stripPeriodCount, type OfferTerms } from '../../protocol/terms/index.js';
import { applyFundingSignatures, buildFundingTransaction, partyFundingPsbt } from '../../protocol/tx/index.js';
import type { StripView } from '../api/index.js';
import { isChainError } from '../chain/index.js';
import type { ContractRecord } from '../wallet/index.js';
import {
  addressScript,
  checkDeliveryAddressFresh,
  checkFundingDeadline,
  chooseFunding,
  freshSerialIds,
  loadContract,
  localStateOf,
  nowIso,
  parseTerms,
  saveState,
  type LoadedContract,
} from './contract.js';
import { checkDeliveryAddressOurs, checkOfferedContract } from './accept-checks.js';
import { ParticipantError } from './errors.js';
import {
  outpointsOf,
  ownWitnessesOfExternalPsbt,
  refuseOurCoinsAsCounterpartyInputs,
  refuseUnverifiableCounterpartyInputs,
  signOwnFundingInputs,
} from './funding-inputs.js';
import { batchSiblingCost, inPeriodP, namedPeriodP } from './offer.js';
import { measurementRisk, type MeasurementRisk } from './luck.js';
import { oracleSetLines, type OracleSetEvents } from './oracle-set.js';
import type { ExternalPsbtInput } from './negotiate.js';
import type { Participant } from './participant.js';
import { engineVerifier } from './progress.js';
import { periodLabel, stripRecords } from './strip.js';

/** A strip's place in a step's result: its id and each period's offer id (and contract id once known). */
export interface StripSummary {
  id: string;
  periods: { index: number; id: string; contractId: string | undefined; eventId: string | undefined; window: { start: number; end: number } | undefined }[];
}

/**
 * Every period's set-up builds the ONE funding transaction of period 1: a
 * period over another transaction (another batch, inputs or outputs) is
 * refused naming it.
 * @throws {ParticipantError} MISMATCH `batch-funding-txid`.
 */
function checkOneFundingTransaction(setups: readonly ContractSetup[]): void {
  setups.forEach((s, i) => {
    if (s.funding.txidHex !== setups[0]!.funding.txidHex) throw new ParticipantError('MISMATCH', `period ${i + 1}: its funding transaction differs from period 1's`, { reason: 'batch-funding-txid' });
  });
}

/** `fn` for period `i`, its error naming the period. */
async function inPeriodAsync<T>(i: number, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw namedPeriodP(e, i);
  }
}

// ------------------------------------------------------------------ accept

export interface StripAcceptInput {
  /** The strip id (or any period's offer id: the coordinator's view names the strip). */
  stripId: string;
  dryRun?: boolean;
  deliveryAddress?: string;
  maxFeeRatePerVb: bigint;
  /** External wallet: fund from these outpoints (`txid:vout`). */
  utxos?: string[];
  payoutAddress?: string;
  changeAddress?: string;
}

export interface StripAcceptChecked {
  id: string;
  terms: OfferTerms;
  eventId: string;
  threshold: number;
  oracles: OracleSetEvents['oracles'];
  summary: string[];
  /** A sale stating its pool's share: the pool-luck risk of each period (lines included in `summary`) and warnings. */
  measurementRisk: MeasurementRisk;
  strip: StripSummary;
}

/**
 * Accepts a strip (or, `dryRun`, checks and describes it). Every check of a
 * single accept runs for every period before anything is signed.
 * @throws {ParticipantError} as `acceptOffer`, the message naming the period;
 *   STATE (accepted here already); {DlcError} (`terms-mismatch:*`, `batch-*`) with `details.period`.
 */
export async function acceptStrip(p: Participant, input: StripAcceptInput): Promise<
  | (StripAcceptChecked & { dryRun: true; cets: number })
  | (StripAcceptChecked & { dryRun: false; state: 'accepted'; contractId: string; fundingTxid: string; cets: number; adaptorSignatures: number; resent: boolean })
> {
  const wallet = p.wallet();
  const coordinator = p.coordinator();
  const view = await coordinator.strip(input.stripId);
  const stripId = view.id;
  // Public while offered; once we accepted (a repeat), only to a party: signed with our identity key.
  const local = wallet.contracts.has(stripId) ? wallet.contracts.get(stripId) : undefined;
  const identityKey = local?.role === 'accept' ? wallet.keys.contractIdentity(local.keyIndex).identitySecretKey : undefined;
  const messages = await coordinator.stripMessages(stripId, identityKey);
  const offers: OfferDlc[] = messages.offers.map((h) => decodeOfferDlc(fromHex(h)));
  const terms = parseTerms(view.terms);
  const n = stripPeriodCount(terms);
  if (offers.length !== n || view.periods !== n) throw new ParticipantError('MISMATCH', `the strip's terms make ${n} periods; the coordinator serves ${offers.length} offers for ${view.periods}`, { reason: 'strip-offer-count' });
  if (toHex(offers[0]!.temporaryContractId) !== stripId) throw new ParticipantError('MISMATCH', `the coordinator served offer ${toHex(offers[0]!.temporaryContractId)} as period 1 of strip ${stripId}`, { reason: 'offer-id' });
  // One funding transaction: same inputs, keys, change and fee rate in every period.
  checkBatchOffers(offers);
  // Hole 1: the offerer may not list a coin of ours (the inputs are the same in every period).
  const utxos = input.utxos ?? [];
  refuseOurCoinsAsCounterpartyInputs(wallet, 'offer', offers[0]!.fundingInputs, utxos);
  if (utxos.length > 0) refuseUnverifiableCounterpartyInputs('offer', offers[0]!.fundingInputs);
  // The terms re-derived: each offer is the contract its period's terms describe.
  const checkedOffers = checkStripOffersAgainstTerms(offers, terms);
  const periodTerms = periodTermsOf(terms);
  const rpc = await p.rpc();
  const tip = await rpc.getBlockCount();
  const sets: OracleSetEvents[] = [];
  const contracts = [];
  for (let i = 0; i < n; i++) {
    // Every period exactly as a single offer is checked (accept-checks.ts), the error naming the period.
    const { set, contract } = await inPeriodAsync(i, () => checkOfferedContract(p, offers[i]!, periodTerms[i]!, tip, input.maxFeeRatePerVb));
    sets.push(set);
    contracts.push(contract);
  }
  checkDeliveryAddressOurs(wallet, terms, input.deliveryAddress);
  if (terms.template === 'hashpower-sale') {
    // One delivery address, one strip (issue 9, hole 7): its periods measure consecutive windows.
    const own = new Set(offers.map((o) => toHex(o.temporaryContractId)));
    const other = wallet.contracts.list().find((r) => !own.has(r.id) && r.strip?.id !== stripId && r.terms.deliveryAddress === terms.deliveryAddress && !['failed', 'cancelled', 'closed', 'settled', 'refunded'].includes(r.state));
    if (other !== undefined) {
      throw new ParticipantError('MISMATCH', `delivery address ${terms.deliveryAddress} is measured by contract ${other.id} of this wallet (${other.state}) already; give each contract a fresh one ('hashdlc wallet address')`, { reason: 'delivery-address-in-use' });
    }
    // Not paid yet either (on a repeat of our own accept, our periods' records measure it: checked the first time).
    if (identityKey === undefined) await checkDeliveryAddressFresh(wallet, rpc, terms.deliveryAddress, stripId);
  }
  const ids = offers.map((o) => toHex(o.temporaryContractId));
  const upfront = stripExtraOutputs(terms);
  const stripSummary = (contractIds: (string | undefined)[]): StripSummary => ({
    id: stripId,
    periods: ids.map((id, i) => ({ index: i, id, contractId: contractIds[i], eventId: sets[i]!.events[0]!.eventId, window: 'window' in periodTerms[i]! ? periodTerms[i]!.window : undefined })),
  });
  const risk = measurementRisk(terms);
  const checked: StripAcceptChecked = {
    id: stripId,
    terms,
    eventId: sets[0]!.events[0]!.eventId,
    threshold: sets[0]!.threshold,
    oracles: sets[0]!.oracles,
    summary: [
      `strip of ${n} periods, one funding transaction${upfront.length > 0 ? ` (you pay ${upfront[0]!.value} sats to the offerer in it, once)` : ''}`,
      ...oracleSetLines(sets[0]!.threshold, sets[0]!.oracles),
      `fee rate ${offers[0]!.feeRatePerVb} sat/vB; funding deadline: height ${String(terms.fundingDeadline)} (fund before it; 'hashdlc cancel' takes your coins back after it)`,
      ...contracts.flatMap((c, i) => [
        `${periodLabel(i, n)}: event ${sets[i]!.events[0]!.eventId} (attests at height ${sets[i]!.events[0]!.attestHeight}), CET locktime ${offers[i]!.cetLocktime}, refund locktime ${offers[i]!.refundLocktime}`,
        ...c.summary.lines.map((l) => `  ${l}`),
      ]),
      ...risk.lines,
    ],
    measurementRisk: risk,
    strip: stripSummary(ids.map(() => undefined)),
  };
  const cetTotal = contracts.reduce((s, c) => s + c.cetCount.cets, 0);
  if (input.dryRun === true) return { dryRun: true, ...checked, cets: cetTotal };

  // A repeat of an accept made here: send the stored accepts again (no new keys, coins or signatures).
  if (wallet.contracts.has(stripId)) {
    const earlier = stripRecords(wallet, stripId);
    // A crash while the N records were being stored (before the POST: nothing was sent) leaves fewer: accepted anew below.
    if (earlier !== undefined && earlier.length === n && earlier[0]!.role === 'accept' && earlier[0]!.state !== 'failed' && earlier[0]!.state !== 'cancelled') {
      if (earlier[0]!.state !== 'accepted') throw new ParticipantError('STATE', `strip ${stripId} is accepted here already (state ${earlier[0]!.state})`);
      earlier.forEach((r, i) => {
        if (r.offer !== messages.offers[i]) throw new ParticipantError('MISMATCH', `period ${i + 1}: the coordinator now serves another offer_dlc than the one accepted here`, { reason: 'offer-changed' });
      });
      const loaded = earlier.map((r) => loadContract(wallet, r.id));
      const setups = loaded.map((c, i) => inPeriodP(i, () => buildSetup(c)));
      await postStripAccept(p, stripId, earlier, setups[0]!);
      return { dryRun: false, ...checked, strip: stripSummary(setups.map((s) => toHex(s.contractId))), state: 'accepted', contractId: toHex(setups[0]!.contractId), fundingTxid: setups[0]!.funding.txidHex, cets: cetTotal, adaptorSignatures: setups.reduce((s, x) => s + x.plan.adaptorSlots.length, 0), resent: true };
    }
  }

  // One funding key, payout and change script, one coin selection for the strip.
  const keys = wallet.newContractIdentity();
  const signer = p.contractSigner(keys.index);
  const payoutSpk = input.payoutAddress !== undefined ? addressScript(input.payoutAddress, wallet) : wallet.newReceiveAddress().script;
  const changeSpk = input.changeAddress !== undefined ? addressScript(input.changeAddress, wallet) : wallet.newChangeAddress().script;
  const extras = [...contracts.flatMap((c) => c.extraOutputs), ...upfront];
  const paid = extras.filter((o) => o.payer === 'accept');
  const amount = contracts.reduce((s, c) => s + c.acceptCollateral, 0n) + paid.reduce((s, o) => s + o.value, 0n) + batchSiblingCost(n - 1, payoutSpk.length, offers[0]!.feeRatePerVb);
  const { inputs, reserved } = await chooseFunding(wallet, rpc, utxos, amount, offers[0]!.feeRatePerVb, paid.map((o) => o.script.length));
  const taken = new Set([
    ...offers.flatMap((o) => [o.payoutSerialId, o.changeSerialId, o.fundOutputSerialId]),
    ...extras.map((o) => o.serialId),
    ...offers[0]!.fundingInputs.map((i) => i.inputSerialId),
  ]);
  const fresh = freshSerialIds(taken);
  for (const fundingInput of inputs) while (taken.has(fundingInput.inputSerialId)) fundingInput.inputSerialId = fresh();
  const payoutSerialId = fresh();
  const changeSerialId = fresh();
  const accepts: AcceptDlc[] = [];
  const setups: ContractSetup[] = [];
  for (let i = 0; i < n; i++) {
    const funding = contractFundingOptions(checkedOffers.templates[i]!, { terms, batch: batchToJson(checkedOffers.contracts, i) });
    p.note(`signing ${periodLabel(i, n)}`);
    const built = await inPeriodAsync(i, () => buildAcceptAsync(offers[i]!, {
      signer,
      fundingInputs: inputs,
      payoutSpk,
      changeSpk,
      payoutSerialId,
      changeSerialId,
      extraOutputs: funding.extraOutputs,
      hashProfile: sets[i]!.hashProfile,
      ...(funding.batch !== undefined ? { setup: { batch: funding.batch } } : {}),
    }));
    accepts.push(built.accept);
    setups.push(built.setup);
  }
  checkBatchAccepts(offers, accepts);
  checkOneFundingTransaction(setups);
  const at = nowIso();
  const records: ContractRecord[] = offers.map((_, i) => ({
    version: 1,
    id: ids[i]!,
    role: 'accept',
    network: wallet.network.name,
    keyIndex: keys.index,
    state: 'accepted',
    history: [{ state: 'offered', at }, { state: 'accepted', at }],
    coordinator: coordinator.http.base,
    oracle: sets[i]!.oracles[0]!.url,
    oracles: sets[i]!.oracles,
    hashProfile: sets[i]!.hashProfile,
    terms: periodTerms[i] as Record<string, unknown>,
    offer: messages.offers[i]!,
    accept: toHex(encodeAcceptDlc(accepts[i]!)),
    contractId: toHex(setups[i]!.contractId),
    fundingPsbt: fundingPsbtOf(setups[i]!).toBase64(),
    reservedOutpoints: reserved,
    strip: { id: stripId, terms: terms as Record<string, unknown>, batch: batchToJson(checkedOffers.contracts, i) },
  }));
  // Stored before sent: the adaptor signatures are out once posted.
  for (const r of records) wallet.contracts.save(r);
  await postStripAccept(p, stripId, records, setups[0]!);
  return {
    dryRun: false,
    ...checked,
    strip: stripSummary(setups.map((s) => toHex(s.contractId))),
    state: 'accepted',
    contractId: toHex(setups[0]!.contractId),
    fundingTxid: setups[0]!.funding.txidHex,
    cets: cetTotal,
    adaptorSignatures: setups.reduce((s, x) => s + x.plan.adaptorSlots.length, 0),
    resent: false,
  };
}

/** The set-up of a stored period contract from its offer and accept (its batch from the record's strip). */
function buildSetup(c: LoadedContract): ContractSetup {
  if (c.accept === undefined) throw new ParticipantError('STATE', `contract ${c.record.id} has no accept_dlc yet`);
  return setupContract(c.offer, c.accept, c.setupOptions);
}

/**
 * Posts the stored accepts; a refusal frees the coins (every period marked
 * failed) unless the coordinator holds these very accepts (a repeat), and the
 * funding PSBT the coordinator answers must be our funding transaction.
 */
async function postStripAccept(p: Participant, stripId: string, records: ContractRecord[], setup: ContractSetup): Promise<void> {
  const coordinator = p.coordinator();
  const wallet = p.wallet();
  const keys = wallet.keys.contractIdentity(records[0]!.keyIndex);
  const accepts = records.map((r) => r.accept!);
  let view: StripView;
  try {
    view = await coordinator.acceptStrip(stripId, { accepts, identityPubkey: toHex(keys.identityPublicKey) }, keys.identitySecretKey);
  } catch (err) {
    const m = err instanceof ParticipantError && err.code === 'REMOTE' ? await coordinator.stripMessages(stripId, keys.identitySecretKey).catch(() => undefined) : undefined;
    const ours = m?.accepts !== null && m?.accepts !== undefined && m.accepts.every((a, i) => a === accepts[i]);
    if (!ours) {
      if (err instanceof ParticipantError && err.code === 'REMOTE') {
        for (const r of records) saveState(wallet, r, 'failed', {}, `coordinator refused the strip's accept: ${err.remoteCode ?? ''} ${err.message}`.trim());
        p.note(`the coordinator refused the accept; its reserved coins (${records[0]!.reservedOutpoints.join(', ')}) are free again`);
      }
      throw err;
    }
    view = await coordinator.strip(stripId, keys.identitySecretKey);
  }
  if (view.fundingPsbt) verifyFundingPsbt(setup, view.fundingPsbt, 'accept');
}

// ------------------------------------------------------------------ sign

/**
 * A strip opened for a funding step (as open.ts `openContract` opens one
 * contract): every period record here, loaded in period order, and the step
 * being this party's.
 * @throws {ParticipantError} STATE (a period missing here; the other party's step).
 */
function openStrip(p: Participant, records: ContractRecord[], role: 'offer' | 'accept'): { stripId: string; cs: LoadedContract[] } {
  const stripId = records[0]!.strip!.id;
  const n = records[0]!.strip!.batch.contracts.length;
  if (records.length !== n) throw new ParticipantError('STATE', `strip ${stripId} has ${n} periods; this wallet holds ${records.length} of them`);
  const cs = records.map((r) => loadContract(p.wallet(), r.id));
  if (cs[0]!.record.role !== role) {
    throw new ParticipantError('STATE', role === 'offer'
      ? `strip ${stripId} was accepted here: the accepter funds; use 'hashdlc fund'`
      : `strip ${stripId} was offered here: the offerer signs; use 'hashdlc sign'`);
  }
  return { stripId, cs };
}

/**
 * The offerer signs an accepted strip: every period's accept verified (all
 * adaptor signatures and the refund signature; errors name the period), the
 * accepts one batch, the coordinator's PSBT our funding transaction; then
 * each period's CET and refund signatures, and our funding inputs ONCE.
 * @throws {ParticipantError} as `signContract`; {DlcError} naming the period.
 */
export async function signStrip(
  p: Participant,
  records: ContractRecord[],
  ext: ExternalPsbtInput = {},
): Promise<{ psbtOut: true; id: string; psbt: string; fundingTxid: string } | { psbtOut: false; id: string; contractIds: string[]; fundingTxid: string | undefined; resent: boolean }> {
  const wallet = p.wallet();
  const coordinator = p.coordinator();
  const opened = openStrip(p, records, 'offer');
  const stripId = opened.stripId;
  let cs = opened.cs;
  const first = cs[0]!;
  await checkFundingDeadline(first.terms, await p.rpc());
  const n = cs.length;
  if (cs.every((c) => c.record.sign !== undefined)) {
    // A crash between two periods' records leaves some `signed`, some `accepted`: finished by the re-send.
    if (cs.every((c) => c.record.state === 'signed') || cs.some((c) => c.record.state !== 'accepted' && c.record.state !== 'signed')) {
      throw new ParticipantError('STATE', `strip ${stripId} is signed already (state ${first.record.state})`);
    }
    // Made in an earlier run whose POST did not go through: send them again.
    const signs = cs.map((c) => c.record.sign!);
    const again = partyFundingPsbt(buildFundingTransaction(first.offer, first.accept!, first.funding), 'offer', decodeSignDlc(fromHex(signs[0]!)).fundingSignatures);
    await coordinator.signStrip(stripId, { signs, fundingPsbt: again.toBase64() }, first.keys.identitySecretKey).catch(async (err: unknown) => {
      const m = err instanceof ParticipantError && err.code === 'REMOTE' ? await coordinator.stripMessages(stripId, first.keys.identitySecretKey).catch(() => undefined) : undefined;
      if (!(m?.signs?.every((s, i) => s === signs[i]) ?? false)) throw err;
    });
    for (const c of cs) if (c.record.state !== 'signed') saveState(wallet, c.record, 'signed');
    return { psbtOut: false, id: stripId, contractIds: cs.map((c) => c.record.contractId ?? ''), fundingTxid: undefined, resent: true };
  }
  const signer = p.contractSigner(first.record);
  let setups: ContractSetup[];
  let fundingSignatures: FundingSignatures;
  if (ext.psbtIn !== undefined) {
    // Second run: every accept was verified and our signatures made in the first.
    if (cs.some((c) => c.record.ownCetSignatures === undefined || c.accept === undefined)) {
      throw new ParticipantError('STATE', `run 'hashdlc sign ${stripId} --psbt-out FILE' first`);
    }
    refuseOurCoinsAsCounterpartyInputs(wallet, 'accept', first.accept!.fundingInputs, outpointsOf(first.offer.fundingInputs));
    refuseUnverifiableCounterpartyInputs('accept', first.accept!.fundingInputs);
    setups = cs.map((c, i) => inPeriodP(i, () => buildSetup(c)));
    fundingSignatures = ownWitnessesOfExternalPsbt(setups[0]!, verifyFundingPsbt(setups[0]!, ext.psbtIn, 'offer').psbt, 'offer');
  } else {
    const r = await verifyAcceptsAndSign(p, cs, ext.psbtOut === true);
    cs = r.cs;
    setups = r.setups;
    if (ext.psbtOut === true) return { psbtOut: true, id: stripId, psbt: fundingPsbtOf(setups[0]!).toBase64(), fundingTxid: setups[0]!.funding.txidHex };
    // Our funding inputs, signed once: the N sign_dlc carry the same witnesses.
    fundingSignatures = signOwnFundingInputs(signer, setups[0]!, 'offer');
  }
  const partyPsbt = partyFundingPsbt(setups[0]!.funding, 'offer', fundingSignatures);
  const signs: SignDlc[] = cs.map((c, i) => inPeriodP(i, () => assembleSign(
    setups[i]!,
    { cetAdaptorSignatures: unpackAdaptorSignatures(fromHex(c.record.ownCetSignatures!)), refundSignature: fromHex(c.record.ownRefundSignature!) },
    fundingSignatures,
  )));
  checkBatchSigns(signs, n);
  const signHexes = signs.map((s) => toHex(encodeSignDlc(s)));
  cs = cs.map((c, i) => ({ ...c, record: saveState(wallet, c.record, c.record.state, { sign: signHexes[i]!, fundingPsbt: partyPsbt.toBase64() }) }));
  await coordinator.signStrip(stripId, { signs: signHexes, fundingPsbt: partyPsbt.toBase64() }, first.keys.identitySecretKey);
  for (const c of cs) saveState(wallet, c.record, 'signed');
  return { psbtOut: false, id: stripId, contractIds: setups.map((s) => toHex(s.contractId)), fundingTxid: setups[0]!.funding.txidHex, resent: false };
}

/**
 * The first half of the offerer's sign: the accepts fetched and checked as one
 * batch, every period's accept verified (errors name the period), the
 * coordinator's PSBT checked; then every period's CET and refund signatures
 * made and stored (nothing sent).
 */
async function verifyAcceptsAndSign(p: Participant, cs: LoadedContract[], external: boolean): Promise<{ cs: LoadedContract[]; setups: ContractSetup[] }> {
  const wallet = p.wallet();
  const coordinator = p.coordinator();
  const first = cs[0]!;
  const stripId = first.record.strip!.id;
  const n = cs.length;
  const messages = await coordinator.stripMessages(stripId, first.keys.identitySecretKey);
  if (messages.accepts === null) throw new ParticipantError('STATE', `strip ${stripId} has not been accepted yet`);
  if (messages.accepts.length !== n) throw new ParticipantError('MISMATCH', `strip ${stripId} has ${n} periods; the coordinator serves ${messages.accepts.length} accepts`, { reason: 'strip-accept-count' });
  const accepts = messages.accepts.map((h, i) => inPeriodP(i, () => decodeAcceptDlc(fromHex(h))));
  checkBatchAccepts(cs.map((c) => c.offer), accepts);
  // Hole 1: the accepter may not list a coin of ours (its inputs are the same in every period).
  refuseOurCoinsAsCounterpartyInputs(wallet, 'accept', accepts[0]!.fundingInputs, outpointsOf(first.offer.fundingInputs));
  if (external) refuseUnverifiableCounterpartyInputs('accept', accepts[0]!.fundingInputs);
  const engine = await p.engine();
  const setups: ContractSetup[] = [];
  for (let i = 0; i < n; i++) {
    p.note(`verifying ${periodLabel(i, n)}`);
    setups.push(await inPeriodAsync(i, () => verifyAcceptAsync(cs[i]!.offer, accepts[i]!, cs[i]!.flow, engineVerifier(engine, p.progress))));
  }
  checkOneFundingTransaction(setups);
  // The coordinator's PSBT must be our funding transaction; we sign our own clean copy.
  const view = await coordinator.strip(stripId, first.keys.identitySecretKey);
  if (view.fundingPsbt) verifyFundingPsbt(setups[0]!, view.fundingPsbt, 'offer');
  const signer = p.contractSigner(first.record);
  const psbt = fundingPsbtOf(setups[0]!);
  const out = [...cs];
  for (let i = 0; i < n; i++) {
    const sigs = await inPeriodAsync(i, () => signContractWith(setups[i]!, signer));
    const record = saveState(wallet, cs[i]!.record, 'accepted', {
      accept: messages.accepts[i]!,
      contractId: toHex(setups[i]!.contractId),
      ownCetSignatures: toHex(packAdaptorSignatures(sigs.cetAdaptorSignatures)),
      ownRefundSignature: toHex(sigs.refundSignature),
      fundingPsbt: psbt.toBase64(),
    });
    out[i] = { ...cs[i]!, record, accept: accepts[i]! };
  }
  return { cs: out, setups };
}

// ------------------------------------------------------------------ fund

const FUNDED_ON_COORDINATOR = new Set(['funding-broadcast', 'confirmed']);

/**
 * The accepter funds a signed strip: every period's sign_dlc verified (CET
 * adaptor signatures, refund, funding witnesses; errors name the period), the
 * signs one batch, the PSBT our funding transaction; our funding inputs signed
 * once; one PSBT to `/v1/strips/:id/fund` (or, `broadcast`, our own node).
 * @throws {ParticipantError} as `fundContract`; {DlcError} naming the period; {ChainError}.
 */
export async function fundStrip(
  p: Participant,
  records: ContractRecord[],
  broadcast: boolean,
  ext: ExternalPsbtInput = {},
): Promise<{ psbtOut: true; id: string; psbt: string; fundingTxid: string } | { psbtOut: false; id: string; contractIds: string[]; fundingTxid: string; broadcastBy: 'node' | 'coordinator'; alreadyFunded: boolean }> {
  const wallet = p.wallet();
  const coordinator = p.coordinator();
  const opened = openStrip(p, records, 'accept');
  const stripId = opened.stripId;
  let cs = opened.cs;
  const first = cs[0]!;
  // A crash between two periods' records leaves some funded, some not: the rest recorded below, nothing signed.
  if (cs.every((c) => c.record.fundingTxid !== undefined)) throw new ParticipantError('STATE', `strip ${stripId} is funded already (${first.record.fundingTxid})`);
  const fundedEarlier = cs.find((c) => c.record.fundingTxid !== undefined)?.record.fundingTxid;
  const n = cs.length;
  refuseOurCoinsAsCounterpartyInputs(wallet, 'offer', first.offer.fundingInputs, outpointsOf(first.accept!.fundingInputs));
  if (ext.psbtOut === true || ext.psbtIn !== undefined) refuseUnverifiableCounterpartyInputs('offer', first.offer.fundingInputs);
  await checkFundingDeadline(first.terms, await p.rpc());
  const setups: ContractSetup[] = [];
  if (cs.every((c) => c.sign !== undefined)) {
    cs.forEach((c, i) => setups.push(inPeriodP(i, () => buildSetup(c))));
  } else {
    const messages = await coordinator.stripMessages(stripId, first.keys.identitySecretKey);
    if (messages.signs === null) throw new ParticipantError('STATE', `the offerer has not signed strip ${stripId} yet`);
    const signs = messages.signs.map((h, i) => inPeriodP(i, () => decodeSignDlc(fromHex(h))));
    checkBatchSigns(signs, n);
    const engine = await p.engine();
    for (let i = 0; i < n; i++) {
      p.note(`verifying ${periodLabel(i, n)}`);
      const c = cs[i]!;
      const { setup, fundingChecks } = await inPeriodAsync(i, () => verifySignAsync(c.offer, c.accept!, signs[i]!, c.flow, engineVerifier(engine, p.progress)));
      if (i === 0 && fundingChecks.includes('unverified')) p.note('note: some offerer funding inputs are not P2WPKH; the node checks them at broadcast');
      setups.push(setup);
    }
    checkOneFundingTransaction(setups);
    cs = cs.map((c, i) => ({ ...c, record: saveState(wallet, c.record, 'signed', { sign: messages.signs![i]!, contractId: toHex(setups[i]!.contractId) }), sign: signs[i]! }));
  }
  const txid = setups[0]!.funding.txidHex;
  const funded = (broadcastBy: 'node' | 'coordinator', alreadyFunded: boolean, psbt: string | undefined): Awaited<ReturnType<typeof fundStrip>> => {
    for (const c of cs) if (c.record.fundingTxid === undefined) saveState(wallet, c.record, 'funding-broadcast', { fundingTxid: txid, ...(psbt === undefined ? {} : { fundingPsbt: psbt }) });
    return { psbtOut: false, id: stripId, contractIds: setups.map((s) => toHex(s.contractId)), fundingTxid: txid, broadcastBy, alreadyFunded };
  };
  if (fundedEarlier !== undefined) {
    if (fundedEarlier !== txid) throw new ParticipantError('MISMATCH', `strip ${stripId}: a period is recorded funded by ${fundedEarlier}, not our funding transaction ${txid}`, { reason: 'funding-txid' });
    return funded(broadcast ? 'node' : 'coordinator', true, undefined);
  }
  let own: FundingSignatures;
  if (ext.psbtIn !== undefined) {
    own = ownWitnessesOfExternalPsbt(setups[0]!, verifyFundingPsbt(setups[0]!, ext.psbtIn, 'accept').psbt, 'accept');
  } else {
    const view = broadcast ? undefined : await coordinator.strip(stripId, first.keys.identitySecretKey);
    if (view !== undefined && view.fundingTxid === txid && FUNDED_ON_COORDINATOR.has(view.state)) return funded('coordinator', true, undefined);
    if (view?.fundingPsbt) verifyFundingPsbt(setups[0]!, view.fundingPsbt, 'accept');
    if (ext.psbtOut === true) {
      const psbt = fundingPsbtOf(setups[0]!).toBase64();
      for (const c of cs) saveState(wallet, c.record, c.record.state, { fundingPsbt: psbt });
      return { psbtOut: true, id: stripId, psbt, fundingTxid: txid };
    }
    // Our funding inputs, signed once, for the one funding transaction.
    own = signOwnFundingInputs(p.contractSigner(first.record), setups[0]!, 'accept');
  }
  const psbt = partyFundingPsbt(setups[0]!.funding, 'accept', own);
  if (broadcast) {
    const withOffer = applyFundingSignatures(setups[0]!.funding.tx, setups[0]!.funding, 'offer', cs[0]!.sign!.fundingSignatures);
    const tx = applyFundingSignatures(withOffer, setups[0]!.funding, 'accept', own);
    if (tx.getId() !== txid) throw new ParticipantError('MISMATCH', 'the signed funding transaction has another txid');
    const rpc = await p.rpc();
    const sent = await rpc.sendRawTransaction(tx.toHex()).catch((err: unknown) => {
      if (isChainError(err) && err.code === 'CHAIN_ALREADY_IN_CHAIN') return undefined;
      throw err;
    });
    return funded('node', sent === undefined, psbt.toBase64());
  }
  const after = await coordinator.fundStrip(stripId, { fundingPsbt: psbt.toBase64() }, first.keys.identitySecretKey);
  if (after.fundingTxid && after.fundingTxid !== txid) throw new ParticipantError('MISMATCH', `the coordinator broadcast ${after.fundingTxid}, not our funding transaction ${txid}`);
  const mapped = localStateOf(after.state);
  if (mapped !== undefined && mapped !== 'funding-broadcast' && mapped !== 'confirmed') p.note(`coordinator state: ${after.state}`);
  return funded('coordinator', false, psbt.toBase64());
}
