import type { SlicedModel } from '../circuits/slicedModel.ts';
import { sliceInputs } from '../circuits/slicedModel.ts';
import { SLICED_BUNDLE_FORMAT, type SlicedBundle } from '../protocol/slicedBundle.ts';
import type { EngineName } from './engine/engines.ts';
import { proveOnce } from './proveOnce.ts';

/**
 * Proves a sliced model on one input as one request: every boundary tensor comes from one run of
 * the reference executor, each slice is proved (and cross-checked against the executor) with
 * the same binding, and the bundle holds the slice proofs in order.
 */
export async function proveSliced(
  m: SlicedModel,
  x: ArrayLike<number>,
  binding: bigint,
  options: { engine?: EngineName } = {},
): Promise<SlicedBundle> {
  const inputs = sliceInputs(m, x);
  const slices = [];
  for (const [k, a] of m.slices.entries()) slices.push(await proveOnce(a, inputs[k]!, binding, options));
  const last = slices[slices.length - 1]!;
  return {
    format: SLICED_BUNDLE_FORMAT,
    model: m.manifest.name,
    slices,
    outputs: last.outputs,
    predictedClass: last.predictedClass,
    binding: binding.toString(),
  };
}
