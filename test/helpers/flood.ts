import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { nextNonce } from '../../protocol/dendrite.ts';
import { HEADERS } from '../../protocol/headers.ts';
import { type Hotkey, hotkeyFromUri } from '../../protocol/keys.ts';
import { bodyHash, signingMessage } from '../../protocol/signing.ts';

/**
 * A hostile load on an axon, for the flood test and benchmark: `requests` clients that keep
 * sending signed ProveInference requests from keys the axon does not know (each on a new
 * connection, with a body of `bodyBytes`), and `slowSockets` connections that send their headers
 * one line at a time, reopened when the axon closes them. Clients spread over loopback addresses
 * 127.0.0.2 and up (Linux routes all of 127/8 to lo), as floods from many hosts would.
 */
export interface FloodOptions {
  readonly url: string;
  readonly axonHotkey: string;
  readonly requests: number;
  readonly slowSockets: number;
  readonly bodyBytes?: number;
  /** Distinct source addresses to spread the clients over (default 8). */
  readonly addresses?: number;
}

export interface FloodReport {
  /** Answers by HTTP status ("error" when the connection failed). */
  readonly statuses: Record<string, number>;
  /** Slow sockets the axon closed (each is reopened). */
  readonly slowClosed: number;
}

export async function startFlood(o: FloodOptions): Promise<{ stop: () => Promise<FloodReport> }> {
  const { hostname, port } = new URL(o.url);
  const keys: Hotkey[] = await Promise.all(
    Array.from({ length: 16 }, (_, i) => hotkeyFromUri(`//Flooder${i}`)),
  );
  const addresses = o.addresses ?? 8;
  const address = (i: number) => `127.0.0.${2 + (i % addresses)}`;
  const statuses: Record<string, number> = {};
  let slowClosed = 0;
  let running = true;
  const body = JSON.stringify({ modelId: '0'.repeat(64), input: [], pad: 'x'.repeat(o.bodyBytes ?? 30_000) });
  const hash = bodyHash(body);

  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const key = keys[i % keys.length]!;
      const nonce = nextNonce().toString();
      const uuid = randomUUID();
      const message = signingMessage({
        nonce,
        dendriteHotkey: key.ss58,
        axonHotkey: o.axonHotkey,
        uuid,
        bodyHash: hash,
      });
      const req = request(
        {
          host: hostname,
          port,
          path: '/ProveInference',
          method: 'POST',
          localAddress: address(i),
          agent: false,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            [HEADERS.timeout]: '12',
            [HEADERS.bodyHash]: hash,
            [HEADERS.dendriteHotkey]: key.ss58,
            [HEADERS.dendriteNonce]: nonce,
            [HEADERS.dendriteUuid]: uuid,
            [HEADERS.dendriteSignature]: key.sign(message),
          },
        },
        (res) => {
          statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
          res.resume();
          res.on('end', () => resolve());
          res.on('error', () => resolve());
        },
      );
      req.on('error', () => {
        statuses['error'] = (statuses['error'] ?? 0) + 1;
        // back off a little: a refused connection comes back at once
        setTimeout(resolve, 20);
      });
      req.end(body);
    });

  const clients = Array.from({ length: o.requests }, async (_, i) => {
    while (running) await one(i);
  });

  const open = new Set<Socket>();
  const slow = (i: number) => {
    if (!running) return;
    const s = connect({ host: hostname, port: Number(port), localAddress: address(i + 3) });
    open.add(s);
    let line = 0;
    const drip = setInterval(
      () => s.write(line++ === 0 ? 'POST /ProveInference HTTP/1.1\r\n' : `x-slow-${line}: 1\r\n`),
      1000,
    );
    s.on('error', () => {});
    s.on('close', () => {
      clearInterval(drip);
      open.delete(s);
      if (running) {
        slowClosed++;
        setTimeout(() => slow(i), 50);
      }
    });
  };
  for (let i = 0; i < o.slowSockets; i++) slow(i);

  return {
    stop: async () => {
      running = false;
      for (const s of open) s.destroy();
      await Promise.all(clients);
      return { statuses, slowClosed };
    },
  };
}
