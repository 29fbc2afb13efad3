/**
 * The on-chain half of `hashdlc cancel` (issue 9, hole 2: the accepter's free
 * option): once this party's funding signatures may have left the process
 * (the offerer after `sign`, the accepter after `accept`), telling the
 * coordinator is not enough: whoever holds a fully signed funding
 * transaction can still broadcast it. So this party double-spends ITS OWN
 * funding inputs back to its own change script, with a higher fee than the
 * whole funding transaction pays (BIP125 rules 3, 4 and 6, so it also
 * replaces a funding transaction sitting in a mempool: our funding inputs
 * signal replaceability, nSequence 0xfffffffd, BIP125 rule 1). Once the
 * cancel transaction has a confirmation, the old funding can never confirm.
 *
 * `cancelContract` is the use case: the on-chain half when needed, then the
 * coordinator. A strip (issue 12: N period contracts over one funding
 * transaction) is cancelled as one, by any of its ids.
 *
 * This module does NOT touch the counterparty's inputs (never signs them,
 * never spends them) or pay anyone else.
 */
import { Psbt, Transaction } from 'bitcoinjs-lib';
import { buildFundingTransaction, type FundingTxInput } from '../../protocol/tx/index.js';
import type { BitcoinRpc } from '../chain/index.js';
import { FUNDING_INPUT_SEQUENCE, type ContractRecord } from '../wallet/index.js';
import { loadContract, needAccept, saveState, type LoadedContract } from './contract.js';
import { ParticipantError } from './errors.js';
import type { Participant } from './participant.js';
import type { ContractSigner } from './signer.js';
import { stripRecords } from './strip.js';

/** vbytes of one P2WPKH input (41 non-witness + 108/4 witness), the P2WPKH output (31) and the overhead (10.5, rounded up). */
const P2WPKH_INPUT_VB = 68n;
const OUTPUT_VB = 43n; // up to a P2WSH/P2TR output script
const OVERHEAD_VB = 11n;

/** Whether this party's funding signatures may be out: the offerer once sign_dlc exists, the accepter once it accepted. */
export function fundingSignaturesMayBeOut(c: { record: Pick<ContractRecord, 'role' | 'sign' | 'accept'> }): boolean {
  return c.record.role === 'offer' ? c.record.sign !== undefined : c.record.accept !== undefined;
}

export interface CancelTransaction {
  psbt: Psbt;
  /** The inputs double-spent (`txid:vout`). */
  spends: string[];
  fee: bigint;
  /** The whole funding transaction's fee, which ours exceeds (BIP125 rule 3). */
  fundingFee: bigint;
}

/**
 * The cancel PSBT: every funding input of ours still unspent on chain, all
 * to our own change script (the one our offer/accept names), paying the
 * funding transaction's whole fee plus `feeRatePerVb + 1` sat/vB of its own
 * size (so both its absolute fee and its fee rate are higher: BIP125 rules
 * 3, 4 and 6). `allOurInputs`: every funding input of ours, spent or not
 * (the cancel transaction an earlier run built when all were unspent).
 * @throws {ParticipantError} STATE when the funding transaction is confirmed (the contract is live) or no input of ours is left; MISMATCH when they cannot pay the fee.
 */
export async function buildCancelPsbt(c: LoadedContract, rpc: BitcoinRpc, options: { allOurInputs?: boolean } = {}): Promise<CancelTransaction> {
  // The funding transaction alone (no CETs: protocol/contract setupContract would build them all).
  const funding = buildFundingTransaction(c.offer, needAccept(c), c.funding);
  const confirmed = await rpc.getTxOut(funding.txidHex, funding.fundOutputIndex, false);
  if (confirmed !== null) throw new ParticipantError('STATE', `the funding transaction ${funding.txidHex} is confirmed: the contract is live, settle or refund it`);
  const party = c.record.role;
  const ours: FundingTxInput[] = [];
  for (const input of funding.inputs.filter((i) => i.party === party)) {
    const txid = Buffer.from(input.prevTxid).reverse().toString('hex');
    // Unspent in the chain (a funding transaction in a mempool is what we replace).
    if (options.allOurInputs === true || (await rpc.getTxOut(txid, input.prevVout, false)) !== null) ours.push(input);
  }
  if (ours.length === 0) throw new ParticipantError('STATE', 'none of our funding inputs is unspent on chain: nothing to take back');
  const inputTotal = funding.inputs.reduce((s, i) => s + i.prevOutput.value, 0n);
  const outputTotal = funding.tx.outs.reduce((s, o) => s + o.value, 0n);
  const fundingFee = inputTotal - outputTotal;
  const vsize = OVERHEAD_VB + P2WPKH_INPUT_VB * BigInt(ours.length) + OUTPUT_VB;
  const fee = fundingFee + vsize * (c.offer.feeRatePerVb + 1n);
  const ownTotal = ours.reduce((s, i) => s + i.prevOutput.value, 0n);
  const back = ownTotal - fee;
  if (back < 546n) throw new ParticipantError('MISMATCH', `our inputs hold ${ownTotal} sats, too little to outbid the funding fee ${fundingFee} (needs ${fee} + dust)`);
  const psbt = new Psbt({ network: undefined });
  for (const input of ours) {
    psbt.addInput({
      hash: input.prevTxid,
      index: input.prevVout,
      sequence: FUNDING_INPUT_SEQUENCE, // BIP125-signalling, like the funding inputs it replaces
      witnessUtxo: { script: input.prevOutput.script, value: input.prevOutput.value },
      nonWitnessUtxo: input.prevTx,
      ...(input.redeemScript.length > 0 ? { redeemScript: input.redeemScript } : {}),
    });
  }
  const changeSpk = party === 'offer' ? c.offer.changeSpk : needAccept(c).changeSpk;
  psbt.addOutput({ script: changeSpk, value: back });
  return {
    psbt,
    spends: ours.map((i) => `${Buffer.from(i.prevTxid).reverse().toString('hex')}:${i.prevVout}`),
    fee,
    fundingFee,
  };
}

/**
 * Signs the cancel PSBT with the contract's signer (every input must be the
 * wallet's: they are our own funding inputs) and returns the final transaction.
 * @throws {ParticipantError} MISMATCH when an input is not this wallet's (external funding: use --psbt-out).
 */
function signCancel(signer: Pick<ContractSigner, 'signFundingInputs'>, psbt: Psbt): Transaction {
  // Every input of the cancel transaction is one of our own funding inputs.
  const { notOurs: missing } = signer.signFundingInputs(psbt, psbt.data.inputs.map((_, i) => i));
  if (missing.length > 0) {
    throw new ParticipantError('MISMATCH', `cancel input(s) ${missing.join(', ')} are not this wallet's (external funding): pass --psbt-out FILE and sign and broadcast it with that wallet`);
  }
  psbt.finalizeAllInputs();
  return psbt.extractTransaction();
}

/** The coordinator's refusal of a contract that it has ended unfunded (`state-expired`, `state-cancelled`, `state-failed`). */
function givenUpAtCoordinator(err: unknown): boolean {
  return err instanceof ParticipantError && err.code === 'REMOTE' && ['state-expired', 'state-cancelled', 'state-failed'].includes(err.reason ?? '');
}

export interface CancelInput {
  /** Offer id or contract id (or a unique prefix of 8+ hex digits). */
  id: string;
  /** External-wallet funding: return the cancel PSBT for that wallet to sign and broadcast, instead of signing it. */
  psbtOnly?: boolean;
  /**
   * A contract already `cancelled` is reported done (`already`) instead of refused with STATE
   * (the agent re-running a step after a crash; the CLI keeps refusing, as it always did).
   */
  doneIfCancelled?: boolean;
}

/** `cancelContract` with `psbtOnly`: the PSBT to sign elsewhere; nothing is recorded or sent. */
export interface CancelPsbtResult {
  kind: 'psbt';
  id: string;
  /** Base64. */
  psbt: string;
  spends: string[];
  fee: bigint;
  fundingFee: bigint;
}

/** `cancelContract` done (or found done). */
export interface CancelledResult {
  kind: 'cancelled';
  id: string;
  state: 'cancelled';
  /** The coordinator's state after our cancel, null when it gave none or was not reached. */
  coordinator: string | null;
  /** Our funding inputs double-spent on chain (when our funding signatures may have been out). */
  onChain: { txid: string; spends: string[]; fee: bigint } | undefined;
  /** The contract was cancelled by an earlier run (`doneIfCancelled`): nothing was done now. */
  already: boolean;
  /** A strip: how many periods were cancelled with it (`id` is the strip id then). */
  periods?: number;
}

/**
 * `hashdlc cancel`: gives up a contract before funding. Once this party's
 * funding signatures may be out, its own funding inputs are first
 * double-spent back to it through its node (recorded `cancelled` as soon as
 * that is sent); then the coordinator is told (its refusal then is only a
 * note). A repeat after a crash rebuilds and resends the same transaction
 * (same inputs, fee and change script; deterministic signatures); a
 * contract already `cancelled` is refused (STATE), or reported done with
 * `doneIfCancelled`.
 * @throws {ParticipantError} STATE (funded, or ended otherwise; funding confirmed), MISMATCH (inputs not this wallet's: use `psbtOnly`); {ChainError}; coordinator errors when nothing went on chain (except its refusal of a contract it ended unfunded: expired, cancelled, failed; then it is cancelled here).
 */
export async function cancelContract(p: Participant, input: CancelInput): Promise<CancelPsbtResult | CancelledResult> {
  const wallet = p.wallet();
  const named = loadContract(wallet, input.id);
  // A strip (issue 12): its N periods share ONE funding transaction (the same inputs, change and keys), so
  // the strip is cancelled as one: our inputs double-spent once, every period recorded cancelled, the
  // coordinator told once (`POST /v1/strips/:id/cancel`). Any id of the strip names the whole strip.
  const periods = named.record.strip === undefined ? [named.record] : stripRecords(wallet, named.record.id)!;
  const c = named.record.strip === undefined ? named : loadContract(wallet, periods[0]!.id);
  const stripId = c.record.strip?.id;
  const open = periods.filter((r) => r.state !== 'cancelled');
  if (open.length === 0 && input.doneIfCancelled === true && input.psbtOnly !== true) {
    return { kind: 'cancelled', id: c.record.id, state: 'cancelled', coordinator: null, onChain: undefined, already: true, ...(stripId === undefined ? {} : { periods: periods.length }) };
  }
  const what = (r: ContractRecord): string => (r.strip === undefined ? `contract ${r.id}` : `strip ${r.strip.id} period ${r.strip.batch.index + 1}`);
  // A strip's repeat after a crash between two periods' records: the cancelled ones are skipped.
  for (const r of stripId === undefined ? periods : open) {
    if (!['offered', 'accepted', 'signed'].includes(r.state)) {
      throw new ParticipantError('STATE', `${what(r)} is ${r.state}: only contracts not yet funded can be cancelled`);
    }
  }
  if (open.length === 0) throw new ParticipantError('STATE', `${what(c.record)} is cancelled: only contracts not yet funded can be cancelled`);
  const saveAll = (note?: string): void => {
    for (const r of open) saveState(wallet, wallet.contracts.get(r.id), 'cancelled', {}, note);
  };
  let onChain: CancelledResult['onChain'];
  if (periods.some((r) => fundingSignaturesMayBeOut({ record: r }))) {
    // The real cancellation (issue 9, hole 2): our inputs spent back to us, on chain.
    const rpc = await p.rpc();
    const built = await buildCancelPsbt(c, rpc).catch(async (e: unknown) => {
      if (input.psbtOnly === true || !(e instanceof ParticipantError) || e.code !== 'STATE') throw e;
      // Nothing of ours left to spend: a repeat whose earlier run's cancel has confirmed meanwhile?
      const earlier = await confirmedEarlierCancel(c, rpc, p.contractSigner(c.record));
      if (earlier === undefined) throw e;
      return earlier;
    });
    if ('txid' in built) {
      onChain = built;
    } else if (input.psbtOnly === true) {
      return { kind: 'psbt', id: c.record.id, psbt: built.psbt.toBase64(), spends: built.spends, fee: built.fee, fundingFee: built.fundingFee };
    } else {
      const tx = signCancel(p.contractSigner(c.record), built.psbt);
      onChain = { txid: await rpc.sendRawTransaction(tx.toHex()), spends: built.spends, fee: built.fee };
    }
    // Recorded before anything else can fail: the coins are on their way back.
    saveAll(`double-spent our funding inputs in ${onChain.txid}`);
  }
  let coordinatorState: string | null = null;
  try {
    const coordinator = p.coordinator();
    const view = stripId === undefined
      ? await coordinator.cancel(c.record.id, c.keys.identitySecretKey)
      : await coordinator.cancelStrip(stripId, c.keys.identitySecretKey);
    coordinatorState = typeof view.state === 'string' ? view.state : null;
  } catch (err) {
    // With our inputs double-spent the coordinator's word no longer matters (it may have expired the contract).
    // Nor does it when no funding signature of ours is out and the coordinator has given the contract up
    // already (expired at the funding deadline, cancelled, failed): nothing can fund it, the coins are ours.
    if (onChain === undefined && !givenUpAtCoordinator(err)) throw err;
    p.note(`note: the coordinator did not cancel (${err instanceof Error ? err.message : String(err)})`);
  }
  if (onChain === undefined) saveAll();
  return { kind: 'cancelled', id: c.record.id, state: 'cancelled', coordinator: coordinatorState, onChain, already: false, ...(stripId === undefined ? {} : { periods: periods.length }) };
}

/**
 * A repeat after a crash between our cancel broadcast and its record, with
 * that cancel confirmed meanwhile (none of our inputs is unspent now): the
 * cancel transaction of all our inputs (what the earlier run built, when
 * they were all unspent; deterministic signatures, same txid) has its
 * output in the UTXO set. Undefined when it has not (our inputs went
 * elsewhere, or are not this wallet's).
 */
async function confirmedEarlierCancel(c: LoadedContract, rpc: BitcoinRpc, signer: Pick<ContractSigner, 'signFundingInputs'>): Promise<{ txid: string; spends: string[]; fee: bigint } | undefined> {
  try {
    const all = await buildCancelPsbt(c, rpc, { allOurInputs: true });
    const txid = signCancel(signer, all.psbt).getId();
    if ((await rpc.getTxOut(txid, 0, true)) === null) return undefined;
    return { txid, spends: all.spends, fee: all.fee };
  } catch {
    return undefined;
  }
}
