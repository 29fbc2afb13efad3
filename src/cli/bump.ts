/**
 * `hashdlc bump <txid> --fee-rate R`: raises the effective fee rate of a
 * stuck transaction of this wallet by RBF or CPFP (src/participant/bump.ts).
 *
 * This module does NOT build, sign or broadcast anything itself: it parses,
 * calls `bumpTransaction` and prints.
 */
import { bumpTransaction, type BumpMethod } from '../participant/bump.js';
import { usage } from '../participant/errors.js';
import { ratePerVb } from '../participant/fees.js';
import { str, type CommandSpec, parseOrHelp, NODE_OPTIONS } from './args.js';
import { loadConfig } from './config.js';
import { withContext } from './context.js';

export const BUMP_SPEC: CommandSpec = {
  name: 'bump',
  args: '<txid>',
  minArgs: 1,
  summary: 'Raise the effective fee rate of a stuck transaction of this wallet to --fee-rate (CPFP or RBF).',
  details: [
    'RBF (BIP125) when every input is a confirmed coin of this wallet (a wallet send, a cancel): the same',
    'transaction paying more, the extra fee taken from your own output. Otherwise CPFP (a funding, CET, refund',
    'or close transaction): a child spends your output of it to a fresh change address, paying enough that',
    'the two together reach the rate. Refused when the transaction is confirmed, already pays the rate, or',
    'has no output of yours and cannot be replaced by you alone (nothing-to-bump).',
  ],
  options: {
    ...NODE_OPTIONS,
    'fee-rate': { type: 'string', value: 'SAT_PER_VB', help: 'the effective fee rate wanted (required)' },
    cpfp: { type: 'boolean', help: 'bump by CPFP even where RBF is possible' },
    rbf: { type: 'boolean', help: 'bump by RBF only (refused when this wallet cannot replace it alone)' },
  },
};

export async function bumpCommand(argv: string[]): Promise<number> {
  const parsed = parseOrHelp(BUMP_SPEC, argv);
  if (parsed === undefined) return 0;
  // Required as a flag: HASHDLC_FEE_RATE is the default of new transactions, not a bump target.
  const rateArg = str(parsed.values, 'fee-rate');
  if (rateArg === undefined) throw usage("'hashdlc bump' needs --fee-rate SAT_PER_VB (see --help)");
  if (parsed.values.cpfp === true && parsed.values.rbf === true) throw usage('--cpfp and --rbf exclude each other');
  const method: BumpMethod | undefined = parsed.values.cpfp === true ? 'cpfp' : parsed.values.rbf === true ? 'rbf' : undefined;
  const config = loadConfig(parsed.values);
  return withContext(config, {}, async (ctx) => {
    const r = await bumpTransaction(ctx, {
      txid: parsed.positionals[0]!,
      // loadConfig validated the flag (a flag wins over HASHDLC_FEE_RATE), so it is this rate.
      feeRatePerVb: config.feeRatePerVb!,
      ...(method === undefined ? {} : { method }),
    });
    ctx.print(r, [
      r.method === 'rbf'
        ? `replaced ${r.txid} by ${r.bumpTxid} (BIP125): fee ${r.feeSats} sats for ${r.vsize} vB`
        : `CPFP child ${r.bumpTxid} of ${r.txid}: fee ${r.feeSats} sats for ${r.vsize} vB`,
      `effective fee rate ${r.effectiveFeeRatePerVb} sat/vB (was ${ratePerVb(r.before)})`,
    ]);
  });
}
