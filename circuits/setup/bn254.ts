import { bytesLE } from '../../prover/engine/frMath.ts';

/** BN254 (alt_bn128) base-field constants and generators, as snarkjs and the EVM use them (Fr lives in prover/engine/frMath.ts). */

/** Base field modulus q. */
export const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
export const G1_GEN = { x: 1n, y: 2n };
/** G2 generator: coordinates in Fq2 as (c0, c1). */
export const G2_GEN = {
  x: [
    10857046999023057135944570762232829481370756359578518086990519993285655852781n,
    11559732032986387107991004021392285783925812861821192530917403151452391805634n,
  ],
  y: [
    8495653923123431417604973247489272438418190587263600148770280649306958101930n,
    4082367875863433681332203403145435568316851327593401208105741076214120093531n,
  ],
} as const;

export function mod(a: bigint, m: bigint): bigint {
  const x = a % m;
  return x < 0n ? x + m : x;
}

/** x in Montgomery form mod q (x·2^256), 32 bytes LE: how wasmcurves and ptau files hold Fq. */
function montQ(x: bigint): Uint8Array {
  return bytesLE(mod(x << 256n, Q));
}

/** The generators as affine points in Montgomery LE form (64 and 128 bytes). */
export function generatorBytes(): { g1: Uint8Array; g2: Uint8Array } {
  const g1 = new Uint8Array(64);
  g1.set(montQ(G1_GEN.x), 0);
  g1.set(montQ(G1_GEN.y), 32);
  const g2 = new Uint8Array(128);
  g2.set(montQ(G2_GEN.x[0]), 0);
  g2.set(montQ(G2_GEN.x[1]), 32);
  g2.set(montQ(G2_GEN.y[0]), 64);
  g2.set(montQ(G2_GEN.y[1]), 96);
  return { g1, g2 };
}
