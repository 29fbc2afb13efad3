/**
 * Receiver-side validation of offer_dlc, accept_dlc and sign_dlc against the
 * requirements of dlcspecs Protocol.md ("The offer_dlc Message" ...
 * "Requirements"), Messaging.md, NumericOutcome.md, PayoutCurve.md, Oracle.md
 * and MultiOracle.md. Each check carries a numbered comment naming the rule;
 * each failure is a `DlcError` whose `reason` names the rule (stable strings,
 * listed in the JSDoc of each function).
 *
 * This module does NOT verify signatures (announcements: ./oracle.ts; CET
 * adaptor, refund and funding signatures need the transactions: protocol/tx,
 * protocol/crypto), does NOT compute the CET set (protocol/numeric; pass the
 * expected count in), does NOT look at the chain, and does no I/O. Payouts of
 * numeric contracts are checked at the points that define the curve; the
 * values between points are checked when CETs are computed (protocol/numeric).
 */
import { Transaction } from 'bitcoinjs-lib';
import { DlcError } from '../errors.js';
import { CURVE_ORDER, bytesToBigInt, secp } from '../crypto/index.js';
import { isStandardScriptPubkey, partyFeeShape, partyFees, witnessProgram, witnessStackSize } from '../tx/index.js';
// Not re-exported by protocol/tx's entry.
import { hash160, isP2sh } from '../tx/scripts.js';
import { validateOracleParams, validatePayoutFunction, validateRoundingIntervals } from '../numeric/index.js';
import type { Conformance } from '../numeric/index.js';
import { toHex } from './wire.js';
import type {
  AcceptDlc,
  ContractInfoInner,
  DigitDecompositionEventDescriptor,
  EnumeratedContractDescriptor,
  FundingInput,
  NumericOutcomeContractDescriptor,
  OfferDlc,
  OracleAnnouncement,
  SignDlc,
} from './types.js';

/** The only protocol version these messages are defined for (Messaging.md). */
export const PROTOCOL_VERSION = 1;

/**
 * `chain_hash` of the Bitcoin networks: the genesis block hash in internal
 * byte order (BOLT #0 `chain_hash`; the vectors use regtest's `06226e46...`).
 */
export const CHAIN_HASHES = {
  mainnet: '6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000',
  testnet3: '43497fd7f826957108f4a30fd9cec3aeba79972084e90ead01ea330900000000',
  testnet4: '43f08bdab050e35b567c864b91f47f50ae725ae2de53bcfbbaf284da00000000',
  signet: 'f61eee3b63a380a477a063af32b2bbc97c9ff9f01f2c4225e973988108000000',
  regtest: '06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f',
} as const;

/** Locktimes below this are block heights, at or above it UNIX times (BIP65 / nLockTime). */
const LOCKTIME_THRESHOLD = 500_000_000;

export interface ValidationOptions {
  /** Chain hashes (hex, internal byte order) this node accepts. Default: all of {@link CHAIN_HASHES}. */
  knownChainHashes?: readonly string[];
  /** Lowest acceptable `feerate_per_vb`. Default 1. */
  minFeeRatePerVb?: bigint;
  /** Highest acceptable `feerate_per_vb`. Default 10 000 sat/vB. */
  maxFeeRatePerVb?: bigint;
  /** Smallest acceptable collateral of either party. Default 1000 (Protocol.md sender rule). */
  minCollateral?: bigint;
  /**
   * Parse every `prevTx`, require a segwit spent output and inputs covering
   * collateral plus fees (Protocol.md). Default true.
   */
  checkFundingInputs?: boolean;
  /** Passed to protocol/numeric for the rounding-interval rules. Default `'vectors'`. */
  conformance?: Conformance;
}

export interface AcceptValidationOptions extends ValidationOptions {
  /** Number of CETs of the offer's contract (protocol/numeric computes it); checked when given. */
  expectedCetCount?: number;
}

export interface SignValidationOptions {
  /** The contract id computed from the funding transaction (protocol/tx); checked when given. */
  expectedContractId?: Uint8Array;
}

function fail(message: string, reason: string, code: 'INVALID_PARAMS' | 'INVALID_POINT' | 'BAD_SIGNATURE' = 'INVALID_PARAMS'): never {
  throw new DlcError(code, message, { reason });
}

function defaults(o: ValidationOptions): Required<ValidationOptions> {
  return {
    knownChainHashes: o.knownChainHashes ?? Object.values(CHAIN_HASHES),
    minFeeRatePerVb: o.minFeeRatePerVb ?? 1n,
    maxFeeRatePerVb: o.maxFeeRatePerVb ?? 10_000n,
    minCollateral: o.minCollateral ?? 1000n,
    checkFundingInputs: o.checkFundingInputs ?? true,
    conformance: o.conformance ?? 'vectors',
  };
}

// ------------------------------------------------------------------ shared rules

function checkProtocolVersion(v: number): void {
  if (v !== PROTOCOL_VERSION) fail(`protocol version ${v} is not ${PROTOCOL_VERSION}`, 'protocol-version');
}

function checkFundingPubkey(key: Uint8Array): void {
  if (key.length !== 33 || !secp().isPoint(key)) {
    fail('funding_pubkey is not a valid compressed secp256k1 point', 'invalid-funding-pubkey', 'INVALID_POINT');
  }
}

function checkSpk(spk: Uint8Array, which: 'payout' | 'change'): void {
  if (!isStandardScriptPubkey(spk)) fail(`${which}_spk is not a standard script pubkey`, `non-standard-${which}-spk`);
}

function checkUnique(ids: readonly bigint[], reason: string, what: string): void {
  if (new Set(ids).size !== ids.length) fail(`duplicate ${what}`, reason);
}

/** 64-byte `r | s` with r and s in [1, n-1] (SEC1 §4.1.4); validity against a transaction is checked elsewhere. */
function checkCompactSignature(sig: Uint8Array, what: string): void {
  const r = sig.length === 64 ? bytesToBigInt(sig.subarray(0, 32)) : 0n;
  const s = sig.length === 64 ? bytesToBigInt(sig.subarray(32, 64)) : 0n;
  if (r === 0n || s === 0n || r >= CURVE_ORDER || s >= CURVE_ORDER) {
    fail(`${what} is not a well-formed ECDSA signature`, 'malformed-refund-signature', 'BAD_SIGNATURE');
  }
}

/** Value of the output a funding input spends, after checking it is segwit (BIP141, or BIP16-wrapped). */
function fundingInputValue(input: FundingInput, index: number): bigint {
  let prev: Transaction;
  try {
    prev = Transaction.fromBuffer(input.prevTx);
  } catch (cause) {
    throw new DlcError('INVALID_PARAMS', `funding input ${index}: prevTx is not a transaction`, { reason: 'invalid-prev-tx', cause });
  }
  const out = prev.outs[input.prevTxVout];
  if (out === undefined) fail(`funding input ${index}: prevTx has no output ${input.prevTxVout}`, 'invalid-prev-tx-vout');
  const script = Uint8Array.from(out.script);
  const redeem = input.redeemScript;
  const segwit =
    redeem.length === 0
      ? witnessProgram(script) !== undefined
      : isP2sh(script) && witnessProgram(redeem) !== undefined && toHex(hash160(redeem)) === toHex(script.subarray(2, 22));
  if (!segwit) fail(`funding input ${index} does not spend a segwit output`, 'not-segwit-input');
  return BigInt(out.value);
}

/**
 * Protocol.md: inputs are segwit and "contribute at least [the collateral] plus
 * full fee payment" (Transactions.md "Fee Payment": funding and closing fee of
 * this party at the offer's fee rate).
 */
function checkFundingInputs(
  party: { fundingInputs: FundingInput[]; changeSpk: Uint8Array; payoutSpk: Uint8Array },
  collateral: bigint,
  feeRatePerVb: bigint,
): void {
  let total = 0n;
  party.fundingInputs.forEach((input, i) => (total += fundingInputValue(input, i)));
  const fees = partyFees(partyFeeShape(party), feeRatePerVb);
  const needed = collateral + fees.fundingFee + fees.closingFee;
  if (total < needed) fail(`funding inputs hold ${total} sat, need ${needed} (collateral + fees)`, 'insufficient-funding');
}

// ------------------------------------------------------------------ contract info

function isNfc(s: string): boolean {
  return s.normalize('NFC') === s;
}

function expectedNonceCount(a: OracleAnnouncement): number {
  const d = a.oracleEvent.eventDescriptor;
  if ('enumEvent' in d) return 1;
  // Oracle.md "Digit decomposition": one nonce per digit, plus one for the sign of a signed event.
  return d.digitDecompositionEvent.nbDigits + (d.digitDecompositionEvent.isSigned ? 1 : 0);
}

function checkAnnouncementShape(a: OracleAnnouncement, i: number): void {
  // Oracle.md "Oracle events": the nonces match the descriptor.
  if (a.oracleEvent.oracleNonces.length !== expectedNonceCount(a)) {
    fail(`announcement ${i}: ${a.oracleEvent.oracleNonces.length} nonces, expected ${expectedNonceCount(a)}`, 'announcement-nonce-count');
  }
  const d = a.oracleEvent.eventDescriptor;
  if ('enumEvent' in d) {
    const outcomes = d.enumEvent.outcomes;
    if (outcomes.length === 0) fail(`announcement ${i}: enum event without outcomes`, 'enum-event-empty');
    if (new Set(outcomes).size !== outcomes.length) fail(`announcement ${i}: duplicate enum outcome`, 'enum-event-duplicate-outcome');
    if (!outcomes.every(isNfc)) fail(`announcement ${i}: outcome not NFC-normalised (Messaging.md string)`, 'outcome-not-nfc');
  } else if (d.digitDecompositionEvent.base < 2) {
    fail(`announcement ${i}: digit base below 2`, 'invalid-event-base');
  } else if (d.digitDecompositionEvent.nbDigits < 1) {
    fail(`announcement ${i}: no digits`, 'invalid-event-digits');
  }
}

function announcementsOf(ci: ContractInfoInner): OracleAnnouncement[] {
  const o = ci.oracleInfo;
  return 'single' in o ? [o.single.oracleAnnouncement] : o.multi.oracleAnnouncements;
}

function checkEnumContract(d: EnumeratedContractDescriptor, anns: OracleAnnouncement[], total: bigint): void {
  const payouts = d.enumeratedContractDescriptor.payouts;
  // E1. every oracle describes an enum event with the same outcome set (MultiOracle.md:
  //     oracles sign "from a set of messages that exactly corresponds").
  const sets = anns.map((a) => {
    const desc = a.oracleEvent.eventDescriptor;
    if (!('enumEvent' in desc)) fail('enumerated contract with a numeric oracle event', 'descriptor-event-mismatch');
    return [...desc.enumEvent.outcomes].sort();
  });
  const first = sets[0]!;
  for (const s of sets) {
    if (s.length !== first.length || s.some((o, k) => o !== first[k])) {
      fail('oracles announce different enum outcomes', 'enum-oracle-outcomes-differ');
    }
  }
  const eventOutcomes = new Set(first);
  // E2. outcomes are unique, NFC (Messaging.md `string`) and each is an event outcome.
  const seen = new Set<string>();
  for (const p of payouts) {
    if (seen.has(p.outcome)) fail(`outcome '${p.outcome}' has two payouts`, 'enum-duplicate-outcome');
    seen.add(p.outcome);
    if (!isNfc(p.outcome)) fail(`outcome '${p.outcome}' is not NFC-normalised`, 'outcome-not-nfc');
    if (!eventOutcomes.has(p.outcome)) fail(`outcome '${p.outcome}' is not an outcome of the event`, 'enum-outcome-not-in-event');
  }
  // E3. Messaging.md "Validity requirement": a payout for every outcome the oracles can attest.
  for (const o of first) if (!seen.has(o)) fail(`no payout for outcome '${o}'`, 'enum-payout-missing');
  // E4. the offerer's payout fits in the total collateral (the accepter's is total - payout).
  for (const p of payouts) {
    if (p.localPayout > total) fail(`payout ${p.localPayout} for '${p.outcome}' exceeds total collateral ${total}`, 'payout-exceeds-total-collateral');
  }
}

function checkNumericContract(
  d: NumericOutcomeContractDescriptor,
  ci: ContractInfoInner,
  anns: OracleAnnouncement[],
  total: bigint,
  conformance: Conformance,
): void {
  const n = d.numericOutcomeContractDescriptor;
  const events = anns.map((a) => {
    const desc = a.oracleEvent.eventDescriptor;
    if (!('digitDecompositionEvent' in desc)) fail('numeric contract with an enum oracle event', 'descriptor-event-mismatch');
    return (desc as DigitDecompositionEventDescriptor).digitDecompositionEvent;
  });
  // N1. all oracles decompose in the same base (NumericOutcome.md; CET prefixes are per base).
  const base = events[0]!.base;
  if (events.some((e) => e.base !== base)) fail('oracles use different digit bases', 'oracle-bases-differ');
  // N2. 1 <= num_digits <= every oracle's nb_digits.
  if (n.numDigits < 1) fail('num_digits is 0', 'num-digits-zero');
  if (events.some((e) => n.numDigits > e.nbDigits)) fail(`num_digits ${n.numDigits} exceeds an oracle's digits`, 'num-digits-exceeds-event-digits');
  // N3. PayoutCurve.md: pieces ordered, covering [0, base^num_digits - 1] (protocol/numeric).
  validatePayoutFunction(n.payoutFunction, BigInt(base) ** BigInt(n.numDigits) - 1n);
  // N4. payouts at the defining points stay within the total collateral.
  const points = n.payoutFunction.payoutFunctionPieces.flatMap((p) => [
    p.endPoint,
    ...('polynomialPayoutCurvePiece' in p.payoutCurvePiece ? p.payoutCurvePiece.polynomialPayoutCurvePiece.payoutPoints : []),
  ]);
  points.push(n.payoutFunction.lastEndpoint);
  for (const p of points) {
    if (p.outcomePayout > total) {
      fail(`payout ${p.outcomePayout} at outcome ${p.eventOutcome} exceeds total collateral ${total}`, 'payout-exceeds-total-collateral');
    }
  }
  // N5. NumericOutcome.md "Rounding Intervals" (protocol/numeric): non-empty, from 0, increasing, moduli >= 1.
  validateRoundingIntervals(n.roundingIntervals, { conformance });
  // N6. MultiOracle.md bounded differences: parameters consistent with the events (protocol/numeric).
  if ('multi' in ci.oracleInfo && ci.oracleInfo.multi.oracleParams !== null) {
    validateOracleParams(ci.oracleInfo.multi.oracleParams, base, n.numDigits);
  }
}

function checkContractInfoInner(ci: ContractInfoInner, total: bigint, conformance: Conformance): void {
  const anns = announcementsOf(ci);
  // O1. at least one oracle; 1 <= threshold <= number of oracles (MultiOracle.md).
  if (anns.length === 0) fail('no oracle announcement', 'no-oracles');
  if ('multi' in ci.oracleInfo) {
    const t = ci.oracleInfo.multi.threshold;
    if (t < 1 || t > anns.length) fail(`threshold ${t} not in [1, ${anns.length}]`, 'invalid-threshold');
    // O2. each oracle appears once (a repeated oracle would count twice towards the threshold).
    checkUniqueHex(anns.map((a) => a.oraclePublicKey), 'duplicate-oracle', 'oracle public key');
    // O3. Messaging.md oracle_params: only for numeric outcome contracts.
    if (ci.oracleInfo.multi.oracleParams !== null && !('numericOutcomeContractDescriptor' in ci.contractDescriptor)) {
      fail('oracle_params given for an enumerated contract', 'oracle-params-with-enum');
    }
  }
  // O4. every announcement is well formed (nonce count, outcomes); signatures: ./oracle.ts.
  anns.forEach(checkAnnouncementShape);
  if ('enumeratedContractDescriptor' in ci.contractDescriptor) checkEnumContract(ci.contractDescriptor, anns, total);
  else checkNumericContract(ci.contractDescriptor, ci, anns, total, conformance);
}

function checkUniqueHex(items: readonly Uint8Array[], reason: string, what: string): void {
  if (new Set(items.map(toHex)).size !== items.length) fail(`duplicate ${what}`, reason);
}

// ------------------------------------------------------------------ messages

/**
 * Checks a received offer_dlc (Protocol.md "offer_dlc" receiver requirements,
 * with the sender MUSTs a receiver can observe).
 *
 * @throws {DlcError} with `reason`:
 *   INVALID_PARAMS `protocol-version`, `unknown-chain-hash`, `non-standard-payout-spk`,
 *   `non-standard-change-spk`, `collateral-too-small`, `offer-collateral-exceeds-total`,
 *   `locktime-kind-mismatch`, `cet-locktime-not-before-refund`, `duplicate-input-serial-id`,
 *   `change-serial-id-equals-fund-output`, `fee-rate-too-low`, `fee-rate-too-high`,
 *   `no-contract-info`, `no-oracles`, `invalid-threshold`, `duplicate-oracle`,
 *   `oracle-params-with-enum`, `announcement-nonce-count`, `enum-event-empty`,
 *   `enum-event-duplicate-outcome`, `invalid-event-base`, `invalid-event-digits`,
 *   `descriptor-event-mismatch`, `enum-oracle-outcomes-differ`, `enum-duplicate-outcome`,
 *   `outcome-not-nfc`, `enum-outcome-not-in-event`, `enum-payout-missing`,
 *   `payout-exceeds-total-collateral`, `oracle-bases-differ`, `num-digits-zero`,
 *   `num-digits-exceeds-event-digits`, the payout-function, rounding-interval and
 *   oracle-params reasons of protocol/numeric (`payout-function-empty`,
 *   `payout-points-not-increasing`, `payout-function-domain-start`,
 *   `payout-function-domain-end`, `hyperbola-*`, `rounding-intervals-empty`,
 *   `rounding-intervals-not-from-zero`, `rounding-intervals-not-increasing`,
 *   `rounding-mod-zero`, `oracle-params-*`), `invalid-prev-tx`, `invalid-prev-tx-vout`,
 *   `not-segwit-input`, `insufficient-funding`; INVALID_POINT `invalid-funding-pubkey`.
 */
export function validateOffer(offer: OfferDlc, options: ValidationOptions = {}): void {
  const o = defaults(options);
  // 1. Messaging.md: protocol version 1.
  checkProtocolVersion(offer.protocolVersion);
  // 2. "the chain_hash value is set to a hash of a chain that is unknown to the receiver" -> reject.
  if (!o.knownChainHashes.includes(toHex(offer.chainHash))) fail(`unknown chain_hash ${toHex(offer.chainHash)}`, 'unknown-chain-hash');
  // 3. "funding_pubkey is not a valid secp256k1 pubkey in compressed format" -> reject.
  checkFundingPubkey(offer.fundingPubkey);
  // 4. "payout_spk or change_spk are not a standard script pubkey" -> reject.
  checkSpk(offer.payoutSpk, 'payout');
  checkSpk(offer.changeSpk, 'change');
  // 5. sender MUST "set offer_collateral_satoshis to a value greater than or equal to 1000".
  if (offer.offerCollateral < o.minCollateral) fail(`offer collateral ${offer.offerCollateral} below ${o.minCollateral}`, 'collateral-too-small');
  // 6. the offer collateral is part of the total collateral.
  const info = offer.contractInfo;
  const total = 'singleContractInfo' in info ? info.singleContractInfo.totalCollateral : info.disjointContractInfo.totalCollateral;
  if (offer.offerCollateral > total) fail(`offer collateral ${offer.offerCollateral} exceeds total ${total}`, 'offer-collateral-exceeds-total');
  // 7. sender MUST set both locktimes as heights or both as UNIX times.
  if (offer.cetLocktime < LOCKTIME_THRESHOLD !== offer.refundLocktime < LOCKTIME_THRESHOLD) {
    fail('cet_locktime and refund_locktime mix a block height and a time', 'locktime-kind-mismatch');
  }
  // 8. sender MUST "set cet_locktime to be less than refund_locktime".
  if (offer.cetLocktime >= offer.refundLocktime) fail('cet_locktime is not before refund_locktime', 'cet-locktime-not-before-refund');
  // 9. "Any input_serial_id is duplicated" -> reject.
  checkUnique(offer.fundingInputs.map((i) => i.inputSerialId), 'duplicate-input-serial-id', 'input_serial_id');
  // 10. "fund_output_serial_id and change_serial_id are not set to different value" -> reject.
  if (offer.changeSerialId === offer.fundOutputSerialId) fail('change_serial_id equals fund_output_serial_id', 'change-serial-id-equals-fund-output');
  // 11. "it considers feerate_per_vb too small ... or unreasonably large" -> reject.
  if (offer.feeRatePerVb < o.minFeeRatePerVb) fail(`fee rate ${offer.feeRatePerVb} below ${o.minFeeRatePerVb}`, 'fee-rate-too-low');
  if (offer.feeRatePerVb > o.maxFeeRatePerVb) fail(`fee rate ${offer.feeRatePerVb} above ${o.maxFeeRatePerVb}`, 'fee-rate-too-high');
  // 12. contract_info: Messaging.md "Validity requirement" and the per-type rules above (O*, E*, N*).
  const inners = 'singleContractInfo' in info ? [info.singleContractInfo.contractInfo] : info.disjointContractInfo.contractInfos;
  if (inners.length === 0) fail('disjoint contract info without contracts', 'no-contract-info');
  for (const ci of inners) checkContractInfoInner(ci, total, o.conformance);
  // 13. "Any input in funding_inputs is not a BIP141 input" and "funding_inputs do not
  //     contribute at least [the collateral] plus full fee payment" -> reject.
  if (o.checkFundingInputs) checkFundingInputs(offer, offer.offerCollateral, offer.feeRatePerVb);
}

/**
 * Checks a received accept_dlc against the offer it answers (Protocol.md
 * "accept_dlc" receiver requirements). Does not verify CET adaptor or refund
 * signatures (they need the transactions).
 *
 * @throws {DlcError} with `reason`: INVALID_PARAMS `protocol-version`,
 *   `temporary-contract-id-mismatch`, `accept-collateral-mismatch`, `collateral-too-small`,
 *   `same-funding-pubkey`, `non-standard-payout-spk`, `non-standard-change-spk`,
 *   `duplicate-input-serial-id`, `duplicate-change-serial-id`,
 *   `change-serial-id-equals-fund-output`, `duplicate-payout-serial-id`,
 *   `cet-signature-count`, `invalid-prev-tx`, `invalid-prev-tx-vout`, `not-segwit-input`,
 *   `insufficient-funding`; INVALID_POINT `invalid-funding-pubkey`; BAD_SIGNATURE
 *   `malformed-refund-signature`.
 */
export function validateAccept(offer: OfferDlc, accept: AcceptDlc, options: AcceptValidationOptions = {}): void {
  const o = defaults(options);
  // 1. Messaging.md: protocol version 1.
  checkProtocolVersion(accept.protocolVersion);
  // 2. the accept answers this offer (temporary_contract_id; Protocol.md "Definition of contract_id").
  if (toHex(accept.temporaryContractId) !== toHex(offer.temporaryContractId)) {
    fail('temporary_contract_id does not match the offer', 'temporary-contract-id-mismatch');
  }
  // 3. "if accept_collateral_satoshis is not total_collateral - offer_collateral_satoshis: MAY reject" (we do).
  const info = offer.contractInfo;
  const total = 'singleContractInfo' in info ? info.singleContractInfo.totalCollateral : info.disjointContractInfo.totalCollateral;
  if (accept.acceptCollateral !== total - offer.offerCollateral) {
    fail(`accept collateral ${accept.acceptCollateral} is not ${total - offer.offerCollateral}`, 'accept-collateral-mismatch');
  }
  if (accept.acceptCollateral > 0n && accept.acceptCollateral < o.minCollateral) {
    fail(`accept collateral ${accept.acceptCollateral} below ${o.minCollateral}`, 'collateral-too-small');
  }
  // 4. funding_pubkey: "same requirements as their counterparts in offer_dlc"; a 2-of-2 of one key is no contract.
  checkFundingPubkey(accept.fundingPubkey);
  if (toHex(accept.fundingPubkey) === toHex(offer.fundingPubkey)) fail('both parties use the same funding pubkey', 'same-funding-pubkey');
  // 5. "payout_spk or change_spk are not a standard script pubkey" -> MUST reject.
  checkSpk(accept.payoutSpk, 'payout');
  checkSpk(accept.changeSpk, 'change');
  // 6. "if any input_serial_id is duplicated" (across both parties' inputs) -> MUST reject.
  checkUnique([...offer.fundingInputs, ...accept.fundingInputs].map((i) => i.inputSerialId), 'duplicate-input-serial-id', 'input_serial_id');
  // 7. "if any change_serial_id is duplicated" / "is equal to the fund_output_serial_id" -> MUST reject.
  if (accept.changeSerialId === offer.changeSerialId) fail('change_serial_id equals the offerer\'s', 'duplicate-change-serial-id');
  if (accept.changeSerialId === offer.fundOutputSerialId) fail('change_serial_id equals fund_output_serial_id', 'change-serial-id-equals-fund-output');
  // 8. "if any payout_serial_id is duplicated" -> MUST reject.
  if (accept.payoutSerialId === offer.payoutSerialId) fail('payout_serial_id equals the offerer\'s', 'duplicate-payout-serial-id');
  // 9. "include an adaptor signature in cet_adaptor_signatures for every [CET]".
  const nSigs = accept.cetAdaptorSignatures.ecdsaAdaptorSignatures.length;
  if (nSigs === 0 || (options.expectedCetCount !== undefined && nSigs !== options.expectedCetCount)) {
    fail(`${nSigs} CET adaptor signatures, expected ${options.expectedCetCount ?? 'at least one'}`, 'cet-signature-count');
  }
  // 10. refund_signature is a well-formed ECDSA signature (its validity needs the refund transaction).
  checkCompactSignature(accept.refundSignature, 'refund_signature');
  // 11. "if any input in funding_inputs is not a BIP141 input" / "do not contribute at least
  //     accept_collateral_satoshis plus fee payment" -> MUST reject.
  if (o.checkFundingInputs) checkFundingInputs(accept, accept.acceptCollateral, offer.feeRatePerVb);
}

/**
 * Checks a received sign_dlc against the offer and accept (Protocol.md
 * "sign_dlc" recipient requirements) as far as possible without the
 * transactions: signature counts and shapes, witness sizes, contract id when
 * the caller computed it. Signature validity is checked by protocol/tx + crypto.
 *
 * @throws {DlcError} with `reason`: INVALID_PARAMS `protocol-version`,
 *   `contract-id-mismatch`, `cet-signature-count`, `funding-signature-count`,
 *   `empty-witness`, `witness-exceeds-max-len`; BAD_SIGNATURE `malformed-refund-signature`.
 */
export function validateSign(offer: OfferDlc, accept: AcceptDlc, sign: SignDlc, options: SignValidationOptions = {}): void {
  // 1. Messaging.md: protocol version 1.
  checkProtocolVersion(sign.protocolVersion);
  // 2. "set contract_id by exclusive-OR of the funding_txid, the funding_output_index and the temporary_contract_id".
  if (options.expectedContractId !== undefined && toHex(options.expectedContractId) !== toHex(sign.contractId)) {
    fail('contract_id does not match the funding transaction', 'contract-id-mismatch');
  }
  // 3. "include an adaptor signature ... for every event": as many as the accepter sent.
  const n = sign.cetAdaptorSignatures.ecdsaAdaptorSignatures.length;
  const expected = accept.cetAdaptorSignatures.ecdsaAdaptorSignatures.length;
  if (n !== expected) fail(`${n} CET adaptor signatures, the accept has ${expected}`, 'cet-signature-count');
  // 4. refund_signature is a well-formed ECDSA signature.
  checkCompactSignature(sign.refundSignature, 'refund_signature');
  // 5. "funding_signatures [contain] valid witnesses for every funding input specified in the
  //    offer_dlc message and in the same order".
  const witnesses = sign.fundingSignatures.fundingSignatures;
  if (witnesses.length !== offer.fundingInputs.length) {
    fail(`${witnesses.length} funding witnesses for ${offer.fundingInputs.length} inputs`, 'funding-signature-count');
  }
  witnesses.forEach((w, i) => {
    // 6. Messaging.md funding_signatures: "An empty witness_stack is an error".
    if (w.witnessElements.length === 0) fail(`funding witness ${i} is empty`, 'empty-witness');
    // 7. "if any witness exceeds its corresponding max_witness_len: MAY reject" (we do).
    const size = witnessStackSize(w.witnessElements.map((e) => e.witness));
    const max = offer.fundingInputs[i]!.maxWitnessLen;
    if (size > max) fail(`funding witness ${i} is ${size} bytes, max_witness_len ${max}`, 'witness-exceeds-max-len');
  });
}
