import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ArtifactError } from '../protocol/errors.ts';

/** circom's generated witness calculator (circuit_js/witness_calculator.js). */
export interface WitnessCalculator {
  calculateWitness(input: Record<string, unknown>, sanityCheck: boolean): Promise<bigint[]>;
  calculateWTNSBin(input: Record<string, unknown>, sanityCheck: boolean): Promise<Uint8Array>;
}

const require = createRequire(import.meta.url);

/**
 * Instantiates a circuit's witness calculator once, so that a warm process never re-reads or
 * re-compiles the wasm per witness. sanityCheck on makes circom check every === while computing.
 */
export async function loadWitnessCalculator(wasmPath: string): Promise<WitnessCalculator> {
  const builderPath = join(wasmPath, '..', 'witness_calculator.js');
  let builder: (code: Uint8Array, options?: unknown) => Promise<WitnessCalculator>;
  try {
    builder = require(builderPath) as typeof builder;
  } catch (cause) {
    throw new ArtifactError('ARTIFACT_NOT_FOUND', `witness calculator not found at ${builderPath}`, {
      cause,
    });
  }
  return builder(await readFile(wasmPath));
}
