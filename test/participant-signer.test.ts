/**
 * The `ContractSigner` port (src/participant/signer.ts, protocol/contract
 * signer.ts): protocol/contract's builders sign through a signer that never
 * hands out its key. A recording signer (its secret in a private field) makes
 * the accepter's and the offerer's signatures, the close and the attested CET;
 * every result verifies against its `fundingPubkey`, and the calls are
 * counted. A signer holding another key signs nothing (`signer-not-a-party`),
 * one that lies about its key is caught (`own-signature:*`). The wallet's
 * signer exposes no secret and its signatures verify against the wallet's
 * contract key; `Participant.contractSigner` takes another implementation.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ecc from 'tiny-secp256k1';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildAcceptAsync,
  buildSignAsync,
  completeAttestedCetAsParty,
  completeClose,
  fundingPsbtOf,
  signClose,
  signCloseWith,
  signCets,
  signContractWith,
  verifyAcceptAsync,
  verifySign,
  type ContractSetup,
} from '../protocol/contract/index.js';
import { ecdsaSign, ecdsaVerify } from '../protocol/crypto/index.js';
import type { CetAdaptorSignatures, OfferDlc } from '../protocol/messages/index.js';
import { extractFundingSignatures, partyInputIndexes } from '../protocol/tx/index.js';
import { AdaptorEngine } from '../src/engine/index.js';
import { Participant, walletContractSigner, type ContractSigner, type ParticipantConfig } from '../src/participant/index.js';
import { signOwnFundingInputs } from '../src/participant/funding-inputs.js';
import { Wallet } from '../src/wallet/index.js';
import { linearDescriptor, publicKey, testOracle, testSecret, twoPartyFixture } from './helpers/dlc-fixture.js';

const NB_DIGITS = 5;
const EVENT = 'signer-port';
const oracle = testOracle('signer-oracle');
const fixture = twoPartyFixture({
  announcement: oracle.announce(EVENT, NB_DIGITS),
  descriptor: linearDescriptor(NB_DIGITS, 500_000n, 20n, 1_000n),
  offerCollateral: 300_000n,
  acceptCollateral: 200_000n,
  label: 'signer-port',
});
const offer: OfferDlc = fixture.offer;

/** A signer whose secret lives in a private field; it records what it was asked to sign. */
class RecordingSigner implements ContractSigner {
  readonly #secret: Uint8Array;
  readonly fundingPubkey: Uint8Array;
  readonly calls = { cets: 0, sighashes: [] as Uint8Array[], inputs: [] as number[][] };

  constructor(secret: Uint8Array, claimedPubkey = publicKey(secret)) {
    this.#secret = secret;
    this.fundingPubkey = claimedPubkey;
  }

  signCets(setup: ContractSetup): Promise<CetAdaptorSignatures> {
    this.calls.cets++;
    return Promise.resolve(signCets(setup, this.#secret));
  }

  signSighash(sighash: Uint8Array): Promise<Uint8Array> {
    this.calls.sighashes.push(sighash);
    return Promise.resolve(ecdsaSign(this.#secret, sighash));
  }

  signFundingInputs(_psbt: unknown, indexes: readonly number[]): { signed: number[]; notOurs: number[] } {
    this.calls.inputs.push([...indexes]);
    return { signed: [], notOurs: [...indexes] };
  }
}

/** Every byte string reachable through an object's own properties (what a caller could read off it). */
function reachableBytes(value: unknown, seen = new Set<unknown>()): Uint8Array[] {
  if (value instanceof Uint8Array) return [value];
  if (value === null || (typeof value !== 'object' && typeof value !== 'function') || seen.has(value)) return [];
  seen.add(value);
  return Reflect.ownKeys(value).flatMap((k) => reachableBytes((value as Record<string | symbol, unknown>)[k], seen));
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('protocol/contract over a FundingSigner', () => {
  it('accept, sign, close and the attested CET: every signature verifies against the signer\'s funding pubkey', async () => {
    const accepter = new RecordingSigner(fixture.acceptKey);
    const offerer = new RecordingSigner(fixture.offerKey);
    const { accept, setup } = await buildAcceptAsync(offer, { ...acceptFields(), signer: accepter });
    expect(hex(accept.fundingPubkey)).toBe(hex(accepter.fundingPubkey));
    // The offerer's checks of accept_dlc: the refund and every CET adaptor signature against accept.fundingPubkey.
    await expect(verifyAcceptAsync(offer, accept)).resolves.toBeDefined();
    expect(accepter.calls).toMatchObject({ cets: 1, sighashes: [expect.any(Uint8Array)] });

    const psbt = fundingPsbtOf(setup);
    const offerInputs = partyInputIndexes(setup.funding, 'offer');
    offerInputs.forEach((i) => psbt.signInput(i, fundingInputSigner()));
    const { sign } = await buildSignAsync(offer, accept, { signer: offerer, fundingSignatures: extractFundingSignatures(psbt, setup.funding, 'offer') });
    expect(() => verifySign(offer, accept, sign)).not.toThrow();
    expect(offerer.calls.cets).toBe(1);

    const payout = { offer: 250_000n, accept: 249_000n };
    const closeSig = await signCloseWith(setup, payout, accepter);
    expect(() => completeClose(setup, payout, signClose(setup, payout, fixture.offerKey), closeSig)).not.toThrow();

    const attested = [{ oracleIndex: 0, attestation: oracle.attestNumeric(EVENT, 7n, NB_DIGITS) }];
    const byOfferer = await completeAttestedCetAsParty(setup, attested, 'offer', (h) => offerer.signSighash(h), accept.cetAdaptorSignatures);
    const own = offerer.calls.sighashes.at(-1)!;
    expect(hex(own)).toBe(hex(setup.cetSighashes[byOfferer.cetIndex]!));
    expect(byOfferer.payouts.offer).toBe(7n * 25_000n);
    // Each signed its refund; then the accepter the close, the offerer the attested CET.
    expect(accepter.calls.sighashes).toHaveLength(2);
    expect(offerer.calls.sighashes).toHaveLength(2);
  });

  it('a signer holding neither funding key of the contract signs nothing (signer-not-a-party)', async () => {
    const { setup } = await buildAcceptAsync(offer, { ...acceptFields(), signer: new RecordingSigner(fixture.acceptKey) });
    const stranger = new RecordingSigner(testSecret('signer-port:stranger'));
    await expect(signContractWith(setup, stranger)).rejects.toMatchObject({ code: 'INVALID_PARAMS', reason: 'signer-not-a-party' });
    await expect(signCloseWith(setup, { offer: 1000n, accept: 490_000n }, stranger)).rejects.toMatchObject({ reason: 'signer-not-a-party' });
    expect(stranger.calls).toEqual({ cets: 0, sighashes: [], inputs: [] });
  });

  it('a signer that claims one key and signs with another is caught before its signature is used', async () => {
    const liar = new RecordingSigner(testSecret('signer-port:other'), publicKey(fixture.acceptKey));
    await expect(buildAcceptAsync(offer, { ...acceptFields(), signer: liar })).rejects.toMatchObject({ code: 'BAD_SIGNATURE', reason: 'own-signature:refund' });
  });

  it('signOwnFundingInputs asks the signer for this party\'s input indexes only', async () => {
    const { setup } = await buildAcceptAsync(offer, { ...acceptFields(), signer: new RecordingSigner(fixture.acceptKey) });
    const signer = new RecordingSigner(fixture.offerKey);
    expect(() => signOwnFundingInputs(signer, setup, 'offer')).toThrow(expect.objectContaining({ code: 'MISMATCH' }));
    expect(signer.calls.inputs).toEqual([partyInputIndexes(setup.funding, 'offer')]);
  });
});

describe('the wallet\'s ContractSigner', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hashdlc-signer-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const wallet = Wallet.init(join(tmp, 'w'), 'regtest').wallet;
  const config: ParticipantConfig = {
    network: 'regtest', networkGiven: false, walletDir: join(tmp, 'w'),
    coordinator: undefined, oracles: [], oraclePubkeys: [], oracleThreshold: undefined, rpc: undefined, feeRatePerVb: undefined, threads: 0,
  };

  it('exposes no secret, and its signatures verify against the wallet\'s contract key', async () => {
    const keyIndex = 3;
    const engine = await AdaptorEngine.start({ threads: 0 });
    const progress: [string, number, number][] = [];
    try {
      const signer = walletContractSigner(wallet, keyIndex, () => Promise.resolve(engine), (label, done, total) => progress.push([label, done, total]));
      const secret = hex(wallet.keys.contractKeys(keyIndex).fundingSecretKey);
      expect(reachableBytes(signer).map(hex)).not.toContain(secret);
      expect(hex(signer.fundingPubkey)).toBe(hex(wallet.keys.contractKeys(keyIndex).fundingPublicKey));

      const { accept, setup } = await buildAcceptAsync(offer, { ...acceptFields(), signer });
      await expect(verifyAcceptAsync(offer, accept)).resolves.toBeDefined();
      expect(progress.at(-1)).toEqual(['signing CET adaptor signatures', setup.plan.adaptorSlots.length, setup.plan.adaptorSlots.length]);
      const sighash = setup.cetSighashes[0]!;
      expect(ecdsaVerify(await signer.signSighash(sighash), sighash, signer.fundingPubkey)).toBe(true);
    } finally {
      await engine.close();
    }
  });

  it('Participant.contractSigner: the wallet\'s by default, another implementation when given', () => {
    const injected = new RecordingSigner(fixture.offerKey);
    const p = new Participant(config, { readOnly: true, contractSigner: () => injected });
    expect(p.contractSigner({ keyIndex: 5 })).toBe(injected);
    const q = new Participant(config, { readOnly: true });
    const own = q.contractSigner(5);
    expect(q.contractSigner({ keyIndex: 5 })).toBe(own);
    expect(hex(own.fundingPubkey)).toBe(hex(wallet.keys.contractKeys(5).fundingPublicKey));
  });
});

function acceptFields() {
  return {
    fundingInputs: fixture.acceptUnsigned.fundingInputs,
    payoutSpk: fixture.acceptUnsigned.payoutSpk,
    changeSpk: fixture.acceptUnsigned.changeSpk,
    payoutSerialId: fixture.acceptUnsigned.payoutSerialId,
    changeSerialId: fixture.acceptUnsigned.changeSerialId,
  };
}

/** The offerer's funding input key as a bitcoinjs signer, low-R (so the witness fits max_witness_len 107, as the wallet grinds). */
function fundingInputSigner() {
  const secret = testSecret('signer-port:offer-utxo');
  const sign = (h: Uint8Array): Uint8Array => {
    let sig = ecc.sign(h, secret);
    for (let counter = 1; sig[0]! >= 0x80; counter++) sig = ecc.sign(h, secret, Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? counter : 0)));
    return sig;
  };
  return { publicKey: publicKey(secret), sign };
}
