/**
 * `npm run bench`: runs the benchmark sections in order, each printing a
 * readable table, then prints ONE JSON line (the last line of output) with
 * the headline figures: `{"cets":10000,"setupMs":...,"signMsPerCet":...,"verifyMsPerCet":...}`
 * from the crypto section plus whatever later sections add.
 *
 * Options: --cets 1000,10000  --backends native,wasm,noble  --threads 2  --sections crypto
 *          --oracle-sets 1-of-1,2-of-3,3-of-5 (the contract section's oracle sets)
 *          --strip-periods 30 --strip-period-blocks 144 (the strip section's split)
 *          (the transfer section transfers the default sale and a contract of the largest --cets)
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { chainSection } from './chain.js';
import { contractSection } from './contract.js';
import { coordinatorSection } from './coordinator.js';
import { cryptoSection } from './crypto.js';
import { lifecycleSection } from './lifecycle.js';
import { oracleSection } from './oracle.js';
import { stripSection } from './strip.js';
import { transferSection } from './transfer.js';
import { parseOracleSets, type BenchOptions, type BenchSection } from './section.js';

const SECTIONS: BenchSection[] = [cryptoSection, contractSection, chainSection, lifecycleSection, oracleSection, coordinatorSection, stripSection, transferSection];

function positiveInteger(s: string, flag: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${flag}: '${s}' is not a positive integer`);
  return n;
}

const { values } = parseArgs({
  options: {
    cets: { type: 'string', default: '1000,10000' },
    backends: { type: 'string' },
    threads: { type: 'string' },
    sections: { type: 'string' },
    'oracle-sets': { type: 'string', default: '1-of-1,2-of-3,3-of-5' },
    'strip-periods': { type: 'string', default: '30' },
    'strip-period-blocks': { type: 'string', default: '144' },
  },
});

const opts: BenchOptions = {
  cets: values.cets.split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0),
  backends: values.backends?.split(',').map((s) => s.trim()),
  threads: values.threads === undefined ? Math.max(1, availableParallelism()) : Number(values.threads),
  oracleSets: parseOracleSets(values['oracle-sets']),
  stripPeriods: positiveInteger(values['strip-periods'], '--strip-periods'),
  stripPeriodBlocks: positiveInteger(values['strip-period-blocks'], '--strip-period-blocks'),
};
const wanted = values.sections?.split(',').map((s) => s.trim());

const summary: Record<string, unknown> = {};
for (const section of SECTIONS) {
  if (wanted !== undefined && !wanted.includes(section.name)) continue;
  Object.assign(summary, await section.run(opts));
}
console.log(JSON.stringify(summary));
