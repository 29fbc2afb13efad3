/**
 * src/participant/settle.ts `broadcastClosing` against a node double (a unit
 * test of one function): a closing transaction the counterparty or the
 * coordinator sent between our look and our send is reported done, not
 * failed; a refusal for anything else still throws. The race was seen in the
 * demo: the coordinator's CET (other, equally valid witnesses, same txid)
 * reached the mempool first and the agent's settle was refused with
 * txn-mempool-conflict.
 */
import { Transaction } from 'bitcoinjs-lib';
import { describe, expect, it } from 'vitest';
import type { BitcoinRpc } from '../src/chain/index.js';
import { ChainError } from '../src/chain/index.js';
import { broadcastClosing } from '../src/participant/settle.js';

function closingTx(): Transaction {
  const tx = new Transaction();
  tx.addInput(Buffer.alloc(32, 7), 0);
  tx.addOutput(Buffer.from('0014' + '11'.repeat(20), 'hex'), 50_000n);
  return tx;
}

/** A node whose mempool gains `tx` (sent by someone else) when we send ours, refusing ours with `refusal`. */
function racingNode(tx: Transaction, refusal: ChainError, othersArrive: boolean): { rpc: BitcoinRpc; sent: string[] } {
  let known = false;
  const sent: string[] = [];
  const rpc = {
    getRawTransaction: async (txid: string) => {
      if (known && txid === tx.getId()) return { txid };
      throw new ChainError('CHAIN_NOT_FOUND', 'getrawtransaction', 'No such mempool or blockchain transaction');
    },
    sendRawTransaction: async (hex: string) => {
      sent.push(hex);
      known = othersArrive;
      throw refusal;
    },
  } as unknown as BitcoinRpc;
  return { rpc, sent };
}

describe('broadcastClosing', () => {
  const conflict = new ChainError('CHAIN_VERIFY_REJECTED', 'sendrawtransaction', 'txn-mempool-conflict (-26)');

  it('reports a transaction of the same txid that reached the node first as already broadcast', async () => {
    const tx = closingTx();
    const { rpc, sent } = racingNode(tx, conflict, true);
    expect(await broadcastClosing(rpc, tx)).toEqual({ txid: tx.getId(), already: true });
    expect(sent).toHaveLength(1);
  });

  it('still throws the refusal when the node does not have this transaction (another spend won)', async () => {
    const tx = closingTx();
    const { rpc } = racingNode(tx, conflict, false);
    await expect(broadcastClosing(rpc, tx)).rejects.toMatchObject({ code: 'CHAIN_VERIFY_REJECTED' });
  });
});
