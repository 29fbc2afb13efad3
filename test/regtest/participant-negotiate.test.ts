/**
 * The participant library's negotiation use cases called directly (no CLI):
 * a hashpower sale through `makeOffer`, `acceptOffer`, `signContract` and
 * `fundContract` against a real coordinator, the real oracle and the regtest
 * node; each step run again as the agent would after a crash (no new
 * signature, no second broadcast); and the interactive command and the
 * library on the same fixture giving the same refusal (one code path).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, inject, vi } from 'vitest';
import type { RunningCoordinator } from '../../src/coordinator/index.js';
import {
  Participant,
  ParticipantError,
  acceptOffer,
  fundContract,
  listOffers,
  makeOffer,
  showOffer,
  signContract,
  type ParticipantConfig,
} from '../../src/participant/index.js';
import { StackParticipant } from '../../src/stack/index.js';
import { runCli } from './scenario-helpers.js';
import { Wallet } from '../../src/wallet/index.js';
import { useRegtest } from '../../regtest/context.js';
import type { TestOracle } from './oracle-fixture.js';
import { startLibraryServices, twoFundedWallets, type LibraryServices } from './participant-fixture.js';

const { rpc, faucet } = useRegtest();
const tmp = mkdtempSync(join(tmpdir(), 'hashdlc-participant-negotiate-'));

let services: LibraryServices;
let oracle: TestOracle;
let coordinator: RunningCoordinator;
let window: { start: number; end: number };
const minerDir = join(tmp, 'miner');
const buyerDir = join(tmp, 'buyer');

function config(walletDir: string): ParticipantConfig {
  return services.config(walletDir);
}

/** One step as one run: a participant opened (the wallet locked), the use case, closed. */
async function step<T>(walletDir: string, fn: (p: Participant) => Promise<T>): Promise<{ result: T; notes: string[] }> {
  const notes: string[] = [];
  const p = new Participant(config(walletDir), { note: (line) => notes.push(line) });
  try {
    return { result: await fn(p), notes };
  } finally {
    await p.close();
  }
}

/** What a use case threw. */
async function refusal(walletDir: string, fn: (p: Participant) => Promise<unknown>): Promise<ParticipantError> {
  const err = await step(walletDir, fn).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ParticipantError);
  return err as ParticipantError;
}

/** POST requests this process sent to the coordinator, by path (the library's fetches, spied on). */
const fetchSpy = vi.spyOn(globalThis, 'fetch');
function requestsTo(path: string): number {
  return fetchSpy.mock.calls.filter(([url, init]) => init?.method === 'POST' && String(url) === `${coordinator.url}${path}`).length;
}

beforeAll(async () => {
  const tip = await rpc.getBlockCount();
  window = { start: tip + 40, end: tip + 50 };
  // No watcher: nothing here waits for confirmations; fund broadcasts by itself.
  services = await startLibraryServices(rpc, tmp);
  ({ oracle, coordinator } = services);
  await twoFundedWallets(faucet, minerDir, buyerDir);
}, 180_000);

afterAll(async () => {
  await services?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('a sale through the library alone', () => {
  let id: string;
  let delivery: string;

  it('makeOffer: a dry run posts and stores nothing; the offer is stored and in the book', async () => {
    delivery = Wallet.open(buyerDir).newReceiveAddress().address;
    const input = { template: 'hashpower' as const, window, hashrateThs: 100n, deliveryAddress: delivery, escrow: 300_000n, collateral: 200_000n };
    const dry = (await step(minerDir, (p) => makeOffer(p, { ...input, dryRun: true }))).result;
    expect(dry.dryRun).toBe(true);
    expect(dry.terms.template).toBe('hashpower-sale');
    expect(dry.feeRatePerVb).toBe(2n);
    expect(Wallet.open(minerDir).contracts.list()).toEqual([]);

    const { result, notes } = await step(minerDir, (p) => makeOffer(p, input));
    if (result.dryRun) throw new Error('posted offer expected');
    id = result.id;
    expect(notes.some((n) => n.includes("requesting the oracle's hashpower-delivery event"))).toBe(true);
    expect(result.summary.some((l) => l.startsWith('funding deadline: height'))).toBe(true);
    const rec = Wallet.open(minerDir).contracts.get(id);
    expect(rec.state).toBe('offered');
    expect(rec.reservedOutpoints).toHaveLength(1);

    const book = (await step(buyerDir, (p) => listOffers(p, { template: 'hashpower-sale' }))).result;
    expect(book.rows.find((r) => r.id === id)?.price).toBe('300000 sats');
    const shown = (await step(buyerDir, (p) => showOffer(p, id))).result;
    expect(shown.terms).toEqual(result.terms);
  });

  it('acceptOffer: checked, stored, posted; run again it re-sends the stored accept_dlc (no new keys or coins)', async () => {
    const dry = (await step(buyerDir, (p) => acceptOffer(p, { id, dryRun: true }))).result;
    expect(dry.dryRun).toBe(true);
    expect(Wallet.open(buyerDir).contracts.has(id)).toBe(false);

    const first = (await step(buyerDir, (p) => acceptOffer(p, { id }))).result;
    if (first.dryRun) throw new Error('accept expected');
    expect(first.resent).toBe(false);
    const stored = Wallet.open(buyerDir).contracts.get(id);
    expect(stored.state).toBe('accepted');
    // The contract id the accept prints finds the record too (`hashdlc fund <contract-id>` right after accept).
    expect(stored.contractId).toBe(first.contractId);
    expect(Wallet.open(buyerDir).contracts.get(first.contractId).id).toBe(id);

    const again = (await step(buyerDir, (p) => acceptOffer(p, { id }))).result;
    if (again.dryRun) throw new Error('accept expected');
    expect(again.resent).toBe(true);
    expect(again.contractId).toBe(first.contractId);
    const after = Wallet.open(buyerDir).contracts.get(id);
    // The coordinator had it already: the record is not marked failed, its keys and coins unchanged.
    expect(after.state).toBe('accepted');
    expect(after.keyIndex).toBe(stored.keyIndex);
    expect(after.accept).toBe(stored.accept);
    expect(after.reservedOutpoints).toEqual(stored.reservedOutpoints);
  });

  it('signContract: the offerer signs once; run again on a signed contract it refuses (STATE), sending nothing', async () => {
    const signed = (await step(minerDir, (p) => signContract(p, { id }))).result;
    if (signed.psbtOut) throw new Error('signature expected');
    expect(signed.state).toBe('signed');
    expect(signed.resent).toBe(false);
    expect(Wallet.open(minerDir).contracts.get(id).state).toBe('signed');
    const signs = requestsTo(`/v1/contracts/${id}/sign`);
    expect(signs).toBe(1);

    const err = await refusal(minerDir, (p) => signContract(p, { id }));
    expect(err.code).toBe('STATE');
    expect(err.message).toBe(`contract ${id} is signed already (state signed)`);
    expect(requestsTo(`/v1/contracts/${id}/sign`)).toBe(signs);
  });

  it('signContract after a crash between storing sign_dlc and recording it sent: the stored one is sent again, nothing signed anew', async () => {
    // The state an interrupted run leaves: sign_dlc stored, the record still `accepted`.
    const w = Wallet.open(minerDir);
    const signedRecord = w.contracts.get(id);
    w.contracts.save({ ...signedRecord, state: 'accepted' });
    const before = requestsTo(`/v1/contracts/${id}/sign`);
    const again = (await step(minerDir, (p) => signContract(p, { id }))).result;
    if (again.psbtOut) throw new Error('signature expected');
    // The coordinator had it (that POST had gone through): the repeat is recognised as done.
    expect(again.resent).toBe(true);
    expect(again.state).toBe('signed');
    expect(requestsTo(`/v1/contracts/${id}/sign`)).toBe(before + 1);
    const after = Wallet.open(minerDir).contracts.get(id);
    expect(after.state).toBe('signed');
    expect(after.sign).toBe(signedRecord.sign);
  });

  it('fundContract: the coordinator broadcasts our funding; a run after a lost answer finds it funded and sends nothing', async () => {
    const funded = (await step(buyerDir, (p) => fundContract(p, { id }))).result;
    if (funded.psbtOut) throw new Error('funding expected');
    expect(funded.broadcastBy).toBe('coordinator');
    expect(funded.alreadyFunded).toBe(false);
    expect(await rpc.getRawMempool()).toContain(funded.fundingTxid);
    const funds = requestsTo(`/v1/contracts/${id}/fund`);
    expect(funds).toBe(1);

    // Crash after the POST, before the record was saved: the local record knows no funding yet.
    const w = Wallet.open(buyerDir);
    const { fundingTxid: _dropped, ...unfunded } = w.contracts.get(id);
    w.contracts.save({ ...unfunded, state: 'signed' });
    const again = (await step(buyerDir, (p) => fundContract(p, { id }))).result;
    if (again.psbtOut) throw new Error('funding expected');
    expect(again.alreadyFunded).toBe(true);
    expect(again.fundingTxid).toBe(funded.fundingTxid);
    expect(requestsTo(`/v1/contracts/${id}/fund`)).toBe(funds);
    expect(Wallet.open(buyerDir).contracts.get(id).fundingTxid).toBe(funded.fundingTxid);
  });

  it('the interactive command and the library share one code path: the same refusal, word for word', async () => {
    const lib = await refusal(buyerDir, (p) => fundContract(p, { id }));
    expect(lib.code).toBe('STATE');
    const cli = new StackParticipant('buyer', buyerDir, { rpc: inject('regtest').rpc, coordinator: coordinator.url, oracles: [oracle.oracle.url], threads: 1 });
    const r = await runCli(cli, ['fund', id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`STATE: ${lib.message}`);

    const wrongRole = await refusal(buyerDir, (p) => signContract(p, { id }));
    const r2 = await runCli(cli, ['sign', id]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain(`STATE: ${wrongRole.message}`);
    expect(wrongRole.message).toBe(`contract ${id} was accepted here: the offerer signs; use 'hashdlc fund'`);
  });
});
