import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SlicedModel } from '../circuits/slicedModel.ts';
import { largestFirst } from './slicedAnswer.ts';

/** Just what largestFirst reads: each slice's constraint count. */
const model = (sizes: number[]) =>
  ({
    slices: sizes.map((constraints) => ({ manifest: { circuit: { constraints } } })),
  }) as unknown as SlicedModel;

describe('largestFirst', () => {
  it('orders every slice once, by size descending, earlier first among equals', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 200_000 }), { minLength: 1, maxLength: 40 }),
        (sizes) => {
          const order = largestFirst(model(sizes));
          expect([...order].sort((p, q) => p - q)).toEqual(sizes.map((_, k) => k));
          for (let i = 1; i < order.length; i++) {
            const [p, q] = [order[i - 1]!, order[i]!];
            expect(sizes[p]! > sizes[q]! || (sizes[p] === sizes[q] && p < q)).toBe(true);
          }
        },
      ),
    );
  });

  it('puts a small first slice last', () => {
    expect(largestFirst(model([58_653, 91_555, 100_332, 94_399]))).toEqual([2, 3, 1, 0]);
  });
});
