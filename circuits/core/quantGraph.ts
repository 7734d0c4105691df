/**
 * The quantized graph: integers only. A tensor's real value is q / 2^scale. Every element carries a
 * static interval [lo, hi] that holds for every input in the input domain; the circuit's bit widths
 * come from these intervals, so they are the soundness argument, not an optimisation.
 */

import type { FnTable } from './fnApprox.ts';

export interface QTensor {
  readonly id: number;
  readonly name: string;
  /** Real value = q / 2^scale. */
  readonly scale: number;
  readonly lo: readonly bigint[];
  readonly hi: readonly bigint[];
}

interface QBase {
  readonly onnx: readonly string[];
  readonly output: number;
}

/** acc[r] = bias[r] + Σ w[e] · in[src[e]][idx[e]]: linear, so it costs no constraints. */
export interface QLinear extends QBase {
  readonly kind: 'linear';
  readonly inputs: readonly number[];
  readonly rowPtr: Int32Array;
  readonly src: Int32Array;
  readonly idx: Int32Array;
  readonly w: readonly bigint[];
  readonly bias: readonly bigint[];
}

/** y = floor(x / 2^shift), then max(0, ·) when relu. Rounding is folded into the producer's bias. */
export interface QRescale extends QBase {
  readonly kind: 'rescale';
  readonly input: number;
  readonly shift: number;
  readonly relu: boolean;
}

export interface QMaxPool extends QBase {
  readonly kind: 'maxpool';
  readonly input: number;
  readonly windows: readonly Int32Array[];
}

export interface QArgMax extends QBase {
  readonly kind: 'argmax';
  readonly input: number;
  readonly groups: readonly Int32Array[];
}

/** out[i] = a[ia[i]] · b[ib[i]] at scale s_a + s_b: one constraint each. */
export interface QMul extends QBase {
  readonly kind: 'mul';
  readonly a: number;
  readonly b: number;
  readonly ia: Int32Array;
  readonly ib: Int32Array;
}

/**
 * A table function (template PiecewiseQuad): with D = in · 2^up + offset, u = floor(D / 2^k),
 * out = evalFnTable(table, u). `offset` moves the window start to 0 and rounds the shift.
 */
export interface QFn extends QBase {
  readonly kind: 'fn';
  readonly input: number;
  readonly up: number;
  readonly k: number;
  readonly offset: bigint;
  readonly table: FnTable;
}

/** out[i] = round(num / den · 2^k) = floor((num · 2^(k+1) + den) / (2 · den)); den ≥ 1 by construction. */
export interface QDiv extends QBase {
  readonly kind: 'div';
  readonly num: number;
  readonly den: number;
  readonly inum: Int32Array;
  readonly iden: Int32Array;
  readonly k: number;
}

/** out[i] = floor(2^K / sqrt(v)), v = in[i] · 2^up + add (add makes v ≥ 1). */
export interface QRsqrt extends QBase {
  readonly kind: 'rsqrt';
  readonly input: number;
  readonly up: number;
  readonly add: bigint;
  readonly K: number;
}

export type QNode = QLinear | QRescale | QMaxPool | QArgMax | QMul | QFn | QDiv | QRsqrt;

/** floor(a / b) for b > 0 (bigint division truncates toward zero). */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return q * b > a ? q - 1n : q;
}

/** Largest y ≥ 0 with y² ≤ n. */
export function isqrt(n: bigint): bigint {
  if (n < 2n) return n < 0n ? 0n : n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  while (x * x > n) x--;
  while ((x + 1n) * (x + 1n) <= n) x++;
  return x;
}

/** The rounded quotient QDiv computes. */
export function divValue(num: bigint, den: bigint, k: number): bigint {
  return floorDiv((num << BigInt(k + 1)) + den, 2n * den);
}

/** The value QRsqrt computes on v (already shifted and offset): floor(2^K / sqrt(v)). */
export function rsqrtValue(v: bigint, K: number): bigint {
  return isqrt((1n << BigInt(2 * K)) / v);
}

/** How float inputs become circuit inputs: q = clamp(round(x · 2^scale), min, max). */
export interface InputEncoding {
  readonly name: string;
  readonly shape: readonly number[];
  readonly bits: number;
  readonly scale: number;
  readonly min: number;
  readonly max: number;
  /** The real-valued domain the compiler was told about (validators sample challenges from it). */
  readonly range: readonly [number, number];
}

export interface QOutput {
  readonly name: string;
  readonly tensor: number;
  readonly shape: readonly number[];
  readonly scale: number;
}

export interface QuantGraph {
  readonly tensors: readonly QTensor[];
  readonly nodes: readonly QNode[];
  readonly input: InputEncoding & { readonly tensor: number };
  readonly outputs: readonly QOutput[];
}

/** Bits b such that every value in [lo, hi] satisfies -2^b <= v < 2^b. */
export function signedBits(lo: bigint, hi: bigint): number {
  const neg = lo < 0n ? bitLength(-lo - 1n) : 0;
  const pos = hi > 0n ? bitLength(hi) : 0;
  return Math.max(neg, pos);
}

/** Number of bits of a non-negative bigint (0 → 0). */
export function bitLength(v: bigint): number {
  return v <= 0n ? 0 : v.toString(2).length;
}

/** The rescale the circuits compute: floor(v / 2^shift), then max(0, ·) when relu (bigint >> floors). */
export function rescaleValue(v: bigint, shift: number, relu: boolean): bigint {
  const q = v >> BigInt(shift);
  return relu && q < 0n ? 0n : q;
}

export function maxBig(values: readonly bigint[]): bigint {
  return values.reduce((a, b) => (b > a ? b : a));
}

export function minBig(values: readonly bigint[]): bigint {
  return values.reduce((a, b) => (b < a ? b : a));
}
