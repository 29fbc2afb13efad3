// `hashdlc msg decode|encode` as a real process (node bin/hashdlc.js) on vectors.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseJson } from '../protocol/messages/json.js';
import type { JsonObject } from '../protocol/messages/json.js';
import { specTestVectors } from './helpers/vectors.js';

const BIN = fileURLToPath(new URL('../bin/hashdlc.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'hashdlc-cli-msg-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function hashdlc(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const [, v] = specTestVectors().find(([f]) => f === 'enum_single_oracle_test.json')!;

describe('hashdlc msg', () => {
  it('decode <hex> prints {type, message} with exact u64 values, and encode <file> gives the hex back', () => {
    const dec = hashdlc('msg', 'decode', v.accept_message.serialized);
    expect(dec.stderr).toBe('');
    expect(dec.code).toBe(0);
    expect(dec.stdout).toContain('"changeSerialId": 13981087499650180058');
    const out = parseJson(dec.stdout) as JsonObject;
    expect(out.type).toBe('accept_dlc');
    expect(out.message).toEqual(v.accept_message.message);

    const file = join(tmp, 'accept.json');
    writeFileSync(file, dec.stdout);
    const enc = hashdlc('msg', 'encode', file);
    expect(enc.code).toBe(0);
    expect(enc.stdout.trim()).toBe(v.accept_message.serialized);
  });

  it('decode <file> reads hex text or raw bytes; encode takes inline JSON', () => {
    const hexFile = join(tmp, 'offer.hex');
    writeFileSync(hexFile, `${v.offer_message.serialized}\n`);
    const binFile = join(tmp, 'offer.bin');
    writeFileSync(binFile, Buffer.from(v.offer_message.serialized, 'hex'));
    const a = hashdlc('msg', 'decode', hexFile);
    const b = hashdlc('msg', 'decode', binFile);
    expect(a.code).toBe(0);
    expect(b.stdout).toBe(a.stdout);
    expect((parseJson(a.stdout) as JsonObject).message).toEqual(v.offer_message.message);
    const enc = hashdlc('msg', 'encode', a.stdout);
    expect(enc.stdout.trim()).toBe(v.offer_message.serialized);
  });

  it.each([
    ['decode truncated hex', ['decode', v.sign_message.serialized.slice(0, 40)], /DECODE_ERROR \(truncated\)/],
    ['decode trailing byte', ['decode', `${v.sign_message.serialized}00`], /trailing-bytes/],
    ['decode a missing file', ['decode', 'no-such-file.bin'], /no such file/],
    ['encode bad JSON', ['encode', '{"type":'], /INVALID_JSON/],
    ['encode a bad field', ['encode', '{"type":"sign_dlc","message":{"protocolVersion":1}}'], /\$\.message\.contractId: missing field/],
    ['unknown subcommand', ['verify', 'x'], /usage/],
  ])('%s exits 1 with a clear message', (_name, args, message) => {
    const r = hashdlc('msg', ...args);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });
});
