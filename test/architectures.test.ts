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
import { parseOnnx } from '../circuits/onnx/parseOnnx.ts';
import { loadWitnessCalculator } from '../prover/witnessCalculator.ts';
import { digitsHoldout, MODELS_DIR } from './helpers/fixtures.ts';

// Architectures beyond the main fixtures (test/fixtures/models/make_more_fixtures.py): each compiles,
// its float IR matches onnxruntime, the quantized class agrees with the float model on >= 98% of the
// hold-out set, and the circuit's witness equals the reference executor.
const argmax = (v: ArrayLike<number>) => {
  let b = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[b]!) b = i;
  return b;
};

describe.each([
  ['depthwise', 'grouped/depthwise Conv + GlobalAveragePool', false],
  ['residual', 'residual Add, final Softmax stripped', true],
  ['conv1d', 'Conv1d + MaxPool1d + view chain, opset 12', false],
] as const)('%s (%s)', (name, _what, stripSoftmax) => {
  it('compiles soundly and faithfully', async () => {
    const path = join(MODELS_DIR, `${name}.onnx`);
    const graph = lowerOnnx(parseOnnx(await readFile(path)), { stripSoftmax });
    const session = await ort.InferenceSession.create(path);
    const h = digitsHoldout();
    for (const x of h.inputs.slice(0, 20)) {
      const out = await session.run({
        x: new ort.Tensor('float32', Float32Array.from(x), [...graph.input.shape]),
      });
      const ref = out[session.outputNames[0]!]!.data as Float32Array;
      const ours = runFloat(graph, Float64Array.from(x))[graph.outputs[0]!.tensor]!;
      if (stripSoftmax) expect(argmax(ours)).toBe(argmax(ref));
      else ours.forEach((v, i) => expect(Math.abs(v - ref[i]!)).toBeLessThan(1e-4));
    }
    const dir = join(await mkdtemp(join(tmpdir(), `zkinfer-arch-${name}-`)), name);
    const { manifest } = await compileModel(path, { outDir: dir, stripSoftmax });
    expect(manifest.circuit.constraints).toBe(manifest.circuit.expectedConstraints);
    const a = await openArtifacts(dir);
    const q = await loadQuantGraph(a);
    let agree = 0;
    for (const x of h.inputs)
      if (
        argmax(runFloat(graph, Float64Array.from(x))[graph.outputs[0]!.tensor]!) ===
        infer(q, x).predictedClass
      )
        agree++;
    expect(agree / h.inputs.length).toBeGreaterThanOrEqual(0.98);
    const wc = await loadWitnessCalculator(a.paths.wasm);
    const nOut = manifest.outputs.reduce((s, o) => s + o.size, 0);
    for (const x of h.inputs.slice(0, 30)) {
      const r = infer(q, x);
      const w = await wc.calculateWitness(
        { in: r.quantizedInput.map((v) => toField(v).toString()), binding: '1' },
        true,
      );
      expect(w.slice(1, 1 + nOut).map(fromField)).toEqual(r.quantizedOutputs);
    }
  }, 180_000);
});
