import { InvalidInputError } from '../protocol/errors.ts';

export interface ValidatorConfig {
  readonly hotkey: { readonly uri: string } | { readonly file: string };
  /** SQLite file: scores, replay guard, request log. */
  readonly db: string;
  /** Artifact directories of the models to challenge (their keys and input domains). */
  readonly models: readonly string[];
  /** Miners to query (until a metagraph provides them). */
  readonly miners: readonly { readonly hotkey: string; readonly url: string }[];
  readonly timeoutMs: number;
  readonly concurrency: number;
  /** 0 runs until stopped. */
  readonly rounds: number;
  readonly roundIntervalMs: number;
  /** Optional JSON file {"inputs": [[...], ...]} to draw challenges from (each used at most once). */
  readonly challengeInputs: string | undefined;
  /** Serve Prometheus /metrics on 127.0.0.1:metricsPort (0: off). */
  readonly metricsPort: number;
  /** When set, every verified proof is kept here with its challenge (for auditors). */
  readonly proofDir: string | undefined;
  /**
   * A local subtensor state file: miners are discovered from its metagraph (registered neurons that
   * serve an axon) in addition to `miners`, and weights are set on it after every round.
   */
  readonly subtensorState: string | undefined;
}

const bad = (key: string, why: string, got: unknown) =>
  new InvalidInputError(`validator config: ${key} ${why}, got ${JSON.stringify(got)}`, 'INVALID_OPTION');

function int(r: Record<string, unknown>, key: string, fallback: number, min: number): number {
  const v = r[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    throw bad(key, `must be an integer >= ${min}`, v);
  return v;
}

/** Validates a validator config over defaults; a bad value names its key and why. */
export function parseValidatorConfig(raw: unknown): Readonly<ValidatorConfig> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw bad('(root)', 'must be a JSON object', raw);
  const r = raw as Record<string, unknown>;
  const known = new Set([
    'hotkey',
    'db',
    'models',
    'miners',
    'timeoutMs',
    'concurrency',
    'rounds',
    'roundIntervalMs',
    'challengeInputs',
    'metricsPort',
    'proofDir',
    'subtensorState',
  ]);
  for (const k of Object.keys(r))
    if (!known.has(k)) throw bad(k, `is not a validator setting (known: ${[...known].join(', ')})`, r[k]);
  const hk = r['hotkey'] as Record<string, unknown> | undefined;
  const hotkey =
    hk && typeof hk['uri'] === 'string'
      ? { uri: hk['uri'] }
      : hk && typeof hk['file'] === 'string'
        ? { file: hk['file'] }
        : undefined;
  if (!hotkey) throw bad('hotkey', 'must be { "uri": "//Alice" } or { "file": "path" }', hk);
  if (typeof r['db'] !== 'string' || r['db'] === '') throw bad('db', 'must be a file path', r['db']);
  const models = r['models'];
  if (!Array.isArray(models) || models.length === 0 || !models.every((m) => typeof m === 'string'))
    throw bad('models', 'must be a non-empty list of artifact directories', models);
  // with a subtensor the miners come from its metagraph; a static list is then optional
  const miners = r['miners'] ?? (typeof r['subtensorState'] === 'string' ? [] : undefined);
  if (
    !Array.isArray(miners) ||
    !miners.every((m) => m && typeof m.hotkey === 'string' && typeof m.url === 'string')
  ) {
    throw bad(
      'miners',
      'must be a list of { hotkey, url } (or give subtensorState to discover them)',
      miners,
    );
  }
  return Object.freeze({
    hotkey,
    db: r['db'],
    models: models as string[],
    miners: (miners as { hotkey: string; url: string }[]).map((m) => ({
      hotkey: m.hotkey,
      url: m.url.replace(/\/+$/, ''),
    })),
    timeoutMs: int(r, 'timeoutMs', 12_000, 1),
    concurrency: int(r, 'concurrency', 16, 1),
    rounds: int(r, 'rounds', 0, 0),
    roundIntervalMs: int(r, 'roundIntervalMs', 0, 0),
    challengeInputs: typeof r['challengeInputs'] === 'string' ? r['challengeInputs'] : undefined,
    metricsPort: int(r, 'metricsPort', 0, 0),
    proofDir: typeof r['proofDir'] === 'string' ? r['proofDir'] : undefined,
    subtensorState: typeof r['subtensorState'] === 'string' ? r['subtensorState'] : undefined,
  });
}
