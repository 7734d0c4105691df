import { readFile } from 'node:fs/promises';
import { InvalidInputError, ZkinferError } from '../../protocol/errors.ts';

/** Reads a JSON config file: unreadable → IO error, invalid JSON → INVALID_OPTION naming the file. */
export async function readJsonConfig(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ZkinferError('IO', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new InvalidInputError(`${path} is not valid JSON: ${(cause as Error).message}`, 'INVALID_OPTION');
  }
}
