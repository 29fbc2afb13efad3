import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { AdaptorEngine, packPoints } from '../src/engine/index.js';
import { adaptorSignBatch } from '../protocol/crypto/adaptor.js';
import { secp } from '../protocol/crypto/secp.js';
import { isDlcError } from '../protocol/errors.js';

const rnd = (label: string, i: number): Uint8Array => sha256(new TextEncoder().encode(`${label}/${i}`));

function batch(n: number): { hashes: Uint8Array; points: Uint8Array } {
  const hashes = new Uint8Array(n * 32);
  const pts: Uint8Array[] = [];
  const base = secp().mulG(rnd('Y', 0));
  for (let i = 0; i < n; i++) {
    hashes.set(rnd('h', i), i * 32);
    // cheap distinct points: Y_i = Y_0 + i·G
    pts.push(i === 0 ? base : secp().add([base, secp().mulG(rnd('t', i))]));
  }
  return { hashes, points: packPoints(pts) };
}

describe('AdaptorEngine (worker pool)', () => {
  let engine: AdaptorEngine;
  const sk = rnd('funding', 1);
  const pk = secp().mulG(sk);
  const N = 300;
  const { hashes, points } = batch(N);

  beforeAll(async () => {
    engine = await AdaptorEngine.start({ threads: 2, chunkSize: 50 });
  });
  afterAll(async () => {
    await engine.close();
  });

  it('starts two workers on the same backend as this thread', () => {
    expect(engine.threads).toBe(2);
    expect(engine.backend).toBe(secp().name);
  });

  it('pooled signing returns exactly the in-thread signatures, in input order', async () => {
    const pooled = await engine.sign(sk, hashes, points);
    expect(Buffer.from(pooled).equals(Buffer.from(adaptorSignBatch(sk, hashes, points)))).toBe(true);
  });

  it('pooled verification flags exactly the tampered signatures', async () => {
    const sigs = await engine.sign(sk, hashes, points);
    expect((await engine.verify(pk, hashes, points, sigs)).every((f) => f === 1)).toBe(true);
    const bad = sigs.slice();
    for (const i of [0, 57, 299]) bad[i * 162 + 140]! ^= 1; // DLEQ response
    const flags = await engine.verify(pk, hashes, points, bad);
    expect([...flags.keys()].filter((i) => flags[i] === 0)).toEqual([0, 57, 299]);
    // another key's view: nothing verifies
    expect((await engine.verify(secp().mulG(rnd('funding', 2)), hashes, points, sigs)).some((f) => f === 1)).toBe(false);
  });

  it('small batches run in-thread with the same results', async () => {
    const small = batch(5);
    const sigs = await engine.sign(sk, small.hashes, small.points);
    expect(Buffer.from(sigs).equals(Buffer.from(adaptorSignBatch(sk, small.hashes, small.points)))).toBe(true);
    expect([...(await engine.verify(pk, small.hashes, small.points, sigs))]).toEqual([1, 1, 1, 1, 1]);
  });

  it('a DlcError raised in a worker reaches the caller with its code', async () => {
    const badPoints = points.slice();
    badPoints.set(Uint8Array.of(2, ...new Uint8Array(32)), 120 * 33); // x = 0 is not on the curve
    let err: unknown;
    try { await engine.sign(sk, hashes, badPoints); } catch (e) { err = e; }
    expect(isDlcError(err, 'INVALID_POINT')).toBe(true);
    await expect(engine.sign(sk, hashes, points.subarray(33))).rejects.toMatchObject({ code: 'INVALID_LENGTH' });
  });
});
