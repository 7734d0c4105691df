import fc from 'fast-check';
import { buildBn128 } from 'ffjavascript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BaseSet, learnHot, msmSet } from './baseSet.ts';
import { type BaseTable, bestWindow, bucketMsm, buildTable, G1, G2 } from './bucketMsm.ts';
import { bitClasses, signedDigits, signedScalars } from './scalars.ts';
import { CurveHeap } from './wasmCurve.ts';
import { BN254_R } from './zkeyFile.ts';

// ffjavascript's curve (what snarkjs proves with) gives the reference sums.
type Curve = {
  G1: CurveGroup;
  G2: CurveGroup;
  Fr: { e(v: bigint): unknown; toObject(v: unknown): bigint };
  terminate(): Promise<void>;
};
type CurveGroup = {
  g: unknown;
  timesScalar(p: unknown, s: bigint): unknown;
  toAffine(p: unknown): unknown;
  neg(p: unknown): unknown;
  zeroAffine: unknown;
  eq(a: unknown, b: unknown): boolean;
  toRprLEM(buff: Uint8Array, o: number, p: unknown): void;
  fromRprLEM(buff: Uint8Array, o: number): unknown;
  zero: unknown;
  add(a: unknown, b: unknown): unknown;
};
let curve: Curve;
let heap: CurveHeap;

beforeAll(async () => {
  curve = (await buildBn128(true)) as unknown as Curve;
  heap = await CurveHeap.create();
});
afterAll(async () => {
  await curve?.terminate();
});

function le(v: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Scalars a witness really has: zeros, small ±, full-size, r−1, and values near r/2. */
const scalarArb = fc.oneof(
  fc.constant(0n),
  fc.bigInt({ min: 1n, max: 300n }),
  fc.bigInt({ min: 1n, max: 2n ** 40n }).map((v) => BN254_R - v),
  fc.bigInt({ min: 0n, max: BN254_R - 1n }),
  fc.constantFrom(BN254_R - 1n, BN254_R >> 1n, (BN254_R >> 1n) + 1n),
);
/** Bases: random multiples of g, the point at infinity, repeats of g and its negation (equal x). */
const baseArb = fc.oneof(
  fc.bigInt({ min: 1n, max: 2n ** 64n }),
  fc.constant(0n), // infinity
  fc.constant(1n),
  fc.constant(-1n),
  fc.constant(2n),
);

async function check(
  group: 'G1' | 'G2',
  bases: bigint[],
  scalars: bigint[],
  rows: number,
  c?: number,
  maxEntries?: number,
) {
  const G = curve[group];
  const layout = group === 'G1' ? G1 : G2;
  const n = bases.length;
  const baseBytes = new Uint8Array(n * layout.affine);
  bases.forEach((k, i) => {
    const p =
      k === 0n ? G.zeroAffine : G.toAffine(k < 0n ? G.neg(G.timesScalar(G.g, -k)) : G.timesScalar(G.g, k));
    G.toRprLEM(baseBytes, i * layout.affine, p);
  });
  const scalarBytes = new Uint8Array(n * 32);
  scalars.forEach((s, i) => {
    scalarBytes.set(le(s), i * 32);
  });
  // Point by point (ffjavascript's multiExpAffine mishandles affine infinity in some buckets).
  let expected = G.zero;
  bases.forEach((k, i) => {
    const p = k === 0n ? G.zero : k < 0n ? G.neg(G.timesScalar(G.g, -k)) : G.timesScalar(G.g, k);
    expected = G.add(expected, G.timesScalar(p, scalars[i]!));
  });

  const mark = heap.top;
  try {
    const ptr = heap.allocCopy(baseBytes);
    const window = c ?? bestWindow(n, 254);
    const table: BaseTable =
      rows > 1 ? buildTable(heap, layout, ptr, n, rows, window) : { group: layout, ptr, n, rows: 1, c: 0 };
    const s = signedScalars(scalarBytes, n);
    const out = heap.alloc(layout.jacobian);
    const acc = heap.alloc(layout.jacobian);
    const g = layout.name;
    heap.exports[`${g}m_zero`]!(acc);
    for (const { which, bits } of bitClasses(s)) {
      bucketMsm(heap, table, s, which, rows > 1 ? window : bestWindow(which.length, bits), out, {
        ...(maxEntries === undefined ? {} : { maxEntries }),
      });
      heap.exports[`${g}m_add`]!(acc, out, acc);
    }
    const aff = heap.alloc(layout.affine);
    heap.exports[`${g}m_toAffine`]!(acc, aff);
    expect(G.eq(G.fromRprLEM(heap.read(aff, layout.affine), 0), expected)).toBe(true);
  } finally {
    heap.top = mark;
  }
}

describe('bucket multi-exponentiation (batched affine additions)', () => {
  it('G1 equals the point-by-point sum on bases with infinity, repeats and negations', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(baseArb, scalarArb), { minLength: 1, maxLength: 120 }),
        async (pairs) =>
          check(
            'G1',
            pairs.map((p) => p[0]),
            pairs.map((p) => p[1]),
            1,
          ),
      ),
      { numRuns: 40 },
    );
  });

  it('G2 equals the point-by-point sum', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(baseArb, scalarArb), { minLength: 1, maxLength: 60 }),
        async (pairs) =>
          check(
            'G2',
            pairs.map((p) => p[0]),
            pairs.map((p) => p[1]),
            1,
          ),
      ),
      { numRuns: 15 },
    );
  });

  it('G1 with precomputed rows (one pass and several passes) equals the point-by-point sum', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(baseArb, scalarArb), { minLength: 1, maxLength: 80 }),
        fc.constantFrom(2, 5, 32),
        fc.constantFrom(8, 11),
        async (pairs, rows, c) =>
          check(
            'G1',
            pairs.map((p) => p[0]),
            pairs.map((p) => p[1]),
            rows,
            c,
          ),
      ),
      { numRuns: 20 },
    );
  });

  it('hot-base tables learned from one witness stay exact for another with large values elsewhere', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('G1' as const, 'G2' as const),
        fc.array(fc.tuple(baseArb, scalarArb, scalarArb), { minLength: 1, maxLength: 40 }),
        async (group, triples) => {
          const G = curve[group];
          const layout = group === 'G1' ? G1 : G2;
          const n = triples.length;
          const baseBytes = new Uint8Array(n * layout.affine);
          const points = triples.map(([k]) =>
            k === 0n ? G.zero : k < 0n ? G.neg(G.timesScalar(G.g, -k)) : G.timesScalar(G.g, k),
          );
          points.forEach((p, i) => {
            G.toRprLEM(baseBytes, i * layout.affine, G.toAffine(p));
          });
          const scalarsOf = (pick: 1 | 2) => {
            const b = new Uint8Array(n * 32);
            triples.forEach((t, i) => {
              b.set(le(t[pick]), i * 32);
            });
            return signedScalars(b, n);
          };
          const mark = heap.top;
          try {
            const set: BaseSet = {
              full: { group: layout, ptr: heap.allocCopy(baseBytes), n, rows: 1, c: 0 },
            };
            learnHot(heap, set, scalarsOf(1), 1 << 24); // learned on the first scalars …
            const out = heap.alloc(layout.jacobian);
            const tmp = heap.alloc(layout.jacobian);
            msmSet(heap, set, scalarsOf(2), out, tmp); // … used for the second
            let expected = G.zero;
            points.forEach((p, i) => {
              expected = G.add(expected, G.timesScalar(p, triples[i]![2]));
            });
            const aff = heap.alloc(layout.affine);
            heap.exports[`${layout.name}m_toAffine`]!(out, aff);
            expect(G.eq(G.fromRprLEM(heap.read(aff, layout.affine), 0), expected)).toBe(true);
          } finally {
            heap.top = mark;
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('every scalar equals its signed digits (Σ d_k·2^(kc) ≡ s mod r)', () => {
    fc.assert(
      fc.property(
        fc.array(scalarArb, { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 2, max: 16 }),
        (vals, c) => {
          const bytes = new Uint8Array(vals.length * 32);
          vals.forEach((v, i) => {
            bytes.set(le(v), i * 32);
          });
          const s = signedScalars(bytes, vals.length);
          const windows = Math.ceil(255 / c);
          const which = Int32Array.from(vals.keys());
          const d = signedDigits(s, which, c, windows);
          vals.forEach((v, i) => {
            let acc = 0n;
            for (let k = 0; k < windows; k++) {
              const digit = d[k * vals.length + i]!;
              expect(Math.abs(digit)).toBeLessThanOrEqual(2 ** (c - 1));
              acc += BigInt(digit) << BigInt(k * c);
            }
            expect(((acc % BN254_R) + BN254_R) % BN254_R).toBe(v);
          });
        },
      ),
    );
  });
});
