// Shared fixtures of the templates tests (not a test file itself).
import { expect } from 'vitest';
import { isDlcError } from '../protocol/errors.js';
import type { OracleInfo } from '../protocol/messages/types.js';

/**
 * A single-oracle info with a base-2 unsigned digit-decomposition event. The
 * keys, nonces and signature are placeholders: templates and CET counting do
 * not verify them.
 */
export function fakeOracleInfo(nbDigits: number, unit: string, precision = 0): OracleInfo {
  return {
    single: {
      oracleAnnouncement: {
        announcementSignature: new Uint8Array(64),
        oraclePublicKey: new Uint8Array(32).fill(2),
        oracleEvent: {
          oracleNonces: Array.from({ length: nbDigits }, (_, i) => new Uint8Array(32).fill(i + 1)),
          eventMaturityEpoch: 1_700_000_000,
          eventDescriptor: { digitDecompositionEvent: { base: 2, isSigned: false, unit, precision, nbDigits } },
          eventId: `test-${unit}-${nbDigits}`,
        },
      },
    },
  };
}

/** Asserts that `fn` throws DlcError INVALID_PARAMS with this `reason`. */
export function expectReason(fn: () => unknown, reason: string, code: 'INVALID_PARAMS' | 'INVALID_JSON' = 'INVALID_PARAMS'): void {
  try {
    fn();
  } catch (err) {
    if (!isDlcError(err, code)) throw err;
    expect(err.reason).toBe(reason);
    return;
  }
  throw new Error(`expected ${code}/${reason}, nothing was thrown`);
}
