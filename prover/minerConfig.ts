import { availableParallelism } from 'node:os';
import { ConfigReader } from '../protocol/configReader.ts';
import { DEFAULT_AXON_LIMITS } from './axon.ts';
import { DEFAULT_ENGINE, ENGINES, type EngineName } from './engine/engines.ts';
import { fleetNames, redisOptions } from './fleet/fleetNames.ts';

export interface MinerConfig {
  /** Loopback by default; the miner serves whoever can reach it. */
  readonly host: string;
  /** 0 picks a free port (printed at start-up). */
  readonly port: number;
  /** Hotkey: a dev URI/mnemonic, or a Bittensor hotkey file. */
  readonly hotkey: { readonly uri: string } | { readonly file: string };
  /** Artifact directories (compiled and set up) this miner proves for. */
  readonly models: readonly string[];
  readonly workers: number;
  /**
   * Jobs that may wait for a worker; beyond that the miner answers 503 at once. Default: two per
   * worker (in fleet mode, per live worker of the fleet).
   */
  readonly maxQueue: number | undefined;
  /**
   * Fleet mode: the Redis (redis://host:6379) whose queue the miner's proofs go on, for prover
   * nodes on any machine to take. Without it the miner proves in its own pool (`workers`, `engine`).
   */
  readonly redis: string | undefined;
  /** Fleet mode: the fleet's name, shared with its prover nodes (several fleets may share a Redis). */
  readonly fleet: string;
  readonly maxBodyBytes: number;
  /** Requests per minute per verified caller hotkey. */
  readonly rateLimitPerMinute: number;
  /** Open connections in total, and from one IP address (raise the latter behind a proxy). */
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  /** Time a client has to send its headers, and its whole request. */
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** When non-empty, only these hotkeys may call (403 otherwise). */
  readonly allowedHotkeys: readonly string[];
  /** Seconds to let in-flight proofs finish on shutdown. */
  readonly shutdownGraceSeconds: number;
  /**
   * For demos and tests of validators only: how this miner misbehaves. "honest" (default) proves
   * what is asked; the others are the cheats a validator must catch.
   */
  readonly demoBehavior: DemoBehavior;
  /** With demoBehavior "slow": extra milliseconds before answering. */
  readonly demoDelayMs: number;
  /**
   * When set, callers are checked against this subnet's metagraph (a local subtensor state file):
   * they must be registered, hold a validator permit and at least `minValidatorStake`.
   */
  readonly subtensorState: string | undefined;
  /**
   * Or a real chain (finney, test, local or a ws(s):// URL) and the subnet's netuid: callers are
   * checked against that subnet's metagraph, read from the chain.
   */
  readonly network: string | undefined;
  readonly netuid: number | undefined;
  /** With network: the public URL (http://IP:port) announced on chain with serve_axon at start. */
  readonly announce: string | undefined;
  readonly minValidatorStake: number;
  /** Proving engine: "native-cache" (default, warm prepared keys) or "snarkjs" (the reference). */
  readonly engine: EngineName;
  /** native-cache: MiB of precomputed tables per model and worker (also bounds per-proof scratch). */
  readonly engineTableBudgetMB: number;
}

export const DEMO_BEHAVIORS = ['honest', 'slow', 'wrongInput', 'replay', 'stealBinding', 'garbage'] as const;
export type DemoBehavior = (typeof DEMO_BEHAVIORS)[number];

const DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 8091,
  workers: availableParallelism(),
  maxBodyBytes: 1_048_576,
  rateLimitPerMinute: 600,
  allowedHotkeys: [] as string[],
  shutdownGraceSeconds: 30,
});

const MINER_KEYS = [
  'host',
  'port',
  'hotkey',
  'models',
  'workers',
  'maxQueue',
  'redis',
  'fleet',
  'maxBodyBytes',
  'rateLimitPerMinute',
  'maxConnections',
  'maxConnectionsPerIp',
  'headersTimeoutMs',
  'requestTimeoutMs',
  'allowedHotkeys',
  'shutdownGraceSeconds',
  'demoBehavior',
  'demoDelayMs',
  'subtensorState',
  'network',
  'netuid',
  'announce',
  'minValidatorStake',
  'engine',
  'engineTableBudgetMB',
] as const;

/** Validates a miner config (parsed JSON) over frozen defaults; a bad value names its key and why. */
export function parseMinerConfig(raw: unknown): Readonly<MinerConfig> {
  const c = new ConfigReader('miner', raw, MINER_KEYS);
  const workers = c.int('workers', DEFAULTS.workers, 1);
  const demoBehavior = (c.value('demoBehavior') ?? 'honest') as DemoBehavior;
  const engine = (c.value('engine') ?? DEFAULT_ENGINE) as EngineName;
  if (!ENGINES.includes(engine)) throw c.error('engine', `must be one of ${ENGINES.join(', ')}`, engine);
  if (!DEMO_BEHAVIORS.includes(demoBehavior))
    throw c.error('demoBehavior', `must be one of ${DEMO_BEHAVIORS.join(', ')}`, demoBehavior);
  const subtensorState = c.optionalString('subtensorState');
  const network = c.optionalString('network');
  if (subtensorState !== undefined && network !== undefined)
    throw c.error('network', 'cannot be given with subtensorState (one metagraph source)', network);
  if (network !== undefined && !c.has('netuid'))
    throw c.error('netuid', 'is required with network', undefined);
  const announce = c.optionalString('announce');
  if (announce !== undefined && network === undefined)
    throw c.error('announce', 'needs network (the chain to announce the axon on)', announce);
  const redis = c.optionalString('redis');
  if (redis !== undefined) redisOptions(redis); // a malformed URL fails here, naming it
  const fleet = c.string('fleet', 'default');
  fleetNames(fleet);
  const headersTimeoutMs = c.int('headersTimeoutMs', DEFAULT_AXON_LIMITS.headersTimeoutMs, 100);
  const requestTimeoutMs = c.int('requestTimeoutMs', DEFAULT_AXON_LIMITS.requestTimeoutMs, 100);
  // Node refuses a header timeout longer than the request's
  if (headersTimeoutMs > requestTimeoutMs)
    throw c.error(
      'headersTimeoutMs',
      `must not exceed requestTimeoutMs (${requestTimeoutMs})`,
      headersTimeoutMs,
    );
  return Object.freeze({
    host: c.string('host', DEFAULTS.host),
    port: c.int('port', DEFAULTS.port, 0, 65535),
    hotkey: c.hotkey(),
    models: c.strings('models', undefined, 'artifact directories', true),
    workers,
    maxQueue: c.has('maxQueue') ? c.int('maxQueue', 0, 1) : undefined,
    redis,
    fleet,
    maxBodyBytes: c.int('maxBodyBytes', DEFAULTS.maxBodyBytes, 1),
    rateLimitPerMinute: c.int('rateLimitPerMinute', DEFAULTS.rateLimitPerMinute, 1),
    maxConnections: c.int('maxConnections', DEFAULT_AXON_LIMITS.maxConnections, 1),
    maxConnectionsPerIp: c.int('maxConnectionsPerIp', DEFAULT_AXON_LIMITS.maxConnectionsPerIp, 1),
    headersTimeoutMs,
    requestTimeoutMs,
    allowedHotkeys: c.strings('allowedHotkeys', DEFAULTS.allowedHotkeys, 'ss58 addresses'),
    shutdownGraceSeconds: c.int('shutdownGraceSeconds', DEFAULTS.shutdownGraceSeconds, 0),
    demoBehavior,
    demoDelayMs: c.int('demoDelayMs', 1500, 0),
    subtensorState,
    network,
    netuid: network === undefined ? undefined : c.int('netuid', -1, 0, 65535),
    announce,
    minValidatorStake: c.int('minValidatorStake', 0, 0),
    engine,
    engineTableBudgetMB: c.int('engineTableBudgetMB', 256, 0, 4096),
  });
}
