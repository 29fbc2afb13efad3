/**
 * Contract benchmark section: the real two-party set-up of a numeric DLC, end
 * to end through protocol/: decode nothing, but build the funding transaction,
 * the CET plan, every CET sighash and adaptor point (`setupContract`), then
 * each party signs all CETs and verifies the other's on the worker pool.
 * Unlike the crypto section, nothing here is synthetic: these are the CETs a
 * contract with that many payout steps has.
 */
import { performance } from 'node:perf_hooks';
import { setupContract } from '../protocol/contract/index.js';
import { backendName } from '../protocol/crypto/secp.js';
import { AdaptorEngine } from '../src/engine/index.js';
import { signContractCets, verifyContractCets } from '../src/engine/contract.js';
import { linearDescriptor, testOracle, twoPartyFixture } from '../test/helpers/dlc-fixture.js';
import { formatTable, type BenchOptions, type BenchSection } from './section.js';

const NB_DIGITS = 20;

/** A contract whose payout changes at every outcome in [0, cets-1]: `cets` + a few CETs. */
function contractWithCets(cets: number) {
  const oracle = testOracle('bench-oracle');
  const announcement = oracle.announce(`bench-${cets}`, NB_DIGITS);
  const total = BigInt(cets) * 1000n;
  return twoPartyFixture({
    announcement,
    descriptor: linearDescriptor(NB_DIGITS, total, BigInt(cets)),
    offerCollateral: total / 2n,
    acceptCollateral: total - total / 2n,
    label: `bench-${cets}`,
  });
}

export async function runContractBench(opts: BenchOptions): Promise<Record<string, unknown>> {
  const engine = await AdaptorEngine.start({ threads: opts.threads });
  const rows: string[][] = [];
  const summary: Record<string, unknown> = {};
  try {
    for (const n of opts.cets) {
      const fx = contractWithCets(n);
      const t0 = performance.now();
      // The accepter derives the contract, signs, and sends accept_dlc.
      const acceptSide = setupContract(fx.offer, fx.acceptUnsigned);
      const t1 = performance.now();
      const acceptSigs = await signContractCets(engine, acceptSide, fx.acceptKey);
      const t2 = performance.now();
      const accept = { ...fx.acceptUnsigned, cetAdaptorSignatures: acceptSigs };
      // The offerer derives the same contract, verifies, signs, sends sign_dlc.
      const offerSide = setupContract(fx.offer, accept);
      const t3 = performance.now();
      await verifyContractCets(engine, offerSide, 'accept', acceptSigs);
      const t4 = performance.now();
      const offerSigs = await signContractCets(engine, offerSide, fx.offerKey);
      const t5 = performance.now();
      // The accepter verifies the offerer's signatures.
      await verifyContractCets(engine, acceptSide, 'offer', offerSigs);
      const t6 = performance.now();
      const slots = acceptSide.plan.adaptorSlots.length;
      const setupMs = t6 - t0;
      const buildMs = (t1 - t0 + (t3 - t2)) / 2;
      const signMs = (t2 - t1 + (t5 - t4)) / 2;
      const verifyMs = (t4 - t3 + (t6 - t5)) / 2;
      rows.push([
        String(acceptSide.plan.cets.length),
        String(slots),
        buildMs.toFixed(0),
        (signMs / slots).toFixed(4),
        (verifyMs / slots).toFixed(4),
        setupMs.toFixed(0),
      ]);
      summary[`contractSetupMs_${n}`] = Math.round(setupMs);
      if (n === Math.max(...opts.cets)) {
        Object.assign(summary, {
          contractCets: acceptSide.plan.cets.length,
          contractAdaptorSignatures: slots,
          contractBuildMs: Math.round(buildMs),
          contractSignMsPerCet: Number((signMs / slots).toFixed(4)),
          contractVerifyMsPerCet: Number((verifyMs / slots).toFixed(4)),
          contractSetupMs: Math.round(setupMs),
        });
      }
    }
  } finally {
    await engine.close();
  }
  console.log(`\ncontract: full two-party set-up of a numeric DLC (${NB_DIGITS}-digit oracle, backend ${backendName()}, ${opts.threads} threads)`);
  console.log(formatTable(['CETs', 'adaptor sigs', 'build ms (per party)', 'sign ms/sig', 'verify ms/sig', 'two-party setup ms'], rows));
  return summary;
}

export const contractSection: BenchSection = { name: 'contract', run: runContractBench };
