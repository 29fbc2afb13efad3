/**
 * Exact non-negative-denominator rationals over bigint, just enough for the
 * hashpower formulas and the template curves: add, multiply, divide, compare,
 * floor, round-half-up, and exact parsing of decimal strings.
 *
 * This module does NOT approximate: there is no conversion from `number`
 * except from safe integers, and no floating point anywhere. It does no I/O.
 */
import { DlcError } from '../errors.js';

/** `n / d` with `d > 0` and `gcd(|n|, d) = 1`. */
export interface Rational {
  readonly n: bigint;
  readonly d: bigint;
}

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) {
    const t = x % y;
    x = y;
    y = t;
  }
  return x;
}

/**
 * Builds a reduced rational.
 * @throws {RangeError} when `d` is zero (a programmer mistake: callers check divisors).
 */
export function rational(n: bigint, d = 1n): Rational {
  if (d === 0n) throw new RangeError('rational: zero denominator');
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  const g = gcd(n, d);
  return g > 1n ? { n: n / g, d: d / g } : { n, d };
}

export const ZERO: Rational = { n: 0n, d: 1n };

export function add(a: Rational, b: Rational): Rational {
  return rational(a.n * b.d + b.n * a.d, a.d * b.d);
}

export function sub(a: Rational, b: Rational): Rational {
  return rational(a.n * b.d - b.n * a.d, a.d * b.d);
}

export function mul(a: Rational, b: Rational): Rational {
  return rational(a.n * b.n, a.d * b.d);
}

/** @throws {RangeError} when `b` is zero. */
export function div(a: Rational, b: Rational): Rational {
  if (b.n === 0n) throw new RangeError('rational: division by zero');
  return rational(a.n * b.d, a.d * b.n);
}

/** -1, 0 or 1 as `a` is below, equal to or above `b`. */
export function cmp(a: Rational, b: Rational): -1 | 0 | 1 {
  const l = a.n * b.d;
  const r = b.n * a.d;
  return l < r ? -1 : l > r ? 1 : 0;
}

/** Largest integer not above `a` (rounds towards minus infinity). */
export function floor(a: Rational): bigint {
  const q = a.n / a.d; // bigint division truncates towards zero
  return a.n < 0n && q * a.d !== a.n ? q - 1n : q;
}

/** Smallest integer not below `a`. */
export function ceil(a: Rational): bigint {
  return -floor(rational(-a.n, a.d));
}

/** Nearest integer, ties rounded up (towards plus infinity). */
export function roundHalfUp(a: Rational): bigint {
  return floor(add(a, { n: 1n, d: 2n }));
}

/** `10^e` as a rational, for any integer `e` (negative gives `1 / 10^-e`). */
export function pow10(e: number): Rational {
  if (!Number.isSafeInteger(e)) throw new RangeError('pow10: exponent must be an integer');
  return e >= 0 ? { n: 10n ** BigInt(e), d: 1n } : { n: 1n, d: 10n ** BigInt(-e) };
}

const DECIMAL = /^(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d{1,4}))?$/;

/**
 * Parses a non-negative decimal string exactly: `"123"`, `"0.5"`,
 * `"83148355189239.77"`, `"1.5e13"`. No sign, no spaces, no hex, no `Infinity`.
 * @throws {DlcError} INVALID_PARAMS (reason `decimal-syntax`) on anything else.
 */
export function parseDecimal(text: string): Rational {
  const m = DECIMAL.exec(text);
  if (m === null) {
    throw new DlcError('INVALID_PARAMS', `not a non-negative decimal number: ${JSON.stringify(text)}`, {
      reason: 'decimal-syntax',
    });
  }
  const intPart = m[1] ?? '0';
  const fracPart = m[2] ?? '';
  const exp = m[3] === undefined ? 0 : Number(m[3]);
  const mantissa = rational(BigInt(intPart + fracPart), 10n ** BigInt(fracPart.length));
  return mul(mantissa, pow10(exp));
}

/** Decimal text of `a` with at most `places` fractional digits (rounded half up), for summaries. */
export function toDecimalString(a: Rational, places: number): string {
  const scaled = roundHalfUp(mul(a, pow10(places)));
  const neg = scaled < 0n;
  const abs = (neg ? -scaled : scaled).toString().padStart(places + 1, '0');
  const whole = abs.slice(0, abs.length - places);
  const frac = places > 0 ? `.${abs.slice(abs.length - places)}` : '';
  return `${neg ? '-' : ''}${whole}${frac}`;
}
