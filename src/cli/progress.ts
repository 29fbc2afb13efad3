/**
 * The CLI's progress reporter: a rewritten line on a terminal, a line per
 * tenth otherwise, on stderr (never into `--json` output on stdout).
 *
 * This module does NOT sign or verify (src/participant/progress.ts does).
 */
import type { Progress } from '../participant/progress.js';

/** A reporter on `stream` (stderr by default); silent when `quiet`. */
export function progressReporter(stream: NodeJS.WriteStream = process.stderr, quiet = false): Progress {
  let lastTenth = -1;
  let lastLabel = '';
  return (label, done, total) => {
    if (quiet) return;
    if (label !== lastLabel) {
      lastLabel = label;
      lastTenth = -1;
    }
    const pct = total === 0 ? 100 : Math.floor((done * 100) / total);
    if (stream.isTTY) {
      stream.write(`\r${label}: ${done}/${total} (${pct}%)${done === total ? '\n' : ''}`);
      return;
    }
    const tenth = Math.floor(pct / 10);
    if (tenth !== lastTenth || done === total) {
      lastTenth = tenth;
      stream.write(`${label}: ${done}/${total} (${pct}%)\n`);
    }
  };
}

