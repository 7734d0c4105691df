import type { FnName } from './floatGraph.ts';
import { signedBits } from './quantGraph.ts';

/**
 * Piecewise-quadratic tables for the smooth functions zkinfer proves (template PiecewiseQuad).
 *
 * The input x (q units at scale sIn) is placed in a window [w0, w0 + 2^M) of 2^s equal segments;
 * below the window the output is `yLo`, above it `yHi` (the function's limits: sigmoid, tanh and erf
 * saturate; exp's window ends at or above every input). Inside, with u = x − w0,
 * segment j = u >> o and offset t = u mod 2^o (o = M − s):
 *
 *     out = floor(P_j(t) / 2^g),   P_j(t) = A_j + t · (B_j + C_j · t)
 *
 * The tables are fitted here (least squares on the integer grid, C rounded first, then B and A
 * refitted around it) and checked exhaustively: `maxError` is the largest |out / 2^sOut − f(x)| over
 * every grid point of the window and both saturated sides, for x on the input grid. Rounding of the
 * input itself to the grid adds at most max|f'| · 2^−(sIn+1) on top.
 *
 * Measured bounds (sIn = 7, sOut = 9, 16 segments; fnApprox.test.ts pins them):
 * sigmoid 1.4e-3, tanh 2.0e-3, erf 2.1e-3, exp on [−8, 0] 1.3e-3 (absolute; the output quantum is 2.0e-3).
 */

export interface FnSpec {
  readonly name: FnName;
  readonly f: (x: number) => number;
  /** Window start in real units. */
  readonly start: number;
  /** log2 of the window length in real units. */
  readonly log2Length: number;
  /** The function's value for x below the window (its limit at −∞, or its value at the start). */
  readonly below: number;
  /** Its value for x at or above the window's end. */
  readonly above: number;
}

/** Segments per window: 2^SEGMENT_BITS. The template pays 2^s − s − 1 products for the selector. */
export const SEGMENT_BITS = 4;
/** Input resolution of a function: 2^-FN_INPUT_SCALE (finer inputs are rounded to it). */
export const FN_INPUT_SCALE = 7;
/** Inputs above this make exp's output too large to prove usefully. */
export const EXP_MAX_INPUT = 8;

/** Abramowitz–Stegun 7.1.26 is not precise enough for fitting: erf by its series / continued fraction. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax > 6) return Math.sign(x);
  let r: number;
  if (ax < 2.5) {
    // Maclaurin series: erf x = 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1))
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 60; n++) {
      term *= (-ax * ax) / n;
      sum += term / (2 * n + 1);
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    // continued fraction for erfc, evaluated backwards
    let frac = 0;
    for (let n = 60; n >= 1; n--) frac = n / 2 / (ax + frac);
    r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + frac);
  }
  return x < 0 ? -r : r;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** The float semantics of each function (what onnxruntime computes). */
export const FN_FLOAT: Readonly<Record<FnName, (x: number) => number>> = {
  sigmoid,
  tanh: Math.tanh,
  erf,
  exp: Math.exp,
};

/**
 * The window of a function for an input whose real values lie in [lo, hi]. Saturating functions
 * use a fixed window (beyond it they are within one output quantum of their limit); exp's window
 * ends at or above hi, so that its "above" side is never reached by a value in the interval.
 */
export function fnSpec(name: FnName, hi: number): FnSpec {
  switch (name) {
    case 'sigmoid':
      return { name, f: sigmoid, start: -8, log2Length: 4, below: 0, above: 1 };
    case 'tanh':
      return { name, f: Math.tanh, start: -4, log2Length: 3, below: -1, above: 1 };
    case 'erf':
      return { name, f: erf, start: -4, log2Length: 3, below: -1, above: 1 };
    case 'exp': {
      // [end − 8, end) with end = ⌈hi⌉: below it e^x < e^(hi − 8), under half an output quantum
      // at the output scale chosen for e^hi, so it saturates to 0
      const end = Math.ceil(Math.max(0, hi));
      return { name, f: Math.exp, start: end - 8, log2Length: 3, below: 0, above: Math.exp(end) };
    }
  }
}

export interface FnTable {
  readonly fn: FnName;
  readonly sIn: number;
  readonly sOut: number;
  /** Window start in input quanta (at scale sIn). */
  readonly w0: bigint;
  readonly M: number;
  readonly s: number;
  readonly g: number;
  readonly A: readonly bigint[];
  readonly B: readonly bigint[];
  readonly C: readonly bigint[];
  readonly yLo: bigint;
  readonly yHi: bigint;
  /** Every P_j(t) satisfies −2^bP ≤ P < 2^bP. */
  readonly bP: number;
  /** Smallest and largest output the template can produce (the output tensor's static bounds). */
  readonly outLo: bigint;
  readonly outHi: bigint;
  /** Largest |out / 2^sOut − f(x)| over grid inputs (see the module comment). */
  readonly maxError: number;
}

/** Fits the table of `spec` for inputs at scale sIn and outputs at scale sOut. Pure, deterministic. */
export function fitFnTable(spec: FnSpec, sIn: number, sOut: number): FnTable {
  const M = sIn + spec.log2Length;
  const s = Math.min(SEGMENT_BITS, M - 1);
  const o = M - s;
  const w0 = Math.round(spec.start * 2 ** sIn);
  const x = (j: number, t: number) => (w0 + j * 2 ** o + t) / 2 ** sIn;
  const segs = 2 ** s;
  const n = 2 ** o;
  // guard bits: enough that the quadratic coefficient keeps ~4 significant bits (more buys no accuracy: the output quantum dominates)
  let g = 1;
  for (; g < 40; g++) {
    let maxC = 0;
    for (let j = 0; j < segs; j++) maxC = Math.max(maxC, Math.abs(fitSegment(spec, x, j, n, sOut + g).c));
    if (maxC >= 16) break;
  }
  const A: bigint[] = [];
  const B: bigint[] = [];
  const C: bigint[] = [];
  for (let j = 0; j < segs; j++) {
    const target = (t: number) => spec.f(x(j, t)) * 2 ** (sOut + g) + 2 ** (g - 1);
    const c = Math.round(fitSegment(spec, x, j, n, sOut + g).c);
    // refit the linear part around the rounded quadratic coefficient
    const r = (t: number) => target(t) - c * t * t;
    const b = Math.round(linearSlope(r, n));
    let eMin = Number.POSITIVE_INFINITY;
    let eMax = Number.NEGATIVE_INFINITY;
    for (let t = 0; t < n; t++) {
      const e = r(t) - b * t;
      eMin = Math.min(eMin, e);
      eMax = Math.max(eMax, e);
    }
    A.push(BigInt(Math.round((eMin + eMax) / 2)));
    B.push(BigInt(b));
    C.push(BigInt(c));
  }
  const yLo = BigInt(Math.round(spec.below * 2 ** sOut));
  const yHi = BigInt(Math.round(spec.above * 2 ** sOut));
  let pLo = 0n;
  let pHi = 0n;
  let outLo = yLo < yHi ? yLo : yHi;
  let outHi = yLo < yHi ? yHi : yLo;
  let maxError = 0;
  const gb = BigInt(g);
  for (let j = 0; j < segs; j++) {
    for (let t = 0; t < n; t++) {
      const tb = BigInt(t);
      const p = A[j]! + tb * (B[j]! + C[j]! * tb);
      if (p < pLo) pLo = p;
      if (p > pHi) pHi = p;
      const out = p >> gb;
      if (out < outLo) outLo = out;
      if (out > outHi) outHi = out;
      maxError = Math.max(maxError, Math.abs(Number(out) / 2 ** sOut - spec.f(x(j, t))));
    }
  }
  // saturated sides: f is monotone, so between the window's edge and its limit
  const edgeLo = spec.f(x(0, 0) - 2 ** -sIn);
  const edgeHi = spec.f(x(segs - 1, n - 1) + 2 ** -sIn);
  maxError = Math.max(
    maxError,
    Math.abs(Number(yLo) / 2 ** sOut - edgeLo),
    Math.abs(Number(yLo) / 2 ** sOut - spec.below),
    Math.abs(Number(yHi) / 2 ** sOut - edgeHi),
    Math.abs(Number(yHi) / 2 ** sOut - spec.above),
  );
  return {
    fn: spec.name,
    sIn,
    sOut,
    w0: BigInt(w0),
    M,
    s,
    g,
    A,
    B,
    C,
    yLo,
    yHi,
    bP: Math.max(signedBits(pLo, pHi), g),
    outLo,
    outHi,
    maxError,
  };
}

/** Evaluates a table on an input u relative to the window start (u = x − w0, any integer). */
export function evalFnTable(table: FnTable, u: bigint): bigint {
  if (u < 0n) return table.yLo;
  if (u >= 1n << BigInt(table.M)) return table.yHi;
  const o = BigInt(table.M - table.s);
  const j = Number(u >> o);
  const t = u & ((1n << o) - 1n);
  return (table.A[j]! + t * (table.B[j]! + table.C[j]! * t)) >> BigInt(table.g);
}

/** Least-squares quadratic through the segment's grid points; returns the t² coefficient. */
function fitSegment(
  spec: FnSpec,
  x: (j: number, t: number) => number,
  j: number,
  n: number,
  scale: number,
): { c: number } {
  // fit in τ = t / n for conditioning, then convert the τ² coefficient to t units
  const S = [0, 0, 0, 0, 0];
  const T = [0, 0, 0];
  for (let t = 0; t < n; t++) {
    const tau = t / n;
    const y = spec.f(x(j, t)) * 2 ** scale;
    let p = 1;
    for (let k = 0; k < 5; k++) {
      S[k]! += p;
      if (k < 3) T[k]! += p * y;
      p *= tau;
    }
  }
  const m = [
    [S[0]!, S[1]!, S[2]!],
    [S[1]!, S[2]!, S[3]!],
    [S[2]!, S[3]!, S[4]!],
  ];
  const sol = solve3(m, T);
  return { c: sol[2]! / (n * n) };
}

/** Least-squares slope of r(t) over t = 0..n−1. */
function linearSlope(r: (t: number) => number, n: number): number {
  let st = 0;
  let sr = 0;
  let stt = 0;
  let str = 0;
  for (let t = 0; t < n; t++) {
    const v = r(t);
    st += t;
    sr += v;
    stt += t * t;
    str += t * v;
  }
  const den = n * stt - st * st;
  return den === 0 ? 0 : (n * str - st * sr) / den;
}

/** Gaussian elimination with partial pivoting on a 3×3 system. */
function solve3(m: number[][], rhs: number[]): number[] {
  const a = m.map((row, i) => [...row, rhs[i]!]);
  for (let c = 0; c < 3; c++) {
    let p = c;
    for (let r = c + 1; r < 3; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    [a[c], a[p]] = [a[p]!, a[c]!];
    for (let r = 0; r < 3; r++) {
      if (r === c) continue;
      const f = a[r]![c]! / a[c]![c]!;
      for (let k = c; k < 4; k++) a[r]![k]! -= f * a[c]![k]!;
    }
  }
  return [0, 1, 2].map((i) => a[i]![3]! / a[i]![i]!);
}
