import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { proveCooperatively, splitRange } from './cooperative.ts';

describe('splitRange', () => {
  it('covers [0, n) in order with pieces differing by at most one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 << 20 }), fc.integer({ min: 1, max: 64 }), (n, parts) => {
        const r = splitRange(n, parts);
        expect(r.length).toBe(parts);
        expect(r[0]![0]).toBe(0);
        expect(r.at(-1)![1]).toBe(n);
        for (let i = 1; i < r.length; i++) expect(r[i]![0]).toBe(r[i - 1]![1]);
        const sizes = r.map(([f, t]) => t - f);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe('proveCooperatively', () => {
  it('refuses H ranges that leave a gap, overlap or stop short, before running any part', async () => {
    let ran = 0;
    const run = async () => {
      ran++;
      throw new Error('no part should run');
    };
    for (const ranges of [
      [
        [0, 4],
        [5, 8],
      ],
      [
        [0, 5],
        [4, 8],
      ],
      [[0, 7]],
      [[1, 8]],
    ] as [number, number][][]) {
      await expect(proveCooperatively(run, new Uint8Array(0), 8, ranges)).rejects.toThrow(/cover \[0, 8\)/);
    }
    expect(ran).toBe(0);
  });
});
