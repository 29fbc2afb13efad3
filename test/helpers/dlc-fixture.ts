/**
 * A complete two-party numeric DLC made from fresh keys, for tests: an oracle
 * (BIP340 key, deterministic nonces, signed announcement), an offer and an
 * accept with P2WPKH funding inputs spending synthetic previous transactions.
 * Regtest tests swap the synthetic prevTxs for real funded ones.
 */
import { Transaction } from 'bitcoinjs-lib';
import { sha256 } from '@noble/hashes/sha2.js';
import { secp } from '../../protocol/crypto/secp.js';
import { attest, eventNonces, signAnnouncement, xOnlyPublicKey } from '../../protocol/crypto/oracle.js';
import type { HashProfile } from '../../protocol/crypto/oracle.js';
import { encodeOracleEventTlv } from '../../protocol/messages/codec.js';
import type {
  AcceptDlc,
  FundingInput,
  NumericOutcomeContractDescriptor,
  OfferDlc,
  OracleAnnouncement,
  OracleAttestation,
  OracleEvent,
} from '../../protocol/messages/types.js';
import { payments } from 'bitcoinjs-lib';

export function p2wpkhScriptPubkey(pubkey: Uint8Array): Uint8Array {
  return payments.p2wpkh({ pubkey }).output!;
}

/** A deterministic 32-byte secret from a label (tests only). */
export function testSecret(label: string): Uint8Array {
  return sha256(new TextEncoder().encode(`hashdlc-test:${label}`));
}

export function publicKey(secret: Uint8Array): Uint8Array {
  return secp().mulG(secret);
}

export interface TestOracle {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
  profile: HashProfile;
  announce(eventId: string, nbDigits: number, maturity?: number): OracleAnnouncement;
  attestNumeric(eventId: string, value: bigint, nbDigits: number): OracleAttestation;
}

export function testOracle(label = 'oracle', profile: HashProfile = 'sha256'): TestOracle {
  const secretKey = testSecret(label);
  const pub = xOnlyPublicKey(secretKey);
  return {
    secretKey,
    publicKey: pub,
    profile,
    announce(eventId, nbDigits, maturity = 1_700_000_000) {
      const oracleEvent: OracleEvent = {
        oracleNonces: eventNonces(secretKey, eventId, nbDigits),
        eventMaturityEpoch: maturity,
        eventDescriptor: { digitDecompositionEvent: { base: 2, isSigned: false, unit: 'bps', precision: 0, nbDigits } },
        eventId,
      };
      const announcementSignature = signAnnouncement(profile, secretKey, encodeOracleEventTlv(oracleEvent));
      return { announcementSignature, oraclePublicKey: pub, oracleEvent };
    },
    attestNumeric(eventId, value, nbDigits) {
      const outcomes = value.toString(2).padStart(nbDigits, '0').split('');
      return { eventId, oraclePublicKey: pub, signatures: attest(profile, secretKey, eventId, outcomes), outcomes };
    },
  };
}

/** A synthetic previous transaction paying `value` to `spk` (output 0). */
export function syntheticPrevTx(spk: Uint8Array, value: bigint, tag: string): Transaction {
  const tx = new Transaction();
  tx.version = 2;
  tx.addInput(testSecret(`prev:${tag}`), 0, 0xffffffff, new Uint8Array([0x51]));
  tx.addOutput(spk, value);
  return tx;
}

export function fundingInput(secret: Uint8Array, value: bigint, serialId: bigint, tag: string): FundingInput {
  const prev = syntheticPrevTx(p2wpkhScriptPubkey(publicKey(secret)), value, tag);
  return {
    inputSerialId: serialId,
    prevTx: prev.toBuffer(),
    prevTxVout: 0,
    sequence: 0xffffffff,
    maxWitnessLen: 107,
    redeemScript: new Uint8Array(0),
  };
}

/** A linear payout: offerer gets 0 at outcome 0, everything from `fullAt` up. */
export function linearDescriptor(nbDigits: number, total: bigint, fullAt: bigint, roundingMod = 1n): NumericOutcomeContractDescriptor {
  const max = (1n << BigInt(nbDigits)) - 1n;
  return {
    numericOutcomeContractDescriptor: {
      numDigits: nbDigits,
      payoutFunction: {
        payoutFunctionPieces: [
          {
            endPoint: { eventOutcome: 0n, outcomePayout: 0n, extraPrecision: 0 },
            payoutCurvePiece: { polynomialPayoutCurvePiece: { payoutPoints: [] } },
          },
          {
            endPoint: { eventOutcome: fullAt, outcomePayout: total, extraPrecision: 0 },
            payoutCurvePiece: { polynomialPayoutCurvePiece: { payoutPoints: [] } },
          },
        ],
        lastEndpoint: { eventOutcome: max, outcomePayout: total, extraPrecision: 0 },
      },
      roundingIntervals: { intervals: [{ beginInterval: 0n, roundingMod }] },
    },
  };
}

export interface TwoPartyFixture {
  offerKey: Uint8Array;
  acceptKey: Uint8Array;
  offer: OfferDlc;
  /** The accept without signatures (fill with signCets/signRefund). */
  acceptUnsigned: AcceptDlc;
}

/**
 * Regtest's genesis block hash as chain_hash: internal byte order, the reverse of
 * the displayed 0f9188f1...6e2206 (as in the dlcspecs vectors).
 */
export const REGTEST_CHAIN_HASH = Uint8Array.from(
  Buffer.from('06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f', 'hex'),
);

export function twoPartyFixture(opts: {
  announcement: OracleAnnouncement;
  descriptor: NumericOutcomeContractDescriptor;
  offerCollateral: bigint;
  acceptCollateral: bigint;
  offerInputs?: FundingInput[];
  acceptInputs?: FundingInput[];
  feeRatePerVb?: bigint;
  cetLocktime?: number;
  refundLocktime?: number;
  label?: string;
}): TwoPartyFixture {
  const label = opts.label ?? 'dlc';
  const offerKey = testSecret(`${label}:offer-funding`);
  const acceptKey = testSecret(`${label}:accept-funding`);
  const total = opts.offerCollateral + opts.acceptCollateral;
  const offer: OfferDlc = {
    protocolVersion: 1,
    contractFlags: 0,
    chainHash: REGTEST_CHAIN_HASH,
    temporaryContractId: testSecret(`${label}:temp-id`),
    contractInfo: {
      singleContractInfo: {
        totalCollateral: total,
        contractInfo: { contractDescriptor: opts.descriptor, oracleInfo: { single: { oracleAnnouncement: opts.announcement } } },
      },
    },
    fundingPubkey: publicKey(offerKey),
    payoutSpk: p2wpkhScriptPubkey(publicKey(testSecret(`${label}:offer-payout`))),
    payoutSerialId: 11n,
    offerCollateral: opts.offerCollateral,
    fundingInputs: opts.offerInputs ?? [fundingInput(testSecret(`${label}:offer-utxo`), opts.offerCollateral + 100_000n, 21n, `${label}:o`)],
    changeSpk: p2wpkhScriptPubkey(publicKey(testSecret(`${label}:offer-change`))),
    changeSerialId: 31n,
    fundOutputSerialId: 41n,
    feeRatePerVb: opts.feeRatePerVb ?? 2n,
    cetLocktime: opts.cetLocktime ?? 100,
    refundLocktime: opts.refundLocktime ?? 200,
  };
  const acceptUnsigned: AcceptDlc = {
    protocolVersion: 1,
    temporaryContractId: offer.temporaryContractId,
    acceptCollateral: opts.acceptCollateral,
    fundingPubkey: publicKey(acceptKey),
    payoutSpk: p2wpkhScriptPubkey(publicKey(testSecret(`${label}:accept-payout`))),
    payoutSerialId: 12n,
    fundingInputs: opts.acceptInputs ?? [fundingInput(testSecret(`${label}:accept-utxo`), opts.acceptCollateral + 100_000n, 22n, `${label}:a`)],
    changeSpk: p2wpkhScriptPubkey(publicKey(testSecret(`${label}:accept-change`))),
    changeSerialId: 32n,
    cetAdaptorSignatures: { ecdsaAdaptorSignatures: [] },
    refundSignature: new Uint8Array(64),
    negotiationFields: null,
  };
  return { offerKey, acceptKey, offer, acceptUnsigned };
}
