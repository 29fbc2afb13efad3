/**
 * A replay guard for signed requests: remembers each accepted (identity key,
 * signature) pair until its timestamp leaves the accepted clock skew, and
 * refuses the same pair a second time. A captured request can then be played
 * again neither within the skew window (this guard) nor after it
 * (`verifyRequest` refuses it as stale). BIP340 signatures are not malleable,
 * so a third party cannot turn one accepted signature into another; the signer
 * itself gets a fresh signature for a retry by signing with random aux bytes.
 *
 * Does NOT: read the clock (callers pass `now`), persist anything, or verify
 * signatures (call it after `verifyRequest` succeeded).
 */
import { DlcError } from '../errors.js';

export interface ReplayGuardOptions {
  /** The same skew `verifyRequest` accepts, seconds. */
  maxSkewSec: number;
  /** Most remembered requests; when full (after dropping expired ones) new requests are refused. */
  maxEntries?: number;
}

/** Default bound on remembered requests (about 200 bytes each). */
export const DEFAULT_REPLAY_MAX_ENTRIES = 200_000;

export class ReplayGuard {
  readonly #maxSkewSec: number;
  readonly #maxEntries: number;
  /** `pubkey:signature` → unix second after which the request is stale anyway. Insertion order ≈ expiry order. */
  readonly #seen = new Map<string, number>();

  constructor(opts: ReplayGuardOptions) {
    this.#maxSkewSec = opts.maxSkewSec;
    this.#maxEntries = opts.maxEntries ?? DEFAULT_REPLAY_MAX_ENTRIES;
  }

  /** How many requests are remembered. */
  get size(): number {
    return this.#seen.size;
  }

  /**
   * Records a verified request; refuses one seen before.
   * @param now unix seconds (the same clock `verifyRequest` was given).
   * @throws {DlcError} BAD_SIGNATURE `auth-replayed` for a request already accepted;
   *   `auth-replay-cache-full` when `maxEntries` unexpired requests are remembered.
   */
  admit(pubkey: string, signature: string, timestamp: number, now: number): void {
    const key = `${pubkey.toLowerCase()}:${signature.toLowerCase()}`;
    this.#dropExpired(now);
    if (this.#seen.has(key)) {
      throw new DlcError('BAD_SIGNATURE', 'this signed request was already received (replay)', { reason: 'auth-replayed' });
    }
    if (this.#seen.size >= this.#maxEntries) {
      throw new DlcError('BAD_SIGNATURE', 'too many signed requests within the skew window; retry later', { reason: 'auth-replay-cache-full' });
    }
    this.#seen.set(key, timestamp + this.#maxSkewSec);
  }

  /** Entries to persist (key, expiry), e.g. across a restart. */
  entries(): [string, number][] {
    return [...this.#seen.entries()];
  }

  /** Restores persisted entries (expired ones are dropped on the next admit). */
  restore(entries: Iterable<[string, number]>): void {
    for (const [k, exp] of entries) if (!this.#seen.has(k)) this.#seen.set(k, exp);
  }

  #dropExpired(now: number): void {
    // Requests arrive roughly in timestamp order; stop at the first live entry,
    // then sweep fully only when the map is at its bound.
    for (const [k, exp] of this.#seen) {
      if (exp >= now) break;
      this.#seen.delete(k);
    }
    if (this.#seen.size >= this.#maxEntries) {
      for (const [k, exp] of this.#seen) if (exp < now) this.#seen.delete(k);
    }
  }
}
