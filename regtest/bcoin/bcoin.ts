/**
 * Loads bcoin@1.0.2 (CommonJS, untyped) and declares the small part of its API
 * that our compatibility plugin and child entry use. The declarations describe
 * bcoin 1.0.2's lib/ as read from node_modules; they are not bcoin's own types.
 *
 * Hashes: bcoin 1.0.2 passes hashes as hex strings in internal byte order;
 * `rhash()`/`txid()` give the reversed (display) form that RPC uses.
 *
 * This module does NOT start a node; it must only be imported in the bcoin
 * child process (bcoin reads NODE_BACKEND when first loaded).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface BcoinScript {
  toRaw(): Buffer;
  toASM(): string;
  isMultisig(): boolean;
}

export interface BcoinInput {
  prevout: { hash: string; index: number; txid(): string };
  script: BcoinScript;
  witness: { items: Buffer[] };
  sequence: number;
}

export interface BcoinOutput {
  value: number;
  script: BcoinScript;
}

export interface BcoinTX {
  version: number;
  locktime: number;
  inputs: BcoinInput[];
  outputs: BcoinOutput[];
  hash(enc: 'hex'): string;
  txid(): string;
  wtxid(): string;
  toRaw(): Buffer;
  getSize(): number;
  getVirtualSize(): number;
  getWeight(): number;
  isCoinbase(): boolean;
  hasWitness(): boolean;
  checkSanity(): [boolean, string, number];
  checkStandard(): [boolean, string, number];
  checkInputs(view: BcoinCoinView, height: number): [number, string, number];
}

export interface BcoinBlock {
  version: number;
  prevBlock: string;
  merkleRoot: string;
  time: number;
  bits: number;
  nonce: number;
  txs: BcoinTX[];
  hash(enc: 'hex'): string;
  rhash(): string;
  toRaw(): Buffer;
  getBaseSize(): number;
  getSize(): number;
  getWeight(): number;
}

export interface BcoinChainEntry {
  hash: string;
  height: number;
  version: number;
  prevBlock: string;
  merkleRoot: string;
  time: number;
  bits: number;
  nonce: number;
  chainwork: { toString(base: 'hex', len: number): string; cmp(other: BcoinChainEntry['chainwork']): number };
  rhash(): string;
}

export interface BcoinCoinView {
  getOutputFor(input: BcoinInput): BcoinOutput | null;
  hasEntry(prevout: BcoinInput['prevout']): boolean;
}

export interface BcoinCoin {
  value: number;
  script: BcoinScript;
  height: number;
  coinbase: boolean;
  hash: string;
  index: number;
  getDepth(height: number): number;
}

export interface BcoinDeployment {
  name: string;
  bit: number;
}

export interface BcoinChain {
  tip: BcoinChainEntry;
  height: number;
  invalid: { has(hash: string): boolean };
  /** Tips of every branch bcoin stores (the active one included). */
  db: { getTips(): Promise<string[]> };
  on(event: string, handler: (...args: unknown[]) => void): void;
  /** Resets the active chain to `hash` (an active block), deleting the blocks above it and every side branch. */
  reset(hash: string): Promise<void>;
  getState(prev: BcoinChainEntry, deployment: BcoinDeployment): Promise<number>;
  getEntry(hashOrHeight: string | number): Promise<BcoinChainEntry | null>;
  getPrevious(entry: BcoinChainEntry): Promise<BcoinChainEntry | null>;
  getBlock(hash: string): Promise<BcoinBlock | null>;
  getNextHash(hash: string): Promise<string | null>;
  getMedianTime(entry: BcoinChainEntry): Promise<number>;
  isMainChain(entry: BcoinChainEntry): Promise<boolean>;
  hasCoins(tx: BcoinTX): Promise<boolean>;
  getCoin(hash: string, index: number): Promise<BcoinCoin | null>;
  getCoinsByAddress(addrs: unknown[]): Promise<BcoinCoin[]>;
  getMeta(hash: string): Promise<{ tx: BcoinTX; block: string | null; height: number; time: number } | null>;
  invalidate(hash: string): Promise<void>;
  setInvalid(hash: string): void;
  removeInvalid(hash: string): void;
  add(block: BcoinBlock): Promise<BcoinChainEntry | null>;
}

export interface BcoinMempoolEntry {
  tx: BcoinTX;
  fee: number;
  size: number;
  time: number;
  height: number;
}

export interface BcoinMempool {
  options: Record<string, unknown> & { minRelay: number };
  map: Map<string, BcoinMempoolEntry>;
  addTX(tx: BcoinTX): Promise<string[] | null>;
  exists(hash: string): boolean;
  getEntry(hash: string): BcoinMempoolEntry | undefined;
  getDepends(tx: BcoinTX): string[];
  isSpent(hash: string, index: number): boolean;
  getCoin(hash: string, index: number): BcoinCoin | null;
  isDoubleSpend(tx: BcoinTX): boolean;
  /** The entry spending an outpoint, if any (BIP125 replacement, plugin.ts). */
  getSpent(hash: string, index: number): BcoinMempoolEntry | undefined;
  /** Removes an entry and its descendants. */
  evictEntry(entry: BcoinMempoolEntry): void;
  getCoinView(tx: BcoinTX): Promise<BcoinCoinView>;
  verifyFinal(tx: BcoinTX, flags: number): Promise<boolean>;
  verify(entry: BcoinMempoolEntry, view: BcoinCoinView): Promise<void>;
  removeOrphan(hash: string): boolean;
  insertTX(tx: BcoinTX, id: number): Promise<string[] | null>;
  hasEntry(hash: string): boolean;
  _removeBlock(block: BcoinBlock, txs: BcoinTX[]): Promise<void>;
  /** Empties the mempool and takes the chain's tip as its own. */
  reset(): Promise<void>;
  rejects: { reset(): void };
  cache: { sync(hash: string): void; flush(): Promise<void> };
  tip: string;
}

export interface BcoinNetwork {
  type: string;
  addressPrefix: Record<string, number | string>;
  keyPrefix: Record<string, number | string>;
  block: { bip34height: number; bip65height: number; bip66height: number };
  deployments: Record<string, BcoinDeployment>;
  requireStandard: boolean;
  minRelay: number;
}

export type RpcHandler = (args: unknown[], help: boolean) => Promise<unknown>;

export interface BcoinRpc {
  calls: Record<string, RpcHandler>;
}

export interface BcoinFullNode {
  network: BcoinNetwork;
  chain: BcoinChain;
  mempool: BcoinMempool;
  rpc: BcoinRpc;
  http: { address(): { address: string; port: number } | null };
  /** Creates the data directory (`prefix`) of an on-disk node; no-op in memory. */
  ensure(): Promise<void>;
  open(): Promise<void>;
  close(): Promise<void>;
  on(event: string, handler: (...args: unknown[]) => void): void;
}

export interface BcoinPlugin {
  id: string;
  init(node: BcoinFullNode): { open(): Promise<void>; close(): Promise<void> };
}

export interface BcoinModule {
  FullNode: new (options: Record<string, unknown>) => BcoinFullNode;
  TX: { fromRaw(data: Buffer): BcoinTX };
  Block: { fromRaw(data: Buffer): BcoinBlock };
  Address: { fromString(addr: string, network: BcoinNetwork): unknown; fromScript(script: unknown): unknown | null };
  Script: {
    fromRaw(data: Buffer): BcoinScript;
    verify(
      input: BcoinScript,
      witness: unknown,
      output: BcoinScript,
      tx: BcoinTX,
      index: number,
      value: number,
      flags: number,
    ): void;
    flags: Record<string, number>;
  };
  MempoolEntry: { fromTX(tx: BcoinTX, view: BcoinCoinView, height: number): BcoinMempoolEntry };
  consensus: Record<string, number>;
  util: { revHex(hex: string): string };
}

/** bcoin's internal constants that are not on the main export. */
export interface BcoinInternals {
  thresholdStates: { ACTIVE: number };
  lockFlags: { STANDARD_LOCKTIME_FLAGS: number };
}

type IteratorOptions = Record<string, unknown>;
let leveldownPatched = false;

/**
 * bcoin's database layer (bdb 0.2.3, written for leveldown 4) passes every
 * range option of an iterator, unset ones as `null`; leveldown 5.6.0 (the
 * version that installs on Node 20, see package.json `overrides`) turns a
 * `null` range option into the key `"null"`, so on disk every ranged scan
 * (address index, `scantxoutset`, ...) silently came back empty. Unset range
 * options are dropped before leveldown sees them. The memory database is not
 * affected.
 */
function patchLeveldownRanges(): void {
  if (leveldownPatched) return;
  leveldownPatched = true;
  const fromBdb = createRequire(require.resolve('bdb'));
  const leveldown = fromBdb('leveldown') as { prototype: { iterator(options?: IteratorOptions): unknown } };
  const original = leveldown.prototype.iterator;
  leveldown.prototype.iterator = function iterator(this: unknown, options?: IteratorOptions): unknown {
    const cleaned: IteratorOptions = { ...options };
    for (const k of ['gt', 'gte', 'lt', 'lte', 'start', 'end']) if (cleaned[k] === null || cleaned[k] === undefined) delete cleaned[k];
    return original.call(this, cleaned);
  };
}

/** Loads bcoin; call after NODE_BACKEND is set. */
export function loadBcoin(): { bcoin: BcoinModule; internals: BcoinInternals } {
  patchLeveldownRanges();
  const bcoin = require('bcoin') as BcoinModule;
  const common = require('bcoin/lib/blockchain/common') as {
    thresholdStates: { ACTIVE: number };
    lockFlags: { STANDARD_LOCKTIME_FLAGS: number };
  };
  return { bcoin, internals: { thresholdStates: common.thresholdStates, lockFlags: common.lockFlags } };
}
