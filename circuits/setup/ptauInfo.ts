import { open } from 'node:fs/promises';
import { ZkinferError } from '../../protocol/errors.ts';

export interface PtauInfo {
  /** Max constraints (+ public inputs + 1) is 2^power. */
  readonly power: number;
  readonly ceremonyPower: number;
  /** Prepared for phase 2 (has the Lagrange sections Groth16 setup needs). */
  readonly prepared: boolean;
}

/** Reads the header of a .ptau file (iden3 binary format). Throws PTAU_INVALID for anything else. */
export async function readPtauInfo(path: string): Promise<PtauInfo> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'r');
  } catch (cause) {
    throw new ZkinferError('IO', `cannot read ptau file ${path}: ${(cause as Error).message}`, { cause });
  }
  try {
    const { size } = await fh.stat();
    const head = Buffer.alloc(12);
    await fh.read(head, 0, 12, 0);
    if (size < 12 || head.toString('ascii', 0, 4) !== 'ptau') {
      throw new ZkinferError('PTAU_INVALID', `${path} is not a Powers of Tau (.ptau) file`);
    }
    const nSections = head.readUInt32LE(8);
    const sections = new Set<number>();
    let power = -1;
    let ceremonyPower = -1;
    let pos = 12;
    for (let s = 0; s < nSections && pos + 12 <= size; s++) {
      const sh = Buffer.alloc(12);
      await fh.read(sh, 0, 12, pos);
      const type = sh.readUInt32LE(0);
      const len = Number(sh.readBigUInt64LE(4));
      sections.add(type);
      if (type === 1) {
        const body = Buffer.alloc(Math.min(len, 64));
        await fh.read(body, 0, body.length, pos + 12);
        const n8 = body.readUInt32LE(0);
        power = body.readUInt32LE(4 + n8);
        ceremonyPower = body.length >= 12 + n8 ? body.readUInt32LE(8 + n8) : power;
      }
      pos += 12 + len;
    }
    if (power < 0) throw new ZkinferError('PTAU_INVALID', `${path} has no ptau header section`);
    if (pos > size) throw new ZkinferError('PTAU_INVALID', `${path} is truncated`);
    return { power, ceremonyPower, prepared: sections.has(12) };
  } finally {
    await fh.close();
  }
}

/** The power a circuit needs: 2^power >= constraints + public inputs + 1 (snarkjs's domain). */
export function requiredPower(constraints: number, publicInputs: number): number {
  return Math.max(1, Math.ceil(Math.log2(constraints + publicInputs + 1)));
}
