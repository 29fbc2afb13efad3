/**
 * The data directory of a local stack (`npm start`, `npm run demo`): where
 * each part keeps its data, and the state file through which a running
 * stack is found by the demo (and anyone else: `cat .data/stack.json`).
 *
 *   <dir>/node/               the regtest chain (bcoin LevelDB or bitcoind datadir)
 *   <dir>/oracle/             the first oracle's key file and LevelDB (oracle/)
 *   <dir>/oracle-2/ ...       the second, third, ... oracle's (own key: `--oracles N`)
 *   <dir>/coordinator/        the coordinator's LevelDB (src/coordinator/; not used with --database-url)
 *   <dir>/wallets/miner/      the demo miner's wallet (src/wallet: seed.json 0600)
 *   <dir>/wallets/buyer/      the demo buyer's wallet
 *   <dir>/wallets/buyer2/     the transfer demo's second buyer (`npm run demo -- --transfer`, issue 14)
 *   <dir>/secrets.json        0600: the pool key (mines, and funds the demo wallets), the oracles' operator token (one for all)
 *   <dir>/chain.json          which node made the chain and its block 1: a restart refuses another chain
 *   <dir>/oracle.json         0600: the first oracle's config file (has the node's RPC password);
 *                             oracle-2.json, ... the others'
 *   <dir>/coordinator.json    0600: the coordinator's config file (same; and the database URL);
 *                             coordinator-2.json, ... the other replicas' (--coordinator-replicas N)
 *   <dir>/logs/*.log          each service's stderr
 *   <dir>/stack.json          0600: while the stack runs: PIDs, URLs, RPC credentials
 *
 * This module does NOT start anything; it reads and writes these files only.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { writePrivateFile } from '../wallet/index.js';
import { StackError } from './errors.js';

/** Paths inside one data directory. */
export interface StackLayout {
  dir: string;
  nodeDir: string;
  /** The first oracle's (`oracleLayout(layout, 0)`). */
  oracleDir: string;
  coordinatorDir: string;
  minerWalletDir: string;
  buyerWalletDir: string;
  /** The transfer demo's new buyer, who takes the first buyer's position (issue 14). */
  buyer2WalletDir: string;
  secretsFile: string;
  chainFile: string;
  /** The first oracle's (`oracleLayout(layout, 0)`). */
  oracleConfigFile: string;
  coordinatorConfigFile: string;
  logDir: string;
  stateFile: string;
}

/** The layout of `dir` (made absolute; nothing is created). */
export function stackLayout(dir: string): StackLayout {
  const d = resolve(dir);
  return {
    dir: d,
    nodeDir: join(d, 'node'),
    oracleDir: join(d, 'oracle'),
    coordinatorDir: join(d, 'coordinator'),
    minerWalletDir: join(d, 'wallets', 'miner'),
    buyerWalletDir: join(d, 'wallets', 'buyer'),
    buyer2WalletDir: join(d, 'wallets', 'buyer2'),
    secretsFile: join(d, 'secrets.json'),
    chainFile: join(d, 'chain.json'),
    oracleConfigFile: join(d, 'oracle.json'),
    coordinatorConfigFile: join(d, 'coordinator.json'),
    logDir: join(d, 'logs'),
    stateFile: join(d, 'stack.json'),
  };
}

/** Where oracle `index` (0-based) of the stack keeps its data. */
export interface OracleLayout {
  /** `oracle` for the first (as stacks of one oracle had it), `oracle-2`, `oracle-3`, ... */
  name: string;
  dataDir: string;
  configFile: string;
  logFile: string;
}

/**
 * The files of oracle `index`: the first keeps the paths a one-oracle stack
 * used, so a data directory made with one oracle keeps its key and index
 * when restarted with more (the new ones get new directories and keys).
 */
export function oracleLayout(layout: StackLayout, index: number): OracleLayout {
  const name = index === 0 ? 'oracle' : `oracle-${index + 1}`;
  return { name, dataDir: join(layout.dir, name), configFile: join(layout.dir, `${name}.json`), logFile: join(layout.logDir, `${name}.log`) };
}

/** Where coordinator replica `index` (0-based) of the stack keeps its config file and log. */
export interface CoordinatorLayout {
  /** `coordinator` for the first (as a one-coordinator stack has it), `coordinator-2`, ... */
  name: string;
  configFile: string;
  logFile: string;
}

/**
 * The files of coordinator replica `index`: the first keeps the paths a
 * one-coordinator stack uses; the others differ from it in their port only
 * (their data is the shared database).
 */
export function coordinatorLayout(layout: StackLayout, index: number): CoordinatorLayout {
  if (index === 0) return { name: 'coordinator', configFile: layout.coordinatorConfigFile, logFile: join(layout.logDir, 'coordinator.log') };
  const name = `coordinator-${index + 1}`;
  return { name, configFile: join(layout.dir, `${name}.json`), logFile: join(layout.logDir, `${name}.log`) };
}

// ------------------------------------------------------------------ secrets

const secretsSchema = z.object({
  version: z.literal(1),
  /** Private key (hex) of the simulated pool: mines blocks, funds the demo wallets. */
  poolKeyHex: z.string().regex(/^[0-9a-f]{64}$/),
  /** Bearer token of the oracles' operator-only calls (hashprice events); the stack's operator runs them all. */
  oracleOperatorToken: z.string().min(16),
});
export type StackSecrets = z.output<typeof secretsSchema>;

/**
 * The stack's secrets, created on first use (file mode 0600).
 * @param poolKeyHex use this pool key instead of a random one when creating the file.
 * @throws {StackError} STACK_DATA when the file exists but is unreadable or malformed.
 */
export function loadOrCreateSecrets(layout: StackLayout, poolKeyHex?: string): StackSecrets {
  if (existsSync(layout.secretsFile)) {
    const parsed = secretsSchema.safeParse(readJson(layout.secretsFile));
    if (!parsed.success) throw new StackError('STACK_DATA', `${layout.secretsFile} is malformed: ${parsed.error.issues[0]?.message ?? ''}`);
    return parsed.data;
  }
  const secrets: StackSecrets = {
    version: 1,
    poolKeyHex: poolKeyHex ?? randomBytes(32).toString('hex'),
    oracleOperatorToken: randomBytes(24).toString('hex'),
  };
  mkdirSync(layout.dir, { recursive: true });
  writePrivateFile(layout.secretsFile, `${JSON.stringify(secrets, null, 2)}\n`);
  return secrets;
}

// ------------------------------------------------------------------ chain record

const chainSchema = z.object({
  version: z.literal(1),
  /** The node kind that keeps the chain in <dir>/node ('external': a node given by URL). */
  kind: z.enum(['bcoin', 'bitcoind', 'external']),
  /** Hash of block 1: the oracle's index and the coordinator's contracts belong to this chain. */
  block1: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ChainRecord = z.output<typeof chainSchema>;

/**
 * The chain this data directory was made with, if recorded.
 * @throws {StackError} STACK_DATA when the file is malformed.
 */
export function readChainRecord(layout: StackLayout): ChainRecord | undefined {
  if (!existsSync(layout.chainFile)) return undefined;
  const parsed = chainSchema.safeParse(readJson(layout.chainFile));
  if (!parsed.success) throw new StackError('STACK_DATA', `${layout.chainFile} is malformed: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data;
}

/** Records the chain this data directory is made with. */
export function writeChainRecord(layout: StackLayout, record: ChainRecord): void {
  writePrivateFile(layout.chainFile, `${JSON.stringify(record, null, 2)}\n`);
}

// ------------------------------------------------------------------ state file

const rpcSchema = z.object({ url: z.string(), username: z.string(), password: z.string() });
const serviceSchema = z.object({ pid: z.number().int(), url: z.string() });

const stateSchema = z.object({
  version: z.literal(1),
  /** PID of the supervisor (`npm start`, or a demo that started its own stack). */
  pid: z.number().int(),
  startedAt: z.string(),
  dataDir: z.string(),
  node: z.object({
    /** 'bcoin' | 'bitcoind' started here; 'external' when the stack uses a node it did not start. */
    kind: z.enum(['bcoin', 'bitcoind', 'external']),
    /** Null for an external node. */
    pid: z.number().int().nullable(),
    url: z.string(),
    rpc: rpcSchema,
  }),
  /** One per oracle, in order (the first is the one a single-oracle stack had). */
  oracles: z.array(serviceSchema.extend({ publicKey: z.string(), simulatedDifficulty: z.string() })).min(1),
  /** The first coordinator replica (the only one unless `--coordinator-replicas N`). */
  coordinator: serviceSchema,
  /**
   * Every coordinator replica, the first being `coordinator` (absent in a
   * state file written before replicas existed: read it as `[coordinator]`).
   */
  coordinators: z.array(serviceSchema).min(1).optional(),
  /**
   * Where the coordinators keep their data: LevelDB in a directory, or a
   * PostgreSQL database (`location` without its password). Absent in an older
   * state file: LevelDB.
   */
  coordinatorStorage: z.object({ kind: z.enum(['leveldb', 'postgres']), location: z.string() }).optional(),
  /** The coordinator's web dashboard, when it serves one. */
  dashboard: z.string().nullable(),
  wallets: z.object({ miner: z.string(), buyer: z.string() }),
  /** Address the simulated pool mines to (the pool key's). */
  poolAddress: z.string(),
});
export type StackState = z.output<typeof stateSchema>;

/** Writes the state file (0600: it holds the node's RPC password), atomically. */
export function writeStackState(layout: StackLayout, state: StackState): void {
  writePrivateFile(layout.stateFile, `${JSON.stringify(state, null, 2)}\n`);
}

/**
 * The state file, if there is one.
 * @throws {StackError} STACK_DATA when it exists but is malformed.
 */
export function readStackState(layout: StackLayout): StackState | undefined {
  if (!existsSync(layout.stateFile)) return undefined;
  const parsed = stateSchema.safeParse(readJson(layout.stateFile));
  if (!parsed.success) throw new StackError('STACK_DATA', `${layout.stateFile} is malformed: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data;
}

/** Removes the state file when it was written by process `pid`. */
export function removeStackState(layout: StackLayout, pid: number): void {
  try {
    const state = readStackState(layout);
    if (state === undefined || state.pid !== pid) return;
  } catch {
    // malformed: ours to clean up
  }
  rmSync(layout.stateFile, { force: true });
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new StackError('STACK_DATA', `cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
}
