import { describe, expect, it } from 'vitest';
import { mapInParallel } from './inParallel.ts';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('mapInParallel', () => {
  it('keeps the order of the items and never runs more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const out = await mapInParallel([5, 1, 4, 2, 3], 2, async (v, k) => {
      running++;
      most = Math.max(most, running);
      await tick(v * 3);
      running--;
      return `${k}:${v * 10}`;
    });
    expect(out).toEqual(['0:50', '1:10', '2:40', '3:20', '4:30']);
    expect(most).toBe(2);
  });

  it('throws the first error after the running calls settle, and starts no new ones', async () => {
    const started: number[] = [];
    let settled = 0;
    const err = await mapInParallel([0, 1, 2, 3, 4], 2, async (v) => {
      started.push(v);
      if (v === 1) throw new Error('slice 1 failed');
      await tick(20);
      settled++;
      return v;
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('slice 1 failed');
    expect(started).toEqual([0, 1]);
    expect(settled).toBe(1);
  });
});
