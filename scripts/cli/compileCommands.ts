import type { Command } from 'commander';
import { loadQuantGraph, openArtifacts } from '../../circuits/artifacts.ts';
import { compileModel, SLICE_DEFAULT_MAX } from '../../circuits/compile.ts';
import { infer } from '../../circuits/core/inference.ts';
import { readInputFile } from '../../circuits/inputFile.ts';
import { isSlicedDir } from '../../circuits/slicedManifest.ts';
import { openSliced } from '../../circuits/slicedModel.ts';
import { InvalidInputError } from '../../protocol/errors.ts';
import { readJsonConfig } from './jsonFile.ts';
import { EXIT, type Io, progressPrinter } from './output.ts';

export interface GlobalOptions {
  json?: boolean;
  verbose?: boolean;
}

/** Reads calibration inputs: {"inputs": [[...], ...]}, each entry flat or nested (sizes are checked by the compiler). */
async function readCalibration(path: string): Promise<Float64Array[]> {
  const doc = await readJsonConfig(path);
  const inputs = (doc as { inputs?: unknown }).inputs;
  if (!Array.isArray(inputs) || inputs.length === 0)
    throw new InvalidInputError(
      `${path} must be {"inputs": [[...], ...]} with at least one input`,
      'INVALID_OPTION',
    );
  return inputs.map((x, i) => {
    const flat = (Array.isArray(x) ? x : [x]).flat(Number.POSITIVE_INFINITY) as unknown[];
    if (!flat.every((v) => typeof v === 'number' && Number.isFinite(v)))
      throw new InvalidInputError(
        `${path}: inputs[${i}] is not an array of finite numbers`,
        'INVALID_OPTION',
      );
    return Float64Array.from(flat as number[]);
  });
}

/** Parses "lo,hi" into a range. */
export function parseRange(text: string): [number, number] {
  const parts = text.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 2 || parts.some((p) => !Number.isFinite(p)) || parts[0]! >= parts[1]!) {
    throw new InvalidInputError(
      `--input-range must be "lo,hi" with lo < hi, got "${text}"`,
      'INVALID_OPTION',
    );
  }
  return [parts[0]!, parts[1]!];
}

/** Parses a positive integer option. */
export function parseIntOption(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidInputError(`${name} must be a positive integer, got "${text}"`, 'INVALID_OPTION');
  return n;
}

export function registerCompileCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('compile')
    .description('quantize an ONNX model and compile it to a circom circuit (r1cs + wasm + manifest)')
    .argument('<model>', 'the .onnx file')
    .requiredOption('--out <dir>', 'artifact directory to write')
    .option('--input-bits <n>', 'bits per quantized input', '8')
    .option('--weight-bits <n>', 'target bits of a typical weight', '10')
    .option('--activation-bits <n>', 'target bits of a calibrated activation', '10')
    .option('--input-range <lo,hi>', 'real-valued input domain (values outside are clamped)', '0,1')
    .option('--strip-softmax', 'prove the logits of a model that ends in Softmax/LogSoftmax')
    .option(
      '--calibration <file>',
      'JSON {"inputs": [[...], ...]} of real inputs to choose activation scales from',
    )
    .option(
      '--hash-outputs',
      'make a Poseidon hash of the outputs public instead of the outputs (cheaper on chain)',
    )
    .option('--force', 'recompile even when the output directory holds this exact circuit')
    .option(
      '--max-constraints <n>',
      'cut a larger model into slices (one circuit each, chained by hashes of the tensors between them)',
      String(SLICE_DEFAULT_MAX),
    )
    .option('--jobs <n>', 'slices compiled at once (default: one per core, as memory allows ~4 GiB each)')
    .action(async (model: string, opts: Record<string, string | boolean>, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const result = await compileModel(model, {
        outDir: opts['out'] as string,
        inputBits: parseIntOption('--input-bits', opts['inputBits'] as string),
        weightBits: parseIntOption('--weight-bits', opts['weightBits'] as string),
        activationBits: parseIntOption('--activation-bits', opts['activationBits'] as string),
        inputRange: parseRange(opts['inputRange'] as string),
        stripSoftmax: !!opts['stripSoftmax'],
        hashOutputs: !!opts['hashOutputs'],
        ...(opts['calibration'] ? { calibration: await readCalibration(opts['calibration'] as string) } : {}),
        force: !!opts['force'],
        maxConstraints: parseIntOption('--max-constraints', opts['maxConstraints'] as string),
        ...(opts['jobs'] ? { jobs: parseIntOption('--jobs', opts['jobs'] as string) } : {}),
        onProgress: progressPrinter(io, !g.json),
      });
      const m = result.manifest;
      if (result.sliced) {
        const sl = result.sliced;
        if (g.json) io.out(JSON.stringify({ ok: true, dir: result.dir, cached: result.cached, sliced: sl }));
        else {
          io.out(
            `compiled ${sl.model.file} → ${result.dir} in ${sl.slices.length} slices${result.cached ? ' (cached)' : ''}`,
          );
          io.out(`constraints: ${sl.totalConstraints} in all, at most ${sl.maxConstraints} per slice`);
          for (const s of sl.slices) {
            io.out(
              `  ${s.dir.padEnd(9)} layers ${s.layers[0]}-${s.layers[1] - 1}  ${String(s.constraints).padStart(8)} constraints  in: ${s.input ? `boundary of ${s.input.size} (${s.input.bits}-bit)` : 'model input'}  out: ${s.output ? `hash of ${s.output.size}` : 'model outputs'}`,
            );
          }
        }
        setExit(EXIT.ok);
        return;
      }
      if (g.json) {
        io.out(
          JSON.stringify({
            ok: true,
            dir: result.dir,
            cached: result.cached,
            constraints: m.circuit.constraints,
            layers: m.circuit.layers,
            publicSignals: m.publicSignals.names,
          }),
        );
      } else {
        io.out(`compiled ${m.model.file} → ${result.dir}${result.cached ? ' (cached)' : ''}`);
        io.out(
          `constraints: ${m.circuit.constraints} (wires ${m.circuit.wires}, public signals ${m.circuit.publicInputs})`,
        );
        io.out('  layer      kind         outputs  max bits  constraints  onnx');
        for (const l of m.circuit.layers) {
          io.out(
            `  ${l.layer.padEnd(10)} ${l.kind.padEnd(12)} ${String(l.outputs).padStart(7)}  ${String(l.maxBits).padStart(8)}  ${String(l.constraints).padStart(11)}  ${l.onnx.join(', ')}`,
          );
        }
        if (m.circuit.byKind) {
          const kinds = Object.entries(m.circuit.byKind).filter(([, c]) => c > 0);
          io.out(`by op kind: ${kinds.map(([k, c]) => `${k} ${c}`).join(', ')}`);
        }
        // one line per kind of approximation: the worst error over its layers
        const worst = new Map<string, { window: readonly number[]; error: number; layers: number }>();
        for (const a of m.approximations ?? []) {
          const w = worst.get(a.fn);
          worst.set(a.fn, {
            window: a.window,
            error: Math.max(w?.error ?? 0, a.maxError),
            layers: (w?.layers ?? 0) + 1,
          });
        }
        for (const [fn, w] of worst) {
          io.out(
            `approximation: ${fn} on [${w.window.join(', ')}), piecewise quadratic, max error ${w.error} (${w.layers} layer${w.layers > 1 ? 's' : ''})`,
          );
        }
        io.out(
          `input: ${m.input.size} values in [${m.input.range.join(', ')}], ${m.input.bits}-bit, scale 2^${m.input.scale}`,
        );
        io.out(
          `public signals: ${m.publicSignals.names.length <= 6 ? m.publicSignals.names.join(', ') : `${m.publicSignals.names.slice(0, 3).join(', ')}, …, ${m.publicSignals.names.slice(-2).join(', ')}`}`,
        );
        for (const note of m.notes) io.out(`note: ${note}`);
      }
      setExit(EXIT.ok);
    });

  program
    .command('run')
    .description('run the quantized model on an input, exactly as the circuit computes it (no proof)')
    .argument('<dir>', 'artifact directory (one circuit or sliced)')
    .requiredOption('--input <file>', 'JSON file {"input": [...]} (flat or nested)')
    .action(async (dir: string, opts: { input: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      // a sliced model runs as the whole graph its directory keeps (the slices compute exactly it)
      const { graph, inputSize } = isSlicedDir(dir)
        ? await openSliced(dir).then((m) => ({ graph: m.graph, inputSize: m.manifest.input.size }))
        : await openArtifacts(dir).then(async (a) => ({
            graph: await loadQuantGraph(a),
            inputSize: a.manifest.input.size,
          }));
      const x = await readInputFile(opts.input, inputSize);
      const r = infer(graph, x);
      if (g.json) {
        io.out(
          JSON.stringify({
            ok: true,
            outputs: r.outputs,
            quantizedOutputs: r.quantizedOutputs.map(String),
            predictedClass: r.predictedClass,
          }),
        );
      } else {
        io.out(`outputs: ${r.outputs.map((v) => v.toFixed(4)).join(' ')}`);
        io.out(`predicted class: ${r.predictedClass}`);
      }
      setExit(EXIT.ok);
    });
}
