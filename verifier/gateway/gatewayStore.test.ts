import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GatewayStore, keyHash } from './gatewayStore.ts';

describe('GatewayStore', () => {
  it('keeps keys hashed, counts quotas per minute in the file, and keeps results across reopening', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'zkinfer-gwstore-')), 'g.db');
    const store = new GatewayStore(path);
    const { key, record } = store.createKey('acme', 2);
    expect(store.keyByHash(keyHash(key))).toEqual(record);
    expect(store.keyByHash(keyHash(`${key}x`))).toBeUndefined();
    const t = 60_000 * 1000 + 59_000; // one second before a minute ends
    expect(store.takeQuota('key:a', 2, t)).toEqual({ ok: true });
    expect(store.takeQuota('key:a', 2, t)).toEqual({ ok: true });
    expect(store.takeQuota('key:a', 2, t)).toEqual({ ok: false, retryAfter: 1 });
    expect(store.takeQuota('key:b', 2, t)).toEqual({ ok: true }); // per caller
    expect(store.takeQuota('key:a', 2, t + 1000)).toEqual({ ok: true }); // the next minute
    store.createResult('r1', 'f'.repeat(64), 'open');
    store.finishResult('r1', 'verified', { class: 1 });
    store.createResult('r2', 'f'.repeat(64), 'open'); // left pending, as by a crash
    expect(store.failPending({ error: { code: 'INTERNAL' } })).toBe(1);
    expect(store.result('r2')).toMatchObject({ status: 'failed', body: { error: { code: 'INTERNAL' } } });
    expect(store.result('r1')!.status).toBe('verified');
    expect(store.revokeKey(record.id)).toBe(true);
    expect(store.revokeKey(record.id)).toBe(false);
    store.close();
    const again = new GatewayStore(path);
    expect(again.result('r1')).toMatchObject({ status: 'verified', body: { class: 1 } });
    expect(again.keys()[0]!.revokedAt).not.toBeNull();
    // the minute's count survived the restart
    expect(again.takeQuota('key:a', 1, t + 1000)).toMatchObject({ ok: false });
    again.close();
  });
});
