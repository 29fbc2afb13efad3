/**
 * `hashdlc agent --json` as a real child process (`node bin/hashdlc.js agent
 * ...`), for the demo and the regtest scenarios: starts it for one wallet,
 * collects its JSON log lines (stdout) and notes (stderr), and offers
 * `waitFor(predicate, timeoutMs)`, `stop()` (SIGTERM, expects exit 0) and
 * `kill()` (SIGKILL, the crash the agent must survive).
 *
 * This module does NOT build the agent's configuration: the caller passes
 * the flags and the `HASHDLC_*` environment (the parent's `HASHDLC_*`
 * variables are NOT inherited, so a test's own settings cannot leak in).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { AgentLogLine } from './loop.js';

/** The CLI entry (bin/hashdlc.js) of this checkout. */
const HASHDLC_BIN = fileURLToPath(new URL('../../bin/hashdlc.js', import.meta.url));

export interface AgentProcessOptions {
  /** The wallet the agent runs (`--wallet-dir`). */
  walletDir: string;
  /** More flags after `agent --json --wallet-dir DIR` (e.g. `--interval 0.5`, `--coordinator URL`). */
  args?: string[];
  /** `HASHDLC_*` (and any other) variables for the child, on top of the parent's non-HASHDLC_ environment. */
  env?: Record<string, string>;
  /** Called with each log line as it arrives (e.g. to echo it in a demo). */
  onLine?: (line: AgentLogLine) => void;
  /** Called with each stderr line (the agent's notes). */
  onNote?: (line: string) => void;
}

/** A running (or ended) `hashdlc agent --json` child. */
export class AgentProcess {
  /** Every JSON log line so far, in order. */
  readonly lines: AgentLogLine[] = [];
  /** Every stderr line so far. */
  readonly notes: string[] = [];
  /** Non-JSON stdout lines (none expected with --json; kept so a test can show them). */
  readonly other: string[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  readonly #waiters = new Set<() => void>();

  constructor(opts: AgentProcessOptions) {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HASHDLC_')) env[k] = v;
    Object.assign(env, opts.env ?? {});
    this.child = spawn(process.execPath, [HASHDLC_BIN, 'agent', '--json', '--wallet-dir', opts.walletDir, ...(opts.args ?? [])], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    splitLines(this.child.stdout!, (l) => {
      let parsed: AgentLogLine | undefined;
      try {
        parsed = JSON.parse(l) as AgentLogLine;
      } catch {
        this.other.push(l);
      }
      if (parsed !== undefined) {
        this.lines.push(parsed);
        opts.onLine?.(parsed);
      }
      this.#wake();
    });
    splitLines(this.child.stderr!, (l) => {
      this.notes.push(l);
      opts.onNote?.(l);
      this.#wake();
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.#exit = { code, signal };
        this.#wake();
        resolve(this.#exit);
      });
    });
  }

  /** The exit, once the process ended. */
  get exit(): { code: number | null; signal: NodeJS.Signals | null } | null {
    return this.#exit;
  }

  /**
   * Resolves with the first log line (past or future) that matches.
   * @throws {Error} when `timeoutMs` passes or the process exits first (the message names the last lines and notes).
   */
  waitFor(predicate: (line: AgentLogLine) => boolean, timeoutMs: number): Promise<AgentLogLine> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = this.lines.find(predicate);
        if (hit !== undefined) {
          done();
          resolve(hit);
          return true;
        }
        if (this.#exit !== null) {
          done();
          reject(new Error(`agent exited (${this.#exit.code ?? this.#exit.signal}) before the awaited line; ${this.#tail()}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`agent: no awaited line within ${timeoutMs} ms; ${this.#tail()}`));
      }, timeoutMs);
      const waiter = (): void => void check();
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      if (!check()) this.#waiters.add(waiter);
    });
  }

  /**
   * SIGTERM, then waits for the exit.
   * @throws {Error} when it does not exit with code 0 within `timeoutMs` (then it is SIGKILLed).
   */
  async stop(timeoutMs = 60_000): Promise<void> {
    if (this.#exit === null) this.child.kill('SIGTERM');
    const r = await Promise.race([this.exited, delay(timeoutMs, null, { ref: false })]);
    if (r === null) {
      await this.kill();
      throw new Error(`agent did not stop within ${timeoutMs} ms of SIGTERM; ${this.#tail()}`);
    }
    if (r.code !== 0) throw new Error(`agent stopped with ${r.code ?? r.signal}, not 0; ${this.#tail()}`);
  }

  /** SIGKILL (no cleanup runs in the child), then waits for the exit. */
  async kill(): Promise<void> {
    if (this.#exit === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  #tail(): string {
    return `last lines: ${JSON.stringify(this.lines.slice(-3))}; last notes: ${JSON.stringify(this.notes.slice(-5))}; other: ${JSON.stringify(this.other.slice(-3))}`;
  }
}

/** Starts `hashdlc agent --json` for a wallet as a child process. */
export function startAgentProcess(opts: AgentProcessOptions): AgentProcess {
  return new AgentProcess(opts);
}

function splitLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.trim() !== '') onLine(line);
    }
  });
  stream.on('end', () => {
    if (buf.trim() !== '') onLine(buf);
    buf = '';
  });
}
