import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import { Metrics } from '../../protocol/metrics.ts';
import { PoolError, ProvingPool } from '../pool/provingPool.ts';
import { circuitsOf, loadServedModels, modelNames, type ServedCircuit, warmJob } from '../servedModels.ts';
import { closeClients } from './closeClients.ts';
import { FleetError } from './fleetError.ts';
import { type FleetJobData, type FleetJobResult, failureReason } from './fleetJob.ts';
import { fleetNames, redactRedisUrl, redisOptions } from './fleetNames.ts';
import { connectFleetRedis } from './fleetRedis.ts';
import type { NodeConfig } from './nodeConfig.ts';
import { modelConflicts, type NodeRecord, readModelTable, removeNode, writeNode } from './nodeRegistry.ts';

export interface RunningNode {
  readonly id: string;
  /** Where /metrics and /health are served. */
  readonly url: string;
  readonly models: readonly string[];
  /** Graceful: take no new job, let jobs in flight finish (up to the grace period), leave the fleet. */
  close(): Promise<void>;
}

type Logger = (e: Record<string, unknown>) => void;

/** A job for a circuit this node does not hold goes back to the queue for one that does, this much later. */
const BOUNCE_MS = 100;

/**
 * Starts a prover node: checks its models against the fleet's model table (a model the fleet knows
 * under another modelId is refused before anything is warmed), warms a proving pool, then takes
 * jobs from the fleet's queue, as many at once as it has workers. A job whose deadline has passed is
 * dropped unproven; one it cannot finish in time is refused with the reason, not started.
 */
export async function startProverNode(config: NodeConfig, log: Logger = () => {}): Promise<RunningNode> {
  const served = await loadServedModels(config.models);
  const circuits = new Map(circuitsOf(served).map((c) => [c.modelId, c]));
  const models = modelNames(served);
  const names = fleetNames(config.fleet);
  const connection = redisOptions(config.redis);
  const where = redactRedisUrl(config.redis);
  const redis = await connectFleetRedis(config.redis);
  try {
    const conflicts = modelConflicts(await readModelTable(redis, names), models);
    if (conflicts.length > 0)
      throw new FleetError(
        'MODEL_MISMATCH',
        `refused by fleet "${config.fleet}": ${conflicts
          .map(
            (c) =>
              `model "${c.name}" is ${c.nodeModelId} here but ${c.fleetModelId} in the fleet (a different proving key)`,
          )
          .join('; ')}`,
      );
  } catch (e) {
    redis.disconnect();
    throw e;
  }

  const pool = new ProvingPool({
    workers: config.workers,
    maxQueue: config.workers,
    engine: config.engine,
    tableBudgetBytes: config.engineTableBudgetMB * 2 ** 20,
  });
  try {
    const warmMs = await pool.warm([...circuits.values()].map(warmJob));
    log({ msg: 'models warm', engine: pool.engine, workers: pool.workers, warmMs });
  } catch (e) {
    await pool.close();
    redis.disconnect();
    throw e;
  }

  const metrics = new Metrics();
  const proofs = metrics.counter('zkinfer_node_proofs_total', 'Proofs made, by model');
  const failures = metrics.counter('zkinfer_node_failures_total', 'Jobs that produced no proof, by cause');
  const jobMs = metrics.histogram(
    'zkinfer_node_job_ms',
    'Witness + prove time per job',
    [100, 250, 500, 1000, 2000, 4000, 8000, 16000],
  );
  const waitMs = metrics.histogram(
    'zkinfer_node_queue_wait_ms',
    'Enqueued at the axon to started here',
    [5, 10, 25, 50, 100, 250, 1000, 4000],
  );
  metrics.gauge('zkinfer_node_in_flight', 'Jobs this node holds', () => active);
  metrics.gauge('zkinfer_node_workers', 'Proving workers', () => pool.workers);
  metrics.gauge('zkinfer_node_redis_up', 'Whether the fleet Redis answers (1) or not (0)', () =>
    redisUp ? 1 : 0,
  );
  let active = 0; // jobs this node holds (their lock), proving or about to
  let proved = 0;
  let failed = 0;
  let avgProveMs = 0;
  // test builds only: while this file exists the node holds the jobs it took, before proving them
  const holdFile =
    process.env['ZKINFER_TEST_HOOKS'] === '1' ? process.env['ZKINFER_TEST_NODE_HOLD_FILE'] : undefined;

  const processJob = async (
    job: Job<FleetJobData, FleetJobResult>,
    token?: string,
  ): Promise<FleetJobResult> => {
    const c = circuits.get(job.data.modelId);
    if (!c) {
      failures({ cause: 'not held here' });
      await job.moveToDelayed(Date.now() + BOUNCE_MS, token);
      throw new DelayedError();
    }
    active++;
    try {
      return await proveJob(job, c);
    } finally {
      active--;
    }
  };

  const proveJob = async (
    job: Job<FleetJobData, FleetJobResult>,
    c: ServedCircuit,
  ): Promise<FleetJobResult> => {
    waitMs(Math.max(0, Date.now() - job.timestamp));
    const remaining = job.data.deadlineAt - Date.now();
    if (remaining <= 0) {
      failures({ cause: 'expired' });
      throw new UnrecoverableError(
        failureReason(
          'EXPIRED',
          `node ${config.nodeId}: the deadline passed ${-remaining} ms before the job reached a node; dropped unproven`,
        ),
      );
    }
    while (holdFile && existsSync(holdFile)) await new Promise((r) => setTimeout(r, 20));
    try {
      const r = await pool.prove(
        { wasmPath: c.wasmPath, zkeyPath: c.zkeyPath, circuitInput: job.data.circuitInput },
        { deadlineMs: job.data.deadlineAt - Date.now() },
      );
      const ms = r.timings.witnessMs + r.timings.proveMs;
      avgProveMs = avgProveMs ? 0.8 * avgProveMs + 0.2 * ms : ms;
      proved++;
      proofs({ model: c.name });
      jobMs(ms);
      return { ...r, node: config.nodeId, retries: job.attemptsMade + job.stalledCounter };
    } catch (e) {
      failed++;
      if (!(e instanceof PoolError)) throw e;
      failures({ cause: e.poolCode.toLowerCase() });
      const reason = failureReason(e.poolCode, `node ${config.nodeId}: ${e.shortMessage}`);
      // a crashed worker is this node's failure: another attempt may succeed; the rest would fail anywhere
      if (e.poolCode === 'WORKER_FAILED') throw new Error(reason);
      throw new UnrecoverableError(reason);
    }
  };

  const worker = new Worker<FleetJobData, FleetJobResult>(names.queue, processJob, {
    prefix: names.prefix,
    connection: { ...connection, maxRetriesPerRequest: null },
    concurrency: config.workers,
    lockDuration: config.lockDurationMs,
    stalledInterval: config.stalledIntervalMs,
    // a job may lose two nodes and still be proved by a third
    maxStalledCount: 2,
    autorun: false,
  });
  worker.on('error', () => {}); // connection losses: BullMQ reconnects, the heartbeat reports them

  const startedAt = Date.now();
  let redisUp = true;
  let url = '';
  const record = (): NodeRecord => ({
    id: config.nodeId,
    host: hostname(),
    pid: process.pid,
    engine: pool.engine,
    workers: pool.workers,
    models,
    inFlight: active,
    proofs: proved,
    failures: failed,
    avgProveMs: Math.round(avgProveMs),
    startedAt,
    metricsUrl: `${url}/metrics`,
  });
  const beat = async () => {
    try {
      if (redis.status !== 'ready') throw new Error(`connection ${redis.status}`);
      await writeNode(redis, names, record(), 3 * config.heartbeatMs);
      if (!redisUp) log({ msg: 'fleet redis back' });
      redisUp = true;
    } catch (e) {
      if (redisUp) log({ msg: 'fleet redis lost', reason: (e as Error).message });
      redisUp = false;
    }
  };

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(metrics.render());
    } else if (req.method === 'GET' && path === '/health') {
      res.writeHead(redisUp ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: redisUp, ...record() }));
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `no route ${req.method} ${path}` }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  url = `http://${config.host}:${(server.address() as AddressInfo).port}`;

  await beat();
  const heartbeat = setInterval(() => void beat(), config.heartbeatMs);
  void worker.run().catch((e: unknown) => log({ msg: 'worker stopped', reason: (e as Error).message }));
  log({
    msg: 'joined',
    node: config.nodeId,
    fleet: config.fleet,
    redis: where,
    url,
    models: models.map((m) => m.name),
  });

  return {
    id: config.nodeId,
    url,
    models: models.map((m) => m.modelId),
    close: async () => {
      // no new jobs; jobs in flight finish within the grace period, or stall and go to another node
      // (with Redis gone nothing can be handed back: the connections are cut after the grace)
      await closeClients([worker], redisUp ? config.shutdownGraceSeconds * 1000 : 1000);
      clearInterval(heartbeat);
      await removeNode(redis, names, config.nodeId).catch(() => {});
      redis.disconnect();
      await pool.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
