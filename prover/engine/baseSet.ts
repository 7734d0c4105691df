import { type BaseTable, bestWindow, bucketMsm, buildTable } from './bucketMsm.ts';
import { bitClasses, type SignedScalars } from './scalars.ts';
import type { CurveHeap } from './wasmCurve.ts';

/** Scalars above this many bits (hash states, inverses) are worth fixed-base tables. */
export const HOT_BITS = 64;

/**
 * Rows and window for a fixed-base table of n points with full-size scalars: the window that
 * minimises the estimated cost, with as many rows (≤ windows) as the budget holds.
 */
export function planTable(n: number, pointBytes: number, budget: number): { c: number; rows: number } {
  let best = { c: 2, rows: 1, cost: Number.POSITIVE_INFINITY };
  for (let c = 4; c <= 16; c++) {
    const windows = Math.ceil(255 / c);
    const rows = Math.max(1, Math.min(windows, Math.floor(budget / (n * pointBytes))));
    const passes = Math.ceil(windows / rows);
    const cost = n * windows * 6 + passes * (1 << c) * 14 + (passes - 1) * rows * c * 8;
    if (cost < best.cost) best = { c, rows, cost };
  }
  return { c: best.c, rows: best.rows };
}

/**
 * One set of bases with a witness-sized MSM (A, B1, B2, C). `hot` holds precomputed rows for
 * the bases whose scalars were full-size in the first witness seen: in circuits those are the
 * same signals every time (Poseidon states, inverses), and every other signal is small.
 */
export interface BaseSet {
  readonly full: BaseTable;
  hot?: { readonly table: BaseTable; readonly pos: Int32Array };
}

/**
 * Builds fixed-base rows for the bases whose scalars are full-size in `s`, within `budget` bytes;
 * returns the bytes used. Correctness never depends on it: a later witness with large values
 * elsewhere proves those on the plain path.
 */
export function learnHot(heap: CurveHeap, set: BaseSet, s: SignedScalars, budget: number): number {
  const hot: number[] = [];
  for (let i = 0; i < s.n; i++) if (s.bits[i]! > HOT_BITS) hot.push(i);
  const group = set.full.group;
  if (hot.length === 0 || budget < hot.length * group.affine * 2) return 0;
  const plan = planTable(hot.length, group.affine, budget);
  if (plan.rows < 2) return 0;
  const idx = heap.alloc(hot.length * 4);
  heap.i32(idx, hot.length).set(hot.map((i) => i << 1));
  const bases = heap.alloc(hot.length * group.affine);
  heap.exports[`zk_${group.name}Gather`]!(set.full.ptr, idx, hot.length, bases);
  const table = buildTable(heap, group, bases, hot.length, plan.rows, plan.c);
  const pos = new Int32Array(s.n).fill(-1);
  hot.forEach((i, k) => {
    pos[i] = k;
  });
  set.hot = { table, pos };
  return plan.rows * hot.length * group.affine;
}

/**
 * Σ s_i·base_i over one base set, Jacobian at `out`; `tmp` is a Jacobian scratch point;
 * `maxEntries` bounds the points of one bucket pass (see bucketMsm).
 */
export function msmSet(
  heap: CurveHeap,
  set: BaseSet,
  s: SignedScalars,
  out: number,
  tmp: number,
  maxEntries = Number.POSITIVE_INFINITY,
  /** `bitClasses(s)`, when the caller already has it (A, B1 and B2 share one witness). */
  classes: ReturnType<typeof bitClasses> = bitClasses(s),
): void {
  const ex = heap.exports;
  const g = set.full.group.name;
  ex[`${g}m_zero`]!(out);
  const add = (table: BaseTable, which: Int32Array, c: number, pos?: Int32Array) => {
    if (which.length === 0) return;
    bucketMsm(heap, table, s, which, c, tmp, { pos, maxEntries });
    ex[`${g}m_add`]!(out, tmp, out);
  };
  for (const { which, bits } of classes) {
    const hot = set.hot;
    if (hot && bits > HOT_BITS) {
      const inTable = which.filter((i) => hot.pos[i]! >= 0);
      const rest = which.filter((i) => hot.pos[i]! < 0);
      add(hot.table, inTable, hot.table.c, hot.pos);
      add(set.full, rest, bestWindow(rest.length, bits));
    } else {
      add(set.full, which, bestWindow(which.length, bits));
    }
  }
}
