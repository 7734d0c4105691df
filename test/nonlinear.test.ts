import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { loadQuantGraph, openArtifacts } from '../circuits/artifacts.ts';
import { compileModel } from '../circuits/compile.ts';
import { fromField, toField } from '../circuits/core/field.ts';
import { runFloat } from '../circuits/core/floatExec.ts';
import { infer } from '../circuits/core/inference.ts';
import { lowerOnnx } from '../circuits/core/lowerOnnx.ts';
import { DEFAULT_QUANTIZE, quantize } from '../circuits/core/quantize.ts';
import { parseOnnx } from '../circuits/onnx/parseOnnx.ts';
import { loadWitnessCalculator } from '../prover/witnessCalculator.ts';
import {
  NONLINEAR_MODELS,
  type NonlinearModel,
  nonlinearCalibration,
  nonlinearHoldout,
  nonlinearPath,
  REGRESSION_MODELS,
} from './helpers/fixtures.ts';

// The non-linear fixtures (make_nonlinear_fixtures.py: real data, PyTorch exports): the float IR
// matches onnxruntime, the quantized model is faithful to onnxruntime on the whole hold-out split
// (class agreement ≥ 98%, or regression error within 1% of the output range on ≥ 98% of inputs),
// each compiles to exactly the predicted constraint count with circom's inspection clean, and the
// circuit's witness equals the reference executor.

const argmax = (v: ArrayLike<number>) => {
  let b = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[b]!) b = i;
  return b;
};

async function onnxOutputs(m: NonlinearModel, shape: readonly number[], xs: readonly Float64Array[]) {
  const session = await ort.InferenceSession.create(nonlinearPath(m));
  const outs: Float32Array[] = [];
  for (const x of xs) {
    const r = await session.run({
      [session.inputNames[0]!]: new ort.Tensor('float32', Float32Array.from(x), [...shape]),
    });
    outs.push(r[session.outputNames[0]!]!.data as Float32Array);
  }
  return outs;
}

describe.each(NONLINEAR_MODELS)('%s', (m) => {
  it('float IR reproduces onnxruntime; the quantized model is faithful on the whole hold-out split', async () => {
    const graph = lowerOnnx(parseOnnx(await readFile(nonlinearPath(m)), m));
    const xs = nonlinearHoldout(m);
    const ref = await onnxOutputs(m, graph.input.shape, xs);
    xs.slice(0, 30).forEach((x, k) => {
      const ours = runFloat(graph, x)[graph.outputs[0]!.tensor]!;
      ours.forEach((v, i) => expect(Math.abs(v - ref[k]![i]!)).toBeLessThan(1e-4));
    });
    const q = quantize(graph, {
      ...DEFAULT_QUANTIZE,
      inputRange: [0, 1],
      calibration: nonlinearCalibration(m),
    });
    let good = 0;
    if (REGRESSION_MODELS.has(m)) {
      const all = ref.map((r) => r[0]!);
      const range = Math.max(...all) - Math.min(...all);
      xs.forEach((x, k) => {
        if (Math.abs(infer(q, x).outputs[0]! - ref[k]![0]!) <= 0.01 * range) good++;
      });
    } else {
      xs.forEach((x, k) => {
        if (infer(q, x).predictedClass === argmax(ref[k]!)) good++;
      });
    }
    expect(good / xs.length).toBeGreaterThanOrEqual(0.98);
  }, 60_000);
});

describe('non-linear circuits', () => {
  // the op14 transformer lowers to the same IR as the opset-17 one (tested above); one compile suffices
  it.each([
    'tanh-mlp-cancer',
    'gelu-mlp-digits',
    'transformer-digits',
    'lstm-sunspots',
    'gru-digits',
  ] as const)(
    '%s: circom counts what the compiler predicts and the witness equals the reference',
    async (m) => {
      const dir = join(await mkdtemp(join(tmpdir(), `zkinfer-nonlinear-${m}-`)), m);
      const { manifest } = await compileModel(nonlinearPath(m), {
        outDir: dir,
        calibration: nonlinearCalibration(m),
      });
      expect(manifest.circuit.constraints).toBe(manifest.circuit.expectedConstraints);
      const a = await openArtifacts(dir);
      const q = await loadQuantGraph(a);
      const wc = await loadWitnessCalculator(a.paths.wasm);
      const nOut = manifest.outputs.reduce((s, o) => s + o.size, 0);
      for (const x of nonlinearHoldout(m).slice(0, 25)) {
        const r = infer(q, x);
        const w = await wc.calculateWitness(
          { in: r.quantizedInput.map((v) => toField(v).toString()), binding: '7' },
          true,
        );
        expect(w.slice(1, 1 + nOut).map(fromField)).toEqual(r.quantizedOutputs);
      }
    },
    180_000,
  );
});
