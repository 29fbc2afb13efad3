/**
 * The use cases sign only through the `ContractSigner` port: a buyer whose
 * contract signer holds a funding key the wallet never derived (as an HSM
 * would; its secret in a private field, every call recorded) accepts and
 * funds a hashpower sale against the real coordinator, oracle and node. The
 * accept_dlc carries the signer's key, the miner's `signContract` verifies
 * the buyer's signatures against it, the funding transaction is broadcast,
 * and a repeat of `fundContract` is refused without asking the signer anything.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Psbt } from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signCets, type ContractSetup } from '../../protocol/contract/index.js';
import { ecdsaSign, secp } from '../../protocol/crypto/index.js';
import { decodeAcceptDlc, fromHex, toHex, type CetAdaptorSignatures } from '../../protocol/messages/index.js';
import { Participant, acceptOffer, fundContract, makeOffer, signContract, type ContractSigner } from '../../src/participant/index.js';
import { Wallet } from '../../src/wallet/index.js';
import { useRegtest } from '../../regtest/context.js';
import { startLibraryServices, twoFundedWallets, type LibraryServices } from './participant-fixture.js';

const { rpc, faucet } = useRegtest();
const tmp = mkdtempSync(join(tmpdir(), 'hashdlc-participant-signer-'));
const minerDir = join(tmp, 'miner');
const buyerDir = join(tmp, 'buyer');
let services: LibraryServices;

/** A funding key outside the wallet (an HSM's): the secret never leaves this object; funding inputs are the wallet's coins. */
class ExternalKeySigner implements ContractSigner {
  readonly #secret = randomBytes(32);
  readonly fundingPubkey = secp().mulG(this.#secret);
  readonly calls = { cets: 0, sighashes: 0, inputs: [] as number[][] };
  readonly #wallet: Wallet;

  constructor(wallet: Wallet) {
    this.#wallet = wallet;
  }

  signCets(setup: ContractSetup): Promise<CetAdaptorSignatures> {
    this.calls.cets++;
    return Promise.resolve(signCets(setup, this.#secret));
  }

  signSighash(sighash: Uint8Array): Promise<Uint8Array> {
    this.calls.sighashes++;
    return Promise.resolve(ecdsaSign(this.#secret, sighash));
  }

  signFundingInputs(psbt: Psbt, indexes: readonly number[]): { signed: number[]; notOurs: number[] } {
    this.calls.inputs.push([...indexes]);
    return this.#wallet.signInputs(psbt, indexes);
  }
}

/** One step as one run; the buyer's steps sign with `signer` when given. */
async function step<T>(walletDir: string, fn: (p: Participant) => Promise<T>, signer?: (p: Participant) => ContractSigner): Promise<T> {
  const p: Participant = new Participant(services.config(walletDir), signer === undefined ? {} : { contractSigner: () => signer(p) });
  try {
    return await fn(p);
  } finally {
    await p.close();
  }
}

beforeAll(async () => {
  services = await startLibraryServices(rpc, tmp);
  await twoFundedWallets(faucet, minerDir, buyerDir);
}, 180_000);

afterAll(async () => {
  await services?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('a sale whose buyer signs with a key the wallet never held', () => {
  it('accept, sign and fund go through the signer alone; a repeated fund asks it for nothing', async () => {
    const tip = await rpc.getBlockCount();
    const delivery = Wallet.open(buyerDir).newReceiveAddress().address;
    const offered = await step(minerDir, (p) =>
      makeOffer(p, { template: 'hashpower', window: { start: tip + 40, end: tip + 50 }, hashrateThs: 100n, deliveryAddress: delivery, escrow: 300_000n, collateral: 200_000n }),
    );
    if (offered.dryRun) throw new Error('posted offer expected');
    const id = offered.id;

    let hsm: ExternalKeySigner | undefined;
    const external = (p: Participant): ExternalKeySigner => (hsm ??= new ExternalKeySigner(p.wallet()));
    const accepted = await step(buyerDir, (p) => acceptOffer(p, { id }), external);
    if (accepted.dryRun) throw new Error('accept expected');
    const record = Wallet.open(buyerDir).contracts.get(id);
    const acceptPubkey = toHex(decodeAcceptDlc(fromHex(record.accept!)).fundingPubkey);
    expect(acceptPubkey).toBe(toHex(hsm!.fundingPubkey));
    expect(acceptPubkey).not.toBe(toHex(Wallet.open(buyerDir).keys.contractKeys(record.keyIndex).fundingPublicKey));
    // One batch of CET adaptor signatures and the refund signature.
    expect(hsm!.calls).toEqual({ cets: 1, sighashes: 1, inputs: [] });

    // The miner (the wallet's own signer) checks every buyer signature against the signer's key.
    const signed = await step(minerDir, (p) => signContract(p, { id }));
    if (signed.psbtOut) throw new Error('signature expected');
    expect(signed.state).toBe('signed');

    const funded = await step(buyerDir, (p) => fundContract(p, { id }), external);
    if (funded.psbtOut) throw new Error('funding expected');
    expect(await rpc.getRawMempool()).toContain(funded.fundingTxid);
    expect(hsm!.calls.inputs).toHaveLength(1);
    expect(hsm!.calls.inputs[0]!.length).toBeGreaterThan(0);

    // Run again: refused as funded (STATE), and the signer is asked for nothing.
    await expect(step(buyerDir, (p) => fundContract(p, { id }), external)).rejects.toMatchObject({ code: 'STATE' });
    expect(hsm!.calls).toEqual({ cets: 1, sighashes: 1, inputs: [hsm!.calls.inputs[0]] });
  });
});
