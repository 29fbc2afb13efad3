/**
 * The test step of `npm test`: vitest's two projects in two processes at
 * once, `unit` and `regtest`, then their JSON reports merged into the one
 * `.vitest-results.json` that `.ci/run` counts passes and failures from.
 *
 * Why two processes: vitest runs the projects of one run one after the other
 * (measured: the regtest files started only once the last unit file ended),
 * yet the regtest files, one at a time, mostly wait on their node, services
 * and blocks while the unit files mostly compute; side by side they share the
 * machine's cores instead of taking turns; the unit side runs at a lower CPU
 * priority, so the regtest side's waits are not stretched. Each line a
 * process prints is prefixed with its project's name.
 *
 * Arguments (`npm test -- test/foo.test.ts`) mean one plain `vitest run` with
 * them, as before. Exit code: 0 only when both processes passed.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { createInterface } from 'node:readline';

const MERGED = '.vitest-results.json';
const PROJECTS = ['unit', 'regtest'] as const;

interface JsonReport {
  numTotalTestSuites: number;
  numPassedTestSuites: number;
  numFailedTestSuites: number;
  numPendingTestSuites: number;
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  startTime: number;
  success: boolean;
  testResults: unknown[];
}

const COUNTS = [
  'numTotalTestSuites', 'numPassedTestSuites', 'numFailedTestSuites', 'numPendingTestSuites',
  'numTotalTests', 'numPassedTests', 'numFailedTests', 'numPendingTests', 'numTodoTests',
] as const;

/**
 * Niceness of the unit process: the regtest files wait on timed things (their
 * node, services and polls) and are slowed most by a busy CPU, while the unit
 * files only need the CPU time the regtest side leaves. Measured in CI on 2
 * cores without it: the regtest side took 917 s next to the unit side, against
 * about 700 s alone.
 */
const UNIT_NICENESS = 10;

/** Runs `vitest run` with `args`, its output lines prefixed; resolves to its exit code. */
function vitest(args: string[], prefix: string, env: NodeJS.ProcessEnv, niceness = 0): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    // Set at once, before vitest forks its workers: they and their children inherit it.
    if (niceness !== 0 && child.pid !== undefined) {
      try {
        setPriority(child.pid, niceness);
      } catch {
        // Not permitted here: the two processes simply share the CPU evenly.
      }
    }
    for (const [from, to] of [[child.stdout, process.stdout], [child.stderr, process.stderr]] as const) {
      createInterface({ input: from }).on('line', (line) => to.write(`${prefix}${line}\n`));
    }
    child.on('error', (e) => {
      process.stderr.write(`${prefix}could not start vitest: ${e.message}\n`);
      resolve(1);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}

function readReport(file: string): JsonReport | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as JsonReport;
  } catch {
    return undefined;
  }
}

async function main(argv: string[]): Promise<number> {
  if (argv.length > 0) return vitest(argv, '', process.env);
  rmSync(MERGED, { force: true });
  const files = PROJECTS.map((p) => `.vitest-results.${p}.json`);
  for (const f of files) rmSync(f, { force: true });
  const codes = await Promise.all(PROJECTS.map((p, i) =>
    vitest(['--project', p], `[${p}] `, { ...process.env, HASHDLC_VITEST_JSON: files[i] }, p === 'unit' ? UNIT_NICENESS : 0)));
  const reports = files.map(readReport);
  if (reports.every((r) => r === undefined)) return codes.find((c) => c !== 0) ?? 1;
  const merged: JsonReport = {
    ...COUNTS.reduce((o, k) => ({ ...o, [k]: reports.reduce((s, r) => s + (r?.[k] ?? 0), 0) }), {} as Pick<JsonReport, (typeof COUNTS)[number]>),
    startTime: Math.min(...reports.map((r) => r?.startTime ?? Number.POSITIVE_INFINITY)),
    success: reports.every((r) => r?.success === true),
    testResults: reports.flatMap((r) => r?.testResults ?? []),
  };
  writeFileSync(MERGED, JSON.stringify(merged));
  for (const f of files) rmSync(f, { force: true });
  PROJECTS.forEach((p, i) => {
    if (reports[i] === undefined) process.stderr.write(`[${p}] wrote no report (exit ${codes[i]})\n`);
  });
  return codes.every((c) => c === 0) && reports.every((r) => r !== undefined) ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
