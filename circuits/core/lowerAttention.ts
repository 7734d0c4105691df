import { ModelError } from '../../protocol/errors.ts';
import { type DynValue, emitLinear, type LowerContext } from './lowerContext.ts';
import { broadcastIndexMap, broadcastShapes, sizeOf } from './tensorMath.ts';

/**
 * MatMul of two computed tensors (attention's Q·Kᵀ and weights·V): one product per term, then one
 * linear sum per output element, so that the products are rescaled once, after the sum.
 * Batch dimensions broadcast as numpy's matmul does; 1-D operands are promoted and then dropped.
 */
export function emitMatMulDynamic(ctx: LowerContext, a: DynValue, b: DynValue): DynValue {
  const { node } = ctx;
  const aShape = a.shape.length === 1 ? [1, a.shape[0]!] : a.shape;
  const bShape = b.shape.length === 1 ? [b.shape[0]!, 1] : b.shape;
  const [M, K] = aShape.slice(-2) as [number, number];
  const [K2, N] = bShape.slice(-2) as [number, number];
  if (K !== K2) {
    throw new ModelError(
      'SHAPE_MISMATCH',
      `MatMul node "${node.name}": inner dimensions ${K} and ${K2} differ`,
    );
  }
  const batch = broadcastShapes(aShape.slice(0, -2), bShape.slice(0, -2));
  if (!batch) {
    throw new ModelError(
      'SHAPE_MISMATCH',
      `MatMul node "${node.name}": batch shapes [${a.shape}] and [${b.shape}] do not broadcast`,
    );
  }
  const nb = sizeOf(batch);
  const aBatch = broadcastIndexMap(batch, aShape.slice(0, -2));
  const bBatch = broadcastIndexMap(batch, bShape.slice(0, -2));
  const terms = nb * M * N * K;
  const ia = new Int32Array(terms);
  const ib = new Int32Array(terms);
  let p = 0;
  for (let bi = 0; bi < nb; bi++)
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++)
        for (let k = 0; k < K; k++) {
          ia[p] = (aBatch[bi]! * M + m) * K + k;
          ib[p] = (bBatch[bi]! * K + k) * N + n;
          p++;
        }
  const products = ctx.newTensor(`${node.outputs[0] || node.name}/products`, terms);
  ctx.nodes.push({ kind: 'mul', onnx: [node.name], a: a.tensor, b: b.tensor, ia, ib, output: products });
  let shape = [...batch, M, N];
  const sum = emitLinear(ctx, [{ kind: 'dyn', tensor: products, shape: [terms] }], shape, (r, bld) => {
    for (let k = 0; k < K; k++) bld.add(0, r * K + k, 1);
    return 0;
  });
  if (a.shape.length === 1) shape = shape.filter((_, i) => i !== shape.length - 2);
  if (b.shape.length === 1) shape = shape.slice(0, -1);
  return { ...sum, shape };
}
