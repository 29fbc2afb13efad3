// The linear templates (hashpower sale, hashprice forward and call): worked
// examples with exact payouts, the curves checked against protocol/numeric's
// evaluation in both conformance modes, CET counts, and invalid terms.
import { describe, expect, it } from 'vitest';
import type { OracleInfo } from '../protocol/messages/types.js';
import { expectReason, fakeOracleInfo } from './templates-fixtures.js';
import { recomputeOutcome, type DeliveryEvidence } from '../protocol/hashpower/index.js';
import { outcomeRanges, payoutInRanges, type Conformance } from '../protocol/numeric/index.js';
import {
  DEFAULT_PAYOUT_STEPS,
  hashpowerSale,
  hashpriceCall,
  hashpriceForward,
  type HashpowerSaleTerms,
  type HashpriceCallTerms,
  type HashpriceForwardTerms,
  type TemplateResult,
} from '../protocol/templates/index.js';

const descriptorOf = (r: TemplateResult) => r.contractDescriptor.numericOutcomeContractDescriptor;

/** Offerer payout at each outcome, from protocol/numeric, in the given mode. */
function payouts(r: TemplateResult, conformance: Conformance): (x: bigint) => bigint {
  const ranges = outcomeRanges(descriptorOf(r), r.totalCollateral, 2, { conformance });
  return (x) => payoutInRanges(ranges, x);
}

function keyPayout(r: TemplateResult, outcome: bigint): [bigint, bigint] {
  const k = r.summary.keyPayouts.find((p) => p.outcome === outcome);
  if (k === undefined) throw new Error(`no key payout at ${outcome}`);
  return [k.offerPayout, k.acceptPayout];
}

/** Both conformance modes give the same ranges (no f64 or rounding disagreement). */
function expectModesAgree(r: TemplateResult): void {
  const d = descriptorOf(r);
  expect(outcomeRanges(d, r.totalCollateral, 2, { conformance: 'spec' })).toEqual(
    outcomeRanges(d, r.totalCollateral, 2, { conformance: 'vectors' }),
  );
}

// ------------------------------------------------------------------ sale

const MINER_SPK = Uint8Array.from([0x00, 0x14, ...new Array<number>(20).fill(0xaa)]);

// 100 TH/s over 100 blocks: at the regtest harness's simulated difficulty
// (1e14, 50 BTC blocks) that is worth ~69,849 sats (test/hashpower-formulas).
const sale: HashpowerSaleTerms = {
  hashrateThs: 100n,
  window: { start: 1000, end: 1100 },
  deliveryAddress: 'bcrt1qbuyerdelivery',
  upfront: 20_000n,
  escrow: 45_000n,
  minerCollateral: 25_000n,
  toleranceBps: 9500,
  upfrontScript: MINER_SPK,
  upfrontSerialId: 7n,
  oracleInfo: fakeOracleInfo(14, 'bps'),
};

describe('hashpower sale: 100 TH/s over 100 blocks, tolerance 95%', () => {
  const r = hashpowerSale(sale);

  it('collaterals and the upfront output', () => {
    expect(r.offerCollateral).toBe(25_000n);
    expect(r.acceptCollateral).toBe(45_000n);
    expect(r.totalCollateral).toBe(70_000n);
    expect(r.extraOutputs).toEqual([{ script: MINER_SPK, value: 20_000n, serialId: 7n, payer: 'accept' }]);
    expect(r.contractInfo).toEqual({
      singleContractInfo: { totalCollateral: 70_000n, contractInfo: { contractDescriptor: r.contractDescriptor, oracleInfo: sale.oracleInfo } },
    });
  });

  it('curve: 0 at 0 bps, a line to 9499 bps, escrow + C from 9500 bps; rounding 1400 sats strictly inside', () => {
    const d = descriptorOf(r);
    expect(d.numDigits).toBe(14);
    const pts = [...d.payoutFunction.payoutFunctionPieces.map((p) => p.endPoint), d.payoutFunction.lastEndpoint];
    expect(pts.map((p) => [p.eventOutcome, p.outcomePayout])).toEqual([
      [0n, 0n],
      [9499n, 69_993n], // round(70000 * 9499 / 9500)
      [9500n, 70_000n],
      [16383n, 70_000n],
    ]);
    expect(pts.every((p) => p.extraPrecision === 0)).toBe(true);
    expect(d.roundingIntervals.intervals).toEqual([
      { beginInterval: 0n, roundingMod: 1n },
      { beginInterval: 1n, roundingMod: 70_000n / DEFAULT_PAYOUT_STEPS },
      { beginInterval: 9500n, roundingMod: 1n },
    ]);
  });

  it.each([
    // outcome bps, miner, buyer
    [0n, 0n, 70_000n], // nothing delivered: the buyer gets escrow + C
    [4750n, 35_000n, 35_000n], // half the tolerance: 35000 is on the 1400 grid
    [5000n, 36_400n, 33_600n], // 36842.1 rounds to 26 * 1400
    [9500n, 70_000n, 0n], // tolerance: escrow + C to the miner
    [10_000n, 70_000n, 0n],
    [16_383n, 70_000n, 0n],
  ])('at %s bps the miner gets %s, the buyer %s', (x, miner, buyer) => {
    expect(keyPayout(r, x)).toEqual([miner, buyer]);
    expect(payouts(r, 'vectors')(x)).toBe(miner);
    expect(payouts(r, 'spec')(x)).toBe(miner);
  });

  it('with rounding modulus 1 the payout follows the exact line to the sat', () => {
    const exact = hashpowerSale({ ...sale, roundingMod: 1n });
    const p = payouts(exact, 'vectors');
    expect(p(5000n)).toBe(36_842n); // 70000 * 5000 / 9500 = 36842.1
    expect(p(9000n)).toBe(66_316n); // 66315.8
    expect(p(1n)).toBe(7n); // 7.37
    expect(exact.cetCount.cets).toBe(9_501);
    expectModesAgree(exact);
  });

  it('every outcome pays within one rounding step of the exact line, monotone, both modes alike', () => {
    const p = payouts(r, 'vectors');
    const M = 1400n;
    let prev = -1n;
    for (let x = 0n; x <= 16383n; x++) {
      const got = p(x);
      const ideal = x >= 9500n ? 70_000n : (70_000n * x) / 9500n;
      expect(got - ideal <= M && ideal - got <= M).toBe(true);
      expect(got >= prev).toBe(true);
      prev = got;
    }
    expectModesAgree(r);
  });

  it('CET count: a typical sale is a few hundred adaptor signatures', () => {
    expect(r.cetCount).toEqual({ cets: 51, adaptorSignatures: 428 });
    // Mainnet-sized: 10 PH/s for 2016 blocks, 0.07 BTC price, 20 digits.
    const big = hashpowerSale({ ...sale, hashrateThs: 10_000n, window: { start: 850_000, end: 852_016 }, upfront: 2_000_000n, escrow: 5_000_000n, minerCollateral: 5_000_000n, oracleInfo: fakeOracleInfo(20, 'bps') });
    expect(big.cetCount.cets).toBe(51);
    expect(big.cetCount.adaptorSignatures).toBeLessThan(600);
  });

  it('tolerance 100% and tolerance 1 bps', () => {
    const full = hashpowerSale({ ...sale, toleranceBps: 10_000 });
    expect(keyPayout(full, 10_000n)).toEqual([70_000n, 0n]);
    expect(payouts(full, 'vectors')(9_999n)).toBe(70_000n); // 69993 rounds up to the clamp
    const one = hashpowerSale({ ...sale, toleranceBps: 1 });
    const p = payouts(one, 'vectors');
    expect([p(0n), p(1n), p(16383n)]).toEqual([0n, 70_000n, 70_000n]);
    expect(one.cetCount.cets).toBe(2);
  });

  it('no upfront: no extra output', () => {
    const r0 = hashpowerSale({ ...sale, upfront: 0n, upfrontScript: undefined, upfrontSerialId: undefined });
    expect(r0.extraOutputs).toEqual([]);
  });

  it('the summary states the terms', () => {
    expect(r.summary.template).toBe('hashpower-sale');
    expect(r.summary.lines.join('\n')).toContain('100 TH/s for blocks [1000, 1100) (100 blocks, ~0.69 days)');
    expect(r.summary.lines.join('\n')).toContain('at or above 9500 bps (95.00%)');
  });

  const bad: [string, Partial<HashpowerSaleTerms>][] = [
    ['hashrate-invalid', { hashrateThs: 0n }],
    ['window-empty', { window: { start: 1100, end: 1100 } }],
    ['window-invalid', { window: { start: -5, end: 10 } }],
    ['address-empty', { deliveryAddress: '' }],
    ['amount-negative', { upfront: -1n }],
    ['amount-negative', { escrow: -1n }],
    ['amount-negative', { minerCollateral: -1n }],
    ['amount-above-max-money', { escrow: 2_100_000_000_000_001n }],
    ['collateral-below-dust', { escrow: 500n, minerCollateral: 0n }],
    ['tolerance-out-of-range', { toleranceBps: 0 }],
    ['tolerance-out-of-range', { toleranceBps: 10_001 }],
    ['tolerance-out-of-range', { toleranceBps: 95.5 }],
    ['digits-too-few', { oracleInfo: fakeOracleInfo(13, 'bps') }],
    ['event-unit', { oracleInfo: fakeOracleInfo(14, 'sats/PH/day') }],
    ['event-precision', { oracleInfo: fakeOracleInfo(14, 'bps', -2) }],
    ['extra-output-dust', { upfront: 999n }],
    ['script-empty', { upfrontScript: new Uint8Array(0) }],
    ['serial-id-invalid', { upfrontSerialId: undefined }],
    ['rounding-mod-invalid', { roundingMod: 0n }],
    ['rounding-mod-invalid', { roundingMod: 70_001n }],
  ];
  it.each(bad)('rejects %s', (reason, change) => {
    expectReason(() => hashpowerSale({ ...sale, ...change }), reason);
  });

  it('rejects non-numeric, signed, non-binary events and nonce/digit mismatches', () => {
    const base = fakeOracleInfo(14, 'bps');
    const ann = 'single' in base ? base.single.oracleAnnouncement : undefined;
    const withEvent = (mut: (e: typeof ann) => void): OracleInfo => {
      const copy = structuredClone(base);
      mut('single' in copy ? copy.single.oracleAnnouncement : undefined);
      return copy;
    };
    expectReason(() => hashpowerSale({ ...sale, oracleInfo: withEvent((a) => { a!.oracleEvent.eventDescriptor = { enumEvent: { outcomes: ['a', 'b'] } }; }) }), 'event-not-numeric');
    expectReason(() => hashpowerSale({ ...sale, oracleInfo: withEvent((a) => { (a!.oracleEvent.eventDescriptor as { digitDecompositionEvent: { isSigned: boolean } }).digitDecompositionEvent.isSigned = true; }) }), 'event-signed');
    expectReason(() => hashpowerSale({ ...sale, oracleInfo: withEvent((a) => { (a!.oracleEvent.eventDescriptor as { digitDecompositionEvent: { base: number } }).digitDecompositionEvent.base = 10; }) }), 'event-base');
    expectReason(() => hashpowerSale({ ...sale, oracleInfo: withEvent((a) => { a!.oracleEvent.oracleNonces.pop(); }) }), 'oracle-nonce-count');
  });
});

// ------------------------------------------------------------------ forward

// 1 PH/s for 2016 blocks (14 days) at 50,000 sats/PH/day: 14 sats per sat/PH/day.
const forward: HashpriceForwardTerms = {
  hashrateThs: 1000n,
  strikeSatsPerPhDay: 50_000n,
  window: { start: 850_000, end: 852_016 },
  minerCollateral: 200_000n,
  buyerCollateral: 200_000n,
  oracleInfo: fakeOracleInfo(20, 'sats/PH/day'),
};

describe('hashprice forward: 1 PH/s, 14 days, K = 50,000 sats/PH/day', () => {
  const r = hashpriceForward(forward);

  it('curve: all to the miner up to 35714, slope -14 sats per unit, 0 from 64286', () => {
    const d = descriptorOf(r);
    const pts = [...d.payoutFunction.payoutFunctionPieces.map((p) => p.endPoint), d.payoutFunction.lastEndpoint];
    expect(pts.map((p) => [p.eventOutcome, p.outcomePayout])).toEqual([
      [0n, 400_000n],
      [35_714n, 400_000n],
      [35_715n, 399_990n],
      [64_285n, 10n],
      [64_286n, 0n],
      [1_048_575n, 0n],
    ]);
    expect(d.roundingIntervals.intervals).toEqual([
      { beginInterval: 0n, roundingMod: 1n },
      { beginInterval: 35_715n, roundingMod: 8_000n },
      { beginInterval: 64_286n, roundingMod: 1n },
    ]);
    expect(r.offerCollateral).toBe(200_000n);
    expect(r.acceptCollateral).toBe(200_000n);
    expect(r.extraOutputs).toEqual([]);
  });

  it.each([
    // hashprice, miner, buyer
    [0n, 400_000n, 0n],
    [35_714n, 400_000n, 0n], // the buyer has lost its whole collateral
    [42_000n, 312_000n, 88_000n], // hashprice fell 8,000: the miner gains 14 * 8000 = 112,000
    [50_000n, 200_000n, 200_000n], // at the strike nobody gains
    [58_000n, 88_000n, 312_000n], // hashprice rose 8,000: the buyer gains 112,000
    [64_286n, 0n, 400_000n], // the miner has lost its whole collateral
    [1_048_575n, 0n, 400_000n],
  ])('hashprice %s: miner %s, buyer %s', (h, miner, buyer) => {
    expect(payouts(r, 'vectors')(h)).toBe(miner);
    expect(payouts(r, 'vectors')(h) + buyer).toBe(400_000n);
    expect(payouts(r, 'spec')(h)).toBe(miner);
  });

  it('key payouts name the strike and both bounds', () => {
    expect(r.summary.keyPayouts.map((k) => [k.label, k.outcome, k.offerPayout])).toEqual([
      ['zero hashprice', 0n, 400_000n],
      ['buyer loses its whole collateral at or below', 35_714n, 400_000n],
      ['strike', 50_000n, 200_000n],
      ['miner loses its whole collateral at or above', 64_286n, 0n],
      ['cap', 1_048_575n, 0n],
    ]);
  });

  it('CET count', () => {
    expect(r.cetCount).toEqual({ cets: 51, adaptorSignatures: 486 });
    expectModesAgree(r);
  });

  it('precision -2 (hundredths of a sat): same contract in finer units', () => {
    const fine = hashpriceForward({ ...forward, oracleInfo: fakeOracleInfo(24, 'sats/PH/day', -2) });
    const p = payouts(fine, 'vectors');
    expect(p(4_200_000n)).toBe(312_000n);
    expect(p(5_000_000n)).toBe(200_000n);
    expect(p(5_800_000n)).toBe(88_000n);
    expectModesAgree(fine);
  });

  it('asymmetric collateral: the line is clipped where each side runs out', () => {
    const a = hashpriceForward({ ...forward, minerCollateral: 100_000n, buyerCollateral: 300_000n });
    const p = payouts(a, 'vectors');
    expect(p(50_000n)).toBe(104_000n); // 100,000 is 12.5 steps of 8,000: the tie rounds up
    expect(p(57_143n)).toBe(0n); // 50000 + 100000/14 = 57142.9
    expect(p(28_571n)).toBe(400_000n); // 50000 - 300000/14 = 28571.4
  });

  const bad: [string, Partial<HashpriceForwardTerms>][] = [
    ['hashrate-invalid', { hashrateThs: -1n }],
    ['window-empty', { window: { start: 10, end: 9 } }],
    ['amount-negative', { strikeSatsPerPhDay: -1n }],
    ['amount-negative', { buyerCollateral: -5n }],
    ['collateral-below-dust', { minerCollateral: 0n, buyerCollateral: 999n }],
    ['digits-too-few', { oracleInfo: fakeOracleInfo(15, 'sats/PH/day') }], // max 32767 < 50000
    ['strike-not-representable', { strikeSatsPerPhDay: 50_500n, oracleInfo: fakeOracleInfo(20, 'sats/PH/day', 3) }], // 50.5 units of 1000
    ['event-unit', { oracleInfo: fakeOracleInfo(20, 'bps') }],
    ['rounding-mod-invalid', { roundingMod: 400_001n }],
  ];
  it.each(bad)('rejects %s', (reason, change) => {
    expectReason(() => hashpriceForward({ ...forward, ...change }), reason);
  });
});

// ------------------------------------------------------------------ call

const call: HashpriceCallTerms = {
  hashrateThs: 1000n,
  strikeSatsPerPhDay: 50_000n,
  window: { start: 850_000, end: 852_016 },
  minerCollateral: 200_000n,
  premium: 30_000n,
  premiumScript: MINER_SPK,
  premiumSerialId: 99n,
  oracleInfo: fakeOracleInfo(20, 'sats/PH/day'),
};

describe('hashprice call: 1 PH/s, 14 days, K = 50,000, collateral 200,000, premium 30,000', () => {
  const r = hashpriceCall(call);

  it('the buyer funds only the premium; the miner the whole DLC', () => {
    expect(r.offerCollateral).toBe(200_000n);
    expect(r.acceptCollateral).toBe(0n);
    expect(r.extraOutputs).toEqual([{ script: MINER_SPK, value: 30_000n, serialId: 99n, payer: 'accept' }]);
  });

  it('curve: flat to the strike, then -14 sats per unit until the collateral is gone', () => {
    const d = descriptorOf(r);
    const pts = [...d.payoutFunction.payoutFunctionPieces.map((p) => p.endPoint), d.payoutFunction.lastEndpoint];
    expect(pts.map((p) => [p.eventOutcome, p.outcomePayout])).toEqual([
      [0n, 200_000n],
      [50_000n, 200_000n],
      [64_285n, 10n],
      [64_286n, 0n],
      [1_048_575n, 0n],
    ]);
  });

  it.each([
    // hashprice, miner, buyer
    [30_000n, 200_000n, 0n], // out of the money
    [50_000n, 200_000n, 0n], // at the strike
    [50_001n, 200_000n, 0n], // 14 sats in the money rounds to 0 on the 4,000 grid
    [58_000n, 88_000n, 112_000n], // in the money: 14 * 8000
    [64_000n, 4_000n, 196_000n],
    [64_286n, 0n, 200_000n], // capped at the collateral
    [1_000_000n, 0n, 200_000n],
  ])('hashprice %s: miner %s, buyer %s', (h, miner, buyer) => {
    expect(payouts(r, 'vectors')(h)).toBe(miner);
    expect(payouts(r, 'spec')(h)).toBe(miner);
    expect(r.totalCollateral - miner).toBe(buyer);
  });

  it('CET count', () => {
    expect(r.cetCount).toEqual({ cets: 51, adaptorSignatures: 438 });
    expectModesAgree(r);
  });

  const bad: [string, Partial<HashpriceCallTerms>][] = [
    ['extra-output-dust', { premium: 10n }],
    ['script-empty', { premiumScript: undefined }],
    ['collateral-below-dust', { minerCollateral: 0n }],
    ['digits-too-few', { strikeSatsPerPhDay: 1_048_575n }],
  ];
  it.each(bad)('rejects %s', (reason, change) => {
    expectReason(() => hashpriceCall({ ...call, ...change }), reason);
  });
});

// ------------------------------------------------------------------ properties

/** A small deterministic generator (xorshift32), so failures reproduce. */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}

describe('random terms: curves are valid in both modes and never leave [0, total]', () => {
  const r = rng(20240601);
  // [result, uses the default rounding]
  const cases: [TemplateResult, boolean][] = [];
  for (let i = 0; i < 25; i++) {
    const roundingMod = r(2) === 0 ? undefined : BigInt(1 + r(3000));
    cases.push([hashpowerSale({
      ...sale,
      escrow: BigInt(1000 + r(5_000_000)),
      minerCollateral: BigInt(r(5_000_000)),
      toleranceBps: 1 + r(10_000),
      roundingMod,
    }), roundingMod === undefined]);
    cases.push([hashpriceForward({
      ...forward,
      hashrateThs: BigInt(1 + r(20_000)),
      strikeSatsPerPhDay: BigInt(r(200_000)),
      window: { start: 0, end: 1 + r(4032) },
      minerCollateral: BigInt(r(3_000_000)),
      buyerCollateral: BigInt(1000 + r(3_000_000)),
    }), true]);
    cases.push([hashpriceCall({
      ...call,
      hashrateThs: BigInt(1 + r(20_000)),
      strikeSatsPerPhDay: BigInt(r(200_000)),
      window: { start: 0, end: 1 + r(4032) },
      minerCollateral: BigInt(1000 + r(3_000_000)),
    }), true]);
  }
  it.each(cases.map(([c, byDefault], i) => [i, c, byDefault] as const))('case %i', (_, c, byDefault) => {
    expectModesAgree(c);
    const d = descriptorOf(c);
    const pts = [...d.payoutFunction.payoutFunctionPieces.map((p) => p.endPoint), d.payoutFunction.lastEndpoint];
    expect(pts.every((p) => p.outcomePayout >= 0n && p.outcomePayout <= c.totalCollateral && p.extraPrecision === 0)).toBe(true);
    // The default grid keeps any of these within a few hundred signatures.
    if (byDefault) expect(c.cetCount.adaptorSignatures).toBeLessThan(1000);
  });
});

// ------------------------------------------------------------------ scenario

describe('scenario: from the oracle evidence to the sale payout', () => {
  // 100 regtest blocks of 50 BTC at simulated difficulty 1e14: 100 TH/s is
  // worth 69,849.19 sats; the pool pays the delivery address `paid` sats.
  function evidence(paid: bigint): DeliveryEvidence {
    const hex = (n: number, tag: string): string => (tag + n.toString(16)).padStart(64, '0');
    const blocks = Array.from({ length: 100 }, (_, i) => ({
      height: 1000 + i, hash: hex(1000 + i, 'b'), bits: '207fffff', reward: 5_000_000_000n, coinbaseTxid: hex(1000 + i, 'c'),
    }));
    return {
      kind: 'hashpower-delivery',
      window: sale.window,
      blocks,
      payouts: paid === 0n ? [] : [{ source: 'coinbase', height: 1050, blockHash: hex(1050, 'b'), txid: hex(1050, 'c'), vout: 1, value: paid, address: sale.deliveryAddress }],
      deliveryAddress: sale.deliveryAddress,
      poolPayoutAddresses: [],
      hashrateThs: sale.hashrateThs,
      simulatedDifficulty: '1e14',
      event: { nbDigits: 14, precision: 0 },
    };
  }
  const r = hashpowerSale(sale);
  const pay = payouts(r, 'vectors');

  it.each([
    // paid sats, attested bps, miner, buyer
    [66_357n, 9500n, 70_000n, 0n], // 95%: delivered in full
    [66_356n, 9499n, 70_000n, 0n], // one sat short: 69,993 rounds onto the clamp
    [34_925n, 5000n, 36_400n, 33_600n], // half
    [0n, 0n, 0n, 70_000n], // nothing: the buyer takes escrow + collateral
  ])('the pool paid %s sats: %s bps, miner %s, buyer %s', (paid, bps, miner, buyer) => {
    const outcome = recomputeOutcome(evidence(paid)).outcome;
    expect(outcome).toBe(bps);
    expect(pay(outcome)).toBe(miner);
    expect(r.totalCollateral - pay(outcome)).toBe(buyer);
  });
});
