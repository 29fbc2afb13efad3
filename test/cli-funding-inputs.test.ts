/**
 * src/participant/funding-inputs.ts (issue 9, hole 1) on a contract whose
 * counterparty lists a coin of this wallet: the check that refuses it before
 * signing, the signer that signs only this party's input indexes even when
 * the wallet owns more, the outgoing PSBT that carries only this party's
 * witnesses, the external-wallet PSBT check, and the default
 * `accept --max-fee-rate`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Psbt } from 'bitcoinjs-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { fundingPsbtOf, setupContract } from '../protocol/contract/index.js';
import type { FundingInput } from '../protocol/messages/index.js';
import { partyFundingPsbt, partyInputIndexes, signedInputIndexes } from '../protocol/tx/index.js';
import type { BitcoinRpc } from '../src/chain/index.js';
import { defaultMaxFeeRate } from '../src/participant/contract.js';
import {
  ownWitnessesOfExternalPsbt,
  refuseOurCoinsAsCounterpartyInputs,
  refuseUnverifiableCounterpartyInputs,
  signOwnFundingInputs,
  spentOutput,
} from '../src/participant/funding-inputs.js';
import { RECEIVE, Wallet } from '../src/wallet/index.js';
import { fundingInput, linearDescriptor, syntheticPrevTx, testOracle, testSecret, twoPartyFixture } from './helpers/dlc-fixture.js';
import { TEST_MNEMONIC } from './helpers/mnemonic.js';

const tmp = mkdtempSync(join(tmpdir(), 'hashdlc-funding-inputs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const { wallet } = Wallet.init(join(tmp, 'miner'), 'regtest', TEST_MNEMONIC);

function inputPaying(script: Uint8Array, value: bigint, serialId: bigint, tag: string, redeemScript = new Uint8Array(0)): FundingInput {
  return { inputSerialId: serialId, prevTx: syntheticPrevTx(script, value, tag).toBuffer(), prevTxVout: 0, sequence: 0xffffffff, maxWitnessLen: 108, redeemScript };
}

const ours = wallet.keys.address(RECEIVE, 0);
const alsoOurs = wallet.keys.address(RECEIVE, 3);
const oracle = testOracle('funding-inputs');
/** We offer with our coin at address 0; the accepter lists `acceptInputs`. */
function contract(acceptInputs: FundingInput[]) {
  const f = twoPartyFixture({
    announcement: oracle.announce('funding-inputs/1', 4),
    descriptor: linearDescriptor(4, 300_000n, 10n, 100_000n),
    offerCollateral: 100_000n,
    acceptCollateral: 200_000n,
    offerInputs: [inputPaying(ours.script, 400_000n, 21n, 'ours')],
    acceptInputs,
    label: 'funding-inputs',
  });
  return { ...f, setup: setupContract(f.offer, f.acceptUnsigned) };
}
/** The attack: the accepter's input is another coin of our wallet. */
const attack = contract([inputPaying(alsoOurs.script, 500_000n, 22n, 'victim')]);
const honest = contract([fundingInput(testSecret('stranger'), 500_000n, 22n, 'stranger')]);
const victim = spentOutput(attack.acceptUnsigned.fundingInputs[0]!).outpoint;

describe('a counterparty listing a coin of this wallet', () => {
  it('is refused before signing, naming the input and its outpoint', () => {
    expect(() => refuseOurCoinsAsCounterpartyInputs(wallet, 'accept', attack.acceptUnsigned.fundingInputs)).toThrow(
      expect.objectContaining({ code: 'MISMATCH', reason: 'counterparty-input-ours', message: expect.stringContaining(`accepter's funding input 0 (${victim}) pays an address of this wallet`) }),
    );
    expect(() => refuseOurCoinsAsCounterpartyInputs(wallet, 'accept', honest.acceptUnsigned.fundingInputs)).not.toThrow();
  });

  it("is refused when it lists one of our own inputs or a coin reserved by another of our contracts (an external wallet's)", () => {
    const stranger = spentOutput(honest.acceptUnsigned.fundingInputs[0]!).outpoint;
    expect(() => refuseOurCoinsAsCounterpartyInputs(wallet, 'accept', honest.acceptUnsigned.fundingInputs, [stranger])).toThrow(/is one of your own funding inputs/);
    const dir = join(tmp, 'reserving');
    const w = Wallet.init(dir, 'regtest').wallet;
    w.contracts.save({
      version: 1, id: 'ab'.repeat(32), role: 'offer', network: 'regtest', keyIndex: 0, state: 'offered', history: [],
      hashProfile: 'sha256', terms: {}, offer: '', reservedOutpoints: [stranger],
    });
    expect(() => refuseOurCoinsAsCounterpartyInputs(w, 'offer', honest.acceptUnsigned.fundingInputs)).toThrow(
      expect.objectContaining({ reason: 'counterparty-input-ours', message: expect.stringContaining(`offerer's funding input 0 (${stranger}) is reserved by your contract ${'ab'.repeat(32)}`) }),
    );
  });

  it('never gets a signature: the wallet signs only our input indexes, and only our witnesses go out', () => {
    const own = signOwnFundingInputs(wallet, attack.setup, 'offer');
    expect(own.fundingSignatures).toHaveLength(1);
    const out = partyFundingPsbt(attack.setup.funding, 'offer', own);
    expect(signedInputIndexes(out)).toEqual(partyInputIndexes(attack.setup.funding, 'offer'));
    const victimIndex = partyInputIndexes(attack.setup.funding, 'accept')[0]!;
    expect(out.data.inputs[victimIndex]!.partialSig).toBeUndefined();
    expect(out.data.inputs[victimIndex]!.finalScriptWitness).toBeUndefined();
  });

  it('signed by an external wallet (--psbt-in): refused as foreign-input-signed, naming the input', () => {
    // The external wallet holds our keys too and signs every input it owns, the victim included.
    const psbt = fundingPsbtOf(attack.setup);
    psbt.signInput(partyInputIndexes(attack.setup.funding, 'offer')[0]!, wallet.keys.addressSigner(RECEIVE, 0));
    psbt.signInput(partyInputIndexes(attack.setup.funding, 'accept')[0]!, wallet.keys.addressSigner(RECEIVE, 3));
    expect(() => ownWitnessesOfExternalPsbt(attack.setup, Psbt.fromBase64(psbt.toBase64()), 'offer')).toThrow(
      expect.objectContaining({ code: 'MISMATCH', reason: 'foreign-input-signed', message: expect.stringContaining(`${victim}, accepter's input 0)`) }),
    );
    // Signed on our input alone, it is taken.
    const clean = fundingPsbtOf(attack.setup);
    clean.signInput(partyInputIndexes(attack.setup.funding, 'offer')[0]!, wallet.keys.addressSigner(RECEIVE, 0));
    expect(ownWitnessesOfExternalPsbt(attack.setup, clean, 'offer').fundingSignatures).toHaveLength(1);
  });
});

describe('counterparty inputs with an external wallet signing', () => {
  it('are refused unless P2WPKH', () => {
    const p2wsh = new Uint8Array([0x00, 0x20, ...new Uint8Array(32).fill(7)]);
    const p2shP2wpkh = new Uint8Array([0xa9, 0x14, ...new Uint8Array(20).fill(8), 0x87]);
    const wrapped = inputPaying(p2shP2wpkh, 1000n, 1n, 'wrapped', new Uint8Array([0x00, 0x14, ...new Uint8Array(20).fill(9)]));
    for (const input of [inputPaying(p2wsh, 1000n, 1n, 'wsh'), wrapped]) {
      expect(() => refuseUnverifiableCounterpartyInputs('offer', [input])).toThrow(
        expect.objectContaining({ code: 'MISMATCH', reason: 'counterparty-input-unverifiable', message: expect.stringContaining(`offerer's funding input 0 (${spentOutput(input).outpoint}) is not P2WPKH`) }),
      );
    }
    expect(() => refuseUnverifiableCounterpartyInputs('accept', honest.acceptUnsigned.fundingInputs)).not.toThrow();
  });
});

describe('accept --max-fee-rate default', () => {
  const rpcWith = (satPerKvB: bigint | undefined): BitcoinRpc =>
    ({ estimateSmartFee: async () => ({ feeRateSatPerKvB: satPerKvB, errors: [], blocks: 6 }) }) as unknown as BitcoinRpc;
  it("is 3x the node's 6-block estimate, at least 5 sat/vB", async () => {
    expect(await defaultMaxFeeRate(rpcWith(12_000n), 'mainnet')).toBe(36n);
    expect(await defaultMaxFeeRate(rpcWith(1_000n), 'mainnet')).toBe(5n);
  });
  it('is 10 sat/vB on regtest without an estimate, and must be given elsewhere', async () => {
    expect(await defaultMaxFeeRate(rpcWith(undefined), 'regtest')).toBe(10n);
    expect(await defaultMaxFeeRate(undefined, 'regtest')).toBe(10n);
    await expect(defaultMaxFeeRate(rpcWith(undefined), 'mainnet')).rejects.toMatchObject({ code: 'CONFIG', message: expect.stringMatching(/--max-fee-rate/) });
  });
});
