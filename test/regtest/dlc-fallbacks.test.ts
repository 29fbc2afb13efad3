// The other ways a DLC leaves its funding output, on a real regtest node: the
// refund transaction (non-final before its block-height locktime, accepted at
// it), a cooperative close at an agreed split, and a funding transaction taken
// out of the chain by a reorganisation, detected, and mined again. Every
// transaction is built by protocol/; parties are funded with real outputs.
import { describe, expect, it } from 'vitest';
import { completeCet, findAttestedSlot, signedRefundTransaction } from '../../protocol/contract/index.js';
import { ecdsaSign } from '../../protocol/crypto/index.js';
import {
  applyFundingSpendWitness,
  buildCloseTransaction,
  fundingSpendSighash,
  verifyFundingSpendSignature,
} from '../../protocol/tx/index.js';
import { isChainError } from '../../src/chain/errors.js';
import { useRegtest } from '../../regtest/context.js';
import { broadcastFunding, exchangeDlcSignatures, paidByTransaction, prepareRegtestDlc, scriptHex } from '../../regtest/dlc.js';
import { disconnectBlock, mineBlocks, mineToHeight, reorgOut } from '../../regtest/helpers.js';
import { linearDescriptor, testOracle } from '../helpers/dlc-fixture.js';

const { rpc, faucet } = useRegtest();

const NB_DIGITS = 10;
const OFFER_COLLATERAL = 600_000n;
const ACCEPT_COLLATERAL = 400_000n;
const TOTAL = OFFER_COLLATERAL + ACCEPT_COLLATERAL;
const oracle = testOracle('regtest-dlc-fallback-oracle');

/** A funded-and-signed contract (funding not yet broadcast); refund `refundInBlocks` above the tip. */
async function openContract(eventId: string, refundInBlocks = 1_000) {
  const tip = await rpc.getBlockCount();
  const dlc = await prepareRegtestDlc(rpc, faucet, {
    announcement: oracle.announce(eventId, NB_DIGITS),
    descriptor: linearDescriptor(NB_DIGITS, TOTAL, 1_000n, 10_000n),
    offerCollateral: OFFER_COLLATERAL,
    acceptCollateral: ACCEPT_COLLATERAL,
    cetLocktime: tip,
    refundLocktime: tip + refundInBlocks,
  });
  return { dlc, ...(await exchangeDlcSignatures(dlc)) };
}

describe('refund', () => {
  it('the refund transaction is non-final before its locktime and accepted once the chain reaches it', async () => {
    const { dlc, setup, accept, offerRefundSignature } = await openContract('refund', 8);
    const { tx: fundingTx } = await broadcastFunding(rpc, dlc, setup);
    const locktime = dlc.offer.refundLocktime;
    expect(await rpc.getBlockCount()).toBeLessThan(locktime - 1);

    const refund = signedRefundTransaction(setup, offerRefundSignature, accept.refundSignature);
    expect(refund.locktime).toBe(locktime);
    const [early] = await rpc.testMempoolAccept([refund.toHex()]);
    expect(early).toMatchObject({ txid: refund.getId(), allowed: false, rejectReason: 'non-final' });
    const err = await rpc.sendRawTransaction(refund.toHex()).catch((e: unknown) => e);
    expect(isChainError(err, 'CHAIN_NON_FINAL'), String(err)).toBe(true);
    expect(err).toMatchObject({ rpcCode: -26, rpcMessage: expect.stringMatching(/^non-final/) });

    // Consensus IsFinalTx: final when nLockTime < the height of the block that would
    // include it. One block short (tip = locktime - 1, next block = locktime): still not.
    await mineToHeight(rpc, locktime - 1);
    await expect(rpc.sendRawTransaction(refund.toHex())).rejects.toMatchObject({ code: 'CHAIN_NON_FINAL' });
    // At the locktime (tip = locktime, next block above it): accepted.
    await mineBlocks(rpc, 1);
    expect(await rpc.getBlockCount()).toBe(locktime);
    expect(await rpc.sendRawTransaction(refund.toHex())).toBe(refund.getId());
    const [block] = await mineBlocks(rpc, 1);
    expect(await rpc.getRawTransaction(refund.getId())).toMatchObject({ blockhash: block, confirmations: 1 });
    expect(await rpc.getTxOut(fundingTx.getId(), setup.funding.fundOutputIndex)).toBeNull();

    // Each party gets its collateral back.
    const paid = await paidByTransaction(rpc, refund.getId());
    expect(paid).toEqual(
      new Map([
        [scriptHex(dlc.offerWallet.payout.address), OFFER_COLLATERAL],
        [scriptHex(dlc.acceptWallet.payout.address), ACCEPT_COLLATERAL],
      ]),
    );
  });
});

describe('cooperative close', () => {
  it('both parties sign a close transaction at an agreed split; it spends the funding output and CETs are dead', async () => {
    const eventId = 'close';
    const { dlc, setup, accept, offerCetSignatures } = await openContract(eventId);
    const { tx: fundingTx } = await broadcastFunding(rpc, dlc, setup);
    const { closing } = setup;

    // The parties agree on 750,000 / 250,000 before the oracle speaks.
    const split = { offer: 750_000n, accept: 250_000n };
    const close = buildCloseTransaction(closing, split);
    expect(close.tx.locktime).toBe(0);
    const sighash = fundingSpendSighash(closing, close.tx, close.fundingInputIndex);
    const offerSig = ecdsaSign(dlc.offerWallet.fundingKey.privateKey, sighash);
    const acceptSig = ecdsaSign(dlc.acceptWallet.fundingKey.privateKey, sighash);
    // Each checks the other's signature before handing over its own.
    expect(verifyFundingSpendSignature(closing, 'accept', sighash, acceptSig)).toBe(true);
    expect(verifyFundingSpendSignature(closing, 'offer', sighash, offerSig)).toBe(true);
    const signed = applyFundingSpendWitness(closing, close.tx, offerSig, acceptSig, close.fundingInputIndex);

    expect(await rpc.sendRawTransaction(signed.toHex())).toBe(signed.getId());
    // The fee is the closing fee both paid into the funding output, at no less than the contract's rate.
    const entry = await rpc.getMempoolEntry(signed.getId());
    expect(entry.feeSats).toBe(setup.funding.fundOutputValue - TOTAL);
    expect(entry.feeSats >= BigInt(entry.vsize) * dlc.offer.feeRatePerVb).toBe(true);
    const [block] = await mineBlocks(rpc, 1);
    expect(await rpc.getRawTransaction(signed.getId())).toMatchObject({ blockhash: block, confirmations: 1 });
    expect(await rpc.getTxOut(fundingTx.getId(), setup.funding.fundOutputIndex)).toBeNull();
    expect(await paidByTransaction(rpc, signed.getId())).toEqual(
      new Map([
        [scriptHex(dlc.offerWallet.payout.address), split.offer],
        [scriptHex(dlc.acceptWallet.payout.address), split.accept],
      ]),
    );

    // An attestation now completes a CET whose input is gone.
    const att = oracle.attestNumeric(eventId, 500n, NB_DIGITS);
    const slot = findAttestedSlot(setup, [{ contractIndex: 0, oracleIndex: 0, attestation: att }]);
    const cet = completeCet(
      setup,
      slot,
      offerCetSignatures.ecdsaAdaptorSignatures[slot.slotIndex]!.signature,
      accept.cetAdaptorSignatures.ecdsaAdaptorSignatures[slot.slotIndex]!.signature,
    );
    await expect(rpc.sendRawTransaction(cet.toHex())).rejects.toMatchObject({ code: 'CHAIN_MISSING_INPUTS' });
  });
});

describe('funding reorged out', () => {
  const ways = [
    { how: 'a longer competing branch', reorg: (hash: string) => reorgOut(rpc, hash) },
    { how: 'invalidateblock', reorg: (hash: string) => disconnectBlock(rpc, hash) },
  ];

  for (const { how, reorg } of ways) {
    it(`the funding transaction taken out of the chain by ${how} is detected and mined again; the contract still settles`, async () => {
      const eventId = `reorg-${how}`;
      const { dlc, setup, accept, offerCetSignatures } = await openContract(eventId);
      const { tx: fundingTx, blockHash } = await broadcastFunding(rpc, dlc, setup);
      const txid = fundingTx.getId();
      const vout = setup.funding.fundOutputIndex;
      expect(await rpc.getTxOut(txid, vout, false)).toMatchObject({ confirmations: 1, valueSats: setup.funding.fundOutputValue });
      const height = (await rpc.getBlockHeader(blockHash!)).height;

      await reorg(blockHash!);

      // Detected: the funding output is no longer in the confirmed UTXO set, the
      // transaction has no block, and its block is off the active chain.
      expect(await rpc.getTxOut(txid, vout, false)).toBeNull();
      const unconfirmed = await rpc.getRawTransaction(txid);
      expect(unconfirmed.blockhash).toBeUndefined();
      expect(unconfirmed.confirmations ?? 0).toBe(0);
      const tip = await rpc.getBlockCount();
      expect(height <= tip ? await rpc.getBlockHash(height) : undefined).not.toBe(blockHash);

      // Re-mined: it is back in the mempool (or else rebroadcast), then in a block.
      if (!(await rpc.getRawMempool()).includes(txid)) await rpc.sendRawTransaction(fundingTx.toHex());
      expect(await rpc.getRawMempool()).toContain(txid);
      const [reMinedIn] = await mineBlocks(rpc, 1);
      expect(reMinedIn).not.toBe(blockHash);
      expect(await rpc.getRawTransaction(txid)).toMatchObject({ blockhash: reMinedIn, confirmations: 1 });
      expect(await rpc.getTxOut(txid, vout, false)).toMatchObject({ confirmations: 1, valueSats: setup.funding.fundOutputValue });

      // Same txid, so every signature made for the contract still holds.
      const att = oracle.attestNumeric(eventId, 250n, NB_DIGITS);
      const slot = findAttestedSlot(setup, [{ contractIndex: 0, oracleIndex: 0, attestation: att }]);
      const cet = completeCet(
        setup,
        slot,
        offerCetSignatures.ecdsaAdaptorSignatures[slot.slotIndex]!.signature,
        accept.cetAdaptorSignatures.ecdsaAdaptorSignatures[slot.slotIndex]!.signature,
      );
      expect(await rpc.sendRawTransaction(cet.toHex())).toBe(cet.getId());
      await mineBlocks(rpc, 1);
      expect((await paidByTransaction(rpc, cet.getId())).get(scriptHex(dlc.offerWallet.payout.address))).toBe(250_000n);
    });
  }
});
