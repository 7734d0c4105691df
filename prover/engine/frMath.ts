import { FIELD_MODULUS } from '../../circuits/core/field.ts';

/**
 * The little bigint arithmetic the engine does outside WASM (once per model or per proof, never
 * per element): powers, inverses and roots of unity in Fr, and 32-byte little-endian encoding.
 */

const R = FIELD_MODULUS;

export function powMod(base: bigint, exp: bigint): bigint {
  let acc = 1n;
  let b = ((base % R) + R) % R;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) acc = (acc * b) % R;
    b = (b * b) % R;
    e >>= 1n;
  }
  return acc;
}

export function invMod(v: bigint): bigint {
  return powMod(v, R - 2n);
}

/**
 * Primitive 2^bits-th root of unity, defined as ffjavascript and wasmcurves define it: the first
 * quadratic non-residue raised to the odd part of r − 1, squared down to order 2^bits.
 */
export function rootOfUnity(bits: number): bigint {
  let s = 0;
  let t = R - 1n;
  while ((t & 1n) === 0n) {
    t >>= 1n;
    s++;
  }
  let nqr = 2n;
  while (powMod(nqr, (R - 1n) >> 1n) === 1n) nqr++;
  let w = powMod(nqr, t);
  for (let i = s; i > bits; i--) w = (w * w) % R;
  return w;
}

export function bytesLE(v: bigint, n = 32): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export function readLE(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  return v;
}
