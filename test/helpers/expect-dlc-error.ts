import { expect } from 'vitest';
import { isDlcError } from '../../protocol/errors.js';

/** Asserts that `fn` throws a DlcError with this code and reason. */
export function expectDlcError(fn: () => unknown, code: string, reason: string): void {
  try {
    fn();
  } catch (err) {
    expect(isDlcError(err), String(err)).toBe(true);
    expect((err as { code: string }).code).toBe(code);
    expect((err as { reason: string }).reason).toBe(reason);
    return;
  }
  throw new Error(`expected DlcError ${code}/${reason}`);
}
