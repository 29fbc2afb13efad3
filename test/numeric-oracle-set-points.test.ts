/**
 * The adaptor points of t-of-n contracts: `setupContract` computes them with
 * shared work (one prefix trie per group of oracles signing the same prefix;
 * per-oracle tries and partial sums shared across combinations when they sign
 * different prefixes, as with bounded differences; projective sums encoded in
 * one batch: protocol/crypto/oracle.ts `numericAdaptorPoints`). Here every slot's point is recomputed directly, as
 * MultiOracle.md defines it: the sum, over the slot's oracles, of the
 * attestation points of each digit of that oracle's prefix, each added with
 * the backend's plain `add`. Both must be the same bytes.
 */
import { describe, expect, it } from 'vitest';
import { setupContract } from '../protocol/contract/index.js';
import { attestationPoint, outcomeDigest } from '../protocol/crypto/oracle.js';
import { addSumPoints, encodeSumPoints, sumPointOf } from '../protocol/crypto/point-sums.js';
import { negatePoint, secp } from '../protocol/crypto/secp.js';
import { DlcError } from '../protocol/errors.js';
import type { OfferDlc, OracleAnnouncement, OracleParams } from '../protocol/messages/types.js';
import { linearDescriptor, testOracle, testSecret, twoPartyFixture } from './helpers/dlc-fixture.js';

const NB_DIGITS = 12;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function oracleSetContract(threshold: number, n: number, label: string, oracleParams: OracleParams | null = null) {
  const anns: OracleAnnouncement[] = Array.from({ length: n }, (_, i) => testOracle(`${label}-oracle-${i}`).announce(`${label}-event`, NB_DIGITS));
  const total = 60_000n;
  const fx = twoPartyFixture({
    announcement: anns[0]!,
    descriptor: linearDescriptor(NB_DIGITS, total, 60n),
    offerCollateral: total / 2n,
    acceptCollateral: total / 2n,
    label,
  });
  const single = (fx.offer.contractInfo as Extract<OfferDlc['contractInfo'], { singleContractInfo: unknown }>).singleContractInfo;
  const offer: OfferDlc = {
    ...fx.offer,
    contractInfo: {
      singleContractInfo: {
        totalCollateral: single.totalCollateral,
        contractInfo: {
          contractDescriptor: single.contractInfo.contractDescriptor,
          oracleInfo: { multi: { threshold, oracleAnnouncements: anns, oracleParams } },
        },
      },
    },
  };
  return { setup: setupContract(offer, fx.acceptUnsigned), anns };
}

describe('t-of-n adaptor points: shared computation equals the direct sum', () => {
  const cases = [
    { t: 2, n: 3, params: null },
    { t: 3, n: 5, params: null },
    // bounded differences: the oracles of a slot sign different prefixes (the per-oracle path)
    { t: 2, n: 3, params: { maxErrorExp: 4, minFailExp: 2, maximizeCoverage: false } },
  ] as const;
  for (const { t, n, params } of cases) {
    it(`${t}-of-${n}${params === null ? '' : ' with bounded differences'}: every slot`, () => {
      const { setup, anns } = oracleSetContract(t, n, `points-${t}-of-${n}`, params);
      const slots = setup.plan.adaptorSlots;
      // 61 CETs, every oracle combination of every prefix
      expect(setup.plan.cets.length).toBe(61);
      const combos = t === 2 ? 3 : 10;
      expect(slots.length % combos).toBe(0);
      expect(slots.every((s) => s.oracles.length === t)).toBe(true);
      const mixed = slots.filter((s) => s.oracles.some((o) => o.digits.join() !== s.oracles[0]!.digits.join())).length;
      if (params === null) expect(mixed).toBe(0);
      else expect(mixed).toBeGreaterThan(0);
      const be = secp();
      const digest = [outcomeDigest('sha256', '0'), outcomeDigest('sha256', '1')];
      const digitPoint = new Map<string, Uint8Array>();
      slots.forEach((slot, i) => {
        const parts: Uint8Array[] = [];
        for (const o of slot.oracles) {
          const ann = anns[o.oracleIndex]!;
          o.digits.forEach((d, pos) => {
            const key = `${o.oracleIndex}:${pos}:${d}`;
            let pt = digitPoint.get(key);
            if (pt === undefined) {
              pt = attestationPoint(ann.oraclePublicKey, ann.oracleEvent.oracleNonces[pos]!, digest[d]!);
              digitPoint.set(key, pt);
            }
            parts.push(pt);
          });
        }
        expect(hex(setup.slotAdaptorPoints.subarray(i * 33, i * 33 + 33)), `slot ${i}`).toBe(hex(be.add(parts)));
      });
    });
  }
});

describe('projective point sums (protocol/crypto/point-sums.ts)', () => {
  it('encode in one batch the same bytes as the backend adds, and refuse infinity', () => {
    const be = secp();
    const pts = Array.from({ length: 6 }, (_, i) => be.mulG(testSecret(`sum-${i}`)));
    const sums = pts.slice(1).map((p, i) => addSumPoints(sumPointOf(pts[i]!), sumPointOf(p)));
    expect(encodeSumPoints(sums).map(hex)).toEqual(pts.slice(1).map((p, i) => hex(be.add([pts[i]!, p]))));
    const neg = sumPointOf(negatePoint(pts[0]!));
    const err = (() => { try { addSumPoints(sumPointOf(pts[0]!), neg); return undefined; } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(DlcError);
    expect((err as DlcError).code).toBe('INVALID_POINT');
    const offCurve = new Uint8Array(33).fill(0xff); // x above the field prime
    offCurve[0] = 2;
    expect(() => sumPointOf(offCurve)).toThrow(DlcError);
    expect(() => sumPointOf(pts[0]!.subarray(0, 32))).toThrow(DlcError);
  });
});
