import type { Groth16Proof, VerificationKey } from 'snarkjs';
import * as snarkjs from 'snarkjs';
import { InvalidInputError } from '../protocol/errors.ts';
import { bn128 } from './bn128.ts';
import { proofShapeError, publicSignalsError, vkeyShapeError } from './proofShape.ts';

export type VerifyFailure =
  | 'malformed'
  | 'pairing'
  | 'inputHashMismatch'
  | 'bindingMismatch'
  | 'outputMismatch'
  | 'modelMismatch'
  /** A sliced model's proofs do not chain: a slice's outputHash is not the next slice's inputHash. */
  | 'chainBroken';

/** A failed verification is data (after snarkjs), not an exception. */
export type VerifyResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: VerifyFailure; readonly detail: string };

export interface Expectation {
  /** Index of the public signal and its required value. */
  readonly index: number;
  readonly value: bigint;
}
export interface Expectations {
  inputHash?: Expectation;
  binding?: Expectation;
}

/**
 * Verifies a Groth16 proof. Throws only when the verification key itself is unusable; a malformed
 * proof or public signals, a failed pairing or an unmet expectation is `{ ok: false, reason }`.
 * Expectations are checked before the pairing: they are cheap and say more.
 */
export async function verifyProof(
  vkey: unknown,
  publicSignals: unknown,
  proof: unknown,
  expect: Expectations = {},
): Promise<VerifyResult> {
  const vkeyError = vkeyShapeError(vkey);
  if (vkeyError) throw new InvalidInputError(vkeyError);
  const key = vkey as VerificationKey;
  const shape = publicSignalsError(publicSignals, key.nPublic) ?? proofShapeError(proof);
  if (shape) return { ok: false, reason: 'malformed', detail: shape };
  const signals = publicSignals as string[];
  for (const [what, reason] of [
    ['inputHash', 'inputHashMismatch'],
    ['binding', 'bindingMismatch'],
  ] as const) {
    const e = expect[what];
    if (e && BigInt(signals[e.index] ?? -1) !== e.value) {
      return { ok: false, reason, detail: `the proof's ${what} is ${signals[e.index]}, expected ${e.value}` };
    }
  }
  let valid: boolean;
  await bn128();
  try {
    valid = await snarkjs.groth16.verify(key, signals, proof as Groth16Proof, silentLogger);
  } catch (cause) {
    return {
      ok: false,
      reason: 'malformed',
      detail: `the proof cannot be read: ${(cause as Error).message}`,
    };
  }
  return valid ? { ok: true } : { ok: false, reason: 'pairing', detail: 'the pairing check failed' };
}

const silentLogger = { info() {}, debug() {}, warn() {}, error() {} };
