import { compileModel } from '../circuits/compile.ts';
import { compiledDir, FIXTURE_MODELS, HASHED_MLP_DIR, modelPath } from './helpers/fixtures.ts';

/** Compiles every fixture model once before the test files run (identical circuits are reused). */
export default async function setup(): Promise<void> {
  for (const m of FIXTURE_MODELS) await compileModel(modelPath(m), { outDir: compiledDir(m) });
  await compileModel(modelPath('mlp-digits'), { outDir: HASHED_MLP_DIR, hashOutputs: true });
}
