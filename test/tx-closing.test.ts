// CETs, refund and close transactions: refund signatures of the 14 dlcspecs
// test_vectors verify against the refund tx we build; CET adaptor signatures of
// the enum vectors and single_oracle_numerical satisfy the ECDSA-adaptor signing
// equation over our CET sighashes; the fast sighash equals bitcoinjs-lib's.
import { Transaction } from 'bitcoinjs-lib';
import { pointAdd, pointFromScalar, pointMultiply, sign as ecdsaSign, verify as ecdsaVerify } from 'tiny-secp256k1';
import { describe, expect, it } from 'vitest';
import { isDlcError } from '../protocol/errors.js';
import { buildFundingTransaction } from '../protocol/tx/funding.js';
import type { FundingTransaction } from '../protocol/tx/funding.js';
import {
  applyFundingSpendWitness,
  buildCet,
  buildCets,
  buildCloseTransaction,
  buildRefundTransaction,
  cetSighashes,
  CLOSING_TX_SEQUENCE,
  closingContext,
  fundingSpendSighash,
  fundingSpendWitness,
  refundSighash,
  verifyFundingSpendSignature,
} from '../protocol/tx/closing.js';
import type { ClosingContext, Payout } from '../protocol/tx/closing.js';
import { segwitV0Sighash } from '../protocol/tx/sighash.js';
import { hash160, p2wpkhScriptCode } from '../protocol/tx/scripts.js';
import { loadTxVectors } from './tx-vector-fixtures.js';
import type { TxVector } from './tx-vector-fixtures.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const vectors = loadTxVectors();
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const toScalar = (x: bigint): Uint8Array => Uint8Array.from(Buffer.from(x.toString(16).padStart(64, '0'), 'hex'));
const toBig = (b: Uint8Array): bigint => BigInt(`0x${hex(b)}`);

function setup(v: TxVector): { funding: FundingTransaction; ctx: ClosingContext } {
  const funding = buildFundingTransaction(v.offer, v.accept);
  return { funding, ctx: closingContext(v.offer, v.accept, funding) };
}

/**
 * The ECDSA adaptor signing equation (dlcspecs ECDSA-adaptor.md): an adaptor
 * signature `R | R_a | s_a | proof` by key X over message m has
 * `s_a * R_a = m*G + x(R)*X`. It binds the signature to the sighash without needing
 * the adaptor point (the DLEQ proof, which ties R to the adaptor point, is
 * protocol/crypto's business).
 */
function adaptorSignsMessage(sig: Uint8Array, m: Uint8Array, X: Uint8Array): boolean {
  const R = sig.subarray(0, 33);
  const Ra = sig.subarray(33, 66);
  const sa = sig.subarray(66, 98);
  const r = toBig(R.subarray(1)) % N;
  const lhs = pointMultiply(Ra, sa, true);
  const rhs = pointAdd(pointFromScalar(toScalar(toBig(m) % N), true)!, pointMultiply(X, toScalar(r), true)!, true);
  return lhs !== null && rhs !== null && hex(lhs) === hex(rhs);
}

describe('refund transaction against the 14 dlcspecs test_vectors', () => {
  it.each(vectors.map((v) => [v.name, v] as const))('%s: both refund signatures verify', (_n, v) => {
    const { ctx } = setup(v);
    const h = refundSighash(ctx);
    expect(verifyFundingSpendSignature(ctx, 'accept', h, v.accept.refundSignature)).toBe(true);
    expect(verifyFundingSpendSignature(ctx, 'offer', h, v.sign.refundSignature)).toBe(true);
    // And not for the other party's key.
    expect(verifyFundingSpendSignature(ctx, 'offer', h, v.accept.refundSignature)).toBe(false);
    const tx = buildRefundTransaction(ctx);
    expect(tx.locktime).toBe(v.offer.refundLocktime);
    expect(tx.ins[0]!.sequence).toBe(0xfffffffe);
    expect(tx.outs.map((o) => o.value)).toEqual([v.offer.offerCollateral, v.accept.acceptCollateral]);
  });

  it('the vectors sign the refund offer-first, not sorted by payout serial id (departure from the text)', () => {
    const reversed = vectors.filter((v) => v.offer.payoutSerialId > v.accept.payoutSerialId);
    expect(reversed.length).toBe(6);
    for (const v of reversed) {
      const { ctx } = setup(v);
      const spec = refundSighash(ctx, { outputOrder: 'payout-serial-id' });
      expect(verifyFundingSpendSignature(ctx, 'accept', spec, v.accept.refundSignature)).toBe(false);
      expect(hex(buildRefundTransaction(ctx, { outputOrder: 'payout-serial-id' }).outs[0]!.script)).toBe(hex(v.accept.payoutSpk));
    }
  });
});

describe('CETs against adaptor signatures in the vectors', () => {
  // Enumerated single contracts: one CET per outcome; the offerer gets `localPayout`.
  const enumVectors = vectors.filter((v) => v.enumPayouts.length === 1 && v.enumPayouts[0] !== null);

  it('covers the three enum files', () => {
    expect(enumVectors.map((v) => v.name)).toEqual(['enum_3_of_3_test.json', 'enum_3_of_5_test.json', 'enum_single_oracle_test.json']);
  });

  it.each(enumVectors.map((v) => [v.name, v] as const))('%s: every adaptor signature signs its outcome CET', (_n, v) => {
    const { ctx } = setup(v);
    const total = v.offer.offerCollateral + v.accept.acceptCollateral;
    const payouts = v.enumPayouts[0]!.map((local): Payout => ({ offer: local, accept: total - local }));
    const sighashes = cetSighashes(ctx, payouts);
    for (const [sigs, key] of [
      [v.accept.cetAdaptorSignatures, ctx.acceptFundingPubkey],
      [v.sign.cetAdaptorSignatures, ctx.offerFundingPubkey],
    ] as const) {
      const list = sigs.ecdsaAdaptorSignatures;
      const perOutcome = list.length / payouts.length; // one per oracle combination
      expect(Number.isInteger(perOutcome)).toBe(true);
      list.forEach((s, i) => {
        expect(adaptorSignsMessage(s.signature, sighashes[Math.floor(i / perOutcome)]!, key)).toBe(true);
      });
    }
  });

  it('single_oracle_numerical_test.json: all 14 CETs, outputs ordered by payout serial id', () => {
    const v = vectors.find((x) => x.name === 'single_oracle_numerical_test.json')!;
    const { funding, ctx } = setup(v);
    // Its payout curve: a quadratic through (0, 0), (3, 1e8), (5, 2e8), then flat at
    // 2e8 up to 1023; rounding modulus 1. Outcomes 0..4 each get a CET, [5, 1023] is
    // covered by 9 digit prefixes. Lagrange: p(x) = (-1e8*x*(x-5) + 1.2e8*x*(x-3)) / 6,
    // rounded to the nearest sat.
    const round6 = (num: bigint): bigint => (num + 3n) / 6n;
    const offerPayouts = [0n, 1n, 2n, 3n, 4n].map((x) => round6(-100_000_000n * x * (x - 5n) + 120_000_000n * x * (x - 3n)));
    expect(offerPayouts).toEqual([0n, 26_666_667n, 60_000_000n, 100_000_000n, 146_666_667n]);
    const total = 200_000_000n;
    const payouts = [...offerPayouts, ...new Array<bigint>(9).fill(total)].map((o) => ({ offer: o, accept: total - o }));
    const sighashes = cetSighashes(ctx, payouts);
    const acceptSigs = v.accept.cetAdaptorSignatures.ecdsaAdaptorSignatures;
    const offerSigs = v.sign.cetAdaptorSignatures.ecdsaAdaptorSignatures;
    expect(acceptSigs).toHaveLength(14);
    acceptSigs.forEach((s, i) => expect(adaptorSignsMessage(s.signature, sighashes[i]!, ctx.acceptFundingPubkey)).toBe(true));
    offerSigs.forEach((s, i) => expect(adaptorSignsMessage(s.signature, sighashes[i]!, ctx.offerFundingPubkey)).toBe(true));
    // This file has offer payout_serial_id > accept's: the two-output CETs put the
    // accepter first, and swapping the order breaks them.
    expect(v.offer.payoutSerialId > v.accept.payoutSerialId).toBe(true);
    const cet = buildCet(ctx, payouts[2]!);
    expect(hex(cet.outs[0]!.script)).toBe(hex(v.accept.payoutSpk));
    const swapped = closingContext(
      { ...v.offer, payoutSerialId: v.accept.payoutSerialId },
      { ...v.accept, payoutSerialId: v.offer.payoutSerialId },
      funding,
    );
    const swappedHashes = cetSighashes(swapped, payouts.slice(1, 5));
    swappedHashes.forEach((h, k) => expect(adaptorSignsMessage(acceptSigs[k + 1]!.signature, h, ctx.acceptFundingPubkey)).toBe(false));
  });
});

describe('CET construction', () => {
  const v = vectors.find((x) => x.name === 'enum_single_oracle_test.json')!;
  const { ctx } = setup(v);

  it('builds version 2, one input with sequence 0xFFFFFFFE, locktime cet_locktime, no fee deducted', () => {
    const tx = buildCet(ctx, { offer: 150_000_000n, accept: 50_000_000n });
    expect(tx.version).toBe(2);
    expect(tx.locktime).toBe(v.offer.cetLocktime);
    expect(tx.ins).toHaveLength(1);
    expect(tx.ins[0]!.sequence).toBe(CLOSING_TX_SEQUENCE);
    expect(tx.ins[0]!.script).toHaveLength(0);
    expect(tx.ins[0]!.index).toBe(ctx.fundOutputIndex);
    expect(tx.outs.map((o) => o.value)).toEqual([150_000_000n, 50_000_000n]); // offer serial < accept serial here
    expect(ctx.fundOutputValue - 200_000_000n).toBeGreaterThan(0n); // the fee is what is left
  });

  it.each([
    ['accepter dust', { offer: 199_999_001n, accept: 999n }, [199_999_001n]],
    ['accepter exactly at the dust limit', { offer: 199_999_000n, accept: 1000n }, [199_999_000n, 1000n]],
    ['offerer zero', { offer: 0n, accept: 200_000_000n }, [200_000_000n]],
  ] as const)('omits outputs below 1000 sat: %s', (_n, payout, values) => {
    expect(buildCet(ctx, payout).outs.map((o) => o.value)).toEqual(values);
  });

  it('takes a lockTime override (disjoint vectors use 0 for later contracts)', () => {
    expect(buildCet(ctx, { offer: 1n << 20n, accept: 1n << 20n }, { lockTime: 0 }).locktime).toBe(0);
  });

  it('fast CET sighashes equal bitcoinjs-lib hashForWitnessV0 on the built CETs', () => {
    const payouts: Payout[] = [
      { offer: 0n, accept: 200_000_000n },
      { offer: 123_456_789n, accept: 76_543_211n },
      { offer: 200_000_000n, accept: 0n },
      { offer: 500n, accept: 100_000n },
    ];
    for (const lockTime of [undefined, 0, 1_700_000_000]) {
      const opts = lockTime === undefined ? {} : { lockTime };
      const fast = cetSighashes(ctx, payouts, opts);
      buildCets(ctx, payouts, opts).forEach((tx, i) => {
        expect(hex(fast[i]!)).toBe(hex(tx.hashForWitnessV0(0, ctx.fundingScript, ctx.fundOutputValue, Transaction.SIGHASH_ALL)));
        expect(hex(fundingSpendSighash(ctx, tx))).toBe(hex(fast[i]!));
      });
    }
  });

  it('10,000 CET sighashes quickly', () => {
    const payouts = Array.from({ length: 10_000 }, (_, i) => ({ offer: BigInt(i) * 20_000n, accept: 200_000_000n - BigInt(i) * 20_000n }));
    const t0 = performance.now();
    const hashes = cetSighashes(ctx, payouts);
    const ms = performance.now() - t0;
    expect(hashes).toHaveLength(10_000);
    expect(new Set(hashes.map(hex)).size).toBe(10_000);
    expect(hex(hashes[7777]!)).toBe(hex(fundingSpendSighash(ctx, buildCet(ctx, payouts[7777]!))));
    // Generous bound for a shared 2-core machine; typically well under 500 ms.
    expect(ms).toBeLessThan(5_000);
  });

  it.each([
    ['payouts above the total collateral', () => buildCet(ctx, { offer: 200_000_000n, accept: 1n }), 'INVALID_PARAMS', 'payout-exceeds-collateral'],
    ['negative payout', () => buildCet(ctx, { offer: -1n, accept: 1n }), 'INVALID_PARAMS', 'payout-range'],
    ['both payouts dust', () => buildCet(ctx, { offer: 999n, accept: 999n }), 'INVALID_TRANSACTION', 'no-outputs'],
    ['lockTime not a u32', () => buildCet(ctx, { offer: 1n, accept: 5000n }, { lockTime: 2 ** 32 }), 'INVALID_PARAMS', 'u32-range'],
    ['equal payout serial ids', () => closingContext({ ...v.offer, payoutSerialId: v.accept.payoutSerialId }, v.accept, setup(v).funding), 'INVALID_PARAMS', 'duplicate-serial-id'],
    ['cet_locktime not below refund_locktime', () => closingContext({ ...v.offer, cetLocktime: v.offer.refundLocktime }, v.accept, setup(v).funding), 'INVALID_PARAMS', 'locktime-order'],
    ['height and time locktimes mixed', () => closingContext({ ...v.offer, cetLocktime: 800_000 }, v.accept, setup(v).funding), 'INVALID_PARAMS', 'locktime-kind'],
    ['non-standard payout spk', () => closingContext({ ...v.offer, payoutSpk: new Uint8Array([0x6a]) }, v.accept, setup(v).funding), 'INVALID_PARAMS', 'non-standard-spk'],
    ['sighash of a tx not spending the funding output', () => fundingSpendSighash(ctx, setup(v).funding.tx), 'INVALID_PARAMS', 'not-funding-input'],
    ['signature not 64 bytes', () => fundingSpendWitness(ctx, new Uint8Array(63), new Uint8Array(64)), 'INVALID_LENGTH', 'signature-length'],
  ] as const)('rejects %s', (_n, fn, code, reason) => {
    let caught: unknown;
    try {
      fn();
    } catch (err) {
      caught = err;
    }
    expect(isDlcError(caught)).toBe(true);
    expect(caught).toMatchObject({ code, reason });
  });
});

describe('witness assembly with real keys', () => {
  // Two deterministic test keys; the funding tx of a vector, re-keyed.
  const skA = toScalar(0x1111n);
  const skB = toScalar(0x2222n);
  const pkA = pointFromScalar(skA, true)!;
  const pkB = pointFromScalar(skB, true)!;
  const v = vectors[0]!;

  it.each([
    ['offer key lesser', pkA, pkB, skA, skB],
    ['offer key greater', pkB, pkA, skB, skA],
  ] as const)('refund witness is [empty, sig(pubkey1), sig(pubkey2), script]: %s', (_n, offerPk, acceptPk, offerSk, acceptSk) => {
    const offer = { ...v.offer, fundingPubkey: offerPk };
    const accept = { ...v.accept, fundingPubkey: acceptPk };
    const funding = buildFundingTransaction(offer, accept);
    const ctx = closingContext(offer, accept, funding);
    const tx = buildRefundTransaction(ctx);
    const h = refundSighash(ctx);
    const offerSig = ecdsaSign(h, offerSk);
    const acceptSig = ecdsaSign(h, acceptSk);
    expect(verifyFundingSpendSignature(ctx, 'offer', h, offerSig)).toBe(true);
    applyFundingSpendWitness(ctx, tx, offerSig, acceptSig);
    const w = tx.ins[0]!.witness;
    expect(w).toHaveLength(4);
    expect(w[0]).toHaveLength(0);
    expect(hex(w[3]!)).toBe(hex(funding.fundingScript));
    // Script order: the lesser pubkey is at bytes 2..35 of `2 <pk1> <pk2> 2 CHECKMULTISIG`.
    const pk1 = w[3]!.subarray(2, 35);
    const pk2 = w[3]!.subarray(36, 69);
    expect(hex(pk1) < hex(pk2)).toBe(true);
    for (const [der, pk] of [[w[1]!, pk1], [w[2]!, pk2]] as const) {
      expect(der[der.length - 1]).toBe(0x01); // SIGHASH_ALL
      const decoded = Uint8Array.from(Buffer.from(der.subarray(0, -1)));
      expect(ecdsaVerify(h, pk, derToCompactLocal(decoded))).toBe(true);
    }
  });
});

function derToCompactLocal(der: Uint8Array): Uint8Array {
  const rLen = der[3]!;
  const r = der.subarray(4, 4 + rLen);
  const s = der.subarray(6 + rLen);
  const out = new Uint8Array(64);
  const strip = (x: Uint8Array): Uint8Array => (x.length > 32 ? x.subarray(x.length - 32) : x);
  out.set(strip(r), 32 - strip(r).length);
  out.set(strip(s), 64 - strip(s).length);
  return out;
}

describe('close transaction and the generic sighash', () => {
  const v = vectors.find((x) => x.name === 'enum_single_oracle_test.json')!;
  const { funding, ctx } = setup(v);

  it('has locktime 0 and spends the funding output at the agreed split', () => {
    const { tx, fundingInputIndex } = buildCloseTransaction(ctx, { offer: 120_000_000n, accept: 80_000_000n });
    expect(tx.locktime).toBe(0);
    expect(fundingInputIndex).toBe(0);
    expect(tx.outs.map((o) => o.value)).toEqual([120_000_000n, 80_000_000n]);
    // The split may use the whole funding output (its closing-fee reserve included)…
    expect(() => buildCloseTransaction(ctx, { offer: ctx.fundOutputValue - 1000n, accept: 1000n })).not.toThrow();
    // …but no more.
    expect(() => buildCloseTransaction(ctx, { offer: ctx.fundOutputValue, accept: 1000n })).toThrow(
      expect.objectContaining({ reason: 'payout-exceeds-collateral' }),
    );
  });

  it('sorts extra inputs with the funding input by serial id', () => {
    const extra = { serialId: 5n, prevTxid: new Uint8Array(32).fill(7), prevVout: 3, sequence: 0xffffffff, value: 50_000n };
    const { tx, fundingInputIndex } = buildCloseTransaction(ctx, { offer: 100_000_000n, accept: 100_040_000n }, {
      fundInputSerialId: 9n,
      extraInputs: [extra],
    });
    expect(fundingInputIndex).toBe(1);
    expect(tx.ins[0]!.index).toBe(3);
    const h = fundingSpendSighash(ctx, tx, fundingInputIndex);
    expect(hex(h)).toBe(hex(tx.hashForWitnessV0(1, ctx.fundingScript, ctx.fundOutputValue, Transaction.SIGHASH_ALL)));
  });

  it('segwitV0Sighash equals bitcoinjs-lib on a multi-input funding tx (P2WPKH scriptCode)', () => {
    funding.inputs.forEach((input, i) => {
      const code = p2wpkhScriptCode(input.prevOutput.script.subarray(2));
      expect(hex(segwitV0Sighash(funding.tx, i, code, input.prevOutput.value))).toBe(
        hex(funding.tx.hashForWitnessV0(i, code, input.prevOutput.value, Transaction.SIGHASH_ALL)),
      );
    });
    expect(hash160(new Uint8Array(0))).toHaveLength(20);
  });
});
