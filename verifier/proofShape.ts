import type { Groth16Proof, VerificationKey } from 'snarkjs';
import { FIELD_MODULUS } from '../circuits/core/field.ts';

/** BN254 base field q: proof coordinates are elements of it. */
export const BASE_FIELD_MODULUS =
  21888242871839275222246405745257275088696311157297823662689037894645226208583n;

const DECIMAL = /^(0|[1-9][0-9]{0,80})$/;

function isFieldString(v: unknown, modulus: bigint): boolean {
  return typeof v === 'string' && DECIMAL.test(v) && BigInt(v) < modulus;
}

/** Why a proof object is malformed, or null when its shape is a Groth16/bn128 proof. */
export function proofShapeError(proof: unknown): string | null {
  if (typeof proof !== 'object' || proof === null) return 'the proof is not an object';
  const p = proof as Partial<Record<keyof Groth16Proof, unknown>>;
  if (p.protocol !== undefined && p.protocol !== 'groth16')
    return `protocol is ${JSON.stringify(p.protocol)}, not groth16`;
  if (p.curve !== undefined && p.curve !== 'bn128') return `curve is ${JSON.stringify(p.curve)}, not bn128`;
  const g1 = (v: unknown, name: string) =>
    Array.isArray(v) && v.length === 3 && v.every((c) => isFieldString(c, BASE_FIELD_MODULUS))
      ? null
      : `${name} must be 3 decimal coordinates below the base field modulus`;
  const g2 =
    Array.isArray(p.pi_b) &&
    p.pi_b.length === 3 &&
    p.pi_b.every(
      (pair) =>
        Array.isArray(pair) && pair.length === 2 && pair.every((c) => isFieldString(c, BASE_FIELD_MODULUS)),
    )
      ? null
      : 'pi_b must be 3 pairs of decimal coordinates below the base field modulus';
  return g1(p.pi_a, 'pi_a') ?? g2 ?? g1(p.pi_c, 'pi_c');
}

/** Why public signals are malformed (for a key expecting nPublic), or null. */
export function publicSignalsError(signals: unknown, nPublic: number): string | null {
  if (!Array.isArray(signals)) return 'the public signals are not an array';
  if (signals.length !== nPublic) return `the key expects ${nPublic} public signals, got ${signals.length}`;
  const bad = signals.findIndex((s) => !isFieldString(s, FIELD_MODULUS));
  return bad >= 0 ? `public signal ${bad} is not a decimal field element below r` : null;
}

/** Why a verification key is unusable, or null. */
export function vkeyShapeError(vkey: unknown): string | null {
  if (typeof vkey !== 'object' || vkey === null) return 'the verification key is not an object';
  const k = vkey as Partial<VerificationKey> & { IC?: unknown; vk_alpha_1?: unknown };
  if (k.protocol !== 'groth16')
    return `the verification key's protocol is ${JSON.stringify(k.protocol)}, not groth16`;
  if (k.curve !== 'bn128') return `the verification key's curve is ${JSON.stringify(k.curve)}, not bn128`;
  if (!Number.isInteger(k.nPublic) || (k.nPublic as number) < 0)
    return 'the verification key has no valid nPublic';
  if (!Array.isArray(k.IC) || k.IC.length !== (k.nPublic as number) + 1)
    return "the verification key's IC does not have nPublic + 1 points";
  for (const key of ['vk_alpha_1', 'vk_beta_2', 'vk_gamma_2', 'vk_delta_2'] as const) {
    if (!Array.isArray((k as Record<string, unknown>)[key])) return `the verification key lacks ${key}`;
  }
  return null;
}
