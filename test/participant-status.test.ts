/**
 * src/participant/status.ts `followCoordinator`: which coordinator states move
 * a local record, and the coordinator's `expired` (contract.ts `localStateOf`
 * maps it to `failed`), which never ends a contract whose funding signatures
 * may be out (it stays cancellable, its coins reserved, until `cancel`).
 */
import { describe, expect, it } from 'vitest';
import { localStateOf } from '../src/participant/contract.js';
import { followCoordinator } from '../src/participant/index.js';

type Rec = Parameters<typeof followCoordinator>[0];
const offerer = (state: Rec['state'], signed: boolean): Rec => ({ role: 'offer', state, ...(signed ? { accept: 'aa', sign: 'bb' } : {}) });
const accepter = (state: Rec['state'], accepted: boolean): Rec => ({ role: 'accept', state, ...(accepted ? { accept: 'aa' } : {}) });

describe('followCoordinator', () => {
  it('maps the coordinator\'s expired state to failed', () => {
    expect(localStateOf('expired')).toBe('failed');
  });

  it.each([
    ['offerer, offer never accepted', offerer('offered', false), 'failed'],
    ['offerer, accepted but not signed', { role: 'offer', state: 'accepted', accept: 'aa' } as Rec, 'failed'],
    ['offerer after sign: its funding signatures are out', offerer('signed', true), undefined],
    ['accepter after accept: its funding signatures are out', accepter('signed', true), undefined],
    ['already cancelled locally', offerer('cancelled', true), undefined],
  ])('expired, %s -> %s', (_label, rec, want) => {
    expect(followCoordinator(rec, 'expired')).toBe(want);
  });

  it('moves only forward', () => {
    expect(followCoordinator(offerer('signed', true), 'funding-broadcast')).toBe('funding-broadcast');
    expect(followCoordinator(offerer('confirmed', true), 'cet-broadcast')).toBe('settled');
    expect(followCoordinator(offerer('confirmed', true), 'funding-broadcast')).toBeUndefined();
    // A terminal state reached locally is never undone.
    expect(followCoordinator(accepter('settled', true), 'confirmed')).toBeUndefined();
    expect(followCoordinator(accepter('settled', true), 'refunded')).toBeUndefined();
    expect(followCoordinator(accepter('confirmed', true), 'no-such-state')).toBeUndefined();
  });
});
