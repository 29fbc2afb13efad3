/**
 * Decoded messages and derived transactions of a stored contract, with a small
 * in-memory cache: the full `setupContract` (every CET sighash and adaptor
 * point) is costly for thousands of CETs and is needed at accept, sign and
 * settlement; the funding transaction and closing context are cheap and
 * derived on demand.
 *
 * This module does NOT write to the store or verify signatures.
 */
import type { ContractSetup } from '../../protocol/contract/index.js';
import { setupContract, transferTermsFromJson } from '../../protocol/contract/index.js';
import type { HashProfile } from '../../protocol/crypto/index.js';
import type { AcceptDlc, OfferDlc, OracleInfo, SignDlc } from '../../protocol/messages/index.js';
import { decodeAcceptDlc, decodeOfferDlc, decodeSignDlc } from '../../protocol/messages/index.js';
import type { TemplateResult } from '../../protocol/templates/index.js';
import type { ClosingContext, FundingBuildOptions, FundingTransaction, TransferTerms } from '../../protocol/tx/index.js';
import { buildFundingTransaction, buildTransferTransaction, closingContext } from '../../protocol/tx/index.js';
import type { ContractRecord } from './lifecycle.js';
import type { ContractStore } from './store.js';
import { contractFundingOptions, templateFromTerms } from '../../protocol/terms/index.js';

/** A contract's messages, decoded, and what every step derives from them. */
export interface ContractMessages {
  offer: OfferDlc;
  accept: AcceptDlc | undefined;
  sign: SignDlc | undefined;
  template: TemplateResult;
  /** Its funding transaction's options: the template's extra outputs, or a strip period's (strip outputs, batch), or a transfer's terms. */
  fundingOptions: ContractFundingOptions;
}

/**
 * How a contract's funding transaction is built: from offer + accept with the
 * template's or strip's options, or (issue 14, the new contract of a transfer)
 * as the transfer transaction of `transfer` terms.
 */
export type ContractFundingOptions = FundingBuildOptions & { transfer?: TransferTerms };

/** The funding transaction of a contract: its transfer transaction when it was transferred to, else the ordinary one. */
export function buildContractFunding(offer: OfferDlc, accept: AcceptDlc, options: ContractFundingOptions): FundingTransaction {
  const { transfer, ...rest } = options;
  return transfer === undefined ? buildFundingTransaction(offer, accept, rest) : buildTransferTransaction(offer, accept, transfer);
}

/** The oracle info of a stored (single-contract) offer. @throws {TypeError} for a disjoint contract info. */
export function oracleInfoOf(offer: OfferDlc): OracleInfo {
  const ci = offer.contractInfo;
  if (!('singleContractInfo' in ci)) throw new TypeError('stored offers are single contracts');
  return ci.singleContractInfo.contractInfo.oracleInfo;
}

/** States in which a contract may lack a stored sign_dlc (the offerer never signed it). */
const UNSIGNED_STATES: ReadonlySet<ContractRecord['state']> = new Set(['offered', 'accepted', 'cancelled', 'expired', 'failed']);

/**
 * Whether cached messages hold what the record says was stored: another
 * replica on the same database (issue 13) may have stored the accept or the
 * sign since this process cached the contract.
 */
function cacheFits(m: ContractMessages, rec: ContractRecord): boolean {
  if (!('accepter' in rec) || rec.accepter === undefined) return true;
  return m.accept !== undefined && (m.sign !== undefined || UNSIGNED_STATES.has(rec.state));
}

/**
 * Per-contract derived data, cached by id (a few entries: the cache exists to
 * avoid recomputing set-ups between the steps of one contract, not to hold
 * the book in memory).
 */
export class ContractDataCache {
  readonly #store: ContractStore;
  readonly #hashProfile: HashProfile;
  readonly #max: number;
  readonly #messages = new Map<string, ContractMessages>();
  readonly #setups = new Map<string, ContractSetup>();

  constructor(store: ContractStore, hashProfile: HashProfile, maxEntries = 8) {
    this.#store = store;
    this.#hashProfile = hashProfile;
    this.#max = maxEntries;
  }

  get hashProfile(): HashProfile {
    return this.#hashProfile;
  }

  #remember<V>(map: Map<string, V>, id: string, v: V): V {
    map.delete(id);
    map.set(id, v);
    while (map.size > this.#max) map.delete(map.keys().next().value!);
    return v;
  }

  /** Forget a contract (after a transition that added messages). */
  invalidate(id: string): void {
    this.#messages.delete(id);
  }

  /** The stored messages of a record, decoded, and its template result. */
  async messages(rec: ContractRecord): Promise<ContractMessages> {
    const cached = this.#messages.get(rec.id);
    if (cached !== undefined && cacheFits(cached, rec)) return cached;
    const raw = await this.#store.messages(rec.id);
    if (raw.offer === undefined) throw new Error(`contract ${rec.id} has no stored offer`);
    const offer = decodeOfferDlc(raw.offer);
    const template = templateFromTerms(rec.terms, oracleInfoOf(offer));
    const m: ContractMessages = {
      offer,
      accept: raw.accept === undefined ? undefined : decodeAcceptDlc(raw.accept),
      sign: raw.sign === undefined ? undefined : decodeSignDlc(raw.sign),
      template,
      fundingOptions: rec.transfer === undefined ? contractFundingOptions(template, rec.strip) : { transfer: transferTermsFromJson(rec.transfer.terms) },
    };
    return this.#remember(this.#messages, rec.id, m);
  }

  /** Put freshly verified messages in the cache (avoids decoding what was just decoded). */
  put(id: string, m: ContractMessages): void {
    this.#remember(this.#messages, id, m);
  }

  /** The full set-up (cached). */
  setup(id: string, offer: OfferDlc, accept: AcceptDlc, fundingOptions: ContractFundingOptions): ContractSetup {
    const cached = this.#setups.get(id);
    if (cached !== undefined && cached.accept === accept) return cached;
    const { transfer, ...rest } = fundingOptions;
    const setup = transfer === undefined
      ? setupContract(offer, accept, { hashProfile: this.#hashProfile, ...rest })
      : setupContract(offer, accept, { hashProfile: this.#hashProfile, funding: buildTransferTransaction(offer, accept, transfer) });
    return this.#remember(this.#setups, id, setup);
  }

  /** Cached set-up if present, with any accept object. */
  cachedSetup(id: string): ContractSetup | undefined {
    return this.#setups.get(id);
  }
}

/** The funding transaction and closing context (cheap: no CETs). */
export function fundingOf(m: { offer: OfferDlc; accept: AcceptDlc; fundingOptions: ContractFundingOptions }): { funding: FundingTransaction; closing: ClosingContext } {
  const funding = buildContractFunding(m.offer, m.accept, m.fundingOptions);
  return { funding, closing: closingContext(m.offer, m.accept, funding) };
}
