/**
 * The Bitcoin networks the participant wallet knows: BIP84 coin type, bech32
 * HRP (BIP173), dlcspecs chain hash, and the refund grace period of
 * protocol/contract `defaultLocktimes`.
 *
 * This module does NOT talk to nodes; `networkOfChain` maps the `chain` of
 * Bitcoin Core's `getblockchaininfo` to ours.
 */
import { networks, type Network } from 'bitcoinjs-lib';
import { CHAIN_HASHES } from '../../protocol/messages/index.js';
import type { FlowNetwork } from '../../protocol/contract/index.js';

export type WalletNetworkName = 'mainnet' | 'testnet' | 'testnet4' | 'signet' | 'regtest';

export interface WalletNetwork {
  name: WalletNetworkName;
  /** BIP44 coin type: 0 on mainnet, 1 on every test network (SLIP-44). */
  coinType: number;
  /** bitcoinjs-lib network (bech32 HRP `bc`, `tb` or `bcrt`). */
  bitcoinjs: Network;
  /** dlcspecs `chain_hash` (genesis hash, internal byte order), hex. */
  chainHashHex: string;
  /** For the refund grace period. */
  flow: FlowNetwork;
}

export const WALLET_NETWORKS: Readonly<Record<WalletNetworkName, WalletNetwork>> = {
  mainnet: { name: 'mainnet', coinType: 0, bitcoinjs: networks.bitcoin, chainHashHex: CHAIN_HASHES.mainnet, flow: 'mainnet' },
  testnet: { name: 'testnet', coinType: 1, bitcoinjs: networks.testnet, chainHashHex: CHAIN_HASHES.testnet3, flow: 'testnet' },
  testnet4: { name: 'testnet4', coinType: 1, bitcoinjs: networks.testnet, chainHashHex: CHAIN_HASHES.testnet4, flow: 'testnet' },
  signet: { name: 'signet', coinType: 1, bitcoinjs: networks.testnet, chainHashHex: CHAIN_HASHES.signet, flow: 'signet' },
  regtest: { name: 'regtest', coinType: 1, bitcoinjs: networks.regtest, chainHashHex: CHAIN_HASHES.regtest, flow: 'regtest' },
};

/**
 * The wallet network of a name (as given on the command line).
 * @throws {TypeError} for an unknown name.
 */
export function walletNetwork(name: string): WalletNetwork {
  const n = (WALLET_NETWORKS as Record<string, WalletNetwork | undefined>)[name];
  if (n === undefined) throw new TypeError(`unknown network '${name}' (one of ${Object.keys(WALLET_NETWORKS).join(', ')})`);
  return n;
}

/** Bitcoin Core's `getblockchaininfo.chain` (`main`, `test`, `testnet4`, `signet`, `regtest`) as a wallet network name. */
export function networkOfChain(chain: string): WalletNetworkName | undefined {
  const map: Record<string, WalletNetworkName> = { main: 'mainnet', test: 'testnet', testnet4: 'testnet4', signet: 'signet', regtest: 'regtest' };
  return map[chain];
}
