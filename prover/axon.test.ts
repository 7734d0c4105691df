import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextNonce } from '../protocol/dendrite.ts';
import { HEADERS } from '../protocol/headers.ts';
import { type Hotkey, hotkeyFromUri } from '../protocol/keys.ts';
import { bodyHash, signingMessage } from '../protocol/signing.ts';
import { parseProveInference } from '../protocol/synapses.ts';
import { Axon } from './axon.ts';

// The axon under hostile clients (a real HTTP server on loopback): routes are own properties only,
// an out-of-range timeout is a 400 (not a timer overflow and a 500), and a client that hangs up
// mid-upload is logged as its own failure, not as an internal error.

let axon: Axon;
let url: string;
let caller: Hotkey;
let axonKey: Hotkey;
const events: { synapse: string; status: number; reason?: string }[] = [];

beforeAll(async () => {
  caller = await hotkeyFromUri('//Validator');
  axonKey = await hotkeyFromUri('//Axon');
  axon = new Axon({
    host: '127.0.0.1',
    port: 0,
    hotkey: axonKey.ss58,
    maxBodyBytes: 1 << 20,
    rateLimitPerMinute: 1000,
    blacklist: () => null,
    synapses: {
      Echo: async (body, ctx) => {
        AbortSignal.timeout(ctx.timeoutSeconds * 1000); // what a prover does with the caller's timeout
        return { status: 200, body };
      },
    },
    getRoutes: { metrics: () => ({ contentType: 'text/plain', body: 'ok' }) },
    onRequest: (e) => events.push(e),
  });
  url = (await axon.listen()).url;
});

afterAll(async () => {
  await axon.close(100);
});

function signedHeaders(body: string, overrides: Record<string, string> = {}): Record<string, string> {
  const nonce = nextNonce().toString();
  const uuid = randomUUID();
  const hash = bodyHash(body);
  const message = signingMessage({
    nonce,
    dendriteHotkey: caller.ss58,
    axonHotkey: axonKey.ss58,
    uuid,
    bodyHash: hash,
  });
  return {
    'content-type': 'application/json',
    [HEADERS.timeout]: '12',
    [HEADERS.bodyHash]: hash,
    [HEADERS.dendriteHotkey]: caller.ss58,
    [HEADERS.dendriteNonce]: nonce,
    [HEADERS.dendriteUuid]: uuid,
    [HEADERS.dendriteSignature]: caller.sign(message),
    [HEADERS.axonHotkey]: axonKey.ss58,
    ...overrides,
  };
}

describe('axon under hostile clients', () => {
  it('routes on the object prototype are unknown (404), signed or not; real routes still answer', async () => {
    for (const path of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect((await fetch(`${url}/${path}`)).status, `GET /${path}`).toBe(404);
      const body = JSON.stringify({ a: 1 });
      const post = await fetch(`${url}/${path}`, { method: 'POST', headers: signedHeaders(body), body });
      expect(post.status, `POST /${path}`).toBe(404);
    }
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
    const body = JSON.stringify({ a: 1 });
    expect((await fetch(`${url}/Echo`, { method: 'POST', headers: signedHeaders(body), body })).status).toBe(
      200,
    );
  });

  it('a timeout header beyond an hour is a 400 naming the header, and so is a deadline beyond an hour', async () => {
    const body = JSON.stringify({ a: 1 });
    const r = await fetch(`${url}/Echo`, {
      method: 'POST',
      headers: signedHeaders(body, { [HEADERS.timeout]: '1e9' }),
      body,
    });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(
      /^timeout must be a number of seconds in \(0, 3600\]/,
    );
    expect(
      parseProveInference({
        modelId: 'ab'.repeat(32),
        input: [1],
        binding: { nonce: '1', validatorHotkey: 'v', minerHotkey: 'm' },
        deadlineMs: 1e12,
      }),
    ).toMatch(/deadlineMs must be a number of milliseconds in \(0, 3600000\]/);
  });

  it('a client that hangs up mid-upload is its failure (logged as such), never a 500', async () => {
    const before = events.length;
    await new Promise<void>((resolve) => {
      // a signed request (the axon checks headers before it reads a body) that never finishes
      const headers = signedHeaders('{"a": 1}', { 'content-length': '100000' });
      const req = request(`${url}/Echo`, { method: 'POST', headers });
      req.on('error', () => resolve());
      req.write('{"a":');
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 100);
    });
    for (let i = 0; i < 50 && events.length === before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(events.slice(before)).toEqual([
      expect.objectContaining({ synapse: 'Echo', status: 400, reason: 'client aborted the upload' }),
    ]);
  });
});
