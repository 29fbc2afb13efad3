// Custom payout curves: the dlcspecs numeric vectors' curves through the
// template (CET counts must equal the vectors' adaptor signature counts),
// rust-dlc's offer reject cases, continuity, collateral bounds, and the JSON
// reader's errors.
import { readFileSync } from 'node:fs';
import { isLosslessNumber, parse as losslessParse, stringify as losslessStringify } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import type { OracleAnnouncement, OracleInfo } from '../protocol/messages/types.js';
import { payoutAt } from '../protocol/numeric/index.js';
import { customCurve, parseCustomCurveJson, type CustomCurveSpec } from '../protocol/templates/index.js';
import { expectReason, fakeOracleInfo } from './templates-fixtures.js';

const VECTORS = new URL('../../shared/dlc-vectors/', import.meta.url);

type J = Record<string, unknown>;
const readJson = (rel: string): J => losslessParse(readFileSync(new URL(rel, VECTORS), 'utf8')) as J;
const num = (v: unknown): number => (isLosslessNumber(v) ? Number(v.value) : (v as number));
const big = (v: unknown): bigint => (isLosslessNumber(v) ? BigInt(v.value) : BigInt(v as number));
const hexBytes = (h: unknown): Uint8Array => Uint8Array.from(Buffer.from(h as string, 'hex'));

function announcementFromVector(a: J): OracleAnnouncement {
  const ev = a.oracleEvent as J;
  const dd = (ev.eventDescriptor as J).digitDecompositionEvent as J;
  return {
    announcementSignature: hexBytes(a.announcementSignature),
    oraclePublicKey: hexBytes(a.oraclePublicKey),
    oracleEvent: {
      oracleNonces: (ev.oracleNonces as string[]).map(hexBytes),
      eventMaturityEpoch: num(ev.eventMaturityEpoch),
      eventDescriptor: {
        digitDecompositionEvent: {
          base: num(dd.base), isSigned: dd.isSigned as boolean, unit: dd.unit as string,
          precision: num(dd.precision), nbDigits: num(dd.nbDigits),
        },
      },
      eventId: ev.eventId as string,
    },
  };
}

function oracleInfoFromVector(o: J): OracleInfo {
  if ('single' in o) return { single: { oracleAnnouncement: announcementFromVector((o.single as J).oracleAnnouncement as J) } };
  const m = o.multi as J;
  const p = m.oracleParams as J | null;
  return {
    multi: {
      threshold: num(m.threshold),
      oracleAnnouncements: (m.oracleAnnouncements as J[]).map(announcementFromVector),
      oracleParams: p === null ? null : { maxErrorExp: num(p.maxErrorExp), minFailExp: num(p.minFailExp), maximizeCoverage: p.maximizeCoverage as boolean },
    },
  };
}

/** The curve of a vector, through the JSON reader (as a file would be). */
function curveText(descriptor: J): string {
  const d = descriptor.numericOutcomeContractDescriptor as J;
  return losslessStringify({ payoutFunction: d.payoutFunction, roundingIntervals: d.roundingIntervals, numDigits: d.numDigits })!;
}

const SINGLE_NUMERIC = [
  'single_oracle_numerical_test.json',
  'three_of_three_oracle_numerical_test.json',
  'two_of_five_oracle_numerical_test.json',
  'three_of_three_oracle_numerical_with_diff_test.json',
  'three_of_five_oracle_numerical_with_diff_test.json',
  'two_of_five_oracle_numerical_with_diff_test.json',
];

describe('dlcspecs numeric vectors as custom curves', () => {
  it.each(SINGLE_NUMERIC)('%s: accepted, CET count = the accept message\'s adaptor signatures', (file) => {
    const v = readJson(`dlcspecs/test_vectors/${file}`);
    const offer = (v.offer_message as J).message as J;
    const accept = (v.accept_message as J).message as J;
    const single = (offer.contractInfo as J).singleContractInfo as J;
    const inner = single.contractInfo as J;
    const spec = parseCustomCurveJson(curveText(inner.contractDescriptor as J));
    const offerCollateral = big(offer.offerCollateral);
    const total = big(single.totalCollateral);
    const r = customCurve({
      ...spec,
      offerCollateral,
      acceptCollateral: total - offerCollateral,
      oracleInfo: oracleInfoFromVector(inner.oracleInfo as J),
    });
    const sigs = ((accept.cetAdaptorSignatures as J).ecdsaAdaptorSignatures as unknown[]).length;
    expect(r.cetCount.adaptorSignatures).toBe(sigs);
    expect(r.totalCollateral).toBe(total);
    // The curve: 0 at 0, 1 BTC at 3 (quadratic through (0,0), (3,1e8), (5,2e8)), 2 BTC from 5.
    const at = (o: bigint): bigint => r.summary.keyPayouts.find((k) => k.outcome === o)!.offerPayout;
    expect([at(0n), at(3n), at(5n), at(1023n)]).toEqual([0n, 100_000_000n, 200_000_000n, 200_000_000n]);
  });

  it('the hyperbola vector is rejected: its piece does not meet its endpoints', () => {
    const v = readJson('dlcspecs/test_vectors/single_oracle_numerical_hyperbola_test.json');
    const offer = (v.offer_message as J).message as J;
    const inner = ((offer.contractInfo as J).singleContractInfo as J).contractInfo as J;
    const spec = parseCustomCurveJson(curveText(inner.contractDescriptor as J));
    expectReason(() => customCurve({
      ...spec, offerCollateral: 100_000_000n, acceptCollateral: 100_000_000n,
      oracleInfo: oracleInfoFromVector(inner.oracleInfo as J),
    }), 'curve-discontinuous');
  });
});

// rust-dlc's offers that a receiver must reject. Their serde form lists each
// piece with all its points; the wire form shares endpoints between pieces.
// offer_numerical_non_continuous.json has a gap between pieces, which the wire
// form cannot express at all, so it is not converted here.
function fromRustDlcPieces(pf: J): CustomCurveSpec['payoutFunction'] {
  const pieces = (pf.payoutFunctionPieces as J[]).map((p) => ((p.polynomialPayoutCurvePiece as J).payoutPoints as J[]).map((q) => ({
    eventOutcome: big(q.eventOutcome), outcomePayout: big(q.outcomePayout), extraPrecision: num(q.extraPrecision),
  })));
  return {
    payoutFunctionPieces: pieces.map((pts) => ({
      endPoint: pts[0]!,
      payoutCurvePiece: { polynomialPayoutCurvePiece: { payoutPoints: pts.slice(1, -1) } },
    })),
    lastEndpoint: pieces.at(-1)!.at(-1)!,
  };
}

describe('rust-dlc offer reject cases', () => {
  it.each([
    ['offer_numerical_bad_first_payout.json', 'payout-function-domain-start'],
    ['offer_numerical_bad_last_payout.json', 'payout-function-domain-end'],
    ['offer_numerical_collateral_less_than_payout.json', 'payout-above-collateral'],
    ['offer_numerical_empty_rounding_interval.json', 'rounding-intervals-empty'],
    ['offer_numerical_invalid_rounding_interval.json', 'rounding-intervals-not-from-zero'],
  ])('%s -> %s', (file, reason) => {
    const v = readJson(`rust-dlc/dlc-manager/${file}`);
    const ci = (v.contractInfo as J[])[0]!;
    const numerical = (ci.contractDescriptor as J).numerical as J;
    const ri = (numerical.roundingIntervals as J).intervals as J[];
    const total = big(v.totalCollateral);
    const offerCollateral = big((v.offerParams as J).collateral);
    const nbDigits = num(((numerical.oracleNumericInfos as J).nbDigits as unknown[])[0]);
    expectReason(() => customCurve({
      payoutFunction: fromRustDlcPieces(numerical.payoutFunction as J),
      roundingIntervals: { intervals: ri.map((i) => ({ beginInterval: big(i.beginInterval), roundingMod: big(i.roundingMod) })) },
      offerCollateral,
      acceptCollateral: total - offerCollateral,
      oracleInfo: fakeOracleInfo(nbDigits, 'sats/sec'),
    }), reason);
  });
});

// ------------------------------------------------------------------ our own curves

const line = (pts: [bigint, bigint][]): CustomCurveSpec['payoutFunction'] => ({
  payoutFunctionPieces: pts.slice(0, -1).map(([x, y]) => ({
    endPoint: { eventOutcome: x, outcomePayout: y, extraPrecision: 0 },
    payoutCurvePiece: { polynomialPayoutCurvePiece: { payoutPoints: [] } },
  })),
  lastEndpoint: { eventOutcome: pts.at(-1)![0], outcomePayout: pts.at(-1)![1], extraPrecision: 0 },
});

describe('custom curves of our own', () => {
  // A hashprice collar for the miner on 20 digits: floor 40,000 and cap 60,000
  // sats/PH/day, 10 sats per unit between; 400,000 sats in the DLC.
  const collar: CustomCurveSpec = {
    payoutFunction: line([[0n, 400_000n], [40_000n, 400_000n], [60_000n, 200_000n], [1_048_575n, 200_000n]]),
    roundingIntervals: { intervals: [{ beginInterval: 0n, roundingMod: 1000n }] },
  };
  const oracleInfo = fakeOracleInfo(20, 'sats/PH/day');

  it('a collar: flat, line, flat', () => {
    const r = customCurve({ ...collar, offerCollateral: 250_000n, acceptCollateral: 150_000n, oracleInfo, keyOutcomes: [50_000n, 55_555n] });
    const at = (o: bigint): bigint => r.summary.keyPayouts.find((k) => k.outcome === o)!.offerPayout;
    expect([at(0n), at(40_000n), at(50_000n), at(55_555n), at(60_000n), at(1_048_575n)])
      .toEqual([400_000n, 400_000n, 300_000n, 244_000n, 200_000n, 200_000n]); // 244,450 -> 244,000
    expect(r.summary.template).toBe('custom-curve');
    expect(r.cetCount.cets).toBe(201);
  });

  it('a hyperbola that meets its endpoints: 1e6 / (x + 1)', () => {
    const spec: CustomCurveSpec = {
      payoutFunction: {
        payoutFunctionPieces: [{
          endPoint: { eventOutcome: 0n, outcomePayout: 1_000_000n, extraPrecision: 0 },
          payoutCurvePiece: { hyperbolaPayoutCurvePiece: { usePositivePiece: true, translateOutcome: -1, translatePayout: 0, a: 1, b: 0, c: 0, d: 1_000_000 } },
        }],
        lastEndpoint: { eventOutcome: 1023n, outcomePayout: 976n, extraPrecision: 36_864 }, // 976.5625
      },
      roundingIntervals: { intervals: [{ beginInterval: 0n, roundingMod: 1n }] },
    };
    const r = customCurve({ ...spec, offerCollateral: 1_000_000n, acceptCollateral: 0n, oracleInfo: fakeOracleInfo(10, 'x'), keyOutcomes: [1n, 3n, 99n] });
    const at = (o: bigint): bigint => r.summary.keyPayouts.find((k) => k.outcome === o)!.offerPayout;
    expect([at(0n), at(1n), at(3n), at(99n), at(1023n)]).toEqual([1_000_000n, 500_000n, 250_000n, 10_000n, 977n]);
  });

  it('a polynomial that overshoots the collateral between its points is rejected', () => {
    // Quadratic through (0,0), (2,400000), (10,0): -25000 x (x - 10), 625,000 at x = 5.
    const spec: CustomCurveSpec = {
      payoutFunction: {
        payoutFunctionPieces: [
          { endPoint: { eventOutcome: 0n, outcomePayout: 0n, extraPrecision: 0 }, payoutCurvePiece: { polynomialPayoutCurvePiece: { payoutPoints: [{ eventOutcome: 2n, outcomePayout: 400_000n, extraPrecision: 0 }] } } },
          { endPoint: { eventOutcome: 10n, outcomePayout: 0n, extraPrecision: 0 }, payoutCurvePiece: { polynomialPayoutCurvePiece: { payoutPoints: [] } } },
        ],
        lastEndpoint: { eventOutcome: 1023n, outcomePayout: 0n, extraPrecision: 0 },
      },
      roundingIntervals: { intervals: [{ beginInterval: 0n, roundingMod: 1n }] },
    };
    expectReason(() => customCurve({ ...spec, offerCollateral: 400_000n, acceptCollateral: 0n, oracleInfo: fakeOracleInfo(10, 'x') }), 'payout-above-collateral');
    // With 625,000 in the DLC it is fine, and protocol/numeric agrees on the peak.
    const ok = customCurve({ ...spec, offerCollateral: 400_000n, acceptCollateral: 225_000n, oracleInfo: fakeOracleInfo(10, 'x') });
    expect(payoutAt(ok.contractDescriptor.numericOutcomeContractDescriptor, 625_000n, 2, 5n)).toBe(625_000n);
    expect(payoutAt(ok.contractDescriptor.numericOutcomeContractDescriptor, 625_000n, 2, 4n)).toBe(600_000n);
  });

  it.each([
    ['amount-negative', { offerCollateral: -1n }],
    ['collateral-below-dust', { offerCollateral: 0n, acceptCollateral: 999n }],
    ['digits-mismatch', { numDigits: 21 }],
    ['event-unit', { expectUnit: 'bps' }],
    ['payout-above-collateral', { offerCollateral: 100_000n, acceptCollateral: 100_000n }],
    ['rounding-mod-zero', { roundingIntervals: { intervals: [{ beginInterval: 0n, roundingMod: 0n }] } }],
    ['rounding-intervals-not-increasing', { roundingIntervals: { intervals: [{ beginInterval: 0n, roundingMod: 1n }, { beginInterval: 0n, roundingMod: 5n }] } }],
    ['payout-function-domain-end', { oracleInfo: fakeOracleInfo(21, 'sats/PH/day') }],
    ['extra-output-dust', { extraOutputs: [{ script: new Uint8Array(22), value: 10n, serialId: 1n, payer: 'accept' as const }] }],
    ['script-empty', { extraOutputs: [{ script: new Uint8Array(0), value: 10_000n, serialId: 1n, payer: 'accept' as const }] }],
    ['extra-output-payer', { extraOutputs: [{ script: new Uint8Array(22), value: 10_000n, serialId: 1n, payer: 'nobody' as 'offer' }] }],
  ])('rejects %s', (reason, change) => {
    expectReason(() => customCurve({ ...collar, offerCollateral: 200_000n, acceptCollateral: 200_000n, oracleInfo, ...change }), reason);
  });

  it('a constant curve has nothing to condition on (protocol/numeric refuses it)', () => {
    const flat = { ...collar, payoutFunction: line([[0n, 5000n], [1_048_575n, 5000n]]) };
    expectReason(() => customCurve({ ...flat, offerCollateral: 200_000n, acceptCollateral: 200_000n, oracleInfo }), 'constant-payout');
  });
});

describe('parseCustomCurveJson', () => {
  const good = '{"payoutFunction":{"payoutFunctionPieces":[{"endPoint":{"eventOutcome":0,"outcomePayout":18446744073709551615,"extraPrecision":0},"payoutCurvePiece":{"polynomialPayoutCurvePiece":{"payoutPoints":[]}}}],"lastEndpoint":{"eventOutcome":1023,"outcomePayout":0,"extraPrecision":0}},"roundingIntervals":{"intervals":[{"beginInterval":0,"roundingMod":1}]}}';

  it('keeps u64 values exact', () => {
    const spec = parseCustomCurveJson(good);
    expect(spec.payoutFunction.payoutFunctionPieces[0]!.endPoint.outcomePayout).toBe(18446744073709551615n);
    expect(spec.numDigits).toBeUndefined();
  });

  it.each([
    ['not JSON', '{', '$'],
    ['not an object', '[]', '$'],
    ['missing payoutFunction', '{"roundingIntervals":{"intervals":[]}}', '$.payoutFunction'],
    ['extra precision above u16', good.replace('"extraPrecision":0}', '"extraPrecision":70000}'), '$.payoutFunction.payoutFunctionPieces[0].endPoint.extraPrecision'],
    ['negative outcome', good.replace('"eventOutcome":1023', '"eventOutcome":-1'), '$.payoutFunction.lastEndpoint.eventOutcome'],
    ['fractional outcome', good.replace('"eventOutcome":1023', '"eventOutcome":1.5'), '$.payoutFunction.lastEndpoint.eventOutcome'],
    ['payout above u64', good.replace('18446744073709551615', '18446744073709551616'), '$.payoutFunction.payoutFunctionPieces[0].endPoint.outcomePayout'],
    ['unknown piece kind', good.replace('"polynomialPayoutCurvePiece"', '"cubicPiece"'), '$.payoutFunction.payoutFunctionPieces[0].payoutCurvePiece.cubicPiece'],
    ['unknown field', good.replace('"roundingMod":1', '"roundingMod":1,"x":2'), '$.roundingIntervals.intervals[0].x'],
    ['numDigits not a number', good.replace('}]}}', '}]},"numDigits":"ten"}'), '$.numDigits'],
  ])('rejects %s', (_, text, path) => {
    expectReason(() => parseCustomCurveJson(text), path, 'INVALID_JSON');
  });
});
