import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ZkinferError } from '../../protocol/errors.ts';
import { FIXTURE_MODELS, modelPath } from '../../test/helpers/fixtures.ts';
import { parseOnnx } from './parseOnnx.ts';

describe('parseOnnx', () => {
  it.each(FIXTURE_MODELS)('reads the PyTorch export %s', (m) => {
    const model = parseOnnx(readFileSync(modelPath(m)), m);
    expect(model.producer).toMatch(/pytorch/);
    expect(model.graph.inputs).toHaveLength(1);
    expect(model.graph.inputs[0]!.shape?.[0]).toBe('batch');
    expect(model.graph.nodes.length).toBeGreaterThan(1);
    expect(model.graph.initializers.size).toBeGreaterThan(1);
  });

  it('decodes weights exactly as onnx.numpy_helper does', () => {
    const model = parseOnnx(readFileSync(modelPath('mlp-digits')));
    const w = model.graph.initializers.get('fc1.weight')!;
    expect(w.dims).toEqual([32, 64]);
    // first value, printed by python's onnx.numpy_helper.to_array at fixture time
    expect(w.data[0]).toBeCloseTo(0.008730635, 8);
    const gemm = model.graph.nodes.find((n) => n.opType === 'Gemm')!;
    expect(gemm.attributes.get('transB')?.i).toBe(1);
  });

  it.each([
    ['an empty file', new Uint8Array()],
    ['a truncated model', readFileSync(modelPath('mlp-digits')).subarray(0, 3000)],
    ['a JSON file', new TextEncoder().encode('{"input": [1, 2, 3]}')],
    ['random bytes', Uint8Array.from({ length: 512 }, (_, i) => (i * 7919) % 251)],
  ])('refuses %s with ONNX_PARSE', (_name, bytes) => {
    try {
      parseOnnx(bytes, 'x.onnx');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ZkinferError);
      expect((e as ZkinferError).code).toBe('ONNX_PARSE');
      expect((e as ZkinferError).shortMessage).toMatch(/x\.onnx/);
    }
  });
});
