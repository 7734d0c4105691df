import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { ZkinferError } from '../../protocol/errors.ts';
import type { Groth16Proof } from '../engine/cachedProver.ts';
import {
  type CostProfile,
  MIN_SHARED_DOMAIN,
  type PartResult,
  type PartTask,
  planShare,
  proveCooperatively,
} from '../engine/cooperative.ts';
import { DEFAULT_ENGINE, type EngineName } from '../engine/engines.ts';
import type { Prover } from '../prover.ts';
import { AdmissionQueue } from './admissionQueue.ts';
import type {
  ProveJob,
  ProveJobResult,
  WarmJobResult,
  WitnessPartResult,
  WorkerSettings,
} from './messages.ts';

export type PoolErrorCode =
  | 'QUEUE_FULL'
  | 'DEADLINE_UNMEETABLE'
  | 'DEADLINE_EXCEEDED'
  | 'WORKER_FAILED'
  | 'POOL_CLOSED'
  /** Fleet mode: the fleet's Redis is unreachable, or no live node holds the circuit. */
  | 'FLEET_UNAVAILABLE';

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
  /**
   * native-cache: a job that finds two or more workers idle and nothing waiting is proved by all
   * of them together (engine/cooperative.ts), for lower latency (default true).
   */
  readonly cooperative?: boolean;
}

/** How a job is admitted: its deadline, a cancellation signal, and its priority (the caller's stake). */
export interface ProveOptions {
  readonly deadlineMs: number;
  readonly signal?: AbortSignal;
  /** Higher goes first and may displace lower-priority waiting jobs when the queue is full (default 0). */
  readonly priority?: number;
}

interface Pending {
  readonly job: Omit<ProveJob, 'enqueuedAt'>;
  readonly options: ProveOptions;
  readonly timeout: AbortSignal;
  readonly signal: AbortSignal;
  readonly resolve: (r: ProveJobResult) => void;
  readonly reject: (e: PoolError) => void;
}

/**
 * piscina pool of Groth16 provers (one engine per worker thread). Jobs wait in the pool's own
 * priority queue (AdmissionQueue) and go to piscina only when a worker is free, so the order of
 * work and who is displaced when the queue is full follow the callers' stake. Refuses work it
 * cannot finish before the job's deadline instead of queueing past it; a crashed worker fails only
 * its own job (piscina replaces the worker, which prepares its models again on first use).
 */
export class ProvingPool implements Prover {
  readonly workers: number;
  readonly maxQueue: number;
  readonly engine: EngineName;
  private readonly piscina: Piscina;
  private readonly waiting: AdmissionQueue<Pending>;
  private avgMs: number;
  /** Worker slots taken (a shared proof takes several). */
  private running = 0;
  /** Jobs being proved (a shared proof is one). */
  private jobsRunning = 0;
  /** Jobs that found a worker free, started together at the end of the current tick. */
  private incoming: Pending[] = [];
  private readonly cooperative: boolean;
  /** Domain size of each proving key seen in a shared proof: small ones are not shared again. */
  private readonly domains = new Map<string, number>();
  /** What each proving key's last shared proof cost, part by part: the next one is planned by it. */
  private readonly costs = new Map<string, CostProfile>();
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(options: PoolOptions = {}) {
    this.workers = options.workers ?? availableParallelism();
    this.maxQueue = options.maxQueue ?? 2 * this.workers;
    this.waiting = new AdmissionQueue(this.maxQueue);
    this.avgMs = options.initialProveMs ?? 1000;
    this.engine = options.engine ?? DEFAULT_ENGINE;
    this.cooperative = (options.cooperative ?? true) && this.engine === 'native-cache';
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
      concurrentTasksPerWorker: 1,
      idleTimeout: Number.POSITIVE_INFINITY,
    });
  }

  /** Jobs waiting for a worker. */
  get queueDepth(): number {
    return this.waiting.size;
  }

  /** Jobs being proved right now. */
  get inFlight(): number {
    return this.jobsRunning;
  }

  /** Expected time until a job of this priority submitted now is done (only equal or higher priorities go first). */
  estimateMs(priority = 0): number {
    const ahead = this.running + this.incoming.length + this.waiting.aheadOf(priority);
    return (Math.floor(ahead / this.workers) + 1) * this.avgMs;
  }

  workersFor(): number {
    return this.workers;
  }

  refusal(): string | null {
    return this.closed ? 'the proving pool is shutting down' : null;
  }

  prove(job: Omit<ProveJob, 'enqueuedAt'>, options: ProveOptions): Promise<ProveJobResult> {
    if (this.closed) return Promise.reject(new PoolError('POOL_CLOSED', 'the proving pool is shutting down'));
    const priority = options.priority ?? 0;
    const estimate = this.estimateMs(priority);
    if (estimate > options.deadlineMs) {
      return Promise.reject(
        new PoolError(
          'DEADLINE_UNMEETABLE',
          `busy: a proof now would take ~${Math.round(estimate)} ms, the deadline is ${options.deadlineMs} ms`,
        ),
      );
    }
    return new Promise<ProveJobResult>((resolve, reject) => {
      const timeout = AbortSignal.timeout(options.deadlineMs);
      const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
      const p: Pending = { job, options, timeout, signal, resolve, reject };
      if (this.running + this.incoming.length < this.workers) {
        // started at the end of this tick: jobs submitted together (a sliced request's slices)
        // each get a worker instead of the first taking all of them
        if (this.incoming.push(p) === 1) queueMicrotask(() => this.startIncoming());
        return;
      }
      const admitted = this.waiting.offer(p, priority);
      if (!admitted.admitted) {
        return reject(new PoolError('QUEUE_FULL', `the proving queue is full (${this.maxQueue} waiting)`));
      }
      admitted.displaced?.reject(
        new PoolError(
          'QUEUE_FULL',
          'the proving queue is full: this job was displaced by one from a caller with more stake',
        ),
      );
      // a job that expires or is cancelled while waiting leaves the queue at once
      signal.addEventListener(
        'abort',
        () => {
          if (this.waiting.remove(p)) {
            p.reject(this.abortError(p));
            this.settle();
          }
        },
        { once: true },
      );
    });
  }

  private startIncoming(): void {
    const ready = this.incoming.splice(0);
    const alone = ready.length === 1 && this.waiting.size === 0;
    for (const p of ready) {
      if (p.signal.aborted) {
        p.reject(this.abortError(p));
        continue;
      }
      const idle = this.workers - this.running;
      if (alone && this.shares(p, idle)) this.startShared(p, idle);
      else this.start(p);
    }
    this.settle();
  }

  /** Whether a job with `idle` workers free is shared among them. */
  private shares(p: Pending, idle: number): boolean {
    if (!this.cooperative || idle < 2 || p.job.warmOnly) return false;
    return (this.domains.get(p.job.zkeyPath) ?? MIN_SHARED_DOMAIN) >= MIN_SHARED_DOMAIN;
  }

  /**
   * One proof on `k` workers: the witness on one, then the parts (engine/cooperative.ts) on all.
   * It holds k slots until it ends; a part that fails (a worker dying) fails only this proof.
   * Its time does not refine the per-proof estimate, which is for one worker per proof (the
   * pool's mode under load, where refusals depend on it).
   */
  private startShared(p: Pending, k: number): void {
    this.running += k;
    this.jobsRunning++;
    const enqueuedAt = performance.timeOrigin + performance.now();
    const run = <T>(part: NonNullable<ProveJob['part']>) =>
      this.piscina.run({ ...p.job, part, enqueuedAt } satisfies ProveJob, { signal: p.signal }) as Promise<T>;
    const t0 = performance.now();
    (async (): Promise<ProveJobResult> => {
      const w = await run<WitnessPartResult>({ kind: 'witness' });
      const t1 = performance.now();
      this.domains.set(p.job.zkeyPath, w.domainSize);
      const small = w.domainSize < MIN_SHARED_DOMAIN;
      const proof = small
        ? (await run<{ proof: Groth16Proof }>({ kind: 'whole', witness: w.witness })).proof
        : await this.shareProof(p.job.zkeyPath, w, k, (task) => run<PartResult>(task));
      return {
        proof,
        publicSignals: w.publicSignals,
        engine: this.engine,
        timings: {
          queueMs: 0,
          witnessMs: Math.round(t1 - t0),
          proveMs: Math.round(performance.now() - t1),
        },
        threadId: w.threadId,
        ...(small ? {} : { cooperative: k }),
      };
    })()
      .then(p.resolve, (cause: unknown) => p.reject(this.failure(p, cause)))
      .finally(() => {
        this.running -= k;
        this.jobsRunning--;
        this.settle();
      });
  }

  /** One proof's parts on k workers, planned by what the model's last shared proof measured. */
  private async shareProof(
    zkeyPath: string,
    w: WitnessPartResult,
    k: number,
    run: (task: PartTask) => Promise<PartResult>,
  ): Promise<Groth16Proof> {
    const previous = this.costs.get(zkeyPath);
    const plan = planShare(w.domainSize, k, previous);
    const { proof, costs } = await proveCooperatively(run, w.witness, w.domainSize, plan, previous);
    this.costs.set(zkeyPath, costs);
    return proof;
  }

  private failure(p: Pending, cause: unknown): PoolError {
    return p.signal.aborted
      ? this.abortError(p, cause)
      : new PoolError('WORKER_FAILED', `the proving worker failed: ${(cause as Error).message}`, cause);
  }

  private start(p: Pending): void {
    this.running++;
    this.jobsRunning++;
    (
      this.piscina.run(
        { ...p.job, enqueuedAt: performance.timeOrigin + performance.now() },
        { signal: p.signal },
      ) as Promise<ProveJobResult>
    )
      .then(
        (result) => {
          const spent = result.timings.witnessMs + result.timings.proveMs;
          this.avgMs = 0.8 * this.avgMs + 0.2 * spent;
          p.resolve(result);
        },
        (cause: unknown) => p.reject(this.failure(p, cause)),
      )
      .finally(() => {
        this.running--;
        this.jobsRunning--;
        this.settle();
      });
  }

  /** Hands free workers the next waiting jobs; wakes close() once nothing is left. */
  private settle(): void {
    while (this.running + this.incoming.length < this.workers) {
      const next = this.waiting.take();
      if (!next) break;
      const idle = this.workers - this.running - this.incoming.length;
      if (this.waiting.size === 0 && this.shares(next, idle)) this.startShared(next, idle);
      else this.start(next);
    }
    if (this.running === 0 && this.waiting.size === 0 && this.incoming.length === 0)
      for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private abortError(p: Pending, cause?: unknown): PoolError {
    return p.timeout.aborted
      ? new PoolError(
          'DEADLINE_EXCEEDED',
          `the proof did not finish within ${p.options.deadlineMs} ms`,
          cause,
        )
      : new PoolError('DEADLINE_EXCEEDED', 'the job was cancelled', cause);
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

  /** Stops taking jobs, lets running and waiting ones finish, then ends the workers. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.running > 0 || this.waiting.size > 0 || this.incoming.length > 0)
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.piscina.close();
  }
}
