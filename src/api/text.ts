/**
 * Linear-time checks of hex, base64 and decimal u64 text, shared by the
 * services (input limits) and their clients (answer schemas). A repeated-group regex over a
 * multi-megabyte accept message throws RangeError; these loops do not.
 *
 * This module does NOT decode anything.
 */

// One hex check for the whole tree: protocol/messages (the wire codec's own).
export { isHexText } from '../../protocol/messages/index.js';

/**
 * 1 to 20 ASCII decimal digits: the text a u64 field is read from. Every u64
 * fits; leading zeros and values up to 10^20 - 1 pass too, so a reader that
 * needs the canonical form (the coordinator's requests) also refuses those.
 */
export const DECIMAL_U64_TEXT = /^\d{1,20}$/;

/** 2^64: the least value a u64 cannot hold. */
export const U64_END = 1n << 64n;

/** True when `s` is non-empty padded base64 (RFC 4648 alphabet). One pass, no regex. */
export function isBase64Text(s: string): boolean {
  if (s.length === 0) return false;
  let end = s.length;
  if (s.charCodeAt(end - 1) === 61) end--;
  if (end > 0 && s.charCodeAt(end - 1) === 61) end--;
  if (end === 0) return false;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    // A-Z, a-z, 0-9, +, /
    if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47)) return false;
  }
  return true;
}
