/**
 * protocol/auth ReplayGuard: a request (identity key, signature) is admitted
 * once within its skew window, forgotten after it, and the guard's memory is bounded.
 */
import { describe, expect, it } from 'vitest';
import { ReplayGuard } from '../protocol/auth/index.js';
import { expectDlcError } from './helpers/expect-dlc-error.js';

const PK = 'ab'.repeat(32);
const SIG = 'cd'.repeat(64);
const NOW = 1_750_000_000;

describe('ReplayGuard', () => {
  it('refuses the same signed request twice within the skew window, by name', () => {
    const g = new ReplayGuard({ maxSkewSec: 300 });
    g.admit(PK, SIG, NOW, NOW);
    expectDlcError(() => g.admit(PK, SIG, NOW, NOW + 10), 'BAD_SIGNATURE', 'auth-replayed');
    expectDlcError(() => g.admit(PK.toUpperCase(), SIG.toUpperCase(), NOW, NOW + 10), 'BAD_SIGNATURE', 'auth-replayed');
    // Another signature of the same key, or the same signature bytes under another key, is another request.
    g.admit(PK, 'ce'.repeat(64), NOW, NOW);
    g.admit('ac'.repeat(32), SIG, NOW, NOW);
    expect(g.size).toBe(3);
  });

  it('forgets a request once its timestamp is stale (verifyRequest refuses it from then on)', () => {
    const g = new ReplayGuard({ maxSkewSec: 300 });
    g.admit(PK, SIG, NOW, NOW);
    g.admit(PK, 'ce'.repeat(64), NOW + 200, NOW + 200);
    g.admit('ac'.repeat(32), SIG, NOW + 301, NOW + 301);
    expect(g.size).toBe(2);
  });

  it('is bounded: when full of live requests it refuses new ones by name, and survives a restart through entries()', () => {
    const g = new ReplayGuard({ maxSkewSec: 300, maxEntries: 2 });
    g.admit(PK, '01'.repeat(64), NOW, NOW);
    g.admit(PK, '02'.repeat(64), NOW, NOW);
    expectDlcError(() => g.admit(PK, '03'.repeat(64), NOW, NOW), 'BAD_SIGNATURE', 'auth-replay-cache-full');
    g.admit(PK, '03'.repeat(64), NOW + 301, NOW + 301);
    const restored = new ReplayGuard({ maxSkewSec: 300 });
    restored.restore(g.entries());
    expectDlcError(() => restored.admit(PK, '03'.repeat(64), NOW + 301, NOW + 302), 'BAD_SIGNATURE', 'auth-replayed');
  });
});
