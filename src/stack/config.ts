/**
 * Configuration of a local stack (`npm start`, `npm run demo`): the one
 * place that reads their flags and `HASHDLC_*` environment variables (a flag
 * wins over its variable), validated with zod.
 *
 *   --data-dir DIR            HASHDLC_DATA_DIR          data directory (default ./.data)
 *   --node-port PORT          HASHDLC_NODE_PORT         node JSON-RPC port (default 18443)
 *   --oracle-port PORT        HASHDLC_ORACLE_PORT       first oracle's HTTP port (default 8090; the others
 *                                                       PORT+2, PORT+3, ...: PORT+1 is the coordinator's)
 *   --oracles N               HASHDLC_ORACLES           how many oracles the stack runs, 1 to 5 (default 3)
 *   --coordinator-port PORT   HASHDLC_COORDINATOR_PORT  coordinator HTTP port (default 8091)
 *   --node auto|bcoin|bitcoind HASHDLC_NODE             which node to start (default auto:
 *                                                       bitcoind when found, else embedded bcoin)
 *   --node-url URL            HASHDLC_NODE_URL          use this running regtest node
 *                                                       (http://user:pass@host:port/) instead
 *   --database-url URL        HASHDLC_DATABASE_URL      the coordinator on this PostgreSQL database
 *                                                       instead of LevelDB in <data>/coordinator
 *   --coordinator-replicas N  HASHDLC_COORDINATOR_REPLICAS  coordinator processes on that database,
 *                                                       1 to 8 (default 1; more than 1 needs --database-url)
 *
 * Ports: a default port that is taken falls back to a free one (the printed
 * URLs say which); a port given by flag or variable must be free, else the
 * start fails; 0 means any free port.
 *
 * This module does NOT start anything or touch the data directory.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { RpcConfig } from '../chain/index.js';
import { StackError } from './errors.js';

/** Default ports: Bitcoin Core's regtest RPC port, then two neighbours for the services. */
export const DEFAULT_PORTS = { node: 18443, oracle: 8090, coordinator: 8091 } as const;

/**
 * The oracle's regtest-only simulated difficulty for the local stack:
 * `D = 6e17 / 2^32`, so the simulated network hashrate `D * 2^32 / 600 s` is
 * exactly 1 PH/s and a 100 TH/s miner is 10% of it. A pool paying a miner
 * 10% of every coinbase thus delivers 100 TH/s exactly (10,000 bps); 9.8%
 * (a 2% pool fee) reads 9,800 bps. Exact as a decimal (2^32 divides 10^32).
 */
export const STACK_SIMULATED_DIFFICULTY = '139698386.19232177734375';

/**
 * The hashprice events every oracle of the stack announces by itself
 * (oracle config `schedule`): one per aligned window of 10 blocks
 * ([10k, 10k+10)), the next 6 windows above the tip, 20 digits at the
 * precision that fits the window (`'fit'`: the least p with
 * `144 x 2 x subsidy / 10^p < 2^20` on the 1 PH/s network, where a PH/s
 * earns every block: 10^6 sats/PH/day units while regtest pays 25 BTC a
 * block). All oracles share these settings, so they announce the same
 * event ids and a hashprice contract can name any K of them.
 */
export const STACK_HASHPRICE_SCHEDULE = {
  hashpriceEveryBlocks: 10,
  hashpriceAheadWindows: 6,
  hashpriceNbDigits: 20,
  hashpricePrecision: 'fit',
} as const;

/** Oracles a stack runs unless told otherwise (a 2-of-3 set), and the most it runs. */
const DEFAULT_ORACLE_COUNT = 3;
const MAX_ORACLE_COUNT = 5;
/** The most coordinator replicas a local stack runs (each is a process on the same 2-core laptop). */
export const MAX_COORDINATOR_REPLICAS = 8;

/** A port to listen on: `strict` when the user asked for it (no fallback). */
export interface PortChoice {
  port: number;
  strict: boolean;
}

export interface StackConfig {
  dataDir: string;
  ports: { node: PortChoice; oracle: PortChoice; coordinator: PortChoice };
  /** How many oracles the stack runs (1..MAX_ORACLE_COUNT). */
  oracleCount: number;
  backend: 'auto' | 'bcoin' | 'bitcoind';
  /** A running node to use instead of starting one. */
  externalNode: RpcConfig | undefined;
  /**
   * The coordinator's PostgreSQL database (issue 13); undefined: LevelDB in
   * `<data>/coordinator`. Optional so a config built in code without it keeps
   * the LevelDB stack.
   */
  databaseUrl?: string | undefined;
  /**
   * Coordinator processes on `databaseUrl` (default 1): each serves the API
   * on its own port; one at a time (the leader) runs the watcher. More than
   * one on LevelDB is refused (STACK_CONFIG): LevelDB is one process's.
   */
  coordinatorReplicas?: number;
  help: boolean;
}

/** The flags `npm start` and `npm run demo` share, for `parseArgs`. */
export const STACK_FLAGS = {
  'data-dir': { type: 'string' },
  'node-port': { type: 'string' },
  'oracle-port': { type: 'string' },
  oracles: { type: 'string' },
  'coordinator-port': { type: 'string' },
  node: { type: 'string' },
  'node-url': { type: 'string' },
  'database-url': { type: 'string' },
  'coordinator-replicas': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const STACK_FLAGS_HELP = `  --data-dir DIR             data directory, reused by the next start (HASHDLC_DATA_DIR; default ./.data)
  --node-port PORT           node JSON-RPC port (HASHDLC_NODE_PORT; default ${DEFAULT_PORTS.node})
  --oracles N                how many oracles the stack runs, 1 to ${MAX_ORACLE_COUNT} (HASHDLC_ORACLES; default ${DEFAULT_ORACLE_COUNT}:
                             contracts use a majority set, 2 of 3; 1 = the old single oracle)
  --oracle-port PORT         first oracle's HTTP port (HASHDLC_ORACLE_PORT; default ${DEFAULT_PORTS.oracle});
                             the others take PORT+2, PORT+3, ... (PORT+1 is the coordinator's default)
  --coordinator-port PORT    coordinator and dashboard HTTP port (HASHDLC_COORDINATOR_PORT; default ${DEFAULT_PORTS.coordinator})
                             (a busy default port falls back to a free one; a port you give must be free; 0 = any)
  --node auto|bcoin|bitcoind which regtest node to start (HASHDLC_NODE; default auto: bitcoind if on PATH
                             or HASHDLC_BITCOIND, else the embedded bcoin node)
  --node-url URL             use this running regtest node instead (HASHDLC_NODE_URL; http://user:pass@host:port/)
  --database-url URL         run the coordinator on this PostgreSQL database instead of LevelDB in DIR/coordinator
                             (HASHDLC_DATABASE_URL; postgres://user:password@host:port/database)
  --coordinator-replicas N   coordinator processes on that database, 1 to ${MAX_COORDINATOR_REPLICAS} (HASHDLC_COORDINATOR_REPLICAS;
                             default 1): each serves the API on its own port (the first on --coordinator-port,
                             the others PORT+10, PORT+11, ...); one at a time runs settlement. Needs --database-url
`;

const portText = z.string().regex(/^\d{1,5}$/, 'a port number').transform(Number).refine((p) => p <= 65_535, 'a port number');
const schema = z.object({
  dataDir: z.string().min(1),
  nodePort: portText.optional(),
  oraclePort: portText.optional(),
  oracles: z.string().regex(/^\d{1,2}$/, `a number of oracles, 1 to ${MAX_ORACLE_COUNT}`).transform(Number)
    .refine((n) => n >= 1 && n <= MAX_ORACLE_COUNT, `a number of oracles, 1 to ${MAX_ORACLE_COUNT}`).optional(),
  coordinatorPort: portText.optional(),
  backend: z.enum(['auto', 'bcoin', 'bitcoind']),
  nodeUrl: z.string().url().refine((u) => /^https?:\/\//.test(u), 'an http(s) URL').optional(),
  // As the coordinator's own check (URL.canParse too): a socket URL (postgres:///db?host=/run/postgresql) has no host.
  databaseUrl: z.string().refine((u) => /^postgres(ql)?:\/\//.test(u) && URL.canParse(u), 'a postgres:// or postgresql:// URL').optional(),
  coordinatorReplicas: z.string().regex(/^\d{1,2}$/, `a number of coordinator replicas, 1 to ${MAX_COORDINATOR_REPLICAS}`).transform(Number)
    .refine((n) => n >= 1 && n <= MAX_COORDINATOR_REPLICAS, `a number of coordinator replicas, 1 to ${MAX_COORDINATOR_REPLICAS}`).optional(),
});

/**
 * The port of oracle `index` (0-based): the first oracle's choice itself;
 * the others `PORT+1+index` (8092, 8093, ... by default, past the
 * coordinator's 8091), never strict: a busy one falls back to a free port.
 */
export function oraclePortChoice(first: PortChoice, index: number): PortChoice {
  if (index === 0) return first;
  return { port: first.port === 0 ? 0 : Math.min(first.port + 1 + index, 65_535), strict: false };
}

/**
 * The port of coordinator replica `index` (0-based): the first replica's
 * choice itself (`--coordinator-port`); the others `PORT+9+index` (8101,
 * 8102, ... by default: clear of the oracles' 8090-8095), never strict.
 */
export function coordinatorPortChoice(first: PortChoice, index: number): PortChoice {
  if (index === 0) return first;
  return { port: first.port === 0 ? 0 : Math.min(first.port + 9 + index, 65_535), strict: false };
}

/** A database URL fit to print or log: its password replaced by `***`. */
export function redactDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable database URL)';
  }
}

/**
 * Reads the stack configuration from flags (already parsed with
 * `STACK_FLAGS`, maybe among others) and the environment.
 * @throws {StackError} STACK_CONFIG naming the bad setting.
 */
export function stackConfigFrom(values: Record<string, unknown>, env: NodeJS.ProcessEnv): StackConfig {
  const pick = (flag: string, variable: string): string | undefined => {
    const v = values[flag];
    if (typeof v === 'string') return v;
    const e = env[variable];
    return e === undefined || e === '' ? undefined : e;
  };
  const raw = {
    dataDir: pick('data-dir', 'HASHDLC_DATA_DIR') ?? '.data',
    nodePort: pick('node-port', 'HASHDLC_NODE_PORT'),
    oraclePort: pick('oracle-port', 'HASHDLC_ORACLE_PORT'),
    oracles: pick('oracles', 'HASHDLC_ORACLES'),
    coordinatorPort: pick('coordinator-port', 'HASHDLC_COORDINATOR_PORT'),
    backend: pick('node', 'HASHDLC_NODE') ?? 'auto',
    nodeUrl: pick('node-url', 'HASHDLC_NODE_URL'),
    databaseUrl: pick('database-url', 'HASHDLC_DATABASE_URL'),
    coordinatorReplicas: pick('coordinator-replicas', 'HASHDLC_COORDINATOR_REPLICAS'),
  };
  const r = schema.safeParse(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)));
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const key = String(issue.path[0] ?? '');
    const flag = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replace('backend', 'node');
    throw new StackError('STACK_CONFIG', `--${flag}: ${issue.message}`);
  }
  const c = r.data;
  const coordinatorReplicas = c.coordinatorReplicas ?? 1;
  if (coordinatorReplicas > 1 && c.databaseUrl === undefined) {
    throw new StackError(
      'STACK_CONFIG',
      `--coordinator-replicas ${coordinatorReplicas} needs --database-url (HASHDLC_DATABASE_URL): without it the coordinator keeps its contracts in LevelDB, which one process opens at a time; replicas share a PostgreSQL database`,
    );
  }
  const port = (given: number | undefined, fallback: number): PortChoice =>
    given === undefined ? { port: fallback, strict: false } : { port: given, strict: given !== 0 };
  let externalNode: RpcConfig | undefined;
  if (c.nodeUrl !== undefined) {
    const u = new URL(c.nodeUrl);
    const username = decodeURIComponent(u.username);
    const password = decodeURIComponent(u.password);
    u.username = '';
    u.password = '';
    externalNode = { url: u.toString(), username, password };
  }
  return {
    dataDir: c.dataDir,
    ports: {
      node: port(c.nodePort, DEFAULT_PORTS.node),
      oracle: port(c.oraclePort, DEFAULT_PORTS.oracle),
      coordinator: port(c.coordinatorPort, DEFAULT_PORTS.coordinator),
    },
    oracleCount: c.oracles ?? DEFAULT_ORACLE_COUNT,
    backend: c.backend,
    externalNode,
    databaseUrl: c.databaseUrl,
    coordinatorReplicas,
    help: values.help === true,
  };
}

/**
 * Parses argv with the stack flags plus `extra` ones.
 * @throws {StackError} STACK_CONFIG for unknown flags or bad values.
 */
export function parseStackArgs<E extends Record<string, { type: 'string' | 'boolean'; short?: string }>>(
  argv: string[],
  extra: E,
  env: NodeJS.ProcessEnv = process.env,
): { config: StackConfig; values: Record<string, string | boolean | undefined> } {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options: { ...STACK_FLAGS, ...extra }, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (cause) {
    throw new StackError('STACK_CONFIG', (cause as Error).message, { cause });
  }
  return { config: stackConfigFrom(values, env), values };
}
