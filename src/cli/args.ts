/**
 * Command-line parsing for `hashdlc` commands: each command declares its
 * options once (name, type, placeholder, help, environment variable), and
 * gets strict parsing (node:util parseArgs: unknown options are errors) and
 * a generated `--help` text from that declaration.
 *
 * This module does NOT read the environment (config.ts does) or run commands.
 */
import { parseArgs } from 'node:util';
import { usage } from '../participant/errors.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** Placeholder shown in help, e.g. `SATS`. */
  value?: string;
  multiple?: boolean;
  help: string;
  /** The environment variable that supplies it when the flag is absent (config.ts reads it). */
  env?: string;
}

export interface CommandSpec {
  /** e.g. `wallet balance`. */
  name: string;
  /** Positional arguments, e.g. `<offer-id>`. */
  args?: string;
  summary: string;
  /** More lines of help after the summary. */
  details?: string[];
  options: Record<string, OptionSpec>;
  /** Positional argument count bounds (default exactly 0). */
  minArgs?: number;
  maxArgs?: number;
}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export interface ParsedCommand {
  values: OptionValues;
  positionals: string[];
  help: boolean;
}

/** Options every command that touches the wallet, the node or the services takes. */
export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  'wallet-dir': { type: 'string', value: 'DIR', help: 'wallet directory (default ~/.hashdlc/<network>)', env: 'HASHDLC_WALLET_DIR' },
  network: { type: 'string', value: 'NAME', help: 'mainnet | testnet | testnet4 | signet | regtest (default regtest)', env: 'HASHDLC_NETWORK' },
  coordinator: { type: 'string', value: 'URL', help: 'coordinator base URL', env: 'HASHDLC_COORDINATOR' },
  oracle: { type: 'string', value: 'URL', multiple: true, help: 'an oracle you trust (base URL; the variable takes a comma-separated list)', env: 'HASHDLC_ORACLE' },
  'oracle-pubkey': { type: 'string', value: 'HEX', multiple: true, help: 'pin an oracle\'s x-only public key (every oracle\'s key must be pinned once any is)', env: 'HASHDLC_ORACLE_PUBKEY' },
  threshold: { type: 'string', value: 'K', help: 'K of a K-of-n oracle set: offer: the offer\'s threshold (default a majority); accept: the least taken (default any)', env: 'HASHDLC_ORACLE_THRESHOLD' },
  'rpc-url': { type: 'string', value: 'URL', help: 'Bitcoin node JSON-RPC URL (credentials may be in the URL)', env: 'HASHDLC_RPC_URL' },
  'rpc-user': { type: 'string', value: 'USER', help: 'RPC user name', env: 'HASHDLC_RPC_USER' },
  'rpc-password': { type: 'string', value: 'PASS', help: 'RPC password', env: 'HASHDLC_RPC_PASSWORD' },
  threads: { type: 'string', value: 'N', help: 'signing worker threads (default: all cores; 0 = in-thread)', env: 'HASHDLC_THREADS' },
  json: { type: 'boolean', help: 'print the result as JSON on stdout' },
};

/**
 * Parses `argv` for `spec` (strict: unknown options and wrong types are errors).
 * @throws {ParticipantError} USAGE.
 */
export function parseCommand(spec: CommandSpec, argv: string[]): ParsedCommand {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = { help: { type: 'boolean' } };
  for (const [name, o] of Object.entries(spec.options)) options[name] = o.multiple ? { type: o.type, multiple: true } : { type: o.type };
  let parsed: { values: OptionValues; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as { values: OptionValues; positionals: string[] };
  } catch (e) {
    throw usage(`${(e as Error).message.replace(/\. To specify a positional.*$/s, '')}\n(see 'hashdlc ${spec.name} --help')`);
  }
  const help = parsed.values.help === true;
  if (!help) {
    const min = spec.minArgs ?? 0;
    const max = spec.maxArgs ?? min;
    const n = parsed.positionals.length;
    if (n < min) throw usage(`'hashdlc ${spec.name}' needs ${spec.args ?? 'arguments'} (see --help)`);
    if (n > max) throw usage(`'hashdlc ${spec.name}': unexpected argument '${parsed.positionals[max]}' (see --help)`);
  }
  return { values: parsed.values, positionals: parsed.positionals, help };
}

/** The `--help` text of a command. */
export function helpText(spec: CommandSpec): string {
  const lines = [`usage: hashdlc ${spec.name}${spec.args ? ` ${spec.args}` : ''} [options]`, '', spec.summary];
  if (spec.details) lines.push('', ...spec.details);
  const entries = Object.entries(spec.options);
  if (entries.length > 0) {
    lines.push('', 'options:');
    const left = entries.map(([name, o]) => `  --${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`);
    const width = Math.max(...left.map((l) => l.length)) + 2;
    entries.forEach(([, o], i) => {
      const env = o.env ? ` [env ${o.env}]` : '';
      lines.push(`${left[i]!.padEnd(width)}${o.help}${o.multiple ? ' (repeatable)' : ''}${env}`);
    });
  }
  lines.push('  --help  show this help');
  return `${lines.join('\n')}\n`;
}

/** A string option's value, or undefined. */
export function str(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/**
 * A required string option.
 * @throws {ParticipantError} USAGE when absent.
 */
export function required(values: OptionValues, name: string, command: string): string {
  const v = str(values, name);
  if (v === undefined || v === '') throw usage(`'hashdlc ${command}' needs --${name} (see --help)`);
  return v;
}

/**
 * A non-negative integer amount option (sats, TH/s, ...), exact as bigint.
 * @throws {ParticipantError} USAGE for anything but decimal digits.
 */
export function bigintOpt(values: OptionValues, name: string, fallback?: bigint): bigint | undefined {
  const v = str(values, name);
  if (v === undefined) return fallback;
  if (!/^\d{1,20}$/.test(v)) throw usage(`--${name} must be a non-negative integer, got '${v}'`);
  return BigInt(v);
}

/**
 * A non-negative safe integer option (heights, bps, counts).
 * @throws {ParticipantError} USAGE.
 */
export function intOpt(values: OptionValues, name: string, fallback?: number): number | undefined {
  const v = str(values, name);
  if (v === undefined) return fallback;
  if (!/^\d{1,15}$/.test(v) || !Number.isSafeInteger(Number(v))) throw usage(`--${name} must be a non-negative integer, got '${v}'`);
  return Number(v);
}

/** The values of a repeatable string option. */
export function list(values: OptionValues, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

/** Options for funding from another wallet and paying to other addresses (offer, accept). */
export const EXTERNAL_FUNDING_OPTIONS = {
  utxo: { type: 'string', value: 'TXID:VOUT', multiple: true, help: "fund from this P2WPKH output of an external wallet (sign with --psbt-out/--psbt-in)" },
  'payout-address': { type: 'string', value: 'ADDR', help: 'where your payouts go (default: a new address of this wallet)' },
  'change-address': { type: 'string', value: 'ADDR', help: 'where your funding change goes (default: a new change address of this wallet)' },
} as const;

/** These common options, in this order (the order of `--help`). */
export const pickOptions = (...names: string[]): Record<string, OptionSpec> => Object.fromEntries(names.map((n) => [n, COMMON_OPTIONS[n]!]));

/** Options of a command that reads the wallet only. */
export const WALLET_OPTIONS: Record<string, OptionSpec> = pickOptions('wallet-dir', 'network', 'json');

/** Options of a command that also uses this party's node. */
export const NODE_OPTIONS: Record<string, OptionSpec> = pickOptions('wallet-dir', 'network', 'rpc-url', 'rpc-user', 'rpc-password', 'json');

/** Options of a command that also talks to the coordinator and the oracle. */
export const NET_OPTIONS: Record<string, OptionSpec> = pickOptions('wallet-dir', 'network', 'coordinator', 'oracle', 'oracle-pubkey', 'threshold', 'rpc-url', 'rpc-user', 'rpc-password', 'json');

/**
 * Parses a command's argv; with `--help` prints its help and returns undefined (the command exits 0).
 * @throws {ParticipantError} USAGE.
 */
export function parseOrHelp(spec: CommandSpec, argv: string[]): ParsedCommand | undefined {
  const parsed = parseCommand(spec, argv);
  if (!parsed.help) return parsed;
  process.stdout.write(helpText(spec));
  return undefined;
}
