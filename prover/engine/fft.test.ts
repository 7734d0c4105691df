import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CurveHeap } from './wasmCurve.ts';
import { BN254_R } from './zkeyFile.ts';

// The engine's FFT (precomputed twiddles) against wasmcurves' own frm_fft / frm_ifft, which is
// what snarkjs's FFTs compute.
let heap: CurveHeap;
beforeAll(async () => {
  heap = await CurveHeap.create();
});

const pow = (b: bigint, e: bigint) => {
  let a = 1n;
  b %= BN254_R;
  while (e > 0n) {
    if (e & 1n) a = (a * b) % BN254_R;
    b = (b * b) % BN254_R;
    e >>= 1n;
  }
  return a;
};
const le = (v: bigint) => {
  const o = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    o[i] = Number(v & 255n);
    v >>= 8n;
  }
  return o;
};

/** Primitive 2^bits-th root of unity, defined as wasmcurves and ffjavascript define it. */
function rootOfUnity(bits: number): bigint {
  let t = BN254_R - 1n;
  let s = 0;
  while (!(t & 1n)) {
    t >>= 1n;
    s++;
  }
  let nqr = 2n;
  while (pow(nqr, (BN254_R - 1n) >> 1n) === 1n) nqr++;
  let w = pow(nqr, t);
  for (let i = s; i > bits; i--) w = (w * w) % BN254_R;
  return w;
}

function table(root: bigint, count: number): number {
  const p = heap.alloc(count * 32);
  let cur = 1n;
  for (let i = 0; i < count; i++) {
    heap.write(p + i * 32, le(cur));
    cur = (cur * root) % BN254_R;
  }
  heap.exports['frm_batchToMontgomery']!(p, count, p);
  return p;
}

describe('zk_frFft', () => {
  it.each([1, 2, 3, 7, 11])('equals frm_fft, and with inverse twiddles n·frm_ifft, at 2^%i', (bits) => {
    const ex = heap.exports;
    const n = 1 << bits;
    const mark = heap.top;
    try {
      const w = rootOfUnity(bits);
      const twF = table(w, Math.max(1, n / 2));
      const twI = table(pow(w, BN254_R - 2n), Math.max(1, n / 2));
      const x = heap.alloc(n * 32);
      const y = heap.alloc(n * 32);
      const z = heap.alloc(n * 32);
      for (let i = 0; i < n; i++) heap.write(x + i * 32, le(BigInt(`0x${randomBytes(31).toString('hex')}`)));
      ex['frm_batchToMontgomery']!(x, n, x);
      const reset = () => {
        heap.u8.copyWithin(y, x, x + n * 32);
        heap.u8.copyWithin(z, x, x + n * 32);
      };
      reset();
      ex['frm_fft']!(y, n);
      ex['zk_frFft']!(z, bits, twF);
      expect(heap.read(z, n * 32)).toEqual(heap.read(y, n * 32));
      reset();
      ex['frm_ifft']!(y, n);
      ex['zk_frFft']!(z, bits, twI);
      const nInv = heap.alloc(32);
      heap.write(nInv, le(pow(BigInt(n), BN254_R - 2n)));
      ex['frm_toMontgomery']!(nInv, nInv);
      for (let i = 0; i < n; i++) ex['frm_mul']!(z + i * 32, nInv, z + i * 32);
      expect(heap.read(z, n * 32)).toEqual(heap.read(y, n * 32));
    } finally {
      heap.top = mark;
    }
  });
});
