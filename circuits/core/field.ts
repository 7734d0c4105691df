/** The BN254 scalar field r (snarkjs's and circom's default prime), 0x30644e72…f0000001. */
export const FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** Signed integer → field element (negative v becomes p + v). Requires |v| < p/2. */
export function toField(v: bigint): bigint {
  const m = v % FIELD_MODULUS;
  return m < 0n ? m + FIELD_MODULUS : m;
}

/** Field element → signed integer (values above p/2 are negative). */
export function fromField(f: bigint): bigint {
  return f > FIELD_MODULUS / 2n ? f - FIELD_MODULUS : f;
}
