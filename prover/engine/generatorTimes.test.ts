import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FIELD_MODULUS as R } from '../../circuits/core/field.ts';
import { generatorBytes } from '../../circuits/setup/bn254.ts';
import { G1, G2, type GroupLayout } from './bucketMsm.ts';
import { bytesLE } from './frMath.ts';
import { fixedBase, generatorTimes } from './generatorTimes.ts';
import { CurveHeap } from './wasmCurve.ts';

function scalars(n: number): Uint8Array {
  const out = new Uint8Array(n * 32);
  const special = [0n, 1n, R - 1n, 128n, 129n, 255n, 256n, 2n ** 253n, (2n ** 254n - 1n) % R];
  for (let i = 0; i < n; i++) {
    const s = i < special.length ? special[i]! : BigInt(`0x${randomBytes(32).toString('hex')}`) % R;
    out.set(bytesLE(s), i * 32);
  }
  return out;
}

/** The product s_i·P by wasmcurves' own double-and-add. */
function reference(heap: CurveHeap, group: GroupLayout, point: Uint8Array, s: Uint8Array, i: number) {
  const ex = heap.exports;
  const g = group.name;
  const mark = heap.top;
  const p = heap.allocCopy(point);
  const k = heap.allocCopy(s.subarray(i * 32, i * 32 + 32));
  const jac = heap.alloc(group.jacobian);
  const aff = heap.alloc(group.affine);
  ex[`${g}m_timesScalarAffine`]!(p, k, 32, jac);
  ex[`${g}m_toAffine`]!(jac, aff);
  const out = heap.read(aff, group.affine);
  heap.top = mark;
  return out;
}

describe('generatorTimes: s·P for a fixed point and many scalars', () => {
  for (const [name, group] of [
    ['G1', G1],
    ['G2', G2],
  ] as const) {
    it(`agrees with double-and-add on ${name}, edge scalars included (0, 1, r−1, digit carries)`, async () => {
      const heap = await CurveHeap.create();
      const point = name === 'G1' ? generatorBytes().g1 : generatorBytes().g2;
      const n = 9000; // more than one chunk
      const s = scalars(n);
      const table = fixedBase(heap, group, point);
      const got: Uint8Array[] = [];
      generatorTimes(heap, table, s, n, (pts) => got.push(pts));
      const all = Buffer.concat(got);
      expect(all.length).toBe(n * group.affine);
      const check = [...Array.from({ length: 40 }, (_, i) => i), 8191, 8192, 8193, n - 1];
      for (const i of check) {
        const a = Buffer.from(all.subarray(i * group.affine, (i + 1) * group.affine));
        const b = Buffer.from(reference(heap, group, point, s, i));
        expect(a.equals(b), `scalar ${i}`).toBe(true);
      }
      expect(all.subarray(0, group.affine).every((x) => x === 0)).toBe(true); // 0·P
    });
  }
});
