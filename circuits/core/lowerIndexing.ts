import { ModelError } from '../../protocol/errors.ts';
import { attrInt, attrInts } from '../onnx/attributes.ts';
import { expandMap, gatherMap, intsOf, sliceArgs, sliceMap } from './foldConstant.ts';
import { constIn, type DynValue, dynOf, emitLinear, type LowerContext, type Value } from './lowerContext.ts';
import { normAxis } from './tensorMath.ts';

/** Ops that pick elements of a computed tensor at constant positions: linear maps, no constraints. */
export const INDEXING_OPS: ReadonlySet<string> = new Set(['Slice', 'Split', 'Gather', 'Expand']);

/** out[i] = x[map[i]]. */
export function emitPick(
  ctx: LowerContext,
  x: DynValue,
  shape: number[],
  map: Int32Array,
  name?: string,
): DynValue {
  return emitLinear(
    ctx,
    [x],
    shape,
    (r, b) => {
      b.add(0, map[r]!, 1);
      return 0;
    },
    name,
  );
}

export function lowerIndexing(ctx: LowerContext, ins: readonly (Value | undefined)[]): Value[] {
  const { node } = ctx;
  const x = dynOf(node, ins[0]);
  const consts = ins.map((v, i) => (i === 0 || !v ? undefined : constIn(node, v, `#${i}`)));
  switch (node.opType) {
    case 'Slice': {
      const { shape, map } = sliceMap(node, x.shape, sliceArgs(node, consts, ctx.opset));
      return [emitPick(ctx, x, shape, map)];
    }
    case 'Gather': {
      const { shape, map } = gatherMap(node, x.shape, constIn(node, ins[1], 'indices'));
      return [emitPick(ctx, x, shape, map)];
    }
    case 'Expand': {
      const { shape, map } = expandMap(node, x.shape, intsOf(constIn(node, ins[1], 'shape')));
      return [emitPick(ctx, x, shape, map)];
    }
    case 'Split': {
      const rank = x.shape.length;
      const axis = normAxis(attrInt(node, 'axis', 0), rank);
      if (axis < 0)
        throw new ModelError('ONNX_INVALID', `Split node "${node.name}" has an axis out of range`);
      const dim = x.shape[axis]!;
      const parts = node.outputs.length;
      const given = ctx.opset >= 13 ? (consts[1] ? intsOf(consts[1]) : undefined) : attrInts(node, 'split');
      let sizes: number[];
      if (given && given.length > 0) sizes = [...given];
      else {
        // equal parts; opset 18's uneven last part when num_outputs does not divide the axis
        const each = Math.ceil(dim / parts);
        sizes = Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(each, dim - i * each)));
      }
      if (sizes.length !== parts || sizes.reduce((a, b) => a + b, 0) !== dim) {
        throw new ModelError(
          'ONNX_INVALID',
          `Split node "${node.name}": parts [${sizes}] do not split an axis of ${dim} into ${parts} outputs`,
        );
      }
      let start = 0;
      return sizes.map((size, i) => {
        const args = { starts: [start], ends: [start + size], axes: [axis], steps: [1] };
        start += size;
        const { shape, map } = sliceMap(node, x.shape, args);
        return emitPick(ctx, x, shape, map, node.outputs[i] || `${node.name}/${i}`);
      });
    }
    default:
      throw new ModelError('ONNX_INVALID', `lowerIndexing: ${node.opType}`);
  }
}
