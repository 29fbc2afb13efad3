// JSON form input checking: each bad field is reported as INVALID_JSON with its
// JSON path as `reason`; u64 exactness; envelope form used by `hashdlc msg`.
import { describe, expect, it } from 'vitest';
import { DlcError } from '../protocol/errors.js';
import { encodeMessage } from '../protocol/messages/codec.js';
import { envelopeFromJson, envelopeToJson, messageFromJson, parseJson, stringifyJson } from '../protocol/messages/json.js';
import type { JsonObject, JsonValue } from '../protocol/messages/json.js';
import { toHex } from '../protocol/messages/wire.js';
import { specTestVectors } from './helpers/vectors.js';

const [, enumVector] = specTestVectors().find(([f]) => f === 'enum_single_oracle_test.json')!;
const [, multiVector] = specTestVectors().find(([f]) => f === 'three_of_three_oracle_numerical_with_diff_test.json')!;

/** Deep copy of a vector message with one change applied at `path` (keys and indices). */
function mutate(json: JsonValue, path: (string | number)[], value: JsonValue | undefined): JsonValue {
  const copy = parseJson(stringifyJson(json)) as JsonObject;
  let node = copy as unknown as Record<string | number, JsonValue>;
  for (const key of path.slice(0, -1)) node = node[key] as unknown as Record<string | number, JsonValue>;
  const last = path[path.length - 1]!;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

function jsonErrorPath(type: string, json: JsonValue): string | undefined {
  try {
    messageFromJson(type, json);
  } catch (err) {
    expect(err).toBeInstanceOf(DlcError);
    expect((err as DlcError).code).toBe('INVALID_JSON');
    return (err as DlcError).reason;
  }
  throw new Error('expected INVALID_JSON');
}

const announcement = ['contractInfo', 'singleContractInfo', 'contractInfo', 'oracleInfo', 'single', 'oracleAnnouncement'];

describe('messageFromJson rejects bad fields, naming their path', () => {
  const offer = enumVector.offer_message.message;
  const cases: [string, (string | number)[], JsonValue | undefined, string][] = [
    ['missing field', ['fundingPubkey'], undefined, '$.fundingPubkey'],
    ['unknown field', ['fundingPubKey'], '00', '$.fundingPubKey'],
    ['short key', ['fundingPubkey'], '0284', '$.fundingPubkey'],
    ['odd-length hex', ['payoutSpk'], '001', '$.payoutSpk'],
    ['non-hex', ['chainHash'], 'zz'.repeat(32), '$.chainHash'],
    ['negative u64', ['offerCollateral'], -1, '$.offerCollateral'],
    ['u64 overflow', ['payoutSerialId'], 18446744073709551616n, '$.payoutSerialId'],
    ['float for u64', ['feeRatePerVb'], 2.5, '$.feeRatePerVb'],
    ['string for u32', ['cetLocktime'], '1623133104', '$.cetLocktime'],
    ['u32 overflow', ['refundLocktime'], 4294967296, '$.refundLocktime'],
    ['u8 overflow', ['contractFlags'], 256, '$.contractFlags'],
    ['bad union', ['contractInfo'], { singleContractInfo: {}, disjointContractInfo: {} }, '$.contractInfo'],
    ['nested bad nonce', [...announcement, 'oracleEvent', 'oracleNonces', 0], 'ab', `$.${announcement.join('.')}.oracleEvent.oracleNonces[0]`],
    ['nested payout', ['contractInfo', 'singleContractInfo', 'contractInfo', 'contractDescriptor', 'enumeratedContractDescriptor', 'payouts', 1, 'localPayout'], true,
      '$.contractInfo.singleContractInfo.contractInfo.contractDescriptor.enumeratedContractDescriptor.payouts[1].localPayout'],
    ['funding input field', ['fundingInputs', 0, 'maxWitnessLen'], 70000, '$.fundingInputs[0].maxWitnessLen'],
    ['array expected', ['fundingInputs'], {}, '$.fundingInputs'],
  ];
  it.each(cases)('%s -> %s', (_name, path, value, expected) => {
    expect(jsonErrorPath('offer_dlc', mutate(offer, path, value))).toBe(expected);
  });

  it('rejects a refund signature that is not strict DER', () => {
    const accept = enumVector.accept_message.message as JsonObject;
    const der = accept.refundSignature as string;
    expect(jsonErrorPath('accept_dlc', mutate(accept, ['refundSignature'], `${der}01`))).toBe('$.refundSignature');
    expect(jsonErrorPath('accept_dlc', mutate(accept, ['negotiationFields'], { single: {} }))).toBe('$.negotiationFields');
  });

  it('rejects an unsafe JS number for a u64 (a JSON.parse casualty)', () => {
    const offer2 = mutate(offer, ['changeSerialId'], 15716098011649384884 as number);
    expect(jsonErrorPath('offer_dlc', offer2)).toBe('$.changeSerialId');
  });

  it('reads multi-oracle params and their absence', () => {
    const base = ['contractInfo', 'singleContractInfo', 'contractInfo', 'oracleInfo', 'multi'];
    const msg = multiVector.offer_message.message;
    expect(jsonErrorPath('offer_dlc', mutate(msg, [...base, 'oracleParams', 'maxErrorExp'], -1))).toBe(`$.${base.join('.')}.oracleParams.maxErrorExp`);
    const withoutParams = mutate(msg, [...base, 'oracleParams'], null);
    const decoded = messageFromJson('offer_dlc', withoutParams);
    if (decoded.type !== 'offer_dlc' || !('singleContractInfo' in decoded.message.contractInfo)) throw new Error('unexpected');
    const oi = decoded.message.contractInfo.singleContractInfo.contractInfo.oracleInfo;
    expect('multi' in oi && oi.multi.oracleParams).toBe(null);
  });

  it('rejects an unknown message type', () => {
    expect(() => messageFromJson('close_dlc', {})).toThrow(DlcError);
  });
});

describe('parseJson / stringifyJson', () => {
  it('keeps integers above 2^53 exact and small ones as numbers', () => {
    const v = parseJson('{"a":18446744073709551615,"b":1,"c":0.5}') as JsonObject;
    expect(v).toEqual({ a: 18446744073709551615n, b: 1, c: 0.5 });
    expect(stringifyJson(v)).toBe('{"a":18446744073709551615,"b":1,"c":0.5}');
  });

  it('reports malformed JSON and duplicate keys as INVALID_JSON', () => {
    expect(() => parseJson('{"a":')).toThrow(DlcError);
    expect(() => parseJson('{"a":1,"a":2}')).toThrow(DlcError);
  });
});

describe('envelope {"type", "message"}', () => {
  it('round-trips and prefixes error paths with $.message', () => {
    const msg = messageFromJson('sign_dlc', enumVector.sign_message.message);
    const env = parseJson(stringifyJson(envelopeToJson(msg)));
    expect(toHex(encodeMessage(envelopeFromJson(env)))).toBe(enumVector.sign_message.serialized);
    try {
      envelopeFromJson({ type: 'sign_dlc', message: mutate(enumVector.sign_message.message, ['contractId'], '00') });
      throw new Error('expected INVALID_JSON');
    } catch (err) {
      expect((err as DlcError).reason).toBe('$.message.contractId');
    }
    expect(() => envelopeFromJson({ type: 'nope', message: {} })).toThrow(/unknown message type/);
  });
});
