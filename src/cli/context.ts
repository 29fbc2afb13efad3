/**
 * What a command runs with: a `Participant` (src/participant) whose progress
 * and notes go to stderr, plus `print`, the result on stdout (human lines or
 * `--json`).
 *
 * This module does NOT implement commands.
 */
import { Participant } from '../participant/participant.js';
import type { CliConfig } from './config.js';
import { progressReporter } from './progress.js';

export class CliContext extends Participant {
  override readonly config: CliConfig;

  /** `readOnly`: the command only reads the wallet (a dry run), so it does not take the wallet lock. */
  constructor(config: CliConfig, options: { readOnly?: boolean } = {}) {
    super(config, { ...options, progress: progressReporter(process.stderr), note: (line) => process.stderr.write(`${line}\n`) });
    this.config = config;
  }

  /** Prints a result: JSON on stdout with `--json`, else the human lines. */
  print(json: unknown, lines: readonly string[]): void {
    if (this.config.json) {
      process.stdout.write(`${JSON.stringify(json, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
    } else {
      process.stdout.write(lines.length === 0 ? '' : `${lines.join('\n')}\n`);
    }
  }
}

/**
 * Runs a command's body with a context and closes it whatever happens (the
 * wallet lock released, the signing workers stopped); 0 when the body returns.
 */
export async function withContext(config: CliConfig, options: { readOnly?: boolean }, body: (ctx: CliContext) => Promise<void>): Promise<number> {
  const ctx = new CliContext(config, options);
  try {
    await body(ctx);
    return 0;
  } finally {
    await ctx.close();
  }
}
