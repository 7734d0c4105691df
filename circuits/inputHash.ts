import { packInputs } from './core/inputPacking.ts';
import type { InputEncoding } from './core/quantGraph.ts';
import { quantizeInput } from './core/quantize.ts';
import { poseidonHashChain } from './poseidon.ts';

/** The circuit's inputHash public signal for quantized inputs. */
export async function inputHashOfQuantized(
  q: readonly bigint[],
  enc: Pick<InputEncoding, 'bits' | 'min'>,
): Promise<bigint> {
  return poseidonHashChain(packInputs(q, enc.bits, enc.min));
}

/** The circuit's inputHash public signal for a float input (quantized as the prover must). */
export async function inputHashOf(x: ArrayLike<number>, enc: InputEncoding): Promise<bigint> {
  return inputHashOfQuantized(quantizeInput(enc, x), enc);
}
