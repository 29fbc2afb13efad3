/**
 * The oracle's one reader of configuration: a JSON file (path from
 * `--config <file>` or `HASHDLC_ORACLE_CONFIG`) overlaid with environment
 * variables, validated with zod into an `OracleConfig`. The node's RPC
 * credentials are read here and nowhere else in oracle/ (they go to
 * `BitcoinRpc` as an `RpcConfig`).
 *
 * Environment (each overrides the file's field):
 *   BITCOIN_RPC_URL, BITCOIN_RPC_USER, BITCOIN_RPC_PASSWORD   rpc.url / username / password
 *   HASHDLC_ORACLE_NETWORK             network (mainnet|testnet|testnet4|signet|regtest)
 *   HASHDLC_ORACLE_DATA_DIR            dataDir
 *   HASHDLC_ORACLE_HOST / _PORT        host (default 127.0.0.1) / port (default 8080; 0 = any free port)
 *   HASHDLC_ORACLE_CONFIRMATIONS       confirmations (default 6; 1 on regtest)
 *   HASHDLC_ORACLE_HASH_PROFILE        hashProfile (sha256|tagged, default sha256)
 *   HASHDLC_ORACLE_TOKEN               operatorToken (at least 16 characters)
 *   HASHDLC_ORACLE_SIMULATED_DIFFICULTY simulatedDifficulty (regtest only)
 *   HASHDLC_ORACLE_POLL_MS             pollIntervalMs (default 200)
 *   HASHDLC_ORACLE_INDEX_START         indexStartHeight (default 0)
 *   HASHDLC_ORACLE_HASHPRICE_EVERY     schedule.hashpriceEveryBlocks
 *   HASHDLC_ORACLE_DANGER_TEST_CRASH_AT  test only: SIGKILL the process at a step
 *                                      of announce/attest (see `CRASH_STEPS`).
 *
 * This module does NOT open the store, read keys or contact the node.
 */
import { readFileSync } from 'node:fs';
import { networks, type Network } from 'bitcoinjs-lib';
import { z } from 'zod';
import type { RpcConfig } from '../src/chain/index.js';
import { difficultyFromDecimal } from '../protocol/hashpower/index.js';
import { MAX_EVENT_PRECISION } from '../protocol/events/index.js';
import { OracleError } from './errors.js';

/** Networks the oracle can run on, and the `chain` name getblockchaininfo reports for each. */
export const NODE_CHAIN_NAMES = {
  mainnet: 'main',
  testnet: 'test',
  testnet4: 'testnet4',
  signet: 'signet',
  regtest: 'regtest',
} as const;
export type OracleNetwork = keyof typeof NODE_CHAIN_NAMES;

/** Address encoding (bitcoinjs network) of each network: signet and testnets share tb1/m/n/2. */
export const ADDRESS_NETWORKS: Record<OracleNetwork, Network> = {
  mainnet: networks.bitcoin,
  testnet: networks.testnet,
  testnet4: networks.testnet,
  signet: networks.testnet,
  regtest: networks.regtest,
};

/**
 * Steps of announce and attest at which the test-only crash hook kills the
 * process (SIGKILL), to prove restart safety:
 * - `announce-signed`: announcement signed, not stored;
 * - `announce-stored`: announcement stored, HTTP answer not sent;
 * - `outcome-stored`: outcome and evidence stored, not signed;
 * - `attest-signed`: attestation signed, not stored;
 * - `attest-stored`: attestation stored (and servable).
 */
export const CRASH_STEPS = ['announce-signed', 'announce-stored', 'outcome-stored', 'attest-signed', 'attest-stored'] as const;
export type CrashStep = (typeof CRASH_STEPS)[number];

const int = z.number().int();
const decimalText = z
  .string()
  .max(40)
  .refine((s) => {
    try {
      difficultyFromDecimal(s);
      return /^[0-9.eE+]+$/.test(s);
    } catch {
      return false;
    }
  }, 'a positive decimal number such as "1e9" or "83148355189239.77"');

const limitsSchema = z
  .object({
    /** Largest request body, bytes (413 above). */
    maxBodyBytes: int.min(1024).max(1_048_576).default(16_384),
    /** Longest window a public (token-less) request may ask for, blocks. */
    maxWindowBlocks: int.min(1).max(1_000_000).default(4_320),
    /** Longest window even the operator may create (bounds evidence size and rescans). */
    maxOperatorWindowBlocks: int.min(1).max(1_000_000).default(52_560),
    /**
     * A public request's window must start above the oracle's chain height (its
     * indexed tip, or the node's height while catching up) plus this many blocks
     * (blocks the node has and the oracle has not seen yet); a window that has
     * started is refused (`window-started`). 0 = above the chain height.
     */
    startMarginBlocks: int.min(0).max(1000).default(1),
    /** How far above the indexed tip a public request's window may start, blocks. */
    maxStartAheadBlocks: int.min(0).max(10_000_000).default(52_560),
    /** Unattested events one client (IP) may have requested. */
    maxPendingPerClient: int.min(0).max(100_000).default(20),
    /** Event requests per client (IP) per minute. */
    requestsPerMinute: int.min(1).max(100_000).default(30),
    /** Event requests waiting for the lock at once (all clients); beyond: 429 `queue-full`. */
    maxQueuedRequests: int.min(1).max(100_000).default(256),
    /**
     * Delivery addresses the oracle watches (each is looked for in every new
     * block and its payouts stored); a public request for a new one beyond it: 503 CAPACITY.
     */
    maxWatchedAddresses: int.min(1).max(10_000_000).default(100_000),
    /** Results per page of GET /v1/events, at most. */
    maxListLimit: int.min(1).max(10_000).default(1_000),
  })
  .strict();

const configSchema = z
  .object({
    network: z.enum(Object.keys(NODE_CHAIN_NAMES) as [OracleNetwork, ...OracleNetwork[]]),
    rpc: z
      .object({
        url: z.url(),
        username: z.string(),
        password: z.string(),
        timeoutMs: int.min(100).max(600_000).optional(),
      })
      .strict(),
    dataDir: z.string().min(1),
    host: z.string().min(1).default('127.0.0.1'),
    port: int.min(0).max(65_535).default(8080),
    /** Blocks on top of the window's last block before attesting; default 6, 1 on regtest. */
    confirmations: int.min(1).max(1000).optional(),
    hashProfile: z.enum(['sha256', 'tagged']).default('sha256'),
    /** Bearer token of operator-only actions; without it they are refused. */
    operatorToken: z.string().min(16).max(256).optional(),
    /** Regtest only: difficulty used in place of every block's own. */
    simulatedDifficulty: decimalText.optional(),
    /** How often the node's best block is polled, ms. */
    pollIntervalMs: int.min(10).max(60_000).default(200),
    /** First height indexed; windows must start at or above it. */
    indexStartHeight: int.min(0).default(0),
    index: z
      .object({
        /** JSON-RPC batch requests in flight while catching up. */
        concurrency: int.min(1).max(64).default(3),
        /** Blocks per JSON-RPC batch request (getblockhash, then getblock verbosity 2). */
        rpcBatch: int.min(1).max(1000).default(100),
        /** Blocks per atomic store batch while catching up. */
        batchBlocks: int.min(1).max(10_000).default(500),
      })
      .strict()
      .default({ concurrency: 3, rpcBatch: 100, batchBlocks: 500 }),
    schedule: z
      .object({
        /** Announce a hashprice event for every aligned window of this many blocks (null: none). */
        hashpriceEveryBlocks: int.min(1).max(1_000_000).nullable().default(null),
        hashpriceNbDigits: int.min(1).max(64).default(20),
        /**
         * Precision of the scheduled events (outcome = floor(value / 10^p)), or
         * 'fit' (regtest with a simulated difficulty): per window, the least p at
         * which its value fits the digits (protocol/events `fittingHashpricePrecision`).
         */
        hashpricePrecision: z.union([int.min(0).max(MAX_EVENT_PRECISION), z.literal('fit')]).default(0),
        /** How many windows ahead of the tip are announced. */
        hashpriceAheadWindows: int.min(1).max(100).default(1),
      })
      .strict()
      .default({ hashpriceEveryBlocks: null, hashpriceNbDigits: 20, hashpricePrecision: 0, hashpriceAheadWindows: 1 }),
    limits: limitsSchema.default(limitsSchema.parse({})),
    /** Test only (from HASHDLC_ORACLE_DANGER_TEST_CRASH_AT): SIGKILL at this step. */
    dangerTestCrashAt: z.enum(CRASH_STEPS).optional(),
  })
  .strict();

/** What a caller (file, tests, harness) may give `parseConfig`. */
export type OracleConfigInput = z.input<typeof configSchema>;

/** The validated configuration every oracle module receives. */
export type OracleConfig = Omit<z.output<typeof configSchema>, 'confirmations' | 'rpc'> & {
  confirmations: number;
  rpc: RpcConfig;
};

function describeIssues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/**
 * Validates a configuration object and fills in defaults.
 * @throws {OracleError} CONFIG_INVALID naming the bad fields, or (reason
 *   `simulated-difficulty-not-regtest`) a simulated difficulty off regtest.
 */
export function parseConfig(input: unknown): OracleConfig {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    throw new OracleError('CONFIG_INVALID', `invalid oracle configuration: ${describeIssues(parsed.error)}`, {
      reason: parsed.error.issues[0]?.path.join('.') ?? 'config',
    });
  }
  const c = parsed.data;
  if (c.simulatedDifficulty !== undefined && c.network !== 'regtest') {
    throw new OracleError('CONFIG_INVALID', `simulatedDifficulty is a regtest-only setting; this oracle runs on ${c.network}`, {
      reason: 'simulated-difficulty-not-regtest',
    });
  }
  if (c.schedule.hashpricePrecision === 'fit' && c.simulatedDifficulty === undefined) {
    throw new OracleError('CONFIG_INVALID', "schedule.hashpricePrecision 'fit' needs a simulatedDifficulty (the network size it fits)", {
      reason: 'schedule.hashpricePrecision',
    });
  }
  const confirmations = c.confirmations ?? (c.network === 'regtest' ? 1 : 6);
  return { ...c, confirmations, rpc: { ...c.rpc } };
}

type Env = Record<string, string | undefined>;

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let o = target;
  for (const key of path.slice(0, -1)) {
    const next = o[key];
    if (typeof next !== 'object' || next === null) o[key] = {};
    o = o[key] as Record<string, unknown>;
  }
  o[path[path.length - 1]!] = value;
}

function intFromEnv(name: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new OracleError('CONFIG_INVALID', `${name} must be a non-negative integer`, { reason: name });
  return Number(text);
}

/** Environment variable → config path, with how to read its text. */
const ENV_FIELDS: [string, string[], 'string' | 'int'][] = [
  ['BITCOIN_RPC_URL', ['rpc', 'url'], 'string'],
  ['BITCOIN_RPC_USER', ['rpc', 'username'], 'string'],
  ['BITCOIN_RPC_PASSWORD', ['rpc', 'password'], 'string'],
  ['HASHDLC_ORACLE_NETWORK', ['network'], 'string'],
  ['HASHDLC_ORACLE_DATA_DIR', ['dataDir'], 'string'],
  ['HASHDLC_ORACLE_HOST', ['host'], 'string'],
  ['HASHDLC_ORACLE_PORT', ['port'], 'int'],
  ['HASHDLC_ORACLE_CONFIRMATIONS', ['confirmations'], 'int'],
  ['HASHDLC_ORACLE_HASH_PROFILE', ['hashProfile'], 'string'],
  ['HASHDLC_ORACLE_TOKEN', ['operatorToken'], 'string'],
  ['HASHDLC_ORACLE_SIMULATED_DIFFICULTY', ['simulatedDifficulty'], 'string'],
  ['HASHDLC_ORACLE_POLL_MS', ['pollIntervalMs'], 'int'],
  ['HASHDLC_ORACLE_INDEX_START', ['indexStartHeight'], 'int'],
  ['HASHDLC_ORACLE_HASHPRICE_EVERY', ['schedule', 'hashpriceEveryBlocks'], 'int'],
  ['HASHDLC_ORACLE_DANGER_TEST_CRASH_AT', ['dangerTestCrashAt'], 'string'],
];

/**
 * Reads the configuration of the oracle process: the JSON file named by
 * `--config <file>` (or `HASHDLC_ORACLE_CONFIG`), then the environment.
 * @throws {OracleError} CONFIG_INVALID for an unreadable file, bad JSON or bad values.
 */
export function loadConfig(argv: readonly string[], env: Env): OracleConfig {
  let file: string | undefined = env.HASHDLC_ORACLE_CONFIG;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--config') {
      file = argv[++i];
      if (file === undefined) throw new OracleError('CONFIG_INVALID', '--config needs a file', { reason: 'argv' });
    } else if (arg.startsWith('--config=')) {
      file = arg.slice('--config='.length);
    } else {
      throw new OracleError('CONFIG_INVALID', `unknown argument '${arg}' (usage: hashdlc-oracle [--config <file.json>])`, { reason: 'argv' });
    }
  }
  let base: Record<string, unknown> = {};
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new OracleError('CONFIG_INVALID', `cannot read config file ${file}`, { reason: 'config-file', cause: err });
    }
    try {
      const json: unknown = JSON.parse(text);
      if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new TypeError('not an object');
      base = json as Record<string, unknown>;
    } catch (err) {
      throw new OracleError('CONFIG_INVALID', `config file ${file} is not a JSON object`, { reason: 'config-file', cause: err });
    }
  }
  for (const [name, path, type] of ENV_FIELDS) {
    const text = env[name];
    if (text === undefined || text === '') continue;
    setPath(base, path, type === 'int' ? intFromEnv(name, text) : text);
  }
  return parseConfig(base);
}
