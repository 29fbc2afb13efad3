/**
 * The chain layer: a typed bitcoind JSON-RPC client and its errors, shared by the
 * oracle, the coordinator and the CLI.
 *
 * This entry does NOT start nodes (that is regtest/) and holds no keys.
 */
export { BitcoinRpc, SAFE_METHODS } from './rpc.js';
export type { RpcConfig, BroadcastOptions, SubmitBlockResult } from './rpc.js';
export { ChainError, isChainError, classifyRpcError, RPC_ERROR } from './errors.js';
export type { ChainErrorCode } from './errors.js';
export { JsonDecimal, parseRpcJson, decimalToSats, satsToDecimal } from './json.js';
export type {
  Block,
  BlockHeader,
  BlockTemplate,
  BlockWithTxs,
  BlockchainInfo,
  ChainTip,
  MempoolAcceptResult,
  MempoolEntry,
  NetworkInfo,
  ScriptPubKey,
  SmartFeeEstimate,
  TxInput,
  TxOutput,
  TxOutSetScan,
  UnspentTxOut,
  VerboseTx,
} from './schemas.js';
