/**
 * The oracle's BIP340 key: generated on first start into `<dataDir>/oracle.key`
 * (64 hex digits and a newline, file mode 0600, data directory 0700), read on
 * later starts. A key file that group or others can read, or that is not a
 * valid secp256k1 secret, stops the oracle: a leaked oracle key lets anyone
 * sign any outcome, and a silently replaced one would orphan every
 * announcement already published.
 *
 * This module does NOT sign anything and never logs the secret.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { isNonZeroScalar, xOnlyPublicKey } from '../protocol/crypto/index.js';
import { toHex } from '../protocol/messages/index.js';
import { OracleError } from './errors.js';

export const KEY_FILE_NAME = 'oracle.key';

/** The oracle's key pair. */
export interface OracleKey {
  secretKey: Uint8Array;
  /** 32-byte x-only public key. */
  publicKey: Uint8Array;
  publicKeyHex: string;
  /** True when this start generated the key. */
  created: boolean;
  path: string;
}

function keyFromHex(text: string, path: string): Uint8Array {
  const hex = text.trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new OracleError('KEY_FILE', `key file ${path} must hold 64 lowercase hex digits`, { reason: 'key-file-format' });
  }
  const sk = Uint8Array.from(Buffer.from(hex, 'hex'));
  if (!isNonZeroScalar(sk)) throw new OracleError('KEY_FILE', `key file ${path} holds an invalid secret key`, { reason: 'key-invalid' });
  return sk;
}

function generateSecret(): Uint8Array {
  for (;;) {
    const sk = Uint8Array.from(randomBytes(32));
    if (isNonZeroScalar(sk)) return sk;
  }
}

/**
 * Loads the oracle key from `dataDir`, generating it on first start.
 * @throws {OracleError} KEY_FILE with reason `key-file-permissions` when the
 *   file is readable or writable by group or others, `key-file-format` /
 *   `key-invalid` for bad contents, `key-file-io` when it cannot be written.
 */
export function loadOrCreateKey(dataDir: string): OracleKey {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, KEY_FILE_NAME);
  let created = false;
  if (!existsSync(path)) {
    const sk = generateSecret();
    let fd: number;
    try {
      // 'wx': never overwrite a key that appeared meanwhile.
      fd = openSync(path, 'wx', 0o600);
    } catch (err) {
      throw new OracleError('KEY_FILE', `cannot create key file ${path}`, { reason: 'key-file-io', cause: err });
    }
    try {
      writeSync(fd, `${toHex(sk)}\n`);
    } finally {
      closeSync(fd);
    }
    // The umask cannot widen 0600, but make the mode exact regardless.
    chmodSync(path, 0o600);
    created = true;
  }
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new OracleError(
      'KEY_FILE',
      `key file ${path} has mode ${mode.toString(8).padStart(4, '0')}: group/others may read it; refusing to start (chmod 600 it if the key is still secret)`,
      { reason: 'key-file-permissions' },
    );
  }
  const secretKey = keyFromHex(readFileSync(path, 'utf8'), path);
  const publicKey = xOnlyPublicKey(secretKey);
  return { secretKey, publicKey, publicKeyHex: toHex(publicKey), created, path };
}
