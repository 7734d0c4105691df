import { invMod, powMod, rootOfUnity } from '../../prover/engine/frMath.ts';
import { FIELD_MODULUS as R } from '../core/field.ts';
import { mod } from './bn254.ts';

/**
 * Scalar-field arithmetic on a setup's secrets: powers of τ and the Lagrange basis at τ, in the
 * conventions of snarkjs's ptau and zkey files (every point of both is one of these scalars times a
 * generator).
 */

/** Packs field elements as 32-byte little-endian integers. */
export function pack(values: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(values.length * 32);
  for (let i = 0; i < values.length; i++) {
    const be = Buffer.from(values[i]!.toString(16).padStart(64, '0'), 'hex');
    for (let b = 0; b < 32; b++) out[i * 32 + b] = be[31 - b]!;
  }
  return out;
}

/** 1/x for every x (Montgomery's trick: one inversion); no x may be 0. */
export function batchInverse(xs: readonly bigint[]): bigint[] {
  const prefix = new Array<bigint>(xs.length);
  let acc = 1n;
  for (let i = 0; i < xs.length; i++) {
    prefix[i] = acc;
    acc = (acc * xs[i]!) % R;
  }
  let inv = invMod(acc);
  const out = new Array<bigint>(xs.length);
  for (let i = xs.length - 1; i >= 0; i--) {
    out[i] = (inv * prefix[i]!) % R;
    inv = (inv * xs[i]!) % R;
  }
  return out;
}

/** x^0, x^1, … x^(count−1), times `factor`, for indices [from, to). */
export function powers(x: bigint, factor: bigint, from: number, to: number): bigint[] {
  const out = new Array<bigint>(to - from);
  let v = (factor * powMod(x, BigInt(from))) % R;
  for (let i = 0; i < out.length; i++) {
    out[i] = v;
    v = (v * x) % R;
  }
  return out;
}

/**
 * The inverse DFT of (τ^0, …, τ^(m−1), 0, …) over the 2^k-th roots of unity (m = 2^k, or 2^k − 1
 * for the extra level of section 12 whose last power the file does not hold), entries [from, to):
 * out_j = (1/N) Σ_{i<m} (ω^−j τ)^i = ((ω^−j τ)^m − 1) / (N (ω^−j τ − 1)).
 */
export function lagrangeLevel(
  tau: bigint,
  k: number,
  truncated: boolean,
  from: number,
  to: number,
): bigint[] {
  const N = 1n << BigInt(k);
  const omega = rootOfUnity(k);
  const omegaInv = invMod(omega);
  const m = truncated ? N - 1n : N;
  const tauM = powMod(tau, m);
  const x: bigint[] = powers(omegaInv, tau, from, to); // ω^−j τ
  const den = batchInverse(x.map((v) => mod(N * (v - 1n), R)));
  // (ω^−j τ)^m = ω^(−jm) τ^m: ω^−jN = 1, and ω^(−j(N−1)) = ω^j
  const twist = truncated ? powers(omega, 1n, from, to) : undefined;
  return x.map((_, i) => {
    const xm = twist ? (twist[i]! * tauM) % R : tauM;
    return mod((xm - 1n) * den[i]!, R);
  });
}
