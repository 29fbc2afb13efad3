/**
 * The checks an accepter runs on one offered contract before it signs
 * anything, ONCE for a single offer (negotiate.ts `acceptOffer`) and for
 * every period of a strip (strip-negotiate.ts `acceptStrip`), so that a
 * strip's period is checked exactly as a single contract is:
 *
 * - the oracle set against my own oracles (each announcement fetched again
 *   from my oracle with that key: oracle-set.ts), the event against the
 *   terms, the timing (never on a known outcome, never past the funding
 *   deadline: issue 9, holes 2 and 3);
 * - the contract rebuilt from the terms over the oracles' own announcements,
 *   and the offer verified against it (payouts, locktimes against the
 *   attestation height, chain, fee rate);
 * - a hashpower sale's delivery address is this wallet's (or confirmed).
 *
 * This module does NOT sign, store or send anything.
 */
import type { TemplateResult } from '../../protocol/templates/index.js';
import { REFUND_GRACE_BLOCKS, REFUND_MAX_GRACE_BLOCKS, verifyOfferTerms } from '../../protocol/contract/index.js';
import type { OfferDlc } from '../../protocol/messages/index.js';
import { fromHex } from '../../protocol/messages/index.js';
import { stripPeriodCount, type OfferTerms } from '../../protocol/terms/index.js';
import type { Wallet } from '../wallet/index.js';
import { checkEventMatchesTerms, checkOfferTiming, templateOf } from './contract.js';
import { ParticipantError } from './errors.js';
import type { Participant } from './participant.js';
import { checkOfferedOracles, contractOracleInfo, oracleInfoOf, type OracleSetEvents } from './oracle-set.js';

/** One offered contract, checked: its oracle set (at my URLs), its first event and the contract rebuilt from the terms. */
export interface CheckedOffer {
  set: OracleSetEvents;
  ev: OracleSetEvents['events'][number];
  contract: TemplateResult;
}

/**
 * The offer against its human terms and my own oracles (module header).
 * @throws {ParticipantError} MISMATCH (oracle set, event), EXPIRED; {DlcError} (`terms-mismatch:*`, fee rate, locktimes).
 */
export async function checkOfferedContract(p: Participant, offer: OfferDlc, terms: OfferTerms, tip: number, maxFeeRatePerVb: bigint): Promise<CheckedOffer> {
  const wallet = p.wallet();
  // A strip's terms over one offer: the coordinator serves a period (or the whole window) as a single contract.
  if (stripPeriodCount(terms) > 1) {
    throw new ParticipantError('MISMATCH', `the terms make a strip of ${stripPeriodCount(terms)} periods, but this is one offer: accept the strip by its id`, { reason: 'strip-terms' });
  }
  const set = await checkOfferedOracles(p, contractOracleInfo(offer));
  const ev = set.events[0]!;
  checkEventMatchesTerms(ev, terms);
  for (const e of set.events) checkOfferTiming(e, terms, tip);
  const contract = templateOf(terms, oracleInfoOf(set.announcements, set.threshold));
  verifyOfferTerms(offer, {
    contract,
    hashProfile: set.hashProfile,
    keyPayouts: contract.summary.keyPayouts,
    announcements: set.announcements,
    oraclePublicKeys: set.oracles.map((o) => fromHex(o.publicKey)),
    chainHash: fromHex(wallet.network.chainHashHex),
    cetLocktimeAtMost: ev.attestHeight,
    refundLocktimeAtLeast: ev.attestHeight + Math.floor(REFUND_GRACE_BLOCKS[wallet.network.flow] / 2),
    refundLocktimeAtMost: ev.attestHeight + REFUND_MAX_GRACE_BLOCKS[wallet.network.flow],
    maxFeeRatePerVb,
  });
  return { set, ev, contract };
}

/**
 * A hashpower sale's delivery address is one this wallet watches, or the
 * one the user confirmed (`confirm`): a sale measured on someone else's
 * address pays the buyer nothing it can see. Other templates: nothing.
 * @throws {ParticipantError} MISMATCH `delivery-address`.
 */
export function checkDeliveryAddressOurs(wallet: Wallet, terms: OfferTerms, confirm: string | undefined): void {
  if (terms.template !== 'hashpower-sale') return;
  const ours = wallet.watchedAddresses().some((a) => a.address === terms.deliveryAddress);
  if (confirm !== undefined ? confirm !== terms.deliveryAddress : !ours) {
    throw new ParticipantError('MISMATCH', `the delivery address ${terms.deliveryAddress} is not this wallet's${confirm ? ` nor ${confirm}` : ''}; pass --delivery-address ${terms.deliveryAddress} if it is yours`, { reason: 'delivery-address' });
  }
}
