/**
 * A 2-of-3 oracle set through the participant library (no CLI), on the
 * regtest node with three real oracles (two in-process, one a child process
 * of oracle/main.ts, each with its own key and data directory) and a real
 * coordinator allowing all three:
 *
 * - the offerer's own configuration refused before anything is requested or
 *   stored: a threshold above n, one oracle twice under two URLs;
 * - a 2-of-3 hashpower sale offered: the same event at each oracle, the offer
 *   carrying a `multi` oracle info (K = 2, the three announcements in
 *   configured order, no bounded difference) and the record the set;
 * - the buyer refusing that offer, nothing stored and nothing sent, when it
 *   does not trust one of the keys, when its oracle with one of the keys
 *   serves another announcement of the event (a real HTTP server holding the
 *   third key, re-signing the event with another maturity), and when K is
 *   below its own threshold;
 * - the sale accepted, signed and funded; the pool delivers in the window; the
 *   child-process oracle is SIGKILLed before the attestation height; the
 *   buyer's `settleContract` completes the CET with the two others'
 *   attestations, and the payouts are the terms' at the attested outcome;
 *   settled again with a liar holding the third key (a valid attestation of
 *   another outcome), the same CET, the liar named as dissenting;
 *   `verifyContractOracles` and `hashdlc oracle verify <contract-id>`: two
 *   oracles verify against the node and agree, the dead one has no attestation.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Transaction } from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { attest, signAnnouncement } from '../../protocol/crypto/index.js';
import { decodeOfferDlc, decodeOracleAnnouncement, decodeOracleAttestation, encodeOracleAnnouncement, encodeOracleAttestation, encodeOracleEventTlv, fromHex, toHex } from '../../protocol/messages/index.js';
import { startCoordinator, type RunningCoordinator } from '../../src/coordinator/index.js';
import {
  Participant,
  ParticipantError,
  acceptOffer,
  fundContract,
  makeOffer,
  settleContract,
  signContract,
  verifyContractOracles,
  type OfferInput,
  type ParticipantConfig,
} from '../../src/participant/index.js';
import { loadContract } from '../../src/participant/contract.js';
import { Wallet } from '../../src/wallet/index.js';
import { useRegtest } from '../../regtest/context.js';
import { mineAsPool, mineBlocks, mineToHeight } from '../../regtest/helpers.js';
import { TestKey } from '../../regtest/wallet.js';
import { coordinatorConfig } from './coordinator-fixtures.js';
import { OPERATOR_TOKEN, SIMDIFF_100THS_AT_HALF, startTestOracle, type TestOracle } from './oracle-fixture.js';
import { twoFundedWallets } from './participant-fixture.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const { rpc, faucet } = useRegtest();
const tmp = mkdtempSync(join(tmpdir(), 'hashdlc-oracle-set-'));
const minerDir = join(tmp, 'miner');
const buyerDir = join(tmp, 'buyer');

interface SetOracle {
  url: string;
  publicKey: string;
}

let o1: TestOracle;
let o2: TestOracle;
/** The third oracle: a child process, SIGKILLed before the attestation. */
let o3: SetOracle & { proc: ChildProcess; dataDir: string; exited: Promise<NodeJS.Signals | null> };
/**
 * Holds the third oracle's key and serves what it serves, but each event with
 * another announcement: the same event re-signed with a later maturity (validly
 * signed by the key, other bytes than the offer's).
 */
let impostor: { url: string; server: Server };
let coordinator: RunningCoordinator;
let window: { start: number; end: number };
let deliveryAddress: string;
let offerId: string;

const set = (): SetOracle[] => [
  { url: o1.oracle.url, publicKey: o1.oracle.publicKey },
  { url: o2.oracle.url, publicKey: o2.oracle.publicKey },
  { url: o3.url, publicKey: o3.publicKey },
];

function config(walletDir: string, oracles: readonly SetOracle[], oracleThreshold?: number): ParticipantConfig {
  return {
    network: 'regtest',
    networkGiven: true,
    walletDir,
    coordinator: coordinator.url,
    oracles: oracles.map((o) => o.url),
    oraclePubkeys: [],
    oracleThreshold,
    rpc: inject('regtest').rpc,
    feeRatePerVb: 2n,
    threads: 1,
  };
}

/** Runs a use case with a participant opened for it, and closes it. */
async function use<T>(c: ParticipantConfig, fn: (p: Participant) => Promise<T>): Promise<T> {
  const p = new Participant(c);
  try {
    return await fn(p);
  } finally {
    await p.close();
  }
}

/** What a use case threw: a ParticipantError. */
async function refusal(c: ParticipantConfig, fn: (p: Participant) => Promise<unknown>): Promise<ParticipantError> {
  const err = await use(c, fn).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ParticipantError);
  return err as ParticipantError;
}

/** Requests this process sent to the oracles and the coordinator (the library's fetches, spied on; the oracles' own RPC calls to the node are not counted). */
const fetchSpy = vi.spyOn(globalThis, 'fetch');
function sent(method: string, prefix?: string): number {
  const services = prefix !== undefined ? [prefix] : [...set().map((o) => o.url), coordinator.url];
  return fetchSpy.mock.calls.filter(([url, init]) => (init?.method ?? 'GET') === method && services.some((s) => String(url).startsWith(s))).length;
}

/**
 * A real HTTP server on 127.0.0.1 in front of an oracle: answers a path itself
 * when `own` gives a body, else forwards the GET to `upstream` and lets
 * `rewrite` change the JSON answer of a successful one.
 */
async function oracleProxy(upstream: string, rewrite: (path: string, body: any) => void, own: (path: string) => unknown = () => undefined): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    void (async () => {
      const path = req.url ?? '/';
      const mine = own(path);
      if (mine !== undefined) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(mine));
        return;
      }
      const answer = await fetch(`${upstream}${path}`);
      const body: unknown = await answer.json();
      if (answer.ok) rewrite(path, body);
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    })().catch(() => res.writeHead(502).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { url: `http://127.0.0.1:${address.port}`, server };
}

/** The impostor: `target` as it is, but every event's announcement re-signed (maturity + 1) with `secretKey`. */
async function startImpostor(target: string, secretKey: Uint8Array): Promise<{ url: string; server: Server }> {
  const { hashProfile } = (await (await fetch(`${target}/v1/info`)).json()) as { hashProfile: 'sha256' | 'tagged' };
  return oracleProxy(target, (path, body: { announcement?: { hex: string } }) => {
    if (!/^\/v1\/events\/[^?/]+$/.test(path) || body.announcement === undefined) return;
    const ann = decodeOracleAnnouncement(fromHex(body.announcement.hex));
    const oracleEvent = { ...ann.oracleEvent, eventMaturityEpoch: ann.oracleEvent.eventMaturityEpoch + 1 };
    const resigned = { ...ann, oracleEvent, announcementSignature: signAnnouncement(hashProfile, secretKey, encodeOracleEventTlv(oracleEvent)) };
    body.announcement = { ...body.announcement, hex: toHex(encodeOracleAnnouncement(resigned)) };
  });
}

/** Starts oracle/main.ts as a child process with its own data directory; resolves with its URL and key. */
async function spawnOracle(dataDir: string, indexStartHeight: number): Promise<typeof o3> {
  const node = inject('regtest').rpc;
  const configPath = join(tmp, 'oracle3.json');
  writeFileSync(configPath, JSON.stringify({
    network: 'regtest',
    rpc: { url: node.url, username: node.username, password: node.password },
    dataDir,
    port: 0,
    operatorToken: OPERATOR_TOKEN,
    pollIntervalMs: 50,
    indexStartHeight,
    simulatedDifficulty: SIMDIFF_100THS_AT_HALF,
  }));
  const env: NodeJS.ProcessEnv = { ...process.env, HASHDLC_ORACLE_CONFIG: configPath };
  const proc = spawn(process.execPath, ['--import', 'tsx', 'oracle/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.once('exit', (_code, signal) => resolve(signal)));
  const started = await new Promise<{ url: string; publicKey: string }>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as { url: string; publicKey: string });
    });
    void exited.then(() => reject(new Error(`oracle 3 exited: ${stderr}`)));
  });
  return { ...started, proc, dataDir, exited };
}

/** `hashdlc ARGS` as a child process on a wallet, its oracles the set's, its node the test node. */
function hashdlc(args: string[], walletDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const node = inject('regtest').rpc;
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HASHDLC_')) env[k] = v;
  Object.assign(env, {
    HASHDLC_WALLET_DIR: walletDir, HASHDLC_NETWORK: 'regtest', HASHDLC_ORACLE: set().map((o) => o.url).join(','),
    HASHDLC_RPC_URL: node.url, HASHDLC_RPC_USER: node.username, HASHDLC_RPC_PASSWORD: node.password,
  });
  return new Promise((done) => {
    execFile(process.execPath, [join(ROOT, 'bin/hashdlc.js'), ...args], { env, timeout: 120_000 }, (err, stdout, stderr) => {
      done({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

function saleInput(): OfferInput {
  return {
    template: 'hashpower', window, hashrateThs: 100n, deliveryAddress,
    upfront: 20_000n, escrow: 300_000n, collateral: 200_000n, toleranceBps: 9500,
  };
}

/**
 * A liar with the third oracle's key (the third oracle is dead by then): its
 * attestation of the event is valid for that key and its announced nonces, but
 * of another outcome (`honest`'s digits with the first one flipped).
 */
async function startLiar(secretKey: Uint8Array, publicKey: string, honest: string): Promise<{ url: string; server: Server }> {
  const info = (await (await fetch(`${honest}/v1/info`)).json()) as { hashProfile: 'sha256' | 'tagged' };
  return oracleProxy(
    honest,
    (path, body: { outcome: string; hex?: string }) => {
      if (!path.endsWith('/attestation') || body.hex === undefined) return;
      const real = decodeOracleAttestation(fromHex(body.hex));
      const outcomes = real.outcomes.map((d, i) => (i === 0 ? (d === '0' ? '1' : '0') : d));
      const forged = { ...real, oraclePublicKey: fromHex(publicKey), outcomes, signatures: attest(info.hashProfile, secretKey, real.eventId, outcomes) };
      Object.assign(body, { outcome: `forged:${outcomes.join('')}`, hex: toHex(encodeOracleAttestation(forged)) });
    },
    (path) => (path === '/v1/info' ? { ...info, publicKey } : undefined),
  );
}

beforeAll(async () => {
  const tip = await rpc.getBlockCount();
  o1 = await startTestOracle(rpc, { simulatedDifficulty: SIMDIFF_100THS_AT_HALF }, tip);
  o2 = await startTestOracle(rpc, { simulatedDifficulty: SIMDIFF_100THS_AT_HALF }, tip);
  o3 = await spawnOracle(join(tmp, 'oracle3'), tip);
  impostor = await startImpostor(o3.url, fromHex(readFileSync(join(o3.dataDir, 'oracle.key'), 'utf8').trim()));
  coordinator = await startCoordinator({ ...coordinatorConfig(join(tmp, 'coordinator'), o1.oracle.url), oracles: set().map((o) => o.url) }, { watch: false, log: () => undefined });
  await twoFundedWallets(faucet, minerDir, buyerDir);
  deliveryAddress = Wallet.open(buyerDir).newReceiveAddress().address;
  window = { start: tip + 16, end: tip + 22 };
}, 300_000);

afterAll(async () => {
  await coordinator?.stop();
  if (o3?.proc.exitCode === null && o3.proc.signalCode === null) o3.proc.kill('SIGKILL');
  await o1?.close();
  await o2?.close();
  impostor?.server.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('a 2-of-3 oracle set through the participant library', () => {
  it('the offerer\'s own set is checked before anything is requested or stored: a threshold above n, one oracle twice', async () => {
    const calls = sent('GET') + sent('POST');
    const above = await refusal(config(minerDir, set(), 4), (p) => makeOffer(p, saleInput()));
    expect(above).toMatchObject({ code: 'USAGE', reason: 'threshold', message: expect.stringMatching(/--threshold 4 is not in \[1, 3\]/) });
    // Refused before any oracle or the coordinator was asked.
    expect(sent('GET') + sent('POST')).toBe(calls);

    // One operator under two URLs would count twice towards K.
    const twice = [...set().slice(0, 2), { url: o1.oracle.url.replace('127.0.0.1', 'localhost'), publicKey: o1.oracle.publicKey }];
    const dup = await refusal(config(minerDir, twice), (p) => makeOffer(p, saleInput()));
    expect(dup).toMatchObject({ code: 'MISMATCH', reason: 'oracle-duplicate', message: expect.stringContaining(o1.oracle.publicKey) });
    expect(sent('POST')).toBe(0);
    expect(Wallet.open(minerDir).contracts.list()).toEqual([]);
  });

  it('offers a 2-of-3 sale: the same event at each oracle, a multi oracle info (K = 2, configured order, exact), the set recorded', async () => {
    const r = await use(config(minerDir, set()), (p) => makeOffer(p, saleInput()));
    if (r.dryRun) throw new Error('not posted');
    offerId = r.id;
    expect(r.threshold).toBe(2);
    expect(r.oracles).toEqual(set());
    expect(r.summary).toContain('oracles: 2 of 3 must attest the same outcome');
    for (const o of set()) {
      expect(sent('POST', `${o.url}/v1/events`)).toBe(1);
      expect(r.summary.some((l) => l.includes(o.url) && l.includes(o.publicKey))).toBe(true);
    }
    const record = Wallet.open(minerDir).contracts.get(offerId);
    expect(record.oracles).toEqual(set());
    const info = decodeOfferDlc(fromHex(record.offer)).contractInfo;
    if (!('singleContractInfo' in info)) throw new Error('disjoint');
    const oi = info.singleContractInfo.contractInfo.oracleInfo;
    if (!('multi' in oi)) throw new Error('not a multi-oracle offer');
    expect(oi.multi.threshold).toBe(2);
    expect(oi.multi.oracleParams).toBeNull();
    expect(oi.multi.oracleAnnouncements.map((a) => toHex(a.oraclePublicKey))).toEqual(set().map((o) => o.publicKey));
    expect(new Set(oi.multi.oracleAnnouncements.map((a) => a.oracleEvent.eventId)).size).toBe(1);
  });

  it('the buyer refuses the offer, storing and sending nothing: an untrusted key, another announcement at its oracle, K below its own', async () => {
    const [a, b, c] = set();
    // Buyer trusts two of the three.
    const untrusted = await refusal(config(buyerDir, [a!, b!]), (p) => acceptOffer(p, { id: offerId }));
    expect(untrusted).toMatchObject({ code: 'MISMATCH', reason: 'oracle-not-trusted', message: expect.stringContaining(c!.publicKey) });

    // Buyer's oracle with the third key serves its own announcement of the same event.
    const differs = await refusal(config(buyerDir, [a!, b!, { url: impostor.url, publicKey: c!.publicKey }]), (p) => acceptOffer(p, { id: offerId }));
    expect(differs).toMatchObject({ code: 'MISMATCH', reason: 'announcement-differs', message: expect.stringContaining(impostor.url) });

    // Buyer takes 3 of 3 at least.
    const below = await refusal(config(buyerDir, set(), 3), (p) => acceptOffer(p, { id: offerId }));
    expect(below).toMatchObject({ code: 'MISMATCH', reason: 'threshold', message: expect.stringMatching(/settles on 2 of 3 oracles; you take at least 3/) });

    expect(sent('POST', `${coordinator.url}/v1/contracts`)).toBe(0);
    expect(Wallet.open(buyerDir).contracts.list()).toEqual([]);
  });

  it('accepted, signed, funded; one oracle SIGKILLed before the attestation: settle completes the CET with the other two', async () => {
    const buyer = config(buyerDir, set());
    const miner = config(minerDir, set());
    const accepted = await use(buyer, (p) => acceptOffer(p, { id: offerId }));
    expect(accepted).toMatchObject({ dryRun: false, state: 'accepted' });
    expect(Wallet.open(buyerDir).contracts.get(offerId).oracles).toEqual(set());
    await use(miner, (p) => signContract(p, { id: offerId }));
    await use(buyer, (p) => fundContract(p, { id: offerId }));
    await mineBlocks(rpc, 1);

    // Full delivery: the pool pays the delivery address half of each coinbase (100 TH/s at the simulated difficulty).
    await mineToHeight(rpc, window.start - 1);
    await mineAsPool(rpc, { blocks: window.end - window.start, shares: [{ address: deliveryAddress, shareBps: 5_000 }], restAddress: TestKey.random().address });
    const early = await refusal(buyer, (p) => settleContract(p, { id: offerId }));
    expect(early).toMatchObject({ code: 'NOT_READY', message: expect.stringMatching(/^0 of the 2 needed oracles attested \(3 in the set\)/) });

    o3.proc.kill('SIGKILL');
    expect(await o3.exited).toBe('SIGKILL');
    await mineBlocks(rpc, 1);

    // The two live oracles attest once block `end` exists (each on its own poll).
    const r = await vi.waitFor(() => use(buyer, (p) => settleContract(p, { id: offerId })), { timeout: 60_000, interval: 200 });
    expect(r).toMatchObject({ state: 'settled', threshold: 2, alreadyBroadcast: false });
    expect(r.oracles.map((o) => [o.url, o.agreed])).toEqual([[o1.oracle.url, true], [o2.oracle.url, true], [o3.url, null]]);
    expect(r.oracles[2]!.missing).toMatch(/^unreachable/);
    expect(r.oracles[0]!.outcome).toBe(r.outcome);
    expect(r.oracles[1]!.outcome).toBe(r.outcome);

    // The payouts are the terms' at the attested outcome (the template's key payouts: full delivery).
    const c = loadContract(Wallet.open(buyerDir), offerId);
    const key = c.template.summary.keyPayouts.find((k) => k.label === 'full delivery')!;
    expect(r.payouts).toEqual({ offer: key.offerPayout, accept: key.acceptPayout });
    expect(r.own).toBe(key.acceptPayout);
    // And the CET in the mempool pays them.
    const cet = Transaction.fromHex(await rpc.getRawTransactionHex(r.txid));
    const values = cet.outs.map((o) => BigInt(o.value));
    for (const v of [key.offerPayout, key.acceptPayout]) if (v > 0n) expect(values).toContain(v);
    await mineBlocks(rpc, 1);
    expect((await rpc.getRawTransaction(r.txid)).confirmations).toBeGreaterThanOrEqual(1);
    expect(Wallet.open(buyerDir).contracts.get(offerId)).toMatchObject({ state: 'settled', closingTxid: r.txid });

    // A dissenting oracle (the third key, attesting another outcome) is simply not used: settling again
    // finds the same CET, and the result names the dissent.
    const o3Key = fromHex(readFileSync(join(o3.dataDir, 'oracle.key'), 'utf8').trim());
    const liar = await startLiar(o3Key, o3.publicKey, o1.oracle.url);
    try {
      const withLiar = config(buyerDir, [set()[0]!, set()[1]!, { url: liar.url, publicKey: o3.publicKey }]);
      const again = await use(withLiar, (p) => settleContract(p, { id: offerId }));
      expect(again).toMatchObject({ txid: r.txid, cetIndex: r.cetIndex, outcome: r.outcome, alreadyBroadcast: true, payouts: r.payouts });
      expect(again.oracles.map((o) => o.agreed)).toEqual([true, true, false]);
      expect(again.oracles[2]).toMatchObject({ url: liar.url, outcome: expect.stringMatching(/^forged:/), missing: null });
    } finally {
      liar.server.close();
    }

    // `hashdlc oracle verify <contract-id>`'s use case: the two live oracles hold against the node and agree; K is met.
    const v = await use(buyer, (p) => verifyContractOracles(p, offerId));
    expect(v).toMatchObject({ id: offerId, threshold: 2, outcome: r.outcome, ok: true });
    expect(v.oracles.map((o) => [o.publicKey, o.verified, o.agreed])).toEqual([[o1.oracle.publicKey, true, true], [o2.oracle.publicKey, true, true], [o3.publicKey, false, null]]);

    // The command: one line per oracle, exit 0 (K verify and agree); --json the same per oracle.
    const human = await hashdlc(['oracle', 'verify', offerId], buyerDir);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(`ok   ${o1.oracle.url} ${o1.oracle.publicKey}: outcome ${r.outcome}, matches your chain, agreed`);
    expect(human.stdout).toMatch(new RegExp(`FAIL ${o3.url} ${o3.publicKey}: outcome -, does not hold \\(fetch: .*\\), no attestation`));
    expect(human.stdout).toContain(`2 of 3 oracles verify and agree on ${r.outcome} (2 needed)`);
    const json = await hashdlc(['oracle', 'verify', offerId.slice(0, 12), '--json'], buyerDir);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: offerId, ok: true, threshold: 2, outcome: r.outcome, oracles: [{ agreed: true }, { agreed: true }, { agreed: null, verified: false }] });
  }, 600_000);
});
