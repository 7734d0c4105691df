import { existsSync } from 'node:fs';
import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadWitnessCalculator } from '../prover/witnessCalculator.ts';
import { compiledDir, FIXTURE_MODELS, holdoutInputs, modelPath } from '../test/helpers/fixtures.ts';
import { loadQuantGraph, openArtifacts } from './artifacts.ts';
import { compileModel } from './compile.ts';
import { fromField, toField } from './core/field.ts';
import { infer } from './core/inference.ts';
import { readManifest } from './manifest.ts';

describe('compileModel', () => {
  it.each(FIXTURE_MODELS)('%s: circom reports exactly the constraints the generator predicts', async (m) => {
    const manifest = await readManifest(compiledDir(m));
    expect(manifest.circuit.constraints).toBe(manifest.circuit.expectedConstraints);
    expect(manifest.circuit.layers.reduce((s, l) => s + l.constraints, 0)).toBe(manifest.circuit.constraints);
    expect(manifest.publicSignals.names.slice(-2)).toEqual(['inputHash', 'binding']);
  });

  it('a dense 784-128-10 ReLU network with 8-bit inputs and input hashing stays within 12,000 constraints', async () => {
    const manifest = await readManifest(compiledDir('mlp784'));
    expect(manifest.input).toMatchObject({ size: 784, bits: 8 });
    expect(manifest.circuit.constraints).toBeLessThanOrEqual(12_000);
    // pinned: a change in any count is deliberate (circomlib-ml's encoding of this network is ~168,000)
    expect(manifest.circuit.layers.map((l) => [l.kind, l.constraints])).toEqual([
      ['range+hash', 7346],
      ['binding', 1],
      ['linear', 0],
      ['rescale', 3295],
      ['linear', 0],
      ['public', 0],
    ]);
  });

  it('pins the constraint counts of the small fixtures', async () => {
    const counts = await Promise.all(
      (['mlp-digits', 'cnn-view-digits', 'cnn-bn-digits'] as const).map(
        async (m) => (await readManifest(compiledDir(m))).circuit.constraints,
      ),
    );
    expect(counts).toEqual([1475, 7122, 4974]);
  });

  it.each(FIXTURE_MODELS)(
    '%s: the circuit witness equals the reference executor on 100 percent of the hold-out set',
    async (m) => {
      const a = await openArtifacts(compiledDir(m));
      const graph = await loadQuantGraph(a);
      const wc = await loadWitnessCalculator(a.paths.wasm);
      const nOut = a.manifest.outputs.reduce((s, o) => s + o.size, 0);
      const inputs = holdoutInputs(m);
      for (const x of inputs) {
        const r = infer(graph, x);
        const w = await wc.calculateWitness(
          { in: r.quantizedInput.map((v) => toField(v).toString()), binding: '7' },
          true,
        );
        // witness layout: 1, then public outputs (out[...], inputHash), then the public input binding
        expect(w.slice(1, 1 + nOut).map(fromField)).toEqual(r.quantizedOutputs);
        expect(w[nOut + 2]).toBe(7n);
      }
    },
  );

  it('reuses an identical compile and recompiles when forced', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'zkinfer-cache-')), 'mlp');
    await cp(compiledDir('mlp-digits'), dir, { recursive: true });
    const again = await compileModel(modelPath('mlp-digits'), { outDir: dir });
    expect(again.cached).toBe(true);
    await writeFile(join(dir, 'circuit.zkey'), 'keys of the old circuit');
    await writeFile(join(dir, 'verification_key.json'), '{}');
    const other = await compileModel(modelPath('mlp-digits'), { outDir: dir, weightBits: 8 });
    // keys of the previous circuit do not survive a recompile
    expect(existsSync(join(dir, 'circuit.zkey'))).toBe(false);
    expect(existsSync(join(dir, 'verification_key.json'))).toBe(false);
    expect(other.manifest.setup).toBeUndefined();
    expect(other.cached).toBe(false);
    expect(other.manifest.circuit.constraints).not.toBe(again.manifest.circuit.constraints);
  });
});
