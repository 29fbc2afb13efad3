/**
 * The CLI's configuration: the one place that reads `HASHDLC_*` environment
 * variables, merged under the command-line flags (a flag wins over its
 * variable) and validated with zod.
 *
 *   HASHDLC_WALLET_DIR     wallet directory (default ~/.hashdlc/<network>)
 *   HASHDLC_NETWORK        mainnet | testnet | testnet4 | signet | regtest (default regtest)
 *   HASHDLC_COORDINATOR    coordinator base URL
 *   HASHDLC_ORACLE         oracle base URLs, comma-separated (the set you trust)
 *   HASHDLC_ORACLE_PUBKEY  pinned x-only oracle keys, comma-separated (optional)
 *   HASHDLC_ORACLE_THRESHOLD  K of an offer's K-of-n oracle set (default: a majority)
 *   HASHDLC_RPC_URL        node JSON-RPC URL; `http://user:pass@host:port/` works
 *   HASHDLC_RPC_USER, HASHDLC_RPC_PASSWORD   RPC credentials (override the URL's)
 *   HASHDLC_FEE_RATE       funding fee rate, sat/vB (default: the node's estimate, else 2)
 *   HASHDLC_THREADS        adaptor-signing worker threads (default: all cores)
 *
 * RPC credentials go from here to src/chain's `BitcoinRpc` and nowhere else;
 * they are never printed.
 *
 * This module does NOT open the wallet or contact anything.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import type { RpcConfig } from '../chain/index.js';
import { WALLET_NETWORKS, type WalletNetworkName } from '../wallet/index.js';
import { COMMON_OPTIONS, str, type OptionValues } from './args.js';
import type { ParticipantConfig } from '../participant/config.js';
import { ParticipantError } from '../participant/errors.js';

/** The participant's configuration plus the CLI's output mode. */
export interface CliConfig extends ParticipantConfig {
  json: boolean;
}

const httpUrl = z.string().url().refine((u) => /^https?:\/\//.test(u), 'an http(s) URL').transform((u) => u.replace(/\/+$/, ''));
const schema = z.object({
  network: z.enum(Object.keys(WALLET_NETWORKS) as [WalletNetworkName, ...WalletNetworkName[]]),
  coordinator: httpUrl.optional(),
  oracle: z.array(httpUrl).refine((a) => new Set(a).size === a.length, 'the same oracle twice').optional(),
  oraclePubkey: z.array(z.string().regex(/^[0-9a-f]{64}$/, '32-byte x-only key, lower-case hex')).refine((a) => new Set(a).size === a.length, 'the same key twice').optional(),
  threshold: z.string().regex(/^[1-9]\d{0,2}$/, 'a whole number from 1').optional(),
  rpcUrl: httpUrl.optional(),
  feeRate: z.string().regex(/^[1-9]\d{0,5}$/, 'a whole number of sat/vB').optional(),
  threads: z.string().regex(/^\d{1,3}$/, 'a small whole number').optional(),
});

/** A repeatable option: its flags, else its variable split at commas. */
function pickList(values: OptionValues, env: NodeJS.ProcessEnv, name: string): string[] | undefined {
  const v = values[name];
  const given = Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
  const list = given.length > 0 ? given : (pick({}, env, name) ?? '').split(',');
  const out = list.map((s) => s.trim()).filter((s) => s !== '');
  return out.length === 0 ? undefined : out;
}

function pick(values: OptionValues, env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = str(values, name);
  if (v !== undefined) return v;
  const variable = COMMON_OPTIONS[name]?.env ?? (name === 'fee-rate' ? 'HASHDLC_FEE_RATE' : undefined);
  const e = variable === undefined ? undefined : env[variable];
  return e === undefined || e === '' ? undefined : e;
}

/**
 * Reads the configuration from the parsed flags and the environment.
 * @throws {ParticipantError} CONFIG naming the bad setting.
 */
export function loadConfig(values: OptionValues, env: NodeJS.ProcessEnv = process.env): CliConfig {
  const networkRaw = pick(values, env, 'network');
  const raw = {
    network: networkRaw ?? 'regtest',
    coordinator: pick(values, env, 'coordinator'),
    oracle: pickList(values, env, 'oracle'),
    oraclePubkey: pickList(values, env, 'oracle-pubkey')?.map((k) => k.toLowerCase()),
    threshold: pick(values, env, 'threshold'),
    rpcUrl: pick(values, env, 'rpc-url'),
    feeRate: pick(values, env, 'fee-rate'),
    threads: pick(values, env, 'threads'),
  };
  const r = schema.safeParse(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)));
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const key = String(issue.path[0] ?? '');
    const flag = { rpcUrl: 'rpc-url', oraclePubkey: 'oracle-pubkey', feeRate: 'fee-rate' }[key] ?? key;
    throw new ParticipantError('CONFIG', `--${flag}: ${issue.message}`);
  }
  const c = r.data;
  let rpc: RpcConfig | undefined;
  if (c.rpcUrl !== undefined) {
    const u = new URL(c.rpcUrl);
    const username = pick(values, env, 'rpc-user') ?? decodeURIComponent(u.username);
    const password = pick(values, env, 'rpc-password') ?? decodeURIComponent(u.password);
    u.username = '';
    u.password = '';
    rpc = { url: u.toString(), username, password };
  }
  return {
    network: c.network,
    networkGiven: networkRaw !== undefined,
    walletDir: pick(values, env, 'wallet-dir') ?? join(homedir(), '.hashdlc', c.network),
    coordinator: c.coordinator,
    oracles: c.oracle ?? [],
    oraclePubkeys: c.oraclePubkey ?? [],
    oracleThreshold: c.threshold === undefined ? undefined : Number(c.threshold),
    rpc,
    feeRatePerVb: c.feeRate === undefined ? undefined : BigInt(c.feeRate),
    threads: c.threads === undefined ? undefined : Number(c.threads),
    json: values.json === true,
  };
}
