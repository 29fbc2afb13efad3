/**
 * Throwaway PostgreSQL clusters for tests and benchmarks: finds Debian's (or
 * any) PostgreSQL binaries, lays a cluster into a temporary directory (a copy
 * of one `initdb`'d template per process) with the database `hashdlc` and the
 * superuser `hashdlc`, trusted without a password from 127.0.0.1 and the unix
 * socket only, and runs `postgres` on 127.0.0.1 at a free port (its unix
 * socket in that directory).
 *
 * `fsync=off`: a test cluster never outlives the machine, and a killed server
 * (kill()) still recovers, since the operating system keeps what the server
 * wrote; only a crash of the machine itself could lose data, and then the
 * cluster is gone anyway.
 *
 * PostgreSQL refuses to run as root: as root, initdb and postgres run as the
 * `postgres` system user (Node spawns them with its uid/gid, so the PID we
 * hold is the postmaster's own, with no runuser/su in between) and the
 * cluster's directory is chown'ed to it.
 *
 * No orphans: stop() ends the server; a process-wide registry SIGKILLs every
 * postmaster still running, and its children, when this process exits or gets
 * SIGINT/SIGTERM (as regtest/node.ts does for nodes); and a tiny `sh` watchdog
 * per server kills the postmaster when this process dies even by SIGKILL (its
 * stdin is a pipe from us: EOF means we are gone) and removes its temporary
 * directory; the backends exit by themselves on postmaster death.
 *
 * This module does NOT create tables or run migrations, and does not depend
 * on the `pg` npm package: readiness is polled with `pg_isready`, and
 * `psql()` runs SQL through the cluster's own `psql`.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import {
  accessSync,
  chownSync,
  constants,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, parse as parsePath, resolve } from 'node:path';
import { freePort } from './node.js';

/** The superuser initdb creates, and the name of the database created after the first start. */
export const POSTGRES_USER = 'hashdlc';
export const POSTGRES_DATABASE = 'hashdlc';

/** Binaries the harness runs; all must sit in one bin directory. */
const REQUIRED_BINARIES = ['initdb', 'postgres', 'pg_isready', 'psql'] as const;

/** PostgreSQL cannot run here; `reason` says why and what to install, so a test can skip with it. */
export class PostgresUnavailableError extends Error {
  readonly code = 'POSTGRES_UNAVAILABLE';
  constructor(readonly reason: string) {
    super(`PostgreSQL is not available: ${reason}`);
    this.name = 'PostgresUnavailableError';
  }
}

/** initdb failed, or the server exited or did not accept connections in time; `logTail` has its last words. */
export class PostgresStartError extends Error {
  readonly code = 'POSTGRES_START';
  constructor(message: string, readonly logTail: string) {
    super(logTail ? `${message}\n${logTail}` : message);
    this.name = 'PostgresStartError';
  }
}

export interface StartPostgresOptions {
  /**
   * Keep the cluster in this directory (created if missing, never removed;
   * an existing cluster in it is reused). Default: a temporary directory
   * (under /dev/shm when there is one) removed by stop(). As root it is chown'ed to the `postgres` user, and
   * its parents must be traversable by that user.
   */
  dir?: string;
  /** TCP port on 127.0.0.1; default: a free port. restart() and start() keep it. */
  port?: number;
  /** Also copy the server's log to this process's stderr (it always goes to `<dir>/postgres.log`). */
  log?: boolean;
  /** Give up when the server does not accept connections by then; default 30 s. */
  startTimeoutMs?: number;
}

/** A running throwaway cluster. */
export interface RunningPostgres {
  /** `postgres://hashdlc@127.0.0.1:<port>/hashdlc` (trust auth: no password). */
  readonly url: string;
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The cluster's directory: `data/` (PGDATA), the unix socket, `postgres.log`. */
  readonly dir: string;
  /** The bin directory of the PostgreSQL used (psql, pg_dump, ... are there). */
  readonly binDir: string;
  /** PID of the postmaster while it runs, else undefined. */
  readonly pid: number | undefined;
  /** Milliseconds of the first start (with this process's first cluster: initdb of the template too). */
  readonly startMs: number;
  /** Starts the server again on the same port and directory (after shutdown() or kill()); no-op while running. */
  start(): Promise<void>;
  /** Fast shutdown (SIGINT: sessions are cut, data kept); start() brings it back. */
  shutdown(): Promise<void>;
  /** shutdown() then start(): same port, same data. */
  restart(): Promise<void>;
  /** SIGKILLs the postmaster and its backends at once (a crash); start() runs crash recovery. */
  kill(): Promise<void>;
  /** Shuts the server down and removes its directory unless it was given as `dir`. Final; idempotent. */
  stop(): Promise<void>;
  /**
   * Runs SQL with the cluster's psql (`-X -A -t`, ON_ERROR_STOP) as `hashdlc`
   * on database `hashdlc`; resolves to its trimmed output (rows `|`-separated).
   * @throws {Error} with psql's stderr when it fails.
   */
  psql(sql: string): Promise<string>;
}

// --- orphan protection ---------------------------------------------------------

/** Running postmasters by PID, with the directory to remove at exit. */
const live = new Map<number, { dir: string; keep: boolean }>();
let handlersInstalled = false;

/** Linux process state and parent of `pid`, from /proc; undefined once it is gone. */
function procStat(pid: number): { state: string; ppid: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // After the command name in parentheses: state, ppid, ...
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', ppid: Number(fields[1]) };
}

/** The postmaster's children (backends, checkpointer, ...): each runs in its own session (setsid), so no group kill reaches them. */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (/^\d+$/.test(entry) && procStat(Number(entry))?.ppid === pid) found.push(Number(entry));
  }
  return found;
}

/** SIGKILLs a postmaster and its children at once; returns the PIDs killed. */
function killServer(pid: number): number[] {
  const pids = [...childrenOf(pid), pid];
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  return pids;
}

/** Alive and not a zombie (a zombie holds no shared memory; PID 1 of a container may never reap it). */
function running(pid: number): boolean {
  const st = procStat(pid);
  return st !== undefined && st.state !== 'Z';
}

function killAllSync(): void {
  for (const [pid, { dir, keep }] of live) {
    killServer(pid);
    if (!keep) rmSync(dir, { recursive: true, force: true });
    live.delete(pid);
  }
  for (const dir of templateDirs) rmSync(dir, { recursive: true, force: true });
  templateDirs.clear();
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllSync);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      killAllSync();
      process.removeListener(signal, onSignal);
      // Without other listeners, re-raising gives the default behaviour (exit by the signal).
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

// --- discovery -----------------------------------------------------------------

function isExecutable(path: string): boolean {
  try {
    return statSync(path).isFile() && (statSync(path).mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

function hasAllBinaries(dir: string): boolean {
  return REQUIRED_BINARIES.every((name) => isExecutable(join(dir, name)));
}

/**
 * The bin directory holding initdb, postgres, pg_isready and psql:
 * HASHDLC_POSTGRES_BINDIR when set, else the real directory of an `initdb` on
 * PATH (Debian only links some of them into PATH), else the highest
 * /usr/lib/postgresql/<version>/bin.
 * @throws {PostgresUnavailableError} when none is found.
 */
export function findPostgresBinDir(env: NodeJS.ProcessEnv = process.env): string {
  const named = env.HASHDLC_POSTGRES_BINDIR;
  if (named) {
    if (!hasAllBinaries(named)) {
      throw new PostgresUnavailableError(`HASHDLC_POSTGRES_BINDIR=${named} lacks one of ${REQUIRED_BINARIES.join(', ')}`);
    }
    return named;
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir || !isExecutable(join(dir, 'initdb'))) continue;
    const real = dirname(realpathSync(join(dir, 'initdb')));
    if (hasAllBinaries(real)) return real;
  }
  const versions = existsSync('/usr/lib/postgresql')
    ? readdirSync('/usr/lib/postgresql')
        .filter((v) => /^\d+(\.\d+)?$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const version of versions) {
    const dir = `/usr/lib/postgresql/${version}/bin`;
    if (hasAllBinaries(dir)) return dir;
  }
  throw new PostgresUnavailableError('no initdb found: install Debian package postgresql');
}

interface RunAs {
  uid: number;
  gid: number;
}

/** As root: the `postgres` system user to run the server as; else undefined (run as ourselves). */
function serverUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string): number => {
    const r = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
    return r.status === 0 ? Number(r.stdout.trim()) : NaN;
  };
  const [uid, gid] = [id('-u'), id('-g')];
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new PostgresUnavailableError('running as root and there is no `postgres` system user to run the server as (Debian package postgresql creates it)');
  }
  return { uid, gid };
}

/** Whether startPostgres() can work here; the reason when it cannot (for a visible skip). */
export async function postgresAvailable(env: NodeJS.ProcessEnv = process.env): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    findPostgresBinDir(env);
    serverUser();
    return { ok: true };
  } catch (err) {
    if (err instanceof PostgresUnavailableError) return { ok: false, reason: err.reason };
    throw err;
  }
}

/** As another user, every parent of `dir` must let that user through (x bit for it). */
function assertTraversable(dir: string, user: RunAs): void {
  for (let d = dirname(dir); ; d = dirname(d)) {
    const st = statSync(d);
    const ok = st.uid === user.uid ? st.mode & 0o100 : st.gid === user.gid ? st.mode & 0o010 : st.mode & 0o001;
    if (!ok) throw new PostgresUnavailableError(`${d} is not traversable by the postgres user (uid ${user.uid}); pick a dir elsewhere`);
    if (d === parsePath(d).root) return;
  }
}

// --- processes -------------------------------------------------------------------

/** Environment for the binaries: no PG* variables of ours leaking into them, messages in English. */
function childEnv(dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG')) env[k] = v;
  return { ...env, HOME: dir, LC_ALL: 'C', LANG: 'C' };
}

/** Runs a binary to its end; `out` is stdout on success, stderr + stdout on failure. */
function run(
  file: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; as?: RunAs | undefined; input?: string },
): Promise<{ code: number; out: string }> {
  return new Promise((resolveRun) => {
    const proc = spawn(file, args, { cwd: opts.cwd, env: opts.env, ...opts.as, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.once('error', (err) => resolveRun({ code: -1, out: err.message }));
    proc.once('close', (code) => resolveRun({ code: code ?? -1, out: code === 0 ? stdout : `${stderr}${stdout}` }));
    // A program that exits without reading its input (pg_isready) closes the pipe first:
    // that EPIPE is no failure (the exit code decides) and must not be an unhandled error.
    proc.stdin.on('error', () => undefined);
    proc.stdin.end(opts.input ?? '');
  });
}

// --- the template cluster ----------------------------------------------------------

/**
 * initdb takes a second or more; copying its result takes a tenth of that. So
 * each process initdb's one template per bin directory (pg_hba.conf ours,
 * database `hashdlc` created in single-user mode) and every cluster starts as
 * a copy of it. Templates are removed when this process exits.
 */
const templates = new Map<string, Promise<string>>();
const templateDirs = new Set<string>();

function templateData(binDir: string, as: RunAs | undefined): Promise<string> {
  let template = templates.get(binDir);
  if (!template) {
    template = buildTemplate(binDir, as);
    templates.set(binDir, template);
    template.catch(() => templates.delete(binDir));
  }
  return template;
}

async function buildTemplate(binDir: string, as: RunAs | undefined): Promise<string> {
  const root = mkdtempSync(join(clusterBase(), 'hashdlc-pg-template-'));
  templateDirs.add(root);
  try {
    return await initTemplate(binDir, as, root);
  } catch (err) {
    templateDirs.delete(root);
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}

async function initTemplate(binDir: string, as: RunAs | undefined, root: string): Promise<string> {
  const data = join(root, 'data');
  const env = childEnv(root);
  if (as) {
    assertTraversable(root, as);
    chownSync(root, as.uid, as.gid);
  }
  // --no-sync: see fsync=off above. --wal-segsize=1 (MB): a 16 MB WAL segment would be most of each copy.
  const init = await run(
    join(binDir, 'initdb'),
    ['-D', data, '-U', POSTGRES_USER, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions', '--wal-segsize=1'],
    { cwd: root, env, as },
  );
  if (init.code !== 0) throw new PostgresStartError(`initdb failed (exit ${init.code})`, init.out.trim());
  // initdb's default also trusts ::1; a test cluster listens on 127.0.0.1 only.
  writeFileSync(join(data, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 trust\n');
  if (as) chownSync(join(data, 'pg_hba.conf'), as.uid, as.gid);
  const create = await run(join(binDir, 'postgres'), ['--single', '-D', data, '-c', 'fsync=off', 'postgres'], {
    cwd: root,
    env,
    as,
    input: `CREATE DATABASE ${POSTGRES_DATABASE};\n`,
  });
  if (create.code !== 0) throw new PostgresStartError(`CREATE DATABASE ${POSTGRES_DATABASE} failed (exit ${create.code})`, create.out.trim());
  return data;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Where temporary clusters go: /dev/shm (tmpfs) when there is one, since
 * copying the template there takes a tenth of the time it takes on disk
 * (measured: 0.1 s against 0.8 s for 44 MB) and the server writes to memory;
 * else the system's temporary directory. A benchmark that wants a disk passes `dir`.
 */
function clusterBase(): string {
  try {
    accessSync('/dev/shm', constants.W_OK | constants.X_OK);
    if (statSync('/dev/shm').isDirectory()) return '/dev/shm';
  } catch {
    // no tmpfs here
  }
  return tmpdir();
}

/**
 * Starts a throwaway cluster (initdb on first use of its directory) and waits
 * until it accepts connections.
 * @throws {PostgresUnavailableError} when no PostgreSQL is installed (or, as root, no `postgres` user).
 * @throws {PostgresStartError} when initdb fails or the server does not come up.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<RunningPostgres> {
  const t0 = performance.now();
  const binDir = findPostgresBinDir();
  const as = serverUser();
  installExitHandlers();
  const keep = options.dir !== undefined;
  const dir = keep ? resolve(options.dir!) : mkdtempSync(join(clusterBase(), 'hashdlc-pg-'));
  const data = join(dir, 'data');
  const env = childEnv(dir);
  const port = options.port ?? (await freePort());
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const bin = (name: string): string => join(binDir, name);
  // sockaddr_un holds 107 bytes of path; postgres would only say so in its log.
  if (join(dir, `.s.PGSQL.${port}`).length > 107) throw new RangeError(`PostgreSQL socket path under ${dir} is too long (107 bytes at most)`);

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let removed = false;
  const logTail: string[] = [];
  const tail = (): string => logTail.join('').trimEnd();

  const psql = async (sql: string): Promise<string> => {
    const args = ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', POSTGRES_USER, '-d', POSTGRES_DATABASE, '-c', sql];
    const r = await run(bin('psql'), args, { cwd: dir, env });
    if (r.code !== 0) throw new Error(`psql failed (exit ${r.code}): ${r.out.trim()}`);
    return r.out.trim();
  };

  const launch = async (): Promise<void> => {
    if (child) return;
    if (removed) throw new Error('this PostgreSQL cluster was stopped and its directory removed; start a new one');
    // dynamic_shared_memory_type=mmap: segments live in PGDATA/pg_dynshmem and go with the
    // directory, where /dev/shm/PostgreSQL.* files of a killed server would stay behind.
    const args = ['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', dir, '-c', 'fsync=off', '-c', 'lc_messages=C', '-c', 'dynamic_shared_memory_type=mmap'];
    // detached: a Ctrl-C meant for us reaches our handlers, not the server directly.
    const proc = spawn(bin('postgres'), args, { cwd: dir, env, ...as, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    const pid = proc.pid;
    if (pid === undefined) throw new PostgresStartError('postgres did not spawn', '');
    child = proc;
    live.set(pid, { dir, keep });
    const watchdogScript = `read _; kill -s KILL ${pid} 2>/dev/null; ${keep ? '' : 'sleep 1; rm -rf "$1"'}`;
    const watchdog = spawn('sh', ['-c', watchdogScript, 'sh', dir], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    watchdog.unref();
    (watchdog.stdin as Socket | null)?.unref();
    watchdog.stdin?.on('error', () => undefined);
    const file = createWriteStream(join(dir, 'postgres.log'), { flags: 'a' });
    proc.stderr?.on('data', (chunk: Buffer) => {
      file.write(chunk);
      if (options.log) process.stderr.write(chunk);
      logTail.push(chunk.toString());
      if (logTail.length > 40) logTail.shift();
    });
    exited = new Promise<void>((resolveExit) => {
      proc.once('exit', () => {
        live.delete(pid);
        watchdog.kill('SIGKILL');
        file.end();
        if (child === proc) child = undefined;
        resolveExit();
      });
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child !== proc) throw new PostgresStartError(`postgres exited before accepting connections (port ${port})`, tail());
      // Through our own socket: on 127.0.0.1 another server could answer at this port (ours then fails to bind).
      const r = await run(bin('pg_isready'), ['-q', '-h', dir, '-p', String(port), '-U', POSTGRES_USER, '-d', POSTGRES_DATABASE, '-t', '2'], { cwd: dir, env });
      if (r.code === 0) return;
      // 1: rejecting connections (starting up, recovering); 2: no answer yet; 3: our mistake.
      if (r.code === 3) throw new PostgresStartError(`pg_isready: bad parameters: ${r.out}`, tail());
      if (Date.now() > deadline) {
        killServer(pid);
        throw new PostgresStartError(`postgres did not accept connections within ${timeoutMs} ms`, tail());
      }
      await sleep(50);
    }
  };

  const shutdown = async (): Promise<void> => {
    const proc = child;
    if (!proc?.pid) return;
    try {
      process.kill(proc.pid, 'SIGINT'); // fast shutdown: roll back sessions, checkpoint, exit
    } catch {
      // exited meanwhile
    }
    const grace = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000).unref());
    if ((await Promise.race([exited.then(() => 'exited' as const), grace])) === 'timeout') {
      killServer(proc.pid);
      await exited;
    }
  };

  const kill = async (): Promise<void> => {
    const proc = child;
    if (!proc?.pid) return;
    const pids = killServer(proc.pid);
    await exited;
    // A new postmaster refuses to start while a process of the old one still
    // holds its shared memory: wait until they are all gone.
    const deadline = Date.now() + 10_000;
    while (pids.some(running)) {
      if (Date.now() > deadline) throw new Error(`processes of the killed postmaster ${proc.pid} are still alive after 10 s`);
      await sleep(20);
    }
  };

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await shutdown();
      removed = true;
      if (!keep) rmSync(dir, { recursive: true, force: true });
    })());

  try {
    if (keep) mkdirSync(dir, { recursive: true });
    if (as) {
      assertTraversable(dir, as);
      chownSync(dir, as.uid, as.gid);
    }
    if (!existsSync(join(data, 'PG_VERSION'))) {
      // cp -a keeps the postgres user's ownership (we copy as root) and PGDATA's mode 0700.
      const copy = await run('cp', ['-a', await templateData(binDir, as), data], { cwd: dir, env });
      if (copy.code !== 0) throw new PostgresStartError('could not copy the template cluster', copy.out.trim());
    }
    await launch();
  } catch (err) {
    await shutdown();
    if (!keep) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const startMs = performance.now() - t0;

  return {
    url: `postgres://${POSTGRES_USER}@127.0.0.1:${port}/${POSTGRES_DATABASE}`,
    host: '127.0.0.1',
    port,
    dir,
    binDir,
    get pid() {
      return child?.pid;
    },
    startMs,
    start: launch,
    shutdown,
    restart: async () => {
      await shutdown();
      await launch();
    },
    kill,
    stop,
    psql,
  };
}
