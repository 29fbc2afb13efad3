/**
 * The performance engine: a worker_threads pool that creates and verifies CET
 * adaptor signatures in batches (one message per chunk of CETs, buffers
 * transferred, not per-item messages), with an in-thread fallback for small
 * inputs where starting work on a worker costs more than it saves.
 *
 * Input is flat: n×32 sighashes and n×33 adaptor points (see
 * protocol/crypto/adaptor.ts `adaptorSignBatch`); output is n×162 signatures
 * (sign) or n flags, 1 = valid (verify). Results are in input order.
 *
 * This module does NOT compute sighashes or adaptor points, and holds no key
 * longer than one call. Workers are plain `.js` entries that register tsx, so
 * the pool starts the same under `tsx`, vitest and `node`.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { adaptorSignBatch, adaptorVerifyBatch } from '../../protocol/crypto/adaptor.js';
import { backendName, selectBackend, type BackendName } from '../../protocol/crypto/secp.js';
import { DlcError } from '../../protocol/errors.js';
import type { WorkerRequest, WorkerResponse } from './protocol.js';

export interface AdaptorEngineOptions {
  /** Worker threads; default: the machine's available parallelism. 0 = always in-thread. */
  threads?: number;
  /** secp256k1 backend for workers and the in-thread path; default: the fastest available. */
  backend?: BackendName;
  /** Below this many CETs, work runs in the calling thread (default 64). */
  minPooled?: number;
  /** CETs per message to a worker (default: n split in 4 chunks per thread, at least 32). */
  chunkSize?: number;
}

interface Pending {
  resolve: (r: WorkerResponse) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  busy: boolean;
}

interface Job {
  req: WorkerRequest;
  transfer: ArrayBuffer[];
  pending: Pending;
}

function toError(e: { name: string; message: string; code?: DlcError['code']; reason?: string | undefined }): Error {
  if (e.name === 'DlcError' && e.code !== undefined) return new DlcError(e.code, e.message, e.reason === undefined ? undefined : { reason: e.reason });
  return new Error(e.message);
}

/** A pool of adaptor-signature workers. Create with `AdaptorEngine.start`, end with `close`. */
export class AdaptorEngine {
  readonly threads: number;
  readonly backend: BackendName;
  private readonly minPooled: number;
  private readonly chunkSize: number | undefined;
  private readonly slots: Slot[];
  private readonly pending = new Map<number, Pending>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  private constructor(slots: Slot[], backend: BackendName, opts: AdaptorEngineOptions) {
    this.slots = slots;
    this.threads = slots.length;
    this.backend = backend;
    this.minPooled = opts.minPooled ?? 64;
    this.chunkSize = opts.chunkSize;
  }

  /**
   * Starts the workers and waits until each has loaded its backend.
   * @throws {DlcError} INVALID_PARAMS when the requested backend is unavailable; {Error} when a worker fails to start.
   */
  static async start(opts: AdaptorEngineOptions = {}): Promise<AdaptorEngine> {
    const backend = opts.backend ?? backendName();
    const previous = backendName();
    selectBackend(backend); // fail here, in the caller's thread, for an unavailable backend
    selectBackend(previous);
    const threads = opts.threads ?? Math.max(1, availableParallelism());
    const url = new URL('./worker.js', import.meta.url);
    const slots = await Promise.all(Array.from({ length: threads }, () => new Promise<Slot>((resolve, reject) => {
      const worker = new Worker(url, { workerData: { backend } });
      const onError = (err: Error): void => { void worker.terminate(); reject(err); };
      worker.once('error', onError);
      worker.once('message', (msg: WorkerResponse) => {
        worker.off('error', onError);
        if (msg.ok) resolve({ worker, busy: false });
        else reject(toError(msg.error));
      });
    })));
    const engine = new AdaptorEngine(slots, backend, opts);
    for (const slot of slots) engine.wire(slot);
    return engine;
  }

  private wire(slot: Slot): void {
    slot.worker.on('message', (msg: WorkerResponse) => {
      const p = this.pending.get(msg.id);
      if (p === undefined) return;
      this.pending.delete(msg.id);
      slot.busy = false;
      p.resolve(msg);
      this.pump();
    });
    slot.worker.on('error', (err) => this.failAll(err));
    slot.worker.on('exit', (code) => {
      if (!this.closed) this.failAll(new Error(`adaptor worker exited with code ${code}`));
    });
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    for (const job of this.queue.splice(0)) job.pending.reject(err);
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.busy) continue;
      const job = this.queue.shift()!;
      slot.busy = true;
      this.pending.set(job.req.id, job.pending);
      slot.worker.postMessage(job.req, job.transfer);
    }
  }

  private run(req: Omit<WorkerRequest, 'id'>): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new Error('AdaptorEngine is closed'));
    const id = this.nextId++;
    const full: WorkerRequest = { ...req, id };
    const transfer = [full.hashes.buffer, full.points.buffer, ...(full.sigs ? [full.sigs.buffer] : [])] as ArrayBuffer[];
    return new Promise<WorkerResponse>((resolve, reject) => {
      this.queue.push({ req: full, transfer, pending: { resolve, reject } });
      this.pump();
    }).then((msg) => {
      if (!msg.ok) throw toError(msg.error);
      return msg.result!;
    });
  }

  /** Runs `fn` in this thread on the engine's backend, restoring the caller's backend after. */
  private inThread<T>(fn: () => T): T {
    const previous = backendName();
    selectBackend(this.backend);
    try { return fn(); } finally { selectBackend(previous); }
  }

  private chunks(n: number): number[] {
    const size = this.chunkSize ?? Math.max(32, Math.ceil(n / (this.threads * 4)));
    const bounds: number[] = [];
    for (let start = 0; start < n; start += size) bounds.push(start);
    bounds.push(n);
    return bounds;
  }

  private usePool(n: number): boolean {
    return this.threads > 0 && n >= this.minPooled;
  }

  /**
   * Adaptor-signs n CETs: signature i encrypts the signature of `hashes[i]` under `points[i]`.
   * @param secretKey 32-byte funding secret key.
   * @param hashes n×32 sighashes; @param points n×33 adaptor points.
   * @returns n×162 adaptor signatures.
   * @throws {DlcError} as `adaptorSignBatch` (INVALID_LENGTH, INVALID_SCALAR, INVALID_POINT).
   */
  async sign(secretKey: Uint8Array, hashes: Uint8Array, points: Uint8Array, aux?: Uint8Array): Promise<Uint8Array> {
    const n = hashes.length / 32;
    if (!Number.isInteger(n) || points.length !== n * 33) {
      throw new DlcError('INVALID_LENGTH', 'hashes must be n×32 bytes and points n×33 bytes', { reason: 'batch-length' });
    }
    if (!this.usePool(n)) return this.inThread(() => adaptorSignBatch(secretKey, hashes, points, aux));
    const b = this.chunks(n);
    const parts = await Promise.all(b.slice(0, -1).map((start, i) => this.run({
      op: 'sign',
      key: secretKey,
      hashes: hashes.slice(start * 32, b[i + 1]! * 32),
      points: points.slice(start * 33, b[i + 1]! * 33),
      ...(aux === undefined ? {} : { aux }),
    })));
    return concat(parts, n * 162);
  }

  /**
   * Verifies n CET adaptor signatures under one public key.
   * @param publicKey 33-byte funding public key of the signer.
   * @returns n flags: 1 = valid, 0 = invalid or malformed.
   * @throws {DlcError} INVALID_LENGTH for inconsistent sizes; INVALID_POINT for a bad public key.
   */
  async verify(publicKey: Uint8Array, hashes: Uint8Array, points: Uint8Array, sigs: Uint8Array): Promise<Uint8Array> {
    const n = hashes.length / 32;
    if (!Number.isInteger(n) || points.length !== n * 33 || sigs.length !== n * 162) {
      throw new DlcError('INVALID_LENGTH', 'hashes, points and signatures must be n×32, n×33 and n×162 bytes', { reason: 'batch-length' });
    }
    if (!this.usePool(n)) return this.inThread(() => adaptorVerifyBatch(publicKey, hashes, points, sigs));
    const b = this.chunks(n);
    const parts = await Promise.all(b.slice(0, -1).map((start, i) => this.run({
      op: 'verify',
      key: publicKey,
      hashes: hashes.slice(start * 32, b[i + 1]! * 32),
      points: points.slice(start * 33, b[i + 1]! * 33),
      sigs: sigs.slice(start * 162, b[i + 1]! * 162),
    })));
    return concat(parts, n);
  }

  /** Stops the workers; pending calls are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new Error('AdaptorEngine closed'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

/** Packs 33-byte points into one n×33 buffer (the engine's input form). */
export function packPoints(points: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(points.length * 33);
  points.forEach((p, i) => {
    if (p.length !== 33) throw new DlcError('INVALID_LENGTH', `point ${i} is not 33 bytes`, { reason: 'point-length' });
    out.set(p, i * 33);
  });
  return out;
}
