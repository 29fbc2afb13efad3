/**
 * `decide` (src/agent/decide.ts) over a table of facts: every local state x
 * role x coordinator view x tip against deadline and locktimes x attestation
 * combination that changes the answer, including the coordinator unreachable,
 * the oracle unreachable and steps already done. Each row names the action
 * expected (or null: nothing to do now).
 */
import { describe, expect, it } from 'vitest';
import { decide, type AgentAction } from '../src/agent/decide.js';
import type { ContractFacts } from '../src/agent/facts.js';
import { DEFAULT_POLICY, withOverrides, type AgentPolicy } from '../src/agent/policy.js';

const ID = 'ab'.repeat(32);
const FUNDING = 'cd'.repeat(32);
const CLOSING = 'ef'.repeat(32);

/** Deadline 100, CET locktime 200, refund locktime 220; tip 50: before everything. */
function facts(over: Partial<ContractFacts>): ContractFacts {
  return {
    id: ID,
    role: 'offer',
    state: 'offered',
    tip: 50,
    coordinator: { reachable: true, state: 'offered' },
    fundingDeadline: 100,
    cetLocktime: 200,
    refundLocktime: 220,
    contractFeeRatePerVb: 2n,
    funding: null,
    attested: null,
    pending: null,
    ...over,
  };
}

const coord = (state: string | null) => ({ reachable: true as const, state });
const UNREACHABLE = { reachable: false as const };
const confirmed = { txid: FUNDING, confirmations: 3 };
const inMempool = { txid: FUNDING, confirmations: 0 };
const funded = { state: 'confirmed' as const, coordinator: coord('confirmed'), funding: confirmed };
const bumpOn = withOverrides(DEFAULT_POLICY, { bumpAfterBlocks: 6, bumpFeeRatePerVb: 10n });
const stuckFunding = { txid: FUNDING, kind: 'funding' as const, feeRatePerVb: 1n, waitedBlocks: 6, bumpedToPerVb: undefined };

type Row = [string, Partial<ContractFacts>, AgentPolicy, Pick<AgentAction, 'kind'> & Partial<AgentAction> | null];

const ROWS: Row[] = [
  // ---- offerer before funding
  ['offerer: the coordinator says accepted -> sign', { coordinator: coord('accepted') }, DEFAULT_POLICY, { kind: 'sign', id: ID }],
  ['offerer: local accepted, coordinator accepted -> sign', { state: 'accepted', coordinator: coord('accepted') }, DEFAULT_POLICY, { kind: 'sign' }],
  ['offerer: signed locally but the coordinator says accepted (it lost the sign_dlc) -> nothing (no second sign)', { state: 'signed', coordinator: coord('accepted') }, DEFAULT_POLICY, null],
  ['offerer: autoSign off -> nothing', { coordinator: coord('accepted') }, withOverrides(DEFAULT_POLICY, { autoSign: false }), null],
  ['offerer: contract fee rate above maxFeeRatePerVb -> nothing', { coordinator: coord('accepted'), contractFeeRatePerVb: 30n }, withOverrides(DEFAULT_POLICY, { maxFeeRatePerVb: 20n }), null],
  ['offerer: contract fee rate at maxFeeRatePerVb -> sign', { coordinator: coord('accepted'), contractFeeRatePerVb: 20n }, withOverrides(DEFAULT_POLICY, { maxFeeRatePerVb: 20n }), { kind: 'sign' }],
  ['offerer: coordinator unreachable before funding -> nothing', { coordinator: UNREACHABLE }, DEFAULT_POLICY, null],
  ['offerer: not accepted yet -> nothing', { coordinator: coord('offered') }, DEFAULT_POLICY, null],
  ['offerer: signed, waiting for the buyer to fund -> nothing', { state: 'signed', coordinator: coord('signed') }, DEFAULT_POLICY, null],
  ['offerer: the coordinator does not know the contract -> nothing', { coordinator: coord(null) }, DEFAULT_POLICY, null],
  ['offerer: roles accept only -> nothing', { coordinator: coord('accepted') }, withOverrides(DEFAULT_POLICY, { roles: ['accept'] }), null],
  ['offerer: contract without a funding deadline (older terms) -> sign', { coordinator: coord('accepted'), fundingDeadline: undefined, tip: 150 }, DEFAULT_POLICY, { kind: 'sign' }],

  // ---- accepter before funding
  ['accepter: the coordinator says signed -> fund', { role: 'accept', state: 'accepted', coordinator: coord('signed') }, DEFAULT_POLICY, { kind: 'fund', id: ID }],
  ['accepter: local signed, coordinator signed (fund sent, not broadcast) -> fund re-sends', { role: 'accept', state: 'signed', coordinator: coord('signed') }, DEFAULT_POLICY, { kind: 'fund' }],
  ['accepter: waiting for the offerer to sign -> nothing', { role: 'accept', state: 'accepted', coordinator: coord('accepted') }, DEFAULT_POLICY, null],
  ['accepter: autoFund off -> nothing', { role: 'accept', state: 'accepted', coordinator: coord('signed') }, withOverrides(DEFAULT_POLICY, { autoFund: false }), null],
  ['accepter: fee rate above max -> nothing', { role: 'accept', state: 'accepted', coordinator: coord('signed'), contractFeeRatePerVb: 9n }, withOverrides(DEFAULT_POLICY, { maxFeeRatePerVb: 8n }), null],
  ['accepter: coordinator unreachable -> nothing', { role: 'accept', state: 'accepted', coordinator: UNREACHABLE }, DEFAULT_POLICY, null],
  ['accepter: roles offer only -> nothing', { role: 'accept', state: 'accepted', coordinator: coord('signed') }, withOverrides(DEFAULT_POLICY, { roles: ['offer'] }), null],
  ['accepter: funding broadcast by the coordinator, unconfirmed -> nothing (no second fund)', { role: 'accept', state: 'signed', coordinator: coord('funding-broadcast'), funding: inMempool }, DEFAULT_POLICY, null],

  // ---- the funding deadline
  ['offerer signed, deadline reached unfunded -> cancel', { state: 'signed', coordinator: coord('signed'), tip: 100 }, DEFAULT_POLICY, { kind: 'cancel', id: ID }],
  ['offerer signed, one block before the deadline -> nothing', { state: 'signed', coordinator: coord('signed'), tip: 99 }, DEFAULT_POLICY, null],
  ['offerer: accepted at the deadline -> cancel, not sign', { coordinator: coord('accepted'), tip: 100 }, DEFAULT_POLICY, { kind: 'cancel' }],
  ['accepter: deadline reached, coordinator unreachable -> cancel without it', { role: 'accept', state: 'accepted', coordinator: UNREACHABLE, tip: 120 }, DEFAULT_POLICY, { kind: 'cancel' }],
  ['the coordinator expired the contract before our tip reached the deadline -> cancel', { state: 'signed', coordinator: coord('expired'), tip: 99 }, DEFAULT_POLICY, { kind: 'cancel' }],
  ['the coordinator says failed (inputs spent elsewhere) -> cancel frees ours', { role: 'accept', state: 'signed', coordinator: coord('failed') }, DEFAULT_POLICY, { kind: 'cancel' }],
  ['cancelAtDeadline off -> nothing', { state: 'signed', coordinator: coord('signed'), tip: 100 }, { ...DEFAULT_POLICY, cancelAtDeadline: false }, null],
  ['offer expired unaccepted -> cancel (frees its coins)', { coordinator: coord('expired'), tip: 100 }, DEFAULT_POLICY, { kind: 'cancel' }],
  ['late funding by the counterparty in the mempool past the deadline -> cancel double-spends it', { state: 'signed', coordinator: coord('signed'), funding: inMempool, tip: 101 }, DEFAULT_POLICY, { kind: 'cancel' }],
  ['late funding in the mempool, coordinator unreachable -> cancel', { state: 'signed', coordinator: UNREACHABLE, funding: inMempool, tip: 101 }, DEFAULT_POLICY, { kind: 'cancel' }],
  ['funding broadcast through the coordinator, unconfirmed past the deadline -> nothing', { state: 'signed', coordinator: coord('funding-broadcast'), funding: inMempool, tip: 101 }, DEFAULT_POLICY, null],
  ['our own funding broadcast, evicted, past the deadline -> nothing (cancel refuses funded states)', { role: 'accept', state: 'funding-broadcast', coordinator: UNREACHABLE, tip: 101 }, DEFAULT_POLICY, null],
  ['funding confirmed past the deadline -> nothing (too late to cancel, too early to settle)', { state: 'signed', coordinator: coord('signed'), funding: confirmed, tip: 101 }, DEFAULT_POLICY, null],

  // ---- maturity
  ['attested, CET locktime reached -> settle', { ...funded, tip: 200, attested: true }, DEFAULT_POLICY, { kind: 'settle', id: ID }],
  ['attested, CET locktime reached, coordinator unreachable -> settle', { ...funded, coordinator: UNREACHABLE, tip: 200, attested: true }, DEFAULT_POLICY, { kind: 'settle' }],
  ['accepter: attested, locktime reached, local still signed but funding confirmed -> settle', { ...funded, role: 'accept', state: 'signed', coordinator: UNREACHABLE, tip: 205, attested: true }, DEFAULT_POLICY, { kind: 'settle' }],
  ['attested one block before the CET locktime -> nothing', { ...funded, tip: 199, attested: true }, DEFAULT_POLICY, null],
  ['attested, locktime reached, the funding output spent already (coordinator gone) -> nothing', { ...funded, coordinator: UNREACHABLE, tip: 200, attested: true, funding: { ...confirmed, spent: true } }, DEFAULT_POLICY, null],
  ['refund locktime reached, oracle and coordinator gone, funding output spent already -> nothing', { ...funded, coordinator: UNREACHABLE, tip: 230, attested: null, funding: { ...confirmed, spent: true } }, DEFAULT_POLICY, null],
  ['funding output not spent (asked) -> settle as before', { ...funded, tip: 200, attested: true, funding: { ...confirmed, spent: false } }, DEFAULT_POLICY, { kind: 'settle' }],
  ['attested past the refund locktime -> settle, not refund', { ...funded, tip: 230, attested: true }, DEFAULT_POLICY, { kind: 'settle' }],
  ['not attested, refund locktime reached -> refund', { ...funded, tip: 220, attested: false }, DEFAULT_POLICY, { kind: 'refund', id: ID }],
  ['oracle unreachable, refund locktime reached -> refund', { ...funded, tip: 220, attested: null }, DEFAULT_POLICY, { kind: 'refund' }],
  ['not attested, before the refund locktime -> nothing', { ...funded, tip: 219, attested: false }, DEFAULT_POLICY, null],
  ['settle off -> nothing', { ...funded, tip: 200, attested: true }, { ...DEFAULT_POLICY, settle: false }, null],
  ['refund off -> nothing', { ...funded, tip: 220, attested: false }, { ...DEFAULT_POLICY, refund: false }, null],
  ['funded, local funding-broadcast, funding not seen (evicted) -> nothing', { ...funded, state: 'funding-broadcast', funding: null, tip: 230, attested: true }, DEFAULT_POLICY, null],
  ['already done: the coordinator broadcast the CET -> nothing', { ...funded, coordinator: coord('cet-broadcast'), tip: 200, attested: true }, DEFAULT_POLICY, null],
  ['already done: the coordinator refunded -> nothing', { ...funded, coordinator: coord('refund-broadcast'), tip: 220, attested: false }, DEFAULT_POLICY, null],
  ['already done: closed cooperatively -> nothing', { ...funded, coordinator: coord('closed'), tip: 220, attested: false }, DEFAULT_POLICY, null],
  ['the coordinator says settled but our node sees the funding output unspent -> settle', { ...funded, funding: { ...confirmed, spent: false }, coordinator: coord('settled'), tip: 200, attested: true }, DEFAULT_POLICY, { kind: 'settle' }],
  ['the coordinator says refunded but our node sees the funding output unspent -> refund at the locktime', { ...funded, funding: { ...confirmed, spent: false }, coordinator: coord('refunded'), tip: 220, attested: false }, DEFAULT_POLICY, { kind: 'refund' }],
  ['the coordinator says settled and our node sees the output spent -> nothing', { ...funded, funding: { ...confirmed, spent: true }, coordinator: coord('settled'), tip: 200, attested: true }, DEFAULT_POLICY, null],
  ['already done: local settled -> nothing', { ...funded, state: 'settled', tip: 230, attested: true }, DEFAULT_POLICY, null],
  ['already done: local refunded -> nothing', { ...funded, state: 'refunded', tip: 230, attested: false }, DEFAULT_POLICY, null],
  ['already done: local cancelled past the deadline -> nothing', { state: 'cancelled', coordinator: coord('cancelled'), tip: 150 }, DEFAULT_POLICY, null],

  // ---- bumps
  ['own funding at 1 sat/vB for 6 blocks -> bump to 10', { ...funded, state: 'funding-broadcast', coordinator: coord('funding-broadcast'), funding: inMempool, pending: stuckFunding }, bumpOn, { kind: 'bump', txid: FUNDING, feeRatePerVb: 10n }],
  ['bumping off -> nothing', { ...funded, state: 'funding-broadcast', funding: inMempool, pending: stuckFunding }, DEFAULT_POLICY, null],
  ['waited 5 of 6 blocks -> nothing', { ...funded, state: 'funding-broadcast', funding: inMempool, pending: { ...stuckFunding, waitedBlocks: 5 } }, bumpOn, null],
  ['bumped to the target already (journal) -> nothing', { ...funded, state: 'funding-broadcast', funding: inMempool, pending: { ...stuckFunding, bumpedToPerVb: 10n } }, bumpOn, null],
  ['bumped below a raised target -> bump again', { ...funded, state: 'funding-broadcast', funding: inMempool, pending: { ...stuckFunding, bumpedToPerVb: 5n } }, bumpOn, { kind: 'bump', feeRatePerVb: 10n }],
  ['its own rate is at the target -> nothing', { ...funded, state: 'funding-broadcast', funding: inMempool, pending: { ...stuckFunding, feeRatePerVb: 10n } }, bumpOn, null],
  ['target capped by maxFeeRatePerVb -> bump to the cap', { ...funded, state: 'funding-broadcast', funding: inMempool, pending: stuckFunding }, withOverrides(bumpOn, { maxFeeRatePerVb: 4n }), { kind: 'bump', feeRatePerVb: 4n }],
  ['settled, our CET stuck -> bump it', { ...funded, state: 'settled', coordinator: UNREACHABLE, pending: { ...stuckFunding, txid: CLOSING, kind: 'closing' } }, bumpOn, { kind: 'bump', txid: CLOSING }],
  ['settle comes before a bump of the funding', { ...funded, tip: 200, attested: true, funding: inMempool, state: 'funding-broadcast', pending: stuckFunding }, bumpOn, { kind: 'settle' }],
];

describe('decide', () => {
  it.each(ROWS)('%s', (_name, over, policy, expected) => {
    const got = decide(facts(over), policy);
    if (expected === null) {
      expect(got).toBeNull();
    } else {
      expect(got).toMatchObject(expected);
      expect(got!.id).toBe(ID);
      expect(got!.why.length).toBeGreaterThan(0);
    }
  });

  it('is pure: the same facts give the same action, and the facts are not changed', () => {
    const f = facts({ state: 'signed', coordinator: coord('signed'), tip: 100 });
    const copy = structuredClone(f);
    expect(decide(f, DEFAULT_POLICY)).toEqual(decide(f, DEFAULT_POLICY));
    expect(f).toEqual(copy);
  });
});
