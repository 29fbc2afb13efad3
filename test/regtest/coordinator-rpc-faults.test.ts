/**
 * Issue 9, hole 9: the watcher must not see reorgs that did not happen. A real
 * coordinator on the regtest node reaches the node's RPC through a proxy
 * (fixtures/rpc-proxy.ts) that the test switches to hang or drop exactly the
 * calls the watcher uses to decide "this block left the chain". While the node
 * does not answer, funded, confirmed and closed contracts keep their state
 * (nothing committed, no rebroadcast); once it answers again they move on as normal.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { signClose } from '../../protocol/contract/index.js';
import { toHex } from '../../protocol/messages/index.js';
import { startCoordinator, type RunningCoordinator } from '../../src/coordinator/index.js';
import { useRegtest } from '../../regtest/context.js';
import { mineBlocks } from '../../regtest/index.js';
import { api } from '../coordinator-fixtures.js';
import { coordinatorConfig, fundSaleOverHttp, okStatus, regtestSale, startRealOracle, windowInOneEra, type RealOracle, type RegtestSale } from './coordinator-fixtures.js';
import { startRpcProxy, type RpcProxy } from './fixtures/rpc-proxy.js';

const { rpc, faucet } = useRegtest();
let oracle: RealOracle;
let proxy: RpcProxy;
let coord: RunningCoordinator;
let dir: string;
const logs: { level: string; msg: string; fields: Record<string, unknown> }[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hashdlc-coord-rpcfault-'));
  oracle = await startRealOracle(rpc);
  proxy = await startRpcProxy(inject('regtest').rpc.url);
  const base = coordinatorConfig(join(dir, 'db'), oracle.url);
  // A short RPC timeout so a hanging node costs the test ~2 s per call (4 attempts), not minutes.
  coord = await startCoordinator({ ...base, rpc: { ...base.rpc, url: proxy.url, timeoutMs: 250 } }, {
    watch: false,
    log: (level, msg, fields = {}) => logs.push({ level, msg, fields }),
  });
});

afterAll(async () => {
  await coord?.stop();
  await proxy?.close();
  await oracle?.close();
  rmSync(dir, { recursive: true, force: true });
});

type Body = Record<string, unknown>;
/** The offerer's identity key per contract: read as a party (signed GET: the full record). */
const partyKeys = new Map<string, Uint8Array>();
const view = async (id: string): Promise<Body> => (await api(coord.url, 'GET', `/v1/contracts/${id}`, { key: partyKeys.get(id)! })).body;
const fund = async (sale: RegtestSale): Promise<{ id: string }> => {
  const funded = await fundSaleOverHttp(coord.url, sale);
  partyKeys.set(funded.id, sale.parties.offerIdentity);
  return funded;
};
const states = (b: Body): string[] => (b.history as { state: string }[]).map((h) => h.state);

describe('watcher under a node that times out or drops connections', () => {
  it('a funded contract is neither rebroadcast nor failed while the node hangs, and confirms after', async () => {
    const window = await windowInOneEra(rpc, 10, 40);
    const sale = await regtestSale(rpc, faucet, oracle, 'rt-fault-fund', window);
    const { id } = await fund(sale);
    await mineBlocks(rpc, 1);

    // Every call the watcher makes about the funding transaction hangs.
    proxy.setFault({ mode: 'hang', methods: ['getrawtransaction', 'sendrawtransaction', 'gettxout'] });
    const hitsBefore = proxy.faultHits;
    await coord.watcher.tick(); // per-contract failures are logged, not thrown
    expect(proxy.faultHits).toBeGreaterThan(hitsBefore);
    expect(logs.some((l) => l.msg === 'watcher: contract step failed' && l.fields.id === id && /no answer within/.test(String(l.fields.error)))).toBe(true);
    expect(logs.some((l) => l.msg === 'funding transaction (re)broadcast' && l.fields.id === id)).toBe(false);
    expect(states(await view(id))).toEqual(['offered', 'accepted', 'signed', 'funding-broadcast']);

    proxy.setFault(null);
    await coord.watcher.tick();
    expect((await view(id)).state).toBe('confirmed');
  });

  it('a confirmed contract does not move to funding-broadcast while getblockhash of its block hangs or drops', async () => {
    const window = await windowInOneEra(rpc, 10, 40);
    const sale = await regtestSale(rpc, faucet, oracle, 'rt-fault-conf', window);
    const { id } = await fund(sale);
    await mineBlocks(rpc, 1);
    await coord.watcher.tick();
    const confirmed = await view(id);
    expect(confirmed.state).toBe('confirmed');
    const fundingHeight = confirmed.fundingHeight as number;
    // Move the watcher's cursor past the funding block, so only the reorg check asks for it.
    await mineBlocks(rpc, 2);
    await coord.watcher.tick();

    for (const mode of ['hang', 'close'] as const) {
      const hitsBefore = proxy.faultHits;
      proxy.setFault({ mode, methods: ['getblockhash'], firstParam: fundingHeight });
      await coord.watcher.tick();
      expect(proxy.faultHits, mode).toBeGreaterThan(hitsBefore);
      const now = await view(id);
      expect(now.state, mode).toBe('confirmed');
      expect(states(now), mode).toEqual(['offered', 'accepted', 'signed', 'funding-broadcast', 'confirmed']);
    }
    expect(logs.some((l) => l.msg === 'funding reorged out' && l.fields.id === id)).toBe(false);

    proxy.setFault(null);
    await coord.watcher.tick();
    expect(states(await view(id))).toEqual(['offered', 'accepted', 'signed', 'funding-broadcast', 'confirmed']);
  });

  it('a closed contract stays closed while getblockhash of its closing block hangs', async () => {
    const window = await windowInOneEra(rpc, 10, 40);
    const sale = await regtestSale(rpc, faucet, oracle, 'rt-fault-close', window);
    const p = sale.parties;
    const { id } = await fund(sale);
    await mineBlocks(rpc, 1);
    await coord.watcher.tick();
    const payout = { offer: 250_000n, accept: 349_000n };
    const split = { offerPayout: '250000', acceptPayout: '349000' };
    const { setup } = p.accept();
    await okStatus(api(coord.url, 'POST', `/v1/contracts/${id}/close`, { body: { ...split, signature: toHex(signClose(setup, payout, p.acceptKey)) }, key: p.acceptIdentity }));
    await okStatus(api(coord.url, 'POST', `/v1/contracts/${id}/close`, { body: { ...split, signature: toHex(signClose(setup, payout, p.offerKey)) }, key: p.offerIdentity }));
    await mineBlocks(rpc, 1);
    await coord.watcher.tick();
    const closed = await view(id);
    expect(closed.state).toBe('closed');
    await mineBlocks(rpc, 1);
    await coord.watcher.tick();

    const hitsBefore = proxy.faultHits;
    proxy.setFault({ mode: 'hang', methods: ['getblockhash'], firstParam: closed.closingHeight });
    await coord.watcher.tick();
    expect(proxy.faultHits).toBeGreaterThan(hitsBefore);
    expect((await view(id)).state).toBe('closed');
    expect(logs.some((l) => l.msg === 'closing transaction reorged out' && l.fields.id === id)).toBe(false);

    proxy.setFault(null);
    await coord.watcher.tick();
    expect((await view(id)).state).toBe('closed');
  });

  it('a poll whose block scan cannot reach the node fails and the next poll retries; the cursor stays', async () => {
    const tip = await rpc.getBlockCount();
    proxy.setFault({ mode: 'close', methods: ['getblockhash'], firstParam: tip });
    await expect(coord.watcher.tick()).rejects.toMatchObject({ code: 'CHAIN_CONNECTION' });
    proxy.setFault(null);
    await mineBlocks(rpc, 1);
    await coord.watcher.tick();
    expect(await coord.service.store.getMeta('watcher-cursor')).toEqual({ height: tip + 1, hash: await rpc.getBlockHash(tip + 1) });
  });
});
