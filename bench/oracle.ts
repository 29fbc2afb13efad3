/**
 * Oracle benchmark section:
 * - catch-up indexing speed: blocks per second over a fresh regtest chain of
 *   10,000 blocks (plus genesis), from `startOracle` with an empty store until
 *   its first index pass is done (target: at least 1,000 blocks/s);
 * - attestation latency: time from the node accepting the block that reaches
 *   an event's attest height (`end - 1 + confirmations`) to the attestation
 *   being served over HTTP, with the default 200 ms poll (target: under 1 s),
 *   median and worst of several events;
 * - the same while 100 public event requests arrive (issue 9, hole 4): 50
 *   for a window 1,000 blocks back (before the fix each re-read the chain to
 *   the tip, in the queue attestations wait in; now refused at once) and 50
 *   for future windows (announced, 64 digits), sent just before the block;
 *   with how long the flood took to be answered.
 *
 * Uses whatever `startNode()` picks (bitcoind if found, else embedded bcoin).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BitcoinRpc } from '../src/chain/rpc.js';
import { mineAsPool, strangerAddress, TestKey } from '../regtest/index.js';
import { startNode } from '../regtest/node.js';
import { startOracle } from '../oracle/index.js';
import { formatTable } from './section.js';
import type { BenchOptions, BenchSection } from './section.js';

const CHAIN_BLOCKS = 10_000;
const LATENCY_RUNS = 7;
const FLOOD_RUNS = 3;
const FLOOD_STALE = 50;
const FLOOD_FRESH = 50;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Runs the oracle measurements; returns the summary merged into bench/run.ts's JSON line. */
export async function runOracleBench(_opts?: BenchOptions): Promise<Record<string, unknown>> {
  const node = await startNode();
  const dataDir = mkdtempSync(join(tmpdir(), 'hashdlc-oracle-bench-'));
  try {
    const rpc = new BitcoinRpc(node.rpc);
    const to = strangerAddress();
    for (let mined = 0; mined < CHAIN_BLOCKS; mined += 1000) await rpc.generateToAddress(1000, to);
    const height = await rpc.getBlockCount();

    const t0 = performance.now();
    const oracle = await startOracle(
      {
        network: 'regtest', rpc: node.rpc, dataDir, port: 0, operatorToken: 'bench-operator-token-0000',
        // One client (this process) sends the whole flood: lift its per-client budgets.
        limits: { requestsPerMinute: 100_000, maxPendingPerClient: 100_000 },
      },
      { log: () => undefined },
    );
    const indexMs = performance.now() - t0;
    const indexRate = ((height + 1) * 1000) / indexMs;

    const post = async (body: Record<string, unknown>): Promise<Response> => {
      const res = await fetch(`${oracle.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      await res.arrayBuffer().catch(() => undefined);
      return res;
    };
    /** One event: mine to the block before its attest height, then (with `flood`) send the requests, mine the block, time the attestation. */
    const attestLatency = async (flood: boolean): Promise<{ ms: number; floodMs?: number; floodStatuses?: number[] }> => {
      const miner = TestKey.random();
      const tip = await rpc.getBlockCount();
      // Public requests need a window that has not started: first block above tip + 1.
      const window = { start: tip + 2, end: tip + 4 };
      const res = await fetch(`${oracle.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'hashpower-delivery', window, deliveryAddress: miner.address, hashrateThs: '100' }),
      });
      const event = (await res.json()) as { eventId: string; attestHeight: number };
      if (res.status !== 201) throw new Error(`event refused: ${JSON.stringify(event)}`);
      const shares = [{ address: miner.address, shareBps: 5000 }];
      await mineAsPool(rpc, { blocks: event.attestHeight - tip - 1, shares, restAddress: to });
      await oracle.tick();
      let floodDone: Promise<number[]> | undefined;
      let floodStart = 0;
      if (flood) {
        const at = event.attestHeight;
        const bodies = [
          ...Array.from({ length: FLOOD_STALE }, () => ({ start: at - 1000, end: at - 1000 + 144 })),
          ...Array.from({ length: FLOOD_FRESH }, (_, i) => ({ start: at + 100 + i, end: at + 110 + i })),
        ].map((w) => ({ kind: 'hashpower-delivery', window: w, deliveryAddress: TestKey.random().address, hashrateThs: '100', nbDigits: 64 }));
        floodStart = performance.now();
        floodDone = Promise.all(bodies.map(async (b) => (await post(b)).status));
      }
      // The block that reaches the attest height: time from its acceptance to the served attestation.
      await mineAsPool(rpc, { blocks: 1, shares, restAddress: to });
      const accepted = performance.now();
      const path = `${oracle.url}/v1/events/${encodeURIComponent(event.eventId)}/attestation`;
      for (;;) {
        const r = await fetch(path);
        if (r.status === 200) {
          await r.arrayBuffer();
          break;
        }
        await r.arrayBuffer();
        if (performance.now() - accepted > 120_000) throw new Error('no attestation within 120 s');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const ms = performance.now() - accepted;
      if (floodDone === undefined) return { ms };
      const floodStatuses = await floodDone;
      return { ms, floodMs: performance.now() - floodStart, floodStatuses };
    };

    const latencies: number[] = [];
    const floodLatencies: number[] = [];
    const floodTimes: number[] = [];
    const floodStatuses = new Map<number, number>();
    try {
      for (let i = 0; i < LATENCY_RUNS; i++) latencies.push((await attestLatency(false)).ms);
      for (let i = 0; i < FLOOD_RUNS; i++) {
        const r = await attestLatency(true);
        floodLatencies.push(r.ms);
        floodTimes.push(r.floodMs!);
        for (const st of r.floodStatuses!) floodStatuses.set(st, (floodStatuses.get(st) ?? 0) + 1);
      }
    } finally {
      await oracle.stop();
    }
    const statusText = [...floodStatuses].sort(([a], [b]) => a - b).map(([st, n]) => `${n}x${st}`).join(' ');
    const rows = [
      [`index catch-up, ${height + 1} blocks (JSON-RPC batches, raw blocks)`, node.kind, `${indexRate.toFixed(0)} blocks/s (${(indexMs / 1000).toFixed(1)} s)`],
      [`attest latency, median of ${LATENCY_RUNS} (poll 200 ms)`, node.kind, `${median(latencies).toFixed(0)} ms`],
      [`attest latency, worst of ${LATENCY_RUNS}`, node.kind, `${Math.max(...latencies).toFixed(0)} ms`],
      [`attest latency, ${FLOOD_STALE + FLOOD_FRESH} public requests arriving, median of ${FLOOD_RUNS}`, node.kind, `${median(floodLatencies).toFixed(0)} ms`],
      [`attest latency, ${FLOOD_STALE + FLOOD_FRESH} public requests arriving, worst of ${FLOOD_RUNS}`, node.kind, `${Math.max(...floodLatencies).toFixed(0)} ms`],
      [`the ${FLOOD_STALE + FLOOD_FRESH} requests all answered, median of ${FLOOD_RUNS} (${statusText})`, node.kind, `${median(floodTimes).toFixed(0)} ms`],
    ];
    console.log(`\noracle\n${formatTable(['measure', 'node', 'result'], rows)}\n`);
    return {
      oracleIndexBlocksPerSec: Math.round(indexRate),
      oracleAttestLatencyMs: Math.round(median(latencies)),
      oracleAttestLatencyMaxMs: Math.round(Math.max(...latencies)),
      oracleAttestLatencyFloodMs: Math.round(median(floodLatencies)),
      oracleAttestLatencyFloodMaxMs: Math.round(Math.max(...floodLatencies)),
      oracleFloodAnsweredMs: Math.round(median(floodTimes)),
    };
  } finally {
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The section for bench/run.ts. */
export const oracleSection: BenchSection = { name: 'oracle', run: runOracleBench };
