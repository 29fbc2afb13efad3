/**
 * The transfer benchmark's flow (bench/transfer.ts) stays a valid transfer:
 * a tiny contract (21 CETs) and the sale on a coarse payout grid, set up and
 * transferred through the same code the bench times, on src/engine in-thread.
 * The transfer transaction it builds is checked here independently of the
 * protocol code that built it: every input's witness verifies against the
 * BIP 143 sighash bitcoinjs-lib computes (the old 2-of-2 funding output signed
 * by M and B1 in CHECKMULTISIG order, B2's P2WPKH input by B2), it spends the
 * old funding output, recreates it at the same value and pays B1 the price.
 * A B2 adaptor signature that does not verify stops M, naming the slot.
 * Speed is not asserted.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as ecc from 'tiny-secp256k1';
import { payments, script as bscript, Transaction } from 'bitcoinjs-lib';
import { runTransferBench, setupAndTransfer, transferBenchCets, transferBenchSale, TRANSFER_BENCH_FEE_RATE, type TransferBenchResult, type TransferCetWork } from '../bench/transfer.js';
import { isDlcError } from '../protocol/errors.js';
import { toHex } from '../protocol/messages/index.js';
import { AdaptorEngine } from '../src/engine/index.js';
import { signContractCets, verifyContractCets } from '../src/engine/contract.js';
import { testSecret } from './helpers/dlc-fixture.js';
import { bscriptSignatureDecode } from './helpers/script-sig.js';

let engine: AdaptorEngine;
let work: TransferCetWork;

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

/** Every input's witness checked against bitcoinjs-lib's BIP 143 sighash (not the protocol code's). */
function expectValidWitnesses(r: TransferBenchResult): void {
  const tx = Transaction.fromBuffer(r.transfer.tx.toBuffer());
  const t = r.transfer.built;
  expect(tx.ins).toHaveLength(t.inputs.length + 1);
  tx.ins.forEach((input, i) => {
    if (i === t.spentFundingInputIndex) {
      const [empty, sigA, sigB, witnessScript] = input.witness;
      expect(empty).toHaveLength(0);
      // 2 <pk1> <pk2> 2 OP_CHECKMULTISIG: the signatures in key order.
      const chunks = bscript.decompile(witnessScript!)!;
      const keys = [chunks[1], chunks[2]] as Uint8Array[];
      const sighash = tx.hashForWitnessV0(i, witnessScript!, r.transfer.terms.from.value, Transaction.SIGHASH_ALL);
      expect(ecc.verify(sighash, keys[0]!, bscriptSignatureDecode(sigA!))).toBe(true);
      expect(ecc.verify(sighash, keys[1]!, bscriptSignatureDecode(sigB!))).toBe(true);
      expect(toHex(witnessScript!)).toBe(toHex(r.original.setup.closing.fundingScript));
      return;
    }
    const [sig, pubkey] = input.witness;
    const prev = t.inputs.find((p) => toHex(p.prevTxid) === toHex(input.hash) && p.prevVout === input.index)!;
    const scriptCode = payments.p2pkh({ pubkey: pubkey! }).output!;
    const sighash = tx.hashForWitnessV0(i, scriptCode, prev.prevOutput.value, Transaction.SIGHASH_ALL);
    expect(ecc.verify(sighash, pubkey!, bscriptSignatureDecode(sig!))).toBe(true);
  });
}

function expectShape(r: TransferBenchResult): void {
  const o = r.original;
  const t = r.transfer;
  // The transfer spends the old funding output, recreates it at its value, pays the price.
  const spent = t.tx.ins[t.built.spentFundingInputIndex]!;
  expect(toHex(Uint8Array.from(spent.hash).reverse())).toBe(o.setup.funding.txidHex);
  expect(spent.index).toBe(o.setup.funding.fundOutputIndex);
  expect(t.tx.outs[t.built.fundOutputIndex]!.value).toBe(o.setup.funding.fundOutputValue);
  expect(t.tx.outs[t.built.priceOutputIndex]!.value).toBe(t.terms.price);
  expect(t.tx.getId()).toBe(t.setup.funding.txidHex);
  // Same CETs, a new contract.
  expect(t.setup.plan.cets.map((c) => [c.offerPayout, c.acceptPayout])).toEqual(o.setup.plan.cets.map((c) => [c.offerPayout, c.acceptPayout]));
  expect(toHex(t.setup.contractId)).not.toBe(toHex(o.setup.contractId));
  expect(t.accept.cetAdaptorSignatures.ecdsaAdaptorSignatures).toHaveLength(r.adaptorSigs);
  expect(t.sign.cetAdaptorSignatures.ecdsaAdaptorSignatures).toHaveLength(r.adaptorSigs);
  // Sizes and fees as reported are the transactions'.
  expect(o.fundingVsize).toBe(o.fundingTx.virtualSize());
  expect(t.vsize).toBe(t.tx.virtualSize());
  expect(t.feeSats).toBe(t.built.fee);
  expect(t.feeSats).toBeGreaterThanOrEqual(TRANSFER_BENCH_FEE_RATE * BigInt(t.vsize));
  expect(o.fundingFeeSats).toBeGreaterThanOrEqual(TRANSFER_BENCH_FEE_RATE * BigInt(o.fundingVsize));
  // Every step was measured (the figures themselves are not asserted).
  for (const c of [o.cost, t.cost, ...Object.values(t.steps)]) {
    expect(Number.isFinite(c.wallMs) && c.wallMs >= 0 && Number.isFinite(c.cpuMs) && c.cpuMs >= 0).toBe(true);
  }
  expect(Object.keys(t.steps)).toEqual(['takerSigns', 'stayerVerifiesSigns', 'takerVerifies', 'transferTx']);
}

describe('bench transfer flow', () => {
  it('a 21-CET contract: set up, transferred, the transfer transaction valid', async () => {
    const r = await setupAndTransfer(transferBenchCets(20), work);
    expect(r.cets).toBe(21);
    expectShape(r);
    expectValidWitnesses(r);
  });

  it('the sale (coarse grid): the upfront stays in the original funding, the transfer does not pay it again', async () => {
    const c = transferBenchSale({ roundingMod: 100_000n });
    const r = await setupAndTransfer(c, work);
    expectShape(r);
    expectValidWitnesses(r);
    const upfront = c.extraOutputs[0]!;
    expect(r.original.fundingTx.outs.some((o) => toHex(o.script) === toHex(upfront.script) && o.value === upfront.value)).toBe(true);
    expect(r.transfer.tx.outs.some((o) => toHex(o.script) === toHex(upfront.script))).toBe(false);
  });

  it('a B2 adaptor signature that does not verify stops M before it signs, naming the slot', async () => {
    const forging: TransferCetWork = {
      verifier: work.verifier,
      signer: async (setup, key) => {
        const sigs = await work.signer(setup, key);
        // Only B2's (its funding key is the bench's `<label>:b2-funding`).
        if (toHex(key) !== toHex(testSecret('bench-transfer-20:b2-funding'))) return sigs;
        return { ecdsaAdaptorSignatures: sigs.ecdsaAdaptorSignatures.map((s, i) => (i === 1 ? { ...s, signature: Uint8Array.from(s.signature, (b, j) => (j === 40 ? b ^ 1 : b)) } : s)) };
      },
    };
    let err: unknown;
    try {
      await setupAndTransfer(transferBenchCets(20), forging);
    } catch (e) {
      err = e;
    }
    expect(isDlcError(err) && err.code).toBe('BAD_SIGNATURE');
    expect((err as { reason?: string }).reason).toBe('cet-adaptor-signature:1');
  });

  it('the section runs and reports per contract: the original, the transfer and their ratio', async () => {
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void printed.push(String(line)));
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let out: Record<string, unknown>;
    try {
      out = await runTransferBench({ cets: [20], backends: undefined, threads: 0, oracleSets: [{ threshold: 1, n: 1 }], stripPeriods: 1, stripPeriodBlocks: 1 }, [transferBenchCets(20)]);
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
    // The table: the original, the transfer and their ratio, each naming the contract.
    const table = printed.join('\n');
    expect(table).toMatch(/^20-CET contract +original set-up +21 +37 /m);
    expect(table).toMatch(/^20-CET contract +transfer +21 +37 .* 279 +560$/m);
    expect(table).toMatch(/^20-CET contract +transfer \/ original /m);
    expect(Object.keys(out).sort()).toEqual([
      'transferCets_20', 'transferCpuMs_20', 'transferMs_20', 'transferOriginalFundingVsize_20', 'transferOriginalSetupCpuMs_20',
      'transferOriginalSetupMs_20', 'transferTxFeeSats_20', 'transferTxVsize_20', 'transferVsOriginal_20',
    ]);
    expect(out.transferCets_20).toBe(21);
    expect(Object.keys(out.transferVsOriginal_20 as object)).toEqual(['wall', 'cpu', 'vsize']);
  });
});
