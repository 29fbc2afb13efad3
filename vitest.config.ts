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
    // The JSON report is what .ci/run counts passes and failures from.
    reporters: ['default', ['json', { outputFile: '.vitest-results.json' }]],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          // vitest's default is one worker less than the cores, which on the
          // 2-core CI machine is one: the unit files ran one after another.
          // Many of them mostly wait on child processes they spawn, so two
          // at a time use both cores. (The regtest group runs after this one,
          // never alongside it.)
          maxWorkers: Math.max(2, availableParallelism() - 1),
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
        },
      },
    ],
  },
});
