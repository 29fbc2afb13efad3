/**
 * Exact JSON for bitcoind's RPC answers: amounts are read from their decimal text
 * into bigint satoshis, never through a binary float.
 *
 * Bitcoin Core prints amounts as JSON numbers in BTC with 8 decimals
 * (`0.00012345`); other nodes may print `1e-7` or `50`. `parseRpcJson` keeps every
 * non-integer number as a `JsonDecimal` (its text), safe integers as `number` and
 * larger integers as `bigint`; `decimalToSats` turns the text into satoshis.
 *
 * This module does NOT do I/O and knows no RPC method.
 */
import { parse } from 'lossless-json';

/** A JSON number that is not an integer, kept as its source text. */
export class JsonDecimal {
  constructor(readonly text: string) {}
  /** The nearest float, for values that are not money (difficulty, progress). */
  toNumber(): number {
    return Number(this.text);
  }
}

function parseNumber(text: string): number | bigint | JsonDecimal {
  if (/^-?\d+$/.test(text)) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : BigInt(text);
  }
  return new JsonDecimal(text);
}

/**
 * Parses a JSON text; numbers become `number` (safe integers), `bigint` (larger
 * integers) or `JsonDecimal` (anything with a fraction or exponent).
 * @throws {SyntaxError} when the text is not JSON.
 */
export function parseRpcJson(text: string): unknown {
  return parse(text, null, parseNumber);
}

const SATS_DECIMALS = 8;

/**
 * Exact conversion of a BTC amount (decimal text, e.g. `0.00012345`, `1e-7`, `-2.5`)
 * to satoshis.
 * @throws {RangeError} when the text is not a decimal number or has more than
 *   8 decimals of BTC (a fraction of a satoshi).
 */
export function decimalToSats(text: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!m) throw new RangeError(`not a decimal amount: ${JSON.stringify(text)}`);
  const [, sign, intPart, fracPart = '', expText = '0'] = m;
  let digits = intPart + fracPart;
  // value = digits * 10^(exp - fracLen); in sats: digits * 10^(exp - fracLen + 8)
  const shift = Number(expText) - fracPart.length + SATS_DECIMALS;
  if (shift >= 0) {
    digits += '0'.repeat(shift);
  } else {
    const cut = digits.length + shift;
    const dropped = cut > 0 ? digits.slice(cut) : digits;
    if (/[^0]/.test(dropped)) throw new RangeError(`amount has a fraction of a satoshi: ${text}`);
    digits = cut > 0 ? digits.slice(0, cut) : '0';
  }
  const sats = BigInt(digits);
  return sign === '-' ? -sats : sats;
}

/**
 * Formats satoshis as a BTC decimal string with 8 decimals (`12345n` → `0.00012345`),
 * the form bitcoind accepts for amount parameters.
 */
export function satsToDecimal(sats: bigint): string {
  const neg = sats < 0n;
  const abs = neg ? -sats : sats;
  const whole = abs / 100_000_000n;
  const frac = (abs % 100_000_000n).toString().padStart(SATS_DECIMALS, '0');
  return `${neg ? '-' : ''}${whole}.${frac}`;
}
