import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readInputFile } from '../../circuits/inputFile.ts';
import { setupArtifacts } from '../../circuits/setup/setup.ts';
import { openSliced } from '../../circuits/slicedModel.ts';
import type { EngineName } from '../../prover/engine/engines.ts';
import { proveSliced } from '../../prover/proveSliced.ts';
import type { VerifyResult } from '../../verifier/verifyProof.ts';
import { verifySliced } from '../../verifier/verifySliced.ts';
import { EXIT, type Io } from './output.ts';

// The setup, prove and verify verbs on a sliced model's directory (compile --max-constraints).

export async function setupSliced(
  dir: string,
  ptau: string,
  io: Io,
  json: boolean,
  progress: (m: string) => void,
): Promise<number> {
  const m = await openSliced(dir);
  const ids: string[] = [];
  for (const [k, a] of m.slices.entries()) {
    progress(`slice ${k + 1}/${m.slices.length} (${a.manifest.circuit.constraints} constraints)`);
    ids.push((await setupArtifacts(a.dir, ptau, progress)).setup.modelId);
  }
  if (json) io.out(JSON.stringify({ ok: true, sliced: true, modelIds: ids }));
  else {
    io.out(`${m.slices.length} slices set up`);
    ids.forEach((id, k) => io.out(`  slice ${k}: modelId ${id}`));
  }
  return EXIT.ok;
}

export async function proveSlicedCommand(
  dir: string,
  opts: { input: string; out: string; binding: bigint; engine: EngineName },
  io: Io,
  json: boolean,
  progress: (m: string) => void,
): Promise<number> {
  const m = await openSliced(dir);
  const x = await readInputFile(opts.input, m.manifest.input.size);
  progress(`proving ${m.slices.length} slices (${m.manifest.totalConstraints} constraints in all)`);
  const t0 = performance.now();
  const bundle = await proveSliced(m, x, opts.binding, { engine: opts.engine });
  const ms = Math.round(performance.now() - t0);
  await mkdir(opts.out, { recursive: true });
  await writeFile(join(opts.out, 'bundle.json'), `${JSON.stringify(bundle, null, 1)}\n`);
  if (json)
    io.out(
      JSON.stringify({
        ok: true,
        out: opts.out,
        slices: bundle.slices.length,
        predictedClass: bundle.predictedClass,
        ms,
      }),
    );
  else {
    io.out(`${bundle.slices.length} slice proofs written to ${join(opts.out, 'bundle.json')} in ${ms} ms`);
    io.out(`predicted class ${bundle.predictedClass}`);
  }
  return EXIT.ok;
}

export async function verifySlicedCommand(
  raw: unknown,
  dir: string,
  opts: { input?: string; binding?: bigint },
): Promise<VerifyResult> {
  const m = await openSliced(dir);
  const input = opts.input ? await readInputFile(opts.input, m.manifest.input.size) : undefined;
  return verifySliced(m, raw, {
    ...(input ? { input } : {}),
    ...(opts.binding !== undefined ? { binding: opts.binding } : {}),
  });
}
