import type { EngineName } from '../engine/engines.ts';
import type { ProveJobResult } from '../pool/messages.ts';
import type { PoolErrorCode } from '../pool/provingPool.ts';
import type { ProofTask } from '../prover.ts';

/** A proving job on the fleet's queue: the circuit by modelId (each node has its own files) and the input. */
export interface FleetJobData {
  readonly modelId: string;
  readonly circuitInput: ProofTask['circuitInput'];
  /** Epoch milliseconds after which nobody waits for the proof: a node drops the job instead of proving it. */
  readonly deadlineAt: number;
}

/** What a node returns for a job: the pool's result and who made it. */
export interface FleetJobResult extends Omit<ProveJobResult, 'engine'> {
  readonly engine: EngineName;
  readonly node: string;
  /** Earlier attempts of this job: failed runs plus runs lost with a node (stalled). */
  readonly retries: number;
}

/**
 * BullMQ priority for a caller's stake: lower runs first, and 0 would mean "no priority" (which
 * BullMQ runs before every prioritized job), so every job gets one in [1, 2^21 - 1]. More stake runs
 * first; stakes within a factor of about 1.0007 share a priority and keep their arrival order.
 */
export function queuePriority(stake: number): number {
  const MAX = 2 ** 21 - 1;
  const rank = Math.floor(Math.log2(1 + Math.max(0, stake)) * 1024);
  return Math.max(1, MAX - Math.min(MAX - 1, rank));
}

/** A node's refusal travels as the job's failure reason `CODE: message`; unknown codes are worker failures. */
export function failureReason(code: PoolErrorCode | 'EXPIRED', message: string): string {
  return `${code}: ${message}`;
}

const CODES: readonly PoolErrorCode[] = [
  'QUEUE_FULL',
  'DEADLINE_UNMEETABLE',
  'DEADLINE_EXCEEDED',
  'WORKER_FAILED',
  'POOL_CLOSED',
  'FLEET_UNAVAILABLE',
];

export function parseFailureReason(reason: string): { code: PoolErrorCode; message: string } {
  const m = /^([A-Z_]+): ([\s\S]*)$/.exec(reason);
  if (m && m[1] === 'EXPIRED') return { code: 'DEADLINE_EXCEEDED', message: m[2]! };
  if (m && (CODES as readonly string[]).includes(m[1]!))
    return { code: m[1] as PoolErrorCode, message: m[2]! };
  return { code: 'WORKER_FAILED', message: reason };
}
