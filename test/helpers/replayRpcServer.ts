import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { ROOT } from './fixtures.ts';

export const FINNEY_DIR = join(ROOT, 'test', 'fixtures', 'subtensor-finney');

type Recorded =
  | { result?: unknown; error?: unknown }
  | { __cycle__: { result?: unknown; error?: unknown }[] };

/** Params as a lookup key: JSON, with hex strings compared without their 0x (the node takes both). */
function keyOf(method: string, params: unknown): string {
  const norm = (v: unknown): unknown =>
    typeof v === 'string' && /^0x[0-9a-f]*$/i.test(v)
      ? v.slice(2).toLowerCase()
      : typeof v === 'string' && /^[0-9a-f]+$/i.test(v) && v.length % 2 === 0
        ? v.toLowerCase()
        : Array.isArray(v)
          ? v.map(norm)
          : v;
  return `${method} ${JSON.stringify(norm(params ?? []))}`;
}

export interface ReplayServer {
  readonly url: string;
  /** Requests received, in order (method and params). */
  readonly requests: { method: string; params: unknown }[];
  /** Drops every connection (the chain going away); the server keeps listening. */
  dropConnections(): void;
  close(): Promise<void>;
}

/**
 * A WebSocket JSON-RPC server that answers from recorded subtensor responses
 * (`{operation: {method: {paramsJson: response}}}`, `__cycle__` answered in turn) with the id of the
 * request it got. `state_call("Metadata_metadata_at_version", 15)` answers with the recorded V15
 * metadata. A request nobody recorded gets a JSON-RPC error naming it, never a made-up answer;
 * `extra` adds answers a test states itself (named as such where used).
 */
/**
 * Answers a test computes itself (a stand-in for a chain's transaction pool, which no recording
 * holds): return the JSON-RPC body ({result} or {error}) or undefined to fall through to the
 * recording; `notify` sends a subscription notification.
 */
export type DynamicAnswer = (
  method: string,
  params: unknown[],
  notify: (method: string, subscription: string, result: unknown) => void,
) => { result: unknown } | { error: unknown } | undefined;

export async function startReplayServer(
  extra: Record<string, unknown> = {},
  dynamic?: DynamicAnswer,
): Promise<ReplayServer> {
  const recorded = JSON.parse(readFileSync(join(FINNEY_DIR, 'responses.json'), 'utf8')) as Record<
    string,
    Record<string, Record<string, Recorded>>
  >;
  const answers = new Map<string, Recorded>();
  for (const methods of Object.values(recorded))
    for (const [method, byParams] of Object.entries(methods))
      for (const [params, response] of Object.entries(byParams)) {
        const k = keyOf(method, JSON.parse(params));
        if (!answers.has(k)) answers.set(k, response);
      }
  const metadata = readFileSync(join(FINNEY_DIR, 'metadata-at-version.hex'), 'utf8').trim();
  answers.set(keyOf('state_call', ['Metadata_metadata_at_version', '0x0f000000']), { result: metadata });
  for (const [k, v] of Object.entries(extra)) {
    const [method, params] = JSON.parse(k) as [string, unknown];
    answers.set(keyOf(method, params), { result: v });
  }
  const turns = new Map<string, number>();
  const requests: { method: string; params: unknown }[] = [];
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  wss.on('connection', (socket) => {
    socket.on('message', (data) => {
      const req = JSON.parse(data.toString()) as { id: number; method: string; params?: unknown };
      requests.push({ method: req.method, params: req.params });
      const notify = (method: string, subscription: string, result: unknown) =>
        setTimeout(
          () => socket.send(JSON.stringify({ jsonrpc: '2.0', method, params: { subscription, result } })),
          5,
        );
      const computed = dynamic?.(req.method, (req.params ?? []) as unknown[], notify);
      if (computed) {
        socket.send(JSON.stringify({ jsonrpc: '2.0', id: req.id, ...computed }));
        return;
      }
      const k = keyOf(req.method, req.params);
      let a = answers.get(k);
      if (a && '__cycle__' in a) {
        const turn = turns.get(k) ?? 0;
        turns.set(k, turn + 1);
        a = a.__cycle__[turn % a.__cycle__.length]!;
      }
      const body = a
        ? 'error' in a && a.error !== undefined
          ? { error: a.error }
          : { result: (a as { result?: unknown }).result ?? null }
        : { error: { code: -32601, message: `not recorded: ${req.method} ${JSON.stringify(req.params)}` } };
      socket.send(JSON.stringify({ jsonrpc: '2.0', id: req.id, ...body }));
    });
  });
  const port = (wss.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    requests,
    dropConnections: () => {
      for (const c of wss.clients) c.terminate();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}
