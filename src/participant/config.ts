/**
 * What a participant is configured with: its wallet directory and network,
 * the coordinator and oracle it uses (the oracle's key pinned or not), its
 * node, its default fee rate and signing threads. The CLI reads it from
 * flags and `HASHDLC_*` variables (src/cli/config.ts); the agent and the
 * stack build it directly.
 *
 * This module does NOT read the environment or contact anything.
 */
import type { RpcConfig } from '../chain/index.js';
import type { WalletNetworkName } from '../wallet/index.js';
import { ParticipantError } from './errors.js';

export interface ParticipantConfig {
  network: WalletNetworkName;
  /** Whether the network was given (flag or env) rather than defaulted. */
  networkGiven: boolean;
  walletDir: string;
  coordinator: string | undefined;
  oracle: string | undefined;
  oraclePubkey: string | undefined;
  rpc: RpcConfig | undefined;
  feeRatePerVb: bigint | undefined;
  threads: number | undefined;
}

/**
 * The coordinator URL, required.
 * @throws {ParticipantError} CONFIG.
 */
export function needCoordinator(c: ParticipantConfig): string {
  if (c.coordinator === undefined) throw new ParticipantError('CONFIG', 'no coordinator: pass --coordinator URL or set HASHDLC_COORDINATOR');
  return c.coordinator;
}

/**
 * The oracle URL, required.
 * @throws {ParticipantError} CONFIG.
 */
export function needOracle(c: ParticipantConfig): string {
  if (c.oracle === undefined) throw new ParticipantError('CONFIG', 'no oracle: pass --oracle URL or set HASHDLC_ORACLE');
  return c.oracle;
}

/**
 * The node RPC settings, required.
 * @throws {ParticipantError} CONFIG.
 */
export function needRpc(c: ParticipantConfig): RpcConfig {
  if (c.rpc === undefined) throw new ParticipantError('CONFIG', 'no Bitcoin node: pass --rpc-url URL or set HASHDLC_RPC_URL');
  return c.rpc;
}
