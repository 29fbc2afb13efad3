/**
 * The participant's own record of each contract, one JSON file per contract
 * in `<wallet dir>/contracts/<offer id>.json` (mode 0600, written atomically):
 * the dlcspecs messages as wire hex, the human terms, which key index it
 * uses, our own signatures made but not yet sent, the funding PSBT, and a
 * local state with its history. With these files a participant can settle
 * or refund alone, without the coordinator (Protocol.md: whoever holds both
 * parties' adaptor signatures can complete the attested CET).
 *
 * Ids: the offer id (temporary_contract_id hex) names the file; the dlcspecs
 * contract id, once known, finds it too.
 *
 * This module does NOT hold keys (the record stores a derivation index, not
 * a key), verify messages or talk to anyone.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { WalletError } from './errors.js';
import { fsyncDirectory, writePrivateFile } from './files.js';

/** What this participant knows happened to a contract. */
export const LOCAL_STATES = [
  'offered', // we made or received an offer (not accepted yet)
  'accepted', // accept_dlc exists
  'signed', // sign_dlc exists (offerer: sent; accepter: received and verified)
  'funding-broadcast',
  'confirmed',
  'settled', // a CET confirmed or was broadcast
  'refunded',
  'closed', // cooperative close
  'cancelled',
  'failed',
  'transferred', // issue 14: our side was sold (the seller's) or moved to a new contract (the stayer's): the old funding output went into a confirmed transfer
] as const;
export type LocalState = (typeof LOCAL_STATES)[number];

const HEX = /^[0-9a-f]*$/;

const recordSchema = z.object({
  version: z.literal(1),
  /** Offer id: the offer_dlc temporary_contract_id, hex. */
  id: z.string().regex(/^[0-9a-f]{64}$/),
  role: z.enum(['offer', 'accept']),
  network: z.string(),
  /** Contract key index (keys.ts: funding and identity key). */
  keyIndex: z.number().int().nonnegative(),
  state: z.enum(LOCAL_STATES),
  history: z.array(z.object({ state: z.enum(LOCAL_STATES), at: z.string(), note: z.string().optional() })),
  coordinator: z.string().optional(),
  /** The oracle of a single-oracle contract (records from before oracle sets); see `oracles`. */
  oracle: z.string().optional(),
  /** Every oracle of the contract, in the order of its announcements: where it was asked, its key (x-only hex). */
  oracles: z.array(z.object({ url: z.string(), publicKey: z.string().regex(/^[0-9a-f]{64}$/) })).optional(),
  hashProfile: z.enum(['sha256', 'tagged']),
  /** Human terms in the coordinator's JSON form (protocol/terms). */
  terms: z.record(z.string(), z.unknown()),
  offer: z.string().regex(HEX),
  accept: z.string().regex(HEX).optional(),
  sign: z.string().regex(HEX).optional(),
  contractId: z.string().regex(HEX).optional(),
  /** Our CET adaptor signatures (n×162 bytes, hex) and refund signature, made before sign_dlc could be sent. */
  ownCetSignatures: z.string().regex(HEX).optional(),
  ownRefundSignature: z.string().regex(HEX).optional(),
  /** Base64 funding PSBT (unsigned, or with our signatures). */
  fundingPsbt: z.string().optional(),
  fundingTxid: z.string().regex(HEX).optional(),
  /** Outpoints `txid:vout` our funding inputs spend (kept out of coin selection until funding or give-up). */
  reservedOutpoints: z.array(z.string()),
  /** A cooperative close we proposed or signed. */
  close: z.object({ offerPayout: z.string(), acceptPayout: z.string(), psbt: z.string().optional() }).optional(),
  closingTxid: z.string().regex(HEX).optional(),
  /**
   * A strip's period contract (issue 12; protocol/terms `StripRef`): the strip's
   * id (period 1's offer id), its whole terms (`terms` above are this period's)
   * and the batch of funding outputs the one funding transaction carries.
   */
  strip: z.object({
    id: z.string().regex(/^[0-9a-f]{64}$/),
    terms: z.record(z.string(), z.unknown()),
    batch: z.object({
      index: z.number().int().nonnegative(),
      contracts: z.array(z.object({ fundOutputSerialId: z.string(), offerCollateral: z.string(), acceptCollateral: z.string() })),
    }),
  }).optional(),
  /**
   * Issue 14, on a contract whose side we listed for sale (the seller's): our
   * OWN record of the listing, so that `position release` checks the transfer
   * against the price and script we asked for, never the coordinator's word.
   */
  listing: z.object({
    positionId: z.string().regex(/^[0-9a-f]+$/),
    price: z.string().regex(/^\d+$/),
    sellerSpk: z.string().regex(HEX),
    released: z.boolean().optional(),
  }).optional(),
  /**
   * Issue 14, on a contract set up by a transfer (the taker's and the
   * stayer's): the position, the transfer terms (protocol/contract
   * `TransferTermsJson`: its funding is the transfer transaction) and the
   * record id of the contract it replaces (the stayer's own old record).
   */
  transfer: z.object({
    positionId: z.string().regex(/^[0-9a-f]+$/),
    terms: z.record(z.string(), z.unknown()),
    from: z.string().regex(/^[0-9a-f]{64}$/),
  }).optional(),
  /** Issue 14, on the old contract: the position and new contract that replace it (the stayer's and the seller's). */
  transferredTo: z.object({
    positionId: z.string().regex(/^[0-9a-f]+$/),
    contractId: z.string().regex(HEX).optional(),
    transferTxid: z.string().regex(HEX).optional(),
  }).optional(),
});
export type ContractRecord = z.infer<typeof recordSchema>;

/** States after which the reserved coins are free again (spent or never spent). */
const RELEASING: ReadonlySet<LocalState> = new Set(['funding-broadcast', 'confirmed', 'settled', 'refunded', 'closed', 'cancelled', 'failed', 'transferred']);

export class ContractStore {
  readonly dir: string;

  constructor(walletDir: string) {
    this.dir = join(walletDir, 'contracts');
  }

  private path(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  /**
   * Saves a record (replacing the previous version atomically).
   * @throws {WalletError} WALLET_STATE when the record is malformed.
   */
  save(record: ContractRecord): void {
    const r = recordSchema.safeParse(record);
    if (!r.success) throw new WalletError('WALLET_STATE', `contract record ${record.id} is malformed: ${r.error.message}`);
    // A new contracts directory is itself an entry of the wallet directory: flushed too.
    if (mkdirSync(this.dir, { recursive: true, mode: 0o700 }) !== undefined) fsyncDirectory(dirname(this.dir));
    writePrivateFile(this.path(record.id), `${JSON.stringify(record, null, 2)}\n`);
  }

  /**
   * The record of an offer id or contract id (full hex, or a unique prefix of at least 8).
   * @throws {WalletError} WALLET_CONTRACT_NOT_FOUND; WALLET_STATE for an unreadable file.
   */
  get(idOrPrefix: string): ContractRecord {
    const q = idOrPrefix.toLowerCase();
    const all = this.list();
    const hits = all.filter((r) => r.id === q || r.contractId === q);
    if (hits.length === 1) return hits[0]!;
    const prefix = q.length >= 8 ? all.filter((r) => r.id.startsWith(q) || (r.contractId ?? '').startsWith(q)) : [];
    if (prefix.length === 1) return prefix[0]!;
    throw new WalletError(
      'WALLET_CONTRACT_NOT_FOUND',
      prefix.length > 1 ? `contract id prefix ${idOrPrefix} is ambiguous` : `no local contract ${idOrPrefix} in ${this.dir}`,
    );
  }

  /** Whether a record exists for this offer id. */
  has(id: string): boolean {
    try {
      readFileSync(this.path(id));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Every stored record, oldest first.
   * @throws {WalletError} WALLET_STATE for an unreadable file.
   */
  list(): ContractRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => /^[0-9a-f]{64}\.json$/.test(n));
    } catch {
      return [];
    }
    const out = names.map((n) => {
      const p = join(this.dir, n);
      try {
        return recordSchema.parse(JSON.parse(readFileSync(p, 'utf8')));
      } catch (cause) {
        throw new WalletError('WALLET_STATE', `contract file ${p} is unreadable`, { cause });
      }
    });
    return out.sort((a, b) => (a.history[0]?.at ?? '').localeCompare(b.history[0]?.at ?? ''));
  }

  /** Outpoints reserved by contracts that are not yet funded or given up. */
  reservedOutpoints(): Set<string> {
    return new Set(this.reservations().keys());
  }

  /** Each reserved outpoint with the offer id of the live contract that reserves it. */
  reservations(): Map<string, string> {
    const out = new Map<string, string>();
    for (const r of this.list()) if (!RELEASING.has(r.state)) for (const o of r.reservedOutpoints) out.set(o, r.id);
    return out;
  }
}

/** A record moved to `state` (history appended) at time `at` (ISO string). */
export function withState(record: ContractRecord, state: LocalState, at: string, note?: string): ContractRecord {
  if (record.state === state) return record;
  return { ...record, state, history: [...record.history, { state, at, ...(note === undefined ? {} : { note }) }] };
}
