/**
 * Whose funding inputs a party signs, and which signatures leave the process
 * (issue 9, hole 1). A counterparty (or a coordinator posing as one) may list
 * a coin of OUR wallet among ITS funding inputs; a wallet that signs "every
 * input it owns" would then hand over a signature spending our coin for the
 * other side. So:
 *
 * - before anything is signed, the counterparty's funding inputs are checked
 *   against this wallet's scripts, its reserved coins and this party's own
 *   inputs (`refuseOurCoinsAsCounterpartyInputs`, MISMATCH
 *   `counterparty-input-ours`, naming the input);
 * - the wallet signs only this party's input indexes, on a clean copy of the
 *   funding PSBT computed here (`signOwnFundingInputs`);
 * - a PSBT signed by an external wallet (`--psbt-in`) must carry no signature
 *   on a counterparty input (`refuseForeignSignatures`, MISMATCH
 *   `foreign-input-signed`: the external wallet owns a coin the counterparty
 *   listed); such signatures are dropped, never stored or sent;
 * - with an external wallet, counterparty inputs this CLI cannot read
 *   (anything but P2WPKH) are refused (`refuseUnverifiableCounterpartyInputs`,
 *   MISMATCH `counterparty-input-unverifiable`), since that wallet may own them;
 * - what is sent or stored is `partyFundingPsbt`: a clean copy with only this
 *   party's own witnesses.
 *
 * This module does NOT verify the counterparty's signatures (protocol/contract
 * does) and does not talk to services.
 */
import type { Psbt } from 'bitcoinjs-lib';
import { Transaction } from 'bitcoinjs-lib';
import type { ContractSetup } from '../../protocol/contract/index.js';
import { fundingPsbtOf } from '../../protocol/contract/index.js';
import type { FundingInput, FundingSignatures } from '../../protocol/messages/index.js';
import { toHex } from '../../protocol/messages/index.js';
import { extractFundingSignatures, partyInputIndexes, signedInputIndexes, type Party } from '../../protocol/tx/index.js';
import type { Wallet } from '../wallet/index.js';
import { ParticipantError } from './errors.js';
import type { ContractSigner } from './signer.js';

const P2WPKH = /^0014[0-9a-f]{40}$/;

/** The outpoint (`txid:vout`) and script pubkey (hex) a dlcspecs funding input spends. */
export function spentOutput(input: FundingInput): { outpoint: string; script: string } {
  const prev = Transaction.fromBuffer(input.prevTx);
  const out = prev.outs[input.prevTxVout];
  return { outpoint: `${prev.getId()}:${input.prevTxVout}`, script: out === undefined ? '' : toHex(out.script) };
}

/** The outpoints a party's funding inputs spend. */
export function outpointsOf(inputs: readonly FundingInput[]): string[] {
  return inputs.map((i) => spentOutput(i).outpoint);
}

const OF: Record<Party, string> = { offer: "offerer's", accept: "accepter's" };
const OTHER: Record<Party, Party> = { offer: 'accept', accept: 'offer' };

/**
 * Refuses a counterparty whose funding inputs spend a coin of this wallet
 * (an address script within the gap), a coin this wallet reserved for a
 * contract (its own or an external wallet's `--utxo`), or one of this
 * party's own inputs (`ownOutpoints`). Runs before anything is signed.
 * @throws {ParticipantError} MISMATCH (`counterparty-input-ours`) naming the
 *   counterparty's input index and outpoint.
 */
export function refuseOurCoinsAsCounterpartyInputs(wallet: Wallet, counterparty: Party, inputs: readonly FundingInput[], ownOutpoints: Iterable<string> = []): void {
  const scripts = wallet.ownScripts();
  const reserved = wallet.contracts.reservations();
  const own = new Set([...ownOutpoints].map((o) => o.toLowerCase()));
  inputs.forEach((input, i) => {
    const { outpoint, script } = spentOutput(input);
    const why = scripts.has(script)
      ? 'pays an address of this wallet'
      : own.has(outpoint)
        ? 'is one of your own funding inputs'
        : reserved.has(outpoint)
          ? `is reserved by your contract ${reserved.get(outpoint)}`
          : undefined;
    if (why !== undefined) {
      throw new ParticipantError(
        'MISMATCH',
        `the ${OF[counterparty]} funding input ${i} (${outpoint}) ${why}: the counterparty lists your coin as its own; refusing before signing anything`,
        { reason: 'counterparty-input-ours' },
      );
    }
  });
}

/**
 * With an external wallet signing (`--utxo`, `--psbt-out/--psbt-in`), this
 * CLI cannot know which coins that wallet owns; it can only see signatures it
 * made (refuseForeignSignatures), which needs inputs it can read: P2WPKH.
 * @throws {ParticipantError} MISMATCH (`counterparty-input-unverifiable`) naming the input.
 */
export function refuseUnverifiableCounterpartyInputs(counterparty: Party, inputs: readonly FundingInput[]): void {
  inputs.forEach((input, i) => {
    const { outpoint, script } = spentOutput(input);
    if (input.redeemScript.length > 0 || !P2WPKH.test(script)) {
      throw new ParticipantError(
        'MISMATCH',
        `the ${OF[counterparty]} funding input ${i} (${outpoint}) is not P2WPKH: with an external wallet signing, only P2WPKH counterparty inputs are accepted (that wallet might own it)`,
        { reason: 'counterparty-input-unverifiable' },
      );
    }
  });
}

/**
 * Signs this party's funding inputs, and only those, with the contract's
 * signer (the wallet's address keys), on a clean copy of the funding PSBT
 * computed here; returns this party's witnesses (sign_dlc
 * `funding_signatures` order). A `Wallet` given directly signs with its own
 * `signInputs` (the same keys; tests hold a wallet, not a signer).
 * @throws {ParticipantError} MISMATCH when some input of ours is not this wallet's.
 */
export function signOwnFundingInputs(signer: Pick<ContractSigner, 'signFundingInputs'> | Wallet, setup: ContractSetup, party: Party): FundingSignatures {
  const psbt = fundingPsbtOf(setup);
  const indexes = partyInputIndexes(setup.funding, party);
  const { notOurs } = 'signFundingInputs' in signer ? signer.signFundingInputs(psbt, indexes) : signer.signInputs(psbt, indexes);
  if (notOurs.length > 0) {
    throw new ParticipantError('MISMATCH', `funding input(s) ${notOurs.join(', ')} are not this wallet's; use --psbt-out/--psbt-in with the wallet that owns them`);
  }
  return extractFundingSignatures(psbt, setup.funding, party);
}

/**
 * Checks a PSBT an external wallet signed: it may carry signatures on this
 * party's inputs only. Any signature on a counterparty input means that
 * wallet owns a coin the counterparty listed as its own; it is dropped (the
 * PSBT is not stored or sent) and the step refused. Returns this party's
 * witnesses.
 * @throws {ParticipantError} MISMATCH (`foreign-input-signed`) naming the inputs;
 *   {DlcError} when this party's inputs are not all signed.
 */
export function ownWitnessesOfExternalPsbt(setup: ContractSetup, psbt: Psbt, party: Party): FundingSignatures {
  const foreign = signedInputIndexes(psbt).filter((i) => setup.funding.inputs[i]?.party !== party);
  if (foreign.length > 0) {
    const named = foreign.map((i) => {
      const input = setup.funding.inputs[i]!;
      return `input ${i} (${toHex(Uint8Array.from(input.prevTxid).reverse())}:${input.prevVout}, ${OF[OTHER[party]]} input ${input.partyIndex})`;
    });
    throw new ParticipantError(
      'MISMATCH',
      `SIGNATURES ON THE COUNTERPARTY'S INPUTS: the external wallet signed ${named.join(', ')}, which the counterparty listed as its own; those signatures are discarded and nothing was sent. The counterparty is trying to spend your coin: do not continue this contract`,
      { reason: 'foreign-input-signed' },
    );
  }
  return extractFundingSignatures(psbt, setup.funding, party);
}
