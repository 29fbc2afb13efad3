/**
 * Watching a contract from the outside, as the demo and the scenario suite
 * do: the coordinator's view (polled until a state), the oracles'
 * attestations (polled until K of an offer's set serve one; the set read
 * from the offer itself, `offerOracleSet`), what a closing transaction actually
 * paid on chain to each party's payout script, and what the contract's
 * payout curve says each party should get at an outcome. Services are read
 * through their one client (src/api).
 *
 * Expected payouts come from the human terms, not from the CETs: the
 * contract is rebuilt with protocol/templates (`templateFromTerms`) over the
 * offer's own oracle announcement and evaluated with protocol/numeric
 * `payoutAt`, so a CET that paid something else than the curve would show.
 *
 * This module does NOT move any contract forward (participants and the
 * coordinator do) and does not mine.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { BitcoinRpc } from '../chain/index.js';
import { templateFromTerms, offerTermsSchema } from '../../protocol/terms/index.js';
import { payoutAt } from '../../protocol/numeric/index.js';
import { DUST_LIMIT } from '../../protocol/tx/index.js';
import { decodeOfferDlc, fromHex, toHex } from '../../protocol/messages/index.js';
import { CoordinatorClient, OracleClient } from '../api/index.js';
import { ParticipantError } from '../participant/errors.js';
import type { SetOracle } from '../participant/index.js';
import { StackError } from './errors.js';

/** The coordinator's contract view (src/coordinator/API.md), the fields read here. */
export interface ContractView {
  id: string;
  state: string;
  contractId?: string;
  terms: Record<string, unknown>;
  offerer: { payoutSpk: string; identityPubkey: string };
  accepter?: { payoutSpk: string; identityPubkey: string };
  totalCollateral: string;
  fundingTxid?: string;
  fundingHeight?: number | null;
  closingKind?: 'cet' | 'refund' | 'close';
  closingTxid?: string;
  outcome?: string | null;
  cetIndex?: number | null;
  payouts?: { offer: string; accept: string };
  broadcastBy?: string | null;
  history: { state: string; at: number; note?: string }[];
  [k: string]: unknown;
}

/** The oracle's attestation answer (oracle/API.md), the fields read here. */
export interface AttestationView {
  eventId: string;
  outcome: string;
  hex: string;
  result: { outcome: string; capped: boolean; noNetworkReward: boolean; networkReward: string; poolRewards?: string };
  evidence: Record<string, unknown>;
  attestedAtHeight: number;
}

/** Two parties' sats. */
export interface Payouts {
  offer: bigint;
  accept: bigint;
}

/** Errors of the one API transport as the stack's own. */
async function orStackError<T>(what: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof ParticipantError) throw new StackError('STACK_SERVICE', `${what}: ${err.message}`, { cause: err });
    throw err;
  }
}

/**
 * The coordinator's (public) view of a contract.
 * @throws {StackError} STACK_SERVICE when it does not answer one.
 */
export async function contractView(coordinatorUrl: string, id: string): Promise<ContractView> {
  // The schema checks the fields every view has; the rest pass through (loose) and are typed by ContractView above.
  const view = await orStackError(`coordinator GET /v1/contracts/${id}`, new CoordinatorClient(coordinatorUrl).contract(id));
  return view as unknown as ContractView;
}

/**
 * Polls the coordinator until the contract is in one of `states` (network
 * errors while the coordinator restarts are retried).
 * @throws {StackError} STACK_TIMEOUT after `timeoutMs`; STACK_CHECK when it
 *   reaches a terminal state not asked for.
 */
export async function waitForContractState(coordinatorUrl: string, id: string, states: readonly string[], timeoutMs = 30_000): Promise<ContractView> {
  const deadline = Date.now() + timeoutMs;
  let last = '(no answer)';
  for (;;) {
    try {
      const view = await contractView(coordinatorUrl, id);
      if (states.includes(view.state)) return view;
      last = view.state;
      if (['failed', 'cancelled'].includes(view.state)) {
        throw new StackError('STACK_CHECK', `contract ${id} ended ${view.state} while waiting for ${states.join('|')}: ${String(view.reason ?? '')}`);
      }
    } catch (err) {
      if (err instanceof StackError && err.code === 'STACK_CHECK') throw err;
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new StackError('STACK_TIMEOUT', `contract ${id} did not reach ${states.join('|')} within ${timeoutMs} ms (last: ${last})`);
    await sleep(100);
  }
}

/**
 * Polls the oracle until it serves the attestation of `eventId`.
 * @throws {StackError} STACK_TIMEOUT.
 */
export async function waitForAttestation(oracleUrl: string, eventId: string, timeoutMs = 30_000): Promise<AttestationView> {
  return (await waitForAttestations([oracleUrl], eventId, 1, timeoutMs))[0]!.attestation;
}

/**
 * The oracle set an offer names (single: 1 of 1; multi: its threshold and
 * every announcement's key), each matched by public key to one of `known`.
 * @throws {StackError} STACK_CHECK for an announcement signed by a key none
 *   of `known` has, or an offer that is not a single contract.
 */
export function offerOracleSet(offerHex: string, known: readonly SetOracle[]): { threshold: number; oracles: SetOracle[] } {
  const ci = decodeOfferDlc(fromHex(offerHex)).contractInfo;
  if (!('singleContractInfo' in ci)) throw new StackError('STACK_CHECK', 'not a single contract');
  const info = ci.singleContractInfo.contractInfo.oracleInfo;
  const announcements = 'single' in info ? [info.single.oracleAnnouncement] : info.multi.oracleAnnouncements;
  const oracles = announcements.map((a) => {
    const key = toHex(a.oraclePublicKey);
    const o = known.find((k) => k.publicKey === key);
    if (o === undefined) throw new StackError('STACK_CHECK', `the offer names oracle key ${key}, not one of ours`);
    return o;
  });
  return { threshold: 'single' in info ? 1 : info.multi.threshold, oracles };
}

/**
 * Polls the oracles until `k` of them serve an attestation of `eventId`
 * (the others may be down or late: a k-of-n contract needs only k).
 * @returns the first `k` to answer, in the order of `oracleUrls`.
 * @throws {StackError} STACK_TIMEOUT, naming what each oracle last said.
 */
export async function waitForAttestations(oracleUrls: readonly string[], eventId: string, k: number, timeoutMs = 30_000): Promise<{ url: string; attestation: AttestationView }[]> {
  const deadline = Date.now() + timeoutMs;
  const clients = oracleUrls.map((url) => ({ url, client: new OracleClient(url, { timeoutMs: 5_000 }), last: '', attestation: undefined as AttestationView | undefined }));
  for (;;) {
    await Promise.all(
      clients.filter((c) => c.attestation === undefined).map(async (c) => {
        try {
          const a = await c.client.attestationJson(eventId);
          // This project's oracle serves every field of AttestationView with an attestation.
          if (a !== null) c.attestation = a as unknown as AttestationView;
          else c.last = 'not attested yet';
        } catch (err) {
          c.last = (err as Error).message;
        }
      }),
    );
    const done = clients.filter((c) => c.attestation !== undefined);
    if (done.length >= k) return done.slice(0, k).map((c) => ({ url: c.url, attestation: c.attestation! }));
    if (Date.now() > deadline) {
      throw new StackError('STACK_TIMEOUT', `${done.length} of the ${k} attestations of ${eventId} needed within ${timeoutMs} ms (${clients.filter((c) => c.attestation === undefined).map((c) => `${c.url}: ${c.last}`).join('; ')})`);
    }
    await sleep(100);
  }
}

/**
 * What transaction `txid` pays each party's payout script, from the node.
 * @throws {ChainError} from the node.
 */
export async function onChainPayouts(rpc: BitcoinRpc, txid: string, view: ContractView): Promise<Payouts> {
  const tx = await rpc.getRawTransaction(txid);
  const to = (spk: string | undefined): bigint =>
    tx.vout.filter((o) => spk !== undefined && o.scriptPubKey.hex === spk.toLowerCase()).reduce((s, o) => s + o.valueSats, 0n);
  return { offer: to(view.offerer.payoutSpk), accept: to(view.accepter?.payoutSpk) };
}

/** A payout as a closing transaction carries it: below the dust limit no output is made (Transactions.md). */
export function onChainValue(payout: bigint): bigint {
  return payout < DUST_LIMIT ? 0n : payout;
}

/**
 * What the payout curve gives each party at `outcome`: the contract rebuilt
 * from the terms over the offer's oracle announcement, evaluated with
 * `payoutAt`.
 * @throws {StackError} STACK_CHECK for an offer that is not a single numeric template contract; {DlcError}.
 */
export function curvePayouts(offerHex: string, terms: Record<string, unknown>, outcome: bigint): Payouts & { total: bigint } {
  const offer = decodeOfferDlc(fromHex(offerHex));
  const ci = offer.contractInfo;
  if (!('singleContractInfo' in ci)) throw new StackError('STACK_CHECK', 'not a single contract');
  const parsed = offerTermsSchema.safeParse(terms);
  if (!parsed.success) throw new StackError('STACK_CHECK', `terms do not parse: ${parsed.error.issues[0]?.message ?? ''}`);
  const template = templateFromTerms(parsed.data, ci.singleContractInfo.contractInfo.oracleInfo);
  const descriptor = template.contractDescriptor.numericOutcomeContractDescriptor;
  const total = template.totalCollateral;
  const offerPayout = payoutAt(descriptor, total, 2, outcome);
  return { offer: offerPayout, accept: total - offerPayout, total };
}

/**
 * The offer_dlc (wire hex) of a contract, from the coordinator.
 * @throws {StackError} STACK_SERVICE.
 */
export async function offerHexOf(coordinatorUrl: string, id: string): Promise<string> {
  // The offer book's copy: public in every state (a contract's other messages go only to its parties).
  const view = await orStackError(`coordinator GET /v1/offers/${id}`, new CoordinatorClient(coordinatorUrl).offer(id));
  if (view.offer === undefined) throw new StackError('STACK_SERVICE', `coordinator GET /v1/offers/${id}: no offer message`);
  return view.offer;
}
