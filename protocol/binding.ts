import { createHash } from 'node:crypto';
import { FIELD_MODULUS } from '../circuits/core/field.ts';
import { poseidonHashChain } from '../circuits/poseidon.ts';
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

export interface BindingParts {
  /** The validator's challenge nonce (decimal string of an integer < 2^128). */
  readonly nonce: string;
  readonly validatorHotkey: string;
  readonly minerHotkey: string;
}

/** A hotkey as a field element: the first 31 bytes of sha256(ss58 address). */
function hotkeyField(ss58: string): bigint {
  return BigInt(`0x${createHash('sha256').update(ss58).digest('hex').slice(0, 62)}`);
}

/**
 * The binding a challenge's proof must commit to: Poseidon(nonce, H(validator), H(miner)). A proof
 * for one request, or made for another miner, carries another binding and is worthless here.
 */
export async function computeBinding(parts: BindingParts): Promise<bigint> {
  if (!/^[0-9]{1,39}$/.test(parts.nonce) || BigInt(parts.nonce) >= 1n << 128n) {
    throw new InvalidInputError('the binding nonce must be a decimal integer below 2^128');
  }
  return poseidonHashChain([
    BigInt(parts.nonce),
    hotkeyField(parts.validatorHotkey),
    hotkeyField(parts.minerHotkey),
  ]);
}
