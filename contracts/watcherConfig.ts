import { InvalidInputError } from '../protocol/errors.ts';

/** `zkinfer watch --config` (JSON). */
export interface WatcherConfig {
  /** JSON-RPC endpoint of the chain the AVS lives on. */
  readonly rpc: string;
  /** Deployment file: the AVS contract addresses. */
  readonly deployment: string;
  /** The challenger's key (it posts bonds and receives rewards): a hex private key, or a dev account of a local node. */
  readonly key: { readonly privateKey: string } | { readonly devAccount: number };
  /** Artifact directories of the models to check (with keys: the watcher proves). */
  readonly models: readonly string[];
  /** Directory of published inputs, `<commitment>.json`. */
  readonly inputs: string;
  /** SQLite file for indexed events and decisions. */
  readonly db: string;
  readonly pollMs: number;
}

const DEFAULTS = { db: 'watcher.db', pollMs: 2_000 };

/** Validates a watcher config; a bad key or value is named. */
export function parseWatcherConfig(raw: unknown): Readonly<WatcherConfig> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new InvalidInputError('the watcher config must be a JSON object', 'INVALID_OPTION');
  const o = raw as Record<string, unknown>;
  const str = (k: string, fallback?: string): string => {
    const v = o[k] ?? fallback;
    if (typeof v !== 'string' || v === '')
      throw new InvalidInputError(
        `${k} must be a non-empty string, got ${JSON.stringify(o[k])}`,
        'INVALID_OPTION',
      );
    return v;
  };
  const key = o['key'] as Record<string, unknown> | undefined;
  let parsedKey: WatcherConfig['key'];
  if (key && typeof key['privateKey'] === 'string' && /^0x[0-9a-fA-F]{64}$/.test(key['privateKey'])) {
    parsedKey = { privateKey: key['privateKey'] };
  } else if (key && Number.isInteger(key['devAccount']) && (key['devAccount'] as number) >= 0) {
    parsedKey = { devAccount: key['devAccount'] as number };
  } else {
    throw new InvalidInputError(
      'key must be {"privateKey": "0x<64 hex>"} or {"devAccount": <n>} (a local node\'s account)',
      'INVALID_OPTION',
    );
  }
  const models = o['models'];
  if (!Array.isArray(models) || models.length === 0 || !models.every((m) => typeof m === 'string'))
    throw new InvalidInputError('models must be a non-empty array of artifact directories', 'INVALID_OPTION');
  const pollMs = o['pollMs'] ?? DEFAULTS.pollMs;
  if (!Number.isInteger(pollMs) || (pollMs as number) < 50)
    throw new InvalidInputError(
      `pollMs must be an integer ≥ 50, got ${JSON.stringify(pollMs)}`,
      'INVALID_OPTION',
    );
  return Object.freeze({
    rpc: str('rpc'),
    deployment: str('deployment'),
    key: parsedKey,
    models: models as string[],
    inputs: str('inputs'),
    db: str('db', DEFAULTS.db),
    pollMs: pollMs as number,
  });
}
