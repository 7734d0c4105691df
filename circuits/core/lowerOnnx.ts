import { ModelError, UnsupportedOpError } from '../../protocol/errors.ts';
import { attrFloat, attrInt, attrInts, attrString, requireAttrInts } from '../onnx/attributes.ts';
import type { OnnxModel, OnnxNode } from '../onnx/parseOnnx.ts';
import { composeLinearChains } from './composeLinear.ts';
import type { FloatGraph, FloatNode, FloatTensor, GraphOutput } from './floatGraph.ts';
import { nodeInputs } from './floatGraph.ts';
import {
  type ConstValue,
  constOf,
  FOLDABLE_OPS,
  flattenShape,
  foldConstant,
  intsOf,
  isIntType,
  reshapeTarget,
  squeezeShape,
  transposeMap,
  unsqueezeShape,
} from './foldConstant.ts';
import { ACTIVATION_OPS, lowerActivation } from './lowerActivations.ts';
import { emitMatMulDynamic } from './lowerAttention.ts';
import {
  constIn,
  type DynValue,
  dynOf,
  emitDiv,
  emitLinear,
  emitMul,
  type LowerContext,
  type Value,
} from './lowerContext.ts';
import { INDEXING_OPS, lowerIndexing } from './lowerIndexing.ts';
import { lowerNormalisation, NORMALISATION_OPS } from './lowerNormalisation.ts';
import { lowerRecurrent, RECURRENT_OPS } from './lowerRecurrent.ts';
import {
  broadcastIndexMap,
  broadcastShapes,
  normAxis,
  type Shape,
  sizeOf,
  stridesOf,
  unravel,
  windowOutSize,
} from './tensorMath.ts';

export interface LowerOptions {
  /** Drop a Softmax/LogSoftmax that produces a graph output (monotone: the arg-max is unchanged). */
  readonly stripSoftmax?: boolean;
}

/** Every op the compiler accepts on computed tensors, for error hints and documentation. */
export const SUPPORTED_OPS = [
  'Gemm',
  'MatMul',
  'Conv',
  'Add',
  'Sub',
  'Mul',
  'Div (by a constant, or by a provably positive tensor)',
  'Relu',
  'LeakyRelu',
  'Sigmoid',
  'Tanh',
  'Exp',
  'Erf',
  'Gelu',
  'HardSigmoid',
  'HardSwish',
  'Clip',
  'Neg',
  'Pow (2, 3, 0.5)',
  'Sqrt',
  'Reciprocal (of a Sqrt)',
  'Softmax',
  'ReduceMean',
  'ReduceSum',
  'LayerNormalization',
  'LSTM',
  'GRU',
  'Slice',
  'Split',
  'Gather',
  'Expand',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'Pad',
  'BatchNormalization',
  'Flatten',
  'Reshape',
  'Squeeze',
  'Unsqueeze',
  'Transpose',
  'Concat',
  'Identity',
  'Dropout',
  'ArgMax',
] as const;

const HINT = `zkinfer proves ${SUPPORTED_OPS.join(', ')}; shape subgraphs (Shape, Gather, Concat, ...) are folded when constant`;

const UNSUPPORTED_HINTS: Record<string, string> = {
  LogSoftmax: 'log-softmax is not proven in-circuit; compile with --strip-softmax to prove the logits',
  RNN: 'plain RNN cells are not supported (LSTM and GRU are)',
  Attention: 'the fused Attention op is not supported; export attention as MatMul, Softmax and MatMul',
};

/**
 * Lowers a parsed ONNX model to the float IR: constant subgraphs are folded, linear ops become
 * sparse linear maps (then composed where nothing non-linear stands between them), views vanish.
 * Throws typed errors naming the op and node for anything it cannot prove.
 */
export function lowerOnnx(model: OnnxModel, options: LowerOptions = {}): FloatGraph {
  const g = model.graph;
  if (g.inputs.length !== 1) {
    throw new ModelError(
      'ONNX_INVALID',
      `the model has ${g.inputs.length} inputs (${g.inputs.map((i) => i.name).join(', ')}); zkinfer proves models with exactly one input`,
    );
  }
  const inputInfo = g.inputs[0]!;
  const inputShape = resolveInputShape(inputInfo.name, inputInfo.shape);
  const tensors: FloatTensor[] = [];
  const nodes: FloatNode[] = [];
  const notes: string[] = [];
  const values = new Map<string, Value>();
  const newTensor = (name: string, size: number): number => {
    tensors.push({ id: tensors.length, name, size });
    return tensors.length - 1;
  };
  const inputTensor = newTensor(inputInfo.name, sizeOf(inputShape));
  values.set(inputInfo.name, { kind: 'dyn', tensor: inputTensor, shape: inputShape });
  for (const [name, t] of g.initializers)
    values.set(name, constOf([...t.dims], t.data, isIntType(t.dataType)));
  const graphOutputs = new Set(g.outputs.map((o) => o.name));
  const rsqrtOf = new Map<number, DynValue>();

  for (const node of g.nodes) {
    if (node.domain !== '' && node.domain !== 'ai.onnx') {
      throw new UnsupportedOpError(
        `${node.domain}.${node.opType}`,
        node.name,
        `custom domains are not supported; ${HINT}`,
      );
    }
    const ins = node.inputs.map((name) => {
      if (name === '') return undefined;
      const v = values.get(name);
      if (!v)
        throw new ModelError(
          'ONNX_INVALID',
          `node "${node.name}" reads "${name}", which nothing before it produces`,
        );
      return v;
    });
    const ctx: LowerContext = { node, opset: model.opset, newTensor, nodes, notes, rsqrtOf };
    let outs: Value[];
    if (ins.every((v) => v === undefined || v.kind === 'const') && FOLDABLE_OPS.has(node.opType)) {
      outs = [foldConstant(node, ins as (ConstValue | undefined)[], model.opset)];
    } else if (node.opType === 'Shape') {
      outs = [shapeOf(node, ins[0])];
    } else if ((node.opType === 'Softmax' || node.opType === 'LogSoftmax') && options.stripSoftmax) {
      if (!node.outputs.every((o) => graphOutputs.has(o))) {
        throw new UnsupportedOpError(
          node.opType,
          node.name,
          '--strip-softmax only removes a softmax that produces a model output',
        );
      }
      notes.push(`${node.opType} node "${node.name}" was stripped: the proof is over its input (the logits)`);
      outs = [dynOf(node, ins[0])];
    } else {
      outs = lowerDynamic(ctx, ins);
    }
    node.outputs.forEach((name, i) => {
      const v = outs[i];
      if (v) values.set(name, v);
    });
  }

  const outputs: GraphOutput[] = g.outputs.map((o) => {
    const v = values.get(o.name);
    if (!v) throw new ModelError('ONNX_INVALID', `the model output "${o.name}" is produced by no node`);
    if (v.kind === 'const')
      throw new ModelError('ONNX_INVALID', `the model output "${o.name}" does not depend on the input`);
    if (sizeOf(v.shape) === 0)
      throw new ModelError(
        'ONNX_INVALID',
        `the model output "${o.name}" has no elements (shape [${v.shape}])`,
      );
    return { name: o.name, tensor: v.tensor, shape: v.shape };
  });
  const live = pruneDead(nodes, outputs);
  return composeLinearChains({
    tensors,
    nodes: live,
    input: { name: inputInfo.name, tensor: inputTensor, shape: inputShape },
    outputs,
    notes,
  });
}

function resolveInputShape(name: string, shape: readonly (number | string | null)[] | null): number[] {
  if (!shape)
    throw new ModelError(
      'ONNX_INVALID',
      `the model input "${name}" has no shape; re-export with a fixed shape`,
    );
  return shape.map((d, i) => {
    if (typeof d === 'number' && d > 0) return d;
    if (d === 0) {
      throw new ModelError(
        'ONNX_INVALID',
        `the model input "${name}" has a dimension ${i} of size 0: it has no elements`,
      );
    }
    if (i === 0) return 1; // the batch dimension: zkinfer proves one sample at a time
    throw new ModelError(
      'ONNX_INVALID',
      `the model input "${name}" has a symbolic dimension ${i} (${String(d)}); only the batch dimension may be symbolic`,
    );
  });
}

function shapeOf(node: OnnxNode, v: Value | undefined): ConstValue {
  if (!v) throw new ModelError('ONNX_INVALID', `Shape node "${node.name}" has no input`);
  let dims = v.shape;
  const start = node.attributes.get('start')?.i;
  const end = node.attributes.get('end')?.i;
  if (start !== undefined || end !== undefined) dims = dims.slice(start ?? 0, end ?? dims.length);
  return constOf([dims.length], Float64Array.from(dims), true);
}

function lowerDynamic(ctx: LowerContext, ins: readonly (Value | undefined)[]): Value[] {
  const { node } = ctx;
  const x = () => dynOf(node, ins[0]);
  switch (node.opType) {
    case 'Identity':
    case 'Dropout':
      if (node.outputs.length > 1 && node.outputs[1]) {
        throw new UnsupportedOpError(node.opType, node.name, 'its mask output is not supported');
      }
      return [x()];
    case 'Flatten': {
      const v = x();
      return [{ ...v, shape: flattenShape(node, v.shape) }];
    }
    case 'Reshape': {
      const v = x();
      return [{ ...v, shape: reshapeTarget(node, v.shape, intsOf(constIn(node, ins[1], 'shape'))) }];
    }
    case 'Squeeze': {
      const v = x();
      const axes =
        ctx.opset >= 13
          ? ins[1]
            ? intsOf(constIn(node, ins[1], 'axes'))
            : undefined
          : attrInts(node, 'axes');
      return [{ ...v, shape: squeezeShape(v.shape, axes) }];
    }
    case 'Unsqueeze': {
      const v = x();
      const axes =
        ctx.opset >= 13 ? intsOf(constIn(node, ins[1], 'axes')) : [...(attrInts(node, 'axes') ?? [])];
      return [{ ...v, shape: unsqueezeShape(v.shape, axes) }];
    }
    case 'Relu': {
      const v = x();
      const output = ctx.newTensor(node.outputs[0] ?? node.name, sizeOf(v.shape));
      ctx.nodes.push({ kind: 'relu', onnx: [node.name], input: v.tensor, output });
      return [{ kind: 'dyn', tensor: output, shape: v.shape }];
    }
    case 'Gemm':
      return [lowerGemm(ctx, ins)];
    case 'MatMul':
      return [lowerMatMul(ctx, ins)];
    case 'Conv':
      return [
        lowerConv(ctx, x(), constIn(node, ins[1], 'W'), ins[2] ? constIn(node, ins[2], 'B') : undefined),
      ];
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div':
      return [lowerBinary(ctx, ins[0], ins[1])];
    case 'BatchNormalization': {
      const v = x();
      const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) =>
        constIn(node, ins[i], ['', 'scale', 'B', 'mean', 'var'][i]!),
      );
      const eps = attrFloat(node, 'epsilon', 1e-5);
      const channels = v.shape[1] ?? 1;
      const inner = sizeOf(v.shape.slice(2));
      const a = Float64Array.from(
        { length: channels },
        (_, c) => scale!.data[c]! / Math.sqrt(variance!.data[c]! + eps),
      );
      return [
        emitLinear(ctx, [v], v.shape, (r, b) => {
          const c = Math.floor(r / inner) % channels;
          b.add(0, r, a[c]!);
          return bias!.data[c]! - mean!.data[c]! * a[c]!;
        }),
      ];
    }
    case 'Pad':
      return [lowerPad(ctx, x(), ins)];
    case 'Transpose': {
      const v = x();
      const { shape, map } = transposeMap(v.shape, attrInts(node, 'perm'));
      return [
        emitLinear(ctx, [v], shape, (r, b) => {
          b.add(0, map[r]!, 1);
          return 0;
        }),
      ];
    }
    case 'Concat':
      return [lowerConcat(ctx, ins)];
    case 'MaxPool':
    case 'GlobalMaxPool':
    case 'AveragePool':
    case 'GlobalAveragePool':
      return [lowerPool(ctx, x())];
    case 'ArgMax': {
      const v = x();
      const axis = normAxis(attrInt(node, 'axis', 0), v.shape.length);
      if (axis < 0)
        throw new ModelError('ONNX_INVALID', `ArgMax node "${node.name}" has an axis out of range`);
      if (attrInt(node, 'select_last_index', 0) !== 0) {
        throw new UnsupportedOpError(
          'ArgMax',
          node.name,
          'select_last_index=1 is not supported (ties resolve to the first index)',
        );
      }
      const dim = v.shape[axis]!;
      const inner = sizeOf(v.shape.slice(axis + 1));
      const outer = sizeOf(v.shape.slice(0, axis));
      const groups: Int32Array[] = [];
      for (let o = 0; o < outer; o++)
        for (let i = 0; i < inner; i++)
          groups.push(Int32Array.from({ length: dim }, (_, k) => (o * dim + k) * inner + i));
      const output = ctx.newTensor(node.outputs[0] ?? node.name, groups.length);
      ctx.nodes.push({ kind: 'argmax', onnx: [node.name], input: v.tensor, output, groups });
      const shape = [...v.shape];
      if (attrInt(node, 'keepdims', 1) === 1) shape[axis] = 1;
      else shape.splice(axis, 1);
      return [{ kind: 'dyn', tensor: output, shape }];
    }
    default:
      if (ACTIVATION_OPS.has(node.opType)) return lowerActivation(ctx, ins);
      if (NORMALISATION_OPS.has(node.opType)) return lowerNormalisation(ctx, ins);
      if (INDEXING_OPS.has(node.opType)) return lowerIndexing(ctx, ins);
      if (RECURRENT_OPS.has(node.opType)) return lowerRecurrent(ctx, ins);
      throw new UnsupportedOpError(node.opType, node.name, UNSUPPORTED_HINTS[node.opType] ?? HINT);
  }
}

function lowerGemm(ctx: LowerContext, ins: readonly (Value | undefined)[]): DynValue {
  const { node } = ctx;
  const a = dynOf(node, ins[0]);
  const bConst = constIn(node, ins[1], 'B');
  const c = ins[2] ? constIn(node, ins[2], 'C') : undefined;
  const alpha = attrFloat(node, 'alpha', 1);
  const beta = attrFloat(node, 'beta', 1);
  const transA = attrInt(node, 'transA', 0) === 1;
  const transB = attrInt(node, 'transB', 0) === 1;
  if (a.shape.length !== 2 || bConst.shape.length !== 2) {
    throw new ModelError(
      'SHAPE_MISMATCH',
      `Gemm node "${node.name}" needs 2-D inputs, got [${a.shape}] and [${bConst.shape}]`,
    );
  }
  const [a0, a1] = a.shape as [number, number];
  const [M, K] = transA ? [a1, a0] : [a0, a1];
  const [kB, N] = transB ? [bConst.shape[1]!, bConst.shape[0]!] : [bConst.shape[0]!, bConst.shape[1]!];
  if (kB !== K)
    throw new ModelError(
      'SHAPE_MISMATCH',
      `Gemm node "${node.name}": inner dimensions ${K} and ${kB} differ`,
    );
  const cMap = c ? broadcastIndexMap([M, N], c.shape) : undefined;
  return emitLinear(ctx, [a], [M, N], (r, b) => {
    const m = Math.floor(r / N);
    const n = r % N;
    for (let k = 0; k < K; k++) {
      const w = transB ? bConst.data[n * K + k]! : bConst.data[k * N + n]!;
      b.add(0, transA ? k * a1 + m : m * a1 + k, alpha * w);
    }
    return c && cMap ? beta * c.data[cMap[r]!]! : 0;
  });
}

function lowerMatMul(ctx: LowerContext, ins: readonly (Value | undefined)[]): DynValue {
  const { node } = ctx;
  const [a, b] = [ins[0], ins[1]];
  if (!a || !b) throw new ModelError('ONNX_INVALID', `MatMul node "${node.name}" needs two inputs`);
  if (a.kind === 'dyn' && b.kind === 'dyn') return emitMatMulDynamic(ctx, a, b);
  const dynLeft = a.kind === 'dyn';
  const dyn = (dynLeft ? a : b) as DynValue;
  const w = (dynLeft ? b : a) as ConstValue;
  const wShape = w.shape.length === 1 ? (dynLeft ? [w.shape[0]!, 1] : [1, w.shape[0]!]) : w.shape;
  if (wShape.length !== 2 && sizeOf(wShape.slice(0, -2)) !== 1) {
    throw new UnsupportedOpError(
      'MatMul',
      node.name,
      'a constant operand with batch dimensions is not supported',
    );
  }
  const [wr, wc] = wShape.slice(-2) as [number, number];
  const dShape = dyn.shape.length === 1 ? (dynLeft ? [1, dyn.shape[0]!] : [dyn.shape[0]!, 1]) : dyn.shape;
  const batch = dShape.slice(0, -2);
  const [dr, dc] = dShape.slice(-2) as [number, number];
  const [M, K, N] = dynLeft ? [dr, dc, wc] : [wr, wc, dc];
  if ((dynLeft ? wr : dr) !== K) {
    throw new ModelError('SHAPE_MISMATCH', `MatMul node "${node.name}": inner dimensions do not match`);
  }
  let outShape = [...batch, M, N];
  const result = emitLinear(ctx, [dyn], outShape, (r, bld) => {
    const bi = Math.floor(r / (M * N));
    const m = Math.floor(r / N) % M;
    const n = r % N;
    const base = bi * dr * dc;
    for (let k = 0; k < K; k++) {
      if (dynLeft) bld.add(0, base + m * dc + k, w.data[k * wc + n]!);
      else bld.add(0, base + k * dc + n, w.data[m * wc + k]!);
    }
    return 0;
  });
  if (dyn.shape.length === 1 || w.shape.length === 1) {
    outShape = outShape.filter(
      (_, i) =>
        !(
          (i === outShape.length - 2 && (dynLeft ? dyn : w).shape.length === 1) ||
          (i === outShape.length - 1 && (dynLeft ? w : dyn).shape.length === 1)
        ),
    );
  }
  return { ...result, shape: outShape };
}

/** Spatial attributes of conv/pool ops, normalised to two spatial dims (1-D is H = 1). */
interface Window {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  padBegin: [number, number];
  padEnd: [number, number];
  out: [number, number];
}

function windowOf(
  node: OnnxNode,
  inHW: [number, number],
  kernelAttr: readonly number[],
  spatialRank: number,
  ceilMode: boolean,
): Window {
  const two = (v: readonly number[] | undefined, fill: number): [number, number] =>
    spatialRank === 1 ? [1, v?.[0] ?? fill] : [v?.[0] ?? fill, v?.[1] ?? fill];
  const kernel = two(kernelAttr, 1);
  const strides = two(attrInts(node, 'strides'), 1);
  const dilations = two(attrInts(node, 'dilations'), 1);
  const pads = attrInts(node, 'pads') ?? [];
  let padBegin: [number, number] = spatialRank === 1 ? [0, pads[0] ?? 0] : [pads[0] ?? 0, pads[1] ?? 0];
  let padEnd: [number, number] = spatialRank === 1 ? [0, pads[1] ?? 0] : [pads[2] ?? 0, pads[3] ?? 0];
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  if (autoPad === 'VALID') {
    padBegin = [0, 0];
    padEnd = [0, 0];
  } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const total = [0, 1].map((d) => {
      const out = Math.ceil(inHW[d]! / strides[d]!);
      return Math.max(0, (out - 1) * strides[d]! + dilations[d]! * (kernel[d]! - 1) + 1 - inHW[d]!);
    }) as [number, number];
    const small = total.map((t) => Math.floor(t / 2)) as [number, number];
    const large = total.map((t, d) => t - small[d]!) as [number, number];
    padBegin = autoPad === 'SAME_UPPER' ? small : large;
    padEnd = autoPad === 'SAME_UPPER' ? large : small;
  }
  const out = [0, 1].map((d) =>
    windowOutSize(inHW[d]!, kernel[d]!, strides[d]!, padBegin[d]!, padEnd[d]!, dilations[d]!, ceilMode),
  ) as [number, number];
  if (out[0] <= 0 || out[1] <= 0) {
    throw new ModelError(
      'SHAPE_MISMATCH',
      `${node.opType} node "${node.name}": the window is larger than the input`,
    );
  }
  return { kernel, strides, dilations, padBegin, padEnd, out };
}

/** [N=1, C, H, W] or [N=1, C, L] → channel count, spatial size and rank. */
function spatialOf(node: OnnxNode, shape: Shape): { c: number; hw: [number, number]; rank: number } {
  if (shape.length !== 3 && shape.length !== 4) {
    throw new UnsupportedOpError(
      node.opType,
      node.name,
      `only 1-D and 2-D spatial inputs are supported, got rank ${shape.length}`,
    );
  }
  if (shape[0] !== 1)
    throw new ModelError('SHAPE_MISMATCH', `${node.opType} node "${node.name}": batch must be 1`);
  return shape.length === 4
    ? { c: shape[1]!, hw: [shape[2]!, shape[3]!], rank: 2 }
    : { c: shape[1]!, hw: [1, shape[2]!], rank: 1 };
}

function outShapeOf(rank: number, c: number, out: [number, number]): number[] {
  return rank === 2 ? [1, c, out[0], out[1]] : [1, c, out[1]];
}

function lowerConv(ctx: LowerContext, x: DynValue, w: ConstValue, bias: ConstValue | undefined): DynValue {
  const { node } = ctx;
  const { c: C, hw, rank } = spatialOf(node, x.shape);
  const group = attrInt(node, 'group', 1);
  const M = w.shape[0]!;
  const cPerGroup = w.shape[1]!;
  if (cPerGroup * group !== C || M % group !== 0) {
    throw new ModelError(
      'SHAPE_MISMATCH',
      `Conv node "${node.name}": weight [${w.shape}] does not fit ${C} channels in ${group} groups`,
    );
  }
  const kernelAttr = attrInts(node, 'kernel_shape') ?? w.shape.slice(2);
  const win = windowOf(node, hw, kernelAttr, rank, false);
  const [H, W] = hw;
  const [kh, kw] = win.kernel;
  const mPerGroup = M / group;
  return emitLinear(ctx, [x], outShapeOf(rank, M, win.out), (r, b) => {
    const m = Math.floor(r / (win.out[0] * win.out[1]));
    const oh = Math.floor(r / win.out[1]) % win.out[0];
    const ow = r % win.out[1];
    const g = Math.floor(m / mPerGroup);
    for (let c = 0; c < cPerGroup; c++)
      for (let i = 0; i < kh; i++) {
        const ih = oh * win.strides[0] - win.padBegin[0] + i * win.dilations[0];
        if (ih < 0 || ih >= H) continue;
        for (let j = 0; j < kw; j++) {
          const iw = ow * win.strides[1] - win.padBegin[1] + j * win.dilations[1];
          if (iw < 0 || iw >= W) continue;
          b.add(0, ((g * cPerGroup + c) * H + ih) * W + iw, w.data[((m * cPerGroup + c) * kh + i) * kw + j]!);
        }
      }
    return bias ? bias.data[m]! : 0;
  });
}

function lowerPool(ctx: LowerContext, x: DynValue): DynValue {
  const { node } = ctx;
  const { c: C, hw, rank } = spatialOf(node, x.shape);
  const global = node.opType.startsWith('Global');
  const isMax = node.opType.endsWith('MaxPool');
  const win = global
    ? windowOf(node, hw, rank === 2 ? hw : [hw[1]], rank, false)
    : windowOf(node, hw, requireAttrInts(node, 'kernel_shape'), rank, attrInt(node, 'ceil_mode', 0) === 1);
  if (isMax && node.outputs.length > 1 && node.outputs[1]) {
    throw new UnsupportedOpError('MaxPool', node.name, 'its Indices output is not supported');
  }
  const includePad = attrInt(node, 'count_include_pad', 0) === 1;
  const [H, W] = hw;
  const windows: Int32Array[] = [];
  const counts: number[] = [];
  for (let c = 0; c < C; c++)
    for (let oh = 0; oh < win.out[0]; oh++)
      for (let ow = 0; ow < win.out[1]; ow++) {
        const idx: number[] = [];
        let padded = 0;
        for (let i = 0; i < win.kernel[0]; i++) {
          const ih = oh * win.strides[0] - win.padBegin[0] + i * win.dilations[0];
          for (let j = 0; j < win.kernel[1]; j++) {
            const iw = ow * win.strides[1] - win.padBegin[1] + j * win.dilations[1];
            const inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
            if (inside) idx.push((c * H + ih) * W + iw);
            // count_include_pad counts explicit padding, never the extra cells of ceil_mode
            else if (
              ih >= -win.padBegin[0] &&
              ih < H + win.padEnd[0] &&
              iw >= -win.padBegin[1] &&
              iw < W + win.padEnd[1]
            )
              padded++;
          }
        }
        if (idx.length === 0)
          throw new ModelError(
            'SHAPE_MISMATCH',
            `${node.opType} node "${node.name}" has a window entirely in padding`,
          );
        windows.push(Int32Array.from(idx));
        counts.push(includePad ? idx.length + padded : idx.length);
      }
  const shape = outShapeOf(rank, C, win.out);
  if (isMax) {
    const output = ctx.newTensor(node.outputs[0] ?? node.name, windows.length);
    ctx.nodes.push({ kind: 'maxpool', onnx: [node.name], input: x.tensor, output, windows });
    return { kind: 'dyn', tensor: output, shape };
  }
  return emitLinear(ctx, [x], shape, (r, b) => {
    for (const i of windows[r]!) b.add(0, i, 1 / counts[r]!);
    return 0;
  });
}

function lowerPad(ctx: LowerContext, x: DynValue, ins: readonly (Value | undefined)[]): DynValue {
  const { node } = ctx;
  const rank = x.shape.length;
  let pads: number[];
  let value = 0;
  if (ctx.opset >= 11) {
    pads = intsOf(constIn(node, ins[1], 'pads'));
    if (ins[2]) value = constIn(node, ins[2], 'constant_value').data[0] ?? 0;
    if (ins[3]) {
      const axes = intsOf(constIn(node, ins[3], 'axes')).map((a) => normAxis(a, rank));
      const full = new Array<number>(2 * rank).fill(0);
      axes.forEach((a, i) => {
        full[a] = pads[i]!;
        full[a + rank] = pads[i + axes.length]!;
      });
      pads = full;
    }
  } else {
    pads = [...(attrInts(node, 'pads') ?? attrInts(node, 'paddings') ?? [])];
    value = attrFloat(node, 'value', 0);
  }
  if (pads.length !== 2 * rank)
    throw new ModelError('ONNX_INVALID', `Pad node "${node.name}" has ${pads.length} pads for rank ${rank}`);
  const mode = attrString(node, 'mode', 'constant');
  if (mode !== 'constant' && mode !== 'edge' && mode !== 'reflect') {
    throw new UnsupportedOpError(
      'Pad',
      node.name,
      `mode "${mode}" is not supported (constant, edge, reflect are)`,
    );
  }
  const outShape = x.shape.map((d, i) => d + pads[i]! + pads[i + rank]!);
  const inStrides = stridesOf(x.shape);
  return emitLinear(ctx, [x], outShape, (r, b) => {
    const coords = unravel(r, outShape);
    let src = 0;
    for (let d = 0; d < rank; d++) {
      let c = coords[d]! - pads[d]!;
      const n = x.shape[d]!;
      if (c < 0 || c >= n) {
        if (mode === 'constant') return value;
        if (mode === 'edge') c = Math.min(Math.max(c, 0), n - 1);
        else {
          const period = 2 * (n - 1) || 1;
          c = ((c % period) + period) % period;
          if (c >= n) c = period - c;
        }
      }
      src += c * inStrides[d]!;
    }
    b.add(0, src, 1);
    return 0;
  });
}

function lowerConcat(ctx: LowerContext, ins: readonly (Value | undefined)[]): DynValue {
  const { node } = ctx;
  const parts = ins.map((v, i) => {
    if (!v) throw new ModelError('ONNX_INVALID', `Concat node "${node.name}" is missing input ${i}`);
    return v;
  });
  const rank = parts[0]!.shape.length;
  const axis = normAxis(attrInt(node, 'axis', 0), rank);
  const outShape = [...parts[0]!.shape];
  outShape[axis] = parts.reduce((s, p) => s + p.shape[axis]!, 0);
  const dyns = parts.filter((p): p is DynValue => p.kind === 'dyn');
  const inner = sizeOf(outShape.slice(axis + 1));
  return emitLinear(ctx, dyns, outShape, (r, b) => {
    const a = Math.floor(r / inner) % outShape[axis]!;
    const outer = Math.floor(r / (inner * outShape[axis]!));
    let offset = 0;
    for (const p of parts) {
      const d = p.shape[axis]!;
      if (a < offset + d) {
        const flat = (outer * d + (a - offset)) * inner + (r % inner);
        if (p.kind === 'const') return p.data[flat]!;
        b.add(dyns.indexOf(p), flat, 1);
        return 0;
      }
      offset += d;
    }
    return 0;
  });
}

function lowerBinary(ctx: LowerContext, a: Value | undefined, b: Value | undefined): DynValue {
  const { node } = ctx;
  if (!a || !b) throw new ModelError('ONNX_INVALID', `${node.opType} node "${node.name}" needs two inputs`);
  const shape = broadcastShapes(a.shape, b.shape);
  if (!shape) {
    throw new ModelError(
      'SHAPE_MISMATCH',
      `${node.opType} node "${node.name}": shapes [${a.shape}] and [${b.shape}] do not broadcast`,
    );
  }
  const ia = broadcastIndexMap(shape, a.shape);
  const ib = broadcastIndexMap(shape, b.shape);
  const op = node.opType;
  if (a.kind === 'dyn' && b.kind === 'dyn') {
    if (op === 'Mul') return emitMul(ctx, a, b);
    if (op === 'Div') return emitDiv(ctx, a, b);
    return emitLinear(ctx, [a, b], shape, (r, bld) => {
      bld.add(0, ia[r]!, 1);
      bld.add(1, ib[r]!, op === 'Sub' ? -1 : 1);
      return 0;
    });
  }
  const dynLeft = a.kind === 'dyn';
  const d = (dynLeft ? a : b) as DynValue;
  const c = (dynLeft ? b : a) as ConstValue;
  const id = dynLeft ? ia : ib;
  const ic = dynLeft ? ib : ia;
  if (op === 'Div' && !dynLeft) {
    throw new UnsupportedOpError(
      'Div',
      node.name,
      'dividing a constant by a computed tensor is not supported (a computed numerator is)',
    );
  }
  return emitLinear(ctx, [d], shape, (r, bld) => {
    const k = c.data[ic[r]!]!;
    switch (op) {
      case 'Add':
        bld.add(0, id[r]!, 1);
        return k;
      case 'Sub':
        bld.add(0, id[r]!, dynLeft ? 1 : -1);
        return dynLeft ? -k : k;
      case 'Mul':
        bld.add(0, id[r]!, k);
        return 0;
      default:
        if (k === 0) throw new ModelError('ONNX_INVALID', `Div node "${node.name}" divides by zero`);
        bld.add(0, id[r]!, 1 / k);
        return 0;
    }
  });
}

/** Drops nodes whose outputs reach no graph output (e.g. the dead branch of a Shape chain). */
function pruneDead(nodes: readonly FloatNode[], outputs: readonly GraphOutput[]): FloatNode[] {
  const needed = new Set(outputs.map((o) => o.tensor));
  const kept: FloatNode[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (!needed.has(n.output)) continue;
    kept.push(n);
    for (const t of nodeInputs(n)) needed.add(t);
  }
  return kept.reverse();
}
