import { buildPoseidon } from 'circomlibjs';
import { poseidonChain } from './core/publicSignals.ts';

type PoseidonFn = ((inputs: bigint[]) => Uint8Array) & { F: { toObject(x: Uint8Array): bigint } };
let poseidonPromise: Promise<PoseidonFn> | undefined;

/** circomlibjs's Poseidon, which equals circomlib's in-circuit Poseidon(n) for n <= 16. */
function poseidon(): Promise<PoseidonFn> {
  poseidonPromise ??= buildPoseidon() as Promise<PoseidonFn>;
  return poseidonPromise;
}

/** Hashes field elements with the chain the circuits use (see publicSignals.poseidonChain). */
export async function poseidonHashChain(values: readonly bigint[]): Promise<bigint> {
  const h = await poseidon();
  let taken = 0;
  let state: bigint | undefined;
  for (const size of poseidonChain(values.length)) {
    const args: bigint[] = state === undefined ? [] : [state];
    while (args.length < size) args.push(values[taken++]!);
    state = h.F.toObject(h(args));
  }
  return state!;
}
