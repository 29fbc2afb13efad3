/**
 * A bcoin plugin that makes bcoin@1.0.2's regtest behave like Bitcoin Core's
 * regtest (Core >= 25) for everything hashdlc uses, so the chain layer can talk
 * to either node through the same JSON-RPC calls.
 *
 * What it changes (see ../../shared/docs/REGTEST-NODE.md for what stock bcoin does):
 * - network: Core's regtest address prefixes (`bcrt` bech32 HRP, base58 0x6f/0xc4,
 *   WIF 0xef, tpub/tprv); BIP 34/65/66 from height 1 and CSV + segwit active from
 *   genesis (Core's regtest consensus params), applied before the chain opens;
 * - mempool: standardness on, RBF-signalling transactions accepted (Core's
 *   default) and replaced by sendrawtransaction under BIP125's rules, Core's 0.10 BTC/kvB max fee rate and 1 sat/vB min relay fee, and
 *   transactions of disconnected blocks always returned to the mempool (bcoin
 *   skipped that when the mempool was empty);
 * - RPC: `sendrawtransaction` awaits the mempool and fails with Core's codes
 *   and reject reasons (-26 non-final / non-BIP68-final / script failures,
 *   -25 missing inputs, -27 already in chain); `testmempoolaccept`;
 *   `getblock` verbosity 0/1/2, `getblockheader`, `getrawtransaction`
 *   (confirmed too), `gettxout`, `getmempoolentry` in Core's shape;
 *   `estimatesmartfee`, `getnetworkinfo` with an integer `version`;
 *   `scantxoutset` for `addr(...)`/`raw(...)` descriptors; `submitblock` with
 *   BIP 22 answers; `invalidateblock`/`reconsiderblock`/`getchaintips` with
 *   Core's chain selection (most work, ties to the block received first; see
 *   bestchain.ts), and `getblockheader`/`getblock` of an invalidated block
 *   (`confirmations: -1`).
 *
 * What it does NOT do: taproot/bech32m validation (bcoin 1.0.2 predates BIP
 * 341), package relay, full RBF replacement, Core's exact `asm` strings,
 * `preciousblock`, or any wallet RPC. `testmempoolaccept` takes one
 * transaction at a time (as Core did before 0.21 allowed packages).
 */
import { address as btcAddress, networks } from 'bitcoinjs-lib';
import type {
  BcoinBlock,
  BcoinChainEntry,
  BcoinFullNode,
  BcoinInternals,
  BcoinModule,
  BcoinPlugin,
  BcoinMempool,
  BcoinMempoolEntry,
  BcoinTX,
  RpcHandler,
} from './bcoin.js';
import { bestChain } from './bestchain.js';
import { blockJson, btc, headerJson, revHex, scriptPubKeyJson, txJson } from './corejson.js';
import type { HeaderContext } from './corejson.js';

/** The Core RPC API level this plugin emulates, reported by getnetworkinfo. */
export const EMULATED_CORE_VERSION = 250000;

/** Core's default -maxfeerate of sendrawtransaction / testmempoolaccept: 0.10 BTC/kvB. */
const DEFAULT_MAX_FEE_RATE_SAT_PER_KVB = 10_000_000;

// Core's RPC error codes (src/rpc/protocol.h).
const RPC_MISC_ERROR = -1;
const RPC_TYPE_ERROR = -3;
const RPC_INVALID_ADDRESS_OR_KEY = -5;
const RPC_INVALID_PARAMETER = -8;
const RPC_DESERIALIZATION_ERROR = -22;
const RPC_TRANSACTION_ERROR = -25;
const RPC_TRANSACTION_REJECTED = -26;
const RPC_TRANSACTION_ALREADY_IN_CHAIN = -27;

/** An RPC error bcoin's RPC server reports with our code (it reads `type` and `code`). */
class CoreRpcError extends Error {
  readonly type = 'RPCError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Core's ScriptErrorString texts (script/script_error.cpp) for bcoin's ScriptError codes. */
const SCRIPT_ERROR_TEXT: Record<string, string> = {
  EVAL_FALSE: 'Script evaluated without error but finished with a false/empty top stack element',
  VERIFY: 'Script failed an OP_VERIFY operation',
  EQUALVERIFY: 'Script failed an OP_EQUALVERIFY operation',
  CHECKMULTISIGVERIFY: 'Script failed an OP_CHECKMULTISIGVERIFY operation',
  CHECKSIGVERIFY: 'Script failed an OP_CHECKSIGVERIFY operation',
  NUMEQUALVERIFY: 'Script failed an OP_NUMEQUALVERIFY operation',
  INVALID_STACK_OPERATION: 'Operation not valid with the current stack size',
  NEGATIVE_LOCKTIME: 'Negative locktime',
  UNSATISFIED_LOCKTIME: 'Locktime requirement not satisfied',
  SIG_HASHTYPE: 'Signature hash type missing or not understood',
  SIG_DER: 'Non-canonical DER signature',
  SIG_HIGH_S: 'Non-canonical signature: S value is unnecessarily high',
  SIG_NULLDUMMY: 'Dummy CHECKMULTISIG argument must be zero',
  NULLFAIL: 'Signature must be zero for failed CHECK(MULTI)SIG operation',
  CLEANSTACK: 'Stack size must be exactly one after execution',
  MINIMALIF: 'OP_IF/NOTIF argument must be minimal',
  SIG_PUSHONLY: 'Only push operators allowed in signatures',
  PUSH_SIZE: 'Push value size limit exceeded',
  PUBKEYTYPE: 'Public key is neither compressed or uncompressed',
  WITNESS_PROGRAM_WRONG_LENGTH: 'Witness program has incorrect length',
  WITNESS_PROGRAM_WITNESS_EMPTY: 'Witness program was passed an empty witness',
  WITNESS_PROGRAM_MISMATCH: 'Witness program hash mismatch',
  WITNESS_MALLEATED: 'Witness requires empty scriptSig',
  WITNESS_UNEXPECTED: 'Witness provided for non-witness script',
  WITNESS_PUBKEYTYPE: 'Using non-compressed keys in segwit',
};

/** bcoin reject reasons renamed to Core's (validation.cpp / policy). */
const REASON_TO_CORE: Record<string, string> = {
  'bad-txns-inputs-spent': 'txn-mempool-conflict',
};

/** A mempool verdict, shared by sendrawtransaction and testmempoolaccept. */
type Verdict =
  | { allowed: true; feeSats: number; vsize: number }
  | { allowed: false; reason: string; rpcCode: number; rpcMessage: string };

function reject(reason: string, rpcCode = RPC_TRANSACTION_REJECTED, rpcMessage = reason): Verdict {
  return { allowed: false, reason, rpcCode, rpcMessage };
}

function isVerifyError(err: unknown): err is { type: 'VerifyError'; reason: string } {
  return typeof err === 'object' && err !== null && (err as { type?: unknown }).type === 'VerifyError';
}

function param(args: unknown[], i: number): unknown {
  return args[i];
}

function hexParam(args: unknown[], i: number, what: string): Buffer {
  const v = param(args, i);
  if (typeof v !== 'string' || !/^(?:[0-9a-fA-F]{2})*$/.test(v)) {
    throw new CoreRpcError(RPC_DESERIALIZATION_ERROR, `${what} decode failed`);
  }
  return Buffer.from(v, 'hex');
}

function hashParam(args: unknown[], i: number, name: string): string {
  const v = param(args, i);
  if (typeof v !== 'string' || !/^[0-9a-fA-F]{64}$/.test(v)) {
    throw new CoreRpcError(RPC_INVALID_PARAMETER, `${name} must be of length 64 (not ${String(v).length}, for '${String(v)}')`);
  }
  return revHex(v.toLowerCase());
}

/** BTC/kvB (number or decimal string) → sat/kvB; `undefined` → Core's default. */
function feeRateParam(v: unknown): number {
  if (v === undefined || v === null) return DEFAULT_MAX_FEE_RATE_SAT_PER_KVB;
  const text = typeof v === 'number' ? v.toFixed(8) : typeof v === 'string' ? v : '';
  if (!/^\d+(\.\d{1,8})?$/.test(text)) throw new CoreRpcError(RPC_TYPE_ERROR, 'Invalid amount');
  const [whole = '0', frac = ''] = text.split('.');
  return Number(whole) * 1e8 + Number(frac.padEnd(8, '0'));
}

/** Builds the plugin for one bcoin module instance. */
export function coreCompatPlugin(bcoin: BcoinModule, internals: BcoinInternals): BcoinPlugin {
  return {
    id: 'hashdlc-core-compat',
    init(node: BcoinFullNode) {
      applyCoreRegtestParams(node, internals);
      installRpc(node, bcoin, internals);
      return { open: async () => {}, close: async () => {} };
    },
  };
}

/** Core's regtest (chainparams.cpp CRegTestParams) applied to bcoin's regtest Network, chain and mempool. */
function applyCoreRegtestParams(node: BcoinFullNode, internals: BcoinInternals): void {
  const network = node.network;
  if (network.type !== 'regtest') throw new Error('the Core compatibility plugin is for regtest only');
  network.addressPrefix = {
    pubkeyhash: 0x6f,
    scripthash: 0xc4,
    // bcoin-only base58 witness prefixes (no Core equivalent), as bcoin's testnet.
    witnesspubkeyhash: 0x03,
    witnessscripthash: 0x28,
    bech32: 'bcrt',
  };
  network.keyPrefix = {
    privkey: 0xef,
    xpubkey: 0x043587cf,
    xprivkey: 0x04358394,
    xpubkey58: 'tpub',
    xprivkey58: 'tprv',
    coinType: 1,
  };
  // Core regtest: BIP34Height = 1, BIP65Height = 1, BIP66Height = 1.
  network.block.bip34height = 1;
  network.block.bip65height = 1;
  network.block.bip66height = 1;
  network.requireStandard = true;

  // Core regtest: CSVHeight = 1, SegwitHeight = 0 (buried deployments, BIP 90).
  // bcoin only knows BIP 9 signalling, so its state machine is short-circuited
  // for these two deployments before the chain opens.
  const buried = new Set(['csv', 'segwit']);
  const chain = node.chain;
  const getState = chain.getState.bind(chain);
  chain.getState = async (prev, deployment) =>
    buried.has(deployment.name) ? internals.thresholdStates.ACTIVE : getState(prev, deployment);

  const mempool = node.mempool;
  Object.assign(mempool.options, {
    requireStandard: true,
    replaceByFee: true, // accept BIP 125 signalling, as Core does
    rejectAbsurdFees: false, // our max fee rate check below, with Core's default
    limitFree: false,
    relayPriority: false,
  });

  // Core returns transactions of disconnected blocks to the mempool
  // (validation.cpp MaybeUpdateMempoolForReorg); bcoin skipped it whenever the
  // mempool was empty.
  mempool._removeBlock = async (block: BcoinBlock, txs: BcoinTX[]) => {
    for (const tx of txs.slice(1)) {
      if (mempool.hasEntry(tx.hash('hex'))) continue;
      try {
        await mempool.insertTX(tx, -1);
      } catch {
        // Not valid any more (e.g. spends a coinbase now immature): dropped, as in Core.
      }
    }
    mempool.rejects.reset();
    mempool.cache.sync(block.prevBlock);
    await mempool.cache.flush();
    mempool.tip = block.prevBlock;
  };
}

function installRpc(node: BcoinFullNode, bcoin: BcoinModule, internals: BcoinInternals): void {
  const { chain, mempool } = node;
  const calls = node.rpc.calls;
  const best = bestChain(chain);

  const add = (name: string, fn: RpcHandler): void => {
    calls[name] = fn;
  };

  const decodeTx = (args: unknown[], i: number): BcoinTX => {
    const raw = hexParam(args, i, 'TX');
    try {
      return bcoin.TX.fromRaw(raw);
    } catch {
      throw new CoreRpcError(RPC_DESERIALIZATION_ERROR, 'TX decode failed. Make sure the tx has at least one input.');
    }
  };

  const headerContext = async (entry: BcoinChainEntry): Promise<HeaderContext> => {
    const main = !best.isKept(entry.hash) && (await chain.isMainChain(entry));
    const next = main ? await chain.getNextHash(entry.hash) : null;
    return {
      confirmations: main ? chain.height - entry.height + 1 : -1,
      mediantime: await best.medianTime(entry),
      nextblockhash: next ? revHex(next) : null,
    };
  };

  const entryOrThrow = async (hash: string): Promise<BcoinChainEntry> => {
    // Core keeps invalidated blocks: they are still found.
    const entry = await best.entry(hash);
    if (!entry) throw new CoreRpcError(RPC_INVALID_ADDRESS_OR_KEY, 'Block not found');
    return entry;
  };

  /** The failing input's script error, in Core's words. */
  const scriptFailure = async (tx: BcoinTX, mandatoryOnly: boolean): Promise<string> => {
    const view = await mempool.getCoinView(tx);
    const flags = mandatoryOnly ? bcoin.Script.flags.MANDATORY_VERIFY_FLAGS! : bcoin.Script.flags.STANDARD_VERIFY_FLAGS!;
    for (let i = 0; i < tx.inputs.length; i++) {
      const input = tx.inputs[i]!;
      const coin = view.getOutputFor(input);
      if (!coin) continue;
      try {
        bcoin.Script.verify(input.script, input.witness, coin.script, tx, i, coin.value, flags);
      } catch (err) {
        const code = (err as { code?: string }).code ?? '';
        return SCRIPT_ERROR_TEXT[code] ?? (err as Error).message;
      }
    }
    return 'unknown error';
  };

  /** Core's reject reason for a bcoin VerifyError. */
  const coreReason = async (tx: BcoinTX, reason: string): Promise<string> => {
    if (reason === 'mandatory-script-verify-flag') {
      return `mandatory-script-verify-flag-failed (${await scriptFailure(tx, true)})`;
    }
    if (reason === 'non-mandatory-script-verify-flag') {
      return `non-mandatory-script-verify-flag (${await scriptFailure(tx, false)})`;
    }
    return REASON_TO_CORE[reason] ?? reason;
  };

  /**
   * Everything bcoin's mempool.insertTX checks, in Core's order, without adding
   * the transaction (validation.cpp MemPoolAccept::PreChecks / PolicyScriptChecks).
   */
  const evaluate = async (tx: BcoinTX, maxFeeRate: number): Promise<Verdict> => {
    const hash = tx.hash('hex');
    const [sane, saneReason] = tx.checkSanity();
    if (!sane) return reject(saneReason);
    if (tx.isCoinbase()) return reject('coinbase');
    const [standard, stdReason] = tx.checkStandard();
    if (!standard) return reject(stdReason);
    if (!(await mempool.verifyFinal(tx, internals.lockFlags.STANDARD_LOCKTIME_FLAGS))) return reject('non-final');
    if (mempool.exists(hash)) return reject('txn-already-in-mempool');
    if (await chain.hasCoins(tx)) {
      return reject('txn-already-known', RPC_TRANSACTION_ALREADY_IN_CHAIN, 'Transaction already in block chain');
    }
    if (mempool.isDoubleSpend(tx)) return reject('txn-mempool-conflict');
    const view = await mempool.getCoinView(tx);
    if (tx.inputs.some((input) => !view.hasEntry(input.prevout))) {
      return reject('missing-inputs', RPC_TRANSACTION_ERROR, 'bad-txns-inputs-missingorspent');
    }
    const [fee, feeReason] = tx.checkInputs(view, chain.height + 1);
    if (fee === -1) return reject(feeReason);
    const vsize = tx.getVirtualSize();
    // Core: -minrelaytxfee (1000 sat/kvB) applied to the virtual size.
    const minFee = Math.ceil((mempool.options.minRelay * vsize) / 1000);
    if (fee < minFee) return reject(`min relay fee not met, ${fee} < ${minFee}`);
    if (maxFeeRate > 0 && fee > Math.ceil((maxFeeRate * vsize) / 1000)) {
      return reject('max-fee-exceeded', RPC_TRANSACTION_ERROR, 'Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)');
    }
    const entry = bcoin.MempoolEntry.fromTX(tx, view, chain.height);
    try {
      await mempool.verify(entry, view);
    } catch (err) {
      if (!isVerifyError(err)) throw err;
      return reject(await coreReason(tx, err.reason));
    }
    return { allowed: true, feeSats: fee, vsize };
  };

  add('sendrawtransaction', async (args) => {
    const tx = decodeTx(args, 0);
    const hash = tx.hash('hex');
    // Core's BroadcastTransaction: an unspent output already in the UTXO set means "in chain".
    if (await chain.hasCoins(tx)) {
      throw new CoreRpcError(RPC_TRANSACTION_ALREADY_IN_CHAIN, 'Transaction already in block chain');
    }
    if (mempool.exists(hash)) return tx.txid();
    const replaced = await replaceSignalledConflicts(mempool, tx);
    const verdict = await evaluate(tx, feeRateParam(param(args, 1)));
    if (!verdict.allowed) {
      await replaced.restore();
      throw new CoreRpcError(verdict.rpcCode, verdict.rpcMessage);
    }
    let missing: string[] | null;
    try {
      missing = await mempool.addTX(tx);
    } catch (err) {
      if (!isVerifyError(err)) throw err;
      throw new CoreRpcError(RPC_TRANSACTION_REJECTED, await coreReason(tx, err.reason));
    }
    if (missing) {
      mempool.removeOrphan(hash);
      throw new CoreRpcError(RPC_TRANSACTION_ERROR, 'bad-txns-inputs-missingorspent');
    }
    return tx.txid();
  });

  add('testmempoolaccept', async (args) => {
    const rawtxs = param(args, 0);
    if (!Array.isArray(rawtxs)) throw new CoreRpcError(RPC_TYPE_ERROR, 'Expected type array');
    if (rawtxs.length !== 1) {
      throw new CoreRpcError(RPC_INVALID_PARAMETER, 'Array must contain exactly one raw transaction for now');
    }
    const tx = decodeTx(rawtxs, 0);
    const verdict = await evaluate(tx, feeRateParam(param(args, 1)));
    const base = { txid: tx.txid(), wtxid: tx.wtxid() };
    if (!verdict.allowed) return [{ ...base, allowed: false, 'reject-reason': verdict.reason }];
    return [
      {
        ...base,
        allowed: true,
        vsize: verdict.vsize,
        fees: {
          base: btc(verdict.feeSats),
          'effective-feerate': btc(Math.floor((verdict.feeSats * 1000) / verdict.vsize)),
          'effective-includes': [tx.wtxid()],
        },
      },
    ];
  });

  add('getblock', async (args) => {
    const hash = hashParam(args, 0, 'blockhash');
    const v = param(args, 1);
    const verbosity = v === undefined || v === true ? 1 : v === false ? 0 : v;
    if (verbosity !== 0 && verbosity !== 1 && verbosity !== 2) {
      throw new CoreRpcError(RPC_INVALID_PARAMETER, 'Verbosity must be in range 0..2');
    }
    const entry = await entryOrThrow(hash);
    const block = await best.block(entry.hash);
    if (!block) throw new CoreRpcError(RPC_MISC_ERROR, 'Block not available');
    if (verbosity === 0) return block.toRaw().toString('hex');
    return blockJson(entry, block, await headerContext(entry), verbosity);
  });

  add('getblockheader', async (args) => {
    const hash = hashParam(args, 0, 'hash');
    const verbose = param(args, 1) ?? true;
    const entry = await entryOrThrow(hash);
    const block = await best.block(entry.hash);
    if (!verbose) {
      if (!block) throw new CoreRpcError(RPC_MISC_ERROR, 'Block not available');
      return block.toRaw().subarray(0, 80).toString('hex');
    }
    return headerJson(entry, await headerContext(entry), block?.txs.length);
  });

  add('getrawtransaction', async (args) => {
    const hash = hashParam(args, 0, 'txid');
    const v = param(args, 1);
    const verbose = v === true || (typeof v === 'number' && v > 0);
    const meta = (await (async () => {
      const entry = mempool.getEntry(hash);
      if (entry) return { tx: entry.tx, block: null as string | null };
      return chain.getMeta(hash);
    })()) as { tx: BcoinTX; block: string | null } | null;
    if (!meta) {
      throw new CoreRpcError(
        RPC_INVALID_ADDRESS_OR_KEY,
        'No such mempool or blockchain transaction. Use gettransaction for wallet transactions.',
      );
    }
    if (!verbose) return meta.tx.toRaw().toString('hex');
    if (!meta.block) return txJson(meta.tx);
    const entry = await chain.getEntry(meta.block);
    if (!entry) return txJson(meta.tx);
    const main = await chain.isMainChain(entry);
    return txJson(meta.tx, {
      blockhash: entry.rhash(),
      confirmations: main ? chain.height - entry.height + 1 : 0,
      time: entry.time,
    });
  });

  add('gettxout', async (args) => {
    const hash = hashParam(args, 0, 'txid');
    const index = param(args, 1);
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) {
      throw new CoreRpcError(RPC_INVALID_PARAMETER, 'Invalid vout');
    }
    const includeMempool = param(args, 2) ?? true;
    let coin = null;
    if (includeMempool) {
      // Core: with the mempool, an output spent by a mempool transaction is gone.
      if (mempool.isSpent(hash, index)) return null;
      coin = mempool.getCoin(hash, index);
    }
    const fromMempool = coin !== null;
    coin ??= await chain.getCoin(hash, index);
    if (!coin) return null;
    return {
      bestblock: chain.tip.rhash(),
      confirmations: fromMempool ? 0 : chain.height - coin.height + 1,
      value: btc(coin.value),
      scriptPubKey: scriptPubKeyJson(coin.script),
      coinbase: coin.coinbase,
    };
  });

  add('getmempoolentry', async (args) => {
    const hash = hashParam(args, 0, 'txid');
    const entry = mempool.getEntry(hash);
    if (!entry) throw new CoreRpcError(RPC_INVALID_ADDRESS_OR_KEY, 'Transaction not in mempool');
    return {
      vsize: entry.tx.getVirtualSize(),
      weight: entry.tx.getWeight(),
      time: entry.time,
      height: entry.height,
      fees: { base: btc(entry.fee), modified: btc(entry.fee) },
      depends: mempool.getDepends(entry.tx).map(revHex),
    };
  });

  add('estimatesmartfee', async (args) => {
    const target = param(args, 0);
    if (typeof target !== 'number' || !Number.isInteger(target) || target < 1) {
      throw new CoreRpcError(RPC_INVALID_PARAMETER, 'Invalid conf_target');
    }
    // Like a fresh Core regtest node: no fee data yet.
    return { errors: ['Insufficient data or no feerate found'], blocks: Math.min(Math.max(target, 2), 1008) };
  });

  const getNetworkInfo = calls['getnetworkinfo'];
  add('getnetworkinfo', async (args, help) => {
    const info = (getNetworkInfo ? await getNetworkInfo.call(node.rpc, args, help) : {}) as Record<string, unknown>;
    return {
      ...info,
      version: EMULATED_CORE_VERSION,
      subversion: `/bcoin:1.0.2/hashdlc-core-compat:${EMULATED_CORE_VERSION}/`,
      protocolversion: 70015,
      relayfee: btc(mempool.options.minRelay),
      incrementalfee: btc(1000),
    };
  });

  add('scantxoutset', async (args) => {
    const action = param(args, 0);
    if (action !== 'start') {
      if (action === 'status' || action === 'abort') return action === 'abort' ? false : null;
      throw new CoreRpcError(RPC_INVALID_PARAMETER, 'Invalid action');
    }
    const descriptors = param(args, 1);
    if (!Array.isArray(descriptors)) throw new CoreRpcError(RPC_INVALID_PARAMETER, 'scanobjects argument is required');
    const unspents: Record<string, unknown>[] = [];
    let total = 0;
    for (const desc of descriptors) {
      const text = typeof desc === 'string' ? desc : (desc as { desc?: unknown })?.desc;
      if (typeof text !== 'string') throw new CoreRpcError(RPC_INVALID_PARAMETER, 'Scan object needs to be a string');
      const m = /^(addr|raw)\(([^)]+)\)(#[0-9a-z]{8})?$/.exec(text);
      if (!m) throw new CoreRpcError(RPC_INVALID_ADDRESS_OR_KEY, `only addr() and raw() descriptors are supported: ${text}`);
      let script: Buffer;
      try {
        script = m[1] === 'addr' ? Buffer.from(btcAddress.toOutputScript(m[2]!, networks.regtest)) : Buffer.from(m[2]!, 'hex');
      } catch {
        throw new CoreRpcError(RPC_INVALID_ADDRESS_OR_KEY, `Invalid descriptor: ${text}`);
      }
      const addr = bcoin.Address.fromScript(bcoin.Script.fromRaw(script));
      if (!addr) throw new CoreRpcError(RPC_INVALID_ADDRESS_OR_KEY, `script has no address index entry: ${text}`);
      // Confirmed outputs only, as Core scans the chainstate's UTXO set.
      for (const coin of await chain.getCoinsByAddress([addr])) {
        unspents.push({
          txid: revHex(coin.hash),
          vout: coin.index,
          scriptPubKey: coin.script.toRaw().toString('hex'),
          desc: text.replace(/#.*$/, ''),
          amount: btc(coin.value),
          coinbase: coin.coinbase,
          height: coin.height,
        });
        total += coin.value;
      }
    }
    return {
      success: true,
      txouts: unspents.length,
      height: chain.height,
      bestblock: chain.tip.rhash(),
      unspents,
      total_amount: btc(total),
    };
  });

  add('submitblock', async (args) => {
    const raw = hexParam(args, 0, 'Block');
    let block: BcoinBlock;
    try {
      block = bcoin.Block.fromRaw(raw);
    } catch {
      throw new CoreRpcError(RPC_DESERIALIZATION_ERROR, 'Block decode failed');
    }
    const hash = block.hash('hex');
    if (chain.invalid.has(hash)) return 'duplicate-invalid';
    if (best.isKept(hash)) return (await best.isInvalid(hash)) ? 'duplicate-invalid' : 'duplicate';
    if (await chain.getEntry(hash)) return 'duplicate';
    // A child of an invalidated block (Core AcceptBlockHeader: BLOCK_FAILED_MASK on the parent).
    if (await best.isInvalid(block.prevBlock)) return 'bad-prevblk';
    if (!(await chain.getEntry(block.prevBlock))) return 'prev-blk-not-found';
    let entry: BcoinChainEntry | null;
    try {
      entry = await chain.add(block);
    } catch (err) {
      if (isVerifyError(err)) return err.reason;
      throw err;
    }
    if (!entry) return 'prev-blk-not-found';
    // Core answers "inconclusive" for a valid block left on a side branch.
    return (await chain.isMainChain(entry)) ? null : 'inconclusive';
  });

  // bcoin's chain reset empties the mempool ...or should: the chain's 'reset'
  // event stops at the P2P pool's listener (Pool.forceSync asserts a
  // connection this node never has), so the mempool's own listener never runs,
  // its tip stays on a disconnected block, and the miner then refuses to build
  // ("Mempool/chain tip mismatch").
  const resyncMempool = async (): Promise<void> => {
    if (mempool.tip !== chain.tip.hash) await mempool.reset();
  };

  /** Core's MaybeUpdateMempoolForReorg: the disconnected blocks' transactions, then the rest, back where still valid. */
  const afterActivation = async (pending: BcoinTX[], disconnected: BcoinBlock[]): Promise<void> => {
    for (const tx of [...disconnected.flatMap((b) => b.txs.slice(1)), ...pending]) {
      if (mempool.hasEntry(tx.hash('hex'))) continue;
      try {
        await mempool.addTX(tx);
      } catch {
        // No longer valid on the new tip (or confirmed in it): dropped, as Core does.
      }
    }
  };

  const pendingTxs = (): BcoinTX[] => [...mempool.map.values()].map((entry) => entry.tx);

  add('invalidateblock', async (args) => {
    const hash = hashParam(args, 0, 'blockhash');
    const target = await entryOrThrow(hash);
    if (target.height === 0) throw new CoreRpcError(RPC_MISC_ERROR, 'cannot invalidate the genesis block');
    const pending = pendingTxs();
    const { disconnected } = await best.invalidate(hash, resyncMempool);
    await afterActivation(pending, disconnected);
    return null;
  });

  add('reconsiderblock', async (args) => {
    const hash = hashParam(args, 0, 'blockhash');
    await entryOrThrow(hash);
    const pending = pendingTxs();
    const { disconnected } = await best.reconsider(hash, resyncMempool);
    await afterActivation(pending, disconnected);
    return null;
  });

  add('getchaintips', async () => best.chainTips());
}

// ------------------------------------------------------------------ BIP125 replacement
//
// bcoin 1.0.2 accepts BIP125-signalling transactions (`replaceByFee: true`) but never
// replaces one: a conflicting transaction is refused as a double spend. Core does
// replace (validation.cpp MemPoolAccept::ReplacementChecks, policy/rbf.cpp), and
// `hashdlc cancel` relies on it to take back funding inputs from a funding
// transaction broadcast after its deadline. sendrawtransaction applies the rules
// below, evicts the conflicts and their descendants, then runs its usual checks
// (and puts the evicted transactions back if those fail).

/** Most transactions one replacement may evict (BIP125 rule 5). */
const MAX_REPLACEMENT_EVICTIONS = 100;

/** BIP125 rule 1 signal: an input with nSequence below 0xfffffffe (bcoin's isRBF() ignores version-2 transactions). */
function signalsReplaceability(tx: BcoinTX): boolean {
  return tx.inputs.some((input) => input.sequence < 0xfffffffe);
}

/** The entries spending `entry`'s outputs, recursively (its descendants in the mempool). */
function descendantsOf(mempool: BcoinMempool, entry: BcoinMempoolEntry, into: Map<string, BcoinMempoolEntry>): void {
  const hash = entry.tx.hash('hex');
  for (let i = 0; i < entry.tx.outputs.length; i++) {
    const spender = mempool.getSpent(hash, i);
    if (spender === undefined || into.has(spender.tx.hash('hex'))) continue;
    into.set(spender.tx.hash('hex'), spender);
    descendantsOf(mempool, spender, into);
  }
}

/**
 * Evicts the mempool transactions `tx` conflicts with when BIP125 allows the
 * replacement; a transaction without conflicts is left to the usual checks.
 * @returns `restore()`, which re-adds the evicted transactions (when `tx` is refused afterwards).
 * @throws {CoreRpcError} -26 `txn-mempool-conflict` when a rule forbids the replacement.
 */
async function replaceSignalledConflicts(mempool: BcoinMempool, tx: BcoinTX): Promise<{ restore(): Promise<void> }> {
  const conflicts = new Map<string, BcoinMempoolEntry>();
  for (const input of tx.inputs) {
    const spender = mempool.getSpent(input.prevout.hash, input.prevout.index);
    if (spender !== undefined) conflicts.set(spender.tx.hash('hex'), spender);
  }
  const none = { restore: async () => undefined };
  if (conflicts.size === 0) return none;
  const refuse = (why: string): CoreRpcError => new CoreRpcError(RPC_TRANSACTION_REJECTED, `txn-mempool-conflict (${why})`);
  // Rule 1: every directly conflicting transaction signals replaceability.
  for (const c of conflicts.values()) if (!signalsReplaceability(c.tx)) throw refuse('replaced transaction does not signal BIP125');
  // Rule 2: no new unconfirmed inputs.
  if (tx.inputs.some((input) => mempool.hasEntry(input.prevout.hash))) throw refuse('replacement-adds-unconfirmed');
  const evicted = new Map(conflicts);
  for (const c of conflicts.values()) descendantsOf(mempool, c, evicted);
  // Rule 5: a bounded number of evictions.
  if (evicted.size > MAX_REPLACEMENT_EVICTIONS) throw refuse('too many potential replacements');
  const view = await mempool.getCoinView(tx);
  let inputs = 0;
  for (const input of tx.inputs) {
    const coin = view.getOutputFor(input);
    if (coin === null) return none; // missing inputs: the usual checks say so
    inputs += coin.value;
  }
  const fee = inputs - tx.outputs.reduce((s, o) => s + o.value, 0);
  const vsize = tx.getVirtualSize();
  const oldFees = [...evicted.values()].reduce((s, e) => s + e.fee, 0);
  // Rule 6 (Core's feerate rule): a higher fee rate than every transaction it directly replaces.
  for (const c of conflicts.values()) if (fee * c.size <= c.fee * vsize) throw refuse('insufficient fee rate');
  // Rule 3: at least the absolute fees of everything evicted.
  if (fee < oldFees) throw refuse(`insufficient fee, ${fee} < ${oldFees}`);
  // Rule 4: pays for its own relay at the minimum relay fee rate on top.
  if (fee - oldFees < Math.ceil((mempool.options.minRelay * vsize) / 1000)) throw refuse('insufficient fee for relay');
  const txs = [...conflicts.values()].map((e) => e.tx);
  for (const c of conflicts.values()) mempool.evictEntry(c);
  return {
    async restore() {
      for (const old of txs) await mempool.addTX(old).catch(() => undefined);
    },
  };
}
