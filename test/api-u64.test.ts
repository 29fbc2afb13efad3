/**
 * The two u64 schemas of src/api, built on text.ts `DECIMAL_U64_TEXT`: the
 * coordinator's request field (canonical text: no leading zero, below 2^64,
 * kept as a string) and an oracle answer's field (any 1 to 20 digits, read as
 * a bigint). Pins exactly what each accepts and the message each refusal gives.
 */
import { describe, expect, it } from 'vitest';
import { u64TextSchema } from '../src/api/coordinator.js';
import { u64AnswerSchema } from '../src/api/oracle.js';

const U64_MAX = '18446744073709551615';
const TWO_64 = '18446744073709551616';
const ALL_NINES_20 = '9'.repeat(20);
const DIGITS_21 = '1'.repeat(21);

describe('coordinator request u64 (u64TextSchema)', () => {
  it.each(['0', '1', '10', '100000000', U64_MAX])('accepts %j as the same text', (s) => {
    expect(u64TextSchema.parse(s)).toBe(s);
  });

  it.each([
    ['', 'decimal u64'],
    ['00', 'decimal u64'],
    ['007', 'decimal u64'],
    ['0' + U64_MAX.slice(1), 'decimal u64'],
    [DIGITS_21, 'decimal u64'],
    ['-1', 'decimal u64'],
    ['+1', 'decimal u64'],
    ['1.5', 'decimal u64'],
    [' 1', 'decimal u64'],
    ['1e3', 'decimal u64'],
    ['abc', 'decimal u64'],
    ['\uff11', 'decimal u64'],
    [TWO_64, 'exceeds u64'],
    [ALL_NINES_20, 'exceeds u64'],
  ])('refuses %j: %s', (s, message) => {
    const r = u64TextSchema.safeParse(s);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.message)).toEqual([message]);
  });

  it('refuses a number (the field is text)', () => {
    expect(u64TextSchema.safeParse(1).success).toBe(false);
  });
});

describe('oracle answer u64 (u64AnswerSchema)', () => {
  it.each([
    ['0', 0n],
    ['007', 7n],
    ['00000000000000000000', 0n],
    [U64_MAX, 2n ** 64n - 1n],
    // Lenient, as before: the oracle's answers are range-checked by their readers.
    [TWO_64, 2n ** 64n],
    [ALL_NINES_20, 10n ** 20n - 1n],
  ])('accepts %j as %s', (s, value) => {
    expect(u64AnswerSchema.parse(s)).toBe(value);
  });

  it.each(['', DIGITS_21, '-1', '+1', '1.5', ' 1', '1e3', 'abc', '\uff11'])('refuses %j', (s) => {
    expect(u64AnswerSchema.safeParse(s).success).toBe(false);
  });
});
