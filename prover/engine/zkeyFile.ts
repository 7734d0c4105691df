import { FIELD_MODULUS } from '../../circuits/core/field.ts';
import { ZkinferError } from '../../protocol/errors.ts';
import { readLE } from './frMath.ts';

/** BN254's base field modulus (the scalar field's is FIELD_MODULUS): the only curve the engine proves on. */
export const BN254_Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;

/**
 * A Groth16 proving key as snarkjs writes it (zkey format v1), as views into the file's bytes.
 * Points are affine, little-endian, Montgomery form — the curve library's memory layout — so
 * they go to WASM memory without conversion.
 */
export interface Groth16Zkey {
  readonly nVars: number;
  readonly nPublic: number;
  readonly domainSize: number;
  readonly power: number;
  readonly alpha1: Uint8Array;
  readonly beta1: Uint8Array;
  readonly beta2: Uint8Array;
  readonly delta1: Uint8Array;
  readonly delta2: Uint8Array;
  /** Section 4: u32 count, then (matrix u32, constraint u32, signal u32, value 32 bytes) each. */
  readonly coefs: Uint8Array;
  readonly nCoefs: number;
  readonly pointsA: Uint8Array;
  readonly pointsB1: Uint8Array;
  readonly pointsB2: Uint8Array;
  readonly pointsC: Uint8Array;
  readonly pointsH: Uint8Array;
}

export class ZkeyFormatError extends ZkinferError {
  override name = 'ZkeyFormatError';
  constructor(what: string) {
    super('ARTIFACT_INVALID', `proving key: ${what}`);
  }
}

/** Parses and checks every size; a truncated or foreign file is a ZkeyFormatError, never a crash. */
export function parseZkey(file: Uint8Array): Groth16Zkey {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const need = (end: number, what: string) => {
    if (end > file.byteLength) throw new ZkeyFormatError(`truncated in ${what}`);
  };
  need(12, 'header');
  if (String.fromCharCode(...file.subarray(0, 4)) !== 'zkey') throw new ZkeyFormatError('not a zkey file');
  const nSections = dv.getUint32(8, true);
  const sections = new Map<number, Uint8Array>();
  let p = 12;
  for (let i = 0; i < nSections; i++) {
    need(p + 12, 'section table');
    const id = dv.getUint32(p, true);
    const size = Number(dv.getBigUint64(p + 4, true));
    p += 12;
    need(p + size, `section ${id}`);
    if (!sections.has(id)) sections.set(id, file.subarray(p, p + size));
    p += size;
  }
  const section = (id: number): Uint8Array => {
    const s = sections.get(id);
    if (!s) throw new ZkeyFormatError(`section ${id} is missing`);
    return s;
  };
  const s1 = section(1);
  if (s1.byteLength < 4 || new DataView(s1.buffer, s1.byteOffset).getUint32(0, true) !== 1)
    throw new ZkeyFormatError('not a Groth16 key');

  const h = section(2);
  const hv = new DataView(h.buffer, h.byteOffset, h.byteLength);
  if (h.byteLength < 4 + 32 + 4 + 32 + 12 + 64 * 3 + 128 * 3)
    throw new ZkeyFormatError('Groth16 header is too short');
  let o = 0;
  const n8q = hv.getUint32(o, true);
  o += 4;
  if (n8q !== 32 || readLE(h.subarray(o, o + 32)) !== BN254_Q)
    throw new ZkeyFormatError('curve is not BN254');
  o += 32;
  const n8r = hv.getUint32(o, true);
  o += 4;
  if (n8r !== 32 || readLE(h.subarray(o, o + 32)) !== FIELD_MODULUS)
    throw new ZkeyFormatError('curve is not BN254');
  o += 32;
  const nVars = hv.getUint32(o, true);
  const nPublic = hv.getUint32(o + 4, true);
  const domainSize = hv.getUint32(o + 8, true);
  o += 12;
  const power = Math.log2(domainSize);
  if (!Number.isInteger(power) || power < 1 || power > 28)
    throw new ZkeyFormatError(`bad domain size ${domainSize}`);
  if (nPublic + 1 > nVars) throw new ZkeyFormatError('more public signals than signals');
  const take = (n: number) => {
    const v = h.subarray(o, o + n);
    o += n;
    return v;
  };
  const alpha1 = take(64);
  const beta1 = take(64);
  const beta2 = take(128);
  take(128); // gamma2: verification only
  const delta1 = take(64);
  const delta2 = take(128);

  const coefs = section(4);
  if (coefs.byteLength < 4) throw new ZkeyFormatError('coefficient section is too short');
  const nCoefs = new DataView(coefs.buffer, coefs.byteOffset).getUint32(0, true);
  if (coefs.byteLength !== 4 + nCoefs * 44)
    throw new ZkeyFormatError('coefficient section size disagrees with its count');

  const sized = (id: number, bytes: number, what: string) => {
    const s = section(id);
    if (s.byteLength !== bytes)
      throw new ZkeyFormatError(`${what} section has ${s.byteLength} bytes, expected ${bytes}`);
    return s;
  };
  return {
    nVars,
    nPublic,
    domainSize,
    power,
    alpha1,
    beta1,
    beta2,
    delta1,
    delta2,
    coefs,
    nCoefs,
    pointsA: sized(5, nVars * 64, 'A'),
    pointsB1: sized(6, nVars * 64, 'B1'),
    pointsB2: sized(7, nVars * 128, 'B2'),
    pointsC: sized(8, (nVars - nPublic - 1) * 64, 'C'),
    pointsH: sized(9, domainSize * 64, 'H'),
  };
}

/**
 * The witness values of a .wtns file (section 2: 32-byte little-endian field elements in normal
 * form), checked against the key's signal count.
 */
export function wtnsValues(file: Uint8Array, nVars: number): Uint8Array {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (file.byteLength < 12 || String.fromCharCode(...file.subarray(0, 4)) !== 'wtns')
    throw new ZkinferError('INVALID_INPUT', 'witness: not a wtns file');
  const nSections = dv.getUint32(8, true);
  let p = 12;
  let header: Uint8Array | undefined;
  let values: Uint8Array | undefined;
  for (let i = 0; i < nSections; i++) {
    if (p + 12 > file.byteLength) throw new ZkinferError('INVALID_INPUT', 'witness: truncated');
    const id = dv.getUint32(p, true);
    const size = Number(dv.getBigUint64(p + 4, true));
    p += 12;
    if (p + size > file.byteLength) throw new ZkinferError('INVALID_INPUT', 'witness: truncated');
    if (id === 1) header = file.subarray(p, p + size);
    if (id === 2) values = file.subarray(p, p + size);
    p += size;
  }
  if (!header || !values) throw new ZkinferError('INVALID_INPUT', 'witness: missing sections');
  const hv = new DataView(header.buffer, header.byteOffset, header.byteLength);
  if (hv.getUint32(0, true) !== 32 || readLE(header.subarray(4, 36)) !== FIELD_MODULUS)
    throw new ZkinferError('INVALID_INPUT', 'witness: field is not BN254 Fr');
  const n = hv.getUint32(36, true);
  if (n !== nVars || values.byteLength !== n * 32)
    throw new ZkinferError('INVALID_INPUT', `witness has ${n} signals, the proving key expects ${nVars}`);
  return values;
}
