/**
 * src/participant/status.ts on a strip against a lying coordinator: `hashdlc
 * status` takes a period's funding txid from the coordinator only when it is
 * the funding transaction the period's own stored messages rebuild (with the
 * strip's batch). Recorded, another txid would make settle and refund refuse
 * the period forever (settle.ts `checkSpendsOwnOutput`: "the one recorded is
 * ...") and `fund` take the strip as funded: a coordinator could lock the
 * parties' coins with one false answer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fundingPsbtOf } from '../protocol/contract/index.js';
import { toHex } from '../protocol/messages/index.js';
import { batchToJson, checkStripOffersAgainstTerms } from '../protocol/terms/index.js';
import { Participant } from '../src/participant/participant.js';
import { coordinatorTxids, stripStatus } from '../src/participant/status.js';
import { Wallet, type ContractRecord } from '../src/wallet/index.js';
import { stripParties } from './coordinator-fixtures.js';
import { testOracle } from './helpers/dlc-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'hashdlc-strip-status-'));
const strip = stripParties({ label: 'strip-status', periods: 3, oracle: testOracle('strip-status') });
const accepted = strip.accepts();
const ids = strip.offers.map((o) => toHex(o.temporaryContractId));
const realTxid = accepted[0]!.setup.funding.txidHex;
const otherTxid = 'ab'.repeat(32);

/** The accepter's wallet holding the strip's 3 period records, signed and not funded yet. */
function walletWithStrip(): { dir: string; wallet: Wallet } {
  const dir = mkdtempSync(join(root, 'w-'));
  Wallet.init(dir, 'regtest');
  const wallet = Wallet.open(dir);
  const { contracts } = checkStripOffersAgainstTerms(strip.offers, strip.terms);
  strip.offers.forEach((_, i) => {
    const r: ContractRecord = {
      version: 1, id: ids[i]!, role: 'accept', network: 'regtest', keyIndex: 0, state: 'signed', history: [],
      hashProfile: 'sha256',
      terms: strip.periodTerms[i] as Record<string, unknown>,
      offer: strip.offerHexes[i]!,
      accept: accepted[i]!.acceptHex,
      contractId: toHex(accepted[i]!.setup.contractId),
      fundingPsbt: fundingPsbtOf(accepted[i]!.setup).toBase64(),
      reservedOutpoints: [],
      strip: { id: ids[0]!, terms: strip.terms as Record<string, unknown>, batch: batchToJson(contracts, i) },
    };
    wallet.contracts.save(r);
  });
  return { dir, wallet };
}

/** A coordinator that says the strip is funded, period 2 by ANOTHER transaction. */
let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    const contracts = ids.map((id, i) => ({ id, state: 'funding-broadcast', fundingTxid: i === 1 ? otherTxid : realTxid }));
    res.setHeader('content-type', 'application/json');
    if (req.url === `/v1/strips/${ids[0]}`) {
      res.end(JSON.stringify({ id: ids[0], periods: 3, state: 'funding-broadcast', terms: strip.terms, fundingTxid: otherTxid, batchFundingGroup: '00', contracts }));
      return;
    }
    res.statusCode = 404;
    res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no' } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(root, { recursive: true, force: true });
});

function participant(dir: string, notes: string[]): Participant {
  return new Participant(
    { network: 'regtest', networkGiven: true, walletDir: dir, coordinator: url, oracles: [], oraclePubkeys: [], oracleThreshold: undefined, rpc: undefined, feeRatePerVb: undefined, threads: 0 },
    { note: (l) => notes.push(l) },
  );
}

describe('strip status against a coordinator naming another funding transaction', () => {
  it('records the rebuilt funding txid on periods 1 and 3, none on period 2 (noted)', async () => {
    const { dir } = walletWithStrip();
    const notes: string[] = [];
    const p = participant(dir, notes);
    const r = (await stripStatus(p, { id: ids[1]! }))!;
    expect(r.periods.map((x) => x.record.state)).toEqual(['funding-broadcast', 'funding-broadcast', 'funding-broadcast']);
    expect(r.periods.map((x) => x.record.fundingTxid)).toEqual([realTxid, undefined, realTxid]);
    // The strip's funding txid is ours, never the coordinator's own claim.
    expect(r.fundingTxid).toBe(realTxid);
    expect(notes.some((n) => n.includes(ids[1]!) && n.includes(otherTxid) && n.includes(realTxid) && n.includes('not recorded'))).toBe(true);
    // Stored: a later settle or refund of period 2 rebuilds and checks against nothing false.
    expect(p.wallet().contracts.get(ids[1]!).fundingTxid).toBeUndefined();
  });

  it('coordinatorTxids: a record without an accept takes no funding txid; one recorded is never replaced', () => {
    const { dir, wallet } = walletWithStrip();
    const notes: string[] = [];
    const p = participant(dir, notes);
    const bare = { ...wallet.contracts.get(ids[0]!), accept: undefined } as ContractRecord;
    expect(coordinatorTxids(p, wallet, bare, { fundingTxid: realTxid, closingTxid: 'cd'.repeat(32) })).toEqual({ closingTxid: 'cd'.repeat(32) });
    const funded = { ...wallet.contracts.get(ids[0]!), fundingTxid: realTxid };
    expect(coordinatorTxids(p, wallet, funded, { fundingTxid: otherTxid })).toEqual({});
    expect(coordinatorTxids(p, wallet, wallet.contracts.get(ids[2]!), { fundingTxid: realTxid })).toEqual({ fundingTxid: realTxid });
  });
});
