/**
 * The negotiation steps after an offer (dlcspecs Protocol.md), as library
 * use cases, each verifying everything it receives before it signs anything:
 *
 * - `acceptOffer` (buyer): the offer against its human terms (contract
 *   rebuilt with protocol/templates), its oracle set against my own oracles
 *   (each announcement fetched from my oracle with that key: oracle-set.ts),
 *   the oracle event against the terms, locktimes against the attestation
 *   height; then CET adaptor signatures on the worker pool.
 * - `signContract` (miner): that the accepter lists no coin of this wallet
 *   as its own; every accepter CET adaptor signature and the refund
 *   signature; the coordinator's funding PSBT against the funding transaction
 *   computed here; then its own signatures and its own funding inputs.
 * - `fundContract` (buyer): the offerer's inputs again; every offerer
 *   signature and funding witness in sign_dlc, the funding PSBT again; then
 *   its own funding inputs.
 *
 * Each party signs only the funding inputs it contributed, and only its own
 * witnesses leave the process (funding-inputs.ts, issue 9).
 *
 * External wallets: `psbtOut` returns the funding PSBT (BIP174, base64,
 * computed here: no signatures) for a wallet to sign its inputs, and stops;
 * the same step with `psbtIn` (the signed PSBT, base64) finishes it, refusing
 * it if the wallet signed a counterparty input.
 *
 * Safe to run again after a crash at any point: state is stored before
 * anything is sent; a repeat sends the stored message again (accept, sign)
 * or finds the step done on the coordinator (fund) instead of signing anew.
 *
 * This module does NOT settle, read or write files, or print.
 */
import type { ContractSetup } from '../../protocol/contract/index.js';
import {
  assembleSign,
  buildAcceptAsync,
  fundingPsbtOf,
  packAdaptorSignatures,
  setupContract,
  signContractWith,
  unpackAdaptorSignatures,
  verifyAcceptAsync,
  verifyFundingPsbt,
  verifySignAsync,
} from '../../protocol/contract/index.js';
import type { TemplateResult } from '../../protocol/templates/index.js';
import type { FundingSignatures, OfferDlc } from '../../protocol/messages/index.js';
import { decodeAcceptDlc, decodeOfferDlc, decodeSignDlc, encodeAcceptDlc, encodeSignDlc, fromHex, toHex } from '../../protocol/messages/index.js';
import { applyFundingSignatures, buildFundingTransaction, partyFundingPsbt } from '../../protocol/tx/index.js';
import type { OfferTerms } from '../../protocol/terms/index.js';
import type { CoordinatorClient } from '../api/index.js';
import { isChainError } from '../chain/index.js';
import type { ContractRecord } from '../wallet/index.js';
import {
  addressScript,
  checkDeliveryAddressFresh,
  checkFundingDeadline,
  chooseFunding,
  defaultMaxFeeRate,
  freshSerialIds,
  loadContract,
  localStateOf,
  needAccept,
  needSign,
  nowIso,
  parseTerms,
  saveState,
  type LoadedContract,
} from './contract.js';
import { checkDeliveryAddressOurs, checkOfferedContract } from './accept-checks.js';
import { ParticipantError, usage } from './errors.js';
import {
  outpointsOf,
  ownWitnessesOfExternalPsbt,
  refuseOurCoinsAsCounterpartyInputs,
  refuseUnverifiableCounterpartyInputs,
  signOwnFundingInputs,
} from './funding-inputs.js';
import { openContract } from './open.js';
import type { Participant } from './participant.js';
import { measurementRisk, type MeasurementRisk } from './luck.js';
import { oracleSetLines, type SetOracle } from './oracle-set.js';
import { engineVerifier } from './progress.js';
import { stripRecords } from './strip.js';
import { acceptStrip, fundStrip, signStrip, type StripSummary } from './strip-negotiate.js';

// ------------------------------------------------------------------ accept

export interface AcceptInput {
  /** The offer id (64 hex characters). */
  id: string;
  /** Check and describe the offer, then stop (nothing signed, stored or sent). */
  dryRun?: boolean;
  /** Hashpower sale: confirm the delivery address when it is not this wallet's. */
  deliveryAddress?: string;
  /** Refuse offers with a higher fee rate; default `defaultMaxFeeRate`. */
  maxFeeRatePerVb?: bigint;
  /** External wallet: fund from these outpoints (`txid:vout`). */
  utxos?: string[];
  payoutAddress?: string;
  changeAddress?: string;
}

interface AcceptChecked {
  id: string;
  terms: OfferTerms;
  eventId: string;
  /** K of the offer's oracle set (1 for a single oracle). */
  threshold: number;
  /** The offer's oracles, in announcement order, at my URLs for their keys. */
  oracles: SetOracle[];
  /** Human lines: the contract, its event and oracle set, locktimes and key payouts (accepter's view). */
  summary: string[];
  /** A sale stating its pool's share: the pool-luck risk per measured window (lines included in `summary`) and warnings. */
  measurementRisk: MeasurementRisk;
}

export type AcceptResult =
  | (AcceptChecked & { dryRun: true; cets: TemplateResult['cetCount'] | number; strip?: StripSummary })
  | (AcceptChecked & {
      dryRun: false;
      state: 'accepted';
      contractId: string;
      fundingTxid: string;
      cets: number;
      adaptorSignatures: number;
      /** True when a stored accept_dlc of an earlier run was sent again (nothing signed anew). */
      resent: boolean;
      /** A strip (issue 12): its periods; `contractId` and `fundingTxid` above are period 1's (the txid is the strip's). */
      strip?: StripSummary;
    });

/**
 * A coordinator that refused our accept_dlc (409: someone else accepted
 * first, or any error answer) will never fund it: the record is marked
 * failed so its reserved coins are free again. When the answer never came
 * (unreachable), the accept may have arrived: the coins stay reserved
 * (`hashdlc cancel` frees them).
 */
function acceptRefused(p: Participant, record: ContractRecord, err: unknown): unknown {
  if (err instanceof ParticipantError && err.code === 'REMOTE') {
    saveState(p.wallet(), record, 'failed', {}, `coordinator refused the accept: ${err.remoteCode ?? ''} ${err.message}`.trim());
    p.note(`the coordinator refused the accept; its reserved coins (${record.reservedOutpoints.join(', ')}) are free again`);
  }
  return err;
}

/** Whether the coordinator holds this very accept_dlc of ours (an earlier run's POST went through). */
async function coordinatorHasOurAccept(coordinator: CoordinatorClient, record: ContractRecord, identityKey: Uint8Array): Promise<boolean> {
  const m = await coordinator.messages(record.id, identityKey).catch(() => undefined);
  return m !== undefined && m.accept === record.accept;
}

/**
 * Posts a stored accept_dlc; a refusal frees its coins, unless the
 * coordinator has it already (a repeat after a crash), and the funding PSBT
 * the coordinator answers must be our funding transaction.
 */
async function postAccept(p: Participant, record: ContractRecord, setup: ContractSetup): Promise<void> {
  const coordinator = p.coordinator();
  const keys = p.wallet().keys.contractIdentity(record.keyIndex);
  let fundingPsbt: string | null | undefined;
  try {
    fundingPsbt = (await coordinator.accept(record.id, { accept: record.accept!, identityPubkey: toHex(keys.identityPublicKey) }, keys.identitySecretKey)).fundingPsbt;
  } catch (err) {
    if (!(err instanceof ParticipantError && err.code === 'REMOTE' && (await coordinatorHasOurAccept(coordinator, record, keys.identitySecretKey)))) throw acceptRefused(p, record, err);
    fundingPsbt = (await coordinator.contract(record.id, keys.identitySecretKey)).fundingPsbt;
  }
  if (fundingPsbt) verifyFundingPsbt(setup, fundingPsbt, 'accept');
}

/**
 * Accepts an offer from the coordinator's book (or, `dryRun`, checks and
 * describes it). Every check of src/participant/README.md "accept" runs
 * before anything is signed. Run again on an offer this wallet accepted
 * already (state `accepted`), it checks again and re-sends the stored
 * accept_dlc (no new keys, coins or signatures).
 * @throws {ParticipantError} USAGE (bad id), MISMATCH (offer, terms, event,
 *   delivery address, counterparty inputs; the oracle set: `oracle-not-trusted`,
 *   `announcement-differs`, `event-differs`, `threshold`, `oracle-duplicate`,
 *   `oracle-params`), EXPIRED, STATE (accepted here
 *   and past `accepted`), REMOTE, UNREACHABLE, CONFIG; {DlcError}
 *   (`terms-mismatch:*`, fee rate, locktimes); {WalletError}.
 */
export async function acceptOffer(p: Participant, input: AcceptInput): Promise<AcceptResult> {
  const id = input.id.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(id)) throw usage(`offer id must be 64 hex characters, got '${input.id}'`);
  const utxos = input.utxos ?? [];
  const wallet = p.wallet();
  const maxFee = input.maxFeeRatePerVb ?? (await defaultMaxFeeRate(p.config.rpc === undefined ? undefined : await p.rpc(), wallet.network.name));
  const coordinator = p.coordinator();
  const view = await coordinator.offer(id);
  if (view.strip !== undefined) {
    // A strip's period (issue 12): the whole strip is accepted in one round.
    return acceptStrip(p, {
      stripId: view.strip.id,
      maxFeeRatePerVb: maxFee,
      utxos,
      ...(input.dryRun !== undefined ? { dryRun: input.dryRun } : {}),
      ...(input.deliveryAddress !== undefined ? { deliveryAddress: input.deliveryAddress } : {}),
      ...(input.payoutAddress !== undefined ? { payoutAddress: input.payoutAddress } : {}),
      ...(input.changeAddress !== undefined ? { changeAddress: input.changeAddress } : {}),
    });
  }
  const offerHex = view.offer ?? (await coordinator.messages(id)).offer;
  const offer: OfferDlc = decodeOfferDlc(fromHex(offerHex));
  if (toHex(offer.temporaryContractId) !== id) throw new ParticipantError('MISMATCH', `the coordinator served offer ${toHex(offer.temporaryContractId)} for ${id}`, { reason: 'offer-id' });
  // Hole 1: the offerer may not list a coin of ours (nor, with an external wallet, one we cannot read).
  refuseOurCoinsAsCounterpartyInputs(wallet, 'offer', offer.fundingInputs, utxos);
  if (utxos.length > 0) refuseUnverifiableCounterpartyInputs('offer', offer.fundingInputs);
  const terms = parseTerms(view.terms);

  // The oracle set against my own oracles, the event, the timing, the contract rebuilt from the terms (accept-checks.ts).
  const rpc = await p.rpc();
  const tip = await rpc.getBlockCount();
  const { set, ev, contract } = await checkOfferedContract(p, offer, terms, tip, maxFee);
  const hashProfile = set.hashProfile;
  checkDeliveryAddressOurs(wallet, terms, input.deliveryAddress);
  // One delivery address, one contract (issue 9, hole 7).
  if (terms.template === 'hashpower-sale') await checkDeliveryAddressFresh(wallet, rpc, terms.deliveryAddress, id);
  const risk = measurementRisk(terms);
  const checked: AcceptChecked = {
    id,
    terms,
    eventId: ev.eventId,
    threshold: set.threshold,
    oracles: set.oracles,
    summary: [
      ...contract.summary.lines,
      `oracle event ${ev.eventId} (attests at height ${ev.attestHeight})`,
      ...oracleSetLines(set.threshold, set.oracles),
      `CET locktime ${offer.cetLocktime}, refund locktime ${offer.refundLocktime}, fee rate ${offer.feeRatePerVb} sat/vB`,
      `funding deadline: height ${terms.fundingDeadline} (fund before it; 'hashdlc cancel' takes your coins back after it)`,
      ...contract.summary.keyPayouts.map((k) => `  at ${k.outcome} (${k.label}): offerer ${k.offerPayout}, you ${k.acceptPayout}`),
      ...risk.lines,
    ],
    measurementRisk: risk,
  };
  if (input.dryRun === true) return { dryRun: true, ...checked, cets: contract.cetCount };

  const accepted = (setup: ContractSetup, resent: boolean): AcceptResult => ({
    dryRun: false,
    ...checked,
    state: 'accepted',
    contractId: toHex(setup.contractId),
    fundingTxid: setup.funding.txidHex,
    cets: setup.plan.cets.length,
    adaptorSignatures: setup.plan.adaptorSlots.length,
    resent,
  });

  // A repeat of an accept made here (the earlier run may have stopped before or after its POST).
  const earlier = wallet.contracts.has(id) ? wallet.contracts.get(id) : undefined;
  if (earlier !== undefined && earlier.role === 'accept' && earlier.state !== 'failed' && earlier.state !== 'cancelled') {
    if (earlier.state !== 'accepted') throw new ParticipantError('STATE', `offer ${id} is accepted here already (state ${earlier.state})`);
    if (earlier.offer !== offerHex) throw new ParticipantError('MISMATCH', `the coordinator now serves another offer_dlc for ${id} than the one accepted here`, { reason: 'offer-changed' });
    const c = loadContract(wallet, id);
    const setup = setupContract(c.offer, needAccept(c), c.setupOptions);
    await postAccept(p, c.record, setup);
    return accepted(setup, true);
  }

  const keys = wallet.newContractIdentity();
  const payoutSpk = input.payoutAddress !== undefined ? addressScript(input.payoutAddress, wallet) : wallet.newReceiveAddress().script;
  const changeSpk = input.changeAddress !== undefined ? addressScript(input.changeAddress, wallet) : wallet.newChangeAddress().script;
  const paid = contract.extraOutputs.filter((o) => o.payer === 'accept');
  const { inputs, reserved } = await chooseFunding(wallet, rpc, utxos, contract.acceptCollateral + paid.reduce((s, o) => s + o.value, 0n), offer.feeRatePerVb, paid.map((o) => o.script.length));
  const taken = new Set([offer.payoutSerialId, offer.changeSerialId, offer.fundOutputSerialId, ...contract.extraOutputs.map((o) => o.serialId), ...offer.fundingInputs.map((i) => i.inputSerialId)]);
  const fresh = freshSerialIds(taken);
  for (const fundingInput of inputs) while (taken.has(fundingInput.inputSerialId)) fundingInput.inputSerialId = fresh();
  const { accept, setup } = await buildAcceptAsync(offer, {
    signer: p.contractSigner(keys.index),
    fundingInputs: inputs,
    payoutSpk,
    changeSpk,
    payoutSerialId: fresh(),
    changeSerialId: fresh(),
    extraOutputs: contract.extraOutputs,
    hashProfile,
  });
  const at = nowIso();
  const record: ContractRecord = {
    version: 1,
    id,
    role: 'accept',
    network: wallet.network.name,
    keyIndex: keys.index,
    state: 'accepted',
    history: [{ state: 'offered', at }, { state: 'accepted', at }],
    coordinator: coordinator.http.base,
    oracle: set.oracles[0]!.url,
    oracles: set.oracles,
    hashProfile,
    terms: terms as Record<string, unknown>,
    offer: offerHex,
    accept: toHex(encodeAcceptDlc(accept)),
    // Known from here on (the accept prints it): `fund`, `status`, `cancel` find the record by it too.
    contractId: toHex(setup.contractId),
    fundingPsbt: fundingPsbtOf(setup).toBase64(),
    reservedOutpoints: reserved,
  };
  // Stored before it is sent: the adaptor signatures are out once posted.
  wallet.contracts.save(record);
  await postAccept(p, record, setup);
  return accepted(setup, false);
}

// ------------------------------------------------------------------ sign

/** External-wallet runs of `signContract` and `fundContract`. */
export interface ExternalPsbtInput {
  /** Stop after the checks and return the funding PSBT (base64) for an external wallet to sign. */
  psbtOut?: boolean;
  /** The funding PSBT signed by the external wallet (base64); finishes the step. */
  psbtIn?: string;
}

/** The funding PSBT handed to an external wallet: the step stops here. */
export interface PsbtOutResult {
  psbtOut: true;
  id: string;
  /** BIP174 base64, computed here, no signatures. */
  psbt: string;
  fundingTxid: string;
}

export type SignResult =
  | PsbtOutResult
  | {
      psbtOut: false;
      id: string;
      state: 'signed';
      contractId: string | undefined;
      /** Undefined when a stored sign_dlc was sent again. */
      fundingTxid: string | undefined;
      /** True when the sign_dlc of an earlier run was sent again (its POST had not gone through). */
      resent: boolean;
      /** A strip (issue 12): `id` is the strip's, `contractId` period 1's; every period's contract id. */
      strip?: { id: string; contractIds: string[] };
    };

/**
 * An external-wallet step is two runs: `psbtOut`, then `psbtIn`.
 * @throws {ParticipantError} USAGE when both halves are given at once.
 */
export function oneExternalRun(input: ExternalPsbtInput): void {
  if (input.psbtOut === true && input.psbtIn !== undefined) throw usage('--psbt-out and --psbt-in are two separate runs');
}

/**
 * The offerer signs an accepted contract: verifies the accept, makes its CET
 * and refund signatures (stored before anything is sent), signs its own
 * funding inputs and sends sign_dlc. A contract whose sign_dlc was made but
 * not acknowledged is sent again.
 * @throws {ParticipantError} STATE (not the offerer's, not accepted yet,
 *   signed already), EXPIRED (`funding-deadline-passed`), MISMATCH
 *   (`counterparty-input-ours`, `counterparty-input-unverifiable`,
 *   `foreign-input-signed`, PSBT), REMOTE, UNREACHABLE; {DlcError} (a bad
 *   accepter signature, named).
 */
export async function signContract(p: Participant, input: { id: string } & ExternalPsbtInput): Promise<SignResult> {
  oneExternalRun(input);
  const wallet = p.wallet();
  const periods = stripRecords(wallet, input.id);
  if (periods !== undefined) {
    const r = await signStrip(p, periods, input);
    if (r.psbtOut) return r;
    return { psbtOut: false, id: r.id, state: 'signed', contractId: r.contractIds[0], fundingTxid: r.fundingTxid, resent: r.resent, strip: { id: r.id, contractIds: r.contractIds } };
  }
  // The miner's own clock: its signature would hand the accepter a fundable transaction (issue 9, hole 2).
  let c = await openContract(p, input.id, { role: 'offer', otherRole: "the offerer signs; use 'hashdlc fund'", fundingDeadline: true });
  const coordinator = p.coordinator();
  if (c.record.sign !== undefined) {
    if (c.record.state !== 'accepted') throw new ParticipantError('STATE', `contract ${c.record.id} is signed already (state ${c.record.state})`);
    // Made in an earlier run whose POST did not go through: send it again (the PSBT rebuilt with our witnesses alone).
    const again = partyFundingPsbt(buildFundingTransaction(c.offer, needAccept(c), c.funding), 'offer', needSign(c).fundingSignatures);
    await coordinator.sign(c.record.id, { sign: c.record.sign, fundingPsbt: again.toBase64() }, c.keys.identitySecretKey).catch(async (err: unknown) => {
      // Refused because it arrived the first time (the answer or our record of it was lost): done.
      const m = err instanceof ParticipantError && err.code === 'REMOTE' ? await coordinator.messages(c.record.id, c.keys.identitySecretKey).catch(() => undefined) : undefined;
      if (m?.sign !== c.record.sign) throw err;
    });
    saveState(wallet, c.record, 'signed');
    return { psbtOut: false, id: c.record.id, state: 'signed', contractId: c.record.contractId, fundingTxid: undefined, resent: true };
  }

  let setup: ContractSetup;
  let fundingSignatures: FundingSignatures;
  if (input.psbtIn !== undefined) {
    // Second run: the accept was verified and our signatures made in the first.
    if (c.record.ownCetSignatures === undefined || c.accept === undefined) {
      throw new ParticipantError('STATE', `run 'hashdlc sign ${c.record.id} --psbt-out FILE' first`);
    }
    refuseOurCoinsAsCounterpartyInputs(wallet, 'accept', c.accept.fundingInputs, outpointsOf(c.offer.fundingInputs));
    refuseUnverifiableCounterpartyInputs('accept', c.accept.fundingInputs);
    setup = setupContract(c.offer, c.accept, c.setupOptions);
    fundingSignatures = ownWitnessesOfExternalPsbt(setup, verifyFundingPsbt(setup, input.psbtIn, 'offer').psbt, 'offer');
  } else {
    const messages = await coordinator.messages(c.record.id, c.keys.identitySecretKey);
    if (messages.accept === null) throw new ParticipantError('STATE', `offer ${c.record.id} has not been accepted yet`);
    const accept = decodeAcceptDlc(fromHex(messages.accept));
    // Hole 1: before anything is signed, the accepter may not list a coin of ours.
    refuseOurCoinsAsCounterpartyInputs(wallet, 'accept', accept.fundingInputs, outpointsOf(c.offer.fundingInputs));
    if (input.psbtOut === true) refuseUnverifiableCounterpartyInputs('accept', accept.fundingInputs);
    const engine = await p.engine();
    setup = await verifyAcceptAsync(c.offer, accept, c.flow, engineVerifier(engine, p.progress));
    const view = await coordinator.contract(c.record.id, c.keys.identitySecretKey);
    // The coordinator's PSBT must be our funding transaction; we sign (and hand out) our own clean copy.
    if (view.fundingPsbt) verifyFundingPsbt(setup, view.fundingPsbt, 'offer');
    const psbt = fundingPsbtOf(setup);
    const sigs = await signContractWith(setup, p.contractSigner(c.record));
    const record = saveState(wallet, c.record, 'accepted', {
      accept: messages.accept,
      contractId: toHex(setup.contractId),
      ownCetSignatures: toHex(packAdaptorSignatures(sigs.cetAdaptorSignatures)),
      ownRefundSignature: toHex(sigs.refundSignature),
      fundingPsbt: psbt.toBase64(),
    });
    c = { ...c, record, accept };
    if (input.psbtOut === true) return { psbtOut: true, id: c.record.id, psbt: psbt.toBase64(), fundingTxid: setup.funding.txidHex };
    fundingSignatures = signOwnFundingInputs(p.contractSigner(c.record), setup, 'offer');
  }
  // Only our own witnesses leave: sign_dlc carries them, the PSBT is a clean copy with them alone.
  const psbt = partyFundingPsbt(setup.funding, 'offer', fundingSignatures);
  const sign = assembleSign(
    setup,
    { cetAdaptorSignatures: unpackAdaptorSignatures(fromHex(c.record.ownCetSignatures!)), refundSignature: fromHex(c.record.ownRefundSignature!) },
    fundingSignatures,
  );
  const signHex = toHex(encodeSignDlc(sign));
  const stored = saveState(wallet, c.record, c.record.state, { sign: signHex, fundingPsbt: psbt.toBase64() });
  await coordinator.sign(c.record.id, { sign: signHex, fundingPsbt: psbt.toBase64() }, c.keys.identitySecretKey);
  saveState(wallet, stored, 'signed');
  return { psbtOut: false, id: c.record.id, state: 'signed', contractId: toHex(setup.contractId), fundingTxid: setup.funding.txidHex, resent: false };
}

// ------------------------------------------------------------------ fund

export type FundResult =
  | PsbtOutResult
  | {
      psbtOut: false;
      id: string;
      state: 'funding-broadcast';
      contractId: string;
      fundingTxid: string;
      /** Who broadcast the funding transaction: our own node (`broadcast`) or the coordinator. */
      broadcastBy: 'node' | 'coordinator';
      /** True when an earlier run's funding was found (on the coordinator, or confirmed on our node): nothing new went out. */
      alreadyFunded: boolean;
      /** A strip (issue 12): `id` is the strip's, `contractId` period 1's; every period's contract id. */
      strip?: { id: string; contractIds: string[] };
    };

/** The contract's set-up from the offerer's sign_dlc: stored, else the given one verified and stored. */
async function fundFromSign(p: Participant, c: LoadedContract, signHex: string | undefined): Promise<{ setup: ContractSetup; c: LoadedContract }> {
  const accept = needAccept(c);
  if (c.sign !== undefined) return { setup: setupContract(c.offer, accept, c.setupOptions), c };
  if (signHex === undefined) throw new ParticipantError('STATE', `the offerer has not signed contract ${c.record.id} yet`);
  const sign = decodeSignDlc(fromHex(signHex));
  const engine = await p.engine();
  const { setup, fundingChecks } = await verifySignAsync(c.offer, accept, sign, c.flow, engineVerifier(engine, p.progress));
  if (fundingChecks.includes('unverified')) p.note('note: some offerer funding inputs are not P2WPKH; the node checks them at broadcast');
  const record = saveState(p.wallet(), c.record, 'signed', { sign: signHex, contractId: toHex(setup.contractId) });
  return { setup, c: { ...c, record, sign } };
}

/** Coordinator states in which our funding transaction is out (an earlier run's POST went through). */
const FUNDED_ON_COORDINATOR = new Set(['funding-broadcast', 'confirmed']);

/**
 * The accepter funds a signed contract: verifies the offerer's sign_dlc,
 * signs its own funding inputs, and the coordinator (or, `broadcast`, its
 * own node) broadcasts. A contract the coordinator funded in an earlier run
 * (our funding txid) is recorded as such without sending again.
 * @throws {ParticipantError} STATE (not the accepter's, funded already, not
 *   signed yet), EXPIRED (`funding-deadline-passed`), MISMATCH
 *   (`counterparty-input-ours`, `counterparty-input-unverifiable`,
 *   `foreign-input-signed`, PSBT, another txid), REMOTE, UNREACHABLE;
 *   {DlcError} (a bad offerer signature or witness); {ChainError}.
 */
export async function fundContract(p: Participant, input: { id: string; broadcast?: boolean } & ExternalPsbtInput): Promise<FundResult> {
  oneExternalRun(input);
  const external = input.psbtOut === true || input.psbtIn !== undefined;
  const broadcast = input.broadcast === true;
  const wallet = p.wallet();
  const periods = stripRecords(wallet, input.id);
  if (periods !== undefined) {
    const r = await fundStrip(p, periods, broadcast, input);
    if (r.psbtOut) return r;
    return { psbtOut: false, id: r.id, state: 'funding-broadcast', contractId: r.contractIds[0]!, fundingTxid: r.fundingTxid, broadcastBy: r.broadcastBy, alreadyFunded: r.alreadyFunded, strip: { id: r.id, contractIds: r.contractIds } };
  }
  let c = await openContract(p, input.id, { role: 'accept', otherRole: "the accepter funds; use 'hashdlc sign'" });
  if (c.record.fundingTxid !== undefined) throw new ParticipantError('STATE', `contract ${c.record.id} is funded already (${c.record.fundingTxid})`);
  // Hole 1, again before we sign: the offerer may not list a coin of ours.
  refuseOurCoinsAsCounterpartyInputs(wallet, 'offer', c.offer.fundingInputs, outpointsOf(needAccept(c).fundingInputs));
  if (external) refuseUnverifiableCounterpartyInputs('offer', c.offer.fundingInputs);
  // No funding from the deadline on, through the coordinator or our own node (issue 9, hole 2).
  await checkFundingDeadline(c.terms, await p.rpc());
  const coordinator = broadcast && c.sign !== undefined ? undefined : p.coordinator();
  const messages = coordinator === undefined ? undefined : await coordinator.messages(c.record.id, c.keys.identitySecretKey);
  const r = await fundFromSign(p, c, messages?.sign ?? undefined);
  c = r.c;
  const setup = r.setup;
  const funded = (txid: string, broadcastBy: 'node' | 'coordinator', alreadyFunded: boolean, psbt: string | undefined): FundResult => {
    saveState(wallet, c.record, 'funding-broadcast', { fundingTxid: txid, ...(psbt === undefined ? {} : { fundingPsbt: psbt }) });
    return { psbtOut: false, id: c.record.id, state: 'funding-broadcast', contractId: toHex(setup.contractId), fundingTxid: txid, broadcastBy, alreadyFunded };
  };
  let ownWitnesses: FundingSignatures;
  if (input.psbtIn !== undefined) {
    ownWitnesses = ownWitnessesOfExternalPsbt(setup, verifyFundingPsbt(setup, input.psbtIn, 'accept').psbt, 'accept');
  } else {
    const view = coordinator === undefined ? undefined : await coordinator.contract(c.record.id, c.keys.identitySecretKey);
    // An earlier run's funding went through (its answer or our record was lost): nothing to send again.
    if (!broadcast && view !== undefined && view.fundingTxid === setup.funding.txidHex && FUNDED_ON_COORDINATOR.has(view.state)) {
      return funded(setup.funding.txidHex, 'coordinator', true, undefined);
    }
    // The coordinator's PSBT must be our funding transaction; the one handed to a wallet is our own clean copy.
    if (view?.fundingPsbt) verifyFundingPsbt(setup, view.fundingPsbt, 'accept');
    const psbt = fundingPsbtOf(setup);
    if (input.psbtOut === true) {
      saveState(wallet, c.record, c.record.state, { fundingPsbt: psbt.toBase64() });
      return { psbtOut: true, id: c.record.id, psbt: psbt.toBase64(), fundingTxid: setup.funding.txidHex };
    }
    ownWitnesses = signOwnFundingInputs(p.contractSigner(c.record), setup, 'accept');
  }
  // Only our own witnesses leave (a clean copy of the funding PSBT with them alone).
  const psbt = partyFundingPsbt(setup.funding, 'accept', ownWitnesses);
  if (broadcast) {
    // Both parties' witnesses on the funding transaction computed here (the PSBT may
    // already carry the offerer's finalized inputs; the transaction is rebuilt either way).
    const withOffer = applyFundingSignatures(setup.funding.tx, setup.funding, 'offer', needSign(c).fundingSignatures);
    const tx = applyFundingSignatures(withOffer, setup.funding, 'accept', ownWitnesses);
    if (tx.getId() !== setup.funding.txidHex) throw new ParticipantError('MISMATCH', 'the signed funding transaction has another txid');
    const rpc = await p.rpc();
    // Confirmed already (an earlier run broadcast it and stopped before recording it): done.
    const txid = await rpc.sendRawTransaction(tx.toHex()).catch((err: unknown) => {
      if (isChainError(err) && err.code === 'CHAIN_ALREADY_IN_CHAIN') return undefined;
      throw err;
    });
    return funded(txid ?? setup.funding.txidHex, 'node', txid === undefined, psbt.toBase64());
  }
  const view = await coordinator!.fund(c.record.id, { fundingPsbt: psbt.toBase64() }, c.keys.identitySecretKey);
  if (view.fundingTxid && view.fundingTxid !== setup.funding.txidHex) {
    throw new ParticipantError('MISMATCH', `the coordinator broadcast ${view.fundingTxid}, not our funding transaction ${setup.funding.txidHex}`);
  }
  const mapped = localStateOf(view.state);
  if (mapped !== undefined && mapped !== 'funding-broadcast' && mapped !== 'confirmed') p.note(`coordinator state: ${view.state}`);
  return funded(setup.funding.txidHex, 'coordinator', false, psbt.toBase64());
}
