/**
 * Private files: written atomically (temp file + rename) with mode 0600, so a
 * crash never leaves a half-written wallet or contract file and nobody but
 * the owner can read them. Nothing else here.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';

/** Writes `text` to `path` atomically, readable by its owner only. */
export function writePrivateFile(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}
