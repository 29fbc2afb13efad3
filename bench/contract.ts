/**
 * Contract benchmark section: the real two-party set-up of a numeric DLC, end
 * to end through protocol/: decode nothing, but build the funding transaction,
 * the CET plan, every CET sighash and adaptor point (`setupContract`), then
 * each party signs all CETs and verifies the other's on the worker pool.
 * Unlike the crypto section, nothing here is synthetic: these are the CETs a
 * contract with that many payout steps has.
 *
 * Each contract is measured with every oracle set of `--oracle-sets` (default
 * 1-of-1, 2-of-3, 3-of-5) in the same run, so the t-of-n figures sit next to
 * the single-oracle ones they are compared with. A t-of-n set here is
 * `{ multi: { threshold, oracleAnnouncements, oracleParams: null } }` (exact
 * agreement, as our recomputable outcomes allow) over distinct test oracles
 * announcing the same numeric event: the same CETs, one adaptor signature per
 * digit prefix per oracle combination (MultiOracle.md "t-of-n Oracles").
 * Contracts: the default hashpower sale (protocol/templates, default payout
 * grid, 14-digit event) and, per `--cets`, a contract whose payout changes at
 * every outcome (20-digit event).
 *
 * This section does NOT assert speed; it prints and returns figures.
 */
import { performance } from 'node:perf_hooks';
import { setupContract, type ContractSetupOptions } from '../protocol/contract/index.js';
import { backendName } from '../protocol/crypto/secp.js';
import type { NumericOutcomeContractDescriptor, OfferDlc, OracleAnnouncement, OracleInfo } from '../protocol/messages/types.js';
import { hashpowerSale } from '../protocol/templates/index.js';
import { AdaptorEngine } from '../src/engine/index.js';
import { signContractCets, verifyContractCets } from '../src/engine/contract.js';
import { oracleInfoOf } from '../src/participant/oracle-set.js';
import { linearDescriptor, p2wpkhScriptPubkey, publicKey, testOracle, testSecret, twoPartyFixture } from '../test/helpers/dlc-fixture.js';
import { formatTable, type BenchOptions, type BenchSection, type OracleSet } from './section.js';

const NB_DIGITS = 20;
/** The sale template's event: delivery ratio in bps, 14 binary digits (up to 16383 bps). */
const SALE_DIGITS = 14;

/** `threshold`-of-`n` oracle info over `n` distinct test oracles announcing the same event. */
function benchOracleInfo(set: OracleSet, eventId: string, nbDigits: number): OracleInfo {
  const anns: OracleAnnouncement[] = Array.from({ length: set.n }, (_, i) => testOracle(`bench-oracle-${i}`).announce(eventId, nbDigits));
  return oracleInfoOf(anns, set.threshold);
}

interface BenchContract {
  name: string;
  offer: OfferDlc;
  acceptUnsigned: ReturnType<typeof twoPartyFixture>['acceptUnsigned'];
  offerKey: Uint8Array;
  acceptKey: Uint8Array;
  setupOptions: ContractSetupOptions;
}

/** A two-party fixture whose offer carries `oracleInfo` instead of the fixture's single oracle. */
function withOracleInfo(
  label: string,
  descriptor: NumericOutcomeContractDescriptor,
  oracleInfo: OracleInfo,
  offerCollateral: bigint,
  acceptCollateral: bigint,
): Omit<BenchContract, 'name' | 'setupOptions'> {
  const first = 'single' in oracleInfo ? oracleInfo.single.oracleAnnouncement : oracleInfo.multi.oracleAnnouncements[0]!;
  const fx = twoPartyFixture({ announcement: first, descriptor, offerCollateral, acceptCollateral, label });
  const offer: OfferDlc = {
    ...fx.offer,
    contractInfo: { singleContractInfo: { totalCollateral: offerCollateral + acceptCollateral, contractInfo: { contractDescriptor: descriptor, oracleInfo } } },
  };
  return { offer, acceptUnsigned: fx.acceptUnsigned, offerKey: fx.offerKey, acceptKey: fx.acceptKey };
}

/** A contract whose payout changes at every outcome in [0, cets-1]: `cets` + a few CETs. */
function contractWithCets(cets: number, set: OracleSet): BenchContract {
  const total = BigInt(cets) * 1000n;
  const label = `bench-${cets}`;
  const oracleInfo = benchOracleInfo(set, label, NB_DIGITS);
  return {
    name: `${cets.toLocaleString('en-US')}-CET contract`,
    ...withOracleInfo(label, linearDescriptor(NB_DIGITS, total, BigInt(cets)), oracleInfo, total / 2n, total - total / 2n),
    setupOptions: {},
  };
}

/**
 * The default hashpower sale: the terms of test/coordinator-fixtures.ts
 * `saleParties` (100 TH/s, 400,000 sats escrow, 200,000 sats miner collateral,
 * 50,000 upfront, tolerance 95%) with the template's default payout grid.
 */
function defaultSale(set: OracleSet): BenchContract {
  const label = 'bench-sale';
  const window = { start: 1000, end: 1100 };
  const oracleInfo = benchOracleInfo(set, `hashpower-delivery/${window.start}-${window.end}/100ths/${label}`, SALE_DIGITS);
  const template = hashpowerSale({
    hashrateThs: 100n,
    window,
    deliveryAddress: `bcrt1qdelivery-${label}`,
    upfront: 50_000n,
    escrow: 400_000n,
    minerCollateral: 200_000n,
    toleranceBps: 9500,
    upfrontScript: p2wpkhScriptPubkey(publicKey(testSecret(`${label}:upfront`))),
    upfrontSerialId: 77n,
    oracleInfo,
  });
  return {
    name: 'default sale',
    ...withOracleInfo(label, template.contractDescriptor, oracleInfo, template.offerCollateral, template.acceptCollateral),
    setupOptions: { extraOutputs: template.extraOutputs },
  };
}

interface Measured {
  cets: number;
  slots: number;
  buildMs: number;
  signMs: number;
  verifyMs: number;
  setupMs: number;
  /** CPU time of the whole process (all threads) during the set-up: less sensitive to other load on the machine. */
  setupCpuMs: number;
}

/** offer -> accept with adaptor signatures -> verify -> sign -> verify, both parties on this machine. */
async function twoPartySetup(engine: AdaptorEngine, c: BenchContract): Promise<Measured> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  // The accepter derives the contract, signs, and sends accept_dlc.
  const acceptSide = setupContract(c.offer, c.acceptUnsigned, c.setupOptions);
  const t1 = performance.now();
  const acceptSigs = await signContractCets(engine, acceptSide, c.acceptKey);
  const t2 = performance.now();
  const accept = { ...c.acceptUnsigned, cetAdaptorSignatures: acceptSigs };
  // The offerer derives the same contract, verifies, signs, sends sign_dlc.
  const offerSide = setupContract(c.offer, accept, c.setupOptions);
  const t3 = performance.now();
  await verifyContractCets(engine, offerSide, 'accept', acceptSigs);
  const t4 = performance.now();
  const offerSigs = await signContractCets(engine, offerSide, c.offerKey);
  const t5 = performance.now();
  // The accepter verifies the offerer's signatures.
  await verifyContractCets(engine, acceptSide, 'offer', offerSigs);
  const t6 = performance.now();
  const used = process.cpuUsage(cpu);
  return {
    cets: acceptSide.plan.cets.length,
    slots: acceptSide.plan.adaptorSlots.length,
    buildMs: (t1 - t0 + (t3 - t2)) / 2,
    signMs: (t2 - t1 + (t5 - t4)) / 2,
    verifyMs: (t4 - t3 + (t6 - t5)) / 2,
    setupMs: t6 - t0,
    setupCpuMs: (used.user + used.system) / 1000,
  };
}

const setName = (s: OracleSet): string => `${s.threshold}-of-${s.n}`;
/** Summary key suffix: '' for 1-of-1 (the keys earlier runs used), `_2of3` otherwise. */
const setKey = (s: OracleSet): string => (s.n === 1 ? '' : `_${s.threshold}of${s.n}`);

export async function runContractBench(opts: BenchOptions): Promise<Record<string, unknown>> {
  const engine = await AdaptorEngine.start({ threads: opts.threads });
  const rows: string[][] = [];
  const summary: Record<string, unknown> = {};
  const sets = opts.oracleSets;
  try {
    // Warm-up (JIT, worker modules), so the first measured row is not penalised.
    await twoPartySetup(engine, defaultSale({ threshold: 1, n: 1 }));
    const contracts: { key: string; make: (s: OracleSet) => BenchContract }[] = [
      { key: 'sale', make: defaultSale },
      ...opts.cets.map((n) => ({ key: String(n), make: (s: OracleSet) => contractWithCets(n, s) })),
    ];
    for (const { key, make } of contracts) {
      let base: { perSig: number; cpuPerSig: number } | undefined;
      for (const set of sets) {
        const c = make(set);
        process.stderr.write(`contract: ${c.name}, ${setName(set)}...\n`);
        const m = await twoPartySetup(engine, c);
        const perSig = m.setupMs / m.slots;
        const cpuPerSig = m.setupCpuMs / m.slots;
        if (set.n === 1) base = { perSig, cpuPerSig };
        rows.push([
          c.name,
          setName(set),
          String(m.cets),
          String(m.slots),
          m.buildMs.toFixed(0),
          (m.signMs / m.slots).toFixed(4),
          (m.verifyMs / m.slots).toFixed(4),
          m.setupMs.toFixed(0),
          (perSig * 1000).toFixed(1),
          (cpuPerSig * 1000).toFixed(1),
          base === undefined ? '' : `${(perSig / base.perSig).toFixed(2)} / ${(cpuPerSig / base.cpuPerSig).toFixed(2)}`,
        ]);
        const k = `${setKey(set)}_${key}`;
        summary[`contractSetupMs${k}`] = Math.round(m.setupMs);
        summary[`contractSetupUsPerSig${k}`] = Number((perSig * 1000).toFixed(1));
        summary[`contractSetupCpuUsPerSig${k}`] = Number((cpuPerSig * 1000).toFixed(1));
        if (key === String(Math.max(...opts.cets)) && set.n === 1) {
          Object.assign(summary, {
            contractCets: m.cets,
            contractAdaptorSignatures: m.slots,
            contractBuildMs: Math.round(m.buildMs),
            contractSignMsPerCet: Number((m.signMs / m.slots).toFixed(4)),
            contractVerifyMsPerCet: Number((m.verifyMs / m.slots).toFixed(4)),
            contractSetupMs: Math.round(m.setupMs),
          });
        }
      }
    }
  } finally {
    await engine.close();
  }
  console.log(`\ncontract: full two-party set-up of numeric DLCs by oracle set (sale ${SALE_DIGITS}-digit event, others ${NB_DIGITS}-digit; backend ${backendName()}, ${opts.threads} threads)`);
  console.log(formatTable(
    ['contract', 'oracles', 'CETs', 'adaptor sigs', 'build ms (per party)', 'sign ms/sig', 'verify ms/sig', 'two-party setup ms', 'setup µs/sig', 'CPU µs/sig', 'per sig vs 1-of-1 (wall / CPU)'],
    rows,
  ));
  console.log('µs/sig: the whole two-party set-up divided by one party\'s adaptor signatures; CPU counts every thread of this process.');
  return summary;
}

export const contractSection: BenchSection = { name: 'contract', run: runContractBench };
