import type { ProofBundle } from './bundle.ts';

export const SLICED_BUNDLE_FORMAT = 'zkinfer-sliced-bundle/1';

/**
 * The proofs of a sliced model for one input, in slice order. Alone a slice proof shows nothing
 * about the model: the answer stands only when every proof verifies under its slice's key, each
 * slice's outputHash is the next slice's inputHash, all carry the same binding, the first
 * inputHash is the challenge's, and the last slice's outputs are the ones claimed.
 */
export interface SlicedBundle {
  readonly format: typeof SLICED_BUNDLE_FORMAT;
  readonly model: string;
  readonly slices: readonly ProofBundle[];
  /** The last slice's (the model's) outputs and class, informative as in a ProofBundle. */
  readonly outputs: readonly number[];
  readonly predictedClass: number;
  readonly binding: string;
}
