/**
 * The stack's service processes: each oracle and the coordinator run as
 * a child process (`node --import tsx src/stack/service-main.ts <kind>
 * --config FILE`), in its own process group, stderr appended to a log file,
 * stdin held open by this process so that the child stops when we die.
 * `spawnService` resolves once the child has printed its URL line.
 *
 * Ports: `choosePort` takes a wanted port, falls back to a free one when a
 * default is taken, refuses when an explicit one is.
 *
 * This module does NOT write the services' config files (stack.ts does).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../regtest/index.js';
import type { PortChoice } from './config.js';
import { StackError } from './errors.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVICE_MAIN = fileURLToPath(new URL('./service-main.ts', import.meta.url));

export type ServiceKind = 'oracle' | 'coordinator';

/** How a child ended. */
export interface ServiceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running service process. */
export interface ServiceProcess {
  kind: ServiceKind;
  pid: number;
  url: string;
  /** The JSON line it printed when ready (url, and for the oracle its publicKey). */
  ready: Record<string, unknown>;
  logFile: string;
  /** Settles when the process has exited (for whatever reason). */
  exited: Promise<ServiceExit>;
  /** True until the process has exited. */
  running(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs` (default 15 s); resolves once it has exited. */
  stop(graceMs?: number): Promise<ServiceExit>;
  /** SIGKILL (tests: crash safety); resolves once it has exited. */
  kill(): Promise<ServiceExit>;
}

/** True when nothing listens on 127.0.0.1:`port` right now. */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * The port to use for `choice`: itself when free, any free port for 0 or a
 * busy default.
 * @throws {StackError} STACK_PORT_IN_USE for a busy port the user asked for.
 */
export async function choosePort(choice: PortChoice, what: string): Promise<number> {
  if (choice.port === 0) return freePort();
  if (await isPortFree(choice.port)) return choice.port;
  if (choice.strict) throw new StackError('STACK_PORT_IN_USE', `${what} port ${choice.port} is in use (choose another, or 0 for any free port)`);
  return freePort();
}

/**
 * Ports for several listeners at once (`undefined` entries are skipped): as
 * `choosePort`, and never the same port twice.
 * @throws {StackError} STACK_PORT_IN_USE.
 */
export async function choosePorts(choices: readonly (readonly [PortChoice | undefined, string])[]): Promise<number[]> {
  const taken = new Set<number>();
  const out: number[] = [];
  for (const [choice, what] of choices) {
    if (choice === undefined) {
      out.push(0);
      continue;
    }
    let port = await choosePort(choice, what);
    if (taken.has(port)) {
      if (choice.strict) throw new StackError('STACK_PORT_IN_USE', `${what} port ${port} is given to two services`);
      do port = await freePort();
      while (taken.has(port));
    }
    taken.add(port);
    out.push(port);
  }
  return out;
}

/** The environment of a service child: ours without the variables its config file settles. */
function serviceEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(HASHDLC_ORACLE_|HASHDLC_COORDINATOR_|BITCOIN_RPC_)/.test(k)) continue;
    env[k] = v;
  }
  return env;
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * Starts a service child and waits for its ready line.
 * @throws {StackError} STACK_SERVICE when it exits or stays silent for `startTimeoutMs` (it is killed).
 */
export async function spawnService(
  kind: ServiceKind,
  configFile: string,
  logFile: string,
  options: { startTimeoutMs?: number } = {},
): Promise<ServiceProcess> {
  const logFd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, ['--import', 'tsx', SERVICE_MAIN, kind, '--config', configFile], {
      cwd: REPO_ROOT,
      env: serviceEnv(),
      detached: true,
      stdio: ['pipe', 'pipe', logFd],
    });
  } finally {
    closeSync(logFd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new StackError('STACK_SERVICE', `${kind} did not start`);
  let alive = true;
  const exited = new Promise<ServiceExit>((resolve) => {
    child.once('exit', (code, signal) => {
      alive = false;
      resolve({ code, signal });
    });
  });
  const signalAndWait = async (signal: NodeJS.Signals, graceMs: number): Promise<ServiceExit> => {
    if (alive) {
      try {
        process.kill(pid, signal);
      } catch {
        // gone meanwhile
      }
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
      if ((await Promise.race([exited, timeout])) === 'timeout') {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
    }
    const exit = await exited;
    child.stdin?.destroy();
    return exit;
  };

  const timeoutMs = options.startTimeoutMs ?? 120_000;
  const lines = createInterface({ input: child.stdout! });
  let ready: Record<string, unknown>;
  try {
    ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line within ${timeoutMs} ms`)), timeoutMs);
      void exited.then((e) => {
        clearTimeout(timer);
        reject(new Error(`exited (${e.signal ?? `code ${e.code}`}) before it was ready`));
      });
      lines.once('line', (line) => {
        clearTimeout(timer);
        try {
          const json = JSON.parse(line) as Record<string, unknown>;
          if (typeof json.url !== 'string') throw new Error('no url');
          resolve(json);
        } catch {
          reject(new Error(`unexpected first line on stdout: ${line.slice(0, 200)}`));
        }
      });
    });
  } catch (cause) {
    await signalAndWait('SIGKILL', 1_000);
    throw new StackError('STACK_SERVICE', `${kind} ${(cause as Error).message}; log ${logFile}:\n${tail(logFile)}`, { cause });
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  lines.on('line', () => undefined);
  return {
    kind,
    pid,
    url: (ready.url as string).replace(/\/+$/, ''),
    ready,
    logFile,
    exited,
    running: () => alive,
    stop: (graceMs = 15_000) => signalAndWait('SIGTERM', graceMs),
    kill: () => signalAndWait('SIGKILL', 5_000),
  };
}

/** The last lines of a service's log (for error messages). */
export function logTail(service: ServiceProcess, lines = 15): string {
  return tail(service.logFile, lines);
}
