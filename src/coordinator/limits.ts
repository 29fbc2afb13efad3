/**
 * The coordinator's size limits, derived from one another so that whatever it
 * accepts at offer time it can carry to the end (issue 9, hole 8): the body
 * limit is computed from the largest accept_dlc / sign_dlc + funding PSBT a
 * contract within `maxAdaptorSignatures`, `maxFundingInputs` and
 * `maxPrevTxBytes` can need, and a configured body limit below that is refused
 * at start. The linear text checks of the request fields that go with these
 * limits are src/api/text.ts's.
 *
 * This module does NOT read configuration (config.ts does) nor parse messages.
 */

/** A CET adaptor signature on the wire: 162 bytes (dlcspecs ECDSA-adaptor.md, adaptor point + DLEQ proof). */
export const ADAPTOR_SIGNATURE_BYTES = 162;
/**
 * Generous bound on everything in an accept_dlc or sign_dlc that is not a CET
 * adaptor signature nor a funding input: type, version, ids, collateral, keys,
 * payout and change scripts (standard ones are at most 34 bytes, these allow
 * kilobytes), refund signature, TLV lengths, negotiation fields.
 */
export const MESSAGE_FIXED_BYTES = 16 * 1024;
/** A funding input besides its prevTx: serial id, length prefix, vout, sequence, max witness length, redeem script. */
export const FUNDING_INPUT_FIXED_BYTES = 8 + 9 + 4 + 4 + 2 + 2 + 64;
/** One funding input's witness in sign_dlc's funding_signatures (P2WPKH: 72 + 33, with room). */
export const FUNDING_WITNESS_BYTES = 256;
/** One PSBT input besides its non-witness UTXO: witness UTXO, redeem script, partial signature or final witness, key paths. */
export const PSBT_INPUT_FIXED_BYTES = 512;
/** JSON keys, quotes and the second (optional) field of a request body. */
export const JSON_OVERHEAD_BYTES = 1024;

export interface SizeLimits {
  maxAdaptorSignatures: number;
  maxFundingInputs: number;
  maxPrevTxBytes: number;
}

const hexLen = (bytes: number): number => 2 * bytes;
const base64Len = (bytes: number): number => 4 * Math.ceil(bytes / 3);

/** The largest funding PSBT a contract within the limits has (both parties' inputs with their previous transactions). */
export function maxFundingPsbtBytes(l: SizeLimits): number {
  return MESSAGE_FIXED_BYTES + 2 * l.maxFundingInputs * (l.maxPrevTxBytes + PSBT_INPUT_FIXED_BYTES);
}

/**
 * The largest request body a contract within the limits needs: the accept
 * (every CET adaptor signature and the accepter's inputs, hex) or the sign
 * (every CET adaptor signature and the funding witnesses, hex, plus the
 * funding PSBT, base64), whichever is larger.
 */
export function requiredBodyBytes(l: SizeLimits): number {
  const sigs = l.maxAdaptorSignatures * ADAPTOR_SIGNATURE_BYTES;
  const accept = hexLen(MESSAGE_FIXED_BYTES + sigs + l.maxFundingInputs * (FUNDING_INPUT_FIXED_BYTES + l.maxPrevTxBytes));
  const sign = hexLen(MESSAGE_FIXED_BYTES + sigs + l.maxFundingInputs * FUNDING_WITNESS_BYTES) + base64Len(maxFundingPsbtBytes(l));
  return JSON_OVERHEAD_BYTES + Math.max(accept, sign);
}

/**
 * The largest request body a strip (issue 12) of `periods` contracts needs, its
 * parties' inputs given: its accept (every period's accept_dlc repeats the
 * accepter's inputs) or its sign (every period's CET adaptor signatures and
 * funding witnesses, plus ONE funding PSBT with both parties' inputs).
 * `adaptorSignatures` counts all periods; input bytes are their prevTx sizes.
 */
export function stripRequestBytes(s: { periods: number; adaptorSignatures: number; offerInputs: readonly number[]; acceptInputs: readonly number[] }): number {
  const sigs = s.adaptorSignatures * ADAPTOR_SIGNATURE_BYTES;
  const inputs = (xs: readonly number[]): number => xs.reduce((a, b) => a + FUNDING_INPUT_FIXED_BYTES + b, 0);
  const accept = hexLen(s.periods * MESSAGE_FIXED_BYTES + sigs + s.periods * inputs(s.acceptInputs));
  const psbt = MESSAGE_FIXED_BYTES + [...s.offerInputs, ...s.acceptInputs].reduce((a, b) => a + b + PSBT_INPUT_FIXED_BYTES, 0);
  const sign = hexLen(s.periods * (MESSAGE_FIXED_BYTES + s.offerInputs.length * FUNDING_WITNESS_BYTES) + sigs) + base64Len(psbt);
  return JSON_OVERHEAD_BYTES + Math.max(accept, sign);
}
