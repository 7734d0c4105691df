import { createHash } from 'node:crypto';
import { keccak_256 } from '@noble/hashes/sha3';
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
  /**
   * Set when the proof is to settle an AVS task by the proven path: the binding is then the task
   * manager's bindingOf(taskId, prover), so the proof is good for that task and that operator only.
   */
  readonly avs?: AvsBindingParts;
}

export interface AvsBindingParts {
  /** Decimal chain id. */
  readonly chainId: string;
  /** The task manager's address (0x + 40 hex digits). */
  readonly taskManager: string;
  readonly taskId: number;
  /** The operator that submits the proof (0x + 40 hex digits). */
  readonly prover: string;
}

/** Why `avs` binding parts are malformed, or undefined when they are well formed. Pure. */
export function avsPartsError(avs: unknown): string | undefined {
  if (typeof avs !== 'object' || avs === null) return 'binding.avs must be an object';
  const a = avs as Record<string, unknown>;
  if (typeof a['chainId'] !== 'string' || !/^[0-9]{1,20}$/.test(a['chainId']))
    return 'binding.avs.chainId must be a decimal string';
  for (const k of ['taskManager', 'prover'])
    if (typeof a[k] !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(a[k] as string))
      return `binding.avs.${k} must be an address (0x + 40 hex digits)`;
  if (!Number.isInteger(a['taskId']) || (a['taskId'] as number) < 0 || (a['taskId'] as number) > 0xffffffff)
    return 'binding.avs.taskId must be a uint32';
  return undefined;
}

/**
 * The AVS task manager's bindingOf(taskId, prover):
 * keccak256(abi.encode(chainid, taskManager, uint32 taskId, prover)) mod r.
 */
export function avsBinding(a: AvsBindingParts): bigint {
  const word = (v: bigint) => v.toString(16).padStart(64, '0');
  const hex =
    word(BigInt(a.chainId)) + word(BigInt(a.taskManager)) + word(BigInt(a.taskId)) + word(BigInt(a.prover));
  const digest = keccak_256(Buffer.from(hex, 'hex'));
  return BigInt(`0x${Buffer.from(digest).toString('hex')}`) % FIELD_MODULUS;
}

/** A hotkey as a field element: the first 31 bytes of sha256(ss58 address). */
function hotkeyField(ss58: string): bigint {
  return BigInt(`0x${createHash('sha256').update(ss58).digest('hex').slice(0, 62)}`);
}

/**
 * The binding a challenge's proof must commit to: Poseidon(nonce, H(validator), H(miner)). A proof
 * for one request, or made for another miner, carries another binding and is worthless here.
 * With `avs` parts, the AVS task's binding instead (see {@link avsBinding}).
 */
export async function computeBinding(parts: BindingParts): Promise<bigint> {
  if (parts.avs !== undefined) {
    const why = avsPartsError(parts.avs);
    if (why) throw new InvalidInputError(why);
    return avsBinding(parts.avs);
  }
  if (!/^[0-9]{1,39}$/.test(parts.nonce) || BigInt(parts.nonce) >= 1n << 128n) {
    throw new InvalidInputError('the binding nonce must be a decimal integer below 2^128');
  }
  return poseidonHashChain([
    BigInt(parts.nonce),
    hotkeyField(parts.validatorHotkey),
    hotkeyField(parts.minerHotkey),
  ]);
}
