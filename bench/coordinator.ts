/**
 * Coordinator benchmark section, on 127.0.0.1 with LevelDB in a temp dir:
 *
 * 1. Offer book: offers listed per second (`GET /v1/offers?limit=50`, and
 *    filtered by template and window) from CONCURRENCY clients for a fixed
 *    time, over a book of BOOK_SIZE open offers (written straight to the store:
 *    this measures listing, not offer verification).
 * 2. A full hashpower sale, offer to funding broadcast, through the HTTP API
 *    with every check the coordinator makes: the parties build and sign
 *    (both on the worker pool, as the CLI does), the coordinator verifies the
 *    offer (terms, announcement fetched from the oracle), the accept and the
 *    sign (every adaptor signature), then combines and finalises the funding.
 *    Payout grids chosen for about 100 and about 10,000 CETs (rounding
 *    modulus 1 gives ~9,500 on a 95% tolerance).
 *
 * The node is stubbed in memory (test/coordinator-fixtures.ts FakeChain:
 * gettxout, testmempoolaccept and sendrawtransaction answer at once), so the
 * figures are the coordinator's and the parties' own work; the oracle is the
 * in-test oracle server. Bounded: fixed durations and sizes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startCoordinator } from '../src/coordinator/index.js';
import { createOffer } from '../src/coordinator/lifecycle.js';
import { AdaptorEngine } from '../src/engine/index.js';
import { signContractCets, verifyContractCets } from '../src/engine/contract.js';
import { FakeChain, api, identityOf, saleParties, startTestOracle } from '../test/coordinator-fixtures.js';
import type { OracleAnnouncement } from '../protocol/messages/index.js';
import { formatTable, type BenchOptions, type BenchSection } from './section.js';

const BOOK_SIZE = 1000;
const CONCURRENCY = 16;
const LIST_SECONDS = 3;
const PAGE = 50;

async function listLoad(url: string, path: string): Promise<{ requests: number; offers: number; seconds: number }> {
  const deadline = performance.now() + LIST_SECONDS * 1000;
  const t0 = performance.now();
  let requests = 0;
  let offers = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < deadline) {
      const r = await api(url, 'GET', path);
      if (r.status !== 200) throw new Error(`GET ${path}: ${r.status}`);
      requests++;
      offers += (r.body.offers as unknown[]).length;
    }
  }));
  return { requests, offers, seconds: (performance.now() - t0) / 1000 };
}

/** Runs the coordinator measurements; returns the summary merged into bench/run.ts's JSON line. */
export async function runCoordinatorBench(opts: BenchOptions): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'hashdlc-bench-coord-'));
  const events = new Map<string, OracleAnnouncement>();
  const oracle = await startTestOracle('bench-coordinator-oracle', { events });
  const chain = new FakeChain();
  const coord = await startCoordinator({
    dataDir: join(dir, 'db'),
    port: 0,
    rpc: { url: 'http://127.0.0.1:1/', username: 'bench', password: 'bench' },
    oracles: [oracle.url],
    engineThreads: opts.threads,
  }, { chain, watch: false, log: () => undefined });
  const engine = await AdaptorEngine.start({ threads: opts.threads });
  const rows: string[][] = [];
  const summary: Record<string, unknown> = {};
  try {
    // ---- 1. offer book
    const template = saleParties({ label: 'bench-book', oracle: oracle.oracle });
    const rec0 = createOffer({
      id: '', terms: template.terms, summary: { template: 'hashpower-sale', window: template.window, price: '450000', hashrateThs: '100' },
      offerer: { identityPubkey: identityOf(template.offerIdentity), fundingPubkey: '02'.padEnd(66, '1'), payoutSpk: '0014'.padEnd(44, '2') },
      offerCollateral: '200000', acceptCollateral: '400000', totalCollateral: '600000', cets: 51, adaptorSignatures: 430,
      oracles: [{ url: oracle.url, eventId: template.eventId, publicKey: identityOf(oracle.oracle.secretKey) }], cetLocktime: 1100, refundLocktime: 1120,
    }, Date.now());
    for (let i = 0; i < BOOK_SIZE; i++) {
      const id = i.toString(16).padStart(64, '0');
      const window = { start: 1000 + (i % 50) * 10, end: 1100 + (i % 50) * 10 };
      await coord.service.store.create({ ...rec0, id, createdAt: rec0.createdAt + i, summary: { ...rec0.summary, window } }, new Uint8Array([i & 0xff]));
    }
    const plain = await listLoad(coord.url, `/v1/offers?limit=${PAGE}`);
    const filtered = await listLoad(coord.url, `/v1/offers?limit=${PAGE}&template=hashpower-sale&windowStart=1200&windowEnd=1400`);
    const perSec = (x: { offers: number; seconds: number }): number => x.offers / x.seconds;
    rows.push([`list ${PAGE} of ${BOOK_SIZE} offers, ${CONCURRENCY} clients`, `${(plain.requests / plain.seconds).toFixed(0)} req/s`, `${perSec(plain).toFixed(0)} offers/s`]);
    rows.push([`same, filtered by template + window`, `${(filtered.requests / filtered.seconds).toFixed(0)} req/s`, `${perSec(filtered).toFixed(0)} offers/s`]);
    summary.coordinatorOffersListedPerSec = Math.round(perSec(plain));

    // ---- 2. a full sale, offer → funding broadcast
    const signer = (setup: Parameters<typeof signContractCets>[1], key: Uint8Array) => signContractCets(engine, setup, key);
    const verifier = (setup: Parameters<typeof verifyContractCets>[1], party: 'offer' | 'accept', sigs: Parameters<typeof verifyContractCets>[3]) =>
      verifyContractCets(engine, setup, party, sigs);
    for (const [name, roundingMod] of [['~100 CETs', 6_000n], ['~10,000 CETs', 1n]] as const) {
      const p = saleParties({ label: `bench-sale-${roundingMod}`, oracle: oracle.oracle, roundingMod });
      events.set(p.eventId, p.announcement);
      const t0 = performance.now();
      const offered = await api(coord.url, 'POST', '/v1/offers', { body: { offer: p.offerHex, identityPubkey: identityOf(p.offerIdentity), terms: p.terms }, key: p.offerIdentity });
      if (offered.status !== 201) throw new Error(JSON.stringify(offered.body));
      const id = offered.body.id as string;
      const t1 = performance.now();
      const { acceptHex } = await p.acceptAsync(signer);
      const t2 = performance.now();
      const acc = await api(coord.url, 'POST', `/v1/contracts/${id}/accept`, { body: { accept: acceptHex, identityPubkey: identityOf(p.acceptIdentity) }, key: p.acceptIdentity });
      if (acc.status !== 200) throw new Error(JSON.stringify(acc.body));
      const t3 = performance.now();
      const { signHex } = await p.signAsync({ signer, verifier });
      const t4 = performance.now();
      const sgn = await api(coord.url, 'POST', `/v1/contracts/${id}/sign`, { body: { sign: signHex }, key: p.offerIdentity });
      if (sgn.status !== 200) throw new Error(JSON.stringify(sgn.body));
      const t5 = performance.now();
      const fund = await api(coord.url, 'POST', `/v1/contracts/${id}/fund`, { body: { fundingPsbt: p.signedFundingPsbt('accept') }, key: p.acceptIdentity });
      if (fund.status !== 200 || fund.body.state !== 'funding-broadcast') throw new Error(JSON.stringify(fund.body));
      const t6 = performance.now();
      const cets = p.template.cetCount.cets;
      const sigs = p.template.cetCount.adaptorSignatures;
      const ms = (a: number, b: number): string => `${(b - a).toFixed(0)}`;
      rows.push([
        `sale ${name}: ${cets} CETs, ${sigs} sigs/party`,
        `total ${ms(t0, t6)} ms`,
        `offer ${ms(t0, t1)} | buyer signs ${ms(t1, t2)} | coord verifies accept ${ms(t2, t3)} | miner verifies+signs ${ms(t3, t4)} | coord verifies sign ${ms(t4, t5)} | fund ${ms(t5, t6)} (ms)`,
      ]);
      summary[`coordinatorSaleMs_${cets}cets`] = Math.round(t6 - t0);
      summary[`coordinatorVerifyAcceptMs_${cets}cets`] = Math.round(t3 - t2);
    }
    console.log(`\ncoordinator (threads ${opts.threads}, node stubbed)\n${formatTable(['measure', 'rate / total', 'detail'], rows)}\n`);
    return summary;
  } finally {
    await engine.close();
    await coord.stop();
    await oracle.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const coordinatorSection: BenchSection = { name: 'coordinator', run: runCoordinatorBench };
