/**
 * What a participant is configured with: its wallet directory and network,
 * the coordinator and the oracle set it trusts (URLs, pinned keys, the
 * threshold of its offers), its
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
  /** The oracles this participant trusts (base URLs, no duplicates); an offer names all of them. */
  oracles: string[];
  /** Pinned x-only keys (lower-case hex): when any are given, every oracle's key must be one of them. */
  oraclePubkeys: string[];
  /**
   * K of a K-of-n offer (dlcspecs MultiOracle.md threshold); default: a
   * majority of `oracles` (1 of 1, 2 of 3, 3 of 5). Accepting, the least K
   * taken from an offer (default: any).
   */
  oracleThreshold: number | undefined;
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
 * The oracle URLs, at least one.
 * @throws {ParticipantError} CONFIG.
 */
export function needOracles(c: ParticipantConfig): string[] {
  if (c.oracles.length === 0) throw new ParticipantError('CONFIG', 'no oracle: pass --oracle URL (repeatable) or set HASHDLC_ORACLE (comma-separated)');
  return c.oracles;
}

/** The default threshold of an offer over `n` oracles: a majority. */
export function majorityThreshold(n: number): number {
  return Math.floor(n / 2) + 1;
}

/**
 * The node RPC settings, required.
 * @throws {ParticipantError} CONFIG.
 */
export function needRpc(c: ParticipantConfig): RpcConfig {
  if (c.rpc === undefined) throw new ParticipantError('CONFIG', 'no Bitcoin node: pass --rpc-url URL or set HASHDLC_RPC_URL');
  return c.rpc;
}
