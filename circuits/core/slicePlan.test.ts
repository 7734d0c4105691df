import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  type NonlinearModel,
  nonlinearCalibration,
  nonlinearHoldout,
  nonlinearPath,
} from '../../test/helpers/fixtures.ts';
import { parseOnnx } from '../onnx/parseOnnx.ts';
import { generateCircuit } from './codegen.ts';
import { infer } from './inference.ts';
import { lowerOnnx } from './lowerOnnx.ts';
import { DEFAULT_QUANTIZE, quantize, quantizeInput } from './quantize.ts';
import { runReference } from './reference.ts';
import { planSlices, sliceGraph } from './slicePlan.ts';

// Slicing models whose cuts carry several tensors: a GRU and an LSTM (the input sequence and the
// state are live at every step) and a transformer block (a residual branch). No circom here: the
// plan's predictions must be what codegen predicts for each slice, and the slices run one after
// another must compute exactly the whole model (test/sliced.test.ts proves a sliced model).

async function quantGraph(m: NonlinearModel) {
  const g = lowerOnnx(parseOnnx(await readFile(nonlinearPath(m)), m));
  return quantize(g, { ...DEFAULT_QUANTIZE, inputRange: [0, 1], calibration: nonlinearCalibration(m) });
}

describe.each([
  ['gru-digits', 8000],
  ['lstm-sunspots', 8000],
  ['transformer-digits', 4000],
] as const)('%s sliced at %i constraints', (m, budget) => {
  it('cuts into slices under the budget, predicted as codegen predicts, computing the whole model exactly', async () => {
    const q = await quantGraph(m);
    const whole = generateCircuit(q, 'zkinfer.circom', 'poseidon.circom');
    const layers = whole.layers;
    const plans = planSlices(
      q,
      layers.slice(2, 2 + q.nodes.length).map((l) => l.constraints),
      layers[0]!.constraints,
      layers[layers.length - 1]!.constraints,
      budget,
    );
    expect(plans.length).toBeGreaterThan(1);
    expect(plans.some((p) => (p.output?.tensors.length ?? 0) > 1)).toBe(true);
    const graphs = plans.map((p, k) => sliceGraph(q, p, k));
    plans.forEach((p, k) => {
      expect(p.constraints).toBeLessThanOrEqual(budget);
      const gen = generateCircuit(graphs[k]!, 'zkinfer.circom', 'poseidon.circom', {
        ...(p.output ? { packOutputs: { bits: p.output.bits, min: p.output.min } } : {}),
      });
      expect(gen.expectedConstraints).toBe(p.constraints);
    });
    for (const x of nonlinearHoldout(m).slice(0, 20)) {
      const values = runReference(q, quantizeInput(q.input, x));
      let last: ReturnType<typeof infer> | undefined;
      plans.forEach((p, k) => {
        const input = p.input
          ? p.input.tensors.flatMap((t) => values[t]!.map((v) => Number(v) / 2 ** p.input!.scale))
          : Array.from(x);
        const r = infer(graphs[k]!, input);
        // each slice's outputs are the whole model's values of its boundary (or outputs)
        const want = p.output ? p.output.tensors.flatMap((t) => values[t]!) : infer(q, x).quantizedOutputs;
        expect(r.quantizedOutputs).toEqual(want);
        last = r;
      });
      expect(last!.quantizedOutputs).toEqual(infer(q, x).quantizedOutputs);
    }
  });
});
