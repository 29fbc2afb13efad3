/**
 * One process per wallet directory: `<dir>/wallet.lock` holds the PID of the
 * process using the wallet, created with O_EXCL. A second process gets
 * WALLET_LOCKED naming that PID and the lock file; a lock whose process is
 * gone (crash, kill -9) is taken over. Within a process the lock is
 * re-entrant (counted), so a command that opens the wallet and a wallet
 * method that locks it for a read-modify-write do not block each other.
 *
 * Why: two `hashdlc` processes on one wallet would each read the state file,
 * hand out the same address or contract key index, and choose the same coins
 * for two contracts (read-modify-write races). Under the lock both are
 * atomic.
 *
 * This module does NOT lock across machines (a PID is local; the wallet
 * directory must not be shared over a network file system) and does not wait
 * for a lock: the caller is told who holds it.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { WalletError } from './errors.js';
import { writeDurably } from './files.js';

export const WALLET_LOCK_FILE = 'wallet.lock';

/** A lock file left empty this long ago was abandoned between create and write. */
const EMPTY_LOCK_STALE_MS = 10_000;

/** Lock files this process holds, with how many times each is held. */
const held = new Map<string, number>();
let exitHookInstalled = false;

function lockPath(dir: string): string {
  return join(dir, WALLET_LOCK_FILE);
}

/** The PID in a lock file; null when the file is empty (being written); undefined when it is gone. */
function readPid(path: string): number | null | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw cause;
  }
  if (text === '') return null;
  const pid = Number(text);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (cause) {
    // EPERM: it exists but belongs to someone else.
    return (cause as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function lockedError(dir: string, path: string, pid: number | null): WalletError {
  const who = pid === null ? 'another process (it is writing the lock file)' : `process ${pid}`;
  return new WalletError('WALLET_LOCKED', `the wallet in ${dir} is in use by ${who}: lock file ${path}; wait for it to finish (one process per wallet)`);
}

/**
 * Removes a stale lock file of `stalePid` (dead) without ever removing a live
 * one: the file is renamed aside first (atomic), then checked; if another
 * process had replaced it meanwhile, it is put back.
 * @returns false when the lock turned out to be live.
 */
function removeStale(path: string, stalePid: number | null): boolean {
  const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.stale`;
  try {
    renameSync(path, aside);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return true; // someone else removed it: retry
    throw cause;
  }
  const pid = readPid(aside);
  if (pid !== stalePid && pid !== null && pid !== undefined && processAlive(pid)) {
    try {
      linkSync(aside, path); // put the live lock back (fails if a new one exists: then that one counts)
    } catch {
      // a newer lock is in place; ours aside is not needed
    }
    unlinkSync(aside);
    return false;
  }
  unlinkSync(aside);
  return true;
}

/**
 * Takes the wallet lock of `dir` for this process (re-entrant).
 * @throws {WalletError} WALLET_LOCKED naming the PID and lock file of the holder.
 */
export function acquireWalletLock(dir: string): void {
  const path = lockPath(dir);
  const count = held.get(path);
  if (count !== undefined) {
    held.set(path, count + 1);
    return;
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number | undefined;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') throw cause;
    }
    if (fd !== undefined) {
      try {
        writeDurably(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      held.set(path, 1);
      installExitHook();
      return;
    }
    const pid = readPid(path);
    if (pid === undefined) continue; // released meanwhile
    if (pid === null) {
      const age = Date.now() - statSync(path, { throwIfNoEntry: false })!.mtimeMs;
      if (!(age > EMPTY_LOCK_STALE_MS)) throw lockedError(dir, path, null);
    } else if (pid !== process.pid && processAlive(pid)) {
      // (Our own PID on a lock we do not hold was left by an earlier run with the same PID: stale.)
      throw lockedError(dir, path, pid);
    }
    if (!removeStale(path, pid)) throw lockedError(dir, path, readPid(path) ?? null);
  }
  throw lockedError(dir, path, readPid(path) ?? null);
}

/** Gives back one hold of the lock of `dir`; the file is removed with the last. */
export function releaseWalletLock(dir: string): void {
  const path = lockPath(dir);
  const count = held.get(path);
  if (count === undefined) return;
  if (count > 1) {
    held.set(path, count - 1);
    return;
  }
  held.delete(path);
  removeOwnLock(path);
}

function removeOwnLock(path: string): void {
  try {
    if (readPid(path) === process.pid) unlinkSync(path);
  } catch {
    // already gone
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A process that ends without releasing (an uncaught error) leaves no lock behind.
  process.on('exit', () => {
    for (const path of held.keys()) removeOwnLock(path);
    held.clear();
  });
}

/** Whether this process holds the lock of `dir`. */
export function holdsWalletLock(dir: string): boolean {
  return held.has(lockPath(dir));
}

/**
 * Runs `fn` under the wallet lock of `dir` (taken for the call unless this
 * process holds it already).
 * @throws {WalletError} WALLET_LOCKED; whatever `fn` throws.
 */
export function withWalletLock<T>(dir: string, fn: () => T): T {
  acquireWalletLock(dir);
  try {
    return fn();
  } finally {
    releaseWalletLock(dir);
  }
}
