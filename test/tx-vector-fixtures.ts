// Test-side reader of the dlcspecs test_vectors JSON for the protocol/tx tests:
// only the offer/accept/sign fields that transactions depend on, converted into the
// protocol/messages types (hex -> bytes, u64 -> bigint via lossless-json, DER refund
// signatures -> 64-byte compact as on the wire). Not a codec: the messages module
// owns decoding; this keeps the tx tests independent of it.
import { readdirSync, readFileSync } from 'node:fs';
import { parse, isLosslessNumber } from 'lossless-json';
import type { LosslessNumber } from 'lossless-json';
import type { AcceptDlc, FundingInput, OfferDlc, SignDlc } from '../protocol/messages/types.js';

export const testVectorDir = new URL('../../shared/dlc-vectors/dlcspecs/test_vectors/', import.meta.url);

export type Json = null | boolean | string | LosslessNumber | Json[] | { [k: string]: Json };

function obj(v: Json | undefined): { [k: string]: Json } {
  if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v) || isLosslessNumber(v)) {
    throw new TypeError('expected an object');
  }
  return v as { [k: string]: Json };
}
function arr(v: Json | undefined): Json[] {
  if (!Array.isArray(v)) throw new TypeError('expected an array');
  return v;
}
function hex(v: Json | undefined): Uint8Array {
  if (typeof v !== 'string') throw new TypeError('expected a hex string');
  return Uint8Array.from(Buffer.from(v, 'hex'));
}
function big(v: Json | undefined): bigint {
  if (!isLosslessNumber(v)) throw new TypeError('expected a number');
  return BigInt(v.toString());
}
function num(v: Json | undefined): number {
  const b = big(v);
  if (b > BigInt(Number.MAX_SAFE_INTEGER)) throw new TypeError('number too large');
  return Number(b);
}

/** DER ECDSA signature (without sighash byte) -> 64-byte r|s. */
export function derToCompact(der: Uint8Array): Uint8Array {
  if (der[0] !== 0x30 || der[2] !== 0x02) throw new TypeError('not DER');
  const rLen = der[3]!;
  const r = der.subarray(4, 4 + rLen);
  if (der[4 + rLen] !== 0x02) throw new TypeError('not DER');
  const sLen = der[5 + rLen]!;
  const s = der.subarray(6 + rLen, 6 + rLen + sLen);
  const out = new Uint8Array(64);
  const strip = (x: Uint8Array): Uint8Array => (x.length > 32 ? x.subarray(x.length - 32) : x);
  out.set(strip(r), 32 - strip(r).length);
  out.set(strip(s), 64 - strip(s).length);
  return out;
}

function adaptorSigs(v: Json | undefined): AcceptDlc['cetAdaptorSignatures'] {
  return { ecdsaAdaptorSignatures: arr(obj(v).ecdsaAdaptorSignatures).map((x) => ({ signature: hex(obj(x).signature) })) };
}

function fundingInputs(v: Json | undefined): FundingInput[] {
  return arr(v).map((x) => {
    const o = obj(x);
    return {
      inputSerialId: big(o.inputSerialId),
      prevTx: hex(o.prevTx),
      prevTxVout: num(o.prevTxVout),
      sequence: num(o.sequence),
      maxWitnessLen: num(o.maxWitnessLen),
      redeemScript: hex(o.redeemScript),
    };
  });
}

/**
 * The transaction-relevant part of an offer. `contractInfo` carries only
 * `totalCollateral` (its descriptor is not needed here), hence the cast.
 */
function offerOf(m: { [k: string]: Json }): OfferDlc {
  const ci = obj(m.contractInfo);
  const single = ci.singleContractInfo;
  const totalCollateral = big(obj(single ?? ci.disjointContractInfo).totalCollateral);
  const contractInfo = (single !== undefined
    ? { singleContractInfo: { totalCollateral, contractInfo: null } }
    : { disjointContractInfo: { totalCollateral, contractInfos: [] } }) as unknown as OfferDlc['contractInfo'];
  return {
    protocolVersion: num(m.protocolVersion),
    contractFlags: num(m.contractFlags),
    chainHash: hex(m.chainHash),
    temporaryContractId: hex(m.temporaryContractId),
    contractInfo,
    fundingPubkey: hex(m.fundingPubkey),
    payoutSpk: hex(m.payoutSpk),
    payoutSerialId: big(m.payoutSerialId),
    offerCollateral: big(m.offerCollateral),
    fundingInputs: fundingInputs(m.fundingInputs),
    changeSpk: hex(m.changeSpk),
    changeSerialId: big(m.changeSerialId),
    fundOutputSerialId: big(m.fundOutputSerialId),
    feeRatePerVb: big(m.feeRatePerVb),
    cetLocktime: num(m.cetLocktime),
    refundLocktime: num(m.refundLocktime),
  };
}

function acceptOf(m: { [k: string]: Json }): AcceptDlc {
  return {
    protocolVersion: num(m.protocolVersion),
    temporaryContractId: hex(m.temporaryContractId),
    acceptCollateral: big(m.acceptCollateral),
    fundingPubkey: hex(m.fundingPubkey),
    payoutSpk: hex(m.payoutSpk),
    payoutSerialId: big(m.payoutSerialId),
    fundingInputs: fundingInputs(m.fundingInputs),
    changeSpk: hex(m.changeSpk),
    changeSerialId: big(m.changeSerialId),
    cetAdaptorSignatures: adaptorSigs(m.cetAdaptorSignatures),
    refundSignature: derToCompact(hex(m.refundSignature)),
    negotiationFields: null,
  };
}

function signOf(m: { [k: string]: Json }): SignDlc {
  return {
    protocolVersion: num(m.protocolVersion),
    contractId: hex(m.contractId),
    cetAdaptorSignatures: adaptorSigs(m.cetAdaptorSignatures),
    refundSignature: derToCompact(hex(m.refundSignature)),
    fundingSignatures: {
      fundingSignatures: arr(obj(m.fundingSignatures).fundingSignatures).map((fs) => ({
        witnessElements: arr(obj(fs).witnessElements).map((w) => ({ witness: hex(obj(w).witness) })),
      })),
    },
  };
}

/** Per contract of the offer: the enumerated `localPayout`s (offerer's payouts), or null for numeric. */
function enumPayoutsOf(m: { [k: string]: Json }): (bigint[] | null)[] {
  const ci = obj(m.contractInfo);
  const infos = ci.singleContractInfo !== undefined
    ? [obj(obj(ci.singleContractInfo).contractInfo)]
    : arr(obj(ci.disjointContractInfo).contractInfos).map(obj);
  return infos.map((info) => {
    const d = obj(info.contractDescriptor).enumeratedContractDescriptor;
    return d === undefined ? null : arr(obj(d).payouts).map((p) => big(obj(p).localPayout));
  });
}

export interface TxVector {
  name: string;
  /** Raw offer message JSON (numbers as LosslessNumber), for test-specific digging. */
  offerJson: { [k: string]: Json };
  enumPayouts: (bigint[] | null)[];
  offer: OfferDlc;
  accept: AcceptDlc;
  sign: SignDlc;
}

/** Every file of dlcspecs/test_vectors, in name order. */
export function loadTxVectors(): TxVector[] {
  return readdirSync(testVectorDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((name) => {
      // Numbers stay LosslessNumber: u64 serial ids exceed 2^53.
      const j = obj(parse(readFileSync(new URL(name, testVectorDir), 'utf8')) as Json);
      const offerJson = obj(obj(j.offer_message).message);
      return {
        name,
        offerJson,
        enumPayouts: enumPayoutsOf(offerJson),
        offer: offerOf(offerJson),
        accept: acceptOf(obj(obj(j.accept_message).message)),
        sign: signOf(obj(obj(j.sign_message).message)),
      };
    });
}
