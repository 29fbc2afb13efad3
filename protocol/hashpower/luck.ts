/**
 * Pool luck (issue 16): the chance that a miner who delivers in full to a
 * luck-based pool (PPLNS, TIDES: the pool pays only when it finds a block)
 * is measured under the tolerance of a hashpower sale, for the offer to show
 * before anyone signs.
 *
 * Model: the pool finds each block of the window with probability `s` (its
 * share of the network hashrate), so over `W` blocks it finds
 * `K ~ Poisson(λ)` blocks, `λ = s·W` (the binomial's Poisson limit: `s` is
 * small and `W` large for any real pool). Each pool block pays the miner its
 * share of that block, so the measured delivery ratio is `K / λ`. A fully
 * delivering miner is measured under the tolerance `tol` when
 *
 *     K / λ < tol  ⇔  K < tol·λ  ⇔  K ≤ ceil(tol·λ) − 1
 *
 * (boundary: `K = tol·λ` exactly is AT the tolerance, i.e. full delivery, as
 * the sale's payout curve counts it), so the chance is the Poisson CDF
 * `P(K ≤ ceil(tol·λ) − 1)`, with `tol·λ = toleranceBps·poolShareBps·W / 10^8`
 * computed exactly in integers before the ceiling. `λ = 0` (no window or no
 * share) means the pool finds no block and the buyer is paid nothing: the
 * chance is 1.
 *
 * Not modelled: fee variance between blocks, the pool's share moving during
 * the window, difficulty adjustments; they widen the spread. The Poisson in
 * turn overstates the spread of the per-block model itself (binomial,
 * variance λ(1−s)) for a large pool: at 30% over 4,032 blocks 4.1% against
 * the binomial's 1.9%; for pools of a few percent the two agree.
 *
 * This is a DISPLAY figure (floating point): it is not bound into any event,
 * outcome or contract, unlike everything else in protocol/hashpower, which is
 * exact. No I/O.
 */

import { isLuckBased, type PayoutScheme } from './formulas.js';

/** Share and tolerance are basis points of 1 (10,000 = 100%). */
const BPS = 10_000n;

/**
 * Above this chance of a short measurement of full delivery the offer, the
 * accept and the dashboard warn: one window in twenty paying the miner less
 * than it delivered is more luck than a sale should carry unstated.
 */
export const LUCK_RISK_WARN_CHANCE = 0.05;

/**
 * Whether pool luck moves the measured delivery under a stated payout scheme
 * (formulas.ts `isLuckBased`). No scheme stated is today's rule, rewards paid
 * per block of the window as the pool finds them: luck-based, so the offer
 * shows its risk (protocol/terms `saleLuckRisks`).
 */
export function isLuckBasedScheme(scheme: PayoutScheme | undefined): boolean {
  return scheme === undefined || isLuckBased(scheme);
}

export interface LuckRiskInput {
  /** The window length `W` in blocks (`end - start`). */
  windowBlocks: number;
  /** The pool's share `s` of the network hashrate, in basis points (0..10,000). */
  poolShareBps: number;
  /** The sale's tolerance `tol` in basis points (1..10,000): a ratio at or above it is full delivery. */
  toleranceBps: number;
}

export interface LuckRisk {
  /** `λ = s·W`: the pool blocks expected in the window. */
  expectedPoolBlocks: number;
  /** The largest number of pool blocks still measured under the tolerance: `ceil(tol·λ) − 1` (0 when λ = 0). */
  underToleranceBlocks: number;
  /** `P(K ≤ underToleranceBlocks)`, `K ~ Poisson(λ)`: a fully delivering miner measured under the tolerance. */
  underToleranceChance: number;
}

const LN_2PI = Math.log(2 * Math.PI);

/** `ln(n!)`: summed below 30, Stirling's series above (absolute error under 1e-15 there). */
function logFactorial(n: number): number {
  if (n < 30) {
    let s = 0;
    for (let i = 2; i <= n; i++) s += Math.log(i);
    return s;
  }
  const n2 = n * n;
  return n * Math.log(n) - n + 0.5 * (LN_2PI + Math.log(n)) + (1 / 12 - (1 / 360 - (1 / 1260 - 1 / (1680 * n2)) / n2) / n2) / n;
}

/** `ln P(K = k)` for `K ~ Poisson(λ)`, `λ > 0`. */
function logPoissonPmf(k: number, lambda: number): number {
  return -lambda + k * Math.log(lambda) - logFactorial(k);
}

/** Terms this far below the running sum no longer change a double. */
const NEGLIGIBLE = 1e-18;

/**
 * `P(K ≤ k)` for `K ~ Poisson(λ)`, `λ > 0`, computed from the smaller tail
 * so a tiny probability keeps its relative precision: each tail is summed
 * from its end nearest the mode outwards, every term from the last by the
 * pmf recurrence (`p(k−1) = p(k)·k/λ`, `p(k+1) = p(k)·λ/(k+1)`), the first
 * in log space (no `e^−λ` underflow at λ in the thousands), stopping once
 * the terms are negligible: O(√λ) steps.
 */
export function poissonCdf(k: number, lambda: number): number {
  if (!(lambda > 0) || !Number.isFinite(lambda)) throw new RangeError(`poissonCdf: λ must be a positive finite number, got ${lambda}`);
  if (!Number.isInteger(k)) throw new RangeError(`poissonCdf: k must be an integer, got ${k}`);
  if (k < 0) return 0;
  if (k < lambda) {
    // Lower tail: p(k) + p(k−1) + ... + p(0), decreasing away from the mode.
    let term = Math.exp(logPoissonPmf(k, lambda));
    let sum = term;
    for (let j = k; j > 0 && term > sum * NEGLIGIBLE; j--) {
      term *= j / lambda;
      sum += term;
    }
    return Math.min(1, sum);
  }
  // Upper tail 1 − (p(k+1) + p(k+2) + ...), decreasing away from the mode.
  let term = Math.exp(logPoissonPmf(k + 1, lambda));
  let tail = term;
  for (let j = k + 1; term > tail * NEGLIGIBLE; j++) {
    term *= lambda / (j + 1);
    tail += term;
  }
  return Math.max(0, 1 - tail);
}

/**
 * The measurement risk of a hashpower sale paid by a luck-based pool (module
 * header): the expected pool blocks `λ = s·W` and the chance that a fully
 * delivering miner is measured under the tolerance.
 * @throws {RangeError} `windowBlocks` not a non-negative integer, `poolShareBps` not an integer in 0..10,000, `toleranceBps` not in 1..10,000.
 */
export function luckRisk(input: LuckRiskInput): LuckRisk {
  const { windowBlocks: w, poolShareBps: s, toleranceBps: tol } = input;
  if (!Number.isSafeInteger(w) || w < 0) throw new RangeError(`luckRisk: windowBlocks must be a non-negative integer, got ${w}`);
  if (!Number.isInteger(s) || s < 0 || s > 10_000) throw new RangeError(`luckRisk: poolShareBps must be an integer in 0..10000, got ${s}`);
  if (!Number.isInteger(tol) || tol < 1 || tol > 10_000) throw new RangeError(`luckRisk: toleranceBps must be an integer in 1..10000, got ${tol}`);
  const lambdaBps = BigInt(s) * BigInt(w);
  const expectedPoolBlocks = Number(lambdaBps) / 10_000;
  // No pool block expected: none found, nothing paid, measured 0 (under any tolerance of 1 bps or more).
  if (lambdaBps === 0n) return { expectedPoolBlocks: 0, underToleranceBlocks: 0, underToleranceChance: 1 };
  // tol·λ = tol·s·W / 10^8, exactly; under the tolerance: K ≤ ceil(tol·λ) − 1.
  const num = BigInt(tol) * lambdaBps;
  const ceil = (num + BPS * BPS - 1n) / (BPS * BPS);
  const underToleranceBlocks = Number(ceil) - 1;
  return { expectedPoolBlocks, underToleranceBlocks, underToleranceChance: poissonCdf(underToleranceBlocks, expectedPoolBlocks) };
}

/**
 * A chance as a percentage for people: one decimal from 0.1%, two significant
 * digits below it (a 1e-31 risk is not "0.0%"), "0%" and "100%" exact.
 */
export function formatChance(p: number): string {
  if (p <= 0) return '0%';
  if (p >= 1) return '100%';
  const percent = p * 100;
  return percent >= 0.1 ? `${percent.toFixed(1)}%` : `${percent.toPrecision(2)}%`;
}
