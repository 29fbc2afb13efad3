/**
 * The demo story (`npm run demo`), against a running stack, for one of three
 * templates: `sale` (default): a miner offers
 * 100 TH/s for a window of blocks, a buyer accepts (participant library
 * calls, participant.ts, shown as the commands a user would type); the
 * miner signs and the buyer funds (typed the same way, or, with `agents`,
 * taken by the two parties' agents), the pool simulator pays the miner's
 * share of every coinbase in the window to the buyer's delivery address
 * (`--pool`, issue 16: or a luck pool's coinbases, or one FPPS payout after
 * the window, measured with a payout lag), the oracles attest the delivery ratio, the coordinator settles with the CET
 * the attestations unlock. `forward` and `call`: a cash-settled hashprice
 * forward / call of 100 TH/s on the next 10-block window the stack's
 * oracles announce a hashprice event for (config.ts
 * `STACK_HASHPRICE_SCHEDULE`), struck below the hashprice the window's
 * subsidy gives, so the buyer gains about half the miner's collateral.
 *
 * The participants are configured with every oracle of the stack and a
 * majority threshold (2 of 3); the demo waits for the attestations of K
 * oracles of the offer's set (the set read from the offer itself), checks
 * each one's outcome against our own and its evidence against the node. Every step is reported as it happens; at the end
 * the payouts on chain are compared with the payout curve at the attested
 * outcome (observe.ts `curvePayouts`), and the attested outcome with our own
 * computation from the blocks we mined (protocol/hashpower).
 * A mismatch does not throw: the result says `ok: false`.
 *
 * The simulated network is 1 PH/s (config.ts `STACK_SIMULATED_DIFFICULTY`),
 * so 100 TH/s is 10% of every block: the pool pays the delivery address
 * `10% x delivery%` of each coinbase (default 98%: a 2% pool fee).
 *
 * This module does NOT start or find the stack (src/demo.ts does).
 */
import {
  blockSubsidy,
  countedRewards,
  CURRENT_REWARD_RULE,
  deliveryOutcome,
  difficultyFromDecimal,
  expectedDeliverySats,
  hashpriceOutcome,
  ratFloor,
  subsidyHalvingInterval,
  type BlockReward,
  type BlockRewardWork,
  type NumericEventSpec,
} from '../../protocol/hashpower/index.js';
import type { BitcoinRpc } from '../chain/index.js';
import { verifyOracleEvent } from '../participant/index.js';
import {
  DEMO_POOL_NAMES,
  PoolSimulator,
  mineAsPool,
  mineBlocks,
  mineToHeight,
  poolPreset,
  regtestSubsidy,
  strangerAddress,
  type DemoPoolName,
  type Faucet,
  type PoolPreset,
  type TestKey,
} from '../../regtest/index.js';
import { OracleClient } from '../api/index.js';
import { StackError } from './errors.js';
import { STACK_HASHPRICE_SCHEDULE } from './config.js';
import {
  curvePayouts,
  offerHexOf,
  offerOracleSet,
  onChainPayouts,
  onChainValue,
  waitForAttestations,
  waitForContractState,
  type AttestationView,
  type Payouts,
} from './observe.js';
import { offerArgs, type StackParticipant } from './participant.js';
import type { OfferInput, SetOracle } from '../participant/index.js';

/** The contracts the demo can run: a hashpower sale, a hashprice forward, a hashprice call. */
export const DEMO_TEMPLATES = ['sale', 'forward', 'call'] as const;
export type DemoTemplate = (typeof DEMO_TEMPLATES)[number];

/**
 * How the sale's pool pays (issue 16; `--pool`), the regtest pool simulator's
 * presets (regtest/pool-schemes.ts `poolPreset`): `coinbase` (default:
 * today's demo, the pool mines every block and pays the delivery address in
 * each coinbase; the event states no scheme), `tides` (a luck pool of
 * `DEMO_LUCK_POOL_SHARE_BPS` of the network: finds each block with that
 * chance, seeded, and pays in the coinbase of the blocks it finds;
 * `per-block-coinbase`), `fpps` (pays the window's shares in one transaction
 * from its payout address one block after the window: `periodic-payout` with
 * a payout lag of 2 blocks).
 */
export const DEMO_POOLS = DEMO_POOL_NAMES;
export type DemoPool = DemoPoolName;

/** The demo's luck pool's share of the (simulated) network, bps: 30%, a large real pool. */
export const DEMO_LUCK_POOL_SHARE_BPS = 3000;

/**
 * The pool preset of the demo's sale over `window`: an FPPS period is the
 * window (anchored at its start, paid one block after it), the luck pool
 * holds `DEMO_LUCK_POOL_SHARE_BPS` with seed 1 (the same blocks every run
 * on the same window).
 */
export function demoPoolPreset(pool: DemoPool, window: { start: number; end: number }): PoolPreset {
  return poolPreset(pool, { periodBlocks: window.end - window.start, periodAnchor: window.start, payoutDelayBlocks: 1, poolShareBps: DEMO_LUCK_POOL_SHARE_BPS, seed: 1 });
}

/**
 * The event parameters the sale's offer requests for a preset (its scheme,
 * lag and, for a pool paying from a wallet, that wallet's address as the
 * declared pool payout address), so the oracle measures what the simulator pays.
 */
export function demoPoolEvent(preset: PoolPreset, poolAddress: string | undefined): Pick<Extract<OfferInput, { template: 'hashpower' }>, 'payoutScheme' | 'payoutLagBlocks' | 'poolPayoutAddresses'> {
  return {
    ...(preset.payoutScheme === null ? {} : { payoutScheme: preset.payoutScheme }),
    payoutLagBlocks: preset.payoutLagBlocks,
    poolPayoutAddresses: preset.needsPoolKey && poolAddress !== undefined ? [poolAddress] : [],
  };
}

/**
 * What the offer's terms state about the pool (protocol/terms `payoutScheme`,
 * `poolShareBps`): the scheme of the event (`demoPoolEvent`; the accepter
 * refuses an event stating another), and for the luck and FPPS pools the
 * pool's share, so the luck pool's offer shows its measurement risk.
 * `coinbase` states nothing: today's rule, and its pool mines every block.
 */
export function demoPoolTerms(pool: DemoPool): Pick<Extract<OfferInput, { template: 'hashpower' }>, 'payoutScheme' | 'poolShareBps'> {
  const preset = poolPreset(pool);
  if (preset.payoutScheme === null) return {};
  return { payoutScheme: preset.payoutScheme, poolShareBps: DEMO_LUCK_POOL_SHARE_BPS };
}

export interface DemoOptions {
  /** Which contract (default `sale`). */
  template?: DemoTemplate;
  /** Sale: how the pool pays (default `coinbase`); the offer's terms say so (`demoPoolTerms`). */
  pool?: DemoPool;
  /** Contracted hashrate, TH/s (default 100). */
  hashrateThs?: bigint;
  /** Blocks in the sale's window (default 20; a hashprice window is the schedule's). */
  windowBlocks?: number;
  /** Share of the contracted hashrate the pool actually pays, percent (default 98). */
  deliveryPercent?: number;
  upfront?: bigint;
  escrow?: bigint;
  collateral?: bigint;
  toleranceBps?: number;
}

export interface DemoServices {
  rpc: BitcoinRpc;
  coordinatorUrl: string;
  /** The stack's oracles (the participants are configured with all of them). */
  oracles: SetOracle[];
  /** The oracles' simulated difficulty (decimal string). */
  simulatedDifficulty: string;
  miner: StackParticipant;
  buyer: StackParticipant;
  /** Pays the FPPS pool's payout key (`--pool fpps`: its payouts come from a funded wallet). */
  faucet?: Faucet;
  /**
   * When given, the miner's and the buyer's agents take every step after the
   * accept (sign, fund); nothing more is typed. Otherwise the demo runs
   * `sign` and `fund` itself, as a user would type them.
   */
  agents?: DemoAgents;
}

/** Reports one step: who took it, and what. */
export type Say = (who: string, text: string) => void;

/** The agents of the demo (src/stack/demo-agents.ts runs them as child processes). */
export interface DemoAgents {
  /**
   * Hands the accepted offer `id` to the agents (the miner's signs, the
   * buyer's funds) and resolves with the funding txid once the funding
   * transaction is out.
   */
  signAndFund(id: string, say: Say): Promise<string>;
}

/** `hashdlc sign` by the miner, `hashdlc fund` by the buyer, typed as a user would. */
async function typedSignAndFund(s: DemoServices, id: string, say: Say): Promise<string> {
  await s.miner.sign(id);
  say('miner', `$ hashdlc sign ${short(id)}  → the buyer's signatures verified; CETs, refund and funding inputs signed`);
  const funded = await s.buyer.fund(id);
  if (funded.psbtOut) throw new StackError('STACK_COMMAND', 'buyer: fund returned a PSBT');
  say('buyer', `$ hashdlc fund ${short(id)}  → funding tx ${funded.fundingTxid} broadcast by the ${funded.broadcastBy}`);
  return funded.fundingTxid;
}

export interface DemoResult {
  ok: boolean;
  offerId: string;
  contractId: string;
  template: DemoTemplate;
  window: { start: number; end: number };
  /** K and the oracles of the offer's set. */
  oracleSet: { threshold: number; oracles: SetOracle[] };
  /** The oracles whose attestations were awaited (K of the set) and what each attested. */
  attestations: { url: string; outcome: string }[];
  outcome: bigint;
  /** Our own computation of the outcome from the blocks mined. */
  computedOutcome: bigint;
  fundingTxid: string;
  closingTxid: string;
  onChain: Payouts;
  curve: Payouts;
  ms: number;
}

/** A numeric event's digits and precision, as its params state them. */
function specOf(eventId: string, descriptor: Record<string, unknown>): NumericEventSpec {
  if (typeof descriptor.nbDigits !== 'number') throw new StackError('STACK_SERVICE', `oracle event ${eventId}: not a numeric event`);
  return { nbDigits: descriptor.nbDigits, precision: typeof descriptor.precision === 'number' ? descriptor.precision : 0 };
}

/** The numeric event's digits and precision, from the oracle. */
async function eventDigits(oracleUrl: string, eventId: string): Promise<NumericEventSpec> {
  try {
    return specOf(eventId, (await new OracleClient(oracleUrl, { timeoutMs: 10_000 }).event(eventId)).params.descriptor);
  } catch (err) {
    if (err instanceof StackError) throw err;
    throw new StackError('STACK_SERVICE', `oracle event ${eventId}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The first scheduled hashprice window that opens at least `lead` blocks
 * above `tip`, once the oracle has announced its event (the oracles
 * schedule on their next poll after the tip moves).
 * @throws {StackError} STACK_TIMEOUT when the oracle has not announced it within `timeoutMs`.
 */
async function scheduledHashpriceEvent(
  oracleUrl: string,
  tip: number,
  lead: number,
  timeoutMs = 30_000,
): Promise<{ eventId: string; window: { start: number; end: number }; spec: NumericEventSpec }> {
  const every = STACK_HASHPRICE_SCHEDULE.hashpriceEveryBlocks;
  const start = Math.ceil((tip + lead) / every) * every;
  const window = { start, end: start + every };
  const oracle = new OracleClient(oracleUrl, { timeoutMs: 10_000 });
  const deadline = Date.now() + timeoutMs;
  let last = 'not announced yet';
  for (;;) {
    try {
      const hit = (await oracle.events({ kind: 'hashprice', limit: '1000' })).find((e) => e.params.window?.start === start && e.params.window.end === window.end);
      if (hit !== undefined) return { eventId: hit.eventId, window, spec: specOf(hit.eventId, hit.params.descriptor) };
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new StackError('STACK_TIMEOUT', `${oracleUrl} announced no hashprice event for blocks [${start}, ${window.end}) within ${timeoutMs} ms (${last})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * A strike for a hashprice contract of `hashrateThs` over `window` on an
 * event of precision `p`: `units` outcome units below the hashprice `h` the
 * window's subsidy gives at the simulated `difficulty` (no fees), where the
 * payout moves `Q * n * 10^p / 144000` sats per unit and `units` makes it
 * about `target` sats (at least one unit, at most half of `h`). A whole
 * number of outcome units, as the templates require.
 */
function demoStrike(
  window: { start: number; end: number },
  difficulty: string,
  spec: NumericEventSpec,
  hashrateThs: bigint,
  target: bigint,
): { strike: bigint; expectedOutcome: bigint } {
  const halving = subsidyHalvingInterval('regtest');
  const heights = Array.from({ length: window.end - window.start }, (_, i) => window.start + i);
  const d = difficultyFromDecimal(difficulty);
  const blocks = heights.map((height) => ({ reward: blockSubsidy(height, halving), difficulty: d }));
  const h = hashpriceOutcome(blocks, spec).outcome;
  const unit = 10n ** BigInt(spec.precision);
  const perUnitTimes144000 = hashrateThs * BigInt(heights.length) * unit;
  let units = (target * 144_000n) / perUnitTimes144000;
  if (units > h / 2n) units = h / 2n;
  if (units < 1n) units = 1n;
  return { strike: (h > units ? h - units : 0n) * unit, expectedOutcome: h };
}

/** Sats and heights with thousands separators, as the demo stories print them. */
export const fmt = (n: bigint | number): string => n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
/** The first 12 hex digits of an id, as the demo stories print it. */
export const short = (hex: string): string => `${hex.slice(0, 12)}…`;

/** 1 PH/s network: the share of each block a miner of `hashrateThs` TH/s finds, in basis points of the block, times `percent` delivered. */
export function poolShareBps(hashrateThs: bigint, deliveryPercent: number, networkThs = 1000n): number {
  const bps = (Number(hashrateThs) / Number(networkThs)) * deliveryPercent * 100;
  if (!Number.isInteger(Math.round(bps)) || bps < 0 || bps > 10_000) throw new StackError('STACK_CONFIG', `a share of ${bps} bps is not possible`);
  return Math.round(bps);
}

/** What the offer of each template needs, and how its outcome is recomputed from the mined blocks. */
interface DemoContract {
  input: OfferInput;
  /** One line on the offer's price and collateral. */
  describe: string;
  /** The script in the funding transaction that pays the miner at once (upfront, premium), if any. */
  paidAtFundingScript: (terms: Record<string, unknown>) => string | undefined;
}

/** The offer input of a template, and what the story says about it. */
async function demoContract(s: DemoServices, template: DemoTemplate, o: Required<Omit<DemoOptions, 'template' | 'pool'>> & { pool: DemoPool }, window: { start: number; end: number }, deliveryAddress: string | undefined, spec: NumericEventSpec | undefined, say: Say, pool?: { preset: PoolPreset; key: TestKey | undefined }): Promise<DemoContract> {
  const H = o.hashrateThs;
  if (template === 'sale') {
    const event = pool === undefined ? {} : demoPoolEvent(pool.preset, pool.key?.address);
    return {
      input: { template: 'hashpower', window, hashrateThs: H, deliveryAddress: deliveryAddress!, upfront: o.upfront, escrow: o.escrow, collateral: o.collateral, toleranceBps: o.toleranceBps, feeRatePerVb: 2n, ...event, ...demoPoolTerms(o.pool) },
      describe: `price ${fmt(o.upfront + o.escrow)} sats (${fmt(o.upfront)} upfront + ${fmt(o.escrow)} escrow), collateral ${fmt(o.collateral)}, tolerance ${o.toleranceBps} bps, pool ${o.pool} (${demoPoolTerms(o.pool).payoutScheme ?? 'no scheme stated: every coinbase'}${pool !== undefined && pool.preset.payoutLagBlocks > 0 ? `, payout lag ${pool.preset.payoutLagBlocks} blocks` : ''})`,
      paidAtFundingScript: (t) => (typeof t.upfrontScript === 'string' ? t.upfrontScript : undefined),
    };
  }
  const { strike, expectedOutcome } = demoStrike(window, s.simulatedDifficulty, spec!, H, o.collateral / 2n);
  const unit = spec!.precision === 0 ? 'sats/PH/day' : `x 10^${spec!.precision} sats/PH/day`;
  say('', `the window's subsidy gives a hashprice of ${fmt(expectedOutcome)} ${unit} (no fees); strike ${fmt(strike)} sats/PH/day, below it: the buyer gains`);
  if (template === 'forward') {
    return {
      input: { template: 'hashprice-forward', window, hashrateThs: H, strikeSatsPerPhDay: strike, buyerCollateral: o.collateral, collateral: o.collateral, feeRatePerVb: 2n },
      describe: `forward of ${H} TH/s at ${fmt(strike)} sats/PH/day, collateral ${fmt(o.collateral)} each`,
      paidAtFundingScript: () => undefined,
    };
  }
  const premium = o.collateral / 10n;
  return {
    input: { template: 'hashprice-call', window, hashrateThs: H, strikeSatsPerPhDay: strike, premium, collateral: o.collateral, feeRatePerVb: 2n },
    describe: `call on ${H} TH/s struck at ${fmt(strike)} sats/PH/day, premium ${fmt(premium)}, miner's collateral ${fmt(o.collateral)}`,
    paidAtFundingScript: (t) => (typeof t.premiumScript === 'string' ? t.premiumScript : undefined),
  };
}

/**
 * Runs the demo story.
 * @throws {ParticipantError} (a step failed), {StackError} STACK_TIMEOUT; {ChainError}.
 *   A mismatch of payouts or outcomes does not throw: `ok` is false.
 */
export async function runDemo(s: DemoServices, options: DemoOptions, out: (line: string) => void): Promise<DemoResult> {
  const t0 = performance.now();
  const at = (): string => `[${((performance.now() - t0) / 1000).toFixed(1).padStart(5)}s]`;
  const say: Say = (who, text) => out(`${at()} ${who.padEnd(11)} ${text}`);
  const template = options.template ?? 'sale';
  const o = {
    hashrateThs: options.hashrateThs ?? 100n,
    windowBlocks: options.windowBlocks ?? 20,
    deliveryPercent: options.deliveryPercent ?? 98,
    upfront: options.upfront ?? 200_000n,
    escrow: options.escrow ?? 800_000n,
    collateral: options.collateral ?? 500_000n,
    toleranceBps: options.toleranceBps ?? 9500,
    pool: options.pool ?? 'coinbase',
  };
  const H = o.hashrateThs;
  const shareBps = template === 'sale' ? poolShareBps(H, o.deliveryPercent) : 0;

  // Issue 16, --pool fpps: the pool pays from a wallet, funded first (the faucet mines the block that confirms it).
  let poolKey: TestKey | undefined;
  if (template === 'sale' && poolPreset(o.pool).needsPoolKey) {
    if (s.faucet === undefined) throw new StackError('STACK_CONFIG', `--pool ${o.pool} pays from a wallet: the demo needs a faucet`);
    const next = (await s.rpc.getBlockCount()) + 1;
    // The window's shares at the current subsidy (it only falls), and room for fees.
    const owed = (regtestSubsidy(next) * BigInt(o.windowBlocks + 4) * BigInt(shareBps)) / 10_000n;
    poolKey = (await s.faucet.fundedKey(owed + 1_000_000n)).key;
  }
  const tip = await s.rpc.getBlockCount();
  // Two blocks of lead: the funding transaction confirms before the window opens.
  let window = { start: tip + 3, end: tip + 3 + o.windowBlocks };
  const preset = template === 'sale' ? demoPoolPreset(o.pool, window) : undefined;
  const lag = preset?.payoutLagBlocks ?? 0;
  let spec: NumericEventSpec | undefined;
  if (template !== 'sale') {
    const scheduled = await scheduledHashpriceEvent(s.oracles[0]!.url, tip, 3);
    window = scheduled.window;
    spec = scheduled.spec;
  }
  const n = window.end - window.start;
  const oracleNames = s.oracles.map((x) => x.url).join(', ');
  if (template === 'sale') {
    out(`hashdlc demo: a miner sells ${H} TH/s over blocks [${window.start}, ${window.end}) to a buyer`);
    out(`  simulated network: 1 PH/s (oracle simulated difficulty ${s.simulatedDifficulty}), so ${H} TH/s finds ${shareBps === 0 ? 0 : Number(H) / 10}% of the blocks;`);
    const pct = `${(shareBps / 100).toFixed(2)}%`;
    if (o.pool === 'coinbase') out(`  the pool pays the buyer's delivery address ${pct} of every coinbase in the window (${o.deliveryPercent}% of the contracted hashrate)`);
    if (o.pool === 'tides') {
      out(`  --pool tides: a luck pool of ${(DEMO_LUCK_POOL_SHARE_BPS / 100).toFixed(0)}% of the network finds each block with that chance (seeded) and pays the delivery address`);
      out(`  ${pct} / ${(DEMO_LUCK_POOL_SHARE_BPS / 100).toFixed(0)}% of each block it finds, in the coinbase; nothing in the others. The event states per-block-coinbase.`);
    }
    if (o.pool === 'fpps') {
      out(`  --pool fpps: the network mines every block; the pool owes the delivery address ${pct} of each reward and pays the window's`);
      out(`  shares in one transaction from its payout address ${poolKey!.address} one block after the window;`);
      out(`  the event states periodic-payout with a payout lag of ${lag} blocks: payouts in [${window.start + lag}, ${window.end + lag}) count, attested ${lag} blocks later`);
    }
  } else {
    out(`hashdlc demo: a hashprice ${template} on ${H} TH/s over blocks [${window.start}, ${window.end}), settled on the hashprice the oracles attest`);
    out(`  simulated network: 1 PH/s (oracle simulated difficulty ${s.simulatedDifficulty}): a PH/s earns every block, so the hashprice is 144 x the block reward per day;`);
    out(`  the oracles' scheduled event states ${spec!.nbDigits} digits at precision ${spec!.precision} (outcome = hashprice / 10^${spec!.precision})`);
  }
  out(`  coordinator ${s.coordinatorUrl}, ${s.oracles.length === 1 ? 'oracle' : `${s.oracles.length} oracles`} ${oracleNames}, chain height ${tip}`);

  // 1. The miner's offer (the buyer's delivery address first, for a sale).
  let deliveryAddress: string | undefined;
  if (template === 'sale') {
    deliveryAddress = await s.buyer.address();
    say('buyer', `$ hashdlc wallet address  → delivery address ${deliveryAddress}`);
  }
  const contract = await demoContract(s, template, o, window, deliveryAddress, spec, say, preset === undefined ? undefined : { preset, key: poolKey });
  const offer = await s.miner.offer(contract.input);
  say('miner', `$ ${s.miner.commandLine(offerArgs(contract.input))}`);
  const cets = typeof offer.cets === 'number' ? offer.cets : offer.cets.cets;
  const set = offerOracleSet(await offerHexOf(s.coordinatorUrl, offer.id), s.oracles);
  say('', `offer ${short(offer.id)} posted: ${contract.describe}, ${cets ?? '?'} CETs`);
  // Issue 16: a luck pool's offer states the chance that full delivery measures short (a warning over 5%).
  for (const line of offer.measurementRisk.lines) say('', line);
  for (const w of offer.measurementRisk.warnings) say('', `warning LUCK_RISK: ${w}`);
  say('', `oracle event ${offer.eventId}, ${set.threshold} of ${set.oracles.length} oracle(s) (${set.oracles.map((x) => x.url).join(', ')}); CET locktime ${offer.cetLocktime}, refund locktime ${offer.refundLocktime}`);
  spec ??= await eventDigits(set.oracles[0]!.url, offer.eventId);

  // 2. Accept, sign, fund.
  const accepted = await s.buyer.accept(offer.id);
  say('buyer', `$ hashdlc accept ${short(offer.id)}  → offer checked against its terms and every oracle of its set; ${accepted.adaptorSignatures} CET adaptor signatures made`);
  const fundingTxid = await (s.agents === undefined ? typedSignAndFund(s, offer.id, say) : s.agents.signAndFund(offer.id, say));

  // 3. The funding confirms (the miner's upfront payment or premium is in it).
  await mineBlocks(s.rpc, 1);
  const confirmed = await waitForContractState(s.coordinatorUrl, offer.id, ['confirmed']);
  const fundingTx = await s.rpc.getRawTransaction(fundingTxid);
  const paidSpk = contract.paidAtFundingScript(confirmed.terms);
  const paidAtFunding = fundingTx.vout.filter((v) => v.scriptPubKey.hex === paidSpk).reduce((a, v) => a + v.valueSats, 0n);
  say('chain', `block ${confirmed.fundingHeight} confirms the funding tx: ${fmt(BigInt(confirmed.totalCollateral))} sats locked in the DLC${paidSpk === undefined ? '' : `, ${fmt(paidAtFunding)} paid to the miner at once`}`);

  // 4. The window: for a sale the pool simulator (--pool) pays the delivery address its share, then the
  // payout lag's blocks (fpps: the window's payout); a hashprice window is mined by the network.
  await mineToHeight(s.rpc, window.start - 1);
  const mined: BlockReward[] = [];
  const difficulty = difficultyFromDecimal(s.simulatedDifficulty);
  let delivered = 0n;
  const shares = shareBps > 0 && deliveryAddress !== undefined ? [{ address: deliveryAddress, shareBps }] : [];
  const sim = preset === undefined ? undefined : new PoolSimulator(s.rpc, { ...preset.simulator, shares, restAddress: strangerAddress(), ...(poolKey === undefined ? {} : { poolKey }) });
  for (let h = window.start; h < window.end + lag; h++) {
    if (sim === undefined) {
      const [b] = await mineAsPool(s.rpc, { blocks: 1, shares: [], restAddress: strangerAddress() });
      mined.push({ height: b!.height, reward: b!.rewardSats });
      say('pool', `block ${b!.height}: coinbase ${fmt(b!.rewardSats)} sats`);
      continue;
    }
    const [b] = await sim.mine(1);
    const paid = b!.paid.filter((p) => p.address === deliveryAddress).reduce((a, p) => a + p.valueSats, 0n);
    // Payouts count in the measured range [start + lag, end + lag); the expected reward over the window.
    if (h >= window.start + lag) delivered += paid;
    if (h < window.end) mined.push({ height: b!.height, reward: b!.rewardSats });
    const who = o.pool === 'coinbase' ? '' : b!.poolFound ? ' (found by the pool)' : ' (found by the network)';
    const how = paid === 0n ? '' : b!.paid[0]!.source === 'pool-payout' ? ` in payout tx ${short(b!.paid[0]!.txid)} from the pool's address` : ' in the coinbase';
    say('pool', `block ${b!.height}${h >= window.end ? ' (payout lag)' : ''}${who}: coinbase ${fmt(b!.rewardSats)} sats, ${fmt(paid)} to the delivery address${how}`);
  }
  // The rewards the oracles count under the rule their new events state (fees capped at 4x the window's median).
  const blocks: BlockRewardWork[] = countedRewards(mined, CURRENT_REWARD_RULE, subsidyHalvingInterval('regtest')).rewards.map((reward) => ({ reward, difficulty }));
  let computed: bigint;
  if (template === 'sale') {
    const expected = expectedDeliverySats(H, blocks);
    computed = deliveryOutcome(delivered, H, blocks, spec).outcome;
    say('', `delivered ${fmt(delivered)} sats${lag > 0 ? ` (paid in [${window.start + lag}, ${window.end + lag}))` : ''}; ${H} TH/s would have earned ${fmt(ratFloor(expected))} sats over these ${n} blocks → ${computed} bps`);
  } else {
    computed = hashpriceOutcome(blocks, spec).outcome;
    say('', `the window's hashprice from these ${n} blocks: ${fmt(computed)} x 10^${spec.precision} sats/PH/day`);
  }

  // 5. One confirmation on the measured range's last block; K oracles of the set attest (the others may too).
  await mineBlocks(s.rpc, 1);
  const attested = await waitForAttestations(set.oracles.map((x) => x.url), offer.eventId, set.threshold);
  let evidenceOk = true;
  for (const { url, attestation } of attested) {
    sayAttestation(say, url, attestation, template);
    const report = await verifyOracleEvent({ oracleUrl: url, eventId: offer.eventId, rpc: s.rpc });
    evidenceOk &&= report.ok && report.outcome === attestation.outcome;
    say('', `hashdlc oracle verify ${url}: the evidence recomputes to ${report.outcome ?? '?'} against the node: ${report.ok ? 'HOLDS' : `FAILS (${report.checks.filter((c) => !c.ok).map((c) => c.name).join(', ')})`}`);
  }
  const outcome = BigInt(attested[0]!.attestation.outcome);
  const agreeing = attested.every((a) => a.attestation.outcome === attested[0]!.attestation.outcome);

  // 6. The coordinator completes the attested CET from the two adaptor signatures it holds
  // (an agent would, from its own signatures, if the coordinator did not: then the coordinator sees it on chain).
  const broadcast = await waitForContractState(s.coordinatorUrl, offer.id, ['cet-broadcast', 'settled']);
  if (broadcast.broadcastBy === 'other') say('agent', `broadcast the CET ${broadcast.closingTxid} first (completed from its own adaptor signatures and the attestations); the coordinator saw it`);
  else say('coordinator', `broadcast CET #${broadcast.cetIndex ?? '?'} ${broadcast.closingTxid} (no key: the attestations decrypt both parties' adaptor signatures)`);
  await mineBlocks(s.rpc, 1);
  const settled = await waitForContractState(s.coordinatorUrl, offer.id, ['settled']);
  say('chain', `block ${String(settled.closingHeight)} confirms the CET; contract ${short(settled.contractId ?? '')} settled`);

  // 7. The check: on-chain payouts against the payout curve at the attested outcome.
  const closingTxid = settled.closingTxid!;
  const onChain = await onChainPayouts(s.rpc, closingTxid, settled);
  const curve = curvePayouts(await offerHexOf(s.coordinatorUrl, offer.id), settled.terms, outcome);
  const want = { offer: onChainValue(curve.offer), accept: onChainValue(curve.accept) };
  const payoutsOk = onChain.offer === want.offer && onChain.accept === want.accept;
  const outcomeOk = agreeing && computed === outcome && evidenceOk;
  const unitText = template === 'sale' ? 'bps' : `x 10^${spec.precision}`;
  out('');
  out(`payouts (sats)      ${'on chain'.padStart(12)}  ${`curve at ${outcome} ${unitText}`.padStart(24)}`);
  out(`  miner (offerer)   ${fmt(onChain.offer).padStart(12)}  ${fmt(want.offer).padStart(24)}`);
  out(`  buyer (accepter)  ${fmt(onChain.accept).padStart(12)}  ${fmt(want.accept).padStart(24)}`);
  if (template === 'sale') out(`  (the miner also received ${fmt(paidAtFunding)} upfront in the funding transaction; the buyer received ${fmt(delivered)} sats of block rewards)`);
  else if (paidSpk !== undefined) out(`  (the miner also received the ${fmt(paidAtFunding)} sats premium in the funding transaction)`);
  if (!outcomeOk) {
    out(`MISMATCH: the oracles attested ${attested.map((a) => a.attestation.outcome).join(', ')}, the blocks mined give ${computed}${evidenceOk ? '' : ', and an oracle\'s evidence does not verify'}`);
  }
  out(payoutsOk && outcomeOk ? 'OK: the payouts on chain equal the payout curve at the attested outcome' : 'FAILED: the payouts on chain differ from the payout curve at the attested outcome');
  return {
    ok: payoutsOk && outcomeOk,
    offerId: offer.id,
    contractId: settled.contractId ?? '',
    template,
    window,
    oracleSet: set,
    attestations: attested.map((a) => ({ url: a.url, outcome: a.attestation.outcome })),
    outcome,
    computedOutcome: computed,
    fundingTxid,
    closingTxid,
    onChain,
    curve: want,
    ms: performance.now() - t0,
  };
}

/** One oracle's attestation as the story tells it. */
function sayAttestation(say: Say, url: string, a: AttestationView, template: DemoTemplate): void {
  const what =
    template === 'sale'
      ? `${a.outcome} bps (pool rewards ${fmt(BigInt(a.result.poolRewards ?? '0'))} sats, network reward ${fmt(BigInt(a.result.networkReward))} sats)`
      : `hashprice ${fmt(BigInt(a.outcome))} (network reward ${fmt(BigInt(a.result.networkReward))} sats)`;
  say('oracle', `${url} attested ${what} at height ${a.attestedAtHeight}`);
}
