import { ModelError, UnsupportedOpError } from '../../protocol/errors.ts';
import { attrInt, attrInts } from '../onnx/attributes.ts';
import type { OnnxNode } from '../onnx/parseOnnx.ts';
import { DataType } from '../onnx/parseOnnx.ts';
import {
  broadcastIndexMap,
  broadcastShapes,
  normAxis,
  type Shape,
  sizeOf,
  stridesOf,
  unravel,
} from './tensorMath.ts';

/** A tensor known at compile time. `int` marks integer-typed data (shapes, indices) so Div truncates. */
export interface ConstValue {
  readonly kind: 'const';
  readonly shape: number[];
  readonly data: Float64Array;
  readonly int: boolean;
}

export function constOf(shape: number[], data: Float64Array, int = false): ConstValue {
  return { kind: 'const', shape, data, int };
}

const INT_TYPES: ReadonlySet<number> = new Set([
  DataType.INT8,
  DataType.INT16,
  DataType.INT32,
  DataType.INT64,
  DataType.UINT8,
  DataType.UINT16,
  DataType.UINT32,
  DataType.UINT64,
  DataType.BOOL,
]);
export function isIntType(dataType: number): boolean {
  return INT_TYPES.has(dataType);
}

/** Ops that {@link foldConstant} evaluates when all their inputs are constants. */
export const FOLDABLE_OPS: ReadonlySet<string> = new Set([
  'Constant',
  'Identity',
  'Cast',
  'Gather',
  'Unsqueeze',
  'Squeeze',
  'Concat',
  'Slice',
  'Reshape',
  'Flatten',
  'Transpose',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Neg',
  'Sqrt',
  'Relu',
  'ConstantOfShape',
  'Range',
  'Expand',
]);

/** Reads a constant as a list of integers (for shapes, axes, pads). */
export function intsOf(v: ConstValue): number[] {
  return Array.from(v.data, (x) => Math.trunc(x));
}

/**
 * Evaluates an op whose inputs are all constants. `inputs[i]` is undefined for an absent optional input.
 * Pure: no I/O, no mutation of the inputs.
 */
export function foldConstant(
  node: OnnxNode,
  inputs: readonly (ConstValue | undefined)[],
  opset: number,
): ConstValue {
  const x = inputs[0];
  const need = (v: ConstValue | undefined, what: string): ConstValue => {
    if (!v)
      throw new ModelError('ONNX_INVALID', `${node.opType} node "${node.name}" is missing its ${what} input`);
    return v;
  };
  switch (node.opType) {
    case 'Constant': {
      const a = node.attributes;
      const t = a.get('value')?.t;
      if (t) return constOf([...t.dims], t.data, isIntType(t.dataType));
      const f = a.get('value_float')?.f;
      if (f !== undefined) return constOf([], Float64Array.of(f));
      const i = a.get('value_int')?.i;
      if (i !== undefined) return constOf([], Float64Array.of(i), true);
      const fs = a.get('value_floats')?.floats;
      if (fs) return constOf([fs.length], Float64Array.from(fs));
      const is = a.get('value_ints')?.ints;
      if (is) return constOf([is.length], Float64Array.from(is), true);
      throw new UnsupportedOpError(
        'Constant',
        node.name,
        'only tensor, float(s) and int(s) constants are supported',
      );
    }
    case 'Identity':
      return need(x, 'data');
    case 'Cast': {
      const v = need(x, 'data');
      const to = attrInt(node, 'to', DataType.FLOAT);
      return isIntType(to) ? constOf(v.shape, v.data.map(Math.trunc), true) : constOf(v.shape, v.data, false);
    }
    case 'Neg':
      return mapConst(need(x, 'X'), (a) => -a);
    case 'Sqrt':
      return mapConst(need(x, 'X'), Math.sqrt);
    case 'Relu':
      return mapConst(need(x, 'X'), (a) => Math.max(0, a));
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div': {
      const a = need(x, 'A');
      const b = need(inputs[1], 'B');
      const shape = broadcastShapes(a.shape, b.shape);
      if (!shape) throw shapeError(node, a.shape, b.shape);
      const ia = broadcastIndexMap(shape, a.shape);
      const ib = broadcastIndexMap(shape, b.shape);
      const int = a.int && b.int;
      const out = new Float64Array(sizeOf(shape));
      for (let i = 0; i < out.length; i++) {
        const u = a.data[ia[i]!]!;
        const v = b.data[ib[i]!]!;
        out[i] =
          node.opType === 'Add'
            ? u + v
            : node.opType === 'Sub'
              ? u - v
              : node.opType === 'Mul'
                ? u * v
                : int
                  ? Math.trunc(u / v)
                  : u / v;
      }
      return constOf(shape, out, int);
    }
    case 'Gather': {
      const data = need(x, 'data');
      const indices = need(inputs[1], 'indices');
      const { shape, map } = gatherMap(node, data.shape, indices);
      return constOf(
        shape,
        Float64Array.from(map, (i) => data.data[i]!),
        data.int,
      );
    }
    case 'Expand': {
      const data = need(x, 'input');
      const { shape, map } = expandMap(node, data.shape, intsOf(need(inputs[1], 'shape')));
      return constOf(
        shape,
        Float64Array.from(map, (i) => data.data[i]!),
        data.int,
      );
    }
    case 'Unsqueeze': {
      const v = need(x, 'data');
      const axes = opset >= 13 ? intsOf(need(inputs[1], 'axes')) : [...(attrInts(node, 'axes') ?? [])];
      return constOf(unsqueezeShape(v.shape, axes), v.data, v.int);
    }
    case 'Squeeze': {
      const v = need(x, 'data');
      const axes = opset >= 13 ? (inputs[1] ? intsOf(inputs[1]) : undefined) : attrInts(node, 'axes');
      return constOf(squeezeShape(v.shape, axes), v.data, v.int);
    }
    case 'Concat': {
      const parts = inputs.map((v, i) => need(v, `#${i}`));
      const rank = parts[0]!.shape.length;
      const axis = normAxis(attrInt(node, 'axis', 0), rank);
      const outer = sizeOf(parts[0]!.shape.slice(0, axis));
      const chunks: number[] = [];
      for (let o = 0; o < outer; o++)
        for (const p of parts) {
          const inner = sizeOf(p.shape.slice(axis));
          for (let i = 0; i < inner; i++) chunks.push(p.data[o * inner + i]!);
        }
      const shape = [...parts[0]!.shape];
      shape[axis] = parts.reduce((s, p) => s + p.shape[axis]!, 0);
      return constOf(
        shape,
        Float64Array.from(chunks),
        parts.every((p) => p.int),
      );
    }
    case 'Slice': {
      const v = need(x, 'data');
      const { shape, map } = sliceMap(node, v.shape, sliceArgs(node, inputs, opset));
      return constOf(
        shape,
        Float64Array.from(map, (i) => v.data[i]!),
        v.int,
      );
    }
    case 'Reshape': {
      const v = need(x, 'data');
      return constOf(reshapeTarget(node, v.shape, intsOf(need(inputs[1], 'shape'))), v.data, v.int);
    }
    case 'Flatten': {
      const v = need(x, 'input');
      return constOf(flattenShape(node, v.shape), v.data, v.int);
    }
    case 'Transpose': {
      const v = need(x, 'data');
      const { shape, map } = transposeMap(v.shape, attrInts(node, 'perm'));
      return constOf(
        shape,
        Float64Array.from(map, (i) => v.data[i]!),
        v.int,
      );
    }
    case 'ConstantOfShape': {
      const shape = intsOf(need(x, 'input'));
      const value = node.attributes.get('value')?.t;
      const fill = value?.data[0] ?? 0;
      return constOf(
        shape,
        new Float64Array(sizeOf(shape)).fill(fill),
        value ? isIntType(value.dataType) : false,
      );
    }
    case 'Range': {
      const [s, l, d] = [need(x, 'start'), need(inputs[1], 'limit'), need(inputs[2], 'delta')].map(
        (c) => c.data[0]!,
      );
      const n = Math.max(Math.ceil((l! - s!) / d!), 0);
      return constOf(
        [n],
        Float64Array.from({ length: n }, (_, i) => s! + i * d!),
        x!.int,
      );
    }
    default:
      throw new UnsupportedOpError(node.opType, node.name, 'cannot be evaluated on constants');
  }
  function mapConst(v: ConstValue, f: (a: number) => number): ConstValue {
    return constOf(v.shape, v.data.map(f), v.int);
  }
}

function shapeError(node: OnnxNode, a: Shape, b: Shape): ModelError {
  return new ModelError(
    'SHAPE_MISMATCH',
    `${node.opType} node "${node.name}": shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`,
  );
}

export function unsqueezeShape(shape: Shape, axes: readonly number[]): number[] {
  const rank = shape.length + axes.length;
  const norm = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(norm.has(i) ? 1 : shape[j++]!);
  return out;
}

export function squeezeShape(shape: Shape, axes: readonly number[] | undefined): number[] {
  if (!axes || axes.length === 0) return shape.filter((d) => d !== 1);
  const norm = new Set(axes.map((a) => (a < 0 ? a + shape.length : a)));
  return shape.filter((_, i) => !norm.has(i));
}

export function flattenShape(node: OnnxNode, shape: Shape): number[] {
  const axis = attrInt(node, 'axis', 1);
  const a = axis < 0 ? axis + shape.length : axis;
  return [sizeOf(shape.slice(0, a)), sizeOf(shape.slice(a))];
}

/** Resolves a Reshape target (0 copies the input dim unless allowzero, -1 is inferred). */
export function reshapeTarget(node: OnnxNode, inShape: Shape, target: readonly number[]): number[] {
  const allowZero = attrInt(node, 'allowzero', 0) === 1;
  const out = target.map((d, i) => (d === 0 && !allowZero ? (inShape[i] ?? 0) : d));
  const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const total = sizeOf(inShape);
  const minus = out.indexOf(-1);
  if (minus >= 0) out[minus] = known === 0 ? 0 : total / known;
  if (sizeOf(out) !== total || out.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ModelError(
      'SHAPE_MISMATCH',
      `Reshape node "${node.name}": cannot reshape [${inShape.join(', ')}] to [${target.join(', ')}]`,
    );
  }
  return out;
}

/** For a transpose, the output shape and, for every output flat index, its input flat index. */
export function transposeMap(
  shape: Shape,
  permAttr: readonly number[] | undefined,
): { shape: number[]; map: Int32Array } {
  const perm = permAttr && permAttr.length > 0 ? permAttr : shape.map((_, i) => shape.length - 1 - i);
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = stridesOf(shape);
  const map = new Int32Array(sizeOf(outShape));
  for (let f = 0; f < map.length; f++) {
    const c = unravel(f, outShape);
    let src = 0;
    c.forEach((ci, d) => {
      src += ci * inStrides[perm[d]!]!;
    });
    map[f] = src;
  }
  return { shape: outShape, map };
}

/** Gather with constant indices: the output shape and, per output element, the flat source index. */
export function gatherMap(
  node: OnnxNode,
  dataShape: readonly number[],
  indices: ConstValue,
): { shape: number[]; map: Int32Array } {
  const axis = normAxis(attrInt(node, 'axis', 0), dataShape.length);
  if (axis < 0) throw new ModelError('ONNX_INVALID', `Gather node "${node.name}" has an axis out of range`);
  const dim = dataShape[axis]!;
  const outer = sizeOf(dataShape.slice(0, axis));
  const inner = sizeOf(dataShape.slice(axis + 1));
  const idx = intsOf(indices).map((i) => (i < 0 ? i + dim : i));
  if (idx.some((i) => i < 0 || i >= dim)) {
    throw new ModelError('ONNX_INVALID', `Gather node "${node.name}" has an index outside [${-dim}, ${dim})`);
  }
  const map = new Int32Array(outer * idx.length * inner);
  let o = 0;
  for (let a = 0; a < outer; a++)
    for (const i of idx) for (let c = 0; c < inner; c++) map[o++] = (a * dim + i) * inner + c;
  return { shape: [...dataShape.slice(0, axis), ...indices.shape, ...dataShape.slice(axis + 1)], map };
}

/** Expand to a target shape (numpy broadcasting both ways). */
export function expandMap(
  node: OnnxNode,
  shape: readonly number[],
  target: readonly number[],
): { shape: number[]; map: Int32Array } {
  const out = broadcastShapes(shape, target);
  if (!out) {
    throw new ModelError(
      'SHAPE_MISMATCH',
      `Expand node "${node.name}": [${shape}] does not broadcast to [${target}]`,
    );
  }
  return { shape: out, map: broadcastIndexMap(out, shape) };
}

export interface SliceArgs {
  readonly starts: readonly number[];
  readonly ends: readonly number[];
  readonly axes: readonly number[];
  readonly steps: readonly number[];
}

/** Slice's starts, ends, axes and steps: constant inputs from opset 10, attributes before. */
export function sliceArgs(
  node: OnnxNode,
  inputs: readonly (ConstValue | undefined)[],
  opset: number,
): SliceArgs {
  if (opset >= 10) {
    const need = (v: ConstValue | undefined, what: string): ConstValue => {
      if (!v) throw new ModelError('ONNX_INVALID', `Slice node "${node.name}" is missing its ${what} input`);
      return v;
    };
    const starts = intsOf(need(inputs[1], 'starts'));
    return {
      starts,
      ends: intsOf(need(inputs[2], 'ends')),
      axes: inputs[3] ? intsOf(inputs[3]) : starts.map((_, i) => i),
      steps: inputs[4] ? intsOf(inputs[4]) : starts.map(() => 1),
    };
  }
  const starts = [...(attrInts(node, 'starts') ?? [])];
  return {
    starts,
    ends: [...(attrInts(node, 'ends') ?? [])],
    axes: [...(attrInts(node, 'axes') ?? starts.map((_, i) => i))],
    steps: starts.map(() => 1),
  };
}

/** Slice: the output shape and, per output element, the flat source index (ONNX clamping rules). */
export function sliceMap(
  node: OnnxNode,
  inShape: readonly number[],
  args: SliceArgs,
): { shape: number[]; map: Int32Array } {
  const rank = inShape.length;
  const ranges = inShape.map((d) => ({ start: 0, step: 1, count: d }));
  args.axes.forEach((axRaw, i) => {
    const ax = normAxis(axRaw, rank);
    if (ax < 0) throw new ModelError('ONNX_INVALID', `Slice node "${node.name}" has an axis out of range`);
    const d = inShape[ax]!;
    const step = args.steps[i]!;
    if (step === 0) throw new ModelError('ONNX_INVALID', `Slice node "${node.name}" has a zero step`);
    const clampIdx = (t: number, lo: number, hi: number) => Math.min(Math.max(t < 0 ? t + d : t, lo), hi);
    const s = step > 0 ? clampIdx(args.starts[i]!, 0, d) : clampIdx(args.starts[i]!, -1, d - 1);
    const e = step > 0 ? clampIdx(args.ends[i]!, 0, d) : clampIdx(args.ends[i]!, -1, d - 1);
    ranges[ax] = { start: s, step, count: Math.max(0, Math.ceil((e - s) / step)) };
  });
  const shape = ranges.map((r) => r.count);
  const strides = stridesOf(inShape);
  const map = new Int32Array(sizeOf(shape));
  for (let f = 0; f < map.length; f++) {
    let src = 0;
    unravel(f, shape).forEach((ci, d) => {
      src += (ranges[d]!.start + ci * ranges[d]!.step) * strides[d]!;
    });
    map[f] = src;
  }
  return { shape, map };
}
