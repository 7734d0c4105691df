import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidInputError, ZkinferError } from '../protocol/errors.ts';
import { runCircom } from './circom.ts';
import { approximationsOf, constraintsByKind, generateCircuit } from './core/codegen.ts';
import { lowerOnnx } from './core/lowerOnnx.ts';
import { inputsPerLimb, publicLayout } from './core/publicSignals.ts';
import { DEFAULT_QUANTIZE, quantize } from './core/quantize.ts';
import { sha256File, sha256Hex } from './hashing.ts';
import { ARTIFACT_FILES, MANIFEST_FORMAT, type Manifest, readManifest, writeManifest } from './manifest.ts';
import { parseOnnx } from './onnx/parseOnnx.ts';
import { quantGraphToJson } from './qgraphJson.ts';
import { readR1csInfo } from './r1csInfo.ts';
import { toolVersions } from './version.ts';

const require = createRequire(import.meta.url);
const TEMPLATES = join(dirname(fileURLToPath(import.meta.url)), 'templates', 'zkinfer.circom');

export interface CompileOptions {
  readonly outDir: string;
  readonly inputBits?: number;
  readonly weightBits?: number;
  readonly activationBits?: number;
  readonly inputRange?: readonly [number, number];
  readonly calibration?: readonly Float64Array[];
  readonly stripSoftmax?: boolean;
  /** Make one Poseidon hash of the outputs public instead of the outputs (3 public signals in all). */
  readonly hashOutputs?: boolean;
  /** Recompile even when the artifact directory already holds this exact circuit. */
  readonly force?: boolean;
  readonly onProgress?: (message: string) => void;
}

export interface CompileResult {
  readonly dir: string;
  readonly manifest: Manifest;
  /** True when an identical earlier compile was reused. */
  readonly cached: boolean;
}

/**
 * ONNX file → artifact directory: quantized graph, circom source (self-contained, with the templates
 * it includes), r1cs, wasm, sym and manifest. An identical earlier compile in `outDir` is reused.
 */
export async function compileModel(modelPath: string, options: CompileOptions): Promise<CompileResult> {
  const progress = options.onProgress ?? (() => {});
  let bytes: Buffer;
  try {
    bytes = await readFile(modelPath);
  } catch (cause) {
    throw new ZkinferError('IO', `cannot read model file ${modelPath}: ${(cause as Error).message}`, {
      cause,
    });
  }
  const quant = {
    inputBits: options.inputBits ?? DEFAULT_QUANTIZE.inputBits,
    weightBits: options.weightBits ?? DEFAULT_QUANTIZE.weightBits,
    activationBits: options.activationBits ?? DEFAULT_QUANTIZE.activationBits,
    inputRange: options.inputRange ?? ([0, 1] as const),
  };
  for (const [key, v, lo, hi] of [
    ['weight bits', quant.weightBits, 2, 32],
    ['activation bits', quant.activationBits, 2, 64],
  ] as const) {
    if (!Number.isInteger(v) || v < lo || v > hi) {
      throw new InvalidInputError(
        `${key} must be an integer from ${lo} to ${hi}, got ${v}`,
        'INVALID_OPTION',
      );
    }
  }
  const templateSource = await readFile(TEMPLATES, 'utf8');
  const tools = toolVersions();
  const label = basename(modelPath);
  progress(`parsing ${label}`);
  const model = parseOnnx(bytes, label);
  const floatGraph = lowerOnnx(model, { stripSoftmax: !!options.stripSoftmax });
  progress(`quantizing ${floatGraph.nodes.length} layers`);
  const qgraph = quantize(floatGraph, { ...quant, calibration: options.calibration ?? [] });
  const generated = generateCircuit(qgraph, 'zkinfer.circom', 'poseidon.circom', {
    hashOutputs: !!options.hashOutputs,
  });
  // Generating is fast; circom is not. Equal sources, templates and tools give an equal circuit.
  const compileKey = sha256Hex(
    JSON.stringify({ source: sha256Hex(generated.source), templates: sha256Hex(templateSource), tools }),
  );
  const dir = options.outDir;
  const modelSha = sha256Hex(bytes);
  if (!options.force && existsSync(join(dir, ARTIFACT_FILES.manifest))) {
    const previous = await readManifest(dir).catch(() => undefined);
    if (
      previous?.compileKey === compileKey &&
      previous.model.sha256 === modelSha &&
      existsSync(join(dir, ARTIFACT_FILES.wasm)) &&
      existsSync(join(dir, ARTIFACT_FILES.wasm, '..', 'package.json')) &&
      existsSync(join(dir, ARTIFACT_FILES.r1cs))
    ) {
      progress('reusing the identical circuit already compiled in the output directory');
      return { dir, manifest: previous, cached: true };
    }
  }

  // a new circuit invalidates any keys in the directory: they belong to the old one
  for (const stale of [ARTIFACT_FILES.circuitDir, ARTIFACT_FILES.zkey, ARTIFACT_FILES.vkey]) {
    await rm(join(dir, stale), { recursive: true, force: true });
  }
  await mkdir(join(dir, ARTIFACT_FILES.circuitDir), { recursive: true });
  await writeFile(join(dir, ARTIFACT_FILES.circuit), generated.source);
  await writeFile(join(dir, ARTIFACT_FILES.circuitDir, 'zkinfer.circom'), templateSource);
  for (const f of ['poseidon.circom', 'poseidon_constants.circom']) {
    await copyFile(require.resolve(`circomlib/circuits/${f}`), join(dir, ARTIFACT_FILES.circuitDir, f));
  }
  await writeFile(join(dir, ARTIFACT_FILES.qgraph), quantGraphToJson(qgraph));

  progress(`compiling with circom (expecting ${generated.expectedConstraints} constraints)`);
  const { seconds, warnings } = await runCircom({
    cwd: join(dir, ARTIFACT_FILES.circuitDir),
    file: 'circuit.circom',
    outDir: '.',
    inspect: true,
  });
  // Soundness first: an inspection warning means a signal may not be pinned by any constraint.
  if (warnings.length > 0) {
    throw new ZkinferError(
      'CIRCOM_FAILED',
      `the generated circuit failed circom's under-constraint inspection: ${warnings[0]}`,
      {
        details: warnings.join('\n'),
      },
    );
  }
  // circom's witness_calculator.js is CommonJS; artifact directories may sit inside ESM packages
  await writeFile(join(dir, ARTIFACT_FILES.wasm, '..', 'package.json'), '{ "type": "commonjs" }\n');
  const info = await readR1csInfo(join(dir, ARTIFACT_FILES.r1cs));

  const inputSize = qgraph.tensors[qgraph.input.tensor]!.lo.length;
  const perLimb = inputsPerLimb(qgraph.input.bits);
  const outputs = qgraph.outputs.map((o) => ({
    name: o.name,
    shape: o.shape,
    scale: o.scale,
    size: qgraph.tensors[o.tensor]!.lo.length,
  }));
  const layout = publicLayout(
    outputs.reduce((s, o) => s + o.size, 0),
    !!options.hashOutputs,
  );
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    name: label.replace(/\.onnx$/i, ''),
    compileKey,
    model: {
      file: label,
      sha256: modelSha,
      opset: model.opset,
      producer: model.producer,
      ops: [...new Set(model.graph.nodes.map((n) => n.opType))],
    },
    input: {
      name: qgraph.input.name,
      shape: qgraph.input.shape,
      bits: qgraph.input.bits,
      scale: qgraph.input.scale,
      min: qgraph.input.min,
      max: qgraph.input.max,
      range: qgraph.input.range,
      size: inputSize,
      perLimb,
      limbs: Math.ceil(inputSize / perLimb),
    },
    outputs,
    publicSignals: { names: layout.names, outputsHashed: layout.outputsHashed },
    quantization: { ...quant, stripSoftmax: !!options.stripSoftmax },
    notes: floatGraph.notes,
    approximations: approximationsOf(qgraph),
    circuit: {
      constraints: info.nConstraints,
      expectedConstraints: generated.expectedConstraints,
      wires: info.nWires,
      publicInputs: info.nPubOut + info.nPubIn,
      layers: generated.layers,
      byKind: constraintsByKind(generated.layers),
      circuitSha256: sha256Hex(generated.source),
      r1csSha256: await sha256File(join(dir, ARTIFACT_FILES.r1cs)),
      wasmSha256: await sha256File(join(dir, ARTIFACT_FILES.wasm)),
      compileSeconds: Math.round(seconds * 10) / 10,
    },
    tools,
    createdAt: new Date().toISOString(),
  };
  await writeManifest(dir, manifest);
  return { dir, manifest, cached: false };
}
