/**
 * Plumbing of test/regtest/scenario-oracle-set.test.ts (not a test file): a
 * k-of-n world made of real processes. Three oracle service processes (each
 * its own key, data directory, config file, log and port), each following
 * the suite's node or a divergent node (regtest/divergent.ts); a coordinator
 * process (API and dashboard, watcher on) that allows all three; a miner and
 * a buyer acting through the participant library (`StackParticipant`)
 * configured with the three URLs, their pinned keys and a threshold.
 * Processes are started like the stack's (src/stack `spawnService`: own
 * process group, stdin held so they stop when this process dies), so an
 * oracle can be SIGKILLed mid-scenario.
 *
 * Simulated difficulty: a pool member paid 50% of every coinbase delivers
 * exactly 100 TH/s (oracle-fixture.ts `SIMDIFF_100THS_AT_HALF`).
 *
 * This module does NOT make or settle contracts (the scenarios do, through
 * the library and the coordinator's watcher).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { decodeOfferDlc, fromHex, toHex, type OracleInfo } from '../../protocol/messages/index.js';
import type { BitcoinRpc, RpcConfig } from '../../src/chain/index.js';
import { offerHexOf, spawnService, StackParticipant, type ServiceExit, type ServiceProcess } from '../../src/stack/index.js';
import type { Faucet } from '../../regtest/index.js';
import { SIMDIFF_100THS_AT_HALF } from './oracle-fixture.js';
import { twoFundedWallets } from './participant-fixture.js';

/** One oracle process of the set. */
export interface SetOracle {
  /** Position in the set (the participants' configured order). */
  index: number;
  url: string;
  /** x-only public key, lower-case hex (from the process's ready line). */
  publicKey: string;
  /** Which chain its node has: the suite's node, or the divergent one. */
  follows: 'main' | 'divergent';
  process: ServiceProcess;
  /** SIGKILL (no clean stop: the oracle just goes silent); resolves once it has exited. */
  kill(): Promise<ServiceExit>;
}

/** A coordinator view's per-oracle entry (src/coordinator/API.md, issue 11). */
export type { OracleView } from '../../src/api/coordinator.js';

export interface OracleSetWorld {
  oracles: SetOracle[];
  coordinatorUrl: string;
  coordinator: ServiceProcess;
  /** K of the participants' offers. */
  threshold: number;
  miner: StackParticipant;
  buyer: StackParticipant;
  /** Stops every process (clean SIGTERM; a killed one is already gone) and removes the directory. */
  close(): Promise<void>;
}

/** The node an oracle of the set reads: its RPC settings (for its config) and a client (for its start height). */
export interface OracleNode {
  follows: 'main' | 'divergent';
  rpc: RpcConfig;
  rpcClient: BitcoinRpc;
}

export interface OracleSetOptions {
  /** Oracles and the node each follows, in the participants' order; default three on the suite's node. */
  oracleNodes?: OracleNode[];
  /** K; default 2. */
  threshold?: number;
}

function writeJson(file: string, value: unknown): string {
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
  return file;
}

/** Starts one oracle process on `rpc`'s chain, indexing from that node's tip. */
async function spawnOracle(dir: string, index: number, node: OracleNode): Promise<SetOracle> {
  const dataDir = join(dir, `oracle-${index}`);
  mkdirSync(dataDir, { recursive: true });
  const config = writeJson(join(dir, `oracle-${index}.json`), {
    network: 'regtest',
    rpc: { url: node.rpc.url, username: node.rpc.username, password: node.rpc.password },
    dataDir,
    port: 0,
    pollIntervalMs: 50,
    indexStartHeight: await node.rpcClient.getBlockCount(),
    simulatedDifficulty: SIMDIFF_100THS_AT_HALF,
  });
  const service = await spawnService('oracle', config, join(dir, `oracle-${index}.log`));
  return { index, url: service.url, publicKey: String(service.ready.publicKey), follows: node.follows, process: service, kill: () => service.kill() };
}

/**
 * Starts the oracles (in parallel), then the coordinator allowing all of
 * them, and funds a fresh miner and buyer wallet (one block mined).
 * @throws {StackError} when a process does not start (the others are stopped).
 */
export async function startOracleSetWorld(rpc: BitcoinRpc, faucet: Faucet, options: OracleSetOptions = {}): Promise<OracleSetWorld> {
  const main = inject('regtest').rpc;
  const nodes = options.oracleNodes ?? [0, 1, 2].map((): OracleNode => ({ follows: 'main', rpc: main, rpcClient: rpc }));
  const threshold = options.threshold ?? 2;
  const dir = mkdtempSync(join(tmpdir(), 'hashdlc-oracle-set-'));
  const started: ServiceProcess[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(started.map((s) => s.stop(5_000)));
  };
  try {
    const settled = await Promise.allSettled(nodes.map((n, i) => spawnOracle(dir, i, n)));
    for (const s of settled) if (s.status === 'fulfilled') started.push(s.value.process);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    const oracles = settled.map((s) => (s as PromiseFulfilledResult<SetOracle>).value);

    const coordinatorConfig = writeJson(join(dir, 'coordinator.json'), {
      dataDir: join(dir, 'coordinator'),
      port: 0,
      rpc: { url: main.url, username: main.username, password: main.password },
      oracles: oracles.map((o) => o.url),
      engineThreads: 1,
      watcher: { pollIntervalMs: 100, attestationPollIntervalMs: 100 },
    });
    const coordinator = await spawnService('coordinator', coordinatorConfig, join(dir, 'coordinator.log'));
    started.push(coordinator);

    const minerDir = join(dir, 'miner');
    const buyerDir = join(dir, 'buyer');
    await twoFundedWallets(faucet, minerDir, buyerDir);
    const services = {
      rpc: main,
      coordinator: coordinator.url,
      oracles: oracles.map((o) => o.url),
      oraclePubkeys: oracles.map((o) => o.publicKey),
      oracleThreshold: threshold,
      threads: 1,
    };
    return {
      oracles,
      coordinatorUrl: coordinator.url,
      coordinator,
      threshold,
      miner: new StackParticipant('miner', minerDir, services),
      buyer: new StackParticipant('buyer', buyerDir, services),
      async close() {
        await stopAll();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** The oracle info an offer (from the coordinator's book) carries. @throws when it is not a single-contract offer */
export async function offerOracleInfo(coordinatorUrl: string, id: string): Promise<OracleInfo> {
  const ci = decodeOfferDlc(fromHex(await offerHexOf(coordinatorUrl, id))).contractInfo;
  if (!('singleContractInfo' in ci)) throw new Error('not a single-contract offer');
  return ci.singleContractInfo.contractInfo.oracleInfo;
}

/** The threshold and announcing keys (hex, in order) of an oracle info; a single oracle is 1 of 1. */
export function oracleSetOf(info: OracleInfo): { threshold: number; keys: string[] } {
  if ('single' in info) return { threshold: 1, keys: [toHex(info.single.oracleAnnouncement.oraclePublicKey)] };
  return { threshold: info.multi.threshold, keys: info.multi.oracleAnnouncements.map((a) => toHex(a.oraclePublicKey)) };
}
