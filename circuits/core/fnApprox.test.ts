import { describe, expect, it } from 'vitest';
import { erf, evalFnTable, FN_FLOAT, FN_INPUT_SCALE, fitFnTable, fnSpec } from './fnApprox.ts';

// The tables the compiler proves: fitted deterministically, their maximum error measured on every
// grid input of the window and on both saturated sides, and pinned here (the module comment and
// the README quote these bounds).

describe('erf', () => {
  it('matches reference values to 1e-12', () => {
    const known: [number, number][] = [
      [0, 0],
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [2.5, 0.999593047982555],
      [3, 0.9999779095030014],
      [-1.5, -0.9661051464753108],
    ];
    for (const [x, y] of known) expect(Math.abs(erf(x) - y)).toBeLessThan(1e-12);
  });
});

describe.each([
  ['sigmoid', 1.4e-3],
  ['tanh', 2.0e-3],
  ['erf', 2.1e-3],
  ['exp', 1.3e-3],
] as const)('%s table (input scale 7, output scale 9)', (fn, bound) => {
  const table = fitFnTable(fnSpec(fn, 0), FN_INPUT_SCALE, 9);

  it(`stays within ${bound} of the float function everywhere, saturated sides included`, () => {
    expect(table.maxError).toBeLessThanOrEqual(bound);
    // an independent sweep: every grid point inside the window and 64 beyond each side
    const span = 2n ** BigInt(table.M);
    for (let u = -64n; u < span + 64n; u++) {
      const x = Number(table.w0 + u) / 2 ** table.sIn;
      const y = Number(evalFnTable(table, u)) / 2 ** table.sOut;
      // exp's window ends at 0: beyond it the table says e^0, as softmax needs (its inputs are ≤ 0)
      const f = fn === 'exp' ? FN_FLOAT.exp(Math.min(0, x)) : FN_FLOAT[fn](x);
      expect(Math.abs(y - f), `${fn}(${x})`).toBeLessThanOrEqual(bound);
    }
  });

  it('fits P_j(t) inside the declared bit bound and the output inside its static interval', () => {
    const o = BigInt(table.M - table.s);
    for (let j = 0; j < table.A.length; j++) {
      for (let t = 0n; t < 1n << o; t++) {
        const p = table.A[j]! + t * (table.B[j]! + table.C[j]! * t);
        expect(p >= -(1n << BigInt(table.bP)) && p < 1n << BigInt(table.bP)).toBe(true);
        const out = p >> BigInt(table.g);
        expect(out >= table.outLo && out <= table.outHi).toBe(true);
      }
    }
  });

  it('is deterministic (a compile must reproduce the same circuit)', () => {
    expect(fitFnTable(fnSpec(fn, 0), FN_INPUT_SCALE, 9)).toEqual(table);
  });
});

describe('exp beyond softmax', () => {
  it('moves its window to cover its inputs (here up to 5), with an error under 1% of e^(window end)', () => {
    const spec = fnSpec('exp', 5);
    const end = spec.start + 2 ** spec.log2Length;
    expect(end).toBeGreaterThanOrEqual(5);
    const table = fitFnTable(spec, FN_INPUT_SCALE, 9 - Math.ceil(Math.log2(Math.exp(5))));
    expect(table.maxError / Math.exp(end)).toBeLessThan(0.01);
  });
});
