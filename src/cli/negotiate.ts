/**
 * `hashdlc accept`, `hashdlc sign`, `hashdlc fund`: the negotiation steps
 * after an offer (dlcspecs Protocol.md), each verifying everything it
 * receives before it signs anything:
 *
 * - accept (buyer): the offer against its human terms (contract rebuilt with
 *   protocol/templates), the oracle event against the terms and its
 *   announcement against the one the oracle serves, locktimes against the
 *   attestation height; then CET adaptor signatures on the worker pool.
 * - sign (miner): that the accepter lists no coin of this wallet as its
 *   own; every accepter CET adaptor signature and the refund signature; the
 *   coordinator's funding PSBT against the funding transaction computed
 *   here; then its own signatures and its own funding inputs.
 * - fund (buyer): the offerer's inputs again; every offerer signature and
 *   funding witness in sign_dlc, the funding PSBT again; then its own
 *   funding inputs.
 *
 * Each party signs only the funding inputs it contributed, and only its own
 * witnesses leave the process (funding-inputs.ts, issue 9).
 *
 * External wallets: `--psbt-out FILE` writes the funding PSBT (BIP174,
 * base64, computed here: no signatures) for a wallet to sign its inputs, and
 * stops; the same command with `--psbt-in FILE` takes the signed PSBT back
 * and finishes the step, refusing it if the wallet signed a counterparty
 * input.
 *
 * This module does NOT settle (settle.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { ContractSetup } from '../../protocol/contract/index.js';
import {
  REFUND_GRACE_BLOCKS,
  REFUND_MAX_GRACE_BLOCKS,
  assembleSign,
  buildAcceptAsync,
  fundingPsbtOf,
  offerAnnouncements,
  packAdaptorSignatures,
  setupContract,
  signContractAsync,
  unpackAdaptorSignatures,
  verifyAcceptAsync,
  verifyFundingPsbt,
  verifyOfferTerms,
  verifySignAsync,
} from '../../protocol/contract/index.js';
import type { FundingSignatures, OfferDlc } from '../../protocol/messages/index.js';
import { decodeAcceptDlc, decodeOfferDlc, decodeSignDlc, encodeAcceptDlc, encodeSignDlc, fromHex, toHex } from '../../protocol/messages/index.js';
import { applyFundingSignatures, buildFundingTransaction, partyFundingPsbt } from '../../protocol/tx/index.js';
import { randomU64, type ContractRecord } from '../wallet/index.js';
import { EXTERNAL_FUNDING_OPTIONS, COMMON_OPTIONS, bigintOpt, helpText, list, parseCommand, str, type CommandSpec } from './args.js';
import { loadConfig } from './config.js';
import {
  addressScript,
  checkDeliveryAddressFresh,
  checkEventMatchesTerms,
  checkFundingDeadline,
  checkOfferTiming,
  chooseFunding,
  defaultMaxFeeRate,
  loadContract,
  localStateOf,
  needAccept,
  needSign,
  nowIso,
  parseTerms,
  saveState,
  singleOracleInfo,
  templateOf,
  type LoadedContract,
} from '../participant/contract.js';
import { CliContext } from './context.js';
import { ParticipantError, usage } from '../participant/errors.js';
import {
  outpointsOf,
  ownWitnessesOfExternalPsbt,
  refuseOurCoinsAsCounterpartyInputs,
  refuseUnverifiableCounterpartyInputs,
  signOwnFundingInputs,
} from '../participant/funding-inputs.js';
import { engineSigner, engineVerifier } from '../participant/progress.js';

const NET = {
  'wallet-dir': COMMON_OPTIONS['wallet-dir']!,
  network: COMMON_OPTIONS.network!,
  coordinator: COMMON_OPTIONS.coordinator!,
  oracle: COMMON_OPTIONS.oracle!,
  'oracle-pubkey': COMMON_OPTIONS['oracle-pubkey']!,
  'rpc-url': COMMON_OPTIONS['rpc-url']!,
  'rpc-user': COMMON_OPTIONS['rpc-user']!,
  'rpc-password': COMMON_OPTIONS['rpc-password']!,
  threads: COMMON_OPTIONS.threads!,
  json: COMMON_OPTIONS.json!,
};
const PSBT = {
  'psbt-out': { type: 'string', value: 'FILE', help: 'write the funding PSBT for an external wallet to sign, and stop' },
  'psbt-in': { type: 'string', value: 'FILE', help: 'the funding PSBT signed by the external wallet (base64 or binary)' },
} as const satisfies CommandSpec['options'];

export const ACCEPT_SPEC: CommandSpec = {
  name: 'accept',
  args: '<offer-id>',
  minArgs: 1,
  summary: 'Accept an offer: check it against its terms and the oracle, fund from this wallet, sign every CET.',
  details: [
    'Checks, before signing anything: the offer is the contract its terms describe (every payout),',
    "the oracle event measures what the terms say and its announcement is the oracle's own,",
    'the CET locktime is at most the attestation height and the refund comes after it plus a grace',
    '(and no later than it plus the maximum grace); the window has not started, the event is not attested',
    'and the funding deadline has not passed; a sale\'s delivery address is fresh (no other live contract',
    'of this wallet measures it, it holds no coins).',
  ],
  options: {
    ...NET,
    'delivery-address': { type: 'string', value: 'ADDR', help: 'hashpower sale: confirm the delivery address when it is not this wallet\'s' },
    'max-fee-rate': { type: 'string', value: 'SAT_PER_VB', help: "refuse offers with a higher fee rate (default 3x the node's 6-block estimate, at least 5; 10 on regtest without an estimate)" },
    'dry-run': { type: 'boolean', help: 'check and show the offer, then stop' },
    ...EXTERNAL_FUNDING_OPTIONS,
  },
};

export const SIGN_SPEC: CommandSpec = {
  name: 'sign',
  args: '<contract-id>',
  minArgs: 1,
  summary: "Offerer: verify the accepter's signatures, sign every CET and the refund, sign your funding inputs.",
  options: { ...NET, ...PSBT },
};

export const FUND_SPEC: CommandSpec = {
  name: 'fund',
  args: '<contract-id>',
  minArgs: 1,
  summary: "Accepter: verify the offerer's signatures and funding witnesses, sign your funding inputs; the coordinator broadcasts.",
  details: ['--broadcast: finalise and broadcast the funding transaction through your own node instead.'],
  options: { ...NET, ...PSBT, broadcast: { type: 'boolean', help: 'broadcast through your node, not the coordinator' } },
};

function readPsbtFile(path: string): string {
  const raw = readFileSync(path);
  const text = raw.toString('utf8').trim();
  if (/^[A-Za-z0-9+/=\s]+$/.test(text) && text.startsWith('cHNidP')) return text.replace(/\s+/g, '');
  return raw.toString('base64');
}

// ------------------------------------------------------------------ accept

/**
 * A coordinator that refused our accept_dlc (409: someone else accepted
 * first, or any error answer) will never fund it: the record is marked
 * failed so its reserved coins are free again. When the answer never came
 * (unreachable), the accept may have arrived: the coins stay reserved
 * (`hashdlc cancel` frees them).
 */
function acceptRefused(ctx: CliContext, record: ContractRecord, err: unknown): unknown {
  if (err instanceof ParticipantError && err.code === 'REMOTE') {
    saveState(ctx.wallet(), record, 'failed', {}, `coordinator refused the accept: ${err.remoteCode ?? ''} ${err.message}`.trim());
    ctx.note(`the coordinator refused the accept; its reserved coins (${record.reservedOutpoints.join(', ')}) are free again`);
  }
  return err;
}

export async function acceptCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(ACCEPT_SPEC, argv);
  if (parsed.help) {
    process.stdout.write(helpText(ACCEPT_SPEC));
    return 0;
  }
  const id = parsed.positionals[0]!.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(id)) throw usage(`offer id must be 64 hex characters, got '${parsed.positionals[0]}'`);
  const config = loadConfig(parsed.values);
  const ctx = new CliContext(config, { readOnly: parsed.values['dry-run'] === true });
  try {
    const wallet = ctx.wallet();
    const maxFee = bigintOpt(parsed.values, 'max-fee-rate') ?? (await defaultMaxFeeRate(config.rpc === undefined ? undefined : await ctx.rpc(), wallet.network.name));
    const coordinator = ctx.coordinator();
    const view = await coordinator.offer(id);
    const offerHex = view.offer ?? (await coordinator.messages(id)).offer;
    const offer: OfferDlc = decodeOfferDlc(fromHex(offerHex));
    if (toHex(offer.temporaryContractId) !== id) throw new ParticipantError('MISMATCH', `the coordinator served offer ${toHex(offer.temporaryContractId)} for ${id}`, { reason: 'offer-id' });
    // Hole 1: the offerer may not list a coin of ours (nor, with an external wallet, one we cannot read).
    refuseOurCoinsAsCounterpartyInputs(wallet, 'offer', offer.fundingInputs, list(parsed.values, 'utxo'));
    if (list(parsed.values, 'utxo').length > 0) refuseUnverifiableCounterpartyInputs('offer', offer.fundingInputs);
    const terms = parseTerms(view.terms);

    // The oracle: our own fetch of the event the offer names.
    singleOracleInfo(offer);
    const [offered] = offerAnnouncements(offer.contractInfo);
    const ev = await ctx.oracle().event(offered!.oracleEvent.eventId);
    const { announcement, hashProfile } = await ctx.checkedAnnouncement(ev);
    checkEventMatchesTerms(ev, terms);
    // Never on a known outcome, never past the funding deadline (issue 9, holes 2 and 3).
    const rpc = await ctx.rpc();
    checkOfferTiming(ev, terms, await rpc.getBlockCount());
    if (terms.template === 'hashpower-sale') {
      const confirm = str(parsed.values, 'delivery-address');
      const ours = wallet.watchedAddresses().some((a) => a.address === terms.deliveryAddress);
      if (confirm !== undefined ? confirm !== terms.deliveryAddress : !ours) {
        throw new ParticipantError('MISMATCH', `the delivery address ${terms.deliveryAddress} is not this wallet's${confirm ? ` nor ${confirm}` : ''}; pass --delivery-address ${terms.deliveryAddress} if it is yours`, { reason: 'delivery-address' });
      }
      // One delivery address, one contract (issue 9, hole 7).
      await checkDeliveryAddressFresh(wallet, rpc, terms.deliveryAddress, id);
    }

    // The contract, rebuilt from the terms over the oracle's own announcement.
    const contract = templateOf(terms, { single: { oracleAnnouncement: announcement } });
    const info = await ctx.oracleInfo();
    verifyOfferTerms(offer, {
      contract,
      hashProfile,
      keyPayouts: contract.summary.keyPayouts,
      announcements: [announcement],
      oraclePublicKeys: [fromHex(info.publicKey)],
      chainHash: fromHex(wallet.network.chainHashHex),
      cetLocktimeAtMost: ev.attestHeight,
      refundLocktimeAtLeast: ev.attestHeight + Math.floor(REFUND_GRACE_BLOCKS[wallet.network.flow] / 2),
      refundLocktimeAtMost: ev.attestHeight + REFUND_MAX_GRACE_BLOCKS[wallet.network.flow],
      maxFeeRatePerVb: maxFee,
    });
    const summary = [
      ...contract.summary.lines,
      `oracle event ${ev.eventId} (attests at height ${ev.attestHeight})`,
      `CET locktime ${offer.cetLocktime}, refund locktime ${offer.refundLocktime}, fee rate ${offer.feeRatePerVb} sat/vB`,
      `funding deadline: height ${terms.fundingDeadline} (fund before it; 'hashdlc cancel' takes your coins back after it)`,
      ...contract.summary.keyPayouts.map((k) => `  at ${k.outcome} (${k.label}): offerer ${k.offerPayout}, you ${k.acceptPayout}`),
    ];
    if (parsed.values['dry-run'] === true) {
      ctx.print({ id, checked: true, terms, eventId: ev.eventId, cets: contract.cetCount }, ['offer checked: it is the contract its terms describe', ...summary]);
      return 0;
    }

    const keys = wallet.newContractKeys();
    const payoutAddr = str(parsed.values, 'payout-address');
    const changeAddr = str(parsed.values, 'change-address');
    const payoutSpk = payoutAddr !== undefined ? addressScript(payoutAddr, wallet) : wallet.newReceiveAddress().script;
    const changeSpk = changeAddr !== undefined ? addressScript(changeAddr, wallet) : wallet.newChangeAddress().script;
    const paid = contract.extraOutputs.filter((o) => o.payer === 'accept');
    const { inputs, reserved } = await chooseFunding(wallet, rpc, list(parsed.values, 'utxo'), contract.acceptCollateral + paid.reduce((s, o) => s + o.value, 0n), offer.feeRatePerVb, paid.map((o) => o.script.length));
    const taken = new Set([offer.payoutSerialId, offer.changeSerialId, offer.fundOutputSerialId, ...contract.extraOutputs.map((o) => o.serialId), ...offer.fundingInputs.map((i) => i.inputSerialId)]);
    const fresh = (): bigint => {
      let s: bigint;
      do s = randomU64();
      while (taken.has(s));
      taken.add(s);
      return s;
    };
    for (const input of inputs) while (taken.has(input.inputSerialId)) input.inputSerialId = fresh();
    const engine = await ctx.engine();
    const { accept, setup } = await buildAcceptAsync(
      offer,
      {
        fundingSecretKey: keys.fundingSecretKey,
        fundingInputs: inputs,
        payoutSpk,
        changeSpk,
        payoutSerialId: fresh(),
        changeSerialId: fresh(),
        extraOutputs: contract.extraOutputs,
        hashProfile,
      },
      engineSigner(engine, ctx.progress),
    );
    const acceptHex = toHex(encodeAcceptDlc(accept));
    const at = nowIso();
    const record = {
      version: 1 as const,
      id,
      role: 'accept' as const,
      network: wallet.network.name,
      keyIndex: keys.index,
      state: 'accepted' as const,
      history: [{ state: 'offered' as const, at }, { state: 'accepted' as const, at }],
      coordinator: coordinator.http.base,
      oracle: ctx.oracle().http.base,
      hashProfile,
      terms: terms as Record<string, unknown>,
      offer: offerHex,
      accept: acceptHex,
      fundingPsbt: fundingPsbtOf(setup).toBase64(),
      reservedOutpoints: reserved,
    };
    // Stored before it is sent: the adaptor signatures are out once posted.
    wallet.contracts.save(record);
    const answer = await coordinator.accept(id, { accept: acceptHex, identityPubkey: toHex(keys.identityPublicKey) }, keys.identitySecretKey).catch((err: unknown) => {
      throw acceptRefused(ctx, record, err);
    });
    if (answer.fundingPsbt) verifyFundingPsbt(setup, answer.fundingPsbt, 'accept');
    ctx.print(
      { id, state: 'accepted', contractId: toHex(setup.contractId), fundingTxid: setup.funding.txidHex, cets: setup.plan.cets.length, adaptorSignatures: setup.plan.adaptorSlots.length },
      [`accepted offer ${id}`, ...summary, `contract id ${toHex(setup.contractId)}, funding txid ${setup.funding.txidHex}`, "next: the offerer signs; then run 'hashdlc fund'"],
    );
    return 0;
  } finally {
    await ctx.close();
  }
}

// ------------------------------------------------------------------ sign

export async function signCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(SIGN_SPEC, argv);
  if (parsed.help) {
    process.stdout.write(helpText(SIGN_SPEC));
    return 0;
  }
  const psbtOut = str(parsed.values, 'psbt-out');
  const psbtIn = str(parsed.values, 'psbt-in');
  if (psbtOut !== undefined && psbtIn !== undefined) throw usage('--psbt-out and --psbt-in are two separate runs');
  const ctx = new CliContext(loadConfig(parsed.values));
  try {
    const wallet = ctx.wallet();
    let c = loadContract(wallet, parsed.positionals[0]!);
    if (c.record.role !== 'offer') throw new ParticipantError('STATE', `contract ${c.record.id} was accepted here: the offerer signs; use 'hashdlc fund'`);
    // The miner's own clock: its signature would hand the accepter a fundable transaction (issue 9, hole 2).
    await checkFundingDeadline(c.terms, await ctx.rpc());
    const coordinator = ctx.coordinator();
    if (c.record.sign !== undefined) {
      if (c.record.state !== 'accepted') throw new ParticipantError('STATE', `contract ${c.record.id} is signed already (state ${c.record.state})`);
      // Made in an earlier run whose POST did not go through: send it again (the PSBT rebuilt with our witnesses alone).
      const again = partyFundingPsbt(buildFundingTransaction(c.offer, needAccept(c), { extraOutputs: c.template.extraOutputs }), 'offer', needSign(c).fundingSignatures);
      await coordinator.sign(c.record.id, { sign: c.record.sign, fundingPsbt: again.toBase64() }, c.keys.identitySecretKey);
      saveState(wallet, c.record, 'signed');
      ctx.print({ id: c.record.id, state: 'signed', contractId: c.record.contractId }, [`sign_dlc of ${c.record.id} sent again`]);
      return 0;
    }

    let setup: ContractSetup;
    let fundingSignatures: FundingSignatures;
    if (psbtIn !== undefined) {
      // Second run: the accept was verified and our signatures made in the first.
      if (c.record.ownCetSignatures === undefined || c.accept === undefined) {
        throw new ParticipantError('STATE', `run 'hashdlc sign ${c.record.id} --psbt-out FILE' first`);
      }
      refuseOurCoinsAsCounterpartyInputs(wallet, 'accept', c.accept.fundingInputs, outpointsOf(c.offer.fundingInputs));
      refuseUnverifiableCounterpartyInputs('accept', c.accept.fundingInputs);
      setup = setupContract(c.offer, c.accept, c.flow);
      fundingSignatures = ownWitnessesOfExternalPsbt(setup, verifyFundingPsbt(setup, readPsbtFile(psbtIn), 'offer').psbt, 'offer');
    } else {
      const messages = await coordinator.messages(c.record.id, c.keys.identitySecretKey);
      if (messages.accept === null) throw new ParticipantError('STATE', `offer ${c.record.id} has not been accepted yet`);
      const accept = decodeAcceptDlc(fromHex(messages.accept));
      // Hole 1: before anything is signed, the accepter may not list a coin of ours.
      refuseOurCoinsAsCounterpartyInputs(wallet, 'accept', accept.fundingInputs, outpointsOf(c.offer.fundingInputs));
      if (psbtOut !== undefined) refuseUnverifiableCounterpartyInputs('accept', accept.fundingInputs);
      const engine = await ctx.engine();
      setup = await verifyAcceptAsync(c.offer, accept, c.flow, engineVerifier(engine, ctx.progress));
      const view = await coordinator.contract(c.record.id, c.keys.identitySecretKey);
      // The coordinator's PSBT must be our funding transaction; we sign (and hand out) our own clean copy.
      if (view.fundingPsbt) verifyFundingPsbt(setup, view.fundingPsbt, 'offer');
      const psbt = fundingPsbtOf(setup);
      const sigs = await signContractAsync(setup, c.keys.fundingSecretKey, engineSigner(engine, ctx.progress));
      const record = saveState(wallet, c.record, 'accepted', {
        accept: messages.accept,
        contractId: toHex(setup.contractId),
        ownCetSignatures: toHex(packAdaptorSignatures(sigs.cetAdaptorSignatures)),
        ownRefundSignature: toHex(sigs.refundSignature),
        fundingPsbt: psbt.toBase64(),
      });
      c = { ...c, record, accept };
      if (psbtOut !== undefined) {
        writeFileSync(psbtOut, `${psbt.toBase64()}\n`);
        ctx.print({ id: c.record.id, psbtOut, fundingTxid: setup.funding.txidHex }, [
          `accept verified; your CET and refund signatures are made and stored`,
          `funding PSBT written to ${psbtOut}: sign your inputs with your wallet, then run`,
          `  hashdlc sign ${c.record.id} --psbt-in FILE`,
        ]);
        return 0;
      }
      fundingSignatures = signOwnFundingInputs(wallet, setup, 'offer');
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
    ctx.print({ id: c.record.id, state: 'signed', contractId: toHex(setup.contractId), fundingTxid: setup.funding.txidHex }, [
      `signed contract ${toHex(setup.contractId)} (offer ${c.record.id})`,
      `funding txid ${setup.funding.txidHex}; the accepter funds next`,
    ]);
    return 0;
  } finally {
    await ctx.close();
  }
}

// ------------------------------------------------------------------ fund

async function fundFromSign(ctx: CliContext, c: LoadedContract, signHex: string | undefined): Promise<{ setup: ContractSetup; c: LoadedContract }> {
  const accept = needAccept(c);
  if (c.sign !== undefined) return { setup: setupContract(c.offer, accept, c.flow), c };
  if (signHex === undefined) throw new ParticipantError('STATE', `the offerer has not signed contract ${c.record.id} yet`);
  const sign = decodeSignDlc(fromHex(signHex));
  const engine = await ctx.engine();
  const { setup, fundingChecks } = await verifySignAsync(c.offer, accept, sign, c.flow, engineVerifier(engine, ctx.progress));
  if (fundingChecks.includes('unverified')) ctx.note('note: some offerer funding inputs are not P2WPKH; the node checks them at broadcast');
  const record = saveState(ctx.wallet(), c.record, 'signed', { sign: signHex, contractId: toHex(setup.contractId) });
  return { setup, c: { ...c, record, sign } };
}

export async function fundCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(FUND_SPEC, argv);
  if (parsed.help) {
    process.stdout.write(helpText(FUND_SPEC));
    return 0;
  }
  const psbtOut = str(parsed.values, 'psbt-out');
  const psbtIn = str(parsed.values, 'psbt-in');
  if (psbtOut !== undefined && psbtIn !== undefined) throw usage('--psbt-out and --psbt-in are two separate runs');
  const broadcast = parsed.values.broadcast === true;
  const ctx = new CliContext(loadConfig(parsed.values));
  try {
    const wallet = ctx.wallet();
    let c = loadContract(wallet, parsed.positionals[0]!);
    if (c.record.role !== 'accept') throw new ParticipantError('STATE', `contract ${c.record.id} was offered here: the accepter funds; use 'hashdlc sign'`);
    if (c.record.fundingTxid !== undefined) throw new ParticipantError('STATE', `contract ${c.record.id} is funded already (${c.record.fundingTxid})`);
    // Hole 1, again before we sign: the offerer may not list a coin of ours.
    refuseOurCoinsAsCounterpartyInputs(wallet, 'offer', c.offer.fundingInputs, outpointsOf(needAccept(c).fundingInputs));
    if (psbtOut !== undefined || psbtIn !== undefined) refuseUnverifiableCounterpartyInputs('offer', c.offer.fundingInputs);
    // No funding from the deadline on, through the coordinator or our own node (issue 9, hole 2).
    await checkFundingDeadline(c.terms, await ctx.rpc());
    const coordinator = broadcast && c.sign !== undefined ? undefined : ctx.coordinator();
    const messages = coordinator === undefined ? undefined : await coordinator.messages(c.record.id, c.keys.identitySecretKey);
    const r = await fundFromSign(ctx, c, messages?.sign ?? undefined);
    c = r.c;
    const setup = r.setup;
    let ownWitnesses: FundingSignatures;
    if (psbtIn !== undefined) {
      ownWitnesses = ownWitnessesOfExternalPsbt(setup, verifyFundingPsbt(setup, readPsbtFile(psbtIn), 'accept').psbt, 'accept');
    } else {
      const view = coordinator === undefined ? undefined : await coordinator.contract(c.record.id, c.keys.identitySecretKey);
      // The coordinator's PSBT must be our funding transaction; the one handed to a wallet is our own clean copy.
      if (view?.fundingPsbt) verifyFundingPsbt(setup, view.fundingPsbt, 'accept');
      const psbt = fundingPsbtOf(setup);
      if (psbtOut !== undefined) {
        writeFileSync(psbtOut, `${psbt.toBase64()}\n`);
        saveState(wallet, c.record, c.record.state, { fundingPsbt: psbt.toBase64() });
        ctx.print({ id: c.record.id, psbtOut, fundingTxid: setup.funding.txidHex }, [
          "offerer's signatures verified",
          `funding PSBT written to ${psbtOut}: sign your inputs with your wallet, then run`,
          `  hashdlc fund ${c.record.id} --psbt-in FILE`,
        ]);
        return 0;
      }
      ownWitnesses = signOwnFundingInputs(wallet, setup, 'accept');
    }
    // Only our own witnesses leave (a clean copy of the funding PSBT with them alone).
    const psbt = partyFundingPsbt(setup.funding, 'accept', ownWitnesses);
    let txid = setup.funding.txidHex;
    if (broadcast) {
      // Both parties' witnesses on the funding transaction computed here (the PSBT may
      // already carry the offerer's finalized inputs; the transaction is rebuilt either way).
      const withOffer = applyFundingSignatures(setup.funding.tx, setup.funding, 'offer', needSign(c).fundingSignatures);
      const tx = applyFundingSignatures(withOffer, setup.funding, 'accept', ownWitnesses);
      if (tx.getId() !== setup.funding.txidHex) throw new ParticipantError('MISMATCH', 'the signed funding transaction has another txid');
      const rpc = await ctx.rpc();
      txid = await rpc.sendRawTransaction(tx.toHex());
    } else {
      const view = await coordinator!.fund(c.record.id, { fundingPsbt: psbt.toBase64() }, c.keys.identitySecretKey);
      if (view.fundingTxid && view.fundingTxid !== setup.funding.txidHex) {
        throw new ParticipantError('MISMATCH', `the coordinator broadcast ${view.fundingTxid}, not our funding transaction ${setup.funding.txidHex}`);
      }
      const mapped = localStateOf(view.state);
      if (mapped !== undefined && mapped !== 'funding-broadcast' && mapped !== 'confirmed') ctx.note(`coordinator state: ${view.state}`);
    }
    saveState(wallet, c.record, 'funding-broadcast', { fundingTxid: txid, fundingPsbt: psbt.toBase64() });
    ctx.print({ id: c.record.id, state: 'funding-broadcast', contractId: toHex(setup.contractId), fundingTxid: txid }, [
      `funding transaction ${txid} broadcast${broadcast ? ' through your node' : ' by the coordinator'}`,
      `contract ${toHex(setup.contractId)}`,
    ]);
    return 0;
  } finally {
    await ctx.close();
  }
}
