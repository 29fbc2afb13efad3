/**
 * Transferable positions (issue 14): a funded contract's side is sold to a new
 * party by novation. The party that stays and the new party set up the SAME
 * contract (contract info, collaterals, locktimes, fee rate, the stayer's key
 * and payout script) over a new funding output created by the transfer
 * transaction (protocol/tx transfer.ts), which spends the old funding output.
 *
 * The new contract's messages are ordinary dlcspecs messages, derived from the
 * old ones (`transferredMessages`): a new temporary contract id, the sold side's
 * funding key, payout script, payout serial id, inputs, change script and change
 * serial id replaced by the new party's, and no inputs for the side that stays.
 * The accept_dlc carries the accepter's CET adaptor and refund signatures and
 * the sign_dlc the offerer's (with no funding witnesses when the offerer stays);
 * the new party's input witnesses come through the transfer PSBT.
 *
 * Signing order, which makes the transfer atomic for everyone:
 * 1. both parties of the new contract exchange and verify every CET adaptor
 *    signature and the refund signature (`verifyTransferSignatures`): the new
 *    party is protected by the new CETs before anything spends the old output;
 * 2. the stayer checks the new contract field by field against the old one
 *    (`checkTransferredContract`) and the seller checks the transaction pays it
 *    the price (protocol/tx `checkTransferPayment`), each before signing the old
 *    funding input (`transferSpendSighash`), SIGHASH_ALL over the whole transfer;
 * 3. the new party signs its own inputs last.
 * If the transfer never confirms, the old funding output is unspent and the old
 * contract's CETs and refund still settle it.
 *
 * This module does NOT talk to nodes, oracles or coordinators. No I/O.
 */
import { DlcError } from '../errors.js';
import type { AcceptDlc, CetAdaptorSignatures, FundingInput, OfferDlc, SignDlc } from '../messages/types.js';
import { validateSign } from '../messages/validate.js';
import type { Party, TransferSource, TransferTerms, TransferTransaction } from '../tx/index.js';
import { buildTransferTransaction } from '../tx/index.js';
import type { FlowNetwork } from './flow.js';
import { firstDifference } from './flow.js';
import type { ContractSetup, ContractSetupOptions } from './setup.js';
import { setupContract, verifyRefundSignature } from './setup.js';
import type { CetVerifier } from './flow.js';
import { syncCetVerifier } from './flow.js';

/**
 * Blocks before a contract's CET locktime (its window's end) from which a
 * transfer is refused: the transfer must have time to confirm before a CET of
 * the old contract can compete with it. One hour on the public networks.
 */
export const TRANSFER_MARGIN_BLOCKS: Readonly<Record<FlowNetwork, number>> = {
  mainnet: 6,
  testnet: 6,
  signet: 6,
  regtest: 2,
};

/** The last tip height at which a contract with this CET locktime may still be transferred. */
export function transferDeadline(cetLocktime: number, network: FlowNetwork): number {
  return cetLocktime - TRANSFER_MARGIN_BLOCKS[network] - 1;
}

/**
 * Refuses a transfer too close to the window's end.
 * @throws {DlcError} INVALID_PARAMS (`transfer-closed`) when `tip > transferDeadline(...)`.
 */
export function checkTransferOpen(tip: number, cetLocktime: number, network: FlowNetwork): void {
  const last = transferDeadline(cetLocktime, network);
  if (tip > last) {
    throw new DlcError('INVALID_PARAMS', `transfers of this contract closed at height ${last} (${TRANSFER_MARGIN_BLOCKS[network]} blocks before its CET locktime ${cetLocktime}); the tip is ${tip}`, {
      reason: 'transfer-closed', details: { lastHeight: last, tip },
    });
  }
}

/** The new party's fields of the new contract (the sold side's in its message). */
export interface TransferBuyerFields {
  fundingPubkey: Uint8Array;
  payoutSpk: Uint8Array;
  payoutSerialId: bigint;
  fundingInputs: FundingInput[];
  changeSpk: Uint8Array;
  changeSerialId: bigint;
}

/** The old contract's messages. */
export interface TransferredFrom {
  offer: OfferDlc;
  accept: AcceptDlc;
}

const NO_CET_SIGNATURES: CetAdaptorSignatures = { ecdsaAdaptorSignatures: [] };

/**
 * The new contract's offer_dlc and (unsigned) accept_dlc: the old messages with
 * a new temporary id, the sold side's fields the new party's and no inputs for
 * the side that stays. Everything else (contract info, collaterals, locktimes,
 * fee rate, serial id of the funding output, the stayer's key and payout) is
 * the old contract's, by construction.
 */
export function transferredMessages(old: TransferredFrom, side: Party, temporaryContractId: Uint8Array, buyer: TransferBuyerFields): { offer: OfferDlc; accept: AcceptDlc } {
  if (side !== 'offer' && side !== 'accept') throw new DlcError('INVALID_PARAMS', 'transfer side must be offer or accept', { reason: 'transfer-side' });
  const replaced = {
    fundingPubkey: buyer.fundingPubkey,
    payoutSpk: buyer.payoutSpk,
    payoutSerialId: buyer.payoutSerialId,
    fundingInputs: buyer.fundingInputs,
    changeSpk: buyer.changeSpk,
    changeSerialId: buyer.changeSerialId,
  };
  const offer: OfferDlc = side === 'offer'
    ? { ...old.offer, temporaryContractId, ...replaced }
    : { ...old.offer, temporaryContractId, fundingInputs: [] };
  const accept: AcceptDlc = {
    ...old.accept,
    temporaryContractId,
    ...(side === 'accept' ? replaced : { fundingInputs: [] }),
    cetAdaptorSignatures: NO_CET_SIGNATURES,
    refundSignature: new Uint8Array(64),
  };
  return { offer, accept };
}

/** The new party's fields as they appear in the new contract's messages. */
export function transferBuyerFieldsOf(next: TransferredFrom, side: Party): TransferBuyerFields {
  const m = side === 'offer' ? next.offer : next.accept;
  return {
    fundingPubkey: m.fundingPubkey,
    payoutSpk: m.payoutSpk,
    payoutSerialId: m.payoutSerialId,
    fundingInputs: m.fundingInputs,
    changeSpk: m.changeSpk,
    changeSerialId: m.changeSerialId,
  };
}

/** Set-up options of the new contract: the old contract's, with the transfer transaction as its funding. */
export function transferSetupOptions(base: ContractSetupOptions, funding: TransferTransaction): ContractSetupOptions {
  const { extraOutputs: _extra, batch: _batch, ...rest } = base;
  return { ...rest, funding };
}

/**
 * The new contract's set-up over its transfer transaction.
 * @throws {DlcError} as protocol/tx `buildTransferTransaction` and `setupContract`.
 */
export function setupTransferredContract(
  offer: OfferDlc,
  accept: AcceptDlc,
  terms: TransferTerms,
  base: ContractSetupOptions = {},
): { setup: ContractSetup; transfer: TransferTransaction } {
  const transfer = buildTransferTransaction(offer, accept, terms);
  return { setup: setupContract(offer, accept, transferSetupOptions(base, transfer)), transfer };
}

function mismatch(path: string, expected: string, got: string): DlcError {
  return new DlcError('INVALID_PARAMS', `the transferred contract differs from the contract at ${path}: expected ${expected}, got ${got}`, {
    reason: `transfer-mismatch:${path}`, details: { field: path, expected, got },
  });
}

/**
 * The check every party of a transfer runs before it signs anything of the
 * new contract: the new messages are exactly the old contract with only the
 * sold side's key, payout script, serial ids, inputs and change replaced
 * (re-derived with `transferredMessages` and compared field by field), the
 * transfer spends exactly the old funding output at its value, and sells the
 * expected side.
 * @throws {DlcError} INVALID_PARAMS `transfer-mismatch:<field>` naming the first
 *   field that differs (e.g. `transfer-mismatch:offer.contractInfo.singleContractInfo.totalCollateral`,
 *   `transfer-mismatch:offer.payoutSpk`, `transfer-mismatch:accept.acceptCollateral`,
 *   `transfer-mismatch:from.value`, `transfer-mismatch:side`); `transfer-payout-spk-longer` when the new
 *   party's payout script is longer than the seller's (the closing fee budget is the old one).
 */
export function checkTransferredContract(old: TransferredFrom, next: TransferredFrom, terms: TransferTerms, expected: { side: Party; from: TransferSource }): void {
  if (terms.side !== expected.side) throw mismatch('side', expected.side, String(terms.side));
  const source = firstDifference(expected.from, terms.from, 'from');
  if (source) throw mismatch(source.path, source.expected, source.got);
  const derived = transferredMessages(old, expected.side, next.offer.temporaryContractId, transferBuyerFieldsOf(next, expected.side));
  const strip = (a: AcceptDlc): Omit<AcceptDlc, 'cetAdaptorSignatures' | 'refundSignature'> => {
    const { cetAdaptorSignatures: _c, refundSignature: _r, ...rest } = a;
    return rest;
  };
  const d = firstDifference(derived.offer, next.offer, 'offer') ?? firstDifference(strip(derived.accept), strip(next.accept), 'accept');
  if (d) throw mismatch(d.path, d.expected, d.got);
  // The new funding output keeps the old value, so the CETs' and refund's fee budget is the one the seller's payout
  // script was priced at: a longer script of the new party would make them pay below the contract's fee rate
  // (at 1 sat/vB, below the minimum relay fee: the stayer's payouts could not be mined).
  const oldSpk = (expected.side === 'offer' ? old.offer : old.accept).payoutSpk;
  const newSpk = (expected.side === 'offer' ? next.offer : next.accept).payoutSpk;
  if (newSpk.length > oldSpk.length) {
    throw new DlcError('INVALID_PARAMS', `the new party's payout script (${newSpk.length} bytes) is longer than the seller's (${oldSpk.length}): the contract's closing fees were paid for the seller's`, {
      reason: 'transfer-payout-spk-longer', details: { max: oldSpk.length, got: newSpk.length },
    });
  }
}

/**
 * Verifies one party's CET adaptor signatures and refund signature over the
 * new contract's set-up (a party MUST before it signs the transfer).
 * @throws {DlcError} BAD_SIGNATURE (`refund-signature`, `cet-adaptor-signature:<slot>`).
 */
export async function verifyTransferSignatures(
  setup: ContractSetup,
  party: Party,
  sigs: { cetAdaptorSignatures: CetAdaptorSignatures; refundSignature: Uint8Array },
  verifier: CetVerifier = syncCetVerifier,
): Promise<void> {
  verifyRefundSignature(setup, party, sigs.refundSignature);
  await verifier(setup, party, sigs.cetAdaptorSignatures);
}

/**
 * The new contract's sign_dlc from the offerer's signatures. When the offerer
 * stays it brings no inputs, so `funding_signatures` is empty; when the offer
 * side is sold the new offerer's witnesses come through the transfer PSBT.
 */
export function transferSign(setup: ContractSetup, sigs: { cetAdaptorSignatures: CetAdaptorSignatures; refundSignature: Uint8Array }): SignDlc {
  const sign: SignDlc = {
    protocolVersion: 1,
    contractId: setup.contractId,
    cetAdaptorSignatures: sigs.cetAdaptorSignatures,
    refundSignature: sigs.refundSignature,
    fundingSignatures: { fundingSignatures: [] },
  };
  validateSign({ ...setup.offer, fundingInputs: [] }, setup.accept, sign, { expectedContractId: setup.contractId });
  return sign;
}

/**
 * Checks the new contract's sign_dlc: its contract id, and the offerer's CET
 * adaptor and refund signatures.
 * @throws {DlcError} `validateSign` errors (`contract-id-mismatch`, ...); BAD_SIGNATURE as {@link verifyTransferSignatures}.
 */
export async function verifyTransferSign(setup: ContractSetup, sign: SignDlc, verifier: CetVerifier = syncCetVerifier): Promise<void> {
  if (sign.fundingSignatures.fundingSignatures.length !== 0) {
    throw new DlcError('INVALID_PARAMS', 'a transfer\'s sign_dlc carries no funding witnesses', { reason: 'funding-signature-count' });
  }
  validateSign({ ...setup.offer, fundingInputs: [] }, setup.accept, sign, { expectedContractId: setup.contractId });
  await verifyTransferSignatures(setup, 'offer', sign, verifier);
}

/**
 * `TransferTerms` as JSON (the coordinator API's and the records' form): the
 * old funding txid in display order (as Bitcoin Core shows it), amounts and
 * serial ids as decimal strings, scripts as hex.
 */
export interface TransferTermsJson {
  side: Party;
  from: { txid: string; vout: number; value: string; script: string };
  price: string;
  sellerSpk: string;
  priceSerialId: string;
  feeRatePerVb: string;
}

const toHexText = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

function fromHexText(s: string, what: string): Uint8Array {
  if (typeof s !== 'string' || s.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(s)) {
    throw new DlcError('DECODE_ERROR', `transfer terms: ${what} is not hex`, { reason: 'transfer-terms' });
  }
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function u64Of(s: string, what: string): bigint {
  if (typeof s !== 'string' || !/^(0|[1-9][0-9]{0,19})$/.test(s) || BigInt(s) >= 1n << 64n) {
    throw new DlcError('DECODE_ERROR', `transfer terms: ${what} is not a decimal u64`, { reason: 'transfer-terms' });
  }
  return BigInt(s);
}

export function transferTermsToJson(t: TransferTerms): TransferTermsJson {
  return {
    side: t.side,
    from: { txid: toHexText(Uint8Array.from(t.from.txid).reverse()), vout: t.from.vout, value: t.from.value.toString(), script: toHexText(t.from.script) },
    price: t.price.toString(),
    sellerSpk: toHexText(t.sellerSpk),
    priceSerialId: t.priceSerialId.toString(),
    feeRatePerVb: t.feeRatePerVb.toString(),
  };
}

/**
 * Reads `TransferTermsJson`.
 * @throws {DlcError} DECODE_ERROR (`transfer-terms`) for a field of the wrong form.
 */
export function transferTermsFromJson(j: TransferTermsJson): TransferTerms {
  if (j === null || typeof j !== 'object' || j.from === null || typeof j.from !== 'object') {
    throw new DlcError('DECODE_ERROR', 'transfer terms are not an object', { reason: 'transfer-terms' });
  }
  if (j.side !== 'offer' && j.side !== 'accept') throw new DlcError('DECODE_ERROR', 'transfer terms: side', { reason: 'transfer-terms' });
  const txid = fromHexText(j.from.txid, 'from.txid');
  if (txid.length !== 32) throw new DlcError('DECODE_ERROR', 'transfer terms: from.txid is not 32 bytes', { reason: 'transfer-terms' });
  if (!Number.isInteger(j.from.vout) || j.from.vout < 0 || j.from.vout > 0xffffffff) {
    throw new DlcError('DECODE_ERROR', 'transfer terms: from.vout', { reason: 'transfer-terms' });
  }
  return {
    side: j.side,
    from: { txid: txid.reverse(), vout: j.from.vout, value: u64Of(j.from.value, 'from.value'), script: fromHexText(j.from.script, 'from.script') },
    price: u64Of(j.price, 'price'),
    sellerSpk: fromHexText(j.sellerSpk, 'sellerSpk'),
    priceSerialId: u64Of(j.priceSerialId, 'priceSerialId'),
    feeRatePerVb: u64Of(j.feeRatePerVb, 'feeRatePerVb'),
  };
}
