import { ConfigReader } from '../protocol/configReader.ts';

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
  /**
   * Or a real chain (finney, test, local or a ws(s):// URL) and the subnet's netuid: miners are
   * discovered from its metagraph, and weights are set there (signed by `hotkey`) after every round.
   */
  readonly network: string | undefined;
  readonly netuid: number | undefined;
}

const VALIDATOR_KEYS = [
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
  'network',
  'netuid',
] as const;

/** Validates a validator config over defaults; a bad value names its key and why. */
export function parseValidatorConfig(raw: unknown): Readonly<ValidatorConfig> {
  const c = new ConfigReader('validator', raw, VALIDATOR_KEYS);
  const subtensorState = c.optionalString('subtensorState');
  const network = c.optionalString('network');
  if (subtensorState !== undefined && network !== undefined)
    throw c.error(
      'network',
      'cannot be given with subtensorState (one subnet to read and set weights on)',
      network,
    );
  if (network !== undefined && !c.has('netuid'))
    throw c.error('netuid', 'is required with network', undefined);
  // with a subtensor the miners come from its metagraph; a static list is then optional
  const miners = c.value('miners') ?? (subtensorState || network ? [] : undefined);
  if (
    !Array.isArray(miners) ||
    !miners.every((m) => m && typeof m.hotkey === 'string' && typeof m.url === 'string')
  ) {
    throw c.error(
      'miners',
      'must be a list of { hotkey, url } (or give subtensorState or network to discover them)',
      miners,
    );
  }
  return Object.freeze({
    hotkey: c.hotkey(),
    db: c.string('db'),
    models: c.strings('models', undefined, 'artifact directories', true),
    miners: (miners as { hotkey: string; url: string }[]).map((m) => ({
      hotkey: m.hotkey,
      url: m.url.replace(/\/+$/, ''),
    })),
    timeoutMs: c.int('timeoutMs', 12_000, 1),
    concurrency: c.int('concurrency', 16, 1),
    rounds: c.int('rounds', 0, 0),
    roundIntervalMs: c.int('roundIntervalMs', 0, 0),
    challengeInputs: c.optionalString('challengeInputs'),
    metricsPort: c.int('metricsPort', 0, 0, 65535),
    proofDir: c.optionalString('proofDir'),
    subtensorState,
    network,
    netuid: network === undefined ? undefined : c.int('netuid', -1, 0, 65535),
  });
}
