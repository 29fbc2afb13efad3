/**
 * The regtest harness: start a node (bitcoind or the embedded bcoin), a tiny
 * P2WPKH wallet, our own block builder, story helpers (faucet, mining,
 * pool simulator, reorgs), a second node that follows the first and then
 * diverges (divergent.ts), DLC helpers (dlc.ts: parties funded with real
 * outputs, offer/accept over them, funding PSBT signed by each wallet), and
 * throwaway PostgreSQL clusters (postgres.ts). For tests, benchmarks and
 * `npm start`.
 *
 * This entry does NOT include the vitest glue (regtest/context.ts and
 * regtest/vitest-setup.ts import vitest) nor the bcoin child (regtest/bcoin/,
 * loaded only inside the child process).
 */
export { findBitcoind, freePort, isProcessAlive, liveNodePids, startNode } from './node.js';
export type { NodeKind, RegtestNode, StartNodeOptions } from './node.js';
export { COINBASE_MATURITY, REGTEST, TestKey, buildP2wpkhSpend, listUnspent, sendFromKey } from './wallet.js';
export type { Payment, SignedTx, SpendOptions, Utxo } from './wallet.js';
export { assembleBlock, bip34HeightPush, buildCoinbase, merkleRoot, witnessCommitmentScript } from './blocks.js';
export type { BlockHeaderFields, BuiltBlock, CoinbaseOutput } from './blocks.js';
export {
  Faucet,
  buildBlockOn,
  disconnectBlock,
  mineAsPool,
  mineBlocks,
  mineCompetingBranch,
  mineToHeight,
  payFromPoolWallet,
  regtestSubsidy,
  reorgOut,
  splitReward,
  strangerAddress,
} from './helpers.js';
export type { PoolBlock, PoolShare } from './helpers.js';
export { startDivergentNode } from './divergent.js';
export type { DivergentNode } from './divergent.js';
export {
  POSTGRES_DATABASE,
  POSTGRES_USER,
  PostgresStartError,
  PostgresUnavailableError,
  findPostgresBinDir,
  postgresAvailable,
  startPostgres,
} from './postgres.js';
export type { RunningPostgres, StartPostgresOptions } from './postgres.js';
export {
  P2WPKH_MAX_WITNESS_LEN,
  REGTEST_CHAIN_HASH,
  broadcastFunding,
  completeCetAsParty,
  settleAsParty,
  exchangeDlcSignatures,
  fundDlcWallet,
  fundingInputFromNode,
  keySigner,
  p2shP2wpkh,
  paidByTransaction,
  prepareRegtestDlc,
  scriptHex,
  signFundingTransaction,
  signOwnFundingInputs,
} from './dlc.js';
export type { CetSigner, DlcWallet, RegtestDlc, RegtestDlcOptions, SignedDlc, WalletInput } from './dlc.js';
