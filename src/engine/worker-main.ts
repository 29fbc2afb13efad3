/**
 * Body of one pool worker: receives CET batches from `AdaptorEngine` and runs
 * the protocol batch functions on them. One message per batch, results sent
 * back with their buffers transferred. Does NOT hold state between batches
 * other than the selected secp256k1 backend.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { adaptorSignBatch, adaptorVerifyBatch } from '../../protocol/crypto/adaptor.js';
import { selectBackend, type BackendName } from '../../protocol/crypto/secp.js';
import { DlcError } from '../../protocol/errors.js';
import type { WorkerRequest, WorkerResponse } from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('worker-main.ts must run in a worker thread');

const { backend } = workerData as { backend: BackendName };
const active = selectBackend(backend).name;
port.postMessage({ id: -1, ok: true, backend: active } satisfies WorkerResponse);

port.on('message', (req: WorkerRequest) => {
  try {
    const result = req.op === 'sign'
      ? adaptorSignBatch(req.key, req.hashes, req.points, req.aux)
      : adaptorVerifyBatch(req.key, req.hashes, req.points, req.sigs!);
    port.postMessage({ id: req.id, ok: true, result } satisfies WorkerResponse, [result.buffer as ArrayBuffer]);
  } catch (err) {
    const e = err instanceof DlcError
      ? { name: 'DlcError', code: err.code, reason: err.reason, message: err.message }
      : { name: 'Error', message: err instanceof Error ? err.message : String(err) };
    port.postMessage({ id: req.id, ok: false, error: e } satisfies WorkerResponse);
  }
});
