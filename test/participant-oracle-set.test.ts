/**
 * The oracle-set rules of the participant library that need no service
 * (src/participant/oracle-set.ts): K of an offer, the oracle info an offer
 * carries, and the accepter's refusals that come before any oracle is asked;
 * table-driven, each invalid case naming its reason. The services' side (three
 * real oracles, a coordinator, the node) is test/regtest/participant-oracle-set.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { toHex, type OracleAnnouncement, type OracleInfo } from '../protocol/messages/index.js';
import type { OracleEventJson } from '../src/api/index.js';
import { Participant, ParticipantError, type ParticipantConfig } from '../src/participant/index.js';
import {
  checkOfferedOracles,
  offerThreshold,
  oracleInfoOf,
  oracleSetOf,
  refuseDifferentEvents,
  refuseDuplicateOracles,
  sameHashProfile,
} from '../src/participant/oracle-set.js';
import { testOracle } from './helpers/dlc-fixture.js';

const EVENT = 'hashpower-delivery/regtest/test';
const anns: OracleAnnouncement[] = ['a', 'b', 'c'].map((l) => testOracle(`oracle-${l}`).announce(EVENT, 14));

function caught(fn: () => unknown): ParticipantError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ParticipantError);
    return e as ParticipantError;
  }
  throw new Error('did not throw');
}

describe('K of an offer', () => {
  it.each([
    [undefined, 1, 1], [undefined, 2, 2], [undefined, 3, 2], [undefined, 4, 3], [undefined, 5, 3],
    [1, 3, 1], [3, 3, 3], [2, 5, 2],
  ])('configured %s over %i oracles: %i', (configured, n, k) => {
    expect(offerThreshold(configured, n)).toBe(k);
  });

  it.each([[4, 3], [0, 3], [2, 1], [1.5, 3]])('refuses --threshold %s over %i oracles (USAGE threshold)', (configured, n) => {
    expect(caught(() => offerThreshold(configured, n))).toMatchObject({ code: 'USAGE', reason: 'threshold' });
  });
});

describe('the oracle info of an offer', () => {
  it('one oracle: `single`, as single-oracle offers always were', () => {
    expect(oracleInfoOf([anns[0]!], 1)).toEqual({ single: { oracleAnnouncement: anns[0] } });
    expect(oracleSetOf(oracleInfoOf([anns[0]!], 1))).toEqual({ threshold: 1, announcements: [anns[0]], bounded: false });
  });

  it('n oracles: `multi`, K, the announcements in configured order, exact agreement (no oracle_params)', () => {
    const info = oracleInfoOf(anns, 2);
    expect(info).toEqual({ multi: { threshold: 2, oracleAnnouncements: anns, oracleParams: null } });
    expect(oracleSetOf(info)).toEqual({ threshold: 2, announcements: anns, bounded: false });
  });
});

describe('set checks that need no service', () => {
  it.each([
    ['no key twice', ['aa', 'bb', 'cc'], undefined],
    ['a key twice', ['aa', 'bb', 'aa'], 'oracle-duplicate'],
  ])('%s', (_name, keys, reason) => {
    if (reason === undefined) expect(() => refuseDuplicateOracles(keys, 'the offer')).not.toThrow();
    else expect(caught(() => refuseDuplicateOracles(keys, 'the offer'))).toMatchObject({ code: 'MISMATCH', reason });
  });

  const event = (over: Partial<OracleEventJson> = {}, params: Record<string, unknown> = {}): OracleEventJson => ({
    eventId: EVENT,
    kind: 'hashpower-delivery',
    state: 'announced',
    params: { kind: 'hashpower-delivery', window: { start: 100, end: 110 }, hashrateThs: '100', descriptor: { type: 'numeric', nbDigits: 14 }, ...params },
    attestHeight: 111,
    announcement: { hex: '00' },
    ...over,
  });

  it.each([
    ['the same event (parameters in another key order)', event({}, { hashrateThs: '100', kind: 'hashpower-delivery' }), undefined],
    ['another event id', event({ eventId: `${EVENT}-2` }), 'event-differs'],
    ['other parameters under the same id', event({}, { hashrateThs: '200' }), 'event-differs'],
    ['another attestation height', event({ attestHeight: 120 }), 'event-differs'],
  ])('two oracles serving %s', (_name, second, reason) => {
    const events = [{ url: 'http://o1', event: event() }, { url: 'http://o2', event: second }];
    if (reason === undefined) expect(() => refuseDifferentEvents(events)).not.toThrow();
    else expect(caught(() => refuseDifferentEvents(events))).toMatchObject({ code: 'MISMATCH', reason, message: expect.stringContaining('http://o2') });
  });

  it('one hash profile for the set', () => {
    expect(sameHashProfile([{ url: 'a', hashProfile: 'tagged' }, { url: 'b', hashProfile: 'tagged' }])).toBe('tagged');
    expect(caught(() => sameHashProfile([{ url: 'a', hashProfile: 'sha256' }, { url: 'b', hashProfile: 'tagged' }]))).toMatchObject({ reason: 'oracle-hash-profile' });
  });
});

describe('an offered set refused before any oracle is asked', () => {
  // No oracle answers at this URL: each refusal below comes before any request.
  const config = (oracleThreshold?: number): ParticipantConfig => ({
    network: 'regtest', networkGiven: true, walletDir: '/nonexistent', coordinator: undefined,
    oracles: ['http://127.0.0.1:9'], oraclePubkeys: [], oracleThreshold, rpc: undefined, feeRatePerVb: undefined, threads: 0,
  });
  const multi = (threshold: number, list: OracleAnnouncement[], bounded = false): OracleInfo => ({
    multi: { threshold, oracleAnnouncements: list, oracleParams: bounded ? { maxErrorExp: 4, minFailExp: 6, maximizeCoverage: false } : null },
  });

  it.each([
    ['K above n', multi(4, anns), undefined, 'threshold'],
    ['K of 0', multi(0, anns), undefined, 'threshold'],
    ['K below my --threshold', multi(2, anns), 3, 'threshold'],
    ['bounded differences (oracle_params)', multi(2, anns, true), undefined, 'oracle-params'],
    ['one oracle twice', multi(2, [anns[0]!, anns[1]!, anns[0]!]), undefined, 'oracle-duplicate'],
  ])('%s', async (_name, info, least, reason) => {
    const err = await checkOfferedOracles(new Participant(config(least)), info).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParticipantError);
    expect(err).toMatchObject({ code: 'MISMATCH', reason });
    if (reason === 'oracle-duplicate') expect((err as Error).message).toContain(toHex(anns[0]!.oraclePublicKey));
  });
});
