// A two-party numeric DLC on a real regtest node, built entirely by protocol/:
// two parties funded with real outputs (one of them P2SH-P2WPKH), offer and
// accept written over those outputs' previous transactions, every CET and the
// refund signed and checked, the funding transaction signed by each party's
// wallet in the funding PSBT, broadcast and mined; then a real oracle key
// attests an outcome and the attested CET, completed by either party or by a
// keyless coordinator, pays out where the payout curve says. A CET completed
// with the attestation of another outcome is refused by the node itself.
import { describe, expect, it } from 'vitest';
import { completeCet, findAttestedSlot } from '../../protocol/contract/index.js';
import type { ContractSetup } from '../../protocol/contract/index.js';
import { buildFundingPsbt, combinePsbts, finalizeFundingPsbt } from '../../protocol/tx/index.js';
import { isChainError } from '../../src/chain/errors.js';
import { useRegtest } from '../../regtest/context.js';
import {
  broadcastFunding,
  completeCetAsParty,
  exchangeDlcSignatures,
  paidByTransaction,
  prepareRegtestDlc,
  scriptHex,
  settleAsParty,
  signOwnFundingInputs,
} from '../../regtest/dlc.js';
import { mineBlocks } from '../../regtest/helpers.js';
import { linearDescriptor, testOracle } from '../helpers/dlc-fixture.js';

const { rpc, faucet } = useRegtest();

// The contract: outcomes 0..1023 (10 binary digits); the offerer's payout rises
// linearly from 0 at outcome 0 to all of the 1,000,000-sat collateral at 1,000,
// rounded to 10,000 sats: 101 CETs.
const NB_DIGITS = 10;
const TOTAL = 1_000_000n;
const FULL_AT = 1_000n;
const ROUNDING = 10_000n;
const OFFER_COLLATERAL = 600_000n;
const ACCEPT_COLLATERAL = TOTAL - OFFER_COLLATERAL;
/** Transactions.md "CET Outputs": outputs below 1,000 sats are left out. */
const DUST = 1_000n;

const oracle = testOracle('regtest-dlc-oracle');

/** The payout curve written out by hand (not through protocol/numeric): nearest multiple of ROUNDING, half up. */
function offerPayoutAt(outcome: bigint): bigint {
  if (outcome >= FULL_AT) return TOTAL;
  const exact = (outcome * TOTAL) / FULL_AT;
  return ((exact + ROUNDING / 2n) / ROUNDING) * ROUNDING;
}

/** Offer + accept over freshly funded outputs, both parties' signatures exchanged and checked. */
async function openContract(eventId: string, options: { acceptWrapped?: boolean } = {}) {
  const tip = await rpc.getBlockCount();
  const dlc = await prepareRegtestDlc(rpc, faucet, {
    announcement: oracle.announce(eventId, NB_DIGITS),
    descriptor: linearDescriptor(NB_DIGITS, TOTAL, FULL_AT, ROUNDING),
    offerCollateral: OFFER_COLLATERAL,
    acceptCollateral: ACCEPT_COLLATERAL,
    // CETs are final from the next block on; the refund is far away.
    cetLocktime: tip,
    refundLocktime: tip + 1_000,
    ...options,
  });
  return { dlc, ...(await exchangeDlcSignatures(dlc)) };
}

function attestedSlot(setup: ContractSetup, eventId: string, outcome: bigint) {
  return findAttestedSlot(setup, [{ contractIndex: 0, oracleIndex: 0, attestation: oracle.attestNumeric(eventId, outcome, NB_DIGITS) }]);
}

/** The adaptor slot covering `outcome`, read from the plan (no attestation needed). */
function slotCovering(setup: ContractSetup, outcome: bigint): { slotIndex: number; cetIndex: number } {
  const digits = outcome.toString(2).padStart(NB_DIGITS, '0').split('').map(Number);
  const slotIndex = setup.plan.adaptorSlots.findIndex((s) => s.oracles[0]!.digits.every((d, i) => d === digits[i]));
  expect(slotIndex).toBeGreaterThanOrEqual(0);
  return { slotIndex, cetIndex: setup.plan.adaptorSlots[slotIndex]!.cetIndex };
}

describe('DLC funding on chain', () => {
  it('each party signs its own inputs of the funding PSBT; the combined transaction is accepted, mined, and pays the 2-of-2 output', async () => {
    // The accepter funds from a P2SH-wrapped P2WPKH output, the offerer from native P2WPKH.
    const { dlc, setup } = await openContract('funding-psbt', { acceptWrapped: true });
    const { funding } = setup;
    expect(setup.plan.cets).toHaveLength(101);
    expect(funding.inputs.map((i) => [i.party, i.redeemScript.length > 0])).toEqual([
      ['offer', false],
      ['accept', true],
    ]);

    const psbt = buildFundingPsbt(funding);
    const byOffer = signOwnFundingInputs(psbt, funding, dlc.offerWallet);
    const byAccept = signOwnFundingInputs(psbt, funding, dlc.acceptWallet);
    expect(byOffer.signed.map((i) => funding.inputs[i]!.party)).toEqual(['offer']);
    expect(byAccept.signed.map((i) => funding.inputs[i]!.party)).toEqual(['accept']);
    // One party's signatures alone do not make a transaction.
    expect(() => finalizeFundingPsbt(byOffer.psbt, funding)).toThrowError(expect.objectContaining({ reason: 'psbt-not-finalizable' }));
    const tx = finalizeFundingPsbt(combinePsbts(byOffer.psbt, byAccept.psbt), funding);
    expect(tx.getId()).toBe(funding.txidHex);

    const [verdict] = await rpc.testMempoolAccept([tx.toHex()]);
    expect(verdict).toMatchObject({ txid: funding.txidHex, allowed: true });
    // The fee is exactly what the two parties' fee formulas charged them, at no less than the offered rate.
    expect(verdict!.feeSats).toBe(funding.offer.fundingFee + funding.accept.fundingFee);
    expect(verdict!.feeSats! >= BigInt(verdict!.vsize!) * dlc.offer.feeRatePerVb).toBe(true);

    expect(await rpc.sendRawTransaction(tx.toHex())).toBe(funding.txidHex);
    const [block] = await mineBlocks(rpc, 1);
    expect(await rpc.getRawTransaction(funding.txidHex)).toMatchObject({ blockhash: block, confirmations: 1 });
    const fundOut = await rpc.getTxOut(funding.txidHex, funding.fundOutputIndex, false);
    expect(fundOut).toMatchObject({
      confirmations: 1,
      valueSats: funding.fundOutputValue,
      coinbase: false,
      scriptPubKey: { hex: scriptHex(funding.fundingSpk), type: 'witness_v0_scripthash' },
    });
    // The funding output holds both collaterals plus the closing fee both paid in advance.
    expect(funding.fundOutputValue).toBe(TOTAL + funding.offer.closingFee + funding.accept.closingFee);
    const paid = await paidByTransaction(rpc, funding.txidHex);
    expect(paid.get(scriptHex(dlc.offerWallet.change.address))).toBe(funding.offer.change);
    expect(paid.get(scriptHex(dlc.acceptWallet.change.address))).toBe(funding.accept.change);
    // Both parties' funding outputs are spent.
    for (const w of [dlc.offerWallet, dlc.acceptWallet]) expect(await rpc.getTxOut(w.inputs[0]!.utxo.txid, w.inputs[0]!.utxo.vout)).toBeNull();
  });
});

describe('DLC settlement on chain', () => {
  const cases = [
    { completer: 'offer', who: 'the offerer', outcome: 437n },
    { completer: 'accept', who: 'the accepter', outcome: 0n },
    { completer: 'keyless', who: 'a keyless coordinator', outcome: 1_023n },
  ] as const;

  for (const { completer, who, outcome } of cases) {
    it(`the oracle attests ${outcome}; ${who} completes the attested CET, and the payouts follow the curve`, async () => {
      const eventId = `settle-${completer}-${outcome}`;
      const { dlc, setup, accept, offerCetSignatures } = await openContract(eventId);
      const { tx: fundingTx } = await broadcastFunding(rpc, dlc, setup);

      const slot = attestedSlot(setup, eventId, outcome);
      const offerAdaptor = offerCetSignatures.ecdsaAdaptorSignatures[slot.slotIndex]!.signature;
      const acceptAdaptor = accept.cetAdaptorSignatures.ecdsaAdaptorSignatures[slot.slotIndex]!.signature;
      // Each party: its own ECDSA signature plus the other's adaptor signature decrypted
      // with the attestation secret. The coordinator: both decrypted, no key at all.
      const completed = {
        offer: completeCetAsParty(setup, slot, 'offer', dlc.offerWallet.fundingKey, acceptAdaptor),
        accept: completeCetAsParty(setup, slot, 'accept', dlc.acceptWallet.fundingKey, offerAdaptor),
        keyless: completeCet(setup, slot, offerAdaptor, acceptAdaptor),
      };
      // The same CET (same txid), three different witnesses, every one valid for the node.
      const verdicts = await Promise.all(Object.values(completed).map((t) => rpc.testMempoolAccept([t.toHex()])));
      for (const [v] of verdicts) expect(v).toMatchObject({ txid: completed.offer.getId(), allowed: true });

      const cet = completed[completer];
      expect(await rpc.sendRawTransaction(cet.toHex())).toBe(cet.getId());
      const [block] = await mineBlocks(rpc, 1);
      expect(await rpc.getRawTransaction(cet.getId())).toMatchObject({ blockhash: block, confirmations: 1 });
      expect(await rpc.getTxOut(fundingTx.getId(), setup.funding.fundOutputIndex)).toBeNull();

      const offerGets = offerPayoutAt(outcome);
      const acceptGets = TOTAL - offerGets;
      expect(setup.plan.cets[slot.cetIndex]).toMatchObject({ offerPayout: offerGets, acceptPayout: acceptGets });
      const paid = await paidByTransaction(rpc, cet.getId());
      expect(paid.get(scriptHex(dlc.offerWallet.payout.address))).toBe(offerGets >= DUST ? offerGets : undefined);
      expect(paid.get(scriptHex(dlc.acceptWallet.payout.address))).toBe(acceptGets >= DUST ? acceptGets : undefined);
      expect(paid.size).toBe([offerGets, acceptGets].filter((v) => v >= DUST).length);
    });
  }

  it('the accepter settles with the checked completion (protocol/contract completeAttestedCetAsParty, as the CLI and the agent do): the node takes it', async () => {
    const eventId = 'settle-checked';
    const { dlc, setup, accept, offerCetSignatures } = await openContract(eventId);
    await broadcastFunding(rpc, dlc, setup);
    const attestations = [{ oracleIndex: 0, attestation: oracle.attestNumeric(eventId, 650n, NB_DIGITS) }];
    // A wrong counterparty signature set (its own) is refused before anything reaches the node.
    await expect(settleAsParty(setup, attestations, 'accept', dlc.acceptWallet.fundingKey, accept.cetAdaptorSignatures)).rejects.toMatchObject({
      code: 'BAD_SIGNATURE', reason: 'cet-signature:offer',
    });
    const done = await settleAsParty(setup, attestations, 'accept', dlc.acceptWallet.fundingKey, offerCetSignatures);
    expect(done.payouts).toEqual({ offer: offerPayoutAt(650n), accept: TOTAL - offerPayoutAt(650n) });
    expect(await rpc.sendRawTransaction(done.tx.toHex())).toBe(done.tx.getId());
    await mineBlocks(rpc, 1);
    const paid = await paidByTransaction(rpc, done.tx.getId());
    expect(paid.get(scriptHex(dlc.offerWallet.payout.address))).toBe(offerPayoutAt(650n));
    expect(paid.get(scriptHex(dlc.acceptWallet.payout.address))).toBe(TOTAL - offerPayoutAt(650n));
  });

  it('a CET cannot be completed with the attestation of another outcome: the node rejects the signature', async () => {
    const eventId = 'wrong-outcome';
    const { dlc, setup, accept, offerCetSignatures } = await openContract(eventId);
    await broadcastFunding(rpc, dlc, setup);

    const attested = attestedSlot(setup, eventId, 300n); // what the oracle said
    const wanted = slotCovering(setup, 800n); // the CET the cheater would like
    expect(setup.plan.cets[wanted.cetIndex]!.offerPayout).toBe(offerPayoutAt(800n));
    expect(wanted.cetIndex).not.toBe(attested.cetIndex);
    const forged = { cetIndex: wanted.cetIndex, decryptionKey: attested.decryptionKey };

    // The offerer signs the CET it wants and decrypts the accepter's adaptor signature
    // for it with the secret the oracle revealed for 300: the result is not a signature.
    const byOffer = completeCetAsParty(
      setup,
      forged,
      'offer',
      dlc.offerWallet.fundingKey,
      accept.cetAdaptorSignatures.ecdsaAdaptorSignatures[wanted.slotIndex]!.signature,
    );
    const [verdict] = await rpc.testMempoolAccept([byOffer.toHex()]);
    expect(verdict).toMatchObject({ txid: byOffer.getId(), allowed: false });
    expect(verdict!.rejectReason).toMatch(/script-verify-flag/);
    const err = await rpc.sendRawTransaction(byOffer.toHex()).catch((e: unknown) => e);
    expect(isChainError(err, 'CHAIN_SCRIPT_VERIFY_FAILED'), String(err)).toBe(true);
    expect(err).toMatchObject({ rpcCode: -26 });

    // Same from the accepter's side.
    const byAccept = completeCetAsParty(
      setup,
      forged,
      'accept',
      dlc.acceptWallet.fundingKey,
      offerCetSignatures.ecdsaAdaptorSignatures[wanted.slotIndex]!.signature,
    );
    await expect(rpc.sendRawTransaction(byAccept.toHex())).rejects.toMatchObject({ code: 'CHAIN_SCRIPT_VERIFY_FAILED', rpcCode: -26 });
    // The library's own completion refuses before anything reaches the node.
    expect(() =>
      completeCet(
        setup,
        { ...forged, slotIndex: wanted.slotIndex },
        offerCetSignatures.ecdsaAdaptorSignatures[wanted.slotIndex]!.signature,
        accept.cetAdaptorSignatures.ecdsaAdaptorSignatures[wanted.slotIndex]!.signature,
      ),
    ).toThrowError(expect.objectContaining({ code: 'BAD_SIGNATURE' }));

    // The funding output was spendable all along: the attested CET goes through.
    const honest = completeCetAsParty(
      setup,
      attested,
      'offer',
      dlc.offerWallet.fundingKey,
      accept.cetAdaptorSignatures.ecdsaAdaptorSignatures[attested.slotIndex]!.signature,
    );
    expect(await rpc.sendRawTransaction(honest.toHex())).toBe(honest.getId());
    await mineBlocks(rpc, 1);
    const paid = await paidByTransaction(rpc, honest.getId());
    expect(paid.get(scriptHex(dlc.offerWallet.payout.address))).toBe(offerPayoutAt(300n));
    expect(paid.get(scriptHex(dlc.acceptWallet.payout.address))).toBe(TOTAL - offerPayoutAt(300n));
  });
});
