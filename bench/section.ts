/**
 * The shape of one benchmark section (crypto, later chain, oracle,
 * coordinator). `bench/run.ts` runs the sections in order; each prints its
 * own table and returns a summary that is merged into the final JSON line.
 */

export interface BenchOptions {
  /** CET counts to measure, e.g. [1000, 10000]. */
  cets: number[];
  /** Restrict to these secp256k1 backends (undefined = all that load). */
  backends: string[] | undefined;
  /** Worker threads of the pooled runs. */
  threads: number;
  /** Oracle sets the contract section measures each contract with, e.g. 1-of-1, 2-of-3, 3-of-5. */
  oracleSets: OracleSet[];
  /** The strip section's periods (default 30) and blocks per period (default 144: a day). */
  stripPeriods: number;
  stripPeriodBlocks: number;
}

/** A t-of-n oracle set (1-of-1 is a single oracle). */
export interface OracleSet {
  threshold: number;
  n: number;
}

/**
 * Parses `1-of-1,2-of-3,3-of-5`.
 * @throws {RangeError} for anything else, or a threshold not in [1, n].
 */
export function parseOracleSets(list: string): OracleSet[] {
  return list.split(',').map((s) => {
    const m = /^(\d+)-of-(\d+)$/.exec(s.trim());
    const threshold = Number(m?.[1]);
    const n = Number(m?.[2]);
    if (m === null || threshold < 1 || threshold > n) throw new RangeError(`--oracle-sets: '${s}' is not K-of-N with 1 <= K <= N`);
    return { threshold, n };
  });
}

export interface BenchSection {
  name: string;
  run(opts: BenchOptions): Promise<Record<string, unknown>>;
}

/** Renders rows as a fixed-width text table. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
