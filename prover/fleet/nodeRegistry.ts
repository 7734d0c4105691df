import type { Redis } from 'ioredis';
import type { EngineName } from '../engine/engines.ts';
import type { FleetNames } from './fleetNames.ts';

/** A circuit a node holds warm: its name (from the manifest) and its modelId (the set-up's hash). */
export interface FleetModel {
  readonly name: string;
  readonly modelId: string;
}

/** What a prover node publishes about itself on every heartbeat. */
export interface NodeRecord {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly engine: EngineName;
  readonly workers: number;
  readonly models: readonly FleetModel[];
  readonly inFlight: number;
  readonly proofs: number;
  readonly failures: number;
  /** Mean witness + prove milliseconds of this node's recent proofs (0 before the first). */
  readonly avgProveMs: number;
  /** Epoch milliseconds. */
  readonly startedAt: number;
  /** The node's /metrics endpoint, when it serves one. */
  readonly metricsUrl?: string;
}

/**
 * Publishes a node's record. The record expires `ttlMs` after the last heartbeat, so a node that
 * dies (SIGKILL, power loss) leaves the fleet's capacity within that time; expiry is Redis's own
 * clock, so the machines' clocks need not agree.
 */
export async function writeNode(
  redis: Redis,
  names: FleetNames,
  node: NodeRecord,
  ttlMs: number,
): Promise<void> {
  await redis
    .multi()
    .set(names.nodeKey(node.id), JSON.stringify(node), 'PX', ttlMs)
    .sadd(names.nodeSet, node.id)
    .exec();
}

export async function removeNode(redis: Redis, names: FleetNames, id: string): Promise<void> {
  await redis.multi().del(names.nodeKey(id)).srem(names.nodeSet, id).exec();
}

/** The live nodes; ids whose record has expired are pruned from the set. */
export async function readNodes(redis: Redis, names: FleetNames): Promise<NodeRecord[]> {
  const ids = await redis.smembers(names.nodeSet);
  if (ids.length === 0) return [];
  const records = await redis.mget(ids.map((id) => names.nodeKey(id)));
  const gone = ids.filter((_, i) => records[i] === null);
  if (gone.length > 0) await redis.srem(names.nodeSet, ...gone);
  return records
    .filter((r): r is string => r !== null)
    .map((r) => JSON.parse(r) as NodeRecord)
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** Replaces the fleet's model table with the axon's models (name → modelId). */
export async function publishModels(
  redis: Redis,
  names: FleetNames,
  models: readonly FleetModel[],
): Promise<void> {
  const m = redis.multi().del(names.modelTable);
  if (models.length > 0) m.hset(names.modelTable, Object.fromEntries(models.map((x) => [x.name, x.modelId])));
  await m.exec();
}

export async function readModelTable(redis: Redis, names: FleetNames): Promise<Record<string, string>> {
  return redis.hgetall(names.modelTable);
}

/** A node's model that the fleet knows under the same name with another modelId (a different zkey). */
export interface ModelConflict {
  readonly name: string;
  readonly nodeModelId: string;
  readonly fleetModelId: string;
}

/** The node's models that contradict the fleet's table. Names the table does not hold are no conflict. */
export function modelConflicts(
  table: Readonly<Record<string, string>>,
  mine: readonly FleetModel[],
): ModelConflict[] {
  return mine.flatMap((m) => {
    const fleetModelId = Object.hasOwn(table, m.name) ? table[m.name] : undefined;
    return fleetModelId !== undefined && fleetModelId !== m.modelId
      ? [{ name: m.name, nodeModelId: m.modelId, fleetModelId }]
      : [];
  });
}

/** The fleet's live capacity: all workers, and the workers that hold each circuit. */
export interface FleetCapacity {
  readonly nodes: number;
  readonly workers: number;
  readonly workersByModel: ReadonlyMap<string, number>;
  /** Mean proof time over the nodes that have proved (0 when none has). */
  readonly avgProveMs: number;
}

export function fleetCapacity(nodes: readonly NodeRecord[]): FleetCapacity {
  const workersByModel = new Map<string, number>();
  let workers = 0;
  for (const n of nodes) {
    workers += n.workers;
    for (const m of n.models) workersByModel.set(m.modelId, (workersByModel.get(m.modelId) ?? 0) + n.workers);
  }
  const proved = nodes.filter((n) => n.avgProveMs > 0);
  const avgProveMs = proved.length ? proved.reduce((s, n) => s + n.avgProveMs, 0) / proved.length : 0;
  return { nodes: nodes.length, workers, workersByModel, avgProveMs };
}
