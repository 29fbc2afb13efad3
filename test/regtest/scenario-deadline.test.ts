/**
 * Issue 9, hole 2 (the accepter's free option) attacked on the stack of `npm
 * start` (oracle and coordinator as child processes) with the participants'
 * library steps (those of `hashdlc`) on the regtest node:
 *
 * the buyer accepts, the miner signs, and the buyer HOLDS the fully signed
 * funding transaction past the funding deadline, waiting to see how the
 * window goes. The coordinator refuses `fund` (EXPIRED) and expires the
 * contract; the buyer's own CLI refuses `fund` and `fund --broadcast`; the
 * miner's `cancel` double-spends its own funding inputs back to its wallet
 * (confirmed on chain), after which the held funding transaction can never
 * be mined. The miner loses nothing but the cancel fee; the buyer's coins
 * are untouched. Also the mempool race: the buyer broadcasts the held
 * funding transaction after the deadline and the miner's cancel replaces it
 * (BIP125: the funding inputs signal replaceability).
 *
 * Issue 9, hole 3 on the same stack: the oracle's operator creates delivery
 * events over a window that has started and over one already attested; the
 * miner's CLI refuses to offer on them and the coordinator refuses such an
 * offer posted directly (EXPIRED window-started / event-attested).
 */
import { Psbt, Transaction } from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupContract } from '../../protocol/contract/index.js';
import { decodeMessage, fromHex, toHex } from '../../protocol/messages/index.js';
import { addFundingSignaturesToPsbt } from '../../protocol/tx/index.js';
import { loadContract, needAccept, needSign } from '../../src/participant/contract.js';
import { waitForContractState, type StackParticipant } from '../../src/stack/index.js';
import { useRegtest } from '../../regtest/context.js';
import { mineBlocks, mineToHeight } from '../../regtest/index.js';
import { api, identityOf, saleParties } from '../coordinator-fixtures.js';
import { SIMDIFF_100THS_AT_HALF } from './coordinator-fixtures.js';
import { newAddress, saleOffer, startExtraOracle, startWorld, type ExtraOracle, type World } from './scenario-helpers.js';

let w: World;
/** An oracle whose operator token the test holds (the operator may create events over past windows). */
let operated: ExtraOracle;

beforeAll(async () => {
  operated = await startExtraOracle(useRegtest().rpc, SIMDIFF_100THS_AT_HALF);
  w = await startWorld({ extraOracleUrls: [operated.url] });
}, 180_000);

afterAll(async () => {
  await w?.close();
  await operated?.close();
});

/** Offer (default funding deadline), accept, sign: the buyer now holds everything it needs to fund. */
async function signedSale(label: string): Promise<{ id: string; deadline: number }> {
  const tip = await w.rpc.getBlockCount();
  const window = { start: tip + 12, end: tip + 16 };
  const offer = await w.miner.offer({ ...saleOffer({ window, deliveryAddress: await newAddress(w.buyer) }), feeRatePerVb: 2n });
  expect(offer.fundingDeadline, label).toBe(window.start - 2);
  expect(offer.terms.fundingDeadline).toBe(window.start - 2);
  await w.buyer.accept(offer.id);
  await w.miner.sign(offer.id);
  return { id: offer.id, deadline: offer.fundingDeadline };
}

/**
 * What the attacking buyer keeps: the funding PSBT with the offerer's witnesses
 * (from the sign_dlc it holds) and its own inputs signed, and the final transaction.
 */
async function holdFunding(id: string): Promise<{ psbt: Psbt; tx: Transaction }> {
  const out = await w.buyer.fund(id, { psbtOut: true });
  if (!out.psbtOut) throw new Error('fund --psbt-out returned no PSBT');
  const wallet = w.buyer.wallet();
  const c = loadContract(wallet, id);
  const setup = setupContract(c.offer, needAccept(c), c.flow);
  const psbt = addFundingSignaturesToPsbt(Psbt.fromBase64(out.psbt), setup.funding, 'offer', needSign(c).fundingSignatures);
  const own = setup.funding.inputs.flatMap((input, i) => (input.party === 'accept' ? [i] : []));
  const { signed } = wallet.signInputs(psbt, own);
  expect(signed).toEqual(own);
  const partial = Psbt.fromBase64(psbt.toBase64());
  for (const i of signed) psbt.finalizeInput(i);
  return { psbt: partial, tx: psbt.extractTransaction() };
}

/** Confirmed sats of a participant's wallet. */
async function balance(p: StackParticipant): Promise<bigint> {
  return (await p.wallet().utxos(w.rpc)).reduce((s, u) => s + u.valueSats, 0n);
}

/** The miner's `cancel`, which double-spent its funding inputs on chain. */
async function cancelled(p: StackParticipant, id: string): Promise<{ txid: string; spends: string[]; fee: bigint }> {
  const r = await p.cancel(id);
  if (r.kind !== 'cancelled' || r.onChain === undefined) throw new Error(`cancel ${id}: no cancel transaction (${r.kind})`);
  return r.onChain;
}

const outpoint = (i: { hash: Uint8Array; index: number }): string => `${Buffer.from(i.hash).reverse().toString('hex')}:${i.index}`;

describe('the funding deadline closes the accepter\'s free option', () => {
  it('past the deadline: coordinator and CLI refuse to fund, the contract expires, the miner double-spends its inputs and the held funding can never confirm', async () => {
    const { id, deadline } = await signedSale('held');
    const held = await holdFunding(id);
    const minerInputs = held.tx.ins.filter((_, i) => held.psbt.data.inputs[i]!.finalScriptWitness !== undefined).map(outpoint);
    const buyerInputs = held.tx.ins.map(outpoint).filter((o) => !minerInputs.includes(o));
    expect(minerInputs.length).toBeGreaterThan(0);
    expect(buyerInputs.length).toBeGreaterThan(0);
    const minerBefore = await balance(w.miner);
    const buyerBefore = await balance(w.buyer);

    // The buyer waits: the tip reaches the deadline.
    await mineToHeight(w.rpc, deadline);

    // The coordinator refuses the buyer's (correctly signed) fund request, naming why...
    const keys = w.buyer.wallet().keys.contractKeys(w.buyer.wallet().contracts.get(id).keyIndex);
    const r = await api(w.coordinatorUrl, 'POST', `/v1/contracts/${id}/fund`, { body: { fundingPsbt: held.psbt.toBase64() }, key: keys.identitySecretKey });
    expect(r.status, JSON.stringify(r.body)).toBe(409);
    // (funding-deadline-passed, or state-expired once its watcher has expired the contract)
    expect(r.body.error).toMatchObject({ code: 'EXPIRED', reason: expect.stringMatching(/^(funding-deadline-passed|state-expired)$/) });
    // ...and its watcher moves the contract to `expired`.
    const view = await waitForContractState(w.coordinatorUrl, id, ['expired']);
    expect(view).toMatchObject({ state: 'expired', endedFrom: 'signed' });

    // The buyer's own fund step refuses too, through the coordinator or its own node.
    for (const broadcast of [false, true]) {
      await expect(w.buyer.fund(id, { broadcast }), `fund broadcast=${broadcast}`).rejects.toMatchObject({ code: 'EXPIRED', reason: 'funding-deadline-passed' });
    }
    expect(await w.rpc.getRawMempool()).not.toContain(held.tx.getId());

    // The miner cancels: its own funding inputs, and only those, go back to its own wallet.
    const cancel = await cancelled(w.miner, id);
    expect(cancel.spends.sort()).toEqual([...minerInputs].sort());
    await mineBlocks(w.rpc, 1);
    const cancelTx = Transaction.fromHex(await w.rpc.getRawTransactionHex(cancel.txid));
    expect((await w.rpc.getRawTransaction(cancel.txid)).confirmations).toBeGreaterThanOrEqual(1);
    expect(cancelTx.ins.map(outpoint).sort()).toEqual([...minerInputs].sort());
    const minerScripts = new Set(w.miner.wallet().watchedAddresses().map((a) => toHex(a.script)));
    expect(cancelTx.outs.every((o) => minerScripts.has(toHex(o.script)))).toBe(true);

    // The held funding transaction can never be mined now.
    await expect(w.rpc.sendRawTransaction(held.tx.toHex())).rejects.toMatchObject({ code: 'CHAIN_MISSING_INPUTS' });
    // Nothing lost: the miner is down the cancel fee only; the buyer's coins never moved.
    expect(await balance(w.miner)).toBe(minerBefore - cancel.fee);
    expect(await balance(w.buyer)).toBe(buyerBefore);
    for (const o of buyerInputs) {
      const [txid, vout] = o.split(':');
      expect(await w.rpc.getTxOut(txid!, Number(vout), false)).not.toBeNull();
    }
    expect(w.miner.wallet().contracts.get(id).state).toBe('cancelled');
  });

  it('the mempool race: the buyer broadcasts the held funding after the deadline, the miner\'s cancel replaces it (BIP125)', async () => {
    const { id, deadline } = await signedSale('race');
    const held = await holdFunding(id);
    await mineToHeight(w.rpc, deadline);
    // The node takes it (the deadline is the parties' rule, not consensus)...
    await w.rpc.sendRawTransaction(held.tx.toHex());
    expect(await w.rpc.getRawMempool()).toContain(held.tx.getId());
    // ...and the miner's cancel, paying more than the whole funding transaction, replaces it.
    const cancel = await cancelled(w.miner, id);
    const mempool = await w.rpc.getRawMempool();
    expect(mempool).toContain(cancel.txid);
    expect(mempool).not.toContain(held.tx.getId());
    await mineBlocks(w.rpc, 1);
    expect((await w.rpc.getRawTransaction(cancel.txid)).confirmations).toBeGreaterThanOrEqual(1);
    await expect(w.rpc.sendRawTransaction(held.tx.toHex())).rejects.toMatchObject({ code: 'CHAIN_MISSING_INPUTS' });
  });
});

describe('no contract on a known outcome (issue 9, hole 3)', () => {
  /** An operator-made delivery event over the `length` blocks after the tip, once `mined` more blocks are on top. */
  const pastEvent = async (mined: number, length: number) => {
    const tip = await w.rpc.getBlockCount();
    await mineBlocks(w.rpc, mined);
    const window = { start: tip + 1, end: tip + 1 + length };
    const delivery = await newAddress(w.buyer);
    return { window, delivery, ...await operatorEvent(window, delivery) };
  };
  /** An operator-made delivery event over `window`, and its announcement. */
  const operatorEvent = async (window: { start: number; end: number }, delivery: string) => {
    const eventId = await operated.createEvent({ kind: 'hashpower-delivery', window, deliveryAddress: delivery, poolPayoutAddresses: [], hashrateThs: '100' });
    const ev = (await (await fetch(`${operated.url}/v1/events/${encodeURIComponent(eventId)}`)).json()) as { announcement: { hex: string }; state: string };
    const m = decodeMessage(fromHex(ev.announcement.hex));
    if (m.type !== 'oracle_announcement') throw new Error(m.type);
    return { eventId, announcement: m.message };
  };
  /** The coordinator's answer to an offer over that event posted directly (signed, well-formed). */
  const postOffer = async (label: string, window: { start: number; end: number }, delivery: string, announcement: Awaited<ReturnType<typeof operatorEvent>>['announcement']) => {
    const p = saleParties({ label, announcement, deliveryAddress: delivery, window, fundingDeadline: window.start - 2 });
    return api(w.coordinatorUrl, 'POST', '/v1/offers', { body: { offer: p.offerHex, identityPubkey: identityOf(p.offerIdentity), terms: p.terms }, key: p.offerIdentity });
  };

  it('a window that has started: the miner\'s offer step will not offer on it, the coordinator refuses the offer (EXPIRED window-started)', async () => {
    const { window, delivery, eventId, announcement } = await pastEvent(3, 49);
    const miner = w.with(operated.url).miner;
    await expect(
      miner.offer({ template: 'hashpower', eventId, hashrateThs: 100n, deliveryAddress: delivery, escrow: 250_000n, collateral: 200_000n, feeRatePerVb: 2n }),
    ).rejects.toMatchObject({ code: 'EXPIRED', reason: 'window-started' });
    const posted = await postOffer('rt-started', window, delivery, announcement);
    expect(posted.status, JSON.stringify(posted.body)).toBe(409);
    expect(posted.body.error).toMatchObject({ code: 'EXPIRED', reason: 'window-started' });
  });

  it('an event already attested: the coordinator refuses the offer (EXPIRED event-attested)', async () => {
    const { window, delivery, eventId, announcement } = await pastEvent(4, 2);
    // The oracle attests once it has indexed the window's end.
    for (let i = 0; ; i++) {
      const ev = (await (await fetch(`${operated.url}/v1/events/${encodeURIComponent(eventId)}`)).json()) as { state: string };
      if (ev.state === 'attested') break;
      if (i > 200) throw new Error('the oracle did not attest');
      await new Promise((res) => setTimeout(res, 50));
    }
    const posted = await postOffer('rt-attested', window, delivery, announcement);
    expect(posted.status, JSON.stringify(posted.body)).toBe(409);
    expect(posted.body.error).toMatchObject({ code: 'EXPIRED', reason: 'event-attested' });
  });
});

describe('an offer nobody took, past its deadline', () => {
  it('the coordinator has expired it: the miner\'s cancel (the agent\'s at the deadline) records it cancelled and frees its coins; nothing goes on chain', async () => {
    const tip = await w.rpc.getBlockCount();
    const window = { start: tip + 12, end: tip + 16 };
    const offer = await w.miner.offer({ ...saleOffer({ window, deliveryAddress: await newAddress(w.buyer) }), feeRatePerVb: 2n });
    const held = w.miner.wallet().contracts.get(offer.id).reservedOutpoints;
    expect(held.length).toBeGreaterThan(0);
    expect(held.every((o) => w.miner.wallet().contracts.reservedOutpoints().has(o))).toBe(true);
    await mineToHeight(w.rpc, offer.fundingDeadline);
    await waitForContractState(w.coordinatorUrl, offer.id, ['expired']);

    // Before, the coordinator's refusal (INVALID_STATE state-expired) failed the cancel, and the agent's every pass with it.
    const r = await w.miner.cancel(offer.id);
    expect(r).toMatchObject({ kind: 'cancelled', state: 'cancelled', onChain: undefined, coordinator: null, already: false });
    expect(w.miner.wallet().contracts.get(offer.id).state).toBe('cancelled');
    // Its coins are no longer held for it: the wallet's coin selection sees them again.
    expect(held.some((o) => w.miner.wallet().contracts.reservedOutpoints().has(o))).toBe(false);
  });
});
