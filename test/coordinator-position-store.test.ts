/**
 * Positions in the coordinator's store (issue 14): the pure transitions refuse
 * what their state does not allow, and golden snapshots of the whole database
 * after each step of a transfer (listed, taken, broadcast with the new contract
 * and the old contract's link in the same batch, transferred), so a change of
 * the stored format or key layout fails here first. The taker's coin is held in
 * the inputs index while taken and freed after.
 */
import { describe, expect, it } from 'vitest';
import { isCoordinatorError } from '../src/coordinator/errors.js';
import {
  RECORD_VERSION,
  acceptOffer,
  contractTransferred,
  createOffer,
  fundContract,
  fundingConfirmed,
  linkTransfer,
  signContract,
  type ContractRecord,
  type FundingBroadcast,
} from '../src/coordinator/lifecycle.js';
import { collect, dropTake, endPosition, listPosition, positionTransferred, takePosition, transferBroadcast, type PositionTake } from '../src/coordinator/position-state.js';
import { ContractStore } from '../src/coordinator/store.js';
import { storeBackends } from './helpers/store-backends.js';

const T0 = 1_750_000_000_000;
const OLD = 'aa'.repeat(32);
const NEW = 'bb'.repeat(32);
const PID = 'cd'.repeat(16);
const TAKER_COIN = `${'c3'.repeat(32)}:0`;

function oldConfirmed(): ContractRecord {
  let t = T0;
  const offered = createOffer({
    id: OLD,
    terms: {
      template: 'hashpower-sale', hashrateThs: '100', window: { start: 1000, end: 1100 }, deliveryAddress: 'bcrt1qdelivery',
      upfront: '50000', escrow: '400000', minerCollateral: '200000', toleranceBps: 9500, upfrontScript: '0014' + '33'.repeat(20), upfrontSerialId: '77',
      fundingDeadline: 998,
    },
    summary: { template: 'hashpower-sale', window: { start: 1000, end: 1100 }, price: '450000', hashrateThs: '100' },
    offerer: { identityPubkey: '11'.repeat(32), fundingPubkey: '02' + '44'.repeat(32), payoutSpk: '0014' + '55'.repeat(20) },
    offerCollateral: '200000', acceptCollateral: '400000', totalCollateral: '600000', cets: 51, adaptorSignatures: 430,
    oracles: [{ url: 'http://127.0.0.1:9000', eventId: 'hashpower-delivery/1000-1100/100ths/x', publicKey: '66'.repeat(32) }],
    cetLocktime: 1100, refundLocktime: 1120,
  }, t);
  const accepted = acceptOffer(offered, {
    accepter: { identityPubkey: '22'.repeat(32), fundingPubkey: '03' + '77'.repeat(32), payoutSpk: '0014' + '88'.repeat(20) },
    contractId: 'cc'.repeat(32), fundingTxid: 'dd'.repeat(32), fundOutputIndex: 1, fundOutputValue: '600600', fundingPsbt: 'cHNidP8BAAoCAAAAAAAAAAAAAA==',
  }, (t += 1000));
  const funding = fundContract(signContract(accepted, 'cHNidP8BAAoCAAAAAAAAAAAAAQ==', (t += 1000)), 'cHNidP8BAAoCAAAAAAAAAAAAAg==', '0200000001' + 'ab'.repeat(30), (t += 1000));
  return fundingConfirmed(funding, { height: 1010, hash: '0f'.repeat(32) }, (t += 1000));
}

const take: PositionTake = {
  newContractId: NEW,
  takerIdentity: '99'.repeat(32),
  newDlcContractId: 'ce'.repeat(32),
  transfer: { side: 'accept', from: { txid: 'dd'.repeat(32), vout: 1, value: '600600', script: '5221' + '02'.repeat(33) }, price: '120000', sellerSpk: '0014' + 'ba'.repeat(20), priceSerialId: '40', feeRatePerVb: '3' },
  transferPsbt: 'cHNidP8BAAoCAAAAAAAAAAAAAw==',
  transferTxid: 'ef'.repeat(32),
  takerOutpoints: [TAKER_COIN],
  consentSignature: null,
  releaseSignature: null,
  fundedPsbt: null,
};

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

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (isCoordinatorError(e)) return `${e.code} ${e.reason ?? ''}`;
    throw e;
  }
  return undefined;
}

describe('position transitions', () => {
  const listed = listPosition({
    id: PID, contractId: OLD, side: 'accept', price: '120000', sellerSpk: '0014' + 'ba'.repeat(20), seller: '22'.repeat(32), stayer: '11'.repeat(32), cetLocktime: 1100, lastHeight: 1097,
  }, T0);
  it.each([
    ['collect a signature on a listed position', () => collect(listed, { consentSignature: '00' }, T0), 'INVALID_STATE state-listed'],
    ['drop the take of a listed position', () => dropTake(listed, 'x', T0), 'INVALID_STATE state-listed'],
    ['broadcast a listed position', () => transferBroadcast(listed, '00', T0), 'INVALID_STATE state-listed'],
    ['take a taken position', () => takePosition(takePosition(listed, take, T0), take, T0), 'INVALID_STATE state-taken'],
    ['cancel a broadcast position', () => endPosition(transferBroadcast(takePosition(listed, take, T0), '00', T0), 'cancelled', 'x', T0), 'INVALID_STATE state-broadcast'],
    ['confirm a taken position', () => positionTransferred(takePosition(listed, take, T0), 1, T0), 'INVALID_STATE state-taken'],
  ])('refuses to %s', (_what, fn, reason) => {
    expect(reasonOf(fn)).toBe(reason);
  });

  it('links and transfers a contract only from a funded, live state', () => {
    const old = oldConfirmed();
    const link = { contractId: NEW, positionId: PID, transferTxid: take.transferTxid };
    expect(linkTransfer(old, link, T0).transferredTo).toEqual(link);
    expect(linkTransfer(linkTransfer(old, link, T0), null, T0)).not.toHaveProperty('transferredTo');
    const done = contractTransferred(old, link, { height: 1050, hash: '5f'.repeat(32) }, T0);
    expect(done).toMatchObject({ state: 'transferred', transferredTo: link, transferHeight: 1050 });
    expect(reasonOf(() => contractTransferred(done, link, { height: 1050, hash: '5f'.repeat(32) }, T0))).toBe('INVALID_STATE state-transferred');
  });
});

const BACKENDS = storeBackends();

for (const { name, skip, fresh } of BACKENDS) describe.skipIf(skip !== null)(`positions in the store on ${name}`, () => {
  it('stores each step of a transfer as golden snapshots; the new contract, the old link and the position in one batch', async () => {
    const store = await (await fresh()).open();
    const old = oldConfirmed();
    await store.create(old, Uint8Array.from([0xa7, 0x1a]));
    let t = T0 + 10_000;
    const listed = listPosition({
      id: PID, contractId: OLD, side: 'accept', price: '120000', sellerSpk: '0014' + 'ba'.repeat(20), seller: '22'.repeat(32), stayer: '11'.repeat(32), cetLocktime: 1100, lastHeight: 1097,
    }, t);
    await store.commitPosition({ prev: null, next: listed });
    await expect(JSON.stringify(await dump(store), null, 2)).toMatchFileSnapshot('./golden/coordinator-position-listed.json');

    const taken = takePosition(listed, take, (t += 1000));
    await store.commitPosition({ prev: listed, next: taken, messages: { offer: Uint8Array.from([0xa7, 0x1a, 0x02]), accept: Uint8Array.from([0xa7, 0x1c, 0x02]) } });
    expect(await store.outpointOwner(TAKER_COIN)).toBe(`position:${PID}`);
    await expect(JSON.stringify(await dump(store), null, 2)).toMatchFileSnapshot('./golden/coordinator-position-taken.json');

    const collected = collect(taken, { consentSignature: '01'.repeat(64), releaseSignature: '02'.repeat(64), fundedPsbt: 'cHNidP8BAAoCAAAAAAAAAAAABA==' }, (t += 1000));
    const broadcast = transferBroadcast(collected, '02000000000102' + 'ef'.repeat(40), (t += 1000));
    const { state: _s, ...oldFields } = old as Extract<ContractRecord, { state: 'confirmed' }>;
    const newRec: FundingBroadcast = {
      ...oldFields, v: RECORD_VERSION, id: NEW, createdAt: t, updatedAt: t, history: [{ state: 'funding-broadcast', at: t }],
      transfer: { positionId: PID, fromContractId: OLD, terms: take.transfer },
      accepter: { identityPubkey: take.takerIdentity, fundingPubkey: '03' + '98'.repeat(32), payoutSpk: '0014' + '97'.repeat(20) },
      contractId: take.newDlcContractId, fundingTxid: take.transferTxid, fundOutputIndex: 0, fundOutputValue: '600600', fundingPsbt: collected.take!.fundedPsbt!,
      fundingTx: broadcast.transferTx!, fundingHeight: null, fundingBlockHash: null, closeProposal: null, state: 'funding-broadcast',
    };
    const link = { contractId: NEW, positionId: PID, transferTxid: take.transferTxid };
    await store.commitPosition({
      prev: taken, next: broadcast,
      create: [{ rec: newRec, messages: { offer: Uint8Array.from([0xa7, 0x1a, 0x02]), accept: Uint8Array.from([0xa7, 0x1c, 0x02]), sign: Uint8Array.from([0xa7, 0x1e, 0x02]) } }],
      commit: [{ prev: old, next: linkTransfer(old, link, t) }],
    });
    expect(await store.outpointOwner(TAKER_COIN)).toBeUndefined();
    expect((await store.get('ce'.repeat(32)))?.id).toBe(NEW);
    expect((await store.liveSalesOf('bcrt1qdelivery')).map((x) => x.id).sort()).toEqual([OLD, NEW]);
    await expect(JSON.stringify(await dump(store), null, 2)).toMatchFileSnapshot('./golden/coordinator-position-broadcast.json');

    const linked = (await store.get(OLD))!;
    await store.commitPosition({
      prev: broadcast, next: positionTransferred(broadcast, 1050, (t += 1000)),
      commit: [{ prev: linked, next: contractTransferred(linked, link, { height: 1050, hash: '5f'.repeat(32) }, t) }],
    });
    expect((await store.liveSalesOf('bcrt1qdelivery')).map((x) => x.id)).toEqual([NEW]);
    expect((await store.listPositions('transferred', { limit: 5 })).positions.map((p) => p.id)).toEqual([PID]);
    expect(await store.listPositions('broadcast', { limit: 5 })).toEqual({ positions: [], next: null });
    await expect(JSON.stringify(await dump(store), null, 2)).toMatchFileSnapshot('./golden/coordinator-position-transferred.json');
    await store.close();
  });
});
