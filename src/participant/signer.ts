/**
 * The `ContractSigner` port: everything a use case signs for one contract,
 * behind an interface, so no use case (and nothing in protocol/) touches a raw
 * funding secret key. It is protocol/contract's `FundingSigner` (the funding
 * pubkey, the CET adaptor signatures, an ECDSA signature over a sighash for the
 * refund, the cooperative close and the attested CET) plus the party's own
 * funding inputs (the funding transaction, and cancel's double-spend of them).
 *
 * `walletContractSigner` is the BIP39 wallet's implementation: the contract's
 * funding key is derived inside it and never returned; the adaptor signatures
 * run on src/engine's worker pool (started on first use) with progress per
 * batch. Another implementation (an external PSBT wallet, an HSM, a hardware
 * wallet) provides the same methods; protocol/contract checks every signature
 * it returns against `fundingPubkey`.
 *
 * This module does NOT decide what may be signed (the use cases check the
 * contract first: src/participant/README.md), and does not sign coordinator
 * requests (the contract's identity key does that, and is not a funding key).
 */
import type { Psbt } from 'bitcoinjs-lib';
import type { FundingSigner } from '../../protocol/contract/index.js';
import { keyFundingSigner } from '../../protocol/contract/index.js';
import type { AdaptorEngine } from '../engine/index.js';
import type { Wallet } from '../wallet/index.js';
import type { Progress } from './progress.js';
import { engineSigner } from './progress.js';

/** What a participant signs for one contract. */
export interface ContractSigner extends FundingSigner {
  /**
   * Signs the inputs of `psbt` at `indexes` that spend this party's coins,
   * and no other; the rest come back in `notOurs`, unsigned.
   * @throws {RangeError} for an index the PSBT does not have.
   */
  signFundingInputs(psbt: Psbt, indexes: readonly number[]): { signed: number[]; notOurs: number[] };
}

/**
 * The wallet's signer for contract key `keyIndex`: CET adaptor signatures on
 * the worker pool `engine()` gives (started only when CETs are signed),
 * reported to `progress`; funding inputs with the wallet's address keys.
 */
export function walletContractSigner(wallet: Wallet, keyIndex: number, engine: () => Promise<AdaptorEngine>, progress: Progress): ContractSigner {
  const funding = keyFundingSigner(wallet.keys.contractKeys(keyIndex).fundingSecretKey, async (setup, key) => engineSigner(await engine(), progress)(setup, key));
  return {
    fundingPubkey: funding.fundingPubkey,
    signCets: (setup) => funding.signCets(setup),
    signSighash: (sighash) => funding.signSighash(sighash),
    signFundingInputs: (psbt, indexes) => wallet.signInputs(psbt, indexes),
  };
}
