import type { Groth16Proof } from 'snarkjs';
import type { BindingParts } from './binding.ts';
import type { SliceProof } from './synapses.ts';

export const CHALLENGE_PROOF_FORMAT = 'zkinfer/challenge-proof@1';

/** A verified answer to a validator's challenge, kept with the challenge so anyone can re-check it. */
export interface ChallengeProof {
  readonly format: typeof CHALLENGE_PROOF_FORMAT;
  readonly round: number;
  readonly modelId: string;
  readonly miner: string;
  readonly challenge: { readonly input: readonly number[]; readonly binding: BindingParts };
  /** For a sliced model, its last slice's proof and signals (the whole chain is in `slices`). */
  readonly proof: Groth16Proof;
  readonly publicSignals: readonly string[];
  /** A sliced model's answer: every slice proof in order, and the outputs and class it claimed. */
  readonly slices?: readonly SliceProof[];
  readonly outputs?: readonly number[];
  readonly predictedClass?: number;
}
