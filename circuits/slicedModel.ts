import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ArtifactError } from '../protocol/errors.ts';
import { type Artifacts, openArtifacts, requireFile } from './artifacts.ts';
import type { QuantGraph } from './core/quantGraph.ts';
import { quantizeInput } from './core/quantize.ts';
import { runReference } from './core/reference.ts';
import { sha256Hex } from './hashing.ts';
import { ARTIFACT_FILES } from './manifest.ts';
import { quantGraphFromJson } from './qgraphJson.ts';
import { readSlicedManifest, type SlicedManifest } from './slicedManifest.ts';

/** A sliced model's directory: its manifest, each slice's artifacts, the whole quantized graph. */
export interface SlicedModel {
  readonly dir: string;
  readonly manifest: SlicedManifest;
  readonly slices: readonly Artifacts[];
  readonly graph: QuantGraph;
}

/**
 * A sliced model whose every slice is set up, with the named key files present (a miner needs
 * zkey and wasm, a validator vkey): anything missing is named, with the command that makes it.
 */
export async function openSlicedSetUp(
  dir: string,
  files: readonly ('zkey' | 'wasm' | 'vkey')[],
): Promise<SlicedModel> {
  const m = await openSliced(dir);
  const what = { zkey: 'proving key', wasm: 'witness generator', vkey: 'verification key' } as const;
  for (const a of m.slices) {
    if (!a.manifest.setup)
      throw new ArtifactError(
        'ARTIFACT_NOT_FOUND',
        `${a.dir} has no keys; run zkinfer setup on ${dir} first`,
      );
    for (const f of files) requireFile(a.paths[f], what[f]);
  }
  return m;
}

export async function openSliced(dir: string): Promise<SlicedModel> {
  const manifest = await readSlicedManifest(dir);
  const slices = await Promise.all(manifest.slices.map((s) => openArtifacts(join(dir, s.dir))));
  const path = requireFile(join(dir, ARTIFACT_FILES.qgraph), 'quantized graph of the whole model');
  const graph = quantGraphFromJson(await readFile(path, 'utf8'), path);
  return { dir, manifest, slices, graph };
}

/**
 * The id a sliced model is served and challenged under: sha256 over its slices' modelIds in order
 * (each of which covers its circuit and keys), so it changes when any slice or the order does.
 */
export function slicedModelId(m: SlicedModel): string {
  return sha256Hex(`zkinfer-sliced:${m.slices.map((a) => a.manifest.setup?.modelId ?? '').join(',')}`);
}

/**
 * Each slice's circuit input (the integers of its `in` signals), from one run of the reference
 * executor over the whole graph: slice 0 gets the quantized model input; slice k the boundary
 * slice k−1 hashes out, its tensors concatenated.
 */
export function sliceQuantizedInputs(m: SlicedModel, x: ArrayLike<number>): bigint[][] {
  const q = quantizeInput(m.graph.input, x);
  const values = runReference(m.graph, q);
  return m.manifest.slices.map((s) => (s.input ? s.input.tensors.flatMap((t) => values[t]!) : q));
}

/**
 * The same inputs as real values for a slice's input encoding: v / 2^scale (scale 0 for a boundary
 * of several tensors), which the encoding turns back into exactly v; slice 0 gets x itself.
 */
export function sliceInputs(m: SlicedModel, x: ArrayLike<number>): number[][] {
  return sliceQuantizedInputs(m, x).map((q, k) => {
    const b = m.manifest.slices[k]!.input;
    return b ? q.map((v) => Number(v) / 2 ** b.scale) : Array.from(x);
  });
}

const vkeys = new WeakMap<SlicedModel, Promise<unknown[]>>();

/** The slices' verification keys, read once per opened model (a validator verifies many answers). */
export function sliceVkeys(m: SlicedModel): Promise<unknown[]> {
  let keys = vkeys.get(m);
  if (!keys) {
    keys = Promise.all(
      m.slices.map(async (a) => JSON.parse(await readFile(a.paths.vkey, 'utf8')) as unknown),
    );
    vkeys.set(m, keys);
  }
  return keys;
}
