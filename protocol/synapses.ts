import type { Groth16Proof } from 'snarkjs';
import { type AvsBindingParts, avsPartsError, type BindingParts } from './binding.ts';

/** Synapse names: the path of POST /<SynapseName>. */
export const SYNAPSES = ['ProveInference', 'Capacity'] as const;
export type SynapseName = (typeof SYNAPSES)[number];

export interface ProveInferenceRequest {
  readonly modelId: string;
  /** Float input, flat, the model's input size. */
  readonly input: readonly number[];
  readonly binding: BindingParts;
  /** Milliseconds the validator will wait; the miner refuses work it cannot finish in time. */
  readonly deadlineMs: number;
}

/** One slice's proof in the answer for a sliced model. */
export interface SliceProof {
  readonly modelId: string;
  readonly proof: Groth16Proof;
  readonly publicSignals: readonly string[];
}

export interface ProveInferenceResponse {
  readonly modelId: string;
  /**
   * For a sliced model: every slice's proof, in order (proof and publicSignals above are then the
   * last slice's). Absent for a model that is one circuit.
   */
  readonly slices?: readonly SliceProof[];
  readonly proof: Groth16Proof;
  readonly publicSignals: readonly string[];
  readonly outputs: readonly number[];
  readonly predictedClass: number;
  readonly timings: { readonly queueMs: number; readonly witnessMs: number; readonly proveMs: number };
}

export interface CapacityResponse {
  readonly hotkey: string;
  readonly models: readonly {
    readonly modelId: string;
    readonly name: string;
    readonly constraints: number;
    /** For a sliced model: how many circuits prove it (constraints is their sum). */
    readonly slices?: number;
    /** Workers that can prove it now (a fleet: those of live nodes holding every circuit of it). */
    readonly workers?: number;
  }[];
  readonly workers: number;
  readonly queueDepth: number;
  readonly maxQueue: number;
}

/** Validates a ProveInference body; returns the reason (→ 400) when it is malformed. */
export function parseProveInference(body: unknown): ProveInferenceRequest | string {
  if (typeof body !== 'object' || body === null) return 'the body must be a JSON object';
  const b = body as Record<string, unknown>;
  if (typeof b['modelId'] !== 'string' || !/^[0-9a-f]{64}$/.test(b['modelId']))
    return 'modelId must be 64 hex digits';
  const input = b['input'];
  if (!Array.isArray(input) || input.length === 0 || input.length > 1_000_000)
    return 'input must be a non-empty array of numbers';
  const bad = input.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (bad >= 0) return `input[${bad}] is not a finite number`;
  const binding = b['binding'] as Record<string, unknown> | undefined;
  if (
    !binding ||
    typeof binding['nonce'] !== 'string' ||
    typeof binding['validatorHotkey'] !== 'string' ||
    typeof binding['minerHotkey'] !== 'string'
  ) {
    return 'binding must be { nonce, validatorHotkey, minerHotkey } strings';
  }
  const avsError = binding['avs'] === undefined ? undefined : avsPartsError(binding['avs']);
  if (avsError) return avsError;
  const deadlineMs = b['deadlineMs'];
  if (
    typeof deadlineMs !== 'number' ||
    !Number.isFinite(deadlineMs) ||
    deadlineMs <= 0 ||
    deadlineMs > 3_600_000
  )
    return 'deadlineMs must be a number of milliseconds in (0, 3600000]';
  return {
    modelId: b['modelId'],
    input: input as number[],
    binding: {
      nonce: binding['nonce'],
      validatorHotkey: binding['validatorHotkey'],
      minerHotkey: binding['minerHotkey'],
      ...(binding['avs'] === undefined ? {} : { avs: binding['avs'] as AvsBindingParts }),
    },
    deadlineMs,
  };
}
