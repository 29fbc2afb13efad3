/**
 * `hashdlc offer <template>` (the miner makes an offer and posts it to the
 * coordinator) and `hashdlc offers` (the offer book, and one offer checked
 * in full with `offers show <id>`).
 *
 * offer: terms from flags -> the oracle event (a hashpower sale creates its
 * `hashpower-delivery` event; hashprice and custom contracts name an existing
 * one) -> its announcement verified -> the contract from protocol/templates
 * -> coins, keys, locktimes -> offer_dlc (protocol/contract `buildOffer`) ->
 * `POST /v1/offers` signed with the contract's identity key -> stored locally.
 *
 * This module does NOT accept offers (negotiate.ts).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { REFUND_MAX_GRACE_BLOCKS, buildOffer, defaultFundingDeadline, defaultLocktimes } from '../../protocol/contract/index.js';
import { encodeOfferDlc, fromHex, toHex } from '../../protocol/messages/index.js';
import type { ExtraFundingOutput } from '../../protocol/tx/index.js';
import type { OfferTerms } from '../../protocol/terms/index.js';
import { randomU64 } from '../wallet/index.js';
import { EXTERNAL_FUNDING_OPTIONS, COMMON_OPTIONS, bigintOpt, helpText, intOpt, list, parseCommand, required, str, type CommandSpec, type OptionValues } from './args.js';
import { loadConfig } from './config.js';
import { addressScript, checkEventMatchesTerms, checkOfferTiming, chooseFunding, feeRate, nowIso, parseTerms, templateOf } from '../participant/contract.js';
import { CliContext } from './context.js';
import { ParticipantError, usage } from '../participant/errors.js';
import type { OracleEventJson } from '../api/http.js';

const NET = {
  'wallet-dir': COMMON_OPTIONS['wallet-dir']!,
  network: COMMON_OPTIONS.network!,
  coordinator: COMMON_OPTIONS.coordinator!,
  oracle: COMMON_OPTIONS.oracle!,
  'oracle-pubkey': COMMON_OPTIONS['oracle-pubkey']!,
  'rpc-url': COMMON_OPTIONS['rpc-url']!,
  'rpc-user': COMMON_OPTIONS['rpc-user']!,
  'rpc-password': COMMON_OPTIONS['rpc-password']!,
  json: COMMON_OPTIONS.json!,
};

const OFFER_COMMON = {
  ...NET,
  event: { type: 'string', value: 'ID', help: 'oracle event id to settle on' },
  'fee-rate': { type: 'string', value: 'SAT_PER_VB', help: 'funding fee rate (default: node estimate; 2 on regtest)', env: 'HASHDLC_FEE_RATE' },
  'cet-locktime': { type: 'string', value: 'HEIGHT', help: "CET nLockTime (default: the event window's end height)" },
  'refund-locktime': { type: 'string', value: 'HEIGHT', help: 'refund nLockTime (default: window end + 144 blocks; 20 on regtest; at most the attestation height + 1008; 100 on regtest)' },
  'funding-deadline': { type: 'string', value: 'HEIGHT', help: 'no accept, sign or fund from this height on (default: window start - 6; 2 on regtest; at most the window start)' },
  'rounding-mod': { type: 'string', value: 'SATS', help: 'payout grid on the sloped part (default: total collateral / 50)' },
  'dry-run': { type: 'boolean', help: 'show the contract and stop before posting anything' },
  ...EXTERNAL_FUNDING_OPTIONS,
} as const satisfies CommandSpec['options'];

const WINDOW = { window: { type: 'string', value: 'START-END', help: 'block window [START, END) (hashpower: required unless --event)' } } as const;

export const OFFER_SPECS: Record<string, CommandSpec> = {
  hashpower: {
    name: 'offer hashpower',
    summary: 'Offer a hashpower sale: the buyer pays upfront + escrow, you lock collateral; payout by delivery ratio.',
    details: [
      'Creates (or reuses) the oracle\'s hashpower-delivery event for the window, delivery address and hashrate.',
      'Miner payout: escrow + collateral at or above the tolerance, 0 at 0, linear in between.',
    ],
    options: {
      ...OFFER_COMMON,
      ...WINDOW,
      hashrate: { type: 'string', value: 'THS', help: 'contracted hashrate, TH/s (required)' },
      'delivery-address': { type: 'string', value: 'ADDR', help: "the buyer's delivery address D (required)" },
      upfront: { type: 'string', value: 'SATS', help: 'paid to you inside the funding transaction (default 0)' },
      escrow: { type: 'string', value: 'SATS', help: 'the buyer\'s part of the price locked in the DLC (required)' },
      collateral: { type: 'string', value: 'SATS', help: 'your collateral (required)' },
      tolerance: { type: 'string', value: 'BPS', help: 'delivery ratio counted as full delivery (default 9500)' },
      'pool-payout-address': { type: 'string', value: 'ADDR', multiple: true, help: 'declared pool payout address' },
      'nb-digits': { type: 'string', value: 'N', help: 'digits of a new delivery event (default: the oracle\'s)' },
    },
  },
  'hashprice-forward': {
    name: 'offer hashprice-forward',
    summary: 'Offer a hashprice forward: you lock in STRIKE sats/PH/day on HASHRATE over the event\'s window.',
    options: {
      ...OFFER_COMMON,
      ...WINDOW,
      hashrate: { type: 'string', value: 'THS', help: 'quantity, TH/s (required)' },
      strike: { type: 'string', value: 'SATS', help: 'strike, sats per PH/s per day (required)' },
      collateral: { type: 'string', value: 'SATS', help: 'your collateral (required)' },
      'buyer-collateral': { type: 'string', value: 'SATS', help: 'the buyer\'s collateral (required)' },
    },
  },
  'hashprice-call': {
    name: 'offer hashprice-call',
    summary: 'Offer a hashprice call: the buyer pays a premium; receives Q*days*max(0, hashprice - K), capped at your collateral.',
    options: {
      ...OFFER_COMMON,
      ...WINDOW,
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
  summary: 'List open offers on the coordinator, or show one offer checked against its terms and the oracle.',
  maxArgs: 2,
  options: {
    coordinator: COMMON_OPTIONS.coordinator!,
    json: COMMON_OPTIONS.json!,
    template: { type: 'string', value: 'NAME', help: 'hashpower-sale | hashprice-forward | hashprice-call | custom-curve' },
    'window-start': { type: 'string', value: 'HEIGHT', help: 'windows starting at or after HEIGHT' },
    'window-end': { type: 'string', value: 'HEIGHT', help: 'windows ending at or before HEIGHT' },
    'min-price': { type: 'string', value: 'SATS', help: 'price at least (sale: upfront+escrow; hashprice: strike)' },
    'max-price': { type: 'string', value: 'SATS', help: 'price at most' },
    limit: { type: 'string', value: 'N', help: 'page size' },
    after: { type: 'string', value: 'ID', help: 'next page after this offer id' },
  },
};

function parseWindow(v: string | undefined): { start: number; end: number } | undefined {
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

/** The event the offer settles on: given by id, created (hashpower sale), or found by window (hashprice). */
async function offerEvent(ctx: CliContext, template: string, values: OptionValues): Promise<OracleEventJson> {
  const oracle = ctx.oracle();
  const id = str(values, 'event');
  if (id !== undefined) return oracle.event(id);
  const window = parseWindow(str(values, 'window'));
  if (template === 'hashpower') {
    if (window === undefined) throw usage("'hashdlc offer hashpower' needs --window START-END or --event ID");
    const body: Record<string, unknown> = {
      kind: 'hashpower-delivery',
      window,
      deliveryAddress: required(values, 'delivery-address', 'offer hashpower'),
      poolPayoutAddresses: list(values, 'pool-payout-address'),
      hashrateThs: needBig(values, 'hashrate', 'offer hashpower').toString(),
    };
    const digits = intOpt(values, 'nb-digits');
    if (digits !== undefined) body.nbDigits = digits;
    ctx.note(`requesting the oracle's hashpower-delivery event for blocks [${window.start}, ${window.end})`);
    return oracle.createEvent(body);
  }
  if ((template === 'hashprice-forward' || template === 'hashprice-call') && window !== undefined) {
    const events = await oracle.events({ kind: 'hashprice', limit: '1000' });
    const hit = events.find((e) => e.params.window?.start === window.start && e.params.window.end === window.end && e.params.descriptor.type === 'numeric');
    if (hit === undefined) throw new ParticipantError('NOT_READY', `the oracle has no hashprice event for blocks [${window.start}, ${window.end}); pass --event ID`);
    return hit;
  }
  throw usage(`'hashdlc offer ${template}' needs --event ID${template === 'custom' ? '' : ' or --window START-END'}`);
}

async function offerCommand(template: string, argv: string[]): Promise<number> {
  const spec = OFFER_SPECS[template];
  if (spec === undefined) {
    throw usage(`unknown template '${template}': hashpower | hashprice-forward | hashprice-call | custom`);
  }
  const parsed = parseCommand(spec, argv);
  if (parsed.help) {
    process.stdout.write(helpText(spec));
    return 0;
  }
  const v = parsed.values;
  const cmd = spec.name;
  // Argument errors first, before anything is contacted.
  const collateral = needBig(v, 'collateral', cmd);
  const roundingMod = bigintOpt(v, 'rounding-mod');
  const cetLocktimeOpt = intOpt(v, 'cet-locktime');
  const refundLocktimeOpt = intOpt(v, 'refund-locktime');
  const fundingDeadlineOpt = intOpt(v, 'funding-deadline');
  if (template !== 'custom') needBig(v, 'hashrate', cmd);
  if (template === 'hashpower') {
    required(v, 'delivery-address', cmd);
    needBig(v, 'escrow', cmd);
  }
  if (template === 'hashprice-forward' || template === 'hashprice-call') needBig(v, 'strike', cmd);
  if (template === 'hashprice-forward') needBig(v, 'buyer-collateral', cmd);
  if (template === 'custom') {
    required(v, 'curve', cmd);
    needBig(v, 'accept-collateral', cmd);
  }
  const config = loadConfig(v);
  const ctx = new CliContext(config);
  try {
    const wallet = ctx.wallet();
    const coordinator = ctx.coordinator();
    const rpc = await ctx.rpc();
    const ev = await offerEvent(ctx, template, v);
    const { announcement, hashProfile } = await ctx.checkedAnnouncement(ev);
    const oracleInfo = { single: { oracleAnnouncement: announcement } };
    const window = ev.params.window;
    // The funding deadline: funding must confirm before the window starts (issue 9, hole 2).
    const fundingDeadline = fundingDeadlineOpt ?? defaultFundingDeadline(window?.start ?? ev.attestHeight, wallet.network.flow);

    const keys = wallet.newContractKeys();
    const payoutAddr = str(v, 'payout-address');
    const changeAddr = str(v, 'change-address');
    const payoutSpk = payoutAddr !== undefined ? addressScript(payoutAddr, wallet) : wallet.newReceiveAddress().script;
    const changeSpk = changeAddr !== undefined ? addressScript(changeAddr, wallet) : wallet.newChangeAddress().script;
    const opt = (name: string, value: string | undefined): Record<string, string> => (value === undefined ? {} : { [name]: value });
    let termsJson: Record<string, unknown>;
    switch (template) {
      case 'hashpower': {
        const upfront = bigintOpt(v, 'upfront', 0n)!;
        termsJson = {
          template: 'hashpower-sale',
          hashrateThs: needBig(v, 'hashrate', cmd).toString(),
          window: window ?? parseWindow(str(v, 'window')),
          deliveryAddress: required(v, 'delivery-address', cmd),
          upfront: upfront.toString(),
          escrow: needBig(v, 'escrow', cmd).toString(),
          minerCollateral: collateral.toString(),
          toleranceBps: intOpt(v, 'tolerance', 9500),
          ...(upfront > 0n ? { upfrontScript: toHex(wallet.newReceiveAddress().script), upfrontSerialId: randomU64().toString() } : {}),
          ...opt('roundingMod', roundingMod?.toString()),
          fundingDeadline,
        };
        break;
      }
      case 'hashprice-forward':
        termsJson = {
          template: 'hashprice-forward',
          hashrateThs: needBig(v, 'hashrate', cmd).toString(),
          strikeSatsPerPhDay: needBig(v, 'strike', cmd).toString(),
          window,
          minerCollateral: collateral.toString(),
          buyerCollateral: needBig(v, 'buyer-collateral', cmd).toString(),
          ...opt('roundingMod', roundingMod?.toString()),
          fundingDeadline,
        };
        break;
      case 'hashprice-call': {
        const premium = bigintOpt(v, 'premium', 0n)!;
        termsJson = {
          template: 'hashprice-call',
          hashrateThs: needBig(v, 'hashrate', cmd).toString(),
          strikeSatsPerPhDay: needBig(v, 'strike', cmd).toString(),
          window,
          minerCollateral: collateral.toString(),
          premium: premium.toString(),
          ...(premium > 0n ? { premiumScript: toHex(wallet.newReceiveAddress().script), premiumSerialId: randomU64().toString() } : {}),
          ...opt('roundingMod', roundingMod?.toString()),
          fundingDeadline,
        };
        break;
      }
      default:
        termsJson = {
          template: 'custom-curve',
          curve: readFileSync(required(v, 'curve', cmd), 'utf8'),
          offerCollateral: collateral.toString(),
          acceptCollateral: needBig(v, 'accept-collateral', cmd).toString(),
          ...opt('expectUnit', str(v, 'unit')),
          fundingDeadline,
        };
    }
    const terms: OfferTerms = parseTerms(termsJson);
    checkEventMatchesTerms(ev, terms);
    // Never a contract on a known outcome, nor one nobody can fund in time (issue 9, holes 2 and 3).
    checkOfferTiming(ev, terms, await rpc.getBlockCount());
    const contract = templateOf(terms, oracleInfo);

    const windowEnd = window?.end ?? ev.attestHeight;
    const locks = defaultLocktimes(windowEnd, wallet.network.flow);
    const cetLocktime = cetLocktimeOpt ?? locks.cetLocktime;
    const refundLocktime = refundLocktimeOpt ?? locks.refundLocktime;
    const refundAtMost = ev.attestHeight + REFUND_MAX_GRACE_BLOCKS[wallet.network.flow];
    if (refundLocktime > refundAtMost) {
      throw usage(`--refund-locktime ${refundLocktime} is after ${refundAtMost} (the attestation height ${ev.attestHeight} + ${REFUND_MAX_GRACE_BLOCKS[wallet.network.flow]}): accepters and coordinators refuse it`);
    }
    const rate = await feeRate(config.feeRatePerVb, rpc, wallet.network.name);
    const summary = [
      ...contract.summary.lines,
      `oracle event ${ev.eventId} (attests at height ${ev.attestHeight})`,
      `CET locktime ${cetLocktime}, refund locktime ${refundLocktime}, fee rate ${rate} sat/vB`,
      `funding deadline: height ${fundingDeadline} (no accept, sign or fund from then on)`,
      ...contract.summary.keyPayouts.map((k) => `  at ${k.outcome} (${k.label}): you ${k.offerPayout}, buyer ${k.acceptPayout}`),
    ];
    if (v['dry-run'] === true) {
      ctx.print({ dryRun: true, terms, eventId: ev.eventId, cets: contract.cetCount, cetLocktime, refundLocktime, fundingDeadline, feeRatePerVb: rate }, ['(dry run: nothing posted)', ...summary]);
      return 0;
    }
    const paidExtras = contract.extraOutputs.filter((o: ExtraFundingOutput) => o.payer === 'offer');
    const { inputs, reserved } = await chooseFunding(wallet, rpc, list(v, 'utxo'), contract.offerCollateral + paidExtras.reduce((s, o) => s + o.value, 0n), rate, paidExtras.map((o) => o.script.length));
    const serials = new Set<bigint>(contract.extraOutputs.map((o) => o.serialId));
    const freshSerial = (): bigint => {
      for (;;) {
        const s = randomU64();
        if (!serials.has(s)) {
          serials.add(s);
          return s;
        }
      }
    };
    const offer = buildOffer({
      contract,
      temporaryContractId: randomBytes(32),
      chainHash: fromHex(wallet.network.chainHashHex),
      fundingPubkey: keys.fundingPublicKey,
      fundingInputs: inputs,
      payoutSpk,
      changeSpk,
      payoutSerialId: freshSerial(),
      changeSerialId: freshSerial(),
      fundOutputSerialId: freshSerial(),
      feeRatePerVb: rate,
      cetLocktime,
      refundLocktime,
    });
    const id = toHex(offer.temporaryContractId);
    const offerHex = toHex(encodeOfferDlc(offer));
    await coordinator.postOffer({ offer: offerHex, identityPubkey: toHex(keys.identityPublicKey), terms }, keys.identitySecretKey);
    const at = nowIso();
    wallet.contracts.save({
      version: 1,
      id,
      role: 'offer',
      network: wallet.network.name,
      keyIndex: keys.index,
      state: 'offered',
      history: [{ state: 'offered', at }],
      coordinator: coordinator.http.base,
      oracle: ctx.oracle().http.base,
      hashProfile,
      terms: terms as Record<string, unknown>,
      offer: offerHex,
      reservedOutpoints: reserved,
    });
    ctx.print(
      { id, state: 'offered', eventId: ev.eventId, terms, cets: contract.cetCount, cetLocktime, refundLocktime, fundingDeadline, feeRatePerVb: rate },
      [`offer ${id} posted`, ...summary],
    );
    return 0;
  } finally {
    await ctx.close();
  }
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

/** `hashdlc offers [show <id>]` */
export async function offersMain(argv: string[]): Promise<number> {
  const parsed = parseCommand(OFFERS_SPEC, argv);
  if (parsed.help) {
    process.stdout.write(helpText(OFFERS_SPEC));
    return 0;
  }
  const [sub, id] = parsed.positionals;
  if (sub !== undefined && (sub !== 'show' || id === undefined)) throw usage("usage: hashdlc offers [show <offer-id>]");
  const v = parsed.values;
  const ctx = new CliContext(loadConfig(v));
  const coordinator = ctx.coordinator();
  if (id !== undefined) {
    const o = await coordinator.offer(id);
    const terms = parseTerms(o.terms);
    ctx.print(o, [`offer ${o.id} (${o.state})`, ...Object.entries(terms).filter(([k]) => k !== 'curve').map(([k, val]) => `  ${k}: ${JSON.stringify(val)}`), `  CETs: ${o.cets ?? '?'}`, `  events: ${(o.eventIds ?? []).join(', ')}`]);
    return 0;
  }
  const q: Record<string, string | undefined> = {
    template: str(v, 'template'),
    windowStart: str(v, 'window-start'),
    windowEnd: str(v, 'window-end'),
    minPrice: str(v, 'min-price'),
    maxPrice: str(v, 'max-price'),
    limit: str(v, 'limit'),
    after: str(v, 'after'),
  };
  const page = await coordinator.listOffers(q);
  const rows = page.offers.map((o) => {
    const t = o.terms as Record<string, unknown>;
    const w = t.window as { start: number; end: number } | undefined;
    const price = t.template === 'hashpower-sale' ? `${BigInt(String(t.upfront)) + BigInt(String(t.escrow))} sats` : t.strikeSatsPerPhDay !== undefined ? `K=${String(t.strikeSatsPerPhDay)}` : `${String(t.acceptCollateral ?? '')} sats`;
    return `${o.id}  ${String(t.template).padEnd(17)} ${w ? `[${w.start},${w.end})` : '-'}  ${t.hashrateThs !== undefined ? `${String(t.hashrateThs)} TH/s` : ''}  price ${price}`;
  });
  ctx.print(page, rows.length === 0 ? ['no open offers'] : [...rows, ...(page.next ? [`more: --after ${page.next}`] : [])]);
  return 0;
}
