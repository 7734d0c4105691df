import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseMinerConfig } from '../prover/minerConfig.ts';
import { ROOT } from '../test/helpers/fixtures.ts';
import { computeBinding } from './binding.ts';
import { ZkinferError } from './errors.ts';
import { hotkeyFromUri } from './keys.ts';
import { NonceGuard } from './nonceGuard.ts';
import { RateLimiter } from './rateLimiter.ts';
import { bodyHash, signingMessage, verifySignature } from './signing.ts';

const interop = JSON.parse(readFileSync(`${ROOT}/test/fixtures/sr25519-interop.json`, 'utf8')) as Record<
  string,
  string
>;

describe('signing (Bittensor interop)', () => {
  it("verifies the signature made by Bittensor's Python SDK", async () => {
    const message = signingMessage({
      nonce: interop['nonce']!,
      dendriteHotkey: interop['dendrite_hotkey_ss58']!,
      axonHotkey: interop['axon_hotkey_ss58']!,
      uuid: interop['uuid']!,
      bodyHash: interop['body_hash']!,
    });
    expect(message).toBe(interop['message']);
    expect(bodyHash('')).toBe(interop['body_hash']); // sha3-256 of the empty body
    expect(await verifySignature(message, interop['signature']!, interop['dendrite_hotkey_ss58']!)).toBe(
      true,
    );
  });

  it('fails when any character of the message changes, and for empty or malformed signatures', async () => {
    const m = interop['message']!;
    for (let i = 0; i < m.length; i += 7) {
      const c = m[i] === '0' ? '1' : '0';
      expect(
        await verifySignature(
          m.slice(0, i) + c + m.slice(i + 1),
          interop['signature']!,
          interop['dendrite_hotkey_ss58']!,
        ),
      ).toBe(false);
    }
    expect(await verifySignature(m, '', interop['dendrite_hotkey_ss58']!)).toBe(false);
    expect(await verifySignature(m, '0x00', interop['dendrite_hotkey_ss58']!)).toBe(false);
    expect(await verifySignature(m, interop['signature']!, '')).toBe(false);
  });

  it('our own signatures verify, and only for the signer', async () => {
    const alice = await hotkeyFromUri('//Alice');
    const bob = await hotkeyFromUri('//Bob');
    const sig = alice.sign('hello');
    expect(await verifySignature('hello', sig, alice.ss58)).toBe(true);
    expect(await verifySignature('hello', sig, bob.ss58)).toBe(false);
  });
});

describe('hotkeys from files', () => {
  it('loads a Bittensor hotkey file (secretPhrase) and checks its ss58 address', async () => {
    const { mnemonicGenerate } = await import('@polkadot/util-crypto');
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { hotkeyFromFile } = await import('./keys.ts');
    const dir = await mkdtemp(join(tmpdir(), 'zkinfer-key-'));
    const phrase = mnemonicGenerate();
    const expected = await hotkeyFromUri(phrase);
    await writeFile(join(dir, 'hot'), JSON.stringify({ secretPhrase: phrase, ss58Address: expected.ss58 }));
    const loaded = await hotkeyFromFile(join(dir, 'hot'));
    expect(loaded.ss58).toBe(expected.ss58);
    expect(await verifySignature('m', loaded.sign('m'), expected.ss58)).toBe(true);
    await writeFile(
      join(dir, 'bad'),
      JSON.stringify({ secretPhrase: phrase, ss58Address: (await hotkeyFromUri('//Bob')).ss58 }),
    );
    await expect(hotkeyFromFile(join(dir, 'bad'))).rejects.toThrow(/the file says/);
    await writeFile(join(dir, 'enc'), JSON.stringify({ ss58Address: expected.ss58 }));
    await expect(hotkeyFromFile(join(dir, 'enc'))).rejects.toThrow(/encrypted keys are not supported/);
  });
});

describe('NonceGuard', () => {
  const S = 1_000_000_000n; // one second in ns
  it('accepts strictly increasing nonces per hotkey and uuid; refuses replays and future ones', () => {
    let now = 1_000_000n * S;
    const g = new NonceGuard(() => now);
    expect(g.check('a', 'u', now, 12).ok).toBe(true);
    expect(g.check('a', 'u', now, 12)).toMatchObject({ ok: false, reason: expect.stringMatching(/replay/) });
    expect(g.check('a', 'u', now - 1n, 12).ok).toBe(false);
    expect(g.check('a', 'v', now, 12).ok).toBe(true); // another uuid
    expect(g.check('b', 'u', now, 12).ok).toBe(true); // another hotkey
    expect(g.check('a', 'u', now + 61n * S, 12)).toMatchObject({ reason: 'nonce is in the future' });
    now += 5n * S;
    expect(g.check('a', 'u', now, 12).ok).toBe(true);
  });

  it('bounds the past as the SDK does: allowed delta (4 s) plus the request timeout', () => {
    const now = 1_000_000n * S;
    const g = new NonceGuard(() => now);
    expect(g.check('a', 'u1', now - 15n * S, 12).ok).toBe(true); // 15 s < 4 + 12
    expect(g.check('a', 'u2', now - 17n * S, 12)).toMatchObject({ reason: 'nonce is older than 16 s' });
    expect(g.check('a', 'u3', now - 17n * S, 60).ok).toBe(true); // a longer timeout, a longer window
  });

  it('remembers a nonce as long as any timeout could make it acceptable, so an unsigned timeout cannot reopen it', () => {
    let now = 1_000_000n * S;
    const g = new NonceGuard(() => now);
    const nonce = now;
    expect(g.check('a', 'u', nonce, 1).ok).toBe(true);
    now += 3000n * S; // well past this request's own window, within the longest one
    expect(g.check('x', 'y', now, 1).ok).toBe(true); // triggers a sweep
    expect(g.check('a', 'u', nonce, 3600)).toMatchObject({ reason: expect.stringMatching(/replay/) });
  });

  it('keeps at most maxEntries, forgetting the least recently used', () => {
    const now = 1_000_000n * S;
    const g = new NonceGuard(() => now, 100);
    for (let i = 0; i < 1000; i++) expect(g.check(`k${i}`, 'u', now, 12).ok).toBe(true);
    expect(g.size).toBeLessThanOrEqual(100);
    expect(g.check('k999', 'u', now, 12).ok).toBe(false); // the newest are remembered
  });
});

describe('RateLimiter', () => {
  it('allows perMinute requests per key, refilling over time', () => {
    let t = 0;
    const r = new RateLimiter(3, () => t);
    expect([r.take('k'), r.take('k'), r.take('k'), r.take('k')]).toEqual([true, true, true, false]);
    expect(r.take('other')).toBe(true);
    t += 20_000;
    expect(r.take('k')).toBe(true);
    expect(r.take('k')).toBe(false);
  });

  it('stays bounded under many keys and keeps a drained key drained while it is recent', () => {
    const t = 0;
    const r = new RateLimiter(2, () => t, 50);
    expect([r.take('hot'), r.take('hot'), r.take('hot')]).toEqual([true, true, false]);
    for (let i = 0; i < 40; i++) r.take(`k${i}`);
    expect(r.take('hot')).toBe(false); // still drained: full buckets were dropped, not this one
    for (let i = 0; i < 10_000; i++) r.take(`flood${i}`);
    expect(r.size).toBeLessThanOrEqual(50);
  });
});

describe('binding', () => {
  it('differs when any part differs', async () => {
    const base = { nonce: '42', validatorHotkey: 'V', minerHotkey: 'M' };
    const b = await computeBinding(base);
    expect(await computeBinding(base)).toBe(b);
    for (const changed of [{ nonce: '43' }, { validatorHotkey: 'W' }, { minerHotkey: 'N' }]) {
      expect(await computeBinding({ ...base, ...changed })).not.toBe(b);
    }
    await expect(computeBinding({ ...base, nonce: '-1' })).rejects.toBeInstanceOf(ZkinferError);
  });
});

describe('parseMinerConfig', () => {
  const ok = { hotkey: { uri: '//M' }, models: ['a'] };
  it('merges over defaults', () => {
    const c = parseMinerConfig({ ...ok, workers: 3 });
    expect(c).toMatchObject({
      host: '127.0.0.1',
      workers: 3,
      engine: 'native-cache',
      engineTableBudgetMB: 256,
      fleet: 'default',
    });
    // unset: the pool (or the fleet) sizes it from its workers
    expect(c.maxQueue).toBeUndefined();
    expect(c.redis).toBeUndefined();
    expect(parseMinerConfig({ ...ok, maxQueue: 5 }).maxQueue).toBe(5);
    expect(parseMinerConfig({ ...ok, engine: 'snarkjs' }).engine).toBe('snarkjs');
    expect(parseMinerConfig({ ...ok, redis: 'redis://10.0.0.5:6379', fleet: 'm1' })).toMatchObject({
      redis: 'redis://10.0.0.5:6379',
      fleet: 'm1',
    });
    expect(parseMinerConfig({ ...ok, network: 'finney', netuid: 2 })).toMatchObject({
      network: 'finney',
      netuid: 2,
    });
  });
  it.each([
    [{ ...ok, workers: 'abc' }, /workers must be a positive integer, got "abc"/],
    [{ ...ok, port: 70000 }, /port must be at most 65535/],
    [{ ...ok, models: [] }, /models must be a non-empty list/],
    [{ models: ['a'] }, /hotkey must be/],
    [{ ...ok, wrkers: 2 }, /wrkers is not a miner setting/],
    [{ ...ok, engine: 'rapidsnark' }, /engine must be one of native-cache, snarkjs/],
    [{ ...ok, engineTableBudgetMB: -1 }, /engineTableBudgetMB/],
    [
      { ...ok, headersTimeoutMs: 20_000, requestTimeoutMs: 10_000 },
      /headersTimeoutMs must not exceed requestTimeoutMs/,
    ],
    [{ ...ok, maxConnectionsPerIp: 0 }, /maxConnectionsPerIp/],
    [{ ...ok, maxQueue: 0 }, /maxQueue must be a positive integer/],
    [{ ...ok, redis: 'localhost:6379' }, /redis URL "localhost:6379" must start with redis:\/\//],
    [{ ...ok, redis: 'redis://h', fleet: 'a b' }, /fleet name "a b"/],
    [{ ...ok, network: 'finney' }, /netuid is required with network/],
    [
      { ...ok, network: 'finney', netuid: 1, subtensorState: 's.json' },
      /network cannot be given with subtensorState/,
    ],
  ])('names the key and why: %j', (raw, pattern) => {
    expect(() => parseMinerConfig(raw)).toThrow(pattern);
  });
});
