// Fee formula of dlcspecs Transactions.md against dlc_fee_test.json (472 cases)
// and the script/witness lengths of dlc_fee_test_scripts.json.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DUST_LIMIT,
  fundingFees,
  partyFees,
  partyFundingWeight,
  scriptSigLength,
  witnessStackSize,
} from '../protocol/tx/fees.js';
import type { PartyFeeShape } from '../protocol/tx/fees.js';
import { isDlcError } from '../protocol/errors.js';

const vectors = new URL('../../shared/dlc-vectors/dlcspecs/', import.meta.url);

interface FeeCase {
  inputs: {
    offerInputs: { redeemScriptLen: number; maxWitnessLen: number }[];
    offerPayoutSPKLen: number;
    offerChangeSPKLen: number;
    acceptInputs: { redeemScriptLen: number; maxWitnessLen: number }[];
    acceptPayoutSPKLen: number;
    acceptChangeSPKLen: number;
    feeRate: number;
  };
  offerFundingFee: number;
  offerClosingFee: number;
  acceptFundingFee: number;
  acceptClosingFee: number;
}

// All values in these two files are far below 2^53, so JSON.parse is exact.
const feeCases = JSON.parse(readFileSync(new URL('dlc_fee_test.json', vectors), 'utf8')) as FeeCase[];
const scripts = JSON.parse(readFileSync(new URL('dlc_fee_test_scripts.json', vectors), 'utf8')) as {
  byteLen: number;
  script: string;
  description: string;
}[];

describe('dlc_fee_test.json', () => {
  it('has the 472 cases the README announces', () => {
    expect(feeCases).toHaveLength(472);
  });

  it.each(feeCases.map((c, i) => [i, c] as const))('case %i', (_i, c) => {
    const offer: PartyFeeShape = {
      inputs: c.inputs.offerInputs,
      changeSpkLen: c.inputs.offerChangeSPKLen,
      payoutSpkLen: c.inputs.offerPayoutSPKLen,
    };
    const accept: PartyFeeShape = {
      inputs: c.inputs.acceptInputs,
      changeSpkLen: c.inputs.acceptChangeSPKLen,
      payoutSpkLen: c.inputs.acceptPayoutSPKLen,
    };
    const fees = fundingFees(offer, accept, BigInt(c.inputs.feeRate));
    expect({
      offerFundingFee: fees.offer.fundingFee,
      offerClosingFee: fees.offer.closingFee,
      acceptFundingFee: fees.accept.fundingFee,
      acceptClosingFee: fees.accept.closingFee,
    }).toEqual({
      offerFundingFee: BigInt(c.offerFundingFee),
      offerClosingFee: BigInt(c.offerClosingFee),
      acceptFundingFee: BigInt(c.acceptFundingFee),
      acceptClosingFee: BigInt(c.acceptClosingFee),
    });
  });
});

describe('dlc_fee_test_scripts.json', () => {
  it.each(scripts.map((s) => [s.description, s] as const))('%s has its stated length', (_d, s) => {
    const bytes = Buffer.from(s.script, 'hex');
    if (!s.description.endsWith('witness')) {
      expect(bytes.length).toBe(s.byteLen);
      return;
    }
    // Witness entries are serialized stacks: count, then length-prefixed elements.
    const stack: Uint8Array[] = [];
    let offset = 1;
    for (let n = 0; n < bytes[0]!; n++) {
      const len = bytes[offset]!;
      stack.push(bytes.subarray(offset + 1, offset + 1 + len));
      offset += 1 + len;
    }
    expect(offset).toBe(bytes.length);
    expect(witnessStackSize(stack)).toBe(s.byteLen);
  });

  it('every input/spk length in the fee cases is one of these scripts', () => {
    const lengths = new Set(scripts.map((s) => s.byteLen));
    for (const c of feeCases) {
      for (const i of [...c.inputs.offerInputs, ...c.inputs.acceptInputs]) {
        expect(lengths.has(i.redeemScriptLen) && lengths.has(i.maxWitnessLen)).toBe(true);
      }
      for (const l of [c.inputs.offerChangeSPKLen, c.inputs.acceptChangeSPKLen, c.inputs.offerPayoutSPKLen]) {
        expect(lengths.has(l)).toBe(true);
      }
    }
  });
});

describe('fee formula edges', () => {
  it('counts the push opcode of a P2SH redeem script', () => {
    expect(scriptSigLength(0)).toBe(0);
    expect(scriptSigLength(22)).toBe(23);
    expect(scriptSigLength(75)).toBe(76);
    expect(scriptSigLength(76)).toBe(78);
    expect(scriptSigLength(256)).toBe(259);
  });

  it('charges an extra output to the party that pays it', () => {
    const base: PartyFeeShape = { inputs: [{ maxWitnessLen: 108, redeemScriptLen: 0 }], changeSpkLen: 22, payoutSpkLen: 22 };
    expect(partyFundingWeight({ ...base, extraOutputSpkLens: [22] }) - partyFundingWeight(base)).toBe(4n * 31n);
    expect(partyFees(base, 0n).fundingFee).toBe(0n);
    expect(DUST_LIMIT).toBe(1000n);
  });

  it.each([
    ['negative fee rate', () => partyFees({ inputs: [], changeSpkLen: 22, payoutSpkLen: 22 }, -1n), 'fee-rate'],
    ['fee rate above u64', () => partyFees({ inputs: [], changeSpkLen: 22, payoutSpkLen: 22 }, 1n << 64n), 'fee-rate'],
    ['max witness len above u16', () => partyFees({ inputs: [{ maxWitnessLen: 70000, redeemScriptLen: 0 }], changeSpkLen: 22, payoutSpkLen: 22 }, 1n), 'max-witness-len'],
    ['redeem script too long', () => scriptSigLength(521), 'redeem-script-length'],
    ['negative spk length', () => partyFees({ inputs: [], changeSpkLen: -1, payoutSpkLen: 22 }, 1n), 'script-length'],
  ] as const)('rejects %s', (_name, fn, reason) => {
    try {
      fn();
      expect.unreachable();
    } catch (err) {
      expect(isDlcError(err, 'INVALID_PARAMS')).toBe(true);
      expect((err as { reason?: string }).reason).toBe(reason);
    }
  });
});
