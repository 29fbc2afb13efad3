/**
 * Transfers of a live position (issue 14) through the coordinator on a real
 * regtest node with the real oracle service, the parties driven by protocol/
 * functions and test keys over real outputs (the coordinator in-process, its
 * watcher ticked by the test):
 * - the transfer never confirms (B2 double-spends its input in a block after the
 *   broadcast): the position and the new contract fail, the old contract is
 *   untouched, and at the window's end the coordinator's keyless settlement
 *   completes the OLD contract's CET paying B1 — nothing lost;
 * - the transfer confirms: the old contract `transferred`, the new one
 *   `confirmed`, B1 paid the price on chain; the coordinator's watcher settles
 *   the NEW contract, its CET paying B2's payout script.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transaction } from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupTransferredContract, signContract, transferSign, transferredMessages } from '../../protocol/contract/index.js';
import { ecdsaSign } from '../../protocol/crypto/ecdsa.js';
import { encodeAcceptDlc, encodeSignDlc, toHex, type AcceptDlc } from '../../protocol/messages/index.js';
import { buildTransferPsbt, transferSourceOf, transferSpendSighash, type TransferTerms } from '../../protocol/tx/index.js';
import { startCoordinator, type RunningCoordinator } from '../../src/coordinator/index.js';
import { useRegtest } from '../../regtest/context.js';
import { fundDlcWallet, fundingInputFromNode, keySigner, paidByTransaction, scriptHex } from '../../regtest/dlc.js';
import { buildP2wpkhSpend, mineBlocks, mineCompetingBranch, mineToHeight, strangerAddress, TestKey } from '../../regtest/index.js';
import { api, identityOf } from '../coordinator-fixtures.js';
import { coordinatorConfig, fundSaleOverHttp, okStatus, regtestSale, startRealOracle, windowInOneEra, type RealOracle, type RegtestSale } from './coordinator-fixtures.js';

const { rpc, faucet } = useRegtest();
let oracle: RealOracle;
let coord: RunningCoordinator;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hashdlc-coord-position-'));
  oracle = await startRealOracle(rpc);
  coord = await startCoordinator(coordinatorConfig(join(dir, 'db'), oracle.url), { watch: false, log: () => undefined });
});

afterAll(async () => {
  await coord?.stop();
  await oracle?.close();
  rmSync(dir, { recursive: true, force: true });
});

type Body = Record<string, unknown>;
const PRICE = 60_000n;
const post = (path: string, body: unknown, key: Uint8Array, status = 200) => okStatus(api(coord.url, 'POST', path, { body, key }), status);
const contract = async (id: string, key: Uint8Array): Promise<Body> => okStatus(api(coord.url, 'GET', `/v1/contracts/${id}`, { key }));
const position = async (id: string): Promise<Body> => okStatus(api(coord.url, 'GET', `/v1/positions/${id}`));

/** A sale funded and confirmed at the coordinator (window 3 blocks, 10 ahead: room for the transfer before its margin). */
async function confirmedSale(label: string): Promise<{ sale: RegtestSale; id: string }> {
  const window = await windowInOneEra(rpc, 3, 10);
  const sale = await regtestSale(rpc, faucet, oracle, label, window);
  const { id } = await fundSaleOverHttp(coord.url, sale);
  await mineBlocks(rpc, 1);
  await coord.watcher.tick();
  expect((await contract(id, sale.parties.offerIdentity)).state).toBe('confirmed');
  return { sale, id };
}

/**
 * B1 lists its side; B2 (a fresh wallet with one confirmed output) takes it with every
 * CET adaptor signature; M consents, B1 releases, B2 funds: the transfer is broadcast.
 */
async function transferOut(sale: RegtestSale, id: string) {
  const p = sale.parties;
  const b2Wallet = await fundDlcWallet(faucet, 'accept', 200_000n, { confirm: true });
  const b2Input = b2Wallet.inputs[0]!;
  const b2Identity = TestKey.random().privateKey;
  const seller = TestKey.random();
  const listed = await post('/v1/positions', { contractId: id, price: String(PRICE), sellerSpk: toHex(seller.outputScript) }, p.acceptIdentity, 201);
  const pid = listed.id as string;

  const old = p.accept().setup;
  const terms: TransferTerms = { side: 'accept', from: transferSourceOf(old.closing), price: PRICE, sellerSpk: seller.outputScript, priceSerialId: 40n, feeRatePerVb: 2n };
  const drafts = transferredMessages({ offer: p.offer, accept: p.accept().accept }, 'accept', TestKey.random().privateKey, {
    fundingPubkey: b2Wallet.fundingKey.publicKey,
    payoutSpk: b2Wallet.payout.outputScript,
    payoutSerialId: 21n,
    fundingInputs: [await fundingInputFromNode(rpc, b2Input, 22n)],
    changeSpk: b2Wallet.change.outputScript,
    changeSerialId: 23n,
  });
  const unsigned = setupTransferredContract(drafts.offer, drafts.accept, terms, { hashProfile: 'sha256' });
  const accept: AcceptDlc = { ...drafts.accept, ...signContract(unsigned.setup, b2Wallet.fundingKey.privateKey) };
  const { setup, transfer } = setupTransferredContract(drafts.offer, accept, terms, { hashProfile: 'sha256' });
  const sighash = transferSpendSighash(old.closing, transfer);

  await post(`/v1/positions/${pid}/take`, { accept: toHex(encodeAcceptDlc(accept)), identityPubkey: identityOf(b2Identity), priceSerialId: '40', feeRatePerVb: '2' }, b2Identity);
  const sign = transferSign(setup, signContract(setup, p.offerKey));
  await post(`/v1/positions/${pid}/consent`, { sign: toHex(encodeSignDlc(sign)), signature: toHex(ecdsaSign(p.offerKey, sighash)) }, p.offerIdentity);
  await post(`/v1/positions/${pid}/release`, { signature: toHex(ecdsaSign(p.acceptKey, sighash)) }, p.acceptIdentity);
  const psbt = buildTransferPsbt(transfer, terms.from);
  psbt.signInput(0, keySigner(b2Input.key));
  const funded = await post(`/v1/positions/${pid}/fund`, { transferPsbt: psbt.toBase64() }, b2Identity);
  expect(funded).toMatchObject({ state: 'broadcast', transferTxid: transfer.txidHex });
  expect((await rpc.getRawTransaction(transfer.txidHex)).txid).toBe(transfer.txidHex);
  return { pid, newId: toHex(accept.temporaryContractId), transfer, b2Wallet, b2Input, b2Identity, seller };
}

/** Mines past the window, waits for the oracle's attestation, and lets the watcher complete and broadcast the CET. */
async function settleAtWindowEnd(sale: RegtestSale): Promise<void> {
  await mineToHeight(rpc, sale.parties.window.end + 1);
  await oracle.attestation(sale.parties.eventId);
  await coord.watcher.tick();
}

describe('a position transfer through the coordinator on regtest', () => {
  it('never confirms (B2 double-spends its input): the position fails and the OLD contract settles, paying B1', async () => {
    const { sale, id } = await confirmedSale('rt-pos-fail');
    const t = await transferOut(sale, id);

    // B2 spends its input elsewhere, in a block: the transfer leaves the mempool and can never confirm.
    const conflict = buildP2wpkhSpend([{ utxo: t.b2Input.utxo, key: t.b2Input.key }], [{ address: strangerAddress(), valueSats: 150_000n }], { feeRateSatPerVb: 5n });
    await mineCompetingBranch(rpc, await rpc.getBestBlockHash(), 1, { txs: [Transaction.fromHex(conflict.hex)] });
    await coord.watcher.tick();
    expect((await position(t.pid)).state).toBe('failed');
    expect((await contract(t.newId, t.b2Identity)).state).toBe('failed');
    const before = await contract(id, sale.parties.acceptIdentity);
    expect(before.state).toBe('confirmed');
    expect(before).not.toHaveProperty('transferredTo');

    // Nothing lost: at the window's end the coordinator completes the OLD contract's CET (no delivery: B1 gets its escrow).
    await settleAtWindowEnd(sale);
    const rec = await contract(id, sale.parties.acceptIdentity);
    expect(rec).toMatchObject({ state: 'cet-broadcast', closingKind: 'cet', broadcastBy: 'coordinator' });
    await mineBlocks(rpc, 1);
    await coord.watcher.tick();
    expect((await contract(id, sale.parties.acceptIdentity)).state).toBe('settled');
    const paid = await paidByTransaction(rpc, rec.closingTxid as string);
    expect(paid.get(scriptHex(sale.acceptWallet.payout.outputScript))).toBe(BigInt((rec.payouts as { accept: string }).accept));
    expect(BigInt((rec.payouts as { accept: string }).accept)).toBeGreaterThan(0n);
  });

  it('confirms: the old contract transferred, B1 paid the price, and the NEW contract settles paying B2', async () => {
    const { sale, id } = await confirmedSale('rt-pos-ok');
    const t = await transferOut(sale, id);
    await mineBlocks(rpc, 1);
    await coord.watcher.tick();
    expect((await position(t.pid)).state).toBe('transferred');
    expect((await contract(id, sale.parties.offerIdentity)).state).toBe('transferred');
    expect((await contract(t.newId, t.b2Identity))).toMatchObject({ state: 'confirmed', transferredFrom: { contractId: id, positionId: t.pid } });
    const transferPaid = await paidByTransaction(rpc, t.transfer.txidHex);
    expect(transferPaid.get(scriptHex(t.seller.outputScript))).toBe(PRICE);

    await settleAtWindowEnd(sale);
    const rec = await contract(t.newId, t.b2Identity);
    expect(rec).toMatchObject({ state: 'cet-broadcast', closingKind: 'cet', broadcastBy: 'coordinator' });
    const cet = Transaction.fromHex(rec.closingTx as string);
    expect(Buffer.from(cet.ins[0]!.hash).reverse().toString('hex')).toBe(t.transfer.txidHex);
    await mineBlocks(rpc, 1);
    await coord.watcher.tick();
    expect((await contract(t.newId, t.b2Identity)).state).toBe('settled');
    const paid = await paidByTransaction(rpc, rec.closingTxid as string);
    const toB2 = paid.get(scriptHex(t.b2Wallet.payout.outputScript));
    expect(toB2).toBe(BigInt((rec.payouts as { accept: string }).accept));
    expect(toB2).toBeGreaterThan(0n);
    // The miner's payout is what the old contract's plan gave at this outcome.
    expect(paid.get(scriptHex(sale.offerWallet.payout.outputScript)) ?? 0n).toBe(BigInt((rec.payouts as { offer: string }).offer));
  });
});
