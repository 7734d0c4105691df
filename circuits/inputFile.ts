import { readFile } from 'node:fs/promises';
import { InvalidInputError, ZkinferError } from '../protocol/errors.ts';

/**
 * Reads a model input file: JSON `{"input": [...]}` with float values, flat or nested in the
 * model's input shape. Every problem is one clear InvalidInputError naming the file and the fault.
 */
export async function readInputFile(path: string, expectedSize: number): Promise<Float64Array> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ZkinferError('IO', `cannot read input file ${path}: ${(cause as Error).message}`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new InvalidInputError(`${path} is not valid JSON: ${(cause as Error).message}`);
  }
  return parseInputJson(json, expectedSize, path);
}

/** Validates an already-parsed input document; `label` names it in errors. */
export function parseInputJson(json: unknown, expectedSize: number, label: string): Float64Array {
  if (typeof json !== 'object' || json === null || !('input' in json)) {
    throw new InvalidInputError(`${label} must be a JSON object with an "input" array`);
  }
  const values: number[] = [];
  const walk = (v: unknown, path: string): void => {
    if (Array.isArray(v)) {
      v.forEach((item, i) => walk(item, `${path}[${i}]`));
      return;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new InvalidInputError(
        `${label}: ${path} is ${JSON.stringify(v) ?? String(v)}, not a finite number`,
      );
    }
    values.push(v);
  };
  const input = (json as { input: unknown }).input;
  if (!Array.isArray(input)) throw new InvalidInputError(`${label}: "input" must be an array`);
  walk(input, 'input');
  if (values.length !== expectedSize) {
    throw new InvalidInputError(
      `${label}: the model takes ${expectedSize} input values, the file has ${values.length}`,
    );
  }
  return Float64Array.from(values);
}
