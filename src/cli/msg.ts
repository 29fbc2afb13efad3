/**
 * `hashdlc msg`: convert DLC messages between wire hex and JSON.
 *
 *   hashdlc msg decode <hex|file|->   wire bytes -> {"type": ..., "message": {...}}
 *   hashdlc msg encode <json|file|->  that JSON -> wire hex
 *
 * A file may hold hex text or raw bytes (decode) or JSON (encode); `-` reads
 * stdin. u64 values are printed and read exactly (lossless JSON). Exit code 0
 * on success, 1 on any bad input, with the reason on stderr.
 */
import { existsSync, readFileSync } from 'node:fs';
import { DlcError } from '../../protocol/errors.js';
import {
  decodeMessage,
  encodeMessage,
  envelopeFromJson,
  envelopeToJson,
  fromHex,
  parseJson,
  stringifyJson,
  toHex,
} from '../../protocol/messages/index.js';

const USAGE = `usage:
  hashdlc msg decode <hex|file|->   decode wire bytes to {"type": ..., "message": {...}}
  hashdlc msg encode <json|file|->  encode that JSON to wire hex
`;

class UsageError extends Error {}

const HEX = /^(?:0x)?[0-9a-fA-F\s]+$/;

function readInput(arg: string): Uint8Array {
  if (arg === '-') return readFileSync(0);
  if (existsSync(arg)) return readFileSync(arg);
  throw new UsageError(`no such file: ${arg}`);
}

function hexToBytes(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '').replace(/^0x/, '');
  return fromHex(clean);
}

function decodeInput(arg: string): Uint8Array {
  // A hex argument first: an argument that is hex and not an existing file is data.
  if (arg !== '-' && HEX.test(arg) && !existsSync(arg)) return hexToBytes(arg);
  const raw = readInput(arg);
  const text = Buffer.from(raw).toString('latin1');
  return HEX.test(text) ? hexToBytes(text) : raw;
}

function encodeInput(arg: string): string {
  if (arg.trimStart().startsWith('{')) return arg;
  return Buffer.from(readInput(arg)).toString('utf8');
}

function describe(err: unknown): string {
  if (err instanceof DlcError) return `${err.code}${err.reason === undefined ? '' : ` (${err.reason})`}: ${err.message}`;
  if (err instanceof UsageError) return err.message;
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

/**
 * Runs `hashdlc msg <decode|encode> <input>`.
 * @returns the process exit code: 0 on success, 1 on bad usage or input.
 */
export async function msgCommand(argv: string[]): Promise<number> {
  const [sub, input, ...extra] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
    process.stdout.write(USAGE);
    return sub === undefined ? 1 : 0;
  }
  if ((sub !== 'decode' && sub !== 'encode') || input === undefined || extra.length > 0) {
    process.stderr.write(`hashdlc msg: bad arguments\n${USAGE}`);
    return 1;
  }
  try {
    if (sub === 'decode') {
      const msg = decodeMessage(decodeInput(input));
      process.stdout.write(`${stringifyJson(envelopeToJson(msg), 2)}\n`);
    } else {
      const msg = envelopeFromJson(parseJson(encodeInput(input)));
      process.stdout.write(`${toHex(encodeMessage(msg))}\n`);
    }
    return 0;
  } catch (err) {
    process.stderr.write(`hashdlc msg ${sub}: ${describe(err)}\n`);
    return 1;
  }
}
