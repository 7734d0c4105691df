import type { Groth16Proof } from 'snarkjs';

/** One proof to make: the circuit input is prepared on the main thread (quantized, field-encoded). */
export interface ProveJob {
  readonly wasmPath: string;
  readonly zkeyPath: string;
  readonly circuitInput: Readonly<Record<string, string | readonly string[]>>;
  /** performance.timeOrigin + now() when queued, to measure the queue wait in the worker. */
  readonly enqueuedAt: number;
  /** Test builds only (ZKINFER_TEST_HOOKS=1): the worker exits mid-job, as a crash would. */
  readonly testCrash?: boolean;
}

export interface ProveJobResult {
  readonly proof: Groth16Proof;
  readonly publicSignals: string[];
  readonly timings: { readonly queueMs: number; readonly witnessMs: number; readonly proveMs: number };
  readonly threadId: number;
}
