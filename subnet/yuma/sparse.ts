/**
 * Sparse-matrix helpers of Yuma Consensus, after subtensor's epoch/math.rs (the `_sparse` family).
 * Float64 replaces I32F32: results agree with the chain within the fixture tolerances; where the
 * chain truncates (to u16 or rao) the port truncates too. Rows are sorted by column.
 */
export type SparseRow = readonly (readonly [number, number])[];
export type Sparse = readonly SparseRow[];

export function sum(v: readonly number[]): number {
  let s = 0;
  for (const x of v) s += x;
  return s;
}

/** Sum to 1, except an all-zero vector, which stays zero. */
export function normalize(v: readonly number[]): number[] {
  const s = sum(v);
  return s === 0 ? [...v] : v.map((x) => x / s);
}

/** Each of the k largest non-zero entries (ties keep the later index, as a stable ascending sort). */
export function isTopkNonzero(v: readonly number[], k: number): boolean[] {
  const result = v.map((x) => x !== 0);
  if (v.length < k) return result;
  const idx = v.map((_, i) => i).sort((a, b) => v[a]! - v[b]! || a - b);
  for (const i of idx.slice(0, v.length - k)) result[i] = false;
  return result;
}

export function maskRows(mask: readonly boolean[], m: Sparse): Sparse {
  return m.map((row, i) => ((mask[i] ?? true) ? [] : row));
}

export function maskDiag(m: Sparse, exceptIndex: number | null): Sparse {
  return m.map((row, i) =>
    row.filter(([j]) => i !== j || (exceptIndex !== null && i === exceptIndex && j === exceptIndex)),
  );
}

/** Drops cells where fn(first[i], second[j]) holds. */
export function vecMask(
  m: Sparse,
  first: readonly number[],
  second: readonly number[],
  fn: (a: number, b: number) => boolean,
): Sparse {
  return m.map((row, i) => row.filter(([j]) => !fn(first[i] ?? 0, second[j] ?? 0)));
}

/** Drops cells where fn(scalar, vector[j]) holds. */
export function scalarVecMask(
  m: Sparse,
  scalar: number,
  vector: readonly number[],
  fn: (a: number, b: number) => boolean,
): Sparse {
  return m.map((row) => row.filter(([j]) => !fn(scalar, vector[j] ?? 0)));
}

export function rowNormalize(m: Sparse): Sparse {
  return m.map((row) => {
    const s = sum(row.map(([, v]) => v));
    return s > 0 ? row.map(([j, v]) => [j, v / s] as const) : row;
  });
}

export function colNormalize(m: Sparse, columns: number): Sparse {
  const cs = new Array<number>(columns).fill(0);
  for (const row of m) for (const [j, v] of row) if (j < columns) cs[j]! += v;
  return m.map((row) => row.map(([j, v]) => [j, cs[j] ? v / cs[j]! : v] as const));
}

export function colMaxUpscale(m: Sparse, columns: number): Sparse {
  const mx = new Array<number>(columns).fill(0);
  for (const row of m) for (const [j, v] of row) if (j < columns && mx[j]! < v) mx[j] = v;
  return m.map((row) => row.map(([j, v]) => [j, mx[j] ? v / mx[j]! : v] as const));
}

/** r_j = Σ_i v_i · m_ij */
export function matmul(m: Sparse, v: readonly number[], columns: number): number[] {
  const r = new Array<number>(columns).fill(0);
  m.forEach((row, i) => {
    for (const [j, x] of row) if (j < columns) r[j]! += (v[i] ?? 0) * x;
  });
  return r;
}

/** r_i = Σ_j v_j · m_ij */
export function matmulTranspose(m: Sparse, v: readonly number[]): number[] {
  return m.map((row) => row.reduce((acc, [j, x]) => acc + (v[j] ?? 0) * x, 0));
}

export function rowSum(m: Sparse): number[] {
  return m.map((row) => sum(row.map(([, v]) => v)));
}

export function rowHadamard(m: Sparse, v: readonly number[]): Sparse {
  return m.map((row, i) => row.map(([j, x]) => [j, x * (v[i] ?? 0)] as const));
}

/** m_ij · v_j, zero products dropped. */
export function matVecMul(m: Sparse, v: readonly number[]): Sparse {
  return m.map((row) => row.map(([j, x]) => [j, x * (v[j] ?? 0)] as const).filter(([, x]) => x !== 0));
}

/** Values above the column threshold become the threshold (dropped when it is 0). */
export function colClip(m: Sparse, threshold: readonly number[]): Sparse {
  return m.map((row) =>
    row.flatMap(([j, v]): (readonly [number, number])[] => {
      const th = threshold[j] ?? 0;
      if (th < v) return th > 0 ? [[j, th]] : [];
      return [[j, v]];
    }),
  );
}

/** A + ratio·(B − A), cells > 0 kept. */
export function interpolate(a: Sparse, b: Sparse, columns: number, ratio: number): Sparse {
  if (ratio === 0) return a;
  if (ratio === 1) return b;
  return a.map((rowA, i) => {
    const da = dense(rowA, columns);
    const db = dense(b[i] ?? [], columns);
    const out: [number, number][] = [];
    for (let j = 0; j < columns; j++) {
      const x = da[j]! + ratio * (db[j]! - da[j]!);
      if (x > 0) out.push([j, x]);
    }
    return out;
  });
}

/** α·new + (1 − α)·old, positive cells kept (Yuma 2's bond EMA). */
export function matEma(fresh: Sparse, old: Sparse, alpha: number): Sparse {
  const n = fresh.length;
  return fresh.map((row, i) => {
    const acc = new Array<number>(n).fill(0);
    for (const [j, v] of row) if (j < n) acc[j]! += alpha * v;
    for (const [j, v] of old[i] ?? []) if (j < n) acc[j]! += (1 - alpha) * v;
    const out: [number, number][] = [];
    acc.forEach((v, j) => {
      if (v > 0) out.push([j, v]);
    });
    return out;
  });
}

/**
 * Per-cell α: (1 − α_ij)·old_ij + α_ij·new_ij clamped to [0, 1]. As on chain, only cells present
 * in `fresh` are emitted: a bond on a column the validator no longer weights is dropped.
 */
export function matEmaAlpha(fresh: Sparse, old: Sparse, alpha: readonly (readonly number[])[]): Sparse {
  return fresh.map((row, i) => {
    const a = alpha[i] ?? [];
    const decayed = new Array<number>(a.length).fill(0);
    for (const [j, v] of old[i] ?? []) if (j < a.length) decayed[j] = (1 - a[j]!) * v;
    const out: [number, number][] = [];
    for (const [j, v] of row) {
      if (j >= a.length) continue;
      const val = Math.min(1, decayed[j]! + Math.max(0, a[j]! * v));
      if (val > 0) out.push([j, val]);
    }
    return out;
  });
}

export function dense(row: SparseRow, columns: number): number[] {
  const d = new Array<number>(columns).fill(0);
  for (const [j, v] of row) if (j < columns) d[j] = v;
  return d;
}

/**
 * Stake-weighted median by mid-pivot partitioning (deterministic), as subtensor's weighted_median:
 * the largest score whose upper stake share exceeds `minority`.
 */
export function weightedMedian(
  stake: readonly number[],
  score: readonly number[],
  minority: number,
  lo0: number,
  hi0: number,
): number {
  let part = stake.map((_, i) => i);
  let lo = lo0;
  let hi = hi0;
  for (let guard = 0; guard <= stake.length; guard++) {
    if (part.length === 0) return 0;
    if (part.length === 1) return score[part[0]!] ?? 0;
    const pivot = score[part[Math.floor(part.length / 2)]!]!;
    let loStake = 0;
    let hiStake = 0;
    const lower: number[] = [];
    const upper: number[] = [];
    for (const i of part) {
      const s = score[i]!;
      if (s === pivot) continue;
      if (s < pivot) {
        loStake += stake[i]!;
        lower.push(i);
      } else {
        hiStake += stake[i]!;
        upper.push(i);
      }
    }
    if (minority < lo + loStake && lower.length > 0) {
      part = lower;
      hi = lo + loStake;
    } else if (hi - hiStake <= minority && upper.length > 0) {
      part = upper;
      lo = hi - hiStake;
    } else {
      return pivot;
    }
  }
  return 0;
}

/** Column-wise stake-weighted median over the rows with positive stake (weighted_median_col_sparse). */
export function weightedMedianCol(
  stake: readonly number[],
  m: Sparse,
  columns: number,
  majority: number,
): number[] {
  const useStake = normalize(stake.filter((s) => s > 0));
  const stakeSum = sum(useStake);
  const minority = stakeSum - majority;
  const cols: number[][] = Array.from({ length: columns }, () => new Array<number>(useStake.length).fill(0));
  let k = 0;
  stake.forEach((s, i) => {
    if (s > 0) {
      for (const [c, v] of m[i] ?? []) if (c < columns) cols[c]![k] = v;
      k++;
    }
  });
  return cols.map((col) => weightedMedian(useStake, col, minority, 0, stakeSum));
}
