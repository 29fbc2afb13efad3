/**
 * What of a contract the public may see (issue 9, "Privacy"):
 * - the offer book, for good: an offer's offer_dlc, terms and offerer keys
 *   were published for any accepter to take, so they stay public (`GET
 *   /v1/offers/:id` serves them in every state);
 * - once past `offered`, a summary: state and timeline, collaterals, CET
 *   counts, oracle events, and the chain facts as they happen: funding and
 *   closing txids, heights and block hashes, the closing kind, outcome and
 *   payouts, each oracle's attested outcome and agreement (issue 11), and the
 *   accepter's payout script once a closing transaction exists. These add nothing to what the public already links: the funding
 *   transaction spends the published offer's inputs, the closing transaction
 *   spends the funding output, its other output is the accepter's payout, and
 *   the outcome is the oracle's public attestation.
 * The accept and sign messages, PSBTs, the contract id, the close proposal and
 * the accepter's keys, inputs and change are served only to the contract's
 * parties (signed GET, http.ts).
 *
 * This module does NOT authenticate (http.ts does); it only shapes views.
 */
import { transferredFromOf, type ContractRecord } from './lifecycle.js';

type Loose = ContractRecord & Record<string, unknown>;

/** Fields of the offer book plus where the contract is (state, times; history is added whole). */
const PUBLIC_FIELDS = [
  'id', 'state', 'createdAt', 'updatedAt', 'summary', 'terms', 'offerer', 'offerCollateral', 'acceptCollateral',
  'totalCollateral', 'cets', 'adaptorSignatures', 'oracles', 'oracleThreshold', 'oracleOutcomes', 'cetLocktime', 'refundLocktime',
  // A strip's period (issue 12): the strip's terms and batch were on the book with its offers.
  'strip',
  // Issue 14: the chain of owners (the transfer transactions are chain facts; the positions were on the book).
  'transferredTo',
] as const;
/** Chain facts, public as soon as the record has them (see the module header). */
const CHAIN_FIELDS = [
  'fundingTxid', 'fundOutputIndex', 'fundOutputValue', 'fundingHeight', 'fundingBlockHash', 'closingKind', 'closingTxid',
  'closingHeight', 'closingBlockHash', 'payouts', 'outcome', 'cetIndex', 'broadcastBy', 'endedFrom', 'reason',
] as const;

/** True when the whole record is public: an open offer (the offer book). */
export function isPublicRecord(rec: ContractRecord): boolean {
  return rec.state === 'offered';
}

/**
 * The record with only its public fields (see the module header); an open
 * offer is returned whole. Typed as a record so renderers take it; absent
 * fields are missing, and `public: true` marks the summary.
 */
export function publicRecord(rec: ContractRecord): ContractRecord {
  if (isPublicRecord(rec)) return rec;
  const r = rec as Loose;
  const out: Record<string, unknown> = {};
  for (const k of PUBLIC_FIELDS) if (r[k] !== undefined) out[k] = r[k];
  out.history = rec.history;
  for (const k of CHAIN_FIELDS) if (r[k] !== undefined) out[k] = r[k];
  const accepter = r.accepter as { payoutSpk?: string } | undefined;
  if (accepter?.payoutSpk !== undefined && r.closingTxid !== undefined) out.accepter = { payoutSpk: accepter.payoutSpk };
  // A transfer's new contract shows where it came from; its transfer terms (price, seller's script) stay the parties'.
  const from = transferredFromOf(rec);
  if (from !== undefined) out.transferredFrom = from;
  // The funding transaction itself is party-only; that it was broadcast is a chain fact.
  if (r.fundingTx !== undefined) out.fundingBroadcast = true;
  out.public = true;
  return out as unknown as ContractRecord;
}
