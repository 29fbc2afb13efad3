/**
 * Oracle benchmark section:
 * - catch-up indexing speed: blocks per second over a fresh regtest chain of
 *   10,000 blocks (plus genesis), from `startOracle` with an empty store until
 *   its first index pass is done (target: at least 1,000 blocks/s);
 * - attestation latency: time from the node accepting the block that reaches
 *   an event's attest height (`end - 1 + confirmations`) to the attestation
 *   being served over HTTP, with the default 200 ms poll (target: under 1 s),
 *   median and worst of several events.
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
      { network: 'regtest', rpc: node.rpc, dataDir, port: 0, operatorToken: 'bench-operator-token-0000' },
      { log: () => undefined },
    );
    const indexMs = performance.now() - t0;
    const indexRate = ((height + 1) * 1000) / indexMs;

    const latencies: number[] = [];
    try {
      for (let i = 0; i < LATENCY_RUNS; i++) {
        const miner = TestKey.random();
        const tip = await rpc.getBlockCount();
        const window = { start: tip + 1, end: tip + 3 };
        const res = await fetch(`${oracle.url}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ kind: 'hashpower-delivery', window, deliveryAddress: miner.address, hashrateThs: '100' }),
        });
        const event = (await res.json()) as { eventId: string; attestHeight: number };
        const shares = [{ address: miner.address, shareBps: 5000 }];
        await mineAsPool(rpc, { blocks: event.attestHeight - tip - 1, shares, restAddress: to });
        await oracle.tick();
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
          if (performance.now() - accepted > 10_000) throw new Error('no attestation within 10 s');
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        latencies.push(performance.now() - accepted);
      }
    } finally {
      await oracle.stop();
    }
    const rows = [
      [`index catch-up, ${height + 1} blocks (JSON-RPC batches, raw blocks)`, node.kind, `${indexRate.toFixed(0)} blocks/s (${(indexMs / 1000).toFixed(1)} s)`],
      [`attest latency, median of ${LATENCY_RUNS} (poll 200 ms)`, node.kind, `${median(latencies).toFixed(0)} ms`],
      [`attest latency, worst of ${LATENCY_RUNS}`, node.kind, `${Math.max(...latencies).toFixed(0)} ms`],
    ];
    console.log(`\noracle\n${formatTable(['measure', 'node', 'result'], rows)}\n`);
    return {
      oracleIndexBlocksPerSec: Math.round(indexRate),
      oracleAttestLatencyMs: Math.round(median(latencies)),
      oracleAttestLatencyMaxMs: Math.round(Math.max(...latencies)),
    };
  } finally {
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The section for bench/run.ts. */
export const oracleSection: BenchSection = { name: 'oracle', run: runOracleBench };
