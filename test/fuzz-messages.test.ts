// Fuzz-style robustness of every decoder, reproducible (seeded PRNG): random
// bytes and mutated vector bytes (bit flips, truncation, extension, insertion,
// deletion, huge length prefixes). Each input either decodes or throws DlcError,
// never another exception, and quickly. Whatever decodes must re-encode to the
// same bytes, directly and through the JSON form.
import { describe, expect, it } from 'vitest';
import { DlcError } from '../protocol/errors.js';
import {
  decodeAcceptDlc,
  decodeMessage,
  decodeOfferDlc,
  decodeOracleAnnouncement,
  decodeOracleAttestation,
  decodeOracleEvent,
  decodeSignDlc,
  encodeMessage,
  encodeOracleEvent,
} from '../protocol/messages/codec.js';
import { envelopeFromJson, envelopeToJson, messageFromJson, parseJson, stringifyJson } from '../protocol/messages/json.js';
import type { DlcMessage } from '../protocol/messages/types.js';
import { fromHex, toHex } from '../protocol/messages/wire.js';
import { readVectorJson, specTestVectors } from './helpers/vectors.js';

/** mulberry32: small, fast, seedable. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const decoders: [string, (b: Uint8Array) => unknown][] = [
  ['decodeMessage', decodeMessage],
  ['decodeOfferDlc', decodeOfferDlc],
  ['decodeAcceptDlc', decodeAcceptDlc],
  ['decodeSignDlc', decodeSignDlc],
  ['decodeOracleAnnouncement', decodeOracleAnnouncement],
  ['decodeOracleAttestation', decodeOracleAttestation],
  ['decodeOracleEvent', decodeOracleEvent],
];

const stats = { decoded: 0, rejected: 0 };

/** Runs one decoder on one input and checks the contract; returns the decoded message if any. */
function check(decode: (b: Uint8Array) => unknown, input: Uint8Array, label: string): unknown {
  const started = performance.now();
  let out: unknown;
  try {
    out = decode(input);
    stats.decoded++;
  } catch (err) {
    if (!(err instanceof DlcError)) {
      throw new Error(`${label}: ${toHex(input).slice(0, 200)} threw ${String(err)}`, { cause: err });
    }
    stats.rejected++;
  }
  const ms = performance.now() - started;
  if (ms > 250) throw new Error(`${label}: decoding took ${ms.toFixed(0)} ms`);
  return out;
}

/** Decoded bytes must come back identical, directly and through JSON. */
function roundTrip(msg: DlcMessage, input: Uint8Array): void {
  const direct = encodeMessage(msg);
  const viaJson = encodeMessage(envelopeFromJson(parseJson(stringifyJson(envelopeToJson(msg)))));
  // A u16-typed announcement/attestation re-encodes in TLV form: compare decoded values then.
  if (input[0] === 0xfd || msg.type === 'offer_dlc' || msg.type === 'accept_dlc' || msg.type === 'sign_dlc') {
    expect(toHex(direct)).toBe(toHex(input));
  } else {
    expect(decodeMessage(direct)).toEqual(msg);
  }
  expect(toHex(viaJson)).toBe(toHex(direct));
}

function mutate(rand: () => number, seed: Uint8Array): Uint8Array {
  const int = (n: number): number => Math.floor(rand() * n);
  const randomBytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => int(256));
  const b = seed.slice();
  const at = int(b.length);
  switch (int(8)) {
    case 0: // flip one bit
      b[at] = b[at]! ^ (1 << int(8));
      return b;
    case 1: // overwrite a few bytes
      for (let k = int(4) + 1; k > 0; k--) b[int(b.length)] = int(256);
      return b;
    case 2: // truncate
      return b.subarray(0, at);
    case 3: // extend
      return Uint8Array.from([...b, ...randomBytes(int(40) + 1)]);
    case 4: // insert
      return Uint8Array.from([...b.subarray(0, at), ...randomBytes(int(16) + 1), ...b.subarray(at)]);
    case 5: // delete a range
      return Uint8Array.from([...b.subarray(0, at), ...b.subarray(Math.min(b.length, at + int(16) + 1))]);
    case 6: // plant a huge BigSize / u16 count
      return Uint8Array.from([...b.subarray(0, at), ...(rand() < 0.5 ? [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff] : [0xfe, 0x7f, 0xff, 0xff, 0xff]), ...b.subarray(at + 1)]);
    default: // small value in a length-like position
      b[at] = int(4);
      return b;
  }
}

// Seeds: small and mid-size vector messages of every type.
const spec = Object.fromEntries(specTestVectors());
const seeds: [string, Uint8Array][] = [];
for (const name of ['enum_single_oracle_test.json', 'single_oracle_numerical_hyperbola_test.json', 'three_of_three_oracle_numerical_with_diff_test.json']) {
  const v = spec[name]!;
  seeds.push([`${name} offer`, fromHex(v.offer_message.serialized)]);
  seeds.push([`${name} accept`, fromHex(v.accept_message.serialized)]);
  seeds.push([`${name} sign`, fromHex(v.sign_message.serialized)]);
}
const annMsg = messageFromJson('oracle_announcement', readVectorJson('dlcdevkit/oracle/numeric-announcement.json'));
const attMsg = messageFromJson('oracle_attestation', readVectorJson('dlcdevkit/oracle/numeric-attestation.json'));
seeds.push(['dlcdevkit announcement', encodeMessage(annMsg)]);
seeds.push(['dlcdevkit attestation', encodeMessage(attMsg)]);
if (annMsg.type !== 'oracle_announcement') throw new Error('unexpected');
seeds.push(['dlcdevkit oracle_event', encodeOracleEvent(annMsg.message.oracleEvent)]);

describe('decoders never throw anything but DlcError', () => {
  it('random bytes (1500 inputs x 7 decoders), some starting with real type prefixes', () => {
    const rand = prng(0x5eed0001);
    const prefixes = [[0xa7, 0x1a], [0xa7, 0x1c], [0xa7, 0x1e], [0xfd, 0xd8, 0x24], [0xfd, 0xd8, 0x68], [0xd8, 0x24], []];
    for (let i = 0; i < 1500; i++) {
      const prefix = prefixes[Math.floor(rand() * prefixes.length)]!;
      const body = Uint8Array.from({ length: Math.floor(rand() * 300) }, () => Math.floor(rand() * 256));
      const input = Uint8Array.from([...prefix, ...body]);
      for (const [name, decode] of decoders) check(decode, input, `random #${i} ${name}`);
    }
  });

  it('mutated vector messages (3000 inputs), and whatever decodes round-trips', () => {
    const rand = prng(0x5eed0002);
    let roundTrips = 0;
    for (let i = 0; i < 3000; i++) {
      const [label, seed] = seeds[i % seeds.length]!;
      const input = mutate(rand, seed);
      const msg = check(decodeMessage, input, `mutation #${i} of ${label}`) as DlcMessage | undefined;
      if (msg !== undefined) {
        roundTrip(msg, input);
        roundTrips++;
      }
      // The oracle_event seed is not a message: feed it to its own decoder too.
      if (label.endsWith('oracle_event')) check(decodeOracleEvent, input, `mutation #${i} of ${label} (event)`);
    }
    // Mutations inside signatures, keys and amounts still decode: make sure that path was exercised.
    expect(roundTrips).toBeGreaterThan(300);
    expect(stats.rejected).toBeGreaterThan(1000);
  });

  it('random JSON text and mutated JSON never escape as anything but DlcError', () => {
    const rand = prng(0x5eed0003);
    const text = stringifyJson(envelopeToJson(decodeMessage(seeds[0]![1])));
    const alphabet = '{}[]":,0123456789-.eEabcdef ntrufls\\';
    for (let i = 0; i < 1500; i++) {
      let t: string;
      if (i % 2 === 0) {
        t = Array.from({ length: Math.floor(rand() * 60) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
      } else {
        const at = Math.floor(rand() * text.length);
        t = text.slice(0, at) + alphabet[Math.floor(rand() * alphabet.length)]! + text.slice(at + 1);
      }
      check((b) => envelopeFromJson(parseJson(new TextDecoder().decode(b))), new TextEncoder().encode(t), `json #${i}`);
    }
  });
});
