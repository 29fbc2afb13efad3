/**
 * Crypto benchmark section: CET adaptor points, adaptor signing, verification
 * and the full two-party setup of a numeric contract (one oracle, 20 binary
 * digits, consecutive outcome ranges compressed to digit prefixes), per
 * secp256k1 backend, in-thread ("single") and on the worker pool ("pooled").
 *
 * Random 32-byte sighashes stand in for CET sighashes: building CETs is not
 * measured here. The noble (pure JS) backend runs at 1,000 CETs only.
 *
 * Then, on the default backend, the adaptor points of t-of-n oracle sets (the
 * only per-signature work that grows with the set: signing and verifying cost
 * the same per signature whatever its point): the same prefixes signed by
 * every oracle combination (`oracleSets`), computed as `setupContract` does
 * (shared prefix tries and partial sums, projective) and, on a sample, the
 * direct way (each slot the backend's sum of all its digit points).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { adaptorSignBatch, adaptorVerifyBatch } from '../protocol/crypto/adaptor.js';
import { digitPointTable, eventNonces, numericAdaptorPoints, xOnlyPublicKey, type OracleNonces } from '../protocol/crypto/oracle.js';
import { oracleCombinations } from '../protocol/numeric/index.js';
import { availableBackends, backendName, secp, selectBackend, type BackendName } from '../protocol/crypto/secp.js';
import { AdaptorEngine, packPoints } from '../src/engine/index.js';
import { formatTable, type BenchOptions, type BenchSection, type OracleSet } from './section.js';

const NB_DIGITS = 20;
const BASE = 2;
/** Largest CET count at which each backend is measured. */
const MAX_CETS: Record<BackendName, number> = { native: Infinity, wasm: Infinity, noble: 1000 };
/** Largest CET count of the in-thread runs (slower backends are measured pooled only above it). */
const MAX_SINGLE: Record<BackendName, number> = { native: Infinity, wasm: 1000, noble: 1000 };

const enc = new TextEncoder();
const rnd = (label: string, i: number): Uint8Array => sha256(enc.encode(`bench/${label}/${i}`));

/**
 * Digit prefixes covering consecutive outcome ranges of varying width, as the
 * CET compression of NumericOutcomeCompression.md produces for a range:
 * the minimal set of aligned blocks base^k covering [start, end], one prefix
 * per block. Returns exactly `count` prefixes.
 */
export function consecutiveRangePrefixes(count: number, nbDigits = NB_DIGITS, base = BASE): number[][] {
  const max = base ** nbDigits;
  const out: number[][] = [];
  let start = 100_000;
  for (let r = 0; out.length < count; r++) {
    const width = 1 + (rnd('width', r)[0]! * 7 + rnd('width', r)[1]!) % 600;
    const end = Math.min(start + width - 1, max - 1);
    let a = start;
    while (a <= end && out.length < count) {
      let block = 1;
      let k = 0;
      while (a % (block * base) === 0 && a + block * base - 1 <= end) { block *= base; k++; }
      const digits: number[] = [];
      for (let i = nbDigits - 1, v = a; i >= 0; i--) { digits[i] = v % base; v = Math.floor(v / base); }
      out.push(digits.slice(0, nbDigits - k));
      a += block;
    }
    start = end + 1;
    if (start >= max) start = 0;
  }
  return out;
}

interface Row {
  backend: BackendName;
  cets: number;
  mode: 'single' | 'pooled';
  pointsMs: number;
  signMs: number;
  verifyMs: number;
  setupMs: number;
  /** CPU time of the whole process (all threads) during the setup: a contention-independent figure. */
  setupCpuMs: number;
}

const now = (): number => performance.now();

interface Party { sk: Uint8Array; pk: Uint8Array }

async function measure(backend: BackendName, cets: number, engine: AdaptorEngine | undefined): Promise<Row> {
  selectBackend(backend);
  const oracleSk = rnd('oracle', 0);
  const oracle: OracleNonces = { publicKey: xOnlyPublicKey(oracleSk), nonces: eventNonces(oracleSk, 'bench-event', NB_DIGITS) };
  const prefixes = consecutiveRangePrefixes(cets).map((p) => [p]);
  const hashes = new Uint8Array(cets * 32);
  for (let i = 0; i < cets; i++) hashes.set(rnd('sighash', i), i * 32);
  const alice: Party = { sk: rnd('alice', 0), pk: secp().mulG(rnd('alice', 0)) };
  const bob: Party = { sk: rnd('bob', 0), pk: secp().mulG(rnd('bob', 0)) };

  const computePoints = (): Uint8Array => packPoints(numericAdaptorPoints({ profile: 'sha256', base: BASE, oracles: [oracle], prefixes }));
  const sign = (p: Party, points: Uint8Array): Promise<Uint8Array> =>
    engine ? engine.sign(p.sk, hashes, points) : Promise.resolve(adaptorSignBatch(p.sk, hashes, points));
  const verify = async (p: Party, points: Uint8Array, sigs: Uint8Array): Promise<void> => {
    const flags = engine ? await engine.verify(p.pk, hashes, points, sigs) : adaptorVerifyBatch(p.pk, hashes, points, sigs);
    if (!flags.every((f) => f === 1)) throw new Error(`bench: ${flags.filter((f) => f === 0).length} signatures did not verify`);
  };

  let t = now();
  const points = computePoints();
  const pointsMs = now() - t;
  t = now();
  const sigs = await sign(alice, points);
  const signMs = now() - t;
  t = now();
  await verify(alice, points, sigs);
  const verifyMs = now() - t;

  // Two-party setup, both parties on this machine sharing the pool:
  // each computes the adaptor points itself, signs every CET and verifies the other's.
  t = now();
  const cpu = process.cpuUsage();
  const aPoints = computePoints();
  const aSigs = await sign(alice, aPoints);
  const bPoints = computePoints();
  await verify(alice, bPoints, aSigs);
  const bSigs = await sign(bob, bPoints);
  await verify(bob, aPoints, bSigs);
  const setupMs = now() - t;
  const used = process.cpuUsage(cpu);
  const setupCpuMs = (used.user + used.system) / 1000;

  return { backend, cets, mode: engine ? 'pooled' : 'single', pointsMs, signMs, verifyMs, setupMs, setupCpuMs };
}

/** The crypto section; returns the best pooled 10,000-CET (or largest) figures as the summary. */
export const cryptoSection: BenchSection = {
  name: 'crypto',
  async run(opts: BenchOptions): Promise<Record<string, unknown>> {
    const initial = backendName();
    const backends = availableBackends().filter((b) => opts.backends === undefined || opts.backends.includes(b));
    const rows: Row[] = [];
    const startMs: Record<string, number> = {};
    for (const backend of backends) {
      const sizes = opts.cets.filter((n) => n <= MAX_CETS[backend]);
      if (sizes.length === 0) continue;
      const t = now();
      const engine = await AdaptorEngine.start({ backend, threads: opts.threads });
      startMs[backend] = now() - t;
      try {
        // warm-up: JIT, worker module loading, table caches
        selectBackend(backend);
        await warmUp(backend, engine);
        for (const cets of sizes) {
          process.stderr.write(`crypto: ${backend} ${cets} CETs...\n`);
          if (cets <= MAX_SINGLE[backend]) rows.push(await measure(backend, cets, undefined));
          rows.push(await measure(backend, cets, engine));
        }
      } finally {
        await engine.close();
      }
    }
    selectBackend(initial);

    const f = (v: number, d = 1): string => v.toFixed(d);
    console.log(`\n== crypto: numeric contract, ${NB_DIGITS}-digit base-${BASE} oracle, CETs from consecutive ranges (pool: ${opts.threads} threads)`);
    console.log(formatTable(
      ['backend', 'mode', 'CETs', 'points ms', 'sign ms', 'verify ms', 'sign ms/CET', 'verify ms/CET', '2-party setup ms', 'setup CPU ms'],
      rows.map((r) => [r.backend, r.mode, String(r.cets), f(r.pointsMs), f(r.signMs), f(r.verifyMs),
        f(r.signMs / r.cets, 3), f(r.verifyMs / r.cets, 3), f(r.setupMs), f(r.setupCpuMs)]),
    ));
    console.log('setup CPU ms counts every thread of this process; on an otherwise idle machine, pooled wall time approaches CPU / threads.');
    console.log(`worker pool start (ms): ${Object.entries(startMs).map(([b, ms]) => `${b} ${f(ms)}`).join(', ')}`);

    const pointRows = oracleSetPoints(Math.max(...opts.cets), opts.oracleSets);
    const single = pointRows.find((r) => r.set === '1-of-1');
    console.log(`\n== crypto: adaptor points by oracle set, ${Math.max(...opts.cets)} prefixes x oracle combinations (backend ${backendName()}, one thread, CPU time)`);
    console.log(formatTable(
      ['oracles', 'slots', 'shared CPU ms (best of 3)', 'shared µs/slot', 'direct µs/slot (sample)', 'shared µs/slot vs 1-of-1'],
      pointRows.map((r) => [r.set, String(r.slots), f(r.sharedMs), f(r.sharedUsPerSlot), f(r.directUsPerSlot),
        single === undefined ? '' : f(r.sharedUsPerSlot / single.sharedUsPerSlot, 2)]),
    ));

    const pooled = rows.filter((r) => r.mode === 'pooled');
    const largest = Math.max(...pooled.map((r) => r.cets));
    const best = pooled.filter((r) => r.cets === largest).sort((a, b) => a.setupMs - b.setupMs)[0];
    const pointsSummary = Object.fromEntries(pointRows.map((r) => [`pointsUsPerSlot_${r.set.replace('-of-', 'of')}`, Number(r.sharedUsPerSlot.toFixed(1))]));
    if (best === undefined) return pointsSummary;
    return {
      ...pointsSummary,
      cets: best.cets,
      backend: best.backend,
      threads: opts.threads,
      setupMs: Math.round(best.setupMs),
      setupCpuMs: Math.round(best.setupCpuMs),
      pointsMsPerCet: Number((best.pointsMs / best.cets).toFixed(4)),
      signMsPerCet: Number((best.signMs / best.cets).toFixed(4)),
      verifyMsPerCet: Number((best.verifyMs / best.cets).toFixed(4)),
    };
  },
};

/** Slots of the direct (unshared) computation's sample. */
const DIRECT_SAMPLE = 1000;

interface PointRow { set: string; slots: number; sharedMs: number; sharedUsPerSlot: number; directUsPerSlot: number }

/** Adaptor points of `prefixCount` prefixes signed by every combination of each oracle set. */
function oracleSetPoints(prefixCount: number, sets: readonly OracleSet[]): PointRow[] {
  const be = secp();
  const prefixes = consecutiveRangePrefixes(prefixCount);
  return sets.map((set) => {
    const oracles: OracleNonces[] = Array.from({ length: set.n }, (_, j) => {
      const sk = rnd('oracle', j);
      return { publicKey: xOnlyPublicKey(sk), nonces: eventNonces(sk, 'bench-event', NB_DIGITS) };
    });
    // plan order (protocol/numeric/plan.ts): for each prefix, for each combination
    const combos = oracleCombinations(set.n, set.threshold);
    const slots: (number[] | null)[][] = [];
    for (const p of prefixes) {
      for (const combo of combos) slots.push(oracles.map((_, j) => (combo.includes(j) ? p : null)));
    }
    numericAdaptorPoints({ profile: 'sha256', base: BASE, oracles, prefixes: slots.slice(0, 2000) }); // warm-up
    // Best of 3, in CPU time (one thread here): the figure least disturbed by other load on the machine.
    let sharedMs = Infinity;
    for (let r = 0; r < 3; r++) {
      const cpu = process.cpuUsage();
      numericAdaptorPoints({ profile: 'sha256', base: BASE, oracles, prefixes: slots });
      const used = process.cpuUsage(cpu);
      sharedMs = Math.min(sharedMs, (used.user + used.system) / 1000);
    }
    const tables = oracles.map((o) => digitPointTable('sha256', o, BASE));
    const sample = slots.slice(0, DIRECT_SAMPLE);
    const cpu = process.cpuUsage();
    for (const slot of sample) {
      const parts: Uint8Array[] = [];
      slot.forEach((digits, j) => digits?.forEach((d, i) => parts.push(tables[j]![i]![d]!)));
      be.add(parts);
    }
    const used = process.cpuUsage(cpu);
    const directMs = (used.user + used.system) / 1000;
    return {
      set: `${set.threshold}-of-${set.n}`,
      slots: slots.length,
      sharedMs,
      sharedUsPerSlot: (sharedMs / slots.length) * 1000,
      directUsPerSlot: (directMs / sample.length) * 1000,
    };
  });
}

/** CETs signed and verified before measuring, so that every thread's JIT has settled. */
const WARM_UP: Record<BackendName, number> = { native: 2000, wasm: 500, noble: 100 };

async function warmUp(backend: BackendName, engine: AdaptorEngine): Promise<void> {
  await measure(backend, WARM_UP[backend] / 4, undefined);
  await measure(backend, WARM_UP[backend], engine);
}
