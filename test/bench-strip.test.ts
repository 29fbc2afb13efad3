/**
 * The strip benchmark's builder (bench/strip.ts) stays a valid strip: a
 * 3-period sale (coarse payout grid, so few CETs) negotiated through the
 * same code the bench times, on src/engine in-thread. One funding
 * transaction with a funding output per period, the upfront once, every
 * adaptor signature made and verified by both parties, and the fee the
 * figures report is what the signed transaction pays. Speed is not asserted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Transaction } from 'bitcoinjs-lib';
import { STRIP_BENCH_FEE_RATE, stripParties, stripTwoPartySetup, type StripCetWork } from '../bench/strip.js';
import { isDlcError } from '../protocol/errors.js';
import { toHex } from '../protocol/messages/index.js';
import { AdaptorEngine } from '../src/engine/index.js';
import { signContractCets, verifyContractCets } from '../src/engine/contract.js';

let engine: AdaptorEngine;
let work: StripCetWork;

beforeAll(async () => {
  engine = await AdaptorEngine.start({ threads: 0 });
  work = {
    signer: (setup, key) => signContractCets(engine, setup, key),
    verifier: (setup, party, sigs) => verifyContractCets(engine, setup, party, sigs),
  };
});
afterAll(async () => {
  await engine.close();
});

const params = { periods: 3, periodBlocks: 10, label: 'bench-strip-test', roundingMod: 100_000n };

describe('bench strip builder', () => {
  it('makes 3 period contracts funded by one transaction, every signature made and verified', async () => {
    const parties = stripParties(params);
    expect(parties.offers).toHaveLength(3);
    expect(parties.periodTerms.map((t) => (t as { window: unknown }).window)).toEqual([
      { start: 10_000, end: 10_010 }, { start: 10_010, end: 10_020 }, { start: 10_020, end: 10_030 },
    ]);
    // One oracle event per period.
    const events = parties.offers.map((o) => ('singleContractInfo' in o.contractInfo && 'single' in o.contractInfo.singleContractInfo.contractInfo.oracleInfo)
      ? o.contractInfo.singleContractInfo.contractInfo.oracleInfo.single.oracleAnnouncement.oracleEvent.eventId : undefined);
    expect(new Set(events).size).toBe(3);

    const r = await stripTwoPartySetup(parties, work);
    expect(r.setups).toHaveLength(3);
    expect(new Set(r.setups.map((s) => s.funding.txidHex)).size).toBe(1);
    expect(new Set(r.setups.map((s) => toHex(s.contractId))).size).toBe(3);
    expect(r.setups[0]!.funding.batchOutputs.map((o) => o.index)).toEqual(r.setups.map((s) => s.funding.fundOutputIndex));
    // 3 funding outputs, the upfront once, both changes.
    expect(r.fundingTx.outs).toHaveLength(3 + 1 + 2);
    expect(r.fundingTx.getId()).toBe(r.setups[0]!.funding.txidHex);
    const slots = r.adaptorSigsPerPeriod.reduce((a, b) => a + b, 0);
    expect(r.cetsPerPeriod.every((c) => c > 1)).toBe(true);
    expect(r.signed).toBe(2 * slots);
    expect(r.verified).toBe(2 * slots);
    expect(r.signs.map((s) => toHex(s.contractId))).toEqual(r.setups.map((s) => toHex(s.contractId)));

    // Real witnesses on every input; the reported fee is what the transaction pays, at least the bench rate.
    const parsed = Transaction.fromBuffer(r.fundingTx.toBuffer());
    expect(parsed.ins.every((i) => i.witness.length === 2)).toBe(true);
    expect(r.fundingVsize).toBe(parsed.virtualSize());
    expect(r.fundingFeeSats).toBeGreaterThanOrEqual(STRIP_BENCH_FEE_RATE * BigInt(r.fundingVsize));
    expect(r.closingFeesSats).toBe(3n * (r.setups[0]!.funding.offer.closingFee + r.setups[0]!.funding.accept.closingFee));
  });

  it('makes the single contract through the same code: one offer, no batch', async () => {
    const r = await stripTwoPartySetup(stripParties({ ...params, periods: 1, windowBlocks: 30 }), work);
    expect(r.setups).toHaveLength(1);
    expect(r.setups[0]!.funding.batchOutputs).toHaveLength(1);
    expect(r.fundingTx.outs).toHaveLength(1 + 1 + 2);
  });

  it('an accepter adaptor signature that does not verify stops the offerer, naming the slot', async () => {
    const parties = stripParties(params);
    const forging: StripCetWork = {
      verifier: work.verifier,
      signer: async (setup, key) => {
        const sigs = await work.signer(setup, key);
        if (toHex(key) !== toHex(parties.acceptKey) || setup.offer.fundOutputSerialId !== 102n) return sigs;
        const bad = sigs.ecdsaAdaptorSignatures.map((s, i) => (i === 0 ? { ...s, signature: Uint8Array.from(s.signature, (b, j) => (j === 40 ? b ^ 1 : b)) } : s));
        return { ecdsaAdaptorSignatures: bad };
      },
    };
    let code: string | undefined;
    let reason: string | undefined;
    try {
      await stripTwoPartySetup(parties, forging);
    } catch (e) {
      if (!isDlcError(e)) throw e;
      code = e.code;
      reason = e.reason;
    }
    expect(code).toBe('BAD_SIGNATURE');
    expect(reason).toMatch(/^cet-adaptor-signature/);
  });
});
