/**
 * Plumbing of the scenario suite (test/regtest/scenario-*.test.ts), not a
 * test file: a "world" is the local stack of `npm start` (src/stack:
 * oracle and coordinator as child processes, demo miner and buyer wallets)
 * on the suite's shared regtest node, with fast polling, plus optional
 * extra oracles in-process (a silent one, a hashprice one with a
 * mainnet-like simulated difficulty) that the coordinator also accepts.
 * Participants act through the participant library (src/stack/participant.ts
 * `StackParticipant`); a test that checks the CLI itself runs `hashdlc` as
 * a child process (`runCli`). Outcomes are checked on chain
 * (src/stack/observe.ts).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, inject } from 'vitest';
import { startOracle, type RunningOracle } from '../../oracle/index.js';
import type { BitcoinRpc } from '../../src/chain/index.js';
import {
  DEFAULT_PORTS,
  StackParticipant,
  curvePayouts,
  offerHexOf,
  onChainPayouts,
  onChainValue,
  startStack,
  waitForAttestation,
  waitForContractState,
  type AttestationView,
  type ContractView,
  type Payouts,
  type RunningStack,
  type PostedOffer,
  type StackConfig,
} from '../../src/stack/index.js';
import type { OfferInput } from '../../src/participant/index.js';
import { useRegtest } from '../../regtest/context.js';
import { mineAsPool, mineBlocks, mineToHeight, regtestSubsidy, strangerAddress, type PoolShare } from '../../regtest/index.js';

export const OPERATOR_TOKEN = 'scenario-operator-token-0123456789';

/** An oracle run in the test process (extra to the stack's own). */
export interface ExtraOracle {
  oracle: RunningOracle;
  url: string;
  /** POST /v1/events with the operator token; returns the event id. */
  createEvent(body: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts an oracle in this process on the shared node, indexing from the tip.
 * @throws {OracleError} as startOracle.
 */
export async function startExtraOracle(rpc: BitcoinRpc, simulatedDifficulty: string): Promise<ExtraOracle> {
  const node = inject('regtest').rpc;
  const dataDir = mkdtempSync(join(tmpdir(), 'hashdlc-scenario-oracle-'));
  const oracle = await startOracle(
    {
      network: 'regtest',
      rpc: { url: node.url, username: node.username, password: node.password },
      dataDir,
      port: 0,
      pollIntervalMs: 50,
      operatorToken: OPERATOR_TOKEN,
      indexStartHeight: await rpc.getBlockCount(),
      simulatedDifficulty,
    },
    { log: () => undefined },
  );
  let closed = false;
  return {
    oracle,
    url: oracle.url,
    async createEvent(body) {
      const res = await fetch(`${oracle.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${OPERATOR_TOKEN}` },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as { eventId?: string };
      if (res.status !== 201 && res.status !== 200) throw new Error(`oracle refused the event: ${JSON.stringify(json)}`);
      return json.eventId!;
    },
    async close() {
      if (closed) return;
      closed = true;
      await oracle.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The stack of `npm start` on the shared node, and its two participants. */
export interface World {
  stack: RunningStack;
  rpc: BitcoinRpc;
  coordinatorUrl: string;
  /** The stack's first oracle (simulated network of 1 PH/s: 100 TH/s = 10% of each block); `miner`/`buyer` use it alone. */
  oracleUrl: string;
  /** Every oracle of the stack (one unless `startWorld({ oracles })` asked for more). */
  oracleUrls: string[];
  miner: StackParticipant;
  buyer: StackParticipant;
  /** The same two wallets, talking to another oracle. */
  with(oracleUrl: string): { miner: StackParticipant; buyer: StackParticipant };
  close(): Promise<void>;
}

/**
 * Starts the stack (src/stack `startStack`) on the shared regtest node with
 * its data in a temp directory, the shared faucet as its pool, fast polling,
 * one oracle unless `oracles` says more (each is a process: the suite shares 2 cores).
 * @throws as startStack.
 */
export async function startWorld(options: { extraOracleUrls?: string[]; oracles?: number } = {}): Promise<World> {
  const { rpc, faucet } = useRegtest();
  const node = inject('regtest').rpc;
  const dir = mkdtempSync(join(tmpdir(), 'hashdlc-scenario-'));
  const config: StackConfig = {
    dataDir: dir,
    ports: { node: { port: DEFAULT_PORTS.node, strict: false }, oracle: { port: 0, strict: false }, coordinator: { port: 0, strict: false } },
    oracleCount: options.oracles ?? 1,
    backend: 'auto',
    externalNode: { url: node.url, username: node.username, password: node.password },
    help: false,
  };
  const stack = await startStack(config, {
    poolKeyHex: Buffer.from(faucet.key.privateKey).toString('hex'),
    extraOracleUrls: options.extraOracleUrls ?? [],
    oracleOverrides: { pollIntervalMs: 50 },
    coordinatorOverrides: { engineThreads: 1, watcher: { pollIntervalMs: 100, attestationPollIntervalMs: 100 } },
  });
  const services = (oracle: string): ConstructorParameters<typeof StackParticipant>[2] => ({
    rpc: stack.state.node.rpc,
    coordinator: stack.state.coordinator.url,
    oracles: [oracle],
    threads: 1,
  });
  const pair = (oracle: string): { miner: StackParticipant; buyer: StackParticipant } => ({
    miner: new StackParticipant('miner', stack.state.wallets.miner, services(oracle)),
    buyer: new StackParticipant('buyer', stack.state.wallets.buyer, services(oracle)),
  });
  const { miner, buyer } = pair(stack.state.oracles[0]!.url);
  return {
    stack,
    rpc,
    coordinatorUrl: stack.state.coordinator.url,
    oracleUrl: stack.state.oracles[0]!.url,
    oracleUrls: stack.state.oracles.map((o) => o.url),
    miner,
    buyer,
    with: pair,
    async close() {
      await stack.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A contract negotiated through the library, funding broadcast by the coordinator. */
export interface Negotiated {
  id: string;
  eventId: string;
  fundingTxid: string;
  /** The offer step's result. */
  offer: PostedOffer;
}

/**
 * Miner `offer` (at 2 sat/vB), buyer `accept`, miner `sign`, buyer `fund`.
 * @throws the failing step's error (ParticipantError, WalletError, ...).
 */
export async function negotiate(p: { miner: StackParticipant; buyer: StackParticipant }, offer: OfferInput): Promise<Negotiated> {
  const posted = await p.miner.offer({ ...offer, feeRatePerVb: 2n });
  const id = posted.id;
  await p.buyer.accept(id);
  await p.miner.sign(id);
  const funded = await p.buyer.fund(id);
  if (funded.psbtOut) throw new Error('fund returned a PSBT');
  return { id, eventId: posted.eventId, fundingTxid: funded.fundingTxid, offer: posted };
}

/** Terms of a hashpower sale. */
export interface SaleTerms {
  window: { start: number; end: number };
  deliveryAddress: string;
  hashrateThs?: bigint;
  upfront?: bigint;
  escrow?: bigint;
  collateral?: bigint;
  toleranceBps?: number;
}

/** Defaults of the suite's sales: 100 TH/s, 50,000 upfront + 250,000 escrow, 200,000 collateral, 95% tolerance. */
export function saleOffer(t: SaleTerms): OfferInput {
  return {
    template: 'hashpower',
    window: t.window,
    hashrateThs: t.hashrateThs ?? 100n,
    deliveryAddress: t.deliveryAddress,
    upfront: t.upfront ?? 50_000n,
    escrow: t.escrow ?? 250_000n,
    collateral: t.collateral ?? 200_000n,
    toleranceBps: t.toleranceBps ?? 9500,
  };
}

/** A fresh receive address of a participant's wallet (`hashdlc wallet address`). */
export function newAddress(p: StackParticipant): Promise<string> {
  return p.address();
}

/** One `hashdlc` run as a child process. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

const BIN = fileURLToPath(new URL('../../bin/hashdlc.js', import.meta.url));

/**
 * Runs `hashdlc <args>` as a child process with the participant's settings
 * in its environment (`StackParticipant.env()`), for tests of the CLI
 * itself (its exit code, its lines); never throws for a failing command.
 */
export function runCli(p: StackParticipant, args: readonly string[], timeoutMs = 120_000): Promise<CliRun> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, HASHDLC_FEE_RATE: '', ...p.env() }, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      done({ code, stdout, stderr });
    });
  });
}

/**
 * Mines to the window's start, then its blocks as the pool (paying `shares`
 * of every coinbase), then one block on top (the oracle's confirmation).
 */
export async function mineWindow(rpc: BitcoinRpc, window: { start: number; end: number }, shares: PoolShare[]): Promise<void> {
  await mineToHeight(rpc, window.start - 1);
  await mineAsPool(rpc, { blocks: window.end - window.start, shares, restAddress: strangerAddress() });
  await mineBlocks(rpc, 1);
}

/** A window of `n` blocks starting `lead` blocks ahead, inside one subsidy era (mines to the next era if needed). */
export async function windowInOneEra(rpc: BitcoinRpc, n: number, lead: number): Promise<{ start: number; end: number }> {
  let tip = await rpc.getBlockCount();
  const era = (h: number): number => Math.floor(h / 150);
  if (era(tip + lead) !== era(tip + lead + n - 1)) {
    await mineToHeight(rpc, (era(tip + lead) + 1) * 150 - lead);
    tip = await rpc.getBlockCount();
  }
  if (regtestSubsidy(tip + lead) === 0n) throw new Error(`regtest subsidy is zero at height ${tip + lead}: the suite mined too far`);
  return { start: tip + lead, end: tip + lead + n };
}

/** What the scenario checks saw. */
export interface Settlement {
  view: ContractView;
  onChain: Payouts;
  curve: Payouts;
  attestation?: AttestationView;
}

/**
 * Waits until the coordinator settled contract `id` (broadcast the CET, which
 * confirmed: mines a block once it is broadcast), then checks the payouts on
 * chain against the payout curve at the attested outcome.
 */
export async function expectSettledOnCurve(w: World, n: Negotiated, oracleUrl = w.oracleUrl): Promise<Settlement> {
  const attestation = await waitForAttestation(oracleUrl, n.eventId);
  const broadcast = await waitForContractState(w.coordinatorUrl, n.id, ['cet-broadcast', 'settled'], 30_000);
  expect(broadcast).toMatchObject({ closingKind: 'cet', outcome: attestation.outcome, broadcastBy: 'coordinator' });
  if (broadcast.state !== 'settled') await mineBlocks(w.rpc, 1);
  const view = await waitForContractState(w.coordinatorUrl, n.id, ['settled'], 30_000);
  const onChain = await onChainPayouts(w.rpc, view.closingTxid!, view);
  const curve = curvePayouts(await offerHexOf(w.coordinatorUrl, n.id), view.terms, BigInt(attestation.outcome));
  expect(onChain).toEqual({ offer: onChainValue(curve.offer), accept: onChainValue(curve.accept) });
  // The closing transaction is in the best chain.
  const tx = await w.rpc.getRawTransaction(view.closingTxid!);
  expect(tx.confirmations ?? 0).toBeGreaterThanOrEqual(1);
  return { view, onChain, curve, attestation };
}
