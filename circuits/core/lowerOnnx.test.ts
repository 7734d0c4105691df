import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ZkinferError } from '../../protocol/errors.ts';
import { FIXTURE_MODELS, holdoutInputs, modelPath } from '../../test/helpers/fixtures.ts';
import { buildOnnx } from '../../test/helpers/onnxBuilder.ts';
import { parseOnnx } from '../onnx/parseOnnx.ts';
import { runFloat } from './floatExec.ts';
import { lowerOnnx } from './lowerOnnx.ts';
import { DEFAULT_QUANTIZE, quantize } from './quantize.ts';

type NodeSpecLike = { inputs?: string[]; attrs?: Record<string, number | string> };

const lower = (bytes: Uint8Array, opts = {}) => lowerOnnx(parseOnnx(bytes), opts);

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof ZkinferError) return `${e.code}: ${e.shortMessage}`;
    throw e;
  }
  return 'no error';
}

describe('lowerOnnx', () => {
  it.each(FIXTURE_MODELS)('%s: the float IR reproduces onnxruntime within float32 error', async (m) => {
    const g = lower(readFileSync(modelPath(m)));
    const session = await ort.InferenceSession.create(modelPath(m));
    const inputName = session.inputNames[0]!;
    for (const x of holdoutInputs(m).slice(0, 40)) {
      const r = await session.run({
        [inputName]: new ort.Tensor('float32', Float32Array.from(x), [...g.input.shape]),
      });
      const ref = r[session.outputNames[0]!]!.data as Float32Array;
      const ours = runFloat(g, x)[g.outputs[0]!.tensor]!;
      expect(ours.length).toBe(ref.length);
      ours.forEach((v, i) =>
        expect(Math.abs(v - ref[i]!)).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref[i]!))),
      );
    }
  });

  it('folds the x.view(x.size(0), -1) chain and composes BN → Pad → AvgPool → Gemm → BN into one map', () => {
    const view = lower(readFileSync(modelPath('cnn-view-digits')));
    expect(view.nodes.map((n) => n.kind)).toEqual(['linear', 'relu', 'maxpool', 'linear']);
    const bn = lower(readFileSync(modelPath('cnn-bn-digits')));
    expect(bn.nodes.map((n) => n.kind)).toEqual(['linear', 'relu', 'linear', 'relu', 'linear']);
    expect(bn.nodes[2]!.onnx).toEqual([
      '/bn/BatchNormalization',
      '/pool/Pad',
      '/pool/AveragePool',
      '/fc/Gemm',
      '/bn1/BatchNormalization',
    ]);
  });

  const io = { input: { name: 'x', shape: ['N', 4] as (number | string)[] }, output: 'y' };
  const w = { W: { dims: [4, 3], data: Array.from({ length: 12 }, (_, i) => i / 10 - 0.5) } };

  it('names the op, the node and a hint for an unsupported op', () => {
    const bytes = buildOnnx({
      ...io,
      initializers: w,
      nodes: [
        { op: 'MatMul', inputs: ['x', 'W'], outputs: ['h'] },
        { op: 'Sin', inputs: ['h'], outputs: ['y'], name: 'act1' },
      ],
    });
    expect(codeOf(() => lower(bytes))).toMatch(
      /^UNSUPPORTED_OP: unsupported op Sin at node "act1": .*Sigmoid, Tanh/,
    );
  });

  it('lowers a product of two computed tensors to one product per element', () => {
    const bytes = buildOnnx({
      ...io,
      nodes: [{ op: 'Mul', inputs: ['x', 'x'], outputs: ['y'], name: 'sq' }],
    });
    const g = lower(bytes);
    expect(g.nodes.map((n) => n.kind)).toEqual(['mul']);
    expect(Array.from(runFloat(g, Float64Array.from([1, -2, 3, 0.5]))[g.outputs[0]!.tensor]!)).toEqual([
      1, 4, 9, 0.25,
    ]);
  });

  it('proves a final Softmax, or strips it when asked', () => {
    const bytes = buildOnnx({
      ...io,
      initializers: w,
      nodes: [
        { op: 'MatMul', inputs: ['x', 'W'], outputs: ['h'] },
        { op: 'Softmax', inputs: ['h'], outputs: ['y'], name: 'sm', attrs: { axis: -1 } },
      ],
    });
    expect(lower(bytes).nodes.map((n) => n.kind)).toEqual(['linear', 'softmax']);
    const g = lower(bytes, { stripSoftmax: true });
    expect(g.notes[0]).toMatch(/Softmax node "sm" was stripped/);
    expect(g.nodes).toHaveLength(1);
  });

  it('names what is missing for each unsupported form of a non-linear op', () => {
    const H = 2;
    const lstm = (attrs: Record<string, number | string>, extra: string[] = []) =>
      buildOnnx({
        input: { name: 'x', shape: [3, 1, 2] },
        output: 'y',
        initializers: {
          W: { dims: [1, 4 * H, 2], data: new Array(8 * H).fill(0.1) },
          R: { dims: [1, 4 * H, H], data: new Array(4 * H * H).fill(0.1) },
          P: { dims: [1, 3 * H], data: new Array(3 * H).fill(0.1) },
        },
        nodes: [
          {
            op: 'LSTM',
            inputs: ['x', 'W', 'R', ...extra],
            outputs: ['y'],
            name: 'rnn',
            attrs: { hidden_size: H, ...attrs },
          },
        ],
      });
    expect(codeOf(() => lower(lstm({ direction: 'bidirectional' })))).toBe(
      'UNSUPPORTED_OP: unsupported op LSTM at node "rnn": direction "bidirectional" is not supported (only forward)',
    );
    expect(codeOf(() => lower(lstm({}, ['', '', '', '', 'P'])))).toMatch(
      /LSTM at node "rnn": peephole weights/,
    );
    expect(codeOf(() => lower(lstm({ clip: 3.0 })))).toMatch(/LSTM at node "rnn": cell clipping/);
    expect(lower(lstm({})).nodes.filter((n) => n.kind === 'fn')).toHaveLength(15); // 3 steps × 5 tables
    const unary = (op: string, extra: NodeSpecLike = {}) =>
      buildOnnx({
        ...io,
        initializers: { e: { dims: [], data: [4] } },
        nodes: [
          { op, inputs: ['x', ...(extra.inputs ?? [])], outputs: ['y'], name: 'u', attrs: extra.attrs ?? {} },
        ],
      });
    expect(codeOf(() => lower(unary('Pow', { inputs: ['e'] })))).toMatch(
      /Pow at node "u": exponent 4 is not supported/,
    );
    expect(codeOf(() => lower(unary('Reciprocal')))).toMatch(
      /Reciprocal at node "u": only the reciprocal of a Sqrt/,
    );
    expect(codeOf(() => lower(unary('Gelu', { attrs: { approximate: 'tanh' } })))).toMatch(
      /approximate="tanh"/,
    );
  });

  it('refuses at quantization what cannot be bounded: exp of large inputs, division by a tensor that may be 0', () => {
    const scaled = buildOnnx({
      ...io,
      initializers: { k: { dims: [1], data: [40] } },
      nodes: [
        { op: 'Mul', inputs: ['x', 'k'], outputs: ['h'] },
        { op: 'Exp', inputs: ['h'], outputs: ['y'], name: 'ex' },
      ],
    });
    const q = (bytes: Uint8Array) => () =>
      quantize(lower(bytes), { ...DEFAULT_QUANTIZE, inputRange: [0, 1], calibration: [] });
    expect(codeOf(q(scaled))).toMatch(
      /^UNSUPPORTED_OP: unsupported op Exp at node "ex": its input may reach 39.8/,
    );
    const masked = buildOnnx({
      ...io,
      initializers: { mask: { dims: [4], data: [0, Number.NEGATIVE_INFINITY, 0, 0] } },
      nodes: [
        { op: 'Add', inputs: ['x', 'mask'], outputs: ['m'], name: 'addmask' },
        { op: 'Softmax', inputs: ['m'], outputs: ['y'], name: 'sm', attrs: { axis: -1 } },
      ],
    });
    expect(codeOf(q(masked))).toMatch(/^ONNX_INVALID: the constants of node "addmask" are not finite/);
    const div = buildOnnx({ ...io, nodes: [{ op: 'Div', inputs: ['x', 'x'], outputs: ['y'], name: 'd' }] });
    expect(codeOf(q(div))).toMatch(/Div at node "d": the divisor "x" may be zero or negative/);
  });

  it('refuses a symbolic non-batch dimension and a model with two inputs', () => {
    const bytes = buildOnnx({
      input: { name: 'x', shape: ['N', 'features'] },
      output: 'y',
      nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
    });
    expect(codeOf(() => lower(bytes))).toMatch(/ONNX_INVALID: .*symbolic dimension 1/);
    const twoInputs = buildOnnx({
      input: { name: 'a', shape: [1, 4] },
      extraInputs: [{ name: 'b', shape: [1, 4] }],
      output: 'y',
      nodes: [{ op: 'Add', inputs: ['a', 'b'], outputs: ['y'] }],
    });
    expect(codeOf(() => lower(twoInputs))).toMatch(
      /ONNX_INVALID: the model has 2 inputs \(a, b\); zkinfer proves models with exactly one input/,
    );
  });

  it('names the tensor for a zero-size input dimension, an output with no elements and NaN weights', () => {
    const zeroDim = buildOnnx({
      input: { name: 'x', shape: [1, 0] },
      output: 'y',
      nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
    });
    expect(codeOf(() => lower(zeroDim))).toBe(
      'ONNX_INVALID: the model input "x" has a dimension 1 of size 0: it has no elements',
    );
    const noOutputs = buildOnnx({
      ...io,
      initializers: { W0: { dims: [4, 0], data: [] } },
      nodes: [{ op: 'Gemm', inputs: ['x', 'W0'], outputs: ['y'], name: 'g0' }],
    });
    expect(codeOf(() => lower(noOutputs))).toBe(
      'ONNX_INVALID: the model output "y" has no elements (shape [1,0])',
    );
    const nan = buildOnnx({
      ...io,
      initializers: { W: { dims: [4, 3], data: [Number.NaN, ...new Array(11).fill(0.1)] } },
      nodes: [{ op: 'MatMul', inputs: ['x', 'W'], outputs: ['y'], name: 'mm' }],
    });
    expect(
      codeOf(() => quantize(lower(nan), { ...DEFAULT_QUANTIZE, inputRange: [0, 1], calibration: [] })),
    ).toMatch(/^ONNX_INVALID: the constants of node "mm" are not finite/);
  });

  it('refuses a node that reads a tensor nothing produces', () => {
    const bytes = buildOnnx({ ...io, nodes: [{ op: 'Relu', inputs: ['ghost'], outputs: ['y'], name: 'r' }] });
    expect(codeOf(() => lower(bytes))).toMatch(/ONNX_INVALID: node "r" reads "ghost"/);
  });

  it('lowers Transpose, Concat, Sub and Div by constants, and ArgMax', () => {
    const bytes = buildOnnx({
      input: { name: 'x', shape: [1, 2, 3] },
      output: 'y',
      initializers: { c: { dims: [1], data: [0.5] }, d: { dims: [1], data: [4] } },
      nodes: [
        { op: 'Transpose', inputs: ['x'], outputs: ['t'], attrs: { perm: [0, 2, 1] } },
        { op: 'Sub', inputs: ['t', 'c'], outputs: ['s'] },
        { op: 'Div', inputs: ['s', 'd'], outputs: ['q'] },
        { op: 'Concat', inputs: ['q', 't'], outputs: ['cat'], attrs: { axis: 2 } },
        { op: 'ArgMax', inputs: ['cat'], outputs: ['y'], attrs: { axis: 2, keepdims: 0 } },
      ],
    });
    const g = lowerOnnx(parseOnnx(bytes));
    const x = Float64Array.from([1, 5, 2, 3, -1, 4]); // [[1,5,2],[3,-1,4]]
    const out = runFloat(g, x)[g.outputs[0]!.tensor]!;
    // t = [[1,3],[5,-1],[2,4]]; q = (t - 0.5)/4; cat row i = [q_i0, q_i1, t_i0, t_i1]
    expect(Array.from(out)).toEqual([3, 2, 3]);
    expect(g.outputs[0]!.shape).toEqual([1, 3]);
  });
});
