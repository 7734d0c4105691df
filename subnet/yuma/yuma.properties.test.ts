import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SubnetState } from '../subnetState.ts';
import { runEpoch } from './epoch.ts';
import type { Sparse } from './sparse.ts';

const EMISSION = 1_000_000_000;

/** A random subnet: validators 0..v-1 with stake, miners after them, random weights from validators. */
const subnet = fc
  .record({
    validators: fc.integer({ min: 1, max: 4 }),
    miners: fc.integer({ min: 1, max: 5 }),
    seed: fc.array(fc.integer({ min: 0, max: 65535 }), { minLength: 40, maxLength: 40 }),
    stakes: fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 4, maxLength: 4 }),
    yuma3: fc.boolean(),
  })
  .map(({ validators, miners, seed, stakes, yuma3 }) => {
    const n = validators + miners;
    const s = new SubnetState(n, { tempo: 1, maxAllowedValidators: validators, yuma3 });
    s.stake = Array.from({ length: n }, (_, i) => (i < validators ? stakes[i]! : 0));
    s.epoch(EMISSION);
    s.block = 2;
    for (let v = 0; v < validators; v++) {
      const uids = Array.from({ length: miners }, (_, k) => validators + k);
      s.storeWeights(
        v,
        uids,
        uids.map((_, k) => seed[(v * 7 + k) % seed.length]! + 1),
      );
    }
    return s;
  });

describe('Yuma Consensus properties', () => {
  it('emissions add up to the epoch emission (within rao rounding)', () => {
    fc.assert(
      fc.property(subnet, (s) => {
        const out = s.epoch(EMISSION);
        const total = out.emission.reduce((a, b) => a + b, 0);
        expect(total).toBeLessThanOrEqual(EMISSION);
        expect(EMISSION - total).toBeLessThanOrEqual(s.n + 1);
        const split =
          out.serverEmission.reduce((a, b) => a + b, 0) + out.validatorEmission.reduce((a, b) => a + b, 0);
        expect(Math.abs(split - total)).toBeLessThanOrEqual(2 * s.n + 2);
      }),
      { numRuns: 200 },
    );
  });

  it('a validator alone with all the stake gets all the dividends', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.boolean(), (miners, yuma3) => {
        const s = new SubnetState(1 + miners, { tempo: 1, yuma3 });
        s.stake = [5, ...new Array<number>(miners).fill(0)];
        s.epoch(EMISSION);
        s.block = 2;
        s.storeWeights(
          0,
          Array.from({ length: miners }, (_, k) => 1 + k),
          new Array<number>(miners).fill(100),
        );
        const out = s.epoch(EMISSION);
        expect(out.dividends[0]).toBeCloseTo(1, 12);
        expect(out.dividends.slice(1).every((d) => d === 0)).toBe(true);
      }),
    );
  });

  it('permuting uids permutes the results', () => {
    fc.assert(
      fc.property(subnet, fc.integer({ min: 1, max: 1000 }), (s, shift) => {
        const input = s.epochInput(EMISSION);
        const n = input.n;
        const p = Array.from({ length: n }, (_, i) => (i + shift) % n); // new position of uid i
        const permuteVec = <T>(v: readonly T[]): T[] => {
          const out: T[] = new Array(n);
          v.forEach((x, i) => {
            out[p[i]!] = x;
          });
          return out;
        };
        const permuteMat = (m: Sparse): Sparse =>
          permuteVec(m.map((row) => row.map(([j, v]) => [p[j]!, v] as const).sort((a, b) => a[0] - b[0])));
        const a = runEpoch(input);
        const b = runEpoch({
          ...input,
          lastUpdate: permuteVec(input.lastUpdate),
          blockAtRegistration: permuteVec(input.blockAtRegistration),
          stake: permuteVec(input.stake),
          validatorPermits: permuteVec(input.validatorPermits),
          weights: permuteMat(input.weights),
          bonds: permuteMat(input.bonds),
        });
        permuteVec(a.incentive).forEach((x, i) => expect(b.incentive[i]).toBeCloseTo(x, 9));
        permuteVec(a.dividends).forEach((x, i) => expect(b.dividends[i]).toBeCloseTo(x, 9));
      }),
      { numRuns: 100 },
    );
  });
});
