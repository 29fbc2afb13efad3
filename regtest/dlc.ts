/**
 * Regtest DLC helpers: two parties with REAL funded outputs on the node, an
 * offer_dlc / accept_dlc whose funding inputs carry the previous transactions
 * as the node has them, the accept/sign signature exchange, each party's
 * wallet signing its own funding inputs in the funding PSBT, and a party
 * completing the attested CET with its own key and the other's adaptor signature.
 *
 * Every transaction is built by protocol/ (setupContract, buildFundingPsbt,
 * combinePsbts, finalizeFundingPsbt, completeAttestedCetAsParty, signedCet); this module
 * only supplies keys, real UTXOs and the node.
 *
 * This module does NOT check signatures it produces (the node does, which is
 * the point of a regtest test: `completeCetAsParty` happily builds a witness
 * from a wrong decryption key), does not pick locktimes (the caller knows the
 * chain height it wants), and holds no state between calls.
 */
import { Psbt, address as btcAddress, payments } from 'bitcoinjs-lib';
import type { Signer, Transaction } from 'bitcoinjs-lib';
import type { ContractSetup } from '../protocol/contract/index.js';
import {
  completeAttestedCetAsParty,
  setupContract,
  signCets,
  signedCet,
  signRefund,
  verifyCetSignatures,
  verifyRefundSignature,
} from '../protocol/contract/index.js';
import type { AttestedSlot, CompletedCet, IndexedAttestation } from '../protocol/contract/index.js';
import { adaptorDecrypt, ecdsaSign } from '../protocol/crypto/index.js';
import type {
  AcceptDlc,
  CetAdaptorSignatures,
  ContractDescriptor,
  FundingInput,
  OfferDlc,
  OracleAnnouncement,
} from '../protocol/messages/types.js';
import type { FundingTransaction, Party } from '../protocol/tx/index.js';
import { buildFundingPsbt, combinePsbts, finalizeFundingPsbt } from '../protocol/tx/index.js';
import type { BitcoinRpc } from '../src/chain/rpc.js';
import type { Faucet } from './helpers.js';
import { mineBlocks } from './helpers.js';
import { REGTEST, TestKey } from './wallet.js';
import type { Utxo } from './wallet.js';

/**
 * chain_hash of regtest (Protocol.md offer_dlc): the genesis block hash in
 * internal byte order, i.e. the reverse of the displayed 0f9188f1...6e2206.
 */
export const REGTEST_CHAIN_HASH: Uint8Array = Uint8Array.from(
  Buffer.from('06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f', 'hex'),
);

/**
 * max_witness_len of a P2WPKH (or P2SH-P2WPKH) input: 1 (item count) + 1 + 72
 * (DER signature, low-S but not ground to low-R, plus the sighash byte) + 1 + 33
 * (compressed pubkey). dlcspecs' examples use 107, which assumes low-R
 * grinding; our signer (tiny-secp256k1, RFC6979) does not grind, and
 * finalizeFundingPsbt refuses a witness longer than announced.
 */
export const P2WPKH_MAX_WITNESS_LEN = 108;

/** One real output a party funds the contract with. */
export interface WalletInput {
  key: TestKey;
  utxo: Utxo;
  /** P2SH-wrapped P2WPKH (BIP 141 "P2WPKH nested in BIP16 P2SH") instead of native P2WPKH. */
  wrapped: boolean;
}

/** One party's keys and coins for a DLC on regtest. */
export interface DlcWallet {
  party: Party;
  /** The key of the 2-of-2 funding output (offer/accept `funding_pubkey`). */
  fundingKey: TestKey;
  /** Where CET, refund and close payouts go (`payout_spk`). */
  payout: TestKey;
  /** Where the funding transaction's change goes (`change_spk`). */
  change: TestKey;
  inputs: WalletInput[];
}

/** The P2SH-P2WPKH scriptPubKey, redeem script and address of a key. */
export function p2shP2wpkh(key: TestKey): { address: string; outputScript: Uint8Array; redeemScript: Uint8Array } {
  const inner = payments.p2wpkh({ pubkey: key.publicKey, network: REGTEST });
  const outer = payments.p2sh({ redeem: inner, network: REGTEST });
  return { address: outer.address!, outputScript: outer.output!, redeemScript: inner.output! };
}

/**
 * A party with fresh keys and one output of `valueSats` paid by the faucet
 * (P2WPKH, or P2SH-P2WPKH when `wrapped`). Unconfirmed unless `confirm`.
 * @throws {Error} when the faucet is empty; {ChainError} from the node.
 */
export async function fundDlcWallet(
  faucet: Faucet,
  party: Party,
  valueSats: bigint,
  options: { wrapped?: boolean; confirm?: boolean } = {},
): Promise<DlcWallet> {
  const key = TestKey.random();
  const wrapped = options.wrapped ?? false;
  const address = wrapped ? p2shP2wpkh(key).address : key.address;
  const utxo = await faucet.fund(address, valueSats, { confirm: options.confirm ?? false });
  return { party, fundingKey: TestKey.random(), payout: TestKey.random(), change: TestKey.random(), inputs: [{ key, utxo, wrapped }] };
}

/**
 * The offer/accept `funding_inputs` entry of a wallet input, with the previous
 * transaction as the node returns it (getrawtransaction: mempool or -txindex).
 * @throws {ChainError} CHAIN_NOT_FOUND when the node does not know the transaction.
 */
export async function fundingInputFromNode(
  rpc: BitcoinRpc,
  input: WalletInput,
  serialId: bigint,
  sequence = 0xffffffff,
): Promise<FundingInput> {
  const prevTx = Uint8Array.from(Buffer.from(await rpc.getRawTransactionHex(input.utxo.txid), 'hex'));
  return {
    inputSerialId: serialId,
    prevTx,
    prevTxVout: input.utxo.vout,
    sequence,
    maxWitnessLen: P2WPKH_MAX_WITNESS_LEN,
    redeemScript: input.wrapped ? p2shP2wpkh(input.key).redeemScript : new Uint8Array(0),
  };
}

/** What a DLC on regtest is made of. */
export interface RegtestDlcOptions {
  announcement: OracleAnnouncement;
  descriptor: ContractDescriptor;
  offerCollateral: bigint;
  acceptCollateral: bigint;
  /** Block height; CETs are final once the next block's height reaches it. */
  cetLocktime: number;
  /** Block height, above `cetLocktime`. */
  refundLocktime: number;
  /** Default 2 sat/vB. */
  feeRatePerVb?: bigint;
  /** Fund the offerer (or accepter) with a P2SH-P2WPKH output. */
  offerWrapped?: boolean;
  acceptWrapped?: boolean;
  /** Funded above the collateral by this much (fees and change); default 50,000 sats. */
  marginSats?: bigint;
}

/** An offer and an accept (before signatures) over real UTXOs, with both wallets. */
export interface RegtestDlc {
  offer: OfferDlc;
  acceptUnsigned: AcceptDlc;
  offerWallet: DlcWallet;
  acceptWallet: DlcWallet;
}

function randomId(): Uint8Array {
  return TestKey.random().privateKey.slice();
}

/**
 * Funds both parties from the faucet (one block mined to confirm both), and
 * writes their offer_dlc and accept_dlc (accept signatures left empty:
 * `exchangeDlcSignatures` fills them). Serial ids are fixed and distinct.
 * @throws {Error} when the faucet is empty; {ChainError} from the node.
 */
export async function prepareRegtestDlc(rpc: BitcoinRpc, faucet: Faucet, opts: RegtestDlcOptions): Promise<RegtestDlc> {
  const margin = opts.marginSats ?? 50_000n;
  const offerWallet = await fundDlcWallet(faucet, 'offer', opts.offerCollateral + margin, { wrapped: opts.offerWrapped ?? false });
  const acceptWallet = await fundDlcWallet(faucet, 'accept', opts.acceptCollateral + margin, { wrapped: opts.acceptWrapped ?? false });
  await mineBlocks(rpc, 1);
  const temporaryContractId = randomId();
  const offer: OfferDlc = {
    protocolVersion: 1,
    contractFlags: 0,
    chainHash: REGTEST_CHAIN_HASH,
    temporaryContractId,
    contractInfo: {
      singleContractInfo: {
        totalCollateral: opts.offerCollateral + opts.acceptCollateral,
        contractInfo: { contractDescriptor: opts.descriptor, oracleInfo: { single: { oracleAnnouncement: opts.announcement } } },
      },
    },
    fundingPubkey: offerWallet.fundingKey.publicKey,
    payoutSpk: offerWallet.payout.outputScript,
    payoutSerialId: 11n,
    offerCollateral: opts.offerCollateral,
    fundingInputs: [await fundingInputFromNode(rpc, offerWallet.inputs[0]!, 21n)],
    changeSpk: offerWallet.change.outputScript,
    changeSerialId: 31n,
    fundOutputSerialId: 41n,
    feeRatePerVb: opts.feeRatePerVb ?? 2n,
    cetLocktime: opts.cetLocktime,
    refundLocktime: opts.refundLocktime,
  };
  const acceptUnsigned: AcceptDlc = {
    protocolVersion: 1,
    temporaryContractId,
    acceptCollateral: opts.acceptCollateral,
    fundingPubkey: acceptWallet.fundingKey.publicKey,
    payoutSpk: acceptWallet.payout.outputScript,
    payoutSerialId: 12n,
    fundingInputs: [await fundingInputFromNode(rpc, acceptWallet.inputs[0]!, 22n)],
    changeSpk: acceptWallet.change.outputScript,
    changeSerialId: 32n,
    cetAdaptorSignatures: { ecdsaAdaptorSignatures: [] },
    refundSignature: new Uint8Array(64),
    negotiationFields: null,
  };
  return { offer, acceptUnsigned, offerWallet, acceptWallet };
}

/** How CET adaptor signatures are made and checked (default: protocol/contract, single thread). */
export interface CetSigner {
  sign(setup: ContractSetup, fundingSecretKey: Uint8Array): Promise<CetAdaptorSignatures> | CetAdaptorSignatures;
  verify(setup: ContractSetup, party: Party, sigs: CetAdaptorSignatures): Promise<void> | void;
}

const inThreadSigner: CetSigner = { sign: signCets, verify: verifyCetSignatures };

/** The contract once both parties have exchanged and checked signatures. */
export interface SignedDlc {
  /** The offerer's set-up (the accepter's is identical). */
  setup: ContractSetup;
  /** accept_dlc with the accepter's CET adaptor signatures and refund signature. */
  accept: AcceptDlc;
  /** sign_dlc's CET adaptor signatures and refund signature. */
  offerCetSignatures: CetAdaptorSignatures;
  offerRefundSignature: Uint8Array;
}

/**
 * accept_dlc then sign_dlc (Protocol.md): the accepter derives the contract and
 * signs every CET and the refund; the offerer derives it, verifies those, and
 * signs; the accepter verifies the offerer's.
 * @throws {DlcError} BAD_SIGNATURE when a party's signature does not verify.
 */
export async function exchangeDlcSignatures(dlc: RegtestDlc, signer: CetSigner = inThreadSigner): Promise<SignedDlc> {
  const acceptSide = setupContract(dlc.offer, dlc.acceptUnsigned);
  const accept: AcceptDlc = {
    ...dlc.acceptUnsigned,
    cetAdaptorSignatures: await signer.sign(acceptSide, dlc.acceptWallet.fundingKey.privateKey),
    refundSignature: signRefund(acceptSide, dlc.acceptWallet.fundingKey.privateKey),
  };
  const offerSide = setupContract(dlc.offer, accept);
  await signer.verify(offerSide, 'accept', accept.cetAdaptorSignatures);
  verifyRefundSignature(offerSide, 'accept', accept.refundSignature);
  const offerCetSignatures = await signer.sign(offerSide, dlc.offerWallet.fundingKey.privateKey);
  const offerRefundSignature = signRefund(offerSide, dlc.offerWallet.fundingKey.privateKey);
  await signer.verify(acceptSide, 'offer', offerCetSignatures);
  verifyRefundSignature(acceptSide, 'offer', offerRefundSignature);
  return { setup: offerSide, accept, offerCetSignatures, offerRefundSignature };
}

/** A bitcoinjs-lib Signer over a test key (64-byte compact, RFC6979, low-S). */
export function keySigner(key: TestKey): Signer {
  return { publicKey: key.publicKey, sign: (hash: Uint8Array) => key.sign(hash) };
}

function ownsScript(input: WalletInput, script: Uint8Array): boolean {
  const own = input.wrapped ? p2shP2wpkh(input.key).outputScript : input.key.outputScript;
  return Buffer.from(own).equals(Buffer.from(script));
}

/**
 * What a party's wallet does with the funding PSBT: sign (Psbt.signInput,
 * SIGHASH_ALL) every input whose spent output is one of its own, and nothing
 * else. Returns a new PSBT.
 * @returns the signed PSBT and the transaction indexes of the inputs signed.
 */
export function signOwnFundingInputs(psbt: Psbt, funding: FundingTransaction, wallet: DlcWallet): { psbt: Psbt; signed: number[] } {
  const out = psbt.clone();
  const signed: number[] = [];
  funding.inputs.forEach((input, i) => {
    const mine = wallet.inputs.find((w) => ownsScript(w, input.prevOutput.script));
    if (mine === undefined) return;
    out.signInput(i, keySigner(mine.key));
    signed.push(i);
  });
  return { psbt: out, signed };
}

/**
 * The funding PSBT round: build, each wallet signs its inputs, combine, finalize.
 * @throws {DlcError} from protocol/tx when an input stays unsigned.
 */
export function signFundingTransaction(setup: ContractSetup, offerWallet: DlcWallet, acceptWallet: DlcWallet): Transaction {
  const psbt = buildFundingPsbt(setup.funding);
  const byOffer = signOwnFundingInputs(psbt, setup.funding, offerWallet).psbt;
  const byAccept = signOwnFundingInputs(psbt, setup.funding, acceptWallet).psbt;
  return finalizeFundingPsbt(combinePsbts(byOffer, byAccept), setup.funding);
}

/**
 * Signs, broadcasts and (unless `mine` is false) confirms the funding transaction.
 * @returns the transaction and the hash of the block that confirmed it.
 * @throws {ChainError} when the node rejects it.
 */
export async function broadcastFunding(
  rpc: BitcoinRpc,
  dlc: Pick<RegtestDlc, 'offerWallet' | 'acceptWallet'>,
  setup: ContractSetup,
  options: { mine?: boolean } = {},
): Promise<{ tx: Transaction; blockHash: string | undefined }> {
  const tx = signFundingTransaction(setup, dlc.offerWallet, dlc.acceptWallet);
  await rpc.sendRawTransaction(tx.toHex());
  const blockHash = (options.mine ?? true) ? (await mineBlocks(rpc, 1))[0] : undefined;
  return { tx, blockHash };
}

/**
 * One party closes the contract with the attested CET (Protocol.md "Closing the
 * contract"): its own ECDSA signature over the CET's sighash, and the
 * counterparty's adaptor signature for the attested slot decrypted with the
 * attestation secret. Nothing is verified: the node is the judge. This is the
 * one deliberately unchecked completion (a forged CET must reach the node in
 * dlc-settlement.test.ts); parties use protocol/contract
 * `completeAttestedCetAsParty` (`settleAsParty` below), which checks first.
 * @throws {DlcError} for malformed signatures or keys (not for wrong ones).
 */
export function completeCetAsParty(
  setup: ContractSetup,
  attested: Pick<AttestedSlot, 'cetIndex' | 'decryptionKey'>,
  party: Party,
  ownFundingKey: TestKey,
  counterpartyAdaptorSignature: Uint8Array,
): Transaction {
  const own = ecdsaSign(ownFundingKey.privateKey, setup.cetSighashes[attested.cetIndex]!);
  const theirs = adaptorDecrypt(counterpartyAdaptorSignature, attested.decryptionKey);
  const [offerSig, acceptSig] = party === 'offer' ? [own, theirs] : [theirs, own];
  return signedCet(setup, attested.cetIndex, offerSig, acceptSig);
}

/**
 * One party settles as the CLI and the agent do: protocol/contract
 * `completeAttestedCetAsParty` over the oracles' attestations (each checked
 * against its announcement), with this test key as the signer.
 * @throws {DlcError} for a forged attestation or a counterparty signature that does not decrypt.
 */
export function settleAsParty(
  setup: ContractSetup,
  attestations: readonly IndexedAttestation[],
  party: Party,
  ownFundingKey: TestKey,
  counterpartyAdaptorSignatures: CetAdaptorSignatures,
): Promise<CompletedCet> {
  return completeAttestedCetAsParty(setup, attestations, party, (sighash) => ecdsaSign(ownFundingKey.privateKey, sighash), counterpartyAdaptorSignatures);
}

/**
 * What a confirmed or mempool transaction pays to each scriptPubKey (hex), as
 * the node reports it.
 * @throws {ChainError} CHAIN_NOT_FOUND when the node does not know the transaction.
 */
export async function paidByTransaction(rpc: BitcoinRpc, txid: string): Promise<Map<string, bigint>> {
  const tx = await rpc.getRawTransaction(txid);
  const paid = new Map<string, bigint>();
  for (const o of tx.vout) paid.set(o.scriptPubKey.hex, (paid.get(o.scriptPubKey.hex) ?? 0n) + o.valueSats);
  return paid;
}

/** The scriptPubKey hex of an address or script (the key of `paidByTransaction`'s map). */
export function scriptHex(target: string | Uint8Array): string {
  return Buffer.from(typeof target === 'string' ? btcAddress.toOutputScript(target, REGTEST) : target).toString('hex');
}
