/**
 * Issue 16, the offer joined to the oracle's payout scheme and lag, as pure
 * functions (no services):
 * - a sale whose terms name a payout scheme is refused on an event stating
 *   another scheme or none, by the coordinator's check (protocol/terms
 *   `checkEventAgainstTerms`: TERMS_MISMATCH `event-payoutScheme`) and by
 *   the participant's (`checkEventMatchesTerms`: MISMATCH `event-payoutScheme`);
 *   terms naming no scheme take any event, as before;
 * - an offer's locktimes count from the end of the measured range (window
 *   end + payout lag: `locktimeBase`), so the default refund of a lagged
 *   event passes the accepter's check (refund >= attestation + grace / 2);
 * - `hashdlc offer hashpower --payout-lag-blocks` is range-checked before
 *   anything is contacted (USAGE);
 * - the demo's `--pool` names map onto the regtest pool presets: the event
 *   the offer requests measures the simulator's scheme and lag, the terms
 *   state the same scheme (and the luck pool's share).
 */
import { describe, expect, it } from 'vitest';
import { REFUND_GRACE_BLOCKS, defaultLocktimes } from '../protocol/contract/index.js';
import { CURRENT_REWARD_RULE, MAX_PAYOUT_LAG_BLOCKS } from '../protocol/hashpower/index.js';
import { checkEventAgainstTerms, offerTermsSchema, type OfferTerms, type StatedEventParams } from '../protocol/terms/index.js';
import { DlcError } from '../protocol/errors.js';
import type { OracleEventJson } from '../src/api/index.js';
import { offerMain } from '../src/cli/offer.js';
import { checkEventMatchesTerms } from '../src/participant/contract.js';
import { ParticipantError } from '../src/participant/errors.js';
import { locktimeBase } from '../src/participant/offer.js';
import { DEMO_LUCK_POOL_SHARE_BPS, demoPoolEvent, demoPoolTerms } from '../src/stack/demo.js';
import { DEMO_POOL_NAMES, poolPreset } from '../regtest/pool-schemes.js';

const WINDOW = { start: 1000, end: 1144 };
const D = 'bcrt1qwf9xuv6qp47jxh5mrdjtmhuhg4pgsuhtyfra84';

function saleTerms(payoutScheme?: string): OfferTerms {
  return offerTermsSchema.parse({
    template: 'hashpower-sale', hashrateThs: '100', window: WINDOW, deliveryAddress: D, upfront: '0', escrow: '800000',
    minerCollateral: '500000', toleranceBps: 9500, fundingDeadline: 990, ...(payoutScheme === undefined ? {} : { payoutScheme }),
  });
}

function stated(payoutScheme: string | null | undefined): StatedEventParams {
  return { kind: 'hashpower-delivery', window: WINDOW, deliveryAddress: D, hashrateThs: '100', rewardRule: CURRENT_REWARD_RULE, ...(payoutScheme === undefined ? {} : { payoutScheme }) };
}

function event(payoutScheme: string | null, payoutLagBlocks = 0): OracleEventJson {
  return {
    eventId: `hashpower-delivery/${WINDOW.start}-${WINDOW.end}/100ths/x`,
    kind: 'hashpower-delivery',
    state: 'announced',
    params: { kind: 'hashpower-delivery', window: WINDOW, deliveryAddress: D, hashrateThs: '100', rewardRule: CURRENT_REWARD_RULE, payoutScheme: payoutScheme as OracleEventJson['params']['payoutScheme'], payoutLagBlocks, descriptor: { type: 'numeric' } },
    attestHeight: WINDOW.end - 1 + payoutLagBlocks + 1,
    announcement: { hex: '00' },
  };
}

function reasonOf(fn: () => void): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof DlcError || e instanceof ParticipantError) return `${e.code} ${e.reason ?? ''}`;
    throw e;
  }
  return undefined;
}

describe('a sale\'s payout scheme against the event\'s', () => {
  it.each([
    ['another scheme', 'per-block-coinbase'],
    ['no scheme (today\'s rule, no lag)', null],
  ])('terms naming periodic-payout refuse an event stating %s: TERMS_MISMATCH / MISMATCH event-payoutScheme', (_label, scheme) => {
    const terms = saleTerms('periodic-payout');
    expect(reasonOf(() => checkEventAgainstTerms(stated(scheme), terms, 'ev'))).toBe('TERMS_MISMATCH event-payoutScheme');
    expect(reasonOf(() => checkEventMatchesTerms(event(scheme), terms))).toBe('MISMATCH event-payoutScheme');
  });

  it('takes the event stating the terms\' scheme; terms naming none take any event', () => {
    expect(reasonOf(() => checkEventAgainstTerms(stated('periodic-payout'), saleTerms('periodic-payout'), 'ev'))).toBeUndefined();
    expect(reasonOf(() => checkEventMatchesTerms(event('periodic-payout', 2), saleTerms('periodic-payout')))).toBeUndefined();
    for (const s of ['per-block-payout', null]) {
      expect(reasonOf(() => checkEventAgainstTerms(stated(s), saleTerms(), 'ev'))).toBeUndefined();
      expect(reasonOf(() => checkEventMatchesTerms(event(s), saleTerms()))).toBeUndefined();
    }
  });

  it('a coordinator whose oracle client does not read the scheme (absent, not null) leaves it to the participants', () => {
    expect(reasonOf(() => checkEventAgainstTerms(stated(undefined), saleTerms('periodic-payout'), 'ev'))).toBeUndefined();
  });
});

describe('locktimes of a lagged event', () => {
  it('count from the window end plus the lag, so the default refund passes the accepter\'s check', () => {
    const lagged = event('periodic-payout', 100);
    expect(locktimeBase(lagged)).toBe(WINDOW.end + 100);
    expect(locktimeBase(event(null))).toBe(WINDOW.end);
    for (const flow of ['regtest', 'mainnet'] as const) {
      const { cetLocktime, refundLocktime } = defaultLocktimes(locktimeBase(lagged), flow);
      // accept-checks.ts: cet <= attestHeight, refund >= attestHeight + grace / 2 (attestHeight with 6 confirmations on mainnet).
      const attestHeight = WINDOW.end - 1 + 100 + (flow === 'mainnet' ? 6 : 1);
      expect(cetLocktime).toBeLessThanOrEqual(attestHeight);
      expect(refundLocktime).toBeGreaterThanOrEqual(attestHeight + Math.floor(REFUND_GRACE_BLOCKS[flow] / 2));
      // Counted from the window's end instead, the refund would come before it: the accepter refuses.
      expect(defaultLocktimes(WINDOW.end, flow).refundLocktime).toBeLessThan(attestHeight + Math.floor(REFUND_GRACE_BLOCKS[flow] / 2));
    }
  });
});

describe('hashdlc offer hashpower --payout-lag-blocks', () => {
  it.each([[String(MAX_PAYOUT_LAG_BLOCKS + 1)], ['-1'], ['two']])('refuses %s before contacting anything (USAGE)', async (lag) => {
    const args = ['hashpower', '--window', '100-120', '--hashrate', '100', '--delivery-address', D, '--escrow', '1', '--collateral', '1', '--payout-lag-blocks', lag];
    await expect(offerMain(args)).rejects.toMatchObject({ code: 'USAGE' });
  });
});

describe('the demo\'s --pool names', () => {
  it('every name maps to the preset\'s event parameters and matching terms', () => {
    const window = { start: 200, end: 220 };
    const poolAddress = 'bcrt1qpool';
    for (const name of DEMO_POOL_NAMES) {
      const preset = poolPreset(name, { periodBlocks: window.end - window.start, periodAnchor: window.start, payoutDelayBlocks: 1, poolShareBps: DEMO_LUCK_POOL_SHARE_BPS, seed: 1 });
      const ev = demoPoolEvent(preset, poolAddress);
      const terms = demoPoolTerms(name);
      expect(ev.payoutScheme).toBe(preset.payoutScheme ?? undefined);
      expect(terms.payoutScheme).toBe(ev.payoutScheme);
      expect(ev.payoutLagBlocks).toBe(preset.payoutLagBlocks);
      expect(ev.poolPayoutAddresses).toEqual(preset.needsPoolKey ? [poolAddress] : []);
      if (preset.simulator.mode === 'luck') expect(terms.poolShareBps).toBe(preset.simulator.poolShareBps);
    }
    expect(demoPoolEvent(poolPreset('fpps', { payoutDelayBlocks: 1 }), poolAddress)).toEqual({ payoutScheme: 'periodic-payout', payoutLagBlocks: 2, poolPayoutAddresses: [poolAddress] });
    expect(demoPoolTerms('coinbase')).toEqual({});
  });
});
