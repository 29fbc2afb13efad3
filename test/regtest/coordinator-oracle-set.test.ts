/**
 * Issue 11 on the regtest node: a 2-of-3 hashpower sale through the
 * coordinator with three real oracle services (own keys, data directories and
 * ports), each announcing the same delivery event. One oracle is stopped
 * before the window ends (its port refuses connections, as a killed
 * process's); the other two attest, and the watcher settles from them alone:
 * the CET is the one their attestations select, its payouts are checked on
 * chain, and the contract records which oracles agreed and which never
 * attested.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAttestedSlot } from '../../protocol/contract/index.js';
import { decodeMessage, fromHex } from '../../protocol/messages/index.js';
import { startCoordinator, type RunningCoordinator } from '../../src/coordinator/index.js';
import { useRegtest } from '../../regtest/context.js';
import { paidByTransaction, scriptHex } from '../../regtest/dlc.js';
import { mineAsPool, mineBlocks, mineToHeight, strangerAddress } from '../../regtest/index.js';
import { api } from '../coordinator-fixtures.js';
import { coordinatorConfig, fundSaleOverHttp, regtestSale, startRealOracle, windowInOneEra, type RealOracle } from './coordinator-fixtures.js';

const { rpc, faucet } = useRegtest();
let oracles: RealOracle[];
let stopped: RealOracle | undefined;
let coord: RunningCoordinator;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hashdlc-coord-set-regtest-'));
  oracles = [await startRealOracle(rpc), await startRealOracle(rpc), await startRealOracle(rpc)];
  coord = await startCoordinator({ ...coordinatorConfig(join(dir, 'db'), oracles[0]!.url), oracles: oracles.map((o) => o.url) }, { watch: false, log: () => undefined });
});

afterAll(async () => {
  await coord?.stop();
  for (const o of oracles ?? []) if (o !== stopped) await o.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a 2-of-3 sale on regtest', () => {
  it('settles from the two oracles left when the third is gone before attesting, payouts on chain', async () => {
    const window = await windowInOneEra(rpc, 6, 8);
    const sale = await regtestSale(rpc, faucet, oracles[0]!, 'rt-2-of-3', window, undefined, { oracles, threshold: 2 });
    const { id } = await fundSaleOverHttp(coord.url, sale);
    const key = sale.parties.offerIdentity;
    const state = async (): Promise<Record<string, unknown>> => (await api(coord.url, 'GET', `/v1/contracts/${id}`, { key })).body;
    await mineBlocks(rpc, 1);
    await coord.watcher.tick();
    expect(await state()).toMatchObject({ state: 'confirmed', oracleThreshold: 2 });

    // The third oracle goes away before the window ends: it never attests.
    stopped = oracles[2]!;
    await stopped.close();

    // The pool pays the delivery address 50% of the coinbase in 3 of the 6 window blocks.
    await mineToHeight(rpc, window.start - 1);
    for (const delivered of [true, false, true, false, true, false]) {
      if (delivered) await mineAsPool(rpc, { blocks: 1, shares: [{ address: sale.delivery.address, shareBps: 5000 }], restAddress: strangerAddress() });
      else await mineBlocks(rpc, 1);
    }
    await mineBlocks(rpc, 1);
    const [a, b] = await Promise.all([oracles[0]!.attestation(sale.parties.eventId), oracles[1]!.attestation(sale.parties.eventId)]);
    expect(a.outcome).toBe(b.outcome);
    await coord.watcher.tick();
    const broadcast = await state();
    expect(broadcast).toMatchObject({ state: 'cet-broadcast', closingKind: 'cet', outcome: a.outcome, broadcastBy: 'coordinator' });
    expect((broadcast.oracles as { url: string; attested: boolean; outcome: string | null; agreed: boolean | null }[]).map((o) => [o.url, o.attested, o.outcome, o.agreed])).toEqual([
      [oracles[0]!.url, true, a.outcome, true], [oracles[1]!.url, true, b.outcome, true], [oracles[2]!.url, false, null, null],
    ]);

    // The CET is the one the two attestations select, and it pays as the plan says.
    const atts = [a, b].map((x) => {
      const m = decodeMessage(fromHex(x.hex));
      if (m.type !== 'oracle_attestation') throw new Error(m.type);
      return m.message;
    });
    const { setup } = sale.parties.accept();
    const slot = findAttestedSlot(setup, atts.map((attestation, oracleIndex) => ({ contractIndex: 0, oracleIndex, attestation })));
    const planned = setup.plan.cets[slot.cetIndex]!;
    expect(broadcast.cetIndex).toBe(slot.cetIndex);
    await mineBlocks(rpc, 1);
    await coord.watcher.tick();
    const settled = await state();
    expect(settled).toMatchObject({ state: 'settled', closingHeight: await rpc.getBlockCount() });
    const paid = await paidByTransaction(rpc, settled.closingTxid as string);
    expect(paid.get(scriptHex(sale.offerWallet.payout.outputScript))).toBe(planned.offerPayout);
    expect(paid.get(scriptHex(sale.acceptWallet.payout.outputScript))).toBe(planned.acceptPayout);
    expect(settled.payouts).toEqual({ offer: String(planned.offerPayout), accept: String(planned.acceptPayout) });
  });
});
