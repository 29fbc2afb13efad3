// verifyAnnouncement / verifyAttestation on the vectors: every announcement of
// the 14 dlcspecs files (sha256 profile), the dlcdevkit numeric announcement
// and attestation, and the ways they must fail.
import { describe, expect, it } from 'vitest';
import { DlcError } from '../protocol/errors.js';
import { decodeMessage } from '../protocol/messages/codec.js';
import { messageFromJson } from '../protocol/messages/json.js';
import { verifyAnnouncement, verifyAttestation } from '../protocol/messages/oracle.js';
import type { OracleAnnouncement, OracleAttestation } from '../protocol/messages/types.js';
import { fromHex } from '../protocol/messages/wire.js';
import { readVectorJson, specTestVectors } from './helpers/vectors.js';

function announcementsOfVector(serializedOffer: string): OracleAnnouncement[] {
  const msg = decodeMessage(fromHex(serializedOffer));
  if (msg.type !== 'offer_dlc') throw new Error('not an offer');
  const ci = msg.message.contractInfo;
  const inners = 'singleContractInfo' in ci ? [ci.singleContractInfo.contractInfo] : ci.disjointContractInfo.contractInfos;
  return inners.flatMap((i) => ('single' in i.oracleInfo ? [i.oracleInfo.single.oracleAnnouncement] : i.oracleInfo.multi.oracleAnnouncements));
}

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DlcError);
    return (err as DlcError).reason;
  }
  return undefined;
}

describe('announcements of the 14 dlcspecs vectors', () => {
  const cases = specTestVectors().map(([file, v]) => ({ file, anns: announcementsOfVector(v.offer_message.serialized) }));

  it('hold 72 announcements in all', () => {
    expect(cases.reduce((n, c) => n + c.anns.length, 0)).toBe(72);
  });

  it.each(cases)('$file: every announcement verifies with the sha256 profile, none with tagged', ({ anns }) => {
    for (const ann of anns) {
      expect(() => verifyAnnouncement(ann, 'sha256')).not.toThrow();
      expect(reasonOf(() => verifyAnnouncement(ann, 'tagged'))).toBe('announcement-signature');
    }
  });

  it('rejects a tampered event and a wrong nonce count', () => {
    const ann = cases[0]!.anns[0]!;
    const later: OracleAnnouncement = { ...ann, oracleEvent: { ...ann.oracleEvent, eventMaturityEpoch: ann.oracleEvent.eventMaturityEpoch + 1 } };
    expect(reasonOf(() => verifyAnnouncement(later, 'sha256'))).toBe('announcement-signature');
    const extraNonce: OracleAnnouncement = { ...ann, oracleEvent: { ...ann.oracleEvent, oracleNonces: [...ann.oracleEvent.oracleNonces, ann.oracleEvent.oracleNonces[0]!] } };
    expect(reasonOf(() => verifyAnnouncement(extraNonce, 'sha256'))).toBe('announcement-nonce-count');
  });
});

describe('dlcdevkit numeric announcement and attestation', () => {
  const annMsg = messageFromJson('oracle_announcement', readVectorJson('dlcdevkit/oracle/numeric-announcement.json'));
  const attMsg = messageFromJson('oracle_attestation', readVectorJson('dlcdevkit/oracle/numeric-attestation.json'));
  if (annMsg.type !== 'oracle_announcement' || attMsg.type !== 'oracle_attestation') throw new Error('unexpected types');
  const ann = annMsg.message;
  const att = attMsg.message;

  it('the announcement verifies (sha256 profile)', () => {
    expect(ann.oracleEvent.oracleNonces).toHaveLength(20);
    expect(() => verifyAnnouncement(ann, 'sha256')).not.toThrow();
  });

  it('the attestation verifies against it', () => {
    expect(() => verifyAttestation(att, ann, 'sha256')).not.toThrow();
    expect(att.outcomes.join('')).toBe('00000001101100011100');
  });

  const flip = (o: string): string => (o === '0' ? '1' : '0');
  const cases: [string, (a: OracleAttestation) => OracleAttestation, string][] = [
    ['another digit', (a) => ({ ...a, outcomes: a.outcomes.map((o, i) => (i === 7 ? flip(o) : o)) }), 'signature'],
    ['a digit outside base 2', (a) => ({ ...a, outcomes: a.outcomes.map((o, i) => (i === 0 ? '2' : o)) }), 'invalid-digit'],
    ['a missing digit', (a) => ({ ...a, outcomes: a.outcomes.slice(1), signatures: a.signatures.slice(1) }), 'attestation-outcome-count'],
    ['swapped signatures', (a) => ({ ...a, signatures: [a.signatures[1]!, a.signatures[0]!, ...a.signatures.slice(2)] }), 'nonce-mismatch'],
    ['another event', (a) => ({ ...a, eventId: 'other' }), 'attestation-event-mismatch'],
    ['another oracle', (a) => ({ ...a, oraclePublicKey: ann.oracleEvent.oracleNonces[0]! }), 'attestation-oracle-mismatch'],
  ];
  it.each(cases)('fails with %s -> %s', (_name, edit, reason) => {
    expect(reasonOf(() => verifyAttestation(edit(att), ann, 'sha256'))).toBe(reason);
  });

  it('does not verify under the tagged profile', () => {
    expect(reasonOf(() => verifyAttestation(att, ann, 'tagged'))).toBe('signature');
  });
});
