import { FIELD_MODULUS } from '../circuits/core/field.ts';
import { InvalidInputError } from './errors.ts';

/** Parses a binding given as 0x-hex or decimal; it must be a field element (< r). */
export function parseBinding(text: string): bigint {
  const t = text.trim();
  let v: bigint;
  try {
    if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(t)) throw new Error('not a number');
    v = BigInt(t);
  } catch {
    throw new InvalidInputError(
      `the binding must be a 0x-hex or decimal integer, got "${text}"`,
      'INVALID_OPTION',
    );
  }
  if (v >= FIELD_MODULUS)
    throw new InvalidInputError('the binding must be smaller than the BN254 field modulus', 'INVALID_OPTION');
  return v;
}
