/**
 * Unit tests of the oracle's pure parts and local files: event ids bind every
 * parameter, enum labels and digit encoding, evidence JSON round trip,
 * configuration validation (file + environment, regtest-only simulated
 * difficulty), and the key file (created 0600, reloaded, refused when others
 * can read it or it is malformed).
 */
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recomputeOutcome, type OutcomeEvidence } from '../protocol/hashpower/index.js';
import { loadConfig, parseConfig } from '../oracle/config.js';
import { OracleError } from '../oracle/errors.js';
import {
  canonicalParamsJson,
  digitsToOutcome,
  enumLabelFor,
  enumLabels,
  eventDescriptorOf,
  eventIdFor,
  eventParamsSchema,
  eventRules,
  evidenceFromJson,
  evidenceSpec,
  rewardRuleOf,
  evidenceToJson,
  outcomeDigits,
  type EventParams,
} from '../protocol/events/index.js';
import { toOracleError } from '../oracle/http.js';
import { KEY_FILE_NAME, loadOrCreateKey } from '../oracle/keys.js';
import { DELIVERY_EVENT_PARAMS } from './helpers/event-params.js';

const tmp = mkdtempSync(join(tmpdir(), 'hashdlc-oracle-unit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const BASE: EventParams = DELIVERY_EVENT_PARAMS;

function thrownBy(fn: () => unknown): OracleError {
  try {
    fn();
  } catch (err) {
    if (err instanceof OracleError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

describe('event ids', () => {
  it('have the documented readable form and are deterministic', () => {
    const id = eventIdFor(BASE);
    expect(id).toMatch(/^hashpower-delivery\/300-400\/100ths\/simdiff=1e9\/reward=subsidy\+fees-capped-4x-median-v1\/[0-9a-f]{32}$/);
    expect(eventIdFor(structuredClone(BASE))).toBe(id);
    expect(eventIdFor({ ...BASE, kind: 'hashprice', deliveryAddress: null, poolPayoutAddresses: null, hashrateThs: null, simulatedDifficulty: null }))
      .toMatch(/^hashprice\/300-400\/reward=subsidy\+fees-capped-4x-median-v1\/[0-9a-f]{32}$/);
    expect(eventIdFor({ ...BASE, kind: 'pool-rewards', hashrateThs: null, simulatedDifficulty: null, rewardRule: null }))
      .toMatch(/^pool-rewards\/300-400\/[0-9a-f]{32}$/);
  });

  it('reward rule: bound into the id; events from before rules (no rewardRule) keep their id and mean full-reward-v0', () => {
    const { rewardRule: _omit, ...legacy } = BASE;
    // Computed by the code before reward rules existed (commit bb683da) for these very parameters.
    expect(eventIdFor(legacy)).toBe('hashpower-delivery/300-400/100ths/simdiff=1e9/4b4feb27f2f1e6347e3613fe9668e10e');
    expect(rewardRuleOf(legacy)).toBe('full-reward-v0');
    expect(eventIdFor({ ...legacy, rewardRule: 'full-reward-v0' })).toBe(eventIdFor(legacy));
    expect(eventIdFor(BASE)).not.toBe(eventIdFor(legacy));
    expect(rewardRuleOf({ ...BASE, kind: 'pool-rewards' })).toBeNull();
    // The rule is stated among the event's rules, with the halving interval it derives subsidies with.
    expect(eventRules(BASE).join('\n')).toContain('reward rule subsidy+fees-capped-4x-median-v1: ');
    expect(eventRules(BASE).join('\n')).toContain('halving interval 150 blocks on regtest');
    expect(eventRules(legacy).join('\n')).toContain('reward rule full-reward-v0: ');
  });

  const changes: [string, Partial<EventParams>][] = [
    ['network', { network: 'signet' }],
    ['window start', { window: { start: 301, end: 400 } }],
    ['window end', { window: { start: 300, end: 401 } }],
    ['delivery address', { deliveryAddress: 'bcrt1qar0srrr7xfkvy5l643lydnw9re59gtzzjt6ly7' }],
    ['pool payout addresses', { poolPayoutAddresses: ['bcrt1qar0srrr7xfkvy5l643lydnw9re59gtzzjt6ly7'] }],
    ['hashrate', { hashrateThs: '101' }],
    ['simulated difficulty', { simulatedDifficulty: null }],
    ['reward rule', { rewardRule: 'full-reward-v0' }],
    ['digits', { descriptor: { type: 'numeric', base: 2, nbDigits: 15, unit: 'bps', precision: 0 } }],
    ['precision', { descriptor: { type: 'numeric', base: 2, nbDigits: 14, unit: 'bps', precision: 3 } }],
    ['enum', { descriptor: { type: 'enum', thresholds: ['9500'], outcomes: ['<9500', '>=9500'] } }],
  ];
  it.each(changes)('change when the %s changes', (_what, change) => {
    expect(eventIdFor({ ...BASE, ...change })).not.toBe(eventIdFor(BASE));
  });

  it('canonical JSON does not depend on key order', () => {
    const shuffled = Object.fromEntries(Object.entries(BASE).reverse()) as unknown as EventParams;
    expect(canonicalParamsJson(shuffled)).toBe(canonicalParamsJson(BASE));
  });

  it('descriptors: numeric base 2 unsigned, enum with the labels', () => {
    expect(eventDescriptorOf(BASE)).toEqual({ digitDecompositionEvent: { base: 2, isSigned: false, unit: 'bps', precision: 0, nbDigits: 14 } });
    const e = { ...BASE, descriptor: { type: 'enum' as const, thresholds: ['9500'], outcomes: enumLabels([9500n]) } };
    expect(eventDescriptorOf(e)).toEqual({ enumEvent: { outcomes: ['<9500', '>=9500'] } });
  });

  it('a scaled (hashprice) event states its precision in the descriptor, the evidence spec and the rules', () => {
    const scaled: EventParams = { ...BASE, descriptor: { type: 'numeric', base: 2, nbDigits: 20, unit: 'sats/PH/day', precision: 6 } };
    expect(eventDescriptorOf(scaled)).toEqual({ digitDecompositionEvent: { base: 2, isSigned: false, unit: 'sats/PH/day', precision: 6, nbDigits: 20 } });
    expect(evidenceSpec(scaled)).toEqual({ nbDigits: 20, precision: 6 });
    expect(eventRules(scaled)[0]).toContain('outcome = floor(value / 10^6)');
    expect(canonicalParamsJson(scaled)).toContain('"precision":6');
    expect(eventParamsSchema.parse(JSON.parse(JSON.stringify(scaled))).descriptor).toMatchObject({ precision: 6 });
  });
});

describe('enum labels and digits', () => {
  it.each([
    [[9500n], ['<9500', '>=9500']],
    [[5000n, 9500n], ['<5000', '5000..9499', '>=9500']],
    [[1n, 2n, 4n], ['<1', '1', '2..3', '>=4']],
  ])('labels of %s', (thresholds, labels) => {
    expect(enumLabels(thresholds)).toEqual(labels);
  });
  it('label of a value: ranges are [t_i, t_i+1)', () => {
    const t = [5000n, 9500n];
    expect([0n, 4999n, 5000n, 9499n, 9500n, (1n << 64n) - 1n].map((v) => enumLabelFor(t, v))).toEqual([
      '<5000', '<5000', '5000..9499', '5000..9499', '>=9500', '>=9500',
    ]);
  });
  it.each([[[]], [[0n]], [[5n, 5n]], [[9n, 3n]], [[1n << 64n]]])('refuses thresholds %s', (t) => {
    expect(() => enumLabels(t)).toThrow(RangeError);
  });
  it('digits: most significant first, round trip, range checked', () => {
    expect(outcomeDigits(6000n, 14).join('')).toBe('01011101110000');
    expect(digitsToOutcome(outcomeDigits(16383n, 14))).toBe(16383n);
    expect(() => outcomeDigits(16384n, 14)).toThrow(RangeError);
    expect(() => digitsToOutcome(['0', '2'])).toThrow(RangeError);
  });
});

describe('evidence JSON', () => {
  const h = (c: string): string => c.repeat(64);
  const evidence: OutcomeEvidence = {
    kind: 'hashpower-delivery',
    window: { start: 10, end: 12 },
    event: { nbDigits: 14, precision: 0 },
    simulatedDifficulty: '1e9',
    deliveryAddress: 'bcrt1qD',
    poolPayoutAddresses: ['bcrt1qP'],
    hashrateThs: 100n,
    blocks: [
      { height: 10, hash: h('a'), bits: '207fffff', reward: 5_000_000_000n, coinbaseTxid: h('1') },
      { height: 11, hash: h('b'), bits: '207fffff', reward: 5_000_000_000n, coinbaseTxid: h('2') },
    ],
    payouts: [
      { source: 'coinbase', height: 10, blockHash: h('a'), txid: h('1'), vout: 0, value: 2_500_000_000n, address: 'bcrt1qD' },
      { source: 'pool-payout', height: 11, blockHash: h('b'), txid: h('3'), vout: 1, value: 9_007_199_254_740_993n % 2_000_000_000_000_000n, address: 'bcrt1qD', fromAddress: 'bcrt1qP' },
    ],
  };
  it('round trips exactly (bigints as decimal strings) and recomputes the same outcome', () => {
    const json = evidenceToJson(evidence);
    expect(json.blocks[0]!.reward).toBe('5000000000');
    const back = evidenceFromJson(JSON.parse(JSON.stringify(json)));
    expect(back).toEqual(evidence);
    expect(recomputeOutcome(back)).toEqual(recomputeOutcome(evidence));
  });
  it('carries the reward rule and halving interval, and refuses an unknown rule', () => {
    const ruled: OutcomeEvidence = { ...evidence, rewardRule: 'subsidy+fees-capped-4x-median-v1', subsidyHalvingInterval: 150 };
    const back = evidenceFromJson(JSON.parse(JSON.stringify(evidenceToJson(ruled))));
    expect(back).toEqual(ruled);
    expect(recomputeOutcome(back).rewardRule).toBe('subsidy+fees-capped-4x-median-v1');
    expect(() => evidenceFromJson({ ...evidenceToJson(ruled), rewardRule: 'free-for-all-v9' })).toThrow();
  });
  it('rejects unknown fields and non-decimal amounts', () => {
    const json = evidenceToJson(evidence) as unknown as { blocks: Record<string, unknown>[] };
    expect(() => evidenceFromJson({ ...json, extra: 1 })).toThrow();
    json.blocks[0]!.reward = 5e9;
    expect(() => evidenceFromJson(json)).toThrow();
  });
});

describe('configuration', () => {
  const minimal = { network: 'regtest', rpc: { url: 'http://127.0.0.1:18443/', username: 'u', password: 'p' }, dataDir: '/tmp/x' };

  it('fills defaults: 127.0.0.1, port 8080, sha256, 1 confirmation on regtest, 6 elsewhere', () => {
    const c = parseConfig(minimal);
    expect([c.host, c.port, c.hashProfile, c.confirmations, c.pollIntervalMs]).toEqual(['127.0.0.1', 8080, 'sha256', 1, 200]);
    expect(c.limits.maxWindowBlocks).toBe(4320);
    expect(parseConfig({ ...minimal, network: 'mainnet' }).confirmations).toBe(6);
  });

  it.each([
    ['simulated difficulty off regtest', { ...minimal, network: 'signet', simulatedDifficulty: '1e9' }, 'simulated-difficulty-not-regtest'],
    ['zero simulated difficulty', { ...minimal, simulatedDifficulty: '0' }, 'simulatedDifficulty'],
    ['unknown network', { ...minimal, network: 'litecoin' }, 'network'],
    ['short operator token', { ...minimal, operatorToken: 'short' }, 'operatorToken'],
    ['unknown key', { ...minimal, colour: 'red' }, ''],
    ['bad port', { ...minimal, port: 70000 }, 'port'],
    ['bad hash profile', { ...minimal, hashProfile: 'md5' }, 'hashProfile'],
    ['missing rpc', { network: 'regtest', dataDir: '/tmp/x' }, 'rpc'],
    ["hashprice precision 'fit' without a simulated difficulty", { ...minimal, schedule: { hashpricePrecision: 'fit' } }, 'schedule.hashpricePrecision'],
    ['hashprice precision above 18', { ...minimal, schedule: { hashpricePrecision: 19 } }, 'schedule.hashpricePrecision'],
  ])('refuses %s', (_what, input, reason) => {
    const err = thrownBy(() => parseConfig(input));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.reason).toBe(reason);
  });

  it('reads a file, then the environment over it', () => {
    const file = join(tmp, 'oracle.json');
    writeFileSync(file, JSON.stringify({ ...minimal, port: 9000, confirmations: 3 }));
    const c = loadConfig(['--config', file], {
      BITCOIN_RPC_PASSWORD: 'secret',
      HASHDLC_ORACLE_PORT: '9100',
      HASHDLC_ORACLE_SIMULATED_DIFFICULTY: '27939677.23846435546875',
      HASHDLC_ORACLE_HASHPRICE_EVERY: '144',
    });
    expect([c.port, c.confirmations, c.rpc.password, c.simulatedDifficulty, c.schedule.hashpriceEveryBlocks]).toEqual([
      9100, 3, 'secret', '27939677.23846435546875', 144,
    ]);
    expect(loadConfig([], { HASHDLC_ORACLE_CONFIG: file }).port).toBe(9000);
    expect(loadConfig([], { HASHDLC_ORACLE_CONFIG: file, HASHDLC_ORACLE_DANGER_TEST_CRASH_AT: 'attest-signed' }).dangerTestCrashAt).toBe('attest-signed');
    expect(thrownBy(() => loadConfig([], { HASHDLC_ORACLE_CONFIG: file, HASHDLC_ORACLE_DANGER_TEST_CRASH_AT: 'later' })).reason).toBe('dangerTestCrashAt');
    expect(thrownBy(() => loadConfig(['--verbose'], {})).reason).toBe('argv');
    expect(thrownBy(() => loadConfig([], { HASHDLC_ORACLE_CONFIG: join(tmp, 'missing.json') })).reason).toBe('config-file');
    expect(thrownBy(() => loadConfig([], { HASHDLC_ORACLE_CONFIG: file, HASHDLC_ORACLE_PORT: 'eighty' })).reason).toBe('HASHDLC_ORACLE_PORT');
  });
});

describe('key file', () => {
  it('is created 0600 on first start and reloaded after', () => {
    const dir = join(tmp, 'keys-1');
    const first = loadOrCreateKey(dir);
    expect(first.created).toBe(true);
    expect(statSync(join(dir, KEY_FILE_NAME)).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o077).toBe(0);
    const again = loadOrCreateKey(dir);
    expect([again.created, again.publicKeyHex]).toEqual([false, first.publicKeyHex]);
  });
  it.each([
    ['readable by others', (p: string) => chmodSync(p, 0o644), 'key-file-permissions'],
    ['readable by the group', (p: string) => chmodSync(p, 0o640), 'key-file-permissions'],
    ['not hex', (p: string) => writeFileSync(p, 'not a key\n'), 'key-file-format'],
    ['zero', (p: string) => writeFileSync(p, `${'0'.repeat(64)}\n`), 'key-invalid'],
  ])('is refused when %s', (what, spoil, reason) => {
    const dir = join(tmp, `keys-${what.replace(/\W/g, '')}`);
    loadOrCreateKey(dir);
    const p = join(dir, KEY_FILE_NAME);
    spoil(p);
    const err = thrownBy(() => loadOrCreateKey(dir));
    expect([err.code, err.reason]).toEqual(['KEY_FILE', reason]);
  });
});

describe('HTTP error mapping', () => {
  it.each([
    [new OracleError('NOT_ATTESTED', 'x'), 404, 'NOT_ATTESTED'],
    [Object.assign(new Error('too large'), { type: 'entity.too.large', status: 413 }), 413, 'PAYLOAD_TOO_LARGE'],
    [Object.assign(new Error('bad json'), { type: 'entity.parse.failed', status: 400 }), 400, 'INVALID_JSON'],
    [Object.assign(new Error('charset'), { type: 'charset.unsupported', status: 415 }), 400, 'INVALID_REQUEST'],
    [new TypeError('bug'), 500, 'INTERNAL'],
  ])('%s → %i %s', (err, status, code) => {
    const e = toOracleError(err);
    expect([e.status, e.code]).toEqual([status, code]);
  });
});
