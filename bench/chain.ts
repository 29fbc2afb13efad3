/**
 * Chain benchmark section: regtest node start time (spawn to first RPC answer)
 * and mining speed — blocks per second through generatetoaddress, and through
 * the pool simulator (getblocktemplate, our own coinbase, submitblock).
 *
 * Uses whatever `startNode()` picks (bitcoind if found, else embedded bcoin).
 * The DLC on-chain lifecycle figure is bench/lifecycle.ts.
 */
import { BitcoinRpc } from '../src/chain/rpc.js';
import { mineAsPool, strangerAddress } from '../regtest/helpers.js';
import { startNode } from '../regtest/node.js';
import type { NodeKind } from '../regtest/node.js';
import { formatTable } from './section.js';
import type { BenchOptions, BenchSection } from './section.js';

const STARTS = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function blocksPerSecond(run: () => Promise<unknown>, blocks: number): Promise<number> {
  const t0 = performance.now();
  await run();
  return (blocks * 1000) / (performance.now() - t0);
}

/** Runs the chain measurements; returns the summary merged into bench/run.ts's JSON line. */
export async function runChainBench(_opts?: BenchOptions): Promise<Record<string, unknown>> {
  const startTimes: number[] = [];
  let kind: NodeKind = 'bcoin';
  for (let i = 0; i < STARTS; i++) {
    const node = await startNode();
    kind = node.kind;
    startTimes.push(node.startMs);
    await node.stop();
  }

  const node = await startNode();
  try {
    const rpc = new BitcoinRpc(node.rpc);
    const to = strangerAddress();
    const gen101 = await blocksPerSecond(() => rpc.generateToAddress(101, to), 101);
    const gen1000 = await blocksPerSecond(async () => {
      for (let i = 0; i < 10; i++) await rpc.generateToAddress(100, to);
    }, 1000);
    const pool100 = await blocksPerSecond(
      () => mineAsPool(rpc, { blocks: 100, shares: [{ address: to, shareBps: 5000 }], restAddress: strangerAddress() }),
      100,
    );
    const rows = [
      ['node start (spawn → RPC), median of 3', kind, `${median(startTimes).toFixed(0)} ms`],
      ['generatetoaddress 101 blocks', kind, `${gen101.toFixed(0)} blocks/s`],
      ['generatetoaddress 1,000 blocks (10 × 100)', kind, `${gen1000.toFixed(0)} blocks/s`],
      ['pool simulator 100 blocks (GBT + submitblock)', kind, `${pool100.toFixed(0)} blocks/s`],
    ];
    console.log(`\nchain\n${formatTable(['measure', 'node', 'result'], rows)}\n`);
    return {
      chainNode: kind,
      chainNodeStartMs: Math.round(median(startTimes)),
      chainBlocksPerSec: Math.round(gen1000),
      chainBlocksPerSec101: Math.round(gen101),
      chainPoolBlocksPerSec: Math.round(pool100),
    };
  } finally {
    await node.stop();
  }
}

/** The section for bench/run.ts. */
export const chainSection: BenchSection = { name: 'chain', run: runChainBench };
