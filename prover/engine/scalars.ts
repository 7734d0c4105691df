import { FIELD_MODULUS } from '../../circuits/core/field.ts';

/**
 * Scalar recoding for multi-exponentiation, on 32-bit limbs (no bigint per scalar: a 2^16-point
 * MSM recodes 65,536 scalars per proof).
 *
 * A scalar s in [0, r) is used as its signed magnitude: s itself when s ≤ r/2, else −(r − s).
 * Circuit witnesses are mostly small signed integers (weights, activations, bits); as field
 * elements the negative ones are near r, and this makes them small again.
 */

const R_LIMBS = limbsOf(FIELD_MODULUS);
const HALF_R_LIMBS = limbsOf(FIELD_MODULUS >> 1n);

function limbsOf(v: bigint): Uint32Array {
  const out = new Uint32Array(8);
  for (let i = 0; i < 8; i++) out[i] = Number((v >> BigInt(32 * i)) & 0xffffffffn);
  return out;
}

/** a > b on 8 limbs. */
function greater(a: Uint32Array, ao: number, b: Uint32Array): boolean {
  for (let i = 7; i >= 0; i--) {
    const x = a[ao + i]!;
    const y = b[i]!;
    if (x !== y) return x > y;
  }
  return false;
}

export interface SignedScalars {
  /** Magnitudes, 8 limbs per scalar (little-endian). */
  readonly mag: Uint32Array;
  /** 1 where the scalar was replaced by its negation. */
  readonly neg: Uint8Array;
  /** Bit length of each magnitude (0 for zero). */
  readonly bits: Uint16Array;
  readonly n: number;
}

/** `scalars`: n field elements, 32 bytes little-endian each, normal (not Montgomery) form, < r. */
export function signedScalars(scalars: Uint8Array, n: number): SignedScalars {
  const src = new Uint32Array(n * 8);
  new Uint8Array(src.buffer).set(scalars.subarray(0, n * 32));
  const neg = new Uint8Array(n);
  const bits = new Uint16Array(n);
  for (let s = 0; s < n; s++) {
    const o = s * 8;
    if (greater(src, o, HALF_R_LIMBS)) {
      neg[s] = 1;
      let borrow = 0;
      for (let i = 0; i < 8; i++) {
        const d = R_LIMBS[i]! - src[o + i]! - borrow;
        src[o + i] = d >>> 0;
        borrow = d < 0 ? 1 : 0;
      }
    }
    let top = 7;
    while (top >= 0 && src[o + top] === 0) top--;
    bits[s] = top < 0 ? 0 : 32 * top + (32 - Math.clz32(src[o + top]!));
  }
  return { mag: src, neg, bits, n };
}

/** The scalars from index `from` on, as views (no copy, no recoding). */
export function sliceScalars(s: SignedScalars, from: number): SignedScalars {
  return {
    mag: s.mag.subarray(from * 8),
    neg: s.neg.subarray(from),
    bits: s.bits.subarray(from),
    n: s.n - from,
  };
}

/**
 * Signed base-2^c digits of the magnitudes of `which` scalars, window-major:
 * digit (k, j) at k·which.length + j, each in [−2^(c−1), 2^(c−1)], with the scalar's own sign
 * folded in. `windows` must be ≥ ceil((maxBits + 1) / c) so the final carry has room.
 */
export function signedDigits(s: SignedScalars, which: Int32Array, c: number, windows: number): Int32Array {
  const m = which.length;
  const out = new Int32Array(windows * m);
  const full = 1 << c;
  const half = full >>> 1;
  const mask = full - 1;
  for (let j = 0; j < m; j++) {
    const idx = which[j]!;
    const o = idx * 8;
    const nb = s.bits[idx]!;
    const sign = s.neg[idx] ? -1 : 1;
    let carry = 0;
    for (let k = 0; k < windows; k++) {
      const bit = k * c;
      let d = carry;
      if (bit < nb) {
        const w = bit >>> 5;
        const sh = bit & 31;
        let v = s.mag[o + w]! >>> sh;
        if (sh + c > 32 && w < 7) v |= s.mag[o + w + 1]! << (32 - sh);
        d += v & mask;
      }
      if (d > half) {
        d -= full;
        carry = 1;
      } else {
        carry = 0;
      }
      out[k * m + j] = sign * d;
    }
  }
  return out;
}

/** Upper bit lengths of the classes `bitClasses` splits scalars into. */
const CLASS_LIMITS = [8, 16, 32, 64, 128, 256];

/**
 * The non-zero scalars grouped by magnitude size, with each group's largest bit length. A
 * multi-exponentiation pays per window for its bucket reduction, so a handful of full-size
 * scalars must not make hundreds of 8-bit ones pay for 254-bit windows.
 */
export function bitClasses(s: SignedScalars): { which: Int32Array; bits: number }[] {
  const counts = new Int32Array(CLASS_LIMITS.length);
  const cls = new Int8Array(s.n);
  for (let i = 0; i < s.n; i++) {
    const b = s.bits[i]!;
    if (b === 0) {
      cls[i] = -1;
      continue;
    }
    let k = 0;
    while (b > CLASS_LIMITS[k]!) k++;
    cls[i] = k;
    counts[k]!++;
  }
  const groups = CLASS_LIMITS.map((_, k) => ({ which: new Int32Array(counts[k]!), bits: 0, fill: 0 }));
  for (let i = 0; i < s.n; i++) {
    const k = cls[i]!;
    if (k < 0) continue;
    const g = groups[k]!;
    g.which[g.fill++] = i;
    if (s.bits[i]! > g.bits) g.bits = s.bits[i]!;
  }
  return groups.filter((g) => g.fill > 0).map(({ which, bits }) => ({ which, bits }));
}
