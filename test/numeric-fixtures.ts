/**
 * Test helpers for the protocol/numeric suites: read the dlcspecs vectors
 * verbatim, map their `contractInfo` JSON to our message types by hand (the
 * messages codec is tested elsewhere), and check which adaptor point an
 * adaptor signature was encrypted under.
 *
 * The adaptor-point check only needs the DLEQ proof inside the 162-byte
 * signature (dlcspecs ECDSA-adaptor.md "Proof of Discrete Logarithm Equality":
 * R = k*Y and R_a = k*G), not the CET: it tells whether a signature in the
 * vectors was made for the oracle digits our plan puts in that slot. The DLEQ
 * challenge is tagged "DLEQ" as secp256k1-zkp (which produced the vectors)
 * does. Oracle signature points follow Oracle.md with the vectors' plain
 * SHA256(outcome) message hash (dlc-vectors README).
 */
import { readFileSync } from 'node:fs';
import { isLosslessNumber, parse } from 'lossless-json';
import * as ecc from 'tiny-secp256k1';
import { sha256 } from '@noble/hashes/sha2.js';
import type {
  ContractDescriptor,
  ContractInfo,
  ContractInfoInner,
  OracleAnnouncement,
  OracleInfo,
  PayoutFunction,
  PayoutPoint,
} from '../protocol/messages/types.js';

export const VECTORS_DIR = new URL('../../shared/dlc-vectors/', import.meta.url);

type Json = any;

export function readVector(relPath: string): Json {
  return parse(readFileSync(new URL(relPath, VECTORS_DIR), 'utf8'));
}

const big = (v: Json): bigint => {
  if (!isLosslessNumber(v)) throw new TypeError(`expected a number, got ${String(v)}`);
  return BigInt(v.toString());
};
const num = (v: Json): number => {
  if (!isLosslessNumber(v)) throw new TypeError(`expected a number, got ${String(v)}`);
  return Number(v.toString());
};
export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

function point(p: Json): PayoutPoint {
  return { eventOutcome: big(p.eventOutcome), outcomePayout: big(p.outcomePayout), extraPrecision: num(p.extraPrecision) };
}

function payoutFunction(f: Json): PayoutFunction {
  return {
    payoutFunctionPieces: f.payoutFunctionPieces.map((piece: Json) => {
      const c = piece.payoutCurvePiece;
      const payoutCurvePiece =
        'polynomialPayoutCurvePiece' in c
          ? { polynomialPayoutCurvePiece: { payoutPoints: c.polynomialPayoutCurvePiece.payoutPoints.map(point) } }
          : {
              hyperbolaPayoutCurvePiece: {
                usePositivePiece: c.hyperbolaPayoutCurvePiece.usePositivePiece as boolean,
                translateOutcome: num(c.hyperbolaPayoutCurvePiece.translateOutcome),
                translatePayout: num(c.hyperbolaPayoutCurvePiece.translatePayout),
                a: num(c.hyperbolaPayoutCurvePiece.a),
                b: num(c.hyperbolaPayoutCurvePiece.b),
                c: num(c.hyperbolaPayoutCurvePiece.c),
                d: num(c.hyperbolaPayoutCurvePiece.d),
              },
            };
      return { endPoint: point(piece.endPoint), payoutCurvePiece };
    }),
    lastEndpoint: point(f.lastEndpoint),
  };
}

function descriptor(d: Json): ContractDescriptor {
  if ('enumeratedContractDescriptor' in d) {
    return {
      enumeratedContractDescriptor: {
        payouts: d.enumeratedContractDescriptor.payouts.map((p: Json) => ({
          outcome: p.outcome as string,
          localPayout: big(p.localPayout),
        })),
      },
    };
  }
  const n = d.numericOutcomeContractDescriptor;
  return {
    numericOutcomeContractDescriptor: {
      numDigits: num(n.numDigits),
      payoutFunction: payoutFunction(n.payoutFunction),
      roundingIntervals: {
        intervals: n.roundingIntervals.intervals.map((i: Json) => ({
          beginInterval: big(i.beginInterval),
          roundingMod: big(i.roundingMod),
        })),
      },
    },
  };
}

function announcement(a: Json): OracleAnnouncement {
  const ev = a.oracleEvent;
  const ed = ev.eventDescriptor;
  return {
    announcementSignature: hex(a.announcementSignature),
    oraclePublicKey: hex(a.oraclePublicKey),
    oracleEvent: {
      oracleNonces: ev.oracleNonces.map(hex),
      eventMaturityEpoch: num(ev.eventMaturityEpoch),
      eventDescriptor:
        'enumEvent' in ed
          ? { enumEvent: { outcomes: ed.enumEvent.outcomes as string[] } }
          : {
              digitDecompositionEvent: {
                base: num(ed.digitDecompositionEvent.base),
                isSigned: ed.digitDecompositionEvent.isSigned as boolean,
                unit: ed.digitDecompositionEvent.unit as string,
                precision: num(ed.digitDecompositionEvent.precision),
                nbDigits: num(ed.digitDecompositionEvent.nbDigits),
              },
            },
      eventId: ev.eventId as string,
    },
  };
}

function oracleInfo(o: Json): OracleInfo {
  if ('single' in o) return { single: { oracleAnnouncement: announcement(o.single.oracleAnnouncement) } };
  const m = o.multi;
  return {
    multi: {
      threshold: num(m.threshold),
      oracleAnnouncements: m.oracleAnnouncements.map(announcement),
      oracleParams:
        m.oracleParams === null
          ? null
          : {
              maxErrorExp: num(m.oracleParams.maxErrorExp),
              minFailExp: num(m.oracleParams.minFailExp),
              maximizeCoverage: m.oracleParams.maximizeCoverage as boolean,
            },
    },
  };
}

function inner(c: Json): ContractInfoInner {
  return { contractDescriptor: descriptor(c.contractDescriptor), oracleInfo: oracleInfo(c.oracleInfo) };
}

export function contractInfoFromJson(ci: Json): ContractInfo {
  if ('singleContractInfo' in ci) {
    return {
      singleContractInfo: {
        totalCollateral: big(ci.singleContractInfo.totalCollateral),
        contractInfo: inner(ci.singleContractInfo.contractInfo),
      },
    };
  }
  return {
    disjointContractInfo: {
      totalCollateral: big(ci.disjointContractInfo.totalCollateral),
      contractInfos: ci.disjointContractInfo.contractInfos.map(inner),
    },
  };
}

export interface DlcspecsVector {
  name: string;
  contractInfo: ContractInfo;
  acceptSignatures: Uint8Array[];
  signSignatures: Uint8Array[];
}

export const DLCSPECS_VECTOR_NAMES = [
  'enum_3_of_3_test',
  'enum_3_of_5_test',
  'enum_and_numerical_3_of_5_test',
  'enum_and_numerical_5_of_5_test',
  'enum_and_numerical_with_diff_3_of_5_test',
  'enum_and_numerical_with_diff_5_of_5_test',
  'enum_single_oracle_test',
  'single_oracle_numerical_hyperbola_test',
  'single_oracle_numerical_test',
  'three_of_five_oracle_numerical_with_diff_test',
  'three_of_three_oracle_numerical_test',
  'three_of_three_oracle_numerical_with_diff_test',
  'two_of_five_oracle_numerical_test',
  'two_of_five_oracle_numerical_with_diff_test',
] as const;

export function loadDlcspecsVector(name: string): DlcspecsVector {
  const v = readVector(`dlcspecs/test_vectors/${name}.json`);
  const sigs = (m: Json): Uint8Array[] =>
    m.message.cetAdaptorSignatures.ecdsaAdaptorSignatures.map((s: Json) => hex(s.signature));
  return {
    name,
    contractInfo: contractInfoFromJson(v.offer_message.message.contractInfo),
    acceptSignatures: sigs(v.accept_message),
    signSignatures: sigs(v.sign_message),
  };
}

// ---------------------------------------------------------------- adaptor points

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const enc = new TextEncoder();
const toN = (b: Uint8Array): bigint => BigInt('0x' + Buffer.from(b).toString('hex'));
const toB = (n: bigint): Uint8Array => hex(n.toString(16).padStart(64, '0'));
const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let i = 0;
  for (const p of parts) {
    out.set(p, i);
    i += p.length;
  }
  return out;
};
const tagged = (tag: string, msg: Uint8Array): Uint8Array => {
  const t = sha256(enc.encode(tag));
  return sha256(cat(t, t, msg));
};

/** Oracle.md: s*G = R + H(R, P, m)*P for x-only R, P (even y) and m = SHA256(outcome). */
export function attestationPoint(oraclePubkey: Uint8Array, nonce: Uint8Array, outcome: string): Uint8Array {
  const m = sha256(enc.encode(outcome));
  const e = toN(tagged('BIP0340/challenge', cat(nonce, oraclePubkey, m))) % N;
  const P = cat(Uint8Array.of(2), oraclePubkey);
  const R = cat(Uint8Array.of(2), nonce);
  return ecc.pointAdd(R, ecc.pointMultiply(P, toB(e), true)!, true)!;
}

/** Sum of points (33-byte compressed). */
export function addPoints(points: Uint8Array[]): Uint8Array {
  let acc = points[0]!;
  for (const p of points.slice(1)) acc = ecc.pointAdd(acc, p, true)!;
  return acc;
}

/** Whether the 162-byte adaptor signature's DLEQ proof says it was encrypted under `adaptorPoint`. */
export function encryptedUnder(signature: Uint8Array, adaptorPoint: Uint8Array): boolean {
  const R = signature.subarray(0, 33);
  const Ra = signature.subarray(33, 66);
  const e = toN(signature.subarray(98, 130));
  const s = toN(signature.subarray(130, 162));
  const negE = toB((N - e) % N);
  const r1 = ecc.pointAdd(ecc.pointFromScalar(toB(s), true)!, ecc.pointMultiply(Ra, negE, true)!, true);
  const r2 = ecc.pointAdd(ecc.pointMultiply(adaptorPoint, toB(s), true)!, ecc.pointMultiply(R, negE, true)!, true);
  if (r1 === null || r2 === null) return false;
  return toN(tagged('DLEQ', cat(Ra, adaptorPoint, R, r1, r2))) % N === e;
}

// ---------------------------------------------------------------- rust-dlc dlc-manager offers

/**
 * The rust-dlc `dlc-manager/test_inputs/offer_*.json` files use rust-dlc's own
 * serde shape for contract infos; this maps one to our types. Pieces there
 * carry both their end points; ours share them, so a non-continuous function
 * cannot be expressed (returns null: the dlcspecs wire form rules it out).
 */
export function rustDlcManagerOffer(fileName: string): { total: bigint; inners: ContractInfoInner[] } | null {
  const v = readVector(`rust-dlc/dlc-manager/${fileName}`);
  const inners: ContractInfoInner[] = [];
  for (const c of v.contractInfo) {
    const anns: OracleAnnouncement[] = c.oracleAnnouncements.map(announcement);
    const threshold = num(c.threshold);
    const d = c.contractDescriptor;
    let contractDescriptor: ContractDescriptor;
    let oracleParams = null;
    if ('enum' in d) {
      contractDescriptor = {
        enumeratedContractDescriptor: {
          payouts: d.enum.outcomePayouts.map((p: Json) => ({ outcome: p.outcome as string, localPayout: big(p.payout.offer) })),
        },
      };
    } else {
      const n = d.numerical;
      const pieces: PayoutPoint[][] = n.payoutFunction.payoutFunctionPieces.map((piece: Json) =>
        piece.polynomialPayoutCurvePiece.payoutPoints.map(point),
      );
      for (let i = 0; i + 1 < pieces.length; i++) {
        const a = pieces[i]!.at(-1)!;
        const b = pieces[i + 1]![0]!;
        if (a.eventOutcome !== b.eventOutcome || a.outcomePayout !== b.outcomePayout) return null;
      }
      contractDescriptor = {
        numericOutcomeContractDescriptor: {
          numDigits: num(n.oracleNumericInfos.nbDigits[0]),
          payoutFunction: {
            payoutFunctionPieces: pieces.map((pts) => ({
              endPoint: pts[0]!,
              payoutCurvePiece: { polynomialPayoutCurvePiece: { payoutPoints: pts.slice(1, -1) } },
            })),
            lastEndpoint: pieces.at(-1)!.at(-1)!,
          },
          roundingIntervals: {
            intervals: n.roundingIntervals.intervals.map((i: Json) => ({
              beginInterval: big(i.beginInterval),
              roundingMod: big(i.roundingMod),
            })),
          },
        },
      };
      if (n.differenceParams !== null) {
        oracleParams = {
          maxErrorExp: num(n.differenceParams.maxErrorExp),
          minFailExp: num(n.differenceParams.minSupportExp),
          maximizeCoverage: n.differenceParams.maximizeCoverage as boolean,
        };
      }
    }
    const oracleInfo: OracleInfo =
      anns.length === 1 && threshold === 1 && oracleParams === null
        ? { single: { oracleAnnouncement: anns[0]! } }
        : { multi: { threshold, oracleAnnouncements: anns, oracleParams } };
    inners.push({ contractDescriptor, oracleInfo });
  }
  return { total: big(v.totalCollateral), inners };
}
