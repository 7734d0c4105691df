import type { Groth16Proof } from 'snarkjs';

export const BUNDLE_FORMAT = 'zkinfer/bundle@1';

/** What `zkinfer prove` writes and miners return: a proof plus what a verifier needs to read it. */
export interface ProofBundle {
  readonly format: typeof BUNDLE_FORMAT;
  readonly modelId: string;
  readonly proof: Groth16Proof;
  /** snarkjs public signals (decimal strings), in the layout of manifest.publicSignals.names. */
  readonly publicSignals: readonly string[];
  /** Dequantized model outputs (informative: the public signals are what the proof covers). */
  readonly outputs: readonly number[];
  readonly predictedClass: number;
  readonly binding: string;
  readonly timings: { readonly witnessMs: number; readonly proveMs: number };
}
