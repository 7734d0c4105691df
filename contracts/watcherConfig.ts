import { ConfigReader } from '../protocol/configReader.ts';

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

const WATCHER_KEYS = ['rpc', 'deployment', 'key', 'models', 'inputs', 'db', 'pollMs'] as const;

/** Validates a watcher config; a bad or unknown key is named (through the shared ConfigReader). */
export function parseWatcherConfig(raw: unknown): Readonly<WatcherConfig> {
  const c = new ConfigReader('watcher', raw, WATCHER_KEYS);
  const key = c.value('key') as Record<string, unknown> | undefined;
  let parsedKey: WatcherConfig['key'];
  if (key && typeof key['privateKey'] === 'string' && /^0x[0-9a-fA-F]{64}$/.test(key['privateKey'])) {
    parsedKey = { privateKey: key['privateKey'] };
  } else if (key && Number.isInteger(key['devAccount']) && (key['devAccount'] as number) >= 0) {
    parsedKey = { devAccount: key['devAccount'] as number };
  } else {
    throw c.error(
      'key',
      'must be {"privateKey": "0x<64 hex>"} or {"devAccount": <n>} (a local node\'s account)',
      key,
    );
  }
  return Object.freeze({
    rpc: c.string('rpc'),
    deployment: c.string('deployment'),
    key: parsedKey,
    models: c.strings('models', undefined, 'artifact directories', true),
    inputs: c.string('inputs'),
    db: c.string('db', 'watcher.db'),
    pollMs: c.int('pollMs', 2_000, 50),
  });
}
