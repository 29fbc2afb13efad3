/**
 * protocol/contract flow builders: a hashpower sale (template terms, upfront
 * output) from offer to sign, each side verifying the other; the accepter's
 * terms checks naming the field that differs; bad signatures refused; the
 * funding PSBT checked and finalised; a cooperative close; the async path on
 * src/engine's worker pool.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Psbt } from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';
import {
  buildAccept,
  buildAcceptAsync,
  buildOffer,
  buildSign,
  buildSignAsync,
  completeClose,
  defaultLocktimes,
  fundingPsbtOf,
  signClose,
  verifyAccept,
  verifyFundingPsbt,
  verifyOfferTerms,
  verifySign,
  type ExpectedOfferTerms,
  type OfferParams,
} from '../protocol/contract/index.js';
import type { ContractSetup } from '../protocol/contract/index.js';
import { isDlcError } from '../protocol/errors.js';
import type { AcceptDlc, FundingSignatures, OfferDlc } from '../protocol/messages/index.js';
import { hashpowerSale, type HashpowerSaleTerms } from '../protocol/templates/index.js';
import { combinePsbts, extractFundingSignatures, finalizeFundingPsbt } from '../protocol/tx/index.js';
import { AdaptorEngine } from '../src/engine/index.js';
import { signContractCets, verifyContractCets } from '../src/engine/contract.js';
import {
  REGTEST_CHAIN_HASH,
  fundingInput,
  p2wpkhScriptPubkey,
  publicKey,
  testOracle,
  testSecret,
} from './helpers/dlc-fixture.js';

const oracle = testOracle('flow-oracle');
const EVENT = 'delivery/flow-test';
const announcement = oracle.announce(EVENT, 14);
const oracleInfo = { single: { oracleAnnouncement: announcement } };
const WINDOW = { start: 1000, end: 1100 };

const offerKey = testSecret('flow:offer-funding');
const acceptKey = testSecret('flow:accept-funding');
const offerUtxoKey = testSecret('flow:offer-utxo');
const acceptUtxoKey = testSecret('flow:accept-utxo');
const upfrontScript = p2wpkhScriptPubkey(publicKey(testSecret('flow:upfront')));

function saleTerms(over: Partial<HashpowerSaleTerms> = {}): HashpowerSaleTerms {
  return {
    hashrateThs: 100n,
    window: WINDOW,
    deliveryAddress: 'bcrt1qdeliveryaddressfortests',
    upfront: 50_000n,
    escrow: 400_000n,
    minerCollateral: 200_000n,
    toleranceBps: 9500,
    upfrontScript,
    upfrontSerialId: 77n,
    oracleInfo,
    ...over,
  };
}

const sale = hashpowerSale(saleTerms());
const locktimes = defaultLocktimes(WINDOW.end, 'regtest');

function offerParams(over: Partial<OfferParams> = {}): OfferParams {
  return {
    contract: sale,
    temporaryContractId: testSecret('flow:temp-id'),
    chainHash: REGTEST_CHAIN_HASH,
    fundingPubkey: publicKey(offerKey),
    fundingInputs: [fundingInput(offerUtxoKey, 300_000n, 5n, 'flow:o')],
    payoutSpk: p2wpkhScriptPubkey(publicKey(testSecret('flow:offer-payout'))),
    changeSpk: p2wpkhScriptPubkey(publicKey(testSecret('flow:offer-change'))),
    payoutSerialId: 1n,
    changeSerialId: 2n,
    fundOutputSerialId: 3n,
    feeRatePerVb: 2n,
    ...locktimes,
    ...over,
  };
}

const acceptParams = {
  fundingSecretKey: acceptKey,
  fundingInputs: [fundingInput(acceptUtxoKey, 600_000n, 6n, 'flow:a')],
  payoutSpk: p2wpkhScriptPubkey(publicKey(testSecret('flow:accept-payout'))),
  changeSpk: p2wpkhScriptPubkey(publicKey(testSecret('flow:accept-change'))),
  payoutSerialId: 11n,
  changeSerialId: 12n,
  extraOutputs: sale.extraOutputs,
};

function expectedTerms(over: Partial<ExpectedOfferTerms> = {}): ExpectedOfferTerms {
  return {
    contract: sale,
    hashProfile: 'sha256',
    keyPayouts: sale.summary.keyPayouts,
    announcements: [announcement],
    oraclePublicKeys: [oracle.publicKey],
    eventId: EVENT,
    chainHash: REGTEST_CHAIN_HASH,
    ...locktimes,
    maxFeeRatePerVb: 10n,
    ...over,
  };
}

/** A bitcoinjs signer over tiny-secp256k1 (what a wallet does with its own inputs). */
function signer(secret: Uint8Array) {
  return { publicKey: publicKey(secret), sign: (hash: Uint8Array) => ecc.sign(hash, secret) };
}

function walletSigns(setup: ContractSetup, secret: Uint8Array, party: 'offer' | 'accept'): Psbt {
  const psbt = fundingPsbtOf(setup);
  setup.funding.inputs.forEach((input, i) => {
    if (input.party === party) psbt.signInput(i, signer(secret));
  });
  return psbt;
}

function offerFundingSigs(setup: ContractSetup): FundingSignatures {
  return extractFundingSignatures(walletSigns(setup, offerUtxoKey, 'offer'), setup.funding, 'offer');
}

function errorOf(fn: () => unknown): { code?: string; reason?: string } {
  try {
    fn();
  } catch (e) {
    if (isDlcError(e)) return { code: e.code, reason: e.reason ?? '' };
    throw e;
  }
  throw new Error('expected an error');
}

async function errorOfAsync(fn: () => Promise<unknown>): Promise<{ code?: string; reason?: string }> {
  try {
    await fn();
  } catch (e) {
    if (isDlcError(e)) return { code: e.code, reason: e.reason ?? '' };
    throw e;
  }
  throw new Error('expected an error');
}

const offer = buildOffer(offerParams());
const { accept, setup: acceptSide } = buildAccept(offer, acceptParams);
const { sign, setup: offerSide } = buildSign(offer, accept, {
  fundingSecretKey: offerKey,
  fundingSignatures: offerFundingSigs,
  extraOutputs: sale.extraOutputs,
});

describe('offer -> accept -> sign round trip', () => {
  it('locktime defaults: CET at the window end, refund after the grace period', () => {
    expect(locktimes).toEqual({ cetLocktime: 1100, refundLocktime: 1120 });
    expect(defaultLocktimes(800_000, 'mainnet')).toEqual({ cetLocktime: 800_000, refundLocktime: 800_144 });
    expect(errorOf(() => defaultLocktimes(499_999_990, 'mainnet'))).toEqual({ code: 'INVALID_PARAMS', reason: 'locktime-range' });
  });

  it('the offer carries the template contract and passes the accepter\'s terms check', () => {
    expect(offer.contractInfo).toBe(sale.contractInfo);
    expect(offer.offerCollateral).toBe(200_000n);
    expect(() => verifyOfferTerms(offer, expectedTerms())).not.toThrow();
  });

  it('the accept pays the escrow and signs every adaptor slot', () => {
    expect(accept.acceptCollateral).toBe(400_000n);
    expect(accept.cetAdaptorSignatures.ecdsaAdaptorSignatures).toHaveLength(acceptSide.plan.adaptorSlots.length);
    expect(acceptSide.plan.cets.length).toBe(sale.cetCount.cets);
  });

  it('both sides derive the same contract; the accepter verifies sign_dlc including the funding witnesses', () => {
    expect(offerSide.contractId).toEqual(acceptSide.contractId);
    expect(sign.contractId).toEqual(offerSide.contractId);
    const verified = verifySign(offer, accept, sign, { extraOutputs: sale.extraOutputs });
    expect(verified.fundingChecks).toEqual(['valid']);
    expect(verified.setup.funding.txidHex).toBe(offerSide.funding.txidHex);
  });

  it('the funding transaction pays the upfront output and finalises from both wallets\' signatures', () => {
    const funding = offerSide.funding;
    const up = funding.tx.outs[funding.extraOutputIndexes[0]!]!;
    expect(up.value).toBe(50_000n);
    expect(Buffer.from(up.script).equals(Buffer.from(upfrontScript))).toBe(true);
    const combined = combinePsbts(walletSigns(offerSide, offerUtxoKey, 'offer'), walletSigns(acceptSide, acceptUtxoKey, 'accept'));
    const tx = finalizeFundingPsbt(combined, funding);
    expect(tx.getId()).toBe(funding.txidHex);
  });

  it('a funding PSBT received from elsewhere is checked against our own funding transaction', () => {
    const good = fundingPsbtOf(offerSide).toBase64();
    const { summary } = verifyFundingPsbt(acceptSide, good, 'accept');
    expect(summary.collateral).toBe(400_000n);
    expect(summary.extraOutputsTotal).toBe(50_000n);
    expect(summary.inputTotal - summary.collateral - summary.fees - summary.extraOutputsTotal).toBe(summary.change);
    // Someone redirects the upfront payment: another transaction.
    const evil = fundingPsbtOf(offerSide);
    const tampered = new Psbt();
    tampered.setVersion(evil.version);
    tampered.setLocktime(evil.locktime);
    evil.txInputs.forEach((i, k) => tampered.addInput({ hash: i.hash, index: i.index, sequence: i.sequence!, witnessUtxo: evil.data.inputs[k]!.witnessUtxo! }));
    evil.txOutputs.forEach((o) => tampered.addOutput({ script: o.script, value: o.value === 50_000n ? 60_000n : o.value }));
    expect(errorOf(() => verifyFundingPsbt(acceptSide, tampered.toBase64(), 'accept'))).toEqual({ code: 'INVALID_PARAMS', reason: 'psbt-mismatch' });
    expect(errorOf(() => verifyFundingPsbt(acceptSide, 'not a psbt', 'accept'))).toEqual({ code: 'DECODE_ERROR', reason: 'psbt-encoding' });
  });

  it('a cooperative close completes with both signatures and refuses a wrong one', () => {
    const payout = { offer: 300_000n, accept: 299_000n };
    const tx = completeClose(offerSide, payout, signClose(offerSide, payout, offerKey), signClose(acceptSide, payout, acceptKey));
    expect(tx.locktime).toBe(0);
    expect(tx.outs.map((o) => o.value).sort()).toEqual([299_000n, 300_000n]);
    expect(errorOf(() => completeClose(offerSide, payout, signClose(offerSide, payout, offerKey), signClose(acceptSide, payout, offerKey)))).toEqual({
      code: 'BAD_SIGNATURE',
      reason: 'close-signature:accept',
    });
  });
});

describe('the accepter trusts no one: offers that differ from the terms', () => {
  const other = testOracle('flow-other-oracle');
  const otherAnnouncement = other.announce(EVENT, 14);
  const forged = { ...announcement, announcementSignature: otherAnnouncement.announcementSignature };
  const offerWith = (over: Partial<OfferParams>): OfferDlc => buildOffer(offerParams(over));
  const saleWith = (over: Partial<HashpowerSaleTerms>) => hashpowerSale(saleTerms(over));

  const cases: [string, () => void, string, string][] = [
    ['more miner collateral than agreed',
      () => verifyOfferTerms(offerWith({ contract: saleWith({ minerCollateral: 150_000n }) }), expectedTerms()),
      'INVALID_PARAMS', 'terms-mismatch:offerCollateral'],
    ['a lower tolerance (different curve)',
      () => verifyOfferTerms(offerWith({ contract: saleWith({ toleranceBps: 9000 }) }), expectedTerms()),
      'INVALID_PARAMS', 'terms-mismatch:contractInfo.singleContractInfo.contractInfo.contractDescriptor.numericOutcomeContractDescriptor.payoutFunction.payoutFunctionPieces[1].endPoint.eventOutcome'],
    ['a coarser payout grid',
      () => verifyOfferTerms(offerWith({ contract: saleWith({ roundingMod: 100_000n }) }), expectedTerms()),
      'INVALID_PARAMS', 'terms-mismatch:contractInfo.singleContractInfo.contractInfo.contractDescriptor.numericOutcomeContractDescriptor.roundingIntervals.intervals[1].roundingMod'],
    ['an earlier refund',
      () => verifyOfferTerms(offerWith({ refundLocktime: 1101 }), expectedTerms()),
      'INVALID_PARAMS', 'terms-mismatch:refundLocktime'],
    ['a CET locktime before the window ends',
      () => verifyOfferTerms(offerWith({ cetLocktime: 1050 }), expectedTerms()),
      'INVALID_PARAMS', 'terms-mismatch:cetLocktime'],
    ['a refund before the attestation plus grace (bound)',
      () => verifyOfferTerms(offerWith({ refundLocktime: 1105 }), expectedTerms({ refundLocktime: undefined, refundLocktimeAtLeast: 1110 })),
      'INVALID_PARAMS', 'terms-mismatch:refundLocktime'],
    ['a CET locktime after the attestation (bound)',
      () => verifyOfferTerms(offerWith({ cetLocktime: 1115 }), expectedTerms({ cetLocktime: undefined, cetLocktimeAtMost: 1100 })),
      'INVALID_PARAMS', 'terms-mismatch:cetLocktime'],
    ['a fee rate above the ceiling',
      () => verifyOfferTerms(offerWith({ feeRatePerVb: 50n }), expectedTerms()),
      'INVALID_PARAMS', 'terms-mismatch:feeRatePerVb'],
    ['another chain',
      () => verifyOfferTerms(offer, expectedTerms({ chainHash: new Uint8Array(32) })),
      'INVALID_PARAMS', 'terms-mismatch:chainHash'],
    ['an oracle we do not trust',
      () => verifyOfferTerms(offerWith({ contract: saleWith({ oracleInfo: { single: { oracleAnnouncement: otherAnnouncement } } }) }), expectedTerms({ announcements: undefined })),
      'INVALID_PARAMS', 'terms-mismatch:oraclePublicKey'],
    ['another event',
      () => verifyOfferTerms(offer, expectedTerms({ eventId: 'delivery/other' })),
      'INVALID_PARAMS', 'terms-mismatch:eventId'],
    ['an announcement other than the oracle published',
      () => verifyOfferTerms(offer, expectedTerms({ announcements: [{ ...announcement, oracleEvent: { ...announcement.oracleEvent, eventMaturityEpoch: 1 } }] })),
      'INVALID_PARAMS', 'terms-mismatch:announcements[0].oracleEvent.eventMaturityEpoch'],
    ['a forged announcement signature',
      () => verifyOfferTerms(offerWith({ contract: saleWith({ oracleInfo: { single: { oracleAnnouncement: forged } } }) }), expectedTerms()),
      'BAD_SIGNATURE', 'announcement-signature'],
    ['payouts that differ from the terms\' key payouts',
      () => verifyOfferTerms(offer, expectedTerms({ keyPayouts: [{ label: 'full delivery', outcome: 10_000n, offerPayout: 599_000n, acceptPayout: 1_000n }] })),
      'INVALID_PARAMS', 'terms-mismatch:payout@10000'],
    ['a malformed offer (same change and fund output serial id)',
      () => verifyOfferTerms({ ...offer, changeSerialId: offer.fundOutputSerialId }, expectedTerms()),
      'INVALID_PARAMS', 'change-serial-id-equals-fund-output'],
  ];
  it.each(cases)('%s', (_name, fn, code, reason) => {
    expect(errorOf(fn)).toEqual({ code, reason });
  });
});

describe('bad signatures are refused, naming which', () => {
  const flip = (b: Uint8Array, i = 70): Uint8Array => {
    const c = Uint8Array.from(b);
    c[i] = c[i]! ^ 1;
    return c;
  };
  const withCetSig = (a: AcceptDlc, k: number): AcceptDlc => ({
    ...a,
    cetAdaptorSignatures: {
      ecdsaAdaptorSignatures: a.cetAdaptorSignatures.ecdsaAdaptorSignatures.map((s, i) => (i === k ? { signature: flip(s.signature) } : s)),
    },
  });
  const opts = { extraOutputs: sale.extraOutputs };

  it('a bad CET adaptor signature in accept_dlc (slot named)', () => {
    expect(errorOf(() => verifyAccept(offer, withCetSig(accept, 7), opts))).toEqual({ code: 'BAD_SIGNATURE', reason: 'cet-adaptor-signature:7' });
  });

  it('a bad refund signature in accept_dlc', () => {
    // A valid signature of another message: well-formed, does not verify.
    const other = signClose(acceptSide, { offer: 1000n, accept: 590_000n }, acceptKey);
    expect(errorOf(() => verifyAccept(offer, { ...accept, refundSignature: other }, opts))).toEqual({ code: 'BAD_SIGNATURE', reason: 'refund-signature' });
  });

  it('an accept signed without the agreed upfront output (another funding transaction)', () => {
    expect(errorOf(() => verifyAccept(offer, accept, {}))).toEqual({ code: 'BAD_SIGNATURE', reason: 'refund-signature' });
  });

  it('buildSign verifies the accept before signing anything', () => {
    let called = false;
    const r = errorOf(() => buildSign(offer, withCetSig(accept, 0), { fundingSecretKey: offerKey, fundingSignatures: () => { called = true; return { fundingSignatures: [] }; }, ...opts }));
    expect(r).toEqual({ code: 'BAD_SIGNATURE', reason: 'cet-adaptor-signature:0' });
    expect(called).toBe(false);
  });

  it('sign_dlc with a bad CET signature, refund signature, funding witness or contract id', () => {
    const badCet = { ...sign, cetAdaptorSignatures: withCetSig({ ...accept, cetAdaptorSignatures: sign.cetAdaptorSignatures }, 3).cetAdaptorSignatures };
    expect(errorOf(() => verifySign(offer, accept, badCet, opts))).toEqual({ code: 'BAD_SIGNATURE', reason: 'cet-adaptor-signature:3' });
    expect(errorOf(() => verifySign(offer, accept, { ...sign, refundSignature: accept.refundSignature }, opts))).toEqual({ code: 'BAD_SIGNATURE', reason: 'refund-signature' });
    const w = sign.fundingSignatures.fundingSignatures[0]!.witnessElements;
    const badWitness = { ...sign, fundingSignatures: { fundingSignatures: [{ witnessElements: [{ witness: flip(w[0]!.witness, 20) }, w[1]!] }] } };
    expect(errorOf(() => verifySign(offer, accept, badWitness, opts))).toMatchObject({ code: 'BAD_SIGNATURE', reason: 'funding-witness' });
    expect(errorOf(() => verifySign(offer, accept, { ...sign, contractId: new Uint8Array(32) }, opts))).toEqual({ code: 'INVALID_PARAMS', reason: 'contract-id-mismatch' });
  });
});

describe('async builders on the worker pool', () => {
  let engine: AdaptorEngine | undefined;
  afterAll(async () => engine?.close());

  it('accept and sign built on src/engine equal the single-threaded ones, and a bad slot is named', async () => {
    engine = await AdaptorEngine.start({ threads: 2, minPooled: 16 });
    const e = engine;
    const poolSigner = (s: ContractSetup, k: Uint8Array) => signContractCets(e, s, k);
    const poolVerifier = (s: ContractSetup, p: 'offer' | 'accept', sigs: AcceptDlc['cetAdaptorSignatures']) => verifyContractCets(e, s, p, sigs);
    const built = await buildAcceptAsync(offer, acceptParams, poolSigner);
    // Adaptor signatures are deterministic (RFC6979-style nonces), so both paths agree byte for byte.
    expect(built.accept.cetAdaptorSignatures).toEqual(accept.cetAdaptorSignatures);
    const signed = await buildSignAsync(offer, built.accept, { fundingSecretKey: offerKey, fundingSignatures: offerFundingSigs, extraOutputs: sale.extraOutputs }, { signer: poolSigner, verifier: poolVerifier });
    expect(signed.sign.cetAdaptorSignatures).toEqual(sign.cetAdaptorSignatures);
    const sigs = built.accept.cetAdaptorSignatures.ecdsaAdaptorSignatures.slice();
    sigs[sigs.length - 1] = sign.cetAdaptorSignatures.ecdsaAdaptorSignatures[0]!;
    const r = await errorOfAsync(() =>
      buildSignAsync(offer, { ...built.accept, cetAdaptorSignatures: { ecdsaAdaptorSignatures: sigs } }, { fundingSecretKey: offerKey, fundingSignatures: offerFundingSigs, extraOutputs: sale.extraOutputs }, { verifier: poolVerifier }));
    expect(r).toEqual({ code: 'BAD_SIGNATURE', reason: `cet-adaptor-signature:${sigs.length - 1}` });
  });
});
