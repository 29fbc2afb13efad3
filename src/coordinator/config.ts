/**
 * The coordinator's configuration: the one place that reads it (a JSON file
 * and `HASHDLC_COORDINATOR_*` environment variables) and validates it with zod.
 *
 * This module does NOT open the database, reach the node or the oracles, and
 * never logs the RPC password.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { CHAIN_HASHES } from '../../protocol/messages/index.js';
import { MAX_STRIP_PERIODS } from '../../protocol/terms/index.js';
import { requiredBodyBytes } from './limits.js';

const urlString = z.string().url().transform((u) => u.replace(/\/+$/, ''));

export const coordinatorConfigSchema = z.object({
  /** Listen address; loopback by default (put a TLS proxy in front to publish it). */
  host: z.string().min(1).default('127.0.0.1'),
  /** TCP port; 0 picks a free one (tests). */
  port: z.number().int().min(0).max(65535).default(8091),
  /** LevelDB directory (created if missing); not used when `databaseUrl` is set. */
  dataDir: z.string().min(1).optional(),
  /**
   * PostgreSQL instead of LevelDB (issue 13): any number of coordinator
   * replicas on this one database serve the API; one of them at a time (the
   * leader) runs the watcher. `postgres://user:password@host:port/database`.
   */
  databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// or postgresql:// URL').optional(),
  /** The chain whose `chain_hash` offers must carry. */
  network: z.enum(Object.keys(CHAIN_HASHES) as [keyof typeof CHAIN_HASHES, ...(keyof typeof CHAIN_HASHES)[]]).default('regtest'),
  /** The node's JSON-RPC. */
  rpc: z.object({
    url: z.string().url(),
    username: z.string(),
    password: z.string(),
    timeoutMs: z.number().int().positive().optional(),
  }),
  /** Base URLs of the oracles whose announcements offers may use (`GET {url}/v1/events/:id`). */
  oracles: z.array(urlString).min(1),
  /** How oracle outcomes are hashed (protocol/crypto HashProfile); must match the oracles'. */
  hashProfile: z.enum(['sha256', 'tagged']).default('sha256'),
  /** Accepted distance between a request's timestamp and the server's clock. */
  authMaxSkewSec: z.number().int().positive().default(300),
  /**
   * Lifetime of a close proposal: a signature sent after it joins a new
   * proposal of the same split, never the old proposal's signatures.
   */
  closeProposalLifetimeSec: z.number().int().positive().default(3600),
  limits: z.object({
    /**
     * Largest request body. Default: what the other limits need
     * (limits.ts `requiredBodyBytes`: the sign of a contract with
     * maxAdaptorSignatures CETs and maxFundingInputs inputs of maxPrevTxBytes
     * each); a smaller value is refused, since it would accept offers whose
     * accept or sign it could not take.
     */
    maxBodyBytes: z.number().int().positive().optional(),
    /** Largest number of CET adaptor signatures per party a contract may have. */
    maxAdaptorSignatures: z.number().int().positive().default(200_000),
    /** Largest page of a list. */
    maxPageSize: z.number().int().positive().default(200),
    /** Largest number of funding inputs per party. */
    maxFundingInputs: z.number().int().positive().default(50),
    /** Largest previous transaction of a funding input (dlcspecs does not bound `prevTx`; a standard one is far smaller). */
    maxPrevTxBytes: z.number().int().positive().default(100_000),
    /** Largest number of periods of a strip (issue 12). Default 31: a month of daily periods. */
    maxStripPeriods: z.number().int().min(2).max(MAX_STRIP_PERIODS).default(31),
    /**
     * Largest number of CET adaptor signatures per party over ALL periods of a
     * strip (its accept and sign are one request each). Default: maxAdaptorSignatures,
     * so a strip's requests are no larger than a single contract's.
     */
    maxStripAdaptorSignatures: z.number().int().positive().optional(),
  }).prefault({}).transform((l, ctx) => {
    const required = requiredBodyBytes(l);
    if (l.maxBodyBytes !== undefined && l.maxBodyBytes < required) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxBodyBytes'],
        message: `limits.maxBodyBytes ${l.maxBodyBytes} cannot carry the sign of a contract within the other limits (needs ${required}): raise it or lower maxAdaptorSignatures, maxFundingInputs or maxPrevTxBytes`,
      });
      return z.NEVER;
    }
    return { ...l, maxBodyBytes: l.maxBodyBytes ?? required, maxStripAdaptorSignatures: l.maxStripAdaptorSignatures ?? l.maxAdaptorSignatures };
  }),
  /** The offer book (issue 9, hole 8). */
  offerBook: z.object({
    /**
     * Blocks an accepted offer waits for the offerer's sign and the accepter's
     * fund before it returns to the book (the accept dropped, the coins freed).
     * Default 144 (one day); 6 on regtest.
     */
    acceptTimeoutBlocks: z.number().int().positive().optional(),
  }).prefault({}),
  watcher: z.object({
    /** Poll period of the node and the oracles. */
    pollIntervalMs: z.number().int().positive().default(2000),
    /** Depth at which a funding, CET, refund or close transaction counts as confirmed. */
    confirmations: z.number().int().positive().default(1),
    /** Least time between two attestation requests for one contract. */
    attestationPollIntervalMs: z.number().int().positive().default(10_000),
    /** Blocks after which a confirmed closing transaction is no longer checked for reorgs. */
    reorgWatchDepth: z.number().int().positive().default(6),
    /** Most blocks scanned per poll (catching up after downtime takes several polls). */
    maxBlocksPerPoll: z.number().int().positive().default(200),
  }).prefault({}),
  /** Adaptor-signature worker threads (0 = in-thread). */
  engineThreads: z.number().int().min(0).default(Math.min(4, availableParallelism())),
}).refine((c) => c.dataDir !== undefined || c.databaseUrl !== undefined, { message: 'dataDir (LevelDB) or databaseUrl (PostgreSQL) is required', path: ['dataDir'] });

export type CoordinatorConfig = z.output<typeof coordinatorConfigSchema>;
export type CoordinatorConfigInput = z.input<typeof coordinatorConfigSchema>;

/**
 * Validates a configuration object and fills defaults.
 * @throws {z.ZodError} listing every bad field.
 */
export function parseConfig(input: unknown): CoordinatorConfig {
  return coordinatorConfigSchema.parse(input);
}

/**
 * Reads the configuration for the `hashdlc-coordinator` process: the JSON file
 * named by `--config FILE` or `HASHDLC_COORDINATOR_CONFIG` (optional), then
 * environment overrides: `HASHDLC_COORDINATOR_HOST`, `_PORT`, `_DATA_DIR`,
 * `_NETWORK`, `_RPC_URL`, `_RPC_USER`, `_RPC_PASSWORD`, `_ORACLES` (comma
 * separated), `_HASH_PROFILE`, `_DATABASE_URL`; then `--database-url URL`.
 * @throws {z.ZodError} for an invalid result; {Error} for an unreadable file.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): CoordinatorConfig {
  const i = argv.indexOf('--config');
  const file = i >= 0 ? argv[i + 1] : env.HASHDLC_COORDINATOR_CONFIG;
  const base: Record<string, unknown> = file ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  const e = (k: string): string | undefined => env[`HASHDLC_COORDINATOR_${k}`];
  if (e('HOST')) base.host = e('HOST');
  if (e('PORT')) base.port = Number(e('PORT'));
  if (e('DATA_DIR')) base.dataDir = e('DATA_DIR');
  if (e('DATABASE_URL')) base.databaseUrl = e('DATABASE_URL');
  const d = argv.indexOf('--database-url');
  if (d >= 0) base.databaseUrl = argv[d + 1];
  if (e('NETWORK')) base.network = e('NETWORK');
  if (e('HASH_PROFILE')) base.hashProfile = e('HASH_PROFILE');
  if (e('ORACLES')) base.oracles = e('ORACLES')!.split(',').map((s) => s.trim()).filter(Boolean);
  if (e('RPC_URL') || e('RPC_USER') || e('RPC_PASSWORD')) {
    const rpc = { ...((base.rpc as Record<string, unknown> | undefined) ?? {}) };
    if (e('RPC_URL')) rpc.url = e('RPC_URL');
    if (e('RPC_USER')) rpc.username = e('RPC_USER');
    if (e('RPC_PASSWORD')) rpc.password = e('RPC_PASSWORD');
    base.rpc = rpc;
  }
  return parseConfig(base);
}
