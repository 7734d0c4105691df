import { ConfigReader } from '../../protocol/configReader.ts';
import type { RequestLimits } from './inferenceRequest.ts';

export interface GatewayAuthConfig {
  /** Accept requests without a key or signature (each counted against `openQuotaPerMinute`). */
  readonly open: boolean;
  readonly openQuotaPerMinute: number;
  /** Hotkeys whose sr25519-signed requests are accepted, each with its quota. */
  readonly hotkeys: readonly { readonly ss58: string; readonly quotaPerMinute: number }[];
  /** A signed request's timestamp may be at most this far from the gateway's clock. */
  readonly signatureWindowMs: number;
}

export interface GatewayConfig extends RequestLimits {
  /** The validator this gateway runs (its config file, or the config itself). */
  readonly validator: string | Readonly<Record<string, unknown>>;
  readonly host: string;
  /** 0 picks a free port (the CLI prints the URL). */
  readonly port: number;
  /** SQLite file: results, API keys (hashed), usage. */
  readonly db: string;
  readonly auth: GatewayAuthConfig;
  /** Run the validator's own rounds between organic requests (off: organic requests only). */
  readonly syntheticRounds: boolean;
}

const KEYS = [
  'validator',
  'host',
  'port',
  'db',
  'auth',
  'maxRedundancy',
  'defaultDeadlineMs',
  'maxDeadlineMs',
  'syntheticRounds',
] as const;
const AUTH_KEYS = ['open', 'openQuotaPerMinute', 'hotkeys', 'signatureWindowMs'] as const;

/** Validates a gateway config over defaults; a bad value names its key and why. */
export function parseGatewayConfig(raw: unknown): Readonly<GatewayConfig> {
  const c = new ConfigReader('gateway', raw, KEYS);
  const validator = c.value('validator');
  if (
    !(typeof validator === 'string' && validator !== '') &&
    !(typeof validator === 'object' && validator !== null)
  )
    throw c.error('validator', 'must be a validator config file or a validator config object', validator);
  const a = new ConfigReader('gateway auth', c.value('auth') ?? {}, AUTH_KEYS);
  const open = a.value('open') ?? false;
  if (typeof open !== 'boolean') throw a.error('open', 'must be true or false', open);
  const hotkeys = a.value('hotkeys') ?? [];
  if (
    !Array.isArray(hotkeys) ||
    !hotkeys.every(
      (h) =>
        h &&
        typeof h.ss58 === 'string' &&
        (h.quotaPerMinute === undefined || (Number.isInteger(h.quotaPerMinute) && h.quotaPerMinute > 0)),
    )
  )
    throw a.error('hotkeys', 'must be a list of { ss58, quotaPerMinute? }', hotkeys);
  const syntheticRounds = c.value('syntheticRounds') ?? true;
  if (typeof syntheticRounds !== 'boolean')
    throw c.error('syntheticRounds', 'must be true or false', syntheticRounds);
  const maxDeadlineMs = c.int('maxDeadlineMs', 120_000, 100, 3_600_000);
  return Object.freeze({
    validator: validator as GatewayConfig['validator'],
    host: c.string('host', '127.0.0.1'),
    port: c.int('port', 8080, 0, 65535),
    db: c.string('db'),
    auth: Object.freeze({
      open,
      openQuotaPerMinute: a.int('openQuotaPerMinute', 30, 1),
      hotkeys: (hotkeys as { ss58: string; quotaPerMinute?: number }[]).map((h) => ({
        ss58: h.ss58,
        quotaPerMinute: h.quotaPerMinute ?? 60,
      })),
      signatureWindowMs: a.int('signatureWindowMs', 60_000, 1000),
    }),
    maxRedundancy: c.int('maxRedundancy', 4, 1, 32),
    defaultDeadlineMs: c.int('defaultDeadlineMs', 30_000, 100, maxDeadlineMs),
    maxDeadlineMs,
    syntheticRounds,
  });
}
