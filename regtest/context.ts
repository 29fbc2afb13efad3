/**
 * What a regtest test file uses: the shared node's RPC client and faucet, from
 * the global setup (regtest/vitest-setup.ts) through vitest's `inject`.
 *
 * This module does NOT start a node: run regtest suites through the `regtest`
 * vitest project (`npm run test:regtest`), which has the global setup.
 */
import { inject } from 'vitest';
import { BitcoinRpc } from '../src/chain/rpc.js';
import { Faucet } from './helpers.js';
import type { NodeKind } from './node.js';
import { TestKey } from './wallet.js';
import type {} from './vitest-setup.js';

export interface RegtestContext {
  kind: NodeKind;
  pid: number;
  rpc: BitcoinRpc;
  faucet: Faucet;
}

/**
 * The shared node and faucet.
 * @throws {Error} outside the regtest vitest project.
 */
export function useRegtest(): RegtestContext {
  const provided = inject('regtest');
  if (!provided) throw new Error('no regtest node: run this suite in the vitest "regtest" project');
  const rpc = new BitcoinRpc(provided.rpc);
  return { kind: provided.kind, pid: provided.pid, rpc, faucet: new Faucet(rpc, TestKey.fromHex(provided.faucetKeyHex)) };
}
