/**
 * A typed client for bitcoind's JSON-RPC API: the calls hashdlc needs (chain
 * info, blocks with transactions, raw transactions, UTXOs, mempool acceptance,
 * broadcasting, regtest mining), every answer validated with zod and every
 * failure turned into a `ChainError` that keeps Core's code and message.
 *
 * This is the one place that uses RPC credentials: they come in an `RpcConfig`
 * object; the client reads no environment, no cookie file and no config file.
 *
 * Retries: only calls that change nothing on the node (`SAFE_METHODS`) are
 * retried, and only when the node could not be reached, timed out or was still
 * warming up (-28). A broadcast, a block submission or a mining call is never
 * sent twice by this client: after a lost answer the caller must look at the
 * chain to learn what happened.
 *
 * This module does NOT know whether the node is Bitcoin Core or another
 * implementation, does not start nodes, and holds no keys.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { ChainError, classifyRpcError } from './errors.js';
import { parseRpcJson, satsToDecimal } from './json.js';
import {
  blockSchema,
  blockTemplateSchema,
  blockWithTxsSchema,
  blockHeaderSchema,
  blockchainInfoSchema,
  chainTipSchema,
  hashSchema,
  hexSchema,
  intSchema,
  mempoolAcceptSchema,
  mempoolEntrySchema,
  networkInfoSchema,
  scanTxOutSetSchema,
  smartFeeSchema,
  txOutSchema,
  txSchema,
} from './schemas.js';
import type {
  Block,
  BlockHeader,
  BlockTemplate,
  BlockWithTxs,
  BlockchainInfo,
  ChainTip,
  MempoolAcceptResult,
  MempoolEntry,
  NetworkInfo,
  SmartFeeEstimate,
  TxOutSetScan,
  UnspentTxOut,
  VerboseTx,
} from './schemas.js';

/** Where and how to reach the node. */
export interface RpcConfig {
  /** e.g. `http://127.0.0.1:18443/` */
  url: string;
  username: string;
  password: string;
  /** Per-request time limit; default 30 s. */
  timeoutMs?: number;
  /** Extra attempts for safe calls on connection errors; default 3. */
  retries?: number;
  /** First back-off delay, doubled after each attempt; default 100 ms. */
  retryDelayMs?: number;
}

/** RPC methods that change nothing on the node: the only ones ever retried. */
export const SAFE_METHODS: ReadonlySet<string> = new Set([
  'getblockchaininfo',
  'getblockcount',
  'getbestblockhash',
  'getchaintips',
  'getblockhash',
  'getblock',
  'getblockheader',
  'getrawtransaction',
  'gettxout',
  'testmempoolaccept',
  'getblocktemplate',
  'getmempoolentry',
  'getrawmempool',
  'estimatesmartfee',
  'getnetworkinfo',
  'scantxoutset',
]);

/** What submitblock said about an accepted block (BIP 22 answers that are not rejections). */
export type SubmitBlockResult = 'accepted' | 'duplicate' | 'inconclusive';

/** Options of `sendRawTransaction` / `testMempoolAccept`. */
export interface BroadcastOptions {
  /** Reject when the fee rate exceeds this, in sat/kvB; 0n disables the check. Default: the node's (0.10 BTC/kvB in Core). */
  maxFeeRateSatPerKvB?: bigint;
}

let nextId = 1;

function bigintAsText(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

function networkErrorCode(err: unknown): 'CHAIN_TIMEOUT' | 'CHAIN_CONNECTION' | undefined {
  if (!(err instanceof Error)) return undefined;
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'CHAIN_TIMEOUT';
  // undici: TypeError('fetch failed') with the socket error as cause.
  if (err instanceof TypeError && err.message === 'fetch failed') return 'CHAIN_CONNECTION';
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|EPIPE|ENOTFOUND|EHOSTUNREACH|UND_ERR)/.test(code)) {
    return 'CHAIN_CONNECTION';
  }
  return undefined;
}

/**
 * A bitcoind JSON-RPC client. Every method throws `ChainError`; see `ChainErrorCode`
 * for the codes. Amounts are bigint satoshis in and out.
 */
export class BitcoinRpc {
  readonly #url: string;
  readonly #auth: string;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #retryDelayMs: number;

  /** @throws {TypeError} when the config is incomplete. */
  constructor(config: RpcConfig) {
    if (!config.url || typeof config.username !== 'string' || typeof config.password !== 'string') {
      throw new TypeError('RpcConfig needs url, username and password');
    }
    this.#url = config.url;
    this.#auth = 'Basic ' + Buffer.from(`${config.username}:${config.password}`).toString('base64');
    this.#timeoutMs = config.timeoutMs ?? 30_000;
    this.#retries = config.retries ?? 3;
    this.#retryDelayMs = config.retryDelayMs ?? 100;
  }

  /** The node's URL (no credentials). */
  get url(): string {
    return this.#url;
  }

  /**
   * Calls `method` and validates the result with `schema`.
   * Safe methods are retried on connection errors, time-outs and -28.
   * @throws {ChainError} on any failure.
   */
  async call<S extends z.ZodType>(method: string, params: unknown[], schema: S): Promise<z.output<S>> {
    const attempts = SAFE_METHODS.has(method) ? 1 + this.#retries : 1;
    let delay = this.#retryDelayMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#callOnce(method, params, schema);
      } catch (err) {
        const retryable =
          err instanceof ChainError &&
          (err.code === 'CHAIN_CONNECTION' || err.code === 'CHAIN_TIMEOUT' || err.code === 'CHAIN_WARMING_UP');
        if (!retryable || attempt >= attempts) throw err;
        await sleep(delay);
        delay *= 2;
      }
    }
  }

  async #callOnce<S extends z.ZodType>(method: string, params: unknown[], schema: S): Promise<z.output<S>> {
    const { res, json } = await this.#post(method, JSON.stringify({ jsonrpc: '1.0', id: nextId++, method, params }, bigintAsText));
    return this.#result(method, json, schema, res);
  }

  /** Sends one HTTP request; network, auth and non-JSON failures become ChainErrors. */
  async #post(method: string, body: string): Promise<{ res: Response; json: unknown }> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.#url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: this.#auth },
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      const code = networkErrorCode(err) ?? 'CHAIN_CONNECTION';
      const what = code === 'CHAIN_TIMEOUT' ? `no answer within ${this.#timeoutMs} ms` : 'node unreachable';
      throw new ChainError(code, method, `${method}: ${what} at ${this.#url}`, { cause: err });
    }
    if (res.status === 401 || res.status === 403) {
      throw new ChainError('CHAIN_AUTH', method, `${method}: RPC credentials rejected (HTTP ${res.status})`);
    }
    try {
      return { res, json: parseRpcJson(text) };
    } catch (err) {
      throw new ChainError('CHAIN_BAD_RESPONSE', method, `${method}: HTTP ${res.status}, body is not JSON`, {
        cause: err,
      });
    }
  }

  /** Checks one JSON-RPC answer envelope and validates its result. */
  #result<S extends z.ZodType>(method: string, json: unknown, schema: S, res: Response): z.output<S> {
    const envelope = z
      .object({
        result: z.unknown().optional(),
        error: z.object({ code: z.number(), message: z.string() }).nullable().optional(),
      })
      .safeParse(json);
    if (!envelope.success) {
      throw new ChainError('CHAIN_BAD_RESPONSE', method, `${method}: not a JSON-RPC answer (HTTP ${res.status})`, {
        cause: envelope.error,
      });
    }
    const { error, result } = envelope.data;
    if (error) {
      const code = classifyRpcError(error.code, error.message);
      throw new ChainError(code, method, `${method}: ${error.message} (${error.code})`, {
        rpcCode: error.code,
        rpcMessage: error.message,
      });
    }
    if (!res.ok) {
      throw new ChainError('CHAIN_BAD_RESPONSE', method, `${method}: HTTP ${res.status} without an error object`);
    }
    const parsed = schema.safeParse(result ?? null);
    if (!parsed.success) {
      throw new ChainError('CHAIN_BAD_RESPONSE', method, `${method}: unexpected answer: ${parsed.error.message}`, {
        cause: parsed.error,
      });
    }
    return parsed.data;
  }

  /**
   * Calls a safe (read-only) `method` once per entry of `paramsList` in ONE
   * JSON-RPC batch request (an array body, which Bitcoin Core and bcoin
   * accept), validating every result with `schema`. Far fewer round trips
   * than single calls when reading many blocks. Retried as a whole, like a
   * single safe call.
   * @returns the results in `paramsList` order.
   * @throws {ChainError} the first failed call's error (or a transport error);
   *   {TypeError} for a method not in SAFE_METHODS (a batch is never sent twice unless safe).
   */
  async callBatch<S extends z.ZodType>(method: string, paramsList: unknown[][], schema: S): Promise<z.output<S>[]> {
    if (!SAFE_METHODS.has(method)) throw new TypeError(`callBatch is for read-only methods, not ${method}`);
    if (paramsList.length === 0) return [];
    let delay = this.#retryDelayMs;
    for (let attempt = 1; ; attempt++) {
      try {
        const first = nextId;
        nextId += paramsList.length;
        const body = JSON.stringify(paramsList.map((params, i) => ({ jsonrpc: '1.0', id: first + i, method, params })), bigintAsText);
        const { res, json } = await this.#post(method, body);
        if (!Array.isArray(json) || json.length !== paramsList.length) {
          // A node without batch support answers with one error object.
          if (!Array.isArray(json)) this.#result(method, json, z.unknown(), res);
          throw new ChainError('CHAIN_BAD_RESPONSE', method, `${method}: batch answer is not an array of ${paramsList.length}`);
        }
        const byId = new Map<unknown, unknown>(json.map((e: unknown) => [(e as { id?: unknown } | null)?.id, e]));
        return paramsList.map((_p, i) => this.#result(method, byId.get(first + i), schema, res));
      } catch (err) {
        const retryable =
          err instanceof ChainError &&
          (err.code === 'CHAIN_CONNECTION' || err.code === 'CHAIN_TIMEOUT' || err.code === 'CHAIN_WARMING_UP');
        if (!retryable || attempt >= 1 + this.#retries) throw err;
        await sleep(delay);
        delay *= 2;
      }
    }
  }

  /** Hashes of the active chain's blocks at `heights`, in one batch. @throws {ChainError} */
  getBlockHashes(heights: number[]): Promise<string[]> {
    return this.callBatch('getblockhash', heights.map((h) => [h]), hashSchema);
  }

  /** Serialized blocks (verbosity 0), in one batch. @throws {ChainError} CHAIN_NOT_FOUND for an unknown block. */
  getBlocksHex(hashes: string[]): Promise<string[]> {
    return this.callBatch('getblock', hashes.map((h) => [h, 0]), hexSchema);
  }

  /** Blocks with decoded transactions (verbosity 2), in one batch. @throws {ChainError} CHAIN_NOT_FOUND for an unknown block. */
  getBlocksWithTxs(hashes: string[]): Promise<BlockWithTxs[]> {
    return this.callBatch('getblock', hashes.map((h) => [h, 2]), blockWithTxsSchema);
  }

  // --- chain -------------------------------------------------------------

  /** @throws {ChainError} */
  getBlockchainInfo(): Promise<BlockchainInfo> {
    return this.call('getblockchaininfo', [], blockchainInfoSchema);
  }

  /** Height of the active chain's tip. @throws {ChainError} */
  getBlockCount(): Promise<number> {
    return this.call('getblockcount', [], intSchema);
  }

  /** @throws {ChainError} */
  getBestBlockHash(): Promise<string> {
    return this.call('getbestblockhash', [], hashSchema);
  }

  /**
   * Every branch the node knows: the active tip (`status: 'active'`, branchlen 0)
   * and each block without children off the active chain, highest first.
   * @throws {ChainError}
   */
  getChainTips(): Promise<ChainTip[]> {
    return this.call('getchaintips', [], zodArray(chainTipSchema));
  }

  /** Hash of the active chain's block at `height`. @throws {ChainError} (-8 when out of range) */
  getBlockHash(height: number): Promise<string> {
    return this.call('getblockhash', [height], hashSchema);
  }

  /** The serialized block (verbosity 0). @throws {ChainError} CHAIN_NOT_FOUND for an unknown block. */
  getBlockHex(hash: string): Promise<string> {
    return this.call('getblock', [hash, 0], hexSchema);
  }

  /** The block with txids (verbosity 1). @throws {ChainError} CHAIN_NOT_FOUND for an unknown block. */
  getBlock(hash: string): Promise<Block> {
    return this.call('getblock', [hash, 1], blockSchema);
  }

  /** The block with decoded transactions (verbosity 2). @throws {ChainError} CHAIN_NOT_FOUND for an unknown block. */
  getBlockWithTxs(hash: string): Promise<BlockWithTxs> {
    return this.call('getblock', [hash, 2], blockWithTxsSchema);
  }

  /** @throws {ChainError} CHAIN_NOT_FOUND for an unknown block. */
  getBlockHeader(hash: string): Promise<BlockHeader> {
    return this.call('getblockheader', [hash, true], blockHeaderSchema);
  }

  // --- transactions ------------------------------------------------------

  /**
   * The raw transaction hex, from the mempool or (with -txindex) the chain.
   * @throws {ChainError} CHAIN_NOT_FOUND when the node does not know it.
   */
  getRawTransactionHex(txid: string): Promise<string> {
    return this.call('getrawtransaction', [txid, false], hexSchema);
  }

  /**
   * The decoded transaction; `blockhash`/`confirmations` are set once it is mined.
   * @throws {ChainError} CHAIN_NOT_FOUND when the node does not know it.
   */
  getRawTransaction(txid: string): Promise<VerboseTx> {
    return this.call('getrawtransaction', [txid, true], txSchema);
  }

  /**
   * The unspent output `txid:vout`, or null when it is spent or never existed.
   * With `includeMempool` (default), outputs spent in the mempool count as spent
   * and mempool outputs count as unspent.
   * @throws {ChainError}
   */
  getTxOut(txid: string, vout: number, includeMempool = true): Promise<UnspentTxOut | null> {
    return this.call('gettxout', [txid, vout, includeMempool], txOutSchema.nullable());
  }

  /**
   * Would the mempool accept these transactions? Changes nothing.
   * @throws {ChainError}
   */
  testMempoolAccept(rawTxs: string[], options: BroadcastOptions = {}): Promise<MempoolAcceptResult[]> {
    const params: unknown[] = [rawTxs];
    if (options.maxFeeRateSatPerKvB !== undefined) params.push(satsToDecimal(options.maxFeeRateSatPerKvB));
    return this.call('testmempoolaccept', params, zodArray(mempoolAcceptSchema));
  }

  /**
   * Submits a transaction to the mempool and relays it; returns its txid.
   * Never retried. A transaction already in the mempool is not an error.
   * @throws {ChainError} CHAIN_NON_FINAL, CHAIN_NON_BIP68_FINAL, CHAIN_SCRIPT_VERIFY_FAILED,
   *   CHAIN_VERIFY_REJECTED, CHAIN_MISSING_INPUTS, CHAIN_ALREADY_IN_CHAIN, ...
   */
  sendRawTransaction(rawTx: string, options: BroadcastOptions = {}): Promise<string> {
    const params: unknown[] = [rawTx];
    if (options.maxFeeRateSatPerKvB !== undefined) params.push(satsToDecimal(options.maxFeeRateSatPerKvB));
    return this.call('sendrawtransaction', params, hashSchema);
  }

  /** @throws {ChainError} CHAIN_NOT_FOUND when the transaction is not in the mempool. */
  getMempoolEntry(txid: string): Promise<MempoolEntry> {
    return this.call('getmempoolentry', [txid], mempoolEntrySchema);
  }

  /** Txids in the mempool. @throws {ChainError} */
  getRawMempool(): Promise<string[]> {
    return this.call('getrawmempool', [false], zodArray(hashSchema));
  }

  /**
   * Fee rate estimate for confirmation within `confTarget` blocks; on regtest
   * usually none (`feeRateSatPerKvB` undefined, `errors` says why).
   * @throws {ChainError}
   */
  estimateSmartFee(confTarget: number): Promise<SmartFeeEstimate> {
    return this.call('estimatesmartfee', [confTarget], smartFeeSchema);
  }

  /** @throws {ChainError} */
  getNetworkInfo(): Promise<NetworkInfo> {
    return this.call('getnetworkinfo', [], networkInfoSchema);
  }

  /**
   * Scans the UTXO set (confirmed outputs only) for output descriptors such as
   * `addr(bcrt1...)` or `raw(0014...)`.
   * @throws {ChainError}
   */
  scanTxOutSet(descriptors: string[]): Promise<TxOutSetScan> {
    return this.call('scantxoutset', ['start', descriptors], scanTxOutSetSchema);
  }

  // --- mining (regtest) ----------------------------------------------------

  /** Mines `n` blocks paying the coinbase to `address`; returns their hashes. Never retried. @throws {ChainError} */
  generateToAddress(n: number, address: string): Promise<string[]> {
    return this.call('generatetoaddress', [n, address], zodArray(hashSchema));
  }

  /** A BIP 22/23 block template with segwit rules (BIP 145). @throws {ChainError} */
  getBlockTemplate(): Promise<BlockTemplate> {
    return this.call('getblocktemplate', [{ rules: ['segwit'] }], blockTemplateSchema);
  }

  /**
   * Submits a serialized block. Never retried.
   * @returns 'accepted' (null answer), 'duplicate' or 'inconclusive' (valid so far,
   *   e.g. stored on a side branch).
   * @throws {ChainError} CHAIN_BLOCK_REJECTED with the BIP 22 reason in `rpcMessage`.
   */
  async submitBlock(blockHex: string): Promise<SubmitBlockResult> {
    const answer = await this.call('submitblock', [blockHex], z.string().nullable());
    if (answer === null) return 'accepted';
    if (answer === 'duplicate' || answer === 'inconclusive') return answer;
    throw new ChainError('CHAIN_BLOCK_REJECTED', 'submitblock', `submitblock: block rejected: ${answer}`, {
      rpcMessage: answer,
    });
  }

  /** Marks a block invalid, disconnecting it and its descendants. Never retried. @throws {ChainError} */
  async invalidateBlock(hash: string): Promise<void> {
    await this.call('invalidateblock', [hash], z.unknown());
  }

  /** Removes invalidity from a block and reactivates the most-work chain. Never retried. @throws {ChainError} */
  async reconsiderBlock(hash: string): Promise<void> {
    await this.call('reconsiderblock', [hash], z.unknown());
  }
}

function zodArray<S extends z.ZodType>(item: S): z.ZodArray<S> {
  return z.array(item);
}
