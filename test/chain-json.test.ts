// Exact amounts and error classification of the chain layer (no node needed).
import { describe, expect, it } from 'vitest';
import { classifyRpcError } from '../src/chain/errors.js';
import { JsonDecimal, decimalToSats, parseRpcJson, satsToDecimal } from '../src/chain/json.js';

describe('decimalToSats', () => {
  it.each([
    ['0.00012345', 12_345n],
    ['1.00000000', 100_000_000n],
    ['50', 5_000_000_000n],
    ['20999999.97690000', 2_099_999_997_690_000n],
    ['1e-7', 10n],
    ['1E-8', 1n],
    ['5e-05', 5_000n],
    ['2.5e1', 2_500_000_000n],
    ['-0.5', -50_000_000n],
    ['0.1', 10_000_000n],
    ['0', 0n],
  ])('%s BTC = %i sats', (text, sats) => {
    expect(decimalToSats(text)).toBe(sats);
  });

  it.each([['0.000000001'], ['1e-9'], ['abc'], [''], ['1.2.3'], ['0x10']])('rejects %j', (text) => {
    expect(() => decimalToSats(text)).toThrow(RangeError);
  });

  it('round-trips through satsToDecimal', () => {
    for (const sats of [0n, 1n, 546n, 12_345n, 100_000_000n, 2_099_999_997_690_000n, -42n]) {
      expect(decimalToSats(satsToDecimal(sats))).toBe(sats);
    }
    expect(satsToDecimal(12_345n)).toBe('0.00012345');
  });
});

describe('parseRpcJson', () => {
  it('keeps decimals as text, safe integers as numbers, large integers as bigints', () => {
    const v = parseRpcJson('{"a":0.1,"b":7,"c":9007199254740993,"d":[1e-7]}') as Record<string, unknown>;
    expect(v.a).toBeInstanceOf(JsonDecimal);
    expect((v.a as JsonDecimal).text).toBe('0.1');
    expect(v.b).toBe(7);
    expect(v.c).toBe(9_007_199_254_740_993n);
    expect(((v.d as unknown[])[0] as JsonDecimal).text).toBe('1e-7');
  });
});

describe('classifyRpcError', () => {
  it.each([
    [-26, 'non-final', 'CHAIN_NON_FINAL'],
    [-26, 'non-BIP68-final', 'CHAIN_NON_BIP68_FINAL'],
    [-26, 'mandatory-script-verify-flag-failed (Signature must be zero for failed CHECK(MULTI)SIG operation)', 'CHAIN_SCRIPT_VERIFY_FAILED'],
    [-26, 'non-mandatory-script-verify-flag (Non-canonical signature: S value is unnecessarily high)', 'CHAIN_SCRIPT_VERIFY_FAILED'],
    [-26, 'txn-mempool-conflict', 'CHAIN_VERIFY_REJECTED'],
    [-26, 'min relay fee not met, 100 < 141', 'CHAIN_VERIFY_REJECTED'],
    [-25, 'bad-txns-inputs-missingorspent', 'CHAIN_MISSING_INPUTS'],
    [-25, 'Missing inputs', 'CHAIN_MISSING_INPUTS'],
    [-25, 'Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)', 'CHAIN_RPC'],
    [-27, 'Transaction already in block chain', 'CHAIN_ALREADY_IN_CHAIN'],
    [-27, 'Transaction outputs already in utxo set', 'CHAIN_ALREADY_IN_CHAIN'],
    [-5, 'No such mempool or blockchain transaction.', 'CHAIN_NOT_FOUND'],
    [-28, 'Loading block index...', 'CHAIN_WARMING_UP'],
    [-8, 'Block height out of range', 'CHAIN_RPC'],
  ])('%i %s → %s', (code, message, expected) => {
    expect(classifyRpcError(code, message)).toBe(expected);
  });
});
