/**
 * Test-side converter from rust-dlc's internal serde JSON of an offered
 * contract (`dlc-manager` `OfferedContract`, the `rust-dlc/dlc-manager/offer_*.json`
 * vectors) to our wire-level `OfferDlc`, so that protocol/messages/validate.ts
 * can be held against rust-dlc's reject cases.
 *
 * Mapping (rust-dlc `OfferedContract` -> offer_dlc):
 * - `id` -> temporaryContractId; chainHash is regtest (rust-dlc keeps no chain
 *   hash there; its vectors all use regtest); protocolVersion 1, contractFlags 0.
 * - `contractInfo[]` (one entry -> single, several -> disjoint), each
 *   `{contractDescriptor, oracleAnnouncements, threshold}`: one announcement with
 *   threshold 1 -> single oracle info, otherwise multi.
 * - enum `outcomePayouts[].payout.offer` -> localPayout (the wire keeps only the
 *   offerer's payout; `accept` is implied as total - offer).
 * - numerical `payoutFunction.payoutFunctionPieces` (pieces with explicit end
 *   points) -> payoutFunctionFromPieces (rejects a discontinuity, which the wire
 *   form cannot express); numDigits from `oracleNumericInfos.nbDigits`;
 *   `differenceParams` -> oracleParams (`minSupportExp` is `min_fail_exp`).
 * - `offerParams` -> funding pubkey, spks, serial ids, collateral; top-level
 *   `fundingInputs`, `fundOutputSerialId`, `feeRatePerVb`, locktimes as they are.
 * Ignored: `isOfferParty`, `counterParty`, `keysId`, `offerParams.inputs`/`inputAmount`.
 */
import { payoutFunctionFromPieces } from '../../protocol/messages/builders.js';
import type { ExplicitPayoutPiece } from '../../protocol/messages/builders.js';
import { messageFromJson } from '../../protocol/messages/json.js';
import type { JsonValue } from '../../protocol/messages/json.js';
import { CHAIN_HASHES } from '../../protocol/messages/validate.js';
import { fromHex } from '../../protocol/messages/wire.js';
import type {
  ContractDescriptor,
  ContractInfo,
  ContractInfoInner,
  OfferDlc,
  OracleAnnouncement,
  OracleInfo,
  PayoutPoint,
} from '../../protocol/messages/types.js';

// Foreign serde JSON: each field is read (and its type checked) where it is used.
type Any = any;

function bytes(v: Any): Uint8Array {
  if (Array.isArray(v)) return Uint8Array.from(v as number[]);
  return fromHex(String(v));
}

function big(v: Any): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  throw new TypeError(`not an integer: ${String(v)}`);
}

function point(p: Any): PayoutPoint {
  return { eventOutcome: big(p.eventOutcome), outcomePayout: big(p.outcomePayout), extraPrecision: Number(p.extraPrecision) };
}

function announcement(a: Any): OracleAnnouncement {
  const msg = messageFromJson('oracle_announcement', a as JsonValue);
  if (msg.type !== 'oracle_announcement') throw new TypeError('unreachable');
  return msg.message;
}

function descriptor(d: Any): ContractDescriptor {
  if (d.enum !== undefined) {
    return {
      enumeratedContractDescriptor: {
        payouts: (d.enum.outcomePayouts as Any[]).map((p) => ({ outcome: String(p.outcome), localPayout: big(p.payout.offer) })),
      },
    };
  }
  if (d.numerical !== undefined) {
    const n = d.numerical;
    const nbDigits = n.oracleNumericInfos.nbDigits as number[];
    if (new Set(nbDigits).size !== 1) throw new TypeError('converter: oracles with different digit counts are not mapped');
    const pieces: ExplicitPayoutPiece[] = (n.payoutFunction.payoutFunctionPieces as Any[]).map((piece) => {
      if (piece.polynomialPayoutCurvePiece !== undefined) {
        return { polynomial: (piece.polynomialPayoutCurvePiece.payoutPoints as Any[]).map(point) };
      }
      const h = piece.hyperbolaPayoutCurvePiece;
      return {
        leftEndpoint: point(h.leftEndPoint),
        rightEndpoint: point(h.rightEndPoint),
        hyperbola: {
          usePositivePiece: Boolean(h.usePositivePiece),
          translateOutcome: Number(h.translateOutcome),
          translatePayout: Number(h.translatePayout),
          a: Number(h.a),
          b: Number(h.b),
          c: Number(h.c),
          d: Number(h.d),
        },
      };
    });
    return {
      numericOutcomeContractDescriptor: {
        numDigits: nbDigits[0]!,
        payoutFunction: payoutFunctionFromPieces(pieces),
        roundingIntervals: {
          intervals: (n.roundingIntervals.intervals as Any[]).map((i) => ({
            beginInterval: big(i.beginInterval),
            roundingMod: big(i.roundingMod),
          })),
        },
      },
    };
  }
  throw new TypeError(`converter: unknown contract descriptor ${Object.keys(d).join(',')}`);
}

function oracleInfo(ci: Any): OracleInfo {
  const anns = (ci.oracleAnnouncements as Any[]).map(announcement);
  const threshold = Number(ci.threshold);
  const diff = ci.contractDescriptor.numerical?.differenceParams ?? null;
  if (anns.length === 1 && threshold === 1 && diff === null) return { single: { oracleAnnouncement: anns[0]! } };
  return {
    multi: {
      threshold,
      oracleAnnouncements: anns,
      oracleParams:
        diff === null
          ? null
          : { maxErrorExp: Number(diff.maxErrorExp), minFailExp: Number(diff.minSupportExp), maximizeCoverage: Boolean(diff.maximizeCoverage) },
    },
  };
}

/**
 * Converts rust-dlc `OfferedContract` serde JSON (parsed losslessly) to an OfferDlc.
 * @throws {DlcError} from payoutFunctionFromPieces when the payout pieces are not continuous.
 * @throws {TypeError} on shapes this converter does not map.
 */
export function offerFromRustDlcOfferedContract(json: Any): OfferDlc {
  const inners: ContractInfoInner[] = (json.contractInfo as Any[]).map((ci) => ({
    contractDescriptor: descriptor(ci.contractDescriptor),
    oracleInfo: oracleInfo(ci),
  }));
  const total = big(json.totalCollateral);
  const contractInfo: ContractInfo =
    inners.length === 1
      ? { singleContractInfo: { totalCollateral: total, contractInfo: inners[0]! } }
      : { disjointContractInfo: { totalCollateral: total, contractInfos: inners } };
  const p = json.offerParams;
  return {
    protocolVersion: 1,
    contractFlags: 0,
    chainHash: fromHex(CHAIN_HASHES.regtest),
    temporaryContractId: bytes(json.id),
    contractInfo,
    fundingPubkey: bytes(p.fundPubkey),
    payoutSpk: bytes(p.payoutScriptPubkey),
    payoutSerialId: big(p.payoutSerialId),
    offerCollateral: big(p.collateral),
    fundingInputs: (json.fundingInputs as Any[]).map((f) => ({
      inputSerialId: big(f.inputSerialId),
      prevTx: bytes(f.prevTx),
      prevTxVout: Number(f.prevTxVout),
      sequence: Number(f.sequence),
      maxWitnessLen: Number(f.maxWitnessLen),
      redeemScript: bytes(f.redeemScript),
    })),
    changeSpk: bytes(p.changeScriptPubkey),
    changeSerialId: big(p.changeSerialId),
    fundOutputSerialId: big(json.fundOutputSerialId),
    feeRatePerVb: big(json.feeRatePerVb),
    cetLocktime: Number(json.cetLocktime),
    refundLocktime: Number(json.refundLocktime),
  };
}
