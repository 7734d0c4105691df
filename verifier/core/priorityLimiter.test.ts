import { describe, expect, it } from 'vitest';
import { PriorityLimiter } from './priorityLimiter.ts';

describe('PriorityLimiter', () => {
  it('runs at most `limit` tasks and starts waiting priority-0 tasks before earlier priority-1 ones', async () => {
    const limiter = new PriorityLimiter(2);
    const started: string[] = [];
    let running = 0;
    let peak = 0;
    const releases: (() => void)[] = [];
    const task = (name: string, priority: number) =>
      limiter.run(priority, async () => {
        started.push(name);
        peak = Math.max(peak, ++running);
        await new Promise<void>((r) => releases.push(r));
        running--;
      });
    const all = [task('s1', 1), task('s2', 1), task('s3', 1), task('s4', 1), task('o1', 0)];
    await Promise.resolve();
    expect(started).toEqual(['s1', 's2']);
    expect(limiter.load).toEqual({ running: 2, waiting: 3 });
    while (started.length < 5 || releases.length > 0) {
      releases.shift()?.();
      await new Promise((r) => setTimeout(r, 0));
    }
    await Promise.all(all);
    expect(started).toEqual(['s1', 's2', 'o1', 's3', 's4']);
    expect(peak).toBe(2);
    expect(limiter.load).toEqual({ running: 0, waiting: 0 });
  });

  it('frees the slot when a task throws', async () => {
    const limiter = new PriorityLimiter(1);
    await expect(limiter.run(0, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limiter.run(1, async () => 7)).toBe(7);
    expect(() => new PriorityLimiter(0)).toThrow(RangeError);
  });
});
