/**
 * Progress on long steps (thousands of CET adaptor signatures): CET signers
 * and verifiers on src/engine's worker pool that report batch by batch to a
 * `Progress` callback (the CLI's writes stderr: src/cli/progress.ts).
 *
 * This module does NOT build contracts; it signs what protocol/contract set up.
 */
import type { CetSigner, CetVerifier, ContractSetup } from '../../protocol/contract/index.js';
import { badAdaptorSignature, packAdaptorSignatures, unpackAdaptorSignatures } from '../../protocol/contract/index.js';
import { DlcError } from '../../protocol/errors.js';
import type { AdaptorEngine } from '../engine/index.js';

export type Progress = (label: string, done: number, total: number) => void;

/** Adaptor signatures per batch handed to the pool (each batch is split over its workers). */
const BATCH = 512;

/** A CetSigner over the worker pool that reports progress per batch. */
export function engineSigner(engine: AdaptorEngine, progress: Progress): CetSigner {
  return async (setup: ContractSetup, key: Uint8Array) => {
    const n = setup.plan.adaptorSlots.length;
    const out = new Uint8Array(n * 162);
    progress('signing CET adaptor signatures', 0, n);
    for (let start = 0; start < n; start += BATCH) {
      const end = Math.min(n, start + BATCH);
      const part = await engine.sign(key, setup.slotSighashes.slice(start * 32, end * 32), setup.slotAdaptorPoints.slice(start * 33, end * 33));
      out.set(part, start * 162);
      progress('signing CET adaptor signatures', end, n);
    }
    return unpackAdaptorSignatures(out);
  };
}

/** A CetVerifier over the worker pool that reports progress per batch and names the first bad slot. */
export function engineVerifier(engine: AdaptorEngine, progress: Progress): CetVerifier {
  return async (setup, party, sigs) => {
    const n = setup.plan.adaptorSlots.length;
    const got = sigs.ecdsaAdaptorSignatures.length;
    if (got !== n) {
      throw new DlcError('INVALID_PARAMS', `expected ${n} CET adaptor signatures, got ${got}`, { reason: 'adaptor-signature-count' });
    }
    const pubkey = party === 'offer' ? setup.offer.fundingPubkey : setup.accept.fundingPubkey;
    const packed = packAdaptorSignatures(sigs);
    const label = `verifying the ${party === 'offer' ? 'offerer' : 'accepter'}'s CET adaptor signatures`;
    progress(label, 0, n);
    for (let start = 0; start < n; start += BATCH) {
      const end = Math.min(n, start + BATCH);
      const ok = await engine.verify(
        pubkey,
        setup.slotSighashes.slice(start * 32, end * 32),
        setup.slotAdaptorPoints.slice(start * 33, end * 33),
        packed.slice(start * 162, end * 162),
      );
      const bad = ok.indexOf(0);
      if (bad >= 0) throw badAdaptorSignature(setup, party, start + bad);
      progress(label, end, n);
    }
  };
}
