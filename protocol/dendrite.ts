import { randomUUID } from 'node:crypto';
import { HEADERS } from './headers.ts';
import type { Hotkey } from './keys.ts';
import { bodyHash, signingMessage } from './signing.ts';

/** Why a call produced no usable answer: transport failures are kept apart from bad answers. */
export type CallFailure = 'timeout' | 'connection' | 'http' | 'malformed';

export type CallResult<T> =
  | { readonly ok: true; readonly status: 200; readonly body: T; readonly latencyMs: number }
  | {
      readonly ok: false;
      readonly failure: CallFailure;
      readonly status?: number;
      readonly detail: string;
      readonly latencyMs: number;
    };

/** Strictly increasing nanosecond nonces, even when called twice within one millisecond. */
let lastNonce = 0n;
export function nextNonce(): bigint {
  const now = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  lastNonce = now > lastNonce ? now : lastNonce + 1n;
  return lastNonce;
}

export interface CallOptions {
  readonly hotkey: Hotkey;
  /** The axon's ss58 hotkey: signed into the message, so a request cannot be redirected. */
  readonly axonHotkey: string;
  readonly timeoutMs: number;
  /** Largest answer body read; a larger one is abandoned while streaming (default 1 MiB). */
  readonly maxBodyBytes?: number;
  /** Overrides for tests of the axon's checks. */
  readonly tamper?: { nonce?: bigint; uuid?: string; signature?: string; body?: string };
}

/** Signs and sends one synapse (Bittensor dendrite headers) and measures latency on this side. */
export async function callAxon<T>(
  baseUrl: string,
  synapse: string,
  body: unknown,
  options: CallOptions,
): Promise<CallResult<T>> {
  const text = options.tamper?.body ?? JSON.stringify(body);
  const nonce = (options.tamper?.nonce ?? nextNonce()).toString();
  const uuid = options.tamper?.uuid ?? randomUUID();
  const hash = bodyHash(JSON.stringify(body));
  const message = signingMessage({
    nonce,
    dendriteHotkey: options.hotkey.ss58,
    axonHotkey: options.axonHotkey,
    uuid,
    bodyHash: hash,
  });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    [HEADERS.name]: synapse,
    [HEADERS.timeout]: String(options.timeoutMs / 1000),
    [HEADERS.bodyHash]: hash,
    [HEADERS.dendriteHotkey]: options.hotkey.ss58,
    [HEADERS.dendriteNonce]: nonce,
    [HEADERS.dendriteUuid]: uuid,
    [HEADERS.dendriteSignature]: options.tamper?.signature ?? options.hotkey.sign(message),
    [HEADERS.dendriteVersion]: 'zkinfer/1',
    [HEADERS.axonHotkey]: options.axonHotkey,
  };
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  let response: Response;
  try {
    // never follow a redirect: it would re-send this signed request and challenge to any URL
    response = await fetch(`${baseUrl}/${synapse}`, {
      method: 'POST',
      headers,
      body: text,
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (cause) {
    return { ok: false, ...transportFailure(cause), latencyMs: latency() };
  }
  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel().catch(() => {});
    return {
      ok: false,
      failure: 'http',
      status: response.status,
      detail: `redirect to ${response.headers.get('location') ?? '?'} refused`,
      latencyMs: latency(),
    };
  }
  let raw: string;
  try {
    const read = await readCapped(response, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
    if (read === undefined) {
      return {
        ok: false,
        failure: 'malformed',
        status: response.status,
        detail: `the answer is larger than ${options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES} bytes`,
        latencyMs: latency(),
      };
    }
    raw = read;
  } catch (cause) {
    // a body that stalls or breaks off is a transport failure, whatever stage it hits
    return { ok: false, ...transportFailure(cause), latencyMs: latency() };
  }
  let payload: unknown;
  try {
    payload = raw ? JSON.parse(raw) : undefined;
  } catch {
    payload = undefined;
  }
  if (response.status !== 200) {
    const reason = (payload as { error?: string } | undefined)?.error ?? raw.slice(0, 200);
    return { ok: false, failure: 'http', status: response.status, detail: reason, latencyMs: latency() };
  }
  if (payload === undefined)
    return {
      ok: false,
      failure: 'malformed',
      status: 200,
      detail: 'the answer is not JSON',
      latencyMs: latency(),
    };
  return { ok: true, status: 200, body: payload as T, latencyMs: latency() };
}

const DEFAULT_MAX_BODY_BYTES = 1 << 20;

function transportFailure(cause: unknown): { failure: 'timeout' | 'connection'; detail: string } {
  const e = cause as Error & { cause?: { code?: string } };
  const isTimeout = e.name === 'TimeoutError' || e.name === 'AbortError';
  return { failure: isTimeout ? 'timeout' : 'connection', detail: e.cause?.code ?? e.message };
}

/** The body as text, or undefined once it passes `max` bytes (the rest is never read). */
async function readCapped(response: Response, max: number): Promise<string | undefined> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > max) {
    await response.body?.cancel().catch(() => {});
    return undefined;
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
