/**
 * The consistency rules of a batch (a hashpower strip's period contracts,
 * issue 12): N offer_dlc / accept_dlc / sign_dlc messages that one funding
 * transaction funds (protocol/tx `FundingBatch`). Each message is still
 * validated on its own (protocol/messages validate.ts); these rules say that
 * the N messages of one party describe ONE funding transaction:
 *
 * offers: same chain, funding pubkey, payout spk, funding inputs, change spk,
 *   change serial id and fee rate; pairwise different temporary contract ids
 *   and fund output serial ids (node-dlc's BatchDlcTxBuilder requires the same
 *   inputs of every offer; the shared keys are our departure: funding.ts);
 * accepts: one per offer, each naming its offer's temporary id, with the same
 *   funding pubkey, payout spk, funding inputs, change spk and change serial id;
 * signs: one per contract, with the same funding signatures (the witnesses of
 *   the one funding transaction's offerer inputs).
 *
 * Errors name the period (1-based) whose message breaks the rule.
 * No I/O.
 */
import { DlcError } from '../errors.js';
import type { AcceptDlc, FundingInput, OfferDlc, SignDlc } from '../messages/types.js';
import { toHex } from '../messages/wire.js';
import { MAX_BATCH_CONTRACTS } from '../tx/index.js';

function inputsKey(inputs: readonly FundingInput[]): string {
  return inputs.map((i) => `${toHex(i.prevTx)}:${i.prevTxVout}:${i.sequence}:${i.maxWitnessLen}:${toHex(i.redeemScript)}:${i.inputSerialId}`).join('|');
}

function mismatch(what: string, field: string, period: number): DlcError {
  return new DlcError('INVALID_PARAMS', `period ${period + 1}: its ${what} has another ${field} than period 1's; one funding transaction funds the whole strip`, {
    reason: `batch-${field.replace(/ /g, '-')}`, details: { period: period + 1 },
  });
}

function checkCount(n: number, what: string): void {
  if (n < 2 || n > MAX_BATCH_CONTRACTS) {
    throw new DlcError('INVALID_PARAMS', `a batch has 2 to ${MAX_BATCH_CONTRACTS} ${what}s, got ${n}`, { reason: 'batch-size' });
  }
}

function checkDistinct(values: readonly string[], field: string): void {
  const seen = new Map<string, number>();
  values.forEach((v, i) => {
    const j = seen.get(v);
    if (j !== undefined) {
      throw new DlcError('INVALID_PARAMS', `periods ${j + 1} and ${i + 1} have the same ${field}`, { reason: `batch-duplicate-${field.replace(/ /g, '-')}`, details: { period: i + 1 } });
    }
    seen.set(v, i);
  });
}

/**
 * The offers of one batch describe one funding transaction (module header).
 * @throws {DlcError} INVALID_PARAMS `batch-size`, `batch-<field>`, `batch-duplicate-<field>` with `details.period`.
 */
export function checkBatchOffers(offers: readonly OfferDlc[]): void {
  checkCount(offers.length, 'offer');
  const first = offers[0]!;
  const inputs = inputsKey(first.fundingInputs);
  offers.forEach((o, i) => {
    if (toHex(o.chainHash) !== toHex(first.chainHash)) throw mismatch('offer', 'chain hash', i);
    if (toHex(o.fundingPubkey) !== toHex(first.fundingPubkey)) throw mismatch('offer', 'funding pubkey', i);
    if (toHex(o.payoutSpk) !== toHex(first.payoutSpk)) throw mismatch('offer', 'payout spk', i);
    if (inputsKey(o.fundingInputs) !== inputs) throw mismatch('offer', 'funding inputs', i);
    if (toHex(o.changeSpk) !== toHex(first.changeSpk)) throw mismatch('offer', 'change spk', i);
    if (o.changeSerialId !== first.changeSerialId) throw mismatch('offer', 'change serial id', i);
    if (o.feeRatePerVb !== first.feeRatePerVb) throw mismatch('offer', 'fee rate', i);
  });
  checkDistinct(offers.map((o) => toHex(o.temporaryContractId)), 'temporary contract id');
  checkDistinct(offers.map((o) => String(o.fundOutputSerialId)), 'fund output serial id');
}

/**
 * The accepts answer the batch's offers, one each in order, and describe one funding transaction.
 * @throws {DlcError} INVALID_PARAMS `batch-size`, `batch-temporary-contract-id`, `batch-<field>` with `details.period`.
 */
export function checkBatchAccepts(offers: readonly OfferDlc[], accepts: readonly AcceptDlc[]): void {
  if (accepts.length !== offers.length) {
    throw new DlcError('INVALID_PARAMS', `${offers.length} offers need ${offers.length} accepts, got ${accepts.length}`, { reason: 'batch-size' });
  }
  const first = accepts[0]!;
  const inputs = inputsKey(first.fundingInputs);
  accepts.forEach((a, i) => {
    if (toHex(a.temporaryContractId) !== toHex(offers[i]!.temporaryContractId)) throw mismatch('accept', 'temporary contract id', i);
    if (toHex(a.fundingPubkey) !== toHex(first.fundingPubkey)) throw mismatch('accept', 'funding pubkey', i);
    if (toHex(a.payoutSpk) !== toHex(first.payoutSpk)) throw mismatch('accept', 'payout spk', i);
    if (inputsKey(a.fundingInputs) !== inputs) throw mismatch('accept', 'funding inputs', i);
    if (toHex(a.changeSpk) !== toHex(first.changeSpk)) throw mismatch('accept', 'change spk', i);
    if (a.changeSerialId !== first.changeSerialId) throw mismatch('accept', 'change serial id', i);
  });
}

/**
 * The signs of a batch carry the same funding signatures (one funding transaction).
 * @throws {DlcError} INVALID_PARAMS `batch-size`, `batch-funding-signatures` with `details.period`.
 */
export function checkBatchSigns(signs: readonly SignDlc[], count: number): void {
  if (signs.length !== count) {
    throw new DlcError('INVALID_PARAMS', `${count} contracts need ${count} signs, got ${signs.length}`, { reason: 'batch-size' });
  }
  const key = (s: SignDlc): string => s.fundingSignatures.fundingSignatures.map((w) => w.witnessElements.map((e) => toHex(e.witness)).join(',')).join('|');
  const first = key(signs[0]!);
  signs.forEach((s, i) => {
    if (key(s) !== first) throw mismatch('sign', 'funding signatures', i);
  });
}
