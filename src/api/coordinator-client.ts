/**
 * The one client of the coordinator API (src/coordinator/API.md) over
 * `JsonService`: every POST, and a party's GET, signed with the contract's
 * identity key through protocol/auth; answers checked with the schemas of
 * src/api/coordinator.ts.
 *
 * This module does NOT verify what it fetches (terms, signatures): the
 * participant does.
 */
import { JsonService } from './http.js';
import {
  anyObjectSchema,
  contractViewSchema,
  messagesSchema,
  offerListSchema,
  offerViewSchema,
  positionListSchema,
  positionMessagesSchema,
  positionViewSchema,
  stripMessagesSchema,
  stripViewSchema,
  type ContractView,
  type OfferView,
  type PositionView,
  type StripView,
} from './coordinator.js';

/** The coordinator's API (src/coordinator/API.md). */
export class CoordinatorClient {
  readonly http: JsonService;

  constructor(base: string) {
    this.http = new JsonService(base, 'coordinator');
  }

  info(): Promise<Record<string, unknown>> {
    return this.http.get('/v1/info', anyObjectSchema);
  }

  postOffer(body: { offer: string; identityPubkey: string; terms: unknown }, identityKey: Uint8Array): Promise<OfferView> {
    return this.http.post('/v1/offers', body, offerViewSchema, identityKey);
  }

  listOffers(query: Record<string, string | undefined>): Promise<{ offers: OfferView[]; next: string | null }> {
    const q = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined)).toString();
    return this.http.get(`/v1/offers${q ? `?${q}` : ''}`, offerListSchema);
  }

  offer(id: string): Promise<OfferView> {
    return this.http.get(`/v1/offers/${id}`, offerViewSchema);
  }

  accept(id: string, body: { accept: string; identityPubkey: string }, identityKey: Uint8Array): Promise<ContractView> {
    return this.http.post(`/v1/contracts/${id}/accept`, body, contractViewSchema, identityKey);
  }

  sign(id: string, body: { sign: string; fundingPsbt?: string }, identityKey: Uint8Array): Promise<ContractView> {
    return this.http.post(`/v1/contracts/${id}/sign`, body, contractViewSchema, identityKey);
  }

  fund(id: string, body: { fundingPsbt: string }, identityKey: Uint8Array): Promise<ContractView> {
    return this.http.post(`/v1/contracts/${id}/fund`, body, contractViewSchema, identityKey);
  }

  /** A close proposal and/or this party's close signature (64-byte compact, hex). */
  close(id: string, body: { offerPayout: string; acceptPayout: string; signature?: string }, identityKey: Uint8Array): Promise<ContractView> {
    return this.http.post(`/v1/contracts/${id}/close`, body, contractViewSchema, identityKey);
  }

  cancel(id: string, identityKey: Uint8Array): Promise<Record<string, unknown>> {
    return this.http.post(`/v1/contracts/${id}/cancel`, {}, anyObjectSchema, identityKey);
  }

  /** The contract's view: in full when signed by a party's identity key, else the public summary. */
  contract(id: string, identityKey?: Uint8Array): Promise<ContractView> {
    return this.http.get(`/v1/contracts/${id}`, contractViewSchema, identityKey);
  }

  /** Its wire messages: public while it is an open offer, then only to a party (signed GET). */
  messages(id: string, identityKey?: Uint8Array): Promise<{ offer: string; accept: string | null; sign: string | null }> {
    return this.http.get(`/v1/contracts/${id}/messages`, messagesSchema, identityKey);
  }

  // ---------------------------------------------------------------- strips (issue 12)

  /** `POST /v1/strips`: one offer per period, in period order, over the strip's whole terms. */
  postStrip(body: { offers: string[]; identityPubkey: string; terms: unknown }, identityKey: Uint8Array): Promise<StripView> {
    return this.http.post('/v1/strips', body, stripViewSchema, identityKey);
  }

  /** The strip's view: its periods in full when signed by a party's identity key, else public. */
  strip(id: string, identityKey?: Uint8Array): Promise<StripView> {
    return this.http.get(`/v1/strips/${id}`, stripViewSchema, identityKey);
  }

  /** Every period's wire messages: public while offered, then only to a party (signed GET). */
  stripMessages(id: string, identityKey?: Uint8Array): Promise<{ offers: string[]; accepts: string[] | null; signs: string[] | null }> {
    return this.http.get(`/v1/strips/${id}/messages`, stripMessagesSchema, identityKey);
  }

  acceptStrip(id: string, body: { accepts: string[]; identityPubkey: string }, identityKey: Uint8Array): Promise<StripView> {
    return this.http.post(`/v1/strips/${id}/accept`, body, stripViewSchema, identityKey);
  }

  signStrip(id: string, body: { signs: string[]; fundingPsbt?: string }, identityKey: Uint8Array): Promise<StripView> {
    return this.http.post(`/v1/strips/${id}/sign`, body, stripViewSchema, identityKey);
  }

  /** One PSBT funds every period. */
  fundStrip(id: string, body: { fundingPsbt: string }, identityKey: Uint8Array): Promise<StripView> {
    return this.http.post(`/v1/strips/${id}/fund`, body, stripViewSchema, identityKey);
  }

  /** Cancels every period of an unfunded strip (the answer is its StripView, API.md). */
  cancelStrip(id: string, identityKey: Uint8Array): Promise<StripView> {
    return this.http.post(`/v1/strips/${id}/cancel`, {}, stripViewSchema, identityKey);
  }

  // ---------------------------------------------------------------- positions (issue 14)

  /** `POST /v1/positions`: the seller lists its side of a live contract (signed by its identity key). */
  sellPosition(body: { contractId: string; price: string; sellerSpk: string }, identityKey: Uint8Array): Promise<PositionView> {
    return this.http.post('/v1/positions', body, positionViewSchema, identityKey);
  }

  /** The secondary book (`state` defaults to `listed` on the server). */
  positions(query: Record<string, string | undefined> = {}): Promise<{ positions: PositionView[]; next: string | null }> {
    const q = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined)).toString();
    return this.http.get(`/v1/positions${q ? `?${q}` : ''}`, positionListSchema);
  }

  /** One position: in full (transfer PSBT and terms) when signed by a party or the taker. */
  position(id: string, identityKey?: Uint8Array): Promise<PositionView> {
    return this.http.get(`/v1/positions/${id}`, positionViewSchema, identityKey);
  }

  /** The sold contract's messages (public while listed) and the new contract's (parties and taker, signed GET). */
  positionMessages(id: string, identityKey?: Uint8Array): Promise<{ contract: { offer: string; accept: string }; next?: { offer: string; accept: string; sign: string | null } | null | undefined }> {
    return this.http.get(`/v1/positions/${id}/messages`, positionMessagesSchema, identityKey);
  }

  /** The buyer's side of the new contract (its accept_dlc with every CET adaptor and refund signature). */
  takePosition(id: string, body: { accept: string; identityPubkey: string; priceSerialId: string; feeRatePerVb: string }, identityKey: Uint8Array): Promise<PositionView> {
    return this.http.post(`/v1/positions/${id}/take`, body, positionViewSchema, identityKey);
  }

  /** The stayer's consent: the new contract's sign_dlc and its signature on the transfer's old funding input. */
  consentPosition(id: string, body: { sign: string; signature: string }, identityKey: Uint8Array): Promise<PositionView> {
    return this.http.post(`/v1/positions/${id}/consent`, body, positionViewSchema, identityKey);
  }

  /** The seller's signature on the transfer's old funding input. */
  releasePosition(id: string, body: { signature: string }, identityKey: Uint8Array): Promise<PositionView> {
    return this.http.post(`/v1/positions/${id}/release`, body, positionViewSchema, identityKey);
  }

  /** The buyer's transfer PSBT with its own inputs signed. */
  fundPosition(id: string, body: { transferPsbt: string }, identityKey: Uint8Array): Promise<PositionView> {
    return this.http.post(`/v1/positions/${id}/fund`, body, positionViewSchema, identityKey);
  }

  /** The seller withdraws its listing (or a take), or the taker abandons its take, before broadcast. */
  cancelPosition(id: string, identityKey: Uint8Array): Promise<PositionView> {
    return this.http.post(`/v1/positions/${id}/cancel`, {}, positionViewSchema, identityKey);
  }
}
