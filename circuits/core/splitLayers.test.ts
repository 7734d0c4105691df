import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  holdoutInputs,
  MODELS_DIR,
  type NonlinearModel,
  nonlinearCalibration,
  nonlinearHoldout,
} from '../../test/helpers/fixtures.ts';
import { parseOnnx } from '../onnx/parseOnnx.ts';
import { generateCircuit } from './codegen.ts';
import { infer } from './inference.ts';
import { lowerOnnx } from './lowerOnnx.ts';
import type { QuantGraph } from './quantGraph.ts';
import { DEFAULT_QUANTIZE, quantize, quantizeInput } from './quantize.ts';
import { runReference } from './reference.ts';
import { planSlices, sliceGraph } from './slicePlan.ts';
import { type GraphCosts, planSlicesSplitting, splitLayers } from './splitLayers.ts';

// One layer split across slices. No circom here (scripts/bench/sliced.ts compiles and proves a
// split model): a split graph must compute exactly what the model computes, tensor for tensor,
// for every kind of node that can be split; and a model with a layer over the budget, which no
// plan of whole layers can slice, plans into slices that codegen predicts exactly and that chain
// to the model's outputs.

function costsOf(g: QuantGraph): GraphCosts & { total: number } {
  const gen = generateCircuit(g, 'zkinfer.circom', 'poseidon.circom');
  return {
    nodes: gen.layers.slice(2, 2 + g.nodes.length).map((l) => l.constraints),
    input: gen.layers[0]!.constraints,
    output: gen.layers[gen.layers.length - 1]!.constraints,
    total: gen.expectedConstraints,
  };
}

async function onnxGraph(file: string, calibration: readonly Float64Array[] = []) {
  const g = lowerOnnx(parseOnnx(await readFile(join(MODELS_DIR, file)), file));
  return quantize(g, { ...DEFAULT_QUANTIZE, inputRange: [0, 1], calibration });
}

/** Every tensor of `q` the split graph still computes has the same values, and the outputs agree. */
function expectSameValues(q: QuantGraph, split: QuantGraph, inputs: readonly Float64Array[]) {
  const produced = new Set(split.nodes.map((n) => n.output));
  for (const x of inputs) {
    const want = runReference(q, quantizeInput(q.input, x));
    const got = runReference(split, quantizeInput(split.input, x));
    q.nodes.forEach((n) => {
      if (produced.has(n.output)) expect(got[n.output], q.tensors[n.output]!.name).toEqual(want[n.output]);
    });
    expect(infer(split, x).quantizedOutputs).toEqual(infer(q, x).quantizedOutputs);
  }
}

describe('splitting a layer into parts', () => {
  const nonlinear: NonlinearModel[] = ['transformer-digits', 'gru-digits', 'gelu-mlp-digits'];
  it.each(nonlinear)('%s: every mul, div, table, rsqrt and rescale split keeps every value', async (m) => {
    const q = await onnxGraph(`${m}.onnx`, nonlinearCalibration(m));
    const c = costsOf(q);
    const s = splitLayers(q, c.nodes, 40);
    const kinds = new Set(s.split.map((p) => q.nodes[p.node]!.kind));
    expect(kinds.size).toBeGreaterThan(1);
    expect(s.split.every((p) => p.parts >= 2)).toBe(true);
    // splitting adds only free copies: the circuit's constraints do not change
    expect(costsOf(s.graph).total).toBe(c.total);
    expectSameValues(q, s.graph, nonlinearHoldout(m).slice(0, 5));
  });

  it('max-pools over a convolution (fused: each part computes the rows its windows read) and ReLU rescales', async () => {
    for (const file of ['lenet5-digits28.onnx', 'cnn-bn-digits.onnx', 'residual.onnx']) {
      const q = await onnxGraph(file);
      const c = costsOf(q);
      const s = splitLayers(q, c.nodes, 500);
      expect(s.split.length, file).toBeGreaterThan(0);
      expect(costsOf(s.graph).total, file).toBe(c.total);
      const inputs =
        file === 'lenet5-digits28.onnx'
          ? holdoutInputs('mlp784').slice(0, 3)
          : holdoutInputs('mlp-digits').slice(0, 5);
      expectSameValues(q, s.graph, inputs);
    }
  });
});

describe.each([
  ['lenet5-digits28.onnx', 65_536, 'maxpool'],
  ['cnn-bn-digits.onnx', 4_500, 'rescale'],
] as const)('%s at %i constraints: a layer alone is over the budget', (file, budget, kind) => {
  it('no plan of whole layers fits; split, it plans into slices codegen predicts, chaining to the outputs', async () => {
    const q = await onnxGraph(file);
    const c = costsOf(q);
    expect(() => planSlices(q, c.nodes, c.input, c.output, budget)).toThrow(/no cut keeps every slice/);
    const { graph, plans, split } = planSlicesSplitting(q, costsOf, budget);
    expect(split.map((p) => q.nodes[p.node]!.kind)).toContain(kind);
    expect(plans.length).toBeGreaterThan(1);
    const graphs = plans.map((p, k) => sliceGraph(graph, p, k));
    plans.forEach((p, k) => {
      expect(p.constraints).toBeLessThanOrEqual(budget);
      const gen = generateCircuit(graphs[k]!, 'zkinfer.circom', 'poseidon.circom', {
        ...(p.output ? { packOutputs: { bits: p.output.bits, min: p.output.min } } : {}),
      });
      expect(gen.expectedConstraints).toBe(p.constraints);
    });
    // the run after the split layer (LeNet: max-pool, then its ReLU rescale) is split with it, so
    // what crosses a cut is the narrow rescaled tensor (≤ 12 bits), never the pooled accumulators
    if (kind === 'maxpool') for (const p of plans) expect(p.input?.bits ?? 0).toBeLessThanOrEqual(12);
    // some cut falls inside the split layer: a boundary carries parts of it
    const parts = new Set(graph.tensors.slice(q.tensors.length).map((t) => t.id));
    expect(plans.some((p) => p.output?.tensors.some((t) => parts.has(t)))).toBe(true);
    const inputs =
      file === 'lenet5-digits28.onnx'
        ? holdoutInputs('mlp784').slice(0, 3)
        : holdoutInputs('mlp-digits').slice(0, 5);
    for (const x of inputs) {
      const values = runReference(graph, quantizeInput(graph.input, x));
      let last: ReturnType<typeof infer> | undefined;
      plans.forEach((p, k) => {
        const input = p.input
          ? p.input.tensors.flatMap((t) => values[t]!.map((v) => Number(v) / 2 ** p.input!.scale))
          : Array.from(x);
        last = infer(graphs[k]!, input);
        const want = p.output ? p.output.tensors.flatMap((t) => values[t]!) : infer(q, x).quantizedOutputs;
        expect(last.quantizedOutputs).toEqual(want);
      });
      expect(last!.quantizedOutputs).toEqual(infer(q, x).quantizedOutputs);
    }
  });

  it('a budget too small even for parts names the layer and says why', async () => {
    const q = await onnxGraph(file);
    expect(() => planSlicesSplitting(q, costsOf, Math.floor(budget / 8))).toThrow(
      /no cut keeps every slice.*splitting layers into parts.*did not help/,
    );
  });
});
