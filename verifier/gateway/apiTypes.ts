import type { BindingParts } from '../../protocol/binding.ts';
import type { Settlement } from './settler.ts';

/*
 * The gateway's answers as TypeScript types: the gateway builds them and the client reads them
 * (the OpenAPI document states the same shapes for other languages; the tests hold all three equal).
 */

/** A model as GET /v1/models describes it. */
export interface GatewayModel {
  readonly modelId: string;
  readonly name: string;
  readonly input: {
    readonly name: string;
    readonly shape: readonly number[];
    readonly size: number;
    readonly range: readonly [number, number];
    readonly bits: number;
    readonly scale: number;
    /** The quantized input's bounds (integers): values are clamped to them. */
    readonly min: number;
    readonly max: number;
  };
  readonly outputs: readonly { name: string; shape: readonly number[]; scale: number; size: number }[];
  readonly outputsHashed: boolean;
  readonly constraints: number;
  readonly slices: number | null;
  readonly settlement: boolean;
}

/** A verified answer as POST /v1/inference returns it. */
export interface GatewayResult {
  readonly id: string;
  readonly status: 'verified';
  readonly verified: true;
  readonly modelId: string;
  readonly model: string;
  readonly input: readonly number[];
  readonly output: readonly number[];
  readonly class: number;
  readonly inputHash: string;
  readonly binding: BindingParts & { readonly value: string };
  readonly bundle: {
    readonly format: string;
    readonly proof?: unknown;
    readonly publicSignals?: readonly string[];
    readonly slices?: readonly unknown[];
    readonly outputs: readonly number[];
    readonly predictedClass: number;
    readonly binding: string;
  };
  readonly miner: string;
  readonly latencyMs: number;
  readonly proverTimings: { readonly queueMs: number; readonly witnessMs: number; readonly proveMs: number };
  readonly totalMs: number;
  readonly createdAt: string;
  /** With settle: true, the AVS task and the transaction that settled it. */
  readonly settlement: Settlement | null;
}
