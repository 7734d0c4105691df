import { availableParallelism, hostname } from 'node:os';
import { ConfigReader } from '../../protocol/configReader.ts';
import { DEFAULT_ENGINE, ENGINES, type EngineName } from '../engine/engines.ts';
import { fleetNames, redisOptions } from './fleetNames.ts';

/** `zkinfer prover-node --config node.json`: one machine's share of a miner's fleet. */
export interface NodeConfig {
  /** redis://host:6379 — the fleet's Redis, the same URL the miner's `redis` key names. */
  readonly redis: string;
  /** The fleet (the miner's `fleet` key): its jobs, nodes and model table live under this name. */
  readonly fleet: string;
  /** How this node appears in `zkinfer fleet status` and on the metrics (default host-pid). */
  readonly nodeId: string;
  /** Artifact directories (compiled and set up): the node takes jobs for these circuits only. */
  readonly models: readonly string[];
  readonly workers: number;
  readonly engine: EngineName;
  readonly engineTableBudgetMB: number;
  /** Where /metrics and /health are served (loopback and a free port by default). */
  readonly host: string;
  readonly port: number;
  /**
   * A job's lock: renewed every half of it while the node proves; a node that stops renewing (killed,
   * frozen, cut off) loses the job to the next stalled check, which puts it back for another node.
   */
  readonly lockDurationMs: number;
  /** How often this node looks for jobs whose node stopped renewing their lock. */
  readonly stalledIntervalMs: number;
  /** The node's record is refreshed this often and expires after three missed beats. */
  readonly heartbeatMs: number;
  /** Seconds to let jobs in flight finish on SIGTERM. */
  readonly shutdownGraceSeconds: number;
}

const KEYS = [
  'redis',
  'fleet',
  'nodeId',
  'models',
  'workers',
  'engine',
  'engineTableBudgetMB',
  'host',
  'port',
  'lockDurationMs',
  'stalledIntervalMs',
  'heartbeatMs',
  'shutdownGraceSeconds',
] as const;

/** Validates a prover node config over defaults; a bad value names its key and why. */
export function parseNodeConfig(raw: unknown): Readonly<NodeConfig> {
  const c = new ConfigReader('prover node', raw, KEYS);
  const redis = c.string('redis');
  redisOptions(redis); // a malformed URL fails here, naming it
  const fleet = c.string('fleet', 'default');
  fleetNames(fleet);
  const engine = (c.value('engine') ?? DEFAULT_ENGINE) as EngineName;
  if (!ENGINES.includes(engine)) throw c.error('engine', `must be one of ${ENGINES.join(', ')}`, engine);
  const nodeId = c.string('nodeId', `${hostname()}-${process.pid}`);
  if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(nodeId))
    throw c.error('nodeId', 'must be 1-128 letters, digits, "_", ".", ":" or "-"', nodeId);
  const lockDurationMs = c.int('lockDurationMs', 4000, 500);
  return Object.freeze({
    redis,
    fleet,
    nodeId,
    models: c.strings('models', undefined, 'artifact directories', true),
    workers: c.int('workers', availableParallelism(), 1),
    engine,
    engineTableBudgetMB: c.int('engineTableBudgetMB', 256, 0, 4096),
    host: c.string('host', '127.0.0.1'),
    port: c.int('port', 0, 0, 65535),
    lockDurationMs,
    stalledIntervalMs: c.int('stalledIntervalMs', Math.max(250, Math.floor(lockDurationMs / 2)), 100),
    heartbeatMs: c.int('heartbeatMs', 1000, 100),
    shutdownGraceSeconds: c.int('shutdownGraceSeconds', 30, 0),
  });
}
