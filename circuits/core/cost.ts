import { bitLength, signedBits } from './quantGraph.ts';

/**
 * Constraint costs of zkinfer's templates, from their static bounds. The code generator emits exactly
 * these (the compiler checks circom's count against their sum); the quantizer uses them to choose
 * between equivalent orderings.
 */
export type RescalePlan =
  | { readonly template: 'zero'; readonly cost: 0; readonly bits: 0 }
  | { readonly template: 'identity'; readonly cost: 0; readonly bits: 0 }
  | {
      readonly template: 'RescaleUnsigned' | 'Rescale' | 'RescaleRelu';
      readonly b: number;
      readonly cost: number;
      readonly bits: number;
    };

/** How one element is rescaled: y = floor(x / 2^shift) (then ReLU), for x in [lo, hi]. */
export function planRescale(lo: bigint, hi: bigint, shift: number, relu: boolean): RescalePlan {
  if (relu && hi < 0n) return { template: 'zero', cost: 0, bits: 0 }; // ReLU of a negative: 0
  if (lo >= 0n) {
    if (shift === 0) return { template: 'identity', cost: 0, bits: 0 }; // ReLU of a non-negative
    if (hi < 1n << BigInt(shift)) return { template: 'zero', cost: 0, bits: 0 };
    const b = bitLength(hi);
    return { template: 'RescaleUnsigned', b, cost: b, bits: b };
  }
  const b = Math.max(signedBits(lo, hi), shift);
  return relu
    ? { template: 'RescaleRelu', b, cost: b + 2, bits: b + 1 }
    : { template: 'Rescale', b, cost: b + 1, bits: b + 1 };
}

/** Bits of the range checks in MaxHint/ArgMaxHint for a window whose values lie in [lo, hi]. */
export function windowBits(lo: bigint, hi: bigint): number {
  return Math.max(1, bitLength(hi - lo));
}

/** MaxHint(n, b): n range checks of b bits and n − 1 products; a window of one is free. */
export function maxCost(n: number, b: number): number {
  return n <= 1 ? 0 : n * b + n - 1;
}

/** ArgMaxHint(n, b): n boolean selectors, n products, n range checks of b bits. */
export function argMaxCost(n: number, b: number): number {
  return n <= 1 ? 0 : 2 * n + n * b;
}

/** PiecewiseQuad(B, k, M, s, g, bP, ...): one decomposition, the window test, the selector's
 * monomials, two Horner products (one when the quadratic coefficient is the same in every
 * segment, so that its product is linear), the output rescale and the saturation select. */
export function fnCost(B: number, k: number, M: number, s: number, bP: number, constantC: boolean): number {
  return B + 1 + (B - k - M) + (2 ** s - s - 1) + (constantC ? 1 : 2) + bP + 1 + 1;
}

/** DivFloor(bq, bd): the product, two bd-bit remainder checks, a (bq + 1)-bit quotient check. */
export function divCost(bq: number, bd: number): number {
  return 1 + 2 * bd + bq + 1;
}

/** RsqrtFloor(K, bv, by): y's range, y², both products, two (by + bv + 1)-bit side checks. */
export function rsqrtCost(bv: number, by: number): number {
  return by + 3 + 2 * (by + bv + 1);
}
