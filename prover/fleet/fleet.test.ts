import { describe, expect, it } from 'vitest';
import { failureReason, parseFailureReason, queuePriority } from './fleetJob.ts';
import { fleetNames, redactRedisUrl, redisOptions } from './fleetNames.ts';
import { parseNodeConfig } from './nodeConfig.ts';
import { fleetCapacity, modelConflicts, type NodeRecord } from './nodeRegistry.ts';

const node = (id: string, workers: number, modelIds: string[], avgProveMs = 0): NodeRecord => ({
  id,
  host: 'h',
  pid: 1,
  engine: 'native-cache',
  workers,
  models: modelIds.map((modelId) => ({ name: `m-${modelId}`, modelId })),
  inFlight: 0,
  proofs: 0,
  failures: 0,
  avgProveMs,
  startedAt: 0,
});

describe('fleet: pure parts', () => {
  it('orders stakes into BullMQ priorities: more stake runs first, none is 0 ("no priority")', () => {
    const stakes = [0, 1, 10, 1000, 1e6, 1e12, 2 ** 64, Number.MAX_VALUE];
    const p = stakes.map(queuePriority);
    for (const x of p) expect(x >= 1 && x <= 2 ** 21 - 1 && Number.isInteger(x)).toBe(true);
    for (let i = 1; i < p.length; i++) expect(p[i]!).toBeLessThan(p[i - 1]!);
    expect(queuePriority(-5)).toBe(queuePriority(0));
  });

  it('carries a node refusal through the job failure reason; anything else is a worker failure', () => {
    expect(parseFailureReason(failureReason('DEADLINE_UNMEETABLE', 'node a: busy'))).toEqual({
      code: 'DEADLINE_UNMEETABLE',
      message: 'node a: busy',
    });
    expect(parseFailureReason(failureReason('EXPIRED', 'dropped')).code).toBe('DEADLINE_EXCEEDED');
    expect(parseFailureReason('job stalled more than allowable limit')).toEqual({
      code: 'WORKER_FAILED',
      message: 'job stalled more than allowable limit',
    });
    expect(parseFailureReason('NOT_A_CODE: x').code).toBe('WORKER_FAILED');
  });

  it('parses redis URLs and refuses malformed ones naming them', () => {
    expect(redisOptions('redis://127.0.0.1')).toEqual({ host: '127.0.0.1', port: 6379 });
    expect(redisOptions('rediss://u:p%40ss@cache.example:6380/2')).toEqual({
      host: 'cache.example',
      port: 6380,
      username: 'u',
      password: 'p@ss',
      db: 2,
      tls: {},
    });
    expect(redisOptions('redis://[::1]:7000').host).toBe('::1');
    expect(() => redisOptions('localhost:6379')).toThrow(/must start with redis:\/\//);
    expect(() => redisOptions('not a url')).toThrow(/is not a URL/);
    expect(() => redisOptions('redis://h/db')).toThrow(/database "db" is not a number/);
    expect(redactRedisUrl('redis://u:secret@h:1')).toBe('redis://u:***@h:1');
  });

  it('keeps fleet names to safe key parts', () => {
    expect(fleetNames('miner-1').nodeKey('n')).toBe('zkinfer:miner-1:node:n');
    expect(() => fleetNames('a b')).toThrow(/fleet name "a b"/);
    expect(() => fleetNames('x:*')).toThrow(/fleet name/);
  });

  it('finds a node model known to the fleet under another modelId; unknown names are no conflict', () => {
    const table = { mlp: 'aa', 'big.slice0': 'bb' };
    expect(
      modelConflicts(table, [
        { name: 'mlp', modelId: 'aa' },
        { name: 'big.slice0', modelId: 'cc' },
        { name: 'other', modelId: 'dd' },
        { name: 'constructor', modelId: 'ee' },
      ]),
    ).toEqual([{ name: 'big.slice0', nodeModelId: 'cc', fleetModelId: 'bb' }]);
  });

  it('sums live capacity per circuit', () => {
    const c = fleetCapacity([node('a', 2, ['x', 'y'], 300), node('b', 1, ['x']), node('c', 4, [], 100)]);
    expect(c.nodes).toBe(3);
    expect(c.workers).toBe(7);
    expect(c.workersByModel.get('x')).toBe(3);
    expect(c.workersByModel.get('y')).toBe(2);
    expect(c.workersByModel.get('z')).toBeUndefined();
    expect(c.avgProveMs).toBe(200);
    expect(fleetCapacity([]).workers).toBe(0);
  });

  it('validates a node config, naming the bad key', () => {
    const ok = parseNodeConfig({ redis: 'redis://h:1', models: ['m'] });
    expect(ok).toMatchObject({ fleet: 'default', lockDurationMs: 4000, stalledIntervalMs: 2000, port: 0 });
    expect(() => parseNodeConfig({ models: ['m'] })).toThrow(
      /prover node config: redis must be a non-empty string/,
    );
    expect(() => parseNodeConfig({ redis: 'http://h', models: ['m'] })).toThrow(/redis:\/\//);
    expect(() => parseNodeConfig({ redis: 'redis://h', models: [] })).toThrow(
      /models must be a non-empty list/,
    );
    expect(() => parseNodeConfig({ redis: 'redis://h', models: ['m'], lockDurationMs: 10 })).toThrow(
      /lockDurationMs must be an integer >= 500/,
    );
    expect(() => parseNodeConfig({ redis: 'redis://h', models: ['m'], nodeId: 'a b' })).toThrow(/nodeId/);
    expect(() => parseNodeConfig({ redis: 'redis://h', models: ['m'], workerz: 1 })).toThrow(
      /workerz is not a prover node setting/,
    );
  });
});
