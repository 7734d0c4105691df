import type { ProveJob, ProveJobResult } from './pool/messages.ts';
import type { ProveOptions } from './pool/provingPool.ts';

/** One proof a miner asks for: the circuit (by identity and by its local files) and its input. */
export interface ProofTask extends Pick<ProveJob, 'wasmPath' | 'zkeyPath' | 'circuitInput'> {
  /** The circuit's modelId (the hash its set-up recorded): how a fleet node finds its own copy. */
  readonly modelId: string;
}

/**
 * Where a miner's proofs are made: its own piscina pool (the default) or a fleet of prover nodes
 * behind a Redis queue. Both admit work against its deadline and refuse what they cannot finish in
 * time, so the axon's Capacity answer and its 503s read the same numbers in either mode.
 */
export interface Prover {
  /** Proving workers available now (a fleet: the live nodes' workers). */
  readonly workers: number;
  /** Jobs that may wait beyond the running ones. */
  readonly maxQueue: number;
  readonly queueDepth: number;
  readonly inFlight: number;
  /** Workers that can prove this circuit now (a fleet: those of live nodes that hold it). */
  workersFor(modelId: string): number;
  /** Why a proof of this circuit cannot be taken now (the fleet's Redis is gone, no node holds it), or null. */
  refusal(modelId: string): string | null;
  prove(task: ProofTask, options: ProveOptions): Promise<ProveJobResult>;
  /** Stops taking work; lets work in flight finish. */
  close(): Promise<void>;
}
