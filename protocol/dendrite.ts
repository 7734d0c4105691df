import { randomUUID } from 'node:crypto';
import { HEADERS } from './headers.ts';
import type { Hotkey } from './keys.ts';
import { answerSigningMessage, bodyHash, signingMessage, verifySignature } from './signing.ts';

/** Why a call produced no usable answer: transport failures are kept apart from bad answers. */
export type CallFailure = 'timeout' | 'connection' | 'http' | 'malformed' | 'signature';

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
  let bytes: Buffer;
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
    bytes = read;
  } catch (cause) {
    // a body that stalls or breaks off is a transport failure, whatever stage it hits
    return { ok: false, ...transportFailure(cause), latencyMs: latency() };
  }
  const unsigned = await answerSignatureProblem(response.headers, bytes, {
    nonce,
    dendriteHotkey: options.hotkey.ss58,
    axonHotkey: options.axonHotkey,
    uuid,
  });
  if (unsigned) {
    // whoever altered the answer, it was not the miner's: a transport failure, not a cheat
    return {
      ok: false,
      failure: 'signature',
      status: response.status,
      detail: unsigned,
      latencyMs: latency(),
    };
  }
  const raw = bytes.toString('utf8');
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

/**
 * Checks the axon's signature over its answer, when it sent one: the body hash must be the body's,
 * the nonce the request's, and the signature the axon hotkey's. Returns what is wrong, or null.
 */
async function answerSignatureProblem(
  headers: Headers,
  body: Buffer,
  request: { nonce: string; dendriteHotkey: string; axonHotkey: string; uuid: string },
): Promise<string | null> {
  const signature = headers.get(HEADERS.axonSignature);
  if (signature === null) return null;
  const hash = bodyHash(body);
  if (headers.get(HEADERS.bodyHash) !== hash) return 'the answer does not match its computed_body_hash';
  if (headers.get(HEADERS.axonNonce) !== request.nonce)
    return `the answer is signed for nonce ${headers.get(HEADERS.axonNonce)}, not this request's`;
  const message = answerSigningMessage({ ...request, bodyHash: hash });
  if (!(await verifySignature(message, signature, request.axonHotkey)))
    return "the answer's signature does not verify for the miner's hotkey";
  return null;
}

/** The body's bytes, or undefined once it passes `max` bytes (the rest is never read). */
async function readCapped(response: Response, max: number): Promise<Buffer | undefined> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > max) {
    await response.body?.cancel().catch(() => {});
    return undefined;
  }
  if (!response.body) return Buffer.alloc(0);
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
  return Buffer.concat(chunks);
}
