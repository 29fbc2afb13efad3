/**
 * Lifecycle benchmark section: one full on-chain DLC with 1,000 CETs on a
 * regtest node of its own, timed step by step: the accepter and the offerer
 * derive the contract and exchange CET adaptor and refund signatures (worker
 * pool), both wallets sign the funding PSBT, the node test-accepts, relays and
 * mines the funding transaction; the oracle attests; the attested CET is
 * completed from the two adaptor signatures (keyless, as the coordinator does),
 * relayed and mined, and its payouts are checked against the plan.
 *
 * `lifecycleMs` is that whole run, from offer/accept to the CET's confirmed
 * payouts. Funding the two wallets from the faucet comes before (the parties
 * already own coins) and is shown as its own row, not counted.
 *
 * This section does NOT measure node start or mining speed (bench/chain.ts
 * does) nor adaptor-signature throughput alone (bench/crypto.ts).
 */
import { performance } from 'node:perf_hooks';
import type { ContractSetup } from '../protocol/contract/index.js';
import { completeCet, findAttestedSlot } from '../protocol/contract/index.js';
import type { CetAdaptorSignatures } from '../protocol/messages/types.js';
import type { Party } from '../protocol/tx/index.js';
import { BitcoinRpc } from '../src/chain/rpc.js';
import { AdaptorEngine } from '../src/engine/index.js';
import { signContractCets, verifyContractCets } from '../src/engine/contract.js';
import { exchangeDlcSignatures, paidByTransaction, prepareRegtestDlc, scriptHex, signFundingTransaction } from '../regtest/dlc.js';
import type { CetSigner } from '../regtest/dlc.js';
import { Faucet, mineBlocks } from '../regtest/helpers.js';
import { startNode } from '../regtest/node.js';
import { TestKey } from '../regtest/wallet.js';
import { linearDescriptor, testOracle } from '../test/helpers/dlc-fixture.js';
import { formatTable } from './section.js';
import type { BenchOptions, BenchSection } from './section.js';

/** CETs of the measured contract. */
export const LIFECYCLE_CETS = 1_000;
const NB_DIGITS = 20;
/** The outcome the oracle attests (offerer gets 1,000 sats per unit). */
const ATTESTED = 617n;

function fail(message: string): never {
  throw new Error(`lifecycle bench: ${message}`);
}

/**
 * Runs one lifecycle on a fresh node; returns the summary merged into
 * bench/run.ts's JSON line.
 * @throws {Error} when any step does not do what it should (a benchmark of a broken run is worthless).
 */
export async function runLifecycleBench(opts: BenchOptions): Promise<Record<string, unknown>> {
  const node = await startNode();
  const engine = await AdaptorEngine.start({ threads: opts.threads });
  try {
    const rpc = new BitcoinRpc(node.rpc);
    const faucet = new Faucet(rpc, TestKey.random());
    await faucet.ensureFunds();

    // Offerer's payout: 1,000 sats per unit of outcome from 0 to 999, then all of
    // 999,000: 1,000 distinct payouts, so 1,000 CETs.
    const full = BigInt(LIFECYCLE_CETS - 1);
    const total = full * 1_000n;
    const oracle = testOracle('bench-lifecycle-oracle');
    const eventId = 'bench-lifecycle';
    const tip = await rpc.getBlockCount();

    const t0 = performance.now();
    const dlc = await prepareRegtestDlc(rpc, faucet, {
      announcement: oracle.announce(eventId, NB_DIGITS),
      descriptor: linearDescriptor(NB_DIGITS, total, full),
      offerCollateral: total / 2n,
      acceptCollateral: total - total / 2n,
      cetLocktime: tip,
      refundLocktime: tip + 1_000,
    });
    const tWallets = performance.now();

    // offer/accept/sign: set-up on both sides, CET signing and verification on the pool.
    let signMs = 0;
    let verifyMs = 0;
    const pooled: CetSigner = {
      async sign(setup: ContractSetup, key: Uint8Array) {
        const s = performance.now();
        const sigs = await signContractCets(engine, setup, key);
        signMs += performance.now() - s;
        return sigs;
      },
      async verify(setup: ContractSetup, party: Party, sigs: CetAdaptorSignatures) {
        const s = performance.now();
        await verifyContractCets(engine, setup, party, sigs);
        verifyMs += performance.now() - s;
      },
    };
    const signed = await exchangeDlcSignatures(dlc, pooled);
    const { setup } = signed;
    const tSigned = performance.now();
    if (setup.plan.cets.length !== LIFECYCLE_CETS) fail(`contract has ${setup.plan.cets.length} CETs, not ${LIFECYCLE_CETS}`);

    // Funding: PSBT signed by both wallets, test-accepted, relayed, mined, checked.
    const fundingTx = signFundingTransaction(setup, dlc.offerWallet, dlc.acceptWallet);
    const tPsbt = performance.now();
    const [verdict] = await rpc.testMempoolAccept([fundingTx.toHex()]);
    if (!verdict?.allowed) fail(`funding transaction refused: ${verdict?.rejectReason}`);
    await rpc.sendRawTransaction(fundingTx.toHex());
    await mineBlocks(rpc, 1);
    const fundOut = await rpc.getTxOut(fundingTx.getId(), setup.funding.fundOutputIndex, false);
    if (fundOut?.valueSats !== setup.funding.fundOutputValue) fail('funding output not confirmed');
    const tFunded = performance.now();

    // The oracle attests; the attested slot and its decryption key are found.
    const attestation = oracle.attestNumeric(eventId, ATTESTED, NB_DIGITS);
    const slot = findAttestedSlot(setup, [{ contractIndex: 0, oracleIndex: 0, attestation }]);
    const tAttested = performance.now();

    // Settlement: the CET completed from the two adaptor signatures, relayed, mined, payouts checked.
    const cet = completeCet(
      setup,
      slot,
      signed.offerCetSignatures.ecdsaAdaptorSignatures[slot.slotIndex]!.signature,
      signed.accept.cetAdaptorSignatures.ecdsaAdaptorSignatures[slot.slotIndex]!.signature,
    );
    await rpc.sendRawTransaction(cet.toHex());
    await mineBlocks(rpc, 1);
    const paid = await paidByTransaction(rpc, cet.getId());
    const expected = ATTESTED * 1_000n;
    if (paid.get(scriptHex(dlc.offerWallet.payout.address)) !== expected) fail('offer payout is not the curve value');
    if (paid.get(scriptHex(dlc.acceptWallet.payout.address)) !== total - expected) fail('accept payout is not the curve value');
    const tSettled = performance.now();

    const ms = (a: number, b: number): number => Math.round(b - a);
    const exchangeMs = ms(tWallets, tSigned);
    const rows = [
      ['(before) wallets funded by the faucet, 1 block', `${ms(t0, tWallets)} ms`],
      [`offer/accept/sign: set-up ×2, sign ${setup.plan.adaptorSlots.length} ×2, verify ×2`, `${exchangeMs} ms`],
      ['  of which CET signing (pool)', `${Math.round(signMs)} ms`],
      ['  of which CET verification (pool)', `${Math.round(verifyMs)} ms`],
      ['funding PSBT: both sign, combine, finalize', `${ms(tSigned, tPsbt)} ms`],
      ['funding: testmempoolaccept, send, mine, gettxout', `${ms(tPsbt, tFunded)} ms`],
      ['attest + find attested CET', `${ms(tFunded, tAttested)} ms`],
      ['settle: complete CET, send, mine, check payouts', `${ms(tAttested, tSettled)} ms`],
      ['whole lifecycle (offer → CET payouts confirmed)', `${ms(tWallets, tSettled)} ms`],
    ];
    console.log(
      `\nlifecycle (${LIFECYCLE_CETS} CETs, ${node.kind} node, ${engine.threads} threads)\n${formatTable(['step', 'time'], rows)}\n`,
    );
    return {
      lifecycleCets: LIFECYCLE_CETS,
      lifecycleMs: ms(tWallets, tSettled),
      lifecycleNode: node.kind,
      lifecycleAdaptorSigs: setup.plan.adaptorSlots.length,
      lifecycleExchangeMs: exchangeMs,
      lifecycleFundMs: ms(tSigned, tFunded),
      lifecycleAttestMs: ms(tFunded, tAttested),
      lifecycleSettleMs: ms(tAttested, tSettled),
    };
  } finally {
    await engine.close();
    await node.stop();
  }
}

/** The section for bench/run.ts. */
export const lifecycleSection: BenchSection = { name: 'lifecycle', run: runLifecycleBench };
