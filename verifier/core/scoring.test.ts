import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyRound,
  freshScore,
  latencyScores,
  type MinerScore,
  type Outcome,
  updateScore,
  weightsFromScores,
} from './scoring.ts';

describe('scoring', () => {
  it('the fastest verified miner gets 1, the slowest 0.5, and only verified proofs earn', () => {
    const l = latencyScores(
      new Map([
        ['a', 100],
        ['b', 300],
        ['c', 200],
      ]),
    );
    expect(l.get('a')).toBe(1);
    expect(l.get('b')).toBeCloseTo(0.5, 12);
    expect(l.get('c')!).toBeGreaterThan(0.5);
    expect(l.get('c')!).toBeLessThan(1);
  });

  it('weights do not depend on the order the miners are listed in, to the last bit (a replay lists them in another)', () => {
    // 0.1 + 0.2 + 0.3 and 0.3 + 0.2 + 0.1 differ in the last bit
    const miners = [0.1, 0.2, 0.3].map((score, i) => ({ ...freshScore(`m${i}`), score }));
    const forward = weightsFromScores(miners);
    const backward = weightsFromScores([...miners].reverse());
    for (const m of miners) expect(backward.get(m.hotkey)).toBe(forward.get(m.hotkey));
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 12 }),
        (scores) => {
          const ms = scores.map((score, i) => ({ ...freshScore(`h${i}`), score }));
          const a = weightsFromScores(ms);
          const b = weightsFromScores([...ms].reverse());
          for (const m of ms) expect(b.get(m.hotkey)).toBe(a.get(m.hotkey));
        },
      ),
    );
  });

  it('an invalid proof zeroes the score and cools the miner down; transport failures only decay it', () => {
    let s: MinerScore = { ...freshScore('m'), score: 0.8 };
    s = updateScore(s, { kind: 'transport', reason: 'timeout' }, 0, 1);
    expect(s).toMatchObject({ score: 0.8 * 0.6, transport: 1, invalid: 0, cooldownUntil: 0 });
    s = updateScore(s, { kind: 'invalid', reason: 'bindingMismatch' }, 0, 2);
    expect(s).toMatchObject({ score: 0, invalid: 1, cooldownUntil: 5 });
  });

  it('after many rounds: fast honest > slow honest > cheater = offline = 0 (property over latencies)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 50, max: 1000 }),
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 5, max: 30 }),
        (fast, extra, rounds) => {
          let scores = new Map<string, MinerScore>();
          for (let r = 1; r <= rounds; r++) {
            const outcomes = new Map<string, Outcome>([
              ['fast', { kind: 'verified', latencyMs: fast }],
              ['slow', { kind: 'verified', latencyMs: fast + extra }],
              ['cheat', { kind: 'invalid', reason: 'pairing' }],
              ['off', { kind: 'transport', reason: 'connection' }],
            ]);
            scores = applyRound(scores, outcomes, r).scores;
          }
          const w = weightsFromScores([...scores.values()]);
          expect(w.get('fast')!).toBeGreaterThan(w.get('slow')!);
          expect(w.get('slow')!).toBeGreaterThan(0);
          expect(w.get('cheat')).toBe(0);
          expect(w.get('off')).toBe(0);
          expect(scores.get('off')!.invalid).toBe(0);
          const sum = [...w.values()].reduce((a, b) => a + b, 0);
          expect(Math.abs(sum - 1)).toBeLessThan(1e-12);
        },
      ),
    );
  });
});
