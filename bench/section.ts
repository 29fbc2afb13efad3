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
