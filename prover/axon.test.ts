import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextNonce } from '../protocol/dendrite.ts';
import { HEADERS } from '../protocol/headers.ts';
import { type Hotkey, hotkeyFromUri } from '../protocol/keys.ts';
import { buildSdkRequest, SDK_SYNAPSES } from '../protocol/sdkSynapse.ts';
import { bodyHash, signingMessage } from '../protocol/signing.ts';
import { parseProveInference } from '../protocol/synapses.ts';
import { Axon } from './axon.ts';

// The axon under hostile clients (a real HTTP server on loopback): routes are own properties only,
// an out-of-range timeout is a 400 (not a timer overflow and a 500), a client that hangs up
// mid-upload is logged as its own failure, not as an internal error; unknown callers are refused
// on their headers, slow senders and floods from one address are cut off; the SDK's form is served.

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

describe('axon against floods and slow senders', () => {
  let tight: Axon;
  let tightUrl: string;
  let port: number;
  beforeAll(async () => {
    tight = new Axon({
      host: '127.0.0.1',
      port: 0,
      hotkey: axonKey.ss58,
      maxBodyBytes: 1 << 20,
      rateLimitPerMinute: 1000,
      limits: { maxConnectionsPerIp: 3, headersTimeoutMs: 1000, requestTimeoutMs: 2000 },
      blacklist: (hotkey) => (hotkey === caller.ss58 ? null : `hotkey ${hotkey} is not registered`),
      synapses: { Echo: async (body) => ({ status: 200, body }) },
    });
    const l = await tight.listen();
    tightUrl = l.url;
    port = l.port;
  });
  afterAll(async () => {
    await tight.close(100);
  });

  /** A raw socket from `localAddress` that sends `text` and reports what came back and when it closed. */
  function rawSocket(localAddress: string, text: string) {
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    let received = '';
    socket.on('data', (d) => {
      received += d.toString();
    });
    socket.on('error', () => {});
    const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(received)));
    socket.on('connect', () => socket.write(text));
    return { socket, closed };
  }

  it('refuses an unknown caller (403) on its headers alone, without waiting for the body it announced', async () => {
    const stranger = await hotkeyFromUri('//Stranger');
    const headers = signedHeaders('{}', {
      [HEADERS.dendriteHotkey]: stranger.ss58,
      'content-length': '500000',
    });
    const head = Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    // sends 10 bytes of the 500 000 announced: the answer comes anyway, and the socket is closed
    const { closed } = rawSocket('127.0.0.1', `POST /Echo HTTP/1.1\r\nhost: x\r\n${head}\r\n{"a": 1}  `);
    const answer = await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 403/);
    expect(answer).toMatch(/is not registered/);
  });

  it('closes a socket that never finishes its headers (slow loris) within the header timeout', async () => {
    const { socket, closed } = rawSocket('127.0.0.1', 'POST /Echo HTTP/1.1\r\nhost: x\r\n');
    const drip = setInterval(() => socket.write('x-drip: 1\r\n'), 200);
    const answer = await closed;
    clearInterval(drip);
    // Node's answer to a header timeout; with its default (60 s) this test would time out instead
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('caps connections per IP: a fourth from one address is closed at once, other addresses are served', async () => {
    const held = [1, 2, 3].map(() => rawSocket('127.0.0.2', 'POST /Echo HTTP/1.1\r\nhost: x\r\n'));
    await Promise.all(held.map((h) => new Promise((r) => h.socket.once('connect', r))));
    await new Promise((r) => setTimeout(r, 50));
    const fourth = rawSocket('127.0.0.2', 'GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n');
    expect(await fourth.closed).toBe(''); // closed before any answer
    const body = JSON.stringify({ a: 1 });
    const ok = await fetch(`${tightUrl}/Echo`, { method: 'POST', headers: signedHeaders(body), body });
    expect(ok.status).toBe(200);
    for (const h of held) h.socket.destroy();
  });
});

describe('axon with the Python SDK form', () => {
  it('accepts a body hashed as the SDK hashes it and hands the handler the synapse fields only', async () => {
    let seen: unknown;
    const sdkAxon = new Axon({
      host: '127.0.0.1',
      port: 0,
      hotkey: axonKey.ss58,
      maxBodyBytes: 1 << 20,
      rateLimitPerMinute: 1000,
      blacklist: () => null,
      sdkSynapses: SDK_SYNAPSES,
      synapses: {
        ProveInference: async (body) => {
          seen = body;
          return { status: 200, body: { predictedClass: 1 } };
        },
      },
    });
    const { url: sdkUrl, port: sdkPort } = await sdkAxon.listen();
    try {
      const values = {
        modelId: 'ab'.repeat(32),
        input: [0, 0.5, 1e-7],
        binding: { nonce: '7', validatorHotkey: caller.ss58, minerHotkey: axonKey.ss58 },
        deadlineMs: 5000,
      };
      const { body, headers } = buildSdkRequest({
        spec: SDK_SYNAPSES['ProveInference']!,
        values,
        timeoutSeconds: 12,
        dendrite: { ip: '127.0.0.1', version: 920, hotkey: caller.ss58 },
        axon: { ip: '127.0.0.1', port: sdkPort, hotkey: axonKey.ss58 },
        nonce: nextNonce(),
        uuid: randomUUID(),
        sign: (m) => caller.sign(m),
      });
      const r = await fetch(`${sdkUrl}/ProveInference`, { method: 'POST', headers, body });
      expect(r.status).toBe(200);
      expect(await r.json()).toMatchObject({ name: 'ProveInference', ...values, predictedClass: 1 });
      expect(seen).toMatchObject(values);
      expect(Object.keys(seen as object)).not.toContain('dendrite');
    } finally {
      await sdkAxon.close(100);
    }
  });
});
