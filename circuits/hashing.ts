import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** sha256 of bytes, hex. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** sha256 of a file, hex. */
export async function sha256File(path: string): Promise<string> {
  return sha256Hex(await readFile(path));
}
