/** BN254 (alt_bn128) constants, as snarkjs and the EVM use them. */

/** Base field modulus q. */
export const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
/** Scalar field modulus r. */
export const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
/** 2-adicity of r − 1 and the principal 2^28-th root of unity (5^((r−1)/2^28)), as ffjavascript's Fr.w[28]. */
export const TWO_ADICITY = 28;
export const ROOT_2_28 = 19103219067921713944291392827692070036145651957329286315305642004821462161904n;

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

export function powMod(base: bigint, exp: bigint, m: bigint): bigint {
  let result = 1n;
  let b = mod(base, m);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return result;
}

/** Writes x (< 2^256) as 32 little-endian bytes at `off`. */
export function writeLE(out: Uint8Array, off: number, x: bigint): void {
  let v = x;
  for (let i = 0; i < 32; i++) {
    out[off + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/** x in Montgomery form mod q (x·2^256), 32 bytes LE: how wasmcurves and ptau files hold Fq. */
function montQ(x: bigint): Uint8Array {
  const out = new Uint8Array(32);
  writeLE(out, 0, mod(x << 256n, Q));
  return out;
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
