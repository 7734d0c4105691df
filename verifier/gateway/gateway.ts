import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inputHashOf } from '../../circuits/inputHash.ts';
import { sliceVkeys } from '../../circuits/slicedModel.ts';
import type { ProofBundle } from '../../protocol/bundle.ts';
import type { SlicedBundle } from '../../protocol/slicedBundle.ts';
import { freshScore, weightsFromScores } from '../core/scoring.ts';
import { type Model, modelManifest, type Validator } from '../validator.ts';
import type { GatewayModel, GatewayResult } from './apiTypes.ts';
import { Authenticator } from './auth.ts';
import { EventHub, type HubEvent } from './eventHub.ts';
import type { GatewayConfig } from './gatewayConfig.ts';
import { GatewayError } from './gatewayError.ts';
import type { GatewayStore, StoredResult } from './gatewayStore.ts';
import { checkInput, parseInferenceRequest } from './inferenceRequest.ts';
import { OPENAPI } from './openapi.ts';
import { answerOrganic } from './organic.ts';
import type { OpenedTask, ProvenAnswer, Settler } from './settler.ts';

const MAX_BODY_BYTES = 1 << 20;

/** Static files of the page, by URL path: [file, content type]. */
const STATIC: Readonly<Record<string, readonly [string, string]>> = {
  '/': [fileURLToPath(new URL('./page/index.html', import.meta.url)), 'text/html; charset=utf-8'],
  '/assets/page.js': [
    fileURLToPath(new URL('./page/page.js', import.meta.url)),
    'text/javascript; charset=utf-8',
  ],
  // snarkjs's own browser build, wherever npm put the package
  '/assets/snarkjs.min.js': [
    join(dirname(createRequire(import.meta.url).resolve('snarkjs')), 'snarkjs.min.js'),
    'text/javascript; charset=utf-8',
  ],
};

/**
 * A validator's front door: an HTTP JSON API (OpenAPI document at /openapi.json) that answers
 * organic requests with verified proofs, stores every result, streams progress, and serves a page
 * that verifies proofs in the browser. Between requests the validator runs its own rounds; organic
 * requests take free axon slots before them and are scored the same way.
 */
export class Gateway {
  private server: Server | undefined;
  private readonly hub = new EventHub();
  private readonly auth: Authenticator;
  /** Organic requests still running (answered or not) and their scoring: stop() waits for them. */
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopping = false;
  /** Organic requests being answered now (bounded by maxInFlight). */
  private answering = 0;
  private roundsLoop: Promise<void> | undefined;

  constructor(
    readonly config: GatewayConfig,
    readonly validator: Validator,
    readonly store: GatewayStore,
    private readonly log: (e: Record<string, unknown>) => void = () => {},
    /** The AVS, when requests may ask to be settled (settle: true). */
    private readonly settler?: Settler,
  ) {
    this.auth = new Authenticator(config.auth, store);
    // a request the previous process never finished is failed, not left pending forever
    store.failPending({
      error: { code: 'INTERNAL', message: 'the gateway stopped before this request was answered' },
    });
  }

  /** Models whose tasks the AVS accepts (their keys are registered there). */
  private readonly settleable = new Set<string>();

  /** Listens (loopback by default) and starts the validator's own rounds; returns the base URL. */
  async start(roundIntervalMs = this.validator.config.roundIntervalMs): Promise<string> {
    if (this.settler)
      for (const m of this.validator.modelList())
        if (await this.settler.registered(m.modelId)) this.settleable.add(m.modelId);
    const server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        this.log({ msg: 'gateway error', error: (e as Error).message });
        if (!res.headersSent) send(res, 500, new GatewayError('INTERNAL', 'internal error').toJSON());
        else res.end();
      });
    });
    // slow senders: headers within 10 s, the whole request within 30 s (answers may take longer)
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.port, this.config.host, () => resolve());
    });
    if (this.config.syntheticRounds) this.roundsLoop = this.runRounds(roundIntervalMs);
    return this.url;
  }

  get url(): string {
    const a = this.server?.address() as AddressInfo | null | undefined;
    if (!a) throw new Error('the gateway is not listening');
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `http://${host}:${a.port}`;
  }

  /** Stops listening, ends the rounds, waits for requests in flight to be answered and scored. */
  async stop(): Promise<void> {
    this.stopping = true;
    const server = this.server;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    await this.roundsLoop;
    await Promise.allSettled([...this.inFlight]);
    await this.settler?.close();
  }

  private async runRounds(intervalMs: number): Promise<void> {
    while (!this.stopping) {
      try {
        const r = await this.validator.runRound();
        this.log({ msg: 'round', round: r.round, weights: Object.fromEntries(r.weights) });
      } catch (e) {
        this.log({ msg: 'round failed', error: (e as Error).message });
      }
      const until = Date.now() + Math.max(intervalMs, 200);
      while (!this.stopping && Date.now() < until) await sleep(Math.min(100, until - Date.now()));
    }
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p)).catch(() => {});
    return p;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    try {
      const file = STATIC[path];
      if (file && method === 'GET') {
        res.writeHead(200, { 'content-type': file[1], 'cache-control': 'no-cache' });
        res.end(await staticFile(file[0]));
        return;
      }
      if (path === '/openapi.json' && method === 'GET') return send(res, 200, OPENAPI);
      if (path === '/v1/models' && method === 'GET') return send(res, 200, { models: this.models() });
      const vkey = path.match(/^\/v1\/models\/([^/]+)\/vkey$/);
      if (vkey && method === 'GET') return send(res, 200, await this.vkeyOf(vkey[1]!));
      if (path === '/v1/miners' && method === 'GET') return send(res, 200, await this.miners());
      if (path === '/v1/inference' && method === 'POST') return await this.infer(req, res, method, path);
      if (path === '/v1/inference' && method === 'GET')
        return send(res, 200, this.recent(url.searchParams.get('limit')));
      const one = path.match(/^\/v1\/inference\/([^/]+)(\/events)?$/);
      if (one && method === 'GET') {
        const stored = this.store.result(one[1]!);
        if (!stored) throw new GatewayError('NOT_FOUND', `no request with id ${one[1]}`);
        if (one[2]) return this.stream(res, stored);
        return send(res, 200, storedBody(stored));
      }
      const known = path === '/openapi.json' || path.startsWith('/v1/') || Object.hasOwn(STATIC, path);
      if (known) throw new GatewayError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}`);
      throw new GatewayError('NOT_FOUND', `no route ${path} (see /openapi.json)`);
    } catch (e) {
      if (!(e instanceof GatewayError)) throw e;
      const headers: Record<string, string> = {};
      if (e.retryAfterSeconds !== undefined) headers['retry-after'] = String(e.retryAfterSeconds);
      send(res, e.status, e.toJSON(), headers);
    }
  }

  private models(): GatewayModel[] {
    return this.validator.modelList().map((m) => {
      const mf = modelManifest(m);
      const last = m.sliced ? m.sliced.slices[m.sliced.slices.length - 1]! : m.artifacts;
      const enc = mf.input;
      return {
        modelId: m.modelId,
        name: mf.name,
        input: {
          name: enc.name,
          shape: enc.shape,
          size: enc.size,
          range: enc.range,
          bits: enc.bits,
          scale: enc.scale,
          min: enc.min,
          max: enc.max,
        },
        outputs: mf.outputs.map((o) => ({ name: o.name, shape: o.shape, scale: o.scale, size: o.size })),
        outputsHashed: last.manifest.publicSignals.outputsHashed,
        constraints: m.sliced ? m.sliced.manifest.totalConstraints : m.artifacts.manifest.circuit.constraints,
        slices: m.sliced ? m.sliced.slices.length : null,
        settlement: this.settleable.has(m.modelId),
      };
    });
  }

  private findModel(idOrName: string): Model {
    const models = this.validator.modelList();
    const m =
      models.find((x) => x.modelId === idOrName) ?? models.find((x) => modelManifest(x).name === idOrName);
    if (!m)
      throw new GatewayError(
        'UNKNOWN_MODEL',
        `unknown model ${idOrName} (served: ${models.map((x) => x.modelId.slice(0, 12)).join(', ')}; GET /v1/models)`,
      );
    return m;
  }

  private async vkeyOf(modelId: string): Promise<unknown> {
    const m = this.findModel(modelId);
    // the validator holds each key in memory (a sliced model's are cached per slice)
    return m.sliced ? { slices: await sliceVkeys(m.sliced) } : m.vkey;
  }

  private async miners(): Promise<object> {
    const scores = this.validator.store.scores();
    const round = this.validator.store.lastRound();
    const all = await this.validator.miners();
    const weights = weightsFromScores(all.map((m) => scores.get(m.hotkey) ?? freshScore(m.hotkey)));
    return {
      round,
      miners: all.map((m) => {
        const s = scores.get(m.hotkey);
        return {
          hotkey: m.hotkey,
          score: s?.score ?? 0,
          weight: weights.get(m.hotkey) ?? 0,
          verified: s?.verified ?? 0,
          invalid: s?.invalid ?? 0,
          transport: s?.transport ?? 0,
          coolingDown: (s?.cooldownUntil ?? 0) > round,
        };
      }),
      history: this.validator.store
        .requests()
        .slice(-300)
        .map((r) => ({
          round: r.round,
          hotkey: r.hotkey,
          outcome: r.outcome,
          latencyMs: r.latencyMs,
          scoreAfter: r.scoreAfter,
        })),
    };
  }

  private recent(limitParam: string | null): object {
    const limit = limitParam === null ? 20 : Number(limitParam);
    if (!Number.isInteger(limit) || limit < 1 || limit > 200)
      throw new GatewayError('BAD_REQUEST', `limit must be an integer in [1, 200], got ${limitParam}`);
    return {
      results: this.store.recentResults(limit).map((r) => {
        const body = (r.body ?? {}) as { class?: number; miner?: string; latencyMs?: number };
        const ok = r.status === 'verified';
        return {
          id: r.id,
          status: r.status,
          modelId: r.modelId,
          createdAt: r.createdAt,
          class: ok ? (body.class ?? null) : null,
          miner: ok ? (body.miner ?? null) : null,
          latencyMs: ok ? (body.latencyMs ?? null) : null,
        };
      }),
    };
  }

  private async infer(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    path: string,
  ): Promise<void> {
    const text = await readBody(req);
    const caller = await this.auth.authenticate((n) => headerOf(req, n), method, path, text);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (e) {
      throw new GatewayError('BAD_REQUEST', `the body is not JSON: ${(e as Error).message}`);
    }
    const request = parseInferenceRequest(body, this.config);
    const model = this.findModel(request.model);
    const mf = modelManifest(model);
    checkInput(request.input, mf.input, mf.name);
    if (request.settle && !this.settleable.has(model.modelId))
      throw new GatewayError(
        'SETTLEMENT_UNAVAILABLE',
        !this.settler
          ? 'this gateway settles nothing (no settlement in its config): send settle: false and verify the bundle yourself'
          : `model ${mf.name} is not registered on the AVS`,
      );
    if (this.answering >= this.config.maxInFlight)
      throw new GatewayError(
        'OVERLOADED',
        `the gateway is answering ${this.answering} requests, its limit; retry shortly`,
        1,
      );
    const quota = this.store.takeQuota(caller.id, caller.quotaPerMinute);
    if (!quota.ok)
      throw new GatewayError(
        'QUOTA_EXCEEDED',
        `quota of ${caller.quotaPerMinute} requests a minute used up for ${caller.id}; retry in ${quota.retryAfter} s`,
        quota.retryAfter,
      );

    const id = randomUUID();
    const createdAt = new Date().toISOString();
    const started = performance.now();
    this.store.createResult(id, model.modelId, caller.id);
    this.hub.open(id);
    this.hub.emit(id, 'queued', { modelId: model.modelId });
    this.answering++;
    const work = this.track(
      (async () => {
        try {
          const opened = request.settle ? await this.openTask(id, model, request.input) : undefined;
          const { answer, scored } = await answerOrganic(this.validator, model, request.input, {
            redundancy: request.redundancy,
            deadlineMs: request.deadlineMs,
            onEvent: (e) => this.hub.emit(id, e.type, { ...e }),
            ...(opened ? { avs: opened.avs } : {}),
          });
          this.track(scored).catch((e: unknown) => this.log({ msg: 'scoring failed', id, error: String(e) }));
          const { modelName, ...rest } = answer;
          const result: { -readonly [K in keyof GatewayResult]: GatewayResult[K] } = {
            id,
            status: 'verified',
            verified: true,
            ...rest,
            model: modelName,
            totalMs: Math.round(performance.now() - started),
            createdAt,
            settlement: null,
          };
          if (opened) {
            // a verified answer is returned even when its settlement fails (the bundle can still settle)
            result.settlement = await this.settler!.settle(
              opened,
              provenAnswerOf(answer.bundle),
              30_000,
              (s) => {
                // settled later by the queue: the stored result says so
                this.store.finishResult(id, 'verified', { ...result, settlement: s });
                this.log({ msg: 'settled late', id, ...s });
              },
            ).catch((e: unknown) => ({
              taskId: opened.taskId,
              status: 'failed' as const,
              txHash: null,
              error: `the settlement could not be queued: ${(e as Error).message}`,
            }));
            this.hub.emit(id, 'settled', { ...result.settlement });
          }
          this.store.finishResult(id, 'verified', result);
          this.hub.emit(id, 'done', result);
          this.log({ msg: 'organic', id, miner: answer.miner, class: answer.class, totalMs: result.totalMs });
          return { status: 200, body: result as object };
        } catch (e) {
          const err = e instanceof GatewayError ? e : new GatewayError('INTERNAL', (e as Error).message);
          this.store.finishResult(id, 'failed', err.toJSON());
          this.hub.emit(id, 'failed', err.toJSON());
          this.log({ msg: 'organic failed', id, code: err.code, error: err.message });
          return { status: err.status, body: err.toJSON() as object };
        } finally {
          this.answering--;
        }
      })(),
    );
    if (request.async) {
      send(res, 202, {
        id,
        status: 'pending',
        result: `/v1/inference/${id}`,
        events: `/v1/inference/${id}/events`,
      });
      return;
    }
    const out = await work;
    send(res, out.status, out.body);
  }

  /** Creates the AVS task a settled request's proof must be bound to. */
  private async openTask(id: string, model: Model, input: readonly number[]): Promise<OpenedTask> {
    const inputHash = await inputHashOf(input, model.artifacts.manifest.input);
    try {
      const opened = await this.settler!.open(model.modelId, inputHash);
      this.hub.emit(id, 'task', { taskId: opened.taskId });
      return opened;
    } catch (e) {
      throw new GatewayError('SETTLEMENT_FAILED', `could not create the AVS task: ${(e as Error).message}`);
    }
  }

  /** Server-sent events of one request; a finished request not in the hub gets its final event. */
  private stream(res: ServerResponse, stored: StoredResult): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    const write = (e: HubEvent) => {
      res.write(`event: ${e.type}\ndata: ${JSON.stringify({ at: e.at, ...e.data })}\n\n`);
      if (e.type === 'done' || e.type === 'failed') res.end();
    };
    const unsubscribe = this.hub.subscribe(stored.id, write);
    if (unsubscribe) {
      // a comment line now and then keeps proxies from closing a stream that waits on a proof
      const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
      res.on('close', () => {
        clearInterval(ping);
        unsubscribe();
      });
      return;
    }
    const at = stored.finishedAt ?? stored.createdAt;
    if (stored.status === 'verified')
      write({ type: 'done', at, data: stored.body as Record<string, unknown> });
    else if (stored.status === 'failed')
      write({ type: 'failed', at, data: stored.body as Record<string, unknown> });
    else res.end();
  }
}

function storedBody(r: StoredResult): object {
  if (r.status === 'verified') return r.body as object;
  if (r.status === 'pending')
    return { id: r.id, status: 'pending', modelId: r.modelId, createdAt: r.createdAt };
  return {
    id: r.id,
    status: 'failed',
    modelId: r.modelId,
    createdAt: r.createdAt,
    error: (r.body as { error: unknown }).error,
  };
}

const staticFiles = new Map<string, Promise<Buffer>>();
/** A page file, read once (snarkjs's bundle is 0.7 MB; it does not change while the gateway runs). */
function staticFile(path: string): Promise<Buffer> {
  let f = staticFiles.get(path);
  if (!f) {
    f = readFile(path);
    // a failed read is not remembered: the next request tries again
    f.catch(() => staticFiles.delete(path));
    staticFiles.set(path, f);
  }
  return f;
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

/**
 * The body as text. A body over the limit is read to its end but not kept (answering before the
 * client finished sending would reset the connection), up to 8× the limit; beyond that the
 * connection is cut.
 */
async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 8 * MAX_BODY_BYTES) {
      req.destroy();
      break;
    }
    if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  if (size > MAX_BODY_BYTES)
    throw new GatewayError('PAYLOAD_TOO_LARGE', `the body is larger than ${MAX_BODY_BYTES} bytes`);
  return Buffer.concat(chunks).toString('utf8');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The proof(s) a verified bundle settles with: a sliced bundle's slice proofs in order. */
function provenAnswerOf(bundle: ProofBundle | SlicedBundle): ProvenAnswer {
  const one = (b: ProofBundle) => ({ proof: b.proof, publicSignals: b.publicSignals });
  return 'slices' in bundle ? { slices: bundle.slices.map(one) } : one(bundle);
}
