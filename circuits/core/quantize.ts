import { BoundTooLargeError, InvalidInputError, ModelError } from '../../protocol/errors.ts';
import { maxCost, planRescale, windowBits } from './cost.ts';
import { runFloat } from './floatExec.ts';
import type { FloatGraph, MaxPoolNode } from './floatGraph.ts';
import { consumersOf } from './floatGraph.ts';
import type { InputEncoding, QNode, QTensor, QuantGraph } from './quantGraph.ts';
import { bitLength, maxBig, minBig, rescaleValue } from './quantGraph.ts';
import { type QuantContext, quantizeNonlinear } from './quantizeNonlinear.ts';

export interface QuantizeOptions {
  /** Bits of each quantized input (default 8). */
  readonly inputBits: number;
  /** Real-valued input domain [lo, hi]; values outside are clamped. */
  readonly inputRange: readonly [number, number];
  /** Target bits of a typical weight (the 99th percentile); larger ones just use more (default 10). */
  readonly weightBits: number;
  /** Target bits of an activation's calibrated maximum (default 10). */
  readonly activationBits: number;
  /** Calibration inputs (flat, the model's input size). Random draws from the domain are added. */
  readonly calibration: readonly Float64Array[];
}

export const DEFAULT_QUANTIZE: Omit<QuantizeOptions, 'inputRange' | 'calibration'> = Object.freeze({
  inputBits: 8,
  weightBits: 10,
  activationBits: 10,
});

/** Values in circuits stay below 2^MAX_BITS (the BN254 field has ~2^253.6 elements). */
export const MAX_BITS = 240;
const RANDOM_CALIBRATION_SAMPLES = 64;
const NONLINEAR_KINDS: ReadonlySet<string> = new Set(['mul', 'fn', 'div', 'rsqrt', 'softmax']);
const NONLINEAR_EXTRA_BITS = 2;

/** Input encoding for a domain and bit width: the finest power-of-two scale that covers the domain. */
export function inputEncodingFor(
  name: string,
  shape: readonly number[],
  bits: number,
  range: readonly [number, number],
): InputEncoding {
  const [lo, hi] = range;
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi)) {
    throw new InvalidInputError(
      `the input range must be two finite numbers lo < hi, got [${lo}, ${hi}]`,
      'INVALID_OPTION',
    );
  }
  if (!Number.isInteger(bits) || bits < 2 || bits > 32) {
    throw new InvalidInputError(`input bits must be an integer from 2 to 32, got ${bits}`, 'INVALID_OPTION');
  }
  const signed = lo < 0;
  const min = signed ? -(2 ** (bits - 1)) : 0;
  const max = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  // Largest scale whose quantized domain fits, allowing the very top to clamp by under one step.
  const reach = signed ? Math.max(-lo, hi) : hi;
  const scale = Math.floor(Math.log2((max + 1) / reach));
  return { name, shape, bits, scale, min, max, range: [lo, hi] };
}

/** Quantizes a float input exactly as the circuit expects it. */
export function quantizeInput(enc: InputEncoding, x: ArrayLike<number>): bigint[] {
  return Array.from(x, (v) => BigInt(Math.min(enc.max, Math.max(enc.min, Math.round(v * 2 ** enc.scale)))));
}

/**
 * Chooses power-of-two scales, integer weights and rescale shifts, and proves static bounds for
 * every element. Throws {@link BoundTooLargeError} when a bound could approach the field size.
 */
export function quantize(graph: FloatGraph, options: QuantizeOptions): QuantGraph {
  const enc = inputEncodingFor(graph.input.name, graph.input.shape, options.inputBits, options.inputRange);
  const maxAbs = calibrate(graph, enc, options.calibration);
  const consumers = consumersOf(graph.nodes);
  const outputTensors = new Set(graph.outputs.map((o) => o.tensor));

  const tensors: QTensor[] = [];
  const qOf = new Map<number, number>(); // float tensor id → quantized tensor id
  const addTensor = (name: string, scale: number, lo: bigint[], hi: bigint[]): number => {
    for (let i = 0; i < lo.length; i++) {
      if (
        bitLength(lo[i]! < 0n ? -lo[i]! : lo[i]!) > MAX_BITS ||
        bitLength(hi[i]! < 0n ? -hi[i]! : hi[i]!) > MAX_BITS
      ) {
        throw new BoundTooLargeError(
          `tensor "${name}" could reach 2^${Math.max(bitLength(-lo[i]!), bitLength(hi[i]!))}, too close to the field size; lower --input-bits, --weight-bits or --activation-bits`,
        );
      }
    }
    tensors.push({ id: tensors.length, name, scale, lo, hi });
    return tensors.length - 1;
  };
  const inputSize = graph.tensors[graph.input.tensor]!.size;
  const inputQ = addTensor(
    graph.input.name,
    enc.scale,
    new Array(inputSize).fill(BigInt(enc.min)),
    new Array(inputSize).fill(BigInt(enc.max)),
  );
  qOf.set(graph.input.tensor, inputQ);
  const nodes: QNode[] = [];
  const fusedRelu = new Set<number>(); // float relu nodes' outputs already produced by a fused rescale
  // max-pools that take the accumulator and apply the producer's rescale (and ReLU) after pooling
  const deferred = new Map<MaxPoolNode, { shift: number; relu: boolean; onnx: readonly string[] }>();

  const producer = new Map(graph.nodes.map((n) => [n.output, n]));
  /** Activations that feed products and table functions keep two more bits: their rounding error
   * is multiplied (gates, attention) or compounds over time steps, and it costs few constraints. */
  const bitsFor = (t: number): number =>
    options.activationBits +
    ((consumers.get(t) ?? []).some((c) => NONLINEAR_KINDS.has(c.kind)) ? NONLINEAR_EXTRA_BITS : 0);
  const settledOf = new Map<number, number>();
  /** A float tensor's quantized value at its calibrated activation scale (one shared rescale). */
  const settled = (t: number): number => {
    const cached = settledOf.get(t);
    if (cached !== undefined) return cached;
    const q = tensors[qOf.get(t)!]!;
    const target = activationScale(maxAbs[t]!, bitsFor(t));
    const out =
      q.scale > target
        ? emitRescale(
            q.id,
            q.scale - target,
            false,
            `${graph.tensors[t]!.name}/settled`,
            producer.get(t)?.onnx ?? [],
          )
        : q.id;
    settledOf.set(t, out);
    return out;
  };
  /** Products stay at their full scale when one linear map sums them (attention, gates); else settle. */
  const linearInput = (t: number): number =>
    producer.get(t)?.kind === 'mul' && (consumers.get(t)?.length ?? 0) > 1 ? settled(t) : qOf.get(t)!;
  const ctx: QuantContext = {
    tensors,
    nodes,
    activationBits: options.activationBits,
    addTensor,
    raw: (t) => qOf.get(t)!,
    settled,
    maxAbs: (t) => maxAbs[t]!,
    nameOf: (t) => graph.tensors[t]!.name,
  };

  for (const node of graph.nodes) {
    const name = graph.tensors[node.output]!.name;
    if (node.kind === 'linear') {
      if (!node.map.w.every(Number.isFinite) || !node.bias.every(Number.isFinite)) {
        throw new ModelError(
          'ONNX_INVALID',
          `the constants of node ${node.onnx.map((n) => `"${n}"`).join(' → ')} are not finite (NaN or ±Inf, e.g. an attention mask of −inf); a circuit needs finite weights and biases`,
        );
      }
      const ins = node.inputs.map((t) => tensors[linearInput(t)]!);
      const sMax = Math.max(...ins.map((t) => t.scale));
      const { map } = node;
      // weights as they multiply inputs brought to the common scale sMax
      const rel = Array.from(map.w, (w, e) => Math.abs(w) * 2 ** (sMax - ins[map.src[e]!]!.scale));
      // Inputs at different scales (a residual sum, a gate over x and a product): each input's own
      // weights must keep their precision too, or the finer input's weights round to a few bits.
      const perInput = ins.map(
        (t, k) =>
          t.scale +
          weightScale(
            rel.filter((_, e) => map.src[e] === k).map((w) => w / 2 ** (sMax - t.scale)),
            options.weightBits,
          ),
      );
      const S = Math.max(sMax + weightScale(rel, options.weightBits), ...perInput);
      // which consumer decides the shift: a lone relu is fused, a model output is left unrescaled
      const cons = consumers.get(node.output) ?? [];
      const lone = cons.length === 1 ? cons[0] : undefined;
      const fuse = lone?.kind === 'relu' && !outputTensors.has(node.output) ? lone : undefined;
      // a table function or softmax takes the accumulator itself (its own decomposition does the
      // shift), and so does a reciprocal square root (a finer variance costs it less than a rescale)
      const keepFull =
        outputTensors.has(node.output) ||
        cons.every((c) => c.kind === 'argmax') ||
        (lone !== undefined && (lone.kind === 'fn' || lone.kind === 'softmax' || lone.kind === 'rsqrt'));
      const target = fuse ? fuse.output : node.output;
      const sOut = keepFull ? S : activationScale(maxAbs[target]!, bitsFor(target));
      const shift = Math.max(0, S - sOut);
      const w = Array.from(map.w, (wf, e) => BigInt(Math.round(wf * 2 ** (S - ins[map.src[e]!]!.scale))));
      const round = shift > 0 ? 1n << BigInt(shift - 1) : 0n;
      const bias = Array.from(node.bias, (b) => BigInt(Math.round(b * 2 ** S)) + round);
      const lo: bigint[] = [];
      const hi: bigint[] = [];
      for (let r = 0; r < map.rows; r++) {
        let l = bias[r]!;
        let h = bias[r]!;
        for (let e = map.rowPtr[r]!; e < map.rowPtr[r + 1]!; e++) {
          const t = ins[map.src[e]!]!;
          const we = w[e]!;
          const i = map.idx[e]!;
          if (we >= 0n) {
            l += we * t.lo[i]!;
            h += we * t.hi[i]!;
          } else {
            l += we * t.hi[i]!;
            h += we * t.lo[i]!;
          }
        }
        lo.push(l);
        hi.push(h);
      }
      // Rescale and ReLU are monotone, so they commute with max: pooling the accumulator first
      // rescales one value per window instead of every element. Take whichever is cheaper.
      const poolAfter = fuse ?? node;
      const poolCons = consumers.get(poolAfter.output) ?? [];
      const pool =
        poolCons.length === 1 &&
        poolCons[0]!.kind === 'maxpool' &&
        !outputTensors.has(poolAfter.output) &&
        !outputTensors.has(node.output)
          ? poolCons[0]
          : undefined;
      const poolFirst = !!pool && shift > 0 && poolIsCheaperFirst(pool, lo, hi, shift, !!fuse);
      const acc = addTensor(poolFirst || shift > 0 || fuse ? `${name}/acc` : name, S, lo, hi);
      nodes.push({
        kind: 'linear',
        onnx: node.onnx,
        inputs: ins.map((t) => t.id),
        output: acc,
        rowPtr: map.rowPtr,
        src: map.src,
        idx: map.idx,
        w,
        bias,
      });
      if (pool && poolFirst) {
        qOf.set(poolAfter.output, acc);
        if (fuse) fusedRelu.add(fuse.output);
        deferred.set(pool, { shift, relu: !!fuse, onnx: [...node.onnx, ...(fuse ? fuse.onnx : [])] });
        continue;
      }
      if (shift > 0 || fuse) {
        const out = emitRescale(acc, shift, !!fuse, fuse ? graph.tensors[fuse.output]!.name : name, [
          ...node.onnx,
          ...(fuse ? fuse.onnx : []),
        ]);
        qOf.set(target, out);
        if (fuse) fusedRelu.add(fuse.output); // the relu node itself emits nothing
      } else {
        qOf.set(node.output, acc);
      }
    } else if (node.kind === 'relu') {
      if (fusedRelu.has(node.output)) continue;
      qOf.set(node.output, emitRescale(qOf.get(node.input)!, 0, true, name, node.onnx));
    } else if (node.kind === 'maxpool') {
      const x = tensors[qOf.get(node.input)!]!;
      const lo = node.windows.map((win) => maxBig(Array.from(win, (i) => x.lo[i]!)));
      const hi = node.windows.map((win) => maxBig(Array.from(win, (i) => x.hi[i]!)));
      const later = deferred.get(node);
      const out = addTensor(later ? `${name}/acc` : name, x.scale, lo, hi);
      nodes.push({ kind: 'maxpool', onnx: node.onnx, input: x.id, output: out, windows: node.windows });
      qOf.set(
        node.output,
        later ? emitRescale(out, later.shift, later.relu, name, [...later.onnx, ...node.onnx]) : out,
      );
    } else if (node.kind === 'argmax') {
      const x = tensors[qOf.get(node.input)!]!;
      const out = addTensor(
        name,
        0,
        node.groups.map(() => 0n),
        node.groups.map((g) => BigInt(g.length - 1)),
      );
      nodes.push({ kind: 'argmax', onnx: node.onnx, input: x.id, output: out, groups: node.groups });
      qOf.set(node.output, out);
    } else {
      qOf.set(node.output, quantizeNonlinear(ctx, node));
    }
  }

  return {
    tensors,
    nodes,
    input: { ...enc, tensor: inputQ },
    outputs: graph.outputs.map((o) => {
      const t = tensors[qOf.get(o.tensor)!]!;
      return { name: o.name, tensor: t.id, shape: o.shape, scale: t.scale };
    }),
  };

  function emitRescale(
    input: number,
    shift: number,
    relu: boolean,
    outName: string,
    onnx: readonly string[],
  ): number {
    const x = tensors[input]!;
    const f = (v: bigint) => rescaleValue(v, shift, relu);
    const out = addTensor(outName, x.scale - shift, x.lo.map(f), x.hi.map(f));
    nodes.push({ kind: 'rescale', onnx, input, output: out, shift, relu });
    return out;
  }
}

/** Whether max-pooling the accumulator, then rescaling per window, costs less than the reverse. */
function poolIsCheaperFirst(
  pool: MaxPoolNode,
  lo: readonly bigint[],
  hi: readonly bigint[],
  shift: number,
  relu: boolean,
): boolean {
  const down = (v: bigint) => rescaleValue(v, shift, relu);
  let direct = 0;
  for (let r = 0; r < lo.length; r++) direct += planRescale(lo[r]!, hi[r]!, shift, relu).cost;
  let reordered = 0;
  for (const win of pool.windows) {
    const wl = Array.from(win, (i) => lo[i]!);
    const wh = Array.from(win, (i) => hi[i]!);
    const minLo = minBig(wl);
    const maxLo = maxBig(wl);
    const maxHi = maxBig(wh);
    direct += maxCost(win.length, windowBits(down(minLo), down(maxHi)));
    reordered += maxCost(win.length, windowBits(minLo, maxHi)) + planRescale(maxLo, maxHi, shift, relu).cost;
  }
  return reordered < direct;
}

/** Largest power-of-two exponent giving the 99th-percentile |weight| the target bits (exact weights stop early). */
function weightScale(absWeights: readonly number[], bits: number): number {
  const nonzero = absWeights.filter((w) => w > 0).sort((a, b) => a - b);
  if (nonzero.length === 0) return 0;
  const ref = nonzero[Math.min(nonzero.length - 1, Math.floor(nonzero.length * 0.99))]!;
  const limit = Math.floor(Math.log2((2 ** (bits - 1) - 1) / ref));
  // Weights that are exact at a smaller scale (identity, padding, 1/4 averaging) need no more.
  for (let s = Math.min(0, limit); s < limit; s++) {
    if (absWeights.every((w) => Number.isInteger(w * 2 ** s))) return s;
  }
  return limit;
}

/** Exponent that gives a calibrated maximum `bits` bits of headroom (values may still exceed it). */
function activationScale(maxAbs: number, bits: number): number {
  if (!(maxAbs > 0)) return Number.POSITIVE_INFINITY; // never observed non-zero: keep full precision
  return Math.floor(Math.log2(2 ** (bits - 1) / maxAbs));
}

/** Largest |value| of every float tensor over the calibration set plus seeded random draws from the domain. */
function calibrate(graph: FloatGraph, enc: InputEncoding, extra: readonly Float64Array[]): number[] {
  const size = graph.tensors[graph.input.tensor]!.size;
  const rng = mulberry32(0x5eed);
  for (const [i, x] of extra.entries()) {
    if (x.length !== size) {
      throw new InvalidInputError(
        `calibration input ${i} has ${x.length} values; the model takes ${size}`,
        'INVALID_OPTION',
      );
    }
  }
  const samples: Float64Array[] = [...extra];
  for (let s = 0; s < RANDOM_CALIBRATION_SAMPLES; s++) {
    samples.push(
      Float64Array.from({ length: size }, () => enc.range[0] + rng() * (enc.range[1] - enc.range[0])),
    );
  }
  const maxAbs = new Array<number>(graph.tensors.length).fill(0);
  for (const x of samples) {
    // calibrate on what the circuit will see: the quantized input
    const q = Float64Array.from(quantizeInput(enc, x), (v) => Number(v) / 2 ** enc.scale);
    runFloat(graph, q).forEach((vals, t) => {
      if (!vals) return;
      for (const v of vals) maxAbs[t] = Math.max(maxAbs[t]!, Math.abs(v));
    });
  }
  return maxAbs;
}

/** Small seeded PRNG: calibration must be reproducible so that a compile is deterministic. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
