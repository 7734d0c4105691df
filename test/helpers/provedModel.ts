import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Artifacts, openArtifacts } from '../../circuits/artifacts.ts';
import { setupArtifacts } from '../../circuits/setup/setup.ts';
import type { ProofBundle } from '../../protocol/bundle.ts';
import { proveOnce } from '../../prover/proveOnce.ts';
import { compiledDir, DEV_PTAU, type FixtureModel, holdoutInputs } from './fixtures.ts';

/** A fixture model copied to a temp dir, set up with the dev ptau. */
export async function setUpModel(m: FixtureModel, from: string = compiledDir(m)): Promise<Artifacts> {
  const dir = join(await mkdtemp(join(tmpdir(), `zkinfer-${m}-`)), m);
  await cp(from, dir, { recursive: true });
  await setupArtifacts(dir, DEV_PTAU);
  return openArtifacts(dir);
}

/** Proves hold-out input `index` with a binding. */
export function proveHoldout(
  a: Artifacts,
  m: FixtureModel,
  index: number,
  binding: bigint,
): Promise<ProofBundle> {
  return proveOnce(a, holdoutInputs(m)[index]!, binding);
}
