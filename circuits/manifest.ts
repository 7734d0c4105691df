import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ArtifactError } from '../protocol/errors.ts';
import type { Approximation, LayerCost } from './core/codegen.ts';
import type { InputEncoding } from './core/quantGraph.ts';

export const MANIFEST_FORMAT = 'zkinfer/manifest@1';

/** Paths inside an artifact directory, relative to it. */
export const ARTIFACT_FILES = Object.freeze({
  manifest: 'manifest.json',
  qgraph: 'qgraph.json',
  circuitDir: 'circuit',
  circuit: 'circuit/circuit.circom',
  r1cs: 'circuit/circuit.r1cs',
  sym: 'circuit/circuit.sym',
  wasm: 'circuit/circuit_js/circuit.wasm',
  zkey: 'circuit.zkey',
  vkey: 'verification_key.json',
});

export interface SetupRecord {
  readonly modelId: string;
  readonly ptau: {
    readonly file: string;
    readonly sha256: string;
    readonly power: number;
    readonly dev: boolean;
  };
  readonly zkeySha256: string;
  readonly vkeySha256: string;
  readonly contributions: readonly { readonly name: string; readonly hash: string }[];
  readonly insecure: boolean;
  readonly createdAt: string;
}

export interface Manifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly name: string;
  /** sha256 over the generated source, the templates and tool versions: equal keys mean equal circuits. */
  readonly compileKey: string;
  readonly model: {
    readonly file: string;
    readonly sha256: string;
    readonly opset: number;
    readonly producer: string;
    readonly ops: readonly string[];
  };
  readonly input: InputEncoding & { readonly size: number; readonly perLimb: number; readonly limbs: number };
  readonly outputs: readonly {
    readonly name: string;
    readonly shape: readonly number[];
    readonly scale: number;
    readonly size: number;
  }[];
  readonly publicSignals: {
    readonly names: readonly string[];
    readonly outputsHashed: boolean;
    /** A slice that is not the last: the outputHash is over the outputs packed as the next slice's input. */
    readonly outputsPacked?: { readonly bits: number; readonly min: number };
  };
  readonly quantization: {
    readonly inputBits: number;
    readonly weightBits: number;
    readonly activationBits: number;
    readonly inputRange: readonly [number, number];
    readonly stripSoftmax: boolean;
  };
  readonly notes: readonly string[];
  /** Every table function (sigmoid, tanh, erf, exp) with its window and maximum error. */
  readonly approximations?: readonly Approximation[];
  readonly circuit: {
    readonly constraints: number;
    readonly expectedConstraints: number;
    readonly wires: number;
    readonly publicInputs: number;
    readonly layers: readonly LayerCost[];
    /** Constraints per kind of layer: what each non-linearity costs. */
    readonly byKind?: Readonly<Record<string, number>>;
    readonly circuitSha256: string;
    readonly r1csSha256: string;
    readonly wasmSha256: string;
    readonly compileSeconds: number;
    /** circom's peak resident memory (Linux only): what compiling this circuit needs. */
    readonly compilePeakMiB?: number;
  };
  readonly tools: Readonly<Record<string, string>>;
  readonly setup?: SetupRecord;
  readonly createdAt: string;
}

/** Reads and checks the manifest of an artifact directory. */
export async function readManifest(dir: string): Promise<Manifest> {
  const path = join(dir, ARTIFACT_FILES.manifest);
  if (!existsSync(path)) {
    throw new ArtifactError(
      'ARTIFACT_NOT_FOUND',
      `${dir} has no ${ARTIFACT_FILES.manifest}; compile a model into it first`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new ArtifactError('ARTIFACT_INVALID', `${path} is not valid JSON`, { cause });
  }
  const m = raw as Partial<Manifest>;
  if (m.format !== MANIFEST_FORMAT || !m.circuit || !m.input || !m.outputs) {
    throw new ArtifactError(
      'ARTIFACT_INVALID',
      `${path} is not a zkinfer manifest (format ${String(m.format)})`,
    );
  }
  return m as Manifest;
}

export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  await writeFile(join(dir, ARTIFACT_FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`);
}
