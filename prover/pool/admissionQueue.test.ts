import { describe, expect, it } from 'vitest';
import { AdmissionQueue } from './admissionQueue.ts';

describe('AdmissionQueue', () => {
  it('hands out the highest priority first, oldest first among equals', () => {
    const q = new AdmissionQueue<string>(10);
    for (const [item, p] of [
      ['a', 1],
      ['b', 5],
      ['c', 1],
      ['d', 5],
      ['e', 0],
    ] as const)
      q.offer(item, p);
    expect([q.take(), q.take(), q.take(), q.take(), q.take(), q.take()]).toEqual([
      'b',
      'd',
      'a',
      'c',
      'e',
      undefined,
    ]);
  });

  it('when full, a richer newcomer displaces the poorest, newest entry; equals and poorer are refused', () => {
    const q = new AdmissionQueue<string>(3);
    q.offer('v1', 10);
    q.offer('u1', 0);
    q.offer('u2', 0);
    expect(q.offer('u3', 0)).toEqual({ admitted: false }); // no stake never displaces anyone
    expect(q.offer('v2', 10)).toEqual({ admitted: true, displaced: 'u2' }); // the newest of the poorest
    expect(q.offer('v3', 10)).toEqual({ admitted: true, displaced: 'u1' });
    expect(q.offer('v4', 10)).toEqual({ admitted: false }); // equals do not displace each other
    expect(q.offer('w', 50)).toEqual({ admitted: true, displaced: 'v3' });
    expect(q.aheadOf(10)).toBe(3);
    expect(q.aheadOf(11)).toBe(1);
    expect(q.aheadOf(0)).toBe(3);
  });

  it('removes an entry that leaves early, and drains', () => {
    const q = new AdmissionQueue<string>(3);
    q.offer('a', 1);
    q.offer('b', 1);
    expect(q.remove('a')).toBe(true);
    expect(q.remove('a')).toBe(false);
    expect(q.drain()).toEqual(['b']);
    expect(q.size).toBe(0);
  });
});
