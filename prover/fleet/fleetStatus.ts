import { Queue } from 'bullmq';
import { fleetNames, redactRedisUrl } from './fleetNames.ts';
import { connectFleetRedis } from './fleetRedis.ts';
import {
  type ModelConflict,
  modelConflicts,
  type NodeRecord,
  readModelTable,
  readNodes,
} from './nodeRegistry.ts';

export interface FleetStatus {
  readonly fleet: string;
  readonly redis: string;
  /** The axon's models (name → modelId), as it last published them. */
  readonly models: Readonly<Record<string, string>>;
  readonly nodes: readonly (NodeRecord & { readonly conflicts: readonly ModelConflict[] })[];
  readonly workers: number;
  readonly jobs: {
    readonly waiting: number;
    readonly active: number;
    readonly delayed: number;
    readonly failed: number;
    readonly completed: number;
  };
}

/** One read of a fleet: its live nodes (each checked against the model table) and its queue's counts. */
export async function readFleetStatus(redisUrl: string, fleet: string): Promise<FleetStatus> {
  const names = fleetNames(fleet);
  const where = redactRedisUrl(redisUrl);
  const redis = await connectFleetRedis(redisUrl, { reconnect: false });
  const queue = new Queue(names.queue, { prefix: names.prefix, connection: redis });
  try {
    const [models, nodes, counts] = await Promise.all([
      readModelTable(redis, names),
      readNodes(redis, names),
      queue.getJobCounts('wait', 'prioritized', 'active', 'delayed', 'failed', 'completed'),
    ]);
    return {
      fleet,
      redis: where,
      models,
      nodes: nodes.map((n) => ({ ...n, conflicts: modelConflicts(models, n.models) })),
      workers: nodes.reduce((s, n) => s + n.workers, 0),
      jobs: {
        waiting: (counts['wait'] ?? 0) + (counts['prioritized'] ?? 0),
        active: counts['active'] ?? 0,
        delayed: counts['delayed'] ?? 0,
        failed: counts['failed'] ?? 0,
        completed: counts['completed'] ?? 0,
      },
    };
  } finally {
    await queue.close();
    redis.disconnect();
  }
}
