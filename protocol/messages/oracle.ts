/**
 * Checks oracle messages as a DLC party receives them: an announcement's
 * signature over its oracle_event, and an attestation against the announcement
 * it answers (same oracle, same event, outcomes the event can have, one valid
 * signature per announced nonce).
 *
 * The hash profile is always named by the caller (protocol/crypto/oracle.ts):
 * `'sha256'` for the dlcspecs vectors, rust-dlc and dlcdevkit; `'tagged'` for
 * Oracle.md's text and bitcoin-s. The Schnorr arithmetic lives in
 * protocol/crypto; this module only supplies the bytes and the message rules.
 * It does NOT decide whether an oracle is trusted and does no I/O.
 */
import { DlcError } from '../errors.js';
import { verifyAnnouncement as verifyAnnouncementSignature, verifyAttestation as verifyAttestationSignatures } from '../crypto/index.js';
import type { HashProfile } from '../crypto/index.js';
import { encodeOracleEventTlv } from './codec.js';
import { toHex } from './wire.js';
import type { OracleAnnouncement, OracleAttestation } from './types.js';

/**
 * Verifies the announcement signature (BIP340 by `oraclePublicKey` over the
 * oracle_event, hashed per `profile`) and that the event has as many nonces as
 * its descriptor needs (one for enum; one per digit, plus one for the sign of a
 * signed numeric event, Oracle.md "Digit decomposition").
 * @throws {DlcError} BAD_SIGNATURE (reason `announcement-signature`) when the signature
 *   does not verify; INVALID_PARAMS (reason `announcement-nonce-count`) on a nonce mismatch.
 */
export function verifyAnnouncement(ann: OracleAnnouncement, profile: HashProfile): void {
  const d = ann.oracleEvent.eventDescriptor;
  const expected = 'enumEvent' in d ? 1 : d.digitDecompositionEvent.nbDigits + (d.digitDecompositionEvent.isSigned ? 1 : 0);
  if (ann.oracleEvent.oracleNonces.length !== expected) {
    throw new DlcError('INVALID_PARAMS', `announcement has ${ann.oracleEvent.oracleNonces.length} nonces, its event needs ${expected}`, {
      reason: 'announcement-nonce-count',
    });
  }
  const ok = verifyAnnouncementSignature(profile, ann.oraclePublicKey, ann.announcementSignature, encodeOracleEventTlv(ann.oracleEvent));
  if (!ok) {
    throw new DlcError('BAD_SIGNATURE', `announcement signature of event '${ann.oracleEvent.eventId}' does not verify (${profile})`, {
      reason: 'announcement-signature',
    });
  }
}

function checkOutcomes(att: OracleAttestation, ann: OracleAnnouncement): void {
  const bad = (message: string, reason: string): DlcError => new DlcError('INVALID_OUTCOME', message, { reason });
  const d = ann.oracleEvent.eventDescriptor;
  if ('enumEvent' in d) {
    // Oracle.md "Simple enumeration": one signature over one of the announced outcomes.
    if (att.outcomes.length !== 1) throw bad(`enum attestation with ${att.outcomes.length} outcomes`, 'attestation-outcome-count');
    if (!d.enumEvent.outcomes.includes(att.outcomes[0]!)) throw bad(`'${att.outcomes[0]}' is not an outcome of the event`, 'outcome-not-in-event');
    return;
  }
  // Oracle.md "Digit decomposition": every digit is attested (sign first if signed), digits in base-10 text.
  const e = d.digitDecompositionEvent;
  if (att.outcomes.length !== ann.oracleEvent.oracleNonces.length) {
    throw bad(`${att.outcomes.length} attested digits for ${ann.oracleEvent.oracleNonces.length} nonces`, 'attestation-outcome-count');
  }
  att.outcomes.forEach((o, i) => {
    if (e.isSigned && i === 0) {
      if (o !== '+' && o !== '-') throw bad(`sign outcome '${o}' is not '+' or '-'`, 'invalid-digit');
      return;
    }
    if (!/^(0|[1-9]\d*)$/.test(o) || Number(o) >= e.base) throw bad(`digit ${i} '${o}' is not a base-${e.base} digit`, 'invalid-digit');
  });
}

/**
 * Verifies an attestation against its announcement: same oracle key and event
 * id, outcomes the event can have, and one valid BIP340 signature per outcome,
 * each made with the announced nonce of its position (protocol/crypto).
 * @throws {DlcError} INVALID_PARAMS (reasons `attestation-oracle-mismatch`,
 *   `attestation-event-mismatch`), INVALID_OUTCOME (`attestation-outcome-count`,
 *   `outcome-not-in-event`, `invalid-digit`), BAD_SIGNATURE (`count`,
 *   `nonce-mismatch`, `signature`, from protocol/crypto).
 */
export function verifyAttestation(att: OracleAttestation, ann: OracleAnnouncement, profile: HashProfile): void {
  if (toHex(att.oraclePublicKey) !== toHex(ann.oraclePublicKey)) {
    throw new DlcError('INVALID_PARAMS', 'attestation is from another oracle than the announcement', { reason: 'attestation-oracle-mismatch' });
  }
  if (att.eventId !== ann.oracleEvent.eventId) {
    throw new DlcError('INVALID_PARAMS', `attestation is for event '${att.eventId}', not '${ann.oracleEvent.eventId}'`, {
      reason: 'attestation-event-mismatch',
    });
  }
  checkOutcomes(att, ann);
  verifyAttestationSignatures(profile, att.oraclePublicKey, ann.oracleEvent.oracleNonces, att.signatures, att.outcomes);
}
