/**
 * src/stack/participant.ts and demo-agents.ts without a node: the command a
 * user would type for an offer (`offerArgs`) is one the CLI parses back to
 * the same values; a StackParticipant's settings reach the library as its
 * configuration and a child process as `HASHDLC_*` variables, without
 * touching this process's environment; the demo's agent lines.
 */
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../src/cli/args.js';
import { OFFER_SPECS } from '../src/cli/offer.js';
import type { OfferInput } from '../src/participant/index.js';
import { DEMO_LUCK_POOL_SHARE_BPS, StackParticipant, demoPoolTerms, describeAgentLine, offerArgs } from '../src/stack/index.js';

const rpc = { url: 'http://127.0.0.1:18443/', username: 'u', password: 'p w' };

describe('offerArgs: the typed command of an offer', () => {
  it('a hashpower sale: every field as its flag, parsed back by the CLI', () => {
    const input: OfferInput = {
      template: 'hashpower',
      window: { start: 105, end: 125 },
      hashrateThs: 100n,
      deliveryAddress: 'bcrt1qwf9xuv6qp47jxh5mrdjtmhuhg4pgsuhtyfra84',
      upfront: 200_000n,
      escrow: 800_000n,
      collateral: 500_000n,
      toleranceBps: 9500,
      feeRatePerVb: 2n,
      utxos: ['aa:0', 'bb:1'],
      // Issue 16: the demo's --pool tides (demoPoolTerms): the scheme and the share, typed as flags.
      ...demoPoolTerms('tides'),
    };
    const args = offerArgs(input);
    expect(args.slice(0, 2)).toEqual(['offer', 'hashpower']);
    const parsed = parseCommand(OFFER_SPECS.hashpower!, args.slice(2));
    expect(parsed.values).toMatchObject({
      window: '105-125',
      hashrate: '100',
      'delivery-address': input.deliveryAddress,
      upfront: '200000',
      escrow: '800000',
      collateral: '500000',
      tolerance: '9500',
      'fee-rate': '2',
      utxo: ['aa:0', 'bb:1'],
      'pool-share-bps': String(DEMO_LUCK_POOL_SHARE_BPS),
      'payout-scheme': 'per-block-coinbase',
    });
  });

  it('hashprice contracts: strike, premium and buyer collateral; an event instead of a window', () => {
    const call = offerArgs({ template: 'hashprice-call', eventId: 'hashprice/1-11', hashrateThs: 100_000n, strikeSatsPerPhDay: 60_000n, premium: 30_000n, collateral: 300_000n });
    expect(parseCommand(OFFER_SPECS['hashprice-call']!, call.slice(2)).values).toMatchObject({ event: 'hashprice/1-11', hashrate: '100000', strike: '60000', premium: '30000', collateral: '300000' });
    const fwd = offerArgs({ template: 'hashprice-forward', window: { start: 1, end: 11 }, hashrateThs: 1n, strikeSatsPerPhDay: 5n, buyerCollateral: 7n, collateral: 9n });
    expect(parseCommand(OFFER_SPECS['hashprice-forward']!, fwd.slice(2)).values).toMatchObject({ window: '1-11', 'buyer-collateral': '7', strike: '5', collateral: '9' });
  });
});

describe('StackParticipant settings', () => {
  const p = new StackParticipant('miner', '/tmp/w/miner', { rpc, coordinator: 'http://c', oracles: ['http://o'], oraclePubkeys: ['ab'.repeat(32)], threads: 1 });

  it('reach the library as its configuration (regtest, the step\'s own fee rate)', () => {
    expect(p.config()).toEqual({
      network: 'regtest',
      networkGiven: true,
      walletDir: '/tmp/w/miner',
      coordinator: 'http://c',
      oracles: ['http://o'],
      oraclePubkeys: ['ab'.repeat(32)],
      oracleThreshold: undefined,
      rpc,
      feeRatePerVb: undefined,
      threads: 1,
    });
  });

  it('reach a child process as HASHDLC_* variables; this process\'s environment is untouched', () => {
    const before = { ...process.env };
    expect(p.env()).toEqual({
      HASHDLC_WALLET_DIR: '/tmp/w/miner',
      HASHDLC_NETWORK: 'regtest',
      HASHDLC_RPC_URL: rpc.url,
      HASHDLC_RPC_USER: 'u',
      HASHDLC_RPC_PASSWORD: 'p w',
      HASHDLC_COORDINATOR: 'http://c',
      HASHDLC_ORACLE: 'http://o',
      HASHDLC_ORACLE_PUBKEY: 'ab'.repeat(32),
      HASHDLC_THREADS: '1',
    });
    expect(new StackParticipant('b', '/d', { rpc, coordinator: 'http://c', oracles: ['http://o'] }).env()).not.toHaveProperty('HASHDLC_THREADS');
    expect(process.env).toEqual(before);
  });

  it('commandLine quotes what a shell would split', () => {
    expect(p.commandLine(['agent', '--wallet-dir', '/tmp/my wallet'])).toBe("hashdlc agent --wallet-dir '/tmp/my wallet'");
  });
});

describe('describeAgentLine', () => {
  const id = 'ab'.repeat(32);
  it('an action done, done already, replayed, failed', () => {
    expect(describeAgentLine({ at: 't', id, action: 'sign', ok: true, why: 'accepted by the buyer', result: { state: 'signed', txid: 'cd'.repeat(32) } })).toBe(
      `sign abababababab… → state signed, tx ${'cd'.repeat(32)} (accepted by the buyer)`,
    );
    expect(describeAgentLine({ at: 't', id, action: 'fund', ok: true, replay: true, result: { state: 'funding-broadcast', alreadyDone: true } })).toBe(
      'replayed fund abababababab… → state funding-broadcast, already done',
    );
    expect(describeAgentLine({ at: 't', id, action: 'settle', ok: false, error: { code: 'NOT_READY', message: 'not attested yet' } })).toBe(
      'settle abababababab… FAILED: NOT_READY: not attested yet',
    );
  });
});
