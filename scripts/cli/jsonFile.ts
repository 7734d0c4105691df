import { readFile } from 'node:fs/promises';
import { InvalidInputError, ZkinferError } from '../../protocol/errors.ts';

/**
 * Reads a JSON file. An unreadable file is an IO error; invalid JSON is returned as `{ ok: false }`
 * with the reason, since callers differ (a malformed proof is "invalid", a malformed config an error).
 */
export async function readJson(
  path: string,
): Promise<{ ok: true; value: unknown } | { ok: false; why: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ZkinferError('IO', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (cause) {
    return { ok: false, why: `${path} is not valid JSON: ${(cause as Error).message}` };
  }
}

/** Reads a JSON file an option names: invalid JSON is an INVALID_OPTION error naming the file. */
export async function readJsonConfig(path: string): Promise<unknown> {
  const r = await readJson(path);
  if (!r.ok) throw new InvalidInputError(r.why, 'INVALID_OPTION');
  return r.value;
}
