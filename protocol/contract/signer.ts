/**
 * A party's funding key as a signer: what protocol/contract asks of a party's
 * key (its public key, the CET adaptor signatures of a set-up, and ECDSA
 * signatures over the sighashes of the refund, the cooperative close and the
 * attested CET), so a builder takes a `FundingSigner` and never a raw secret
 * key. The BIP39 wallet implements it today (src/participant/signer.ts); an
 * HSM or a hardware wallet fits the same shape, since every method may
 * answer asynchronously.
 *
 * Each signature a signer returns is checked here against its
 * `fundingPubkey` (and that key against the set-up's parties) before it is
 * used, so a signer holding another key fails loudly instead of producing a
 * contract nobody can close.
 *
 * `keyFundingSigner` wraps a raw secret key: the wallet's implementation, the
 * dlcspecs vectors and the tests use it (they hold keys by construction).
 *
 * This module does NOT hold keys itself, talk to devices, or run work in
 * parallel (a `CetSigner` such as src/engine's pool does).
 */
import { DlcError } from '../errors.js';
import { ecdsaSign, ecdsaVerify } from '../crypto/ecdsa.js';
import { secp } from '../crypto/secp.js';
import type { CetAdaptorSignatures } from '../messages/types.js';
import type { Party, Payout } from '../tx/index.js';
import { refundSighash, unsignedClose } from '../tx/index.js';
import type { ContractSetup } from './setup.js';
import { signCets } from './setup.js';

/** Creates this party's CET adaptor signatures with a raw key (protocol/contract `signCets`, or src/engine's pool). */
export type CetSigner = (setup: ContractSetup, fundingSecretKey: Uint8Array) => Promise<CetAdaptorSignatures>;

/** The single-threaded CET signer (protocol/contract `signCets`). */
export const syncCetSigner: CetSigner = (setup, key) => Promise.resolve(signCets(setup, key));

/** A party's funding key, as protocol/contract uses it. */
export interface FundingSigner {
  /** The 33-byte compressed public key: the offer's or accept's `funding_pubkey`. */
  readonly fundingPubkey: Uint8Array;
  /** This party's ECDSA adaptor signature for every adaptor slot of the set-up, in slot order. */
  signCets(setup: ContractSetup): Promise<CetAdaptorSignatures>;
  /**
   * 64-byte compact low-S ECDSA over a 32-byte sighash of a transaction
   * spending the funding output (refund, close, attested CET): protocol/contract
   * `SighashSigner`.
   */
  signSighash(sighash: Uint8Array): Promise<Uint8Array>;
}

/**
 * A `FundingSigner` over a raw secret key (the key stays in the closure);
 * `cets` makes the adaptor signatures (default: single-threaded).
 * @throws {DlcError} INVALID_SCALAR for a bad key.
 */
export function keyFundingSigner(fundingSecretKey: Uint8Array, cets: CetSigner = syncCetSigner): FundingSigner {
  return {
    fundingPubkey: secp().mulG(fundingSecretKey),
    signCets: (setup) => cets(setup, fundingSecretKey),
    signSighash: (sighash) => Promise.resolve(ecdsaSign(fundingSecretKey, sighash)),
  };
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * The party whose funding key `signer` holds in this set-up.
 * @throws {DlcError} INVALID_PARAMS (`signer-not-a-party`) when its key is neither funding pubkey.
 */
export function signerParty(setup: ContractSetup, signer: FundingSigner): Party {
  if (equalBytes(signer.fundingPubkey, setup.offer.fundingPubkey)) return 'offer';
  if (equalBytes(signer.fundingPubkey, setup.accept.fundingPubkey)) return 'accept';
  throw new DlcError('INVALID_PARAMS', 'the signer holds neither funding key of this contract', { reason: 'signer-not-a-party' });
}

/**
 * `signer`'s signature over `sighash`, checked against its funding pubkey.
 * @throws {DlcError} BAD_SIGNATURE (`own-signature:<what>`) when it does not verify.
 */
export async function signSighashWith(signer: FundingSigner, sighash: Uint8Array, what: string): Promise<Uint8Array> {
  const sig = await signer.signSighash(sighash);
  if (sig.length !== 64 || !ecdsaVerify(sig, sighash, signer.fundingPubkey)) {
    throw new DlcError('BAD_SIGNATURE', `the signer's ${what} signature does not verify with its funding pubkey`, { reason: `own-signature:${what}` });
  }
  return sig;
}

/**
 * This party's refund signature (64-byte compact, low-S).
 * @throws {DlcError} as {@link signerParty} and {@link signSighashWith}.
 */
export async function signRefundWith(setup: ContractSetup, signer: FundingSigner): Promise<Uint8Array> {
  signerParty(setup, signer);
  return signSighashWith(signer, refundSighash(setup.closing, { outputOrder: setup.refundOutputOrder }), 'refund');
}

/**
 * This party's signature (64-byte compact) of the cooperative close for `payout`.
 * @throws {DlcError} as protocol/tx `buildCloseTransaction`, {@link signerParty} and {@link signSighashWith}.
 */
export async function signCloseWith(setup: ContractSetup, payout: Payout, signer: FundingSigner): Promise<Uint8Array> {
  signerParty(setup, signer);
  return signSighashWith(signer, unsignedClose(setup.closing, payout).sighash, 'close');
}

/**
 * This party's CET adaptor signatures (as many as the plan has slots; each
 * is verified by the counterparty, Protocol.md) and its refund signature.
 * @throws {DlcError} as {@link signRefundWith}; INVALID_PARAMS
 *   (`adaptor-signature-count`) when the signer returns another count.
 */
export async function signContractWith(setup: ContractSetup, signer: FundingSigner): Promise<{ cetAdaptorSignatures: CetAdaptorSignatures; refundSignature: Uint8Array }> {
  signerParty(setup, signer);
  const cetAdaptorSignatures = await signer.signCets(setup);
  const n = setup.plan.adaptorSlots.length;
  if (cetAdaptorSignatures.ecdsaAdaptorSignatures.length !== n) {
    throw new DlcError('INVALID_PARAMS', `the signer made ${cetAdaptorSignatures.ecdsaAdaptorSignatures.length} CET adaptor signatures, not ${n}`, { reason: 'adaptor-signature-count' });
  }
  return { cetAdaptorSignatures, refundSignature: await signRefundWith(setup, signer) };
}
