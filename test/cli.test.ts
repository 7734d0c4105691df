import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { zkinfer } from './helpers/cli.ts';
import { compiledDir, digitsHoldout, modelPath } from './helpers/fixtures.ts';
import { buildOnnx } from './helpers/onnxBuilder.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zkinfer-cli-'));
});

/** One clear line on stderr, exit code 1, no stack trace. */
function expectOneLineError(r: { code: number; stdout: string; stderr: string }, pattern: RegExp): void {
  expect(r.code).toBe(1);
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('['));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('zkinfer compile: bad input', () => {
  it('a truncated .onnx', async () => {
    const bytes = await readFile(modelPath('mlp-digits'));
    await writeFile(join(dir, 'trunc.onnx'), bytes.subarray(0, 2000));
    expectOneLineError(
      await zkinfer('compile', join(dir, 'trunc.onnx'), '--out', join(dir, 'o1')),
      /^zkinfer: error\[ONNX_PARSE\]: trunc\.onnx is not a readable ONNX model/,
    );
  });

  it('a file that is not ONNX', async () => {
    await writeFile(join(dir, 'notes.onnx'), 'these are not the weights you are looking for\n');
    expectOneLineError(
      await zkinfer('compile', join(dir, 'notes.onnx'), '--out', join(dir, 'o2')),
      /^zkinfer: error\[ONNX_PARSE\]: notes\.onnx/,
    );
  });

  it('an unsupported op names the op and the node; --verbose adds the stack', async () => {
    const bytes = buildOnnx({
      input: { name: 'x', shape: [1, 3] },
      output: 'y',
      nodes: [{ op: 'Sin', inputs: ['x'], outputs: ['y'], name: 'wave' }],
    });
    await writeFile(join(dir, 'sin.onnx'), bytes);
    expectOneLineError(
      await zkinfer('compile', join(dir, 'sin.onnx'), '--out', join(dir, 'o3')),
      /^zkinfer: error\[UNSUPPORTED_OP\]: unsupported op Sin at node "wave": /,
    );
    const verbose = await zkinfer('--verbose', 'compile', join(dir, 'sin.onnx'), '--out', join(dir, 'o3'));
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/\n\s+at /);
  });

  it('--json gives a machine-readable error', async () => {
    const r = await zkinfer('--json', 'compile', join(dir, 'missing.onnx'), '--out', join(dir, 'o4'));
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'IO' } });
  });

  it('--calibration takes real inputs, and refuses ones of the wrong size', async () => {
    const h = digitsHoldout();
    await writeFile(join(dir, 'cal.json'), JSON.stringify({ inputs: h.inputs.slice(0, 20) }));
    const ok = await zkinfer(
      '--json',
      'compile',
      modelPath('mlp-digits'),
      '--out',
      join(dir, 'cal-out'),
      '--calibration',
      join(dir, 'cal.json'),
    );
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true });
    await writeFile(join(dir, 'cal-bad.json'), JSON.stringify({ inputs: [[1, 2, 3]] }));
    expectOneLineError(
      await zkinfer(
        'compile',
        modelPath('mlp-digits'),
        '--out',
        join(dir, 'cal-out2'),
        '--calibration',
        join(dir, 'cal-bad.json'),
      ),
      /calibration input 0 has 3 values; the model takes 64/,
    );
  });

  it('a bad option value', async () => {
    expectOneLineError(
      await zkinfer('compile', modelPath('mlp-digits'), '--out', join(dir, 'o5'), '--input-bits', 'abc'),
      /--input-bits must be a positive integer, got "abc"/,
    );
  });
});

describe('zkinfer run', () => {
  it('reads a nested input exactly as a flat one and prints outputs and the predicted class', async () => {
    const x = digitsHoldout().inputs[0]!;
    const nested = [[Array.from({ length: 8 }, (_, r) => x.slice(r * 8, r * 8 + 8))]];
    await writeFile(join(dir, 'nested.json'), JSON.stringify({ input: nested }));
    await writeFile(join(dir, 'flat.json'), JSON.stringify({ input: x }));
    const a = await zkinfer(
      '--json',
      'run',
      compiledDir('cnn-view-digits'),
      '--input',
      join(dir, 'nested.json'),
    );
    const b = await zkinfer(
      '--json',
      'run',
      compiledDir('cnn-view-digits'),
      '--input',
      join(dir, 'flat.json'),
    );
    expect([a.code, b.code]).toEqual([0, 0]);
    const out = JSON.parse(a.stdout) as { outputs: number[]; predictedClass: number };
    expect(out.outputs).toHaveLength(10);
    expect(out.predictedClass).toBe(out.outputs.indexOf(Math.max(...out.outputs)));
    expect(a.stdout).toBe(b.stdout);
    const human = await zkinfer('run', compiledDir('mlp-digits'), '--input', join(dir, 'flat.json'));
    expect(human.stdout).toMatch(/^outputs: .+\npredicted class: 9\n$/);
  });

  it.each([
    ['the wrong length', { input: [1, 2, 3] }, /the model takes 64 input values, the file has 3/],
    ['a non-number', { input: [...new Array(63).fill(0), 'x'] }, /input\[63\] is "x", not a finite number/],
    ['no input key', { data: [] }, /must be a JSON object with an "input" array/],
  ])('refuses an input file with %s', async (_name, doc, pattern) => {
    await writeFile(join(dir, 'bad-input.json'), JSON.stringify(doc));
    expectOneLineError(
      await zkinfer('run', compiledDir('mlp-digits'), '--input', join(dir, 'bad-input.json')),
      pattern,
    );
  });

  it('refuses a directory that holds no artifacts', async () => {
    expectOneLineError(
      await zkinfer('run', dir, '--input', join(dir, 'x.json')),
      /ARTIFACT_NOT_FOUND.*compile a model into it first/,
    );
  });
});
