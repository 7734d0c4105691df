import { fromField } from '../circuits/core/field.ts';
import type { InferenceResult } from '../circuits/core/inference.ts';
import type { Manifest } from '../circuits/manifest.ts';
import type { ProofBundle } from '../protocol/bundle.ts';
import type { VerifyResult } from './verifyProof.ts';

/**
 * A bundle's informational fields (binding, outputs, predicted class) against what the proof covers:
 * the public signals, and the reference executor's result when the input is known. Pure.
 * A field that disagrees, or that nothing can vouch for (hashed outputs and no input), refuses the
 * bundle: an auditor reading the class from a "valid" bundle must be reading a proven class.
 */
export function checkBundleFields(
  bundle: Partial<ProofBundle>,
  signals: readonly string[],
  context: { readonly manifest?: Manifest; readonly reference?: InferenceResult },
): VerifyResult {
  const n = signals.length;
  const mismatch = (detail: string): VerifyResult => ({ ok: false, reason: 'outputMismatch', detail });
  if (bundle.binding !== undefined && String(bundle.binding) !== signals[n - 1]) {
    return {
      ok: false,
      reason: 'bindingMismatch',
      detail: `the bundle's binding field ${String(bundle.binding)} is not the binding the proof carries`,
    };
  }
  const { manifest, reference } = context;
  const hashed = manifest
    ? manifest.publicSignals.outputsHashed
    : n === 3 && (bundle.outputs?.length ?? 0) > 1;
  const outputs = bundle.outputs ?? [];
  if (reference) {
    if (
      outputs.length !== reference.outputs.length ||
      outputs.some((v, i) => Math.abs(v - reference.outputs[i]!) > 1e-9)
    )
      return mismatch("the bundle's outputs are not what the model computes on this input");
    if (bundle.predictedClass !== reference.predictedClass)
      return mismatch(
        `the bundle says class ${bundle.predictedClass}; the model computes ${reference.predictedClass}`,
      );
    return { ok: true };
  }
  if (hashed) {
    return mismatch(
      "the outputs are hashed, so the bundle's outputs and class cannot be checked: give --artifacts and --input, or verify proof.json with public.json",
    );
  }
  const proven = signals.slice(0, n - 2).map((s) => fromField(BigInt(s)));
  if (outputs.length !== proven.length)
    return mismatch(`the bundle lists ${outputs.length} outputs; the proof has ${proven.length}`);
  // with the manifest, each output's own scale; without it, one power-of-two scale for all
  const scales = manifest
    ? manifest.outputs.flatMap((o) => new Array<number>(o.size).fill(o.scale))
    : [inferScale(outputs, proven)];
  for (let i = 0; i < proven.length; i++) {
    const s = scales[Math.min(i, scales.length - 1)];
    if (
      s === undefined ||
      Math.abs(outputs[i]! - Number(proven[i]!) / 2 ** s) > 1e-9 * Math.max(1, Math.abs(outputs[i]!))
    )
      return mismatch(`output ${i} in the bundle is not the proven output`);
  }
  let best = 0;
  for (let i = 1; i < proven.length; i++) if (proven[i]! > proven[best]!) best = i;
  const argmaxModel = manifest && isArgMaxOutput(manifest) ? Number(proven[0]) : best;
  if (bundle.predictedClass !== argmaxModel)
    return mismatch(`the bundle says class ${bundle.predictedClass}; the proven outputs give ${argmaxModel}`);
  return { ok: true };
}

/** The scale s with outputs[i] = proven[i] / 2^s, from the first non-zero output (undefined if none fits). */
function inferScale(outputs: readonly number[], proven: readonly bigint[]): number | undefined {
  const i = proven.findIndex((p) => p !== 0n);
  if (i < 0) return 0;
  const s = Math.log2(Number(proven[i]!) / outputs[i]!);
  return Number.isInteger(s) ? s : undefined;
}

/** A model that ends in ArgMax publishes the class itself (one output of scale 0, size 1). */
function isArgMaxOutput(m: Manifest): boolean {
  return m.outputs.length === 1 && m.outputs[0]!.size === 1 && m.outputs[0]!.scale === 0;
}
