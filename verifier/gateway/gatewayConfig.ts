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

/** The AVS the gateway settles requests on (settle: true), as its operator. */
export interface GatewaySettlementConfig {
  readonly rpc: string;
  /** The AVS deployment file (`zkinfer avs deploy --out`). */
  readonly deployment: string;
  /** The operator's key: a local node's dev account, or a private key in this environment variable. */
  readonly devAccount: number | undefined;
  readonly keyEnv: string | undefined;
  /** SQLite file of the settlement queue. */
  readonly queueDb: string;
  /** Fee paid per task, in wei (decimal string). */
  readonly feeWei: string;
  readonly deadlineBlocks: number;
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
  /** Organic requests being answered at once, all callers together; beyond it, 503 OVERLOADED. */
  readonly maxInFlight: number;
  readonly settlement: GatewaySettlementConfig | undefined;
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
  'maxInFlight',
  'settlement',
] as const;
const SETTLEMENT_KEYS = [
  'rpc',
  'deployment',
  'devAccount',
  'keyEnv',
  'queueDb',
  'feeWei',
  'deadlineBlocks',
] as const;

function parseSettlement(raw: unknown): GatewaySettlementConfig | undefined {
  if (raw === undefined) return undefined;
  const c = new ConfigReader('gateway settlement', raw, SETTLEMENT_KEYS);
  const feeWei = c.string('feeWei', '0');
  if (!/^[0-9]{1,30}$/.test(feeWei)) throw c.error('feeWei', 'must be a decimal number of wei', feeWei);
  const keyEnv = c.optionalString('keyEnv');
  return Object.freeze({
    rpc: c.string('rpc'),
    deployment: c.string('deployment'),
    devAccount: c.has('devAccount') ? c.int('devAccount', 0, 0) : keyEnv ? undefined : 0,
    keyEnv,
    queueDb: c.string('queueDb'),
    feeWei,
    deadlineBlocks: c.int('deadlineBlocks', 1000, 1),
  });
}
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
    maxInFlight: c.int('maxInFlight', 64, 1),
    settlement: parseSettlement(c.value('settlement')),
  });
}
