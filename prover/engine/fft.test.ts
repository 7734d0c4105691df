import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIELD_MODULUS } from '../../circuits/core/field.ts';
import { invMod, bytesLE as le, rootOfUnity } from './frMath.ts';
import { CurveHeap } from './wasmCurve.ts';

// The engine's FFT (precomputed twiddles) against wasmcurves' own frm_fft / frm_ifft, which is
// what snarkjs's FFTs compute (with its own root table: a wrong rootOfUnity fails this too).
let heap: CurveHeap;
beforeAll(async () => {
  heap = await CurveHeap.create();
});

function table(root: bigint, count: number): number {
  const p = heap.alloc(count * 32);
  let cur = 1n;
  for (let i = 0; i < count; i++) {
    heap.write(p + i * 32, le(cur));
    cur = (cur * root) % FIELD_MODULUS;
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
      const twI = table(invMod(w), Math.max(1, n / 2));
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
      heap.write(nInv, le(invMod(BigInt(n))));
      ex['frm_toMontgomery']!(nInv, nInv);
      for (let i = 0; i < n; i++) ex['frm_mul']!(z + i * 32, nInv, z + i * 32);
      expect(heap.read(z, n * 32)).toEqual(heap.read(y, n * 32));
    } finally {
      heap.top = mark;
    }
  });
});
