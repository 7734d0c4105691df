import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MSMS, POLYS } from './cachedProver.ts';
import {
  type CostProfile,
  checkPlan,
  defaultCosts,
  learnCosts,
  planShare,
  proveCooperatively,
  type SharePlan,
} from './cooperative.ts';

const ms = fc.double({ min: 0, max: 5000, noNaN: true });
const costs = fc.record({
  abcMs: ms,
  polyMs: fc.record({ a: ms, b: ms, c: ms }),
  msmMs: fc.record({ A: ms, B1: ms, B2: ms, C: ms }),
  hMsPerPoint: fc.double({ min: 0, max: 1, noNaN: true }),
}) as fc.Arbitrary<CostProfile>;

/** The plan's estimated end of each worker's phase-2 work (H share plus its sums). */
const backEnds = (plan: SharePlan, c: CostProfile) =>
  plan.backs.map((b) => (b.to - b.from) * c.hMsPerPoint + b.msms.reduce((t, m) => t + c.msmMs[m], 0));

describe('planShare', () => {
  it('always plans every piece exactly once on at most `workers` workers per phase', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 << 20 }), fc.integer({ min: 2, max: 16 }), costs, (n, k, c) => {
        const plan = planShare(n, k, c);
        checkPlan(plan, n);
        expect(plan.fronts.length).toBeLessThanOrEqual(k);
        expect(plan.backs.length).toBeLessThanOrEqual(k);
        // a sum goes to phase 1 only where it does not lengthen it
        const front = (f: SharePlan['fronts'][number]) =>
          (f.polys.length > 0 ? c.abcMs : 0) +
          f.polys.reduce((t, x) => t + c.polyMs[x], 0) +
          f.msms.reduce((t, m) => t + c.msmMs[m], 0);
        const polysOnly = Math.max(c.abcMs + c.polyMs.a + c.polyMs.b, c.abcMs + c.polyMs.c);
        for (const f of plan.fronts) expect(front(f)).toBeLessThanOrEqual(polysOnly * (1 + 1e-9) + 1e-9);
      }),
    );
  });

  it('ends every worker of phase 2 together, up to one point each way', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1 << 10, max: 1 << 20 }),
        fc.integer({ min: 2, max: 8 }),
        costs,
        (n, k, c) => {
          fc.pre(c.hMsPerPoint > 1e-6);
          const plan = planShare(n, k, c);
          const ends = backEnds(plan, c);
          // workers given H points end within two points' cost of each other; one given none
          // already carries at least that level in sums
          const withH = plan.backs.flatMap((b, i) => (b.to > b.from ? [ends[i]!] : []));
          const top = Math.max(...withH);
          const slack = 2 * c.hMsPerPoint + 1e-9 * top;
          expect(top - Math.min(...withH)).toBeLessThanOrEqual(slack);
          for (const [i, b] of plan.backs.entries())
            if (b.to === b.from) expect(ends[i]!).toBeGreaterThanOrEqual(top - slack);
        },
      ),
    );
  });

  it('at 2^16 with the default costs keeps c company in phase 1 and gives the back carrying more sums fewer H points', () => {
    const n = 1 << 16;
    const plan = planShare(n, 2);
    checkPlan(plan, n);
    expect(plan.fronts[0]!.polys).toEqual(['a', 'b']);
    expect(plan.fronts[1]!.polys).toEqual(['c']);
    expect(plan.fronts[1]!.msms).toContain('B2');
    // the sums phase 1 had no room for: the back carrying more of them gets fewer H points
    const c = defaultCosts(n);
    const carried = plan.backs.map((b) => b.msms.reduce((t, m) => t + c.msmMs[m], 0));
    const sizes = plan.backs.map((b) => b.to - b.from);
    expect(plan.backs.length).toBe(2);
    expect(Math.sign(sizes[0]! - sizes[1]!)).toBe(Math.sign(carried[1]! - carried[0]!));
  });
});

describe('checkPlan', () => {
  const good = planShare(8, 2);
  it('refuses a plan that misses or repeats a polynomial or a sum', () => {
    const noC = {
      ...good,
      fronts: good.fronts.map((f) => ({ ...f, polys: f.polys.filter((x) => x !== 'c') })),
    };
    expect(() => checkPlan(noC, 8)).toThrow(/transform c/);
    const twiceB2 = { ...good, backs: good.backs.map((b) => ({ ...b, msms: [...b.msms, 'B2' as const] })) };
    expect(() => checkPlan(twiceB2, 8)).toThrow(/sum B2/);
  });
});

describe('learnCosts', () => {
  it('takes each piece from the parts that measured it and the rest from what came before', () => {
    const before = defaultCosts(1 << 14);
    const c = learnCosts(
      [
        { abcMs: 5, polyMs: { a: 10, b: 11 }, msmMs: { B2: 7 } },
        { polyMs: {}, msmMs: { A: 3 }, h: { ms: 40, points: 100 } },
        { polyMs: {}, msmMs: {}, h: { ms: 60, points: 100 } },
      ],
      before,
    );
    expect(c.abcMs).toBe(5);
    expect(c.polyMs).toEqual({ a: 10, b: 11, c: before.polyMs.c });
    expect(c.msmMs).toEqual({ ...before.msmMs, B2: 7, A: 3 });
    expect(c.hMsPerPoint).toBe(0.5);
  });
});

describe('proveCooperatively', () => {
  it('refuses a plan whose H ranges leave a gap, overlap or stop short, before running any part', async () => {
    let ran = 0;
    const run = async () => {
      ran++;
      throw new Error('no part should run');
    };
    const fronts = [{ polys: [...POLYS], msms: [...MSMS] }];
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
      const plan = { fronts, backs: ranges.map(([from, to]) => ({ from, to, msms: [] })) };
      await expect(proveCooperatively(run, new Uint8Array(0), 8, plan)).rejects.toThrow(/cover \[0, 8\)/);
    }
    expect(ran).toBe(0);
  });
});
