// validateOffer / validateAccept / validateSign: rust-dlc's offer reject cases
// (each file -> the rule that must fire), the dlcspecs vectors (all valid), and
// one targeted mutation per further rule.
import { describe, expect, it } from 'vitest';
import { DlcError } from '../protocol/errors.js';
import { messageFromJson, parseJson, stringifyJson } from '../protocol/messages/json.js';
import type { JsonObject } from '../protocol/messages/json.js';
import { payoutFunctionFromPieces } from '../protocol/messages/builders.js';
import type { AcceptDlc, OfferDlc, SignDlc } from '../protocol/messages/types.js';
import { validateAccept, validateOffer, validateSign } from '../protocol/messages/validate.js';
import { offerFromRustDlcOfferedContract } from './helpers/rust-dlc-offer.js';
import { listVectors, readVectorJson, specTestVectors } from './helpers/vectors.js';

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DlcError);
    return (err as DlcError).reason;
  }
  return undefined;
}

function offerOf(json: unknown): OfferDlc {
  const m = messageFromJson('offer_dlc', json as JsonObject);
  if (m.type !== 'offer_dlc') throw new Error('not an offer');
  return m.message;
}
function acceptOf(json: unknown): AcceptDlc {
  const m = messageFromJson('accept_dlc', json as JsonObject);
  if (m.type !== 'accept_dlc') throw new Error('not an accept');
  return m.message;
}
function signOf(json: unknown): SignDlc {
  const m = messageFromJson('sign_dlc', json as JsonObject);
  if (m.type !== 'sign_dlc') throw new Error('not a sign');
  return m.message;
}

describe('rust-dlc dlc-manager offers (OfferedContract serde, converted by test/helpers/rust-dlc-offer.ts)', () => {
  // file -> reason of the rule that rejects it (undefined: valid)
  const table: Record<string, string | undefined> = {
    'offer_contract.json': undefined,
    // offer + accept payouts (200M) differ from the total (150M); the wire keeps only the
    // offerer's payout, so the broken rule is "payout <= total collateral".
    'offer_enum_collateral_not_equal_payout.json': 'payout-exceeds-total-collateral',
    'offer_enum_missing_payout.json': 'enum-payout-missing',
    'offer_enum_oracle_with_diff_payout.json': 'enum-oracle-outcomes-differ',
    'offer_numerical_bad_first_payout.json': 'payout-function-domain-start',
    'offer_numerical_bad_last_payout.json': 'payout-function-domain-end',
    'offer_numerical_collateral_less_than_payout.json': 'payout-exceeds-total-collateral',
    'offer_numerical_empty_rounding_interval.json': 'rounding-intervals-empty',
    'offer_numerical_invalid_rounding_interval.json': 'rounding-intervals-not-from-zero',
    // The wire payout_function cannot express a gap: payoutFunctionFromPieces rejects it while converting.
    'offer_numerical_non_continuous.json': 'payout-function-not-continuous',
  };

  it('covers every offer_* file except the channel offer', () => {
    expect(listVectors('rust-dlc/dlc-manager').filter((f) => f !== 'offer_channel.json')).toEqual(Object.keys(table).sort());
  });

  it.each(Object.entries(table))('%s -> %s', (file, reason) => {
    const json = readVectorJson(`rust-dlc/dlc-manager/${file}`) as JsonObject;
    // offer_contract.json is already an offer_dlc in our JSON form (plus rust-dlc's keysId).
    const toOffer = (): OfferDlc => {
      if ('offerParams' in json) return offerFromRustDlcOfferedContract(json);
      const { keysId: _keysId, ...rest } = json;
      return offerOf(rest);
    };
    expect(reasonOf(() => validateOffer(toOffer()))).toBe(reason);
  });

  it('offer_channel.json: a DLC-channel offer (not in dlcspecs Protocol.md); its contract part validates', () => {
    // Channel-only fields are dropped; the temporary id is a byte array in this file.
    const json = readVectorJson('rust-dlc/dlc-manager/offer_channel.json') as JsonObject;
    const channelOnly = ['temporaryChannelId', 'revocationBasepoint', 'publishBasepoint', 'ownBasepoint', 'firstPerUpdatePoint', 'cetNsequence'];
    for (const k of channelOnly) expect(k in json).toBe(true);
    const rest: JsonObject = Object.fromEntries(Object.entries(json).filter(([k]) => !channelOnly.includes(k)));
    const id = rest.temporaryContractId as number[];
    rest.temporaryContractId = Buffer.from(id).toString('hex');
    expect(reasonOf(() => validateOffer(offerOf(rest)))).toBeUndefined();
  });
});

describe('dlcspecs test_vectors validate', () => {
  it.each(specTestVectors())('%s: offer, accept and sign pass', (_file, v) => {
    const offer = offerOf(v.offer_message.message);
    const accept = acceptOf(v.accept_message.message);
    const sign = signOf(v.sign_message.message);
    expect(reasonOf(() => validateOffer(offer))).toBeUndefined();
    expect(reasonOf(() => validateAccept(offer, accept, { expectedCetCount: accept.cetAdaptorSignatures.ecdsaAdaptorSignatures.length }))).toBeUndefined();
    expect(reasonOf(() => validateSign(offer, accept, sign))).toBeUndefined();
  });
});

const vectors = Object.fromEntries(specTestVectors());
const enumV = vectors['enum_single_oracle_test.json']!;
const numV = vectors['single_oracle_numerical_test.json']!;
const multiV = vectors['three_of_three_oracle_numerical_with_diff_test.json']!;
const enum35 = vectors['enum_3_of_5_test.json']!;

/** A fresh deep copy of a vector's JSON, edited by `edit`, then read as a message. */
function edited<T>(json: unknown, read: (j: unknown) => T, edit: (j: JsonObject) => void): T {
  const copy = parseJson(stringifyJson(json as JsonObject)) as JsonObject;
  edit(copy);
  return read(copy);
}

const single = (j: any): any => j.contractInfo.singleContractInfo;
const inner = (j: any): any => single(j).contractInfo;
const numeric = (j: any): any => inner(j).contractDescriptor.numericOutcomeContractDescriptor;
const payouts = (j: any): any[] => inner(j).contractDescriptor.enumeratedContractDescriptor.payouts;
const firstAnnouncement = (j: any): any => inner(j).oracleInfo.single?.oracleAnnouncement ?? inner(j).oracleInfo.multi.oracleAnnouncements[0];

describe('validateOffer rules (one mutation each)', () => {
  const cases: [string, unknown, (j: any) => void, string][] = [
    ['protocol version', enumV, (j) => (j.protocolVersion = 2), 'protocol-version'],
    ['unknown chain', enumV, (j) => (j.chainHash = '11'.repeat(32)), 'unknown-chain-hash'],
    ['funding pubkey off curve', enumV, (j) => (j.fundingPubkey = `02${'ff'.repeat(32)}`), 'invalid-funding-pubkey'],
    ['non-standard payout spk', enumV, (j) => (j.payoutSpk = '6a'), 'non-standard-payout-spk'],
    ['non-standard change spk', enumV, (j) => (j.changeSpk = '0014aa'), 'non-standard-change-spk'],
    ['tiny collateral', enumV, (j) => (j.offerCollateral = 999), 'collateral-too-small'],
    ['collateral above total', enumV, (j) => (j.offerCollateral = 300000000), 'offer-collateral-exceeds-total'],
    ['height vs time locktimes', enumV, (j) => (j.cetLocktime = 800000), 'locktime-kind-mismatch'],
    ['cet after refund', enumV, (j) => (j.cetLocktime = j.refundLocktime), 'cet-locktime-not-before-refund'],
    ['duplicate input serial', enumV, (j) => j.fundingInputs.push({ ...j.fundingInputs[0] }), 'duplicate-input-serial-id'],
    ['change = fund output serial', enumV, (j) => (j.changeSerialId = j.fundOutputSerialId), 'change-serial-id-equals-fund-output'],
    ['fee rate 0', enumV, (j) => (j.feeRatePerVb = 0), 'fee-rate-too-low'],
    ['fee rate absurd', enumV, (j) => (j.feeRatePerVb = 1000000), 'fee-rate-too-high'],
    ['enum outcome not in event', enumV, (j) => (payouts(j)[0].outcome = 'z'), 'enum-outcome-not-in-event'],
    ['enum duplicate outcome', enumV, (j) => (payouts(j)[1].outcome = 'a'), 'enum-duplicate-outcome'],
    ['enum outcome not NFC', enumV, (j) => {
      firstAnnouncement(j).oracleEvent.eventDescriptor.enumEvent.outcomes[0] = 'e\u0301';
      payouts(j)[0].outcome = 'e\u0301';
    }, 'outcome-not-nfc'],
    ['enum event with two nonces', enumV, (j) => firstAnnouncement(j).oracleEvent.oracleNonces.push(firstAnnouncement(j).oracleEvent.oracleNonces[0]), 'announcement-nonce-count'],
    ['enum payout above total', enumV, (j) => (payouts(j)[0].localPayout = 200000001), 'payout-exceeds-total-collateral'],
    ['threshold above n', enum35, (j) => (inner(j).oracleInfo.multi.threshold = 6), 'invalid-threshold'],
    ['threshold 0', enum35, (j) => (inner(j).oracleInfo.multi.threshold = 0), 'invalid-threshold'],
    ['same oracle twice', enum35, (j) => (inner(j).oracleInfo.multi.oracleAnnouncements[1] = inner(j).oracleInfo.multi.oracleAnnouncements[0]), 'duplicate-oracle'],
    ['oracle params with enum', enum35, (j) => (inner(j).oracleInfo.multi.oracleParams = { maxErrorExp: 2, minFailExp: 1, maximizeCoverage: false }), 'oracle-params-with-enum'],
    ['numDigits above event digits', numV, (j) => (numeric(j).numDigits = 11), 'num-digits-exceeds-event-digits'],
    ['numDigits 0', numV, (j) => (numeric(j).numDigits = 0), 'num-digits-zero'],
    ['numeric payout above total', numV, (j) => (numeric(j).payoutFunction.lastEndpoint.outcomePayout = 200000001), 'payout-exceeds-total-collateral'],
    ['points not increasing', numV, (j) => (numeric(j).payoutFunction.payoutFunctionPieces[1].endPoint.eventOutcome = 2), 'payout-points-not-increasing'],
    ['rounding modulus 0', numV, (j) => (numeric(j).roundingIntervals.intervals[0].roundingMod = 0), 'rounding-mod-zero'],
    ['numeric event with too few nonces', numV, (j) => firstAnnouncement(j).oracleEvent.oracleNonces.pop(), 'announcement-nonce-count'],
    ['numeric contract on enum event', numV, (j) => {
      const ev = firstAnnouncement(j).oracleEvent;
      ev.eventDescriptor = { enumEvent: { outcomes: ['a'] } };
      ev.oracleNonces = ev.oracleNonces.slice(0, 1);
    }, 'descriptor-event-mismatch'],
    ['oracle params out of order', multiV, (j) => (inner(j).oracleInfo.multi.oracleParams.minFailExp = 2), 'oracle-params-order'],
    ['funding input not segwit', enumV, (j) => (j.fundingInputs[0].redeemScript = '0014' + '00'.repeat(20)), 'not-segwit-input'],
    ['funding input vout missing', enumV, (j) => (j.fundingInputs[0].prevTxVout = 7), 'invalid-prev-tx-vout'],
    ['prevTx garbage', enumV, (j) => (j.fundingInputs[0].prevTx = '00'), 'invalid-prev-tx'],
    ['inputs do not cover collateral + fees', enumV, (j) => {
      // The single input holds 50 BTC: ask for all of it as collateral, leaving nothing for fees.
      single(j).totalCollateral = 10000000000;
      j.offerCollateral = 5000000000;
    }, 'insufficient-funding'],
  ];
  it.each(cases)('%s -> %s', (_name, vector, edit, reason) => {
    const v = vector as typeof enumV;
    expect(reasonOf(() => validateOffer(edited(v.offer_message.message, offerOf, edit)))).toBe(reason);
  });

  it('options: funding-input checks can be skipped, chains and fee bounds configured', () => {
    const offer = edited(enumV.offer_message.message, offerOf, (j: any) => (j.fundingInputs[0].prevTx = '00'));
    expect(reasonOf(() => validateOffer(offer, { checkFundingInputs: false }))).toBeUndefined();
    const ok = offerOf(enumV.offer_message.message);
    expect(reasonOf(() => validateOffer(ok, { knownChainHashes: [] }))).toBe('unknown-chain-hash');
    expect(reasonOf(() => validateOffer(ok, { minFeeRatePerVb: 3n }))).toBe('fee-rate-too-low');
  });
});

describe('validateAccept rules', () => {
  const offer = offerOf(enumV.offer_message.message);
  const cases: [string, (j: any) => void, string][] = [
    ['protocol version', (j) => (j.protocolVersion = 0), 'protocol-version'],
    ['other offer', (j) => (j.temporaryContractId = '00'.repeat(32)), 'temporary-contract-id-mismatch'],
    ['collateral mismatch', (j) => (j.acceptCollateral = 99999999), 'accept-collateral-mismatch'],
    ['same funding key', (j) => (j.fundingPubkey = enumV.offer_message.message && (enumV.offer_message.message as any).fundingPubkey), 'same-funding-pubkey'],
    ['bad funding key', (j) => (j.fundingPubkey = `05${'11'.repeat(32)}`), 'invalid-funding-pubkey'],
    ['non-standard payout spk', (j) => (j.payoutSpk = '51'), 'non-standard-payout-spk'],
    ['input serial shared with offer', (j) => (j.fundingInputs[0].inputSerialId = (enumV.offer_message.message as any).fundingInputs[0].inputSerialId), 'duplicate-input-serial-id'],
    ['change serial = offer change serial', (j) => (j.changeSerialId = (enumV.offer_message.message as any).changeSerialId), 'duplicate-change-serial-id'],
    ['change serial = fund output serial', (j) => (j.changeSerialId = (enumV.offer_message.message as any).fundOutputSerialId), 'change-serial-id-equals-fund-output'],
    ['payout serial = offer payout serial', (j) => (j.payoutSerialId = (enumV.offer_message.message as any).payoutSerialId), 'duplicate-payout-serial-id'],
    ['missing CET signature', (j) => j.cetAdaptorSignatures.ecdsaAdaptorSignatures.pop(), 'cet-signature-count'],
    ['refund signature r = 0', (j) => (j.refundSignature = '3006020100020101'), 'malformed-refund-signature'],
  ];
  it.each(cases)('%s -> %s', (_name, edit, reason) => {
    const accept = edited(enumV.accept_message.message, acceptOf, edit);
    expect(reasonOf(() => validateAccept(offer, accept, { expectedCetCount: 4 }))).toBe(reason);
  });
});

describe('validateSign rules', () => {
  const offer = offerOf(enumV.offer_message.message);
  const accept = acceptOf(enumV.accept_message.message);
  const cases: [string, (j: any) => void, string][] = [
    ['protocol version', (j) => (j.protocolVersion = 2), 'protocol-version'],
    ['missing CET signature', (j) => j.cetAdaptorSignatures.ecdsaAdaptorSignatures.pop(), 'cet-signature-count'],
    ['no funding witness', (j) => j.fundingSignatures.fundingSignatures.pop(), 'funding-signature-count'],
    ['empty witness stack', (j) => (j.fundingSignatures.fundingSignatures[0].witnessElements = []), 'empty-witness'],
    ['witness above max_witness_len', (j) => j.fundingSignatures.fundingSignatures[0].witnessElements.push({ witness: '00' }), 'witness-exceeds-max-len'],
  ];
  it.each(cases)('%s -> %s', (_name, edit, reason) => {
    expect(reasonOf(() => validateSign(offer, accept, edited(enumV.sign_message.message, signOf, edit)))).toBe(reason);
  });

  it('checks the contract id when the caller computed it', () => {
    const sign = signOf(enumV.sign_message.message);
    expect(reasonOf(() => validateSign(offer, accept, sign, { expectedContractId: sign.contractId }))).toBeUndefined();
    expect(reasonOf(() => validateSign(offer, accept, sign, { expectedContractId: new Uint8Array(32) }))).toBe('contract-id-mismatch');
  });
});

describe('payoutFunctionFromPieces', () => {
  const pt = (x: bigint, y: bigint): { eventOutcome: bigint; outcomePayout: bigint; extraPrecision: number } => ({ eventOutcome: x, outcomePayout: y, extraPrecision: 0 });
  it('builds the wire form of the single_oracle_numerical vector from explicit pieces', () => {
    const f = payoutFunctionFromPieces([
      { polynomial: [pt(0n, 0n), pt(3n, 100000000n), pt(5n, 200000000n)] },
      { polynomial: [pt(5n, 200000000n), pt(1023n, 200000000n)] },
    ]);
    expect(f).toEqual(offerNumericPayoutFunction());
  });
  it.each([
    ['no piece', [], 'payout-function-empty'],
    ['one-point polynomial', [{ polynomial: [pt(0n, 0n)] }], 'polynomial-piece-too-short'],
    ['payout jump at 4', [{ polynomial: [pt(0n, 0n), pt(4n, 1n)] }, { polynomial: [pt(4n, 2n), pt(9n, 2n)] }], 'payout-function-not-continuous'],
  ])('rejects %s -> %s', (_name, pieces, reason) => {
    expect(reasonOf(() => payoutFunctionFromPieces(pieces))).toBe(reason);
  });
});

function offerNumericPayoutFunction(): unknown {
  const offer = offerOf(numV.offer_message.message);
  const ci = offer.contractInfo;
  if (!('singleContractInfo' in ci)) throw new Error('unexpected');
  const d = ci.singleContractInfo.contractInfo.contractDescriptor;
  if (!('numericOutcomeContractDescriptor' in d)) throw new Error('unexpected');
  return d.numericOutcomeContractDescriptor.payoutFunction;
}
