/**
 * The fee arithmetic of `wallet send` and `bump` (src/participant/fees.ts)
 * and the coin choice of `wallet send`: sizes against signed transactions,
 * the CPFP child fee and the BIP125 replacement fee, worked by hand.
 */
import { Transaction } from 'bitcoinjs-lib';
import { describe, expect, it } from 'vitest';
import { DUST_LIMIT } from '../protocol/tx/index.js';
import { cpfpChildFee, p2wpkhSpendVsize, packageOf, ratePerVb, reachesRate, replacementFee } from '../src/participant/fees.js';
import { ParticipantError } from '../src/participant/errors.js';
import { chooseSendCoins } from '../src/participant/wallet.js';
import { isWalletError, type WalletUtxo } from '../src/wallet/index.js';
import { TestKey, buildP2wpkhSpend, type Utxo } from '../regtest/wallet.js';

function fakeUtxo(key: TestKey, valueSats: bigint, n: number): Utxo {
  return { txid: n.toString(16).padStart(64, '0'), vout: 0, valueSats, scriptPubKey: Buffer.from(key.outputScript).toString('hex'), confirmations: 1, coinbase: false };
}

function coin(valueSats: bigint, n: number): WalletUtxo {
  return { txid: n.toString(16).padStart(64, '0'), vout: n, valueSats, height: 1, address: { chain: 0, index: n, path: '', address: '', script: new Uint8Array(22), publicKey: new Uint8Array(33) } };
}

describe('p2wpkhSpendVsize (BIP141 weight, witness at its largest)', () => {
  it('gives the textbook sizes', () => {
    // 1 input, 2 P2WPKH outputs: 113 base bytes, 110 witness bytes: (4 x 113 + 110) / 4 = 140.5 -> 141.
    expect(p2wpkhSpendVsize(1, [22, 22])).toBe(141n);
    // 1 input, 1 output: 82 base, 110 witness: 109.5 -> 110.
    expect(p2wpkhSpendVsize(1, [22])).toBe(110n);
    // a P2WSH/P2TR output (34 bytes) adds 12 vB over a P2WPKH one.
    expect(p2wpkhSpendVsize(1, [34, 22]) - p2wpkhSpendVsize(1, [22, 22])).toBe(12n);
    expect(() => p2wpkhSpendVsize(0, [22])).toThrow(RangeError);
  });

  it('is never below the size of the signed transaction, and at most one vbyte per input above it', () => {
    for (const n of [1, 2, 5]) {
      const key = TestKey.random();
      const inputs = Array.from({ length: n }, (_, i) => ({ key, utxo: fakeUtxo(key, 100_000n, i + 1) }));
      const signed = buildP2wpkhSpend(inputs, [{ address: TestKey.random().address, valueSats: 50_000n }], { changeAddress: TestKey.random().address });
      const actual = BigInt(Transaction.fromHex(signed.hex).virtualSize());
      const estimate = p2wpkhSpendVsize(n, [22, 22]);
      expect(estimate).toBeGreaterThanOrEqual(actual);
      expect(estimate - actual).toBeLessThanOrEqual(BigInt(n));
    }
  });
});

describe('CPFP child fee: rate x (ancestors + child) - ancestors fee', () => {
  it('lifts a 1 sat/vB parent to the asked rate as a package', () => {
    const parent = { feeSats: 200n, vsize: 200n };
    const fee = cpfpChildFee(parent, 110n, 10n);
    expect(fee).toBe(10n * 310n - 200n); // 2900
    const pkg = packageOf([parent, { feeSats: fee, vsize: 110n }]);
    expect(pkg).toEqual({ feeSats: 3100n, vsize: 310n });
    expect(reachesRate(pkg, 10n)).toBe(true);
    expect(reachesRate(pkg, 11n)).toBe(false);
    expect(ratePerVb(pkg)).toBe(10);
  });

  it('counts unconfirmed ancestors in the package', () => {
    const stuck = packageOf([{ feeSats: 150n, vsize: 150n }, { feeSats: 300n, vsize: 150n }]); // 1.5 sat/vB together
    expect(cpfpChildFee(stuck, 110n, 5n)).toBe(5n * 410n - 450n);
  });

  it('refuses a rate the ancestors already pay', () => {
    expect(() => cpfpChildFee({ feeSats: 1000n, vsize: 200n }, 110n, 5n)).toThrow(RangeError);
  });
});

describe('BIP125 replacement fee', () => {
  it('pays the asked rate when that covers rules 3 and 4', () => {
    expect(replacementFee({ feeSats: 141n, vsize: 141n }, 141n, 5n)).toBe(705n);
  });

  it('pays the replaced fee plus 1 sat/vB of its own size when the rate alone would not (rules 3 and 4)', () => {
    // 1000 sats at 141 vB is 7.09 sat/vB; at 8 sat/vB the rate gives 1128 < 1000 + 141.
    expect(replacementFee({ feeSats: 1000n, vsize: 141n }, 141n, 8n)).toBe(1141n);
  });
});

describe('wallet send coin choice (largest first)', () => {
  const coins = [coin(100_000n, 1), coin(50_000n, 2), coin(20_000n, 3)];

  it('pays the amount with change to the wallet', () => {
    const c = chooseSendCoins(coins, 60_000n, 2n, 22);
    expect(c.coins.map((u) => u.valueSats)).toEqual([100_000n]);
    expect(c.fee).toBe(2n * 141n);
    expect(c.change).toBe(100_000n - 60_000n - 282n);
  });

  it('takes more coins when the largest is not enough', () => {
    const c = chooseSendCoins(coins, 120_000n, 2n, 22);
    expect(c.coins).toHaveLength(2);
    expect(c.amount + c.fee + c.change).toBe(150_000n);
  });

  it('leaves a change below the dust limit to the fee', () => {
    const fee1 = 2n * 110n;
    const c = chooseSendCoins([coin(100_000n, 1)], 100_000n - fee1 - 500n, 2n, 22);
    expect(c.change).toBe(0n);
    expect(c.fee).toBe(fee1 + 500n);
  });

  it("sweeps with 'all': every coin, one output, no change", () => {
    const c = chooseSendCoins(coins, 'all', 3n, 22);
    expect(c.coins).toHaveLength(3);
    expect(c.change).toBe(0n);
    expect(c.fee).toBe(3n * p2wpkhSpendVsize(3, [22]));
    expect(c.amount).toBe(170_000n - c.fee);
  });

  it('refuses too little (WALLET_INSUFFICIENT_FUNDS), a dust amount (USAGE) and a sweep left with dust', () => {
    let err: unknown;
    try {
      chooseSendCoins(coins, 170_000n, 2n, 22);
    } catch (e) {
      err = e;
    }
    expect(isWalletError(err, 'WALLET_INSUFFICIENT_FUNDS')).toBe(true);
    expect(() => chooseSendCoins(coins, DUST_LIMIT - 1n, 2n, 22)).toThrow(ParticipantError);
    expect(() => chooseSendCoins(coins, DUST_LIMIT - 1n, 2n, 22)).toThrow(/below the dust limit/);
    expect(() => chooseSendCoins([coin(1200n, 1)], 'all', 2n, 22)).toThrow(/below the dust limit/);
    expect(() => chooseSendCoins([], 'all', 2n, 22)).toThrow(/no spendable coins/);
  });
});
