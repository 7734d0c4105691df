import { ModelError, UnsupportedOpError } from '../../protocol/errors.ts';
import { attrFloat, attrInt, attrInts } from '../onnx/attributes.ts';
import { intsOf } from './foldConstant.ts';
import {
  constIn,
  type DynValue,
  dynOf,
  emitLinear,
  emitMul,
  emitRsqrt,
  type LowerContext,
  type Value,
} from './lowerContext.ts';
import { normAxis, sizeOf, stridesOf } from './tensorMath.ts';

/** Softmax, reductions and LayerNormalization. */
export const NORMALISATION_OPS: ReadonlySet<string> = new Set([
  'Softmax',
  'ReduceMean',
  'ReduceSum',
  'LayerNormalization',
]);

export function lowerNormalisation(ctx: LowerContext, ins: readonly (Value | undefined)[]): Value[] {
  const { node } = ctx;
  const x = dynOf(node, ins[0]);
  switch (node.opType) {
    case 'Softmax': {
      const rank = x.shape.length;
      const axis = normAxis(attrInt(node, 'axis', ctx.opset >= 13 ? -1 : 1), rank);
      if (axis < 0)
        throw new ModelError('ONNX_INVALID', `Softmax node "${node.name}" has an axis out of range`);
      // opset < 13 treats the input as 2-D: every axis from `axis` on is one group
      const axes = ctx.opset >= 13 ? [axis] : Array.from({ length: rank - axis }, (_, i) => axis + i);
      const { groups } = reduceGroups(x.shape, axes);
      const output = ctx.newTensor(node.outputs[0] || node.name, sizeOf(x.shape));
      ctx.nodes.push({ kind: 'softmax', onnx: [node.name], input: x.tensor, output, groups });
      return [{ kind: 'dyn', tensor: output, shape: x.shape }];
    }
    case 'ReduceMean':
    case 'ReduceSum': {
      const fromInput = node.opType === 'ReduceSum' ? ctx.opset >= 13 : ctx.opset >= 18;
      let axes = fromInput
        ? ins[1]
          ? intsOf(constIn(node, ins[1], 'axes'))
          : undefined
        : attrInts(node, 'axes');
      if (!axes || axes.length === 0) {
        if (attrInt(node, 'noop_with_empty_axes', 0) === 1) return [x];
        axes = x.shape.map((_, i) => i);
      }
      const norm = axes.map((a) => normAxis(a, x.shape.length));
      if (norm.some((a) => a < 0)) {
        throw new ModelError('ONNX_INVALID', `${node.opType} node "${node.name}" has an axis out of range`);
      }
      const { groups, keptShape, droppedShape } = reduceGroups(x.shape, norm);
      const shape = attrInt(node, 'keepdims', 1) === 1 ? keptShape : droppedShape;
      const mean = node.opType === 'ReduceMean';
      return [
        emitLinear(ctx, [x], shape, (r, b) => {
          const g = groups[r]!;
          for (const i of g) b.add(0, i, mean ? 1 / g.length : 1);
          return 0;
        }),
      ];
    }
    case 'LayerNormalization': {
      const axis = normAxis(attrInt(node, 'axis', -1), x.shape.length);
      if (axis < 0) {
        throw new ModelError(
          'ONNX_INVALID',
          `LayerNormalization node "${node.name}" has an axis out of range`,
        );
      }
      const scale = constIn(node, ins[1], 'Scale');
      const bias = ins[2] ? constIn(node, ins[2], 'B') : undefined;
      const eps = attrFloat(node, 'epsilon', 1e-5);
      const axes = Array.from({ length: x.shape.length - axis }, (_, i) => axis + i);
      const { mean, invStd, y } = layerNorm(ctx, x, axes, eps);
      const inner = sizeOf(x.shape.slice(axis));
      if (sizeOf(scale.shape) !== inner && sizeOf(scale.shape) !== 1) {
        throw new ModelError(
          'SHAPE_MISMATCH',
          `LayerNormalization node "${node.name}": Scale has shape [${scale.shape}]`,
        );
      }
      const at = (c: { data: Float64Array }, r: number) => c.data[c.data.length === 1 ? 0 : r % inner]!;
      const out = emitLinear(ctx, [y], x.shape, (r, b) => {
        b.add(0, r, at(scale, r));
        return bias ? at(bias, r) : 0;
      });
      return [out, mean, invStd];
    }
    default:
      throw new UnsupportedOpError(node.opType, node.name, 'not a normalisation');
  }
}

/**
 * (x − mean) / sqrt(var + eps) over `axes`, as ONNX's LayerNormalization and its opset-14
 * decomposition compute it: a linear centring, one square per element, a linear mean, one
 * reciprocal square root per group and one product per element.
 */
export function layerNorm(
  ctx: LowerContext,
  x: DynValue,
  axes: readonly number[],
  eps: number,
): { mean: DynValue; invStd: DynValue; y: DynValue } {
  const name = ctx.node.name;
  const { groups, keptShape } = reduceGroups(x.shape, axes);
  const groupOf = new Int32Array(sizeOf(x.shape));
  groups.forEach((g, gi) => {
    for (const i of g) groupOf[i] = gi;
  });
  const mean = emitLinear(
    ctx,
    [x],
    keptShape,
    (r, b) => {
      for (const i of groups[r]!) b.add(0, i, 1 / groups[r]!.length);
      return 0;
    },
    `${name}/mean`,
  );
  const centred = emitLinear(
    ctx,
    [x],
    x.shape,
    (r, b) => {
      const g = groups[groupOf[r]!]!;
      for (const i of g) b.add(0, i, (i === r ? 1 : 0) - 1 / g.length);
      return 0;
    },
    `${name}/centred`,
  );
  const square = emitMul(ctx, centred, centred, `${name}/square`);
  const variance = emitLinear(
    ctx,
    [square],
    keptShape,
    (r, b) => {
      for (const i of groups[r]!) b.add(0, i, 1 / groups[r]!.length);
      return eps;
    },
    `${name}/variance`,
  );
  const invStd = emitRsqrt(ctx, variance, `${name}/inv-std`);
  const y = emitMul(ctx, centred, invStd, `${name}/normalised`);
  return { mean, invStd, y };
}

/** Output elements of a reduction over `axes` of `shape`, each with the input elements it reads. */
export function reduceGroups(
  shape: readonly number[],
  axes: readonly number[],
): { groups: Int32Array[]; keptShape: number[]; droppedShape: number[] } {
  const keptShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const droppedShape = shape.filter((_, i) => !axes.includes(i));
  const outStrides = stridesOf(keptShape);
  const groups: number[][] = Array.from({ length: sizeOf(keptShape) }, () => []);
  const strides = stridesOf(shape);
  const total = sizeOf(shape);
  for (let flat = 0; flat < total; flat++) {
    let rem = flat;
    let out = 0;
    for (let d = 0; d < shape.length; d++) {
      const c = Math.floor(rem / strides[d]!);
      rem -= c * strides[d]!;
      if (!axes.includes(d)) out += c * outStrides[d]!;
    }
    groups[out]!.push(flat);
  }
  return { groups: groups.map((g) => Int32Array.from(g)), keptShape, droppedShape };
}
