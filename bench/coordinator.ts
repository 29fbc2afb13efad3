/**
 * Coordinator benchmark section (issue 13): the coordinator as separate
 * processes on 127.0.0.1, on LevelDB (one process: LevelDB locks its
 * directory) and on PostgreSQL with 1 and with 2 replicas on one database,
 * measured in ONE run:
 *
 * 1. Offer book: `GET /v1/offers?limit=50` (and filtered by template and
 *    window) from CONCURRENCY clients, over a book of BOOK_SIZE open offers
 *    written straight to the store before the replicas start (this measures
 *    listing, not offer verification): requests per second over LIST_SECONDS.
 * 2. Accepts: contracts accepted per minute, each accept verified fully by
 *    the coordinator (Protocol.md accept_dlc rules, the contract set-up, every
 *    CET adaptor signature, the refund signature, the coins, the conditional
 *    write), at 101 CETs (ACCEPT_RUNS: 40 contracts, sent 10 at once) and
 *    10,001 CETs (4 contracts, 2 at once): bench/coordinator-load.ts
 *    `curveContract`, a `custom-curve` whose payout changes at every outcome
 *    in [0, steps]. The offers are posted (and verified) before the timed
 *    phase, and the accepter's adaptor signatures are made in this process
 *    before it, so the figure is the coordinator's accept throughput alone:
 *    contracts over the summed time from each batch's first request to its
 *    last answer.
 * 3. A full hashpower sale, offer to funding broadcast, against the LevelDB
 *    coordinator: the parties build and sign here (worker pool, as the CLI
 *    does), the coordinator verifies offer, accept and sign and finalises the
 *    funding; the time of each step.
 *
 * Design: each replica is a process of its own (bench/coordinator-replica.ts:
 * `startCoordinator` over test/coordinator-fixtures.ts's in-memory FakeChain,
 * watcher off, `--threads` adaptor-signature workers each), so each has its
 * own event loop as in production; the clients run in this process and spread
 * requests round-robin over the replicas. Offer i is posted to replica
 * i mod n and its accept to replica (i + 1) mod n: with 2 replicas every
 * accept is served by the replica that did not see the offer (it reads the
 * offer from the database). PostgreSQL is regtest/postgres.ts `startPostgres`
 * (fsync off, as LevelDB writes without sync), one fresh database per set-up;
 * without a PostgreSQL installation its rows are skipped, with the reason
 * printed. The oracle is the in-test oracle server of this process.
 * All set-ups run side by side (idle while another is measured) and are
 * measured in interleaved rounds, their order rotating, so a load that
 * drifts during the run falls on each alike; the ratios printed are of this
 * one run. All processes share this machine's cores: on a small machine the
 * clients, the replicas and the database compete for them, so a second
 * replica shows what a second process costs or gains here, not what a second
 * machine would. Bounded: fixed durations and sizes.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { signRequest } from '../protocol/auth/index.js';
import type { OracleAnnouncement } from '../protocol/messages/index.js';
import { postgresAvailable, startPostgres, type RunningPostgres } from '../regtest/postgres.js';
import { ContractStore } from '../src/coordinator/index.js';
import { AdaptorEngine } from '../src/engine/index.js';
import { signContractCets, verifyContractCets } from '../src/engine/contract.js';
import { api, identityOf, saleParties, startTestOracle, type TestOracleServer } from '../test/coordinator-fixtures.js';
import { bookRecord, curveContract, startReplicas, type CurveContract } from './coordinator-load.js';
import { formatTable, type BenchOptions, type BenchSection } from './section.js';

const BOOK_SIZE = 1000;
const CONCURRENCY = 16;
/** Seconds of listing per set-up (each of plain and filtered), in LIST_ROUNDS interleaved bursts. */
const LIST_SECONDS = 4;
const LIST_ROUNDS = 4;
const PAGE = 50;
/**
 * Payout steps (CETs - 1), how many contracts are accepted at that size, and
 * how many are sent at once (a batch; batches of the set-ups interleave).
 */
const ACCEPT_RUNS = [{ steps: 100, contracts: 40, batch: 10 }, { steps: 10_000, contracts: 4, batch: 2 }] as const;

interface SetUp {
  key: string;
  name: string;
  storage: 'leveldb' | 'postgres';
  replicas: number;
}

const SET_UPS: SetUp[] = [
  { key: 'leveldb1', name: 'LevelDB, 1 process', storage: 'leveldb', replicas: 1 },
  { key: 'postgres1', name: 'PostgreSQL, 1 replica', storage: 'postgres', replicas: 1 },
  { key: 'postgres2', name: 'PostgreSQL, 2 replicas', storage: 'postgres', replicas: 2 },
];

/** Round-robin over the replicas' URLs, request by request. */
function roundRobin(urls: readonly string[]): () => string {
  let next = 0;
  return () => urls[next++ % urls.length]!;
}

/** Totals of one set-up's list bursts; `cpuSeconds` is this (the clients') process's CPU time over them. */
interface ListTotals {
  requests: number;
  offers: number;
  seconds: number;
  cpuSeconds: number;
}

const noList = (): ListTotals => ({ requests: 0, offers: 0, seconds: 0, cpuSeconds: 0 });

/** CONCURRENCY clients GET `path` round-robin over `urls` for `seconds`; adds to `into`. */
async function listBurst(urls: readonly string[], path: string, seconds: number, into: ListTotals): Promise<void> {
  const pick = roundRobin(urls);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < deadline) {
      const r = await api(pick(), 'GET', path);
      if (r.status !== 200) throw new Error(`GET ${path}: ${r.status}`);
      into.requests++;
      into.offers += (r.body.offers as unknown[]).length;
    }
  }));
  into.seconds += (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  into.cpuSeconds += (cpu.user + cpu.system) / 1e6;
}

/** A signed POST prepared ahead (body serialised, request signed), so the timed phase only sends it. */
interface PreparedPost {
  url: string;
  path: string;
  body: string;
  headers: Record<string, string>;
}

function preparePost(url: string, path: string, body: unknown, key: Uint8Array): PreparedPost {
  const text = JSON.stringify(body);
  const auth = signRequest(key, { method: 'POST', path, body: text, timestamp: Math.floor(Date.now() / 1000) }, randomBytes(32));
  return { url, path, body: text, headers: { 'content-type': 'application/json', ...auth } };
}

async function send(p: PreparedPost): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${p.url}${p.path}`, { method: 'POST', headers: p.headers, body: p.body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** A contract of one accept run, its accept already signed by the accepter. */
interface SignedContract {
  contract: CurveContract;
  acceptHex: string;
}

/** The coordinator's offer id: the offer's temporary contract id. */
function toId(c: CurveContract): string {
  return Buffer.from(c.offer.temporaryContractId).toString('hex');
}

/** Posts (untimed) every offer of a run, offer i to replica i mod n; the coordinator verifies each. */
async function postOffers(urls: readonly string[], run: readonly SignedContract[]): Promise<void> {
  await Promise.all(run.map(async ({ contract: c }, i) => {
    const r = await api(urls[i % urls.length]!, 'POST', '/v1/offers', { body: { offer: c.offerHex, identityPubkey: identityOf(c.offerIdentity), terms: c.terms }, key: c.offerIdentity });
    if (r.status !== 201) throw new Error(`offer ${c.label}: ${r.status} ${JSON.stringify(r.body)}`);
  }));
}

/**
 * Sends the accepts of contracts [from, to) of a run at once (accept i to
 * replica (i + 1) mod n), signed just before; returns the seconds from the
 * first request to the last answer. Every answer must be 200 `accepted`.
 */
async function acceptBatch(urls: readonly string[], run: readonly SignedContract[], from: number, to: number): Promise<number> {
  const posts = run.slice(from, to).map(({ contract: c, acceptHex }, j) => preparePost(
    urls[(from + j + 1) % urls.length]!, `/v1/contracts/${toId(c)}/accept`, { accept: acceptHex, identityPubkey: identityOf(c.acceptIdentity) }, c.acceptIdentity,
  ));
  const t0 = performance.now();
  await Promise.all(posts.map(async (p) => {
    const r = await send(p);
    if (r.status !== 200 || r.body.state !== 'accepted') throw new Error(`accept ${p.path}: ${r.status} ${JSON.stringify(r.body)}`);
  }));
  return (performance.now() - t0) / 1000;
}

/** A set-up running: its replicas and what was measured on it. */
interface LiveSetUp {
  s: SetUp;
  urls: string[];
  stop(): Promise<void>;
  list: ListTotals;
  filtered: ListTotals;
  /** Seconds spent accepting, per accept run. */
  acceptSeconds: number[];
}

/**
 * A set-up's database (a LevelDB directory, or a fresh PostgreSQL database),
 * its offer book written straight to the store, then its replicas.
 */
async function startSetUp(
  s: SetUp,
  pg: RunningPostgres | undefined,
  oracle: TestOracleServer,
  book: { eventId: string; terms: Parameters<typeof bookRecord>[3]; identity: Uint8Array },
  threads: number,
): Promise<LiveSetUp> {
  let dir: string | undefined;
  let storage: { dataDir: string } | { databaseUrl: string };
  if (s.storage === 'leveldb') {
    dir = mkdtempSync(join(tmpdir(), 'hashdlc-bench-coord-'));
    storage = { dataDir: join(dir, 'db') };
  } else {
    await pg!.psql(`CREATE DATABASE bench_${s.key}`);
    storage = { databaseUrl: pg!.url.replace(/\/[^/]*$/, `/bench_${s.key}`) };
  }
  const cleanup = (): void => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  };
  try {
    // LevelDB: before the replica opens (and locks) the directory.
    const store = await ContractStore.open('dataDir' in storage ? storage.dataDir : '', 'databaseUrl' in storage ? storage.databaseUrl : undefined);
    try {
      const ref = { url: oracle.url, eventId: book.eventId, publicKey: identityOf(oracle.oracle.secretKey) };
      for (let i = 0; i < BOOK_SIZE; i += 100) {
        await store.createMany(Array.from({ length: 100 }, (_, j) => ({ rec: bookRecord(i + j, ref, book.identity, book.terms), offer: new Uint8Array([(i + j) & 0xff]) })));
      }
    } finally {
      await store.close();
    }
    const replicas = await startReplicas({ count: s.replicas, storage, oracleUrl: oracle.url, engineThreads: threads });
    return {
      s,
      urls: replicas.urls,
      stop: async () => {
        await replicas.stop();
        cleanup();
      },
      list: noList(),
      filtered: noList(),
      acceptSeconds: ACCEPT_RUNS.map(() => 0),
    };
  } catch (err) {
    cleanup();
    throw err;
  }
}

/** `order` rotated by `round`: each set-up takes each place in turn (no set-up always first after an idle gap). */
function rotated<T>(order: readonly T[], round: number): T[] {
  return order.map((_, i) => order[(i + round) % order.length]!);
}

/**
 * A full sale, offer to funding broadcast, through the HTTP API of the
 * coordinator at `url`; the parties build and sign here with `engine`.
 * @returns one table row and the summary figures.
 */
async function saleFlow(url: string, oracle: TestOracleServer, events: Map<string, OracleAnnouncement>, engine: AdaptorEngine): Promise<{ rows: string[][]; summary: Record<string, number> }> {
  const signer = (setup: Parameters<typeof signContractCets>[1], key: Uint8Array) => signContractCets(engine, setup, key);
  const verifier = (setup: Parameters<typeof verifyContractCets>[1], party: 'offer' | 'accept', sigs: Parameters<typeof verifyContractCets>[3]) =>
    verifyContractCets(engine, setup, party, sigs);
  const rows: string[][] = [];
  const summary: Record<string, number> = {};
  for (const [name, roundingMod] of [['~100 CETs', 6_000n], ['~10,000 CETs', 1n]] as const) {
    const p = saleParties({ label: `bench-sale-${roundingMod}`, oracle: oracle.oracle, roundingMod });
    events.set(p.eventId, p.announcement);
    const t0 = performance.now();
    const offered = await api(url, 'POST', '/v1/offers', { body: { offer: p.offerHex, identityPubkey: identityOf(p.offerIdentity), terms: p.terms }, key: p.offerIdentity });
    if (offered.status !== 201) throw new Error(JSON.stringify(offered.body));
    const id = offered.body.id as string;
    const t1 = performance.now();
    const { acceptHex } = await p.acceptAsync(signer);
    const t2 = performance.now();
    const acc = await api(url, 'POST', `/v1/contracts/${id}/accept`, { body: { accept: acceptHex, identityPubkey: identityOf(p.acceptIdentity) }, key: p.acceptIdentity });
    if (acc.status !== 200) throw new Error(JSON.stringify(acc.body));
    const t3 = performance.now();
    const { signHex } = await p.signAsync({ signer, verifier });
    const t4 = performance.now();
    const sgn = await api(url, 'POST', `/v1/contracts/${id}/sign`, { body: { sign: signHex }, key: p.offerIdentity });
    if (sgn.status !== 200) throw new Error(JSON.stringify(sgn.body));
    const t5 = performance.now();
    const fund = await api(url, 'POST', `/v1/contracts/${id}/fund`, { body: { fundingPsbt: p.signedFundingPsbt('accept') }, key: p.acceptIdentity });
    if (fund.status !== 200 || fund.body.state !== 'funding-broadcast') throw new Error(JSON.stringify(fund.body));
    const t6 = performance.now();
    const cets = p.template.cetCount.cets;
    const ms = (a: number, b: number): string => `${(b - a).toFixed(0)}`;
    rows.push([
      `sale ${name}: ${cets} CETs, ${p.template.cetCount.adaptorSignatures} sigs/party`,
      `total ${ms(t0, t6)} ms`,
      `offer ${ms(t0, t1)} | buyer signs ${ms(t1, t2)} | coord verifies accept ${ms(t2, t3)} | miner verifies+signs ${ms(t3, t4)} | coord verifies sign ${ms(t4, t5)} | fund ${ms(t5, t6)} (ms)`,
    ]);
    summary[`coordinatorSaleMs_${cets}cets`] = Math.round(t6 - t0);
    summary[`coordinatorVerifyAcceptMs_${cets}cets`] = Math.round(t3 - t2);
  }
  return { rows, summary };
}

/** Runs the coordinator measurements; returns the summary merged into bench/run.ts's JSON line. */
export async function runCoordinatorBench(opts: BenchOptions): Promise<Record<string, unknown>> {
  const events = new Map<string, OracleAnnouncement>();
  const oracle = await startTestOracle('bench-coordinator-oracle', { events });
  const engine = await AdaptorEngine.start({ threads: opts.threads });
  const pgCheck = await postgresAvailable();
  let pg: RunningPostgres | undefined;
  const summary: Record<string, unknown> = {};
  // On a shared machine the figures mean little without the load they were measured under.
  const load0 = loadavg()[0]!;
  const t0 = performance.now();
  try {
    // The parties' side, before anything is timed: every accept's adaptor signatures.
    const signer = (setup: Parameters<typeof signContractCets>[1], key: Uint8Array) => signContractCets(engine, setup, key);
    const tSign = performance.now();
    const runs: SignedContract[][] = [];
    for (const { steps, contracts } of ACCEPT_RUNS) {
      const run: SignedContract[] = [];
      for (let i = 0; i < contracts; i++) {
        const contract = curveContract(`bench-accept-${steps}-${i}`, steps, oracle.oracle);
        events.set(contract.eventId, contract.announcement);
        run.push({ contract, acceptHex: await contract.acceptHex(signer) });
      }
      runs.push(run);
    }
    const signSeconds = (performance.now() - tSign) / 1000;
    const saleRows: string[][] = [];

    const template = saleParties({ label: 'bench-book', oracle: oracle.oracle });
    events.set(template.eventId, template.announcement);
    const book = { eventId: template.eventId, terms: template.terms, identity: template.offerIdentity };

    if (pgCheck.ok) pg = await startPostgres();
    const rows: string[][] = [];
    const live: LiveSetUp[] = [];
    try {
      for (const s of SET_UPS) {
        if (s.storage === 'postgres' && pg === undefined) {
          rows.push([s.name, `skipped: ${pgCheck.ok ? 'no PostgreSQL' : pgCheck.reason}`, '', '', '']);
          continue;
        }
        live.push(await startSetUp(s, pg, oracle, book, opts.threads));
      }
      // Interleaved rounds, the set-ups' order rotating: a load that drifts (other
      // jobs on this machine) falls on every set-up alike, and the ratios stay fair.
      for (let round = 0; round < LIST_ROUNDS; round++) {
        for (const l of rotated(live, round)) await listBurst(l.urls, `/v1/offers?limit=${PAGE}`, LIST_SECONDS / LIST_ROUNDS, l.list);
      }
      for (let round = 0; round < LIST_ROUNDS; round++) {
        for (const l of rotated(live, round)) {
          await listBurst(l.urls, `/v1/offers?limit=${PAGE}&template=hashpower-sale&windowStart=1200&windowEnd=1400`, LIST_SECONDS / LIST_ROUNDS, l.filtered);
        }
      }
      for (const l of live) for (const run of runs) await postOffers(l.urls, run);
      for (const [r, run] of runs.entries()) {
        const batch = ACCEPT_RUNS[r]!.batch;
        for (let round = 0; round * batch < run.length; round++) {
          for (const l of rotated(live, round)) l.acceptSeconds[r]! += await acceptBatch(l.urls, run, round * batch, Math.min(run.length, (round + 1) * batch));
        }
      }
      const onLevelDb = live.find((l) => l.s.storage === 'leveldb');
      if (onLevelDb !== undefined) {
        const sale = await saleFlow(onLevelDb.urls[0]!, oracle, events, engine);
        saleRows.push(...sale.rows);
        Object.assign(summary, sale.summary);
      }
    } finally {
      for (const l of live) await l.stop();
    }

    const perSec = (t: ListTotals): number => t.requests / t.seconds;
    const perMin = (l: LiveSetUp, r: number): number => (runs[r]!.length / l.acceptSeconds[r]!) * 60;
    for (const l of live) {
      rows.push([
        l.s.name,
        `${perSec(l.list).toFixed(0)} req/s (${(l.list.offers / l.list.seconds).toFixed(0)} offers/s; clients' CPU ${((100 * l.list.cpuSeconds) / l.list.seconds).toFixed(0)}%)`,
        `${perSec(l.filtered).toFixed(0)} req/s`,
        ...runs.map((run, r) => `${perMin(l, r).toFixed(perMin(l, r) < 100 ? 1 : 0)}/min (${run.length} in ${l.acceptSeconds[r]!.toFixed(2)} s)`),
      ]);
      summary[`coordinatorListReqPerSec_${l.s.key}`] = Math.round(perSec(l.list));
      runs.forEach((run, r) => {
        summary[`coordinatorAcceptsPerMin_${run[0]!.contract.template.cetCount.cets}cets_${l.s.key}`] = Number(perMin(l, r).toFixed(1));
      });
    }
    const byKey = (k: string): LiveSetUp | undefined => live.find((l) => l.s.key === k);
    const leveldb = byKey('leveldb1');
    if (leveldb !== undefined) summary.coordinatorOffersListedPerSec = Math.round(leveldb.list.offers / leveldb.list.seconds);
    // Ratios measured in this run: PostgreSQL against LevelDB (1 process each), 2 replicas against 1.
    const ratio = (a: LiveSetUp | undefined, b: LiveSetUp | undefined, label: string): void => {
      if (a === undefined || b === undefined) return;
      rows.push([label, `x${(perSec(a.list) / perSec(b.list)).toFixed(2)}`, `x${(perSec(a.filtered) / perSec(b.filtered)).toFixed(2)}`,
        ...runs.map((_, r) => `x${(perMin(a, r) / perMin(b, r)).toFixed(2)}`)]);
    };
    ratio(byKey('postgres1'), leveldb, 'ratio PostgreSQL 1 / LevelDB');
    ratio(byKey('postgres2'), byKey('postgres1'), 'ratio PostgreSQL 2 / 1 replicas');

    const cetsOf = runs.map((r) => r[0]!.contract.template.cetCount);
    console.log(`\ncoordinator (processes on 127.0.0.1, node stubbed; ${opts.threads} signature workers per replica; ${CONCURRENCY} clients; `
      + `accepters' signatures made beforehand in ${signSeconds.toFixed(1)} s)\n`
      + formatTable(
        ['set-up', `list ${PAGE} of ${BOOK_SIZE} offers`, 'filtered by template + window',
          ...cetsOf.map((c, i) => `accepts, ${c.cets.toLocaleString('en-US')} CETs (${c.adaptorSignatures.toLocaleString('en-US')} sigs) x${ACCEPT_RUNS[i]!.contracts}`)],
        rows,
      )
      + `\n(section ${((performance.now() - t0) / 1000).toFixed(0)} s; 1-minute load average ${load0.toFixed(1)} at its start, ${loadavg()[0]!.toFixed(1)} at its end, ${availableParallelism()} cores)`
      + (saleRows.length > 0 ? `\n\nsale, offer to funding broadcast (LevelDB coordinator process)\n${formatTable(['measure', 'total', 'detail'], saleRows)}` : '')
      + '\n');
    if (!pgCheck.ok) summary.coordinatorPostgresSkipped = pgCheck.reason;
    return summary;
  } finally {
    await pg?.stop();
    await engine.close();
    await oracle.close();
  }
}

export const coordinatorSection: BenchSection = { name: 'coordinator', run: runCoordinatorBench };
