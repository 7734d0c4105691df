import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { callAxon } from './dendrite.ts';
import { hotkeyFromUri } from './keys.ts';

// The validator's client against hostile miners (real HTTP servers on loopback): a redirect is a
// transport failure and is never followed; an oversized answer is abandoned while streaming; an
// answer that stalls after its headers is a timeout, not a malformed (cheating) answer.

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((r) => {
          s.closeAllConnections();
          s.close(() => r());
        }),
    ),
  );
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
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
