import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Two projects: `unit` (no node, fast, files in parallel) and `regtest` (one
// regtest node per run started by the global setup; files one after another,
// since they share that node's chain). `npm test` runs both; `npm run
// test:regtest` runs `--project regtest` only.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The JSON report is what .ci/run counts passes and failures from
    // (test/run-suites.ts gives each of its two processes its own file and
    // merges them into this one).
    reporters: ['default', ['json', { outputFile: process.env.HASHDLC_VITEST_JSON ?? '.vitest-results.json' }]],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          // One worker less than the cores (vitest's default), at least one:
          // `npm test` runs this project in its own process NEXT TO the
          // regtest one (test/run-suites.ts), whose one file at a time
          // mostly waits on its node and services. (Two unit workers next to
          // each other, measured in CI on 2 cores, made the unit phase slower:
          // 347 s against about 300 s for one.)
          maxWorkers: Math.max(1, availableParallelism() - 1),
          include: ['test/**/*.test.ts'],
          exclude: ['test/regtest/**', '**/node_modules/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'regtest',
          include: ['test/regtest/**/*.test.ts'],
          globalSetup: ['regtest/vitest-setup.ts'],
          fileParallelism: false,
          // One worker runs every regtest file in turn, keeping its module
          // cache, instead of a new fork per file that transforms and imports
          // the whole module graph again (measured on 6 files: about 0.7 s a
          // file on an idle machine, 3.3 s on a busy one). Shared between
          // files, then: modules' top-level state (the node and PostgreSQL
          // exit handlers install once) and globals; vitest itself restores
          // every vi.spyOn (the files' fetch spies) after each file.
          isolate: false,
        },
      },
    ],
  },
});
