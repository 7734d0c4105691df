import type { FileHandle } from 'node:fs/promises';
import { ArtifactError } from '../protocol/errors.ts';

/** Where one section of an iden3 binary file (r1cs, ptau, zkey, wtns) lies: body offset and length. */
export interface SectionSpan {
  readonly pos: number;
  readonly size: number;
}

/**
 * The section table of an iden3 binary file: 4-byte magic, u32 version, u32 count, then each
 * section as u32 id, u64 length, body. Throws ARTIFACT_INVALID for another magic or a table that
 * runs past the end of the file.
 */
export async function readSectionTable(
  fh: FileHandle,
  magic: string,
  path: string,
): Promise<Map<number, SectionSpan>> {
  const { size } = await fh.stat();
  const head = Buffer.alloc(12);
  await fh.read(head, 0, 12, 0);
  if (size < 12 || head.toString('ascii', 0, 4) !== magic)
    throw new ArtifactError('ARTIFACT_INVALID', `${path} is not a ${magic} file`);
  const sections = new Map<number, SectionSpan>();
  let pos = 12;
  for (let s = 0; s < head.readUInt32LE(8); s++) {
    if (pos + 12 > size) throw new ArtifactError('ARTIFACT_INVALID', `${path} is truncated`);
    const sh = Buffer.alloc(12);
    await fh.read(sh, 0, 12, pos);
    const id = sh.readUInt32LE(0);
    const len = Number(sh.readBigUInt64LE(4));
    if (pos + 12 + len > size) throw new ArtifactError('ARTIFACT_INVALID', `${path} is truncated`);
    if (!sections.has(id)) sections.set(id, { pos: pos + 12, size: len });
    pos += 12 + len;
  }
  return sections;
}

/** The body of section `id`, or ARTIFACT_INVALID naming what is missing. */
export async function readSection(
  fh: FileHandle,
  table: Map<number, SectionSpan>,
  id: number,
  path: string,
): Promise<Buffer> {
  const span = table.get(id);
  if (!span) throw new ArtifactError('ARTIFACT_INVALID', `${path} has no section ${id}`);
  const body = Buffer.alloc(span.size);
  await fh.read(body, 0, span.size, span.pos);
  return body;
}
