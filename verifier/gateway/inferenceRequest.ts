import type { InputEncoding } from '../../circuits/core/quantGraph.ts';
import { GatewayError } from './gatewayError.ts';

/** A parsed POST /v1/inference body. */
export interface InferenceRequest {
  /** A modelId (64 hex digits) or a model's name. */
  readonly model: string;
  readonly input: readonly number[];
  /** Miners asked at once; the first verified answer is returned. */
  readonly redundancy: number;
  readonly deadlineMs: number;
  readonly settle: boolean;
  /** Answer 202 with the id at once; the result is fetched (or streamed) later. */
  readonly async: boolean;
}

export interface RequestLimits {
  readonly maxRedundancy: number;
  readonly defaultDeadlineMs: number;
  readonly maxDeadlineMs: number;
}

const KEYS = new Set(['model', 'input', 'redundancy', 'deadlineMs', 'settle', 'async']);

/** Validates the body's shape (the input against its model is checked by {@link checkInput}). Pure. */
export function parseInferenceRequest(body: unknown, limits: RequestLimits): InferenceRequest {
  const bad = (m: string) => new GatewayError('BAD_REQUEST', m);
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw bad('the body must be a JSON object {model, input, redundancy?, deadlineMs?, settle?, async?}');
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !KEYS.has(k));
  if (unknown.length > 0) throw bad(`unknown field ${unknown.map((k) => `"${k}"`).join(', ')}`);
  if (typeof b['model'] !== 'string' || b['model'].length === 0)
    throw bad('model must be a modelId (64 hex digits) or a model name');
  // flat, or nested in the model's input shape (as input files may be)
  const input = Array.isArray(b['input']) ? (b['input'] as unknown[]).flat(8) : b['input'];
  if (!Array.isArray(input) || input.length === 0) throw bad('input must be a non-empty array of numbers');
  const nonNumber = input.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (nonNumber >= 0)
    throw bad(`input[${nonNumber}] is not a finite number (got ${JSON.stringify(input[nonNumber])})`);
  const redundancy = b['redundancy'] ?? 1;
  if (
    !Number.isInteger(redundancy) ||
    (redundancy as number) < 1 ||
    (redundancy as number) > limits.maxRedundancy
  )
    throw bad(`redundancy must be an integer in [1, ${limits.maxRedundancy}]`);
  const deadlineMs = b['deadlineMs'] ?? limits.defaultDeadlineMs;
  if (
    !Number.isInteger(deadlineMs) ||
    (deadlineMs as number) < 100 ||
    (deadlineMs as number) > limits.maxDeadlineMs
  )
    throw bad(`deadlineMs must be an integer number of milliseconds in [100, ${limits.maxDeadlineMs}]`);
  for (const flag of ['settle', 'async'] as const)
    if (b[flag] !== undefined && typeof b[flag] !== 'boolean') throw bad(`${flag} must be true or false`);
  return {
    model: b['model'],
    input: input as number[],
    redundancy: redundancy as number,
    deadlineMs: deadlineMs as number,
    settle: b['settle'] === true,
    async: b['async'] === true,
  };
}

/**
 * The input against its model: its length, and every value inside the model's real-valued domain
 * (the circuit would clamp a value outside it, so the proof would not be about the value sent).
 */
export function checkInput(
  input: readonly number[],
  enc: InputEncoding & { size: number },
  model: string,
): void {
  if (input.length !== enc.size)
    throw new GatewayError(
      'BAD_REQUEST',
      `model ${model} takes ${enc.size} input values (shape [${enc.shape.join(', ')}]); got ${input.length}`,
    );
  const [lo, hi] = enc.range;
  const out = input.findIndex((v) => v < lo || v > hi);
  if (out >= 0)
    throw new GatewayError(
      'BAD_REQUEST',
      `input[${out}] = ${input[out]} is outside model ${model}'s input range [${lo}, ${hi}]`,
    );
}
