/**
 * The coordinator's lifecycle (pure transitions, table-driven: which calls each
 * state allows) and its store, on LevelDB and on PostgreSQL (issue 13: the same
 * golden files for both): golden snapshots of the whole database
 * after each state a contract goes through (so a change of the stored format
 * or key layout fails here first), index moves in one batch, pages by state
 * and by party, and reopening a store.
 */
import { describe, expect, it } from 'vitest';
import {
  acceptOffer,
  cancelContract,
  cetCompleted,
  closingBroadcast,
  closingConfirmed,
  closingReorged,
  createOffer,
  expireContract,
  failContract,
  fundContract,
  fundingConfirmed,
  fundingReorged,
  oraclesObserved,
  returnToBook,
  setCloseProposal,
  signContract,
  type AcceptPart,
  type ClosingPart,
  type ContractRecord,
  type NewOffer,
} from '../src/coordinator/lifecycle.js';
import { isCoordinatorError } from '../src/coordinator/errors.js';
import { ContractStore } from '../src/coordinator/store.js';
import { storeBackends } from './helpers/store-backends.js';


const T0 = 1_750_000_000_000;
const ID = 'aa'.repeat(32);
const OFFERER = '11'.repeat(32);
const ACCEPTER = '22'.repeat(32);

function newOffer(id = ID, offerer = OFFERER): NewOffer {
  return {
    id,
    terms: {
      template: 'hashpower-sale', hashrateThs: '100', window: { start: 1000, end: 1100 }, deliveryAddress: 'bcrt1qdelivery',
      upfront: '50000', escrow: '400000', minerCollateral: '200000', toleranceBps: 9500, upfrontScript: '0014' + '33'.repeat(20), upfrontSerialId: '77',
      fundingDeadline: 998,
    },
    summary: { template: 'hashpower-sale', window: { start: 1000, end: 1100 }, price: '450000', hashrateThs: '100' },
    offerer: { identityPubkey: offerer, fundingPubkey: '02' + '44'.repeat(32), payoutSpk: '0014' + '55'.repeat(20) },
    offerCollateral: '200000',
    acceptCollateral: '400000',
    totalCollateral: '600000',
    cets: 51,
    adaptorSignatures: 430,
    oracles: [{ url: 'http://127.0.0.1:9000', eventId: 'hashpower-delivery/1000-1100/100ths/x', publicKey: '66'.repeat(32) }],
    cetLocktime: 1100,
    refundLocktime: 1120,
    offerOutpoints: [`${'a1'.repeat(32)}:0`],
  };
}

const acceptPart: AcceptPart = {
  accepter: { identityPubkey: ACCEPTER, fundingPubkey: '03' + '77'.repeat(32), payoutSpk: '0014' + '88'.repeat(20) },
  contractId: 'cc'.repeat(32),
  fundingTxid: 'dd'.repeat(32),
  fundOutputIndex: 1,
  fundOutputValue: '600600',
  fundingPsbt: 'cHNidP8BAAoCAAAAAAAAAAAAAA==',
  acceptOutpoints: [`${'b2'.repeat(32)}:1`],
  acceptedHeight: 990,
};

const cetPart: Omit<ClosingPart, 'closingKind' | 'broadcastBy'> = {
  closingTx: '02000000000101' + 'ee'.repeat(40),
  closingTxid: 'ee'.repeat(32),
  payouts: { offer: '600000', accept: '0' },
  outcome: '9600',
  cetIndex: 50,
  attestation: 'fdd868' + '99'.repeat(10),
};

/** Every state a contract passes through on the CET path, built with the pure transitions. */
function cetPath(): [string, ContractRecord][] {
  let t = T0;
  const offered = createOffer(newOffer(), t);
  const accepted = acceptOffer(offered, acceptPart, (t += 1000));
  const signed = signContract(accepted, 'cHNidP8BAAoCAAAAAAAAAAAAAQ==', (t += 1000));
  const funding = fundContract(signed, 'cHNidP8BAAoCAAAAAAAAAAAAAg==', '0200000001' + 'ab'.repeat(30), (t += 1000));
  const confirmed = fundingConfirmed(funding, { height: 1010, hash: '0f'.repeat(32) }, (t += 1000));
  const attested = cetCompleted(confirmed, cetPart, (t += 1000));
  const broadcast = closingBroadcast(attested, { ...cetPart, closingKind: 'cet', broadcastBy: 'coordinator' }, (t += 1000));
  const settled = closingConfirmed(broadcast, { height: 1101, hash: '1f'.repeat(32) }, (t += 1000));
  return [['offered', offered], ['accepted', accepted], ['signed', signed], ['funding-broadcast', funding], ['confirmed', confirmed],
    ['attested', attested], ['cet-broadcast', broadcast], ['settled', settled]];
}

/** Every key and value in the database; JSON values parsed (readable diffs), binary ones as hex. */
async function dump(store: ContractStore): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const { key: k, bytes } of await store.dump()) {
    const text = Buffer.from(bytes).toString('utf8');
    if (!/^[\x20-\x7e]*$/.test(text)) out[k] = `hex:${Buffer.from(bytes).toString('hex')}`;
    else if (text.startsWith('{')) out[k] = JSON.parse(text) as unknown;
    else out[k] = text;
  }
  return out;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (isCoordinatorError(e)) return e.code;
    throw e;
  }
  return undefined;
}

describe('lifecycle transitions', () => {
  const states = Object.fromEntries(cetPath()) as Record<string, ContractRecord>;
  const now = T0 + 99_000;
  const table: [string, (r: ContractRecord) => unknown, string[]][] = [
    ['accept', (r) => acceptOffer(r, acceptPart, now), ['offered']],
    ['sign', (r) => signContract(r, 'x', now), ['accepted']],
    ['fund', (r) => fundContract(r, 'x', 'y', now), ['signed']],
    ['confirm funding', (r) => fundingConfirmed(r, { height: 1, hash: 'h' }, now), ['funding-broadcast']],
    ['reorg funding', (r) => fundingReorged(r, now), ['confirmed']],
    ['complete the CET', (r) => cetCompleted(r, cetPart, now), ['funding-broadcast', 'confirmed']],
    ['propose a close', (r) => setCloseProposal(r, null, now), ['funding-broadcast', 'confirmed']],
    ['record oracle outcomes', (r) => oraclesObserved(r, [{ outcome: '1', agreed: null }], now), ['funding-broadcast', 'confirmed', 'attested', 'cet-broadcast', 'settled']],
    ['broadcast a refund', (r) => closingBroadcast(r, { ...cetPart, closingTxid: 'ff'.repeat(32), closingKind: 'refund', broadcastBy: 'coordinator' }, now),
      ['funding-broadcast', 'confirmed', 'attested', 'cet-broadcast']],
    ['confirm the closing', (r) => closingConfirmed(r, { height: 1, hash: 'h' }, now), ['cet-broadcast']],
    ['reorg the closing', (r) => closingReorged(r, now), ['settled']],
    ['cancel (accepter)', (r) => cancelContract(r, 'accepter', now), ['accepted', 'signed']],
    ['fail', (r) => failContract(r, 'inputs spent', now), ['accepted', 'signed', 'funding-broadcast']],
    ['expire', (r) => expireContract(r, 998, now), ['offered', 'accepted', 'signed']],
    ['return to the book', (r) => returnToBook(r, 'accept timeout', now), ['accepted']],
  ];
  for (const [name, fn, allowed] of table) {
    it(`${name}: allowed only in ${allowed.join(', ')}`, () => {
      for (const [state, rec] of Object.entries(states)) {
        const code = codeOf(() => fn(rec));
        if (allowed.includes(state)) expect(code, `${name} in ${state}`).toBeUndefined();
        else expect(code, `${name} in ${state}`).toBe(name === 'cancel (accepter)' && state === 'offered' ? 'FORBIDDEN' : 'INVALID_STATE');
      }
    });
  }

  it('records every step in the history with its time, and never mutates its input', () => {
    const path = cetPath();
    const settled = path[path.length - 1]![1];
    expect(settled.history.map((h) => h.state)).toEqual(path.map(([s]) => s));
    expect(settled.history.map((h) => h.at)).toEqual(path.map((_, i) => T0 + i * 1000));
    expect(path[0]![1].history).toHaveLength(1);
  });

  it('a second, different closing transaction replaces the first; the same one is refused', () => {
    const broadcast = states['cet-broadcast']!;
    const other = closingBroadcast(broadcast, { ...cetPart, closingTxid: '12'.repeat(32), closingKind: 'cet', payouts: { offer: '0', accept: '600000' }, broadcastBy: 'other' }, now);
    expect(other).toMatchObject({ state: 'cet-broadcast', closingTxid: '12'.repeat(32), broadcastBy: 'other' });
    expect(codeOf(() => closingBroadcast(broadcast, { ...cetPart, closingKind: 'cet', broadcastBy: 'other' }, now))).toBe('INVALID_STATE');
  });
});

const BACKENDS = storeBackends();

for (const { name, skip, fresh } of BACKENDS) describe.skipIf(skip !== null)(`store on ${name}`, () => {
  const open = async (): Promise<ContractStore> => (await fresh()).open();
  it('stores each state as golden snapshots (the stored format is an API)', async () => {
    const store = await open();
    const path = cetPath();
    await store.create(path[0]![1], Uint8Array.from([0xa7, 0x1a, 0x01]));
    await expect(JSON.stringify(await dump(store), null, 2)).toMatchFileSnapshot('./golden/coordinator-store-offered.json');
    for (let i = 1; i < path.length; i++) {
      const messages = path[i]![0] === 'accepted' ? { accept: Uint8Array.from([0xa7, 0x1c]) } : path[i]![0] === 'signed' ? { sign: Uint8Array.from([0xa7, 0x1e]) } : {};
      await store.commit(path[i - 1]![1], path[i]![1], messages);
      await expect(JSON.stringify(await dump(store), null, 2)).toMatchFileSnapshot(`./golden/coordinator-store-${path[i]![0]}.json`);
    }
    await store.close();
  });

  it('stores a settled 2-of-3 contract with each oracle\'s outcome and agreement (issue 11; older records have neither field)', async () => {
    const store = await open();
    const oracles = ['a', 'b', 'c'].map((x, i) => ({ url: `http://127.0.0.1:900${i}`, eventId: 'hashpower-delivery/1000-1100/100ths/x', publicKey: x.repeat(64) }));
    let t = T0;
    const offered = createOffer({ ...newOffer(), oracles, oracleThreshold: 2 }, t);
    const confirmed = fundingConfirmed(fundContract(signContract(acceptOffer(offered, acceptPart, (t += 1000)), 'cHNidP8BAAoCAAAAAAAAAAAAAQ==', (t += 1000)),
      'cHNidP8BAAoCAAAAAAAAAAAAAg==', '0200000001' + 'ab'.repeat(30), (t += 1000)), { height: 1010, hash: '0f'.repeat(32) }, (t += 1000));
    const seen = oraclesObserved(confirmed, [{ outcome: '9600', agreed: null }, { outcome: null, agreed: null }, { outcome: '0', agreed: null }], (t += 1000));
    expect(seen.state).toBe('confirmed');
    const attested = cetCompleted(seen, cetPart, (t += 1000), [{ outcome: '9600', agreed: true }, { outcome: '9600', agreed: true }, { outcome: '0', agreed: false }]);
    const settled = closingConfirmed(closingBroadcast(attested, { ...cetPart, closingKind: 'cet', broadcastBy: 'coordinator' }, (t += 1000)), { height: 1101, hash: '1f'.repeat(32) }, (t += 1000));
    expect(settled.oracleOutcomes).toEqual([{ outcome: '9600', agreed: true }, { outcome: '9600', agreed: true }, { outcome: '0', agreed: false }]);
    expect(() => cetCompleted(seen, cetPart, t, [{ outcome: '9600', agreed: true }])).toThrow(RangeError);
    await store.create(offered, Uint8Array.from([0xa7, 0x1a, 0x01]));
    await store.commit(offered, settled, { accept: Uint8Array.from([0xa7, 0x1c]), sign: Uint8Array.from([0xa7, 0x1e]) });
    await expect(JSON.stringify(await dump(store), null, 2)).toMatchFileSnapshot('./golden/coordinator-store-settled-2-of-3.json');
    expect(await store.get(ID)).toEqual(settled);
    await store.close();
  });

  it('stores a strip\'s periods in one batch with the strip index; only period 1 holds the coins (issue 12)', async () => {
    const store = await open();
    const stripTerms = { ...newOffer().terms, periods: 2 } as NewOffer['terms'];
    const batch = (index: number) => ({ index, contracts: [
      { fundOutputSerialId: '100', offerCollateral: '100000', acceptCollateral: '200000' },
      { fundOutputSerialId: '101', offerCollateral: '100000', acceptCollateral: '200000' },
    ] });
    const ids = ['a1'.repeat(32), 'a2'.repeat(32)];
    const periods = ids.map((id, i) => {
      const base = newOffer(id);
      const window = i === 0 ? { start: 1000, end: 1050 } : { start: 1050, end: 1100 };
      return createOffer({
        ...base,
        terms: { ...base.terms, window, escrow: '200000', minerCollateral: '100000', upfront: '0' } as NewOffer['terms'],
        ...(i === 0 ? {} : { offerOutpoints: undefined }),
        strip: { id: ids[0]!, terms: stripTerms, batch: batch(i) },
      }, T0);
    }).map((r) => (r.offerOutpoints === undefined ? (({ offerOutpoints: _o, ...rest }) => rest)(r) as ContractRecord : r));
    await store.createMany(periods.map((rec) => ({ rec, offer: Uint8Array.from([0xa7, 0x1a, 0x01]) })));
    await expect(JSON.stringify(await dump(store), null, 2)).toMatchFileSnapshot('./golden/coordinator-store-strip-offered.json');
    expect(await store.stripPeriods(ids[0]!)).toEqual(ids);
    expect(await store.outpointOwner(`${'a1'.repeat(32)}:0`)).toBe(ids[0]);
    expect((await store.liveSalesOf('bcrt1qdelivery')).map((l) => l.id)).toEqual(ids);
    const accepted = periods.map((rec, i) => acceptOffer(rec, { ...acceptPart, contractId: `c${i}`.repeat(32), fundOutputIndex: i, ...(i === 0 ? {} : { acceptOutpoints: undefined }) }, T0 + 1000));
    expect(accepted[1]!.strip).toEqual(periods[1]!.strip);
    await store.commitMany(periods.map((prev, i) => ({ prev, next: accepted[i]!, messages: { accept: Uint8Array.from([0xa7, 0x1c, i]) } })));
    expect((await store.get(`c1`.repeat(32)))?.id).toBe(ids[1]);
    expect((await store.listByState('accepted', { limit: 10 })).records.map((r) => r.id).sort()).toEqual(ids);
    // A second strip reusing an id is refused whole: nothing of it is written.
    const other = createOffer({ ...newOffer('a3'.repeat(32)), offerOutpoints: [`${'a9'.repeat(32)}:0`] }, T0);
    await expect(store.createMany([{ rec: other, offer: Uint8Array.from([1]) }, { rec: periods[1]!, offer: Uint8Array.from([1]) }])).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await store.get('a3'.repeat(32))).toBeUndefined();
    expect(await store.outpointOwner(`${'a9'.repeat(32)}:0`)).toBeUndefined();
    await store.close();
  });

  it('indexes the funding outpoints of pending contracts only: an expiry or a dropped accept frees them in the same batch', async () => {
    const store = await open();
    const [offered, accepted] = cetPath().map(([, r]) => r);
    const offerCoin = offered!.offerOutpoints![0]!;
    const acceptCoin = (accepted as Extract<ContractRecord, { state: 'accepted' }>).acceptOutpoints![0]!;
    await store.create(offered!, new Uint8Array([1]));
    expect(await store.outpointOwner(offerCoin)).toBe(ID);
    expect(await store.outpointOwner(acceptCoin)).toBeUndefined();
    await store.commit(offered!, accepted!, { accept: new Uint8Array([2]) });
    expect(await store.outpointOwner(acceptCoin)).toBe(ID);
    // The accept is dropped (accept timeout): its coin, party entry, contract id and message go; the offer's coin stays.
    const back = returnToBook(accepted!, 'accept timeout', T0 + 5);
    await store.commit(accepted!, back);
    expect(back).not.toHaveProperty('accepter');
    expect(await store.outpointOwner(acceptCoin)).toBeUndefined();
    expect(await store.outpointOwner(offerCoin)).toBe(ID);
    expect((await store.listByParty(ACCEPTER, { limit: 10 })).records).toEqual([]);
    expect(await store.get('cc'.repeat(32))).toBeUndefined();
    expect(Object.keys(await store.messages(ID))).toEqual(['offer']);
    expect(await store.idsInStates(['offered'])).toEqual([ID]);
    // The deadline passes: expired, terminal, the offer's coin free.
    const expired = expireContract(back, 998, T0 + 6);
    await store.commit(back, expired);
    expect(expired).toMatchObject({ state: 'expired', endedFrom: 'offered' });
    expect(await store.outpointOwner(offerCoin)).toBeUndefined();
    await store.close();
  });

  it('moves the state index in the same batch and finds records by contract id', async () => {
    const store = await open();
    const [offered, accepted] = cetPath().map(([, r]) => r);
    await store.create(offered!, new Uint8Array([1]));
    expect(await store.idsInStates(['offered'])).toEqual([ID]);
    await store.commit(offered!, accepted!, { accept: new Uint8Array([2]) });
    expect(await store.idsInStates(['offered'])).toEqual([]);
    expect(await store.idsInStates(['accepted'])).toEqual([ID]);
    expect((await store.get(acceptPart.contractId))?.id).toBe(ID);
    const m = await store.messages(ID);
    expect([...m.offer!, ...m.accept!]).toEqual([1, 2]);
    expect((await store.listByParty(ACCEPTER, { limit: 10 })).records.map((r) => r.id)).toEqual([ID]);
    // Only closed contracts are in the reorg watch list, until the watcher forgets them.
    const path = cetPath();
    const settled = path[path.length - 1]![1];
    const broadcast = path[path.length - 2]![1];
    await store.commit(accepted!, broadcast);
    expect(await store.recentlyClosed()).toEqual([]);
    await store.commit(broadcast, settled);
    expect(await store.recentlyClosed()).toEqual([ID]);
    const reorged = closingReorged(settled, T0 + 50_000);
    await store.commit(settled, reorged);
    expect(await store.recentlyClosed()).toEqual([]);
    await store.commit(reorged, closingConfirmed(reorged, { height: 1102, hash: '2f'.repeat(32) }, T0 + 60_000));
    expect(await store.recentlyClosed()).toEqual([ID]);
    await store.forgetRecentlyClosed(ID);
    expect(await store.recentlyClosed()).toEqual([]);
    await expect(store.create(offered!, new Uint8Array([1]))).rejects.toMatchObject({ code: 'CONFLICT' });
    // A transition from a record that is no longer the stored one (another request or replica moved it) writes nothing (issue 13).
    await expect(store.commit(broadcast, settled)).rejects.toMatchObject({ code: 'CONFLICT', reason: 'concurrent-update' });
    expect((await store.get(ID))?.state).toBe('settled');
    await store.close();
  });

  it('pages an index newest first, filtered, and survives a reopen', async () => {
    const loc = await fresh();
    let store = await loc.open();
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      const id = i.toString(16).padStart(64, '0');
      ids.push(id);
      await store.create(createOffer(newOffer(id, i % 2 === 0 ? OFFERER : ACCEPTER), T0 + i), new Uint8Array([i]));
    }
    await store.close();
    store = await loc.open();
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await store.listByState('offered', { limit: 10, after });
      seen.push(...page.records.map((r) => r.id));
      if (page.next === null) break;
      after = page.next;
    }
    expect(seen).toEqual([...ids].reverse());
    const even = await store.listByState('offered', { limit: 5, filter: (r) => r.offerer.identityPubkey === OFFERER });
    expect(even.records.map((r) => r.id)).toEqual([24, 22, 20, 18, 16].map((i) => ids[i]));
    expect((await store.listByParty(ACCEPTER, { limit: 100 })).records).toHaveLength(12);
    await store.close();
  });
});
