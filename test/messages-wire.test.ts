// Low-level wire primitives: BigSize (BOLT #1 Appendix A vectors), bounded
// reads, trailing bytes, and the hyperbola number encoding.
import { describe, expect, it } from 'vitest';
import { DlcError } from '../protocol/errors.js';
import { decodeMessage, encodeMessage, joinHyperbolaParameter, splitHyperbolaParameter } from '../protocol/messages/codec.js';
import { WireReader, WireWriter, fromHex, toHex } from '../protocol/messages/wire.js';
import { specTestVectors } from './helpers/vectors.js';

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DlcError);
    return (err as DlcError).reason;
  }
  throw new Error('expected a DlcError');
}

describe('BigSize (BOLT #1 Appendix A)', () => {
  const good: [string, bigint][] = [
    ['00', 0n],
    ['fc', 252n],
    ['fd00fd', 253n],
    ['fdffff', 65535n],
    ['fe00010000', 65536n],
    ['feffffffff', 4294967295n],
    ['ff0000000100000000', 4294967296n],
    ['ffffffffffffffffff', 18446744073709551615n],
  ];
  it.each(good)('%s <-> %s', (hex, value) => {
    const r = new WireReader(fromHex(hex));
    expect(r.readBigSize()).toBe(value);
    r.expectEnd('bigsize');
    expect(toHex(new WireWriter().writeBigSize(value).toBytes())).toBe(hex);
  });

  it.each([
    ['fd00fc', 'non-canonical-bigsize'],
    ['fe0000ffff', 'non-canonical-bigsize'],
    ['ff00000000ffffffff', 'non-canonical-bigsize'],
    ['fd00', 'truncated'],
    ['feffff', 'truncated'],
    ['ffffffffff', 'truncated'],
    ['', 'truncated'],
    ['fd', 'truncated'],
  ])('%s is rejected (%s)', (hex, reason) => {
    expect(reasonOf(() => new WireReader(fromHex(hex)).readBigSize())).toBe(reason);
  });
});

describe('bounded reads', () => {
  it('rejects a count larger than the remaining bytes before allocating', () => {
    // bigsize 2^64-1 elements of at least 162 bytes, with 3 bytes left
    const r = new WireReader(fromHex('ffffffffffffffffff000000'));
    expect(reasonOf(() => r.readBigSizeCount('sigs', 162))).toBe('length-exceeds-input');
  });

  it('rejects a u16 count that cannot fit', () => {
    expect(reasonOf(() => new WireReader(fromHex('0002' + '00'.repeat(63))).readU16Count('nonces', 32))).toBe('length-exceeds-input');
  });

  it('rejects a byte-string length beyond the input', () => {
    expect(reasonOf(() => new WireReader(fromHex('0500000000')).readVarBytes('prevtx'))).toBe('length-exceeds-input');
  });

  it('rejects bool bytes other than 0 and 1', () => {
    expect(reasonOf(() => new WireReader(fromHex('02')).readBool())).toBe('invalid-bool');
  });

  it('rejects invalid UTF-8 and keeps valid text as is (no normalisation)', () => {
    expect(reasonOf(() => new WireReader(fromHex('02c328')).readString())).toBe('invalid-utf8');
    const decomposed = 'e\u0301'; // not NFC: the wire bytes are kept
    const bytes = new WireWriter().writeString(decomposed).toBytes();
    expect(new WireReader(bytes).readString()).toBe(decomposed);
  });

  it('reads signed 32-bit integers in two\'s complement', () => {
    const bytes = new WireWriter().writeI32(-2).writeI32(2147483647).toBytes();
    expect(toHex(bytes)).toBe('fffffffe7fffffff');
    const r = new WireReader(bytes);
    expect([r.readI32(), r.readI32()]).toEqual([-2, 2147483647]);
  });

  it('rejects trailing bytes and truncation of a real message', () => {
    const [, v] = specTestVectors()[0]!;
    const bytes = fromHex(v.sign_message.serialized);
    expect(reasonOf(() => decodeMessage(Uint8Array.from([...bytes, 0])))).toBe('trailing-bytes');
    // Cut inside the last witness: its length prefix now exceeds the input.
    expect(reasonOf(() => decodeMessage(bytes.subarray(0, bytes.length - 1)))).toBe('length-exceeds-input');
    // Cut inside the fixed-size contract id.
    expect(reasonOf(() => decodeMessage(bytes.subarray(0, 20)))).toBe('truncated');
  });

  it('rejects unknown message types and present negotiation fields', () => {
    expect(reasonOf(() => decodeMessage(fromHex('a7200000')))).toBe('unknown-type');
    const [, v] = specTestVectors()[0]!;
    const accept = fromHex(v.accept_message.serialized);
    const withFields = accept.slice();
    withFields[withFields.length - 1] = 1;
    expect(reasonOf(() => decodeMessage(withFields))).toBe('unsupported-negotiation-fields');
  });
});

describe('hyperbola parameters: sign | u64 whole | u16 extra precision', () => {
  it.each([
    [50, true, 50n, 0],
    [-1, false, 1n, 0],
    [0, true, 0n, 0],
    [0.5, true, 0n, 32768],
    [-1234.25, false, 1234n, 16384],
    [2 ** 60, true, 1n << 60n, 0],
  ])('%s', (x, positive, whole, extra) => {
    expect(splitHyperbolaParameter(x)).toEqual({ positive, whole, extraPrecision: extra });
    expect(joinHyperbolaParameter(positive, whole, extra)).toBe(x);
  });

  it('keeps a negative zero so that it re-encodes byte for byte', () => {
    expect(splitHyperbolaParameter(-0).positive).toBe(false);
    expect(Object.is(joinHyperbolaParameter(false, 0n, 0), -0)).toBe(true);
  });

  it('refuses values it would have to round', () => {
    expect(reasonOf(() => splitHyperbolaParameter(0.1))).toBe('hyperbola-parameter-not-representable');
    expect(reasonOf(() => splitHyperbolaParameter(2 ** 64))).toBe('hyperbola-parameter-not-representable');
    expect(reasonOf(() => splitHyperbolaParameter(Number.NaN))).toBe('hyperbola-parameter');
    // 2^60 + 1/65536 needs 77 bits: no double holds it.
    expect(reasonOf(() => joinHyperbolaParameter(true, 1n << 60n, 1))).toBe('hyperbola-parameter-not-exact');
  });

  it('round-trips a fractional parameter through a real offer', () => {
    const [, v] = specTestVectors().find(([f]) => f === 'single_oracle_numerical_hyperbola_test.json')!;
    const msg = decodeMessage(fromHex(v.offer_message.serialized));
    if (msg.type !== 'offer_dlc' || !('singleContractInfo' in msg.message.contractInfo)) throw new Error('unexpected vector');
    const d = msg.message.contractInfo.singleContractInfo.contractInfo.contractDescriptor;
    if (!('numericOutcomeContractDescriptor' in d)) throw new Error('unexpected vector');
    const piece = d.numericOutcomeContractDescriptor.payoutFunction.payoutFunctionPieces[0]!.payoutCurvePiece;
    if (!('hyperbolaPayoutCurvePiece' in piece)) throw new Error('unexpected vector');
    piece.hyperbolaPayoutCurvePiece.b = -2.75;
    const again = decodeMessage(encodeMessage(msg));
    expect(again).toEqual(msg);
  });
});
