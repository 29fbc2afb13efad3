/**
 * Messages between `AdaptorEngine` and its workers. Types only.
 */
import type { BackendName } from '../../protocol/crypto/secp.js';
import type { DlcErrorCode } from '../../protocol/errors.js';

export interface WorkerRequest {
  id: number;
  op: 'sign' | 'verify';
  /** Secret key (sign) or 33-byte public key (verify). */
  key: Uint8Array;
  /** n×32 sighashes. */
  hashes: Uint8Array;
  /** n×33 adaptor points. */
  points: Uint8Array;
  /** n×162 adaptor signatures (verify only). */
  sigs?: Uint8Array;
  /** 32 bytes of auxiliary nonce randomness (sign only). */
  aux?: Uint8Array;
}

export type WorkerResponse =
  | { id: number; ok: true; result?: Uint8Array; backend?: BackendName }
  | { id: number; ok: false; error: { name: string; message: string; code?: DlcErrorCode; reason?: string | undefined } };
