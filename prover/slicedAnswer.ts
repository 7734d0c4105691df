import { toField } from '../circuits/core/field.ts';
import { infer } from '../circuits/core/inference.ts';
import type { QuantGraph } from '../circuits/core/quantGraph.ts';
import { type SlicedModel, sliceQuantizedInputs } from '../circuits/slicedModel.ts';
import type { ProveInferenceResponse } from '../protocol/synapses.ts';
import type { ProveJobResult } from './pool/messages.ts';
import type { ProveOptions } from './pool/provingPool.ts';
import type { Prover } from './prover.ts';

/** A sliced model as a miner serves it: the model and each slice's quantized graph. */
export interface ServedSliced {
  /** slicedModelId(sliced), the id it is served under. */
  readonly modelId: string;
  readonly sliced: SlicedModel;
  readonly graphs: readonly QuantGraph[];
}

/**
 * The slices' indices, largest circuit first: the order they are submitted in. Workers take jobs
 * in submission order, so the longest proofs start first and the request does not end on one
 * worker finishing a large slice while the others sit idle (longest-processing-time-first).
 */
export function largestFirst(m: SlicedModel): number[] {
  const size = (k: number) => m.slices[k]!.manifest.circuit.constraints;
  return m.slices.map((_, k) => k).sort((p, q) => size(q) - size(p) || p - q);
}

/**
 * Proves a sliced model's challenge: one reference run gives every boundary, then all slices go
 * to the prover at once (largest first), so they prove in parallel on as many workers (or fleet
 * nodes) as there are. The answer carries every slice proof in order; its top-level proof is the
 * last slice's.
 */
export async function proveSlicedAnswer(
  prover: Prover,
  m: ServedSliced,
  input: readonly number[],
  binding: bigint,
  options: ProveOptions,
): Promise<{ body: ProveInferenceResponse; ms: number }> {
  // one reference run gives every slice's circuit input; only the last slice is run again, for
  // the outputs and class the answer reports
  const inputs = sliceQuantizedInputs(m.sliced, input);
  const last = m.graphs.length - 1;
  const lastInput = m.sliced.manifest.slices[last]!.input!;
  const lastRun = infer(
    m.graphs[last]!,
    inputs[last]!.map((v) => Number(v) / 2 ** lastInput.scale),
  );
  const proofs: Promise<ProveJobResult>[] = [];
  for (const k of largestFirst(m.sliced)) {
    const a = m.sliced.slices[k]!;
    proofs[k] = prover.prove(
      {
        modelId: a.manifest.setup!.modelId,
        wasmPath: a.paths.wasm,
        zkeyPath: a.paths.zkey,
        circuitInput: {
          in: inputs[k]!.map((v) => toField(v).toString()),
          binding: binding.toString(),
        },
      },
      options,
    );
  }
  const results = await Promise.all(proofs);
  const lastProof = results[last]!;
  // the request's latency: the slowest slice, queue included
  const ms = Math.max(...results.map((r) => r.timings.queueMs + r.timings.witnessMs + r.timings.proveMs));
  return {
    ms,
    body: {
      modelId: m.modelId,
      slices: results.map((r, k) => ({
        modelId: m.sliced.slices[k]!.manifest.setup!.modelId,
        proof: r.proof,
        publicSignals: r.publicSignals,
      })),
      proof: lastProof.proof,
      publicSignals: lastProof.publicSignals,
      outputs: lastRun.outputs,
      predictedClass: lastRun.predictedClass,
      timings: {
        queueMs: Math.max(...results.map((r) => r.timings.queueMs)),
        witnessMs: results.reduce((s, r) => s + r.timings.witnessMs, 0),
        proveMs: results.reduce((s, r) => s + r.timings.proveMs, 0),
      },
    },
  };
}
