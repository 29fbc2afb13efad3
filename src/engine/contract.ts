/**
 * Contract-level signing and verification on the worker pool: the same work as
 * protocol/contract's `signCets` / `verifyCetSignatures`, spread over both
 * cores. Used by the CLI, the coordinator and the benchmark.
 *
 * This module does NOT build the contract (protocol/contract `setupContract`).
 */
import type { ContractSetup } from '../../protocol/contract/index.js';
import { badAdaptorSignature, packAdaptorSignatures, unpackAdaptorSignatures } from '../../protocol/contract/index.js';
import { DlcError } from '../../protocol/errors.js';
import type { CetAdaptorSignatures } from '../../protocol/messages/types.js';
import type { Party } from '../../protocol/tx/index.js';
import type { AdaptorEngine } from './index.js';

/** This party's adaptor signature for every slot of the contract, in slot order. */
export async function signContractCets(
  engine: AdaptorEngine,
  setup: ContractSetup,
  fundingSecretKey: Uint8Array,
  aux?: Uint8Array,
): Promise<CetAdaptorSignatures> {
  return unpackAdaptorSignatures(await engine.sign(fundingSecretKey, setup.slotSighashes, setup.slotAdaptorPoints, aux));
}

/**
 * Checks `party`'s adaptor signatures against our own CETs and adaptor points.
 * @throws {DlcError} BAD_SIGNATURE naming the first bad slot; INVALID_PARAMS for a wrong count.
 */
export async function verifyContractCets(
  engine: AdaptorEngine,
  setup: ContractSetup,
  party: Party,
  sigs: CetAdaptorSignatures,
): Promise<void> {
  const n = setup.plan.adaptorSlots.length;
  const got = sigs.ecdsaAdaptorSignatures.length;
  if (got !== n) {
    throw new DlcError('INVALID_PARAMS', `expected ${n} CET adaptor signatures, got ${got}`, { reason: 'adaptor-signature-count' });
  }
  const pubkey = party === 'offer' ? setup.offer.fundingPubkey : setup.accept.fundingPubkey;
  const ok = await engine.verify(pubkey, setup.slotSighashes, setup.slotAdaptorPoints, packAdaptorSignatures(sigs));
  const bad = ok.indexOf(0);
  if (bad >= 0) throw badAdaptorSignature(setup, party, bad);
}
