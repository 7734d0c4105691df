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
