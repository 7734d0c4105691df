import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { digitsHoldout, FIXTURE_MODELS, holdoutInputs, modelPath } from '../../test/helpers/fixtures.ts';
import { parseOnnx } from '../onnx/parseOnnx.ts';
import { runFloat } from './floatExec.ts';
import { infer } from './inference.ts';
import { lowerOnnx } from './lowerOnnx.ts';
import { DEFAULT_QUANTIZE, inputEncodingFor, quantize, quantizeInput } from './quantize.ts';
import { runReference } from './reference.ts';

const argmax = (v: ArrayLike<number>) => {
  let b = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[b]!) b = i;
  return b;
};
const graphs = new Map(
  FIXTURE_MODELS.map((m) => {
    const g = lowerOnnx(parseOnnx(readFileSync(modelPath(m))));
    return [
      m,
      { float: g, quant: quantize(g, { ...DEFAULT_QUANTIZE, inputRange: [0, 1], calibration: [] }) },
    ];
  }),
);

describe('quantize', () => {
  it.each(FIXTURE_MODELS)(
    '%s: the predicted class agrees with the float model on at least 98 percent of the hold-out set',
    (m) => {
      const { float, quant } = graphs.get(m)!;
      const inputs = holdoutInputs(m);
      let agree = 0;
      for (const x of inputs) {
        if (argmax(runFloat(float, x)[float.outputs[0]!.tensor]!) === infer(quant, x).predictedClass) agree++;
      }
      expect(agree / inputs.length).toBeGreaterThanOrEqual(0.98);
    },
  );

  it.each(['cnn-view-digits', 'cnn-bn-digits', 'mlp-digits'] as const)(
    '%s: every value lies inside its static bound for any input in the domain (property)',
    (m) => {
      const { quant } = graphs.get(m)!;
      const size = quant.tensors[quant.input.tensor]!.lo.length;
      fc.assert(
        fc.property(
          fc.array(fc.double({ min: -0.5, max: 1.5, noNaN: true }), { minLength: size, maxLength: size }),
          (x) => {
            const values = runReference(quant, quantizeInput(quant.input, x));
            quant.tensors.forEach((t, id) => {
              const v = values[id];
              if (!v) return;
              v.forEach((val, i) => {
                if (val < t.lo[i]! || val > t.hi[i]!)
                  throw new Error(`tensor ${t.name}[${i}] = ${val} outside [${t.lo[i]}, ${t.hi[i]}]`);
              });
            });
          },
        ),
        { numRuns: 60 },
      );
    },
  );

  it('the extreme inputs (all min, all max) stay inside the bounds too', () => {
    const { quant } = graphs.get('cnn-bn-digits')!;
    for (const v of [-1e9, 1e9, 0]) {
      const values = runReference(quant, quantizeInput(quant.input, new Array(64).fill(v)));
      quant.tensors.forEach((t, id) =>
        values[id]?.forEach((val, i) => expect(val >= t.lo[i]! && val <= t.hi[i]!).toBe(true)),
      );
    }
  });

  it('input encoding: the finest power of two that covers the domain, clamping outside it', () => {
    const enc = inputEncodingFor('x', [1, 3], 8, [0, 1]);
    expect(enc).toMatchObject({ scale: 8, min: 0, max: 255 });
    expect(quantizeInput(enc, [0, 0.5, 1, 2, -3])).toEqual([0n, 128n, 255n, 255n, 0n]);
    const signed = inputEncodingFor('x', [1], 8, [-2, 2]);
    expect(signed).toMatchObject({ scale: 6, min: -128, max: 127 });
    fc.assert(
      fc.property(fc.double({ min: -2, max: 2, noNaN: true }), (x) => {
        const q = Number(quantizeInput(signed, [x])[0]);
        return (
          q >= -128 && q <= 127 && Math.abs(q / 64 - x) <= 1 / 128 + 1e-12 + (x > 127 / 64 ? x - 127 / 64 : 0)
        );
      }),
    );
  });

  it('the hold-out labels are what the quantized models mostly predict (sanity of the data)', () => {
    const { quant } = graphs.get('mlp-digits')!;
    const h = digitsHoldout();
    const correct = h.inputs.filter((x, i) => infer(quant, x).predictedClass === h.labels[i]).length;
    expect(correct / h.inputs.length).toBeGreaterThan(0.95);
  });
});
