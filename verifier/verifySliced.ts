import { infer } from '../circuits/core/inference.ts';
import { inputHashOf } from '../circuits/inputHash.ts';
import { type SlicedModel, sliceVkeys } from '../circuits/slicedModel.ts';
import { BUNDLE_FORMAT, type ProofBundle } from '../protocol/bundle.ts';
import { SLICED_BUNDLE_FORMAT, type SlicedBundle } from '../protocol/slicedBundle.ts';
import type { SliceProof } from '../protocol/synapses.ts';
import { checkBundleFields } from './bundleFields.ts';
import { type VerifyResult, verifyProof } from './verifyProof.ts';

/**
 * Verifies a sliced model's answer: every slice proof under its own slice's key, in the manifest's
 * order, linked hash to hash, one binding throughout, the first inputHash the input's (given
 * `input`), and the claimed outputs the last slice's. The cheap checks run first and name the
 * slice or link at fault: a reordered, foreign or re-bound slice, or a broken chain, is refused
 * before any pairing is computed.
 */
export async function verifySliced(
  m: SlicedModel,
  raw: unknown,
  opts: { input?: ArrayLike<number>; binding?: bigint } = {},
): Promise<VerifyResult> {
  const fail = (reason: Exclude<VerifyResult, { ok: true }>['reason'], detail: string): VerifyResult => ({
    ok: false,
    reason,
    detail,
  });
  const b = raw as Partial<SlicedBundle>;
  if (!b || typeof b !== 'object' || b.format !== SLICED_BUNDLE_FORMAT || !Array.isArray(b.slices))
    return fail('malformed', `not a sliced bundle (format ${SLICED_BUNDLE_FORMAT})`);
  const n = m.slices.length;
  if (b.slices.length !== n)
    return fail(
      'malformed',
      `the bundle has ${b.slices.length} slice proofs; ${m.manifest.name} has ${n} slices`,
    );
  const slices = b.slices as ProofBundle[];
  for (let k = 0; k < n; k++) {
    const want = m.slices[k]!.manifest.setup?.modelId;
    const s = slices[k]!;
    if (!s || typeof s !== 'object' || !Array.isArray(s.publicSignals))
      return fail('malformed', `slice ${k}: not a proof bundle`);
    if (s.modelId !== want) {
      const at = m.slices.findIndex((a) => a.manifest.setup?.modelId === s.modelId);
      return fail(
        'modelMismatch',
        at >= 0
          ? `position ${k} holds the proof of slice ${at}: the slices are out of order`
          : `slice ${k} is a proof for model ${String(s.modelId)}, not this model's slice ${k}`,
      );
    }
    if (s.publicSignals.length !== m.slices[k]!.manifest.publicSignals.names.length)
      return fail('malformed', `slice ${k}: ${s.publicSignals.length} public signals`);
  }
  const bindingOf = (s: ProofBundle) => s.publicSignals[s.publicSignals.length - 1]!;
  const binding = bindingOf(slices[0]!);
  for (let k = 1; k < n; k++) {
    if (bindingOf(slices[k]!) !== binding)
      return fail(
        'bindingMismatch',
        `slice ${k} carries binding ${bindingOf(slices[k]!)}, slice 0 ${binding}: it belongs to another request`,
      );
  }
  if (opts.binding !== undefined && BigInt(binding) !== opts.binding)
    return fail('bindingMismatch', `the proofs carry binding ${binding}, not ${opts.binding}`);
  if (b.binding !== undefined && String(b.binding) !== binding)
    return fail(
      'bindingMismatch',
      `the bundle's binding field ${String(b.binding)} is not the proofs' ${binding}`,
    );
  for (let k = 0; k + 1 < n; k++) {
    const out = slices[k]!.publicSignals[0];
    const next = slices[k + 1]!.publicSignals;
    const into = next[next.length - 2];
    if (out !== into)
      return fail(
        'chainBroken',
        `slice ${k} hashes out ${out}, but slice ${k + 1} proves from an input hashing to ${into}`,
      );
  }
  if (opts.input) {
    const want = await inputHashOf(opts.input, m.manifest.input);
    const first = slices[0]!.publicSignals;
    if (BigInt(first[first.length - 2]!) !== want)
      return fail(
        'inputHashMismatch',
        `slice 0 proves from input hash ${first[first.length - 2]}, the input hashes to ${want}`,
      );
  }
  const vkeys = await sliceVkeys(m);
  for (let k = 0; k < n; k++) {
    const v = await verifyProof(vkeys[k], slices[k]!.publicSignals, slices[k]!.proof);
    if (!v.ok) return fail(v.reason, `slice ${k}: ${v.detail}`);
  }
  const last = slices[n - 1]!;
  const lastManifest = m.slices[n - 1]!.manifest;
  const reference = opts.input ? infer(m.graph, opts.input) : undefined;
  const fields = checkBundleFields(last, last.publicSignals, {
    manifest: lastManifest,
    ...(reference ? { reference } : {}),
  });
  if (!fields.ok) return fail(fields.reason, `the last slice: ${fields.detail}`);
  const outputs = b.outputs ?? [];
  if (
    b.predictedClass !== last.predictedClass ||
    outputs.length !== last.outputs.length ||
    outputs.some((v, i) => v !== last.outputs[i])
  )
    return fail('outputMismatch', "the bundle's outputs or class are not the last slice's");
  return { ok: true };
}

/**
 * A miner's sliced answer (or a kept record of one) as verifySliced reads it: the slice proofs in
 * the answer's order, the last slice carrying the claimed outputs and class.
 */
export function slicedBundleOf(
  answer: { slices?: unknown; outputs?: readonly number[]; predictedClass?: number },
  m: SlicedModel,
  binding: bigint,
): unknown {
  const slices = Array.isArray(answer.slices) ? (answer.slices as Partial<SliceProof>[]) : [];
  return {
    format: SLICED_BUNDLE_FORMAT,
    model: m.manifest.name,
    slices: slices.map((s, k) => ({
      format: BUNDLE_FORMAT,
      modelId: s?.modelId,
      proof: s?.proof,
      publicSignals: s?.publicSignals,
      outputs: k === slices.length - 1 ? answer.outputs : [],
      predictedClass: k === slices.length - 1 ? answer.predictedClass : 0,
      binding: binding.toString(),
      timings: { witnessMs: 0, proveMs: 0 },
    })),
    outputs: answer.outputs,
    predictedClass: answer.predictedClass,
    binding: binding.toString(),
  };
}
