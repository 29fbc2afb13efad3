/**
 * The JSON-RPC batch calls the oracle's index uses (BitcoinRpc.callBatch,
 * getBlockHashes, getBlocksHex), against a scripted server on 127.0.0.1:
 * one request per batch, answers matched by id whatever their order, one
 * failed call fails the batch with Core's code, only safe methods batch,
 * and a server without batch support is reported, not misread. Also the
 * index's own address derivation (`scriptAddress`) for witness v1 (BIP 350).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networks } from 'bitcoinjs-lib';
import { afterEach, describe, expect, it } from 'vitest';
import { ChainError } from '../src/chain/errors.js';
import { BitcoinRpc } from '../src/chain/rpc.js';
import { scriptAddress } from '../oracle/indexer.js';

type Call = { method: string; params: unknown[]; id: number };
let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function stub(answer: (body: unknown) => unknown): Promise<{ rpc: BitcoinRpc; requests: unknown[] }> {
  const requests: unknown[] = [];
  server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(data) as unknown;
      requests.push(body);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer(body)));
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { rpc: new BitcoinRpc({ url: `http://127.0.0.1:${port}/`, username: 'u', password: 'p', retryDelayMs: 1 }), requests };
}

const hashOf = (h: number): string => h.toString(16).padStart(64, '0');

describe('BitcoinRpc batches', () => {
  it('sends one request and matches answers by id, whatever their order', async () => {
    const { rpc, requests } = await stub((body) =>
      (body as Call[]).map((c) => ({ result: hashOf(c.params[0] as number), error: null, id: c.id })).reverse(),
    );
    expect(await rpc.getBlockHashes([5, 6, 7])).toEqual([hashOf(5), hashOf(6), hashOf(7)]);
    expect(requests).toHaveLength(1);
    expect((requests[0] as Call[]).map((c) => [c.method, c.params])).toEqual([['getblockhash', [5]], ['getblockhash', [6]], ['getblockhash', [7]]]);
    expect(await rpc.getBlockHashes([])).toEqual([]);
  });

  it('fails the batch with the failed call\'s Core code', async () => {
    const { rpc } = await stub((body) =>
      (body as Call[]).map((c, i) =>
        i === 1 ? { result: null, error: { code: -5, message: 'Block not found' }, id: c.id } : { result: '00', error: null, id: c.id },
      ),
    );
    const err = await rpc.getBlocksHex([hashOf(1), hashOf(2)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChainError);
    expect((err as ChainError).code).toBe('CHAIN_NOT_FOUND');
  });

  it('reports a node without batch support, and a short answer', async () => {
    const single = await stub(() => ({ result: null, error: { code: -32600, message: 'Invalid Request object' }, id: null }));
    const e = await single.rpc.getBlockHashes([1]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ChainError);
    expect((e as ChainError).rpcCode).toBe(-32600);
    await new Promise<void>((r) => server!.close(() => r()));
    const short = await stub((body) => (body as Call[]).slice(1).map((c) => ({ result: hashOf(1), error: null, id: c.id })));
    expect(await short.rpc.getBlockHashes([1, 2]).catch((e: unknown) => (e as ChainError).code)).toBe('CHAIN_BAD_RESPONSE');
  });

  it('batches read-only methods only', async () => {
    const { rpc, requests } = await stub(() => []);
    await expect(rpc.callBatch('sendrawtransaction', [['00']], (await import('zod')).z.string())).rejects.toThrow(TypeError);
    expect(requests).toHaveLength(0);
  });
});

describe('index addresses', () => {
  it('derives Core\'s addresses, including witness v1 (BIP 350 test vector)', () => {
    const taproot = Buffer.from('512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798', 'hex');
    expect(scriptAddress(taproot, networks.bitcoin)).toBe('bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0');
    const p2wpkh = Buffer.from('0014751e76e8199196d454941c45d1b3a323f1433bd6', 'hex');
    expect(scriptAddress(p2wpkh, networks.bitcoin)).toBe('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4');
    expect(scriptAddress(Buffer.from('6a0401020304', 'hex'), networks.regtest)).toBeUndefined();
  });
});
