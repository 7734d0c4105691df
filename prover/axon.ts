import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type DendriteHeaders, HEADERS, parseDendriteHeaders } from '../protocol/headers.ts';
import { NonceGuard } from '../protocol/nonceGuard.ts';
import { RateLimiter } from '../protocol/rateLimiter.ts';
import { isSdkBody, type SdkSynapseSpec, sdkBodyHash, sdkPayload } from '../protocol/sdkSynapse.ts';
import { answerSigningMessage, bodyHash, signingMessage, verifySignature } from '../protocol/signing.ts';

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

export interface AxonLimits {
  /** Open connections in total; beyond it new ones are closed at once. */
  readonly maxConnections: number;
  /** Open connections from one IP address. */
  readonly maxConnectionsPerIp: number;
  /** Time a client has to send its request headers. */
  readonly headersTimeoutMs: number;
  /** Time a client has to send its whole request (headers and body). */
  readonly requestTimeoutMs: number;
}

/** Far below Node's defaults (60 s for headers, 300 s for a request): slow senders cannot hold sockets. */
export const DEFAULT_AXON_LIMITS: AxonLimits = {
  maxConnections: 1024,
  maxConnectionsPerIp: 64,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
};

export interface AxonOptions {
  readonly host: string;
  readonly port: number;
  readonly hotkey: string;
  /** Signs answers with the axon's hotkey (the bt_header_axon_signature header); unsigned without it. */
  readonly sign?: (message: string) => string;
  readonly maxBodyBytes: number;
  readonly rateLimitPerMinute: number;
  readonly limits?: Partial<AxonLimits>;
  /** Returns why a caller is refused (→ 403), or null. */
  readonly blacklist: (hotkey: string) => string | null | Promise<string | null>;
  readonly synapses: Readonly<Record<string, SynapseHandler>>;
  /** Synapses that also accept the Bittensor Python SDK's request form (body hash over required fields). */
  readonly sdkSynapses?: Readonly<Record<string, SdkSynapseSpec>>;
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
 * A Bittensor-style axon: POST /<Synapse> with bt_header_* headers, sr25519-signed. Everything that
 * can be decided from the headers is decided before the body is read: route (404), declared size
 * (413), headers (400), blacklist (403), signature and nonce (401), rate per verified hotkey (429).
 * The signature covers the header's body hash, so the body is then read (bounded in size and time)
 * and must match it (400), in zkinfer's form (sha3 of the raw body) or the Python SDK's (sha3 over
 * the synapse's required hash fields). Every refusal is a JSON `{ error }` naming the reason; a
 * signed request's answer is signed over its body hash and the request's nonce.
 */
export class Axon {
  private server: Server | undefined;
  private readonly nonces = new NonceGuard();
  private readonly rates: RateLimiter;
  private readonly inflight = new Set<AbortController>();
  private readonly limits: AxonLimits;
  private readonly perIp = new Map<string, number>();

  constructor(private readonly options: AxonOptions) {
    this.rates = new RateLimiter(options.rateLimitPerMinute);
    this.limits = { ...DEFAULT_AXON_LIMITS, ...options.limits };
  }

  async listen(): Promise<{ url: string; port: number }> {
    const server = createServer(
      {
        headersTimeout: this.limits.headersTimeoutMs,
        requestTimeout: this.limits.requestTimeoutMs,
        // how often Node checks the two timeouts above (its default, 30 s, would let them run long)
        connectionsCheckingInterval: 1000,
      },
      (req, res) => {
        void this.handle(req, res);
      },
    );
    this.server = server;
    server.keepAliveTimeout = 5_000;
    server.maxConnections = this.limits.maxConnections;
    server.on('connection', (socket: Socket) => this.admit(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    return { url: `http://${this.options.host}:${port}`, port };
  }

  /** Open connections per IP: beyond the cap a new one is closed before any byte is read. */
  private admit(socket: Socket): void {
    const ip = socket.remoteAddress ?? '?';
    const open = (this.perIp.get(ip) ?? 0) + 1;
    if (open > this.limits.maxConnectionsPerIp) {
      socket.destroy();
      return;
    }
    this.perIp.set(ip, open);
    socket.once('close', () => {
      const left = (this.perIp.get(ip) ?? 1) - 1;
      if (left <= 0) this.perIp.delete(ip);
      else this.perIp.set(ip, left);
    });
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
    let signed: DendriteHeaders | undefined;
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
      const headers: Record<string, string | number> = {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      };
      if (signed && this.options.sign) Object.assign(headers, this.answerHeaders(signed, text));
      // a refused request may still be sending its body: do not keep the socket to drain it
      if (status !== 200 && !req.complete) headers['connection'] = 'close';
      res.writeHead(status, headers);
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
      if (declared > this.options.maxBodyBytes)
        return reply(413, { error: `the body exceeds ${this.options.maxBodyBytes} bytes` }, 'too large');
      const headers = parseDendriteHeaders((n) => req.headers[n]?.toString());
      if (typeof headers === 'string') return reply(400, { error: headers }, 'bad header');
      const refused = await this.options.blacklist(headers.dendriteHotkey);
      if (refused) return reply(403, { error: refused }, 'blacklisted');
      // the axon signs its own hotkey into the message: a request signed for another axon fails here
      const message = signingMessage({ ...headers, axonHotkey: this.options.hotkey });
      if (!(await verifySignature(message, headers.signature, headers.dendriteHotkey)))
        return reply(401, { error: 'the signature does not verify for this axon' }, 'bad signature');
      const nonce = this.nonces.check(
        headers.dendriteHotkey,
        headers.uuid,
        BigInt(headers.nonce),
        headers.timeoutSeconds,
      );
      if (!nonce.ok) return reply(401, { error: nonce.reason }, 'nonce');
      signed = headers; // from here on the caller is known, and answers are signed for it
      if (!this.rates.take(headers.dendriteHotkey))
        return reply(429, { error: 'rate limit exceeded' }, 'rate');
      const raw = await readBody(req, this.options.maxBodyBytes);
      if (raw === 'aborted') {
        // the caller hung up mid-upload: its failure, not ours, and nobody is left to answer
        logRequest(400, 'client aborted the upload');
        return;
      }
      if (raw === null)
        return reply(413, { error: `the body exceeds ${this.options.maxBodyBytes} bytes` }, 'too large');
      let body: unknown;
      try {
        body = raw.length ? JSON.parse(raw.toString('utf8')) : {};
      } catch {
        if (bodyHash(raw) !== headers.bodyHash)
          return reply(400, { error: 'computed_body_hash does not match the body' }, 'body hash');
        return reply(400, { error: 'the body is not valid JSON' }, 'bad json');
      }
      const form = this.bodyForm(path, raw, body, headers.bodyHash);
      if (form === null)
        return reply(400, { error: 'computed_body_hash does not match the body' }, 'body hash');
      const controller = new AbortController();
      this.inflight.add(controller);
      req.on('close', () => {
        if (!res.writableEnded) controller.abort();
      });
      try {
        const r = await handler(form === 'raw' ? body : sdkPayload(body as Record<string, unknown>), {
          callerHotkey: headers.dendriteHotkey,
          timeoutSeconds: headers.timeoutSeconds,
          signal: controller.signal,
        });
        const error =
          r.status === 200 ? undefined : String((r.body as { error?: string })?.error ?? r.status);
        // the SDK's dendrite rebuilds its synapse from the answer: give it the request's fields back
        const answer =
          form === 'sdk' && r.status === 200 && typeof r.body === 'object' && r.body !== null
            ? { ...(body as object), ...r.body }
            : r.body;
        reply(r.status, answer, error);
      } finally {
        this.inflight.delete(controller);
      }
    } catch (error) {
      reply(500, { error: `internal error: ${(error as Error).message}` }, 'internal');
    }
  }

  /** Which form the signed body hash is in: zkinfer's raw-body hash, the SDK's field hash, or neither. */
  private bodyForm(path: string, raw: Buffer, body: unknown, hash: string): 'raw' | 'sdk' | null {
    if (bodyHash(raw) === hash) return 'raw';
    const spec =
      this.options.sdkSynapses && Object.hasOwn(this.options.sdkSynapses, path)
        ? this.options.sdkSynapses[path]
        : undefined;
    if (spec && isSdkBody(body, spec) && sdkBodyHash(spec, body) === hash) return 'sdk';
    return null;
  }

  /** The axon's signature over an answer: its body hash, bound to the request's nonce and uuid. */
  private answerHeaders(request: DendriteHeaders, text: string): Record<string, string> {
    const hash = bodyHash(text);
    const message = answerSigningMessage({
      nonce: request.nonce,
      dendriteHotkey: request.dendriteHotkey,
      axonHotkey: this.options.hotkey,
      uuid: request.uuid,
      bodyHash: hash,
    });
    return {
      [HEADERS.bodyHash]: hash,
      [HEADERS.axonHotkey]: this.options.hotkey,
      [HEADERS.axonNonce]: request.nonce,
      [HEADERS.axonSignature]: this.options.sign!(message),
    };
  }
}

/** Reads a body up to `limit` bytes; null when it is larger, 'aborted' when the caller hung up first. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
      else {
        // stop reading at once: the rest is never buffered
        req.pause();
        resolve(null);
      }
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => resolve('aborted'));
    req.on('close', () => {
      if (!req.complete) resolve('aborted');
    });
  });
}
