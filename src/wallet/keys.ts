/**
 * The wallet's keys, all derived by BIP32 from one BIP39 seed.
 *
 * Addresses (BIP84, P2WPKH), so any BIP84 wallet restored from the same
 * mnemonic sees the same coins:
 *   receive  m/84'/coin'/0'/0/i
 *   change   m/84'/coin'/0'/1/i
 * (coin = 0 on mainnet, 1 on test networks; HRP `bc`, `tb`, `bcrt`.)
 *
 * Contract keys, under a hashdlc purpose (9000', not a registered BIP43
 * purpose) with hardened derivation at every level, so that a leaked
 * funding or identity key reveals no other key even to someone holding an
 * account xpub (a non-hardened child key plus its parent xpub reveals the
 * parent's private key, BIP32 "Security"):
 *   funding key of contract i   m/9000'/coin'/0'/0'/i'   (the DLC 2-of-2 key)
 *   identity key of contract i  m/9000'/coin'/0'/1'/i'   (signs coordinator requests)
 * One identity key per contract, so the coordinator cannot link a party's
 * contracts by key. The funding key signs only transactions (protocol/auth's
 * rule).
 *
 * This module does NOT store anything, pick indexes (wallet.ts) or talk to nodes.
 */
import { HDKey } from '@scure/bip32';
import { payments } from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';
import { xOnlyPublicKey } from '../../protocol/crypto/index.js';
import { mnemonicToSeed } from './seed.js';
import type { WalletNetwork } from './network.js';

/** hashdlc's BIP43 purpose for contract keys. */
export const HASHDLC_PURPOSE = 9000;
const H = 0x80000000;

export type AddressChain = 0 | 1;
export const RECEIVE: AddressChain = 0;
export const CHANGE: AddressChain = 1;

/** A P2WPKH address of the wallet with its key. */
export interface WalletAddress {
  chain: AddressChain;
  index: number;
  path: string;
  address: string;
  /** The P2WPKH script pubkey `0014{hash160(pubkey)}`. */
  script: Uint8Array;
  publicKey: Uint8Array;
}

/** A contract's keys. */
export interface ContractKeys {
  index: number;
  fundingPath: string;
  fundingSecretKey: Uint8Array;
  fundingPublicKey: Uint8Array;
  identityPath: string;
  identitySecretKey: Uint8Array;
  /** x-only (BIP340), what the coordinator knows the party by. */
  identityPublicKey: Uint8Array;
}

/**
 * A contract's keys without the funding secret key: what the use cases see
 * (the identity key signs coordinator requests; the funding key stays inside
 * a contract signer, src/participant/signer.ts).
 */
export type ContractIdentity = Omit<ContractKeys, 'fundingSecretKey'>;

function checkIndex(i: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= H) throw new RangeError(`derivation index ${i} is not in [0, 2^31)`);
}

/** A signer for bitcoinjs-lib `Psbt.signInput`: ECDSA with low-R grinding (71-byte DER signatures). */
export interface PsbtSigner {
  publicKey: Uint8Array;
  sign(hash: Uint8Array, lowR?: boolean): Uint8Array;
}

function psbtSigner(secretKey: Uint8Array, publicKey: Uint8Array): PsbtSigner {
  return {
    publicKey,
    sign(hash: Uint8Array): Uint8Array {
      // Grind extra entropy until r < 2^255 (as Bitcoin Core does), so the DER
      // signature never needs 72 bytes: the witness stays within 107 bytes.
      let sig = ecc.sign(hash, secretKey);
      for (let counter = 1; sig[0]! >= 0x80; counter++) {
        const extra = new Uint8Array(32);
        new DataView(extra.buffer).setUint32(0, counter, true);
        sig = ecc.sign(hash, secretKey, extra);
      }
      return sig;
    },
  };
}

/** The key tree of one mnemonic on one network. */
export class WalletKeys {
  readonly network: WalletNetwork;
  readonly #account: HDKey;
  readonly #contracts: HDKey;

  /**
   * @param seed the 64-byte BIP39 seed (see `fromMnemonic`).
   */
  constructor(seed: Uint8Array, network: WalletNetwork) {
    this.network = network;
    const root = HDKey.fromMasterSeed(seed);
    this.#account = root.derive(`m/84'/${network.coinType}'/0'`);
    this.#contracts = root.derive(`m/${HASHDLC_PURPOSE}'/${network.coinType}'/0'`);
  }

  /** Keys of a BIP39 mnemonic (and optional BIP39 passphrase). */
  static fromMnemonic(mnemonic: string, network: WalletNetwork, passphrase = ''): WalletKeys {
    return new WalletKeys(mnemonicToSeed(mnemonic, passphrase), network);
  }

  /** The BIP84 address `m/84'/coin'/0'/chain/index`. */
  address(chain: AddressChain, index: number): WalletAddress {
    checkIndex(index);
    const key = this.#account.deriveChild(chain).deriveChild(index);
    const publicKey = key.publicKey!;
    const p = payments.p2wpkh({ pubkey: publicKey, network: this.network.bitcoinjs });
    return {
      chain,
      index,
      path: `m/84'/${this.network.coinType}'/0'/${chain}/${index}`,
      address: p.address!,
      script: p.output!,
      publicKey,
    };
  }

  /** A signer for the address key `m/84'/coin'/0'/chain/index`. */
  addressSigner(chain: AddressChain, index: number): PsbtSigner {
    checkIndex(index);
    const key = this.#account.deriveChild(chain).deriveChild(index);
    return psbtSigner(key.privateKey!, key.publicKey!);
  }

  /** The funding and identity keys of contract `index`. */
  contractKeys(index: number): ContractKeys {
    return { ...this.contractIdentity(index), fundingSecretKey: this.#fundingKey(index).privateKey! };
  }

  /** The keys of contract `index` but its funding secret key. */
  contractIdentity(index: number): ContractIdentity {
    const funding = this.#fundingKey(index);
    const identity = this.#contracts.deriveChild(1 + H).deriveChild(index + H);
    const base = `m/${HASHDLC_PURPOSE}'/${this.network.coinType}'/0'`;
    return {
      index,
      fundingPath: `${base}/0'/${index}'`,
      fundingPublicKey: funding.publicKey!,
      identityPath: `${base}/1'/${index}'`,
      identitySecretKey: identity.privateKey!,
      identityPublicKey: xOnlyPublicKey(identity.privateKey!),
    };
  }

  #fundingKey(index: number): HDKey {
    checkIndex(index);
    return this.#contracts.deriveChild(0 + H).deriveChild(index + H);
  }
}
