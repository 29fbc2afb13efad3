// The RPC client against a scripted HTTP server on 127.0.0.1: answers are
// validated, errors keep Core's code and message, and only safe calls are
// retried on connection failures.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ChainError } from '../src/chain/errors.js';
import { BitcoinRpc } from '../src/chain/rpc.js';

type Handler = (body: { method: string; params: unknown[]; id: unknown }, req: IncomingMessage, res: ServerResponse) => void;

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function stub(handler: Handler): Promise<{ rpc: BitcoinRpc; calls: string[] }> {
  const calls: string[] = [];
  server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(data) as { method: string; params: unknown[]; id: unknown };
      calls.push(body.method);
      handler(body, req, res);
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const rpc = new BitcoinRpc({ url: `http://127.0.0.1:${port}/`, username: 'u', password: 'p', retryDelayMs: 1, timeoutMs: 500 });
  return { rpc, calls };
}

function reply(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(text);
}

describe('BitcoinRpc', () => {
  it('sends basic auth and JSON-RPC, parses amounts exactly', async () => {
    let auth = '';
    const { rpc } = await stub((body, req, res) => {
      auth = req.headers.authorization ?? '';
      expect(body).toMatchObject({ method: 'gettxout', params: ['aa'.repeat(32), 1, true] });
      reply(
        res,
        200,
        `{"result":{"bestblock":"${'bb'.repeat(32)}","confirmations":3,"value":0.00012345,` +
          `"scriptPubKey":{"asm":"","hex":"0014${'cc'.repeat(20)}","type":"witness_v0_keyhash","address":"bcrt1q"},` +
          `"coinbase":false},"error":null,"id":${JSON.stringify(body.id)}}`,
      );
    });
    const out = await rpc.getTxOut('aa'.repeat(32), 1);
    expect(auth).toBe('Basic ' + Buffer.from('u:p').toString('base64'));
    expect(out).toMatchObject({ valueSats: 12_345n, confirmations: 3, coinbase: false });
  });

  it('turns a JSON-RPC error (HTTP 500, Core legacy style) into a ChainError keeping code and message', async () => {
    const { rpc, calls } = await stub((body, _req, res) =>
      reply(res, 500, `{"result":null,"error":{"code":-26,"message":"non-final"},"id":${JSON.stringify(body.id)}}`),
    );
    const err = await rpc.sendRawTransaction('00').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChainError);
    expect(err).toMatchObject({ code: 'CHAIN_NON_FINAL', rpcCode: -26, rpcMessage: 'non-final', method: 'sendrawtransaction' });
    expect(calls).toEqual(['sendrawtransaction']); // a rejection is never retried
  });

  it('rejects answers of the wrong shape as CHAIN_BAD_RESPONSE', async () => {
    const { rpc } = await stub((body, _req, res) => reply(res, 200, `{"result":"twelve","error":null,"id":${JSON.stringify(body.id)}}`));
    await expect(rpc.getBlockCount()).rejects.toMatchObject({ code: 'CHAIN_BAD_RESPONSE' });
    const bad = await stub((_b, _req, res) => reply(res, 200, 'not json'));
    await expect(bad.rpc.getBlockCount()).rejects.toMatchObject({ code: 'CHAIN_BAD_RESPONSE' });
  });

  it('maps HTTP 401 to CHAIN_AUTH', async () => {
    const { rpc } = await stub((_b, _req, res) => {
      res.writeHead(401);
      res.end();
    });
    await expect(rpc.getBlockCount()).rejects.toMatchObject({ code: 'CHAIN_AUTH' });
  });

  it('retries a safe call after dropped connections, never an unsafe one', async () => {
    let drops = 2;
    const { rpc, calls } = await stub((body, req, res) => {
      if (drops > 0) {
        drops--;
        req.socket.destroy(); // the connection dies without an answer
        return;
      }
      reply(res, 200, `{"result":42,"error":null,"id":${JSON.stringify(body.id)}}`);
    });
    expect(await rpc.getBlockCount()).toBe(42);
    expect(calls).toEqual(['getblockcount', 'getblockcount', 'getblockcount']);

    drops = 1;
    calls.length = 0;
    await expect(rpc.sendRawTransaction('00')).rejects.toMatchObject({ code: 'CHAIN_CONNECTION' });
    expect(calls).toEqual(['sendrawtransaction']); // sent once: a lost answer is not resent
    drops = 1;
    await expect(rpc.generateToAddress(1, 'bcrt1q')).rejects.toMatchObject({ code: 'CHAIN_CONNECTION' });
    expect(calls).toEqual(['sendrawtransaction', 'generatetoaddress']);
  });

  it('retries -28 (warming up) for safe calls, and reports a refused connection as CHAIN_CONNECTION', async () => {
    let warm = 1;
    const { rpc, calls } = await stub((body, _req, res) => {
      if (warm-- > 0) return reply(res, 500, `{"result":null,"error":{"code":-28,"message":"Loading block index..."},"id":1}`);
      reply(res, 200, `{"result":7,"error":null,"id":${JSON.stringify(body.id)}}`);
    });
    expect(await rpc.getBlockCount()).toBe(7);
    expect(calls).toHaveLength(2);
    const closed = new BitcoinRpc({ url: 'http://127.0.0.1:1/', username: 'u', password: 'p', retries: 1, retryDelayMs: 1 });
    await expect(closed.getBlockCount()).rejects.toMatchObject({ code: 'CHAIN_CONNECTION' });
  });

  it('gives up after the time limit with CHAIN_TIMEOUT', async () => {
    const { rpc } = await stub(() => {
      // never answers
    });
    const slow = new BitcoinRpc({ url: rpc.url, username: 'u', password: 'p', timeoutMs: 100, retries: 0 });
    await expect(slow.getBlockCount()).rejects.toMatchObject({ code: 'CHAIN_TIMEOUT' });
  });

  it('returns submitblock verdicts and throws on a rejection reason', async () => {
    const answers = [null, 'duplicate', 'inconclusive', 'bad-cb-height'];
    const { rpc } = await stub((body, _req, res) =>
      reply(res, 200, JSON.stringify({ result: answers.shift(), error: null, id: body.id })),
    );
    expect(await rpc.submitBlock('00')).toBe('accepted');
    expect(await rpc.submitBlock('00')).toBe('duplicate');
    expect(await rpc.submitBlock('00')).toBe('inconclusive');
    await expect(rpc.submitBlock('00')).rejects.toMatchObject({ code: 'CHAIN_BLOCK_REJECTED', rpcMessage: 'bad-cb-height' });
  });
});
