/**
 * A 4-period hashpower strip (issue 12) on a real regtest node, through the
 * coordinator as its own process: built with protocol/ functions over real
 * outputs, funded by ONE transaction (the upfront once and four DLC funding
 * outputs), periods 1-2 attested and settled by the coordinator's watcher
 * while 3-4 stay live; then the coordinator is SIGKILLed between two period
 * settlements, the rest of the window is mined and attested while it is down,
 * and after the restart periods 3-4 settle while periods 1-2 are untouched
 * (each period settled once, no settled CET recorded or broadcast again).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transaction } from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAttestedSlot } from '../../protocol/contract/index.js';
import { decodeMessage, fromHex } from '../../protocol/messages/index.js';
import { useRegtest } from '../../regtest/context.js';
import { fundDlcWallet, fundingInputFromNode, paidByTransaction, scriptHex } from '../../regtest/dlc.js';
import { freePort, mineAsPool, mineBlocks, mineToHeight, strangerAddress, TestKey } from '../../regtest/index.js';
import { api, identityOf, stripParties, type StripParties } from '../coordinator-fixtures.js';
import { okStatus, spawnCoordinator, startRealOracle, until, windowInOneEra, type CoordinatorProcess, type RealOracle } from './coordinator-fixtures.js';

const { rpc, faucet } = useRegtest();
let oracle: RealOracle;
let dir: string;
let running: CoordinatorProcess | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hashdlc-coord-strip-'));
  oracle = await startRealOracle(rpc);
});

afterAll(async () => {
  await running?.kill();
  await oracle?.close();
  rmSync(dir, { recursive: true, force: true });
});

type Body = Record<string, unknown>;
const PERIODS = 4;

describe('a 4-period strip funded once, settled period by period across a SIGKILL', () => {
  it('settles each period once, by the watcher, before and after the restart', async () => {
    const dataDir = join(dir, 'db');
    const port = await freePort();
    const start = async (): Promise<string> => {
      running = await spawnCoordinator(dataDir, oracle.url, port);
      return running.url;
    };

    // The parties' coins on the node, one delivery event per period at the oracle service.
    const window = await windowInOneEra(rpc, 2 * PERIODS, 10);
    const offerWallet = await fundDlcWallet(faucet, 'offer', 300_000n);
    const acceptWallet = await fundDlcWallet(faucet, 'accept', 560_000n);
    await mineBlocks(rpc, 1);
    const delivery = TestKey.random();
    const windows = Array.from({ length: PERIODS }, (_, i) => ({ start: window.start + 2 * i, end: window.start + 2 * i + 2 }));
    const announcements = [];
    for (const w of windows) announcements.push(await oracle.deliveryEvent(w, delivery.address));
    const s: StripParties = stripParties({
      label: 'rt-strip',
      periods: PERIODS,
      announcements,
      window,
      deliveryAddress: delivery.address,
      offerInputs: [await fundingInputFromNode(rpc, offerWallet.inputs[0]!, 5n)],
      acceptInputs: [await fundingInputFromNode(rpc, acceptWallet.inputs[0]!, 6n)],
      offerUtxoKey: offerWallet.inputs[0]!.key.privateKey,
      acceptUtxoKey: acceptWallet.inputs[0]!.key.privateKey,
      payoutSpks: { offer: offerWallet.payout.outputScript, accept: acceptWallet.payout.outputScript },
    });
    const get = async (url: string, id: string): Promise<Body> => (await api(url, 'GET', `/v1/contracts/${id}`, { key: s.offerIdentity })).body;
    const stripOf = async (url: string): Promise<Body> => okStatus(api(url, 'GET', `/v1/strips/${ids[0]}`, { key: s.offerIdentity }));
    const statesOf = async (url: string): Promise<string[]> => ((await stripOf(url)).contracts as { state: string }[]).map((c) => c.state);

    // 1. One round for the whole strip: offer, accept, sign, fund.
    let url = await start();
    const offered = await okStatus(api(url, 'POST', '/v1/strips', { body: { offers: s.offerHexes, identityPubkey: identityOf(s.offerIdentity), terms: s.terms }, key: s.offerIdentity }), 201);
    const ids = (offered.contracts as { id: string }[]).map((c) => c.id);
    await okStatus(api(url, 'POST', `/v1/strips/${ids[0]}/accept`, { body: { accepts: s.accepts().map((a) => a.acceptHex), identityPubkey: identityOf(s.acceptIdentity) }, key: s.acceptIdentity }));
    await okStatus(api(url, 'POST', `/v1/strips/${ids[0]}/sign`, { body: { signs: s.signs().map((x) => x.signHex) }, key: s.offerIdentity }));
    const funded = await okStatus(api(url, 'POST', `/v1/strips/${ids[0]}/fund`, { body: { fundingPsbt: s.signedFundingPsbt('accept') }, key: s.acceptIdentity }));
    expect(funded.state).toBe('funding-broadcast');

    // ONE funding transaction: the upfront once and the four DLC funding outputs.
    const fundingTx = Transaction.fromHex((funded.contracts as { fundingTx: string }[])[0]!.fundingTx);
    const funding = s.accepts()[0]!.setup.funding;
    expect(fundingTx.getId()).toBe(funding.txidHex);
    expect(funding.batchOutputs).toHaveLength(PERIODS);
    for (const o of funding.batchOutputs) expect(fundingTx.outs[o.index]!.value).toBe(o.value);
    expect(fundingTx.outs.filter((o) => o.value === 50_000n)).toHaveLength(1);
    expect(new Set((funded.contracts as { fundingTxid: string }[]).map((c) => c.fundingTxid))).toEqual(new Set([fundingTx.getId()]));
    await mineBlocks(rpc, 1);
    await until(async () => ((await statesOf(url)).every((x) => x === 'confirmed') ? true : undefined), 20_000, 'every period confirmed');

    // 2. Periods 1-2 delivered (the pool pays the delivery address half of every coinbase) and attested.
    await mineToHeight(rpc, window.start - 1);
    await mineAsPool(rpc, { blocks: 5, shares: [{ address: delivery.address, shareBps: 5000 }], restAddress: strangerAddress() });
    const attestations = [];
    for (const id of s.eventIds.slice(0, 2)) attestations.push(await oracle.attestation(id));
    expect(attestations.map((a) => a.outcome)).toEqual(['10000', '10000']);
    await until(async () => {
      const st = await statesOf(url);
      return st[0] === 'cet-broadcast' && st[1] === 'cet-broadcast' ? true : undefined;
    }, 30_000, 'periods 1-2 CETs broadcast');
    await mineBlocks(rpc, 1);
    await until(async () => {
      const st = await statesOf(url);
      return st[0] === 'settled' && st[1] === 'settled' ? true : undefined;
    }, 20_000, 'periods 1-2 settled');
    expect((await statesOf(url)).slice(2)).toEqual(['confirmed', 'confirmed']);
    expect((await stripOf(url)).state).toBe('mixed');
    const settledBefore = await Promise.all(ids.slice(0, 2).map((id) => get(url, id)));

    // 3. SIGKILL between two period settlements; the rest of the window is mined and attested meanwhile
    //    (period 3's second block was the one that confirmed the CETs: half its delivery).
    await running!.kill();
    running = undefined;
    await mineAsPool(rpc, { blocks: 2, shares: [{ address: delivery.address, shareBps: 5000 }], restAddress: strangerAddress() });
    await mineBlocks(rpc, 1);
    for (const id of s.eventIds.slice(2)) attestations.push(await oracle.attestation(id));
    expect(attestations.map((a) => a.outcome)).toEqual(['10000', '10000', '5000', '10000']);

    // 4. Restart: periods 3-4 settle; periods 1-2 are exactly as they were.
    url = await start();
    await until(async () => {
      const st = await statesOf(url);
      return st[2] === 'cet-broadcast' && st[3] === 'cet-broadcast' ? true : undefined;
    }, 30_000, 'periods 3-4 CETs broadcast');
    await mineBlocks(rpc, 1);
    await until(async () => ((await statesOf(url)).every((x) => x === 'settled') ? true : undefined), 20_000, 'every period settled');
    expect((await stripOf(url)).state).toBe('settled');
    expect(await Promise.all(ids.slice(0, 2).map((id) => get(url, id)))).toEqual(settledBefore);

    // Each period settled once, each by its own CET spending its own funding output, paying as its plan says.
    const all = await Promise.all(ids.map((id) => get(url, id)));
    const closings = new Set<string>();
    for (const [i, rec] of all.entries()) {
      const history = (rec.history as { state: string; note?: string }[]);
      // The whole history (with notes) in the message: a flake seen once under load had two extra entries.
      expect(history.map((h) => h.state), `period ${i + 1}: ${JSON.stringify(history)}`).toEqual([
        'offered', 'accepted', 'signed', 'funding-broadcast', 'confirmed', 'attested', 'cet-broadcast', 'settled',
      ]);
      expect(rec).toMatchObject({ closingKind: 'cet', broadcastBy: 'coordinator', outcome: attestations[i]!.outcome, fundOutputIndex: funding.batchOutputs[i]!.index });
      const cet = Transaction.fromHex(rec.closingTx as string);
      expect(cet.ins).toHaveLength(1);
      expect(Buffer.from(cet.ins[0]!.hash).reverse().toString('hex')).toBe(fundingTx.getId());
      expect(cet.ins[0]!.index).toBe(funding.batchOutputs[i]!.index);
      closings.add(rec.closingTxid as string);
      const paid = await paidByTransaction(rpc, rec.closingTxid as string);
      const m = decodeMessage(fromHex(attestations[i]!.hex));
      if (m.type !== 'oracle_attestation') throw new Error(m.type);
      const { setup } = s.accepts()[i]!;
      const planned = setup.plan.cets[findAttestedSlot(setup, [{ contractIndex: 0, oracleIndex: 0, attestation: m.message }]).cetIndex]!;
      expect(paid.get(scriptHex(offerWallet.payout.outputScript))).toBe(planned.offerPayout);
      const periodTerms = s.periodTerms[i] as { escrow: string; minerCollateral: string };
      // Full delivery pays the miner the period's escrow and collateral.
      if (attestations[i]!.outcome === '10000') expect(planned.offerPayout).toBe(BigInt(periodTerms.escrow) + BigInt(periodTerms.minerCollateral));
    }
    expect(closings.size).toBe(PERIODS);
  });
});
