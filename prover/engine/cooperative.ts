import {
  type BackResult,
  type FrontResult,
  type Groth16Proof,
  MSMS,
  type Msm,
  type PartTimes,
  POLYS,
  type Poly,
  type PreparedModel,
} from './cachedProver.ts';

/**
 * One Groth16 proof shared among several workers that each hold the same prepared model.
 *
 * A proof's work is (at 2^16, one thread) six FFTs (~27%), the H multi-exponentiation (~59%) and
 * the four witness sums A, B1, B2, C (~15%). It runs in two phases and a finish:
 *  1. "front" parts at once: the coset evaluations of a and b on one worker, of c on another,
 *     and witness sums wherever they fit without lengthening the phase;
 *  2. "back" parts at once: the H sum in ranges (h_j = a_j·b_j − c_j is pointwise, so each range
 *     needs only its slice of the evaluations), plus the witness sums phase 1 had no room for,
 *     the ranges sized so that every worker ends together;
 *  3. "finish": the sums added up, then fresh r and s, on one worker.
 * The plan comes from the costs the previous shared proof of the model measured (planShare).
 * Every part is deterministic except the finish, so no plan can change a proof's validity: the
 * points it adds are the same sums one worker would compute, in another order.
 */

export type PartTask =
  | { readonly kind: 'front'; readonly witness: Uint8Array; readonly polys: Poly[]; readonly msms: Msm[] }
  | {
      readonly kind: 'h';
      readonly from: number;
      readonly to: number;
      readonly a: Uint8Array;
      readonly b: Uint8Array;
      readonly c: Uint8Array;
      /** Witness sums taken on in this phase (then `witness` is sent too). */
      readonly msms?: Msm[];
      readonly witness?: Uint8Array;
    }
  | { readonly kind: 'finish'; readonly sums: Record<Msm, Uint8Array>; readonly hParts: Uint8Array[] }
  /** The whole proof on one worker: for circuits too small to gain from sharing. */
  | { readonly kind: 'whole'; readonly witness: Uint8Array };

export type PartResult = FrontResult | BackResult | { readonly proof: Groth16Proof };

/**
 * Below this domain size sharing a proof costs more in messages than it saves (at 2^11 a shared
 * proof took 1.1× as long as one worker's: scripts/bench/reports/engine.md).
 */
export const MIN_SHARED_DOMAIN = 1 << 13;

/** Which worker does what in a shared proof. */
export interface SharePlan {
  /** Phase 1: every polynomial in exactly one front. */
  readonly fronts: readonly { readonly polys: readonly Poly[]; readonly msms: readonly Msm[] }[];
  /** Phase 2: H ranges covering [0, n) in order; every witness sum is in exactly one front or back. */
  readonly backs: readonly { readonly from: number; readonly to: number; readonly msms: readonly Msm[] }[];
}

/** What a model's shared proof cost, piece by piece (milliseconds; only their ratios matter). */
export interface CostProfile {
  readonly abcMs: number;
  readonly polyMs: Readonly<Record<Poly, number>>;
  readonly msmMs: Readonly<Record<Msm, number>>;
  readonly hMsPerPoint: number;
}

/**
 * A first guess before a model's first shared proof: the engine's phases at 2^16 (engine.md),
 * scaled to the domain. The plan then follows what the model's own proofs measure.
 */
export function defaultCosts(n: number): CostProfile {
  const s = n / 65536;
  return {
    abcMs: 32 * s,
    polyMs: { a: 120 * s, b: 120 * s, c: 120 * s },
    msmMs: { A: 29 * s, B1: 27 * s, B2: 95 * s, C: 32 * s },
    hMsPerPoint: 790 / 65536,
  };
}

/**
 * The plan for one proof of a domain of n on `workers` workers (≥ 2) with the given costs.
 * Phase 1 puts a and b on one worker and c on another; each witness sum, largest first, goes to the
 * least-loaded front if it fits under the longest front, else waits for phase 2. Phase 2 deals the
 * waiting sums out largest first, then fills every worker up to one level with H points
 * (water-filling), so a worker carrying a sum gets fewer points.
 */
export function planShare(n: number, workers: number, costs: CostProfile = defaultCosts(n)): SharePlan {
  const k = Math.max(2, Math.floor(workers));
  const fronts: { polys: Poly[]; msms: Msm[] }[] = [
    { polys: ['a', 'b'], msms: [] },
    { polys: ['c'], msms: [] },
    ...Array.from({ length: k - 2 }, () => ({ polys: [] as Poly[], msms: [] as Msm[] })),
  ];
  const load = fronts.map((f) =>
    f.polys.length === 0 ? 0 : costs.abcMs + f.polys.reduce((t, x) => t + costs.polyMs[x], 0),
  );
  const phase1 = Math.max(...load);
  const bySize = [...MSMS].sort((p, q) => costs.msmMs[q] - costs.msmMs[p]);
  const waiting: Msm[] = [];
  for (const m of bySize) {
    const i = load.indexOf(Math.min(...load));
    if (load[i]! + costs.msmMs[m] <= phase1) {
      fronts[i]!.msms.push(m);
      load[i]! += costs.msmMs[m];
    } else waiting.push(m);
  }
  const backLoad = new Array<number>(k).fill(0);
  const backMsms = Array.from({ length: k }, () => [] as Msm[]);
  for (const m of waiting) {
    const i = backLoad.indexOf(Math.min(...backLoad));
    backMsms[i]!.push(m);
    backLoad[i]! += costs.msmMs[m];
  }
  const share = waterFill(backLoad, costs.hMsPerPoint * n);
  const total = share.reduce((t, v) => t + v, 0);
  const backs: { from: number; to: number; msms: Msm[] }[] = [];
  let cum = 0;
  let at = 0;
  for (let i = 0; i < k; i++) {
    cum += share[i]!;
    const to = i === k - 1 ? n : total > 0 ? Math.round((n * cum) / total) : 0;
    if (to > at || backMsms[i]!.length > 0) backs.push({ from: at, to, msms: backMsms[i]! });
    at = to;
  }
  return { fronts: fronts.filter((f) => f.polys.length + f.msms.length > 0), backs };
}

/** Shares of `amount` such that every load + share reaches one common level, or stays above it at share 0. */
function waterFill(loads: readonly number[], amount: number): number[] {
  const sorted = [...loads].sort((p, q) => p - q);
  // the level when the j lowest loads share the amount; the first j whose level stays at or
  // below the next load is the answer
  let sum = 0;
  let level = 0;
  for (let j = 1; j <= sorted.length; j++) {
    sum += sorted[j - 1]!;
    level = (sum + amount) / j;
    if (level <= (sorted[j] ?? Number.POSITIVE_INFINITY)) break;
  }
  return loads.map((l) => Math.max(0, level - l));
}

/** Runs one part on a worker's prepared model. */
export function runPart(model: PreparedModel, task: PartTask): PartResult {
  switch (task.kind) {
    case 'front':
      return model.frontPart(task.witness, task.polys, task.msms);
    case 'h':
      return model.hPart(task.from, task.to, task, task.msms, task.witness);
    case 'finish':
      return { proof: model.finishParts(task.sums, task.hParts) };
    case 'whole':
      return { proof: model.prove(task.witness).proof };
  }
}

/** Throws, naming the fault, unless the plan does every piece of a proof over [0, n) exactly once. */
export function checkPlan(plan: SharePlan, n: number): void {
  const polys = plan.fronts.flatMap((f) => f.polys);
  for (const x of POLYS)
    if (polys.filter((y) => y === x).length !== 1)
      throw new RangeError(`a share plan must transform ${x} in exactly one front part`);
  const msms = [...plan.fronts.flatMap((f) => f.msms), ...plan.backs.flatMap((b) => b.msms)];
  for (const m of MSMS)
    if (msms.filter((y) => y === m).length !== 1)
      throw new RangeError(`a share plan must compute the sum ${m} in exactly one part`);
  if (polys.length !== POLYS.length || msms.length !== MSMS.length)
    throw new RangeError('a share plan names an unknown polynomial or sum');
  let at = 0;
  for (const { from, to } of plan.backs) {
    if (from !== at || to < from) throw new RangeError(`H ranges must cover [0, ${n}) in order`);
    at = to;
  }
  if (at !== n) throw new RangeError(`H ranges must cover [0, ${n}) in order`);
}

/**
 * One proof of `witness` (values, 32 bytes each) with the parts run by `run` — in a pool, each on
 * whichever worker is free — as `plan` says (checked first: nothing runs on a bad plan). Returns
 * the proof and what its parts cost, to plan the model's next shared proof by (`previous` fills
 * what this plan did not measure). Throws what a part throws.
 */
export async function proveCooperatively(
  run: (task: PartTask) => Promise<PartResult>,
  witness: Uint8Array,
  domainSize: number,
  plan: SharePlan,
  previous: CostProfile = defaultCosts(domainSize),
): Promise<{ proof: Groth16Proof; costs: CostProfile }> {
  checkPlan(plan, domainSize);
  const fronts = (await Promise.all(
    plan.fronts.map((f) => run({ kind: 'front', witness, polys: [...f.polys], msms: [...f.msms] })),
  )) as FrontResult[];
  const evals: Partial<Record<Poly, Uint8Array>> = {};
  const sums: Partial<Record<Msm, Uint8Array>> = {};
  for (const f of fronts) {
    Object.assign(evals, f.evals);
    Object.assign(sums, f.sums);
  }
  for (const x of POLYS)
    if (evals[x]?.length !== domainSize * 32) throw new Error(`the front parts did not return ${x}`);
  const backs = (await Promise.all(
    plan.backs.map(({ from, to, msms }) => {
      const cut = (v: Uint8Array) => v.slice(from * 32, to * 32);
      return run({
        kind: 'h',
        from,
        to,
        a: cut(evals.a!),
        b: cut(evals.b!),
        c: cut(evals.c!),
        ...(msms.length > 0 ? { msms: [...msms], witness } : {}),
      });
    }),
  )) as BackResult[];
  for (const b of backs) Object.assign(sums, b.sums);
  for (const m of MSMS) if (!sums[m]) throw new Error(`the parts did not return the sum ${m}`);
  const done = (await run({
    kind: 'finish',
    sums: sums as Record<Msm, Uint8Array>,
    hParts: backs.map((b) => b.h),
  })) as { proof: Groth16Proof };
  return {
    proof: done.proof,
    costs: learnCosts(
      [...fronts, ...backs].map((p) => p.times),
      previous,
    ),
  };
}

/** The costs the parts measured; `previous` for what none of them did. */
export function learnCosts(times: readonly PartTimes[], previous: CostProfile): CostProfile {
  const abc = times.flatMap((t) => (t.abcMs === undefined ? [] : [t.abcMs]));
  const polyMs = { ...previous.polyMs };
  const msmMs = { ...previous.msmMs };
  let hMs = 0;
  let hPoints = 0;
  for (const t of times) {
    Object.assign(polyMs, t.polyMs);
    Object.assign(msmMs, t.msmMs);
    if (t.h) {
      hMs += t.h.ms;
      hPoints += t.h.points;
    }
  }
  return {
    abcMs: abc.length > 0 ? Math.max(...abc) : previous.abcMs,
    polyMs,
    msmMs,
    hMsPerPoint: hPoints > 0 ? hMs / hPoints : previous.hMsPerPoint,
  };
}
