import { type SignedScalars, signedDigits } from './scalars.ts';
import type { CurveHeap } from './wasmCurve.ts';

/**
 * Multi-exponentiation over G1 or G2 by bucket accumulation with batched affine additions.
 *
 * For window size c and digits d_{i,k} ∈ [−2^(c−1), 2^(c−1)], Σ s_i·P_i = Σ_k 2^(kc) Σ_i d_{i,k}·P_i.
 * A base table may hold precomputed rows T_k = 2^(kc)·P for k < rows (fixed bases such as the
 * zkey's H points): then `rows` windows fold into one bucket pass with no doublings between them.
 * Points are sorted into buckets by |digit| (counting sort, negated when the digit is negative),
 * each bucket is summed as a tree of affine additions — every level one shared inversion — and
 * the buckets are combined by the running-sum method.
 */

export interface GroupLayout {
  readonly name: 'g1' | 'g2';
  readonly affine: number;
  readonly jacobian: number;
}
export const G1: GroupLayout = { name: 'g1', affine: 64, jacobian: 96 };
export const G2: GroupLayout = { name: 'g2', affine: 128, jacobian: 288 };

export interface BaseTable {
  readonly group: GroupLayout;
  /** Pointer to rows × n affine points, row-major: row k is 2^(k·c)·P. */
  readonly ptr: number;
  readonly n: number;
  readonly rows: number;
  /** Window size the rows were built for (meaningless when rows = 1). */
  readonly c: number;
}

/** Estimated cost in base-field multiplications, to choose c (6 per batched affine addition, 14 per Jacobian). */
function cost(entries: number, windows: number, c: number): number {
  return entries * 6 + windows * (1 << c) * 14;
}

/** The window size minimising the estimated cost for `n` points with scalars of `bits` bits. */
export function bestWindow(n: number, bits: number): number {
  let best = 2;
  let bestCost = Number.POSITIVE_INFINITY;
  for (let c = 2; c <= 16; c++) {
    const k = Math.ceil((bits + 1) / c);
    const cst = cost(n * k, k, c);
    if (cst < bestCost) {
      bestCost = cst;
      best = c;
    }
  }
  return best;
}

/**
 * Σ s_i·P_i for the scalars listed in `which` (indices into `s`, and into the table unless `pos`
 * maps them), written as a
 * Jacobian point at `out`. `c` is the window; with table.rows > 1 it must equal table.c.
 */
export function bucketMsm(
  heap: CurveHeap,
  table: BaseTable,
  s: SignedScalars,
  which: Int32Array,
  c: number,
  out: number,
  options: {
    /** Table position of each scalar index when the table holds a subset of the bases. */
    readonly pos?: Int32Array | undefined;
    /** Cap on points per bucket pass (scratch is ~200 bytes per point); rows are split to fit. */
    readonly maxEntries?: number;
  } = {},
): void {
  const pos = options.pos;
  const ex = heap.exports;
  const g = table.group.name;
  const AFF = table.group.affine;
  let maxBits = 0;
  for (let j = 0; j < which.length; j++) maxBits = Math.max(maxBits, s.bits[which[j]!]!);
  ex[`${g}m_zero`]!(out);
  if (which.length === 0 || maxBits === 0) return;
  const windows = Math.ceil((maxBits + 1) / c);
  const digits = signedDigits(s, which, c, windows);
  const rowsPerLevel = table.rows > 1 ? table.rows : 1;
  const levels = Math.ceil(windows / rowsPerLevel);
  const m = which.length;
  const nBuckets = 1 << (c - 1);
  // Windows of one level share rows and need no doublings between them: they may be split
  // into several bucket passes (each costs one more bucket reduction) to bound the scratch.
  const chunkRows = Math.max(1, Math.min(rowsPerLevel, Math.floor((options.maxEntries ?? Infinity) / m)));

  const mark = heap.top;
  const pPass = heap.alloc(table.group.jacobian);
  const pCnt = heap.alloc(nBuckets * 4);
  const offsets = new Int32Array(nBuckets + 1);
  try {
    for (let level = levels - 1; level >= 0; level--) {
      // Horner: shift what we have by one level's worth of bits.
      if (level < levels - 1) for (let i = 0; i < rowsPerLevel * c; i++) ex[`${g}m_double`]!(out, out);
      const levelStart = level * rowsPerLevel;
      const levelEnd = Math.min(windows, levelStart + rowsPerLevel);
      for (let k0 = levelStart; k0 < levelEnd; k0 += chunkRows) {
        const k1 = Math.min(levelEnd, k0 + chunkRows);
        const cnt = heap.i32(pCnt, nBuckets);
        cnt.fill(0);
        let entries = 0;
        for (let k = k0; k < k1; k++) {
          const base = k * m;
          for (let j = 0; j < m; j++) {
            const d = digits[base + j]!;
            if (d !== 0) {
              cnt[(d < 0 ? -d : d) - 1]!++;
              entries++;
            }
          }
        }
        if (entries === 0) continue;
        offsets[0] = 0;
        let firstLevelOut = 0;
        let max = 0;
        for (let b = 0; b < nBuckets; b++) {
          offsets[b + 1] = offsets[b]! + cnt[b]!;
          firstLevelOut += (cnt[b]! + 1) >>> 1;
          if (cnt[b]! > max) max = cnt[b]!;
        }
        // From here the heap may grow, which detaches every view made before: make new ones.
        // Scratch for this pass only (~170 bytes a point). Later levels ping-pong between pA and
        // pB, and each level's output is no larger than the one before.
        const passMark = heap.top;
        const pIdx = heap.alloc(entries * 4);
        const pA = heap.alloc(entries * AFF);
        const pB = heap.alloc(firstLevelOut * AFF);
        const pairs = entries >>> 1;
        const pD = heap.alloc(pairs * (AFF / 2));
        const pPre = heap.alloc(pairs * (AFF / 2));
        const pFlag = heap.alloc(pairs * 4);
        const idx = heap.i32(pIdx, entries);
        for (let k = k0; k < k1; k++) {
          const base = k * m;
          const row = (table.rows > 1 ? k - levelStart : 0) * table.n;
          for (let j = 0; j < m; j++) {
            const d = digits[base + j]!;
            if (d === 0) continue;
            const b = (d < 0 ? -d : d) - 1;
            const at = pos ? pos[which[j]!]! : which[j]!;
            idx[offsets[b]!++] = ((row + at) << 1) | (d < 0 ? 1 : 0);
          }
        }
        ex[`zk_${g}Gather`]!(table.ptr, pIdx, entries, pA);
        let src = pA;
        let dst = pB;
        while (max > 1) {
          max = ex[`zk_${g}AddLevel`]!(src, pCnt, nBuckets, dst, pD, pPre, pFlag);
          [src, dst] = [dst, src];
        }
        ex[`zk_${g}BucketSum`]!(src, pCnt, nBuckets, pPass);
        ex[`${g}m_add`]!(out, pPass, out);
        heap.top = passMark;
      }
    }
  } finally {
    heap.top = mark;
  }
}

/**
 * Builds rows T_k = 2^(k·c)·P (k < rows) for `n` affine bases, as a new table.
 * Costs about n·c·(rows−1) doublings, once per model.
 */
export function buildTable(
  heap: CurveHeap,
  group: GroupLayout,
  /** The bases: a pointer into the heap, or their bytes. */
  bases: number | Uint8Array,
  n: number,
  rows: number,
  c: number,
): BaseTable {
  const ex = heap.exports;
  const g = group.name;
  const ptr = heap.alloc(rows * n * group.affine);
  if (typeof bases === 'number') heap.u8.copyWithin(ptr, bases, bases + n * group.affine);
  else heap.write(ptr, bases.subarray(0, n * group.affine));
  const mark = heap.top;
  const jac = heap.alloc(n * group.jacobian);
  heap.reserve(n * group.jacobian * 2); // batchToAffine's inversion scratch goes above our top
  try {
    for (let k = 1; k < rows; k++) {
      const prev = ptr + (k - 1) * n * group.affine;
      const cur = ptr + k * n * group.affine;
      ex[`zk_${g}DoubleMany`]!(prev, n, c, jac);
      ex[`${g}m_batchToAffine`]!(jac, n, cur);
    }
  } finally {
    heap.top = mark;
  }
  return { group, ptr, n, rows, c };
}
