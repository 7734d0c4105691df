import { inputsPerLimb } from './publicSignals.ts';

/**
 * Packs quantized inputs into field limbs exactly as PackInputs does in the circuit:
 * limb[j] = Σ (q[i] − min) · 2^(bits·(i − j·per)). Requires min <= q[i] < min + 2^bits.
 */
export function packInputs(q: readonly bigint[], bits: number, min: number): bigint[] {
  const per = inputsPerLimb(bits);
  const limbs: bigint[] = [];
  for (let j = 0; j * per < q.length; j++) {
    let acc = 0n;
    for (let i = j * per; i < q.length && i < (j + 1) * per; i++) {
      acc += (q[i]! - BigInt(min)) << BigInt(bits * (i - j * per));
    }
    limbs.push(acc);
  }
  return limbs;
}
