import fc from 'fast-check';
import { buildBn128 } from 'ffjavascript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIELD_MODULUS } from '../../circuits/core/field.ts';
import { type BaseSet, learnHot, msmSet } from './baseSet.ts';
import { bestWindow, bucketMsm, buildTable, G1, G2, type GroupLayout } from './bucketMsm.ts';
import { bytesLE } from './frMath.ts';
import { signedDigits, signedScalars } from './scalars.ts';
import { CurveHeap } from './wasmCurve.ts';

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

/** Scalars a witness really has: zeros, small ±, full-size, r−1, and values near r/2. */
const scalarArb = fc.oneof(
  fc.constant(0n),
  fc.bigInt({ min: 1n, max: 300n }),
  fc.bigInt({ min: 1n, max: 2n ** 40n }).map((v) => FIELD_MODULUS - v),
  fc.bigInt({ min: 0n, max: FIELD_MODULUS - 1n }),
  fc.constantFrom(FIELD_MODULUS - 1n, FIELD_MODULUS >> 1n, (FIELD_MODULUS >> 1n) + 1n),
);
/** Bases: random multiples of g, the point at infinity, repeats of g and its negation (equal x). */
const baseArb = fc.oneof(
  fc.bigInt({ min: 1n, max: 2n ** 64n }),
  fc.constant(0n), // infinity
  fc.constant(1n),
  fc.constant(-1n),
  fc.constant(2n),
);

/** k·g (k = 0: infinity; negative k: the negation), as ffjavascript's point. */
function pointOf(G: CurveGroup, k: bigint): unknown {
  return k === 0n ? G.zero : k < 0n ? G.neg(G.timesScalar(G.g, -k)) : G.timesScalar(G.g, k);
}

/** Affine bases in the heap's layout (Montgomery, infinity all zeros). */
function basesBytes(G: CurveGroup, layout: GroupLayout, ks: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(ks.length * layout.affine);
  ks.forEach((k, i) => {
    G.toRprLEM(out, i * layout.affine, k === 0n ? G.zeroAffine : G.toAffine(pointOf(G, k)));
  });
  return out;
}

function scalarsOf(values: readonly bigint[]) {
  const b = new Uint8Array(values.length * 32);
  values.forEach((v, i) => {
    b.set(bytesLE(v), i * 32);
  });
  return signedScalars(b, values.length);
}

/** The reference: Σ s_i·(k_i·g) point by point (ffjavascript's multiExpAffine mishandles affine infinity in some buckets). */
function pointwise(G: CurveGroup, ks: readonly bigint[], scalars: readonly bigint[]): unknown {
  let sum = G.zero;
  ks.forEach((k, i) => {
    sum = G.add(sum, G.timesScalar(pointOf(G, k), scalars[i]!));
  });
  return sum;
}

function expectPoint(G: CurveGroup, layout: GroupLayout, jacobian: number, expected: unknown): void {
  const aff = heap.alloc(layout.affine);
  heap.exports[`${layout.name}m_toAffine`]!(jacobian, aff);
  expect(G.eq(G.fromRprLEM(heap.read(aff, layout.affine), 0), expected)).toBe(true);
}

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
  const mark = heap.top;
  try {
    const ptr = heap.allocCopy(basesBytes(G, layout, bases));
    const s = scalarsOf(scalars);
    const out = heap.alloc(layout.jacobian);
    if (rows > 1) {
      const window = c ?? bestWindow(n, 254);
      const table = buildTable(heap, layout, ptr, n, rows, window);
      const all = Int32Array.from(bases.keys());
      bucketMsm(heap, table, s, all, window, out, maxEntries === undefined ? {} : { maxEntries });
    } else {
      const set: BaseSet = { full: { group: layout, ptr, n, rows: 1, c: 0 } };
      msmSet(heap, set, s, out, heap.alloc(layout.jacobian), maxEntries);
    }
    expectPoint(G, layout, out, pointwise(G, bases, scalars));
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
          const ks = triples.map((t) => t[0]);
          const mark = heap.top;
          try {
            const ptr = heap.allocCopy(basesBytes(G, layout, ks));
            const set: BaseSet = { full: { group: layout, ptr, n: ks.length, rows: 1, c: 0 } };
            learnHot(heap, set, scalarsOf(triples.map((t) => t[1])), 1 << 24); // learned on the first scalars …
            const second = triples.map((t) => t[2]);
            const out = heap.alloc(layout.jacobian);
            msmSet(heap, set, scalarsOf(second), out, heap.alloc(layout.jacobian)); // … used for the second
            expectPoint(G, layout, out, pointwise(G, ks, second));
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
            bytes.set(bytesLE(v), i * 32);
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
            expect(((acc % FIELD_MODULUS) + FIELD_MODULUS) % FIELD_MODULUS).toBe(v);
          });
        },
      ),
    );
  });
});
