import { describe, expect, it } from 'vitest';
import { capWeights } from './maxWeight.ts';

const sum = (v: readonly number[]) => v.reduce((s, x) => s + x, 0);

describe('capWeights', () => {
  it('leaves weights under the limit as they are, normalised', () => {
    expect(capWeights([1, 1, 2], 0.5)).toEqual([0.25, 0.25, 0.5]);
    expect(capWeights([3, 1], 1)).toEqual([0.75, 0.25]);
  });

  it('lowers the largest to the limit and keeps the others in proportion', () => {
    const w = capWeights([8, 1, 1], 0.5);
    expect(w[0]).toBeCloseTo(0.5, 12);
    expect(w[1]).toBeCloseTo(0.25, 12);
    expect(w[2]).toBeCloseTo(0.25, 12);
  });

  it('caps several when lowering one is not enough, and never exceeds the limit', () => {
    const w = capWeights([10, 9, 1, 1, 1], 0.3);
    expect(sum(w)).toBeCloseTo(1, 12);
    expect(Math.max(...w)).toBeCloseTo(0.3, 12);
    expect(w[0]).toBeCloseTo(w[1]!, 12); // both capped to one value
    expect(w[2]! / w[3]!).toBeCloseTo(1, 12);
    for (let trial = 0; trial < 200; trial++) {
      const n = 2 + (trial % 9);
      const v = Array.from({ length: n }, (_, i) => ((i * 7919 + trial * 104729) % 1000) + 1);
      const limit = 1 / n + ((trial % 5) + 1) * 0.03;
      const out = capWeights(v, limit);
      expect(sum(out)).toBeCloseTo(1, 9);
      expect(Math.max(...out)).toBeLessThanOrEqual(limit + 1e-12);
      // order is kept (a larger weight never ends below a smaller one)
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++)
          if (v[i]! > v[j]!) expect(out[i]!).toBeGreaterThanOrEqual(out[j]! - 1e-12);
    }
  });

  it('is uniform when the limit cannot be met otherwise, or nothing is weighted', () => {
    expect(capWeights([5, 1], 0.4)).toEqual([0.5, 0.5]);
    expect(capWeights([0, 0, 0], 0.5)).toEqual([1 / 3, 1 / 3, 1 / 3]);
    expect(capWeights([], 0.5)).toEqual([]);
  });
});
