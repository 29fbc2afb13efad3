/**
 * The wallet's secret: a BIP39 mnemonic in a JSON file readable by its owner
 * only (mode 0600, in a directory of mode 0700).
 *
 *   { "version": 1, "network": "regtest", "mnemonic": "abandon ... about" }
 *
 * A seed file that group or others may read (or write) is refused, as ssh
 * refuses a private key with loose permissions: the user fixes it with
 * `chmod 600`. The file is created with O_EXCL, so an existing seed is never
 * overwritten.
 *
 * This module does NOT derive keys (keys.ts), encrypt the file (a BIP39
 * passphrase can be given to `mnemonicToSeed` by the caller), or talk to nodes.
 */
import { constants, mkdirSync, openSync, readFileSync, statSync, closeSync, chmodSync } from 'node:fs';
import { dirname } from 'node:path';
import { generateMnemonic, mnemonicToSeedSync, validateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { WalletError } from './errors.js';
import { fsyncDirectory, writeDurably } from './files.js';
import { walletNetwork, type WalletNetworkName } from './network.js';

export interface SeedFile {
  version: 1;
  network: WalletNetworkName;
  mnemonic: string;
}

/** Group/other permission bits that make a seed file unsafe. */
const LOOSE_BITS = 0o077;

/**
 * Whether `mnemonic` is a valid English BIP39 mnemonic (words and checksum).
 */
export function isValidMnemonic(mnemonic: string): boolean {
  return validateMnemonic(normalizeMnemonic(mnemonic), wordlist);
}

function normalizeMnemonic(m: string): string {
  return m.normalize('NFKD').trim().split(/\s+/).join(' ');
}

/** A fresh 24-word mnemonic (256 bits from the platform's CSPRNG). */
export function newMnemonic(): string {
  return generateMnemonic(wordlist, 256);
}

/** The BIP39 seed (PBKDF2-HMAC-SHA512, 2048 rounds) of a mnemonic and optional passphrase. */
export function mnemonicToSeed(mnemonic: string, passphrase = ''): Uint8Array {
  return mnemonicToSeedSync(normalizeMnemonic(mnemonic), passphrase);
}

/**
 * Writes a new seed file (mode 0600; its directory created 0700 if missing).
 * @throws {WalletError} WALLET_EXISTS when the file exists; WALLET_BAD_SEED for
 *   an invalid mnemonic.
 */
export function createSeedFile(path: string, network: WalletNetworkName, mnemonic: string = newMnemonic()): SeedFile {
  walletNetwork(network);
  const m = normalizeMnemonic(mnemonic);
  if (!validateMnemonic(m, wordlist)) throw new WalletError('WALLET_BAD_SEED', 'not a valid BIP39 mnemonic (English word list, checksum)');
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const seed: SeedFile = { version: 1, network, mnemonic: m };
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new WalletError('WALLET_EXISTS', `a seed file already exists at ${path}; refusing to overwrite it`, { cause });
    }
    throw cause;
  }
  try {
    // The umask may have cleared bits, never added them; make it exactly 0600.
    chmodSync(path, 0o600);
    // On disk before anyone is told the mnemonic or sends coins to it.
    writeDurably(fd, `${JSON.stringify(seed, null, 2)}\n`);
  } finally {
    closeSync(fd);
  }
  fsyncDirectory(dirname(path));
  return seed;
}

/**
 * Reads a seed file after checking that only its owner can read or write it.
 * @throws {WalletError} WALLET_NOT_FOUND, WALLET_PERMISSIONS (group/other
 *   bits set), WALLET_BAD_SEED (not the expected JSON or an invalid mnemonic).
 */
export function readSeedFile(path: string): SeedFile {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new WalletError('WALLET_NOT_FOUND', `no wallet at ${path} (create one with 'hashdlc wallet init')`, { cause });
    }
    throw cause;
  }
  if ((mode & LOOSE_BITS) !== 0) {
    throw new WalletError(
      'WALLET_PERMISSIONS',
      `seed file ${path} has mode ${(mode & 0o777).toString(8).padStart(4, '0')}: others may read it; refusing to use it (run: chmod 600 ${path})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new WalletError('WALLET_BAD_SEED', `seed file ${path} is not JSON`, { cause });
  }
  const o = json as Partial<SeedFile> | null;
  if (o === null || typeof o !== 'object' || o.version !== 1 || typeof o.mnemonic !== 'string' || typeof o.network !== 'string') {
    throw new WalletError('WALLET_BAD_SEED', `seed file ${path} is not a version-1 hashdlc seed file`);
  }
  try {
    walletNetwork(o.network);
  } catch (cause) {
    throw new WalletError('WALLET_BAD_SEED', `seed file ${path} names an unknown network '${o.network}'`, { cause });
  }
  if (!validateMnemonic(o.mnemonic, wordlist)) throw new WalletError('WALLET_BAD_SEED', `seed file ${path} holds an invalid mnemonic`);
  return { version: 1, network: o.network, mnemonic: o.mnemonic };
}
