import type { Groth16Proof } from 'snarkjs';
import { FIELD_MODULUS } from '../circuits/core/field.ts';

/** BN254 base field q: proof coordinates are elements of it. */
export const BASE_FIELD_MODULUS =
  21888242871839275222246405745257275088696311157297823662689037894645226208583n;

const DECIMAL = /^(0|[1-9][0-9]{0,80})$/;

function isFieldString(v: unknown, modulus: bigint): boolean {
  return typeof v === 'string' && DECIMAL.test(v) && BigInt(v) < modulus;
}

/** A G1 point as snarkjs writes it: affine [x, y, "1"], decimal coordinates below q. */
export function isG1(v: unknown): boolean {
  return (
    Array.isArray(v) && v.length === 3 && v[2] === '1' && v.every((c) => isFieldString(c, BASE_FIELD_MODULUS))
  );
}

/** A G2 point as snarkjs writes it: affine [[x0, x1], [y0, y1], ["1", "0"]]. */
export function isG2(v: unknown): boolean {
  return (
    Array.isArray(v) &&
    v.length === 3 &&
    JSON.stringify(v[2]) === '["1","0"]' &&
    v.every(
      (pair) =>
        Array.isArray(pair) && pair.length === 2 && pair.every((c) => isFieldString(c, BASE_FIELD_MODULUS)),
    )
  );
}

/** Why a proof object is malformed, or null when it is a canonical Groth16/bn128 proof. */
export function proofShapeError(proof: unknown): string | null {
  if (typeof proof !== 'object' || proof === null) return 'the proof is not an object';
  const p = proof as Partial<Record<keyof Groth16Proof, unknown>>;
  if (p.protocol !== 'groth16') return `protocol is ${JSON.stringify(p.protocol)}, not groth16`;
  if (p.curve !== 'bn128') return `curve is ${JSON.stringify(p.curve)}, not bn128`;
  if (!isG1(p.pi_a)) return 'pi_a is not an affine G1 point [x, y, "1"] with decimal coordinates below q';
  if (!isG2(p.pi_b)) return 'pi_b is not an affine G2 point [[x0, x1], [y0, y1], ["1", "0"]] below q';
  if (!isG1(p.pi_c)) return 'pi_c is not an affine G1 point [x, y, "1"] with decimal coordinates below q';
  return null;
}

/** Why public signals are malformed (for a key expecting nPublic), or null. */
export function publicSignalsError(signals: unknown, nPublic: number): string | null {
  if (!Array.isArray(signals)) return 'the public signals are not an array';
  if (signals.length !== nPublic) return `the key expects ${nPublic} public signals, got ${signals.length}`;
  const bad = signals.findIndex((s) => !isFieldString(s, FIELD_MODULUS));
  return bad >= 0 ? `public signal ${bad} is not a decimal field element below r` : null;
}

/** Fields of a Groth16 key that verification reads (vk_alphabeta_12 is a cache snarkjs does not use). */
export const VKEY_VERIFY_FIELDS = [
  'protocol',
  'curve',
  'nPublic',
  'vk_alpha_1',
  'vk_beta_2',
  'vk_gamma_2',
  'vk_delta_2',
  'IC',
] as const;

/**
 * Why a verification key is unusable, or null. Strict on purpose: only snarkjs's canonical form
 * (decimal coordinates below q, exact point shapes) is accepted, so one key has one spelling.
 */
export function vkeyShapeError(vkey: unknown): string | null {
  if (typeof vkey !== 'object' || vkey === null) return 'the verification key is not an object';
  const k = vkey as Record<string, unknown>;
  if (k['protocol'] !== 'groth16')
    return `the verification key's protocol is ${JSON.stringify(k['protocol'])}, not groth16`;
  if (k['curve'] !== 'bn128')
    return `the verification key's curve is ${JSON.stringify(k['curve'])}, not bn128`;
  const nPublic = k['nPublic'];
  if (typeof nPublic !== 'number' || !Number.isInteger(nPublic) || nPublic < 0)
    return 'the verification key has no valid nPublic';
  const ic = k['IC'];
  if (!Array.isArray(ic) || ic.length !== nPublic + 1)
    return "the verification key's IC does not have nPublic + 1 points";
  if (!ic.every(isG1)) return "the verification key's IC holds a malformed G1 point";
  if (!isG1(k['vk_alpha_1'])) return "the verification key's vk_alpha_1 is not a canonical G1 point";
  for (const key of ['vk_beta_2', 'vk_gamma_2', 'vk_delta_2'] as const) {
    if (!isG2(k[key])) return `the verification key's ${key} is not a canonical G2 point`;
  }
  return null;
}
