import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ArtifactError } from '../protocol/errors.ts';
import type { QuantGraph } from './core/quantGraph.ts';
import { ARTIFACT_FILES, type Manifest, readManifest } from './manifest.ts';
import { quantGraphFromJson } from './qgraphJson.ts';

/** An artifact directory, with its manifest read and every path resolved. */
export interface Artifacts {
  readonly dir: string;
  readonly manifest: Manifest;
  readonly paths: { readonly [K in keyof typeof ARTIFACT_FILES]: string };
}

export async function openArtifacts(dir: string): Promise<Artifacts> {
  const manifest = await readManifest(dir);
  const paths = Object.fromEntries(
    Object.entries(ARTIFACT_FILES).map(([k, v]) => [k, join(dir, v)]),
  ) as Artifacts['paths'];
  return { dir, manifest, paths };
}

export async function loadQuantGraph(a: Artifacts): Promise<QuantGraph> {
  return quantGraphFromJson(
    await readFile(requireFile(a.paths.qgraph, 'quantized graph'), 'utf8'),
    a.paths.qgraph,
  );
}

/** Returns the path when the file exists, or throws ARTIFACT_NOT_FOUND saying what is missing. */
export function requireFile(path: string, what: string, hint = ''): string {
  if (!existsSync(path))
    throw new ArtifactError('ARTIFACT_NOT_FOUND', `${what} not found at ${path}${hint ? `; ${hint}` : ''}`);
  return path;
}
