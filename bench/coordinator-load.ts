/**
 * What the coordinator section (bench/coordinator.ts) drives its coordinators
 * with, kept apart so test/bench-coordinator.test.ts can check it:
 *
 * - `curveContract`: a contract of exactly `steps + 1` CETs the coordinator
 *   takes as it comes (template `custom-curve`: the payout rises by one step
 *   at every outcome in [0, steps], as bench/contract.ts's contracts, so 100
 *   and 10,000 steps give its 101 and 10,001 CETs), its offer, and its accept
 *   signed by the accepter (every CET adaptor signature) ahead of time.
 * - `startReplicas`: coordinator processes (bench/coordinator-replica.ts), one
 *   event loop each, on one LevelDB directory (one process only: LevelDB locks
 *   it) or one PostgreSQL database.
 * - `bookRecord`: an open offer record for the offer book, written straight to
 *   the store (listing is measured, not offer verification).
 *
 * This module does NOT time anything; bench/coordinator.ts does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { buildAcceptAsync, buildOffer, type CetSigner } from '../protocol/contract/index.js';
import type { OfferDlc, OracleAnnouncement } from '../protocol/messages/index.js';
import { encodeAcceptDlc, encodeOfferDlc, toHex } from '../protocol/messages/index.js';
import { templateFromTerms, type OfferTerms } from '../protocol/terms/index.js';
import type { TemplateResult } from '../protocol/templates/index.js';
import { createOffer, type ContractRecord } from '../src/coordinator/lifecycle.js';
import { REGTEST_CHAIN_HASH, fundingInput, p2wpkhScriptPubkey, publicKey, testSecret, type TestOracle } from '../test/helpers/dlc-fixture.js';
import { identityOf } from '../test/coordinator-fixtures.js';

/** Binary digits of the curve contracts' oracle event (bench/contract.ts's). */
export const CURVE_DIGITS = 20;
/** Sats per payout step: every outcome in [0, steps] pays a different amount. */
const SATS_PER_STEP = 1000n;
/** Below FakeChain's tip (990) nothing expires; the funding deadline must be ahead of it. */
const FUNDING_DEADLINE = 998;

export interface CurveContract {
  label: string;
  eventId: string;
  announcement: OracleAnnouncement;
  template: TemplateResult;
  terms: OfferTerms;
  offer: OfferDlc;
  offerHex: string;
  offerIdentity: Uint8Array;
  acceptIdentity: Uint8Array;
  /** The accept_dlc (hex) with every CET adaptor signature and the refund signature, signed by `signer`. */
  acceptHex(signer: CetSigner): Promise<string>;
}

/** The curve file's JSON text (protocol/templates custom.ts): payout 0 at outcome 0, `steps` steps to the total, flat to the maximum. */
function linearCurveJson(steps: number, total: bigint): string {
  const max = 2 ** CURVE_DIGITS - 1;
  const point = (outcome: number, payout: bigint): string => `{"eventOutcome":${outcome},"outcomePayout":${payout},"extraPrecision":0}`;
  const piece = (outcome: number, payout: bigint): string => `{"endPoint":${point(outcome, payout)},"payoutCurvePiece":{"polynomialPayoutCurvePiece":{"payoutPoints":[]}}}`;
  return `{"payoutFunction":{"payoutFunctionPieces":[${piece(0, 0n)},${piece(steps, total)}],"lastEndpoint":${point(max, total)}},`
    + `"roundingIntervals":{"intervals":[{"beginInterval":0,"roundingMod":1}]},"numDigits":${CURVE_DIGITS}}`;
}

/**
 * A `custom-curve` contract of `steps + 1` CETs between two fixture parties,
 * announced by `oracle` (publish `announcement` where the coordinator fetches it).
 * Funding inputs, ids and keys derive from `label`: one label, one contract.
 */
export function curveContract(label: string, steps: number, oracle: TestOracle): CurveContract {
  const total = BigInt(steps) * SATS_PER_STEP;
  const offerCollateral = total / 2n;
  const announcement = oracle.announce(`bench-curve/${label}`, CURVE_DIGITS);
  const terms: OfferTerms = {
    template: 'custom-curve',
    curve: linearCurveJson(steps, total),
    offerCollateral: String(offerCollateral),
    acceptCollateral: String(total - offerCollateral),
    fundingDeadline: FUNDING_DEADLINE,
  };
  const template = templateFromTerms(terms, { single: { oracleAnnouncement: announcement } });
  const key = (what: string): Uint8Array => testSecret(`${label}:${what}`);
  const offer = buildOffer({
    contract: template,
    temporaryContractId: key('temp-id'),
    chainHash: REGTEST_CHAIN_HASH,
    fundingPubkey: publicKey(key('offer-funding')),
    fundingInputs: [fundingInput(key('offer-utxo'), offerCollateral + 100_000n, 5n, `${label}:o`)],
    payoutSpk: p2wpkhScriptPubkey(publicKey(key('offer-payout'))),
    changeSpk: p2wpkhScriptPubkey(publicKey(key('offer-change'))),
    payoutSerialId: 1n,
    changeSerialId: 2n,
    fundOutputSerialId: 3n,
    feeRatePerVb: 2n,
    cetLocktime: 1100,
    refundLocktime: 1120,
  });
  return {
    label,
    eventId: announcement.oracleEvent.eventId,
    announcement,
    template,
    terms,
    offer,
    offerHex: toHex(encodeOfferDlc(offer)),
    offerIdentity: key('offer-identity'),
    acceptIdentity: key('accept-identity'),
    async acceptHex(signer) {
      const built = await buildAcceptAsync(offer, {
        fundingSecretKey: key('accept-funding'),
        fundingInputs: [fundingInput(key('accept-utxo'), total - offerCollateral + 100_000n, 6n, `${label}:a`)],
        payoutSpk: p2wpkhScriptPubkey(publicKey(key('accept-payout'))),
        changeSpk: p2wpkhScriptPubkey(publicKey(key('accept-change'))),
        payoutSerialId: 11n,
        changeSerialId: 12n,
        extraOutputs: template.extraOutputs,
      }, signer);
      return toHex(encodeAcceptDlc(built.accept));
    },
  };
}

/**
 * Open offer number `i` of the offer book: a hashpower sale's summary over one
 * of 50 windows (so the template + window filter has something to skip).
 * Its messages are not real; the book is listed, never accepted.
 */
export function bookRecord(i: number, oracle: { url: string; eventId: string; publicKey: string }, identity: Uint8Array, terms: OfferTerms): ContractRecord {
  const window = { start: 1000 + (i % 50) * 10, end: 1100 + (i % 50) * 10 };
  return createOffer({
    id: i.toString(16).padStart(64, '0'),
    terms,
    summary: { template: 'hashpower-sale', window, price: '450000', hashrateThs: '100' },
    offerer: { identityPubkey: identityOf(identity), fundingPubkey: '02'.padEnd(66, '1'), payoutSpk: '0014'.padEnd(44, '2') },
    offerCollateral: '200000', acceptCollateral: '400000', totalCollateral: '600000', cets: 51, adaptorSignatures: 430,
    oracles: [oracle], cetLocktime: 1100, refundLocktime: 1120,
  }, 1_700_000_000_000 + i);
}

// ------------------------------------------------------------------ replicas

export interface ReplicaOptions {
  /** How many processes; LevelDB allows one. */
  count: number;
  storage: { dataDir: string } | { databaseUrl: string };
  oracleUrl: string;
  /** Each replica's adaptor-signature worker threads. */
  engineThreads: number;
}

export interface RunningReplicas {
  urls: string[];
  /** SIGTERMs every replica (each stops cleanly) and waits for their exits. */
  stop(): Promise<void>;
}

const REPLICA_SCRIPT = fileURLToPath(new URL('./coordinator-replica.ts', import.meta.url));
const REPLICA_START_MS = 60_000;

/** One replica process; resolves with its URL once it listens. */
function startReplica(o: ReplicaOptions): { child: ChildProcess; url: Promise<string> } {
  const where = 'dataDir' in o.storage ? ['--data-dir', o.storage.dataDir] : ['--database-url', o.storage.databaseUrl];
  const child = spawn(process.execPath, ['--import', 'tsx', REPLICA_SCRIPT, ...where, '--oracle', o.oracleUrl, '--engine-threads', String(o.engineThreads)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`coordinator replica did not listen within ${REPLICA_START_MS} ms`)), REPLICA_START_MS);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`coordinator replica exited before listening (code ${code}, signal ${signal})`));
    });
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { url: string }).url);
    });
  });
  return { child, url };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts `count` coordinator processes on one database.
 * @throws {Error} when a replica exits or does not listen in time (the others are stopped).
 */
export async function startReplicas(o: ReplicaOptions): Promise<RunningReplicas> {
  if ('dataDir' in o.storage && o.count !== 1) throw new RangeError('LevelDB admits one coordinator process');
  const started = Array.from({ length: o.count }, () => startReplica(o));
  const stop = async (): Promise<void> => {
    for (const { child } of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.all(started.map(({ child }) => exited(child)));
  };
  try {
    return { urls: await Promise.all(started.map((s) => s.url)), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
