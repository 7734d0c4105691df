import { fromField, toField } from '../../circuits/core/field.ts';
import { sha256Hex } from '../../circuits/hashing.ts';
import { inputHashOf } from '../../circuits/inputHash.ts';
import { poseidonHashChain } from '../../circuits/poseidon.ts';
import { modelIdOf } from '../../circuits/setup/setup.ts';
import { computeBinding } from '../../protocol/binding.ts';
import type { Hotkey } from '../../protocol/keys.ts';
import { verifyProof } from '../verifyProof.ts';
import type { GatewayModel, GatewayResult } from './apiTypes.ts';
import { gatewaySigningMessage, SIGNED_HEADERS } from './auth.ts';
import type { GatewayErrorCode } from './gatewayError.ts';

export type { GatewayModel, GatewayResult };

/** An error answer of the gateway (or a transport failure: code TRANSPORT, status 0). */
export class GatewayClientError extends Error {
  override name = 'GatewayClientError';
  constructor(
    readonly code: GatewayErrorCode | 'TRANSPORT' | 'BAD_RESPONSE',
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** What a local check of a result found: ok, or the first thing that is wrong. */
export type LocalVerification = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface GatewayClientOptions {
  /** An API key from `zkinfer gateway keys create`. */
  readonly apiKey?: string;
  /** Or sign each request with an sr25519 hotkey the gateway allows. */
  readonly hotkey?: Hotkey;
  readonly timeoutMs?: number;
}

/**
 * A typed client of the zkinfer gateway. `infer` returns the gateway's answer; `verifyLocally`
 * checks it without trusting the gateway: the verification key (a sliced model's slice keys, in
 * order) must hash to the modelId asked for, the proof (every slice proof, chained) must verify
 * for this input's hash and the recomputed binding, and the returned outputs must be the proven
 * ones (or hash to the proven outputHash).
 */
export class GatewayClient {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly options: GatewayClientOptions = {},
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  async models(): Promise<GatewayModel[]> {
    return ((await this.get('/v1/models')) as { models: GatewayModel[] }).models;
  }

  /** The model by modelId or name. */
  async model(idOrName: string): Promise<GatewayModel> {
    const all = await this.models();
    const m = all.find((x) => x.modelId === idOrName) ?? all.find((x) => x.name === idOrName);
    if (!m) throw new GatewayClientError('UNKNOWN_MODEL', 404, `the gateway does not serve ${idOrName}`);
    return m;
  }

  verificationKey(modelId: string): Promise<unknown> {
    return this.get(`/v1/models/${encodeURIComponent(modelId)}/vkey`);
  }

  async infer(
    model: string,
    input: readonly number[],
    options: { redundancy?: number; deadlineMs?: number; settle?: boolean } = {},
  ): Promise<GatewayResult> {
    return (await this.request('POST', '/v1/inference', { model, input, ...options })) as GatewayResult;
  }

  /** A stored result: verified, pending or failed. */
  result(id: string): Promise<unknown> {
    return this.get(`/v1/inference/${encodeURIComponent(id)}`);
  }

  /**
   * Checks a result locally against the key the gateway serves for `expectedModelId` (the id the
   * caller trusts, e.g. from a registry or the AVS). Never throws for a bad result: `{ ok: false }`.
   */
  async verifyLocally(
    result: GatewayResult,
    expectedModelId: string,
    model?: GatewayModel,
  ): Promise<LocalVerification> {
    if (result.modelId !== expectedModelId)
      return { ok: false, reason: `the result is for model ${result.modelId}, not ${expectedModelId}` };
    const info = model ?? (await this.model(expectedModelId));
    const inputHash = await inputHashOf(result.input, info.input);
    let binding: bigint;
    try {
      binding = await computeBinding(result.binding);
    } catch (e) {
      return { ok: false, reason: `the binding parts are malformed: ${(e as Error).message}` };
    }
    if (binding.toString() !== result.binding.value)
      return { ok: false, reason: 'the binding value is not the one its parts derive' };
    const proofs =
      info.slices === null
        ? await this.checkOne(result, expectedModelId, inputHash, binding)
        : await this.checkChain(result, expectedModelId, info.slices, inputHash, binding);
    if (!proofs.ok) return proofs;
    const signals = proofs.lastSignals;
    const n = signals.length;
    const scales = info.outputs.flatMap((o) => new Array<number>(o.size).fill(o.scale));
    if (result.output.length !== scales.length)
      return {
        ok: false,
        reason: `the result has ${result.output.length} outputs; the model has ${scales.length}`,
      };
    if (info.outputsHashed) {
      // the proof publishes Poseidon over the quantized outputs: the returned ones must hash to it
      const quantized = result.output.map((v, i) => toField(BigInt(Math.round(v * 2 ** scales[i]!))));
      if ((await poseidonHashChain(quantized)).toString() !== signals[0])
        return { ok: false, reason: 'the outputs returned do not hash to the proven outputHash' };
    } else {
      const proven = signals.slice(0, n - 2).map((s, i) => Number(fromField(BigInt(s))) / 2 ** scales[i]!);
      if (
        proven.length !== result.output.length ||
        proven.some((v, i) => Math.abs(v - result.output[i]!) > 1e-9)
      )
        return { ok: false, reason: 'the outputs returned are not the proven outputs' };
    }
    const first = info.outputs[0]!;
    if (first.size > 1) {
      const head = result.output.slice(0, first.size);
      if (head.indexOf(Math.max(...head)) !== result.class)
        return { ok: false, reason: `class ${result.class} is not the arg-max of the proven outputs` };
    }
    return { ok: true };
  }

  /** One circuit: its key must hash to the modelId; its proof must verify for this input and binding. */
  private async checkOne(
    result: GatewayResult,
    modelId: string,
    inputHash: bigint,
    binding: bigint,
  ): Promise<{ ok: true; lastSignals: readonly string[] } | { ok: false; reason: string }> {
    const vkey = await this.verificationKey(modelId);
    if (modelIdOf(vkey) !== modelId)
      return {
        ok: false,
        reason: 'the verification key served does not hash to the modelId: the gateway swapped keys',
      };
    const signals = result.bundle.publicSignals ?? [];
    const n = signals.length;
    const r = await verifyProof(vkey, signals, result.bundle.proof, {
      inputHash: { index: n - 2, value: inputHash },
      binding: { index: n - 1, value: binding },
    });
    return r.ok ? { ok: true, lastSignals: signals } : { ok: false, reason: `${r.reason}: ${r.detail}` };
  }

  /**
   * A sliced model: the slice keys must hash, in order, to the modelId; every slice proof must
   * verify under its key with this binding; slice 0 must prove from this input's hash and each
   * later slice from its predecessor's outputHash.
   */
  private async checkChain(
    result: GatewayResult,
    modelId: string,
    count: number,
    inputHash: bigint,
    binding: bigint,
  ): Promise<{ ok: true; lastSignals: readonly string[] } | { ok: false; reason: string }> {
    const keys = (await this.verificationKey(modelId)) as { slices?: unknown };
    if (!Array.isArray(keys.slices) || keys.slices.length !== count)
      return { ok: false, reason: `the gateway does not serve the ${count} slice keys of this model` };
    const ids = keys.slices.map(modelIdOf);
    if (sha256Hex(`zkinfer-sliced:${ids.join(',')}`) !== modelId)
      return {
        ok: false,
        reason: 'the slice keys served do not hash to the modelId: the gateway swapped keys',
      };
    const proofs = (result.bundle.slices ?? []) as {
      modelId?: unknown;
      proof?: unknown;
      publicSignals?: unknown;
    }[];
    if (proofs.length !== count)
      return { ok: false, reason: `the bundle has ${proofs.length} slice proofs, not ${count}` };
    let from = inputHash;
    let last: readonly string[] = [];
    for (const [k, p] of proofs.entries()) {
      if (p?.modelId !== ids[k])
        return { ok: false, reason: `position ${k} does not hold slice ${k}'s proof` };
      const signals = Array.isArray(p.publicSignals) ? (p.publicSignals as string[]) : [];
      const n = signals.length;
      const r = await verifyProof(keys.slices[k], signals, p.proof, {
        inputHash: { index: n - 2, value: from },
        binding: { index: n - 1, value: binding },
      });
      if (!r.ok) return { ok: false, reason: `slice ${k}: ${r.reason}: ${r.detail}` };
      from = BigInt(signals[0]!);
      last = signals;
    }
    return { ok: true, lastSignals: last };
  }

  private get(path: string): Promise<unknown> {
    return this.request('GET', path);
  }

  private async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const text = body === undefined ? '' : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.options.apiKey) headers['authorization'] = `Bearer ${this.options.apiKey}`;
    else if (this.options.hotkey && method !== 'GET') {
      const ts = String(Date.now());
      headers[SIGNED_HEADERS.hotkey] = this.options.hotkey.ss58;
      headers[SIGNED_HEADERS.timestamp] = ts;
      headers[SIGNED_HEADERS.signature] = this.options.hotkey.sign(
        gatewaySigningMessage(method, path, ts, text),
      );
    }
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: text }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 180_000),
      });
    } catch (e) {
      throw new GatewayClientError(
        'TRANSPORT',
        0,
        `cannot reach the gateway at ${this.baseUrl}: ${(e as Error).message}`,
      );
    }
    const raw = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new GatewayClientError(
        'BAD_RESPONSE',
        res.status,
        `the gateway answered ${res.status} with non-JSON`,
      );
    }
    if (!res.ok) {
      const e = (parsed as { error?: { code?: GatewayErrorCode; message?: string } }).error;
      throw new GatewayClientError(e?.code ?? 'BAD_RESPONSE', res.status, e?.message ?? `HTTP ${res.status}`);
    }
    return parsed;
  }
}
