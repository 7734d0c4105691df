import {
  type FrontResult,
  type Groth16Proof,
  MSMS,
  type Msm,
  POLYS,
  type Poly,
  type PreparedModel,
} from './cachedProver.ts';

/**
 * One Groth16 proof shared among several workers that each hold the same prepared model.
 *
 * A proof's work is (at 2^16, one thread) six FFTs (~27%), the H multi-exponentiation (~59%) and
 * the four witness sums A, B1, B2, C (~15%). The parts:
 *  1. two "front" parts at once: the coset evaluations of a and b plus the G2 sum B2 on one
 *     worker; c plus the sums A, B1, C on the other (about even at 2^14 and 2^16);
 *  2. the H sum in k ranges at once (h_j = a_j·b_j − c_j is pointwise, so each range needs only its
 *     slice of the evaluations);
 *  3. "finish": the sums added up, then fresh r and s, on one worker.
 * Every part is deterministic except the finish, so the split cannot change a proof's validity:
 * the points it adds are the same sums one worker would compute, in another order.
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
    }
  | { readonly kind: 'finish'; readonly sums: Record<Msm, Uint8Array>; readonly hParts: Uint8Array[] }
  /** The whole proof on one worker: for circuits too small to gain from sharing. */
  | { readonly kind: 'whole'; readonly witness: Uint8Array };

export type PartResult = FrontResult | { readonly h: Uint8Array } | { readonly proof: Groth16Proof };

/**
 * Below this domain size sharing a proof costs more in messages than it saves (at 2^11 a shared
 * proof took 1.1× as long as one worker's: scripts/bench/reports/engine.md).
 */
export const MIN_SHARED_DOMAIN = 1 << 13;

/** The front parts: every polynomial and every sum exactly once. */
export const FRONTS: readonly { readonly polys: Poly[]; readonly msms: Msm[] }[] = [
  { polys: ['a', 'b'], msms: ['B2'] },
  { polys: ['c'], msms: ['A', 'B1', 'C'] },
];

/** [from, to) ranges covering [0, n) in `parts` nearly equal pieces (some empty when n < parts). */
export function splitRange(n: number, parts: number): [number, number][] {
  const k = Math.max(1, Math.floor(parts));
  return Array.from({ length: k }, (_, i) => [Math.floor((i * n) / k), Math.floor(((i + 1) * n) / k)]);
}

/** Runs one part on a worker's prepared model. */
export function runPart(model: PreparedModel, task: PartTask): PartResult {
  switch (task.kind) {
    case 'front':
      return model.frontPart(task.witness, task.polys, task.msms);
    case 'h':
      return { h: model.hPart(task.from, task.to, task.a, task.b, task.c) };
    case 'finish':
      return { proof: model.finishParts(task.sums, task.hParts) };
    case 'whole':
      return { proof: model.prove(task.witness).proof };
  }
}

/**
 * One proof of `witness` (values, 32 bytes each) with the parts run by `run` — in a pool, each on
 * whichever worker is free — and the H sum cut into `ranges` (splitRange). Throws what a part throws.
 */
export async function proveCooperatively(
  run: (task: PartTask) => Promise<PartResult>,
  witness: Uint8Array,
  domainSize: number,
  ranges: readonly (readonly [number, number])[],
): Promise<Groth16Proof> {
  let at = 0;
  for (const [from, to] of ranges) {
    if (from !== at || to < from) throw new RangeError(`H ranges must cover [0, ${domainSize}) in order`);
    at = to;
  }
  if (at !== domainSize) throw new RangeError(`H ranges must cover [0, ${domainSize}) in order`);
  const fronts = (await Promise.all(
    FRONTS.map((f) => run({ kind: 'front', witness, ...f })),
  )) as FrontResult[];
  const evals: Partial<Record<Poly, Uint8Array>> = {};
  const sums: Partial<Record<Msm, Uint8Array>> = {};
  for (const f of fronts) {
    Object.assign(evals, f.evals);
    Object.assign(sums, f.sums);
  }
  for (const x of POLYS)
    if (evals[x]?.length !== domainSize * 32) throw new Error(`the front parts did not return ${x}`);
  for (const m of MSMS) if (!sums[m]) throw new Error(`the front parts did not return the sum ${m}`);
  const hParts = (await Promise.all(
    ranges.map(([from, to]) => {
      const cut = (v: Uint8Array) => v.slice(from * 32, to * 32);
      return run({ kind: 'h', from, to, a: cut(evals.a!), b: cut(evals.b!), c: cut(evals.c!) });
    }),
  )) as { h: Uint8Array }[];
  const done = (await run({
    kind: 'finish',
    sums: sums as Record<Msm, Uint8Array>,
    hParts: hParts.map((p) => p.h),
  })) as { proof: Groth16Proof };
  return done.proof;
}
