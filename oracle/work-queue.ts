/**
 * The oracle's one lock over the index and the event store, with two lanes:
 * `chain` (index a new block or roll back a reorg, announce scheduled events,
 * attest due events) and `request` (one step of an event request: checks and
 * announcement, or one chunk of a rescan for an operator-created past event).
 * Steps never interleave, so each sees a consistent index; whenever a chain
 * step is waiting it runs next, before every waiting request step. So the
 * attest path waits for at most the one request step already running (a
 * rescan chunk is at most `index.rpcBatch` blocks), never behind a queue of
 * requests: a flood of requests cannot push an attestation past a refund
 * locktime.
 *
 * The request lane is bounded (`maxWaiting`): beyond it a request is refused
 * at once (RATE_LIMITED, reason `queue-full`) instead of queueing memory.
 *
 * This module does NOT know what the steps do, time them out or retry them.
 */
import { OracleError } from './errors.js';

export type Lane = 'chain' | 'request';

export class WorkQueue {
  readonly #maxWaiting: number;
  #busy = false;
  readonly #chain: (() => void)[] = [];
  readonly #request: (() => void)[] = [];
  #requestsDone = 0;
  #idle: Promise<void> = Promise.resolve();
  #markIdle: () => void = () => undefined;

  /** @param maxWaiting request steps that may wait at once. */
  constructor(maxWaiting: number) {
    this.#maxWaiting = maxWaiting;
  }

  /** Request steps waiting for the lock (not counting the running one). */
  get requestsWaiting(): number {
    return this.#request.length;
  }

  /** Request steps finished (or failed) since the start. */
  get requestsDone(): number {
    return this.#requestsDone;
  }

  /** Chain steps waiting for the lock. */
  get chainWaiting(): number {
    return this.#chain.length;
  }

  /**
   * Runs `fn` alone, after the running step and (for `request`) after every
   * waiting chain step.
   * @throws {OracleError} RATE_LIMITED (`queue-full`) when the request lane is full;
   *   otherwise whatever `fn` throws.
   */
  async run<T>(lane: Lane, fn: () => Promise<T>): Promise<T> {
    if (this.#busy) {
      const waiting = lane === 'chain' ? this.#chain : this.#request;
      if (lane === 'request' && waiting.length >= this.#maxWaiting) {
        throw new OracleError('RATE_LIMITED', `the oracle has ${waiting.length} requests waiting; try again later`, { reason: 'queue-full' });
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    } else {
      this.#busy = true;
      this.#idle = new Promise<void>((resolve) => (this.#markIdle = resolve));
    }
    try {
      return await fn();
    } finally {
      if (lane === 'request') this.#requestsDone++;
      this.#release();
    }
  }

  #release(): void {
    // The lock passes straight to the next step: chain steps first.
    const next = this.#chain.shift() ?? this.#request.shift();
    if (next !== undefined) {
      next();
      return;
    }
    this.#busy = false;
    this.#markIdle();
  }

  /** Resolves once no step runs or waits. */
  async idle(): Promise<void> {
    while (this.#busy) await this.#idle;
  }
}
