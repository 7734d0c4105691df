import type { Groth16Proof } from 'snarkjs';
import type { BindingParts } from './binding.ts';

export const CHALLENGE_PROOF_FORMAT = 'zkinfer/challenge-proof@1';

/** A verified answer to a validator's challenge, kept with the challenge so anyone can re-check it. */
export interface ChallengeProof {
  readonly format: typeof CHALLENGE_PROOF_FORMAT;
  readonly round: number;
  readonly modelId: string;
  readonly miner: string;
  readonly challenge: { readonly input: readonly number[]; readonly binding: BindingParts };
  readonly proof: Groth16Proof;
  readonly publicSignals: readonly string[];
}
