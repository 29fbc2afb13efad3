/**
 * The `hashdlc` CLI as real processes, on the regtest node, against a real
 * coordinator (startCoordinator) and a real oracle (startOracle):
 *
 * 1. wallets funded on the node; `wallet balance` sees the coins;
 * 2. a hashpower sale (miner offers, buyer accepts, miner signs, buyer funds
 *    from its CLI wallet), a hashprice forward (the buyer funds from an
 *    EXTERNAL wallet: `accept --utxo`, `fund --psbt-out`, signed outside,
 *    `fund --psbt-in --broadcast` through its own node) and a hashprice call
 *    (the miner's collateral from an external wallet: `offer --utxo`, `sign
 *    --psbt-out` / `--psbt-in`) closed cooperatively (`close` by both parties);
 * 3. the coordinator goes away; the pool delivers in the sale's window, the
 *    oracle attests, and the buyer settles the sale ALONE (`settle`: the
 *    attestation from the oracle, the CET completed with its own key and the
 *    miner's adaptor signature, broadcast through its node); the miner
 *    refunds the forward ALONE after the refund locktime (`refund`);
 * 4. every payout is checked on chain against the contract's CET plan.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { Psbt, Transaction } from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';
import { setupContract } from '../../protocol/contract/index.js';
import { decodeAcceptDlc, decodeOfferDlc, fromHex, toHex } from '../../protocol/messages/index.js';
import { startCoordinator, type RunningCoordinator } from '../../src/coordinator/index.js';
import { templateFromTerms } from '../../protocol/terms/index.js';
import { Wallet } from '../../src/wallet/index.js';
import { useRegtest } from '../../regtest/context.js';
import { mineAsPool, mineBlocks, mineToHeight } from '../../regtest/helpers.js';
import { TestKey } from '../../regtest/wallet.js';
import { OPERATOR_TOKEN, SIMDIFF_100THS_AT_HALF, startTestOracle, type TestOracle } from './oracle-fixture.js';

const { rpc, faucet } = useRegtest();
const BIN = fileURLToPath(new URL('../../bin/hashdlc.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'hashdlc-cli-regtest-'));

let oracle: TestOracle;
let coordinator: RunningCoordinator | undefined;
const minerDir = join(tmp, 'miner');
const buyerDir = join(tmp, 'buyer');

interface Run { code: number | null; stdout: string; stderr: string; json: any }

function hashdlc(walletDir: string, args: string[]): Promise<Run> {
  const provided = inject('regtest');
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HASHDLC_')) env[k] = v;
  Object.assign(env, {
    HASHDLC_WALLET_DIR: walletDir,
    HASHDLC_RPC_URL: provided.rpc.url,
    HASHDLC_RPC_USER: provided.rpc.username,
    HASHDLC_RPC_PASSWORD: provided.rpc.password,
    HASHDLC_ORACLE: oracle.oracle.url,
    HASHDLC_ORACLE_PUBKEY: oracle.oracle.publicKey,
    HASHDLC_THREADS: '1',
    ...(coordinator ? { HASHDLC_COORDINATOR: coordinator.url } : {}),
  });
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args, '--json'], { env, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      let json: any;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json });
    });
  });
}

async function ok(walletDir: string, args: string[]): Promise<any> {
  const r = await hashdlc(walletDir, args);
  expect(r.code, `hashdlc ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r.json;
}

/** Sats paid by transaction `txid` to each script (hex). */
async function paidBy(txid: string): Promise<Map<string, bigint>> {
  const tx = Transaction.fromHex(await rpc.getRawTransactionHex(txid));
  const m = new Map<string, bigint>();
  for (const o of tx.outs) m.set(toHex(o.script), (m.get(toHex(o.script)) ?? 0n) + o.value);
  return m;
}

async function waitFor<T>(fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** An external wallet signing its own P2WPKH input of a PSBT file (any BIP174 signer would). */
function externalSign(key: TestKey, inFile: string, outFile: string): number {
  const psbt = Psbt.fromBase64(readFileSync(inFile, 'utf8').trim());
  const signer = { publicKey: key.publicKey, sign: (h: Uint8Array) => ecc.sign(h, key.privateKey) };
  let n = 0;
  psbt.data.inputs.forEach((input, i) => {
    if (input.witnessUtxo && toHex(input.witnessUtxo.script) === toHex(key.outputScript)) {
      psbt.signInput(i, signer);
      n++;
    }
  });
  writeFileSync(outFile, psbt.toBase64());
  return n;
}

let tip0: number;
let window: { start: number; end: number };
const external = TestKey.random();
let externalUtxo: string;
const minerExternal = TestKey.random();
let minerExternalUtxo: string;
let sale: string;
let forward: string;
let call: string;

beforeAll(async () => {
  tip0 = await rpc.getBlockCount();
  oracle = await startTestOracle(rpc, { simulatedDifficulty: SIMDIFF_100THS_AT_HALF });
  coordinator = await startCoordinator({
    dataDir: join(tmp, 'coordinator'),
    port: 0,
    rpc: inject('regtest').rpc,
    oracles: [oracle.oracle.url],
    engineThreads: 1,
    watcher: { pollIntervalMs: 200, attestationPollIntervalMs: 200 },
  }, { log: () => undefined });
  Wallet.init(minerDir, 'regtest');
  Wallet.init(buyerDir, 'regtest');
  // The sale's window starts a little ahead; all contracts share it.
  window = { start: tip0 + 25, end: tip0 + 35 };
}, 120_000);

afterAll(async () => {
  await coordinator?.stop();
  await oracle?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('hashdlc on regtest, through the coordinator', () => {
  it('wallet balance: coins sent to the wallets are seen on the node', async () => {
    const minerAddr = (await ok(minerDir, ['wallet', 'address'])).address as string;
    const buyerAddr = (await ok(buyerDir, ['wallet', 'address'])).address as string;
    // Several coins each: a coin spent by an unconfirmed funding transaction cannot fund the next contract.
    for (let i = 0; i < 3; i++) {
      await faucet.fund(minerAddr, 1_000_000n, { confirm: false });
      await faucet.fund(buyerAddr, 1_000_000n, { confirm: false });
    }
    await faucet.fund(minerExternal.address, 1_000_000n, { confirm: false });
    await faucet.fund(external.address, 1_500_000n);
    const u = await rpc.scanTxOutSet([`addr(${external.address})`]);
    externalUtxo = `${u.unspents[0]!.txid}:${u.unspents[0]!.vout}`;
    const m = await rpc.scanTxOutSet([`addr(${minerExternal.address})`]);
    minerExternalUtxo = `${m.unspents[0]!.txid}:${m.unspents[0]!.vout}`;
    const bal = await ok(buyerDir, ['wallet', 'balance', '--utxos']);
    expect(bal.confirmedSats).toBe('3000000');
    expect(bal.utxos).toHaveLength(3);
    expect(bal.utxos.every((u: { address: string }) => u.address === buyerAddr)).toBe(true);
  });

  it('a hashpower sale: offer, offers, accept, sign, fund (CLI wallets)', async () => {
    const delivery = (await ok(buyerDir, ['wallet', 'address'])).address as string;
    const offer = await ok(minerDir, [
      'offer', 'hashpower', '--window', `${window.start}-${window.end}`, '--hashrate', '100',
      '--delivery-address', delivery, '--upfront', '20000', '--escrow', '300000', '--collateral', '200000',
      '--tolerance', '9500',
    ]);
    sale = offer.id;
    expect(offer.state).toBe('offered');
    const book = await ok(buyerDir, ['offers', '--template', 'hashpower-sale']);
    expect(book.offers.map((o: { id: string }) => o.id)).toContain(sale);
    const accRun = await hashdlc(buyerDir, ['accept', sale]);
    expect(accRun.code, accRun.stderr).toBe(0);
    const acc = accRun.json;
    expect(acc.adaptorSignatures).toBeGreaterThan(10);
    // Progress on stderr while signing, never mixed into the JSON on stdout.
    expect(accRun.stderr).toContain(`signing CET adaptor signatures: ${acc.adaptorSignatures}/${acc.adaptorSignatures} (100%)`);
    const signed = await ok(minerDir, ['sign', sale]);
    expect(signed.contractId).toBe(acc.contractId);
    const funded = await ok(buyerDir, ['fund', sale]);
    expect(funded.fundingTxid).toBe(acc.fundingTxid);
    // The upfront payment reached the miner inside the funding transaction.
    const rec = Wallet.open(minerDir).contracts.get(sale);
    const upfrontScript = rec.terms.upfrontScript as string;
    expect((await paidBy(funded.fundingTxid)).get(upfrontScript)).toBe(20_000n);
  });

  it('a hashprice forward funded from an external wallet (--utxo, --psbt-out, external signer, --psbt-in) and broadcast by the buyer', async () => {
    const ev = await oracle.post({ kind: 'hashprice', window }, { token: OPERATOR_TOKEN });
    expect([200, 201]).toContain(ev.status);
    const offer = await ok(minerDir, [
      'offer', 'hashprice-forward', '--event', ev.body.eventId, '--hashrate', '1000', '--strike', '500000',
      '--collateral', '150000', '--buyer-collateral', '150000',
    ]);
    forward = offer.id;
    await ok(buyerDir, ['accept', forward, '--utxo', externalUtxo]);
    await ok(minerDir, ['sign', forward]);
    // The buyer's CLI wallet owns none of the inputs: it says so, and hands the PSBT out.
    const refused = await hashdlc(buyerDir, ['fund', forward]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/not this wallet's; use --psbt-out\/--psbt-in/);
    const out = join(tmp, 'forward.psbt');
    await ok(buyerDir, ['fund', forward, '--psbt-out', out]);
    // The external wallet signs its own input.
    const signedFile = join(tmp, 'forward-signed.psbt');
    expect(externalSign(external, out, signedFile)).toBe(1);
    // ...and the buyer broadcasts the funding transaction through its own node, not the coordinator.
    const funded = await ok(buyerDir, ['fund', forward, '--psbt-in', signedFile, '--broadcast']);
    expect(await rpc.getRawMempool()).toContain(funded.fundingTxid);
    const tx = Transaction.fromHex(await rpc.getRawTransactionHex(funded.fundingTxid));
    expect(tx.ins.some((i) => `${Buffer.from(i.hash).reverse().toString('hex')}:${i.index}` === externalUtxo)).toBe(true);
  });

  it('a hashprice call closed cooperatively (both parties run close with the same split)', async () => {
    const events = await oracle.get('/v1/events?kind=hashprice');
    const ev = events.body.events.find((e: any) => e.params.window.start === window.start && e.params.window.end === window.end);
    const offer = await ok(minerDir, [
      'offer', 'hashprice-call', '--event', ev.eventId, '--hashrate', '1000', '--strike', '400000',
      '--collateral', '250000', '--premium', '15000', '--utxo', minerExternalUtxo,
    ]);
    call = offer.id;
    // Any payout curve over the same event: a custom offer (dry run: checked and shown, not posted).
    const curve = join(tmp, 'curve.json');
    writeFileSync(curve, JSON.stringify({
      payoutFunction: {
        payoutFunctionPieces: [
          { endPoint: { eventOutcome: 0, outcomePayout: 0, extraPrecision: 0 }, payoutCurvePiece: { polynomialPayoutCurvePiece: { payoutPoints: [] } } },
          { endPoint: { eventOutcome: 400000, outcomePayout: 100000, extraPrecision: 0 }, payoutCurvePiece: { polynomialPayoutCurvePiece: { payoutPoints: [] } } },
        ],
        lastEndpoint: { eventOutcome: 1048575, outcomePayout: 100000, extraPrecision: 0 },
      },
      roundingIntervals: { intervals: [{ beginInterval: 0, roundingMod: 5000 }] },
    }));
    const custom = await ok(minerDir, ['offer', 'custom', '--curve', curve, '--event', ev.eventId, '--collateral', '60000', '--accept-collateral', '40000', '--unit', 'sats/PH/day', '--dry-run']);
    expect(custom.dryRun).toBe(true);
    expect(custom.terms.template).toBe('custom-curve');
    expect(custom.cets.cets).toBeGreaterThan(2);
    await ok(buyerDir, ['accept', call]);
    // The miner's collateral comes from its external wallet: sign in two runs around it.
    const out = join(tmp, 'call.psbt');
    const half = await ok(minerDir, ['sign', call, '--psbt-out', out]);
    expect(half.psbtOut).toBe(out);
    expect(externalSign(minerExternal, out, `${out}.signed`)).toBe(1);
    await ok(minerDir, ['sign', call, '--psbt-in', `${out}.signed`]);
    await ok(buyerDir, ['fund', call]);
    await mineBlocks(rpc, 1);
    const first = await ok(minerDir, ['close', call, '--offer-payout', '200000', '--accept-payout', '50000']);
    expect(first.broadcast).toBe(false);
    const second = await ok(buyerDir, ['close', call, '--offer-payout', '200000', '--accept-payout', '50000']);
    expect(second.broadcast).toBe(true);
    const paid = await paidBy(second.closeTxid);
    const offerDlc = decodeOfferDlc(fromHex(Wallet.open(minerDir).contracts.get(call).offer));
    expect(paid.get(toHex(offerDlc.payoutSpk))).toBe(200_000n);
    const st = await ok(buyerDir, ['status', call]);
    expect(st.state).toBe('closed');
  });

  it('an offer withdrawn with cancel frees its reserved coin', async () => {
    const before = await ok(minerDir, ['wallet', 'balance']);
    const delivery = (await ok(buyerDir, ['wallet', 'address'])).address as string;
    const offer = await ok(minerDir, [
      'offer', 'hashpower', '--window', `${window.start}-${window.end}`, '--hashrate', '50',
      '--delivery-address', delivery, '--escrow', '100000', '--collateral', '100000',
    ]);
    const reserved = await ok(minerDir, ['wallet', 'balance']);
    expect(BigInt(reserved.reservedSats)).toBeGreaterThan(BigInt(before.reservedSats));
    const cancelled = await ok(minerDir, ['cancel', offer.id]);
    expect(cancelled.state).toBe('cancelled');
    const after = await ok(minerDir, ['wallet', 'balance']);
    expect(after.reservedSats).toBe(before.reservedSats);
    const again = await hashdlc(minerDir, ['cancel', offer.id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/STATE: .* is cancelled/);
  });

  it('the coordinator goes away; the buyer settles the sale alone after the oracle attests', async () => {
    await mineBlocks(rpc, 1);
    const minerStatus = await ok(minerDir, ['status', sale]);
    expect(['confirmed', 'funding-broadcast']).toContain(minerStatus.state);
    await coordinator!.stop();
    coordinator = undefined;

    // Before the window: ordinary blocks; in it: the pool pays the delivery address half of each coinbase.
    await mineToHeight(rpc, window.start - 1);
    const rec = Wallet.open(buyerDir).contracts.get(sale);
    const delivery = rec.terms.deliveryAddress as string;
    await mineAsPool(rpc, { blocks: window.end - window.start, shares: [{ address: delivery, shareBps: 2_500 }], restAddress: TestKey.random().address });
    // Too early? The oracle attests once block `end` exists.
    const early = await hashdlc(buyerDir, ['settle', sale]);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/NOT_READY/);
    await mineBlocks(rpc, 1);
    const settled = await waitFor(async () => {
      const r = await hashdlc(buyerDir, ['settle', sale]);
      if (r.code === 0) return r.json;
      expect(r.stderr).toMatch(/NOT_READY/);
      return undefined;
    });
    // The payouts are the CET plan's for the attested outcome, paid on chain.
    const offerDlc = decodeOfferDlc(fromHex(rec.offer));
    const acceptDlc = decodeAcceptDlc(fromHex(rec.accept!));
    const template = templateFromTerms(rec.terms as never, (offerDlc.contractInfo as any).singleContractInfo.contractInfo.oracleInfo);
    const setup = setupContract(offerDlc, acceptDlc, { extraOutputs: template.extraOutputs });
    const cet = setup.plan.cets[settled.cetIndex]!;
    const outcome = BigInt(settled.outcome);
    expect(cet.range!.start <= outcome && outcome < cet.range!.start + cet.range!.count).toBe(true);
    expect(settled.payouts).toEqual({ offer: cet.offerPayout.toString(), accept: cet.acceptPayout.toString() });
    // About half the contracted hashrate was delivered: neither side gets everything.
    expect(outcome).toBeGreaterThan(3_000n);
    expect(outcome).toBeLessThan(9_500n);
    const paid = await paidBy(settled.txid);
    if (cet.offerPayout >= 1000n) expect(paid.get(toHex(offerDlc.payoutSpk))).toBe(cet.offerPayout);
    if (cet.acceptPayout >= 1000n) expect(paid.get(toHex(acceptDlc.payoutSpk))).toBe(cet.acceptPayout);
    // Running it again (once mined) finds the CET already out.
    await mineBlocks(rpc, 1);
    const again = await ok(buyerDir, ['settle', sale]);
    expect(again.alreadyBroadcast).toBe(true);
    expect(again.txid).toBe(settled.txid);
  });

  it('the miner refunds the forward alone once the refund locktime is reached', async () => {
    const rec = Wallet.open(minerDir).contracts.get(forward);
    const offerDlc = decodeOfferDlc(fromHex(rec.offer));
    const early = await hashdlc(minerDir, ['refund', forward]);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(new RegExp(`NOT_READY: refund locktime ${offerDlc.refundLocktime} not reached`));
    await mineToHeight(rpc, offerDlc.refundLocktime);
    const refunded = await ok(minerDir, ['refund', forward]);
    const acceptDlc = decodeAcceptDlc(fromHex(rec.accept!));
    const paid = await paidBy(refunded.txid);
    expect(paid.get(toHex(offerDlc.payoutSpk))).toBe(150_000n);
    expect(paid.get(toHex(acceptDlc.payoutSpk))).toBe(150_000n);
    await mineBlocks(rpc, 1);
    const miner = await ok(minerDir, ['status', '--local']);
    const buyer = await ok(buyerDir, ['status', '--local']);
    const states = (list: { id: string; state: string }[]) => Object.fromEntries(list.map((r) => [r.id, r.state]));
    expect(states(miner)[forward]).toBe('refunded');
    expect(states(buyer)).toEqual({ [sale]: 'settled', [forward]: 'funding-broadcast', [call]: 'closed' });
  });
});
