import { randomBytes } from 'node:crypto';

/**
 * A fresh challenge from the CSPRNG: inputs uniform in the model's real-valued domain, and a 128-bit
 * nonce. (Uses node:crypto only for randomness; no other I/O.)
 */
export function makeChallenge(
  size: number,
  range: readonly [number, number],
): { input: number[]; nonce: string } {
  const raw = randomBytes(4 * size);
  const [lo, hi] = range;
  const input = Array.from(
    { length: size },
    (_, i) => lo + (raw.readUInt32LE(4 * i) / 0x1_0000_0000) * (hi - lo),
  );
  return { input, nonce: freshNonce() };
}

/** A 128-bit nonce from the CSPRNG, as a decimal string. */
export function freshNonce(): string {
  return BigInt(`0x${randomBytes(16).toString('hex')}`).toString();
}
