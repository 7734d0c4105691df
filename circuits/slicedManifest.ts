import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ArtifactError } from '../protocol/errors.ts';
import type { BoundaryEncoding } from './core/slicePlan.ts';
import type { Manifest } from './manifest.ts';

export const SLICED_FORMAT = 'zkinfer-sliced/1';
export const SLICED_FILE = 'sliced.json';

/**
 * A model cut into slices: slice k proves layers [from, to) from the tensor slice k−1 hashed out.
 * Public signals of slice k: [outputHash | outputs…], inputHash, binding; slice k's outputHash is
 * slice k+1's inputHash (the boundary packed the same way), slice 0's inputHash is the model
 * input's, every slice carries the same binding, and the last slice publishes the model's outputs.
 */
export interface SlicedManifest {
  readonly format: typeof SLICED_FORMAT;
  readonly name: string;
  readonly model: { readonly file: string; readonly sha256: string };
  readonly maxConstraints: number;
  readonly totalConstraints: number;
  /** The model as one circuit, as the constraint predictor counts it (not compiled). */
  readonly wholeConstraints?: number;
  readonly input: Manifest['input'];
  readonly outputs: Manifest['outputs'];
  readonly slices: readonly {
    readonly dir: string;
    readonly layers: readonly [number, number];
    readonly constraints: number;
    /** The boundary read (null: the model input) and hashed out (null: the model outputs). */
    readonly input: BoundaryEncoding | null;
    readonly output: BoundaryEncoding | null;
  }[];
  readonly createdAt: string;
}

export function isSlicedDir(dir: string): boolean {
  return existsSync(join(dir, SLICED_FILE));
}

export async function readSlicedManifest(dir: string): Promise<SlicedManifest> {
  const path = join(dir, SLICED_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new ArtifactError('ARTIFACT_INVALID', `${path} is not readable JSON`, { cause });
  }
  const m = raw as Partial<SlicedManifest>;
  if (m.format !== SLICED_FORMAT || !Array.isArray(m.slices) || m.slices.length < 2) {
    throw new ArtifactError('ARTIFACT_INVALID', `${path} is not a zkinfer sliced-model manifest`);
  }
  return m as SlicedManifest;
}

export async function writeSlicedManifest(dir: string, m: SlicedManifest): Promise<void> {
  await writeFile(join(dir, SLICED_FILE), `${JSON.stringify(m, null, 2)}\n`);
}
