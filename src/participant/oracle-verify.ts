/**
 * The oracle verification use case (`hashdlc oracle verify`, the demo, the
 * scenario tests): checks an oracle's attestation from public data and your
 * own node, trusting the oracle for nothing:
 *
 *  1. the announcement is signed by the oracle's key (protocol/messages
 *     `verifyAnnouncement`, the hash profile from `/v1/info`);
 *  2. the event id is the one its parameters give (protocol/events
 *     `eventIdFor`), so the parameters the API shows are the signed ones, and
 *     the descriptor is the one they imply;
 *  3. the attestation verifies against the announcement (`verifyAttestation`);
 *  4. the published evidence matches the parameters (including the reward
 *     rule and the network's halving interval), and protocol/hashpower
 *     `recomputeOutcome` over it gives exactly the attested digits/label;
 *  5. every block and payout of the evidence is on the node's best chain as
 *     stated (hash at height, bits, coinbase txid, reward, outputs, the
 *     spending from the declared pool address), and no payout to the
 *     delivery address (coinbase, or from a declared pool address) in the
 *     measured range's blocks (the window's, moved by the event's payout
 *     lag: issue 16) was left out.
 *
 * It takes the node as a port (`rpc`, which needs -txindex to resolve pool
 * payout inputs) rather than a `Participant`: verifying an oracle needs no
 * wallet. `verifyContractOracles` runs it for every oracle of a stored
 * contract (a K-of-n set) and says which agree on the settling outcome. The result is data (every check and whether it held); the caller
 * prints it.
 *
 * This module does NOT trust the oracle's outcome, talk to the oracle other
 * than over HTTP, hold keys, read the environment or print.
 */
import { DlcError } from '../../protocol/errors.js';
import type { HashProfile } from '../../protocol/crypto/index.js';
import { evidencePayoutBlocks, recomputeOutcome, type OutcomeEvidence } from '../../protocol/hashpower/index.js';
import {
  decodeMessage,
  encodeOracleAnnouncement,
  fromHex,
  toHex,
  verifyAnnouncement,
  verifyAttestation,
  type OracleAnnouncement,
  type OracleAttestation,
} from '../../protocol/messages/index.js';
import type { BitcoinRpc, BlockWithTxs, VerboseTx } from '../chain/index.js';
import { loadContract } from './contract.js';
import { contractOracles } from './oracle-set.js';
import type { Participant } from './participant.js';
import {
  attestedOutcome,
  eventDescriptorOf,
  eventIdFor,
  eventParamsSchema,
  evidenceFromJson,
  evidenceRewardFields,
  evidenceSpec,
  payoutFieldsMismatch,
  type EventParams,
} from '../../protocol/events/index.js';

/** One verification step and whether it held. */
export interface VerifyCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface VerifyReport {
  ok: boolean;
  eventId: string;
  /** The attested outcome (value or label), when the attestation could be read. */
  outcome: string | undefined;
  checks: VerifyCheck[];
}

export interface VerifyOptions {
  oracleUrl: string;
  eventId: string;
  /** When given (a contract's), the oracle must serve exactly this announcement of the event. */
  announcement?: OracleAnnouncement;
  rpc: BitcoinRpc;
  /** HTTP client (tests); default global fetch. */
  fetch?: typeof fetch;
}

class CheckFailed extends Error {}

async function getJson(f: typeof fetch, url: string): Promise<unknown> {
  const res = await f(url, { signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  if (!res.ok) throw new CheckFailed(`GET ${url}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as unknown;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Evidence fields that restate the event parameters must equal them. */
function evidenceMatchesParams(e: OutcomeEvidence, p: EventParams): string | undefined {
  if (e.kind !== p.kind) return `evidence kind ${e.kind}, event kind ${p.kind}`;
  if (e.window.start !== p.window.start || e.window.end !== p.window.end) return 'evidence window differs from the event window';
  if (!sameJson(e.event, evidenceSpec(p))) return 'evidence digits/precision differ from the event descriptor';
  if (e.kind !== 'pool-rewards') {
    if ((e.simulatedDifficulty ?? null) !== p.simulatedDifficulty) return 'evidence simulated difficulty differs from the event';
    // The rule (and the halving interval it derives subsidies with) is the event's, so it cannot be swapped after announcement.
    const rule = evidenceRewardFields(p);
    if (e.rewardRule !== rule.rewardRule) {
      return `evidence reward rule ${e.rewardRule ?? 'full-reward-v0'} differs from the event's ${rule.rewardRule ?? 'full-reward-v0'}`;
    }
    if (e.subsidyHalvingInterval !== rule.subsidyHalvingInterval) {
      return `evidence halving interval ${e.subsidyHalvingInterval ?? 'none'} is not ${p.network}'s ${rule.subsidyHalvingInterval ?? 'none'}`;
    }
  }
  if (e.kind !== 'hashprice') {
    if (e.deliveryAddress !== p.deliveryAddress) return 'evidence delivery address differs from the event';
    if (!sameJson([...e.poolPayoutAddresses].sort(), p.poolPayoutAddresses)) return 'evidence pool payout addresses differ from the event';
    // Issue 16: the scheme and lag (hence the measured range) are the announced event's, never another range.
    const payout = payoutFieldsMismatch(e, p);
    if (payout !== undefined) return payout;
  }
  if (e.kind === 'hashpower-delivery' && e.hashrateThs.toString() !== p.hashrateThs) return 'evidence hashrate differs from the event';
  return undefined;
}

/** Checks blocks and payouts of the evidence against the node; returns the problems. */
async function checkAgainstChain(rpc: BitcoinRpc, e: OutcomeEvidence): Promise<string[]> {
  const problems: string[] = [];
  const prevTxCache = new Map<string, VerboseTx>();
  const inputAddresses = async (tx: VerboseTx, sameBlock: Map<string, VerboseTx>): Promise<Set<string>> => {
    const out = new Set<string>();
    for (const vin of tx.vin) {
      if (vin.txid === undefined || vin.vout === undefined) continue;
      let prev = sameBlock.get(vin.txid) ?? prevTxCache.get(vin.txid);
      if (prev === undefined) {
        prev = await rpc.getRawTransaction(vin.txid);
        prevTxCache.set(vin.txid, prev);
      }
      const a = prev.vout.find((o) => o.n === vin.vout)?.scriptPubKey.address;
      if (a !== undefined) out.add(a);
    }
    return out;
  };
  const D = e.kind === 'hashprice' ? undefined : e.deliveryAddress;
  const declared = new Set(e.kind === 'hashprice' ? [] : e.poolPayoutAddresses);
  const claimed = new Map<string, bigint>();
  if (e.kind !== 'hashprice') for (const p of e.payouts) claimed.set(`${p.txid}:${p.vout}`, p.value);
  const found = new Set<string>();
  // Issue 16: with a payout lag the payouts are in the measured range's blocks, which the window's
  // overlap; every listed block is checked once, payouts only in the measured range.
  const payoutBlocks = e.kind === 'hashprice' ? [] : evidencePayoutBlocks(e);
  const payoutHeights = new Set(payoutBlocks.map((b) => b.height));
  const allBlocks = [...new Map([...e.blocks, ...payoutBlocks].map((b) => [b.height, b])).values()].sort((x, y) => x.height - y.height);

  for (const b of allBlocks) {
    const hash = await rpc.getBlockHash(b.height);
    if (hash !== b.hash) {
      problems.push(`block ${b.height}: the node's best chain has ${hash}, the evidence ${b.hash}`);
      continue;
    }
    const block: BlockWithTxs = await rpc.getBlockWithTxs(hash);
    const cb = block.tx[0]!;
    if (block.bits !== b.bits) problems.push(`block ${b.height}: bits ${block.bits}, evidence ${b.bits}`);
    if (cb.txid !== b.coinbaseTxid) problems.push(`block ${b.height}: coinbase ${cb.txid}, evidence ${b.coinbaseTxid}`);
    const reward = cb.vout.reduce((s, o) => s + o.valueSats, 0n);
    if (reward !== b.reward) problems.push(`block ${b.height}: reward ${reward}, evidence ${b.reward}`);
    if (D === undefined || !payoutHeights.has(b.height)) continue;
    const byTxid = new Map(block.tx.map((t) => [t.txid, t]));
    // Every output to D in this block: coinbase always counts; others when spending from a declared address.
    for (let i = 0; i < block.tx.length; i++) {
      const tx = block.tx[i]!;
      const toD = tx.vout.filter((o) => o.scriptPubKey.address === D && o.valueSats > 0n);
      if (toD.length === 0) continue;
      let counts = i === 0;
      let from: Set<string> | undefined;
      if (!counts && declared.size > 0) {
        from = await inputAddresses(tx, byTxid);
        counts = [...from].some((a) => declared.has(a));
      }
      for (const o of toD) {
        const key = `${tx.txid}:${o.n}`;
        const value = claimed.get(key);
        if (!counts) {
          if (value !== undefined) problems.push(`payout ${key}: not from the coinbase nor from a declared pool payout address`);
          continue;
        }
        if (value === undefined) problems.push(`payout ${key} (${o.valueSats} sats to D in block ${b.height}) is missing from the evidence`);
        else if (value !== o.valueSats) problems.push(`payout ${key}: ${o.valueSats} sats on chain, evidence ${value}`);
        found.add(key);
      }
    }
    if (e.kind !== 'hashprice') {
      for (const p of e.payouts) {
        if (p.height !== b.height) continue;
        if (p.source === 'pool-payout' && p.fromAddress !== undefined) {
          const tx = byTxid.get(p.txid);
          if (tx !== undefined && !(await inputAddresses(tx, byTxid)).has(p.fromAddress)) {
            problems.push(`payout ${p.txid}:${p.vout}: does not spend from ${p.fromAddress}`);
          }
        }
      }
    }
  }
  for (const key of claimed.keys()) if (!found.has(key) && !problems.some((p) => p.includes(key))) problems.push(`payout ${key} is not in the stated block`);
  return problems;
}

/**
 * Verifies an oracle event's attestation end to end (see the module header).
 * Never throws for a bad oracle answer: every problem is a failed check.
 */
export async function verifyOracleEvent(options: VerifyOptions): Promise<VerifyReport> {
  const f = options.fetch ?? fetch;
  const base = options.oracleUrl.replace(/\/+$/, '');
  const checks: VerifyCheck[] = [];
  const report: VerifyReport = { ok: false, eventId: options.eventId, outcome: undefined, checks };
  const check = (name: string, ok: boolean, detail: string): boolean => {
    checks.push({ name, ok, detail });
    return ok;
  };
  const attempt = async (name: string, fn: () => Promise<string> | string): Promise<boolean> => {
    try {
      return check(name, true, await fn());
    } catch (err) {
      const detail = err instanceof DlcError ? `${err.code} (${err.reason ?? ''}): ${err.message}` : err instanceof Error ? err.message : String(err);
      return check(name, false, detail);
    }
  };

  let profile: HashProfile = 'sha256';
  let publicKey = '';
  let params: EventParams | undefined;
  let ann: OracleAnnouncement | undefined;
  let att: OracleAttestation | undefined;
  let evidence: OutcomeEvidence | undefined;
  const idPath = encodeURIComponent(options.eventId);

  const fetched = await attempt('fetch', async () => {
    const info = (await getJson(f, `${base}/v1/info`)) as { publicKey?: unknown; hashProfile?: unknown };
    if (info.hashProfile !== 'sha256' && info.hashProfile !== 'tagged') throw new CheckFailed('oracle info has no valid hashProfile');
    if (typeof info.publicKey !== 'string' || !/^[0-9a-f]{64}$/.test(info.publicKey)) throw new CheckFailed('oracle info has no valid publicKey');
    profile = info.hashProfile;
    publicKey = info.publicKey;
    const ev = (await getJson(f, `${base}/v1/events/${idPath}`)) as { params?: unknown; announcement?: { hex?: unknown } };
    params = eventParamsSchema.parse(ev.params) as EventParams;
    const annMsg = decodeMessage(fromHex(String(ev.announcement?.hex)));
    if (annMsg.type !== 'oracle_announcement') throw new CheckFailed('announcement.hex is not an oracle_announcement');
    ann = annMsg.message;
    const a = (await getJson(f, `${base}/v1/events/${idPath}/attestation`)) as { hex?: unknown; evidence?: unknown };
    const attMsg = decodeMessage(fromHex(String(a.hex)));
    if (attMsg.type !== 'oracle_attestation') throw new CheckFailed('attestation hex is not an oracle_attestation');
    att = attMsg.message;
    evidence = evidenceFromJson(a.evidence);
    return `oracle ${publicKey} (${profile})`;
  });
  if (!fetched || params === undefined || ann === undefined || att === undefined || evidence === undefined) return report;
  const p: EventParams = params;
  const announcement: OracleAnnouncement = ann;
  const attestation: OracleAttestation = att;
  const ev: OutcomeEvidence = evidence;

  await attempt('announcement signature', () => {
    if (toHex(announcement.oraclePublicKey) !== publicKey) throw new CheckFailed('announcement is signed by another key than the oracle states');
    verifyAnnouncement(announcement, profile);
    return 'BIP340 signature over the oracle event verifies';
  });
  const expected = options.announcement;
  if (expected !== undefined) {
    await attempt("announcement is the contract's", () => {
      if (toHex(encodeOracleAnnouncement(announcement)) !== toHex(encodeOracleAnnouncement(expected))) {
        throw new CheckFailed(`the oracle serves another announcement of ${options.eventId} than the contract's (key ${toHex(expected.oraclePublicKey)})`);
      }
      return `the contract's announcement by ${toHex(expected.oraclePublicKey)}`;
    });
  }
  await attempt('event id binds the parameters', () => {
    const id = eventIdFor(p);
    if (id !== options.eventId || announcement.oracleEvent.eventId !== id) {
      throw new CheckFailed(`parameters give event id ${id}, announced ${announcement.oracleEvent.eventId}`);
    }
    if (!sameJson(eventDescriptorOf(p), announcement.oracleEvent.eventDescriptor)) throw new CheckFailed('announced descriptor differs from the parameters');
    return id;
  });
  await attempt('attestation signatures', () => {
    verifyAttestation(attestation, announcement, profile);
    return `${attestation.signatures.length} signature(s) with the announced nonces`;
  });
  await attempt('outcome recomputed from evidence', () => {
    const mismatch = evidenceMatchesParams(ev, p);
    if (mismatch !== undefined) throw new CheckFailed(mismatch);
    const r = recomputeOutcome(ev);
    const expected = attestedOutcome(p, r);
    report.outcome = expected.outcome;
    if (!sameJson(expected.signed, attestation.outcomes)) {
      throw new CheckFailed(`evidence gives ${expected.outcome}, the oracle attested ${attestation.outcomes.join('')}`);
    }
    const counted = r.rewardRule === null ? '' : `, counted ${r.countedReward} sats under ${r.rewardRule}${r.feeCap === null ? '' : ` (fee cap ${r.feeCap} sats)`}`;
    return `outcome ${expected.outcome} (pool rewards ${r.poolRewards} sats, network reward ${r.networkReward} sats${counted}${r.capped ? ', capped' : ''}${r.noNetworkReward ? ', no-network-reward rule' : ''})`;
  });
  await attempt('evidence against the node', async () => {
    const problems = await checkAgainstChain(options.rpc, ev);
    if (problems.length > 0) throw new CheckFailed(problems.slice(0, 10).join('; ') + (problems.length > 10 ? ` (+${problems.length - 10} more)` : ''));
    return `${ev.blocks.length} block(s)${ev.kind === 'hashprice' ? '' : `, ${ev.payouts.length} payout(s), none missing`} match the best chain`;
  });
  report.ok = checks.every((c) => c.ok);
  return report;
}

// ------------------------------------------------------------------ a contract's oracle set

/** One oracle of a contract, verified. */
export interface ContractOracleVerdict {
  url: string | undefined;
  publicKey: string;
  /** The outcome its evidence recomputes to (when it could be read). */
  outcome: string | undefined;
  /** Every check of `verifyOracleEvent` held (and it serves the contract's announcement). */
  verified: boolean;
  /** Verified and attested the outcome K verified oracles agree on: true; attested another or failed a check: false; no attestation: null. */
  agreed: boolean | null;
  checks: VerifyCheck[];
}

export interface ContractOraclesReport {
  id: string;
  eventId: string;
  threshold: number;
  /** The outcome most verified oracles attest, when at least K do: the one that settles the contract. */
  outcome: string | undefined;
  /** At least K oracles verify and agree. */
  ok: boolean;
  oracles: ContractOracleVerdict[];
}

/**
 * `hashdlc oracle verify <contract-id>`: `verifyOracleEvent` for every
 * oracle of a stored contract (where to ask each: a configured oracle with
 * its key, else the URL stored with the contract), each against the
 * contract's own announcement, then which of them agree on the outcome that
 * settles (or would settle) it.
 * @throws {WalletError} WALLET_CONTRACT_NOT_FOUND; {ParticipantError} MISMATCH (`disjoint-contract`), CONFIG (no node).
 */
export async function verifyContractOracles(p: Participant, id: string): Promise<ContractOraclesReport> {
  const c = loadContract(p.wallet(), id);
  const { threshold, announcements, keys, urls } = await contractOracles(p, c);
  const rpc = await p.rpc();
  const eventId = announcements[0]!.oracleEvent.eventId;
  const reports = await Promise.all(
    announcements.map(async (announcement, i): Promise<VerifyReport | undefined> =>
      urls[i] === undefined ? undefined : verifyOracleEvent({ oracleUrl: urls[i], eventId: announcement.oracleEvent.eventId, announcement, rpc }),
    ),
  );
  // The outcome the most verified oracles attest; it settles the contract when K of them do.
  const votes = new Map<string, number>();
  for (const r of reports) if (r?.ok === true && r.outcome !== undefined) votes.set(r.outcome, (votes.get(r.outcome) ?? 0) + 1);
  const [top] = [...votes.entries()].sort((a, b) => b[1] - a[1]);
  const outcome = top !== undefined && top[1] >= threshold ? top[0] : undefined;
  const oracles = reports.map((r, i): ContractOracleVerdict => {
    const attested = r !== undefined && r.checks.some((ch) => ch.name === 'attestation signatures' && ch.ok);
    return {
      url: urls[i],
      publicKey: keys[i]!,
      outcome: r?.outcome,
      verified: r?.ok === true,
      agreed: !attested ? null : r.ok && outcome !== undefined && r.outcome === outcome,
      checks: r?.checks ?? [{ name: 'fetch', ok: false, detail: `no URL for oracle ${keys[i]!}: pass --oracle URL` }],
    };
  });
  return { id: c.record.id, eventId, threshold, outcome, ok: outcome !== undefined, oracles };
}
