import type { GroupLayout } from './bucketMsm.ts';
import type { CurveHeap } from './wasmCurve.ts';

/**
 * s_j·P for one fixed point P and many scalars s_j (a trusted setup's powers and Lagrange
 * points are all multiples of the generators).
 *
 * P's table holds d·256^w·P for d = 1..128 and w = 0..32: a scalar's 32 little-endian bytes,
 * read as signed base-256 digits in [−127, 128], pick at most 33 table points (negated for a
 * negative digit), and their sum is s·P. The sums of a chunk of scalars are taken together as
 * segments of the engine's batched affine additions (one shared inversion per level), so each
 * result costs ~32 affine additions and no doublings. Results are affine, little-endian
 * Montgomery form (the layout of zkey and ptau files); 0·P is all zeros.
 */

const WINDOWS = 33;
const DIGITS = 128;
/** Scalars per pass: bounds the scratch to ~33 points per scalar. */
const CHUNK = 1 << 13;

export interface FixedBase {
  readonly group: GroupLayout;
  /** WINDOWS × DIGITS affine points in the heap. */
  readonly ptr: number;
}

/** Builds the table of `point` (affine, Montgomery LE, in the heap or given as bytes). */
export function fixedBase(heap: CurveHeap, group: GroupLayout, point: Uint8Array): FixedBase {
  const ex = heap.exports;
  const g = group.name;
  // wasmcurves' Jacobian points are three base-field elements back to back
  const J = (group.affine * 3) / 2;
  const ptr = heap.alloc(WINDOWS * DIGITS * group.affine);
  const mark = heap.top;
  const base = heap.allocCopy(point); // 256^w·P, affine
  const jac = heap.alloc(DIGITS * J);
  heap.reserve(DIGITS * J * 2);
  try {
    for (let w = 0; w < WINDOWS; w++) {
      // jac[d-1] = d·base, then the row in affine (2·base by doubling: wasmcurves' mixed
      // addition does not take equal points on G2)
      ex[`${g}m_zero`]!(jac);
      ex[`${g}m_addMixed`]!(jac, base, jac);
      ex[`${g}m_double`]!(jac, jac + J);
      for (let d = 2; d < DIGITS; d++) {
        ex[`${g}m_addMixed`]!(jac + (d - 1) * J, base, jac + d * J);
      }
      ex[`${g}m_batchToAffine`]!(jac, DIGITS, ptr + w * DIGITS * group.affine);
      // next window's base: 256·base = 2·(128·base)
      const last = jac + (DIGITS - 1) * J;
      ex[`${g}m_double`]!(last, last);
      ex[`${g}m_toAffine`]!(last, base);
    }
  } finally {
    heap.top = mark;
  }
  return { group, ptr };
}

/**
 * s_j·P for the n scalars packed as 32-byte little-endian integers (standard form, < 2^254)
 * in `scalars`; the affine results go to `emit`, a chunk at a time, in order.
 */
export function generatorTimes(
  heap: CurveHeap,
  table: FixedBase,
  scalars: Uint8Array,
  n: number,
  emit: (points: Uint8Array) => void,
): void {
  const { group } = table;
  const ex = heap.exports;
  const g = group.name;
  const AFF = group.affine;
  for (let start = 0; start < n; start += CHUNK) {
    const m = Math.min(CHUNK, n - start);
    const mark = heap.top;
    try {
      const pCnt = heap.alloc(m * 4);
      const pIdx = heap.alloc(m * WINDOWS * 4);
      const cnt = heap.i32(pCnt, m);
      const idx = heap.i32(pIdx, m * WINDOWS);
      let entries = 0;
      let max = 0;
      for (let j = 0; j < m; j++) {
        const off = (start + j) * 32;
        let carry = 0;
        let c = 0;
        for (let w = 0; w < WINDOWS; w++) {
          let v = (w < 32 ? scalars[off + w]! : 0) + carry;
          carry = 0;
          if (v > DIGITS) {
            v -= 256;
            carry = 1;
          }
          if (v === 0) continue;
          const neg = v < 0 ? 1 : 0;
          idx[entries++] = ((w * DIGITS + (neg ? -v : v) - 1) << 1) | neg;
          c++;
        }
        cnt[j] = c;
        if (c > max) max = c;
      }
      const pA = heap.alloc(entries * AFF);
      const pB = heap.alloc(entries * AFF);
      const pairs = Math.max(1, entries >>> 1);
      const pD = heap.alloc(pairs * (AFF / 2));
      const pPre = heap.alloc(pairs * (AFF / 2));
      const pFlag = heap.alloc(pairs * 4);
      ex[`zk_${g}Gather`]!(table.ptr, pIdx, entries, pA);
      let src = pA;
      let dst = pB;
      while (max > 1) {
        max = ex[`zk_${g}AddLevel`]!(src, pCnt, m, dst, pD, pPre, pFlag);
        [src, dst] = [dst, src];
      }
      // every segment now holds one point (or none: a zero scalar), back to back
      const out = new Uint8Array(m * AFF);
      const counts = heap.i32(pCnt, m);
      const u8 = heap.u8;
      let at = src;
      for (let j = 0; j < m; j++) {
        if (counts[j] === 1) {
          out.set(u8.subarray(at, at + AFF), j * AFF);
          at += AFF;
        }
      }
      emit(out);
    } finally {
      heap.top = mark;
    }
  }
}
