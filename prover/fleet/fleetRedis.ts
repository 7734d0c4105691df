import { Redis } from 'ioredis';
import { FleetError } from './fleetError.ts';
import { redactRedisUrl, redisOptions } from './fleetNames.ts';

/**
 * A connected client for the fleet's own keys (registry, model table). Commands fail at once while
 * Redis is unreachable instead of waiting in a client-side queue; the client reconnects by itself
 * unless `reconnect` is false (a one-shot reader). An unreachable Redis at start is a FleetError.
 */
export async function connectFleetRedis(url: string, options: { reconnect?: boolean } = {}): Promise<Redis> {
  const redis = new Redis({
    ...redisOptions(url),
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    ...(options.reconnect === false ? { retryStrategy: () => null } : {}),
  });
  redis.on('error', () => {}); // surfaced by the commands that fail
  try {
    await redis.connect();
    return redis;
  } catch (e) {
    redis.disconnect();
    throw new FleetError(
      'FLEET_UNAVAILABLE',
      `the fleet's Redis at ${redactRedisUrl(url)} is unreachable: ${(e as Error).message}`,
      { cause: e },
    );
  }
}
