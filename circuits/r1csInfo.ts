import { open } from 'node:fs/promises';
import { ArtifactError } from '../protocol/errors.ts';

export interface R1csInfo {
  readonly nWires: number;
  readonly nPubOut: number;
  readonly nPubIn: number;
  readonly nPrvIn: number;
  readonly nLabels: number;
  readonly nConstraints: number;
}

/** Reads the header section of an .r1cs file (iden3 binary format, version 1). */
export async function readR1csInfo(path: string): Promise<R1csInfo> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(12);
    await fh.read(head, 0, 12, 0);
    if (head.toString('ascii', 0, 4) !== 'r1cs')
      throw new ArtifactError('ARTIFACT_INVALID', `${path} is not an r1cs file`);
    const nSections = head.readUInt32LE(8);
    let pos = 12;
    for (let s = 0; s < nSections; s++) {
      const sh = Buffer.alloc(12);
      await fh.read(sh, 0, 12, pos);
      const type = sh.readUInt32LE(0);
      const size = Number(sh.readBigUInt64LE(4));
      if (type === 1) {
        const body = Buffer.alloc(size);
        await fh.read(body, 0, size, pos + 12);
        const n8 = body.readUInt32LE(0);
        let o = 4 + n8;
        const u32 = () => {
          const v = body.readUInt32LE(o);
          o += 4;
          return v;
        };
        const nWires = u32();
        const nPubOut = u32();
        const nPubIn = u32();
        const nPrvIn = u32();
        const nLabels = Number(body.readBigUInt64LE(o));
        o += 8;
        const nConstraints = u32();
        return { nWires, nPubOut, nPubIn, nPrvIn, nLabels, nConstraints };
      }
      pos += 12 + size;
    }
    throw new ArtifactError('ARTIFACT_INVALID', `${path} has no r1cs header section`);
  } finally {
    await fh.close();
  }
}
