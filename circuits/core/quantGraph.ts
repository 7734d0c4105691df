/**
 * The quantized graph: integers only. A tensor's real value is q / 2^scale. Every element carries a
 * static interval [lo, hi] that holds for every input in the input domain; the circuit's bit widths
 * come from these intervals, so they are the soundness argument, not an optimisation.
 */

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

export type QNode = QLinear | QRescale | QMaxPool | QArgMax;

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
