/**
 * Private files: written atomically and durably (temp file, fsync, rename,
 * fsync of the directory) with mode 0600, so a crash or power cut never
 * leaves a half-written or lost wallet or contract file (a rename is only
 * durable once its directory entry is on disk) and nobody but the owner can
 * read them. Nothing else here.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Flushes a directory's entries (a file created or renamed in it) to disk.
 * Platforms that cannot open a directory for fsync (Windows) are skipped.
 */
export function fsyncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch (cause) {
    if (['EISDIR', 'EPERM', 'EACCES'].includes((cause as NodeJS.ErrnoException).code ?? '')) return;
    throw cause;
  }
  try {
    fsyncSync(fd);
  } catch (cause) {
    if (!['EINVAL', 'EPERM', 'EISDIR'].includes((cause as NodeJS.ErrnoException).code ?? '')) throw cause;
  } finally {
    closeSync(fd);
  }
}

/** Writes `text` to an open file descriptor and flushes it to disk. */
export function writeDurably(fd: number, text: string): void {
  writeSync(fd, text);
  fsyncSync(fd);
}

/** Writes `text` to `path` atomically and durably, readable by its owner only. */
export function writePrivateFile(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeDurably(fd, text);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDirectory(dirname(path));
}
