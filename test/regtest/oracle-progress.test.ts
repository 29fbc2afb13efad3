/**
 * `GET /v1/events/:id/progress` on a real regtest node (issue 14): the oracle
 * service as `startOracle` wires it (the measure runs under the index lock,
 * at the indexed tip), a pool paying a miner half of some coinbases. Before
 * the window: nothing counted; mid-window: the blocks and the sats paid so
 * far; at the end: exactly what the attestation then says (same code).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRegtest } from '../../regtest/context.js';
import { mineAsPool, mineBlocks, strangerAddress, TestKey } from '../../regtest/index.js';
import { OracleClient } from '../../src/api/index.js';
import { attestationOf, OPERATOR_TOKEN, SIMDIFF_100THS_AT_HALF, startTestOracle, type TestOracle } from './oracle-fixture.js';

const { rpc } = useRegtest();
let t: TestOracle;
let client: OracleClient;

beforeAll(async () => {
  t = await startTestOracle(rpc, { simulatedDifficulty: SIMDIFF_100THS_AT_HALF });
  client = new OracleClient(t.oracle.url);
});
afterAll(async () => {
  await t?.close();
});

describe('oracle progress over a live window', () => {
  it('counts the window so far, and at its end says what the attestation says', async () => {
    const miner = TestKey.random();
    const tip = await rpc.getBlockCount();
    const window = { start: tip + 3, end: tip + 9 };
    const created = await t.post({ kind: 'hashpower-delivery', window, deliveryAddress: miner.address, hashrateThs: '100' }, { token: OPERATOR_TOKEN });
    expect(created.status).toBe(201);
    const id = created.body.eventId as string;
    const at = (h: number) => t.until(async () => {
      const p = await client.eventProgress(id);
      return p !== null && p.atHeight === h ? p : undefined;
    });

    await mineBlocks(rpc, 1);
    expect(await at(tip + 1)).toMatchObject({ blocks: 0, rewardsSats: '0', ratioBps: null, outcome: null });

    await mineBlocks(rpc, 1);
    const half = [{ address: miner.address, shareBps: 5000 }];
    const paid = (await mineAsPool(rpc, { blocks: 3, shares: half, restAddress: strangerAddress() }))
      .map((b) => b.payouts.find((p) => p.address === miner.address)!.valueSats);
    const mid = await at(window.start + 2);
    expect(mid).toMatchObject({ blocks: 3, rewardsSats: paid.reduce((s, v) => s + v, 0n).toString(), window });
    expect(mid.ratioBps).toBeGreaterThan(0);

    await mineBlocks(rpc, 4);
    const att = await attestationOf(t, id);
    const end = await at(window.end - 1);
    expect(end).toMatchObject({ blocks: 6, rewardsSats: att.result.poolRewards, outcome: att.outcome, ratioBps: Number(att.outcome) });
    expect(await client.eventProgress(`${id.slice(0, -4)}0000`)).toBeNull();
  });
});
