import { infer } from '../circuits/core/inference.ts';
import { inputHashOf } from '../circuits/inputHash.ts';
import { type SlicedModel, sliceVkeys } from '../circuits/slicedModel.ts';
import { BUNDLE_FORMAT, type ProofBundle } from '../protocol/bundle.ts';
import { SLICED_BUNDLE_FORMAT, type SlicedBundle } from '../protocol/slicedBundle.ts';
import type { SliceProof } from '../protocol/synapses.ts';
import { batchVerify } from './batchVerify.ts';
import { checkBundleFields } from './bundleFields.ts';
import { type VerifyResult, verifyProof } from './verifyProof.ts';

export interface SlicedExpectations {
  readonly input?: ArrayLike<number>;
  readonly binding?: bigint;
}

/**
 * Every check of a sliced answer but the pairings: its shape, the slices' order, one binding
 * throughout (the expected one, given), the chain of hashes, and the first inputHash the input's
 * (given). Returns the slice proofs when they pass.
 */
async function slicedPrechecks(
  m: SlicedModel,
  raw: unknown,
  opts: SlicedExpectations,
): Promise<(VerifyResult & { ok: false }) | { ok: true; slices: ProofBundle[] }> {
  const fail = (
    reason: Exclude<VerifyResult, { ok: true }>['reason'],
    detail: string,
  ): VerifyResult & { ok: false } => ({ ok: false, reason, detail });
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
  return { ok: true, slices };
}

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
  opts: SlicedExpectations = {},
): Promise<VerifyResult> {
  const pre = await slicedPrechecks(m, raw, opts);
  if (!pre.ok) return pre;
  const vkeys = await sliceVkeys(m);
  for (const [k, slice] of pre.slices.entries()) {
    const v = await verifyProof(vkeys[k], slice.publicSignals, slice.proof);
    if (!v.ok) return { ok: false, reason: v.reason, detail: `slice ${k}: ${v.detail}` };
  }
  return slicedFieldsCheck(m, raw as Partial<SlicedBundle>, pre.slices, opts);
}

/**
 * Verifies many answers for one sliced model as {@link verifySliced} does, one by one, but with one
 * multi-pairing per slice over all the answers that passed the cheap checks (batchVerify names
 * each failing proof). Results are in the order given, with verifySliced's outcome for each
 * answer and its reason, except that a proof point off the curve is named `malformed` here (by
 * batchVerify, as in a round's single-circuit batches) where snarkjs's pairing just fails.
 */
export async function verifySlicedBatch(
  m: SlicedModel,
  answers: readonly { raw: unknown; opts: SlicedExpectations }[],
): Promise<VerifyResult[]> {
  const results: VerifyResult[] = new Array(answers.length);
  const passed: { index: number; slices: ProofBundle[] }[] = [];
  for (const [index, a] of answers.entries()) {
    const pre = await slicedPrechecks(m, a.raw, a.opts);
    if (pre.ok) passed.push({ index, slices: pre.slices });
    else results[index] = pre;
  }
  const vkeys = await sliceVkeys(m);
  let alive = passed;
  for (let k = 0; k < m.slices.length && alive.length > 0; k++) {
    const verdicts = await batchVerify(
      vkeys[k],
      alive.map((p) => ({ publicSignals: p.slices[k]!.publicSignals, proof: p.slices[k]!.proof })),
    );
    alive = alive.filter((p, j) => {
      const v = verdicts[j]!;
      if (!v.ok) results[p.index] = { ok: false, reason: v.reason, detail: `slice ${k}: ${v.detail}` };
      return v.ok;
    });
  }
  for (const p of alive) {
    const a = answers[p.index]!;
    results[p.index] = await slicedFieldsCheck(m, a.raw as Partial<SlicedBundle>, p.slices, a.opts);
  }
  return results;
}

/** The last slice's outputs and class against the proof (and the reference, given the input). */
async function slicedFieldsCheck(
  m: SlicedModel,
  b: Partial<SlicedBundle>,
  slices: readonly ProofBundle[],
  opts: SlicedExpectations,
): Promise<VerifyResult> {
  const fail = (reason: Exclude<VerifyResult, { ok: true }>['reason'], detail: string): VerifyResult => ({
    ok: false,
    reason,
    detail,
  });
  const n = slices.length;
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
