/**
 * The services a participant-library regtest needs, started in-process: the
 * test oracle (simulated difficulty: 100 TH/s delivers half) and a
 * coordinator without a watcher; and a `ParticipantConfig` for a wallet
 * directory against them and the regtest node.
 *
 * `twoFundedWallets`: a miner's and a buyer's wallet with one 1,000,000-sat
 * coin each (the miner's unconfirmed).
 *
 * This module does NOT make contracts.
 */
import { join } from 'node:path';
import { inject } from 'vitest';
import type { BitcoinRpc } from '../../src/chain/index.js';
import { Wallet } from '../../src/wallet/index.js';
import type { Faucet } from '../../regtest/index.js';
import { startCoordinator, type RunningCoordinator } from '../../src/coordinator/index.js';
import type { ParticipantConfig } from '../../src/participant/index.js';
import { coordinatorConfig } from './coordinator-fixtures.js';
import { SIMDIFF_100THS_AT_HALF, startTestOracle, type TestOracle } from './oracle-fixture.js';

export interface LibraryServices {
  oracle: TestOracle;
  coordinator: RunningCoordinator;
  /** A participant on `walletDir` against these services and the regtest node (fee rate 2 sat/vB, one worker). */
  config(walletDir: string): ParticipantConfig;
  stop(): Promise<void>;
}

/** Starts the oracle and the coordinator (its store under `dir`). */
export async function startLibraryServices(rpc: BitcoinRpc, dir: string): Promise<LibraryServices> {
  const oracle = await startTestOracle(rpc, { simulatedDifficulty: SIMDIFF_100THS_AT_HALF });
  const coordinator = await startCoordinator(coordinatorConfig(join(dir, 'coordinator'), oracle.oracle.url), { watch: false, log: () => undefined });
  return {
    oracle,
    coordinator,
    config: (walletDir) => ({
      network: 'regtest',
      networkGiven: true,
      walletDir,
      coordinator: coordinator.url,
      oracles: [oracle.oracle.url],
      oraclePubkeys: [oracle.oracle.publicKey],
      oracleThreshold: undefined,
      rpc: inject('regtest').rpc,
      feeRatePerVb: 2n,
      threads: 1,
    }),
    stop: async () => {
      await coordinator.stop();
      await oracle.close();
    },
  };
}

/** Creates the miner's and the buyer's wallets and pays each one coin of 1,000,000 sats (the buyer's confirmed). */
export async function twoFundedWallets(faucet: Faucet, minerDir: string, buyerDir: string): Promise<void> {
  Wallet.init(minerDir, 'regtest');
  Wallet.init(buyerDir, 'regtest');
  await faucet.fund(Wallet.open(minerDir).newReceiveAddress().address, 1_000_000n, { confirm: false });
  await faucet.fund(Wallet.open(buyerDir).newReceiveAddress().address, 1_000_000n);
}
