/**
 * Shared set-up of the coordinator regtest suites (not a test file): the real
 * oracle service in-process on the shared node (simulated difficulty such
 * that a miner paid 50% of every coinbase delivers exactly 100 TH/s), a
 * delivery event, two parties funded with real outputs, their hashpower sale
 * built over those outputs (test/coordinator-fixtures.ts `saleParties`), and
 * the coordinator either in-process or as a child process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Transaction } from 'bitcoinjs-lib';
import { expect, inject } from 'vitest';
import { startOracle, type RunningOracle } from '../../oracle/index.js';
import type { OracleAnnouncement } from '../../protocol/messages/index.js';
import { decodeMessage, fromHex } from '../../protocol/messages/index.js';
import type { BitcoinRpc } from '../../src/chain/index.js';
import { startCoordinator, type CoordinatorConfigInput, type RunningCoordinator } from '../../src/coordinator/index.js';
import { fundDlcWallet, fundingInputFromNode, type DlcWallet } from '../../regtest/dlc.js';
import type { Faucet } from '../../regtest/index.js';
import { mineBlocks, TestKey } from '../../regtest/index.js';
import { api, identityOf, saleParties, type SaleParties } from '../coordinator-fixtures.js';

/** D = H·1e12·600 / (0.5·2^32) for H = 100 TH/s: a 50% coinbase share delivers 100 TH/s exactly. */
export const SIMDIFF_100THS_AT_HALF = '27939677.23846435546875';
const HALVING = 150;

export interface RealOracle {
  oracle: RunningOracle;
  url: string;
  /** Creates a 100 TH/s delivery event for `address` over `window`; returns its announcement. */
  deliveryEvent(window: { start: number; end: number }, address: string): Promise<OracleAnnouncement>;
  /** The attestation body once the oracle has attested (polls). */
  attestation(eventId: string, ms?: number): Promise<{ outcome: string; hex: string }>;
  close(): Promise<void>;
}

/** The oracle service in-process, indexing from the current tip. */
export async function startRealOracle(rpc: BitcoinRpc): Promise<RealOracle> {
  const node = inject('regtest').rpc;
  const dataDir = mkdtempSync(join(tmpdir(), 'hashdlc-coord-oracle-'));
  const oracle = await startOracle({
    network: 'regtest',
    rpc: { url: node.url, username: node.username, password: node.password },
    dataDir,
    port: 0,
    pollIntervalMs: 50,
    indexStartHeight: await rpc.getBlockCount(),
    simulatedDifficulty: SIMDIFF_100THS_AT_HALF,
  }, { log: () => undefined });
  const url = oracle.url;
  return {
    oracle,
    url,
    async deliveryEvent(window, address) {
      const res = await fetch(`${url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'hashpower-delivery', window, deliveryAddress: address, poolPayoutAddresses: [], hashrateThs: '100' }),
      });
      const body = (await res.json()) as { announcement: { hex: string }; error?: unknown };
      if (res.status !== 201 && res.status !== 200) throw new Error(`oracle refused the event: ${JSON.stringify(body)}`);
      const m = decodeMessage(fromHex(body.announcement.hex));
      if (m.type !== 'oracle_announcement') throw new Error(m.type);
      return m.message;
    },
    async attestation(eventId, ms = 20_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const res = await fetch(`${url}/v1/events/${encodeURIComponent(eventId)}/attestation`);
        if (res.status === 200) return (await res.json()) as { outcome: string; hex: string };
        await res.body?.cancel();
        if (Date.now() > deadline) throw new Error('timed out waiting for the attestation');
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: async () => {
      await oracle.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Mines until a window of `n` blocks starting `lead` blocks ahead lies in one subsidy era. */
export async function windowInOneEra(rpc: BitcoinRpc, n: number, lead: number): Promise<{ start: number; end: number }> {
  let tip = await rpc.getBlockCount();
  const era = (h: number): number => Math.floor(h / HALVING);
  if (era(tip + lead) !== era(tip + lead + n - 1)) {
    await mineBlocks(rpc, HALVING - ((tip + lead) % HALVING));
    tip = await rpc.getBlockCount();
  }
  return { start: tip + lead, end: tip + lead + n };
}

/** A hashpower sale over real outputs on the node, with its wallets. */
export interface RegtestSale {
  parties: SaleParties;
  offerWallet: DlcWallet;
  acceptWallet: DlcWallet;
  /** Where the miner's pool pays the buyer's hashpower (the oracle event's delivery address). */
  delivery: TestKey;
  upfront: TestKey;
}

/**
 * Funds both parties (one block mined to confirm), announces the delivery
 * event and builds the sale (offer, accept, sign, funding PSBTs) over the real outputs.
 */
export async function regtestSale(
  rpc: BitcoinRpc,
  faucet: Faucet,
  oracle: RealOracle,
  label: string,
  window: { start: number; end: number },
  locktimes?: { cetLocktime: number; refundLocktime: number },
  /** A K-of-n oracle set instead of `oracle` alone: each announces the same delivery event. */
  set?: { oracles: readonly RealOracle[]; threshold: number },
): Promise<RegtestSale> {
  const offerWallet = await fundDlcWallet(faucet, 'offer', 300_000n);
  const acceptWallet = await fundDlcWallet(faucet, 'accept', 550_000n);
  await mineBlocks(rpc, 1);
  const delivery = TestKey.random();
  const upfront = TestKey.random();
  const announcements = await Promise.all((set?.oracles ?? [oracle]).map((o) => o.deliveryEvent(window, delivery.address)));
  const parties = saleParties({
    label,
    announcement: announcements[0]!,
    ...(set !== undefined ? { oracleInfo: { multi: { threshold: set.threshold, oracleAnnouncements: announcements, oracleParams: null } } } : {}),
    deliveryAddress: delivery.address,
    window,
    offerInputs: [await fundingInputFromNode(rpc, offerWallet.inputs[0]!, 5n)],
    acceptInputs: [await fundingInputFromNode(rpc, acceptWallet.inputs[0]!, 6n)],
    offerUtxoKey: offerWallet.inputs[0]!.key.privateKey,
    acceptUtxoKey: acceptWallet.inputs[0]!.key.privateKey,
    payoutSpks: { offer: offerWallet.payout.outputScript, accept: acceptWallet.payout.outputScript },
    upfrontScript: upfront.outputScript,
    ...(locktimes !== undefined ? { locktimes } : {}),
  });
  return { parties, offerWallet, acceptWallet, delivery, upfront };
}

/** Coordinator settings shared by the suites (fast polling). */
export function coordinatorConfig(dataDir: string, oracleUrl: string, port = 0): CoordinatorConfigInput {
  const node = inject('regtest').rpc;
  return {
    dataDir,
    port,
    rpc: { url: node.url, username: node.username, password: node.password },
    oracles: [oracleUrl],
    engineThreads: 1,
    watcher: { pollIntervalMs: 100, attestationPollIntervalMs: 1 },
  };
}

/** The coordinator in-process, watcher driven by the test (`watcher.tick()`). */
export async function startInProcessCoordinator(dataDir: string, oracleUrl: string): Promise<RunningCoordinator> {
  return startCoordinator(coordinatorConfig(dataDir, oracleUrl), { watch: false, log: () => undefined });
}

/** A coordinator child process (`tsx src/coordinator/main.ts --config FILE`). */
export interface CoordinatorProcess {
  url: string;
  child: ChildProcess;
  /** Every line the process wrote on stderr so far (its JSON log lines), in order; kept after it exits. */
  stderrLines: string[];
  /** How many of its JSON log lines so far have exactly this `msg` (and these field values, e.g. `{ id }`). */
  logged(msg: string, fields?: Record<string, unknown>): number;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
}

/** Options of `spawnCoordinator` beyond the LevelDB defaults. */
export interface SpawnCoordinatorOptions {
  /** PostgreSQL instead of LevelDB (`--database-url`): replicas on one database; `dataDir` then only holds the config file's folder. */
  databaseUrl?: string;
  /** The watcher's poll period (default 100 ms): a replica tries the leadership lease once per poll. */
  pollIntervalMs?: number;
}

/**
 * Starts `hashdlc-coordinator` as a child process on `port` with its data in
 * `dataDir` (or on `opts.databaseUrl`), and waits for the line with its URL.
 * @throws {Error} when it exits or does not answer within 30 s.
 */
export async function spawnCoordinator(dataDir: string, oracleUrl: string, port: number, opts: SpawnCoordinatorOptions = {}): Promise<CoordinatorProcess> {
  const configFile = join(dataDir, '..', `coordinator-${port}.json`);
  const base = coordinatorConfig(dataDir, oracleUrl, port);
  const { dataDir: _unused, ...withoutDataDir } = base;
  const config: CoordinatorConfigInput = {
    ...(opts.databaseUrl === undefined ? base : withoutDataDir),
    watcher: { ...base.watcher, ...(opts.pollIntervalMs !== undefined ? { pollIntervalMs: opts.pollIntervalMs } : {}) },
  };
  writeFileSync(configFile, JSON.stringify(config));
  const args = ['--import', 'tsx', 'src/coordinator/main.ts', '--config', configFile, ...(opts.databaseUrl !== undefined ? ['--database-url', opts.databaseUrl] : [])];
  const child = spawn(process.execPath, args, {
    cwd: new URL('../../', import.meta.url).pathname,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderrLines: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => stderrLines.push(line));
  const tail = (): string => stderrLines.slice(-20).join('\n');
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`coordinator did not start: ${tail()}`)), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      // The last stderr lines may still be in the pipe: give readline a turn.
      setImmediate(() => reject(new Error(`coordinator exited with ${code}: ${tail()}`)));
    });
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { url: string }).url);
    });
  });
  return {
    url,
    child,
    stderrLines,
    logged: (msg, fields = {}) => stderrLines.filter((line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        return entry.msg === msg && Object.entries(fields).every(([k, v]) => entry[k] === v);
      } catch {
        return false; // not a log line (e.g. a Node warning)
      }
    }).length,
    kill: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    }),
  };
}

/** Polls `fn` until it returns a value, or fails after `ms`. */
export async function until<T>(fn: () => Promise<T | undefined>, ms = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

type Body = Record<string, unknown>;

/** Awaits an API call and expects `status`; returns the body. */
export async function okStatus(r: Promise<{ status: number; body: Body }>, status = 200): Promise<Body> {
  const res = await r;
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  return res.body;
}

/** Offer → accept → sign → fund over HTTP at `url`; returns the contract id and the funding transaction. */
export async function fundSaleOverHttp(url: string, sale: RegtestSale): Promise<{ id: string; fundingTx: Transaction }> {
  const p = sale.parties;
  const offer = await okStatus(api(url, 'POST', '/v1/offers', { body: { offer: p.offerHex, identityPubkey: identityOf(p.offerIdentity), terms: p.terms }, key: p.offerIdentity }), 201);
  const id = offer.id as string;
  await okStatus(api(url, 'POST', `/v1/contracts/${id}/accept`, { body: { accept: p.accept().acceptHex, identityPubkey: identityOf(p.acceptIdentity) }, key: p.acceptIdentity }));
  await okStatus(api(url, 'POST', `/v1/contracts/${id}/sign`, { body: { sign: p.sign().signHex, fundingPsbt: p.signedFundingPsbt('offer') }, key: p.offerIdentity }));
  const funded = await okStatus(api(url, 'POST', `/v1/contracts/${id}/fund`, { body: { fundingPsbt: p.signedFundingPsbt('accept') }, key: p.acceptIdentity }));
  expect(funded.state).toBe('funding-broadcast');
  return { id, fundingTx: Transaction.fromHex(funded.fundingTx as string) };
}
