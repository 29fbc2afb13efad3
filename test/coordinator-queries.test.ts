/**
 * The coordinator's read-only queries (src/api/coordinator.ts
 * `CoordinatorQueries`, src/coordinator/service.ts `coordinatorQueries`), the
 * dashboard's only port into the coordinator: every answer is the public view
 * (privacy.ts), whatever the store holds. The service is a stub over an
 * in-memory store: the queries read nothing else.
 */
import { describe, expect, it } from 'vitest';
import type { CoordinatorQueries } from '../src/api/index.js';
import { createOffer, type ContractRecord } from '../src/coordinator/lifecycle.js';
import { coordinatorQueries, type CoordinatorService } from '../src/coordinator/service.js';
import { summarizeTerms, type OfferTerms } from '../protocol/terms/index.js';

const ACCEPTER_ID = '44'.repeat(32);
const ACCEPTER_FUNDING = `03${'55'.repeat(32)}`;
const CONTRACT_ID = '66'.repeat(32);

function offered(id: string): ContractRecord {
  const terms: OfferTerms = {
    template: 'hashpower-sale', hashrateThs: '100', window: { start: 1000, end: 1100 }, deliveryAddress: 'bcrt1qdelivery', upfront: '50000', escrow: '400000',
    minerCollateral: '200000', toleranceBps: 9500, upfrontScript: '51', upfrontSerialId: '7',
  };
  return createOffer({
    id, terms, summary: summarizeTerms(terms),
    offerer: { identityPubkey: '11'.repeat(32), fundingPubkey: `02${'22'.repeat(32)}`, payoutSpk: '0014751e76e8199196d454941c45d1b3a323f1433bd6' },
    offerCollateral: '200000', acceptCollateral: '400000', totalCollateral: '600000', cets: 51, adaptorSignatures: 428,
    oracles: [{ url: 'http://127.0.0.1:1', eventId: 'ev', publicKey: '33'.repeat(32) }], cetLocktime: 1100, refundLocktime: 1200,
    offerOutpoints: [`${'88'.repeat(32)}:0`],
  }, Date.UTC(2025, 5, 1));
}

/** A funded contract with every party-only field the store keeps. */
function funded(id: string): ContractRecord {
  return {
    ...offered(id), state: 'funding-broadcast', contractId: CONTRACT_ID, fundingTxid: '77'.repeat(32), fundOutputIndex: 0, fundOutputValue: '600000',
    accepter: { identityPubkey: ACCEPTER_ID, fundingPubkey: ACCEPTER_FUNDING, payoutSpk: '0014' + '99'.repeat(20) },
    fundingPsbt: 'cHNidP8BAAo=', fundingTx: '02000000', fundingHeight: null, fundingBlockHash: null, acceptOutpoints: [`${'aa'.repeat(32)}:1`],
    closeProposal: { offerPayout: '1', acceptPayout: '2', psbt: 'x', offerSignature: null, acceptSignature: null, proposedAt: 0 },
  } as unknown as ContractRecord;
}

function queriesOver(records: ContractRecord[], offerBytes: Uint8Array): { q: CoordinatorQueries; logged: string[] } {
  const byId = new Map(records.map((r) => [r.id, r]));
  const logged: string[] = [];
  const svc = {
    config: { network: 'regtest', oracles: ['http://127.0.0.1:1'] },
    chain: { getBlockCount: async () => 1234 },
    store: {
      get: async (id: string) => byId.get(id),
      listByState: async (state: string, opts: { limit: number }) => ({ records: records.filter((r) => r.state === state).slice(0, opts.limit), next: null }),
      messages: async (id: string) => (byId.has(id) ? { offer: offerBytes } : {}),
    },
    log: (_level: string, msg: string) => {
      logged.push(msg);
    },
  } as unknown as CoordinatorService;
  return { q: coordinatorQueries(svc), logged };
}

describe('coordinatorQueries', () => {
  const OFFER = 'ab'.repeat(32);
  const FUNDED = 'cd'.repeat(32);
  const bytes = Uint8Array.of(1, 2, 3);
  const { q, logged } = queriesOver([offered(OFFER), funded(FUNDED)], bytes);

  it('serves a funded contract as its public summary only: no accepter keys, PSBT, funding transaction, contract id or close proposal', async () => {
    const view = await q.contract(FUNDED);
    expect(view).not.toBeNull();
    const text = JSON.stringify(view);
    for (const secret of [ACCEPTER_ID, ACCEPTER_FUNDING, CONTRACT_ID, 'cHNidP8BAAo=', 'closeProposal', 'acceptOutpoints', 'offerOutpoints']) expect(text).not.toContain(secret);
    expect(view).toMatchObject({ id: FUNDED, state: 'funding-broadcast', fundingTxid: '77'.repeat(32), fundingBroadcast: true, public: true });
    expect(view).not.toHaveProperty('fundingTx');
    expect(view).not.toHaveProperty('v');
  });

  it('lists by state with the same public views, and an open offer whole (the book published it)', async () => {
    const page = await q.contractsByState('funding-broadcast', { limit: 10 });
    expect(page.next).toBeNull();
    expect(page.contracts).toEqual([await q.contract(FUNDED)]);
    const book = await q.contractsByState('offered', { limit: 10 });
    expect(book.contracts.map((c) => c.id)).toEqual([OFFER]);
    expect(book.contracts[0]).not.toHaveProperty('public');
    expect(book.contracts[0]!.offerer.identityPubkey).toBe('11'.repeat(32));
  });

  it('answers null for an unknown id, the offer message for a known one, and passes the tip, network, oracles and log through', async () => {
    expect(await q.contract('ef'.repeat(32))).toBeNull();
    expect(await q.offerMessage(OFFER)).toEqual(bytes);
    expect(await q.offerMessage('ef'.repeat(32))).toBeNull();
    expect(await q.tipHeight()).toBe(1234);
    expect([q.network, q.oracleUrls]).toEqual(['regtest', ['http://127.0.0.1:1']]);
    q.log('warn', 'seen');
    expect(logged).toEqual(['seen']);
  });
});
