import type { RedisOptions } from 'ioredis';
import { InvalidInputError } from '../../protocol/errors.ts';

/**
 * Where a fleet lives in Redis. Every key of a fleet starts with `zkinfer:<fleet>` (BullMQ's prefix
 * included), so several miners' fleets can share one Redis without seeing each other's jobs.
 */
export interface FleetNames {
  /** BullMQ prefix: the queue's keys are `<prefix>:prove:*`. */
  readonly prefix: string;
  readonly queue: string;
  /** Set of node ids that have registered (an id whose record expired is pruned by readers). */
  readonly nodeSet: string;
  /** A node's record, refreshed by its heartbeat and expiring without one. */
  nodeKey(id: string): string;
  /** Hash model name → modelId: the models the axon serves, against which nodes are checked. */
  readonly modelTable: string;
}

/** Fleet names are short identifiers: they become Redis key parts. */
const FLEET_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export function fleetNames(fleet: string): FleetNames {
  if (!FLEET_NAME.test(fleet))
    throw new InvalidInputError(
      `fleet name "${fleet}" must be 1-64 letters, digits, "_", "." or "-"`,
      'INVALID_OPTION',
    );
  const base = `zkinfer:${fleet}`;
  return {
    prefix: base,
    queue: 'prove',
    nodeSet: `${base}:nodes`,
    nodeKey: (id) => `${base}:node:${id}`,
    modelTable: `${base}:models`,
  };
}

/**
 * ioredis options from a `redis://[user:password@]host[:port][/db]` URL (`rediss://` for TLS). Pure:
 * a malformed URL is refused here, before any connection is tried.
 */
export function redisOptions(url: string): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InvalidInputError(`redis URL "${url}" is not a URL (redis://host:6379)`, 'INVALID_OPTION');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new InvalidInputError(`redis URL "${url}" must start with redis:// or rediss://`, 'INVALID_OPTION');
  if (!u.hostname) throw new InvalidInputError(`redis URL "${url}" names no host`, 'INVALID_OPTION');
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db))
    throw new InvalidInputError(`redis URL "${url}": the database "${db}" is not a number`, 'INVALID_OPTION');
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** The URL without its password, for logs and errors. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
