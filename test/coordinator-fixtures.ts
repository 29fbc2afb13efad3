/**
 * Test fixtures of the coordinator tests (not a test file):
 * - `startTestOracle`: a tiny in-test HTTP server answering the oracle API
 *   (oracle/API.md v1: /v1/info, /v1/events/:id, /v1/events/:id/attestation)
 *   with announcements and attestations made by protocol/crypto through
 *   test/helpers/dlc-fixture.ts `testOracle`. Scoped to tests: the real
 *   oracle service lives in oracle/.
 * - `FakeChain`: the node calls the coordinator makes (`ChainPort`), in memory,
 *   for HTTP-level unit tests without a node (regtest tests use a real one).
 * - `saleParties`: a hashpower sale between two fixture parties: terms JSON,
 *   offer_dlc, accept_dlc, sign_dlc and signed funding PSBTs, built with
 *   protocol/contract's flow builders.
 * - `api`: a client that signs requests with protocol/auth.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Block, Psbt, Transaction } from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';
import { signRequest } from '../protocol/auth/index.js';
import {
  buildAccept,
  buildAcceptAsync,
  buildOffer,
  buildSign,
  buildSignAsync,
  type CetSigner,
  type CetVerifier,
  defaultFundingDeadline,
  defaultLocktimes,
  fundingPsbtOf,
  type ContractSetup,
} from '../protocol/contract/index.js';
import { xOnlyPublicKey } from '../protocol/crypto/index.js';
import type { AcceptDlc, FundingInput, OfferDlc, OracleAnnouncement, OracleAttestation, OracleInfo, SignDlc } from '../protocol/messages/index.js';
import { encodeAcceptDlc, encodeMessage, encodeOfferDlc, encodeSignDlc, fromHex, toHex } from '../protocol/messages/index.js';
import { hashpowerSale, type TemplateResult } from '../protocol/templates/index.js';
import { extractFundingSignatures, type FundingTransaction } from '../protocol/tx/index.js';
import { ChainError } from '../src/chain/index.js';
import type { ChainPort, CoordinatorConfigInput } from '../src/coordinator/index.js';
import { batchToJson, checkStripOffersAgainstTerms, contractFundingOptions, offerTermsSchema, periodTermsOf, templateFromTerms, type OfferTerms } from '../protocol/terms/index.js';
import { REGTEST_CHAIN_HASH, fundingInput, p2wpkhScriptPubkey, publicKey, testOracle, testSecret, type TestOracle } from './helpers/dlc-fixture.js';

// ------------------------------------------------------------------ oracle

export interface TestOracleServer {
  url: string;
  oracle: TestOracle;
  /** Publish an announcement (served at /v1/events/:id). */
  publish(ann: OracleAnnouncement): void;
  /** Publish an attestation of `eventId` with the numeric outcome. */
  attest(eventId: string, outcome: bigint, nbDigits: number): OracleAttestation;
  close(): Promise<void>;
}

/** An oracle HTTP server for tests (see the module header). */
export async function startTestOracle(
  label: string,
  opts: { hashProfile?: 'sha256' | 'tagged'; events?: Map<string, OracleAnnouncement> } = {},
): Promise<TestOracleServer> {
  const oracle = testOracle(label, opts.hashProfile ?? 'sha256');
  // Announcements may be published before the server starts (tests build parties at collection time).
  const events = opts.events ?? new Map<string, OracleAnnouncement>();
  const attestations = new Map<string, { att: OracleAttestation; outcome: string }>();
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/v1/info') return send(200, { publicKey: toHex(oracle.publicKey), hashProfile: oracle.profile, network: 'regtest' });
    const m = /^\/v1\/events\/([^/]+)(\/attestation)?$/.exec(path);
    if (m === null) return send(404, { error: { code: 'NOT_FOUND', message: 'no route' } });
    const id = decodeURIComponent(m[1]!);
    const ann = events.get(id);
    if (ann === undefined) return send(404, { error: { code: 'NOT_FOUND', message: 'unknown event' } });
    if (m[2] === undefined) {
      return send(200, {
        eventId: id, state: attestations.has(id) ? 'attested' : 'announced',
        announcement: { hex: toHex(encodeMessage({ type: 'oracle_announcement', message: ann })) },
      });
    }
    const a = attestations.get(id);
    if (a === undefined) return send(404, { error: { code: 'NOT_ATTESTED', message: 'not yet' } });
    return send(200, { eventId: id, outcome: a.outcome, hex: toHex(encodeMessage({ type: 'oracle_attestation', message: a.att })) });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    oracle,
    publish(ann) {
      events.set(ann.oracleEvent.eventId, ann);
    },
    attest(eventId, outcome, nbDigits) {
      const att = oracle.attestNumeric(eventId, outcome, nbDigits);
      attestations.set(eventId, { att, outcome: String(outcome) });
      return att;
    },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/**
 * A coordinator's configuration over the in-memory chain (no node at that RPC
 * URL): one in-thread engine and limits small enough for a 2 MB body (the
 * body limit must carry what the CET, input and prevTx limits allow).
 */
export function fakeChainCoordinatorConfig(dataDir: string, oracleUrl: string | readonly string[]): CoordinatorConfigInput {
  return {
    dataDir,
    port: 0,
    rpc: { url: 'http://127.0.0.1:1/', username: 'u', password: 'p' },
    oracles: typeof oracleUrl === 'string' ? [oracleUrl] : [...oracleUrl],
    limits: { maxBodyBytes: 2_000_000, maxAdaptorSignatures: 4000, maxFundingInputs: 5, maxPrevTxBytes: 20_000 },
    watcher: { attestationPollIntervalMs: 1 },
    engineThreads: 1,
  };
}

// ------------------------------------------------------------------ chain

const notFound = (method: string): ChainError => new ChainError('CHAIN_NOT_FOUND', method, `${method}: not found`, { rpcCode: -5 });
const blockHash = (h: number): string => h.toString(16).padStart(64, '0');

/** The node in memory: every outpoint unspent unless marked, every transaction test-accepted unless told. */
export class FakeChain implements ChainPort {
  /** Below the fixture sale's window (1000) and funding deadline (998): offers are still open. */
  height = 990;
  readonly spent = new Set<string>();
  readonly sent: string[] = [];
  /** txid → height of the block that confirmed it. */
  readonly confirmed = new Map<string, number>();
  rejectReason: string | null = null;
  /** Reasons sendRawTransaction fails with, by txid (e.g. non-final). */
  readonly sendFailures = new Map<string, ChainError>();

  getBlockCount(): Promise<number> {
    return Promise.resolve(this.height);
  }

  getBlockHash(h: number): Promise<string> {
    if (h > this.height) return Promise.reject(new ChainError('CHAIN_RPC', 'getblockhash', 'out of range', { rpcCode: -8 }));
    return Promise.resolve(blockHash(h));
  }

  getBlockHeader(hash: string): Promise<never> {
    return Promise.resolve({ hash, height: parseInt(hash, 16), confirmations: 1 } as never);
  }

  /** Transactions mined at a height besides the dummy coinbase (e.g. a CET someone else broadcast). */
  readonly blockTxs = new Map<number, Transaction[]>();

  getBlockHex(hash: string): Promise<string> {
    const height = parseInt(hash, 16);
    const coinbase = new Transaction();
    coinbase.addInput(new Uint8Array(32), 0xffffffff, 0xffffffff, Uint8Array.from([1, height & 0xff]));
    coinbase.addOutput(Uint8Array.from([0x51]), 0n);
    const block = new Block();
    block.version = 4;
    block.prevHash = fromHex(blockHash(Math.max(0, height - 1))).reverse();
    block.timestamp = 1_700_000_000 + height;
    block.bits = 0x207fffff;
    block.nonce = 0;
    block.transactions = [coinbase, ...(this.blockTxs.get(height) ?? [])];
    block.merkleRoot = Block.calculateMerkleRoot(block.transactions);
    return Promise.resolve(block.toHex());
  }

  getTxOut(txid: string, vout: number): Promise<never> {
    if (this.spent.has(`${txid}:${vout}`)) return Promise.resolve(null as never);
    return Promise.resolve({ bestblock: blockHash(this.height), confirmations: 1, valueSats: 0n, scriptPubKey: { asm: '', hex: '', type: '' }, coinbase: false } as never);
  }

  getRawTransaction(txid: string): Promise<never> {
    const h = this.confirmed.get(txid);
    const inMempool = this.sent.some((hex) => Transaction.fromHex(hex).getId() === txid);
    if (h === undefined && !inMempool) return Promise.reject(notFound('getrawtransaction'));
    return Promise.resolve((h === undefined ? { txid } : { txid, blockhash: blockHash(h), confirmations: this.height - h + 1 }) as never);
  }

  testMempoolAccept(raw: string[]): Promise<never> {
    return Promise.resolve(raw.map((hex) => ({
      txid: Transaction.fromHex(hex).getId(),
      allowed: this.rejectReason === null,
      rejectReason: this.rejectReason ?? undefined,
    })) as never);
  }

  sendRawTransaction(hex: string): Promise<string> {
    const txid = Transaction.fromHex(hex).getId();
    const failure = this.sendFailures.get(txid);
    if (failure !== undefined) return Promise.reject(failure);
    if (!this.sent.includes(hex)) this.sent.push(hex);
    return Promise.resolve(txid);
  }
}

// ------------------------------------------------------------------ parties

/** A bitcoinjs signer over tiny-secp256k1. */
export function keySigner(secret: Uint8Array) {
  return { publicKey: publicKey(secret), sign: (hash: Uint8Array) => ecc.sign(hash, secret) };
}

export interface SaleParties {
  label: string;
  eventId: string;
  announcement: OracleAnnouncement;
  template: TemplateResult;
  terms: OfferTerms;
  offer: OfferDlc;
  offerHex: string;
  offerIdentity: Uint8Array;
  acceptIdentity: Uint8Array;
  offerKey: Uint8Array;
  acceptKey: Uint8Array;
  offerUtxoKey: Uint8Array;
  acceptUtxoKey: Uint8Array;
  window: { start: number; end: number };
  /** Builds (and caches) the accept, its set-up, the sign and the PSBTs. */
  accept(): { accept: AcceptDlc; acceptHex: string; setup: ContractSetup };
  sign(): { sign: SignDlc; signHex: string };
  /** The same, with the adaptor signatures made (and checked) by a worker pool. */
  acceptAsync(signer: CetSigner): Promise<{ accept: AcceptDlc; acceptHex: string; setup: ContractSetup }>;
  signAsync(engine: { signer: CetSigner; verifier: CetVerifier }): Promise<{ sign: SignDlc; signHex: string }>;
  /** The funding PSBT with `party`'s inputs signed by its wallet (base64). */
  signedFundingPsbt(party: 'offer' | 'accept'): string;
}

/** Party inputs from given funding inputs (e.g. real UTXOs on regtest) or synthetic ones. */
export interface SaleOptions {
  label: string;
  /** A fixture oracle announcing a fresh event, or a given announcement (e.g. the oracle service's). */
  oracle?: TestOracle;
  announcement?: OracleAnnouncement;
  /** The contract's oracle info (e.g. a K-of-n set); `announcement` then defaults to its first. */
  oracleInfo?: OracleInfo;
  deliveryAddress?: string;
  window?: { start: number; end: number };
  offerInputs?: FundingInput[];
  acceptInputs?: FundingInput[];
  offerUtxoKey?: Uint8Array;
  acceptUtxoKey?: Uint8Array;
  payoutSpks?: { offer: Uint8Array; accept: Uint8Array };
  locktimes?: { cetLocktime: number; refundLocktime: number };
  escrow?: bigint;
  minerCollateral?: bigint;
  upfront?: bigint;
  roundingMod?: bigint;
  feeRatePerVb?: bigint;
  /** Where the upfront payment goes (default: a fixture key). */
  upfrontScript?: Uint8Array;
  /** The terms' funding deadline (default: protocol/contract `defaultFundingDeadline` of the window start). */
  fundingDeadline?: number;
}

/** A hashpower sale between two fixture parties (see the module header). */
export function saleParties(o: SaleOptions): SaleParties {
  const label = o.label;
  const window = o.window ?? { start: 1000, end: 1100 };
  const firstOfInfo = o.oracleInfo === undefined ? undefined : 'single' in o.oracleInfo ? o.oracleInfo.single.oracleAnnouncement : o.oracleInfo.multi.oracleAnnouncements[0];
  const announcement = o.announcement ?? firstOfInfo ?? o.oracle!.announce(`hashpower-delivery/${window.start}-${window.end}/100ths/${label}`, 14);
  const eventId = announcement.oracleEvent.eventId;
  // One delivery address per sale: the coordinator refuses two live sales measuring one address over one window.
  const deliveryAddress = o.deliveryAddress ?? `bcrt1qdelivery-${label}`;
  const upfrontScript = o.upfrontScript ?? p2wpkhScriptPubkey(publicKey(testSecret(`${label}:upfront`)));
  const upfront = o.upfront ?? 50_000n;
  const escrow = o.escrow ?? 400_000n;
  const minerCollateral = o.minerCollateral ?? 200_000n;
  const template = hashpowerSale({
    hashrateThs: 100n,
    window,
    deliveryAddress,
    upfront,
    escrow,
    minerCollateral,
    toleranceBps: 9500,
    upfrontScript,
    upfrontSerialId: 77n,
    ...(o.roundingMod !== undefined ? { roundingMod: o.roundingMod } : {}),
    oracleInfo: o.oracleInfo ?? { single: { oracleAnnouncement: announcement } },
  });
  const terms: OfferTerms = {
    template: 'hashpower-sale',
    hashrateThs: '100',
    window,
    deliveryAddress,
    upfront: String(upfront),
    escrow: String(escrow),
    minerCollateral: String(minerCollateral),
    toleranceBps: 9500,
    upfrontScript: toHex(upfrontScript),
    upfrontSerialId: '77',
    ...(o.roundingMod !== undefined ? { roundingMod: String(o.roundingMod) } : {}),
    fundingDeadline: o.fundingDeadline ?? defaultFundingDeadline(window.start, 'regtest'),
  };
  const offerKey = testSecret(`${label}:offer-funding`);
  const acceptKey = testSecret(`${label}:accept-funding`);
  const offerUtxoKey = o.offerUtxoKey ?? testSecret(`${label}:offer-utxo`);
  const acceptUtxoKey = o.acceptUtxoKey ?? testSecret(`${label}:accept-utxo`);
  const wide = (i: FundingInput): FundingInput => ({ ...i, maxWitnessLen: 108 });
  const offer = buildOffer({
    contract: template,
    temporaryContractId: testSecret(`${label}:temp-id`),
    chainHash: REGTEST_CHAIN_HASH,
    fundingPubkey: publicKey(offerKey),
    fundingInputs: o.offerInputs ?? [wide(fundingInput(offerUtxoKey, minerCollateral + 100_000n, 5n, `${label}:o`))],
    payoutSpk: o.payoutSpks?.offer ?? p2wpkhScriptPubkey(publicKey(testSecret(`${label}:offer-payout`))),
    changeSpk: p2wpkhScriptPubkey(publicKey(testSecret(`${label}:offer-change`))),
    payoutSerialId: 1n,
    changeSerialId: 2n,
    fundOutputSerialId: 3n,
    feeRatePerVb: o.feeRatePerVb ?? 2n,
    ...(o.locktimes ?? defaultLocktimes(window.end, 'regtest')),
  });
  const acceptParams = () => ({
    fundingSecretKey: acceptKey,
    fundingInputs: o.acceptInputs ?? [wide(fundingInput(acceptUtxoKey, upfront + escrow + 100_000n, 6n, `${label}:a`))],
    payoutSpk: o.payoutSpks?.accept ?? p2wpkhScriptPubkey(publicKey(testSecret(`${label}:accept-payout`))),
    changeSpk: p2wpkhScriptPubkey(publicKey(testSecret(`${label}:accept-change`))),
    payoutSerialId: 11n,
    changeSerialId: 12n,
    extraOutputs: template.extraOutputs,
  });
  const signParams = () => ({
    fundingSecretKey: offerKey,
    extraOutputs: template.extraOutputs,
    fundingSignatures: (setup: ContractSetup) => extractFundingSignatures(walletSigns(setup.funding, offerUtxoKey, 'offer'), setup.funding, 'offer'),
  });
  let accepted: ReturnType<SaleParties['accept']> | undefined;
  let signed: ReturnType<SaleParties['sign']> | undefined;
  const parties: SaleParties = {
    label,
    eventId,
    announcement,
    template,
    terms,
    offer,
    offerHex: toHex(encodeOfferDlc(offer)),
    offerIdentity: testSecret(`${label}:offer-identity`),
    acceptIdentity: testSecret(`${label}:accept-identity`),
    offerKey,
    acceptKey,
    offerUtxoKey,
    acceptUtxoKey,
    window,
    accept() {
      if (accepted !== undefined) return accepted;
      const built = buildAccept(offer, acceptParams());
      accepted = { accept: built.accept, acceptHex: toHex(encodeAcceptDlc(built.accept)), setup: built.setup };
      return accepted;
    },
    sign() {
      if (signed !== undefined) return signed;
      const built = buildSign(offer, parties.accept().accept, signParams());
      signed = { sign: built.sign, signHex: toHex(encodeSignDlc(built.sign)) };
      return signed;
    },
    async acceptAsync(signer) {
      if (accepted !== undefined) return accepted;
      const built = await buildAcceptAsync(offer, acceptParams(), signer);
      accepted = { accept: built.accept, acceptHex: toHex(encodeAcceptDlc(built.accept)), setup: built.setup };
      return accepted;
    },
    async signAsync(engine) {
      if (signed !== undefined) return signed;
      const built = await buildSignAsync(offer, (await parties.acceptAsync(engine.signer)).accept, signParams(), engine);
      signed = { sign: built.sign, signHex: toHex(encodeSignDlc(built.sign)) };
      return signed;
    },
    signedFundingPsbt(party) {
      const { setup } = parties.accept();
      return walletSigns(setup.funding, party === 'offer' ? offerUtxoKey : acceptUtxoKey, party).toBase64();
    },
  };
  return parties;
}

function walletSigns(funding: FundingTransaction, secret: Uint8Array, party: 'offer' | 'accept'): Psbt {
  const psbt = fundingPsbtOf({ funding } as ContractSetup);
  funding.inputs.forEach((input, i) => {
    if (input.party === party) psbt.signInput(i, keySigner(secret));
  });
  return psbt;
}

// ------------------------------------------------------------------ HTTP client

export interface ApiResponse {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; reason?: string; message: string; index?: number } };
}

/** A coordinator client; `key` signs the request (protocol/auth) unless `unsigned`. */
export async function api(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  opts: { body?: unknown; rawBody?: string; key?: Uint8Array; now?: number; headers?: Record<string, string> } = {},
): Promise<ApiResponse> {
  const body = opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(opts.headers ?? {}) };
  if (opts.key !== undefined) {
    // Random aux as the CLI signs: two calls are two signatures, only a replay of the same headers is refused.
    Object.assign(headers, signRequest(opts.key, { method, path, body: body ?? '', timestamp: Math.floor((opts.now ?? Date.now()) / 1000) }, randomBytes(32)));
  }
  const res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  return { status: res.status, body: text.length > 0 ? (JSON.parse(text) as ApiResponse['body']) : {} };
}

/** The x-only identity key (hex) of a secret. */
export function identityOf(secret: Uint8Array): string {
  return toHex(xOnlyPublicKey(secret));
}

// ------------------------------------------------------------------ strips (issue 12)

export interface StripParties {
  label: string;
  periods: number;
  /** The strip's whole terms (with `periods`). */
  terms: OfferTerms;
  periodTerms: OfferTerms[];
  announcements: OracleAnnouncement[];
  eventIds: string[];
  offers: OfferDlc[];
  offerHexes: string[];
  offerIdentity: Uint8Array;
  acceptIdentity: Uint8Array;
  /** The parties' funding keys (one per party for every period). */
  offerKey: Uint8Array;
  acceptKey: Uint8Array;
  /** Every period's accept (built and cached on first use), its set-up sharing ONE funding transaction. */
  accepts(): { accept: AcceptDlc; acceptHex: string; setup: ContractSetup }[];
  signs(): { sign: SignDlc; signHex: string }[];
  /** The one funding PSBT with `party`'s inputs signed (base64). */
  signedFundingPsbt(party: 'offer' | 'accept'): string;
}

export interface StripOptions {
  label: string;
  periods: number;
  oracle?: TestOracle;
  /** One announcement per period (e.g. the oracle service's); else `oracle` announces one per period. */
  announcements?: OracleAnnouncement[];
  window?: { start: number; end: number };
  deliveryAddress?: string;
  offerInputs?: FundingInput[];
  acceptInputs?: FundingInput[];
  offerUtxoKey?: Uint8Array;
  acceptUtxoKey?: Uint8Array;
  payoutSpks?: { offer: Uint8Array; accept: Uint8Array };
  escrow?: bigint;
  minerCollateral?: bigint;
  upfront?: bigint;
  roundingMod?: bigint;
  fundingDeadline?: number;
  /** Each period's locktimes from its window end (default: protocol/contract `defaultLocktimes`). */
  locktimes?: (periodEnd: number) => { cetLocktime: number; refundLocktime: number };
}

/** A hashpower strip (a sale over `periods` periods) between two fixture parties, built with protocol/ functions. */
export function stripParties(o: StripOptions): StripParties {
  const label = o.label;
  const window = o.window ?? { start: 1000, end: 1100 };
  const upfront = o.upfront ?? 50_000n;
  const escrow = o.escrow ?? 400_000n;
  const minerCollateral = o.minerCollateral ?? 200_000n;
  const terms = offerTermsSchema.parse({
    template: 'hashpower-sale',
    hashrateThs: '100',
    window,
    deliveryAddress: o.deliveryAddress ?? `bcrt1qdelivery-${label}`,
    upfront: String(upfront),
    escrow: String(escrow),
    minerCollateral: String(minerCollateral),
    toleranceBps: 9500,
    upfrontScript: toHex(p2wpkhScriptPubkey(publicKey(testSecret(`${label}:upfront`)))),
    upfrontSerialId: '77',
    ...(o.roundingMod !== undefined ? { roundingMod: String(o.roundingMod) } : {}),
    fundingDeadline: o.fundingDeadline ?? defaultFundingDeadline(window.start, 'regtest'),
    periods: o.periods,
  });
  const periodTerms = periodTermsOf(terms);
  const windowOf = (t: OfferTerms): { start: number; end: number } => (t as { window: { start: number; end: number } }).window;
  const announcements = o.announcements ?? periodTerms.map((t) => o.oracle!.announce(`hashpower-delivery/${windowOf(t).start}-${windowOf(t).end}/100ths/${label}`, 14));
  const templates = periodTerms.map((t, i) => templateFromTerms(t, { single: { oracleAnnouncement: announcements[i]! } }));
  const offerKey = testSecret(`${label}:offer-funding`);
  const acceptKey = testSecret(`${label}:accept-funding`);
  const offerUtxoKey = o.offerUtxoKey ?? testSecret(`${label}:offer-utxo`);
  const acceptUtxoKey = o.acceptUtxoKey ?? testSecret(`${label}:accept-utxo`);
  const wide = (i: FundingInput): FundingInput => ({ ...i, maxWitnessLen: 108 });
  const offerInputs = o.offerInputs ?? [wide(fundingInput(offerUtxoKey, minerCollateral + 100_000n, 5n, `${label}:o`))];
  const acceptInputs = o.acceptInputs ?? [wide(fundingInput(acceptUtxoKey, upfront + escrow + 100_000n, 6n, `${label}:a`))];
  const offers = periodTerms.map((t, i) => buildOffer({
    contract: templates[i]!,
    temporaryContractId: testSecret(`${label}:temp-id-${i}`),
    chainHash: REGTEST_CHAIN_HASH,
    fundingPubkey: publicKey(offerKey),
    fundingInputs: offerInputs,
    payoutSpk: o.payoutSpks?.offer ?? p2wpkhScriptPubkey(publicKey(testSecret(`${label}:offer-payout`))),
    changeSpk: p2wpkhScriptPubkey(publicKey(testSecret(`${label}:offer-change`))),
    payoutSerialId: 1n,
    changeSerialId: 2n,
    fundOutputSerialId: 1000n + BigInt(i),
    feeRatePerVb: 2n,
    ...(o.locktimes ?? ((end: number) => defaultLocktimes(end, 'regtest')))(windowOf(t).end),
  }));
  const { contracts } = checkStripOffersAgainstTerms(offers, terms);
  const optionsOf = (i: number) => contractFundingOptions(templates[i]!, { terms, batch: batchToJson(contracts, i) });
  let accepted: ReturnType<StripParties['accepts']> | undefined;
  let signed: ReturnType<StripParties['signs']> | undefined;
  const parties: StripParties = {
    label,
    periods: o.periods,
    terms,
    periodTerms,
    announcements,
    eventIds: announcements.map((a) => a.oracleEvent.eventId),
    offers,
    offerHexes: offers.map((x) => toHex(encodeOfferDlc(x))),
    offerIdentity: testSecret(`${label}:offer-identity`),
    acceptIdentity: testSecret(`${label}:accept-identity`),
    offerKey,
    acceptKey,
    accepts() {
      accepted ??= offers.map((offer, i) => {
        const built = buildAccept(offer, {
          fundingSecretKey: acceptKey,
          fundingInputs: acceptInputs,
          payoutSpk: o.payoutSpks?.accept ?? p2wpkhScriptPubkey(publicKey(testSecret(`${label}:accept-payout`))),
          changeSpk: p2wpkhScriptPubkey(publicKey(testSecret(`${label}:accept-change`))),
          payoutSerialId: 11n,
          changeSerialId: 12n,
          extraOutputs: optionsOf(i).extraOutputs,
          setup: { batch: optionsOf(i).batch! },
        });
        return { accept: built.accept, acceptHex: toHex(encodeAcceptDlc(built.accept)), setup: built.setup };
      });
      return accepted;
    },
    signs() {
      signed ??= offers.map((offer, i) => {
        const built = buildSign(offer, parties.accepts()[i]!.accept, {
          fundingSecretKey: offerKey,
          extraOutputs: optionsOf(i).extraOutputs,
          setup: { batch: optionsOf(i).batch! },
          fundingSignatures: (setup: ContractSetup) => extractFundingSignatures(walletSigns(setup.funding, offerUtxoKey, 'offer'), setup.funding, 'offer'),
        });
        return { sign: built.sign, signHex: toHex(encodeSignDlc(built.sign)) };
      });
      return signed;
    },
    signedFundingPsbt(party) {
      const { setup } = parties.accepts()[0]!;
      return walletSigns(setup.funding, party === 'offer' ? offerUtxoKey : acceptUtxoKey, party).toBase64();
    },
  };
  return parties;
}
