import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Axon } from '../prover/axon.ts';
import { callAxon } from './dendrite.ts';
import { hotkeyFromUri } from './keys.ts';
import { bodyHash } from './signing.ts';

// The validator's client against hostile miners (real HTTP servers on loopback): a redirect is a
// transport failure and is never followed; an oversized answer is abandoned while streaming; an
// answer that stalls after its headers is a timeout, not a malformed (cheating) answer.

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server: Server = createServer(handler);
  closers.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const call = async (url: string, extra: { timeoutMs?: number; maxBodyBytes?: number } = {}) => {
  const hotkey = await hotkeyFromUri('//Validator');
  return callAxon(
    url,
    'ProveInference',
    { modelId: 'm', input: [1] },
    {
      hotkey,
      axonHotkey: hotkey.ss58,
      timeoutMs: extra.timeoutMs ?? 5_000,
      ...(extra.maxBodyBytes ? { maxBodyBytes: extra.maxBodyBytes } : {}),
    },
  );
};

describe('callAxon against hostile miners', () => {
  it('does not follow a 307: the signed request never reaches the other URL', async () => {
    let hits = 0;
    const elsewhere = await serve((_req, res) => {
      hits++;
      res.end('{}');
    });
    const miner = await serve((_req, res) => {
      res.writeHead(307, { location: `${elsewhere}/steal` }).end();
    });
    const r = await call(miner);
    expect(r).toMatchObject({ ok: false, failure: 'http', status: 307 });
    expect(hits).toBe(0);
  });

  it('abandons an answer beyond the cap while streaming, declared or not', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const miner = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const pump = () => {
        while (sent < 100 * 1024 * 1024 && res.write(chunk)) sent += chunk.length;
        if (sent < 100 * 1024 * 1024) res.once('drain', pump);
        else res.end();
      };
      pump();
    });
    const r = await call(miner, { maxBodyBytes: 1 << 20 });
    expect(r).toMatchObject({
      ok: false,
      failure: 'malformed',
      detail: 'the answer is larger than 1048576 bytes',
    });
    expect(sent).toBeLessThan(50 * 1024 * 1024);
    const declared = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': String(10 << 20) });
      res.write('{');
    });
    expect(await call(declared, { maxBodyBytes: 1 << 20 })).toMatchObject({
      ok: false,
      failure: 'malformed',
    });
  });

  it('a stalled answer (headers, then a slow drip past the deadline) is a timeout', async () => {
    const miner = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"modelId":');
      const t = setInterval(() => res.write(' '), 100);
      res.on('close', () => clearInterval(t));
    });
    const r = await call(miner, { timeoutMs: 800 });
    expect(r).toMatchObject({ ok: false, failure: 'timeout' });
  });
});

describe("the axon's signature over its answers", () => {
  // a real axon that signs its answers, reached directly or through a man in the middle
  async function signingAxon() {
    const minerKey = await hotkeyFromUri('//SigningMiner');
    const axon = new Axon({
      host: '127.0.0.1',
      port: 0,
      hotkey: minerKey.ss58,
      sign: (m) => minerKey.sign(m),
      maxBodyBytes: 1 << 16,
      rateLimitPerMinute: 1000,
      blacklist: () => null,
      synapses: { ProveInference: async () => ({ status: 200, body: { predictedClass: 3 } }) },
    });
    const { url } = await axon.listen();
    closers.push(() => axon.close(0));
    return { url, minerKey };
  }

  const callSigned = async (url: string, axonHotkey: string) =>
    callAxon(
      url,
      'ProveInference',
      { modelId: 'm' },
      {
        hotkey: await hotkeyFromUri('//Validator'),
        axonHotkey,
        timeoutMs: 5_000,
      },
    );

  /** Forwards to `target`, letting `edit` change the answer's body or headers on the way back. */
  async function proxy(
    target: string,
    edit: (body: string, headers: Headers) => { body: string; headers: Headers },
  ) {
    return serve(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const upstream = await fetch(`${target}${req.url}`, {
        method: 'POST',
        headers: req.headers as Record<string, string>,
        body: Buffer.concat(chunks),
      });
      const edited = edit(await upstream.text(), new Headers(upstream.headers));
      edited.headers.delete('content-length');
      res.writeHead(upstream.status, Object.fromEntries(edited.headers)).end(edited.body);
    });
  }

  it('an answer as signed is accepted', async () => {
    const { url, minerKey } = await signingAxon();
    expect(await callSigned(url, minerKey.ss58)).toMatchObject({ ok: true, body: { predictedClass: 3 } });
  });

  it('an answer changed on the way, re-hashed or not, or signed for another request, is a signature failure', async () => {
    const { url, minerKey } = await signingAxon();
    const changed = await proxy(url, (body, headers) => ({ body: body.replace('3', '4'), headers }));
    expect(await callSigned(changed, minerKey.ss58)).toMatchObject({
      ok: false,
      failure: 'signature',
      detail: 'the answer does not match its computed_body_hash',
    });
    const rehashed = await proxy(url, (body, headers) => {
      const edited = body.replace('3', '4');
      headers.set('computed_body_hash', bodyHash(edited));
      return { body: edited, headers };
    });
    expect(await callSigned(rehashed, minerKey.ss58)).toMatchObject({
      ok: false,
      failure: 'signature',
      detail: "the answer's signature does not verify for the miner's hotkey",
    });
    const renonced = await proxy(url, (body, headers) => {
      headers.set('bt_header_axon_nonce', '1');
      return { body, headers };
    });
    expect(await callSigned(renonced, minerKey.ss58)).toMatchObject({ ok: false, failure: 'signature' });
    // an unsigned answer (a miner without the feature) is still read
    const stripped = await proxy(url, (body, headers) => {
      headers.delete('bt_header_axon_signature');
      return { body, headers };
    });
    expect(await callSigned(stripped, minerKey.ss58)).toMatchObject({ ok: true });
  });
});
