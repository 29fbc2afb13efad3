/**
 * vitest global setup of the regtest project: starts one regtest node for the
 * whole run, mines mature coins to a faucet key, and hands the node's RPC
 * config and the faucet key to test files through `provide` (read them with
 * `useRegtest()` from regtest/context.ts). Stops the node at teardown.
 *
 * This module does NOT share keys or addresses between tests beyond the
 * faucet: each test makes its own with `TestKey.random()`.
 */
import type { TestProject } from 'vitest/node';
import { BitcoinRpc } from '../src/chain/rpc.js';
import type { RpcConfig } from '../src/chain/rpc.js';
import { startNode } from './node.js';
import type { NodeKind } from './node.js';
import { TestKey } from './wallet.js';

/** What every regtest test file receives. */
export interface RegtestProvided {
  kind: NodeKind;
  pid: number;
  rpc: RpcConfig;
  /** Private key (hex) of the shared faucet, which owns mature coinbases. */
  faucetKeyHex: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    regtest: RegtestProvided;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const node = await startNode();
  try {
    const rpc = new BitcoinRpc(node.rpc);
    const faucet = TestKey.random();
    // 110 blocks: ten coinbases of 50 BTC are mature (100 confirmations).
    await rpc.generateToAddress(110, faucet.address);
    project.provide('regtest', {
      kind: node.kind,
      pid: node.pid,
      rpc: node.rpc,
      faucetKeyHex: Buffer.from(faucet.privateKey).toString('hex'),
    });
    process.stderr.write(`[regtest] ${node.kind} node pid ${node.pid} at ${node.rpc.url} (started in ${node.startMs.toFixed(0)} ms)\n`);
  } catch (err) {
    await node.stop();
    throw err;
  }
  return () => node.stop();
}
