/**
 * Issue 10 item 5 on a real node: `wallet send` (an amount, a sweep, an
 * unsigned PSBT for an external signer, reserved coins left alone) and
 * `bump` (CPFP of a 1 sat/vB send and of a 1 sat/vB DLC CET: the child is
 * accepted and both are mined in the next block at the package rate; RBF of
 * a send; the refusals), through the participant library (src/participant),
 * plus one round through the `hashdlc` binary.
 *
 * The embedded bcoin node has no package relay, but a 1 sat/vB parent meets
 * its minimum relay fee on its own, so the parent is in the mempool before
 * its child; its miner orders by the higher of a transaction's own and its
 * descendants' fee rate (bcoin lib/mining/miner.js cmpRate, `descRate`),
 * i.e. it does take CPFP into account, and a regtest block takes the whole
 * mempool anyway: the test checks that both are in the next block, and the
 * package rate from the node's own mempool entries.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Psbt, Transaction, address as btcAddress, networks } from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { completeAttestedCet } from '../../protocol/contract/index.js';
import { isChainError } from '../../src/chain/index.js';
import type { ParticipantConfig } from '../../src/participant/config.js';
import { ParticipantError } from '../../src/participant/errors.js';
import { Participant, bumpTransaction, initWallet, newAddress, reachesRate, sendFromWallet, walletBalance } from '../../src/participant/index.js';
import { Wallet, isWalletError, type ContractRecord } from '../../src/wallet/index.js';
import { useRegtest } from '../../regtest/context.js';
import { broadcastFunding, exchangeDlcSignatures, prepareRegtestDlc } from '../../regtest/dlc.js';
import { mineBlocks, strangerAddress } from '../../regtest/helpers.js';
import { TestKey, sendFromKey } from '../../regtest/wallet.js';
import { linearDescriptor, testOracle } from '../helpers/dlc-fixture.js';

const { rpc, faucet } = useRegtest();
const tmp = mkdtempSync(join(tmpdir(), 'hashdlc-fees-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const config: ParticipantConfig = {
  network: 'regtest',
  networkGiven: true,
  walletDir: join(tmp, 'wallet'),
  coordinator: undefined,
  oracles: [],
  oraclePubkeys: [],
  oracleThreshold: undefined,
  rpc: inject('regtest').rpc,
  feeRatePerVb: undefined,
  threads: 0,
};

const BIN = fileURLToPath(new URL('../../bin/hashdlc.js', import.meta.url));

/** The hashdlc binary over the test wallet and node (no HASHDLC_* from the developer's shell). */
function hashdlc(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const rpcUrl = new URL(config.rpc!.url);
  rpcUrl.username = config.rpc!.username;
  rpcUrl.password = config.rpc!.password;
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HASHDLC_')) env[k] = v;
  Object.assign(env, { HASHDLC_WALLET_DIR: config.walletDir, HASHDLC_NETWORK: 'regtest', HASHDLC_RPC_URL: rpcUrl.toString() });
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr });
    });
  });
}

/** A contract record with no messages: enough for what `send` and `bump` read (reservations, funding txid). */
function fakeRecord(id: string, state: ContractRecord['state']): ContractRecord {
  return { version: 1, id, role: 'accept', network: 'regtest', keyIndex: 0, state, history: [{ state, at: new Date().toISOString() }], hashProfile: 'sha256', terms: {}, offer: '', reservedOutpoints: [] };
}

/** Runs `fn` with a participant over the test wallet, released afterwards (one process per wallet). */
async function withParticipant<T>(fn: (p: Participant) => Promise<T>): Promise<T> {
  const p = new Participant(config);
  try {
    return await fn(p);
  } finally {
    await p.close();
  }
}

/** The participant error a promise rejects with. */
async function refusal(run: Promise<unknown>): Promise<ParticipantError> {
  const err = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ParticipantError);
  return err as ParticipantError;
}

async function notInMempool(txid: string): Promise<boolean> {
  return rpc.getMempoolEntry(txid).then(
    () => false,
    (e: unknown) => isChainError(e),
  );
}

const COIN = 200_000n;
let stranger: { key: TestKey };
/** The 1 sat/vB send the CPFP test bumps. */
let sendAtOneSatPerVb = '';

beforeAll(async () => {
  await withParticipant((p) => initWallet(p));
  for (let i = 0; i < 5; i++) {
    const { address } = await withParticipant((p) => newAddress(p));
    await faucet.fund(address, COIN + BigInt(i) * 1_000n, { confirm: false });
  }
  stranger = { key: (await faucet.fundedKey(100_000n)).key }; // mines the block confirming the five coins too
}, 120_000);

describe('wallet send', () => {
  it('pays an amount at 1 sat/vB, change to a fresh change address, every input BIP125-signalling', async () => {
    const to = strangerAddress();
    const r = await withParticipant((p) => sendFromWallet(p, { address: to, amount: 50_000n, feeRatePerVb: 1n }));
    expect(r.broadcast).toBe(true);
    const entry = await rpc.getMempoolEntry(r.txid);
    // The node's own fee and size: what we computed, at no less than 1 sat/vB (and less than 2: a stuck send).
    expect(entry.feeSats).toBe(r.feeSats);
    expect(BigInt(entry.vsize)).toBe(r.vsize);
    expect(reachesRate({ feeSats: entry.feeSats, vsize: BigInt(entry.vsize) }, 1n)).toBe(true);
    expect(reachesRate({ feeSats: entry.feeSats, vsize: BigInt(entry.vsize) }, 2n)).toBe(false);
    const tx = Transaction.fromHex(await rpc.getRawTransactionHex(r.txid));
    expect(tx.ins.every((i) => i.sequence === 0xfffffffd)).toBe(true);
    const w = Wallet.open(config.walletDir);
    expect(tx.outs.map((o) => o.value)).toEqual([50_000n, r.changeSats]);
    expect(w.ownScripts().has(Buffer.from(tx.outs[1]!.script).toString('hex'))).toBe(true);
    expect(r.changeAddress).toMatch(/^bcrt1q/);
    sendAtOneSatPerVb = r.txid;
  });

  it('bump by CPFP: the child spends our change, the package pays the asked rate, both are mined in the next block', async () => {
    const parent = sendAtOneSatPerVb;
    const r = await withParticipant((p) => bumpTransaction(p, { txid: parent, feeRatePerVb: 10n, method: 'cpfp' }));
    expect(r.method).toBe('cpfp');
    const [pe, ce] = [await rpc.getMempoolEntry(parent), await rpc.getMempoolEntry(r.bumpTxid)];
    expect(ce.depends).toEqual([parent]);
    expect(ce.feeSats).toBe(r.feeSats);
    const pkg = { feeSats: pe.feeSats + ce.feeSats, vsize: BigInt(pe.vsize + ce.vsize) };
    expect(pkg).toEqual(r.package);
    expect(reachesRate(pkg, 10n)).toBe(true);
    // Not overpaid: at most one vbyte's worth per transaction above the rate (witness size estimate).
    expect(reachesRate({ feeSats: pkg.feeSats - 20n, vsize: pkg.vsize }, 10n)).toBe(false);
    expect(r.effectiveFeeRatePerVb).toBeGreaterThanOrEqual(10);
    // Our output is spent by the child now: a second CPFP of the parent is refused (bump the child instead).
    const twice = await refusal(withParticipant((p) => bumpTransaction(p, { txid: parent, feeRatePerVb: 20n, method: 'cpfp' })));
    expect([twice.code, twice.reason]).toEqual(['STATE', 'output-spent']);
    const template = await rpc.getBlockTemplate();
    const order = template.transactions.map((t) => t.txid);
    expect(order.indexOf(parent)).toBeGreaterThanOrEqual(0);
    expect(order.indexOf(parent)).toBeLessThan(order.indexOf(r.bumpTxid));
    const [block] = await mineBlocks(rpc, 1);
    for (const txid of [parent, r.bumpTxid]) expect(await rpc.getRawTransaction(txid)).toMatchObject({ blockhash: block, confirmations: 1 });
    // A confirmed transaction is not bumped.
    const again = await refusal(withParticipant((p) => bumpTransaction(p, { txid: parent, feeRatePerVb: 20n })));
    expect([again.code, again.reason]).toEqual(['STATE', 'confirmed']);
  });

  it('bump by RBF: the same payment paying more replaces the send; a repeat and a rate not higher are refused', async () => {
    const to = strangerAddress();
    const sent = await withParticipant((p) => sendFromWallet(p, { address: to, amount: 30_000n, feeRatePerVb: 1n }));
    const r = await withParticipant((p) => bumpTransaction(p, { txid: sent.txid, feeRatePerVb: 5n }));
    expect(r.method).toBe('rbf');
    expect(await notInMempool(sent.txid)).toBe(true);
    const entry = await rpc.getMempoolEntry(r.bumpTxid);
    expect(entry.feeSats).toBe(r.feeSats);
    expect(reachesRate({ feeSats: entry.feeSats, vsize: BigInt(entry.vsize) }, 5n)).toBe(true);
    const oldTx = Psbt.fromBase64(sent.psbt).extractTransaction();
    const newTx = Transaction.fromHex(await rpc.getRawTransactionHex(r.bumpTxid));
    // Same coins, same payment; only our change paid the difference.
    expect(newTx.ins.map((i) => `${Buffer.from(i.hash).reverse().toString('hex')}:${i.index}`)).toEqual(sent.inputs);
    expect(newTx.outs[0]).toEqual(oldTx.outs[0]);
    expect(oldTx.outs[1]!.value - newTx.outs[1]!.value).toBe(r.feeSats - sent.feeSats);
    // Run again (after a crash, say): the first replacement is there, nothing is paid twice.
    const repeat = await refusal(withParticipant((p) => bumpTransaction(p, { txid: sent.txid, feeRatePerVb: 5n })));
    expect(repeat.reason).toBe('not-in-mempool');
    const notHigher = await refusal(withParticipant((p) => bumpTransaction(p, { txid: r.bumpTxid, feeRatePerVb: 5n })));
    expect([notHigher.code, notHigher.reason]).toEqual(['STATE', 'rate-not-higher']);
    const [block] = await mineBlocks(rpc, 1);
    expect(await rpc.getRawTransaction(r.bumpTxid)).toMatchObject({ blockhash: block });
  });

  it("a contract's funding transaction is never replaced, even when every input is ours: CPFP from our change", async () => {
    const sent = await withParticipant((p) => sendFromWallet(p, { address: strangerAddress(), amount: 30_000n, feeRatePerVb: 1n }));
    // This wallet's record of a contract funded by that transaction (the CETs and refund spend its txid).
    Wallet.open(config.walletDir).contracts.save({ ...fakeRecord('cd'.repeat(32), 'funding-broadcast'), fundingTxid: sent.txid });
    const rbf = await refusal(withParticipant((p) => bumpTransaction(p, { txid: sent.txid, feeRatePerVb: 5n, method: 'rbf' })));
    expect([rbf.code, rbf.reason]).toEqual(['STATE', 'contract-funding']);
    const r = await withParticipant((p) => bumpTransaction(p, { txid: sent.txid, feeRatePerVb: 5n }));
    expect(r.method).toBe('cpfp');
    expect((await rpc.getMempoolEntry(r.bumpTxid)).depends).toEqual([sent.txid]);
    await mineBlocks(rpc, 1);
  });

  it('bump refuses a transaction that pays this wallet nothing and that it cannot replace', async () => {
    const theirs = await sendFromKey(rpc, stranger.key, [{ address: strangerAddress(), valueSats: 20_000n }], { feeRateSatPerVb: 1n });
    for (const method of [undefined, 'rbf', 'cpfp'] as const) {
      const err = await refusal(withParticipant((p) => bumpTransaction(p, { txid: theirs.txid, feeRatePerVb: 10n, ...(method === undefined ? {} : { method }) })));
      expect([err.code, err.reason]).toEqual(['STATE', 'nothing-to-bump']);
    }
    const bad = await refusal(withParticipant((p) => bumpTransaction(p, { txid: 'xyz', feeRatePerVb: 10n })));
    expect(bad.code).toBe('USAGE');
  });

  it('--psbt-out: the unsigned PSBT (with previous transactions) for an external signer; nothing signed or broadcast', async () => {
    const r = await withParticipant((p) => sendFromWallet(p, { address: strangerAddress(), amount: 40_000n, feeRatePerVb: 2n, psbtOnly: true }));
    expect(r.broadcast).toBe(false);
    expect(await notInMempool(r.txid)).toBe(true);
    for (const op of r.inputs) {
      const [txid, vout] = op.split(':');
      expect(await rpc.getTxOut(txid!, Number(vout), true)).not.toBeNull();
    }
    const psbt = Psbt.fromBase64(r.psbt);
    expect(psbt.data.inputs.every((i) => i.partialSig === undefined && i.nonWitnessUtxo !== undefined && i.witnessUtxo !== undefined)).toBe(true);
    // The external signer (here: the same seed) signs; the txid is the one reported.
    const w = Wallet.open(config.walletDir);
    expect(w.signInputs(psbt, psbt.data.inputs.map((_, i) => i)).notOurs).toEqual([]);
    psbt.finalizeAllInputs();
    const tx = psbt.extractTransaction();
    expect(tx.getId()).toBe(r.txid);
    expect(await rpc.sendRawTransaction(tx.toHex())).toBe(r.txid);
    await mineBlocks(rpc, 1);
  });

  it('the hashdlc binary: wallet send --json, bump (RBF), a repeat refused, bump without --fee-rate is a usage error', async () => {
    const sent = await hashdlc(['wallet', 'send', strangerAddress(), '25000', '--fee-rate', '1', '--json']);
    expect(sent.code, sent.stderr).toBe(0);
    const s = JSON.parse(sent.stdout) as { txid: string; amountSats: string; broadcast: boolean; feeRatePerVb: string };
    expect(s).toMatchObject({ amountSats: '25000', broadcast: true, feeRatePerVb: '1' });
    const noRate = await hashdlc(['bump', s.txid]);
    expect(noRate.code).toBe(2);
    expect(noRate.stderr).toMatch(/USAGE: 'hashdlc bump' needs --fee-rate/);
    const bumped = await hashdlc(['bump', s.txid, '--fee-rate', '3']);
    expect(bumped.code, bumped.stderr).toBe(0);
    expect(bumped.stdout).toMatch(new RegExp(`^replaced ${s.txid} by [0-9a-f]{64} \\(BIP125\\)`));
    expect(await notInMempool(s.txid)).toBe(true);
    const again = await hashdlc(['bump', s.txid, '--fee-rate', '4', '--json']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/STATE \(not-in-mempool\)/);
    await mineBlocks(rpc, 1);
  });

  it("'all' sweeps every spendable coin but those reserved by an unfunded contract; bad address, too much", async () => {
    const before = await withParticipant((p) => walletBalance(p));
    const held = before.utxos[0]!;
    const w = Wallet.open(config.walletDir);
    w.contracts.save({ ...fakeRecord('ab'.repeat(32), 'accepted'), reservedOutpoints: [held.outpoint] });
    const balance = await withParticipant((p) => walletBalance(p));
    expect(balance.reservedSats).toBe(held.valueSats);

    const bad = await refusal(withParticipant((p) => sendFromWallet(p, { address: 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq', amount: 10_000n })));
    expect(bad.code).toBe('USAGE');
    const tooMuch = await withParticipant((p) => sendFromWallet(p, { address: strangerAddress(), amount: balance.availableSats })).catch((e: unknown) => e);
    expect(isWalletError(tooMuch, 'WALLET_INSUFFICIENT_FUNDS')).toBe(true);

    const r = await withParticipant((p) => sendFromWallet(p, { address: strangerAddress(), amount: 'all' }));
    expect(r.inputs).not.toContain(held.outpoint);
    expect(r.inputs).toHaveLength(balance.utxos.length - 1);
    expect(r.changeSats).toBe(0n);
    expect(r.amountSats + r.feeSats).toBe(balance.availableSats);
    expect(r.feeRatePerVb).toBe(2n); // regtest without an estimate
    expect((await rpc.getMempoolEntry(r.txid)).feeSats).toBe(r.feeSats);
    await mineBlocks(rpc, 1);
    const after = await withParticipant((p) => walletBalance(p));
    expect(after.utxos.map((u) => u.outpoint)).toEqual([held.outpoint]);
  });
});

describe('bump a DLC CET', () => {
  it('a CET at 1 sat/vB paying this wallet, bumped by CPFP from our payout: the child is accepted and both are mined in the next block at the package rate', async () => {
    const oracle = testOracle('fees-bump-oracle');
    const NB_DIGITS = 4;
    const tip = await rpc.getBlockCount();
    const dlc = await prepareRegtestDlc(rpc, faucet, {
      announcement: oracle.announce('fees-bump-cet', NB_DIGITS),
      descriptor: linearDescriptor(NB_DIGITS, 200_000n, 10n),
      offerCollateral: 100_000n,
      acceptCollateral: 100_000n,
      cetLocktime: tip,
      refundLocktime: tip + 1_000,
      feeRatePerVb: 1n,
    });
    // The offerer's payout goes to this wallet (as 'hashdlc offer' does: a fresh receive address).
    const payout = await withParticipant((p) => newAddress(p));
    dlc.offer.payoutSpk = btcAddress.toOutputScript(payout.address, networks.regtest);
    const { setup, accept, offerCetSignatures } = await exchangeDlcSignatures(dlc);
    await broadcastFunding(rpc, dlc, setup);
    const { tx: cet } = completeAttestedCet(setup, [{ oracleIndex: 0, attestation: oracle.attestNumeric('fees-bump-cet', 7n, NB_DIGITS) }], {
      offer: offerCetSignatures,
      accept: accept.cetAdaptorSignatures,
    });
    expect(await rpc.sendRawTransaction(cet.toHex())).toBe(cet.getId());
    const stuck = await rpc.getMempoolEntry(cet.getId());
    const stuckRate = { feeSats: stuck.feeSats, vsize: BigInt(stuck.vsize) };
    expect(reachesRate(stuckRate, 1n) && !reachesRate(stuckRate, 2n)).toBe(true);

    const r = await withParticipant((p) => bumpTransaction(p, { txid: cet.getId(), feeRatePerVb: 10n }));
    // The CET spends the 2-of-2 funding output: this party cannot replace it alone, so CPFP.
    expect(r.method).toBe('cpfp');
    const child = Transaction.fromHex(await rpc.getRawTransactionHex(r.bumpTxid));
    expect(Buffer.from(child.ins[0]!.hash).reverse().toString('hex')).toBe(cet.getId());
    expect(Buffer.from(cet.outs[child.ins[0]!.index]!.script).toString('hex')).toBe(Buffer.from(dlc.offer.payoutSpk).toString('hex'));
    const ce = await rpc.getMempoolEntry(r.bumpTxid);
    const pkg = { feeSats: stuck.feeSats + ce.feeSats, vsize: BigInt(stuck.vsize + ce.vsize) };
    expect(reachesRate(pkg, 10n)).toBe(true);
    const [block] = await mineBlocks(rpc, 1);
    for (const txid of [cet.getId(), r.bumpTxid]) expect(await rpc.getRawTransaction(txid)).toMatchObject({ blockhash: block, confirmations: 1 });
  });
});
