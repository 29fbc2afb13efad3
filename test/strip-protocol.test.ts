/**
 * Strips in protocol/ (issue 12): period terms split exactly; one funding
 * transaction with N DLC funding outputs rebuilt identically from every
 * period's own messages plus the batch; each period's CETs and refund spend
 * its own output; the batch consistency rules name the period; node-dlc's
 * BatchFundingGroup TLV read and written byte for byte.
 */
import { describe, expect, it } from 'vitest';
import { buildAccept, buildOffer, buildSign, checkBatchAccepts, checkBatchOffers, checkBatchSigns, defaultLocktimes, fundingPsbtOf, type ContractSetup } from '../protocol/contract/index.js';
import { isDlcError } from '../protocol/errors.js';
import { decodeBatchFundingGroup, encodeBatchFundingGroup, fromHex, toHex, type OfferDlc } from '../protocol/messages/index.js';
import {
  batchToJson,
  checkStripOffersAgainstTerms,
  contractFundingOptions,
  offerTermsSchema,
  periodTermsOf,
  periodWindows,
  splitByBlocks,
  stripExtraOutputs,
  templateFromTerms,
  type OfferTerms,
} from '../protocol/terms/index.js';
import { buildFundingTransaction, extractFundingSignatures, partyFees, partyFeeShape } from '../protocol/tx/index.js';
import * as ecc from 'tiny-secp256k1';
import { REGTEST_CHAIN_HASH, fundingInput, p2wpkhScriptPubkey, publicKey, testOracle, testSecret } from './helpers/dlc-fixture.js';

const oracle = testOracle('strip-oracle');
const upfrontScript = p2wpkhScriptPubkey(publicKey(testSecret('strip:upfront')));
const stripTerms: OfferTerms = offerTermsSchema.parse({
  template: 'hashpower-sale',
  hashrateThs: '100',
  window: { start: 1000, end: 1010 },
  deliveryAddress: 'bcrt1qdeliveryaddressfortests',
  upfront: '50000',
  escrow: '400000',
  minerCollateral: '200001',
  toleranceBps: 9500,
  fundingDeadline: 990,
  periods: 3,
  upfrontScript: toHex(upfrontScript),
  upfrontSerialId: '77',
});

function errorOf(fn: () => unknown): { code: string; reason: string; period?: unknown } {
  try {
    fn();
  } catch (e) {
    if (isDlcError(e)) return { code: e.code, reason: e.reason ?? '', period: e.details?.period };
    throw e;
  }
  throw new Error('expected an error');
}

describe('strip terms', () => {
  it('splits the window and the amounts exactly, longer periods first', () => {
    expect(periodWindows({ start: 1000, end: 1010 }, 3)).toEqual([{ start: 1000, end: 1004 }, { start: 1004, end: 1007 }, { start: 1007, end: 1010 }]);
    expect(splitByBlocks(200_001n, periodWindows({ start: 1000, end: 1010 }, 3))).toEqual([80_000n, 60_000n, 60_001n]);
    const parts = splitByBlocks(999_999_999n, periodWindows({ start: 0, end: 4320 }, 30));
    expect(parts.reduce((a, b) => a + b, 0n)).toBe(999_999_999n);
    expect(errorOf(() => periodWindows({ start: 0, end: 2 }, 3))).toMatchObject({ reason: 'strip-periods' });
  });

  it('makes period terms without the strip-level upfront, which the strip pays once', () => {
    const periods = periodTermsOf(stripTerms);
    expect(periods.map((p) => (p as { escrow: string }).escrow)).toEqual(['160000', '120000', '120000']);
    for (const p of periods) {
      expect(p).toMatchObject({ upfront: '0', fundingDeadline: 990 });
      expect('periods' in p).toBe(false);
      expect('upfrontScript' in p).toBe(false);
    }
    expect(stripExtraOutputs(stripTerms)).toEqual([{ script: upfrontScript, value: 50_000n, serialId: 77n, payer: 'accept' }]);
    expect(periodTermsOf({ ...stripTerms, periods: undefined } as OfferTerms)).toHaveLength(1);
    expect(offerTermsSchema.safeParse({ ...stripTerms, periods: 1 }).success).toBe(false);
    expect(offerTermsSchema.safeParse({ ...stripTerms, periods: 101 }).success).toBe(false);
  });
});

// ------------------------------------------------------------------ a 3-period strip, end to end in protocol/

const offerKey = testSecret('strip:offer-funding');
const acceptKey = testSecret('strip:accept-funding');
const offerUtxoKey = testSecret('strip:offer-utxo');
const acceptUtxoKey = testSecret('strip:accept-utxo');
const periodTerms = periodTermsOf(stripTerms);
const announcements = periodTerms.map((_, i) => oracle.announce(`delivery/strip-${i}`, 14));
const templates = periodTerms.map((p, i) => templateFromTerms(p, { single: { oracleAnnouncement: announcements[i]! } }));
const offerInputs = [fundingInput(offerUtxoKey, 300_000n, 5n, 'strip:o')];
const acceptInputs = [fundingInput(acceptUtxoKey, 1_000_000n, 6n, 'strip:a')];

const offers: OfferDlc[] = periodTerms.map((p, i) => buildOffer({
  contract: templates[i]!,
  temporaryContractId: testSecret(`strip:temp-${i}`),
  chainHash: REGTEST_CHAIN_HASH,
  fundingPubkey: publicKey(offerKey),
  fundingInputs: offerInputs,
  payoutSpk: p2wpkhScriptPubkey(publicKey(testSecret('strip:offer-payout'))),
  changeSpk: p2wpkhScriptPubkey(publicKey(testSecret('strip:offer-change'))),
  payoutSerialId: 1n,
  changeSerialId: 2n,
  fundOutputSerialId: 100n + BigInt(i),
  feeRatePerVb: 2n,
  ...defaultLocktimes((p as { window: { end: number } }).window.end, 'regtest'),
}));
const { contracts } = checkStripOffersAgainstTerms(offers, stripTerms);
const optionsOf = (i: number) => contractFundingOptions(templates[i]!, { terms: stripTerms, batch: batchToJson(contracts, i) });
const accepted = offers.map((offer, i) => buildAccept(offer, {
  fundingSecretKey: acceptKey,
  fundingInputs: acceptInputs,
  payoutSpk: p2wpkhScriptPubkey(publicKey(testSecret('strip:accept-payout'))),
  changeSpk: p2wpkhScriptPubkey(publicKey(testSecret('strip:accept-change'))),
  payoutSerialId: 11n,
  changeSerialId: 12n,
  extraOutputs: optionsOf(i).extraOutputs,
  setup: { batch: optionsOf(i).batch! },
}));

/** Low-R grinding (as Bitcoin Core's wallet does), so the witness fits the fixture's max_witness_len. */
function lowRSign(h: Uint8Array): Uint8Array {
  for (let n = 0; ; n++) {
    const extra = new Uint8Array(32);
    extra[0] = n;
    const sig = ecc.sign(h, offerUtxoKey, n === 0 ? undefined : extra);
    if (sig[0]! < 0x80) return sig;
  }
}

function offerFundingSigs(setup: ContractSetup) {
  const psbt = fundingPsbtOf(setup);
  setup.funding.inputs.forEach((input, i) => {
    if (input.party === 'offer') psbt.signInput(i, { publicKey: publicKey(offerUtxoKey), sign: lowRSign });
  });
  return extractFundingSignatures(psbt, setup.funding, 'offer');
}

describe('one funding transaction for the strip', () => {
  const setups = accepted.map((a) => a.setup);

  it('every period rebuilds the same transaction: N funding outputs, the upfront once, two changes', () => {
    const txids = new Set(setups.map((s) => s.funding.txidHex));
    expect(txids.size).toBe(1);
    const tx = setups[0]!.funding.tx;
    expect(tx.outs).toHaveLength(3 + 1 + 2);
    const indexes = setups.map((s) => s.funding.fundOutputIndex);
    expect(new Set(indexes).size).toBe(3);
    expect(setups[0]!.funding.batchOutputs.map((o) => o.index)).toEqual(indexes);
    for (const s of setups) expect(tx.outs[s.funding.fundOutputIndex]!.script).toEqual(setups[0]!.funding.fundingSpk);
    // Distinct contract ids (Protocol.md: txid XOR temporary id, output index).
    expect(new Set(setups.map((s) => toHex(s.contractId))).size).toBe(3);
  });

  it('each funding output holds its period\'s collaterals and closing fees; each change pays N closing fees and its share of N outputs', () => {
    const f = setups[1]!.funding;
    const offerFees = partyFees(partyFeeShape(offers[1]!, [], 2), 2n);
    const acceptFees = partyFees(partyFeeShape(accepted[1]!.accept, [upfrontScript.length], 2), 2n);
    expect(f.offer.fundingFee).toBe(offerFees.fundingFee);
    const single = partyFees(partyFeeShape(offers[1]!, []), 2n);
    expect(offerFees.fundingWeight - single.fundingWeight).toBe(2n * 86n);
    contracts.forEach((c, i) => {
      expect(f.tx.outs[f.batchOutputs[i]!.index]!.value).toBe(c.offerCollateral + c.acceptCollateral + offerFees.closingFee + acceptFees.closingFee);
    });
    const offerIn = 300_000n;
    expect(f.offer.change).toBe(offerIn - 200_001n - offerFees.fundingFee - 3n * offerFees.closingFee);
    expect(f.accept.change).toBe(1_000_000n - 400_000n - 50_000n - acceptFees.fundingFee - 3n * acceptFees.closingFee);
    // Conservation: inputs = outputs + the funding fees.
    const outs = f.tx.outs.reduce((s, o) => s + o.value, 0n);
    expect(offerIn + 1_000_000n - outs).toBe(f.offer.fundingFee + f.accept.fundingFee);
  });

  it('each period\'s CETs and refund spend its own funding output', () => {
    setups.forEach((s, i) => {
      expect(s.closing.fundOutputIndex).toBe(s.funding.batchOutputs[i]!.index);
      expect(s.closing.fundOutputValue).toBe(s.funding.batchOutputs[i]!.value);
      expect(s.closing.refundLocktime).toBe(offers[i]!.refundLocktime);
    });
  });

  it('the offerer signs each period; the signs share the funding witnesses', () => {
    const signs = offers.map((offer, i) => buildSign(offer, accepted[i]!.accept, {
      fundingSecretKey: offerKey,
      fundingSignatures: offerFundingSigs,
      extraOutputs: optionsOf(i).extraOutputs,
      setup: { batch: optionsOf(i).batch! },
    }).sign);
    expect(() => checkBatchSigns(signs, 3)).not.toThrow();
    const forged = signs.map((s, i) => (i === 2 ? { ...s, fundingSignatures: { fundingSignatures: [] } } : s));
    expect(errorOf(() => checkBatchSigns(forged, 3))).toMatchObject({ reason: 'batch-funding-signatures', period: 3 });
  });

  it('a batch entry that is not the contract is refused', () => {
    const wrong = { ...optionsOf(1).batch!, index: 0 };
    expect(errorOf(() => buildFundingTransaction(offers[1]!, accepted[1]!.accept, { batch: wrong }))).toMatchObject({ reason: 'batch-mismatch' });
    expect(errorOf(() => buildFundingTransaction(offers[1]!, accepted[1]!.accept, { batch: { index: 0, contracts: [contracts[1]!] } }))).toMatchObject({ reason: 'batch-size' });
  });
});

describe('batch consistency rules name the period', () => {
  it('offers: same inputs, keys, change; distinct ids and serial ids', () => {
    expect(() => checkBatchOffers(offers)).not.toThrow();
    const other = offers.map((o, i) => (i === 2 ? { ...o, changeSerialId: 99n } : o));
    expect(errorOf(() => checkBatchOffers(other))).toMatchObject({ reason: 'batch-change-serial-id', period: 3 });
    const dup = offers.map((o, i) => (i === 1 ? { ...o, fundOutputSerialId: offers[0]!.fundOutputSerialId } : o));
    expect(errorOf(() => checkBatchOffers(dup))).toMatchObject({ reason: 'batch-duplicate-fund-output-serial-id', period: 2 });
    expect(errorOf(() => checkBatchOffers([offers[0]!]))).toMatchObject({ reason: 'batch-size' });
  });

  it('accepts: one per offer, in order, one set of inputs', () => {
    const accepts = accepted.map((a) => a.accept);
    expect(() => checkBatchAccepts(offers, accepts)).not.toThrow();
    expect(errorOf(() => checkBatchAccepts(offers, [accepts[0]!, accepts[2]!, accepts[1]!]))).toMatchObject({ reason: 'batch-temporary-contract-id', period: 2 });
  });

  it('strip offers are checked against their period terms, naming the period', () => {
    const swapped = [offers[0]!, offers[2]!, offers[1]!];
    expect(errorOf(() => checkStripOffersAgainstTerms(swapped, stripTerms))).toMatchObject({ code: 'TERMS_MISMATCH', period: 2 });
    expect(errorOf(() => checkStripOffersAgainstTerms(offers.slice(0, 2), stripTerms))).toMatchObject({ reason: 'strip-offer-count' });
  });
});

describe('node-dlc BatchFundingGroup TLV', () => {
  // node-dlc's own test bytes (packages/messaging, DlcOffer test): five event ids, 1 BTC allocated.
  const NODE_DLC = 'fdff967900000000000005f5e100051561746f6d69632d656e67696e652d74726164652d311561746f6d69632d656e67696e652d74726164652d321561746f6d69632d656e67696e652d74726164652d331561746f6d69632d656e67696e652d74726164652d341561746f6d69632d656e67696e652d74726164652d35';

  it('reads node-dlc\'s bytes and writes them back identically', () => {
    const g = decodeBatchFundingGroup(fromHex(NODE_DLC));
    expect(g.allocatedCollateral).toBe(100_000_000n);
    expect(g.eventIds).toEqual([1, 2, 3, 4, 5].map((i) => `atomic-engine-trade-${i}`));
    expect(g.tempContractIds).toEqual([]);
    expect(toHex(encodeBatchFundingGroup(g))).toBe(NODE_DLC);
  });

  it('round-trips a strip\'s group and refuses other types and trailing bytes', () => {
    const g = { tempContractIds: offers.map((o) => o.temporaryContractId), contractIds: accepted.map((a) => a.setup.contractId), allocatedCollateral: 600_001n, eventIds: ['a', 'b', 'c'] };
    expect(decodeBatchFundingGroup(encodeBatchFundingGroup(g))).toEqual(g);
    const bytes = encodeBatchFundingGroup(g);
    expect(errorOf(() => decodeBatchFundingGroup(Uint8Array.from([...bytes, 0])))).toMatchObject({ code: 'DECODE_ERROR' });
    const other = Uint8Array.from(bytes);
    other[2] = 0x97;
    expect(errorOf(() => decodeBatchFundingGroup(other))).toMatchObject({ reason: 'unexpected-type' });
  });
});
