/**
 * The coordinator on the regtest node with the real oracle service, through
 * HTTP, as the participants use it:
 * - a hashpower sale: offer → accept → sign → fund (upfront paid to the miner
 *   in the funding transaction) → confirmed (and back through a reorg of the
 *   funding block) → the pool pays the buyer's delivery address in 6 of the 10
 *   window blocks → the oracle attests → the coordinator completes the CET
 *   from the two adaptor signatures it holds (no key) and broadcasts it →
 *   settled, payouts checked on chain;
 * - the refund path when the oracle stays silent;
 * - a cooperative close signed by both parties.
 * The sale and the close run on both storage backends (LevelDB, and
 * PostgreSQL when installed: a real throwaway cluster); the reorg tie and the
 * refund, which only the chain makes different, on LevelDB alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Transaction } from 'bitcoinjs-lib';
import { findAttestedSlot, signClose } from '../../protocol/contract/index.js';
import { decodeMessage, fromHex, toHex } from '../../protocol/messages/index.js';
import { startCoordinator, type RunningCoordinator } from '../../src/coordinator/index.js';
import { useRegtest } from '../../regtest/context.js';
import { paidByTransaction, scriptHex } from '../../regtest/dlc.js';
import { disconnectBlock, mineAsPool, mineBlocks, mineToHeight, strangerAddress } from '../../regtest/index.js';
import { postgresAvailable, startPostgres, type RunningPostgres } from '../../regtest/postgres.js';
import { api } from '../coordinator-fixtures.js';
import {
  coordinatorConfig,
  fundSaleOverHttp,
  okStatus,
  regtestSale,
  startRealOracle,
  windowInOneEra,
  type RealOracle,
  type RegtestSale,
} from './coordinator-fixtures.js';

const { rpc, faucet } = useRegtest();
let oracle: RealOracle;
let silentOracle: RealOracle;
let dir: string;

const pgReady = await postgresAvailable();
if (!pgReady.ok) process.stderr.write(`[coordinator-flow] PostgreSQL unavailable, its backend skipped: ${pgReady.reason}\n`);
const BACKENDS: readonly { kind: 'leveldb' | 'postgres'; title: string; skip: boolean }[] = [
  { kind: 'leveldb', title: 'LevelDB', skip: false },
  { kind: 'postgres', title: pgReady.ok ? 'PostgreSQL' : `PostgreSQL (SKIPPED: ${pgReady.reason})`, skip: !pgReady.ok },
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hashdlc-coord-regtest-'));
  oracle = await startRealOracle(rpc);
  silentOracle = await startRealOracle(rpc);
});

afterAll(async () => {
  await oracle?.close();
  await silentOracle?.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

type Body = Record<string, unknown>;
const ok = okStatus;

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip)(`hashpower sale through the coordinator on regtest, stored in ${backend.title}`, () => {
    let coord: RunningCoordinator;
    let pg: RunningPostgres | undefined;

    beforeAll(async () => {
      if (backend.kind === 'postgres') pg = await startPostgres();
      const config = coordinatorConfig(join(dir, backend.kind), oracle.url);
      coord = await startCoordinator({ ...config, oracles: [oracle.url, silentOracle.url], ...(pg !== undefined ? { databaseUrl: pg.url } : {}) }, { watch: false, log: () => undefined });
      // Not silently on the other backend: the contracts below are stored where the title says.
      expect(coord.service.store.backend.kind).toBe(backend.kind);
    });

    afterAll(async () => {
      await coord?.stop();
      await pg?.stop();
    });

    /** The offerer's identity key per contract: the tests read contracts as a party (signed GET: the full record). */
    const partyKeys = new Map<string, Uint8Array>();
    const fundOverHttp = async (sale: RegtestSale): Promise<{ id: string; fundingTx: Transaction }> => {
      const funded = await fundSaleOverHttp(coord.url, sale);
      partyKeys.set(funded.id, sale.parties.offerIdentity);
      return funded;
    };

    const state = async (id: string): Promise<Body> => (await api(coord.url, 'GET', `/v1/contracts/${id}`, { key: partyKeys.get(id)! })).body;

    it('settles by CET at the attested delivery, keyless, with the payouts on chain', async () => {
      const window = await windowInOneEra(rpc, 10, 8);
      const sale = await regtestSale(rpc, faucet, oracle, 'rt-sale', window);
      const { id, fundingTx } = await fundOverHttp(sale);

      // The funding transaction pays the miner its upfront price atomically.
      const mempoolPaid = fundingTx.outs.filter((o) => toHex(o.script) === scriptHex(sale.upfront.outputScript));
      expect(mempoolPaid.map((o) => o.value)).toEqual([50_000n]);

      // Confirmed; then the funding block is disconnected (reorg) and the watcher notices, then confirmed again.
      const [fundingBlock] = await mineBlocks(rpc, 1);
      await coord.watcher.tick();
      expect(await state(id)).toMatchObject({ state: 'confirmed', fundingHeight: await rpc.getBlockCount() });
      const reconsider = await disconnectBlock(rpc, fundingBlock!);
      await coord.watcher.tick();
      expect((await state(id)).state).toBe('funding-broadcast');
      await mineBlocks(rpc, 1);
      await coord.watcher.tick();
      expect((await state(id)).state).toBe('confirmed');
      await mineBlocks(rpc, 1);
      await reconsider(); // the old branch is shorter now: the best chain stays

      // The window: the pool pays the delivery address 50% of the coinbase in 6 of 10 blocks.
      await mineToHeight(rpc, window.start - 1);
      for (const delivered of [true, true, false, true, true, false, true, false, true, false]) {
        if (delivered) await mineAsPool(rpc, { blocks: 1, shares: [{ address: sale.delivery.address, shareBps: 5000 }], restAddress: strangerAddress() });
        else await mineBlocks(rpc, 1);
      }
      await mineBlocks(rpc, 1);
      const att = await oracle.attestation(sale.parties.eventId);
      await coord.watcher.tick();
      const broadcast = await state(id);
      expect(broadcast).toMatchObject({ state: 'cet-broadcast', closingKind: 'cet', outcome: att.outcome, broadcastBy: 'coordinator' });

      // The CET the coordinator completed is the one the attestation selects, and it pays as the plan says.
      const m = decodeMessage(fromHex(att.hex));
      if (m.type !== 'oracle_attestation') throw new Error(m.type);
      const { setup } = sale.parties.accept();
      const slot = findAttestedSlot(setup, [{ contractIndex: 0, oracleIndex: 0, attestation: m.message }]);
      const planned = setup.plan.cets[slot.cetIndex]!;
      expect(broadcast.cetIndex).toBe(slot.cetIndex);
      expect(att.outcome).toBe('6000');
      expect(planned.offerPayout).toBeGreaterThan(0n);
      expect(planned.acceptPayout).toBeGreaterThan(0n);

      await mineBlocks(rpc, 1);
      await coord.watcher.tick();
      const settled = await state(id);
      expect(settled).toMatchObject({ state: 'settled', closingHeight: await rpc.getBlockCount() });
      const paid = await paidByTransaction(rpc, settled.closingTxid as string);
      expect(paid.get(scriptHex(sale.offerWallet.payout.outputScript))).toBe(planned.offerPayout);
      expect(paid.get(scriptHex(sale.acceptWallet.payout.outputScript))).toBe(planned.acceptPayout);
      expect(settled.payouts).toEqual({ offer: String(planned.offerPayout), accept: String(planned.acceptPayout) });
      expect((settled.history as { state: string }[]).map((h) => h.state)).toEqual([
        'offered', 'accepted', 'signed', 'funding-broadcast', 'confirmed', 'funding-broadcast', 'confirmed', 'attested', 'cet-broadcast', 'settled',
      ]);
    });

    // Chain behaviour only: once, on LevelDB.
    if (backend.kind === 'leveldb') {
      it('follows the branch the node activates when reconsiderblock brings back an equal-work funding block', async () => {
        const window = await windowInOneEra(rpc, 4, 12);
        const sale = await regtestSale(rpc, faucet, oracle, 'rt-tie', window);
        const { id, fundingTx } = await fundOverHttp(sale);
        const [first] = await mineBlocks(rpc, 1);
        const height = await rpc.getBlockCount();
        await coord.watcher.tick();
        expect(await state(id)).toMatchObject({ state: 'confirmed', fundingBlockHash: first, fundingHeight: height });
        const reconsider = await disconnectBlock(rpc, first!);
        await coord.watcher.tick();
        expect((await state(id)).state).toBe('funding-broadcast');
        const [second] = await mineBlocks(rpc, 1); // the funding transaction, back from the mempool
        expect((await rpc.getBlock(second!)).tx).toContain(fundingTx.getId());
        await coord.watcher.tick();
        expect(await state(id)).toMatchObject({ state: 'confirmed', fundingBlockHash: second, fundingHeight: height });

        // Reconsidered, the first block ties with the second in work. Which one is active is the
        // node's rule (Core: the one received first); the coordinator must follow the node.
        await reconsider();
        const chosen = await rpc.getBestBlockHash();
        expect([first, second]).toContain(chosen);
        expect((await rpc.getChainTips()).find((tip) => tip.status === 'active')?.hash).toBe(chosen);
        await coord.watcher.tick();
        await coord.watcher.tick();
        expect(await state(id)).toMatchObject({ state: 'confirmed', fundingBlockHash: chosen, fundingHeight: height });
      });

      it('refunds both collaterals after the refund locktime when the oracle stays silent', async () => {
        const tip = await rpc.getBlockCount();
        const window = { start: tip + 6, end: tip + 8 };
        const sale = await regtestSale(rpc, faucet, silentOracle, 'rt-refund', window, { cetLocktime: window.end, refundLocktime: window.end + 2 });
        const { id } = await fundOverHttp(sale);
        await mineBlocks(rpc, 1);
        await coord.watcher.tick();
        expect((await state(id)).state).toBe('confirmed');
        await silentOracle.close(); // the oracle goes away before it can attest

        await mineToHeight(rpc, window.end + 1);
        await coord.watcher.tick();
        expect((await state(id)).state).toBe('confirmed'); // refund not final yet
        await mineToHeight(rpc, window.end + 2);
        await coord.watcher.tick();
        const refunding = await state(id);
        expect(refunding).toMatchObject({ state: 'refund-broadcast', closingKind: 'refund' });
        expect(Transaction.fromHex(refunding.closingTx as string).locktime).toBe(window.end + 2);
        await mineBlocks(rpc, 1);
        await coord.watcher.tick();
        const refunded = await state(id);
        expect(refunded.state).toBe('refunded');
        const paid = await paidByTransaction(rpc, refunded.closingTxid as string);
        expect(paid.get(scriptHex(sale.offerWallet.payout.outputScript))).toBe(200_000n);
        expect(paid.get(scriptHex(sale.acceptWallet.payout.outputScript))).toBe(400_000n);
      });
    }

    it('closes cooperatively on a split both parties signed', async () => {
      const window = await windowInOneEra(rpc, 10, 30);
      const sale = await regtestSale(rpc, faucet, oracle, 'rt-close', window);
      const p = sale.parties;
      const { id } = await fundOverHttp(sale);
      await mineBlocks(rpc, 1);
      await coord.watcher.tick();
      expect((await state(id)).state).toBe('confirmed');
      const split = { offerPayout: '250000', acceptPayout: '349000' };
      const payout = { offer: 250_000n, accept: 349_000n };
      const { setup } = p.accept();
      await ok(api(coord.url, 'POST', `/v1/contracts/${id}/close`, { body: { ...split, signature: toHex(signClose(setup, payout, p.acceptKey)) }, key: p.acceptIdentity }));
      const closing = await ok(api(coord.url, 'POST', `/v1/contracts/${id}/close`, { body: { ...split, signature: toHex(signClose(setup, payout, p.offerKey)) }, key: p.offerIdentity }));
      expect(closing).toMatchObject({ state: 'close-broadcast', closingKind: 'close' });
      await mineBlocks(rpc, 1);
      await coord.watcher.tick();
      const closed = await state(id);
      expect(closed.state).toBe('closed');
      const paid = await paidByTransaction(rpc, closed.closingTxid as string);
      expect(paid.get(scriptHex(sale.offerWallet.payout.outputScript))).toBe(250_000n);
      expect(paid.get(scriptHex(sale.acceptWallet.payout.outputScript))).toBe(349_000n);
    });
  });
}
