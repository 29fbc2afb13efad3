/**
 * `hashdlc offer <template>` (the miner makes an offer and posts it to the
 * coordinator) and `hashdlc offers` (the offer book, and one offer with
 * `offers show <id>`): the command line parsed into the library's input
 * (src/participant/offer.ts `makeOffer`, `listOffers`, `showOffer`), the
 * result printed.
 *
 * This module does NOT build, check or post offers (the library does), nor
 * accept them (negotiate.ts).
 */
import { readFileSync } from 'node:fs';
import { EXTERNAL_FUNDING_OPTIONS, bigintOpt, intOpt, list, required, str, type CommandSpec, type OptionValues, parseOrHelp, pickOptions, NET_OPTIONS } from './args.js';
import { loadConfig } from './config.js';
import { CliContext, withContext } from './context.js';
import { usage } from '../participant/errors.js';
import { listOffers, makeOffer, showOffer, stripPeriodsOf, type BlockWindow, type OfferCommon, type OfferInput } from '../participant/offer.js';
import { LUCK_RISK_WARNING, measurementRisk, type MeasurementRisk } from '../participant/luck.js';
import { PAYOUT_SCHEMES, type PayoutScheme } from '../../protocol/terms/index.js';
import { MAX_PAYOUT_LAG_BLOCKS } from '../../protocol/hashpower/index.js';
import { oracleSetLines } from '../participant/oracle-set.js';
import type { OfferView } from '../api/coordinator.js';
import type { OfferTerms } from '../../protocol/terms/index.js';

const OFFER_COMMON = {
  ...NET_OPTIONS,
  event: { type: 'string', value: 'ID', help: 'oracle event id to settle on' },
  'fee-rate': { type: 'string', value: 'SAT_PER_VB', help: 'funding fee rate (default: node estimate; 2 on regtest)', env: 'HASHDLC_FEE_RATE' },
  'cet-locktime': { type: 'string', value: 'HEIGHT', help: "CET nLockTime (default: the event window's end height, plus the event's payout lag)" },
  'refund-locktime': { type: 'string', value: 'HEIGHT', help: 'refund nLockTime (default: window end (+ payout lag) + 144 blocks; 20 on regtest; at most the attestation height + 1008; 100 on regtest)' },
  'funding-deadline': { type: 'string', value: 'HEIGHT', help: 'no accept, sign or fund from this height on (default: window start - 6; 2 on regtest; at most the window start)' },
  'rounding-mod': { type: 'string', value: 'SATS', help: 'payout grid on the sloped part (default: total collateral / 50)' },
  'dry-run': { type: 'boolean', help: 'show the contract and stop before posting anything' },
  ...EXTERNAL_FUNDING_OPTIONS,
} as const satisfies CommandSpec['options'];

const WINDOW = { window: { type: 'string', value: 'START-END', help: 'block window [START, END) (hashpower: required unless --event)' } } as const;

/** A strip (issue 12): the window split into period contracts funded by one transaction. */
const STRIP = {
  periods: { type: 'string', value: 'N', help: 'a strip: N consecutive period contracts over --window, one funding transaction (2..100)' },
  'period-blocks': { type: 'string', value: 'B', help: 'a strip of periods of B blocks (the window length must be a multiple of B); instead of --periods' },
} as const satisfies CommandSpec['options'];
const STRIP_DETAILS = [
  '--periods N / --period-blocks B: a strip. Each period is its own contract (own oracle event, CETs, refund) over its',
  'share of the window; amounts split by blocks; one funding transaction; each period settles on its own.',
];

export const OFFER_SPECS: Record<string, CommandSpec> = {
  hashpower: {
    name: 'offer hashpower',
    summary: 'Offer a hashpower sale: the buyer pays upfront + escrow, you lock collateral; payout by delivery ratio.',
    details: [
      'Creates (or reuses) the oracle\'s hashpower-delivery event for the window, delivery address and hashrate.',
      'Miner payout: escrow + collateral at or above the tolerance, 0 at 0, linear in between.',
      '--pool-share-bps S: pool luck. With a luck-based pool (or no --payout-scheme) the offer shows the pool blocks expected',
      'in the window and the chance that full delivery measures under the tolerance (Poisson); over 5% it warns (LUCK_RISK).',
      '--payout-scheme S, --payout-lag-blocks N: event parameters (bound into its id). FPPS pays each period\'s shares later from',
      'a payout address (declare it with --pool-payout-address): --payout-scheme periodic-payout --payout-lag-blocks N',
      'counts the payouts made N blocks after the window for it. A buyer refuses an event whose scheme is not the terms\'.',
      ...STRIP_DETAILS,
      'A strip pays --upfront once; escrow and collateral are split over the periods.',
    ],
    options: {
      ...OFFER_COMMON,
      ...WINDOW,
      ...STRIP,
      hashrate: { type: 'string', value: 'THS', help: 'contracted hashrate, TH/s (required)' },
      'delivery-address': { type: 'string', value: 'ADDR', help: "the buyer's delivery address D (required)" },
      upfront: { type: 'string', value: 'SATS', help: 'paid to you inside the funding transaction (default 0)' },
      escrow: { type: 'string', value: 'SATS', help: 'the buyer\'s part of the price locked in the DLC (required)' },
      collateral: { type: 'string', value: 'SATS', help: 'your collateral (required)' },
      tolerance: { type: 'string', value: 'BPS', help: 'delivery ratio counted as full delivery (default 9500)' },
      'pool-payout-address': { type: 'string', value: 'ADDR', multiple: true, help: 'declared pool payout address' },
      'nb-digits': { type: 'string', value: 'N', help: 'digits of a new delivery event (default: the oracle\'s)' },
      'pool-share-bps': { type: 'string', value: 'BPS', help: "your pool's share of the network hashrate, bps (1..10000): the offer shows the chance of a short measurement" },
      'payout-scheme': { type: 'string', value: 'SCHEME', help: "your pool's payouts: per-block-coinbase | per-block-payout (luck-based) | periodic-payout (default: today's per-block rule); the oracle's event states it" },
      'payout-lag-blocks': { type: 'string', value: 'N', help: `the event's payout lag: payouts in [START+N, END+N) count for the window (a pool paying a period's shares N blocks later); the oracle attests N blocks later, the locktimes move with it (0..${MAX_PAYOUT_LAG_BLOCKS}, default 0)` },
    },
  },
  'hashprice-forward': {
    name: 'offer hashprice-forward',
    summary: 'Offer a hashprice forward: you lock in STRIKE sats/PH/day on HASHRATE over the event\'s window.',
    details: STRIP_DETAILS,
    options: {
      ...OFFER_COMMON,
      ...WINDOW,
      ...STRIP,
      hashrate: { type: 'string', value: 'THS', help: 'quantity, TH/s (required)' },
      strike: { type: 'string', value: 'SATS', help: 'strike, sats per PH/s per day (required)' },
      collateral: { type: 'string', value: 'SATS', help: 'your collateral (required)' },
      'buyer-collateral': { type: 'string', value: 'SATS', help: 'the buyer\'s collateral (required)' },
    },
  },
  'hashprice-call': {
    name: 'offer hashprice-call',
    summary: 'Offer a hashprice call: the buyer pays a premium; receives Q*days*max(0, hashprice - K), capped at your collateral.',
    details: [...STRIP_DETAILS, 'A strip of calls pays --premium once; the collateral is split over the periods.'],
    options: {
      ...OFFER_COMMON,
      ...WINDOW,
      ...STRIP,
      hashrate: { type: 'string', value: 'THS', help: 'quantity, TH/s (required)' },
      strike: { type: 'string', value: 'SATS', help: 'strike K, sats per PH/s per day (required)' },
      collateral: { type: 'string', value: 'SATS', help: 'your collateral: the buyer\'s largest gain (required)' },
      premium: { type: 'string', value: 'SATS', help: 'paid to you inside the funding transaction (default 0)' },
    },
  },
  custom: {
    name: 'offer custom',
    summary: 'Offer any payout curve (dlcspecs polynomial/hyperbola pieces) over an announced numeric event.',
    details: ['--curve FILE: { "payoutFunction": {...}, "roundingIntervals": {...} } (protocol/templates/custom.ts).'],
    options: {
      ...OFFER_COMMON,
      curve: { type: 'string', value: 'FILE', help: 'the curve JSON (required)' },
      collateral: { type: 'string', value: 'SATS', help: 'your collateral (required)' },
      'accept-collateral': { type: 'string', value: 'SATS', help: 'the accepter\'s collateral (required)' },
      unit: { type: 'string', value: 'UNIT', help: 'require the event to have this unit' },
    },
  },
};

export const OFFERS_SPEC: CommandSpec = {
  name: 'offers',
  args: '[show <offer-id>]',
  summary: 'List open offers on the coordinator, or show one offer: its terms, event and oracle set.',
  maxArgs: 2,
  options: {
    ...pickOptions('coordinator', 'json'),
    template: { type: 'string', value: 'NAME', help: 'hashpower-sale | hashprice-forward | hashprice-call | custom-curve' },
    'window-start': { type: 'string', value: 'HEIGHT', help: 'windows starting at or after HEIGHT' },
    'window-end': { type: 'string', value: 'HEIGHT', help: 'windows ending at or before HEIGHT' },
    'min-price': { type: 'string', value: 'SATS', help: 'price at least (sale: upfront+escrow; hashprice: strike)' },
    'max-price': { type: 'string', value: 'SATS', help: 'price at most' },
    limit: { type: 'string', value: 'N', help: 'page size' },
    after: { type: 'string', value: 'ID', help: 'next page after this offer id' },
  },
};

function parseWindow(v: string | undefined): BlockWindow | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d{1,9})-(\d{1,9})$/.exec(v);
  if (m === null) throw usage(`--window must be START-END (block heights), got '${v}'`);
  const w = { start: Number(m[1]), end: Number(m[2]) };
  if (w.end <= w.start) throw usage(`--window ${v} is empty`);
  return w;
}

function needBig(values: OptionValues, name: string, command: string): bigint {
  const v = bigintOpt(values, name);
  if (v === undefined) throw usage(`'hashdlc ${command}' needs --${name} (see --help)`);
  return v;
}

/**
 * The library input of `hashdlc offer <template>`: argument errors first,
 * before anything is contacted (a custom curve's file is read here).
 * @throws {ParticipantError} USAGE.
 */
function offerInput(template: string, v: OptionValues, cmd: string): OfferInput {
  const collateral = needBig(v, 'collateral', cmd);
  const common: OfferCommon = {
    collateral,
    ...defined({
      eventId: str(v, 'event'),
      roundingMod: bigintOpt(v, 'rounding-mod'),
      cetLocktime: intOpt(v, 'cet-locktime'),
      refundLocktime: intOpt(v, 'refund-locktime'),
      fundingDeadline: intOpt(v, 'funding-deadline'),
      payoutAddress: str(v, 'payout-address'),
      changeAddress: str(v, 'change-address'),
    }),
    dryRun: v['dry-run'] === true,
    utxos: list(v, 'utxo'),
  };
  if (template !== 'custom') Object.assign(common, defined({ periods: intOpt(v, 'periods'), periodBlocks: intOpt(v, 'period-blocks') }));
  switch (template) {
    case 'hashpower': {
      const hashrateThs = needBig(v, 'hashrate', cmd);
      const deliveryAddress = required(v, 'delivery-address', cmd);
      const escrow = needBig(v, 'escrow', cmd);
      return {
        ...common,
        ...defined({
          window: parseWindow(str(v, 'window')),
          nbDigits: intOpt(v, 'nb-digits'),
          toleranceBps: intOpt(v, 'tolerance'),
          poolShareBps: poolShareOpt(v),
          payoutScheme: payoutSchemeOpt(v),
          payoutLagBlocks: payoutLagOpt(v),
        }),
        template,
        hashrateThs,
        deliveryAddress,
        escrow,
        upfront: bigintOpt(v, 'upfront', 0n)!,
        poolPayoutAddresses: list(v, 'pool-payout-address'),
      };
    }
    case 'hashprice-forward': {
      const hashrateThs = needBig(v, 'hashrate', cmd);
      const strikeSatsPerPhDay = needBig(v, 'strike', cmd);
      const buyerCollateral = needBig(v, 'buyer-collateral', cmd);
      return { ...common, ...defined({ window: parseWindow(str(v, 'window')) }), template, hashrateThs, strikeSatsPerPhDay, buyerCollateral };
    }
    case 'hashprice-call': {
      const hashrateThs = needBig(v, 'hashrate', cmd);
      const strikeSatsPerPhDay = needBig(v, 'strike', cmd);
      return { ...common, ...defined({ window: parseWindow(str(v, 'window')) }), template, hashrateThs, strikeSatsPerPhDay, premium: bigintOpt(v, 'premium', 0n)! };
    }
    default: {
      const curveFile = required(v, 'curve', cmd);
      const acceptCollateral = needBig(v, 'accept-collateral', cmd);
      return { ...common, ...defined({ unit: str(v, 'unit') }), template: 'custom', curve: readFileSync(curveFile, 'utf8'), acceptCollateral };
    }
  }
}

/** `--pool-share-bps`: 1..10000 (the terms' `poolShareBps`). */
function poolShareOpt(v: OptionValues): number | undefined {
  const s = intOpt(v, 'pool-share-bps');
  if (s !== undefined && (s < 1 || s > 10_000)) throw usage(`--pool-share-bps must be 1..10000 (basis points of the network hashrate), got ${s}`);
  return s;
}

/** `--payout-scheme`: one of the terms' `PAYOUT_SCHEMES`. */
function payoutSchemeOpt(v: OptionValues): PayoutScheme | undefined {
  const s = str(v, 'payout-scheme');
  if (s === undefined) return undefined;
  if (!(PAYOUT_SCHEMES as readonly string[]).includes(s)) throw usage(`--payout-scheme must be ${PAYOUT_SCHEMES.join(' | ')}, got '${s}'`);
  return s as PayoutScheme;
}

/** `--payout-lag-blocks`: 0..`MAX_PAYOUT_LAG_BLOCKS` (the oracle refuses more). */
function payoutLagOpt(v: OptionValues): number | undefined {
  const n = intOpt(v, 'payout-lag-blocks');
  if (n !== undefined && (n < 0 || n > MAX_PAYOUT_LAG_BLOCKS)) throw usage(`--payout-lag-blocks must be 0..${MAX_PAYOUT_LAG_BLOCKS} blocks, got ${n}`);
  return n;
}

/**
 * The pool-luck warnings on stderr, one named line each (`warning LUCK_RISK: ...`),
 * so a script can grep them while stdout stays the result.
 */
export function printLuckWarnings(risk: MeasurementRisk): void {
  for (const w of risk.warnings) process.stderr.write(`warning ${LUCK_RISK_WARNING}: ${w}\n`);
}

/** The entries of `o` that are defined (optional input fields are absent, never `undefined`). */
function defined<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, val]) => val !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

async function offerCommand(template: string, argv: string[]): Promise<number> {
  const spec = OFFER_SPECS[template];
  if (spec === undefined) {
    throw usage(`unknown template '${template}': hashpower | hashprice-forward | hashprice-call | custom`);
  }
  const parsed = parseOrHelp(spec, argv);
  if (parsed === undefined) return 0;
  const input = offerInput(template, parsed.values, spec.name);
  // A strip's flags checked before anything is contacted.
  stripPeriodsOf(input);
  return withContext(loadConfig(parsed.values), {}, async (ctx) => {
    const r = await makeOffer(ctx, input);
    const json = {
      eventId: r.eventId, threshold: r.threshold, oracles: r.oracles, terms: r.terms, cets: r.cets, cetLocktime: r.cetLocktime, refundLocktime: r.refundLocktime, fundingDeadline: r.fundingDeadline, feeRatePerVb: r.feeRatePerVb,
      ...(r.strip !== undefined ? { strip: r.strip } : {}),
      ...(r.measurementRisk.risks.length > 0 ? { measurementRisk: r.measurementRisk.risks } : {}),
    };
    printLuckWarnings(r.measurementRisk);
    const periodIds = r.strip?.periods.filter((x) => x.id !== undefined).map((x) => `  period ${x.index + 1}: ${x.id}`) ?? [];
    if (r.dryRun) {
      ctx.print({ dryRun: true, ...json }, ['(dry run: nothing posted)', ...r.summary]);
    } else {
      ctx.print({ id: r.id, state: r.state, ...json }, [r.strip !== undefined ? `strip ${r.id} posted (${r.strip.periods.length} periods)` : `offer ${r.id} posted`, ...periodIds, ...r.summary]);
    }
  });
}

/** `hashdlc offer <template> ...` */
export async function offerMain(argv: string[]): Promise<number> {
  const [template, ...rest] = argv;
  if (template === undefined || template === '--help' || template === '-h') {
    const lines = ['usage: hashdlc offer <template> [options]   (--help on each)', '', 'templates:'];
    for (const [name, s] of Object.entries(OFFER_SPECS)) lines.push(`  ${name.padEnd(18)} ${s.summary}`);
    process.stdout.write(`${lines.join('\n')}\n`);
    return template === undefined ? 2 : 0;
  }
  return offerCommand(template, rest);
}

/**
 * The human lines of `offers show <id>`: the terms, then the event (one id: the
 * oracles of a set announce the same id under their own keys) and the oracle set
 * as `offer` and `accept` print it; a coordinator before oracle sets: the event ids.
 */
export function offerShowLines(o: OfferView, terms: OfferTerms): string[] {
  const head = [`offer ${o.id} (${o.state})${o.strip !== undefined ? `: period ${o.strip.index + 1} of strip ${o.strip.id} (${o.strip.periods} periods; 'hashdlc accept' takes the whole strip)` : ''}`, ...Object.entries(terms).filter(([k]) => k !== 'curve').map(([k, val]) => `  ${k}: ${JSON.stringify(val)}`), `  CETs: ${o.cets ?? '?'}`];
  const events = [...new Set(o.eventIds ?? o.oracles?.map((x) => x.eventId) ?? [])];
  const risk = measurementRisk(terms).lines.map((l) => `  ${l}`);
  if (o.oracles === undefined || o.oracles.length === 0) return [...head, `  events: ${events.join(', ')}`, ...risk];
  return [...head, `  ${events.length === 1 ? 'event' : 'events'}: ${events.join(', ')}`, ...oracleSetLines(o.oracleThreshold ?? 1, o.oracles).map((l) => `  ${l}`), ...risk];
}

/** `hashdlc offers [show <id>]` */
export async function offersMain(argv: string[]): Promise<number> {
  const parsed = parseOrHelp(OFFERS_SPEC, argv);
  if (parsed === undefined) return 0;
  const [sub, id] = parsed.positionals;
  if (sub !== undefined && (sub !== 'show' || id === undefined)) throw usage("usage: hashdlc offers [show <offer-id>]");
  const v = parsed.values;
  const ctx = new CliContext(loadConfig(v));
  if (id !== undefined) {
    const { view: o, terms, stripTerms } = await showOffer(ctx, id);
    const strip = stripTerms === undefined ? [] : ['strip terms (accept takes the whole strip):', ...Object.entries(stripTerms).map(([k, val]) => `  ${k}: ${JSON.stringify(val)}`)];
    ctx.print(stripTerms === undefined ? o : { ...o, stripTerms }, [...offerShowLines(o, terms), ...strip]);
    return 0;
  }
  const { offers, next, rows } = await listOffers(ctx, {
    ...defined({
      template: str(v, 'template'),
      windowStart: str(v, 'window-start'),
      windowEnd: str(v, 'window-end'),
      minPrice: str(v, 'min-price'),
      maxPrice: str(v, 'max-price'),
      limit: str(v, 'limit'),
      after: str(v, 'after'),
    }),
  });
  const lines = rows.map((o) => `${o.id}  ${o.template.padEnd(17)} ${o.window ? `[${o.window.start},${o.window.end})` : '-'}  ${o.hashrateThs !== undefined ? `${o.hashrateThs} TH/s` : ''}  price ${o.price}${o.periods !== undefined ? `  strip of ${o.periods} periods` : ''}`);
  ctx.print({ offers, next }, lines.length === 0 ? ['no open offers'] : [...lines, ...(next ? [`more: --after ${next}`] : [])]);
  return 0;
}
