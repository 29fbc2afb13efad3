/**
 * The DLC funding transaction (dlcspecs Transactions.md "Funding Transaction") built
 * from the offer_dlc and accept_dlc fields, and the contract id (Protocol.md
 * "Definition of contract_id").
 *
 * Shape: version 2, locktime 0; inputs of both parties sorted by `input_serial_id`;
 * outputs (the 2-of-2 P2WSH funding output and both change outputs) sorted by
 * `fund_output_serial_id` / `change_serial_id`. The funding output holds both
 * collaterals plus both parties' closing fees; each change output is the party's
 * input total minus its collateral, funding fee and closing fee (Transactions.md
 * "Fee Payment").
 *
 * Our extension (not in dlcspecs): `extraOutputs`, further outputs of the funding
 * transaction such as the hashpower template's upfront payment to the miner. Each
 * names the party that pays it; that party's change is reduced by the output's
 * value, and the output's weight `4 * (9 + spk_len)` is added to that party's
 * funding weight before rounding to vbytes (so its fee is charged at the offer's
 * fee rate, like every other party-owned field). Extra outputs are sorted with the
 * other outputs by their serial id. Both parties must agree on them out of band
 * (e.g. from the contract template); they are not part of the dlcspecs messages,
 * so a counterparty without this extension computes a different funding txid.
 *
 * Our second extension, after node-dlc's batch funding (`BatchDlcTxBuilder`,
 * `BatchFundingGroup`): `batch`, several DLCs funded by ONE transaction (a
 * hashpower strip's period contracts, issue 12). Every contract of a batch has
 * its own offer_dlc/accept_dlc (own temporary id, `fund_output_serial_id`,
 * collaterals, contract info, CETs and refund) but they share the funding
 * inputs, change outputs and fee rate, and (our departure from node-dlc, which
 * allows a key per contract) the funding pubkeys and payout scripts, so every
 * funding output has the same 2-of-2 script and each contract's funding
 * transaction can be rebuilt from its own messages plus the batch list (each
 * contract's serial id and collaterals). Fees: each further funding output adds
 * half of its weight, `4 * 43 / 2 = 86`, to each party's funding weight (the
 * first one is in the dlcspecs base weight), and each funding output carries
 * its own contract's closing fees, so each party's change pays N closing fees.
 * node-dlc divides the batch's total closing fee by N and rounds up; with one
 * payout script per party both give the same per-contract value.
 *
 * This module does NOT sign, does NOT check funding witnesses, and does NOT check
 * that the prevTx outputs are unspent: that is the wallet's and the chain's job.
 * It does no I/O.
 */
import { Transaction } from 'bitcoinjs-lib';
import { DlcError } from '../errors.js';
import type { AcceptDlc, ContractInfo, FundingInput, OfferDlc } from '../messages/types.js';
import { DUST_LIMIT, partyFeeShape, partyFees } from './fees.js';
import {
  assertStandardScriptPubkey,
  fundingScript,
  hash160,
  isP2sh,
  p2shScriptSig,
  p2wshScriptPubkey,
  witnessProgram,
} from './scripts.js';

/** Transactions.md "Funding Transaction": version 2, locktime 0. */
export const FUNDING_TX_VERSION = 2;
export const FUNDING_TX_LOCKTIME = 0;

const U64_MAX = (1n << 64n) - 1n;

export type Party = 'offer' | 'accept';

/** An extra output of the funding transaction (our extension; see the module header). */
export interface ExtraFundingOutput {
  script: Uint8Array;
  value: bigint;
  /** Sorted with `fund_output_serial_id` and the `change_serial_id`s. */
  serialId: bigint;
  /** The party whose inputs pay the value and the output's fee. */
  payer: Party;
}

/** One DLC of a batch funding transaction (see the module header). */
export interface BatchContract {
  fundOutputSerialId: bigint;
  offerCollateral: bigint;
  acceptCollateral: bigint;
}

/** The DLCs funded together, and which of them the transaction is built for. */
export interface FundingBatch {
  /** Every contract of the batch, in period order. */
  contracts: readonly BatchContract[];
  /** The contract whose offer/accept are passed in (its entry must match them). */
  index: number;
}

/** Most DLCs one funding transaction funds (outputs stay well under standardness limits). */
export const MAX_BATCH_CONTRACTS = 100;

export interface FundingBuildOptions {
  extraOutputs?: readonly ExtraFundingOutput[];
  /** Further DLC funding outputs of the same transaction (our batch extension). */
  batch?: FundingBatch;
  /** Minimum change and extra-output value; default 1000 sat (Transactions.md "Change Outputs"). */
  dustLimit?: bigint;
}

/** The offer_dlc fields the funding transaction depends on. */
export type FundingOfferFields = Pick<
  OfferDlc,
  | 'fundingPubkey'
  | 'payoutSpk'
  | 'offerCollateral'
  | 'fundingInputs'
  | 'changeSpk'
  | 'changeSerialId'
  | 'fundOutputSerialId'
  | 'feeRatePerVb'
> & { contractInfo?: ContractInfo };

/** The accept_dlc fields the funding transaction depends on. */
export type FundingAcceptFields = Pick<
  AcceptDlc,
  'fundingPubkey' | 'payoutSpk' | 'acceptCollateral' | 'fundingInputs' | 'changeSpk' | 'changeSerialId'
>;

/** One input of the funding transaction, with everything a signer needs. */
export interface FundingTxInput {
  party: Party;
  /** Index of this input in the party's `fundingInputs` (the sign_dlc witness order). */
  partyIndex: number;
  serialId: bigint;
  /** Previous txid in internal byte order (as in the outpoint). */
  prevTxid: Uint8Array;
  prevVout: number;
  sequence: number;
  prevTx: Uint8Array;
  /** The spent output: what BIP143 commits to and PSBT `witnessUtxo` carries. */
  prevOutput: { script: Uint8Array; value: bigint };
  /** Empty for native segwit. */
  redeemScript: Uint8Array;
  maxWitnessLen: number;
}

export interface PartyFunding {
  inputTotal: bigint;
  collateral: bigint;
  fundingFee: bigint;
  closingFee: bigint;
  /** Sum of the extra outputs this party pays (not their fees, which are in fundingFee). */
  extraOutputsTotal: bigint;
  /** What this party puts into the batch's OTHER funding outputs (collaterals and closing fees); 0 without a batch. */
  batchOutputsTotal: bigint;
  change: bigint;
  changeOutputIndex: number;
}

export interface FundingTransaction {
  /**
   * Without witnesses; P2SH-wrapped inputs already carry their scriptSig (a push of
   * the redeem script), so `tx.getHash()` is the final txid. (A PSBT's unsigned
   * transaction has empty scriptSigs instead: see psbt.ts.)
   */
  tx: Transaction;
  /** Txid in internal byte order (reverse of the usual hex display). */
  txid: Uint8Array;
  /** Txid as displayed by Bitcoin Core / block explorers. */
  txidHex: string;
  fundOutputIndex: number;
  fundOutputValue: bigint;
  /** The 2-of-2 witness script. */
  fundingScript: Uint8Array;
  /** The P2WSH script pubkey of the funding output. */
  fundingSpk: Uint8Array;
  /** In transaction order. */
  inputs: FundingTxInput[];
  offer: PartyFunding;
  accept: PartyFunding;
  /** Output index of each `extraOutputs` entry, in the order given. */
  extraOutputIndexes: number[];
  /** Output index and value of each batch contract's funding output, in batch order (just this contract's without a batch). */
  batchOutputs: { index: number; value: bigint }[];
}

function checkU64(value: bigint, what: string): void {
  if (typeof value !== 'bigint' || value < 0n || value > U64_MAX) {
    throw new DlcError('INVALID_PARAMS', `${what} is not a u64`, { reason: 'u64-range' });
  }
}

function checkU32(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new DlcError('INVALID_PARAMS', `${what} is not a u32`, { reason: 'u32-range' });
  }
}

function totalCollateralOf(info: ContractInfo): bigint {
  return 'singleContractInfo' in info
    ? info.singleContractInfo.totalCollateral
    : info.disjointContractInfo.totalCollateral;
}

function bytesToHex(bytes: Uint8Array): string {
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return hex;
}

/**
 * Parse one funding input's previous transaction and check that the spent output
 * is segwit (native, or P2SH-wrapped with the given redeem script): Transactions.md
 * "Funding Inputs", Protocol.md "Any input in funding_inputs is not a BIP141 input".
 */
export function resolveFundingInput(input: FundingInput, party: Party, partyIndex: number): FundingTxInput {
  const where = `${party} funding input ${partyIndex}`;
  checkU64(input.inputSerialId, `${where} serial id`);
  checkU32(input.prevTxVout, `${where} prevTxVout`);
  checkU32(input.sequence, `${where} sequence`);
  let prev: Transaction;
  try {
    prev = Transaction.fromBuffer(input.prevTx);
  } catch (cause) {
    throw new DlcError('DECODE_ERROR', `${where}: prevTx is not a transaction`, { reason: 'prev-tx', cause });
  }
  const out = prev.outs[input.prevTxVout];
  if (out === undefined) {
    throw new DlcError('INVALID_PARAMS', `${where}: prevTx has no output ${input.prevTxVout}`, { reason: 'prev-tx-vout' });
  }
  const redeem = input.redeemScript;
  if (redeem.length === 0) {
    if (witnessProgram(out.script) === undefined) {
      throw new DlcError('INVALID_PARAMS', `${where} does not spend a segwit output`, { reason: 'not-segwit-input' });
    }
  } else {
    // BIP16 P2SH wrapping a BIP141 witness program: the spk must commit to the redeem script.
    if (!isP2sh(out.script) || witnessProgram(redeem) === undefined) {
      throw new DlcError('INVALID_PARAMS', `${where}: redeem script is not a P2SH-wrapped witness program`, {
        reason: 'not-segwit-input',
      });
    }
    const h = hash160(redeem);
    if (bytesToHex(h) !== bytesToHex(out.script.subarray(2, 22))) {
      throw new DlcError('INVALID_PARAMS', `${where}: redeem script does not match the P2SH output`, {
        reason: 'redeem-script-mismatch',
      });
    }
  }
  return {
    party,
    partyIndex,
    serialId: input.inputSerialId,
    prevTxid: prev.getHash(),
    prevVout: input.prevTxVout,
    sequence: input.sequence,
    prevTx: input.prevTx,
    prevOutput: { script: out.script, value: out.value },
    redeemScript: redeem,
    maxWitnessLen: input.maxWitnessLen,
  };
}

function assertUnique(ids: readonly bigint[], what: string): void {
  if (new Set(ids).size !== ids.length) {
    throw new DlcError('INVALID_PARAMS', `duplicate ${what}`, { reason: 'duplicate-serial-id' });
  }
}

/**
 * Build the unsigned funding transaction of a DLC from the offer and accept fields.
 *
 * Validation, numbered after Protocol.md's receiver requirements and Transactions.md:
 * 1. funding pubkeys are compressed points and differ;
 * 2. change/payout spks (and extra output spks) are standard;
 * 3. input serial ids are unique across both parties; outpoints are unique;
 * 4. `fund_output_serial_id`, both `change_serial_id`s (and extra output serial ids)
 *    are pairwise different;
 * 5. every funding input spends a segwit (or P2SH-wrapped segwit) output;
 * 6. `offer_collateral + accept_collateral = total_collateral` when `contractInfo` is given;
 * 7. each party's inputs cover collateral + funding fee + closing fee (+ extra outputs,
 *    + its share of the batch's other funding outputs), leaving a change of at least
 *    the dust limit (Transactions.md "Change Outputs": a party below it "must include
 *    additional funding");
 * 8. a batch has 2 to MAX_BATCH_CONTRACTS contracts, `index` in range, and its
 *    entry at `index` is this offer/accept (serial id, both collaterals).
 *
 * @throws {DlcError} INVALID_POINT (1), INVALID_PARAMS (2-6, reasons `non-standard-spk`,
 *   `duplicate-serial-id`, `duplicate-outpoint`, `not-segwit-input`, `redeem-script-mismatch`,
 *   `prev-tx-vout`, `collateral-mismatch`, `u64-range`, `u32-range`, 8: `batch-size`, `batch-mismatch`), DECODE_ERROR for a prevTx
 *   that does not parse, INVALID_TRANSACTION (7, reasons `insufficient-funds`,
 *   `change-below-dust`, `extra-output-below-dust`).
 */
export function buildFundingTransaction(
  offer: FundingOfferFields,
  accept: FundingAcceptFields,
  options: FundingBuildOptions = {},
): FundingTransaction {
  const extras = options.extraOutputs ?? [];
  const dustLimit = options.dustLimit ?? DUST_LIMIT;
  // 8.
  const batch = options.batch;
  const siblings = batch === undefined ? [] : batchSiblings(batch, offer, accept);

  // 1.
  const witnessScript = fundingScript(offer.fundingPubkey, accept.fundingPubkey);
  const fundingSpk = p2wshScriptPubkey(witnessScript);

  // 2.
  assertStandardScriptPubkey(offer.changeSpk, 'offer change spk');
  assertStandardScriptPubkey(offer.payoutSpk, 'offer payout spk');
  assertStandardScriptPubkey(accept.changeSpk, 'accept change spk');
  assertStandardScriptPubkey(accept.payoutSpk, 'accept payout spk');
  extras.forEach((e, i) => {
    assertStandardScriptPubkey(e.script, `extra output ${i} spk`);
    checkU64(e.value, `extra output ${i} value`);
    checkU64(e.serialId, `extra output ${i} serial id`);
    if (e.payer !== 'offer' && e.payer !== 'accept') {
      throw new DlcError('INVALID_PARAMS', `extra output ${i} has no payer`, { reason: 'extra-output-payer' });
    }
    if (e.value < dustLimit) {
      throw new DlcError('INVALID_TRANSACTION', `extra output ${i} is below the dust limit`, {
        reason: 'extra-output-below-dust',
      });
    }
  });

  // 3. and 5.
  const inputs = [
    ...offer.fundingInputs.map((fi, i) => resolveFundingInput(fi, 'offer', i)),
    ...accept.fundingInputs.map((fi, i) => resolveFundingInput(fi, 'accept', i)),
  ];
  assertUnique(inputs.map((i) => i.serialId), 'input serial id');
  const outpoints = new Set(inputs.map((i) => `${bytesToHex(i.prevTxid)}:${i.prevVout}`));
  if (outpoints.size !== inputs.length) {
    throw new DlcError('INVALID_PARAMS', 'two funding inputs spend the same outpoint', { reason: 'duplicate-outpoint' });
  }
  inputs.sort((a, b) => (a.serialId < b.serialId ? -1 : a.serialId > b.serialId ? 1 : 0));

  // 4.
  checkU64(offer.fundOutputSerialId, 'fund output serial id');
  checkU64(offer.changeSerialId, 'offer change serial id');
  checkU64(accept.changeSerialId, 'accept change serial id');
  assertUnique(
    [offer.fundOutputSerialId, offer.changeSerialId, accept.changeSerialId, ...extras.map((e) => e.serialId), ...siblings.map((c) => c.fundOutputSerialId)],
    'funding transaction output serial id',
  );

  // 6.
  checkU64(offer.offerCollateral, 'offer collateral');
  checkU64(accept.acceptCollateral, 'accept collateral');
  if (offer.contractInfo !== undefined &&
      offer.offerCollateral + accept.acceptCollateral !== totalCollateralOf(offer.contractInfo)) {
    throw new DlcError('INVALID_PARAMS', 'offer + accept collateral differs from the total collateral', {
      reason: 'collateral-mismatch',
    });
  }

  // 7.
  const extraSpkLens = (payer: Party): number[] => extras.filter((e) => e.payer === payer).map((e) => e.script.length);
  const offerFees = partyFees(partyFeeShape(offer, extraSpkLens('offer'), siblings.length), offer.feeRatePerVb);
  const acceptFees = partyFees(partyFeeShape(accept, extraSpkLens('accept'), siblings.length), offer.feeRatePerVb);
  const partyFunding = (party: Party, collateral: bigint, fees: typeof offerFees): PartyFunding => {
    const inputTotal = inputs.filter((i) => i.party === party).reduce((s, i) => s + i.prevOutput.value, 0n);
    const extraOutputsTotal = extras.filter((e) => e.payer === party).reduce((s, e) => s + e.value, 0n);
    const batchOutputsTotal = siblings.reduce((s, c) => s + (party === 'offer' ? c.offerCollateral : c.acceptCollateral) + fees.closingFee, 0n);
    const change = inputTotal - collateral - fees.fundingFee - fees.closingFee - extraOutputsTotal - batchOutputsTotal;
    if (change < 0n) {
      throw new DlcError('INVALID_TRANSACTION', `${party} funding inputs do not cover collateral and fees`, {
        reason: 'insufficient-funds',
      });
    }
    if (change < dustLimit) {
      throw new DlcError('INVALID_TRANSACTION', `${party} change ${change} is below the dust limit ${dustLimit}`, {
        reason: 'change-below-dust',
      });
    }
    return {
      inputTotal,
      collateral,
      fundingFee: fees.fundingFee,
      closingFee: fees.closingFee,
      extraOutputsTotal,
      batchOutputsTotal,
      change,
      changeOutputIndex: -1,
    };
  };
  const offerFunding = partyFunding('offer', offer.offerCollateral, offerFees);
  const acceptFunding = partyFunding('accept', accept.acceptCollateral, acceptFees);
  const fundOutputValue = offer.offerCollateral + accept.acceptCollateral + offerFees.closingFee + acceptFees.closingFee;

  const closingFees = offerFees.closingFee + acceptFees.closingFee;
  type Out = { serialId: bigint; script: Uint8Array; value: bigint; tag: 'fund' | Party | number | { sibling: bigint } };
  const outputs: Out[] = [
    { serialId: offer.fundOutputSerialId, script: fundingSpk, value: fundOutputValue, tag: 'fund' },
    ...siblings.map((c): Out => ({
      serialId: c.fundOutputSerialId, script: fundingSpk, value: c.offerCollateral + c.acceptCollateral + closingFees, tag: { sibling: c.fundOutputSerialId },
    })),
    { serialId: offer.changeSerialId, script: offer.changeSpk, value: offerFunding.change, tag: 'offer' },
    { serialId: accept.changeSerialId, script: accept.changeSpk, value: acceptFunding.change, tag: 'accept' },
    ...extras.map((e, i): Out => ({ serialId: e.serialId, script: e.script, value: e.value, tag: i })),
  ];
  outputs.sort((a, b) => (a.serialId < b.serialId ? -1 : a.serialId > b.serialId ? 1 : 0));

  const tx = new Transaction();
  tx.version = FUNDING_TX_VERSION;
  tx.locktime = FUNDING_TX_LOCKTIME;
  // P2SH-wrapped inputs get their scriptSig (one push of the redeem script) now: it is
  // known in advance and, unlike the witness, part of the txid (BIP141), so the txid
  // and the contract id are final before anyone signs.
  for (const input of inputs) tx.addInput(input.prevTxid, input.prevVout, input.sequence, p2shScriptSig(input.redeemScript));
  let fundOutputIndex = -1;
  const extraOutputIndexes: number[] = new Array<number>(extras.length).fill(-1);
  const fundIndexBySerial = new Map<bigint, { index: number; value: bigint }>();
  outputs.forEach((o, index) => {
    tx.addOutput(o.script, o.value);
    if (o.tag === 'fund' || typeof o.tag === 'object') fundIndexBySerial.set(o.serialId, { index, value: o.value });
    if (o.tag === 'fund') fundOutputIndex = index;
    else if (typeof o.tag === 'object') return;
    else if (o.tag === 'offer') offerFunding.changeOutputIndex = index;
    else if (o.tag === 'accept') acceptFunding.changeOutputIndex = index;
    else extraOutputIndexes[o.tag] = index;
  });

  const txid = tx.getHash();
  return {
    tx,
    txid,
    txidHex: bytesToHex(Uint8Array.from(txid).reverse()),
    fundOutputIndex,
    fundOutputValue,
    fundingScript: witnessScript,
    fundingSpk,
    inputs,
    offer: offerFunding,
    accept: acceptFunding,
    extraOutputIndexes,
    batchOutputs: (batch?.contracts ?? [{ fundOutputSerialId: offer.fundOutputSerialId }]).map((c) => fundIndexBySerial.get(c.fundOutputSerialId)!),
  };
}

/**
 * Checks a batch (rule 8) and returns the contracts other than this one.
 * @throws {DlcError} INVALID_PARAMS `batch-size`, `batch-mismatch`, `u64-range`.
 */
function batchSiblings(batch: FundingBatch, offer: FundingOfferFields, accept: FundingAcceptFields): BatchContract[] {
  const n = batch.contracts.length;
  if (n < 2 || n > MAX_BATCH_CONTRACTS) {
    throw new DlcError('INVALID_PARAMS', `a batch funds 2 to ${MAX_BATCH_CONTRACTS} contracts, got ${n}`, { reason: 'batch-size' });
  }
  if (!Number.isInteger(batch.index) || batch.index < 0 || batch.index >= n) {
    throw new DlcError('INVALID_PARAMS', `batch index ${batch.index} is not one of the ${n} contracts`, { reason: 'batch-size' });
  }
  batch.contracts.forEach((c, i) => {
    checkU64(c.fundOutputSerialId, `batch contract ${i} fund output serial id`);
    checkU64(c.offerCollateral, `batch contract ${i} offer collateral`);
    checkU64(c.acceptCollateral, `batch contract ${i} accept collateral`);
  });
  const own = batch.contracts[batch.index]!;
  if (own.fundOutputSerialId !== offer.fundOutputSerialId || own.offerCollateral !== offer.offerCollateral || own.acceptCollateral !== accept.acceptCollateral) {
    throw new DlcError('INVALID_PARAMS', `batch entry ${batch.index} is not this contract (fund output serial id, collaterals)`, {
      reason: 'batch-mismatch', details: { index: batch.index },
    });
  }
  return batch.contracts.filter((_, i) => i !== batch.index);
}

/**
 * The scriptSig a funding input needs: empty for native segwit, one push of the
 * redeem script for P2SH-wrapped segwit.
 */
export function fundingInputScriptSig(input: Pick<FundingTxInput, 'redeemScript'>): Uint8Array {
  return p2shScriptSig(input.redeemScript);
}

/**
 * Contract id (Protocol.md "Definition of contract_id"): `funding_txid XOR
 * temporary_contract_id`, with the funding output index XORed big-endian into the
 * last two bytes. The txid is taken big-endian, i.e. in the byte order Bitcoin Core
 * displays it (the reverse of `FundingTransaction.txid` and of outpoints): the
 * `fundTxId` hex of `contract_id_test.json` is in that order, and all 14 dlcspecs
 * test_vectors reproduce their sign_dlc `contractId` only that way.
 * @throws {DlcError} INVALID_LENGTH for ids that are not 32 bytes; INVALID_PARAMS for
 *   an output index that is not a u16.
 */
export function computeContractId(
  fundingTxidBigEndian: Uint8Array,
  fundOutputIndex: number,
  temporaryContractId: Uint8Array,
): Uint8Array {
  if (fundingTxidBigEndian.length !== 32 || temporaryContractId.length !== 32) {
    throw new DlcError('INVALID_LENGTH', 'funding txid and temporary contract id must be 32 bytes', {
      reason: 'contract-id-input',
    });
  }
  if (!Number.isInteger(fundOutputIndex) || fundOutputIndex < 0 || fundOutputIndex > 0xffff) {
    throw new DlcError('INVALID_PARAMS', `funding output index ${fundOutputIndex} is not a u16`, {
      reason: 'fund-output-index',
    });
  }
  const id = new Uint8Array(32);
  for (let i = 0; i < 32; i++) id[i] = fundingTxidBigEndian[i]! ^ temporaryContractId[i]!;
  id[30] ^= fundOutputIndex >> 8;
  id[31] ^= fundOutputIndex & 0xff;
  return id;
}

/**
 * Contract id of a built funding transaction (reverses its internal-order txid).
 * @throws {DlcError} INVALID_LENGTH for a temporary id that is not 32 bytes.
 */
export function contractIdOf(funding: Pick<FundingTransaction, 'txid' | 'fundOutputIndex'>, temporaryContractId: Uint8Array): Uint8Array {
  return computeContractId(Uint8Array.from(funding.txid).reverse(), funding.fundOutputIndex, temporaryContractId);
}
