import { availableParallelism } from 'node:os';
import { InvalidInputError } from '../protocol/errors.ts';

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
  /** Jobs that may wait for a worker; beyond that the miner answers 503 at once. */
  readonly maxQueue: number;
  readonly maxBodyBytes: number;
  /** Requests per minute per caller hotkey. */
  readonly rateLimitPerMinute: number;
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
  readonly minValidatorStake: number;
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

const bad = (key: string, why: string, got: unknown) =>
  new InvalidInputError(`miner config: ${key} ${why}, got ${JSON.stringify(got)}`, 'INVALID_OPTION');

function positiveInt(raw: Record<string, unknown>, key: string, fallback: number, allowZero = false): number {
  const v = raw[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < (allowZero ? 0 : 1)) {
    throw bad(key, `must be a ${allowZero ? 'non-negative' : 'positive'} integer`, v);
  }
  return v;
}

/** Validates a miner config (parsed JSON) over frozen defaults; a bad value names its key and why. */
export function parseMinerConfig(raw: unknown): Readonly<MinerConfig> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw bad('(root)', 'must be a JSON object', raw);
  const r = raw as Record<string, unknown>;
  const known = new Set([
    'host',
    'port',
    'hotkey',
    'models',
    'workers',
    'maxQueue',
    'maxBodyBytes',
    'rateLimitPerMinute',
    'allowedHotkeys',
    'shutdownGraceSeconds',
    'demoBehavior',
    'demoDelayMs',
    'subtensorState',
    'minValidatorStake',
  ]);
  for (const k of Object.keys(r))
    if (!known.has(k)) throw bad(k, `is not a miner setting (known: ${[...known].join(', ')})`, r[k]);
  const host = r['host'] ?? DEFAULTS.host;
  if (typeof host !== 'string' || host.length === 0)
    throw bad('host', 'must be a host name or address', host);
  const port = positiveInt(r, 'port', DEFAULTS.port, true);
  if (port > 65535) throw bad('port', 'must be at most 65535', port);
  const hk = r['hotkey'] as Record<string, unknown> | undefined;
  let hotkey: MinerConfig['hotkey'];
  if (hk && typeof hk['uri'] === 'string') hotkey = { uri: hk['uri'] };
  else if (hk && typeof hk['file'] === 'string') hotkey = { file: hk['file'] };
  else throw bad('hotkey', 'must be { "uri": "//Alice" } or { "file": "path/to/hotkey" }', hk);
  const models = r['models'];
  if (!Array.isArray(models) || models.length === 0 || !models.every((m) => typeof m === 'string')) {
    throw bad('models', 'must be a non-empty list of artifact directories', models);
  }
  const workers = positiveInt(r, 'workers', DEFAULTS.workers);
  const allowed = r['allowedHotkeys'] ?? DEFAULTS.allowedHotkeys;
  if (!Array.isArray(allowed) || !allowed.every((h) => typeof h === 'string'))
    throw bad('allowedHotkeys', 'must be a list of ss58 addresses', allowed);
  const demoBehavior = (r['demoBehavior'] ?? 'honest') as DemoBehavior;
  if (!DEMO_BEHAVIORS.includes(demoBehavior))
    throw bad('demoBehavior', `must be one of ${DEMO_BEHAVIORS.join(', ')}`, demoBehavior);
  return Object.freeze({
    host,
    port,
    hotkey,
    models: models as string[],
    workers,
    maxQueue: positiveInt(r, 'maxQueue', 2 * workers),
    maxBodyBytes: positiveInt(r, 'maxBodyBytes', DEFAULTS.maxBodyBytes),
    rateLimitPerMinute: positiveInt(r, 'rateLimitPerMinute', DEFAULTS.rateLimitPerMinute),
    allowedHotkeys: allowed as string[],
    shutdownGraceSeconds: positiveInt(r, 'shutdownGraceSeconds', DEFAULTS.shutdownGraceSeconds, true),
    demoBehavior,
    demoDelayMs: positiveInt(r, 'demoDelayMs', 1500, true),
    subtensorState: typeof r['subtensorState'] === 'string' ? r['subtensorState'] : undefined,
    minValidatorStake: positiveInt(r, 'minValidatorStake', 0, true),
  });
}
