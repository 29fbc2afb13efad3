/**
 * The pool simulator's payout schemes (issue 16), block by block on the
 * regtest node:
 * - `per-block` (default, today's `mineAsPool`): the pool finds every block
 *   and pays each member its share of the coinbase, in the coinbase;
 * - `periodic` (FPPS, PPS+): every block is mined by the network (a
 *   stranger); each member accrues its share of every block's reward, and
 *   `payoutDelayBlocks` blocks after each period of `periodBlocks` blocks ends
 *   one transaction from the pool's payout key pays every member what it
 *   accrued in that period (the payout is confirmed in block
 *   `periodEnd + payoutDelayBlocks`);
 * - `luck` (TIDES, PPLNS): the pool finds each block with probability
 *   `poolShareBps / 10,000`, decided by a seeded PRNG (`poolFindsBlocks`), and
 *   on a found block pays each member `shareBps / poolShareBps` of its reward,
 *   in the coinbase (`luckPayout: 'coinbase'`) or by a transaction from the
 *   pool's payout key in that same block (`'payout-tx'`); blocks it does not
 *   find pay members nothing.
 * A member's `shareBps` is always its share of the NETWORK's hashrate, so its
 * expected payment per block is `shareBps / 10,000` of the reward under every
 * scheme: a member that delivers in full measures 10,000 bps on average; the
 * schemes differ in when (periodic) and how noisily (luck) it is paid.
 * Amounts a transaction cannot carry (below the 546-sat dust limit) stay owed
 * to the next payout, as a pool's payout threshold does.
 *
 * `poolPreset('fpps' | 'tides' | 'coinbase')` names the options the demo's
 * `--pool` flag takes, with the event parameters (`payoutScheme`,
 * `payoutLagBlocks`) that measure each one.
 *
 * This module does NOT compute outcomes nor talk to an oracle.
 */
import { Transaction, address as btcAddress } from 'bitcoinjs-lib';
import type { PayoutScheme } from '../protocol/hashpower/index.js';
import type { BitcoinRpc } from '../src/chain/rpc.js';
import { assembleBlock, buildCoinbase, witnessCommitmentScript, type CoinbaseOutput } from './blocks.js';
import { strangerAddress, type PoolShare } from './helpers.js';
import { REGTEST, sendFromKey, type SignedTx, type TestKey } from './wallet.js';

export type PoolPayoutMode = 'per-block' | 'periodic' | 'luck';

export interface PoolSimulatorOptions {
  /** How the pool pays (module header); default `per-block`. */
  mode?: PoolPayoutMode;
  /** The members and each one's share of the network's hashrate, basis points. */
  shares: PoolShare[];
  /** Where the rest of the pool's coinbases (and the network's blocks) go; default a stranger. */
  restAddress?: string;
  /** Coinbase tag; default `/hashdlc-pool/`. */
  tag?: string;
  /** `periodic`: blocks per payout period (>= 1). */
  periodBlocks?: number;
  /** `periodic`: a height where a period starts; periods are `[anchor + kP, anchor + (k+1)P)`. Default 0. */
  periodAnchor?: number;
  /** `periodic`: blocks between a period's end and the block that confirms its payout; default 0 (the next period's first block). */
  payoutDelayBlocks?: number;
  /** `periodic`, and `luck` with `luckPayout: 'payout-tx'`: the pool's payout key, funded (its address is the event's declared pool payout address). */
  poolKey?: TestKey;
  /** `luck`: the pool's share of the network, basis points (1..10,000): the probability it finds each block. */
  poolShareBps?: number;
  /** `luck`: the PRNG seed (a 32-bit integer); the same seed finds the same blocks. */
  seed?: number;
  /** `luck`: how a found block pays its members; default `coinbase`. */
  luckPayout?: 'coinbase' | 'payout-tx';
}

/** One payment to a member, as it is on chain. */
export interface MemberPayment {
  address: string;
  valueSats: bigint;
  source: 'coinbase' | 'pool-payout';
  txid: string;
  vout: number;
}

/** A block mined by the simulator. */
export interface SimulatedBlock {
  hash: string;
  height: number;
  coinbaseTxid: string;
  /** Subsidy plus fees (the template's coinbasevalue). */
  rewardSats: bigint;
  /** The pool found this block (always under `per-block`, never under `periodic`). */
  poolFound: boolean;
  /** What members received in this block (coinbase outputs or the pool's payout transaction). */
  paid: MemberPayment[];
}

const DUST_SATS = 546n;

type BlockTemplate = Awaited<ReturnType<BitcoinRpc['getBlockTemplate']>>;

/** A payout transaction broadcast by the pool (none when nothing was due above dust). */
interface Payout {
  payments: MemberPayment[];
  tx: SignedTx | undefined;
}

/**
 * mulberry32: a small seeded PRNG, uniform in [0, 1). Not for keys: it makes
 * a simulated pool's luck repeatable from its seed.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Which of the next `blocks` blocks a luck pool of `poolShareBps` finds, from
 * `seed`: the simulator's own draw, so a test or the demo knows in advance.
 * @throws {RangeError} for a share outside 1..10,000 bps.
 */
export function poolFindsBlocks(seed: number, poolShareBps: number, blocks: number): boolean[] {
  if (!Number.isInteger(poolShareBps) || poolShareBps < 1 || poolShareBps > 10_000) throw new RangeError('poolShareBps must be 1..10,000');
  const rand = seededRandom(seed);
  return Array.from({ length: blocks }, () => rand() * 10_000 < poolShareBps);
}

function checkShares(shares: PoolShare[], maxBps: number): void {
  const sum = shares.reduce((s, x) => s + x.shareBps, 0);
  if (shares.some((s) => !Number.isInteger(s.shareBps) || s.shareBps < 0) || sum > maxBps) {
    throw new RangeError(`member shares must be whole basis points adding up to at most ${maxBps}`);
  }
}

/** A simulated pool on the regtest node; `mine(n)` mines n blocks under its scheme. */
export class PoolSimulator {
  readonly #rpc: BitcoinRpc;
  readonly #o: Required<Pick<PoolSimulatorOptions, 'mode' | 'shares' | 'restAddress' | 'tag' | 'periodBlocks' | 'periodAnchor' | 'payoutDelayBlocks' | 'poolShareBps' | 'luckPayout'>> &
    Pick<PoolSimulatorOptions, 'poolKey'>;
  readonly #rand: () => number;
  /** member → accrued and not yet paid, per period start (periodic) or in total (luck payout-tx carry-over) */
  readonly #owed = new Map<number, Map<string, bigint>>();
  readonly #paid = new Map<string, bigint>();

  /** @throws {RangeError} for options that do not fit the mode. */
  constructor(rpc: BitcoinRpc, options: PoolSimulatorOptions) {
    const mode = options.mode ?? 'per-block';
    const o = {
      mode,
      shares: options.shares,
      restAddress: options.restAddress ?? strangerAddress(),
      tag: options.tag ?? '/hashdlc-pool/',
      periodBlocks: options.periodBlocks ?? 1,
      periodAnchor: options.periodAnchor ?? 0,
      payoutDelayBlocks: options.payoutDelayBlocks ?? 0,
      poolShareBps: options.poolShareBps ?? 10_000,
      luckPayout: options.luckPayout ?? 'coinbase',
      poolKey: options.poolKey,
    };
    checkShares(o.shares, mode === 'luck' ? o.poolShareBps : 10_000);
    if (!Number.isInteger(o.periodBlocks) || o.periodBlocks < 1) throw new RangeError('periodBlocks must be a positive integer');
    if (!Number.isInteger(o.payoutDelayBlocks) || o.payoutDelayBlocks < 0) throw new RangeError('payoutDelayBlocks must be a non-negative integer');
    if (mode === 'luck') poolFindsBlocks(0, o.poolShareBps, 0); // range check
    if ((mode === 'periodic' || (mode === 'luck' && o.luckPayout === 'payout-tx')) && o.poolKey === undefined) {
      throw new RangeError(`${mode} payouts from a wallet need poolKey`);
    }
    this.#rpc = rpc;
    this.#o = o;
    this.#rand = seededRandom(options.seed ?? 0);
  }

  /** Total paid on chain to `address` by this simulator so far, sats. */
  paidTo(address: string): bigint {
    return this.#paid.get(address) ?? 0n;
  }

  /** Accrued by `address` and not paid yet (periodic; below-dust carry-overs), sats. */
  owedTo(address: string): bigint {
    let sum = 0n;
    for (const m of this.#owed.values()) sum += m.get(address) ?? 0n;
    return sum;
  }

  /**
   * Mines `blocks` blocks under the pool's scheme.
   * @throws {ChainError} when the node rejects a block or a payout; {Error} when the pool key lacks funds.
   */
  async mine(blocks: number): Promise<SimulatedBlock[]> {
    const out: SimulatedBlock[] = [];
    for (let i = 0; i < blocks; i++) out.push(await this.#mineOne());
    return out;
  }

  async #mineOne(): Promise<SimulatedBlock> {
    const { mode } = this.#o;
    const height = (await this.#rpc.getBlockCount()) + 1;
    if (mode === 'per-block') return this.#poolBlock(height, 10_000);
    if (mode === 'luck') {
      const found = this.#rand() * 10_000 < this.#o.poolShareBps;
      if (!found) return this.#networkBlock({ payments: [], tx: undefined });
      if (this.#o.luckPayout === 'coinbase') return this.#poolBlock(height, this.#o.poolShareBps);
      // Payout transaction in the pool's own block: amounts from the reward without it (its fee only adds to the coinbase).
      const template = await this.#rpc.getBlockTemplate();
      const owed = this.#owedIn(0);
      for (const s of this.#o.shares) owed.set(s.address, (owed.get(s.address) ?? 0n) + (template.coinbasevalue * BigInt(s.shareBps)) / BigInt(this.#o.poolShareBps));
      const payout = await this.#payOwed(0, 0);
      const b = await this.#networkBlock(payout, template);
      return { ...b, poolFound: true };
    }
    // periodic: the payout of the period that ended payoutDelayBlocks ago goes into this block.
    const { periodBlocks: P, periodAnchor: a, payoutDelayBlocks: d } = this.#o;
    const ended = height - d; // the first height after the period being paid
    const payout = (((ended - a) % P) + P) % P === 0 ? await this.#payOwed(ended - P, ended) : { payments: [], tx: undefined };
    const b = await this.#networkBlock(payout);
    const period = a + Math.floor((height - a) / P) * P;
    const owed = this.#owedIn(period);
    for (const s of this.#o.shares) owed.set(s.address, (owed.get(s.address) ?? 0n) + (b.rewardSats * BigInt(s.shareBps)) / 10_000n);
    return b;
  }

  #owedIn(period: number): Map<string, bigint> {
    let m = this.#owed.get(period);
    if (m === undefined) this.#owed.set(period, (m = new Map()));
    return m;
  }

  /**
   * Broadcasts one transaction from the pool key paying what the periods up
   * to `period` owe (earlier below-dust remainders included); what is below
   * dust moves to period `carryTo`. Returns the payments (txid known; the
   * next block confirms them).
   */
  async #payOwed(period: number, carryTo: number): Promise<Payout> {
    const due = new Map<string, bigint>();
    for (const [p, m] of [...this.#owed]) {
      if (p > period) continue;
      for (const [addr, v] of m) due.set(addr, (due.get(addr) ?? 0n) + v);
      this.#owed.delete(p);
    }
    const pay = [...due].filter(([, v]) => v >= DUST_SATS);
    const carry = this.#owedIn(carryTo);
    for (const [addr, v] of due) if (v > 0n && v < DUST_SATS) carry.set(addr, (carry.get(addr) ?? 0n) + v);
    if (pay.length === 0) return { payments: [], tx: undefined };
    const sent = await sendFromKey(
      this.#rpc,
      this.#o.poolKey!,
      pay.map(([address, valueSats]) => ({ address, valueSats })),
    );
    return { payments: pay.map(([address, valueSats], vout) => ({ address, valueSats, source: 'pool-payout' as const, txid: sent.txid, vout })), tx: sent };
  }

  /** A block found by the pool: members paid `shareBps / ofBps` of the reward in the coinbase, the rest to `restAddress`. */
  async #poolBlock(height: number, ofBps: number): Promise<SimulatedBlock> {
    const template = await this.#rpc.getBlockTemplate();
    if (template.height !== height) throw new Error(`template height ${template.height}, expected ${height}`);
    const split = this.#o.shares
      .map((s) => ({ address: s.address, valueSats: (template.coinbasevalue * BigInt(s.shareBps)) / BigInt(ofBps) }))
      .filter((s) => s.valueSats > 0n);
    const rest = template.coinbasevalue - split.reduce((s, x) => s + x.valueSats, 0n);
    const outputs = rest > 0n ? [...split, { address: this.#o.restAddress, valueSats: rest }] : split;
    const b = await this.#submit(template, outputs);
    const paid = split.map((s, vout) => ({ ...s, source: 'coinbase' as const, txid: b.coinbaseTxid, vout }));
    return this.#record({ ...b, poolFound: true, paid });
  }

  /**
   * A block with its coinbase to `restAddress` (one the pool did not find, or
   * its own paying by transaction), confirming the payout transaction: from
   * the template when it has it, else added (a node may serve a template
   * made before the payout reached its mempool).
   */
  async #networkBlock(payout: Payout, template?: BlockTemplate): Promise<SimulatedBlock> {
    const t = template ?? (await this.#rpc.getBlockTemplate());
    const extra: Transaction[] = [];
    let fee = 0n;
    if (payout.tx !== undefined && !t.transactions.some((x) => Transaction.fromHex(x.data).getId() === payout.tx!.txid)) {
      extra.push(Transaction.fromHex(payout.tx.hex));
      fee = payout.tx.feeSats;
    }
    const b = await this.#submit(t, [{ address: this.#o.restAddress, valueSats: t.coinbasevalue + fee }], extra);
    return this.#record({ ...b, rewardSats: t.coinbasevalue + fee, poolFound: false, paid: payout.payments });
  }

  #record(b: SimulatedBlock): SimulatedBlock {
    for (const p of b.paid) this.#paid.set(p.address, this.paidTo(p.address) + p.valueSats);
    return b;
  }

  async #submit(
    template: BlockTemplate,
    outputs: { address: string; valueSats: bigint }[],
    extra: Transaction[] = [],
  ): Promise<Omit<SimulatedBlock, 'poolFound' | 'paid'>> {
    const txs = [...template.transactions.map((t) => Transaction.fromHex(t.data)), ...extra];
    const cbOutputs: CoinbaseOutput[] = outputs.map((o) => ({ script: btcAddress.toOutputScript(o.address, REGTEST), valueSats: o.valueSats }));
    const coinbase = buildCoinbase(template.height, cbOutputs, witnessCommitmentScript(txs), new TextEncoder().encode(this.#o.tag));
    const block = assembleBlock(
      { version: template.version, previousBlockHash: template.previousblockhash, time: template.curtime, bits: template.bits },
      coinbase,
      txs,
    );
    await this.#rpc.submitBlock(block.hex);
    return { hash: block.hash, height: template.height, coinbaseTxid: coinbase.getId(), rewardSats: template.coinbasevalue };
  }
}

/** The pools the demo's `--pool` flag names. */
export type DemoPoolName = 'fpps' | 'tides' | 'coinbase';
export const DEMO_POOL_NAMES: readonly DemoPoolName[] = ['fpps', 'tides', 'coinbase'];

/** A named pool: the simulator's options (without members and keys) and the event parameters that measure it. */
export interface PoolPreset {
  simulator: Omit<PoolSimulatorOptions, 'shares' | 'poolKey' | 'restAddress' | 'tag'>;
  /** The event's `payoutScheme`; null for `coinbase`, today's pool, whose events state none. */
  payoutScheme: PayoutScheme | null;
  /** The event's `payoutLagBlocks`. */
  payoutLagBlocks: number;
  /** The simulator needs a funded `poolKey`, whose address the event declares in `poolPayoutAddresses`. */
  needsPoolKey: boolean;
}

/**
 * The demo's pools:
 * - `fpps`: periodic payouts every `periodBlocks` (default 6) blocks from
 *   the pool key, `payoutDelayBlocks` (default 1) blocks after each period;
 *   measured with `periodic-payout` and lag `payoutDelayBlocks + 1`, which
 *   puts each period's payout in the measured range of the window equal to
 *   that period (windows must start on a period: `periodAnchor` = window start);
 * - `tides`: a luck pool of `poolShareBps` (default 3,000) of the network
 *   paying in the coinbase, seed `seed` (default 1); `per-block-coinbase`, no lag;
 * - `coinbase`: today's pool (finds every block, pays in the coinbase); no scheme stated.
 * @throws {RangeError} for an unknown name.
 */
export function poolPreset(
  name: DemoPoolName,
  options: { periodBlocks?: number; payoutDelayBlocks?: number; periodAnchor?: number; poolShareBps?: number; seed?: number } = {},
): PoolPreset {
  switch (name) {
    case 'fpps': {
      const payoutDelayBlocks = options.payoutDelayBlocks ?? 1;
      return {
        simulator: { mode: 'periodic', periodBlocks: options.periodBlocks ?? 6, payoutDelayBlocks, periodAnchor: options.periodAnchor ?? 0 },
        payoutScheme: 'periodic-payout',
        payoutLagBlocks: payoutDelayBlocks + 1,
        needsPoolKey: true,
      };
    }
    case 'tides':
      return {
        simulator: { mode: 'luck', poolShareBps: options.poolShareBps ?? 3_000, seed: options.seed ?? 1, luckPayout: 'coinbase' },
        payoutScheme: 'per-block-coinbase',
        payoutLagBlocks: 0,
        needsPoolKey: false,
      };
    case 'coinbase':
      return { simulator: { mode: 'per-block' }, payoutScheme: null, payoutLagBlocks: 0, needsPoolKey: false };
    default:
      throw new RangeError(`unknown pool ${JSON.stringify(name as unknown)}: fpps, tides or coinbase`);
  }
}
