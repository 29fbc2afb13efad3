/**
 * The coordinator holds an offer's terms against the parameters the oracle
 * states for its event (protocol/terms `checkEventAgainstTerms`),
 * over a real coordinator HTTP server and an in-test oracle that serves
 * event parameters. Issue 9, hole 6: an event announced before reward rules
 * counts whole coinbases, so a party that mines one block of the window
 * could move its outcome with a fee it pays itself; the coordinator refuses
 * offers on it (the CLI does too: test/cli-trust.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FULL_REWARD_RULE } from '../protocol/hashpower/index.js';
import { startCoordinator, type RunningCoordinator } from '../src/coordinator/index.js';
import { FakeChain, api, fakeChainCoordinatorConfig, identityOf, saleParties, type SaleParties } from './coordinator-fixtures.js';
import { startEventOracle, type EventOracleServer } from './dashboard-fixtures.js';

const WINDOW = { start: 1000, end: 1100 };
let dir: string;
let oracle: EventOracleServer;
let coord: RunningCoordinator;

function parties(label: string, deliveryAddress: string, rewardRule: string | null | undefined, payoutScheme?: string): SaleParties {
  const ann = oracle.oracle.announce(`hashpower-delivery/1000-1100/100ths/${label}`, 14, 1_750_000_000);
  oracle.publish(ann, {
    window: WINDOW, deliveryAddress, hashrateThs: '100', simulatedDifficulty: '140000000', nbDigits: 14,
    ...(rewardRule === undefined ? {} : { rewardRule }), ...(payoutScheme === undefined ? {} : { payoutScheme }),
  });
  return saleParties({ label, announcement: ann, deliveryAddress, window: WINDOW });
}

async function postOffer(p: SaleParties): Promise<{ status: number; body: Record<string, unknown> }> {
  return api(coord.url, 'POST', '/v1/offers', { body: { offer: p.offerHex, identityPubkey: identityOf(p.offerIdentity), terms: p.terms }, key: p.offerIdentity });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hashdlc-event-params-'));
  oracle = await startEventOracle('event-params-oracle');
  coord = await startCoordinator(fakeChainCoordinatorConfig(join(dir, 'db'), oracle.url), { chain: new FakeChain(), watch: false, log: () => undefined });
});

afterAll(async () => {
  await coord?.stop();
  await oracle?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('offers are held against the oracle event parameters', () => {
  it.each([
    ['an event announced before reward rules (no rule stated)', null],
    ['an event stating the whole-coinbase rule', FULL_REWARD_RULE],
  ])('refuses %s: 400 TERMS_MISMATCH event-rewardRule', async (label, rule) => {
    const r = await postOffer(parties(label.replace(/\W+/g, '-'), `bcrt1qrule${rule === null ? 'none' : 'full'}`, rule));
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: { code: 'TERMS_MISMATCH', reason: 'event-rewardRule' } });
    expect(JSON.stringify(r.body)).toContain(FULL_REWARD_RULE);
  });

  // Issue 16: terms priced for a periodic (FPPS) pool must not settle on an event that reads payouts another way.
  it('refuses terms stating a payout scheme on an event stating none or another: 400 TERMS_MISMATCH event-payoutScheme; takes the matching event', async () => {
    for (const [label, stated] of [['scheme-none', undefined], ['scheme-other', 'per-block-coinbase']] as const) {
      const p = parties(label, `bcrt1q${label}`, undefined, stated);
      const r = await api(coord.url, 'POST', '/v1/offers', { body: { offer: p.offerHex, identityPubkey: identityOf(p.offerIdentity), terms: { ...p.terms, payoutScheme: 'periodic-payout' } }, key: p.offerIdentity });
      expect(r.status, label).toBe(400);
      expect(r.body, label).toMatchObject({ error: { code: 'TERMS_MISMATCH', reason: 'event-payoutScheme' } });
    }
    const ok = parties('scheme-same', 'bcrt1qschemesame', undefined, 'periodic-payout');
    const r = await api(coord.url, 'POST', '/v1/offers', { body: { offer: ok.offerHex, identityPubkey: identityOf(ok.offerIdentity), terms: { ...ok.terms, payoutScheme: 'periodic-payout' } }, key: ok.offerIdentity });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  });

  it('takes the same offer on an event under the capped rule', async () => {
    const r = await postOffer(parties('capped', 'bcrt1qrulecapped', undefined));
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  });
});
