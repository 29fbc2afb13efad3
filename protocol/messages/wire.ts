/**
 * Low-level reader and writer for the dlcspecs wire format (Messaging.md
 * "Fundamental Types"): big-endian integers, BOLT #1 BigSize, length-prefixed
 * byte strings and UTF-8 strings.
 *
 * Every read is bounded: a length or count taken from the input is checked
 * against the bytes that remain BEFORE anything is allocated, so hostile input
 * cannot make us allocate more than its own size. Every malformed input throws
 * `DlcError('DECODE_ERROR')`.
 *
 * This module does NOT know any message layout (see codec.ts), does no I/O and
 * never normalises strings (the bytes on the wire are kept as they are).
 */
import { DlcError } from '../errors.js';

const U64_MAX = (1n << 64n) - 1n;
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

function decodeError(message: string, reason: string): DlcError {
  return new DlcError('DECODE_ERROR', message, { reason });
}

/**
 * A cursor over a byte array. All `read*` methods throw `DlcError('DECODE_ERROR')`
 * when the input is too short or malformed.
 */
export class WireReader {
  private readonly bytes: Uint8Array;
  private offset: number;
  private readonly end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.bytes = bytes;
    this.offset = start;
    this.end = end;
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.end - this.offset;
  }

  /** Current position, relative to the start of the underlying array. */
  get position(): number {
    return this.offset;
  }

  private need(n: number, what: string): void {
    if (n > this.remaining) {
      throw decodeError(`truncated input: ${what} needs ${n} bytes, ${this.remaining} left`, 'truncated');
    }
  }

  /** @throws {DlcError} DECODE_ERROR when fewer than `n` bytes remain. */
  readBytes(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const out = this.bytes.slice(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /** @throws {DlcError} DECODE_ERROR on truncation. */
  readU8(what = 'u8'): number {
    this.need(1, what);
    return this.bytes[this.offset++]!;
  }

  /** @throws {DlcError} DECODE_ERROR on truncation. */
  readU16(what = 'u16'): number {
    this.need(2, what);
    const b = this.bytes;
    const v = (b[this.offset]! << 8) | b[this.offset + 1]!;
    this.offset += 2;
    return v;
  }

  /** @throws {DlcError} DECODE_ERROR on truncation. */
  readU32(what = 'u32'): number {
    this.need(4, what);
    const b = this.bytes;
    const o = this.offset;
    const v = b[o]! * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
    this.offset += 4;
    return v;
  }

  /** Signed 32-bit, two's complement (Messaging.md `int32`). @throws {DlcError} DECODE_ERROR */
  readI32(what = 'i32'): number {
    const u = this.readU32(what);
    return u >= 0x80000000 ? u - 0x100000000 : u;
  }

  /** @throws {DlcError} DECODE_ERROR on truncation. */
  readU64(what = 'u64'): bigint {
    const hi = this.readU32(what);
    const lo = this.readU32(what);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** `0x00` false, `0x01` true, anything else invalid (Messaging.md `bool`). @throws {DlcError} DECODE_ERROR */
  readBool(what = 'bool'): boolean {
    const v = this.readU8(what);
    if (v > 1) throw decodeError(`${what}: invalid bool byte 0x${v.toString(16)}`, 'invalid-bool');
    return v === 1;
  }

  /**
   * BOLT #1 BigSize. Non-minimal encodings are rejected, as BOLT #1 requires.
   * @throws {DlcError} DECODE_ERROR on truncation or non-canonical encoding.
   */
  readBigSize(what = 'bigsize'): bigint {
    const first = this.readU8(what);
    if (first < 0xfd) return BigInt(first);
    if (first === 0xfd) {
      const v = this.readU16(what);
      if (v < 0xfd) throw decodeError(`${what}: non-canonical bigsize`, 'non-canonical-bigsize');
      return BigInt(v);
    }
    if (first === 0xfe) {
      const v = this.readU32(what);
      if (v < 0x10000) throw decodeError(`${what}: non-canonical bigsize`, 'non-canonical-bigsize');
      return BigInt(v);
    }
    const v = this.readU64(what);
    if (v < 0x100000000n) throw decodeError(`${what}: non-canonical bigsize`, 'non-canonical-bigsize');
    return v;
  }

  /**
   * A BigSize used as a length or element count. `minItemSize` is the smallest
   * encoding of one element: the count must fit in what remains, so that no
   * array larger than the input is ever allocated.
   * @throws {DlcError} DECODE_ERROR when the count cannot fit in the remaining bytes.
   */
  readBigSizeCount(what: string, minItemSize = 1): number {
    return this.checkCount(this.readBigSize(what), what, minItemSize);
  }

  /** A u16 element count, bounded like {@link readBigSizeCount}. @throws {DlcError} DECODE_ERROR */
  readU16Count(what: string, minItemSize = 1): number {
    return this.checkCount(BigInt(this.readU16(what)), what, minItemSize);
  }

  private checkCount(count: bigint, what: string, minItemSize: number): number {
    if (count * BigInt(minItemSize) > BigInt(this.remaining)) {
      throw decodeError(
        `${what}: count ${count} cannot fit in the ${this.remaining} bytes left`,
        'length-exceeds-input',
      );
    }
    return Number(count);
  }

  /** BigSize length followed by that many bytes. @throws {DlcError} DECODE_ERROR */
  readVarBytes(what: string): Uint8Array {
    const n = this.readBigSizeCount(what, 1);
    return this.readBytes(n, what);
  }

  /** u16 length followed by that many bytes (Messaging.md `spk`). @throws {DlcError} DECODE_ERROR */
  readU16Bytes(what: string): Uint8Array {
    const n = this.readU16Count(what, 1);
    return this.readBytes(n, what);
  }

  /**
   * Messaging.md `string`: BigSize byte length, then UTF-8. Invalid UTF-8 is
   * rejected; the text is returned as decoded, NOT re-normalised.
   * @throws {DlcError} DECODE_ERROR
   */
  readString(what = 'string'): string {
    const raw = this.readVarBytes(what);
    try {
      return utf8Decoder.decode(raw);
    } catch (cause) {
      throw new DlcError('DECODE_ERROR', `${what}: invalid UTF-8`, { reason: 'invalid-utf8', cause });
    }
  }

  /**
   * Reads a TLV record header (BigSize type, BigSize length) and returns a
   * reader confined to its value. The caller must call {@link expectEnd} on it.
   * @throws {DlcError} DECODE_ERROR on truncation or a length beyond the input.
   */
  readTlv(what: string): { type: bigint; value: WireReader } {
    const type = this.readBigSize(`${what} type`);
    const length = this.readBigSizeCount(`${what} length`, 1);
    const value = new WireReader(this.bytes, this.offset, this.offset + length);
    this.offset += length;
    return { type, value };
  }

  /** @throws {DlcError} DECODE_ERROR when bytes are left over. */
  expectEnd(what: string): void {
    if (this.remaining !== 0) {
      throw decodeError(`${what}: ${this.remaining} unexpected trailing bytes`, 'trailing-bytes');
    }
  }
}

/** Growable byte buffer with the same primitives as {@link WireReader}. */
export class WireWriter {
  private buf: Uint8Array = new Uint8Array(256);
  private len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** The bytes written so far (a copy). */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  writeBytes(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  /** @throws {RangeError} when `v` is not an integer in [0, 255]. */
  writeU8(v: number): this {
    checkUint(v, 0xff, 'u8');
    this.ensure(1);
    this.buf[this.len++] = v;
    return this;
  }

  /** @throws {RangeError} when out of range. */
  writeU16(v: number): this {
    checkUint(v, 0xffff, 'u16');
    this.ensure(2);
    this.buf[this.len++] = v >>> 8;
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  /** @throws {RangeError} when out of range. */
  writeU32(v: number): this {
    checkUint(v, 0xffffffff, 'u32');
    this.ensure(4);
    this.buf[this.len++] = (v >>> 24) & 0xff;
    this.buf[this.len++] = (v >>> 16) & 0xff;
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  /** @throws {RangeError} when out of range. */
  writeI32(v: number): this {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
      throw new RangeError(`i32 out of range: ${v}`);
    }
    return this.writeU32(v < 0 ? v + 0x100000000 : v);
  }

  /** @throws {RangeError} when out of range. */
  writeU64(v: bigint): this {
    if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) throw new RangeError(`u64 out of range: ${String(v)}`);
    this.writeU32(Number(v >> 32n));
    return this.writeU32(Number(v & 0xffffffffn));
  }

  writeBool(v: boolean): this {
    return this.writeU8(v ? 1 : 0);
  }

  /** BOLT #1 BigSize, minimal encoding. @throws {RangeError} when out of range. */
  writeBigSize(v: bigint | number): this {
    const n = typeof v === 'bigint' ? v : BigInt(v);
    if (n < 0n || n > U64_MAX) throw new RangeError(`bigsize out of range: ${String(v)}`);
    if (n < 0xfdn) return this.writeU8(Number(n));
    if (n <= 0xffffn) return this.writeU8(0xfd).writeU16(Number(n));
    if (n <= 0xffffffffn) return this.writeU8(0xfe).writeU32(Number(n));
    return this.writeU8(0xff).writeU64(n);
  }

  writeVarBytes(bytes: Uint8Array): this {
    return this.writeBigSize(bytes.length).writeBytes(bytes);
  }

  /** @throws {RangeError} when longer than 65535 bytes. */
  writeU16Bytes(bytes: Uint8Array): this {
    return this.writeU16(bytes.length).writeBytes(bytes);
  }

  /** UTF-8 with a BigSize byte length; the string is written as given (no normalisation). */
  writeString(s: string): this {
    return this.writeVarBytes(utf8Encoder.encode(s));
  }

  /** A TLV record: BigSize type, BigSize length, value. */
  writeTlv(type: number, value: Uint8Array): this {
    return this.writeBigSize(type).writeVarBytes(value);
  }
}

function checkUint(v: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${what} out of range: ${v}`);
}

/** Lower-case hex of a byte array. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** True when `s` is an even number of hex digits (either case). One pass, no regex, no recursion. */
export function isHexText(s: string): boolean {
  if (s.length % 2 !== 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // 0-9, A-F, a-f
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/**
 * Parses hex (either case, even length, no prefix).
 * @throws {DlcError} DECODE_ERROR when the text is not hex.
 */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new DlcError('DECODE_ERROR', 'not an even-length hex string', { reason: 'invalid-hex' });
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
