import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { ZkinferError } from '../../protocol/errors.ts';
import { DEFAULT_ENGINE, type EngineName } from '../engine/engines.ts';
import type { ProveJob, ProveJobResult, WarmJobResult, WorkerSettings } from './messages.ts';

export type PoolErrorCode =
  | 'QUEUE_FULL'
  | 'DEADLINE_UNMEETABLE'
  | 'DEADLINE_EXCEEDED'
  | 'WORKER_FAILED'
  | 'POOL_CLOSED';

/** A job the pool refused or could not finish; `code` says which (the axon maps it to HTTP). */
export class PoolError extends ZkinferError {
  override name = 'PoolError';
  readonly poolCode: PoolErrorCode;
  constructor(code: PoolErrorCode, message: string, cause?: unknown) {
    super('IO', message, { cause });
    this.poolCode = code;
  }
}

export interface PoolOptions {
  /** Worker threads (default: one per core). */
  readonly workers?: number;
  /** Jobs that may wait beyond the running ones; a full queue refuses at once. */
  readonly maxQueue?: number;
  /** Initial estimate of one proof's duration, refined from measurements. */
  readonly initialProveMs?: number;
  /** Proving engine of every worker (default native-cache). */
  readonly engine?: EngineName;
  /** native-cache: bytes of precomputed tables per model and worker. */
  readonly tableBudgetBytes?: number;
  /** Models each worker keeps warm. */
  readonly maxModels?: number;
}

/**
 * piscina pool of Groth16 provers (one engine per worker thread). Refuses work it cannot finish
 * before the job's deadline instead of queueing past it; a crashed worker fails only its own job
 * (piscina replaces the worker, which prepares its models again on first use).
 */
export class ProvingPool {
  readonly workers: number;
  readonly maxQueue: number;
  readonly engine: EngineName;
  private readonly piscina: Piscina;
  private avgMs: number;
  private running = 0;
  private closed = false;

  constructor(options: PoolOptions = {}) {
    this.workers = options.workers ?? availableParallelism();
    this.maxQueue = options.maxQueue ?? 2 * this.workers;
    this.avgMs = options.initialProveMs ?? 1000;
    this.engine = options.engine ?? DEFAULT_ENGINE;
    const workerData: WorkerSettings = {
      engine: this.engine,
      maxModels: options.maxModels ?? 4,
      ...(options.tableBudgetBytes === undefined ? {} : { tableBudgetBytes: options.tableBudgetBytes }),
    };
    this.piscina = new Piscina({
      workerData,
      filename: new URL('./worker.mjs', import.meta.url).href,
      minThreads: this.workers,
      maxThreads: this.workers,
      maxQueue: this.maxQueue,
      concurrentTasksPerWorker: 1,
      idleTimeout: Number.POSITIVE_INFINITY,
    });
  }

  /** Jobs waiting for a worker. */
  get queueDepth(): number {
    return this.piscina.queueSize;
  }

  /** Jobs being proved right now. */
  get inFlight(): number {
    return this.running;
  }

  /** Expected time until a job submitted now is done. */
  estimateMs(): number {
    const ahead = this.running + this.piscina.queueSize;
    return (Math.floor(ahead / this.workers) + 1) * this.avgMs;
  }

  async prove(
    job: Omit<ProveJob, 'enqueuedAt'>,
    options: { deadlineMs: number; signal?: AbortSignal },
  ): Promise<ProveJobResult> {
    if (this.closed) throw new PoolError('POOL_CLOSED', 'the proving pool is shutting down');
    if (this.piscina.queueSize >= this.maxQueue) {
      throw new PoolError('QUEUE_FULL', `the proving queue is full (${this.maxQueue} waiting)`);
    }
    const estimate = this.estimateMs();
    if (estimate > options.deadlineMs) {
      throw new PoolError(
        'DEADLINE_UNMEETABLE',
        `busy: a proof now would take ~${Math.round(estimate)} ms, the deadline is ${options.deadlineMs} ms`,
      );
    }
    const timeout = AbortSignal.timeout(options.deadlineMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    this.running++;
    try {
      const result = (await this.piscina.run(
        { ...job, enqueuedAt: performance.timeOrigin + performance.now() },
        { signal },
      )) as ProveJobResult;
      const spent = result.timings.witnessMs + result.timings.proveMs;
      this.avgMs = 0.8 * this.avgMs + 0.2 * spent;
      return result;
    } catch (cause) {
      if (timeout.aborted)
        throw new PoolError(
          'DEADLINE_EXCEEDED',
          `the proof did not finish within ${options.deadlineMs} ms`,
          cause,
        );
      if (options.signal?.aborted) throw new PoolError('DEADLINE_EXCEEDED', 'the job was cancelled', cause);
      throw new PoolError('WORKER_FAILED', `the proving worker failed: ${(cause as Error).message}`, cause);
    } finally {
      this.running--;
    }
  }

  /**
   * Prepares each model in every worker before traffic arrives (the native-cache engine builds its
   * tables once per model and worker; a sample input also builds the tables that depend on which
   * signals are full-size). Returns the slowest worker's milliseconds per model.
   */
  async warm(
    models: readonly { wasmPath: string; zkeyPath: string; sampleInput?: ProveJob['circuitInput'] }[],
  ): Promise<number[]> {
    const out: number[] = [];
    for (const m of models) {
      // One job per worker: each blocks its worker while it prepares, so every worker gets one.
      const jobs = Array.from(
        { length: this.workers },
        () =>
          this.piscina.run({
            ...m,
            circuitInput: {},
            warmOnly: true,
            enqueuedAt: performance.timeOrigin + performance.now(),
          } satisfies ProveJob) as Promise<WarmJobResult>,
      );
      const done = await Promise.all(jobs).catch((cause: unknown) => {
        throw new PoolError(
          'WORKER_FAILED',
          `preparing ${m.zkeyPath} failed: ${(cause as Error).message}`,
          cause,
        );
      });
      out.push(Math.max(...done.map((d) => d.warmMs)));
    }
    return out;
  }

  /** Stops taking jobs, lets running ones finish, then ends the workers. */
  async close(): Promise<void> {
    this.closed = true;
    await this.piscina.close();
  }
}
