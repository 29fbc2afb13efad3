/**
 * Display formatting for the dashboard: exact digit grouping of decimal
 * integers (u64 amounts stay strings or bigints, never `number`), compact
 * axis labels, UTC times and shortened hex.
 *
 * This module does NOT escape HTML (html.ts does) or parse amounts for
 * arithmetic.
 */

/**
 * Groups the digits of a decimal integer by thousands: `"1234567"` → `"1,234,567"`.
 * Anything that is not a plain decimal integer is returned unchanged.
 */
export function groupDigits(value: string | bigint | number): string {
  const s = String(value);
  const m = /^(-?)(\d+)$/.exec(s);
  if (m === null) return s;
  return m[1]! + m[2]!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** `"150000"` → `"150,000 sats"`. */
export function formatSats(value: string | bigint): string {
  return `${groupDigits(value)} sats`;
}

/** Unix ms → `2025-06-01 12:00:03 UTC`. */
export function formatTime(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  return `${new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '')} UTC`;
}

/** Unix ms → `2025-06-01 12:00` (UTC, for tables; the full time goes in a title). */
export function formatShortTime(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

/** A long string shortened to its first `head` and last `tail` characters. */
export function shortText(text: string, head: number, tail: number): string {
  return text.length <= head + tail + 1 ? text : `${text.slice(0, head)}…${text.slice(-tail)}`;
}

/** A long hex string shortened to its first and last `keep` characters. */
export function shortHex(hex: string, keep = 8): string {
  return hex.length <= keep * 2 + 1 ? hex : `${hex.slice(0, keep)}…${hex.slice(-keep)}`;
}

/**
 * Axis tick label: written in full with grouping (`8,000`), or with
 * `compact` a k / M / G / T suffix and up to three significant digits
 * (`120k`, `1.5M`). Callers choose `compact` once per axis (from its largest
 * tick) so one axis uses one style.
 */
export function tickLabel(value: number, compact: boolean): string {
  if (!compact || Math.abs(value) < 1000) return groupDigits(Math.round(value));
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [size, suffix] of units) {
    if (Math.abs(value) >= size) {
      const v = value / size;
      const text = Number(v.toPrecision(3)).toString();
      return `${text}${suffix}`;
    }
  }
  return String(value);
}
