/**
 * src/wallet files and coins: the seed file's permissions (0600, refused when
 * others can read it), no overwrite, bad mnemonics; the state file handing
 * out fresh indexes; the contract store; coin selection and PSBT signing
 * against a scripted node (scantxoutset / getrawtransaction).
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Psbt, Transaction } from 'bitcoinjs-lib';
import { toHex } from '../protocol/messages/index.js';
import { partyFees } from '../protocol/tx/index.js';
import type { BitcoinRpc } from '../src/chain/index.js';
import {
  ContractStore,
  P2WPKH_MAX_WITNESS_LEN,
  RECEIVE,
  Wallet,
  createSeedFile,
  isWalletError,
  readSeedFile,
  withState,
  type ContractRecord,
} from '../src/wallet/index.js';
import { TEST_MNEMONIC } from './helpers/mnemonic.js';

const tmp = mkdtempSync(join(tmpdir(), 'hashdlc-wallet-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isWalletError(e)) return e.code;
    throw e;
  }
  return 'no error';
}

describe('seed file', () => {
  it('is created with mode 0600 in a 0700 directory, holding a valid 24-word mnemonic', () => {
    const dir = join(tmp, 'w1');
    const { wallet, mnemonic } = Wallet.init(dir, 'regtest');
    expect(mnemonic.split(' ')).toHaveLength(24);
    expect(statSync(join(dir, 'seed.json')).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'state.json')).mode & 0o777).toBe(0o600);
    expect(readSeedFile(join(dir, 'seed.json'))).toEqual({ version: 1, network: 'regtest', mnemonic });
    expect(Wallet.open(dir).keys.address(RECEIVE, 0)).toEqual(wallet.keys.address(RECEIVE, 0));
  });

  it.each([0o644, 0o640, 0o604, 0o660, 0o606])('mode %o (group or others may read/write) is refused', (mode) => {
    const path = join(tmp, `loose-${mode.toString(8)}.json`);
    createSeedFile(path, 'regtest', TEST_MNEMONIC);
    chmodSync(path, mode);
    expect(codeOf(() => readSeedFile(path))).toBe('WALLET_PERMISSIONS');
    chmodSync(path, 0o600);
    expect(readSeedFile(path).mnemonic).toBe(TEST_MNEMONIC);
  });

  it('a permission error message says how to fix it', () => {
    const path = join(tmp, 'loose-msg.json');
    createSeedFile(path, 'regtest', TEST_MNEMONIC);
    chmodSync(path, 0o644);
    expect(() => readSeedFile(path)).toThrow(/mode 0644.*chmod 600/);
  });

  it('an existing seed file is never overwritten', () => {
    const dir = join(tmp, 'w2');
    Wallet.init(dir, 'regtest', TEST_MNEMONIC);
    const before = readFileSync(join(dir, 'seed.json'), 'utf8');
    expect(codeOf(() => Wallet.init(dir, 'regtest'))).toBe('WALLET_EXISTS');
    expect(readFileSync(join(dir, 'seed.json'), 'utf8')).toBe(before);
  });

  it.each([
    ['a bad checksum', 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon'],
    ['an unknown word', 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon bitcoinz'],
  ])('a mnemonic with %s is refused', (_n, m) => {
    expect(codeOf(() => createSeedFile(join(tmp, `bad-${_n}.json`), 'regtest', m))).toBe('WALLET_BAD_SEED');
  });

  it('a missing, malformed or wrong-network seed file is refused with its own code', () => {
    expect(codeOf(() => Wallet.open(join(tmp, 'nowhere')))).toBe('WALLET_NOT_FOUND');
    const path = join(tmp, 'w3', 'seed.json');
    Wallet.init(join(tmp, 'w3'), 'regtest', TEST_MNEMONIC);
    expect(codeOf(() => Wallet.open(join(tmp, 'w3'), { expectNetwork: 'mainnet' }))).toBe('WALLET_NETWORK_MISMATCH');
    writeFileSync(path, '{"version":1,"network":"regtest","mnemonic":"abandon"}', { mode: 0o600 });
    expect(codeOf(() => readSeedFile(path))).toBe('WALLET_BAD_SEED');
    writeFileSync(path, 'not json', { mode: 0o600 });
    expect(codeOf(() => readSeedFile(path))).toBe('WALLET_BAD_SEED');
  });
});

describe('wallet state and contract store', () => {
  const dir = join(tmp, 'w4');
  const { wallet } = Wallet.init(dir, 'regtest', TEST_MNEMONIC);

  it('hands out each address and contract index once, persisting across opens', () => {
    expect(wallet.newReceiveAddress().index).toBe(0);
    expect(wallet.newReceiveAddress().index).toBe(1);
    expect(wallet.newChangeAddress().index).toBe(0);
    expect(wallet.newContractKeys().index).toBe(0);
    const again = Wallet.open(dir);
    expect(again.newReceiveAddress().index).toBe(2);
    expect(again.newContractKeys().index).toBe(1);
    expect(again.state()).toEqual({ version: 1, nextReceive: 3, nextChange: 1, nextContract: 2 });
    // Watched: next index + gap on each chain.
    expect(again.watchedAddresses(5)).toHaveLength(3 + 5 + 1 + 5);
  });

  it('stores contracts (0600), finds them by id, contract id or prefix, and reserves coins until funding', () => {
    const store = new ContractStore(dir);
    const id = 'ab'.repeat(32);
    const rec: ContractRecord = {
      version: 1, id, role: 'offer', network: 'regtest', keyIndex: 0, state: 'offered',
      history: [{ state: 'offered', at: '2025-01-01T00:00:00Z' }], hashProfile: 'sha256',
      terms: { template: 'hashpower-sale' }, offer: '00', reservedOutpoints: ['11'.repeat(32) + ':0'],
    };
    store.save(rec);
    expect(statSync(join(dir, 'contracts', `${id}.json`)).mode & 0o777).toBe(0o600);
    expect(store.get(id)).toEqual(rec);
    expect(store.get('abababab').id).toBe(id);
    expect(store.reservedOutpoints()).toEqual(new Set([`${'11'.repeat(32)}:0`]));
    const funded = withState({ ...rec, contractId: 'cd'.repeat(32) }, 'funding-broadcast', '2025-01-02T00:00:00Z');
    store.save(funded);
    expect(store.get('cd'.repeat(32)).history.map((h) => h.state)).toEqual(['offered', 'funding-broadcast']);
    expect(store.reservedOutpoints().size).toBe(0);
    expect(codeOf(() => store.get('ef'.repeat(32)))).toBe('WALLET_CONTRACT_NOT_FOUND');
    expect(codeOf(() => store.save({ ...rec, id: 'nothex' }))).toBe('WALLET_STATE');
  });
});

describe('coins through the node', () => {
  const dir = join(tmp, 'w5');
  const { wallet } = Wallet.init(dir, 'regtest', TEST_MNEMONIC);
  const a0 = wallet.keys.address(RECEIVE, 0);
  const a7 = wallet.keys.address(RECEIVE, 7);
  const prevs = [
    { to: a0, value: 30_000n },
    { to: a7, value: 200_000n },
    { to: a0, value: 80_000n },
  ].map(({ to, value }, i) => {
    const tx = new Transaction();
    tx.addInput(new Uint8Array(32).fill(i + 9), 0);
    tx.addOutput(to.script, value);
    return tx;
  });
  const calls: string[][] = [];
  const rpc = {
    scanTxOutSet: async (descs: string[]) => {
      calls.push(descs);
      return {
        success: true, height: 200, bestblock: '00'.repeat(32), totalSats: 310_000n,
        unspents: prevs.map((tx) => ({
          txid: tx.getId(), vout: 0, scriptPubKey: toHex(tx.outs[0]!.script), desc: 'addr(...)', amountSats: tx.outs[0]!.value, height: 150,
        })),
      };
    },
    getRawTransactionHex: async (txid: string) => toHex(prevs.find((t) => t.getId() === txid)!.toBuffer()),
    // The 30,000-sat coin is spent by a transaction in the mempool.
    getTxOut: async (txid: string) => (txid === prevs[0]!.getId() ? null : { confirmations: 50 }),
  } as unknown as BitcoinRpc;

  it('finds outputs to any watched address (gap included), largest first', async () => {
    const utxos = await wallet.utxos(rpc);
    expect(utxos.map((u) => u.valueSats)).toEqual([200_000n, 80_000n, 30_000n]);
    expect(utxos[0]!.address.index).toBe(7);
    expect(calls[0]).toContain(`addr(${a7.address})`);
    expect(calls[0]!.length).toBe(40);
  });

  it('selects coins covering amount + fees + a change above dust, as dlcspecs funding inputs with their prevTx', async () => {
    const { inputs, utxos } = await wallet.selectFundingInputs(rpc, 220_000n, 2n);
    expect(utxos.map((u) => u.valueSats)).toEqual([200_000n, 80_000n]);
    expect(inputs).toHaveLength(2);
    expect(Transaction.fromBuffer(inputs[0]!.prevTx).getId()).toBe(utxos[0]!.txid);
    expect(inputs[0]!.maxWitnessLen).toBe(P2WPKH_MAX_WITNESS_LEN);
    expect(inputs[0]!.inputSerialId).not.toBe(inputs[1]!.inputSerialId);
    const f = partyFees({ inputs: [{ maxWitnessLen: 108, redeemScriptLen: 0 }, { maxWitnessLen: 108, redeemScriptLen: 0 }], changeSpkLen: 22, payoutSpkLen: 22 }, 2n);
    expect(280_000n - 220_000n - f.fundingFee - f.closingFee).toBeGreaterThanOrEqual(1000n);
  });

  it('skips a coin spent in the mempool', async () => {
    const { utxos } = await wallet.selectFundingInputs(rpc, 250_000n, 1n);
    expect(utxos.map((u) => u.valueSats)).toEqual([200_000n, 80_000n]);
    await expect(wallet.selectFundingInputs(rpc, 300_000n, 1n)).rejects.toMatchObject({ code: 'WALLET_INSUFFICIENT_FUNDS' });
  });

  it('leaves reserved coins out and says how much it has when short', async () => {
    const reserved = new Set([`${prevs[1]!.getId()}:0`]);
    const { utxos } = await wallet.selectFundingInputs(rpc, 50_000n, 1n, { reserved });
    expect(utxos.map((u) => u.valueSats)).toEqual([80_000n]);
    await expect(wallet.selectFundingInputs(rpc, 150_000n, 1n, { reserved })).rejects.toMatchObject({
      code: 'WALLET_INSUFFICIENT_FUNDS',
      message: expect.stringMatching(/has 110000 available/),
    });
  });

  it('signs only the inputs it is told to, and of those only its own', () => {
    const psbt = new Psbt();
    psbt.addInput({ hash: prevs[0]!.getId(), index: 0, witnessUtxo: { script: a0.script, value: 30_000n } });
    const stranger = wallet.keys.address(RECEIVE, 500); // beyond the gap: not recognised
    psbt.addInput({ hash: prevs[1]!.getId(), index: 0, witnessUtxo: { script: stranger.script, value: 200_000n } });
    // Another coin of this wallet, listed by a counterparty as its own: not in the list, never signed.
    psbt.addInput({ hash: prevs[2]!.getId(), index: 0, witnessUtxo: { script: a0.script, value: 40_000n } });
    psbt.addOutput({ script: a0.script, value: 220_000n });
    expect(wallet.signInputs(psbt, [0, 1])).toEqual({ signed: [0], notOurs: [1] });
    expect(psbt.data.inputs[0]!.partialSig).toHaveLength(1);
    expect(psbt.data.inputs[1]!.partialSig).toBeUndefined();
    expect(psbt.data.inputs[2]!.partialSig).toBeUndefined();
    expect(() => wallet.signInputs(psbt, [3])).toThrow(RangeError);
  });
});
