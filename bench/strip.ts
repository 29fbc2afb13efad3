/**
 * Strip benchmark section (issue 12): a 30-day hashpower sale set up as ONE
 * contract and as a strip of daily period contracts (default 30 periods of
 * 144 blocks), in the same run, through the same protocol/ flow the
 * participants use:
 *
 * - the offerer turns the terms into each period's terms (`periodTermsOf`),
 *   one oracle event per period, and builds one offer_dlc per period sharing
 *   its funding inputs, funding key, payout and change scripts
 *   (`buildOffer`);
 * - the accepter checks the offers against the strip terms
 *   (`checkStripOffersAgainstTerms`, `checkBatchOffers`) and builds one
 *   accept_dlc per period with its batch (`buildAcceptAsync`,
 *   `setup: { batch }`): every CET adaptor signature and the refund signature;
 * - the offerer checks the accepts (`checkBatchAccepts`), verifies every
 *   adaptor signature and signs every CET per period (`buildSignAsync`), with
 *   ONE funding PSBT signed once for the shared funding transaction;
 * - the accepter verifies every sign_dlc (`verifySignAsync`, `checkBatchSigns`).
 *
 * The CET adaptor signatures are made and verified on src/engine's worker pool
 * (`signContractCets` / `verifyContractCets`), as in bench/contract.ts. The
 * single contract goes through the same code with `periods` absent (one offer,
 * no batch), so the two rows differ only by the split.
 *
 * The funding transaction is then signed by both parties' (synthetic) P2WPKH
 * inputs with low-R signatures, as Bitcoin Core's wallet makes them, and
 * finalized (`finalizeFundingPsbt`): its vsize is the real one, and its fee is
 * inputs minus outputs at the bench fee rate (`STRIP_BENCH_FEE_RATE`). The
 * closing fees each funding output reserves for its CET or refund are shown
 * apart: a strip reserves one per period.
 *
 * This section does NOT assert speed, touch a node, the oracle service or the
 * coordinator, nor settle anything: it prints and returns figures.
 */
import { performance } from 'node:perf_hooks';
import * as ecc from 'tiny-secp256k1';
import type { Transaction } from 'bitcoinjs-lib';
import {
  buildAcceptAsync,
  buildOffer,
  buildSignAsync,
  checkBatchAccepts,
  checkBatchOffers,
  checkBatchSigns,
  defaultFundingDeadline,
  defaultLocktimes,
  fundingPsbtOf,
  verifySignAsync,
  type CetSigner,
  type CetVerifier,
  type ContractSetup,
} from '../protocol/contract/index.js';
import { backendName } from '../protocol/crypto/secp.js';
import { toHex } from '../protocol/messages/index.js';
import type { AcceptDlc, FundingInput, FundingSignatures, OfferDlc, SignDlc } from '../protocol/messages/types.js';
import {
  batchToJson,
  checkStripOffersAgainstTerms,
  contractFundingOptions,
  offerTermsSchema,
  periodTermsOf,
  templateFromTerms,
  type OfferTerms,
} from '../protocol/terms/index.js';
import { extractFundingSignatures, finalizeFundingPsbt } from '../protocol/tx/index.js';
import { AdaptorEngine } from '../src/engine/index.js';
import { signContractCets, verifyContractCets } from '../src/engine/contract.js';
import { REGTEST_CHAIN_HASH, fundingInput, p2wpkhScriptPubkey, publicKey, testOracle, testSecret } from '../test/helpers/dlc-fixture.js';
import { formatTable, type BenchOptions, type BenchSection } from './section.js';

/** The funding fee rate of the bench, sat/vB: test/helpers `twoPartyFixture`'s, which bench/contract.ts uses. */
export const STRIP_BENCH_FEE_RATE = 2n;
/** The sale template's delivery event: bps, 14 binary digits (as bench/contract.ts). */
const SALE_DIGITS = 14;
/** First block of the measured window. */
const WINDOW_START = 10_000;

/** What to set up: the default sale over `periods * periodBlocks` blocks, split or not. */
export interface StripBenchParams {
  /** Period contracts; 1 = the whole window as one contract (terms without `periods`). */
  periods: number;
  /** Blocks per period (the whole window is `periods * periodBlocks`). */
  periodBlocks: number;
  /** Keys, ids and event names derive from it. */
  label: string;
  /** The whole window when `periods` is 1 but another split's window is wanted (default `periods * periodBlocks`). */
  windowBlocks?: number;
  /** Payout grid of the sloped part (default: the template's, 50 steps). */
  roundingMod?: bigint;
}

/** Both parties of one strip (or single contract), with the offerer's messages already built. */
export interface StripParties {
  terms: OfferTerms;
  periodTerms: OfferTerms[];
  offers: OfferDlc[];
  offerKey: Uint8Array;
  acceptKey: Uint8Array;
  offerUtxoKey: Uint8Array;
  acceptUtxoKey: Uint8Array;
  acceptInputs: FundingInput[];
  acceptPayoutSpk: Uint8Array;
  acceptChangeSpk: Uint8Array;
}

/**
 * The default sale of bench/contract.ts (100 TH/s, 400,000 sats escrow,
 * 200,000 sats miner collateral, 50,000 upfront, tolerance 95%) over the
 * window, as strip terms when `periods > 1`, and the offerer's offer_dlc of
 * each period: one oracle event per period, shared funding inputs and keys.
 * @throws {DlcError} as protocol/terms and `buildOffer` (a window too short for the periods, ...).
 */
export function stripParties(p: StripBenchParams): StripParties {
  const { label } = p;
  const blocks = p.windowBlocks ?? p.periods * p.periodBlocks;
  const window = { start: WINDOW_START, end: WINDOW_START + blocks };
  const terms = offerTermsSchema.parse({
    template: 'hashpower-sale',
    hashrateThs: '100',
    window,
    deliveryAddress: `bcrt1qdelivery-${label}`,
    upfront: '50000',
    escrow: '400000',
    minerCollateral: '200000',
    toleranceBps: 9500,
    fundingDeadline: defaultFundingDeadline(window.start, 'regtest'),
    upfrontScript: toHex(p2wpkhScriptPubkey(publicKey(testSecret(`${label}:upfront`)))),
    upfrontSerialId: '77',
    ...(p.periods > 1 ? { periods: p.periods } : {}),
    ...(p.roundingMod !== undefined ? { roundingMod: String(p.roundingMod) } : {}),
  });
  const periodTerms = periodTermsOf(terms);
  const oracle = testOracle(`${label}:oracle`);
  const offerKey = testSecret(`${label}:offer-funding`);
  const offerUtxoKey = testSecret(`${label}:offer-utxo`);
  const offerInputs = [fundingInput(offerUtxoKey, 1_000_000n, 5n, `${label}:o`)];
  const offers = periodTerms.map((t, i) => {
    const w = (t as { window: { start: number; end: number } }).window;
    // One event per period, over the period's own blocks.
    const announcement = oracle.announce(`hashpower-delivery/${w.start}-${w.end}/bps/${label}`, SALE_DIGITS);
    return buildOffer({
      contract: templateFromTerms(t, { single: { oracleAnnouncement: announcement } }),
      temporaryContractId: testSecret(`${label}:temp-${i}`),
      chainHash: REGTEST_CHAIN_HASH,
      fundingPubkey: publicKey(offerKey),
      fundingInputs: offerInputs,
      payoutSpk: p2wpkhScriptPubkey(publicKey(testSecret(`${label}:offer-payout`))),
      changeSpk: p2wpkhScriptPubkey(publicKey(testSecret(`${label}:offer-change`))),
      payoutSerialId: 1n,
      changeSerialId: 2n,
      fundOutputSerialId: 100n + BigInt(i),
      feeRatePerVb: STRIP_BENCH_FEE_RATE,
      ...defaultLocktimes(w.end, 'regtest'),
    });
  });
  const acceptUtxoKey = testSecret(`${label}:accept-utxo`);
  return {
    terms,
    periodTerms,
    offers,
    offerKey,
    acceptKey: testSecret(`${label}:accept-funding`),
    offerUtxoKey,
    acceptUtxoKey,
    acceptInputs: [fundingInput(acceptUtxoKey, 2_000_000n, 6n, `${label}:a`)],
    acceptPayoutSpk: p2wpkhScriptPubkey(publicKey(testSecret(`${label}:accept-payout`))),
    acceptChangeSpk: p2wpkhScriptPubkey(publicKey(testSecret(`${label}:accept-change`))),
  };
}

/** Where the CET adaptor signatures are made and checked (src/engine's pool in the bench). */
export interface StripCetWork {
  signer: CetSigner;
  verifier: CetVerifier;
}

/** What one two-party set-up produced and cost. */
export interface StripSetupResult {
  offers: OfferDlc[];
  accepts: AcceptDlc[];
  signs: SignDlc[];
  /** Each period's set-up, as the accepter derived it when verifying sign_dlc. */
  setups: ContractSetup[];
  /** CETs of each period. */
  cetsPerPeriod: number[];
  /** One party's CET adaptor signatures of each period. */
  adaptorSigsPerPeriod: number[];
  /** The shared funding transaction, signed by both parties' inputs. */
  fundingTx: Transaction;
  fundingVsize: number;
  /** Inputs minus outputs of the funding transaction. */
  fundingFeeSats: bigint;
  /** What the funding outputs reserve for the CETs' (or refunds') fees: both parties, every period. */
  closingFeesSats: bigint;
  /** Adaptor signatures made (both parties) and checked (both parties), counted at the signer and verifier. */
  signed: number;
  verified: number;
  ms: {
    /** Accepter: check the offers, derive each period, sign (accept_dlc). */
    accept: number;
    /** Offerer: check the accepts, verify, sign, the funding witnesses (sign_dlc). */
    offer: number;
    /** Accepter: verify every sign_dlc. */
    verifySign: number;
    total: number;
    /** Inside `total`: CET adaptor signing and verifying (both parties). */
    sign: number;
    verify: number;
    /** CPU time of the whole process (all threads) during `total`. */
    cpu: number;
  };
}

function fail(message: string): never {
  throw new Error(`strip bench: ${message}`);
}

/** Low-R ECDSA (Bitcoin Core's wallet grinds for it), so a P2WPKH witness is 107 bytes. */
function lowRSigner(secret: Uint8Array): { publicKey: Uint8Array; sign(hash: Uint8Array): Uint8Array } {
  return {
    publicKey: publicKey(secret),
    sign(hash) {
      for (let n = 0; ; n++) {
        const extra = new Uint8Array(32);
        new DataView(extra.buffer).setUint32(0, n);
        const sig = ecc.sign(hash, secret, n === 0 ? undefined : extra);
        if (sig[0]! < 0x80) return sig;
      }
    },
  };
}

function walletSigns(setup: ContractSetup, secret: Uint8Array, party: 'offer' | 'accept', psbt = fundingPsbtOf(setup)): ReturnType<typeof fundingPsbtOf> {
  setup.funding.inputs.forEach((input, i) => {
    if (input.party === party) psbt.signInput(i, lowRSigner(secret));
  });
  return psbt;
}

/**
 * The whole negotiation of a strip (or a single contract) between the two
 * parties, every signature made and checked, then the funding transaction
 * signed by both. Timed as the module header says.
 * @throws {DlcError} from any protocol step; {Error} when the periods do not share one funding transaction.
 */
export async function stripTwoPartySetup(parties: StripParties, work: StripCetWork): Promise<StripSetupResult> {
  const { offers, terms } = parties;
  const n = offers.length;
  const strip = n > 1;
  let signMs = 0;
  let verifyMs = 0;
  let signed = 0;
  let verified = 0;
  const signer: CetSigner = async (setup, key) => {
    const t = performance.now();
    const sigs = await work.signer(setup, key);
    signMs += performance.now() - t;
    signed += sigs.ecdsaAdaptorSignatures.length;
    return sigs;
  };
  const verifier: CetVerifier = async (setup, party, sigs) => {
    const t = performance.now();
    await work.verifier(setup, party, sigs);
    verifyMs += performance.now() - t;
    verified += sigs.ecdsaAdaptorSignatures.length;
  };

  const cpu = process.cpuUsage();
  const t0 = performance.now();
  // The accepter: the offers against the strip terms, then one accept_dlc per period.
  if (strip) checkBatchOffers(offers);
  const { templates, contracts } = checkStripOffersAgainstTerms(offers, terms);
  const optionsOf = (i: number) => contractFundingOptions(templates[i]!, strip ? { terms, batch: batchToJson(contracts, i) } : undefined);
  const flowOf = (i: number) => {
    const o = optionsOf(i);
    return { extraOutputs: o.extraOutputs, ...(o.batch !== undefined ? { setup: { batch: o.batch } } : {}) };
  };
  const accepts: AcceptDlc[] = [];
  for (let i = 0; i < n; i++) {
    const built = await buildAcceptAsync(offers[i]!, {
      fundingSecretKey: parties.acceptKey,
      fundingInputs: parties.acceptInputs,
      payoutSpk: parties.acceptPayoutSpk,
      changeSpk: parties.acceptChangeSpk,
      payoutSerialId: 11n,
      changeSerialId: 12n,
      ...flowOf(i),
    }, signer);
    accepts.push(built.accept);
  }
  const t1 = performance.now();

  // The offerer: the accepts, then per period verify + sign; one funding PSBT, signed once.
  if (strip) checkBatchAccepts(offers, accepts);
  let fundingSigs: { txid: string; sigs: FundingSignatures } | undefined;
  const offererFundingSigs = (setup: ContractSetup): FundingSignatures => {
    if (fundingSigs === undefined) {
      const psbt = walletSigns(setup, parties.offerUtxoKey, 'offer');
      fundingSigs = { txid: setup.funding.txidHex, sigs: extractFundingSignatures(psbt, setup.funding, 'offer') };
    }
    if (fundingSigs.txid !== setup.funding.txidHex) fail(`a period derives another funding transaction (${setup.funding.txidHex})`);
    return fundingSigs.sigs;
  };
  const signs: SignDlc[] = [];
  for (let i = 0; i < n; i++) {
    const built = await buildSignAsync(offers[i]!, accepts[i]!, {
      fundingSecretKey: parties.offerKey,
      fundingSignatures: offererFundingSigs,
      ...flowOf(i),
    }, { signer, verifier });
    signs.push(built.sign);
  }
  const t2 = performance.now();

  // The accepter: every sign_dlc.
  if (strip) checkBatchSigns(signs, n);
  const setups: ContractSetup[] = [];
  for (let i = 0; i < n; i++) {
    setups.push((await verifySignAsync(offers[i]!, accepts[i]!, signs[i]!, flowOf(i), verifier)).setup);
  }
  const t3 = performance.now();
  const used = process.cpuUsage(cpu);

  // The funding transaction, both parties' witnesses: size and fee.
  const first = setups[0]!;
  for (const s of setups) if (s.funding.txidHex !== first.funding.txidHex) fail('the periods derive different funding transactions');
  if (new Set(setups.map((s) => s.funding.fundOutputIndex)).size !== n) fail('two periods spend the same funding output');
  const psbt = walletSigns(first, parties.acceptUtxoKey, 'accept', walletSigns(first, parties.offerUtxoKey, 'offer'));
  const fundingTx = finalizeFundingPsbt(psbt, first.funding);
  const inputTotal = first.funding.inputs.reduce((s, i) => s + i.prevOutput.value, 0n);
  const outputTotal = fundingTx.outs.reduce((s, o) => s + o.value, 0n);
  const fundingFeeSats = inputTotal - outputTotal;
  if (fundingFeeSats !== first.funding.offer.fundingFee + first.funding.accept.fundingFee) fail('funding fee is not the two parties\' funding fees');
  const closingFeesSats = BigInt(n) * (first.funding.offer.closingFee + first.funding.accept.closingFee);

  return {
    offers,
    accepts,
    signs,
    setups,
    cetsPerPeriod: setups.map((s) => s.plan.cets.length),
    adaptorSigsPerPeriod: setups.map((s) => s.plan.adaptorSlots.length),
    fundingTx,
    fundingVsize: fundingTx.virtualSize(),
    fundingFeeSats,
    closingFeesSats,
    signed,
    verified,
    ms: {
      accept: t1 - t0,
      offer: t2 - t1,
      verifySign: t3 - t2,
      total: t3 - t0,
      sign: signMs,
      verify: verifyMs,
      cpu: (used.user + used.system) / 1000,
    },
  };
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/** `51` when every period has the same count, else `min-max`. */
function perPeriod(xs: readonly number[]): string {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return lo === hi ? String(lo) : `${lo}-${hi}`;
}

/** Runs the single contract and the strip on the pool; returns the summary merged into bench/run.ts's JSON line. */
export async function runStripBench(opts: BenchOptions): Promise<Record<string, unknown>> {
  const periods = opts.stripPeriods;
  const periodBlocks = opts.stripPeriodBlocks;
  const blocks = periods * periodBlocks;
  const engine = await AdaptorEngine.start({ threads: opts.threads });
  const work: StripCetWork = {
    signer: (setup, key) => signContractCets(engine, setup, key),
    verifier: (setup, party, sigs) => verifyContractCets(engine, setup, party, sigs),
  };
  let single: StripSetupResult;
  let strip: StripSetupResult;
  try {
    // Warm-up (JIT, worker modules), so the first measured row is not penalised.
    await stripTwoPartySetup(stripParties({ periods: 2, periodBlocks, label: 'bench-strip-warmup' }), work);
    process.stderr.write(`strip: one ${blocks}-block contract...\n`);
    single = await stripTwoPartySetup(stripParties({ periods: 1, periodBlocks, windowBlocks: blocks, label: 'bench-strip-single' }), work);
    process.stderr.write(`strip: ${periods} periods of ${periodBlocks} blocks...\n`);
    strip = await stripTwoPartySetup(stripParties({ periods, periodBlocks, label: 'bench-strip' }), work);
  } finally {
    await engine.close();
  }

  const row = (name: string, r: StripSetupResult): string[] => [
    name,
    String(r.setups.length),
    perPeriod(r.cetsPerPeriod),
    String(sum(r.cetsPerPeriod)),
    String(sum(r.adaptorSigsPerPeriod)),
    r.ms.accept.toFixed(0),
    r.ms.offer.toFixed(0),
    r.ms.verifySign.toFixed(0),
    r.ms.total.toFixed(0),
    r.ms.cpu.toFixed(0),
    String(r.fundingVsize),
    String(r.fundingFeeSats),
    String(r.closingFeesSats),
  ];
  const ratio = (a: number, b: number): string => (a / b).toFixed(2);
  const ratios = {
    cets: sum(strip.cetsPerPeriod) / sum(single.cetsPerPeriod),
    sigs: sum(strip.adaptorSigsPerPeriod) / sum(single.adaptorSigsPerPeriod),
    setup: strip.ms.total / single.ms.total,
    cpu: strip.ms.cpu / single.ms.cpu,
    vsize: strip.fundingVsize / single.fundingVsize,
    fee: Number(strip.fundingFeeSats) / Number(single.fundingFeeSats),
    closing: Number(strip.closingFeesSats) / Number(single.closingFeesSats),
  };
  const rows = [
    row(`one ${blocks}-block contract`, single),
    row(`strip ${periods} x ${periodBlocks} blocks`, strip),
    [
      'strip / single', '', '',
      ratio(sum(strip.cetsPerPeriod), sum(single.cetsPerPeriod)),
      ratio(sum(strip.adaptorSigsPerPeriod), sum(single.adaptorSigsPerPeriod)),
      ratio(strip.ms.accept, single.ms.accept),
      ratio(strip.ms.offer, single.ms.offer),
      ratio(strip.ms.verifySign, single.ms.verifySign),
      ratio(strip.ms.total, single.ms.total),
      ratio(strip.ms.cpu, single.ms.cpu),
      ratio(strip.fundingVsize, single.fundingVsize),
      ratio(Number(strip.fundingFeeSats), Number(single.fundingFeeSats)),
      ratio(Number(strip.closingFeesSats), Number(single.closingFeesSats)),
    ],
  ];
  console.log(`\nstrip: the default sale over ${blocks} blocks as one contract and as ${periods} periods, full two-party set-up (backend ${backendName()}, ${opts.threads} threads, fee rate ${STRIP_BENCH_FEE_RATE} sat/vB)`);
  console.log(formatTable(
    ['contract', 'periods', 'CETs/period', 'CETs', 'adaptor sigs/party', 'accepter ms', 'offerer ms', 'accepter verifies sign ms', 'two-party setup ms', 'CPU ms', 'funding vB', 'funding fee sats', 'closing fees reserved sats'],
    rows,
  ));
  console.log('accepter: check offers + derive + sign accept_dlc; offerer: check accepts + derive + verify + sign + funding witnesses; CPU counts every thread of this process.');
  console.log(`adaptor signatures: strip ${strip.signed.toLocaleString('en-US')} made, ${strip.verified.toLocaleString('en-US')} verified (both parties); single ${single.signed} made, ${single.verified} verified.`);

  return {
    stripPeriods: periods,
    stripPeriodBlocks: periodBlocks,
    stripCetsPerPeriod: Math.max(...strip.cetsPerPeriod),
    stripCets: sum(strip.cetsPerPeriod),
    stripAdaptorSigs: sum(strip.adaptorSigsPerPeriod),
    stripSetupMs: Math.round(strip.ms.total),
    stripSetupCpuMs: Math.round(strip.ms.cpu),
    stripFundingVsize: strip.fundingVsize,
    stripFundingFeeSats: Number(strip.fundingFeeSats),
    stripClosingFeesSats: Number(strip.closingFeesSats),
    stripSingleCets: sum(single.cetsPerPeriod),
    stripSingleAdaptorSigs: sum(single.adaptorSigsPerPeriod),
    stripSingleSetupMs: Math.round(single.ms.total),
    stripSingleSetupCpuMs: Math.round(single.ms.cpu),
    stripSingleFundingVsize: single.fundingVsize,
    stripSingleFundingFeeSats: Number(single.fundingFeeSats),
    stripSingleClosingFeesSats: Number(single.closingFeesSats),
    stripVsSingle: Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, Number(v.toFixed(2))])),
  };
}

export const stripSection: BenchSection = { name: 'strip', run: runStripBench };
