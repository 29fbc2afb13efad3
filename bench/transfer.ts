/**
 * Transfer benchmark section (issue 14): what selling a live position costs
 * next to setting the contract up in the first place, for the default sale
 * and for a contract with `--cets` CETs (default 10,000), in one run, through
 * the protocol functions the participants and the coordinator use.
 *
 * Per contract:
 * (a) the original two-party set-up, miner M offering, buyer B1 accepting
 *     (`buildAcceptAsync`, `buildSignAsync`, `verifySignAsync`: every CET
 *     adaptor signature made and verified by both), then the funding
 *     transaction signed by both parties' P2WPKH inputs (low-R, as Core's
 *     wallet) and finalized: its vsize and fee;
 * (b) the transfer of B1's side to B2 at a price:
 *     1. the taker B2 derives the new contract (`transferredMessages`,
 *        `setupTransferredContract`: the transfer transaction and every CET
 *        of the new contract) and signs its side (all CETs + refund);
 *     2. the stayer M checks the new contract field by field
 *        (`checkTransferredContract`), derives it, verifies B2's signatures
 *        (`verifyTransferSignatures`), signs its side (`transferSign`) and
 *        signs the old funding input (`transferSpendSighash`);
 *     3. the taker verifies M's sign' (`verifyTransferSign`);
 *     4. the transfer transaction: the seller B1 checks the price is paid
 *        (`checkTransferPayment`) and signs the old funding input, B2's wallet
 *        signs its inputs (`buildTransferPsbt`), and the whole transaction is
 *        assembled (`signedTransferTransaction`): its vsize and fee.
 *     Wall and CPU time of each step, and the ratio transfer / original.
 *
 * CET adaptor signatures are made and verified on src/engine's worker pool
 * (`signContractCets` / `verifyContractCets`), as in bench/contract.ts and
 * bench/strip.ts. The transfer's CET work is the same as a set-up's (the new
 * contract has the same CETs over a new funding output), so the ratio is
 * about 1: a transfer is a set-up, paid by one transaction.
 *
 * This section does NOT assert speed, touch a node, the coordinator or an
 * oracle service: it prints and returns figures (and throws if a signature it
 * made does not verify).
 */
import { performance } from 'node:perf_hooks';
import * as ecc from 'tiny-secp256k1';
import type { Transaction } from 'bitcoinjs-lib';
import {
  buildAcceptAsync,
  buildOffer,
  buildSignAsync,
  checkTransferredContract,
  defaultLocktimes,
  fundingPsbtOf,
  setupTransferredContract,
  signContractAsync,
  transferredMessages,
  transferSign,
  verifySignAsync,
  verifyTransferSign,
  verifyTransferSignatures,
  type CetSigner,
  type CetVerifier,
  type ContractSetup,
  type OfferContract,
} from '../protocol/contract/index.js';
import { ecdsaSign } from '../protocol/crypto/ecdsa.js';
import { backendName } from '../protocol/crypto/secp.js';
import type { AcceptDlc, OfferDlc, SignDlc } from '../protocol/messages/types.js';
import { hashpowerSale } from '../protocol/templates/index.js';
import {
  buildTransferPsbt,
  checkTransferPayment,
  extractFundingSignatures,
  finalizeFundingPsbt,
  signedTransferTransaction,
  transferSourceOf,
  transferSpendSighash,
  verifyFundingSpendSignature,
  type ExtraFundingOutput,
  type TransferTerms,
  type TransferTransaction,
} from '../protocol/tx/index.js';
import { AdaptorEngine } from '../src/engine/index.js';
import { signContractCets, verifyContractCets } from '../src/engine/contract.js';
import { REGTEST_CHAIN_HASH, fundingInput, linearDescriptor, p2wpkhScriptPubkey, publicKey, testOracle, testSecret } from '../test/helpers/dlc-fixture.js';
import { formatTable, type BenchOptions, type BenchSection } from './section.js';

/** Fee rate of the original funding and of the transfer, sat/vB (bench/strip.ts's). */
export const TRANSFER_BENCH_FEE_RATE = 2n;
/** The many-CET contract's event digits (bench/contract.ts's). */
const NB_DIGITS = 20;
/** The sale's delivery event: bps, 14 binary digits. */
const SALE_DIGITS = 14;
const WINDOW = { start: 10_000, end: 10_100 };

/** One contract to set up and then transfer. */
export interface TransferBenchContract {
  name: string;
  /** Suffix of the summary keys: `sale`, `10000`. */
  key: string;
  label: string;
  contract: OfferContract;
  /** The funding transaction's extra outputs (the sale's upfront), paid once, never again by the transfer. */
  extraOutputs: readonly ExtraFundingOutput[];
  /** Collateral of each party (to size the synthetic wallet inputs). */
  offerCollateral: bigint;
  acceptCollateral: bigint;
  /** What B2 pays B1 for the position. */
  price: bigint;
}

/** The default sale of bench/contract.ts and bench/strip.ts (100 TH/s, 400,000 escrow, 200,000 miner collateral, 50,000 upfront, 95%). */
export function transferBenchSale(opts: { roundingMod?: bigint } = {}): TransferBenchContract {
  const label = 'bench-transfer-sale';
  const sale = hashpowerSale({
    hashrateThs: 100n,
    window: WINDOW,
    deliveryAddress: `bcrt1qdelivery-${label}`,
    upfront: 50_000n,
    escrow: 400_000n,
    minerCollateral: 200_000n,
    toleranceBps: 9500,
    upfrontScript: p2wpkhScriptPubkey(publicKey(testSecret(`${label}:upfront`))),
    upfrontSerialId: 77n,
    ...(opts.roundingMod === undefined ? {} : { roundingMod: opts.roundingMod }),
    oracleInfo: { single: { oracleAnnouncement: testOracle(`${label}:oracle`).announce(`hashpower-delivery/${WINDOW.start}-${WINDOW.end}/bps/${label}`, SALE_DIGITS) } },
  });
  return {
    name: 'default sale',
    key: 'sale',
    label,
    contract: sale,
    extraOutputs: sale.extraOutputs,
    offerCollateral: sale.offerCollateral,
    acceptCollateral: sale.acceptCollateral,
    price: 120_000n,
  };
}

/** bench/contract.ts's contract whose payout changes at every outcome in [0, cets - 1]: `cets` + 1 CETs, 20-digit event. */
export function transferBenchCets(cets: number): TransferBenchContract {
  const label = `bench-transfer-${cets}`;
  const total = BigInt(cets) * 1000n;
  const offerCollateral = total / 2n;
  const announcement = testOracle(`${label}:oracle`).announce(label, NB_DIGITS);
  return {
    name: `${cets.toLocaleString('en-US')}-CET contract`,
    key: String(cets),
    label,
    contract: {
      contractInfo: {
        singleContractInfo: {
          totalCollateral: total,
          contractInfo: { contractDescriptor: linearDescriptor(NB_DIGITS, total, BigInt(cets)), oracleInfo: { single: { oracleAnnouncement: announcement } } },
        },
      },
      offerCollateral,
    },
    extraOutputs: [],
    offerCollateral,
    acceptCollateral: total - offerCollateral,
    price: (total - offerCollateral) / 4n,
  };
}

/** Where the CET adaptor signatures are made and checked. */
export interface TransferCetWork {
  signer: CetSigner;
  verifier: CetVerifier;
}

/** Wall and CPU (all threads of the process) milliseconds. */
export interface Cost {
  wallMs: number;
  cpuMs: number;
}

/** What one contract's set-up and transfer produced and cost. */
export interface TransferBenchResult {
  name: string;
  key: string;
  cets: number;
  /** One party's CET adaptor signatures. */
  adaptorSigs: number;
  original: {
    setup: ContractSetup;
    fundingTx: Transaction;
    fundingVsize: number;
    fundingFeeSats: bigint;
    cost: Cost;
  };
  transfer: {
    terms: TransferTerms;
    /** The new contract as the taker derived it (and M's as M derived it: the same contract id). */
    setup: ContractSetup;
    accept: AcceptDlc;
    sign: SignDlc;
    built: TransferTransaction;
    /** The signed transfer transaction. */
    tx: Transaction;
    vsize: number;
    feeSats: bigint;
    steps: {
      /** B2: derive the new contract (with the transfer tx) and sign every CET + refund. */
      takerSigns: Cost;
      /** M: field-by-field check, derive, verify B2's signatures, sign every CET + refund, sign the old funding input. */
      stayerVerifiesSigns: Cost;
      /** B2: verify M's sign'. */
      takerVerifies: Cost;
      /** B1's price check + old-input signature, B2's wallet witnesses, the assembled transaction. */
      transferTx: Cost;
    };
    cost: Cost;
  };
}

function fail(message: string): never {
  throw new Error(`transfer bench: ${message}`);
}

/** Low-R ECDSA (Bitcoin Core's wallet grinds for it), so a P2WPKH witness is at most the declared 107 bytes. */
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

/** Times `fn`: wall and the CPU of every thread of this process. */
async function timed<T>(fn: () => Promise<T>): Promise<[T, Cost]> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  const out = await fn();
  const wallMs = performance.now() - t;
  const used = process.cpuUsage(cpu);
  return [out, { wallMs, cpuMs: (used.user + used.system) / 1000 }];
}

const add = (...cs: Cost[]): Cost => ({ wallMs: cs.reduce((s, c) => s + c.wallMs, 0), cpuMs: cs.reduce((s, c) => s + c.cpuMs, 0) });

/**
 * Sets `c` up between M and B1, then transfers B1's side to B2, every
 * signature made and checked as the module header says.
 * @throws {DlcError} from any protocol step (a bad signature is BAD_SIGNATURE naming it); {Error} when the
 *   assembled transfer does not carry valid 2-of-2 signatures.
 */
export async function setupAndTransfer(c: TransferBenchContract, work: TransferCetWork): Promise<TransferBenchResult> {
  const k = (role: string): Uint8Array => testSecret(`${c.label}:${role}`);
  const spk = (role: string): Uint8Array => p2wpkhScriptPubkey(publicKey(k(role)));
  const m = { funding: k('m-funding'), utxo: k('m-utxo') };
  const b1 = { funding: k('b1-funding'), utxo: k('b1-utxo') };
  const b2 = { funding: k('b2-funding'), utxo: k('b2-utxo') };
  // Inputs comfortably above each party's share (collateral or price) plus fees.
  const offer: OfferDlc = buildOffer({
    contract: c.contract,
    temporaryContractId: k('temp-id'),
    chainHash: REGTEST_CHAIN_HASH,
    fundingPubkey: publicKey(m.funding),
    fundingInputs: [fundingInput(m.utxo, c.offerCollateral + 100_000n, 5n, `${c.label}:m`)],
    payoutSpk: spk('m-payout'),
    changeSpk: spk('m-change'),
    payoutSerialId: 1n,
    changeSerialId: 2n,
    fundOutputSerialId: 3n,
    feeRatePerVb: TRANSFER_BENCH_FEE_RATE,
    ...defaultLocktimes(WINDOW.end, 'regtest'),
  });

  // (a) The original set-up: B1 accepts, M signs, B1 verifies; then both wallets sign the funding.
  const [old, originalCost] = await timed(async () => {
    const { accept } = await buildAcceptAsync(offer, {
      fundingSecretKey: b1.funding,
      fundingInputs: [fundingInput(b1.utxo, c.acceptCollateral + c.extraOutputs.reduce((s, o) => s + o.value, 0n) + 100_000n, 6n, `${c.label}:b1`)],
      payoutSpk: spk('b1-payout'),
      changeSpk: spk('b1-change'),
      payoutSerialId: 11n,
      changeSerialId: 12n,
      extraOutputs: c.extraOutputs,
    }, work.signer);
    const { sign } = await buildSignAsync(offer, accept, {
      fundingSecretKey: m.funding,
      fundingSignatures: (s: ContractSetup) => {
        const psbt = fundingPsbtOf(s);
        s.funding.inputs.forEach((input, i) => { if (input.party === 'offer') psbt.signInput(i, lowRSigner(m.utxo)); });
        return extractFundingSignatures(psbt, s.funding, 'offer');
      },
      extraOutputs: c.extraOutputs,
    }, { signer: work.signer, verifier: work.verifier });
    const { setup } = await verifySignAsync(offer, accept, sign, { extraOutputs: c.extraOutputs }, work.verifier);
    return { accept, setup };
  });
  const setup = old.setup;
  const fundingPsbt = fundingPsbtOf(setup);
  setup.funding.inputs.forEach((input, i) => fundingPsbt.signInput(i, lowRSigner(input.party === 'offer' ? m.utxo : b1.utxo)));
  const fundingTx = finalizeFundingPsbt(fundingPsbt, setup.funding);
  const fundingFeeSats = setup.funding.inputs.reduce((s, i) => s + i.prevOutput.value, 0n) - fundingTx.outs.reduce((s, o) => s + o.value, 0n);

  // (b) The transfer of B1's side (the v1 scope: the accept side; M stays).
  const sellerSpk = spk('b1-price');
  const terms: TransferTerms = {
    side: 'accept',
    from: transferSourceOf(setup.closing),
    price: c.price,
    sellerSpk,
    priceSerialId: 40n,
    feeRatePerVb: TRANSFER_BENCH_FEE_RATE,
  };
  const oldMessages = { offer, accept: old.accept };

  // 1. B2: the new contract's messages and set-up (with the transfer tx), every CET + refund signed.
  const [taken, takerSigns] = await timed(async () => {
    const drafts = transferredMessages(oldMessages, 'accept', k('transfer-temp-id'), {
      fundingPubkey: publicKey(b2.funding),
      payoutSpk: spk('b2-payout'),
      payoutSerialId: 21n,
      fundingInputs: [fundingInput(b2.utxo, c.price + 100_000n, 22n, `${c.label}:b2`)],
      changeSpk: spk('b2-change'),
      changeSerialId: 23n,
    });
    const mine = setupTransferredContract(drafts.offer, drafts.accept, terms);
    const sigs = await signContractAsync(mine.setup, b2.funding, work.signer);
    const accept: AcceptDlc = { ...drafts.accept, ...sigs };
    // Signatures enter neither the funding nor the CETs: B2's derivation holds for its signed accept' (validateSign reads them).
    return { offer: drafts.offer, accept, setup: { ...mine.setup, accept }, transfer: mine.transfer };
  });

  // 2. M: the field-by-field check, then verify B2's side, sign its own and the old funding input.
  const [stayer, stayerVerifiesSigns] = await timed(async () => {
    checkTransferredContract(oldMessages, { offer: taken.offer, accept: taken.accept }, terms, { side: 'accept', from: transferSourceOf(setup.closing) });
    const next = setupTransferredContract(taken.offer, taken.accept, terms);
    await verifyTransferSignatures(next.setup, 'accept', taken.accept, work.verifier);
    const sign = transferSign(next.setup, await signContractAsync(next.setup, m.funding, work.signer));
    const oldInputSig = ecdsaSign(m.funding, transferSpendSighash(setup.closing, next.transfer));
    return { sign, oldInputSig, setup: next.setup };
  });
  if (stayer.setup.funding.txidHex !== taken.transfer.txidHex) fail('M and B2 derive different transfer transactions');

  // 3. B2: M's sign' over B2's own derivation of the contract.
  const [, takerVerifies] = await timed(() => verifyTransferSign(taken.setup, stayer.sign, work.verifier));

  // 4. The transfer transaction: B1 checks the price, signs the old input; B2's wallet signs; assembled.
  const [tx, transferTx] = await timed(async () => {
    checkTransferPayment(taken.transfer.tx, { from: { txid: setup.funding.txid, vout: setup.funding.fundOutputIndex }, price: c.price, sellerSpk });
    const sighash = transferSpendSighash(setup.closing, taken.transfer);
    const sellerSig = ecdsaSign(b1.funding, sighash);
    const psbt = buildTransferPsbt(taken.transfer, terms.from);
    taken.transfer.inputs.forEach((input, i) => { if (input.party === 'accept') psbt.signInput(i, lowRSigner(b2.utxo)); });
    const witnesses = extractFundingSignatures(psbt, taken.transfer, 'accept');
    if (!verifyFundingSpendSignature(setup.closing, 'offer', sighash, stayer.oldInputSig)) fail('the stayer\'s old-input signature does not verify');
    return signedTransferTransaction(taken.transfer, 'accept', setup.closing, witnesses, stayer.oldInputSig, sellerSig);
  });
  if (tx.getId() !== taken.transfer.txidHex) fail('the signed transfer is not the transaction the new contract is funded by');
  // `inputs` are the new party's; the old funding output is the extra last input.
  const spent = taken.transfer.inputs.reduce((s, i) => s + i.prevOutput.value, 0n) + terms.from.value;
  const feeSats = spent - tx.outs.reduce((s, o) => s + o.value, 0n);
  if (feeSats !== taken.transfer.fee) fail(`the transfer pays ${feeSats} sats, built for ${taken.transfer.fee}`);

  return {
    name: c.name,
    key: c.key,
    cets: setup.plan.cets.length,
    adaptorSigs: setup.plan.adaptorSlots.length,
    original: { setup, fundingTx, fundingVsize: fundingTx.virtualSize(), fundingFeeSats, cost: originalCost },
    transfer: {
      terms,
      setup: taken.setup,
      accept: taken.accept,
      sign: stayer.sign,
      built: taken.transfer,
      tx,
      vsize: tx.virtualSize(),
      feeSats,
      steps: { takerSigns, stayerVerifiesSigns, takerVerifies, transferTx },
      cost: add(takerSigns, stayerVerifiesSigns, takerVerifies, transferTx),
    },
  };
}

const s = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const r2 = (x: number): number => Number(x.toFixed(2));

/** Runs the default sale and the largest `--cets` contract; returns the summary merged into bench/run.ts's JSON line. */
export async function runTransferBench(opts: BenchOptions, contracts?: TransferBenchContract[]): Promise<Record<string, unknown>> {
  const list = contracts ?? [transferBenchSale(), transferBenchCets(Math.max(...opts.cets))];
  const engine = await AdaptorEngine.start({ threads: opts.threads });
  const work: TransferCetWork = {
    signer: (setup, key) => signContractCets(engine, setup, key),
    verifier: (setup, party, sigs) => verifyContractCets(engine, setup, party, sigs),
  };
  const results: TransferBenchResult[] = [];
  try {
    // Warm-up (JIT, worker modules), so the first measured row is not penalised.
    await setupAndTransfer(list[0]!, work);
    for (const c of list) {
      process.stderr.write(`transfer: ${c.name}...\n`);
      results.push(await setupAndTransfer(c, work));
    }
  } finally {
    await engine.close();
  }

  const rows: string[][] = [];
  for (const r of results) {
    const o = r.original;
    const t = r.transfer;
    const st = t.steps;
    rows.push([r.name, 'original set-up', String(r.cets), String(r.adaptorSigs), s(o.cost.wallMs), s(o.cost.cpuMs), '', '', '', '', String(o.fundingVsize), String(o.fundingFeeSats)]);
    rows.push([
      r.name, 'transfer', String(r.cets), String(r.adaptorSigs), s(t.cost.wallMs), s(t.cost.cpuMs),
      s(st.takerSigns.wallMs), s(st.stayerVerifiesSigns.wallMs), s(st.takerVerifies.wallMs), s(st.transferTx.wallMs),
      String(t.vsize), String(t.feeSats),
    ]);
    rows.push([
      r.name, 'transfer / original', '', '', (t.cost.wallMs / o.cost.wallMs).toFixed(2), (t.cost.cpuMs / o.cost.cpuMs).toFixed(2), '', '', '', '',
      (t.vsize / o.fundingVsize).toFixed(2), (Number(t.feeSats) / Number(o.fundingFeeSats)).toFixed(2),
    ]);
  }
  console.log(`\ntransfer: the original two-party set-up, then the sale of the buyer's side to a new buyer (backend ${backendName()}, ${opts.threads} threads, fee rate ${TRANSFER_BENCH_FEE_RATE} sat/vB)`);
  console.log(formatTable(
    ['contract', 'what', 'CETs', 'adaptor sigs/party', 'wall', 'CPU', 'B2 builds+signs', 'M checks+verifies+signs', 'B2 verifies', 'transfer tx signed', 'tx vB', 'tx fee sats'],
    rows,
  ));
  console.log('original: accept_dlc + sign_dlc + verify, both parties (funding tx = the original funding, signed by both wallets); transfer: steps 1-4 (tx = the transfer transaction). CPU counts every thread of this process.');

  const summary: Record<string, unknown> = {};
  for (const r of results) {
    const key = `_${r.key}`;
    Object.assign(summary, {
      [`transferCets${key}`]: r.cets,
      [`transferOriginalSetupMs${key}`]: Math.round(r.original.cost.wallMs),
      [`transferOriginalSetupCpuMs${key}`]: Math.round(r.original.cost.cpuMs),
      [`transferOriginalFundingVsize${key}`]: r.original.fundingVsize,
      [`transferMs${key}`]: Math.round(r.transfer.cost.wallMs),
      [`transferCpuMs${key}`]: Math.round(r.transfer.cost.cpuMs),
      [`transferTxVsize${key}`]: r.transfer.vsize,
      [`transferTxFeeSats${key}`]: Number(r.transfer.feeSats),
      [`transferVsOriginal${key}`]: {
        wall: r2(r.transfer.cost.wallMs / r.original.cost.wallMs),
        cpu: r2(r.transfer.cost.cpuMs / r.original.cost.cpuMs),
        vsize: r2(r.transfer.vsize / r.original.fundingVsize),
      },
    });
  }
  return summary;
}

export const transferSection: BenchSection = { name: 'transfer', run: (opts) => runTransferBench(opts) };
