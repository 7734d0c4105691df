import type { AvsBindingParts } from '../../protocol/binding.ts';

/** Where a result's settlement stands (the answer's `settlement` field). */
export interface Settlement {
  readonly taskId: number;
  readonly status: 'settled' | 'pending' | 'failed';
  readonly txHash: string | null;
  readonly error: string | null;
}

export interface ProofAndSignals {
  readonly proof: unknown;
  readonly publicSignals: readonly string[];
}

/** What settles a task: the proof, or a sliced model's slice proofs in slice order. */
export type ProvenAnswer = ProofAndSignals | { readonly slices: readonly ProofAndSignals[] };

/** An AVS task opened for one organic request. */
export interface OpenedTask {
  readonly taskId: number;
  /** The task as the chain stores it (what a settlement must name). */
  readonly task: unknown;
  /** The binding parts every proof for this task must carry. */
  readonly avs: AvsBindingParts;
}

/**
 * What the gateway needs of the AVS to settle a request by the proven path (implemented over the
 * contracts in contracts/gatewaySettler.ts; the gateway itself never touches the chain).
 */
export interface Settler {
  /** Whether tasks for this model can be created (its key, or a sliced model's slice keys, registered). */
  registered(modelId: string): Promise<boolean>;
  /** Creates the task for this input (its commitment is the input hash). */
  open(modelId: string, inputHash: bigint): Promise<OpenedTask>;
  /**
   * Puts the verified proof(s) in the persistent settlement queue and tries to settle within
   * `waitMs`; a settlement still pending then stays queued and `onSettled` reports it later.
   */
  settle(
    opened: OpenedTask,
    proven: ProvenAnswer,
    waitMs: number,
    onSettled: (s: Settlement) => void,
  ): Promise<Settlement>;
  close(): Promise<void>;
}
