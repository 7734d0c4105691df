import { ModelError, UnsupportedOpError } from '../../protocol/errors.ts';
import type { OnnxNode } from '../onnx/parseOnnx.ts';
import type { FloatNode, FnName, LinearMap, RowWriter } from './floatGraph.ts';
import { LinearMapBuilder } from './floatGraph.ts';
import type { ConstValue } from './foldConstant.ts';
import { broadcastIndexMap, broadcastShapes, sizeOf } from './tensorMath.ts';

/** What lowering one ONNX node needs: the node, the opset, and where to put tensors and IR nodes. */
export interface LowerContext {
  readonly node: OnnxNode;
  readonly opset: number;
  readonly newTensor: (name: string, size: number) => number;
  readonly nodes: FloatNode[];
  readonly notes: string[];
  /** For a tensor that is sqrt(v): the tensor 1/sqrt(v), so that x / sqrt(v) becomes x · rsqrt(v). */
  readonly rsqrtOf: Map<number, DynValue>;
}

/** A computed tensor seen through a shape (views share the tensor and change only the shape). */
export interface DynValue {
  readonly kind: 'dyn';
  readonly tensor: number;
  readonly shape: number[];
}
export type Value = ConstValue | DynValue;

/** The computed input a node needs, or a typed error. */
export function dynOf(node: OnnxNode, v: Value | undefined): DynValue {
  if (!v) throw new ModelError('ONNX_INVALID', `${node.opType} node "${node.name}" has no input`);
  if (v.kind !== 'dyn')
    throw new ModelError('ONNX_INVALID', `${node.opType} node "${node.name}" expected a computed input`);
  return v;
}

/** A constant input (weights, shapes), or a typed error naming what it is for. */
export function constIn(node: OnnxNode, v: Value | undefined, what: string): ConstValue {
  if (!v)
    throw new ModelError('ONNX_INVALID', `${node.opType} node "${node.name}" is missing its ${what} input`);
  if (v.kind !== 'const') {
    throw new UnsupportedOpError(
      node.opType,
      node.name,
      `its ${what} input must be a constant (a product of two computed tensors is not linear)`,
    );
  }
  return v;
}

/** Emits a linear node over the given computed inputs (duplicates merged) and returns its value. */
export function emitLinear(
  ctx: LowerContext,
  inputs: readonly DynValue[],
  shape: number[],
  fill: (row: number, b: RowWriter) => number,
  name?: string,
): DynValue {
  const tensorsIn = [...new Set(inputs.map((v) => v.tensor))];
  const srcOf = inputs.map((v) => tensorsIn.indexOf(v.tensor));
  const rows = sizeOf(shape);
  const builder = new LinearMapBuilder();
  const bias = new Float64Array(rows);
  // callers number their inputs 0..k-1 as passed; merged duplicates map onto one source
  const proxy: RowWriter = { add: (src, idx, w) => builder.add(srcOf[src]!, idx, w) };
  for (let r = 0; r < rows; r++) {
    bias[r] = fill(r, proxy);
    builder.endRow();
  }
  const map: LinearMap = builder.build();
  const output = ctx.newTensor(name ?? tensorName(ctx), rows);
  ctx.nodes.push({ kind: 'linear', onnx: [ctx.node.name], inputs: tensorsIn, output, map, bias });
  return { kind: 'dyn', tensor: output, shape };
}

function tensorName(ctx: LowerContext, suffix?: string): string {
  const base = ctx.node.outputs[0] || ctx.node.name;
  return suffix ? `${base}/${suffix}` : base;
}

/** Element-wise a·x + b on a computed tensor. */
export function emitAffine(ctx: LowerContext, x: DynValue, a: number, b: number, name?: string): DynValue {
  return emitLinear(
    ctx,
    [x],
    x.shape,
    (r, bld) => {
      bld.add(0, r, a);
      return b;
    },
    name,
  );
}

/** A smooth element-wise function (sigmoid, tanh, erf, exp). */
export function emitFn(ctx: LowerContext, x: DynValue, fn: FnName, name?: string): DynValue {
  const output = ctx.newTensor(name ?? tensorName(ctx), sizeOf(x.shape));
  ctx.nodes.push({ kind: 'fn', onnx: [ctx.node.name], fn, input: x.tensor, output });
  return { kind: 'dyn', tensor: output, shape: x.shape };
}

/** max(0, x). */
export function emitRelu(ctx: LowerContext, x: DynValue, name?: string): DynValue {
  const output = ctx.newTensor(name ?? tensorName(ctx), sizeOf(x.shape));
  ctx.nodes.push({ kind: 'relu', onnx: [ctx.node.name], input: x.tensor, output });
  return { kind: 'dyn', tensor: output, shape: x.shape };
}

/** 1 / sqrt(x). */
export function emitRsqrt(ctx: LowerContext, x: DynValue, name?: string): DynValue {
  const output = ctx.newTensor(name ?? tensorName(ctx, 'rsqrt'), sizeOf(x.shape));
  ctx.nodes.push({ kind: 'rsqrt', onnx: [ctx.node.name], input: x.tensor, output });
  return { kind: 'dyn', tensor: output, shape: x.shape };
}

/** Broadcast shape and index maps of a binary element-wise op, or a typed error. */
export function broadcastPair(
  ctx: LowerContext,
  a: Value,
  b: Value,
): { shape: number[]; ia: Int32Array; ib: Int32Array } {
  const shape = broadcastShapes(a.shape, b.shape);
  if (!shape) {
    throw new ModelError(
      'SHAPE_MISMATCH',
      `${ctx.node.opType} node "${ctx.node.name}": shapes [${a.shape}] and [${b.shape}] do not broadcast`,
    );
  }
  return { shape, ia: broadcastIndexMap(shape, a.shape), ib: broadcastIndexMap(shape, b.shape) };
}

/** a · b with broadcasting: linear when either side is constant, one product per element otherwise. */
export function emitMul(ctx: LowerContext, a: Value, b: Value, name?: string): DynValue {
  const { shape, ia, ib } = broadcastPair(ctx, a, b);
  if (a.kind === 'const' && b.kind === 'const') {
    throw new ModelError(
      'ONNX_INVALID',
      `node "${ctx.node.name}" multiplies two constants that were not folded`,
    );
  }
  if (a.kind === 'const' || b.kind === 'const') {
    const [d, c, id, ic] = a.kind === 'dyn' ? [a, b as ConstValue, ia, ib] : [b as DynValue, a, ib, ia];
    return emitLinear(
      ctx,
      [d],
      shape,
      (r, bld) => {
        bld.add(0, id[r]!, c.data[ic[r]!]!);
        return 0;
      },
      name,
    );
  }
  const output = ctx.newTensor(name ?? tensorName(ctx), sizeOf(shape));
  ctx.nodes.push({ kind: 'mul', onnx: [ctx.node.name], a: a.tensor, b: b.tensor, ia, ib, output });
  return { kind: 'dyn', tensor: output, shape };
}

/** a / b for two computed tensors: a · rsqrt(v) when b = sqrt(v), a hinted quotient otherwise. */
export function emitDiv(ctx: LowerContext, a: DynValue, b: DynValue, name?: string): DynValue {
  const r = ctx.rsqrtOf.get(b.tensor);
  if (r) return emitMul(ctx, a, { ...r, shape: b.shape }, name);
  const { shape, ia, ib } = broadcastPair(ctx, a, b);
  const output = ctx.newTensor(name ?? tensorName(ctx), sizeOf(shape));
  ctx.nodes.push({
    kind: 'div',
    onnx: [ctx.node.name],
    num: a.tensor,
    den: b.tensor,
    inum: ia,
    iden: ib,
    output,
  });
  return { kind: 'dyn', tensor: output, shape };
}

/** a + s·b (s = ±1) for values of which at least one is computed, with broadcasting. */
export function emitAdd(ctx: LowerContext, a: Value, b: Value, sign: 1 | -1, name?: string): DynValue {
  const { shape, ia, ib } = broadcastPair(ctx, a, b);
  const dyns = [a, b].filter((v): v is DynValue => v.kind === 'dyn');
  if (dyns.length === 0) {
    throw new ModelError('ONNX_INVALID', `node "${ctx.node.name}" adds two constants that were not folded`);
  }
  return emitLinear(
    ctx,
    dyns,
    shape,
    (r, bld) => {
      let bias = 0;
      [a, b].forEach((v, k) => {
        const w = k === 0 ? 1 : sign;
        const i = (k === 0 ? ia : ib)[r]!;
        if (v.kind === 'const') bias += w * v.data[i]!;
        else bld.add(dyns.indexOf(v), i, w);
      });
      return bias;
    },
    name,
  );
}
