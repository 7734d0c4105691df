import { AbiCoder, keccak256 } from 'ethers';
import type { Groth16Proof } from 'snarkjs';
import { FIELD_MODULUS } from '../circuits/core/field.ts';

/** TaskManager.Status, by its numeric value. */
export const TASK_STATUS = [
  'None',
  'Open',
  'Proven',
  'Attested',
  'Finalized',
  'Overturned',
  'Refunded',
] as const;

const coder = AbiCoder.defaultAbiCoder();

/** TaskManager.bindingOf, computed off-chain: keccak256(abi.encode(chainId, taskManager, taskId, prover)) mod r. */
export function taskBinding(chainId: bigint, taskManager: string, taskId: number, prover: string): bigint {
  return (
    BigInt(
      keccak256(
        coder.encode(['uint256', 'address', 'uint32', 'address'], [chainId, taskManager, taskId, prover]),
      ),
    ) % FIELD_MODULUS
  );
}

/** TaskManager.resultHashOf: keccak256 of the output signals (all but inputHash and binding). */
export function resultHashOf(publicSignals: readonly string[]): string {
  const outputs = publicSignals.slice(0, -2);
  return keccak256(
    coder.encode(
      outputs.map(() => 'uint256'),
      outputs,
    ),
  );
}

export interface SolidityProof {
  readonly a: [bigint, bigint];
  readonly b: [[bigint, bigint], [bigint, bigint]];
  readonly c: [bigint, bigint];
}

/** Groth16 proof in the verifier's calldata layout (G2 coordinates swapped, as snarkjs exports). */
export function toSolidityProof(p: Groth16Proof): SolidityProof {
  const n = (v: string | undefined) => BigInt(v ?? '0');
  return {
    a: [n(p.pi_a[0]), n(p.pi_a[1])],
    b: [
      [n(p.pi_b[0]?.[1]), n(p.pi_b[0]?.[0])],
      [n(p.pi_b[1]?.[1]), n(p.pi_b[1]?.[0])],
    ],
    c: [n(p.pi_c[0]), n(p.pi_c[1])],
  };
}

/** The inverse of {@link toSolidityProof}: snarkjs's affine JSON form. */
export function fromSolidityProof(s: {
  a: readonly bigint[];
  b: readonly (readonly bigint[])[];
  c: readonly bigint[];
}): Groth16Proof {
  const d = (v: bigint | undefined) => (v ?? 0n).toString();
  return {
    pi_a: [d(s.a[0]), d(s.a[1]), '1'],
    pi_b: [
      [d(s.b[0]?.[1]), d(s.b[0]?.[0])],
      [d(s.b[1]?.[1]), d(s.b[1]?.[0])],
      ['1', '0'],
    ],
    pi_c: [d(s.c[0]), d(s.c[1]), '1'],
    protocol: 'groth16',
    curve: 'bn128',
  };
}
