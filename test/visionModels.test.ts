import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { generateCircuit, PART_CHARS } from '../circuits/core/codegen.ts';
import { infer } from '../circuits/core/inference.ts';
import { lowerOnnx } from '../circuits/core/lowerOnnx.ts';
import { DEFAULT_QUANTIZE, quantize } from '../circuits/core/quantize.ts';
import { parseOnnx } from '../circuits/onnx/parseOnnx.ts';
import { cnn64Input, digitsHoldout, holdoutInputs, MODELS_DIR } from './helpers/fixtures.ts';

// Vision models above one small circuit: LeNet-5 on 28×28 digits (make_sliced_fixture.py: conv
// 6@5×5, max-pool, conv 16@5×5, max-pool, dense 120-84-10; 135k constraints) and a CNN on 64×64×3
// inputs (make_cnn64_fixture.py: coloured digits, a 4×4 stride-4 stem, max-pool, conv 16@3×3,
// max-pool, dense). Compiling, setting up and proving them take minutes, so they are in
// scripts/bench/sliced.ts; here, what decides whether they can: the quantized model is faithful to
// onnxruntime, and no template of its circuit outgrows what V8 compiles.

const MODELS = [
  {
    file: 'lenet5-digits28.onnx',
    shape: [1, 1, 28, 28],
    inputs: () => holdoutInputs('mlp784'), // the digits upscaled to 28×28, as LeNet was trained
  },
  {
    file: 'cnn64-digits.onnx',
    shape: [1, 3, 64, 64],
    inputs: () => digitsHoldout().inputs.map((x, i) => cnn64Input(x, i)),
  },
] as const;

describe.each(MODELS)('$file', ({ file, shape, inputs }) => {
  const path = join(MODELS_DIR, file);
  const quantized = async () => {
    const graph = lowerOnnx(parseOnnx(await readFile(path), file));
    return quantize(graph, { ...DEFAULT_QUANTIZE, inputRange: [0, 1], calibration: [] });
  };

  it('the quantized model agrees with onnxruntime on at least 98% of the hold-out split', async () => {
    const q = await quantized();
    const session = await ort.InferenceSession.create(path);
    const xs = inputs();
    let agree = 0;
    for (const x of xs) {
      const r = await session.run({
        [session.inputNames[0]!]: new ort.Tensor('float32', Float32Array.from(x), [...shape]),
      });
      const logits = r[session.outputNames[0]!]!.data as Float32Array;
      let best = 0;
      for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
      if (infer(q, x).predictedClass === best) agree++;
    }
    expect(xs.length).toBeGreaterThanOrEqual(300);
    expect(agree / xs.length).toBeGreaterThanOrEqual(0.98);
  }, 120_000);

  it('every layer is emitted in parts small enough for V8 (the first convolution in several)', async () => {
    const c = generateCircuit(await quantized(), 'zkinfer.circom', 'poseidon.circom');
    const templates = c.source.split(/\n(?=template )/).filter((t) => t.startsWith('template '));
    const sizes = new Map(templates.map((t) => [t.slice(9, t.indexOf('(')), t.length]));
    const conv1Parts = [...sizes.keys()].filter((n) => n.startsWith('ZkinferLayer0Part'));
    expect(conv1Parts.length).toBeGreaterThan(1);
    // a part closes once its rows pass PART_CHARS; one row of these models is a few kB at most
    for (const [name, size] of sizes) expect(size, name).toBeLessThan(PART_CHARS + 20_000);
    expect(sizes.get('ZkinferModel')!).toBeLessThan(PART_CHARS);
  });
});
