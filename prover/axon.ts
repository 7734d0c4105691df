import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HEADERS, parseDendriteHeaders } from '../protocol/headers.ts';
import { NonceGuard } from '../protocol/nonceGuard.ts';
import { RateLimiter } from '../protocol/rateLimiter.ts';
import { bodyHash, signingMessage, verifySignature } from '../protocol/signing.ts';

/** What a synapse handler answers: an HTTP status and a JSON body. */
export interface SynapseReply {
  readonly status: number;
  readonly body: unknown;
}

export interface SynapseContext {
  readonly callerHotkey: string;
  /** Seconds the caller said it will wait (the timeout header). */
  readonly timeoutSeconds: number;
  readonly signal: AbortSignal;
}

export type SynapseHandler = (body: unknown, ctx: SynapseContext) => Promise<SynapseReply>;

export interface AxonOptions {
  readonly host: string;
  readonly port: number;
  readonly hotkey: string;
  readonly maxBodyBytes: number;
  readonly rateLimitPerMinute: number;
  /** Returns why a caller is refused (→ 403), or null. */
  readonly blacklist: (hotkey: string) => string | null | Promise<string | null>;
  readonly synapses: Readonly<Record<string, SynapseHandler>>;
  /** Plain GET routes (e.g. /metrics), unsigned. */
  readonly getRoutes?: Readonly<Record<string, () => { contentType: string; body: string }>>;
  readonly onRequest?: (e: {
    synapse: string;
    status: number;
    caller: string;
    ms: number;
    reason?: string;
  }) => void;
}

/**
 * A Bittensor-style axon: POST /<Synapse> with bt_header_* headers, sr25519-signed. Checks, in
 * order: route (404), size (413), headers (400), body hash (400), blacklist (403), signature and
 * nonce (401), rate (429); then the handler. Every refusal is a JSON `{ error }` naming the reason.
 */
export class Axon {
  private server: Server | undefined;
  private readonly nonces = new NonceGuard();
  private readonly rates: RateLimiter;
  private readonly inflight = new Set<AbortController>();

  constructor(private readonly options: AxonOptions) {
    this.rates = new RateLimiter(options.rateLimitPerMinute);
  }

  async listen(): Promise<{ url: string; port: number }> {
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    this.server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.options.port, this.options.host, () => resolve());
    });
    const port = (this.server.address() as AddressInfo).port;
    return { url: `http://${this.options.host}:${port}`, port };
  }

  /** Stops accepting connections; waits for in-flight requests up to `graceMs`, then aborts them. */
  async close(graceMs: number): Promise<void> {
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const deadline = Date.now() + graceMs;
    while (this.inflight.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const c of this.inflight) c.abort();
    server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const path = (req.url ?? '/').split('?')[0]!.replace(/^\/+/, '');
    const logRequest = (status: number, reason?: string) =>
      this.options.onRequest?.({
        synapse: path,
        status,
        caller: req.headers[HEADERS.dendriteHotkey]?.toString() ?? '',
        ms: performance.now() - started,
        ...(reason ? { reason } : {}),
      });
    const reply = (status: number, body: unknown, reason?: string) => {
      if (res.headersSent) return;
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
      logRequest(status, reason);
    };
    try {
      // own properties only: "constructor", "toString" and "__proto__" are not routes
      const getRoute =
        this.options.getRoutes && Object.hasOwn(this.options.getRoutes, path)
          ? this.options.getRoutes[path]
          : undefined;
      if (req.method === 'GET' && getRoute) {
        const r = getRoute();
        res.writeHead(200, { 'content-type': r.contentType });
        res.end(r.body);
        return;
      }
      const handler = Object.hasOwn(this.options.synapses, path) ? this.options.synapses[path] : undefined;
      if (req.method !== 'POST' || !handler)
        return reply(404, { error: `unknown synapse "${path}"` }, 'unknown synapse');
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > this.options.maxBodyBytes) {
        req.resume();
        return reply(413, { error: `the body exceeds ${this.options.maxBodyBytes} bytes` }, 'too large');
      }
      const raw = await readBody(req, this.options.maxBodyBytes);
      if (raw === 'aborted') {
        // the caller hung up mid-upload: its failure, not ours, and nobody is left to answer
        logRequest(400, 'client aborted the upload');
        return;
      }
      if (raw === null)
        return reply(413, { error: `the body exceeds ${this.options.maxBodyBytes} bytes` }, 'too large');
      const headers = parseDendriteHeaders((n) => req.headers[n]?.toString());
      if (typeof headers === 'string') return reply(400, { error: headers }, 'bad header');
      if (bodyHash(raw) !== headers.bodyHash)
        return reply(400, { error: 'computed_body_hash does not match the body' }, 'body hash');
      const refused = await this.options.blacklist(headers.dendriteHotkey);
      if (refused) return reply(403, { error: refused }, 'blacklisted');
      // the axon signs its own hotkey into the message: a request signed for another axon fails here
      const message = signingMessage({ ...headers, axonHotkey: this.options.hotkey });
      if (!(await verifySignature(message, headers.signature, headers.dendriteHotkey))) {
        return reply(401, { error: 'the signature does not verify for this axon' }, 'bad signature');
      }
      const nonce = this.nonces.check(headers.dendriteHotkey, headers.uuid, BigInt(headers.nonce));
      if (!nonce.ok) return reply(401, { error: nonce.reason }, 'nonce');
      if (!this.rates.take(headers.dendriteHotkey))
        return reply(429, { error: 'rate limit exceeded' }, 'rate');
      let body: unknown;
      try {
        body = raw.length ? JSON.parse(raw.toString('utf8')) : {};
      } catch {
        return reply(400, { error: 'the body is not valid JSON' }, 'bad json');
      }
      const controller = new AbortController();
      this.inflight.add(controller);
      req.on('close', () => {
        if (!res.writableEnded) controller.abort();
      });
      try {
        const r = await handler(body, {
          callerHotkey: headers.dendriteHotkey,
          timeoutSeconds: headers.timeoutSeconds,
          signal: controller.signal,
        });
        reply(
          r.status,
          r.body,
          r.status === 200 ? undefined : String((r.body as { error?: string })?.error ?? r.status),
        );
      } finally {
        this.inflight.delete(controller);
      }
    } catch (error) {
      reply(500, { error: `internal error: ${(error as Error).message}` }, 'internal');
    }
  }
}

/** Reads a body up to `limit` bytes; null when it is larger, 'aborted' when the caller hung up first. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? null : Buffer.concat(chunks)));
    req.on('error', () => resolve('aborted'));
    req.on('close', () => {
      if (!req.complete) resolve('aborted');
    });
  });
}
