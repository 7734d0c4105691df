import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, totalmem } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidInputError, ZkinferError } from '../protocol/errors.ts';
import { runCircom } from './circom.ts';
import { approximationsOf, constraintsByKind, generateCircuit } from './core/codegen.ts';
import { lowerOnnx } from './core/lowerOnnx.ts';
import { inputsPerLimb, publicLayout } from './core/publicSignals.ts';
import type { QuantGraph } from './core/quantGraph.ts';
import { DEFAULT_QUANTIZE, quantize } from './core/quantize.ts';
import { sliceGraph } from './core/slicePlan.ts';
import { planSlicesSplitting } from './core/splitLayers.ts';
import { sha256File, sha256Hex } from './hashing.ts';
import { mapInParallel } from './inParallel.ts';
import { ARTIFACT_FILES, MANIFEST_FORMAT, type Manifest, readManifest, writeManifest } from './manifest.ts';
import { parseOnnx } from './onnx/parseOnnx.ts';
import { quantGraphToJson } from './qgraphJson.ts';
import { readR1csInfo } from './r1csInfo.ts';
import { SLICED_FILE, SLICED_FORMAT, type SlicedManifest, writeSlicedManifest } from './slicedManifest.ts';
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
  /**
   * A model predicted above this many constraints is cut into slices, each one circuit under it,
   * chained by hashes of the tensors between them (default SLICE_DEFAULT_MAX).
   */
  readonly maxConstraints?: number;
  /** Slices compiled at once, each one circom process (default: one per core, ~4 GiB each). */
  readonly jobs?: number;
  readonly onProgress?: (message: string) => void;
}

export interface CompileResult {
  readonly dir: string;
  /** The single circuit's manifest; for a sliced model, the first slice's. */
  readonly manifest: Manifest;
  /** True when an identical earlier compile was reused. */
  readonly cached: boolean;
  /** Set when the model was cut into slices (`dir` then holds sliced.json and one directory per slice). */
  readonly sliced?: SlicedManifest;
}

/**
 * Slices of at most ~2^17 constraints by default: circom2 runs in 32-bit WebAssembly, whose 4 GiB
 * a conv slice of 259k constraints exhausted (one of 189k peaked at 2.7 GiB), and a 2^17 dev ptau
 * takes about a minute to make.
 */
export const SLICE_DEFAULT_MAX = 2 ** 17 - 64;

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
  const modelInfo: ModelInfo = {
    label,
    sha256: sha256Hex(bytes),
    opset: model.opset,
    producer: model.producer,
    ops: [...new Set(model.graph.nodes.map((n) => n.opType))],
    quantization: { ...quant, stripSoftmax: !!options.stripSoftmax },
    notes: floatGraph.notes,
    templateSource,
    tools,
  };
  const whole = generateCircuit(qgraph, 'zkinfer.circom', 'poseidon.circom', {
    hashOutputs: !!options.hashOutputs,
  });
  const max = options.maxConstraints ?? SLICE_DEFAULT_MAX;
  if (!Number.isInteger(max) || max < 64)
    throw new InvalidInputError(
      `--max-constraints must be an integer of at least 64, got ${max}`,
      'INVALID_OPTION',
    );
  if (whole.expectedConstraints > max) {
    return compileSliced(qgraph, whole, max, modelInfo, options, progress);
  }
  // a sliced compile that was here before is not part of this single circuit
  await rm(join(options.outDir, SLICED_FILE), { force: true });
  for (let k = 0; existsSync(join(options.outDir, `slice-${k}`)); k++)
    await rm(join(options.outDir, `slice-${k}`), { recursive: true, force: true });
  return writeCircuitDir(
    qgraph,
    options.outDir,
    modelInfo,
    { hashOutputs: !!options.hashOutputs },
    options,
    progress,
  );
}

/** What every circuit directory of one model shares. */
interface ModelInfo {
  readonly label: string;
  readonly sha256: string;
  readonly opset: number;
  readonly producer: string;
  readonly ops: readonly string[];
  readonly quantization: Manifest['quantization'];
  readonly notes: readonly string[];
  readonly templateSource: string;
  readonly tools: Readonly<Record<string, string>>;
}

/**
 * One quantized graph → one artifact directory: circom source (self-contained, with the templates
 * it includes), r1cs, wasm, sym, the graph and the manifest. An identical earlier compile is reused.
 */
async function writeCircuitDir(
  qgraph: QuantGraph,
  dir: string,
  info: ModelInfo,
  outputsAs: { hashOutputs: boolean; packOutputs?: { bits: number; min: number }; name?: string },
  options: CompileOptions,
  progress: (m: string) => void,
): Promise<CompileResult> {
  const { label, templateSource, tools } = info;
  const generated = generateCircuit(qgraph, 'zkinfer.circom', 'poseidon.circom', {
    hashOutputs: outputsAs.hashOutputs,
    ...(outputsAs.packOutputs ? { packOutputs: outputsAs.packOutputs } : {}),
  });
  // Generating is fast; circom is not. Equal sources, templates and tools give an equal circuit.
  const compileKey = sha256Hex(
    JSON.stringify({ source: sha256Hex(generated.source), templates: sha256Hex(templateSource), tools }),
  );
  const modelSha = info.sha256;
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
  const { seconds, warnings, peakMiB } = await runCircom({
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
  const r1cs = await readR1csInfo(join(dir, ARTIFACT_FILES.r1cs));

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
    outputsAs.hashOutputs || !!outputsAs.packOutputs,
  );
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    name: outputsAs.name ?? label.replace(/\.onnx$/i, ''),
    compileKey,
    model: {
      file: label,
      sha256: modelSha,
      opset: info.opset,
      producer: info.producer,
      ops: info.ops,
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
    publicSignals: {
      names: layout.names,
      outputsHashed: layout.outputsHashed,
      ...(outputsAs.packOutputs ? { outputsPacked: outputsAs.packOutputs } : {}),
    },
    quantization: info.quantization,
    notes: info.notes,
    approximations: approximationsOf(qgraph),
    circuit: {
      constraints: r1cs.nConstraints,
      expectedConstraints: generated.expectedConstraints,
      wires: r1cs.nWires,
      publicInputs: r1cs.nPubOut + r1cs.nPubIn,
      layers: generated.layers,
      byKind: constraintsByKind(generated.layers),
      circuitSha256: sha256Hex(generated.source),
      r1csSha256: await sha256File(join(dir, ARTIFACT_FILES.r1cs)),
      wasmSha256: await sha256File(join(dir, ARTIFACT_FILES.wasm)),
      compileSeconds: Math.round(seconds * 10) / 10,
      ...(peakMiB ? { compilePeakMiB: peakMiB } : {}),
    },
    tools,
    createdAt: new Date().toISOString(),
  };
  await writeManifest(dir, manifest);
  return { dir, manifest, cached: false };
}

/** One circom per core, as far as memory allows ~4 GiB for each (a 2^18 slice peaks near 3). */
function defaultJobs(): number {
  return Math.max(1, Math.min(availableParallelism(), Math.floor(totalmem() / 2 ** 32)));
}

/**
 * A model above the budget: planned into slices (circuits/core/slicePlan.ts), each compiled into
 * `<outDir>/slice-<k>` as an ordinary artifact directory whose input is the previous slice's
 * boundary; the full quantized graph and sliced.json (slices, boundaries, hash chain) sit on top.
 */
async function compileSliced(
  model: QuantGraph,
  whole: ReturnType<typeof generateCircuit>,
  max: number,
  info: ModelInfo,
  options: CompileOptions,
  progress: (m: string) => void,
): Promise<CompileResult> {
  // layers: input, binding, one per node, output
  const costsOf = (g: QuantGraph) => {
    const gen =
      g === model
        ? whole
        : generateCircuit(g, 'zkinfer.circom', 'poseidon.circom', { hashOutputs: !!options.hashOutputs });
    return {
      nodes: gen.layers.slice(2, 2 + g.nodes.length).map((l) => l.constraints),
      input: gen.layers[0]!.constraints,
      output: gen.layers[gen.layers.length - 1]!.constraints,
    };
  };
  // the plan indexes the graph it was made on: the model's, or one with layers split into parts
  const { graph: qgraph, plans, split } = planSlicesSplitting(model, costsOf, max);
  progress(
    `${whole.expectedConstraints} constraints predicted: cutting into ${plans.length} slices of at most ${max}`,
  );
  for (const s of split)
    progress(
      `layer ${s.node} is split into ${s.parts} parts (it alone is over a slice's share of the budget)`,
    );
  const dir = options.outDir;
  await mkdir(dir, { recursive: true });
  // a single-circuit compile that was here before is not part of the sliced model
  for (const stale of Object.values(ARTIFACT_FILES))
    await rm(join(dir, stale), { recursive: true, force: true });
  await writeFile(join(dir, ARTIFACT_FILES.qgraph), quantGraphToJson(qgraph));
  const name = info.label.replace(/\.onnx$/i, '');
  const jobs = options.jobs ?? defaultJobs();
  if (jobs > 1 && plans.length > 1) progress(`compiling up to ${jobs} slices at once`);
  const results = await mapInParallel(plans, jobs, (plan, k) => {
    const say = (m: string) => progress(`slice ${k + 1}/${plans.length}: ${m}`);
    say(`layers ${plan.start}-${plan.end - 1}, ~${plan.constraints} constraints`);
    const last = k === plans.length - 1;
    return writeCircuitDir(
      sliceGraph(qgraph, plan, k),
      join(dir, `slice-${k}`),
      info,
      {
        hashOutputs: last && !!options.hashOutputs,
        ...(plan.output ? { packOutputs: { bits: plan.output.bits, min: plan.output.min } } : {}),
        name: `${name}.slice${k}`,
      },
      options,
      say,
    );
  });
  const sliced: SlicedManifest = {
    format: SLICED_FORMAT,
    name,
    model: { file: info.label, sha256: info.sha256 },
    maxConstraints: max,
    totalConstraints: results.reduce((s, r) => s + r.manifest.circuit.constraints, 0),
    wholeConstraints: whole.expectedConstraints,
    input: results[0]!.manifest.input,
    outputs: results[results.length - 1]!.manifest.outputs,
    slices: plans.map((plan, k) => ({
      dir: `slice-${k}`,
      layers: [plan.start, plan.end] as const,
      constraints: results[k]!.manifest.circuit.constraints,
      input: plan.input ?? null,
      output: plan.output ?? null,
    })),
    createdAt: new Date().toISOString(),
  };
  await writeSlicedManifest(dir, sliced);
  return { dir, manifest: results[0]!.manifest, cached: results.every((r) => r.cached), sliced };
}
