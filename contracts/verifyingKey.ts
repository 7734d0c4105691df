import { AbiCoder, keccak256 } from 'ethers';
import { Q } from '../circuits/setup/bn254.ts';
import { ArtifactError } from '../protocol/errors.ts';

/** A Groth16 verification key as snarkjs exports it (affine points as decimal strings). */
export interface SnarkjsVkey {
  readonly protocol?: string;
  readonly curve?: string;
  readonly nPublic?: number;
  readonly vk_alpha_1: readonly string[];
  readonly vk_beta_2: readonly (readonly string[])[];
  readonly vk_gamma_2: readonly (readonly string[])[];
  readonly vk_delta_2: readonly (readonly string[])[];
  readonly IC: readonly (readonly string[])[];
}

/**
 * The key as the chain holds it (Groth16Key.sol's layout): alpha1 (x, y); beta2, gamma2, delta2
 * as (x1, x0, y1, y0); IC[0..n] as (x, y); 32-byte words. Its keccak is the model's vkHash.
 */
export function encodeVerifyingKey(vkey: SnarkjsVkey): string {
  if (vkey.protocol !== undefined && vkey.protocol !== 'groth16')
    throw new ArtifactError('ARTIFACT_INVALID', `vkey protocol is ${vkey.protocol}, not groth16`);
  if (vkey.curve !== undefined && vkey.curve !== 'bn128')
    throw new ArtifactError('ARTIFACT_INVALID', `vkey curve is ${vkey.curve}, not bn128`);
  if (!Array.isArray(vkey.IC) || vkey.IC.length < 2)
    throw new ArtifactError('ARTIFACT_INVALID', 'vkey has no IC points for its public signals');
  const words = [
    ...g1(vkey.vk_alpha_1, 'vk_alpha_1'),
    ...g2(vkey.vk_beta_2, 'vk_beta_2'),
    ...g2(vkey.vk_gamma_2, 'vk_gamma_2'),
    ...g2(vkey.vk_delta_2, 'vk_delta_2'),
    ...vkey.IC.flatMap((p, i) => g1(p, `IC[${i}]`)),
  ];
  return AbiCoder.defaultAbiCoder().encode(
    words.map(() => 'uint256'),
    words,
  );
}

/** keccak256 of the encoded key: what the service manager records as vkHash. */
export function vkHashOf(vkey: SnarkjsVkey): string {
  return keccak256(encodeVerifyingKey(vkey));
}

function coordinate(v: unknown, what: string): bigint {
  let n: bigint;
  try {
    n = BigInt(String(v));
  } catch {
    throw new ArtifactError('ARTIFACT_INVALID', `vkey ${what} is not a number: ${String(v)}`);
  }
  if (n < 0n || n >= Q) throw new ArtifactError('ARTIFACT_INVALID', `vkey ${what} is outside the base field`);
  return n;
}

/** An affine G1 point [x, y, 1]. */
function g1(p: readonly string[] | undefined, what: string): bigint[] {
  if (!Array.isArray(p) || p.length < 2 || (p[2] !== undefined && String(p[2]) !== '1'))
    throw new ArtifactError('ARTIFACT_INVALID', `vkey ${what} is not an affine G1 point`);
  return [coordinate(p[0], `${what}.x`), coordinate(p[1], `${what}.y`)];
}

/** An affine G2 point [[x0, x1], [y0, y1], [1, 0]], in the precompile's (x1, x0, y1, y0) order. */
function g2(p: readonly (readonly string[])[] | undefined, what: string): bigint[] {
  const ok =
    Array.isArray(p) &&
    p.length >= 2 &&
    Array.isArray(p[0]) &&
    Array.isArray(p[1]) &&
    (p[2] === undefined || (String(p[2][0]) === '1' && String(p[2][1]) === '0'));
  if (!ok) throw new ArtifactError('ARTIFACT_INVALID', `vkey ${what} is not an affine G2 point`);
  const [x, y] = p as [readonly string[], readonly string[]];
  return [
    coordinate(x[1], `${what}.x1`),
    coordinate(x[0], `${what}.x0`),
    coordinate(y[1], `${what}.y1`),
    coordinate(y[0], `${what}.y0`),
  ];
}
