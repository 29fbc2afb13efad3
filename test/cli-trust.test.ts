/**
 * "The CLI trusts no one": `hashdlc accept --dry-run` as a real process
 * against an in-test coordinator, oracle and node (HTTP / JSON-RPC on
 * 127.0.0.1) that serve an honest offer, and offers where something differs
 * from what was agreed or announced, or that come too late (issue 9: window
 * started, event attested, funding deadline passed, refund locktime far
 * away, a delivery address already paid). Each is refused before anything
 * is signed, naming what differs.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOffer } from '../protocol/contract/index.js';
import { encodeMessage, encodeOfferDlc, toHex, type OracleAnnouncement } from '../protocol/messages/index.js';
import { templateFromTerms } from '../protocol/terms/index.js';
import { RECEIVE, Wallet } from '../src/wallet/index.js';
import { REGTEST_CHAIN_HASH, fundingInput, p2wpkhScriptPubkey, publicKey, testOracle, testSecret } from './helpers/dlc-fixture.js';
import { TEST_MNEMONIC } from './helpers/mnemonic.js';

const BIN = fileURLToPath(new URL('../bin/hashdlc.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'hashdlc-cli-trust-'));
const walletDir = join(tmp, 'buyer');
const { wallet } = Wallet.init(walletDir, 'regtest', TEST_MNEMONIC);
const delivery = wallet.keys.address(RECEIVE, 0).address;

const oracle = testOracle('cli-trust-oracle');
const WINDOW = { start: 500, end: 600 };
const EVENT = `hashpower-delivery/500-600/100ths/cli-trust`;
const ATTEST_HEIGHT = 600;
/** The fake node's tip: below the window (500) and the default funding deadline (498). */
const TIP = 400;
/** An address the fake node reports as paid already (scantxoutset). */
const PAID = wallet.keys.address(RECEIVE, 7).address;
/** An address another live contract of this wallet measures (a local contract record, signed, not funded). */
const IN_USE = wallet.keys.address(RECEIVE, 8).address;
wallet.contracts.save({
  version: 1, id: 'cd'.repeat(32), role: 'accept', network: 'regtest', keyIndex: 0, state: 'signed',
  history: [{ state: 'signed', at: '2026-01-01T00:00:00.000Z' }], hashProfile: 'sha256',
  terms: { template: 'hashpower-sale', deliveryAddress: IN_USE }, offer: '00', reservedOutpoints: [],
});

interface Case {
  /** What the coordinator serves as the terms. */
  terms: Record<string, unknown>;
  offerHex: string;
  /** What the oracle serves for the event. */
  announcement: OracleAnnouncement;
  params: Record<string, unknown>;
}
const cases = new Map<string, Case>();
const events = new Map<string, { announcement: OracleAnnouncement; params: Record<string, unknown>; state: string }>();

function saleTerms(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    template: 'hashpower-sale', hashrateThs: '100', window: WINDOW, deliveryAddress: delivery,
    upfront: '0', escrow: '300000', minerCollateral: '200000', toleranceBps: 9500, fundingDeadline: WINDOW.start - 2, ...over,
  };
}

const params = {
  kind: 'hashpower-delivery', window: WINDOW, deliveryAddress: delivery, poolPayoutAddresses: [], hashrateThs: '100',
  rewardRule: 'subsidy+fees-capped-4x-median-v1', descriptor: { type: 'numeric', base: 2, nbDigits: 14, unit: 'bps', precision: 0 },
};

let n = 0;
/** Registers an offer built from `offerTerms` over `offered`, served with `servedTerms` and the oracle's `published` announcement. */
function register(opts: {
  offerTerms?: Record<string, unknown>;
  servedTerms?: Record<string, unknown>;
  offered?: OracleAnnouncement;
  published?: OracleAnnouncement;
  eventParams?: Record<string, unknown>;
  refundLocktime?: number;
  feeRatePerVb?: bigint;
  eventState?: 'announced' | 'attested';
}): string {
  n += 1;
  const eventId = `${EVENT}/${n}`;
  const offered = opts.offered ?? oracle.announce(eventId, 14);
  const contract = templateFromTerms(templateTerms(opts.offerTerms ?? saleTerms()), { single: { oracleAnnouncement: offered } });
  const offer = buildOffer({
    contract,
    temporaryContractId: testSecret(`cli-trust:${n}`),
    chainHash: REGTEST_CHAIN_HASH,
    fundingPubkey: publicKey(testSecret('cli-trust:funding')),
    fundingInputs: [fundingInput(testSecret('cli-trust:utxo'), 1_000_000n, 1n, `cli-trust:${n}`)],
    payoutSpk: p2wpkhScriptPubkey(publicKey(testSecret('cli-trust:payout'))),
    changeSpk: p2wpkhScriptPubkey(publicKey(testSecret('cli-trust:change'))),
    payoutSerialId: 2n,
    changeSerialId: 3n,
    fundOutputSerialId: 4n,
    feeRatePerVb: opts.feeRatePerVb ?? 2n,
    cetLocktime: WINDOW.end,
    refundLocktime: opts.refundLocktime ?? WINDOW.end + 20,
  });
  const id = toHex(offer.temporaryContractId);
  const published = opts.published ?? offered;
  const served = { announcement: published, params: opts.eventParams ?? params, state: opts.eventState ?? 'announced' };
  events.set(published.oracleEvent.eventId, served);
  if (published.oracleEvent.eventId !== offered.oracleEvent.eventId) events.set(offered.oracleEvent.eventId, served);
  cases.set(id, { terms: opts.servedTerms ?? opts.offerTerms ?? saleTerms(), offerHex: toHex(encodeOfferDlc(offer)), announcement: published, params: opts.eventParams ?? params });
  return id;
}

function templateTerms(t: Record<string, unknown>): never {
  return t as never;
}

function serve(handler: (path: string) => unknown): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const body = handler(decodeURIComponent(req.url ?? ''));
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body ?? { error: { code: 'NOT_FOUND', message: 'no such thing' } }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

let coordinator: { server: Server; url: string };
let oracleHttp: { server: Server; url: string };
let node: Server;
let nodeUrl: string;

/** The node's JSON-RPC, as far as accept asks it: the chain, the tip, and payments to an address. */
function startNode(): Promise<void> {
  node = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      const { id, method, params: p } = JSON.parse(body) as { id: unknown; method: string; params: unknown[] };
      const hash = '00'.repeat(32);
      const results: Record<string, unknown> = {
        getblockchaininfo: { chain: 'regtest', blocks: TIP, headers: TIP, bestblockhash: hash, mediantime: 0, pruned: false },
        getblockcount: TIP,
        scantxoutset: {
          success: true, height: TIP, bestblock: hash, total_amount: 0,
          unspents: JSON.stringify(p).includes(PAID) ? [{ txid: 'ab'.repeat(32), vout: 0, scriptPubKey: '00', desc: `addr(${PAID})`, amount: 0.001, height: 300 }] : [],
        },
      };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(method in results ? { id, result: results[method], error: null } : { id, result: null, error: { code: -32601, message: 'Method not found' } }));
    });
  });
  return new Promise((resolve) => node.listen(0, '127.0.0.1', () => {
    nodeUrl = `http://u:p@127.0.0.1:${(node.address() as AddressInfo).port}/`;
    resolve();
  }));
}

beforeAll(async () => {
  await startNode();
  coordinator = await serve((path) => {
    let m = /^\/v1\/offers\/([0-9a-f]{64})$/.exec(path);
    if (m) {
      const c = cases.get(m[1]!);
      return c && { id: m[1], state: 'offered', terms: c.terms };
    }
    m = /^\/v1\/contracts\/([0-9a-f]{64})\/messages$/.exec(path);
    if (m) {
      const c = cases.get(m[1]!);
      return c && { offer: c.offerHex, accept: null, sign: null };
    }
    return undefined;
  });
  oracleHttp = await serve((path) => {
    if (path === '/v1/info') return { publicKey: toHex(oracle.publicKey), hashProfile: 'sha256', network: 'regtest' };
    const m = /^\/v1\/events\/(.+)$/.exec(path);
    const e = m ? events.get(m[1]!) : undefined;
    return e && {
      eventId: m![1], kind: 'hashpower-delivery', state: e.state, params: e.params, attestHeight: ATTEST_HEIGHT,
      announcement: { hex: toHex(encodeMessage({ type: 'oracle_announcement', message: e.announcement })) },
    };
  });
});

afterAll(async () => {
  coordinator?.server.close();
  oracleHttp?.server.close();
  node?.close();
  rmSync(tmp, { recursive: true, force: true });
});

function hashdlc(args: string[], dir = walletDir): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HASHDLC_')) env[k] = v;
  Object.assign(env, { HASHDLC_WALLET_DIR: dir, HASHDLC_COORDINATOR: coordinator.url, HASHDLC_ORACLE: oracleHttp.url, HASHDLC_RPC_URL: nodeUrl });
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr });
    });
  });
}

function acceptDryRun(id: string, extra: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return hashdlc(['accept', id, '--dry-run', '--json', ...extra]);
}

describe('hashdlc accept checks the offer before signing anything', () => {
  it.concurrent('an honest offer passes every check', async () => {
    const id = register({});
    const r = await acceptDryRun(id);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ id, checked: true, terms: { template: 'hashpower-sale', escrow: '300000' } });
    expect(out.cets.cets).toBeGreaterThan(10);
  });

  const refused: [string, () => string, string[], RegExp][] = [
    ['terms that say more escrow than the offer\'s contract holds',
      () => register({ offerTerms: saleTerms({ escrow: '250000' }), servedTerms: saleTerms() }), [],
      /INVALID_PARAMS \(terms-mismatch:contractInfo\.singleContractInfo\.totalCollateral\)/],
    ['a payout curve other than the terms\' (lower tolerance)',
      () => register({ offerTerms: saleTerms({ toleranceBps: 8000 }), servedTerms: saleTerms() }), [],
      /INVALID_PARAMS \(terms-mismatch:contractInfo\..*payoutFunction/],
    ['an announcement other than the one the oracle publishes',
      () => {
        const offered = oracle.announce(`${EVENT}/swap`, 14, 1_700_000_000);
        const published = oracle.announce(`${EVENT}/swap`, 14, 1_800_000_000);
        return register({ offered, published });
      }, [],
      /MISMATCH \(announcement-differs\)/],
    ['an oracle whose key is not the pinned one',
      () => register({}), ['--oracle-pubkey', toHex(testOracle('someone-else').publicKey)],
      /MISMATCH \(oracle-pubkey\)/],
    ['an event measuring another window than the terms',
      () => register({ eventParams: { ...params, window: { start: 500, end: 650 } } }), [],
      /MISMATCH \(event-window\)/],
    ['an event counting whole block rewards, which a self-paid fee in one block of the window moves (issue 9, hole 6)',
      () => register({ eventParams: { ...params, rewardRule: 'full-reward-v0' } }), [],
      /MISMATCH \(event-rewardRule\): .*"full-reward-v0".*"subsidy\+fees-capped-4x-median-v1"/],
    ['an event announced before reward rules (no rule stated: full-reward-v0)',
      () => register({ eventParams: { ...params, rewardRule: undefined } }), [],
      /MISMATCH \(event-rewardRule\)/],
    ['a delivery address that is not this wallet\'s',
      () => register({ offerTerms: saleTerms({ deliveryAddress: 'bcrt1qsomeoneelse' }), eventParams: { ...params, deliveryAddress: 'bcrt1qsomeoneelse' } }), [],
      /MISMATCH \(delivery-address\).*pass --delivery-address/],
    ['a refund locktime right after the attestation (no grace)',
      () => register({ refundLocktime: ATTEST_HEIGHT + 2 }), [],
      /INVALID_PARAMS \(terms-mismatch:refundLocktime\): .*at least 610/],
    ['a fee rate far above the network\'s (default --max-fee-rate: 10 sat/vB on regtest without an estimate; it was 1000)',
      () => register({ feeRatePerVb: 200n }), [],
      /INVALID_PARAMS \(terms-mismatch:feeRatePerVb\): .*at most 10/],
    // Issue 9, hole 5: a refund so far away the funds are locked for good if the oracle never attests.
    ['a refund locktime of 499,999,999',
      () => register({ refundLocktime: 499_999_999 }), [],
      /INVALID_PARAMS \(terms-mismatch:refundLocktime\): .*at most 700/],
    // Issue 9, hole 3: contracts on an outcome that is (partly) known.
    ['a window that has started',
      () => {
        const w = { start: 350, end: 600 };
        return register({ offerTerms: saleTerms({ window: w, fundingDeadline: 348 }), eventParams: { ...params, window: w } });
      }, [],
      /EXPIRED \(window-started\)/],
    ['an event the oracle has attested',
      () => register({ eventState: 'attested' }), [],
      /EXPIRED \(event-attested\)/],
    // Issue 12: a coordinator serving one offer under a strip's terms (as a single contract).
    ['one offer served under a strip\'s terms (periods: 4)',
      () => register({ servedTerms: saleTerms({ periods: 4 }) }), [],
      /MISMATCH \(strip-terms\)/],
    // Issue 9, hole 2: the funding deadline is in the terms, before the window, not passed.
    ['terms without a funding deadline',
      () => register({ offerTerms: saleTerms({ fundingDeadline: undefined }) }), [],
      /MISMATCH \(funding-deadline-missing\)/],
    ['a funding deadline after the window start',
      () => register({ offerTerms: saleTerms({ fundingDeadline: 550 }) }), [],
      /MISMATCH \(funding-deadline-after-window-start\)/],
    ['a funding deadline that has passed',
      () => register({ offerTerms: saleTerms({ fundingDeadline: TIP }) }), [],
      /EXPIRED \(funding-deadline-passed\)/],
    // Issue 9, hole 7: a delivery address already paid is not this contract's alone.
    ['a delivery address that was paid before',
      () => register({ offerTerms: saleTerms({ deliveryAddress: PAID }), eventParams: { ...params, deliveryAddress: PAID } }), [],
      /MISMATCH \(delivery-address-paid\)/],
    // Issue 16: terms priced for a pool's payout scheme over an event measuring by today's rule (no scheme, no lag).
    ['an event stating no payout scheme under terms naming one',
      () => register({ offerTerms: saleTerms({ payoutScheme: 'periodic-payout' }) }), [],
      /MISMATCH \(event-payoutScheme\).*periodic-payout/],
    ['a delivery address another live contract of this wallet measures',
      () => register({ offerTerms: saleTerms({ deliveryAddress: IN_USE }), eventParams: { ...params, deliveryAddress: IN_USE } }), [],
      /MISMATCH \(delivery-address-in-use\).*cdcdcdcd/],
  ];
  it.concurrent.each(refused)('refuses %s', async (_name, make, extra, expected) => {
    const r = await acceptDryRun(make(), extra);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(expected);
  });
});

// Issue 16: a sale paid by a luck-based pool states the pool's share; offer and accept show the
// chance that full delivery measures under the tolerance, and warn over 5% (a seller or buyer
// signing a window too short for the pool, where luck alone decides the payout).
// 100 blocks at 10% of the network: λ = 10 pool blocks; under 95% at 9 or fewer: 45.8%.
describe('pool luck: the measurement risk of a luck-based pool (issue 16)', () => {
  const LUCK_LINE = /\[500, 600\): expected pool blocks 10; chance a fully delivering miner measures under the 95\.00% tolerance: 45\.8% \(9 pool blocks or fewer\)/;
  const WARNING = /^warning LUCK_RISK: \[500, 600\): a fully delivering miner measures under the tolerance with chance 45\.8% \(over 5\.0%\)/m;

  it.concurrent('accept --dry-run prints the expected pool blocks and the chance, and warns on stderr', async () => {
    // The event states the terms' scheme (an event stating none is refused: event-payoutScheme, above).
    const id = register({ offerTerms: saleTerms({ poolShareBps: 1000, payoutScheme: 'per-block-coinbase' }), eventParams: { ...params, payoutScheme: 'per-block-coinbase' } });
    const r = await hashdlc(['accept', id, '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^offer checked/);
    expect(r.stdout).toMatch(/pool luck: the pool holds 10\.00% of the network \(per-block-coinbase\)/);
    expect(r.stdout).toMatch(LUCK_LINE);
    expect(r.stderr).toMatch(WARNING);
  });

  it.concurrent('offer --dry-run with --pool-share-bps and --payout-scheme prints the same and warns', async () => {
    const dir = join(tmp, 'seller');
    Wallet.init(dir, 'regtest', TEST_MNEMONIC);
    const eventId = `${EVENT}/luck-offer`;
    events.set(eventId, { announcement: oracle.announce(eventId, 14), params: { ...params, payoutScheme: 'per-block-payout' }, state: 'announced' });
    const r = await hashdlc(['offer', 'hashpower', '--event', eventId, '--hashrate', '100', '--delivery-address', delivery, '--escrow', '300000',
      '--collateral', '200000', '--pool-share-bps', '1000', '--payout-scheme', 'per-block-payout', '--dry-run'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\(dry run: nothing posted\)/);
    expect(r.stdout).toMatch(/pool luck: the pool holds 10\.00% of the network \(per-block-payout\)/);
    expect(r.stdout).toMatch(LUCK_LINE);
    expect(r.stderr).toMatch(WARNING);
  });
});
