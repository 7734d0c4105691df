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
    response = await fetch(`${baseUrl}/${synapse}`, {
      method: 'POST',
      headers,
      body: text,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (cause) {
    const e = cause as Error & { cause?: { code?: string } };
    const isTimeout = e.name === 'TimeoutError' || e.name === 'AbortError';
    return {
      ok: false,
      failure: isTimeout ? 'timeout' : 'connection',
      detail: e.cause?.code ?? e.message,
      latencyMs: latency(),
    };
  }
  let payload: unknown;
  const raw = await response.text().catch(() => '');
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
