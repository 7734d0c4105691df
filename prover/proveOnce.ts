import * as snarkjs from 'snarkjs';
import { type Artifacts, loadQuantGraph, requireFile } from '../circuits/artifacts.ts';
import { toField } from '../circuits/core/field.ts';
import { infer } from '../circuits/core/inference.ts';
import { inputHashOfQuantized } from '../circuits/inputHash.ts';
import { poseidonHashChain } from '../circuits/poseidon.ts';
import { BUNDLE_FORMAT, type ProofBundle } from '../protocol/bundle.ts';
import { ArtifactError, ZkinferError } from '../protocol/errors.ts';
import { createEngine, DEFAULT_ENGINE, type EngineName, type ProvingEngine } from './engine/engines.ts';

/** The public signals a correct proof of `x` must carry, computed without the circuit. */
export async function expectedPublicSignals(
  a: Artifacts,
  quantizedInput: readonly bigint[],
  quantizedOutputs: readonly bigint[],
  binding: bigint,
): Promise<string[]> {
  const outs = quantizedOutputs.map(toField);
  const packed = a.manifest.publicSignals.outputsPacked;
  const head = packed
    ? [await inputHashOfQuantized(quantizedOutputs, packed)]
    : a.manifest.publicSignals.outputsHashed
      ? [await poseidonHashChain(outs)]
      : outs;
  const inputHash = await inputHashOfQuantized(quantizedInput, a.manifest.input);
  return [...head, inputHash, binding].map(String);
}

const engines = new Map<EngineName, ProvingEngine>();

/** One engine per name for this process: the CLI and tests prove in the calling thread. */
function engineFor(name: EngineName): ProvingEngine {
  let e = engines.get(name);
  if (!e) {
    // One-shot proofs: building fixed-base tables would cost more than it saves.
    e = createEngine(name, { maxModels: 2, tableBudgetBytes: 0 });
    engines.set(name, e);
  }
  return e;
}

/**
 * Proves one input in this thread (the CLI's path; miners use the worker pool), with the
 * native-cache engine unless another is named.
 * Cross-checks the circuit's public signals against the reference executor: a disagreement is a
 * compiler bug and is reported, never returned as a proof.
 */
export async function proveOnce(
  a: Artifacts,
  x: ArrayLike<number>,
  binding: bigint,
  options: { engine?: EngineName } = {},
): Promise<ProofBundle> {
  const setup = a.manifest.setup;
  if (!setup)
    throw new ArtifactError('ARTIFACT_NOT_FOUND', `${a.dir} has no keys yet; run zkinfer setup first`);
  requireFile(a.paths.zkey, 'proving key');
  const graph = await loadQuantGraph(a);
  const r = infer(graph, x);
  const circuitInput = {
    in: r.quantizedInput.map((v) => toField(v).toString()),
    binding: binding.toString(),
  };
  const t0 = performance.now();
  const wtns: { type: 'mem'; data?: Uint8Array } = { type: 'mem' };
  await snarkjs.wtns.calculate(circuitInput, requireFile(a.paths.wasm, 'witness generator (wasm)'), wtns);
  const t1 = performance.now();
  const engine = engineFor(options.engine ?? DEFAULT_ENGINE);
  const { proof, publicSignals } = await engine.prove(a.paths.zkey, wtns.data!);
  const t2 = performance.now();
  const expected = await expectedPublicSignals(a, r.quantizedInput, r.quantizedOutputs, binding);
  if (expected.length !== publicSignals.length || expected.some((v, i) => v !== publicSignals[i])) {
    throw new ZkinferError(
      'ARTIFACT_INVALID',
      'the circuit and the reference executor disagree on this input: the artifacts are inconsistent (recompile)',
    );
  }
  return {
    format: BUNDLE_FORMAT,
    modelId: setup.modelId,
    proof,
    publicSignals,
    outputs: r.outputs,
    predictedClass: r.predictedClass,
    binding: binding.toString(),
    timings: { witnessMs: Math.round(t1 - t0), proveMs: Math.round(t2 - t1) },
  };
}
