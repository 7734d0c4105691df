import type { Groth16Proof } from 'snarkjs';
import type { PartTask } from '../engine/cooperative.ts';
import type { EngineName } from '../engine/engines.ts';

/** Fixed for a pool's lifetime; every worker gets them as its workerData. */
export interface WorkerSettings {
  readonly engine: EngineName;
  readonly maxModels: number;
  readonly tableBudgetBytes?: number;
}

/** One proof to make: the circuit input is prepared on the main thread (quantized, field-encoded). */
export interface ProveJob {
  readonly wasmPath: string;
  readonly zkeyPath: string;
  readonly circuitInput: Readonly<Record<string, string | readonly string[]>>;
  /** performance.timeOrigin + now() when queued, to measure the queue wait in the worker. */
  readonly enqueuedAt: number;
  /** Only load the model (witness calculator, prepared key) so later proofs start warm. */
  readonly warmOnly?: boolean;
  /**
   * A part of a proof shared among workers (engine/cooperative.ts): "witness" computes the witness
   * and answers a WitnessPartResult; the others answer the engine's PartResult.
   */
  readonly part?: { readonly kind: 'witness' } | PartTask;
  /**
   * Test builds only (ZKINFER_TEST_HOOKS=1): the worker exits mid-job, as a crash would — on any
   * task of the job, or only on the part of that kind.
   */
  readonly testCrash?: boolean | PartTask['kind'];
}

/** What a worker answers to a job's "witness" part. */
export interface WitnessPartResult {
  /** The witness values, 32 bytes little-endian each. */
  readonly witness: Uint8Array;
  readonly publicSignals: string[];
  readonly domainSize: number;
  readonly witnessMs: number;
  readonly threadId: number;
}

/** What a worker answers to a `warmOnly` job. */
export interface WarmJobResult {
  readonly warmMs: number;
  readonly threadId: number;
}

export interface ProveJobResult {
  readonly proof: Groth16Proof;
  readonly publicSignals: string[];
  readonly engine: EngineName;
  readonly timings: { readonly queueMs: number; readonly witnessMs: number; readonly proveMs: number };
  readonly threadId: number;
  /** Workers that shared the proof, when more than one did. */
  readonly cooperative?: number;
}
