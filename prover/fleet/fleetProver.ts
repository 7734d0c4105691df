import { type Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { Metrics } from '../../protocol/metrics.ts';
import type { ProveJobResult } from '../pool/messages.ts';
import { PoolError, type ProveOptions } from '../pool/provingPool.ts';
import type { ProofTask, Prover } from '../prover.ts';
import { closeClients } from './closeClients.ts';
import { type FleetJobData, type FleetJobResult, parseFailureReason, queuePriority } from './fleetJob.ts';
import { type FleetNames, fleetNames, redactRedisUrl, redisOptions } from './fleetNames.ts';
import {
  type FleetCapacity,
  type FleetModel,
  fleetCapacity,
  type NodeRecord,
  publishModels,
  readNodes,
} from './nodeRegistry.ts';

export interface FleetProverOptions {
  /** redis://host:6379 */
  readonly redis: string;
  readonly fleet: string;
  /** The circuits and models the axon serves: published as the fleet's model table. */
  readonly models: readonly FleetModel[];
  /** Jobs that may wait beyond the fleet's workers (default: two per live worker). */
  readonly maxQueue?: number;
  /** How often the node registry is read (and the model table re-published). */
  readonly refreshMs?: number;
  /** Attempts per job: a node's worker crash or a node lost mid-proof costs one. */
  readonly attempts?: number;
  readonly log?: (e: Record<string, unknown>) => void;
}

const NO_CAPACITY: FleetCapacity = { nodes: 0, workers: 0, workersByModel: new Map(), avgProveMs: 0 };

/**
 * The axon's side of a fleet: proofs go on a BullMQ queue in Redis as jobs carrying their deadline,
 * prover nodes take them, and results come back through the queue's event stream. Admission reads
 * the fleet's live capacity (the nodes' heartbeats, re-read every second): a circuit no live node
 * holds, a full fleet, or a deadline the fleet cannot meet is refused at once, as the embedded pool
 * refuses; while Redis is unreachable every new job is refused, and admission resumes by itself
 * when it is back. A job already queued waits for its proof until its deadline, never longer.
 */
export class FleetProver implements Prover {
  private readonly names: FleetNames;
  private readonly queue: Queue<FleetJobData, FleetJobResult>;
  private readonly events: QueueEvents;
  private readonly registry: Redis;
  private readonly timer: NodeJS.Timeout;
  private capacity: FleetCapacity = NO_CAPACITY;
  private nodes: readonly NodeRecord[] = [];
  private down: string | null = null;
  private outstanding = 0;
  private avgMs = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private onResult: (r: FleetJobResult, wallMs: number) => void = () => {};
  private onStalled: () => void = () => {};

  private constructor(private readonly options: FleetProverOptions) {
    this.names = fleetNames(options.fleet);
    const connection = redisOptions(options.redis);
    // fail fast while Redis is gone: a command must not wait in a client-side queue for it
    this.registry = new Redis({
      ...connection,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
    });
    this.registry.on('error', () => {}); // reported through refresh(); ioredis reconnects by itself
    this.queue = new Queue(this.names.queue, {
      prefix: this.names.prefix,
      connection: { ...connection, enableOfflineQueue: false, maxRetriesPerRequest: 1 },
    });
    this.queue.on('error', () => {});
    this.events = new QueueEvents(this.names.queue, {
      prefix: this.names.prefix,
      connection: { ...connection, maxRetriesPerRequest: null },
    });
    this.events.on('error', () => {});
    this.events.on('stalled', () => this.onStalled());
    this.timer = setInterval(() => void this.refresh(), options.refreshMs ?? 1000);
    this.timer.unref();
  }

  /** Connects to the fleet's Redis and publishes the model table; an unreachable Redis at start is an error. */
  static async connect(options: FleetProverOptions): Promise<FleetProver> {
    const p = new FleetProver(options);
    const where = redactRedisUrl(options.redis);
    try {
      await p.registry.connect();
      await Promise.all([p.queue.waitUntilReady(), p.events.waitUntilReady()]);
      await p.refresh();
      if (p.down) throw new Error(p.down);
    } catch (e) {
      await p.shut();
      throw new PoolError(
        'FLEET_UNAVAILABLE',
        `the fleet's Redis at ${where} is unreachable: ${(e as Error).message}`,
        e,
      );
    }
    return p;
  }

  get workers(): number {
    return this.capacity.workers;
  }
  get maxQueue(): number {
    return this.options.maxQueue ?? 2 * this.capacity.workers;
  }
  get queueDepth(): number {
    return Math.max(0, this.outstanding - this.capacity.workers);
  }
  get inFlight(): number {
    return Math.min(this.outstanding, this.capacity.workers);
  }
  /** The live nodes as of the last registry read. */
  get liveNodes(): readonly NodeRecord[] {
    return this.nodes;
  }

  /** Workers of live nodes that hold this circuit. */
  workersFor(modelId: string): number {
    return this.capacity.workersByModel.get(modelId) ?? 0;
  }

  refusal(modelId: string): string | null {
    if (this.closed) return 'the miner is shutting down';
    if (this.down) return this.down;
    if (this.workersFor(modelId) === 0)
      return `no live prover node of fleet "${this.options.fleet}" holds model ${modelId}`;
    return null;
  }

  /** Expected time until a job of this circuit submitted now is done, from the fleet's measured proofs. */
  estimateMs(modelId: string): number {
    const workers = Math.max(1, this.workersFor(modelId));
    const per = this.avgMs || this.capacity.avgProveMs;
    return (Math.floor(this.outstanding / workers) + 1) * per;
  }

  /** Registers the fleet's series on the miner's /metrics. */
  instrument(metrics: Metrics): void {
    metrics.gauge('zkinfer_fleet_nodes', 'Live prover nodes', () => this.capacity.nodes);
    metrics.gauge('zkinfer_fleet_redis_up', 'Whether the fleet Redis answers (1) or not (0)', () =>
      this.down ? 0 : 1,
    );
    const jobMs = metrics.histogram(
      'zkinfer_fleet_job_ms',
      'Enqueue to result, per job',
      [100, 250, 500, 1000, 2000, 4000, 8000, 16000],
    );
    const overheadMs = metrics.histogram(
      'zkinfer_fleet_queue_overhead_ms',
      'Per job: time not spent in witness or proof (queue, transport, waiting for a node)',
      [5, 10, 25, 50, 100, 250, 1000],
    );
    const byNode = metrics.counter('zkinfer_fleet_proofs_total', 'Proofs returned, by node');
    const retries = metrics.counter(
      'zkinfer_fleet_retries_total',
      'Job attempts repeated (worker crash, node lost)',
    );
    const stalled = metrics.counter(
      'zkinfer_fleet_stalled_total',
      'Jobs whose node stopped renewing its lock',
    );
    this.onResult = (r, wallMs) => {
      jobMs(wallMs);
      overheadMs(Math.max(0, wallMs - r.timings.witnessMs - r.timings.proveMs));
      byNode({ node: r.node });
      if (r.retries > 0) retries({}, r.retries);
    };
    this.onStalled = () => stalled();
  }

  async prove(task: ProofTask, options: ProveOptions): Promise<ProveJobResult> {
    const refused = this.refusal(task.modelId);
    if (refused) throw new PoolError('FLEET_UNAVAILABLE', refused);
    if (this.outstanding >= this.capacity.workers + this.maxQueue)
      throw new PoolError('QUEUE_FULL', `the fleet's queue is full (${this.maxQueue} waiting)`);
    const estimate = this.estimateMs(task.modelId);
    if (estimate > options.deadlineMs)
      throw new PoolError(
        'DEADLINE_UNMEETABLE',
        `busy: the fleet would take ~${Math.round(estimate)} ms, the deadline is ${options.deadlineMs} ms`,
      );
    const started = performance.now();
    const deadlineAt = Date.now() + options.deadlineMs;
    this.outstanding++;
    let job: Job<FleetJobData, FleetJobResult> | undefined;
    try {
      job = await this.queue.add(
        task.modelId,
        { modelId: task.modelId, circuitInput: task.circuitInput, deadlineAt },
        {
          priority: queuePriority(options.priority ?? 0),
          attempts: this.options.attempts ?? 3,
          removeOnComplete: { age: 600, count: 1000 },
          removeOnFail: { age: 3600, count: 1000 },
        },
      );
      const result = await this.wait(job, deadlineAt - Date.now(), options.signal);
      const wallMs = performance.now() - started;
      this.avgMs = this.avgMs ? 0.8 * this.avgMs + 0.2 * wallMs : wallMs;
      this.onResult(result, wallMs);
      return {
        proof: result.proof,
        publicSignals: result.publicSignals,
        engine: result.engine,
        threadId: result.threadId,
        timings: {
          // the whole wait the proof did not account for: the queue, transport, a retry
          queueMs: Math.max(0, wallMs - result.timings.witnessMs - result.timings.proveMs),
          witnessMs: result.timings.witnessMs,
          proveMs: result.timings.proveMs,
        },
      };
    } catch (e) {
      // nobody waits for it any more: a job still queued leaves the queue (one a node holds cannot
      // be removed, and the node drops it once its deadline passes)
      if (job) await job.remove().catch(() => {});
      if (e instanceof PoolError) throw e;
      if (job === undefined) {
        // Redis went away between two registry reads: refuse as the next read would
        this.markDown((e as Error).message);
        throw new PoolError('FLEET_UNAVAILABLE', this.down ?? (e as Error).message, e);
      }
      const { code, message } = parseFailureReason((e as Error).message);
      throw new PoolError(code, `fleet: ${message}`, e);
    } finally {
      this.outstanding--;
      if (this.outstanding === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** The job's result, or DEADLINE_EXCEEDED once its deadline passes or its caller leaves. */
  private wait(
    job: Job<FleetJobData, FleetJobResult>,
    ms: number,
    signal?: AbortSignal,
  ): Promise<FleetJobResult> {
    if (ms <= 0)
      return Promise.reject(new PoolError('DEADLINE_EXCEEDED', 'the deadline passed while queueing'));
    return new Promise<FleetJobResult>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new PoolError(
              'DEADLINE_EXCEEDED',
              `the fleet did not return the proof within ${Math.round(ms)} ms`,
            ),
          ),
        ms,
      );
      const onAbort = () => reject(new PoolError('DEADLINE_EXCEEDED', 'the job was cancelled'));
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) onAbort();
      // BullMQ's own timeout is a backstop a little later than ours
      job
        .waitUntilFinished(this.events, ms + 1000)
        .then(resolve, reject)
        .finally(() => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        });
    });
  }

  /** Reads the live nodes and re-publishes the model table (a restarted, emptied Redis gets it back). */
  private async refresh(): Promise<void> {
    try {
      if (this.registry.status !== 'ready') throw new Error(`connection ${this.registry.status}`);
      await publishModels(this.registry, this.names, this.options.models);
      this.nodes = await readNodes(this.registry, this.names);
      this.capacity = fleetCapacity(this.nodes);
      if (this.down) this.options.log?.({ msg: 'fleet redis back', nodes: this.capacity.nodes });
      this.down = null;
    } catch (e) {
      this.markDown((e as Error).message);
    }
  }

  private markDown(why: string): void {
    const reason = `the fleet's Redis at ${redactRedisUrl(this.options.redis)} is unreachable (${why})`;
    if (!this.down) this.options.log?.({ msg: 'fleet redis lost', reason });
    this.down = reason;
    this.capacity = NO_CAPACITY;
  }

  /** Stops taking jobs; waits for those in flight (each ends by its deadline), then disconnects. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.outstanding > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.shut();
  }

  private async shut(): Promise<void> {
    clearInterval(this.timer);
    await closeClients([this.queue, this.events], 2000);
    this.registry.disconnect();
  }
}
