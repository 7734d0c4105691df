import { type Artifacts, loadQuantGraph, openArtifacts, requireFile } from '../circuits/artifacts.ts';
import { toField } from '../circuits/core/field.ts';
import { infer } from '../circuits/core/inference.ts';
import type { QuantGraph } from '../circuits/core/quantGraph.ts';
import { isSlicedDir } from '../circuits/slicedManifest.ts';
import { openSlicedSetUp, slicedModelId } from '../circuits/slicedModel.ts';
import { ArtifactError } from '../protocol/errors.ts';
import type { ServedSliced } from './slicedAnswer.ts';

/** A model that is one circuit, as a miner or prover node serves it. */
export interface ServedModel {
  readonly artifacts: Artifacts;
  readonly graph: QuantGraph;
}

/** The models of one config, by the modelId they are served under. */
export interface ServedModels {
  readonly models: ReadonlyMap<string, ServedModel>;
  readonly sliced: ReadonlyMap<string, ServedSliced>;
}

/** One circuit to prove with: a whole model, or one slice of a sliced model. */
export interface ServedCircuit {
  readonly name: string;
  readonly modelId: string;
  readonly wasmPath: string;
  readonly zkeyPath: string;
  readonly served: ServedModel;
}

/** Opens each artifact directory (set up, keys present); a sliced directory serves all its slices. */
export async function loadServedModels(dirs: readonly string[]): Promise<ServedModels> {
  const models = new Map<string, ServedModel>();
  const sliced = new Map<string, ServedSliced>();
  for (const dir of dirs) {
    if (isSlicedDir(dir)) {
      const s = await openSlicedSetUp(dir, ['zkey', 'wasm']);
      const graphs = await Promise.all(s.slices.map((a) => loadQuantGraph(a)));
      const modelId = slicedModelId(s);
      sliced.set(modelId, { modelId, sliced: s, graphs });
      continue;
    }
    const artifacts = await openArtifacts(dir);
    const setup = artifacts.manifest.setup;
    if (!setup)
      throw new ArtifactError('ARTIFACT_NOT_FOUND', `${dir} has no keys; run zkinfer setup on it first`);
    requireFile(artifacts.paths.zkey, 'proving key');
    requireFile(artifacts.paths.wasm, 'witness generator');
    models.set(setup.modelId, { artifacts, graph: await loadQuantGraph(artifacts) });
  }
  return { models, sliced };
}

/** Every circuit the models are proved with: each whole model, then each slice in order. */
export function circuitsOf(served: ServedModels): ServedCircuit[] {
  const circuit = (served: ServedModel): ServedCircuit => ({
    name: served.artifacts.manifest.name,
    modelId: served.artifacts.manifest.setup!.modelId,
    wasmPath: served.artifacts.paths.wasm,
    zkeyPath: served.artifacts.paths.zkey,
    served,
  });
  return [
    ...[...served.models.values()].map(circuit),
    ...[...served.sliced.values()].flatMap((m) =>
      m.sliced.slices.map((artifacts, k) => circuit({ artifacts, graph: m.graphs[k]! })),
    ),
  ];
}

/** The models as the fleet's model table names them: whole models, sliced models and their slices. */
export function modelNames(served: ServedModels): { name: string; modelId: string }[] {
  return [
    ...circuitsOf(served).map(({ name, modelId }) => ({ name, modelId })),
    ...[...served.sliced.values()].map((m) => ({ name: m.sliced.manifest.name, modelId: m.modelId })),
  ];
}

/** A circuit's warm-up: its keys, and a mid-range input so witness-dependent tables are built too. */
export function warmJob(c: ServedCircuit) {
  const m = c.served;
  const [lo, hi] = m.artifacts.manifest.quantization.inputRange;
  const r = infer(
    m.graph,
    Array.from({ length: m.artifacts.manifest.input.size }, (_, i) => lo + ((hi - lo) * ((i % 7) + 1)) / 8),
  );
  return {
    wasmPath: c.wasmPath,
    zkeyPath: c.zkeyPath,
    sampleInput: { in: r.quantizedInput.map((v) => toField(v).toString()), binding: '1' },
  };
}
