/**
 * A demo or scenario participant (miner, buyer): its wallet directory and
 * the services it talks to, and `run(args)`, which runs a `hashdlc` command
 * exactly as a user would type it (src/cli `main`, with `--json`), in this
 * process: the participant's settings go in through the CLI's own
 * environment variables (`HASHDLC_WALLET_DIR`, `HASHDLC_RPC_URL`, ...), the
 * command's JSON answer comes back from its stdout. Commands run one at a
 * time (they share this process's environment and stdout while they run).
 *
 * Why in-process: the same code path as `bin/hashdlc.js`, without paying a
 * TypeScript loader start per command (about 1.5 s each on a busy machine),
 * which keeps the demo and the scenario suite fast.
 *
 * This module does NOT implement any command (src/cli does).
 */
import { main as cliMain } from '../cli/main.js';
import type { RpcConfig } from '../chain/index.js';
import { Wallet } from '../wallet/index.js';
import { StackError } from './errors.js';

/** What a participant connects to. */
export interface ParticipantServices {
  rpc: RpcConfig;
  coordinator: string;
  oracle: string;
  /** Pin the oracle's key (HASHDLC_ORACLE_PUBKEY). */
  oraclePubkey?: string;
  /** Signing worker threads (HASHDLC_THREADS); default: the CLI's (all cores). */
  threads?: number;
}

/** One command's outcome. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (undefined when it is not JSON). */
  json: unknown;
}

let queue: Promise<unknown> = Promise.resolve();

/** Runs `fn` with process.stdout/stderr captured and `env` set; one at a time. */
function captured(env: Record<string, string | undefined>, fn: () => Promise<number>): Promise<CommandResult> {
  const run = queue.then(async () => {
    const out: string[] = [];
    const err: string[] = [];
    const realOut = process.stdout.write;
    const realErr = process.stderr.write;
    const saved: Record<string, string | undefined> = {};
    const capture = (sink: string[]): typeof process.stdout.write =>
      ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
        sink.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
        const cb = rest.find((r): r is () => void => typeof r === 'function');
        cb?.();
        return true;
      }) as typeof process.stdout.write;
    for (const [k, v] of Object.entries(env)) {
      saved[k] = process.env[k];
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    process.stdout.write = capture(out);
    process.stderr.write = capture(err);
    let code: number;
    try {
      code = await fn();
    } finally {
      process.stdout.write = realOut;
      process.stderr.write = realErr;
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    const stdout = out.join('');
    let json: unknown;
    try {
      json = JSON.parse(stdout);
    } catch {
      json = undefined;
    }
    return { code, stdout, stderr: err.join(''), json };
  });
  queue = run.catch(() => undefined);
  return run;
}

/** Quotes an argument for display as a shell command. */
function shellWord(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`;
}

export class Participant {
  readonly name: string;
  readonly walletDir: string;
  services: ParticipantServices;

  constructor(name: string, walletDir: string, services: ParticipantServices) {
    this.name = name;
    this.walletDir = walletDir;
    this.services = services;
  }

  /** The participant's wallet (src/wallet), opened from its directory. @throws {WalletError} */
  wallet(): Wallet {
    return Wallet.open(this.walletDir, { expectNetwork: 'regtest' });
  }

  /** The command as the user would type it (settings in the environment). */
  commandLine(args: readonly string[]): string {
    return ['hashdlc', ...args].map(shellWord).join(' ');
  }

  /** The environment variables that carry this participant's settings to the CLI. */
  env(): Record<string, string | undefined> {
    const s = this.services;
    return {
      HASHDLC_WALLET_DIR: this.walletDir,
      HASHDLC_NETWORK: 'regtest',
      HASHDLC_RPC_URL: s.rpc.url,
      HASHDLC_RPC_USER: s.rpc.username,
      HASHDLC_RPC_PASSWORD: s.rpc.password,
      HASHDLC_COORDINATOR: s.coordinator,
      HASHDLC_ORACLE: s.oracle,
      HASHDLC_ORACLE_PUBKEY: s.oraclePubkey,
      HASHDLC_THREADS: s.threads === undefined ? undefined : String(s.threads),
      HASHDLC_FEE_RATE: undefined,
    };
  }

  /** Runs `hashdlc <args> --json`; never throws for a failing command (see `code`). */
  exec(args: readonly string[]): Promise<CommandResult> {
    return captured(this.env(), () => cliMain([...args, '--json']));
  }

  /**
   * Runs `hashdlc <args> --json` and returns its JSON answer.
   * @throws {StackError} STACK_COMMAND with the CLI's error line when it exits non-zero.
   */
  async run<T = Record<string, unknown>>(args: readonly string[]): Promise<T> {
    const r = await this.exec(args);
    if (r.code !== 0) {
      const line = r.stderr.trim().split('\n').filter((l) => l.startsWith('hashdlc')).pop() ?? r.stderr.trim();
      throw new StackError('STACK_COMMAND', `${this.name}: ${this.commandLine(args)} failed (exit ${r.code}): ${line}`);
    }
    if (r.json === undefined) throw new StackError('STACK_COMMAND', `${this.name}: ${this.commandLine(args)} printed no JSON: ${r.stdout.slice(0, 200)}`);
    return r.json as T;
  }
}
