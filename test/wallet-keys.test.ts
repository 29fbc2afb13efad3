/**
 * src/wallet keys: BIP84's published test vectors (bitcoin/bips
 * bip-0084.mediawiki "Test vectors", copied verbatim), the network HRPs and
 * coin types, the contract key paths (hardened, distinct), and the PSBT
 * signer's low-R signatures.
 */
import { describe, expect, it } from 'vitest';
import { HDKey } from '@scure/bip32';
import { Psbt, Transaction } from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';
import { xOnlyPublicKey } from '../protocol/crypto/index.js';
import { toHex } from '../protocol/messages/index.js';
import { CHANGE, RECEIVE, WALLET_NETWORKS, WalletKeys, isValidMnemonic, mnemonicToSeed, walletNetwork } from '../src/wallet/index.js';
import { TEST_MNEMONIC } from './helpers/mnemonic.js';

// BIP84 "Test vectors".
const BIP84 = {
  rootnode: 'zprvAWgYBBk7JR8Gjrh4UJQ2uJdG1r3WNRRfURiABBE3RvMXYSrRJL62XuezvGdPvG6GFBZduosCc1YP5wixPox7zhZLfiUm8aunE96BBa4Kei5',
  account0Xpriv: 'zprvAdG4iTXWBoARxkkzNpNh8r6Qag3irQB8PzEMkAFeTRXxHpbF9z4QgEvBRmfvqWvGp42t42nvgGpNgYSJA9iefm1yYNZKEm7z6qUWCroSQnE',
  addresses: [
    { chain: RECEIVE, index: 0, pubkey: '0330d54fd0dd420a6e5f8d3624f5f3482cae350f79d5f0753bf5beef9c2d91af3c', address: 'bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu' },
    { chain: RECEIVE, index: 1, pubkey: '03e775fd51f0dfb8cd865d9ff1cca2a158cf651fe997fdc9fee9c1d3b5e995ea77', address: 'bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g' },
    { chain: CHANGE, index: 0, pubkey: '03025324888e429ab8e3dbaf1f7802648b9cd01e9b418485c5fa4c1b9b5700e1a6', address: 'bc1q8c6fshw2dlwun7ekn9qwf37cu2rn755upcp6el' },
  ],
};
/** SLIP-132 zprv/zpub version bytes, to compare with the vectors' serialisation. */
const ZVERSIONS = { private: 0x04b2430c, public: 0x04b24746 };

describe('BIP84 test vectors', () => {
  const keys = WalletKeys.fromMnemonic(TEST_MNEMONIC, WALLET_NETWORKS.mainnet);

  it('the mnemonic gives the published root node and account 0 key', () => {
    expect(isValidMnemonic(TEST_MNEMONIC)).toBe(true);
    const root = HDKey.fromMasterSeed(mnemonicToSeed(TEST_MNEMONIC), ZVERSIONS);
    expect(root.privateExtendedKey).toBe(BIP84.rootnode);
    expect(root.derive("m/84'/0'/0'").privateExtendedKey).toBe(BIP84.account0Xpriv);
  });

  it.each(BIP84.addresses)('m/84\'/0\'/0\'/$chain/$index -> $address', ({ chain, index, pubkey, address }) => {
    const a = keys.address(chain, index);
    expect(toHex(a.publicKey)).toBe(pubkey);
    expect(a.address).toBe(address);
    expect(a.path).toBe(`m/84'/0'/0'/${chain}/${index}`);
    expect(toHex(a.script)).toMatch(/^0014[0-9a-f]{40}$/);
    expect(toHex(keys.addressSigner(chain, index).publicKey)).toBe(pubkey);
  });
});

describe('networks', () => {
  it.each([
    ['mainnet', /^bc1q/, "m/84'/0'/0'/0/0"],
    ['testnet', /^tb1q/, "m/84'/1'/0'/0/0"],
    ['signet', /^tb1q/, "m/84'/1'/0'/0/0"],
    ['regtest', /^bcrt1q/, "m/84'/1'/0'/0/0"],
  ] as const)('%s: HRP and coin type', (name, hrp, path) => {
    const a = WalletKeys.fromMnemonic(TEST_MNEMONIC, walletNetwork(name)).address(RECEIVE, 0);
    expect(a.address).toMatch(hrp);
    expect(a.path).toBe(path);
  });

  it('test networks share coin type 1, so testnet and regtest keys are equal and addresses differ only in HRP', () => {
    const t = WalletKeys.fromMnemonic(TEST_MNEMONIC, walletNetwork('testnet')).address(RECEIVE, 3);
    const r = WalletKeys.fromMnemonic(TEST_MNEMONIC, walletNetwork('regtest')).address(RECEIVE, 3);
    expect(t.publicKey).toEqual(r.publicKey);
    expect(t.address.slice(3)).not.toBe(r.address.slice(5));
  });

  it('an unknown network name is refused', () => {
    expect(() => walletNetwork('litecoin')).toThrow(/unknown network 'litecoin'/);
  });

  it('a BIP39 passphrase gives another wallet', () => {
    const a = WalletKeys.fromMnemonic(TEST_MNEMONIC, WALLET_NETWORKS.mainnet, 'TREZOR').address(RECEIVE, 0);
    expect(a.address).not.toBe(BIP84.addresses[0]!.address);
  });
});

describe('contract keys', () => {
  const keys = WalletKeys.fromMnemonic(TEST_MNEMONIC, WALLET_NETWORKS.regtest);

  it('live on hardened paths under the hashdlc purpose, distinct per contract and role', () => {
    const k0 = keys.contractKeys(0);
    const k1 = keys.contractKeys(1);
    expect(k0.fundingPath).toBe("m/9000'/1'/0'/0'/0'");
    expect(k0.identityPath).toBe("m/9000'/1'/0'/1'/0'");
    expect(k1.fundingPath).toBe("m/9000'/1'/0'/0'/1'");
    const root = HDKey.fromMasterSeed(mnemonicToSeed(TEST_MNEMONIC));
    expect(root.derive(k1.fundingPath).privateKey).toEqual(k1.fundingSecretKey);
    expect(root.derive(k1.identityPath).privateKey).toEqual(k1.identitySecretKey);
    const all = [k0.fundingPublicKey, k0.identityPublicKey, k1.fundingPublicKey, k1.identityPublicKey].map(toHex);
    expect(new Set(all).size).toBe(4);
    expect(k0.fundingPublicKey).toHaveLength(33);
    expect(k0.identityPublicKey).toEqual(xOnlyPublicKey(k0.identitySecretKey));
    // Same mnemonic, same keys: a restored wallet can settle its old contracts.
    expect(WalletKeys.fromMnemonic(TEST_MNEMONIC, WALLET_NETWORKS.regtest).contractKeys(1)).toEqual(k1);
  });

  it('rejects indexes outside [0, 2^31)', () => {
    expect(() => keys.contractKeys(-1)).toThrow(RangeError);
    expect(() => keys.address(RECEIVE, 2 ** 31)).toThrow(RangeError);
  });
});

describe('PSBT signer', () => {
  it('signs P2WPKH inputs with low-R signatures (71-byte DER with sighash byte, witness within 107 bytes)', () => {
    const keys = WalletKeys.fromMnemonic(TEST_MNEMONIC, WALLET_NETWORKS.regtest);
    for (let i = 0; i < 8; i++) {
      const a = keys.address(RECEIVE, i);
      const prev = new Transaction();
      prev.addInput(new Uint8Array(32).fill(i + 1), 0);
      prev.addOutput(a.script, 50_000n);
      const psbt = new Psbt({ network: WALLET_NETWORKS.regtest.bitcoinjs });
      psbt.addInput({ hash: prev.getId(), index: 0, witnessUtxo: { script: a.script, value: 50_000n } });
      psbt.addOutput({ script: a.script, value: 49_000n });
      psbt.signInput(0, keys.addressSigner(RECEIVE, i));
      const sig = psbt.data.inputs[0]!.partialSig![0]!.signature;
      expect(sig.length).toBeLessThanOrEqual(71);
      expect(psbt.validateSignaturesOfInput(0, (pk, h, s) => ecc.verify(h, pk, s))).toBe(true);
      psbt.finalizeAllInputs();
      const w = psbt.extractTransaction().ins[0]!.witness;
      expect(1 + w.reduce((n, e) => n + 1 + e.length, 0)).toBeLessThanOrEqual(107);
    }
  });
});
