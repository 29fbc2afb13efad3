/**
 * The measurement risk of a hashpower sale paid by a luck-based pool (issue
 * 16), as `offer` and `accept` show it: per measured window (a strip's
 * periods one by one) the pool blocks expected and the chance that a miner
 * who delivers in full is measured under the tolerance (protocol/terms
 * `saleLuckRisks`, protocol/hashpower `luckRisk`), with a warning over
 * `LUCK_RISK_WARN_CHANCE`.
 *
 * This module does NOT print: the CLI writes the warnings to stderr, the
 * lines with the summary.
 */
import { LUCK_RISK_WARN_CHANCE, formatChance } from '../../protocol/hashpower/index.js';
import { saleLuckRisks, type OfferTerms, type SaleLuckRisk } from '../../protocol/terms/index.js';

/** Above this chance of a short measurement of full delivery the offer and the accept warn (protocol/hashpower). */
export { LUCK_RISK_WARN_CHANCE };

/** The stable name of the warning (`warning LUCK_RISK: ...` on the CLI's stderr). */
export const LUCK_RISK_WARNING = 'LUCK_RISK';

export interface MeasurementRisk {
  /** One entry per measured window; empty: the terms state no pool share (or a periodic-payout pool). */
  risks: SaleLuckRisk[];
  /** Human lines for the summary. */
  lines: string[];
  /** One line per window over `LUCK_RISK_WARN_CHANCE` (without the `warning LUCK_RISK:` prefix). */
  warnings: string[];
}

const pct = (bps: number): string => `${(bps / 100).toFixed(2)}%`;

function where(r: SaleLuckRisk): string {
  return `${r.period !== undefined ? `period ${r.period + 1} ` : ''}[${r.window.start}, ${r.window.end})`;
}

/**
 * The risk lines and warnings of the terms (empty for terms without a pool share).
 * @throws {DlcError} INVALID_PARAMS `strip-periods` (a strip's window too short to split).
 */
export function measurementRisk(terms: OfferTerms): MeasurementRisk {
  const risks = saleLuckRisks(terms);
  if (risks.length === 0) return { risks, lines: [], warnings: [] };
  const r0 = risks[0]!;
  const lines = [
    `pool luck: the pool holds ${pct(r0.poolShareBps)} of the network (${r0.payoutScheme ?? 'per-block payouts, today\'s rule'}); a miner delivering in full is paid only in the blocks the pool finds`,
    ...risks.map((r) => `  ${where(r)}: expected pool blocks ${r.expectedPoolBlocks}; chance a fully delivering miner measures under the ${pct(r.toleranceBps)} tolerance: ${formatChance(r.underToleranceChance)} (${r.underToleranceBlocks} pool blocks or fewer)`),
  ];
  const warnings = risks
    .filter((r) => r.underToleranceChance > LUCK_RISK_WARN_CHANCE)
    .map((r) => `${where(r)}: a fully delivering miner measures under the tolerance with chance ${formatChance(r.underToleranceChance)} (over ${formatChance(LUCK_RISK_WARN_CHANCE)}): the window holds only ${r.expectedPoolBlocks} expected pool blocks; a longer window, a larger pool or a lower tolerance lowers it`);
  return { risks, lines, warnings };
}
