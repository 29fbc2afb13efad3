/**
 * src/wallet: the participant's BIP39/BIP84 wallet and its contract records.
 * One entry with explicit named exports. See wallet.ts for the directory
 * layout, keys.ts for the derivation paths.
 */
export { ContractStore, LOCAL_STATES, withState } from './contracts.js';
export type { ContractRecord, LocalState } from './contracts.js';
export { WalletError, isWalletError } from './errors.js';
export type { WalletErrorCode } from './errors.js';
export { fsyncDirectory, writePrivateFile } from './files.js';
export { WALLET_LOCK_FILE, acquireWalletLock, holdsWalletLock, releaseWalletLock, withWalletLock } from './lock.js';
export { CHANGE, HASHDLC_PURPOSE, RECEIVE, WalletKeys } from './keys.js';
export type { AddressChain, ContractIdentity, ContractKeys, PsbtSigner, WalletAddress } from './keys.js';
export { WALLET_NETWORKS, networkOfChain, walletNetwork } from './network.js';
export type { WalletNetwork, WalletNetworkName } from './network.js';
export { createSeedFile, isValidMnemonic, mnemonicToSeed, newMnemonic, readSeedFile } from './seed.js';
export type { SeedFile } from './seed.js';
export { DEFAULT_GAP, FUNDING_INPUT_SEQUENCE, P2WPKH_MAX_WITNESS_LEN, Wallet, externalFundingInputs, fundingRequirement, randomU64 } from './wallet.js';
export type { WalletState, WalletUtxo } from './wallet.js';
