/**
 * The public-signal layout of every zkinfer circuit, in the order snarkjs lists them
 * (circom puts outputs first, then public inputs):
 *   [ out_0 … out_{n-1} | outputHash ] , inputHash , binding
 * Outputs are the quantized model outputs as field elements (negative v encodes as p + v); when there
 * are more than MAX_PLAIN_OUTPUTS of them, one Poseidon hash of them stands in their place.
 */
export const MAX_PLAIN_OUTPUTS = 16;
/** Values packed per input limb for b-bit inputs: per * b <= 253 keeps a limb below the BN254 modulus. */
export function inputsPerLimb(bits: number): number {
  return Math.floor(253 / bits);
}
/** circomlib's Poseidon takes at most this many inputs. */
export const POSEIDON_MAX_INPUTS = 16;

export interface PublicLayout {
  /** Number of plain outputs (0 when hashed). */
  readonly plainOutputs: number;
  readonly outputsHashed: boolean;
  readonly totalOutputs: number;
  readonly names: readonly string[];
}

/** `hashOutputs` forces the hash even for few outputs (3 public signals: cheapest to verify on chain). */
export function publicLayout(totalOutputs: number, hashOutputs = false): PublicLayout {
  const hashed = hashOutputs || totalOutputs > MAX_PLAIN_OUTPUTS;
  const names = hashed ? ['outputHash'] : Array.from({ length: totalOutputs }, (_, i) => `out[${i}]`);
  return {
    plainOutputs: hashed ? 0 : totalOutputs,
    outputsHashed: hashed,
    totalOutputs,
    names: [...names, 'inputHash', 'binding'],
  };
}

/**
 * How a long list of field elements is hashed, identically in and out of the circuit:
 * h = Poseidon(x[0..15]); then h = Poseidon(h, next 15) until all are absorbed.
 * Returns the chunk sizes (number of Poseidon inputs per call).
 */
export function poseidonChain(count: number): number[] {
  if (count <= POSEIDON_MAX_INPUTS) return [count];
  const calls = [POSEIDON_MAX_INPUTS];
  for (let done = POSEIDON_MAX_INPUTS; done < count; done += POSEIDON_MAX_INPUTS - 1) {
    calls.push(1 + Math.min(POSEIDON_MAX_INPUTS - 1, count - done));
  }
  return calls;
}
